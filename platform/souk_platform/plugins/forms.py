"""A plugin settings form generated from the plugin's config JSON Schema (for the merchant's pages).

``build_form(schema, config)`` turns the schema into a tree of fields: objects become groups of their
properties; string, integer, number and boolean properties, enums and consts become inputs, selects
and checkboxes with their title, description, default and bounds; arrays become a fixed number of
rows (the items there, at least ``minItems``, plus one blank row, up to ``maxItems``: no JavaScript
needed; blank rows are dropped on save). Whatever the form cannot show field by field (``oneOf``, a
map, an array of arrays, no schema at all) is one JSON text area for that part of the config.
``read_form`` turns posted form data back into the config and puts each problem, from parsing or from
the schema, next to its field. Field names are the JSON path joined with ``.`` under ``cfg``.

Money: an integer property with ``"format": "money"`` holds an amount in the shop currency's minor
units (fen), as the plugin ABI passes amounts. The merchant sees and types it in major units with the
currency ("¥5.00"; "5", "5.00" or "¥5" are read), converted exactly with Decimal; the stored config
stays in fen. (``format`` is an annotation in JSON Schema 2020-12, so validators and older plugins
are unaffected.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import jsonschema
from flask_babel import gettext as _

from souk_platform.core.money import SYMBOLS, format_money, to_minor_units

ROOT = "cfg"
EXTRA_ROWS = 1  # blank rows offered after an array's items
MAX_ROWS = 20  # rows shown for an array without maxItems
MONEY_FORMAT = "money"  # ``{"type": "integer", "format": "money"}``: minor units of the shop's currency
SANITY_BOUND = 10**12  # fen: the "no real limit" maximum money fields carry across Souk's schemas

Path = tuple[str | int, ...]


@dataclass(slots=True)
class Field:
    """One input. ``kind``: string, integer, number, money, boolean, enum or json (a text area of JSON).

    A money field's ``value`` is the amount in major units ("5.00"); ``default``, ``minimum`` and
    ``maximum`` stay in minor units like the schema's, with ``currency`` to show them.
    """

    path: Path
    kind: str
    label: str
    description: str = ""
    required: bool = False
    value: str = ""  # the text shown (a checkbox: "on" or "")
    choices: list[tuple[str, str]] = field(default_factory=list)  # enum: (JSON of the value, label)
    default: Any = None
    minimum: Any = None
    maximum: Any = None
    max_length: int | None = None
    errors: list[str] = field(default_factory=list)
    currency: str = ""

    @property
    def name(self) -> str:
        return ".".join([ROOT, *map(str, self.path)])

    @property
    def is_field(self) -> bool:
        return True

    @property
    def currency_symbol(self) -> str:
        return SYMBOLS.get(self.currency, self.currency)

    # The hints next to the input: money as the merchant types it ("¥5.00"), and without the bounds
    # that only guard against absurd amounts (0, or ten billion yuan), which say nothing to a merchant.
    def _shown(self, value: Any) -> Any:
        if self.kind == "money" and isinstance(value, int) and not isinstance(value, bool):
            return format_money(value, self.currency)
        return value

    @property
    def shown_default(self) -> Any:
        return self._shown(self.default)

    @property
    def shown_minimum(self) -> Any:
        return None if self.kind == "money" and self.minimum == 0 else self._shown(self.minimum)

    @property
    def shown_maximum(self) -> Any:
        too_big_to_matter = isinstance(self.maximum, int) and self.maximum >= SANITY_BOUND
        return None if self.kind == "money" and too_big_to_matter else self._shown(self.maximum)


@dataclass(slots=True)
class Group:
    """An object's properties (``children``), or an array's rows (``rows``: one field or group per item)."""

    path: Path
    label: str
    description: str = ""
    children: list[Field | Group] = field(default_factory=list)
    rows: list[Field | Group] | None = None
    errors: list[str] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)  # after reading: the rows that became items, in order

    @property
    def name(self) -> str:
        return ".".join([ROOT, *map(str, self.path)])

    @property
    def is_field(self) -> bool:
        return False

    @property
    def item_is_object(self) -> bool:
        return bool(self.rows) and isinstance(next(iter(self.rows or ())), Group)


@dataclass(slots=True)
class ConfigForm:
    root: Field | Group
    errors: list[str] = field(default_factory=list)  # problems no field owns

    def nodes(self) -> list[Field | Group]:
        return _nodes(self.root)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(node.errors for node in self.nodes())


def _nodes(node: Field | Group) -> list[Field | Group]:
    if isinstance(node, Field):
        return [node]
    out: list[Field | Group] = [node]
    for child in [*node.children, *(node.rows or [])]:
        out += _nodes(child)
    return out


# --- schema → fields --------------------------------------------------------------------------------------

_SCALARS = ("string", "integer", "number", "boolean")


def _type_of(schema: Mapping[str, Any]) -> str | None:
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None) if len(declared) <= 2 else None
    if "enum" in schema or "const" in schema:
        return "enum"
    if declared == "integer" and schema.get("format") == MONEY_FORMAT:
        return "money"
    return declared if isinstance(declared, str) else None


def _representable(schema: Any) -> bool:
    """Whether the form can show this part of the schema field by field."""
    if not isinstance(schema, Mapping) or any(k in schema for k in ("oneOf", "anyOf", "allOf", "$ref", "not")):
        return False
    kind = _type_of(schema)
    if kind in (*_SCALARS, "enum", "money"):
        return True
    if kind == "object":
        properties = schema.get("properties")
        return isinstance(properties, Mapping) and bool(properties)  # a property it cannot show is JSON text
    if kind == "array":
        items = schema.get("items")
        return isinstance(items, Mapping) and _type_of(items) != "array" and _representable(items)
    return False


def _label(schema: Mapping[str, Any], key: str | int) -> str:
    title = schema.get("title")
    if isinstance(title, str) and title:
        return title
    return str(key).replace("_", " ").capitalize() if isinstance(key, str) else f"#{key + 1}"


def _text(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "boolean":
        return "on" if value is True else ""
    if kind == "enum":
        return json.dumps(value, ensure_ascii=False)
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, indent=2)
    if kind == "money" and isinstance(value, int) and not isinstance(value, bool):
        return str(Decimal(value).scaleb(-2).quantize(Decimal("0.01")))  # 500 → "5.00"
    return str(value)


_MISSING = object()


def _node(
    schema: Mapping[str, Any],
    path: Path,
    key: str | int,
    value: Any,
    required: bool,
    currency: str,
    blank_row: bool = False,
) -> Field | Group:
    """The field or group for ``value`` under ``schema``; a ``blank_row`` (an array's spare row) shows no defaults."""
    label, description = _label(schema, key), str(schema.get("description") or "")
    default = None if blank_row else schema.get("default")
    if not _representable(schema):
        shown = default if value is _MISSING else value
        return Field(path, "json", label, description, required, _text("json", shown), default=default)
    kind = _type_of(schema)
    if kind == "object":
        properties = value if isinstance(value, Mapping) else {}
        wanted = set(schema.get("required", []))
        group = Group(path, label, description)
        for name, sub in schema["properties"].items():
            child = _node(sub, (*path, name), name, properties.get(name, _MISSING), name in wanted, currency, blank_row)
            group.children.append(child)
        return group
    if kind == "array":
        items = schema["items"]
        listed = list(value) if isinstance(value, list) else []
        most = int(schema.get("maxItems", max(MAX_ROWS, len(listed))))
        count = min(most, max(len(listed), int(schema.get("minItems", 0))) + EXTRA_ROWS)
        rows = [
            _node(items, (*path, index), index, listed[index], False, currency)
            if index < len(listed)
            else _node(items, (*path, index), index, _MISSING, False, currency, blank_row=True)
            for index in range(count)
        ]
        return Group(path, label, description, rows=rows)
    shown = default if value is _MISSING else value
    result = Field(path, kind or "string", label, description, required, _text(kind or "string", shown))
    result.default = default
    result.minimum = schema.get("minimum", schema.get("exclusiveMinimum"))
    result.maximum = schema.get("maximum", schema.get("exclusiveMaximum"))
    result.max_length = schema.get("maxLength")
    if kind == "money":
        result.currency = currency
    if kind == "enum":
        options = schema["enum"] if "enum" in schema else [schema["const"]]
        result.choices = [(json.dumps(option, ensure_ascii=False), str(option)) for option in options]
    return result


def build_form(schema: Mapping[str, Any] | None, config: Mapping[str, Any], currency: str) -> ConfigForm:
    """The form for ``config`` under ``schema`` (None or ``{}``: one JSON text area for the whole config).

    ``currency`` is the shop's: money fields are shown and read in it.
    """
    if not schema or _type_of(schema) != "object":
        return ConfigForm(Field((), "json", _("Configuration (JSON)"), value=_text("json", dict(config))))
    return ConfigForm(_node(schema, (), "", dict(config), True, currency))


# --- posted form → config ---------------------------------------------------------------------------------


def _parse(node: Field, raw: str | None) -> Any:
    """The posted text as the field's JSON value; ``_MISSING`` when left blank; ValueError if unreadable."""
    text = (raw or "").strip() if node.kind != "string" else (raw or "")
    if node.kind == "boolean":
        return raw is not None and raw != ""
    if text == "":
        return _MISSING
    if node.kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError(_("Enter a whole number.")) from None
    if node.kind == "money":
        return _minor_units(text, node.currency)
    if node.kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError(_("Enter a number.")) from None
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    if node.kind == "enum":
        choices = {value: value for value, _label in node.choices}
        if text not in choices:
            raise ValueError(_("Choose one of the options."))
        return json.loads(text)
    if node.kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(
                _("Not valid JSON: %(problem)s (line %(line)s).", problem=error.msg, line=error.lineno)
            ) from None
    return raw or ""


_AMOUNT_AS_WRITTEN = re.compile(r"(\d+|\d{1,3}(,\d{3})+)(\.\d{1,2})?")


def _minor_units(text: str, currency: str) -> int:
    """An amount as people write it ("5", "5.00", "¥5", "1,500 元") → minor units; ValueError otherwise."""
    amount = text
    for mark in (SYMBOLS.get(currency, ""), currency, "元" if currency == "CNY" else ""):
        if mark:
            amount = amount.removeprefix(mark).removesuffix(mark).strip()
    if not _AMOUNT_AS_WRITTEN.fullmatch(amount):  # Decimal alone would take "1e3" or "NaN"
        raise ValueError(_("Enter an amount like 5 or 5.00 (at most two decimals)."))
    return to_minor_units(amount)


def _collect(node: Field | Group, form: Mapping[str, str]) -> Any:
    """The config value the posted ``form`` gives for ``node``; each field keeps the text that was posted."""
    if isinstance(node, Field):
        raw = form.get(node.name)
        node.value = ("on" if raw else "") if node.kind == "boolean" else (raw or "")
        try:
            return _parse(node, raw)
        except ValueError as error:
            node.errors.append(str(error))
            return _MISSING
    if node.rows is None:
        collected = {}
        for child in node.children:
            value = _collect(child, form)
            if value is not _MISSING:
                collected[str(child.path[-1])] = value
        return collected
    items = []
    for index, row in enumerate(node.rows):
        value = _collect(row, form)
        blank = value is _MISSING or value is False or (isinstance(value, dict) and _blank(value))
        if not blank:
            node.kept.append(index)
            items.append(value)
    return items


def _blank(item: dict[str, Any]) -> bool:
    """A row of empty inputs (and unticked boxes) is no item."""
    return all(value is False for value in item.values())


def _message(error: jsonschema.ValidationError, owner: Field | Group) -> str:
    bound = error.validator_value
    a_bound = error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
    if a_bound and isinstance(owner, Field) and owner.kind == "money" and isinstance(bound, int):
        bound = format_money(bound, owner.currency)  # the merchant typed yuan: say the bound in yuan
    messages = {
        "required": _("This field is required."),
        "minimum": _("Must be at least %(bound)s.", bound=bound),
        "maximum": _("Must be at most %(bound)s.", bound=bound),
        "exclusiveMinimum": _("Must be more than %(bound)s.", bound=bound),
        "exclusiveMaximum": _("Must be less than %(bound)s.", bound=bound),
        "minLength": _("Use at least %(bound)s characters.", bound=bound),
        "maxLength": _("Use at most %(bound)s characters.", bound=bound),
        "minItems": _("Give at least %(bound)s.", bound=bound),
        "maxItems": _("Give at most %(bound)s.", bound=bound),
        "enum": _("Choose one of the options."),
        "const": _("Choose one of the options."),
        "type": _("This value has the wrong type."),
        "pattern": _("This does not have the expected format."),
        "minProperties": _("Fill in at least %(bound)s of these.", bound=bound),
    }
    return messages.get(str(error.validator), error.message)


def _owner(form: ConfigForm, path: Path) -> Field | Group:
    """The deepest field or group the schema error at ``path`` (a path in the read config) belongs to."""
    node = form.root
    for part in path:
        if isinstance(node, Field):
            break
        if node.rows is not None:
            if not isinstance(part, int) or part >= len(node.kept):
                break
            node = node.rows[node.kept[part]]
            continue
        child = next((c for c in node.children if c.path[-1] == part), None)
        if child is None:
            break
        node = child
    return node


def read_form(
    schema: Mapping[str, Any] | None, config: Mapping[str, Any], form_data: Mapping[str, str], currency: str
) -> tuple[ConfigForm, dict[str, Any] | None]:
    """The form as posted, and the config it gives (None while any field has a problem, shown next to it)."""
    form = build_form(schema, config, currency)
    collected = _collect(form.root, form_data)
    if collected is _MISSING:
        collected = {}
    if not isinstance(collected, dict):
        form.root.errors.append(_("The configuration must be a JSON object."))
        return form, None
    if schema:
        unreadable = {id(node) for node in form.nodes() if node.errors}  # their schema errors would only repeat
        for error in jsonschema.Draft202012Validator(schema).iter_errors(collected):
            path: Path = tuple(error.absolute_path)
            if error.validator == "required":
                missing = next((name for name in error.validator_value if name not in error.instance), None)
                path = (*path, missing) if missing is not None else path
            owner = _owner(form, path)
            message = _message(error, owner)
            if id(owner) not in unreadable and message not in owner.errors:
                owner.errors.append(message)
    return form, None if form.has_errors else collected
