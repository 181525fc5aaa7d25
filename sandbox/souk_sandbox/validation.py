"""Upload-time checks of a plugin module against ABI v1 (docs/architecture.md §7.1)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import wasmtime

from souk_sandbox._compiler import compile_in_child
from souk_sandbox._engine_config import EngineSettings, artifact_key, make_config
from souk_sandbox._grow_probe import GROW_REFUSED_EXPORT
from souk_sandbox._module_cache import seal
from souk_sandbox.errors import InvalidModule
from souk_sandbox.limits import Limits

ABI_VERSION = 1

_WASM_MAGIC = b"\0asm"
_CORE_VERSION = b"\x01\0\0\0"
_SECTION_TABLE = 4
_SECTION_MEMORY = 5
_SECTION_START = 8
_PAGE = 65536

# Export name -> (params, results) of ABI v1; `_initialize` is optional.
_REQUIRED_FUNCS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "alloc": (("i32",), ("i32",)),
    "run": (("i32", "i32"), ("i64",)),
}
_OPTIONAL_FUNCS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {"_initialize": ((), ())}


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """What upload validation learnt about an accepted module."""

    sha256: str
    size_bytes: int
    exports: tuple[str, ...]
    has_initialize: bool
    memory_min_bytes: int
    memory_max_bytes: int | None
    abi_version: int = ABI_VERSION


def validate(module_bytes: bytes | bytearray, *, limits: Limits | None = None) -> ModuleInfo:
    """Check `module_bytes` against ABI v1 and the module limits; raise `InvalidModule` when it fails.

    Compiles the module with the sandbox's engine configuration (so a proposal the sandbox disables is
    refused here, not at the first call) in a child process bounded in CPU time and memory (a module
    over those bounds is `compile_limit`). The same checks run in `Runtime.load`.
    """
    return compile_checked(module_bytes, limits=limits).info


@dataclass(frozen=True, slots=True)
class CompiledModule:
    """An accepted module and its compiled code, to store next to it (`Runtime.load(artifact=...)`).

    `artifact` (the serialized code framed with its digest) is only valid for the engine `artifact_key`
    names (wasmtime version + engine config). It runs as native code: store it where the platform's own
    code is trusted (its database), never where a plugin author could write.
    """

    info: ModuleInfo
    artifact: bytes
    artifact_key: str


def compile_checked(module_bytes: bytes | bytearray, *, limits: Limits | None = None) -> CompiledModule:
    """`validate`, also returning the compiled code (compiled once, in the bounded child)."""
    limits = limits or Limits()
    module_bytes = bytes(module_bytes)
    check_header(module_bytes, limits)
    serialized = compile_in_child(module_bytes)
    engine = wasmtime.Engine(make_config(EngineSettings(pooling=False)))
    module = wasmtime.Module.deserialize(engine, serialized)
    return CompiledModule(inspect_module(module, module_bytes, limits), seal(serialized), artifact_key())


def check_header(module_bytes: bytes, limits: Limits) -> None:
    """The cheap checks that need no compilation: size and magic."""
    if len(module_bytes) > limits.module_bytes:
        raise InvalidModule(
            "module_too_large",
            f"The module is {len(module_bytes):,} bytes; the limit is {limits.module_bytes:,} bytes "
            f"({limits.module_bytes // 1024} KiB).",
        )
    if module_bytes[:4] != _WASM_MAGIC:
        raise InvalidModule("not_wasm", "This is not a WebAssembly binary (it does not start with \\0asm).")
    if module_bytes[4:8] != _CORE_VERSION:
        raise InvalidModule(
            "not_core_module",
            "This is not a core WebAssembly module (version 1); components and other layers are not "
            "supported by ABI v1.",
        )


def compile_module(engine: wasmtime.Engine, module_bytes: bytes) -> wasmtime.Module:
    """Compile, turning wasmtime's error into `InvalidModule`."""
    try:
        return wasmtime.Module(engine, module_bytes)
    except wasmtime.WasmtimeError as error:
        # wasmtime's text is "failed to parse ...\n\nCaused by:\n    <the reason>": keep both parts.
        lines = [line.strip() for line in str(error).splitlines() if line.strip() and line.strip() != "Caused by:"]
        raise InvalidModule(
            "invalid_wasm",
            "The module does not validate under the sandbox's WebAssembly features: "
            + (": ".join(lines) or "invalid module"),
        ) from None


def inspect_module(module: wasmtime.Module, module_bytes: bytes, limits: Limits) -> ModuleInfo:
    """ABI v1 checks on a compiled module; wasmtime's metadata first, the binary's sections for the rest."""
    imports = [f"{item.module}.{item.name}" for item in module.imports]
    if imports:
        raise InvalidModule(
            "has_imports",
            f"Plugins may not import anything (ABI v1); this module imports: {', '.join(imports)}.",
            tuple(imports),
        )

    # The probe the sandbox adds before compiling (_grow_probe.py) is not the author's export.
    exports = {item.name: item.type for item in module.exports if item.name != GROW_REFUSED_EXPORT}
    memory_type = exports.get("memory")
    if memory_type is None:
        raise InvalidModule("missing_export", "The module must export its linear memory as `memory`.", ("memory",))
    if not isinstance(memory_type, wasmtime.MemoryType):
        raise InvalidModule("wrong_export_type", "The export `memory` must be a linear memory.", ("memory",))
    memory_min = memory_type.limits.min * _PAGE
    memory_max = None if memory_type.limits.max is None else memory_type.limits.max * _PAGE
    if memory_min > limits.memory_bytes:
        raise InvalidModule(
            "memory_too_large",
            f"The module's initial memory is {memory_min:,} bytes; the limit is {limits.memory_bytes:,} bytes.",
        )

    for name, signature in {**_REQUIRED_FUNCS, **_OPTIONAL_FUNCS}.items():
        export_type = exports.get(name)
        if export_type is None:
            if name in _REQUIRED_FUNCS:
                raise InvalidModule(
                    "missing_export", f"The module must export `{name}` {_describe(signature)}.", (name,)
                )
            continue
        if not isinstance(export_type, wasmtime.FuncType):
            raise InvalidModule("wrong_export_type", f"The export `{name}` must be a function.", (name,))
        actual = (tuple(map(str, export_type.params)), tuple(map(str, export_type.results)))
        if actual != signature:
            raise InvalidModule(
                "wrong_signature",
                f"The export `{name}` must be {_describe(signature)}; it is {_describe(actual)}.",
                (name,),
            )

    sections = _section_summary(module_bytes)
    if sections.has_start:
        raise InvalidModule(
            "start_function",
            "The module has a start function; ABI v1 does not allow one (export `_initialize` instead, it "
            "runs before each call under the same limits).",
        )
    if sections.memories > limits.memories:
        raise InvalidModule("too_many_memories", f"The module defines {sections.memories} memories; at most 1.")
    if sections.tables > limits.tables:
        raise InvalidModule("too_many_tables", f"The module defines {sections.tables} tables; at most 1.")

    return ModuleInfo(
        sha256=hashlib.sha256(module_bytes).hexdigest(),
        size_bytes=len(module_bytes),
        exports=tuple(exports),
        has_initialize="_initialize" in exports,
        memory_min_bytes=memory_min,
        memory_max_bytes=memory_max,
    )


def _describe(signature: tuple[tuple[str, ...], tuple[str, ...]]) -> str:
    params, results = signature
    return f"({', '.join(params)}) -> ({', '.join(results)})"


@dataclass(frozen=True, slots=True)
class _Sections:
    has_start: bool
    tables: int
    memories: int


def _section_summary(module_bytes: bytes) -> _Sections:
    # wasmtime-py exposes no start function or table/memory counts, so read the section headers (the
    # binary already validated: each section is `id:u8 size:u32leb payload`, vectors start with a count).
    has_start, tables, memories = False, 0, 0
    offset = 8
    while offset < len(module_bytes):
        section_id = module_bytes[offset]
        size, offset = _read_u32(module_bytes, offset + 1)
        if section_id == _SECTION_START:
            has_start = True
        elif section_id == _SECTION_TABLE:
            tables = _read_u32(module_bytes, offset)[0]
        elif section_id == _SECTION_MEMORY:
            memories = _read_u32(module_bytes, offset)[0]
        offset += size
    return _Sections(has_start=has_start, tables=tables, memories=memories)


def _read_u32(buffer: bytes, offset: int) -> tuple[int, int]:
    """Decode an unsigned LEB128 u32 at `offset`; return (value, offset after it)."""
    value = shift = 0
    for _ in range(5):
        if offset >= len(buffer):
            break
        byte = buffer[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7
    raise InvalidModule("invalid_wasm", "The module's section headers are malformed.")
