"""Message templates (docs/architecture.md §5.11): saved only when the sandbox can render them, previewed
for a chosen customer, and the values every template sees."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from souk_platform.core.versions import check_version
from souk_platform.customers.models import Customer
from souk_platform.customers.services import get_customer
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.members.models import MemberLevelConfig
from souk_platform.messaging import rendering
from souk_platform.messaging.errors import InvalidMessage, InvalidTemplate, TemplateNotFound
from souk_platform.messaging.models import CHANNEL_KINDS, Message, MessageTemplate
from souk_platform.points.services import points_balance
from souk_platform.shops.models import Shop

_VARIABLE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def template_view(template: MessageTemplate) -> dict[str, Any]:
    return {
        "id": template.id,
        "name": template.name,
        "channel_kind": template.channel_kind,
        "subject": template.subject,
        "body": template.body,
        "variables": template.variables,
        "version": template.version,
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }


def _payload(template: MessageTemplate) -> dict[str, Any]:
    view = template_view(template)
    view["created_at"] = template.created_at.isoformat()
    view["updated_at"] = template.updated_at.isoformat() if template.updated_at else None
    return view


def templates_stmt(shop_id: str, *, channel_kind: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(MessageTemplate).where(MessageTemplate.shop_id == shop_id)
    if channel_kind:
        stmt = stmt.where(MessageTemplate.channel_kind == channel_kind)
    return stmt


def get_template(session: DbSession, *, shop_id: str, template_id: str) -> MessageTemplate:
    template = session.scalar(
        sa.select(MessageTemplate).where(MessageTemplate.id == template_id, MessageTemplate.shop_id == shop_id)
    )
    if template is None:
        raise TemplateNotFound(f"No message template {template_id} in this shop.")
    return template


def check_variables(names: Any) -> list[str]:
    """The variables a template declares for callers: names like ``order_no``, not a fixed one."""
    if not isinstance(names, list | tuple) or len(names) > rendering.MAX_VARIABLES:
        raise InvalidTemplate(
            "Too many variables.", errors={"variables": [f"At most {rendering.MAX_VARIABLES} variables."]}
        )
    errors: dict[str, list[str]] = {}
    for index, name in enumerate(names):
        if not isinstance(name, str) or not _VARIABLE.match(name):
            errors[f"variables.{index}"] = ["Lowercase letters, digits and _ (starting with a letter), up to 40."]
        elif name in rendering.FIXED_VARIABLES:
            errors[f"variables.{index}"] = [f"{name} is always there: it need not be declared."]
    if errors:
        raise InvalidTemplate("The variables are not valid.", errors=errors)
    return sorted(set(names))


def _check(kind: str, subject: str, body: str, variables: list[str]) -> None:
    if kind not in CHANNEL_KINDS:
        raise InvalidTemplate("Unknown channel kind.", errors={"channel_kind": [f"One of {', '.join(CHANNEL_KINDS)}."]})
    if not body.strip():
        raise InvalidTemplate("The body cannot be blank.", errors={"body": ["Write the message."]})
    if kind == "email" and not subject.strip():
        raise InvalidTemplate("An email needs a subject.", errors={"subject": ["Write a subject."]})
    try:
        rendering.check_template(subject=subject, body=body, variables=variables, html=kind == "email")
    except rendering.TemplateProblem as problem:
        raise InvalidTemplate(problem.message, errors={problem.field: [problem.message]}) from None


def _clean_name(name: Any) -> str:
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned or not cleaned.isprintable() or len(cleaned) > 100:
        raise InvalidTemplate("The name cannot be blank.", errors={"name": ["Give the template a name."]})
    return cleaned


def create_template(session: DbSession, *, shop_id: str, fields: dict[str, Any]) -> MessageTemplate:
    """Add a template the sandbox can render; 422 naming the field (and variable) otherwise."""
    name = _clean_name(fields.get("name"))
    kind = fields.get("channel_kind") or ""
    subject, body = fields.get("subject") or "", fields.get("body") or ""
    variables = check_variables(fields.get("variables") or [])
    _check(kind, subject, body, variables)
    template = MessageTemplate(
        shop_id=shop_id, name=name, channel_kind=kind, subject=subject, body=body, variables=variables
    )
    session.add(template)
    session.flush()
    _emit(session, template, "message_template.created")
    return template


def update_template(
    session: DbSession, *, shop_id: str, template_id: str, changes: dict[str, Any], expected_version: int | None
) -> MessageTemplate:
    template = get_template(session, shop_id=shop_id, template_id=template_id)
    check_version(template.version, expected_version)
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = _clean_name(changes["name"])
    for key in ("channel_kind", "subject", "body"):
        if key in changes:
            values[key] = changes[key] or ""
    if "variables" in changes:
        values["variables"] = check_variables(changes["variables"] or [])
    merged = {key: values.get(key, getattr(template, key)) for key in ("channel_kind", "subject", "body", "variables")}
    _check(merged["channel_kind"], merged["subject"], merged["body"], merged["variables"])
    changed = [key for key, value in values.items() if getattr(template, key) != value]
    if not changed:
        return template
    for key in changed:
        setattr(template, key, values[key])
    session.flush()
    _emit(session, template, "message_template.updated")
    return template


def delete_template(session: DbSession, *, shop_id: str, template_id: str, expected_version: int | None) -> None:
    """Delete a template; messages made from it keep their rendered text (and forget the template)."""
    template = get_template(session, shop_id=shop_id, template_id=template_id)
    check_version(template.version, expected_version)
    payload = _payload(template)
    session.execute(
        sa.update(Message)
        .where(Message.shop_id == shop_id, Message.template_id == template.id)
        .values(template_id=None)
        .execution_options(synchronize_session=False)
    )
    session.delete(template)
    session.flush()
    emit(
        session,
        shop_id=shop_id,
        type="message_template.deleted",
        subject_type="message_template",
        subject_id=template_id,
        payload=payload,
    )


def _emit(session: DbSession, template: MessageTemplate, type: str) -> None:
    emit(
        session,
        shop_id=template.shop_id,
        type=type,
        subject_type="message_template",
        subject_id=template.id,
        payload=_payload(template),
    )


# ---- values and rendering ----


def check_caller_values(variables: Any, declared: list[str]) -> dict[str, Any]:
    """The caller's values: short scalars only, named like variables; every declared one given."""
    if variables is None:
        variables = {}
    if not isinstance(variables, dict) or len(variables) > rendering.MAX_VARIABLES + 2:
        raise InvalidMessage("variables is an object of up to 20 values.", errors={"variables": ["Too many."]})
    errors: dict[str, list[str]] = {}
    for name, value in variables.items():
        if not isinstance(name, str) or not _VARIABLE.match(name):
            errors[f"variables.{name}"] = ["Names are lowercase letters, digits and _."]
        elif name in rendering.FIXED_VARIABLES and name not in ("coupon_code", "coupon_name"):
            errors[f"variables.{name}"] = [f"{name} comes from the customer and the shop; it cannot be given."]
        elif value is not None and not isinstance(value, str | int | float | bool):
            errors[f"variables.{name}"] = ["A string, number or boolean."]
        elif isinstance(value, str) and len(value) > rendering.MAX_VARIABLE_CHARS:
            errors[f"variables.{name}"] = [f"At most {rendering.MAX_VARIABLE_CHARS} characters."]
    for name in declared:
        if name not in variables:
            errors[f"variables.{name}"] = [f"The template needs {name}."]
    if errors:
        raise InvalidMessage("The template's variables are not all given.", errors=errors)
    return dict(variables)


def customer_values(session: DbSession, *, shop: Shop, customer: Customer) -> dict[str, Any]:
    """The fixed variables every template sees, for one customer."""
    config = session.scalar(sa.select(MemberLevelConfig).where(MemberLevelConfig.shop_id == shop.id))
    names = {entry.get("level"): entry.get("name") for entry in (config.levels if config else [])}
    return {
        "customer_name": customer.name,
        "level": customer.level,
        "level_name": names.get(customer.level) or f"V{customer.level}",
        "points_balance": points_balance(session, shop_id=shop.id, customer_id=customer.id),
        "coupon_code": "",
        "coupon_name": "",
        "shop_name": shop.name,
    }


def render_for(
    session: DbSession,
    *,
    shop: Shop,
    customer: Customer,
    kind: str,
    subject: str,
    body: str,
    declared: list[str],
    variables: Any,
) -> tuple[str, str]:
    """Subject and body rendered for ``customer``; 422 when a value is missing or the sandbox refuses."""
    values = {**customer_values(session, shop=shop, customer=customer), **check_caller_values(variables, declared)}
    try:
        return rendering.render(subject=subject, body=body, values=values, html=kind == "email")
    except rendering.TemplateProblem as problem:
        raise InvalidMessage(problem.message, errors={problem.field: [problem.message]}) from None


def preview_template(
    session: DbSession, *, shop_id: str, template_id: str, customer_id: str, variables: Any
) -> dict[str, Any]:
    """The template rendered for one customer, as it would be sent now; nothing is sent or written."""
    template = get_template(session, shop_id=shop_id, template_id=template_id)
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id)
    shop = session.get(Shop, shop_id)
    assert shop is not None
    given = dict(variables or {})
    for name in template.variables:  # a preview shows where a caller's value goes
        given.setdefault(name, f"{{{{ {name} }}}}")
    subject, body = render_for(
        session,
        shop=shop,
        customer=customer,
        kind=template.channel_kind,
        subject=template.subject,
        body=template.body,
        declared=template.variables,
        variables=given,
    )
    return {"template_id": template.id, "customer_id": customer.id, "subject": subject, "body": body}
