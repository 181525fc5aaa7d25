#!/bin/sh
# Freestanding C -> zero-import ABI v1 module (Debian packages: clang lld). Deterministic flags;
# OUT (default: plugin.wasm next to this script) lets tests build into a temporary directory.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/plugin.wasm}
cd "$here"
clang --target=wasm32 -O2 -nostdlib -mbulk-memory -ffile-prefix-map="$here"=. \
  -Wl,--no-entry -Wl,--export=alloc -Wl,--export=run -Wl,--strip-all \
  -o "$out" plugin.c
