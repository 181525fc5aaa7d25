"""Wasm plugins: uploaded modules, per-shop activations, the invocation log and plugin health.

The extension-point table and the runner that invokes plugins live in ``souk_platform.extensions``.
"""
