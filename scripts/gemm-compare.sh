#!/usr/bin/env bash
# Our GEMM against OpenBLAS and oneDNN at the model's shapes (bench/gemm_compare.cpp): runs each library in
# its own process, ROUNDS times in turn (this VM's speed drifts within minutes, so interleaved rounds compare
# better than one long run each), writes each run's JSON to OUT_DIR and prints the median table.
# OpenBLAS runs twice: as it chooses its kernels on this CPU, and with OPENBLAS_CORETYPE=SkylakeX (AVX-512).
# Usage: scripts/gemm-compare.sh [BUILD_DIR] [ROUNDS] [OUT_DIR]
set -euo pipefail
BUILD=${1:-build}
ROUNDS=${2:-3}
OUT=${3:-$(mktemp -d /tmp/rwkv-gemm-compare.XXXXXX)}
[ -x "$BUILD/gemm_compare" ] || { echo "missing $BUILD/gemm_compare (needs libdnnl-dev, ocl-icd-opencl-dev and libopenblas-dev: scripts/install-deps.sh)" >&2; exit 1; }
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  for lib in rwkv_fp32 rwkv_bf16 openblas openblas_avx512 onednn_fp32 onednn_bf16; do
    case $lib in
      rwkv_fp32) filter='^BM_Rwkv/fp32/' ;;
      rwkv_bf16) filter='^BM_Rwkv/bf16/' ;;
      openblas | openblas_avx512) filter='^BM_OpenBlas/' ;;
      onednn_fp32) filter='^BM_OneDnn/fp32/' ;;
      onednn_bf16) filter='^BM_OneDnn/bf16/' ;;
    esac
    env_core=()
    [ "$lib" = openblas_avx512 ] && env_core=(OPENBLAS_CORETYPE=SkylakeX)
    env "${env_core[@]}" "$BUILD/gemm_compare" --benchmark_filter="$filter" --benchmark_format=json \
      --benchmark_min_time=0.3 >"$OUT/$lib-$round.json" 2>/dev/null
    echo "round $round: $lib done" >&2
  done
done
python3 "$(dirname "$0")/gemm-compare-table.py" "$OUT"
