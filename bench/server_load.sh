#!/usr/bin/env bash
# Load benchmark of `rwkv serve`: requests/s and p50/p90/p99 latency of POST /v1/embeddings with short
# texts, with dynamic batching (the default) and one request at a time (--max-batch-requests 1), at 1 and
# at $CONNECTIONS concurrent connections. Uses wrk (Debian: `apt-get install wrk`; not needed by the build
# or the tests) and a random-weight model of the real EmbeddingRWKV 0.1B shape made by `rwkv synth`
# (or $MODEL). Loopback only; every wrk run lasts $DURATION seconds. Prints one JSON line per run.
#
#   bash bench/server_load.sh [BUILD_DIR]          # default build/
#   DURATION=10 CONNECTIONS=16 THREADS=2 PRECISION=fp32 MODEL=... RWKV_VOCAB=... bash bench/server_load.sh
#
# The server needs the World vocab (--vocab lookup: $RWKV_VOCAB, next to the model, or the user data dir;
# scripts/fetch-vocab.sh puts it there).
set -euo pipefail

BUILD=${1:-build}
RWKV="$BUILD/rwkv"
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
PRECISION=${PRECISION:-fp32}
HERE=$(cd "$(dirname "$0")" && pwd)

command -v wrk >/dev/null || { echo "server_load: wrk not found (Debian: apt-get install wrk)" >&2; exit 2; }
command -v curl >/dev/null || { echo "server_load: curl not found (apt-get install curl)" >&2; exit 2; }
[ -x "$RWKV" ] || { echo "server_load: $RWKV not found (build it first)" >&2; exit 2; }

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${MODEL:-}" ]; then
  MODEL="$WORK/bench-emb-0b1.safetensors"
  "$RWKV" synth --kind x070-embedding --layers 12 --embd 768 --out "$MODEL" >/dev/null
fi

# Starts the server with extra flags; sets SERVER_PID and PORT once /ready answers (at most 120 s).
start_server() {
  "$RWKV" serve --model "$MODEL" --port 0 --threads "$THREADS" --precision "$PRECISION" "$@" \
    >"$WORK/serve.out" 2>"$WORK/serve.err" &
  SERVER_PID=$!
  PORT=""
  for _ in $(seq 1200); do
    if [ -z "$PORT" ] && [ -s "$WORK/serve.out" ]; then
      PORT=$(head -n1 "$WORK/serve.out" | sed -n 's/.*:\([0-9]*\)"}.*/\1/p')
    fi
    if [ -n "$PORT" ] && curl -sf --max-time 2 "http://127.0.0.1:$PORT/ready" >/dev/null; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "server_load: the server exited: $(cat "$WORK/serve.err")" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "server_load: the server was not ready after 120 s" >&2
  exit 1
}

stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || true
  SERVER_PID=""
}

echo "{\"model\": \"$MODEL\", \"threads\": $THREADS, \"precision\": \"$PRECISION\", \"duration_s\": $DURATION," \
  "\"cpus\": $(nproc), \"load_average_1min\": $(cut -d' ' -f1 /proc/loadavg)," \
  "\"wrk\": \"$(wrk -v 2>&1 | head -n1 | cut -d' ' -f2)\"}"
for mode in batched one-at-a-time; do
  flags=()
  [ "$mode" = one-at-a-time ] && flags=(--max-batch-requests 1)
  start_server "${flags[@]}"
  # Warm-up: touch every code path once outside the measured runs.
  wrk -t1 -c2 -d1s -s "$HERE/server_load.lua" "http://127.0.0.1:$PORT/v1/embeddings" >/dev/null
  for c in 1 "$CONNECTIONS"; do
    before=$(curl -sf --max-time 5 "http://127.0.0.1:$PORT/metrics" | awk '/^rwkv_batch_size_(sum|count) /{printf "%s ", $2}')
    result=$(wrk -t1 -c"$c" -d"${DURATION}s" --timeout 10s -s "$HERE/server_load.lua" \
      "http://127.0.0.1:$PORT/v1/embeddings" | grep '^{"requests"')
    after=$(curl -sf --max-time 5 "http://127.0.0.1:$PORT/metrics" | awk '/^rwkv_batch_size_(sum|count) /{printf "%s ", $2}')
    batch=$(echo "$before $after" | awk '{d=$4-$2; printf "%.2f", d ? ($3-$1)/d : 0}')
    echo "{\"mode\": \"$mode\", \"connections\": $c, \"mean_batch_requests\": $batch," \
      "\"load_average_1min\": $(cut -d' ' -f1 /proc/loadavg), \"wrk\": $result}"
  done
  stop_server
done
