"""The error raised when an uploaded module does not meet ABI v1."""

from __future__ import annotations


class InvalidModule(Exception):
    """The module cannot be accepted. `code` is stable and machine-readable, `message` is for people.

    Codes: `module_too_large`, `not_wasm`, `not_core_module`, `invalid_wasm`, `has_imports`,
    `missing_export`, `wrong_export_type`, `wrong_signature`, `start_function`, `memory_too_large`,
    `too_many_tables`, `too_many_memories`, `compile_limit` (compiling needs more CPU time or memory
    than the sandbox allows). `details` holds the offending names (for example each import
    as `module.name`).
    """

    def __init__(self, code: str, message: str, details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def __repr__(self) -> str:
        return f"InvalidModule(code={self.code!r}, message={self.message!r})"


class ModuleNotCompiled(Exception):
    """`Runtime.load(compile=False)` found no compiled code for the module (sha256 in `sha256`)."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"module {sha256} has no compiled code usable by this runtime")
        self.sha256 = sha256
