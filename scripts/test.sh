#!/usr/bin/env bash
# Quick start, step 2: build (if needed) and run the whole test suite. Tests read ../shared (golden data
# and vocab files) beside the repository, or $RWKV_SHARED_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/CMakeCache.txt ]; then cmake -B build -DCMAKE_BUILD_TYPE=Release; fi
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
