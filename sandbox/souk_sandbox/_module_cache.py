"""On-disk cache of compiled modules (`Module.serialize`), so a restart or a new worker skips compilation."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import wasmtime

from souk_sandbox._engine_config import WASMTIME_VERSION

_log = logging.getLogger(__name__)

# File layout: magic line, sha256 of the payload, payload. The digest catches truncated or damaged
# files before `Module.deserialize`, which trusts its input (wasmtime only checks version and config).
_MAGIC = b"souk-cwasm-1\n"
_DIGEST_BYTES = 32


def seal(payload: bytes) -> bytes:
    """Serialized code framed with its digest, for storage anywhere (disk cache, a database row)."""
    return _MAGIC + hashlib.sha256(payload).digest() + payload


def unseal(blob: bytes) -> bytes | None:
    """The payload of a `seal`ed blob, or None when it is truncated or damaged."""
    header = len(_MAGIC) + _DIGEST_BYTES
    payload = blob[header:]
    if blob[: len(_MAGIC)] != _MAGIC or blob[len(_MAGIC) : header] != hashlib.sha256(payload).digest():
        return None
    return payload


class ModuleCache:
    """Compiled modules keyed by sha256(wasm) + wasmtime version + engine config fingerprint.

    The directory must be private to the platform (as its code is): a deserialized module runs as
    native code. A missing, corrupt or incompatible file is recompiled and rewritten.
    """

    def __init__(self, directory: Path | None, engine: wasmtime.Engine, engine_fingerprint: str) -> None:
        self._directory = directory
        self._engine = engine
        self._fingerprint = engine_fingerprint

    def path_for(self, wasm_sha256: str) -> Path | None:
        if self._directory is None:
            return None
        return self._directory / f"{wasm_sha256}-wasmtime{WASMTIME_VERSION}-{self._fingerprint}.cwasm"

    def get(self, wasm_sha256: str) -> wasmtime.Module | None:
        """The compiled module when a valid entry exists; None when missing, corrupt or incompatible."""
        path = self.path_for(wasm_sha256)
        return None if path is None else self._read(path)

    def put(self, wasm_sha256: str, module: wasmtime.Module) -> None:
        """Store a compiled module (callers store only modules that passed validation)."""
        path = self.path_for(wasm_sha256)
        if path is not None:
            self._write(path, bytes(module.serialize()))

    def _read(self, path: Path) -> wasmtime.Module | None:
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            _log.warning("souk_sandbox: cannot read cached module %s: %s", path, error)
            return None
        payload = unseal(blob)
        if payload is None:
            _log.warning("souk_sandbox: cached module %s is corrupt; recompiling", path)
            return None
        try:
            return wasmtime.Module.deserialize(self._engine, payload)
        except wasmtime.WasmtimeError as error:
            _log.warning("souk_sandbox: cached module %s is incompatible (%s); recompiling", path, error)
            return None

    def _write(self, path: Path, payload: bytes) -> None:
        blob = seal(payload)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename: a concurrent reader sees the old file or the whole new one.
            handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".cwasm")
            try:
                with os.fdopen(handle, "wb") as temp_file:
                    temp_file.write(blob)
                os.replace(temp_name, path)
            except OSError:
                Path(temp_name).unlink(missing_ok=True)
                raise
        except OSError as error:
            _log.warning("souk_sandbox: cannot write cached module %s: %s", path, error)
