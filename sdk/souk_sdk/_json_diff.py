"""A readable difference between two JSON documents, one line per changed path."""

from __future__ import annotations

import json
from typing import Any

_MAX_VALUE_CHARS = 200


def json_diff(old: Any, new: Any, path: str = "$") -> list[str]:
    """Lines `- path: old`, `+ path: new` and `~ path: old -> new`; empty when the documents are equal.

    Object keys are compared by name, arrays by position; `1` and `true` (or `1` and `1.0`) differ,
    as they would for a strict JSON Schema.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        lines: list[str] = []
        for key in sorted(old.keys() | new.keys()):
            child = f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key, ensure_ascii=False)}]"
            if key not in new:
                lines.append(f"- {child}: {_show(old[key])}")
            elif key not in old:
                lines.append(f"+ {child}: {_show(new[key])}")
            else:
                lines.extend(json_diff(old[key], new[key], child))
        return lines
    if isinstance(old, list) and isinstance(new, list):
        lines = []
        for index in range(max(len(old), len(new))):
            child = f"{path}[{index}]"
            if index >= len(new):
                lines.append(f"- {child}: {_show(old[index])}")
            elif index >= len(old):
                lines.append(f"+ {child}: {_show(new[index])}")
            else:
                lines.extend(json_diff(old[index], new[index], child))
        return lines
    if type(old) is type(new) and old == new:
        return []
    return [f"~ {path}: {_show(old)} -> {_show(new)}"]


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"
