"""The one process-wide sandbox runtime (Flask glue), kept in ``app.extensions["souk.plugins"]``.

Created on first use; compiled modules are cached on disk under ``<instance>/plugin-cache``, and each
plugin row stores the code compiled at upload, so a fresh process or another host never compiles.
"""

from __future__ import annotations

import os
import threading

from flask import Flask

from souk_platform.plugins.models import Plugin
from souk_sandbox import Plugin as SandboxPlugin
from souk_sandbox import Runtime

_KEY = "souk.plugins"
_lock = threading.Lock()


class PluginRuntime:
    """The sandbox runtime plus loaded modules by sha256 (module bytes are read from the DB once)."""

    def __init__(self, cache_dir: str) -> None:
        self.sandbox = Runtime(cache_dir=cache_dir)
        self._loaded: dict[str, SandboxPlugin] = {}

    def load(self, plugin: Plugin) -> SandboxPlugin:
        """The pre-linked module of ``plugin``, from memory, the disk cache or its stored compiled code.

        Never compiles: raises ``souk_sandbox.ModuleNotCompiled`` when none of those fits this server's
        wasmtime (``souk_sandbox.InvalidModule`` never happens for stored rows).
        """
        loaded = self._loaded.get(plugin.sha256)
        if loaded is None:
            artifact = plugin.compiled if plugin.compiled_key == self.sandbox.artifact_key else None
            loaded = self.sandbox.load(plugin.module, artifact=artifact, compile=False)
            with _lock:
                self._loaded[plugin.sha256] = loaded
        return loaded


def runtime_for(app: Flask) -> PluginRuntime:
    with _lock:
        runtime: PluginRuntime | None = app.extensions.get(_KEY)
        if runtime is None:
            cache_dir = os.path.join(app.instance_path, "plugin-cache")
            os.makedirs(cache_dir, exist_ok=True)
            runtime = PluginRuntime(cache_dir)
            app.extensions[_KEY] = runtime
        return runtime
