"""`souk-plugin build`: find the project's language and run its compiler."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from souk_sdk._i18n import _
from souk_sdk._project_templates import ASC_FLAGS, C_COMPILE_FLAGS, LANGUAGES, WASM_FILE
from souk_sdk.errors import EXIT_FAILED, DevKitError

_BUILD_TIMEOUT_S = 300


def project_language(directory: Path) -> str:
    """`c` or `assemblyscript`, from the source file `souk-plugin new` wrote."""
    if not directory.is_dir():
        raise DevKitError(
            _("{directory} is not a directory (expected a project made by `souk-plugin new`).", directory=directory)
        )
    found = [language for language, source in LANGUAGES.items() if (directory / source).is_file()]
    if not found:
        raise DevKitError(
            _(
                "No plugin source in {directory}: expected {sources} "
                "(create a project with `souk-plugin new NAME --lang c|assemblyscript`).",
                directory=directory,
                sources=_(" or ").join(LANGUAGES.values()),
            )
        )
    if len(found) > 1:
        raise DevKitError(_("{directory} has both plugin.c and plugin.ts; keep one.", directory=directory))
    return found[0]


def build_command(directory: Path, language: str) -> list[str]:
    """The compiler command for the project, or `DevKitError` naming the package to install."""
    if language == "c":
        clang = shutil.which("clang")
        if clang is None:
            raise DevKitError(_("clang was not found on PATH: install the Debian packages `clang` and `lld`."))
        if shutil.which("wasm-ld") is None:
            raise DevKitError(
                _("wasm-ld (the Wasm linker clang uses) was not found on PATH: install the Debian package `lld`.")
            )
        return [clang, *C_COMPILE_FLAGS, "-o", WASM_FILE, LANGUAGES["c"]]
    npx = shutil.which("npx")
    if npx is None:
        raise DevKitError(_("npx was not found on PATH: install Node.js and npm (Debian packages `nodejs` and `npm`)."))
    if not (directory / "node_modules" / ".bin" / "asc").exists():
        raise DevKitError(
            _(
                "AssemblyScript is not installed in {directory}: run `npm install` there "
                "(it installs the npm package `assemblyscript` listed in package.json).",
                directory=directory,
            )
        )
    return [npx, "--no-install", "asc", LANGUAGES["assemblyscript"], *ASC_FLAGS, "-o", WASM_FILE]


def build_project(directory: Path) -> tuple[Path, list[str]]:
    """Compile the project in `directory`; return the module's path and the command that ran."""
    language = project_language(directory)
    command = build_command(directory, language)
    try:
        completed = subprocess.run(
            command, cwd=directory, capture_output=True, text=True, timeout=_BUILD_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise DevKitError(
            _("The build took longer than {seconds} s and was stopped.", seconds=_BUILD_TIMEOUT_S), EXIT_FAILED
        ) from None
    except OSError as error:
        raise DevKitError(_("Could not start {program}: {error}.", program=command[0], error=error)) from None
    if completed.returncode != 0:
        output = (completed.stderr + completed.stdout).strip()
        raise DevKitError(
            _("The build failed (exit code {code}):\n{output}", code=completed.returncode, output=output), EXIT_FAILED
        )
    wasm = directory / WASM_FILE
    if not wasm.is_file():
        raise DevKitError(
            _("The build succeeded but wrote no {wasm} in {directory}.", wasm=WASM_FILE, directory=directory),
            EXIT_FAILED,
        )
    return wasm, command
