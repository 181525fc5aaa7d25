"""The Wasm plugin runtime (ABI v1, limits, module cache). No Flask, no database.

Usage: `runtime = Runtime(cache_dir=...)` once per process; `plugin = runtime.load(wasm_bytes)` (raises
`InvalidModule`); `result = plugin.invoke(point_input, limits=Limits.for_lines(n))` never raises for
anything the plugin does: read `result.outcome`, `result.output`, `result.message`.
"""

from souk_sandbox.errors import InvalidModule
from souk_sandbox.limits import Limits
from souk_sandbox.results import InvocationResult, Outcome, OutputValidator
from souk_sandbox.runtime import Plugin, Runtime
from souk_sandbox.validation import ABI_VERSION, ModuleInfo, validate

__all__ = [
    "ABI_VERSION",
    "InvalidModule",
    "InvocationResult",
    "Limits",
    "ModuleInfo",
    "Outcome",
    "OutputValidator",
    "Plugin",
    "Runtime",
    "validate",
]
