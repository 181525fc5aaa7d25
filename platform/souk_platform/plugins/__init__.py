"""Wasm plugins: shops' uploads and apps' modules, per-shop activations, the invocation log and plugin health.

``api`` serves shops (``/plugins``, ``/plugin-activations``, ``/plugin-invocations``), ``app_api`` serves
developers with app tokens (``/app/versions``…), ``views`` the merchant's and the developer's pages.
The extension-point table and the runner that invokes plugins live in ``souk_platform.extensions``.
"""
