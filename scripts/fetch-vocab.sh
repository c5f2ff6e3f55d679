#!/usr/bin/env bash
# fetch-vocab.sh: downloads the tokenizer files rwkv needs (Apache-2.0 third-party data that is not kept in
# this repository), checks each one's SHA-256 and installs it where `rwkv` looks for it:
#   rwkv_vocab_v20230424.txt  RWKV World vocab (RWKV-5/6/7, EmbeddingRWKV)
#   20B_tokenizer.json        GPT-NeoX-20B BPE tokenizer (RWKV-4 Pile models)
#
# Usage: scripts/fetch-vocab.sh [--world | --20b] [DIR]
#   By default both files are fetched; --world or --20b fetches only that one.
#   DIR defaults to ${XDG_DATA_HOME:-$HOME/.local/share}/rwkv, the last place rwkv searches.
# Environment (any URL curl accepts, e.g. file://, replacing the upstream ones):
#   RWKV_VOCAB_URL           where to download rwkv_vocab_v20230424.txt
#   RWKV_TOKENIZER_20B_URL   where to download 20B_tokenizer.json
set -euo pipefail

want_world=1
want_20b=1
dir_arg=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help)
      sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    --world) want_20b=0 ;;
    --20b) want_world=0 ;;
    -*)
      echo "usage: $0 [--world | --20b] [DIR]" >&2
      exit 2
      ;;
    *)
      if [[ -n "$dir_arg" ]]; then
        echo "usage: $0 [--world | --20b] [DIR]" >&2
        exit 2
      fi
      dir_arg="$1"
      ;;
  esac
  shift
done
if [[ $want_world == 0 && $want_20b == 0 ]]; then
  echo "usage: $0 [--world | --20b] [DIR] (give at most one of --world, --20b)" >&2
  exit 2
fi
dir="${dir_arg:-${XDG_DATA_HOME:-${HOME:?HOME is not set; pass DIR}/.local/share}/rwkv}"

tmp=""  # the download in progress, removed if the script stops early
trap 'rm -f "$tmp"' EXIT

sha256_of() {
  if command -v sha256sum > /dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# fetch NAME SHA256 HINT URL...: installs $dir/NAME from the first URL that downloads, if its SHA-256 is
# right. HINT tells the user how to point rwkv at a hand-downloaded copy.
fetch() {
  local name="$1" want_sha="$2" hint="$3"
  shift 3
  local dest="${dir}/${name}"
  if [[ -f "$dest" && "$(sha256_of "$dest")" == "$want_sha" ]]; then
    echo "$dest is already present (SHA-256 verified)"
    return 0
  fi
  mkdir -p "$dir"
  tmp="$(mktemp "${dir}/.${name}.XXXXXX")"
  local url got_sha
  for url in "$@"; do
    echo "downloading $url" >&2
    if ! curl -fsSL --retry 2 --connect-timeout 20 -o "$tmp" "$url"; then
      echo "warning: download failed: $url" >&2
      continue
    fi
    got_sha="$(sha256_of "$tmp")"
    if [[ "$got_sha" != "$want_sha" ]]; then
      rm -f "$tmp"
      {
        echo "ERROR: SHA-256 MISMATCH for $url"
        echo "  expected $want_sha"
        echo "  got      $got_sha"
        echo "The file was NOT installed. It may be corrupted or altered upstream; do not use it."
      } >&2
      return 1
    fi
    chmod 644 "$tmp"
    mv -f "$tmp" "$dest"
    tmp=""
    echo "installed $dest (SHA-256 verified)"
    return 0
  done
  rm -f "$tmp"
  echo "ERROR: could not download $name from any of: $*" >&2
  echo "Download it by hand, check 'sha256sum $name' = $want_sha, and $hint." >&2
  return 1
}

status=0
if [[ $want_world == 1 ]]; then
  world_urls=(
    "https://raw.githubusercontent.com/BlinkDL/ChatRWKV/main/rwkv_pip_package/src/rwkv/rwkv_vocab_v20230424.txt"
    "https://raw.githubusercontent.com/BlinkDL/RWKV-LM/main/RWKV-v7/rwkv_vocab_v20230424.txt"
  )
  if [[ -n "${RWKV_VOCAB_URL:-}" ]]; then world_urls=("${RWKV_VOCAB_URL}"); fi
  fetch rwkv_vocab_v20230424.txt e6dee3d4e31b4d5c40ac99508ac6c701ceef4bed681bf2167ce9a908552bca89 \
    "pass --vocab or set RWKV_VOCAB" "${world_urls[@]}" || status=1
fi
if [[ $want_20b == 1 ]]; then
  neox_urls=(
    "https://raw.githubusercontent.com/BlinkDL/ChatRWKV/main/20B_tokenizer.json"
    "https://raw.githubusercontent.com/BlinkDL/RWKV-LM/main/RWKV-v4/20B_tokenizer.json"
  )
  if [[ -n "${RWKV_TOKENIZER_20B_URL:-}" ]]; then neox_urls=("${RWKV_TOKENIZER_20B_URL}"); fi
  fetch 20B_tokenizer.json 56ac4821e129d2c520fdaba60abd920fa852ada51b45c0dd52bbb6bd8c985ade \
    "pass --tokenizer PATH or set RWKV_TOKENIZER_20B" "${neox_urls[@]}" || status=1
fi
exit $status
