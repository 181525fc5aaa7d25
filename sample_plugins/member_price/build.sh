#!/bin/sh
# AssemblyScript -> zero-import ABI v1 module (`asc` 0.28 from npm: global install or node_modules).
# `--runtime stub --use abort=` leaves no imports; ABI v1 allows no start function, so top-level code
# is exported as `_initialize`. OUT (default: plugin.wasm here) lets tests build into a temp directory.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/plugin.wasm}
cd "$here"
asc plugin.ts -O3 --noAssert --runtime stub --use abort= --exportStart _initialize -o "$out"
