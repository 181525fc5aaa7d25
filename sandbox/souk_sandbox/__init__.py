"""The Wasm plugin runtime (ABI v1, limits, module cache). No Flask, no database.

Usage: `runtime = Runtime(cache_dir=...)` once per process; `plugin = runtime.load(wasm_bytes)` (raises
`InvalidModule`); `result = plugin.invoke(point_input, limits=Limits.for_lines(n))` never raises for
anything the plugin does: read `result.outcome`, `result.output`, `result.message`.

Compiling happens once, in a child process bounded to `COMPILE_CPU_SECONDS` and `COMPILE_MEMORY_BYTES`:
`compile_checked(wasm_bytes)` at upload returns the code to store; on the per-call path,
`runtime.load(wasm_bytes, artifact=stored, compile=False)` uses it and never compiles
(`ModuleNotCompiled` when nothing fits). Each point's JSON contract is `souk_sandbox.points.POINTS`.
"""

from souk_sandbox._compiler import COMPILE_CPU_SECONDS, COMPILE_MEMORY_BYTES
from souk_sandbox._engine_config import artifact_key
from souk_sandbox.errors import InvalidModule, ModuleNotCompiled
from souk_sandbox.limits import Limits
from souk_sandbox.results import InvocationResult, Outcome, OutputValidator
from souk_sandbox.runtime import Plugin, Runtime
from souk_sandbox.validation import ABI_VERSION, CompiledModule, ModuleInfo, compile_checked, validate

__all__ = [
    "ABI_VERSION",
    "COMPILE_CPU_SECONDS",
    "COMPILE_MEMORY_BYTES",
    "CompiledModule",
    "InvalidModule",
    "InvocationResult",
    "Limits",
    "ModuleInfo",
    "ModuleNotCompiled",
    "Outcome",
    "OutputValidator",
    "Plugin",
    "Runtime",
    "artifact_key",
    "compile_checked",
    "validate",
]
