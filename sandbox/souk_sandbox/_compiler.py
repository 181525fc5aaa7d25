"""Compiling a module in a child process bounded in CPU time and memory, so a hostile module cannot stall
or bloat the process that uploads or runs it.

Measured on a 2-core box (wasmtime-py 50, Cranelift, one compile thread): the sample plugins compile in
~0.05 s within ~40 MB (the interpreter and wasmtime included); a 248 KB module of 62,000 empty functions
took 8-20 s and ~400 MB, and its serialized code was 17 MB. The limits sit far above the first and far
below the second: see `COMPILE_CPU_SECONDS` and `COMPILE_MEMORY_BYTES`.

Before compiling, the child adds the refused-grow probe (`_grow_probe.py`). It prints the serialized
module (`Module.serialize`) on stdout; the parent deserializes it into its own engine, which costs no
compilation.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from souk_sandbox.errors import InvalidModule
from souk_sandbox.limits import MIB

#: CPU seconds a compile may use (RLIMIT_CPU: CPU time, so a busy machine does not refuse a good module).
COMPILE_CPU_SECONDS = 2
#: Address space of the compiling process, the interpreter and wasmtime (~55 MiB) included (RLIMIT_AS).
COMPILE_MEMORY_BYTES = 256 * MIB
# Wall-clock backstop only (a child stopped, not spinning): CPU time is the rule.
_WALL_SECONDS = 60
_EXIT_INVALID = 3
_EXIT_NO_MEMORY = 4

_SANDBOX_ROOT = str(Path(__file__).resolve().parents[1])
# Not `-m souk_sandbox._compiler`: the package imports this module first and runpy warns on stderr.
_CHILD = "import sys; from souk_sandbox._compiler import child_main; sys.exit(child_main(sys.argv[1:]))"


def limits_text() -> str:
    return f"{COMPILE_CPU_SECONDS} s of CPU and {COMPILE_MEMORY_BYTES // MIB} MiB of memory"


def compile_in_child(module_bytes: bytes) -> bytes:
    """The module compiled by the sandbox's engine configuration, serialized; raises `InvalidModule`.

    Codes: `invalid_wasm` (wasmtime refused it), `compile_limit` (over `COMPILE_CPU_SECONDS` or
    `COMPILE_MEMORY_BYTES`).
    """
    env = dict(os.environ)
    # The child imports this package from where the parent did, installed or not.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_SANDBOX_ROOT, env.get("PYTHONPATH")]))
    command = [sys.executable, "-c", _CHILD, str(COMPILE_CPU_SECONDS), str(COMPILE_MEMORY_BYTES)]
    try:
        completed = subprocess.run(command, input=module_bytes, capture_output=True, timeout=_WALL_SECONDS, env=env)
    except subprocess.TimeoutExpired:
        raise _over_limits("it did not finish") from None
    if completed.returncode == 0:
        return completed.stdout
    if completed.returncode == _EXIT_INVALID:
        raise InvalidModule("invalid_wasm", completed.stderr.decode("utf-8", "replace").strip()[:2000])
    if completed.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise _over_limits(f"it used more than {COMPILE_CPU_SECONDS} s of CPU")
    # Out of memory shows as MemoryError (exit 4) or as an abort inside wasmtime (SIGABRT).
    raise _over_limits(f"it needed more than {COMPILE_MEMORY_BYTES // MIB} MiB of memory")


def _over_limits(why: str) -> InvalidModule:
    return InvalidModule(
        "compile_limit",
        f"The module is too costly to compile: {why}. A plugin must compile within {limits_text()} "
        "(a typical plugin needs ~0.05 s and ~40 MiB); split or simplify it.",
    )


def child_main(argv: list[str]) -> int:
    """The child's side: compile the module on stdin within the limits `argv` gives (CPU s, bytes)."""
    cpu_seconds, memory_bytes = int(argv[0]), int(argv[1])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    module_bytes = sys.stdin.buffer.read()
    try:
        import wasmtime

        from souk_sandbox._engine_config import EngineSettings, make_config
        from souk_sandbox._grow_probe import add_grow_probe
        from souk_sandbox.validation import compile_module

        engine = wasmtime.Engine(make_config(EngineSettings(pooling=False)))
        probed = add_grow_probe(module_bytes)
        try:
            module = compile_module(engine, probed)
        except InvalidModule:
            if probed == module_bytes:
                raise
            module = compile_module(engine, module_bytes)  # the author's error, not the rewrite's
        serialized = bytes(module.serialize())
    except InvalidModule as error:
        sys.stderr.write(error.message)
        return _EXIT_INVALID
    except MemoryError:
        return _EXIT_NO_MEMORY
    sys.stdout.buffer.write(serialized)
    sys.stdout.buffer.flush()
    return 0
