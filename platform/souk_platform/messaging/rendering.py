"""Rendering message templates in Jinja's sandbox, with limits (docs/architecture.md §5.11).

Plain Python, no Flask. A template sees a fixed set of variables (``FIXED_VARIABLES``) plus the ones it
declares for its callers. ``check_template`` runs when a template is saved: a syntax error, a variable
neither fixed nor declared, or anything the sandbox refuses (``{{ ''.__class__ }}``) is a problem naming
where. ``render`` applies the sandbox again at send time with a size and a time budget: unsafe attribute
access raises, ``range`` is bounded, ``*`` and ``**`` cannot build huge values, and the output is cut off
(an error) past ``MAX_OUTPUT_CHARS`` or ``MAX_RENDER_SECONDS``.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Iterator
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

FIXED_VARIABLES: dict[str, str] = {
    "customer_name": "The customer's name",
    "level": "The customer's member level, 1 to 5",
    "level_name": "The name of the customer's level (V1–V5 unless the shop named them)",
    "points_balance": "The customer's points balance",
    "coupon_code": "The coupon code the caller gives (empty when none)",
    "coupon_name": "The coupon's name the caller gives (empty when none)",
    "shop_name": "The shop's name",
}
MAX_SUBJECT_CHARS = 500
MAX_BODY_CHARS = 20_000
MAX_OUTPUT_CHARS = 64 * 1024
MAX_RENDER_SECONDS = 0.5
MAX_RANGE = 1_000
MAX_LOOP_DEPTH = 2
MAX_VARIABLES = 20
MAX_VARIABLE_CHARS = 1_000
SAMPLE_VALUES: dict[str, Any] = {
    "customer_name": "李雷",
    "level": 3,
    "level_name": "V3",
    "points_balance": 1200,
    "coupon_code": "SOUK2026",
    "coupon_name": "满100减10",
    "shop_name": "Souk",
}


class TemplateProblem(ValueError):
    """A template the sandbox will not render; ``field`` names the part at fault (subject, body,
    ``variables.<name>``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() is limited to {MAX_RANGE} numbers in a template")
    return numbers


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox with ``*`` and ``**`` checked, so no template builds a value too big to send."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > 100:
                raise SecurityError("exponents above 100 are not allowed in a template")
            return operator.pow(left, right)
        for size, count in ((left, right), (right, left)):
            if isinstance(size, str | list | tuple) and isinstance(count, int) and len(size) * count > MAX_OUTPUT_CHARS:
                raise SecurityError("the template builds a value longer than a message may be")
        return operator.mul(left, right)


def _environment(autoescape: bool) -> _Sandbox:
    env = _Sandbox(autoescape=autoescape, undefined=StrictUndefined, keep_trailing_newline=True)
    env.globals = {"range": _bounded_range}
    return env


_TEXT = _environment(False)
_HTML = _environment(True)


def _loop_depth(node: nodes.Node, depth: int = 0) -> int:
    here = depth + 1 if isinstance(node, nodes.For) else depth
    return max([here, *(_loop_depth(child, here) for child in node.iter_child_nodes())])


def _parse(text: str, field: str) -> nodes.Template:
    try:
        ast = _TEXT.parse(text)
    except TemplateError as error:
        line = getattr(error, "lineno", None)
        where = f" (line {line})" if line else ""
        raise TemplateProblem(field, f"Not a valid template{where}: {error.message or error}") from None
    if _loop_depth(ast) > MAX_LOOP_DEPTH:
        raise TemplateProblem(field, f"Loops may be nested at most {MAX_LOOP_DEPTH} deep.")
    return ast


def check_template(*, subject: str, body: str, variables: list[str], html: bool) -> None:
    """Raise ``TemplateProblem`` unless the template parses, uses only known variables and renders in
    the sandbox with sample values."""
    for field, text, limit in (("subject", subject, MAX_SUBJECT_CHARS), ("body", body, MAX_BODY_CHARS)):
        if len(text) > limit:
            raise TemplateProblem(field, f"At most {limit} characters.")
    known = set(FIXED_VARIABLES) | set(variables)
    for field, text in (("subject", subject), ("body", body)):
        ast = _parse(text, field)
        unknown = sorted(meta.find_undeclared_variables(ast) - known - set(_TEXT.globals))
        if unknown:
            raise TemplateProblem(
                field,
                f"The template uses {', '.join(unknown)}, which is not a variable it can see: use one of "
                f"{', '.join(sorted(FIXED_VARIABLES))} or declare it in variables.",
            )
    samples = {**SAMPLE_VALUES, **{name: f"<{name}>" for name in variables}}
    render(subject=subject, body=body, values=samples, html=html)


def _render_one(text: str, values: dict[str, Any], env: _Sandbox, field: str, deadline: float) -> str:
    try:
        template = env.from_string(text)
        parts: list[str] = []
        size = 0
        chunks: Iterator[str] = template.generate(values)
        for chunk in chunks:
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateProblem(field, f"The rendered text is longer than {MAX_OUTPUT_CHARS} characters.")
            if time.monotonic() > deadline:
                raise TemplateProblem(field, "The template took too long to render.")
            parts.append(chunk)
        return "".join(parts)
    except SecurityError as error:
        raise TemplateProblem(field, f"The sandbox refused the template: {error}") from None
    except TemplateProblem:
        raise
    except TemplateError as error:
        raise TemplateProblem(field, f"The template cannot be rendered: {error}") from None
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as error:
        raise TemplateProblem(field, f"The template cannot be rendered: {error}") from None


def render(*, subject: str, body: str, values: dict[str, Any], html: bool) -> tuple[str, str]:
    """The rendered subject (never escaped: it is a header) and body (HTML-escaped values when ``html``)."""
    deadline = time.monotonic() + MAX_RENDER_SECONDS
    rendered_subject = _render_one(subject, values, _TEXT, "subject", deadline)
    rendered_body = _render_one(body, values, _HTML if html else _TEXT, "body", deadline)
    return " ".join(rendered_subject.split()), rendered_body
