"""What one plugin call produced."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from souk_sandbox.limits import Limits

#: Optional hook: receives the parsed output, returns the problems found (empty when valid). The
#: platform passes one per extension point, e.g. `lambda doc: [e.message for e in v.iter_errors(doc)]`.
OutputValidator = Callable[[Any], Sequence[str]]


class Outcome(enum.StrEnum):
    """How a call ended. Values are stable strings, fit for the invocation log."""

    OK = "ok"
    #: The guest trapped (unreachable, stack overflow, out-of-bounds access, table limit, ...).
    TRAP = "trap"
    #: The wall-clock deadline passed (epoch interruption).
    TIMEOUT = "timeout"
    FUEL_EXHAUSTED = "fuel_exhausted"
    #: The guest hit the linear memory limit (a refused `memory.grow` followed by a trap, or an initial
    #: memory above the limit).
    MEMORY_LIMIT = "memory_limit"
    INPUT_TOO_LARGE = "input_too_large"
    #: `alloc` returned a region outside linear memory.
    BAD_INPUT_POINTER = "bad_input_pointer"
    #: `run` returned a pointer/length outside linear memory.
    BAD_OUTPUT_POINTER = "bad_output_pointer"
    OUTPUT_TOO_LARGE = "output_too_large"
    INVALID_UTF8 = "invalid_utf8"
    INVALID_JSON = "invalid_json"
    #: The output is JSON but the `output_validator` found problems.
    SCHEMA_INVALID = "schema_invalid"
    #: No instance could be created (e.g. every pooled instance slot is busy).
    INSTANTIATION_FAILED = "instantiation_failed"
    #: A failure on the host side (a bug in Souk or in the output validator); never the guest's output.
    HOST_ERROR = "host_error"


class InvocationResult(NamedTuple):
    """One call: its outcome, the parsed output (None unless the output was valid JSON), and its costs.

    Immutable. A NamedTuple rather than a frozen dataclass: it is built on every call, and a frozen
    dataclass's `__init__` alone cost ~2 µs of the per-call budget.
    """

    outcome: Outcome
    output: Any
    #: The output bytes as the guest returned them, cut at `limits.output_bytes`.
    raw_output: bytes
    #: The output length the guest declared (may exceed `len(raw_output)` when too large).
    output_bytes: int
    input_bytes: int
    #: Exact except after a timeout: wasmtime does not write the fuel counter back when an epoch
    #: interrupt stops the guest, so a timed-out call may report far less than it burnt.
    fuel_consumed: int
    #: Linear memory size at the end of the call.
    memory_bytes: int
    elapsed_us: int
    message: str
    limits: Limits

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK
