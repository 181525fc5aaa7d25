"""The per-call path: a fresh instance from an `InstancePre`, input in, output out, store dropped.

Where the time goes (2-core box, 4 KiB input): the public wasmtime-py API spends most of a call in
Python — `Func.__call__` re-reads the function type and converts each value (~13 µs a call),
`instance.exports(store)` wraps every export (~10 µs), `Memory.write` copies twice; and without the
pooling allocator each instance maps fresh memory, page-faults on first write and unmaps at the end
(~45 µs together). This module calls the same C API through wasmtime-py's own ctypes library instead:
argument-free prototypes (half the cost of a crossing), the raw `wasmtime_func_call_unchecked`, lookups
of only the exports ABI v1 needs, one `memmove` for the input, per-thread reusable ctypes buffers, and
per-`Limits` pre-built arguments. Measured with bench/plugin_invoke.py: ~24 µs a call against ~265 µs
for the straightforward way in the same run. The guest runs under the same engine, fuel, epoch
deadline and `StoreLimits` as with the public API.
"""

from __future__ import annotations

import ctypes
import json
import threading
import time
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi

from souk_sandbox._grow_probe import GROW_REFUSED_EXPORT
from souk_sandbox.limits import Limits
from souk_sandbox.results import InvocationResult, Outcome, OutputValidator

_PAGE = 65536
_U32 = 0xFFFFFFFF
_NO_FINALIZER = ctypes.cast(0, ctypes.CFUNCTYPE(None, ctypes.c_void_p))
_TRAP_POINTER = ctypes.POINTER(ffi.wasm_trap_t)
_ERROR_POINTER = ctypes.POINTER(ffi.wasmtime_error_t)


def _c_function(name: str, restype: Any) -> Any:
    """A private prototype of a wasmtime C function with no `argtypes`.

    Skipping ctypes' per-argument conversion halves the cost of a crossing (~1.5 -> ~0.8 µs measured),
    so every argument below is passed as a ctypes object of the exact C type (`c_size_t`, `c_uint64`,
    pointers, `byref`): a plain Python int would be passed as a C int.
    """
    function = ffi.dll._FuncPtr((name, ffi.dll))
    function.restype = restype
    return function


_store_new = _c_function("wasmtime_store_new", ctypes.POINTER(ffi.wasmtime_store_t))
_store_context = _c_function("wasmtime_store_context", ctypes.POINTER(ffi.wasmtime_context_t))
_store_delete = _c_function("wasmtime_store_delete", None)
_store_limiter = _c_function("wasmtime_store_limiter", None)
_set_fuel = _c_function("wasmtime_context_set_fuel", ctypes.c_void_p)
_get_fuel = _c_function("wasmtime_context_get_fuel", ctypes.c_void_p)
_set_epoch_deadline = _c_function("wasmtime_context_set_epoch_deadline", None)
_instantiate = _c_function("wasmtime_instance_pre_instantiate", ctypes.c_void_p)
_export_get = _c_function("wasmtime_instance_export_get", ctypes.c_bool)
_call_unchecked = _c_function("wasmtime_func_call_unchecked", ctypes.c_void_p)
_memory_data = _c_function("wasmtime_memory_data", ctypes.c_void_p)
_memory_data_size = _c_function("wasmtime_memory_data_size", ctypes.c_size_t)

_NAME_MEMORY = (ctypes.c_char_p(b"memory"), ctypes.c_size_t(6))
_NAME_ALLOC = (ctypes.c_char_p(b"alloc"), ctypes.c_size_t(5))
_NAME_RUN = (ctypes.c_char_p(b"run"), ctypes.c_size_t(3))
_NAME_INITIALIZE = (ctypes.c_char_p(b"_initialize"), ctypes.c_size_t(11))
_NAME_GROW_REFUSED = (ctypes.c_char_p(GROW_REFUSED_EXPORT.encode()), ctypes.c_size_t(len(GROW_REFUSED_EXPORT)))
_EXTERN_GLOBAL = 1
_NO_VALUES, _ONE_VALUE, _TWO_VALUES = ctypes.c_size_t(0), ctypes.c_size_t(1), ctypes.c_size_t(2)

_memmove = ctypes.memmove
_string_at = ctypes.string_at
_perf_counter_ns = time.perf_counter_ns


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# `json.loads(text, parse_constant=...)` builds a decoder per call (~4 µs); this one is stateless.
_decode_json = json.JSONDecoder(parse_constant=_reject_constant).decode


class _Scratch(threading.local):
    """ctypes buffers reused by every call on one thread (a thread runs one call at a time)."""

    def __init__(self) -> None:
        self.instance = ffi.wasmtime_instance_t()
        self.trap = _TRAP_POINTER()
        self.memory = ffi.wasmtime_extern_t()
        self.alloc = ffi.wasmtime_extern_t()
        self.run = ffi.wasmtime_extern_t()
        self.initialize = ffi.wasmtime_extern_t()
        self.probe = ffi.wasmtime_extern_t()
        self.values = (ffi.wasmtime_val_raw_t * 2)()
        self.fuel = ctypes.c_uint64()
        self.instance_ref = ctypes.byref(self.instance)
        self.trap_ref = ctypes.byref(self.trap)
        self.memory_ref = ctypes.byref(self.memory)
        self.memory_of_ref = ctypes.byref(self.memory.of.memory)
        self.alloc_ref = ctypes.byref(self.alloc)
        self.alloc_func_ref = ctypes.byref(self.alloc.of.func)
        self.run_ref = ctypes.byref(self.run)
        self.run_func_ref = ctypes.byref(self.run.of.func)
        self.initialize_ref = ctypes.byref(self.initialize)
        self.initialize_func_ref = ctypes.byref(self.initialize.of.func)
        self.fuel_ref = ctypes.byref(self.fuel)

    def take_trap(self) -> wasmtime.Trap | None:
        """The trap the last C call reported (now owned by the returned object), and reset the slot."""
        if not self.trap:
            return None
        trap = wasmtime.Trap._from_ptr(_TRAP_POINTER.from_buffer_copy(self.trap))
        ctypes.memset(ctypes.addressof(self.trap), 0, ctypes.sizeof(self.trap))
        return trap


class _Failure(Exception):
    """Ends a call early with an outcome; carries no guest-controlled data beyond a bounded message."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


class _PreparedLimits:
    """`Limits` as the ctypes arguments of the per-store calls, built once per distinct `Limits`."""

    def __init__(self, limits: Limits, deadline_ticks: int) -> None:
        self.store_limits = tuple(
            ctypes.c_int64(value)
            for value in (limits.memory_bytes, limits.table_elements, limits.instances, limits.tables, limits.memories)
        )
        self.fuel = ctypes.c_uint64(limits.fuel)
        self.deadline_ticks = ctypes.c_uint64(deadline_ticks)


class CallPath:
    """Everything one loaded plugin needs per call, resolved once at load time."""

    _PREPARED_LIMITS_KEPT = 256

    def __init__(
        self,
        engine: wasmtime.Engine,
        instance_pre: wasmtime.InstancePre,
        *,
        has_initialize: bool,
        tick_ms: int,
        has_grow_probe: bool = False,
    ) -> None:
        self._engine_ptr = engine.ptr()
        self._instance_pre = instance_pre  # keeps the pointer below alive
        self._instance_pre_ptr = instance_pre.ptr()
        self._has_initialize = has_initialize
        # The module was rewritten to flag a refused memory.grow (_grow_probe.py).
        self._probe = has_grow_probe
        self._tick_ms = tick_ms
        self._scratch = _Scratch()
        self._prepared: dict[Limits, _PreparedLimits] = {}

    def deadline_ticks(self, limits: Limits) -> int:
        # At least 2 ticks: with 1, any call that happens to span a tick is interrupted (NOTES.md).
        return max(2, -(-limits.deadline_ms // self._tick_ms) + 1)

    def _prepare(self, limits: Limits) -> _PreparedLimits:
        prepared = self._prepared.get(limits)
        if prepared is None:
            if len(self._prepared) >= self._PREPARED_LIMITS_KEPT:
                self._prepared.clear()  # Limits.for_lines makes one per cart size; keep the dict bounded
            prepared = self._prepared[limits] = _PreparedLimits(limits, self.deadline_ticks(limits))
        return prepared

    def call(self, input_json: bytes, limits: Limits, output_validator: OutputValidator | None) -> InvocationResult:
        """Run the plugin once on `input_json` (UTF-8 JSON) in a fresh instance. Never raises."""
        started = _perf_counter_ns()
        input_len = len(input_json)
        if input_len > limits.input_bytes:
            return _result(
                Outcome.INPUT_TOO_LARGE,
                started,
                limits,
                input_len,
                f"The input is {input_len:,} bytes; the limit is {limits.input_bytes:,} bytes.",
            )
        prepared = self._prepare(limits)
        scratch = self._scratch
        fuel_consumed = memory_size = output_len = 0
        raw_output = b""
        store = _store_new(self._engine_ptr, None, _NO_FINALIZER)
        try:
            context = _store_context(store)
            _store_limiter(store, *prepared.store_limits)
            _set_fuel(context, prepared.fuel)
            _set_epoch_deadline(context, prepared.deadline_ticks)
            memory_known = False
            try:
                error = _instantiate(self._instance_pre_ptr, context, scratch.instance_ref, scratch.trap_ref)
                _check(error, scratch, "instantiation", limits, None)
                instance_ref = scratch.instance_ref
                # Upload validation guarantees these exports; if one were missing, the buffer would still
                # hold a handle of another store, which wasmtime answers by aborting the process.
                if not (
                    _export_get(context, instance_ref, *_NAME_MEMORY, scratch.memory_ref)
                    and _export_get(context, instance_ref, *_NAME_ALLOC, scratch.alloc_ref)
                    and _export_get(context, instance_ref, *_NAME_RUN, scratch.run_ref)
                    and (
                        not self._has_initialize
                        or _export_get(context, instance_ref, *_NAME_INITIALIZE, scratch.initialize_ref)
                    )
                ):
                    raise _Failure(Outcome.HOST_ERROR, "An ABI v1 export is missing from the instance.")
                memory_known = True
                values = scratch.values
                if self._has_initialize:
                    error = _call_unchecked(context, scratch.initialize_func_ref, values, _NO_VALUES, scratch.trap_ref)
                    _check(error, scratch, "_initialize", limits, context, self._probe)

                values[0].i32 = input_len
                error = _call_unchecked(context, scratch.alloc_func_ref, values, _ONE_VALUE, scratch.trap_ref)
                _check(error, scratch, "alloc", limits, context, self._probe)
                input_ptr = values[0].i32 & _U32
                memory_size = _memory_data_size(context, scratch.memory_of_ref)
                if input_ptr + input_len > memory_size:
                    raise _Failure(
                        Outcome.BAD_INPUT_POINTER,
                        f"alloc({input_len}) returned {input_ptr}, outside linear memory ({memory_size:,} bytes).",
                    )
                # The engine is configured with `memory_may_move = False`: this base stays valid after
                # the guest grows its memory, only the size must be read again.
                base = _memory_data(context, scratch.memory_of_ref)
                _memmove(base + input_ptr, input_json, input_len)

                values[0].i32 = input_ptr
                values[1].i32 = input_len
                error = _call_unchecked(context, scratch.run_func_ref, values, _TWO_VALUES, scratch.trap_ref)
                _check(error, scratch, "run", limits, context, self._probe)
                packed = values[0].i64
                output_ptr = (packed >> 32) & _U32
                output_len = packed & _U32

                memory_size = _memory_data_size(context, scratch.memory_of_ref)
                readable = min(output_len, limits.output_bytes)
                if output_ptr + readable <= memory_size:
                    raw_output = _string_at(base + output_ptr, readable)
                if output_len > limits.output_bytes:
                    raise _Failure(
                        Outcome.OUTPUT_TOO_LARGE,
                        f"The output is {output_len:,} bytes; the limit is {limits.output_bytes:,} bytes.",
                    )
                if output_ptr + output_len > memory_size:
                    raise _Failure(
                        Outcome.BAD_OUTPUT_POINTER,
                        f"run returned {output_len} bytes at {output_ptr}, outside linear memory "
                        f"({memory_size:,} bytes).",
                    )
            finally:
                fuel_consumed = _fuel_consumed(context, scratch, limits)
                if memory_known:
                    memory_size = _memory_data_size(context, scratch.memory_of_ref)
        except _Failure as failure:
            return _result(
                failure.outcome,
                started,
                limits,
                input_len,
                failure.message,
                raw_output=raw_output,
                output_len=output_len,
                fuel=fuel_consumed,
                memory=memory_size,
            )
        except Exception as error:  # the host must never crash because of a plugin
            return _result(
                Outcome.HOST_ERROR,
                started,
                limits,
                input_len,
                f"Host error while calling the plugin: {error!r}",
                fuel=fuel_consumed,
                memory=memory_size,
            )
        finally:
            _store_delete(store)

        outcome, output, message = _parse_output(raw_output, output_validator)
        return _result(
            outcome,
            started,
            limits,
            input_len,
            message,
            output=output,
            raw_output=raw_output,
            output_len=output_len,
            fuel=fuel_consumed,
            memory=memory_size,
        )


def _check(error: Any, scratch: _Scratch, stage: str, limits: Limits, context: Any, probe: bool = False) -> None:
    """Turn a C-level error or trap from `stage` into a `_Failure` with its outcome."""
    trap = scratch.take_trap()
    if not error and trap is None:
        return
    if trap is not None:
        code = trap.trap_code
        message = _trap_reason(trap.message)
        if code is wasmtime.TrapCode.OUT_OF_FUEL:
            raise _Failure(Outcome.FUEL_EXHAUSTED, f"The plugin used all its fuel ({limits.fuel:,}) in {stage}.")
        if code is wasmtime.TrapCode.INTERRUPT:
            raise _Failure(Outcome.TIMEOUT, f"The plugin ran past its {limits.deadline_ms} ms deadline in {stage}.")
        if context is not None and probe and _grow_was_refused(context, scratch):
            raise _Failure(
                Outcome.MEMORY_LIMIT,
                f"The plugin trapped in {stage} after its memory could not grow past the "
                f"{limits.memory_bytes:,}-byte memory limit: {message}",
            )
        if context is not None and _near_memory_limit(context, scratch, limits):
            # StoreLimits makes memory.grow return -1 at the limit; the guest then traps on its own.
            raise _Failure(
                Outcome.MEMORY_LIMIT,
                f"The plugin trapped in {stage} at the {limits.memory_bytes:,}-byte memory limit: {message}",
            )
        raise _Failure(Outcome.TRAP, f"The plugin trapped in {stage}: {message}")
    message = _first_line(str(wasmtime.WasmtimeError._from_ptr(ctypes.cast(error, _ERROR_POINTER))))
    if stage == "instantiation":
        if "memory" in message and ("limit" in message or "exceeds" in message):
            raise _Failure(Outcome.MEMORY_LIMIT, f"The plugin's initial memory exceeds the limit: {message}")
        raise _Failure(Outcome.INSTANTIATION_FAILED, f"The plugin could not be instantiated: {message}")
    raise _Failure(Outcome.TRAP, f"The plugin failed in {stage}: {message}")


def _grow_was_refused(context: Any, scratch: _Scratch) -> bool:
    # Only on the trap path, so the plain (argument-checked) bindings are fine here.
    found = _export_get(context, scratch.instance_ref, *_NAME_GROW_REFUSED, ctypes.byref(scratch.probe))
    if not found or int(scratch.probe.kind) != _EXTERN_GLOBAL:
        return False
    value = ffi.wasmtime_val_t()
    ffi.wasmtime_global_get(context, ctypes.byref(scratch.probe.of.global_), ctypes.byref(value))
    return bool(value.of.i32)


def _near_memory_limit(context: Any, scratch: _Scratch, limits: Limits) -> bool:
    # Only called once `memory` was looked up in this call's store (another store's handle would abort).
    size = int(_memory_data_size(context, scratch.memory_of_ref))
    return size + _PAGE > limits.memory_bytes


def _fuel_consumed(context: Any, scratch: _Scratch, limits: Limits) -> int:
    if _get_fuel(context, scratch.fuel_ref):
        return 0  # fuel metering is always on; an error here would mean a misconfigured engine
    return limits.fuel - scratch.fuel.value


def _parse_output(raw_output: bytes, output_validator: OutputValidator | None) -> tuple[Outcome, Any, str]:
    try:
        text = raw_output.decode("utf-8")
    except UnicodeDecodeError as error:
        return Outcome.INVALID_UTF8, None, f"The output is not valid UTF-8 (byte {error.start})."
    try:
        output = _decode_json(text)
    except RecursionError:
        return Outcome.INVALID_JSON, None, "The output JSON is nested too deeply."
    except ValueError as error:
        return Outcome.INVALID_JSON, None, f"The output is not valid JSON: {error}"
    if output_validator is None:
        return Outcome.OK, output, ""
    try:
        problems = list(output_validator(output))
    except Exception as error:
        return Outcome.HOST_ERROR, output, f"The output validator failed: {error!r}"
    if problems:
        return Outcome.SCHEMA_INVALID, output, "The output does not match the schema: " + "; ".join(problems)
    return Outcome.OK, output, ""


def _trap_reason(text: str) -> str:
    # wasmtime: "error while executing at wasm backtrace: ... Caused by:\n    wasm trap: <reason>".
    reason = text.rsplit("Caused by:", 1)[-1]
    return _first_line(reason.strip().removeprefix("wasm trap: "))


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0][:300] if stripped else "no message"


def _result(
    outcome: Outcome,
    started: int,
    limits: Limits,
    input_len: int,
    message: str,
    *,
    output: Any = None,
    raw_output: bytes = b"",
    output_len: int = 0,
    fuel: int = 0,
    memory: int = 0,
) -> InvocationResult:
    # Positional: this runs on every call and keyword construction costs measurably more.
    return InvocationResult(
        outcome,
        output,
        raw_output,
        output_len,
        input_len,
        fuel,
        memory,
        (_perf_counter_ns() - started) // 1000,
        message,
        limits,
    )
