"""The one wasmtime engine configuration of the sandbox, and its fingerprint for the module cache."""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass
from importlib.metadata import version

import wasmtime
from wasmtime import _ffi as ffi

from souk_sandbox.limits import Limits

WASMTIME_VERSION = version("wasmtime")

# Wasm proposals switched off: nothing in ABI v1 needs them and each one is attack surface.
# Kept on: bulk memory (clang -mbulk-memory, AssemblyScript), multi-value, SIMD, reference types
# (recent LLVM emits them by default; the table count is checked at upload and by StoreLimits).
_DISABLED_PROPOSALS = (
    "wasm_gc",
    "wasm_function_references",
    "wasm_exceptions",
    "wasm_threads",
    "wasm_tail_call",
    "wasm_multi_memory",
    "wasm_memory64",
    "wasm_relaxed_simd",
    "wasm_component_model",
    "wasm_wide_arithmetic",
    "wasm_custom_page_sizes",
    "wasm_stack_switching",
    "shared_memory",
)
# Deep recursion traps with a stack overflow well before the host thread's stack is at risk.
_MAX_WASM_STACK = 512 * 1024


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """What shapes the engine: compiled code from one engine is only valid for the same settings."""

    max_memory_bytes: int = Limits().memory_bytes
    max_table_elements: int = Limits().table_elements
    # Pooling allocator slots: at most this many calls run at the same time on one runtime.
    max_concurrent_calls: int = 128
    pooling: bool = True

    def fingerprint(self) -> str:
        """A short hash of everything that makes serialized modules incompatible."""
        parts = [
            f"wasmtime={WASMTIME_VERSION}",
            f"machine={platform.machine()}",
            f"disabled={','.join(_DISABLED_PROPOSALS)}",
            f"stack={_MAX_WASM_STACK}",
            "fuel=1,epoch=1,memory_may_move=0",
            "grow_probe=1",  # compiled code carries the refused-grow probe (_grow_probe.py)
            f"memory={self.max_memory_bytes}",
            f"table={self.max_table_elements}",
            f"pooling={int(self.pooling)}",
        ]
        return hashlib.sha256(";".join(parts).encode()).hexdigest()[:16]


def artifact_key() -> str:
    """Names the engines a compiled module is valid for (the allocator does not matter to the code)."""
    return f"wasmtime{WASMTIME_VERSION}-{EngineSettings(pooling=False).fingerprint()}"


def make_config(settings: EngineSettings) -> wasmtime.Config:
    """Build a fresh `wasmtime.Config` (a config is consumed by the engine that takes it)."""
    config = wasmtime.Config()
    for proposal in _DISABLED_PROPOSALS:
        setattr(config, proposal, False)
    config.consume_fuel = True
    config.epoch_interruption = True
    config.max_wasm_stack = _MAX_WASM_STACK
    config.cranelift_opt_level = "speed"
    # The call path keeps the memory base across a call (see _call.py): memory must never move.
    config.memory_may_move = False
    config.parallel_compilation = False
    if settings.pooling:
        _enable_pooling(config, settings)
    return config


def _enable_pooling(config: wasmtime.Config, settings: EngineSettings) -> None:
    # Not exposed by wasmtime-py's Config: the pooling allocator reuses pre-mapped instance, memory
    # and table slots, which cuts instance creation, first memory writes and teardown from ~60 µs to
    # ~12 µs per call on a 2-core box (fresh mmap + page faults + munmap otherwise).
    pool = ffi.wasmtime_pooling_allocation_config_new()
    try:
        slots = settings.max_concurrent_calls
        ffi.wasmtime_pooling_allocation_config_total_core_instances_set(pool, slots)
        ffi.wasmtime_pooling_allocation_config_total_memories_set(pool, slots)
        ffi.wasmtime_pooling_allocation_config_total_tables_set(pool, slots)
        ffi.wasmtime_pooling_allocation_config_total_stacks_set(pool, slots)
        ffi.wasmtime_pooling_allocation_config_max_memories_per_module_set(pool, 1)
        ffi.wasmtime_pooling_allocation_config_max_tables_per_module_set(pool, 1)
        ffi.wasmtime_pooling_allocation_config_max_memory_size_set(pool, settings.max_memory_bytes)
        ffi.wasmtime_pooling_allocation_config_table_elements_set(pool, settings.max_table_elements)
        # Reused slots are reset with memset below this size instead of madvise + page faults.
        ffi.wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(pool, 256 * 1024)
        ffi.wasmtime_pooling_allocation_config_table_keep_resident_set(pool, 64 * 1024)
        ffi.wasmtime_pooling_allocation_strategy_set(config.ptr(), pool)
    finally:
        ffi.wasmtime_pooling_allocation_config_delete(pool)
