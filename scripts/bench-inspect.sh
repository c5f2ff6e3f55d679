#!/usr/bin/env bash
# Zero-copy benchmark: writes a synthetic safetensors and .pth checkpoint of SIZE_MB each (default 1088,
# i.e. > 1 GB) with bench/io_bench, then times `rwkv inspect --no-tensors` on each with /usr/bin/time -v
# and prints wall time and peak RSS. Usage: scripts/bench-inspect.sh [BUILD_DIR] [SIZE_MB] [WORK_DIR]
set -euo pipefail
BUILD=${1:-build}
SIZE_MB=${2:-1088}
WORK=${3:-$(mktemp -d /tmp/rwkv-bench-inspect.XXXXXX)}
[ -x "$BUILD/io_bench" ] || { echo "missing $BUILD/io_bench (needs libbenchmark-dev)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "missing /usr/bin/time (apt-get install time)" >&2; exit 1; }
"$BUILD/io_bench" --write-synthetic "$WORK" "$SIZE_MB"
for f in "$WORK/synthetic.safetensors" "$WORK/synthetic.pth"; do
  size=$(stat -c %s "$f")
  # Cold page cache is not required: inspect must not touch the tensor data at all.
  /usr/bin/time -v "$BUILD/rwkv" inspect --no-tensors "$f" >/dev/null 2>"$WORK/time.txt"
  wall=$(grep 'Elapsed (wall clock)' "$WORK/time.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$WORK/time.txt" | awk '{print $NF}')
  awk -v n="$(basename "$f")" -v s="$size" -v w="$wall" -v r="$rss" \
    'BEGIN { printf "%s: %d bytes (%.2f GB), wall %s, max RSS %d KB\n", n, s, s / 1e9, w, r }'
done
[ -n "${KEEP:-}" ] || rm -rf "$WORK"
