#!/usr/bin/env bash
# Builds the virtual environment: the CPU PyTorch wheel first (so nothing pulls CUDA), then the project.
set -euo pipefail
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip
"${pip[@]}" install torch==2.13.0
"${pip[@]}" install -e '.[dev]'
