"""The canvas (营销画布) in the merchant back office (docs/architecture.md §5.12, §14): the journey list, the
template gallery, and a journey drawn as nodes and edges (server-rendered SVG, no script) with live counts; a
node's side form edits its parameters and links, a node is added after another or deleted, and the journey is
activated, paused, resumed or archived. Every change goes through ``journeys.services`` with the version the
page showed, so a stale page is refused and an active journey's graph stays valid. The journey's own settings
(re-entry, quiet hours, frequency cap, goal and exit rules) have their side form too, checked by the same
``journeys.graph.validate`` the API uses: a bad setting is a 422 shown beside its field and nothing is saved.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from souk_platform.behaviour.services import EVENT_TYPES as BEHAVIOUR_EVENT_TYPES
from souk_platform.benefits.models import BenefitPackage
from souk_platform.core.clock import app_now
from souk_platform.core.errors import SoukError
from souk_platform.coupons.models import Coupon
from souk_platform.db import db
from souk_platform.journeys import canvas, services
from souk_platform.journeys import graph as graphs
from souk_platform.journeys.errors import InvalidGraph
from souk_platform.journeys.models import JOURNEY_STATUSES, Journey
from souk_platform.journeys.templates import TEMPLATES
from souk_platform.messaging.models import MessageChannel, MessageTemplate
from souk_platform.shops.services import get_shop
from souk_platform.tags.models import Segment, Tag
from souk_platform.web.auth import shop_role_required
from souk_platform.web.forms import refuse_nul_characters
from souk_platform.web.links import add_link
from souk_platform.web.refusals import refusal
from souk_platform.webhooks.catalogue import CATALOGUE

bp = Blueprint("shop_journeys", __name__)
bp.before_request(refuse_nul_characters)

NODE_W, NODE_H, PAD = 180, 64, 40
PAGE_SIZE = 100

TYPE_NAMES = {
    "trigger": _l("Trigger"),
    "wait": _l("Wait"),
    "condition": _l("Condition"),
    "split": _l("A/B split"),
    "action": _l("Action"),
    "exit": _l("Exit"),
}
KIND_NAMES = {
    "event": _l("On an event"),
    "behaviour": _l("On a behaviour event"),
    "segment_entered": _l("On entering a segment"),
    "date": _l("On a date"),
    "schedule": _l("On a schedule"),
    "duration": _l("For a while"),
    "time_of_day": _l("Until a time of day"),
    "issue_coupon": _l("Give a coupon"),
    "grant_benefit": _l("Grant a benefit package"),
    "award_points": _l("Award points"),
    "add_tag": _l("Add a tag"),
    "remove_tag": _l("Remove a tag"),
    "send_message": _l("Send a message"),
    "notify_apps": _l("Notify apps"),
}
WAIT_KIND_NAMES = {"event": _l("Until an event"), "date": _l("Until a date")}
STATUS_NAMES = {
    "draft": _l("Draft"),
    "active": _l("Running"),
    "paused": _l("Paused"),
    "archived": _l("Archived"),
}
ACTION_NAMES = {"activate": _l("Activate"), "pause": _l("Pause"), "resume": _l("Resume"), "archive": _l("Archive")}
PARAM_NAMES = {
    "event": _l("Event"),
    "filter": _l("Filter on the event's data (JSON)"),
    "segment_id": _l("Segment"),
    "attribute": _l("Date"),
    "days_before": _l("Days before"),
    "time": _l("Time of day"),
    "at": _l("At (date and time)"),
    "repeat": _l("Repeat"),
    "seconds": _l("Wait for"),
    "timeout_seconds": _l("Give up after"),
    "condition": _l("Condition (JSON)"),
    "variants": _l("Variants and weights (JSON)"),
    "holdout_percent": _l("Holdout: percent of customers who get nothing"),
    "coupon_id": _l("Coupon"),
    "package_id": _l("Benefit package"),
    "points": _l("Points"),
    "tag_id": _l("Tag"),
    "channel_id": _l("Message channel"),
    "template_id": _l("Message template"),
    "label": _l("Label for apps"),
}
EXIT_NAMES = {
    "default": _l("next"),
    "yes": _l("yes"),
    "no": _l("no"),
    "event": _l("the event happened"),
    "timeout": _l("timed out"),
    "holdout": _l("holdout"),
}
NOUNS = {
    "coupon": _l("Choose a coupon of this shop."),
    "benefit package": _l("Choose a benefit package of this shop."),
    "tag": _l("Choose a tag of this shop."),
    "segment": _l("Choose a segment of this shop."),
    "message channel": _l("Choose a message channel of this shop."),
    "message template": _l("Choose a message template of this shop."),
}
MESSAGES = {
    "No path from the trigger reaches this node.": _l("No path from the trigger reaches this node."),
    "No path from this node ends at an exit node.": _l("No path from this node ends at an exit node."),
    "Required.": _l("Required."),
    "Leads to a node that does not exist.": _l("Leads to a node that does not exist."),
    "No coupon of this shop has this id.": _l("No coupon of this shop has this id."),
    'never, after_exit, or {"after_days": 1 to 3650}.': _l("Re-entry after 1 to 3650 days."),
    'null, or {"start": "22:00", "end": "08:00"} in the shop\'s timezone.': _l(
        "Both times as HH:MM (e.g. 22:00 and 08:00), not the same, or both empty."
    ),
    'null, or {"messages": 1–100, "days": 1–365} per customer and channel.': _l(
        "1 to 100 messages in 1 to 365 days, or both empty."
    ),
    "Days after entering, 1 to 365.": _l("Days after entering, 1 to 365."),
    "event or segment_left.": _l("Each exit rule is an event or leaving a segment."),
}
#: the settings form's fields, by the first parts of a problem's path
SETTINGS_FIELDS = {
    "settings.reentry": "reentry",
    "settings.quiet_hours": "quiet",
    "settings.frequency_cap": "cap",
    "settings": "reentry",
    "goal.event": "goal_event",
    "goal.filter": "goal_filter",
    "goal.within_days": "goal_within_days",
    "goal": "goal_event",
    "exit": "exit",
}
REENTRY_NAMES = {
    "never": _l("Never: once per customer"),
    "after_exit": _l("Again once they have left"),
    "after_days": _l("Again after some days"),
}
UNITS = ((86400, _l("days")), (3600, _l("hours")), (60, _l("minutes")))


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_journeys.journeys", _l("Journeys"))


def exit_name(name: str) -> str:
    """An exit as the merchant reads it; a split's variant keys are shown as they are."""
    return str(EXIT_NAMES[name]) if name in EXIT_NAMES else name


def problem_text(message: str) -> tuple[str, str | None]:
    """A validation message in the page's language, and the service's English words when there is no
    translation (shown apart, marked as untranslated)."""
    if message in MESSAGES:
        return str(MESSAGES[message]), None
    for noun, text in NOUNS.items():
        if message == f"Choose a {noun} of this shop.":
            return str(text), None
    if message.startswith("Connect the ") and message.endswith(" exit to a node."):
        exit = message.removeprefix("Connect the ").removesuffix(" exit to a node.")
        return _("Connect the exit “%(exit)s” to a node.", exit=exit_name(exit)), None
    return _("Not valid:"), message


def _language() -> str:
    return "zh" if str(get_locale() or "").startswith("zh") else "en"


def _journey(shop_id: str, journey_id: str) -> Journey:
    return services.get_journey(db.session, shop_id=shop_id, journey_id=journey_id)


def _version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() else None


# ---- the list and the gallery ----


@bp.get("/shops/<shop_id>/journeys")
@shop_role_required("owner", "staff")
def journeys(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    status = request.args.get("status")
    if status and status not in JOURNEY_STATUSES:
        abort(400)
    rows = db.session.scalars(
        services.journeys_stmt(shop_id, status=status).order_by(Journey.id.desc()).limit(PAGE_SIZE)
    )
    return render_template(
        "journeys/list.html",
        shop=shop,
        journeys=list(rows),
        status=status,
        statuses=JOURNEY_STATUSES,
        status_names=STATUS_NAMES,
    )


@bp.get("/shops/<shop_id>/journeys/templates")
@shop_role_required("owner", "staff")
def gallery(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    language = _language()
    templates = [
        {
            "key": t.key,
            "name": t.name(language),
            "description": t.description(language),
            "steps": len(t.graph["nodes"]),
        }
        for t in TEMPLATES
    ]
    return render_template("journeys/gallery.html", shop=shop, templates=templates)


@bp.post("/shops/<shop_id>/journeys/templates/<key>")
@shop_role_required("owner", "staff")
def use_template(shop_id: str, key: str) -> Response:
    """One click: a draft from the template, opened on the canvas."""
    journey = services.create_from_template(db.session, shop_id=shop_id, key=key, language=_language())
    db.session.commit()
    flash(_("Draft created: choose what the highlighted nodes need, then activate it."), "success")
    return redirect(url_for("shop_journeys.journey", shop_id=shop_id, journey_id=journey.id))


@bp.post("/shops/<shop_id>/journeys/new")
@shop_role_required("owner", "staff")
def new_journey(shop_id: str) -> Response:
    journey = services.create_journey(db.session, shop_id=shop_id, name=_("New journey"))
    db.session.commit()
    return redirect(url_for("shop_journeys.journey", shop_id=shop_id, journey_id=journey.id))


# ---- the canvas ----


def _summary(node: dict[str, Any]) -> str:
    """A node's second line on the canvas."""
    params = graphs.object_at(node, "params")
    kind = canvas.discriminator_of(node)
    if node.get("type") == "wait" and kind == "duration" and isinstance(params.get("seconds"), int):
        amount, unit = _in_units(params["seconds"])
        return f"{amount} {unit}"
    if kind in ("event", "behaviour") and isinstance(params.get("event"), str):
        return params["event"]  # the event type names itself (order.paid, cart_added)
    if node.get("type") == "wait" and kind in WAIT_KIND_NAMES:
        return str(WAIT_KIND_NAMES[kind])
    if kind:
        return str(KIND_NAMES.get(kind, kind))
    if node.get("type") == "split":
        variants = params["variants"] if isinstance(params.get("variants"), list) else []
        keys = [str(v.get("key")) for v in variants if isinstance(v, dict)]
        return " / ".join(keys) + (f" + {params.get('holdout_percent')}%" if params.get("holdout_percent") else "")
    return ""


def _in_units(seconds: int) -> tuple[int, str]:
    for size, name in UNITS:
        if seconds % size == 0:
            return seconds // size, str(name)
    return seconds, str(_("seconds"))


def drawing(
    journey_graph: dict[str, Any], problems: dict[str, list[str]], counts: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """Boxes and edges of the SVG, in page coordinates."""
    placed = canvas.layout(journey_graph)
    nodes = graphs.object_at(journey_graph, "nodes")
    min_x = min((p["x"] for p in placed.values()), default=0)
    min_y = min((p["y"] for p in placed.values()), default=0)
    boxes: dict[str, dict[str, Any]] = {}
    for node_id, node in nodes.items():
        if not isinstance(node, dict):
            continue
        x = placed[node_id]["x"] - min_x + PAD
        y = placed[node_id]["y"] - min_y + PAD
        boxes[node_id] = {
            "id": node_id,
            "x": x,
            "y": y,
            "type": node.get("type"),
            "title": node.get("label") or str(TYPE_NAMES.get(node.get("type", ""), node.get("type", "?"))),
            "summary": _summary(node),
            "bad": any(p == f"nodes.{node_id}" or p.startswith(f"nodes.{node_id}.") for p in problems),
            "count": counts.get(node_id, {"current": 0, "steps": 0}),
        }
    edges = []
    for node_id, node in nodes.items():
        nxt = node.get("next") if isinstance(node, dict) else None
        for name, target in (nxt or {}).items() if isinstance(nxt, dict) else ():
            if node_id in boxes and target in boxes:
                a, b = boxes[node_id], boxes[target]
                edges.append(
                    {
                        "x1": a["x"] + NODE_W / 2,
                        "y1": a["y"] + NODE_H,
                        "x2": b["x"] + NODE_W / 2,
                        "y2": b["y"],
                        "label": "" if name == "default" else exit_name(name),
                    }
                )
    width = max((b["x"] for b in boxes.values()), default=0) + NODE_W + PAD
    height = max((b["y"] for b in boxes.values()), default=0) + NODE_H + PAD
    return {"boxes": list(boxes.values()), "edges": edges, "width": width, "height": height, "w": NODE_W, "h": NODE_H}


def _options(shop_id: str) -> dict[str, list[tuple[str, str]]]:
    """The shop's objects a side form offers, by parameter kind."""
    session = db.session
    coupons = session.execute(
        sa.select(Coupon.id, Coupon.name)
        .where(Coupon.shop_id == shop_id, Coupon.distribution == "issued", Coupon.status == "active")
        .order_by(Coupon.id.desc())
        .limit(200)
    ).all()
    packages = session.execute(
        sa.select(BenefitPackage.id, BenefitPackage.name)
        .where(BenefitPackage.shop_id == shop_id, BenefitPackage.status == "active")
        .order_by(BenefitPackage.id.desc())
        .limit(200)
    ).all()
    tag_rows = session.execute(
        sa.select(Tag.id, Tag.name).where(Tag.shop_id == shop_id, Tag.kind != "rule").order_by(Tag.name).limit(200)
    ).all()
    segments = session.execute(
        sa.select(Segment.id, Segment.name).where(Segment.shop_id == shop_id).order_by(Segment.name).limit(200)
    ).all()
    catalogue = sorted(name for name, entry in CATALOGUE.items() if not entry.privacy)
    channels = session.execute(
        sa.select(MessageChannel.id, MessageChannel.name)
        .where(MessageChannel.shop_id == shop_id, MessageChannel.status == "active")
        .order_by(MessageChannel.name)
        .limit(200)
    ).all()
    templates = session.execute(
        sa.select(MessageTemplate.id, MessageTemplate.name)
        .where(MessageTemplate.shop_id == shop_id)
        .order_by(MessageTemplate.name)
        .limit(200)
    ).all()
    return {
        "message_channel": [(r.id, r.name) for r in channels],
        "message_template": [(r.id, r.name) for r in templates],
        "coupon": [(r.id, r.name) for r in coupons],
        "benefit_package": [(r.id, r.name) for r in packages],
        "tag": [(r.id, r.name) for r in tag_rows],
        "segment": [(r.id, r.name) for r in segments],
        "event": [(n, n) for n in catalogue],
        "behaviour_event": [(n, n) for n in BEHAVIOUR_EVENT_TYPES],
        "any_event": [(n, n) for n in catalogue] + [(n, n) for n in BEHAVIOUR_EVENT_TYPES],
        "date_attribute": [("birthday", str(_("Birthday"))), ("member_since", str(_("Membership anniversary")))],
        "repeat": [
            ("", str(_("Once"))),
            ("daily", str(_("Daily"))),
            ("weekly", str(_("Weekly"))),
            ("monthly", str(_("Monthly"))),
        ],
    }


def _field(param: graphs.Param, value: Any, options: dict[str, Any]) -> dict[str, Any]:
    """How the side form shows one parameter."""
    kind = param.kind
    field: dict[str, Any] = {"name": param.name, "kind": kind, "label": str(PARAM_NAMES.get(param.name, param.name))}
    if kind in ("filter", "condition", "variants"):
        field["widget"], field["value"] = "json", json.dumps(value if value is not None else [], ensure_ascii=False)
    elif kind == "seconds":
        amount, unit = (1, 86400)
        if isinstance(value, int):
            for size, _name in UNITS:
                if value % size == 0:
                    amount, unit = value // size, size
                    break
        field["widget"], field["value"], field["unit"] = "duration", amount, unit
    elif kind in options:
        field["widget"], field["value"] = "select", "" if value is None else value
    elif kind in ("days_before", "points", "percent"):
        field["widget"], field["value"] = "number", "" if value is None else value
    else:
        field["widget"], field["value"] = "text", "" if value is None else value
    return field


def _read_param(param: graphs.Param) -> Any:
    """One parameter from the side form, as the graph holds it (a value that does not parse is kept as typed,
    so validation names it)."""
    raw = request.form.get(f"p_{param.name}", "").strip()
    if param.kind in ("filter", "condition", "variants"):
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw
    if param.kind == "seconds":
        unit = request.form.get(f"p_{param.name}_unit", "86400")
        try:
            return round(float(raw) * int(unit))
        except ValueError:
            return raw or None
    if param.kind in ("days_before", "points"):
        return int(raw) if raw.lstrip("-").isdigit() else (raw or None)
    if param.kind == "percent":
        try:
            return float(raw) if "." in raw else int(raw) if raw else 0
        except ValueError:
            return raw
    return raw or None


@bp.get("/shops/<shop_id>/journeys/<journey_id>")
@shop_role_required("owner", "staff")
def journey(shop_id: str, journey_id: str) -> str:
    return _canvas_page(shop_id, journey_id)


def _canvas_page(
    shop_id: str,
    journey_id: str,
    refused: dict[str, list[str]] | None = None,
    typed_settings: dict[str, str] | None = None,
) -> str:
    """The canvas; ``refused``: the reasons a change was just refused, shown instead of the saved graph's;
    ``typed_settings``: the settings form as the merchant sent it (shown again beside its refusal)."""
    shop = get_shop(db.session, shop_id)
    current = _journey(shop_id, journey_id)
    problems = refused or graphs.validate(db.session, shop_id=shop_id, graph=current.graph)
    settings_errors: dict[str, list[tuple[str, list[str]]]] = {}
    for path, messages in problems.items():
        field = _settings_field(path)
        if field:
            settings_errors.setdefault(field, []).append((path, messages))
    counts = services.node_counts(db.session, current)
    nodes = current.graph.get("nodes", {})
    selected = request.args.get("node") or request.form.get("node")
    options = _options(shop_id)
    side = None
    if selected in nodes and isinstance(nodes[selected], dict):
        node = nodes[selected]
        spec = graphs.params_of(node) or ()
        params = graphs.object_at(node, "params")
        side = {
            "id": selected,
            "node": node,
            "type_name": TYPE_NAMES.get(node.get("type", ""), node.get("type")),
            "kind": canvas.discriminator_of(node),
            "kind_name": _summary(node),
            "fields": [_field(p, params.get(p.name), options) for p in spec],
            "exits": graphs.allowed_exits(node),
            "problems": {
                p: m for p, m in problems.items() if p == f"nodes.{selected}" or p.startswith(f"nodes.{selected}.")
            },
            "counts": counts.get(str(selected), {"current": 0, "steps": 0}),
        }
    return render_template(
        "journeys/canvas.html",
        shop=shop,
        journey=current,
        drawing=drawing(current.graph, problems, counts),
        problems=problems,
        side=side,
        options=options,
        moves=services.JOURNEY_STATES.moves_from(current.status),
        action_names=ACTION_NAMES,
        status_names=STATUS_NAMES,
        new_nodes=[(choice, _choice_name(choice)) for choice in canvas.choices()],
        node_ids=[n for n in nodes if n != selected],
        units=UNITS,
        exit_name=exit_name,
        problem_text=problem_text,
        settings=typed_settings if typed_settings is not None else _settings_values(current.graph),
        settings_errors=settings_errors,
        reentry_names=REENTRY_NAMES,
    )


def _choice_name(choice: str) -> str:
    node_type, _sep, kind = choice.partition(":")
    if node_type == "wait" and kind in WAIT_KIND_NAMES:
        return f"{TYPE_NAMES['wait']} · {WAIT_KIND_NAMES[kind]}"
    if kind:
        return f"{TYPE_NAMES[node_type]} · {KIND_NAMES.get(kind, kind)}"
    return str(TYPE_NAMES[node_type])


def _save_graph(shop_id: str, current: Journey, new_graph: dict[str, Any], node_id: str | None) -> Any:
    """Save through the service with the page's version; a refusal re-renders the canvas with its reasons."""
    try:
        services.update_journey(
            db.session,
            shop_id=shop_id,
            journey_id=current.id,
            changes={"graph": new_graph},
            expected_version=_version(),
        )
        db.session.commit()
    except InvalidGraph as error:
        db.session.rollback()
        flash(_("Not saved: an active journey's graph must stay valid. The problems are marked below."), "error")
        return _canvas_page(shop_id, current.id, refused=error.errors or {}), 422
    except SoukError as error:
        db.session.rollback()
        flash(refusal(error), "error")
        return redirect(url_for("shop_journeys.journey", shop_id=shop_id, journey_id=current.id, node=node_id))
    flash(_("Saved."), "success")
    return redirect(url_for("shop_journeys.journey", shop_id=shop_id, journey_id=current.id, node=node_id))


@bp.post("/shops/<shop_id>/journeys/<journey_id>/nodes/<node_id>")
@shop_role_required("owner", "staff")
def save_node(shop_id: str, journey_id: str, node_id: str) -> Any:
    current = _journey(shop_id, journey_id)
    node = current.graph.get("nodes", {}).get(node_id)
    if not isinstance(node, dict):
        abort(404)
    spec = graphs.params_of(node) or ()
    params: dict[str, Any] = {}
    field = graphs.DISCRIMINATOR.get(node.get("type", ""))
    if field and isinstance(node.get("params"), dict) and field in node["params"]:
        params[field] = node["params"][field]
    for param in spec:
        value = _read_param(param)
        if value is not None or param.required:
            params[param.name] = value
    links = {name: request.form.get(f"next_{name}", "") for name in graphs.allowed_exits({**node, "params": params})}
    label = request.form.get("label", "").strip() or None
    try:
        new_graph = canvas.set_node(current.graph, node_id, params=params, nxt=links, label=label)
    except canvas.CanvasEditError:
        abort(404)
    return _save_graph(shop_id, current, new_graph, node_id)


@bp.post("/shops/<shop_id>/journeys/<journey_id>/nodes/<node_id>/add")
@shop_role_required("owner", "staff")
def add_node(shop_id: str, journey_id: str, node_id: str) -> Any:
    current = _journey(shop_id, journey_id)
    try:
        new_graph, new_id = canvas.insert_after(
            current.graph, node_id, request.form.get("exit", "default"), request.form.get("choice", "")
        )
    except canvas.CanvasEditError as error:
        flash(str(error), "error")
        return redirect(url_for("shop_journeys.journey", shop_id=shop_id, journey_id=journey_id, node=node_id))
    return _save_graph(shop_id, current, new_graph, new_id)


@bp.post("/shops/<shop_id>/journeys/<journey_id>/nodes/<node_id>/delete")
@shop_role_required("owner", "staff")
def delete_node(shop_id: str, journey_id: str, node_id: str) -> Any:
    current = _journey(shop_id, journey_id)
    try:
        new_graph = canvas.remove_node(current.graph, node_id)
    except canvas.CanvasEditError as error:
        flash(str(error), "error")
        return redirect(url_for("shop_journeys.journey", shop_id=shop_id, journey_id=journey_id, node=node_id))
    return _save_graph(shop_id, current, new_graph, None)


@bp.post("/shops/<shop_id>/journeys/<journey_id>/<any(activate,pause,resume,archive):action>")
@shop_role_required("owner", "staff")
def change_status(shop_id: str, journey_id: str, action: str) -> Any:
    current = _journey(shop_id, journey_id)
    try:
        services.change_status(
            db.session,
            shop_id=shop_id,
            journey_id=current.id,
            action=action,
            expected_version=_version(),
            now=app_now(),
        )
        db.session.commit()
    except InvalidGraph as error:
        db.session.rollback()
        flash(_("The journey cannot be activated yet: finish the nodes marked below."), "error")
        return _canvas_page(shop_id, journey_id, refused=error.errors or {}), 422
    except SoukError as error:
        db.session.rollback()
        flash(refusal(error), "error")
    else:
        flash(_("The journey is now %(status)s.", status=STATUS_NAMES[current.status]), "success")
    return redirect(url_for("shop_journeys.journey", shop_id=shop_id, journey_id=journey_id))


@bp.post("/shops/<shop_id>/journeys/<journey_id>/rename")
@shop_role_required("owner", "staff")
def rename(shop_id: str, journey_id: str) -> Any:
    current = _journey(shop_id, journey_id)
    try:
        services.update_journey(
            db.session,
            shop_id=shop_id,
            journey_id=current.id,
            changes={"name": request.form.get("name", ""), "description": request.form.get("description")},
            expected_version=_version(),
        )
        db.session.commit()
    except SoukError as error:
        db.session.rollback()
        flash(refusal(error), "error")
    return redirect(url_for("shop_journeys.journey", shop_id=shop_id, journey_id=journey_id))


# ---- the journey's settings ----


def _settings_field(path: str) -> str | None:
    """The settings form's field a problem's path belongs to; None for a node's problem."""
    parts = path.split(".")
    for length in (2, 1):
        field = SETTINGS_FIELDS.get(".".join(parts[:length]))
        if field:
            return field
    return None


def _settings_values(graph: dict[str, Any]) -> dict[str, str]:
    """The settings form's fields as the saved graph holds them (text, as the form shows them)."""
    settings = graphs.object_at(graph, "settings")
    reentry = settings.get("reentry", "never")
    quiet = graphs.object_at(settings, "quiet_hours")
    cap = graphs.object_at(settings, "frequency_cap")
    goal = graphs.object_at(graph, "goal")
    rules = graph.get("exit")

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    return {
        "reentry": "after_days" if isinstance(reentry, dict) else text(reentry),
        "reentry_days": text(reentry.get("after_days")) if isinstance(reentry, dict) else "",
        "quiet_start": text(quiet.get("start")),
        "quiet_end": text(quiet.get("end")),
        "cap_messages": text(cap.get("messages")),
        "cap_days": text(cap.get("days")),
        "goal_event": text(goal.get("event")) if goal else "",
        "goal_filter": json.dumps(goal.get("filter", []), ensure_ascii=False) if goal else "[]",
        "goal_within_days": text(goal.get("within_days")) if goal else "",
        "exit": json.dumps(rules if rules is not None else [], ensure_ascii=False),
    }


def _number(raw: str) -> Any:
    """A whole number as typed; anything else is kept as typed, so validation names it."""
    return int(raw) if raw.isascii() and raw.isdigit() else raw  # not "²": str.isdigit takes it, int() does not


def _json(raw: str, empty: Any) -> Any:
    try:
        return json.loads(raw) if raw else empty
    except (ValueError, RecursionError):  # not JSON, or nested past Python's limit: validation names it
        return raw


def _read_settings(typed: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any] | None, Any]:
    """The graph's ``settings``, ``goal`` and ``exit`` from the settings form (values kept as typed when they do
    not parse, so the graph's own validation refuses them with its reasons)."""
    settings: dict[str, Any] = {}
    reentry = typed["reentry"] or "never"
    settings["reentry"] = {"after_days": _number(typed["reentry_days"])} if reentry == "after_days" else reentry
    if typed["quiet_start"] or typed["quiet_end"]:
        settings["quiet_hours"] = {"start": typed["quiet_start"], "end": typed["quiet_end"]}
    if typed["cap_messages"] or typed["cap_days"]:
        settings["frequency_cap"] = {"messages": _number(typed["cap_messages"]), "days": _number(typed["cap_days"])}
    goal = None
    if typed["goal_event"] or typed["goal_within_days"]:
        goal = {
            "event": typed["goal_event"] or None,
            "filter": _json(typed["goal_filter"], []),
            "within_days": _number(typed["goal_within_days"]),
        }
    return settings, goal, _json(typed["exit"], [])


@bp.post("/shops/<shop_id>/journeys/<journey_id>/settings")
@shop_role_required("owner", "staff")
def save_settings(shop_id: str, journey_id: str) -> Any:
    """The journey's settings, goal and exit rules; a refusal is a 422 beside the fields, with nothing saved."""
    current = _journey(shop_id, journey_id)
    typed = {name: request.form.get(f"s_{name}", "").strip() for name in _settings_values({})}
    settings, goal, exit_rules = _read_settings(typed)
    new_graph = canvas.set_settings(current.graph, settings=settings, goal=goal, exit_rules=exit_rules)
    problems = {
        path: messages
        for path, messages in graphs.validate(db.session, shop_id=shop_id, graph=new_graph).items()
        if _settings_field(path)
    }
    if problems:
        flash(_("Not saved: the journey's settings are marked below."), "error")
        return _canvas_page(shop_id, journey_id, refused=problems, typed_settings=typed), 422
    return _save_graph(shop_id, current, new_graph, None)
