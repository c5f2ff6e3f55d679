#!/usr/bin/env bash
# fetch-vocab.sh: downloads the RWKV World vocab (rwkv_vocab_v20230424.txt, Apache-2.0, third-party data
# that is not kept in this repository), checks its SHA-256 and installs it where `rwkv` looks for it.
#
# Usage: scripts/fetch-vocab.sh [DIR]
#   DIR defaults to ${XDG_DATA_HOME:-$HOME/.local/share}/rwkv, the last place rwkv searches.
# Environment:
#   RWKV_VOCAB_URL  download from this URL instead of the upstream ones (any URL curl accepts, e.g. file://)
set -euo pipefail

name=rwkv_vocab_v20230424.txt
want_sha=e6dee3d4e31b4d5c40ac99508ac6c701ceef4bed681bf2167ce9a908552bca89
urls=(
  "https://raw.githubusercontent.com/BlinkDL/ChatRWKV/main/rwkv_pip_package/src/rwkv/${name}"
  "https://raw.githubusercontent.com/BlinkDL/RWKV-LM/main/RWKV-v7/${name}"
)
if [[ -n "${RWKV_VOCAB_URL:-}" ]]; then urls=("${RWKV_VOCAB_URL}"); fi

case "${1:-}" in
  -h | --help)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac
if [[ $# -gt 1 ]]; then
  echo "usage: $0 [DIR]" >&2
  exit 2
fi
dir="${1:-${XDG_DATA_HOME:-${HOME:?HOME is not set; pass DIR}/.local/share}/rwkv}"
dest="${dir}/${name}"

sha256_of() {
  if command -v sha256sum > /dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

if [[ -f "$dest" && "$(sha256_of "$dest")" == "$want_sha" ]]; then
  echo "$dest is already present (SHA-256 verified)"
  exit 0
fi

mkdir -p "$dir"
tmp="$(mktemp "${dir}/.${name}.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

for url in "${urls[@]}"; do
  echo "downloading $url" >&2
  if ! curl -fsSL --retry 2 --connect-timeout 20 -o "$tmp" "$url"; then
    echo "warning: download failed: $url" >&2
    continue
  fi
  got_sha="$(sha256_of "$tmp")"
  if [[ "$got_sha" != "$want_sha" ]]; then
    {
      echo "ERROR: SHA-256 MISMATCH for $url"
      echo "  expected $want_sha"
      echo "  got      $got_sha"
      echo "The file was NOT installed. It may be corrupted or altered upstream; do not use it."
    } >&2
    exit 1
  fi
  chmod 644 "$tmp"
  mv -f "$tmp" "$dest"
  trap - EXIT
  echo "installed $dest (SHA-256 verified)"
  exit 0
done

echo "ERROR: could not download $name from any of: ${urls[*]}" >&2
echo "Download it by hand, check 'sha256sum $name' = $want_sha, and pass --vocab or set RWKV_VOCAB." >&2
exit 1
