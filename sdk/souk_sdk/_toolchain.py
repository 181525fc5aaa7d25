"""`souk-plugin build`: find the project's language and run its compiler."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from souk_sdk._project_templates import ASC_FLAGS, C_COMPILE_FLAGS, LANGUAGES, WASM_FILE
from souk_sdk.errors import EXIT_FAILED, DevKitError

_BUILD_TIMEOUT_S = 300


def project_language(directory: Path) -> str:
    """`c` or `assemblyscript`, from the source file `souk-plugin new` wrote."""
    if not directory.is_dir():
        raise DevKitError(f"{directory} is not a directory (expected a project made by `souk-plugin new`).")
    found = [language for language, source in LANGUAGES.items() if (directory / source).is_file()]
    if not found:
        raise DevKitError(
            f"No plugin source in {directory}: expected {' or '.join(LANGUAGES.values())} "
            "(create a project with `souk-plugin new NAME --lang c|assemblyscript`)."
        )
    if len(found) > 1:
        raise DevKitError(f"{directory} has both plugin.c and plugin.ts; keep one.")
    return found[0]


def build_command(directory: Path, language: str) -> list[str]:
    """The compiler command for the project, or `DevKitError` naming the package to install."""
    if language == "c":
        clang = shutil.which("clang")
        if clang is None:
            raise DevKitError("clang was not found on PATH: install the Debian packages `clang` and `lld`.")
        if shutil.which("wasm-ld") is None:
            raise DevKitError(
                "wasm-ld (the Wasm linker clang uses) was not found on PATH: install the Debian package `lld`."
            )
        return [clang, *C_COMPILE_FLAGS, "-o", WASM_FILE, LANGUAGES["c"]]
    npx = shutil.which("npx")
    if npx is None:
        raise DevKitError("npx was not found on PATH: install Node.js and npm (Debian packages `nodejs` and `npm`).")
    if not (directory / "node_modules" / ".bin" / "asc").exists():
        raise DevKitError(
            f"AssemblyScript is not installed in {directory}: run `npm install` there "
            "(it installs the npm package `assemblyscript` listed in package.json)."
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
        raise DevKitError(f"The build took longer than {_BUILD_TIMEOUT_S} s and was stopped.", EXIT_FAILED) from None
    except OSError as error:
        raise DevKitError(f"Could not start {command[0]}: {error}.") from None
    if completed.returncode != 0:
        output = (completed.stderr + completed.stdout).strip()
        raise DevKitError(f"The build failed (exit code {completed.returncode}):\n{output}", EXIT_FAILED)
    wasm = directory / WASM_FILE
    if not wasm.is_file():
        raise DevKitError(f"The build succeeded but wrote no {WASM_FILE} in {directory}.", EXIT_FAILED)
    return wasm, command
