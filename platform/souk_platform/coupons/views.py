"""Merchant pages for coupons (docs/architecture.md §5.9): the list, creating one with amounts typed in
yuan, issuing an issued coupon to a segment or a list with a progress bar, an issue's per-customer
results, and a customer's wallet (``coupons/_wallet.html`` is the partial the customer 360 page includes).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from souk_platform.core.clock import app_now
from souk_platform.core.errors import SoukError
from souk_platform.core.money import to_minor_units
from souk_platform.coupons import issues, services, wallet
from souk_platform.coupons.errors import InvalidCoupon
from souk_platform.coupons.forms import CouponForm, IssueForm
from souk_platform.coupons.models import Coupon, CouponIssue, CouponIssueResult, CustomerCoupon
from souk_platform.customers.models import Customer
from souk_platform.db import db
from souk_platform.jobs.runner import enqueue_after_commit
from souk_platform.shops.services import get_shop
from souk_platform.tags.models import Segment, SegmentSnapshot
from souk_platform.web import once
from souk_platform.web.auth import shop_role_required, signed_in_user
from souk_platform.web.links import add_link

bp = Blueprint("shop_coupons", __name__)

PAGE_SIZE = 100
RESULTS_SHOWN = 200


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_coupons.coupons", _l("Coupons"))


@bp.get("/shops/<shop_id>/coupons")
@shop_role_required("owner", "staff")
def coupons(shop_id: str) -> str:
    rows = db.session.scalars(services.coupons_stmt(shop_id).order_by(Coupon.id.desc()).limit(PAGE_SIZE)).all()
    return render_template("coupons/list.html", shop=get_shop(db.session, shop_id), coupons=rows)


def _fen(text: str | None) -> int | None:
    return to_minor_units(text) if text and text.strip() else None


@bp.route("/shops/<shop_id>/coupons/new", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def new_coupon(shop_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    form = CouponForm()
    if form.validate_on_submit():
        kind = form.kind.data
        value_text = str(form.value.data).strip()
        # A percent coupon's value is typed as percent off (10 = 10 % off, 9折) and kept in basis points.
        value = int(Decimal(value_text) * 100) if kind == "percent" else to_minor_units(value_text)
        fields = {
            "name": form.name.data,
            "code": form.code.data,
            "kind": kind,
            "value": value,
            "min_spend": _fen(form.min_spend.data) or 0,
            "max_discount": _fen(form.max_discount.data) if kind == "percent" else None,
            "distribution": form.distribution.data,
            "valid_days": form.valid_days.data if form.distribution.data == "issued" else None,
            "per_customer_limit": form.per_customer_limit.data,
            "total_limit": form.total_limit.data,
        }
        try:
            if value <= 0:
                raise InvalidCoupon(
                    _("The value must be more than 0."), errors={"value": [_("The value must be more than 0.")]}
                )
            coupon = services.create_coupon(db.session, shop_id=shop_id, fields=fields)
        except SoukError as exc:
            db.session.rollback()
            marked = False
            for name, messages in (exc.errors or {}).items():
                field = getattr(form, name, None)
                if field is not None:
                    field.errors = [*field.errors, *messages]
                    marked = True
            if not marked:
                flash(_("The coupon was not created: %(reason)s", reason=exc.detail), "error")
        else:
            db.session.commit()
            flash(_("Coupon created."), "success")
            return redirect(url_for("shop_coupons.coupon", shop_id=shop_id, coupon_id=coupon.id))
    return render_template("coupons/new.html", shop=shop, form=form)


def _segments(shop_id: str) -> list[tuple[str, str]]:
    rows = db.session.execute(
        sa.select(Segment.id, Segment.name).where(Segment.shop_id == shop_id).order_by(Segment.name).limit(500)
    ).all()
    return [("", "—")] + [(row.id, row.name) for row in rows]


def _snapshots(shop_id: str) -> list[tuple[str, str]]:
    rows = db.session.execute(
        sa.select(SegmentSnapshot.id, SegmentSnapshot.name, SegmentSnapshot.member_count)
        .where(SegmentSnapshot.shop_id == shop_id)
        .order_by(SegmentSnapshot.id.desc())
        .limit(200)
    ).all()
    return [("", "—")] + [(row.id, f"{row.name} ({row.member_count})") for row in rows]


@bp.route("/shops/<shop_id>/coupons/<coupon_id>", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def coupon(shop_id: str, coupon_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    found = services.get_coupon(db.session, shop_id=shop_id, coupon_id=coupon_id)
    form = IssueForm()
    form.segment_id.choices = _segments(shop_id)
    form.snapshot_id.choices = _snapshots(shop_id)
    if found.distribution == "issued" and form.validate_on_submit():
        listed = [line.strip() for line in (form.customer_ids.data or "").splitlines() if line.strip()]
        segment_id = form.segment_id.data or None
        snapshot_id = form.snapshot_id.data or None
        if sum(bool(target) for target in (listed, segment_id, snapshot_id)) != 1:
            form.segment_id.errors = [_("Choose a segment or a snapshot, or list customer ids — one of them.")]
        else:
            user_id = signed_in_user().id
            earlier = once.claim(db.session, form=form, user_id=user_id, now=app_now())
            if earlier:
                return once.already_done(earlier)
            try:
                issue = issues.create_issue(
                    db.session,
                    shop_id=shop_id,
                    coupon_id=found.id,
                    customer_ids=listed or None,
                    segment_id=segment_id,
                    snapshot_id=snapshot_id,
                    now=app_now(),
                )
            except SoukError as exc:
                db.session.rollback()
                flash(_("The coupon was not issued: %(reason)s", reason=exc.detail), "error")
            else:
                enqueue_after_commit(db.session, "souk_platform.coupons.tasks.run_coupon_issue", issue.id)
                target = url_for("shop_coupons.issue", shop_id=shop_id, coupon_id=found.id, issue_id=issue.id)
                return once.done(db.session, form=form, user_id=user_id, target=target)
    recent = db.session.scalars(
        issues.issues_stmt(db.session, shop_id=shop_id, coupon_id=found.id).order_by(CouponIssue.id.desc()).limit(20)
    ).all()
    return render_template("coupons/detail.html", shop=shop, coupon=found, form=form, issues=recent)


@bp.get("/shops/<shop_id>/coupons/<coupon_id>/issues/<issue_id>")
@shop_role_required("owner", "staff")
def issue(shop_id: str, coupon_id: str, issue_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    found = issues.get_issue(db.session, shop_id=shop_id, coupon_id=coupon_id, issue_id=issue_id)
    coupon = services.get_coupon(db.session, shop_id=shop_id, coupon_id=coupon_id)
    results = db.session.execute(
        sa.select(CouponIssueResult, Customer.name)
        .outerjoin(Customer, sa.and_(Customer.id == CouponIssueResult.customer_id, Customer.shop_id == shop_id))
        .where(CouponIssueResult.shop_id == shop_id, CouponIssueResult.issue_id == found.id)
        .order_by(CouponIssueResult.outcome.desc(), CouponIssueResult.customer_id)
        .limit(RESULTS_SHOWN)
    ).all()
    return render_template("coupons/issue.html", shop=shop, coupon=coupon, issue=found, results=results)


@bp.get("/shops/<shop_id>/coupon-wallets/<customer_id>")
@shop_role_required("owner", "staff")
def customer_wallet(shop_id: str, customer_id: str) -> str | Response:
    shop = get_shop(db.session, shop_id)
    customer = db.session.scalar(sa.select(Customer).where(Customer.shop_id == shop_id, Customer.id == customer_id))
    if customer is None:
        abort(404)
    entries = wallet_entries(shop_id, customer_id)
    return render_template("coupons/wallet.html", shop=shop, customer=customer, entries=entries)


def wallet_entries(shop_id: str, customer_id: str, limit: int = 100) -> list[CustomerCoupon]:
    """A customer's wallet, newest first, for ``coupons/_wallet.html`` (the 360 page passes these in)."""
    stmt = wallet.wallet_stmt(shop_id, customer_id).order_by(CustomerCoupon.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))
