"""The plugin runtime: one wasmtime engine, its epoch ticker, the module cache and loaded plugins."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import wasmtime

from souk_sandbox._call import CallPath
from souk_sandbox._compiler import compile_in_child
from souk_sandbox._engine_config import EngineSettings, artifact_key, make_config
from souk_sandbox._grow_probe import GROW_REFUSED_EXPORT
from souk_sandbox._module_cache import ModuleCache, unseal
from souk_sandbox.errors import ModuleNotCompiled
from souk_sandbox.limits import Limits
from souk_sandbox.results import InvocationResult, OutputValidator
from souk_sandbox.validation import ModuleInfo, check_header, inspect_module

_log = logging.getLogger(__name__)


class Runtime:
    """Runs ABI v1 plugins. Thread-safe: any number of threads may load and invoke at the same time.

    One engine per runtime, with fuel metering, epoch interruption, the pooling allocator and the
    proposals ABI v1 does not need switched off. One daemon thread advances the epoch every `tick_ms`;
    a call's deadline is `Limits.deadline_ms` rounded up to whole ticks, plus one (so a call is never
    cut short, and overruns by at most one tick). Call `close()` (or use `with`) to stop the ticker.
    """

    def __init__(
        self,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        tick_ms: int = 10,
        max_concurrent_calls: int = 128,
    ) -> None:
        if tick_ms <= 0:
            raise ValueError("tick_ms must be positive")
        settings = EngineSettings(max_concurrent_calls=max_concurrent_calls)
        self._engine = wasmtime.Engine(make_config(settings))
        self._linker = wasmtime.Linker(self._engine)
        self._cache = ModuleCache(
            Path(cache_dir) if cache_dir is not None else None, self._engine, settings.fingerprint()
        )
        self._tick_ms = tick_ms
        self._plugins: dict[str, Plugin] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="souk-sandbox-epoch", daemon=True)
        self._ticker.start()

    @property
    def tick_ms(self) -> int:
        return self._tick_ms

    @property
    def artifact_key(self) -> str:
        """Which compiled artifacts (`CompiledModule.artifact_key`) `load` can use."""
        return artifact_key()

    def load(
        self,
        module_bytes: bytes | bytearray,
        *,
        limits: Limits | None = None,
        artifact: bytes | None = None,
        compile: bool = True,
    ) -> Plugin:
        """Validate (same checks as `validate`) and pre-link a module; loading the same bytes again is free.

        The compiled code comes from, in order: this runtime's loaded plugins, the disk cache,
        `artifact` (the module's stored compiled code, when its key is `artifact_key`; ignored when
        corrupt or incompatible), else a compile in the bounded child (`validate`'s limits). With
        `compile=False` that last step raises `ModuleNotCompiled` instead: a caller on the per-call
        path never waits for (or risks) a compile. Raises `InvalidModule`.
        """
        self._check_open()
        limits = limits or Limits()
        module_bytes = bytes(module_bytes)
        check_header(module_bytes, limits)
        sha256 = hashlib.sha256(module_bytes).hexdigest()
        with self._lock:
            loaded = self._plugins.get(sha256)
        if loaded is not None:
            return loaded
        module = self._cache.get(sha256)
        cached = module is not None
        if module is None and artifact is not None:
            module = self._deserialize(artifact)
        if module is None:
            if not compile:
                raise ModuleNotCompiled(sha256)
            module = wasmtime.Module.deserialize(self._engine, compile_in_child(module_bytes))
        info = inspect_module(module, module_bytes, limits)
        if not cached:
            self._cache.put(sha256, module)  # only accepted modules take disk space
        call_path = CallPath(
            self._engine,
            self._linker.instantiate_pre(module),
            has_initialize=info.has_initialize,
            tick_ms=self._tick_ms,
            has_grow_probe=any(item.name == GROW_REFUSED_EXPORT for item in module.exports),
        )
        plugin = Plugin(info, call_path, self._check_open)
        with self._lock:
            return self._plugins.setdefault(sha256, plugin)

    def _deserialize(self, artifact: bytes) -> wasmtime.Module | None:
        payload = unseal(artifact)  # wasmtime trusts what it deserializes: check the digest first
        if payload is None:
            _log.warning("souk_sandbox: stored compiled module is damaged; not used")
            return None
        try:
            return wasmtime.Module.deserialize(self._engine, payload)
        except wasmtime.WasmtimeError as error:  # another wasmtime or engine config: compile again
            _log.warning("souk_sandbox: stored compiled module is not usable here (%s)", error)
            return None

    def close(self) -> None:
        """Stop the epoch ticker. Plugins of a closed runtime refuse to run (no deadline would hold)."""
        self._stop.set()
        if self._ticker.is_alive() and self._ticker is not threading.current_thread():
            self._ticker.join()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _tick(self) -> None:
        interval = self._tick_ms / 1000
        while not self._stop.wait(interval):
            self._engine.increment_epoch()

    def _check_open(self) -> None:
        if self._stop.is_set():
            raise RuntimeError("this souk_sandbox Runtime is closed")


class Plugin:
    """A validated, compiled and pre-linked module. Each call runs in a fresh instance."""

    def __init__(self, info: ModuleInfo, call_path: CallPath, check_open: Callable[[], None]) -> None:
        self.info = info
        self._call_path = call_path
        self._check_open = check_open

    def invoke(
        self, payload: Any, *, limits: Limits | None = None, output_validator: OutputValidator | None = None
    ) -> InvocationResult:
        """Serialize `payload` to compact UTF-8 JSON and run the plugin on it (see `invoke_json`).

        Raises `ValueError`/`TypeError` only when `payload` is not JSON-serializable (a caller bug).
        """
        input_json = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        return self.invoke_json(input_json, limits=limits, output_validator=output_validator)

    def invoke_json(
        self, input_json: bytes, *, limits: Limits | None = None, output_validator: OutputValidator | None = None
    ) -> InvocationResult:
        """Run the plugin once on `input_json` (UTF-8 JSON bytes, passed as is) under `limits`.

        Never raises for anything the plugin does: every failure is an `Outcome` in the result.
        `output_validator` (for example the extension point's JSON Schema) turns a bad shape into
        `Outcome.SCHEMA_INVALID`.
        """
        self._check_open()
        return self._call_path.call(input_json, limits or _DEFAULT_LIMITS, output_validator)


_DEFAULT_LIMITS = Limits()
