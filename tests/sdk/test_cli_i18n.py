"""`souk-dev` and `souk-plugin` speak Simplified Chinese when the locale asks for it, English otherwise."""

from __future__ import annotations

import ast
import json
import string
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import wasmtime
from plugin_modules import constant_plugin

import souk_sdk
from souk_sdk import dev_cli, plugin_cli
from souk_sdk._i18n import ZH_CN, _, language, width

SDK = Path(souk_sdk.__file__).parent
TRANSLATED_MODULES = ("dev_cli.py", "plugin_cli.py", "_toolchain.py")
ECHO_WAT = Path(__file__).parents[1] / "sandbox" / "plugins" / "echo.wat"
LOCALE_VARIABLES = ("SOUK_LANG", "LC_ALL", "LC_MESSAGES", "LANG")


# --- every message has a translation ----------------------------------------------------------------------


def _calls(file_name: str) -> Iterator[ast.Call]:
    tree = ast.parse((SDK / file_name).read_text(encoding="utf-8"), filename=file_name)
    yield from (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def _templates() -> dict[str, str]:
    """Each `_("literal", ...)` template of the CLIs -> where it is (file:line)."""
    found: dict[str, str] = {}
    for file_name in TRANSLATED_MODULES:
        for call in _calls(file_name):
            if isinstance(call.func, ast.Name) and call.func.id == "_":
                first = call.args[0] if call.args else None
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{file_name}:{call.lineno}: _() needs a string literal, so it can be checked here"
                )
                found.setdefault(first.value, f"{file_name}:{call.lineno}")
    return found


def _fields(template: str) -> set[str]:
    return {field for _text, field, _spec, _conversion in string.Formatter().parse(template) if field is not None}


def test_every_message_of_the_clis_has_a_chinese_translation_with_the_same_placeholders() -> None:
    templates = _templates()
    assert len(templates) > 150  # the scan found the CLIs' messages
    for template, where in templates.items():
        translation = ZH_CN.get(template, "")
        assert translation.strip(), f"{where}: no Chinese for {template!r}"
        assert _fields(template) <= _fields(translation), f"{where}: placeholders lost in {translation!r}"
        assert _fields(translation) <= _fields(template), f"{where}: unknown placeholders in {translation!r}"
        assert "%" not in translation, f"{where}: argparse would %-format {translation!r}"


def test_every_translation_is_used() -> None:
    assert sorted(set(ZH_CN) - set(_templates())) == []


def test_no_message_for_people_is_left_as_a_bare_string() -> None:
    """`DevKitError(...)` messages and argparse `help=`/`description=` go through `_()`."""

    def bare(node: ast.expr) -> bool:
        return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))

    left: list[str] = []
    for file_name in TRANSLATED_MODULES:
        for call in _calls(file_name):
            if isinstance(call.func, ast.Name) and call.func.id == "DevKitError" and call.args and bare(call.args[0]):
                left.append(f"{file_name}:{call.lineno}")
            left += [
                f"{file_name}:{call.lineno} {keyword.arg}="
                for keyword in call.keywords
                if keyword.arg in ("help", "description") and bare(keyword.value)
            ]
    assert left == []


# --- the language comes from the environment --------------------------------------------------------------


@pytest.fixture
def locale(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """`locale(LANG="zh_CN.UTF-8")` sets exactly these locale variables for the test."""

    def set_locale(**variables: str) -> None:
        for name in LOCALE_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)

    return set_locale


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "en"),
        ({"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, "zh"),  # an empty variable counts as unset
        ({"SOUK_LANG": "zh_CN", "LC_ALL": "en_US.UTF-8"}, "zh"),
        ({"SOUK_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
    ],
)
def test_the_language_follows_souk_lang_then_the_locale(
    locale: Callable[..., None], variables: dict[str, str], expected: str
) -> None:
    locale(**variables)
    assert language() == expected


def test_messages_are_formatted_in_the_language_of_the_moment(locale: Callable[..., None]) -> None:
    locale(LANG="C.UTF-8")
    assert _("Built {wasm}", wasm="a.wasm") == "Built a.wasm"
    locale(SOUK_LANG="zh_CN")
    assert _("Built {wasm}", wasm="a.wasm") == "已构建 a.wasm"
    assert _("not a known template {x}", x=1) == "not a known template 1"  # no translation: English


# --- the commands, offline --------------------------------------------------------------------------------


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No stored credentials, no server: a scratch config folder and working folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("SOUK_API_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(main: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# A cart.discounts input as production sends it (the dev kit refuses any other).
_DISCOUNTS_INPUT = {"lines": [{"sku_id": "sku_1", "quantity": 1}] * 3, "customer": None, "subtotal": 0, "config": {}}


def _discounts_module(folder: Path) -> Path:
    """A module whose output is valid at cart.discounts (no discounts)."""
    module = folder / "none.wasm"
    module.write_bytes(constant_plugin({"discounts": []}))
    return module


def _echo_module(folder: Path) -> Path:
    module = folder / "echo.wasm"
    module.write_bytes(bytes(wasmtime.wat2wasm(ECHO_WAT.read_text(encoding="utf-8"))))
    return module


def test_souk_dev_in_chinese(offline: Path, locale: Callable[..., None], capsys: pytest.CaptureFixture[str]) -> None:
    locale(SOUK_LANG="zh_CN", LANG="C.UTF-8")
    code, out, err = _run(dev_cli.main, capsys, "whoami")
    assert code == 2 and out == ""
    assert err.startswith("错误：尚未登录：请先运行 `souk-dev login --client-id ID`（在浏览器中批准即可）。")

    code, out, err = _run(dev_cli.main, capsys, "app", "init", str(offline / "x"), "--name", "Tea Deals")
    assert code == 0, err
    assert f"已在 {offline / 'x'}/ 中创建应用 'Tea Deals'：" in out
    assert "后续步骤（docs/tutorial.md 中有每一步的详细说明）：" in out
    assert "# 在另一个终端中运行" in out
    assert 'export SOUK_WEBHOOK_SECRET="$(souk-dev webhooks secret)"' in out  # commands stay as they are

    code, out, err = _run(dev_cli.main, capsys, "app", "init", str(offline / "x"))
    assert code == 2 and "已存在且不是空文件夹" in err


def test_souk_dev_json_stays_machine_readable_in_chinese(
    offline: Path, locale: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    locale(SOUK_LANG="zh_CN")
    code, out, err = _run(dev_cli.main, capsys, "app", "init", str(offline / "x"), "--json")
    assert code == 0, err
    assert json.loads(out)["directory"] == str(offline / "x")
    assert "已在" in err  # progress goes to stderr, in Chinese


def test_souk_dev_help_in_chinese(
    offline: Path, locale: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    locale(SOUK_LANG="zh_CN")
    code, out, _err = _run(dev_cli.main, capsys, "--help")
    out = " ".join(out.split())  # argparse wraps the help to the terminal's width
    assert code == 0
    assert "开发 Souk 应用：登录、生成项目骨架、部署、提交审核，以及测试 webhook。" in out
    code, out, _err = _run(dev_cli.main, capsys, "webhooks", "listen", "--help")
    out = " ".join(out.split())
    assert code == 0 and "转发指定数量的事件后停止" in out


def test_souk_plugin_in_chinese(offline: Path, locale: Callable[..., None], capsys: pytest.CaptureFixture[str]) -> None:
    locale(LANG="zh_CN.UTF-8")
    code, out, err = _run(plugin_cli.main, capsys, "new", "discount", "--lang", "c")
    assert code == 0, err
    assert "已创建 discount/（用于 cart.validate 的 C plugin）：" in out
    assert "后续步骤：" in out and "  souk-plugin build discount" in out

    code, out, err = _run(plugin_cli.main, capsys, "new", "9lives", "--lang", "c")
    assert code == 2 and "错误：'9lives' 不是有效的项目名称" in err

    code, out, err = _run(plugin_cli.main, capsys, "check", "missing.wasm")
    assert code == 2 and err == "错误：模块文件 missing.wasm 不存在。\n"

    module = _echo_module(offline)
    code, out, err = _run(plugin_cli.main, capsys, "check", str(module))
    assert code == 0, err
    assert f"{module}：通过（ABI v1）" in out and "  大小     " in out

    module = _discounts_module(offline)
    (offline / "in.json").write_text(json.dumps(_DISCOUNTS_INPUT), encoding="utf-8")
    code, out, err = _run(
        plugin_cli.main, capsys, "run", str(module), "--point", "cart.discounts", "--input", "in.json"
    )
    assert code == 0, err
    assert "扩展点    cart.discounts" in out
    assert "限制      生产环境（3 行，从输入中统计）" in out
    assert "结果      ok" in out
    header = next(line for line in out.splitlines() if "已用" in line)
    fuel = next(line for line in out.splitlines() if line.startswith("燃料"))
    assert width(header) == width(fuel)  # the Chinese labels keep the table's columns aligned

    code, out, err = _run(plugin_cli.main, capsys, "run", str(module), "--point", "cart.nope", "--input", "in.json")
    assert code == 2 and "错误：未知的扩展点 'cart.nope'；可用的扩展点有：" in err


def test_the_same_commands_in_english(
    offline: Path, locale: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    locale(LANG="C.UTF-8")
    code, out, err = _run(dev_cli.main, capsys, "whoami")
    assert code == 2
    assert err == "error: Not logged in: run `souk-dev login --client-id ID` first (you approve it in the browser).\n"

    code, out, err = _run(dev_cli.main, capsys, "app", "init", str(offline / "x"), "--name", "Tea Deals")
    assert code == 0, err
    assert f"Created the app 'Tea Deals' in {offline / 'x'}/:" in out
    assert "Next (docs/tutorial.md walks through each):" in out
    assert "# in another terminal" in out

    code, out, _err = _run(dev_cli.main, capsys, "--help")
    out = " ".join(out.split())
    assert code == 0 and "Develop a Souk app: log in, scaffold, deploy, submit for review, and test webhooks." in out

    code, out, err = _run(plugin_cli.main, capsys, "new", "discount", "--lang", "c")
    assert code == 0, err
    assert "Created discount/ (C plugin for cart.validate):" in out and "Next:" in out

    code, out, err = _run(plugin_cli.main, capsys, "check", "missing.wasm")
    assert code == 2 and err == "error: The module file missing.wasm does not exist.\n"

    module = _discounts_module(offline)
    (offline / "in.json").write_text(json.dumps(_DISCOUNTS_INPUT), encoding="utf-8")
    code, out, err = _run(
        plugin_cli.main, capsys, "run", str(module), "--point", "cart.discounts", "--input", "in.json"
    )
    assert code == 0, err
    assert "point     cart.discounts" in out and "limits    production, for 3 lines (counted in the input)" in out
    assert f"{'':8}{'used':>16}{'limit':>18}{'share':>9}" in out
    assert not any("\u4e00" <= char <= "\u9fff" for char in out + err)  # no Chinese at all
