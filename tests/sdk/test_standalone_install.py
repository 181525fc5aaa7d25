"""A plugin developer installs the dev kit without the platform (`pip install ./sandbox ./sdk`) and it works."""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import wasmtime

ROOT = Path(__file__).resolve().parents[2]


def test_pip_install_sandbox_and_sdk_gives_a_working_souk_plugin(tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only what the venv installed
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            str(ROOT / "sandbox"),
            str(ROOT / "sdk"),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,  # never import from the source tree by accident
        env=env,
    )
    imports = subprocess.run(
        [str(python), "-c", "import souk_sdk, souk_sandbox, importlib.util as u; print(u.find_spec('souk_platform'))"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert imports.stdout.strip() == "None"  # the platform is not needed, nor installed

    module = tmp_path / "constant.wasm"
    module.write_bytes(wasmtime.wat2wasm((ROOT / "tests/sandbox/plugins/constant.wat").read_text()))
    check = subprocess.run(
        [str(env_dir / "bin" / "souk-plugin"), "check", str(module)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "OK" in check.stdout
