#!/usr/bin/env bash
# Installs every build and test dependency of rwkv from Debian 12 packages. Idempotent.
# Run as root (or with sudo available). See README "Dependencies" for why each package is here.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config git ca-certificates
  nlohmann-json3-dev   # JSON: safetensors headers, CLI output, requests
  libcli11-dev         # CLI parsing and --help
  libgtest-dev         # unit tests (GoogleTest)
  libbenchmark-dev     # kernel micro-benchmarks (Google Benchmark)
  libopenblas-dev libdnnl-dev  # bench/gemm_compare only: our GEMM against OpenBLAS and oneDNN
  ocl-icd-opencl-dev   # (Debian's oneDNN CMake config requires OpenCL, a Recommends of libdnnl-dev)
  zlib1g-dev           # inflating deflated zip entries in .pth files
  clang libclang-rt-14-dev  # libFuzzer + sanitizer runtimes for fuzz targets
  clang-format         # CI format check (.clang-format)
  libcpp-httplib-dev   # HTTP server (rwkv serve)
  liblmdb-dev          # document state store (rwkv index)
  libutf8proc-dev      # NFC + Unicode categories for the GPT-NeoX-20B tokenizer
  libhnswlib-dev       # vector index of document embeddings (rwkv index, header-only)
  curl                 # scripts/fetch-vocab.sh
)
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
