"""The Wasm plugin runtime (ABI v1, limits, module cache). No Flask, no database."""
