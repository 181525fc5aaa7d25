"""The `souk-plugin` command: new, build, check, run and replay Wasm plugins with production limits.

Exit codes: 0 success; 1 the plugin failed (build error, invalid module, a call that did not end `ok`,
a replay whose output differs); 2 the command cannot run (missing file, bad JSON, unknown point,
missing toolchain, bad arguments).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import wasmtime

from souk_sandbox import InvalidModule, InvocationResult, Limits, Runtime, validate
from souk_sandbox.points import POINTS
from souk_sdk._i18n import _, ljust, rjust
from souk_sdk._json_diff import json_diff
from souk_sdk._project_templates import LANGUAGES, WASM_FILE, project_files
from souk_sdk._toolchain import build_project
from souk_sdk.client import Client
from souk_sdk.errors import EXIT_FAILED, EXIT_USAGE, DevKitError
from souk_sdk.points import EXTENSION_POINTS
from souk_sdk.problems import Forbidden, NotFound, SoukError, Unauthorized

__all__ = ["main"]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_EXPORT_KEYS = ("point", "input", "output", "outcome", "module_sha256")
_RAW_PREVIEW_BYTES = 300
_LOG_ID = re.compile(r"pli_[0-9a-z]{26}")
DEFAULT_API_URL = "http://127.0.0.1:5000"


def main(argv: Sequence[str] | None = None) -> int:
    """Run `souk-plugin` with `argv` (default: the process arguments); return the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage and the problem
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        result: int = args.handler(args)
        return result
    except DevKitError as error:
        print(_("error: {message}", message=error.message), file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, without a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="souk-plugin",
        description=_("Create, build, check, run and replay Souk Wasm plugins (ABI v1) with production limits."),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    new = commands.add_parser("new", help=_("create a plugin project with a working sample"))
    new.add_argument("name", help=_("project name; the folder ./NAME is created"))
    new.add_argument("--lang", required=True, choices=sorted(LANGUAGES), help=_("source language"))
    new.set_defaults(handler=_new)

    build = commands.add_parser("build", help=_("compile a project (clang or AssemblyScript), then check it"))
    build.add_argument("directory", nargs="?", default=".", help=_("project folder (default: the current one)"))
    build.set_defaults(handler=_build)

    check = commands.add_parser("check", help=_("validate a module as an upload would (ABI v1 and limits)"))
    check.add_argument("wasm", help=_("the .wasm module"))
    check.set_defaults(handler=_check)

    run = commands.add_parser("run", help=_("run a module on an input with production limits"))
    run.add_argument("wasm", help=_("the .wasm module"))
    run.add_argument("--point", required=True, help=_("extension point: {points}", points=", ".join(EXTENSION_POINTS)))
    run.add_argument("--input", required=True, help=_("JSON file with the point's input"))
    run.add_argument(
        "--lines", type=int, help=_("cart/order lines the limits are scaled for (default: counted in the input)")
    )
    run.set_defaults(handler=_run)

    replay = commands.add_parser("replay", help=_("re-run a logged production call and diff the output"))
    replay.add_argument(
        "export",
        metavar="LOG_ID_OR_FILE",
        help=_(
            "an invocation log id (pli_…, fetched from the API) or an exported log file "
            "(JSON: point, input, output, outcome, module_sha256)"
        ),
    )
    replay.add_argument("--module", "--wasm", dest="wasm", required=True, help=_("the .wasm module to run"))
    replay.add_argument(
        "--api-url",
        default=os.environ.get("SOUK_API_URL") or DEFAULT_API_URL,
        help=_("where to fetch a log id from (default: $SOUK_API_URL, else {default})", default=DEFAULT_API_URL),
    )
    replay.add_argument(
        "--token",
        default=os.environ.get("SOUK_TOKEN"),
        help=_("a shop access token with read_plugins, to fetch a log id (default: $SOUK_TOKEN)"),
    )
    replay.set_defaults(handler=_replay)
    return parser


# --- new --------------------------------------------------------------------------------------------------


def _new(args: argparse.Namespace) -> int:
    name: str = args.name
    if not _NAME.fullmatch(name):
        raise DevKitError(
            _(
                "{name!r} is not a valid project name: use 1-64 letters, digits, '-' or '_', starting with a letter.",
                name=name,
            )
        )
    directory = Path(name)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise DevKitError(
            _("{directory} already exists and is not an empty folder; choose another name.", directory=directory)
        )
    files = project_files(name, args.lang)
    directory.mkdir(exist_ok=True)
    for file_name, text in files.items():
        (directory / file_name).write_text(text, encoding="utf-8")
    language = "C" if args.lang == "c" else "AssemblyScript"
    print(_("Created {directory}/ ({language} plugin for cart.validate):", directory=directory, language=language))
    for file_name in sorted(files):
        print(f"  {directory / file_name}")
    print(_("Next:"))
    if args.lang == "assemblyscript":
        print(f"  cd {directory} && npm install")
    print(f"  souk-plugin build {directory}")
    print(f"  souk-plugin run {directory / WASM_FILE} --point cart.validate --input {directory / 'input.json'}")
    return 0


# --- build ------------------------------------------------------------------------------------------------


def _build(args: argparse.Namespace) -> int:
    wasm, command = build_project(Path(args.directory))
    print("$ " + " ".join(command))
    print(_("Built {wasm}", wasm=wasm))
    return 0 if _check_report(wasm, wasm.read_bytes()) else EXIT_FAILED


# --- check ------------------------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    path = Path(args.wasm)
    return 0 if _check_report(path, _read_bytes(path, _("module"))) else EXIT_FAILED


def _check_report(path: Path, module_bytes: bytes) -> bool:
    """Print what upload validation says about the module; True when it is accepted."""
    limit = Limits().module_bytes
    problem: InvalidModule | None = None
    try:
        validate(module_bytes)
    except InvalidModule as error:
        problem = error
    print(_("{path}: OK (ABI v1)", path=path) if problem is None else _("{path}: REJECTED", path=path))
    print(
        _(
            "  size     {size:,} bytes of {limit:,} ({share})",
            size=len(module_bytes),
            limit=limit,
            share=_percent(len(module_bytes), limit),
        )
    )
    print(f"  sha256   {hashlib.sha256(module_bytes).hexdigest()}")
    exports, imports = _describe_module(module_bytes)
    if exports is not None:
        print(_("  exports  {exports}", exports=", ".join(exports) or _("(none)")))
    if imports:
        print(_("  imports  {imports}", imports=", ".join(imports)))
    if problem is not None:
        print(_("  problem  [{code}] {message}", code=problem.code, message=problem.message))
        for detail in problem.details:
            print(f"           - {detail}")
    return problem is None


def _describe_module(module_bytes: bytes) -> tuple[list[str] | None, list[str]]:
    """Exports (name and type) and imports of a module wasmtime can parse; (None, []) otherwise."""
    try:
        module = wasmtime.Module(wasmtime.Engine(), module_bytes)
    except wasmtime.WasmtimeError:
        return None, []
    exports = [f"{item.name} {_type_name(item.type)}" for item in module.exports]
    imports = [f"{item.module}.{item.name}" for item in module.imports]
    return exports, imports


def _type_name(item_type: object) -> str:
    if isinstance(item_type, wasmtime.FuncType):
        params = ", ".join(map(str, item_type.params))
        results = ", ".join(map(str, item_type.results))
        return f"({params}) -> ({results})"
    if isinstance(item_type, wasmtime.MemoryType):
        return "(memory)"
    if isinstance(item_type, wasmtime.TableType):
        return "(table)"
    return "(global)"


# --- run --------------------------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    point = _known_point(args.point)
    module_bytes = _read_bytes(Path(args.wasm), _("module"))
    payload = _read_json(Path(args.input), _("input"))
    if args.lines is not None and args.lines < 0:
        raise DevKitError(_("--lines must be 0 or more, not {lines}.", lines=args.lines))
    print(_("point     {point}", point=point))
    result = _invoke(point, module_bytes, payload, args.lines)
    return _print_result(result, _warnings(point, payload, result))


def _invoke(point: str, module_bytes: bytes, payload: Any, lines: int | None) -> InvocationResult:
    """Print the limits in force, then run the module once on `payload` in a fresh runtime.

    Judged as production judges: an input production would never send is refused before the call, and
    the output is checked against the point's output schema (a bad one is `schema_invalid`).
    """
    contract = POINTS[point]
    problems = contract.input_problems(payload)
    if problems:
        raise DevKitError(
            _(
                "The input does not match the {point} input schema, so production never sends it:\n{problems}",
                point=point,
                problems="\n".join(f"  - {problem}" for problem in problems[:20]),
            )
        )
    counted = _count_lines(payload)
    if lines is not None:
        limits, why = Limits.for_lines(lines), _("{lines} (--lines)", lines=_lines(lines))
    elif counted is not None:
        limits, why = Limits.for_lines(counted), _("{lines} (counted in the input)", lines=_lines(counted))
    else:
        limits, why = Limits.for_lines(0), _("a cart of up to 200 lines (no lines in the input)")
    print(_("limits    production, for {why}", why=why))
    with Runtime() as runtime:
        try:
            plugin = runtime.load(module_bytes, limits=limits)
        except InvalidModule as error:
            raise DevKitError(
                _(
                    "The module is not a valid plugin [{code}]: {message} (see `souk-plugin check`).",
                    code=error.code,
                    message=error.message,
                ),
                EXIT_FAILED,
            ) from None
        return plugin.invoke(payload, limits=limits, output_validator=contract.output_problems)


def _warnings(point: str, payload: Any, result: InvocationResult) -> list[str]:
    """What production writes into the invocation log as a warning for an `ok` call."""
    return POINTS[point].output_warnings(payload, result.output) if result.ok else []


def _count_lines(payload: Any) -> int | None:
    """The number of cart/order lines in a point's input, where production scales the limits from."""
    if not isinstance(payload, dict):
        return None
    for holder in (payload, payload.get("cart"), payload.get("order")):
        if isinstance(holder, dict) and isinstance(holder.get("lines"), list):
            return len(holder["lines"])
    return None


def _print_result(result: InvocationResult, warnings: Sequence[str] = ()) -> int:
    """Print the outcome, the output and the costs against the limits; the exit code for the outcome."""
    if result.ok:
        print(_("outcome   ok"))
        print(json.dumps(result.output, indent=2, ensure_ascii=False))
    else:
        print(_("outcome   {outcome}: {message}", outcome=result.outcome.value, message=result.message))
        if result.raw_output:
            preview = result.raw_output[:_RAW_PREVIEW_BYTES].decode("utf-8", errors="replace")
            print(_("raw output ({size:,} bytes): {preview}", size=result.output_bytes, preview=preview))
    limits = result.limits
    rows = [
        (_("fuel"), result.fuel_consumed, limits.fuel, ""),
        (_("memory"), result.memory_bytes, limits.memory_bytes, " B"),
        (_("input"), result.input_bytes, limits.input_bytes, " B"),
        (_("output"), result.output_bytes, limits.output_bytes, " B"),
        (_("time"), result.elapsed_us, limits.deadline_ms * 1000, " µs"),
    ]
    print(" " * 8 + rjust(_("used"), 16) + rjust(_("limit"), 18) + rjust(_("share"), 9))
    for label, used, limit, unit in rows:
        print(f"{ljust(label, 8)}{f'{used:,}{unit}':>16}{f'{limit:,}{unit}':>18}{_percent(used, limit):>9}")
    for warning in warnings:  # as production writes it into the invocation log; not a failure
        print(_("warning   {warning}", warning=warning))
    return 0 if result.ok else EXIT_FAILED


# --- replay -----------------------------------------------------------------------------------------------


def _replay(args: argparse.Namespace) -> int:
    source: str = args.export
    if _LOG_ID.fullmatch(source) and not Path(source).exists():
        export = _fetch_export(source, api_url=args.api_url, token=args.token)
    else:
        export = _read_json(Path(source), _("export"))
    if not isinstance(export, dict):
        raise DevKitError(_("{source} is not an invocation log export: expected a JSON object.", source=args.export))
    missing = [key for key in _EXPORT_KEYS if key not in export]
    if missing:
        raise DevKitError(
            _(
                "{source} is not an invocation log export: missing {missing} (expected the keys {keys}).",
                source=args.export,
                missing=", ".join(missing),
                keys=", ".join(_EXPORT_KEYS),
            )
        )
    point = _known_point(export["point"])
    module_bytes = _read_bytes(Path(args.wasm), _("module"))
    sha256 = hashlib.sha256(module_bytes).hexdigest()
    print(_("point     {point} (logged outcome: {outcome})", point=point, outcome=export["outcome"]))
    if sha256 != export["module_sha256"]:
        print(
            _(
                "warning: {wasm} is not the module that was logged "
                "(logged sha256 {logged}, this file {sha256}): differences may come from the code.",
                wasm=args.wasm,
                logged=export["module_sha256"],
                sha256=sha256,
            )
        )
    lines = export.get("lines")
    result = _invoke(point, module_bytes, export["input"], lines if isinstance(lines, int) and lines >= 0 else None)
    code = _print_result(result, _warnings(point, export["input"], result))
    logged_fuel = export.get("fuel")
    if isinstance(logged_fuel, int) and not isinstance(logged_fuel, bool):
        print(_("fuel      logged {logged:,}, now {now:,}", logged=logged_fuel, now=result.fuel_consumed))
    if result.outcome.value != export["outcome"]:
        print(_("outcome changed: {logged} -> {now}", logged=export["outcome"], now=result.outcome.value))
    differences = json_diff(export["output"], result.output)
    if not differences and result.outcome.value == export["outcome"]:
        print(_("same output as logged"))
        return code
    if differences:
        print(_("output differs from the logged one (- logged only, + new only, ~ changed):"))
        for line in differences:
            print(f"  {line}")
    return EXIT_FAILED


def _fetch_export(log_id: str, *, api_url: str, token: str | None) -> Any:
    """``GET /api/v1/plugin-invocations/{id}/export`` with a shop token; every refusal as a DevKitError."""
    if not token:
        raise DevKitError(
            _(
                "To fetch {log_id} the dev kit needs a shop access token with the read_plugins scope: "
                "pass --token or set SOUK_TOKEN (or replay an exported file instead).",
                log_id=log_id,
            )
        )
    print(_("fetching {log_id} from {api_url}", log_id=log_id, api_url=api_url))
    try:
        with Client(api_url, token, max_retries=1, backoff=0.2, timeout=15.0) as client:
            return client.plugin_invocations.export(log_id)
    except Unauthorized:
        raise DevKitError(
            _(
                "{api_url} refused the token (401): it is unknown, expired or revoked. "
                "Create a shop access token with the read_plugins scope and pass it as --token or SOUK_TOKEN.",
                api_url=api_url,
            )
        ) from None
    except Forbidden as error:
        raise DevKitError(
            _(
                "{api_url} refused the call (403): {reason}. The token needs the read_plugins scope.",
                api_url=api_url,
                reason=error.detail or error.title,
            )
        ) from None
    except NotFound:
        raise DevKitError(
            _(
                "{api_url} has no invocation {log_id} in the token's shop (404). Check the id, and that the "
                "token belongs to the shop where the plugin ran.",
                api_url=api_url,
                log_id=log_id,
            )
        ) from None
    except SoukError as error:
        raise DevKitError(
            _(
                "{api_url} could not export {log_id} ({status}): {reason}",
                api_url=api_url,
                log_id=log_id,
                status=error.status,
                reason=error.detail or error.title,
            )
        ) from None
    except httpx.HTTPError as error:
        raise DevKitError(
            _(
                "Cannot reach the Souk API at {api_url}: {error}. "
                "Check --api-url (or SOUK_API_URL) and that the server is running.",
                api_url=api_url,
                error=error or type(error).__name__,
            )
        ) from None


# --- shared -----------------------------------------------------------------------------------------------


def _known_point(point: object) -> str:
    if not isinstance(point, str) or point not in EXTENSION_POINTS:
        raise DevKitError(
            _(
                "Unknown extension point {point!r}; the points are: {points}.",
                point=point,
                points=", ".join(EXTENSION_POINTS),
            )
        )
    return point


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DevKitError(_("The {what} file {path} does not exist.", what=what, path=path)) from None
    except IsADirectoryError:
        raise DevKitError(_("The {what} file {path} is a directory.", what=what, path=path)) from None
    except OSError as error:
        raise DevKitError(
            _("Cannot read the {what} file {path}: {error}.", what=what, path=path, error=error.strerror)
        ) from None


def _read_json(path: Path, what: str) -> Any:
    raw = _read_bytes(path, what)
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise DevKitError(_("The {what} file {path} is not UTF-8 text.", what=what, path=path)) from None
    except json.JSONDecodeError as error:
        raise DevKitError(
            _(
                "The {what} file {path} is not valid JSON: {error} at line {line}, column {column}.",
                what=what,
                path=path,
                error=error.msg,
                line=error.lineno,
                column=error.colno,
            )
        ) from None
    except ValueError as error:
        raise DevKitError(
            _("The {what} file {path} is not valid JSON: {error}.", what=what, path=path, error=error)
        ) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(_("{name} is not allowed in JSON", name=name))


def _lines(count: int) -> str:
    return _("{count:,} line", count=count) if count == 1 else _("{count:,} lines", count=count)


def _percent(used: int, limit: int) -> str:
    return f"{100 * used / limit:.1f} %" if limit else "-"


if __name__ == "__main__":
    raise SystemExit(main())
