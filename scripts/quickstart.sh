#!/usr/bin/env bash
# Quick start, step 1: install dependencies (Debian 12), build, and run the offline demo
# (random-weight models of the real EmbeddingRWKV 0.1B shape: embeddings + online/offline reranking).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
./build/rwkv demo --dir build/demo-models
