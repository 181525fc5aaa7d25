#!/bin/sh
# Builds the app's plugin with the dev kit: `souk-plugin build` compiles plugins/tiered/plugin.c
# (clang + wasm-ld, freestanding: Debian packages clang and lld) and checks the module as an upload
# would; the module then goes where manifest.yaml declares it, plugins/tiered.wasm.
# SOUK_PLUGIN names the dev kit's command when it is not on PATH (e.g. .venv/bin/souk-plugin).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"${SOUK_PLUGIN:-souk-plugin}" build "$here/plugins/tiered"
mv "$here/plugins/tiered/plugin.wasm" "$here/plugins/tiered.wasm"
echo "Wrote $here/plugins/tiered.wasm"
