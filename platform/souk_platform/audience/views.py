"""The merchant's segment builder: fields from the registry, AND/OR groups, the reach as the condition changes.

The page posts the condition it builds (the API's shape) to two JSON endpoints of the signed-in session
(CSRF-checked like every form): one estimates the reach, one saves the segment. Validation, reference
checks and counting are the API's own (docs/architecture.md §5.8).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from souk_platform.api.problems import _flatten
from souk_platform.audience.fields import GROUPS, REGISTRY
from souk_platform.audience.schemas import load_condition_group
from souk_platform.catalog.categories import category_tree
from souk_platform.core.errors import SoukError
from souk_platform.db import db
from souk_platform.shops.services import get_shop
from souk_platform.tags import services as tag_services
from souk_platform.tags.models import Segment
from souk_platform.web.auth import shop_role_required
from souk_platform.web.links import add_link

bp = Blueprint("shop_segments", __name__)


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_segments.builder", _l("Segment builder"))


def _chinese() -> bool:
    return str(get_locale() or "").startswith("zh")


def _fields() -> list[dict[str, Any]]:
    zh = _chinese()
    return [
        {
            "key": f.key,
            "group": GROUPS[f.group][0 if zh else 1],
            "name": f.name_zh if zh else f.name_en,
            "definition": f.definition_zh if zh else f.definition_en,
            "type": f.type,
            "cmps": [[cmp, kind] for cmp, kind in f.cmps.items()],
            "params": [p for p in f.params if p in ("window_days", "category_id")],
            "choices": list(f.choices),
        }
        for f in REGISTRY.values()
        if not f.legacy and f.type != "tag"
    ]


@bp.get("/shops/<shop_id>/segments/builder")
@shop_role_required("owner", "staff")
def builder(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    categories = [(node.id, " / ".join(node.path)) for node in category_tree(db.session, shop_id=shop_id)]
    segments = db.session.scalars(
        sa.select(Segment).where(Segment.shop_id == shop_id).order_by(Segment.id.desc()).limit(50)
    ).all()
    return render_template(
        "audience/builder.html", shop=shop, fields=_fields(), categories=categories, segments=segments
    )


def _condition() -> tuple[dict[str, Any] | None, Any]:
    body = request.get_json(silent=True) or {}
    try:
        return load_condition_group(body.get("condition")), None
    except ma.ValidationError as err:
        return None, (jsonify(errors=_flatten(err.messages, "condition")), 422)


@bp.post("/shops/<shop_id>/segments/builder/estimate")
@shop_role_required("owner", "staff")
def estimate(shop_id: str) -> Any:
    condition, problem = _condition()
    if condition is None:
        return problem
    now = current_app.extensions["souk.clock"].now()
    try:
        count = tag_services.estimate_reach(db.session, shop_id=shop_id, condition=condition, now=now)
    except SoukError as err:
        return jsonify(errors=getattr(err, "errors", None) or {"condition": [str(err)]}), 422
    return jsonify(count=count)


@bp.post("/shops/<shop_id>/segments/builder/save")
@shop_role_required("owner", "staff")
def save(shop_id: str) -> Any:
    condition, problem = _condition()
    if condition is None:
        return problem
    name = str((request.get_json(silent=True) or {}).get("name") or "").strip()
    if not name or len(name) > 100:
        return jsonify(errors={"name": [_("Give the segment a name of at most 100 characters.")]}), 422
    try:
        segment = tag_services.create_segment(
            db.session, shop_id=shop_id, name=name, description=None, condition=condition
        )
        db.session.commit()
    except SoukError as err:
        db.session.rollback()
        return jsonify(errors=getattr(err, "errors", None) or {"name": [str(err)]}), 422
    return jsonify(id=segment.id, name=segment.name), 201
