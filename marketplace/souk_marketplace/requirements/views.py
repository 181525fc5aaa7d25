"""Requirement pages: the public board and detail, a shop owner's posting, pledging and voting, the
developer's proposals and deliveries, and the platform admin's merges and arbitration."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from souk_marketplace.listings.services import submission_for_version
from souk_marketplace.requirements import services
from souk_marketplace.requirements.forms import (
    CATEGORY_LABELS,
    ArbitrationForm,
    DeliveryForm,
    DeliveryVoteForm,
    MergeForm,
    PledgeForm,
    ProposalForm,
    RequirementForm,
)
from souk_marketplace.requirements.models import CATEGORIES, STATES, Requirement, RequirementPledge, RequirementProposal
from souk_platform.apps.models import App, AppVersion
from souk_platform.apps.views import developer_required
from souk_platform.auth.models import User
from souk_platform.core.clock import app_now
from souk_platform.core.errors import SoukError
from souk_platform.db import db
from souk_platform.ledger.services import balance_of
from souk_platform.shops.models import Shop
from souk_platform.shops.services import get_shop, shops_of
from souk_platform.web import once
from souk_platform.web.auth import admin_required, current_user, shop_role_required, signed_in_user
from souk_platform.web.forms import EmptyForm

bp = Blueprint("requirement_pages", __name__)

F = TypeVar("F", bound=Callable[..., Any])

BOARD_PAGE = 20

STATE_LABELS: dict[str, Any] = {
    "open": _l("Open for pledges"),
    "funded": _l("Funded"),
    "in_development": _l("In development"),
    "delivered": _l("Delivered: backers are voting"),
    "accepted": _l("Accepted"),
    "paid_out": _l("Paid out"),
    "in_arbitration": _l("In arbitration"),
    "cancelled": _l("Cancelled"),
    "refunded": _l("Refunded"),
    "merged": _l("Merged"),
}
PLEDGE_STATE_LABELS: dict[str, Any] = {
    "active": _l("Held in escrow"),
    "withdrawn": _l("Withdrawn"),
    "refunded": _l("Refunded"),
    "released": _l("Paid to the developer"),
}
PROPOSAL_STATE_LABELS: dict[str, Any] = {
    "submitted": _l("Submitted"),
    "accepted": _l("Accepted"),
    "declined": _l("Not chosen"),
    "withdrawn": _l("Withdrawn"),
}
EVENT_LABELS: dict[str, Any] = {
    "posted": _l("Posted"),
    "proposal_submitted": _l("Proposal submitted"),
    "merged_in": _l("Pledges moved here from a merged duplicate"),
    **{state: label for state, label in STATE_LABELS.items() if state != "open"},
}
ACTOR_LABELS: dict[str, Any] = {"backers": _l("Backers' vote"), "system": _l("Souk (automatic)")}
SORT_LABELS: dict[str, Any] = {
    "newest": _l("Newest"),
    "pledged": _l("Most pledged"),
    "backers": _l("Most backers"),
    "deadline": _l("Deadline soonest"),
}

# Problems a page explains in the reader's language (the API's English ``detail`` is the fallback).
MESSAGES: dict[str, Any] = {
    "insufficient-balance": _l("Your shop's balance is too low for this."),
    "requirement-not-open": _l("This requirement does not take that now."),
    "pledge-locked": _l("A proposal was accepted: pledges are locked until the requirement ends."),
    "proposal-over-pledged-total": _l("The proposal's price is more than has been pledged so far."),
    "not-a-backer": _l("Only shops with an active pledge may vote."),
    "wrong-selection-mode": _l("This requirement picks its proposal another way."),
    "proposal-exists": _l("You already have an open proposal here; withdraw it first."),
    "merge-invalid": _l("These requirements cannot be merged: both must be open, in one currency."),
    "invalid-state-transition": _l("That is not possible in the requirement's current state."),
}
# Service field names → form field names, so a rule broken in the service shows next to its field.
FIELDS = {"budget_amount": "budget", "price_amount": "price", "app_id": "version", "app_version_id": "version"}


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "state_labels": STATE_LABELS,
        "pledge_state_labels": PLEDGE_STATE_LABELS,
        "proposal_state_labels": PROPOSAL_STATE_LABELS,
        "event_labels": EVENT_LABELS,
        "actor_labels": ACTOR_LABELS,
        "category_labels": CATEGORY_LABELS,
        "sort_labels": SORT_LABELS,
    }


def _terms() -> services.Terms:
    return services.terms_from_config(current_app.config)


def _done(message: str) -> None:
    db.session.commit()
    flash(message, "success")


def _failed(exc: SoukError, form: FlaskForm | None = None) -> None:
    """Nothing is kept; field problems go next to their fields, the rest into one message."""
    db.session.rollback()
    unplaced = []
    for name, problems in (exc.errors or {}).items():
        field = getattr(form, FIELDS.get(name, name), None) if form is not None else None
        if field is not None:
            field.errors = list(field.errors or []) + [str(p) for p in problems]
        else:
            unplaced.extend(problems)
    if not exc.errors or unplaced:
        flash(str(MESSAGES.get(exc.code, exc.detail)), "error")


def _owned_shops(user: User | None) -> list[Shop]:
    return [shop for shop, role in shops_of(db.session, user.id)] if user else []


def _end_of_day(day: dt.date, timezone: str) -> dt.datetime:
    """The last moment of ``day`` in the shop's time zone, in UTC."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), ZoneInfo(timezone)).astimezone(dt.UTC)


# --- the public board ---------------------------------------------------------------------------


@bp.get("/requirements")
def board() -> str:
    args = request.args
    q = (args.get("q") or "").strip()[:100] or None
    category = args.get("category") if args.get("category") in CATEGORIES else None
    state = args.get("state") if args.get("state") in STATES else None
    sort = args.get("sort", "newest")
    if sort not in services.SORTS:
        sort = "newest"
    try:
        page = services.board_page(
            db.session, q=q, category=category, state=state, sort=sort, limit=BOARD_PAGE, cursor=args.get("cursor")
        )
    except SoukError:  # a hand-edited cursor: start from the first page
        page = services.board_page(
            db.session, q=q, category=category, state=state, sort=sort, limit=BOARD_PAGE, cursor=None
        )
    return render_template(
        "requirements/board.html",
        requirements=services.requirement_views(db.session, page.items),
        next_cursor=page.next_cursor,
        filters={"q": q or "", "category": category or "", "state": state or "", "sort": sort},
        categories=CATEGORIES,
        states=STATES,
        sorts=services.SORTS,
        my_shops=_owned_shops(current_user()),
    )


def _detail_context(requirement: Requirement) -> dict[str, Any]:
    return {"requirement": requirement, "detail": services.requirement_detail(db.session, requirement)}


@bp.get("/requirements/<requirement_id>")
def detail(requirement_id: str) -> str:
    requirement = services.get_requirement(db.session, requirement_id)
    user = current_user()
    context = _detail_context(requirement)
    context.update(my_shops=_owned_shops(user), developer=_developer_context(requirement, user))
    return render_template("requirements/detail.html", **context)


def _developer_context(requirement: Requirement, user: User | None, **forms: Any) -> dict[str, Any] | None:
    """What the detail page offers a developer: a proposal form, their proposal, start and delivery forms."""
    if user is None or not user.is_developer:
        return None
    mine = db.session.scalars(
        sa.select(RequirementProposal)
        .where(RequirementProposal.requirement_id == requirement.id, RequirementProposal.developer_id == user.id)
        .order_by(RequirementProposal.id.desc())
    ).all()
    accepted = next((p for p in mine if p.id == requirement.accepted_proposal_id), None)
    delivery_form = forms.get("delivery_form") or DeliveryForm(formdata=None)
    delivery_form.version.choices = _deliverable_versions(user)
    return {
        "proposals": mine,
        "open_proposal": next((p for p in mine if p.state == "submitted"), None),
        "accepted": accepted,
        "proposal_form": forms.get("proposal_form") or ProposalForm(formdata=None),
        "delivery_form": delivery_form,
        "action_form": EmptyForm(),
    }


def _deliverable_versions(user: User) -> list[SelectChoice]:
    """``app_id:app_version_id`` of the developer's app versions submitted for listing, newest first."""
    rows = db.session.execute(
        sa.select(App, AppVersion)
        .join(AppVersion, AppVersion.app_id == App.id)
        .where(App.developer_id == user.id)
        .order_by(App.name, AppVersion.number.desc())
    ).all()
    return [
        SelectChoice(f"{app.id}:{version.id}", f"{app.name} v{version.number}")
        for app, version in rows
        if submission_for_version(db.session, version.id) is not None
    ]


# --- a shop owner: post, pledge, vote, accept, cancel -------------------------------------------


@bp.get("/shops/<shop_id>/requirements")
@shop_role_required("owner")
def shop_requirements(shop_id: str) -> str:
    posted = db.session.scalars(
        sa.select(Requirement).where(Requirement.shop_id == shop_id).order_by(Requirement.id.desc())
    ).all()
    pledges = db.session.execute(
        sa.select(RequirementPledge, Requirement)
        .join(Requirement, Requirement.id == RequirementPledge.requirement_id)
        .where(RequirementPledge.shop_id == shop_id)
        .order_by(RequirementPledge.id.desc())
    ).all()
    merged_from = {
        r.id: r
        for r in db.session.scalars(
            sa.select(Requirement).where(Requirement.id.in_({p.merged_from_id for p, _ in pledges if p.merged_from_id}))
        )
    }
    return render_template(
        "requirements/shop_list.html",
        shop=get_shop(db.session, shop_id),
        posted=posted,
        pledges=pledges,
        merged_from=merged_from,
        withdraw_form=EmptyForm(),
    )


@bp.route("/shops/<shop_id>/requirements/new", methods=["GET", "POST"])
@shop_role_required("owner")
def new_requirement(shop_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    form = RequirementForm()
    similar: list[tuple[Requirement, float]] = []
    if form.validate_on_submit():
        assert form.budget.data is not None and form.deadline.data is not None
        if not form.confirmed.data:
            similar = services.similar_requirements(
                db.session, title=form.title.data or "", description=form.description.data or ""
            )
        if similar:
            form.confirmed.data = "yes"  # shown once: posting again creates it
        else:
            try:
                requirement = services.post_requirement(
                    db.session,
                    shop_id=shop_id,
                    posted_by=signed_in_user().id,
                    title=form.title.data or "",
                    description=form.description.data or "",
                    category=form.category.data or "",
                    budget_amount=form.budget.data,
                    currency=None,
                    deadline=_end_of_day(form.deadline.data, shop.timezone),
                    acceptance_criteria=form.acceptance_criteria.data or "",
                    selection_mode=form.selection_mode.data or "",
                    now=app_now(),
                )
            except SoukError as exc:
                _failed(exc, form)
            else:
                _done(_("Your requirement is on the board. Share it with merchants who need the same."))
                return redirect(url_for(".shop_view", shop_id=shop_id, requirement_id=requirement.id))
    return render_template("requirements/new.html", shop=shop, form=form, similar=similar)


@bp.get("/shops/<shop_id>/requirements/<requirement_id>")
@shop_role_required("owner")
def shop_view(shop_id: str, requirement_id: str) -> str:
    return _render_shop_view(get_shop(db.session, shop_id), services.get_requirement(db.session, requirement_id))


def _render_shop_view(
    shop: Shop, requirement: Requirement, *, pledge_form: PledgeForm | None = None, status: int = 200
) -> Any:
    mine = db.session.scalars(
        sa.select(RequirementPledge)
        .where(RequirementPledge.requirement_id == requirement.id, RequirementPledge.shop_id == shop.id)
        .order_by(RequirementPledge.id)
    ).all()
    context = _detail_context(requirement)
    context.update(
        shop=shop,
        is_owner=requirement.shop_id == shop.id,
        my_pledges=mine,
        is_backer=any(p.state == "active" for p in mine),
        balance=balance_of(db.session, shop_id=shop.id, kind="shop.balance", owner_id=shop.id, unit=shop.currency),
        pledge_form=pledge_form or PledgeForm(formdata=None),
        vote_form=DeliveryVoteForm(formdata=None),
        action_form=EmptyForm(),
    )
    return render_template("requirements/shop_view.html", **context), status


def _back(shop_id: str, requirement_id: str) -> Any:
    return redirect(url_for(".shop_view", shop_id=shop_id, requirement_id=requirement_id))


@bp.post("/shops/<shop_id>/requirements/<requirement_id>/pledges")
@shop_role_required("owner")
def pledge(shop_id: str, requirement_id: str) -> Any:
    shop, requirement = get_shop(db.session, shop_id), services.get_requirement(db.session, requirement_id)
    form = PledgeForm()
    if not form.validate_on_submit():
        return _render_shop_view(shop, requirement, pledge_form=form, status=422)
    assert form.amount.data is not None
    user = signed_in_user()
    earlier = once.claim(db.session, form=form, user_id=user.id, now=app_now())
    if earlier:
        return once.already_done(earlier)
    try:
        services.pledge(
            db.session,
            shop_id=shop_id,
            requirement_id=requirement_id,
            amount=form.amount.data,
            pledged_by=user.id,
            now=app_now(),
        )
    except SoukError as exc:
        _failed(exc, form)
        return _render_shop_view(
            shop, services.get_requirement(db.session, requirement_id), pledge_form=form, status=exc.status
        )
    flash(_("Pledged. The money is held in escrow until the requirement is delivered or refunded."), "success")
    target = url_for(".shop_view", shop_id=shop_id, requirement_id=requirement_id)
    return once.done(db.session, form=form, user_id=user.id, target=target)


@bp.post("/shops/<shop_id>/requirement-pledges/<pledge_id>/withdraw")
@shop_role_required("owner")
def withdraw(shop_id: str, pledge_id: str) -> Any:
    row = services.get_pledge(db.session, shop_id=shop_id, pledge_id=pledge_id)
    if EmptyForm().validate_on_submit():
        try:
            services.withdraw_pledge(db.session, shop_id=shop_id, pledge_id=pledge_id, now=app_now())
        except SoukError as exc:
            _failed(exc)
        else:
            _done(_("Pledge withdrawn: the full amount is back in your shop's balance."))
    return _back(shop_id, row.requirement_id)


@bp.post("/shops/<shop_id>/requirements/<requirement_id>/proposals/<proposal_id>/accept")
@shop_role_required("owner")
def accept(shop_id: str, requirement_id: str, proposal_id: str) -> Any:
    if EmptyForm().validate_on_submit():
        try:
            services.accept_proposal(
                db.session,
                shop_id=shop_id,
                proposal_id=proposal_id,
                actor=services.shop_actor(db.session, shop_id),
                now=app_now(),
            )
        except SoukError as exc:
            _failed(exc)
        else:
            _done(_("Proposal accepted. Pledges are locked and the developer can start."))
    return _back(shop_id, requirement_id)


@bp.post("/shops/<shop_id>/requirements/<requirement_id>/proposals/<proposal_id>/vote")
@shop_role_required("owner")
def vote_for_proposal(shop_id: str, requirement_id: str, proposal_id: str) -> Any:
    if EmptyForm().validate_on_submit():
        try:
            requirement = services.vote_for_proposal(
                db.session, shop_id=shop_id, requirement_id=requirement_id, proposal_id=proposal_id, now=app_now()
            )
        except SoukError as exc:
            _failed(exc)
        else:
            won = requirement.accepted_proposal_id == proposal_id
            _done(_("Vote counted: this proposal now has a majority and is accepted.") if won else _("Vote counted."))
    return _back(shop_id, requirement_id)


@bp.post("/shops/<shop_id>/requirements/<requirement_id>/delivery-vote")
@shop_role_required("owner")
def vote_on_delivery(shop_id: str, requirement_id: str) -> Any:
    form = DeliveryVoteForm()
    if form.validate_on_submit():
        try:
            services.vote_on_delivery(
                db.session,
                shop_id=shop_id,
                requirement_id=requirement_id,
                decision=form.decision.data or "",
                now=app_now(),
                terms=_terms(),
            )
        except SoukError as exc:
            _failed(exc)
        else:
            _done(_("Vote counted. You may change it until the vote closes."))
    else:
        flash(_("Choose accept or reject."), "error")
    return _back(shop_id, requirement_id)


@bp.post("/shops/<shop_id>/requirements/<requirement_id>/cancel")
@shop_role_required("owner")
def cancel(shop_id: str, requirement_id: str) -> Any:
    if EmptyForm().validate_on_submit():
        try:
            services.cancel_requirement(
                db.session,
                requirement_id=requirement_id,
                owner_shop_id=shop_id,
                actor=services.shop_actor(db.session, shop_id),
                now=app_now(),
            )
        except SoukError as exc:
            _failed(exc)
        else:
            _done(_("Requirement cancelled. Every pledge was refunded in full."))
    return _back(shop_id, requirement_id)


# --- developers ---------------------------------------------------------------------------------


def _render_detail_for_developer(requirement: Requirement, status: int, **forms: Any) -> Any:
    context = _detail_context(requirement)
    context.update(
        my_shops=_owned_shops(current_user()),
        developer=_developer_context(requirement, signed_in_user(), **forms),
    )
    return render_template("requirements/detail.html", **context), status


@bp.post("/requirements/<requirement_id>/proposals")
@developer_required
def propose(requirement_id: str) -> Any:
    requirement = services.get_requirement(db.session, requirement_id)
    form = ProposalForm()
    if not form.validate_on_submit():
        return _render_detail_for_developer(requirement, 422, proposal_form=form)
    assert form.price.data is not None and form.delivery_date.data is not None
    try:
        services.submit_proposal(
            db.session,
            developer=signed_in_user(),
            requirement_id=requirement_id,
            price_amount=form.price.data,
            delivery_date=form.delivery_date.data,
            plan=form.plan.data or "",
            now=app_now(),
        )
    except SoukError as exc:
        _failed(exc, form)
        return _render_detail_for_developer(
            services.get_requirement(db.session, requirement_id), exc.status, proposal_form=form
        )
    _done(_("Proposal submitted. The requirement's owner (or its backers) will choose."))
    return redirect(url_for(".detail", requirement_id=requirement_id))


def _developer_action(proposal_id: str, action: Callable[[RequirementProposal], Any], message: str) -> Any:
    proposal = db.session.scalar(
        sa.select(RequirementProposal).where(
            RequirementProposal.id == proposal_id, RequirementProposal.developer_id == signed_in_user().id
        )
    )
    if proposal is None:
        abort(404)
    if EmptyForm().validate_on_submit():
        try:
            action(proposal)
        except SoukError as exc:
            _failed(exc)
        else:
            _done(message)
    return redirect(url_for(".detail", requirement_id=proposal.requirement_id))


@bp.post("/developer/requirement-proposals/<proposal_id>/withdraw")
@developer_required
def withdraw_proposal(proposal_id: str) -> Any:
    return _developer_action(
        proposal_id,
        lambda p: services.withdraw_proposal(
            db.session, developer_id=signed_in_user().id, proposal_id=p.id, now=app_now()
        ),
        _("Proposal withdrawn."),
    )


@bp.post("/developer/requirement-proposals/<proposal_id>/start")
@developer_required
def start(proposal_id: str) -> Any:
    return _developer_action(
        proposal_id,
        lambda p: services.start_development(db.session, developer=signed_in_user(), proposal_id=p.id, now=app_now()),
        _("Development started. Deliver before the deadline."),
    )


@bp.post("/developer/requirement-proposals/<proposal_id>/delivery")
@developer_required
def delivery(proposal_id: str) -> Any:
    proposal = db.session.scalar(
        sa.select(RequirementProposal).where(
            RequirementProposal.id == proposal_id, RequirementProposal.developer_id == signed_in_user().id
        )
    )
    if proposal is None:
        abort(404)
    requirement = services.get_requirement(db.session, proposal.requirement_id)
    form = DeliveryForm()
    form.version.choices = _deliverable_versions(signed_in_user())
    if not form.validate_on_submit():
        return _render_detail_for_developer(requirement, 422, delivery_form=form)
    app_id, _sep, version_id = (form.version.data or "").partition(":")
    try:
        services.deliver(
            db.session,
            developer=signed_in_user(),
            proposal_id=proposal.id,
            app_id=app_id,
            app_version_id=version_id,
            now=app_now(),
            terms=_terms(),
        )
    except SoukError as exc:
        _failed(exc, form)
        return _render_detail_for_developer(
            services.get_requirement(db.session, requirement.id), exc.status, delivery_form=form
        )
    _done(_("Delivered. Backers now have a window to accept; silence counts as acceptance."))
    return redirect(url_for(".detail", requirement_id=requirement.id))


@bp.get("/developer/requirements")
@developer_required
def developer_proposals() -> str:
    rows = db.session.execute(
        sa.select(RequirementProposal, Requirement)
        .join(Requirement, Requirement.id == RequirementProposal.requirement_id)
        .where(RequirementProposal.developer_id == signed_in_user().id)
        .order_by(RequirementProposal.id.desc())
    ).all()
    return render_template("requirements/developer.html", rows=rows)


# --- platform admin: merges and arbitration -----------------------------------------------------


def _admin_actor() -> services.Actor:
    return services.user_actor(signed_in_user(), "admin")


@bp.get("/admin/requirements/duplicates")
@admin_required
def duplicates() -> str:
    return render_template(
        "requirements/admin_duplicates.html", pairs=services.duplicate_pairs(db.session), form=MergeForm()
    )


@bp.post("/admin/requirements/merge")
@admin_required
def merge() -> Any:
    form = MergeForm()
    if form.validate_on_submit():
        try:
            survivor = services.merge_requirements(
                db.session,
                duplicate_id=form.duplicate_id.data or "",
                survivor_id=form.survivor_id.data or "",
                admin=_admin_actor(),
                now=app_now(),
            )
        except SoukError as exc:
            _failed(exc)
        else:
            _done(_("Merged. Every moved pledger was told and may withdraw in full."))
            return redirect(url_for(".detail", requirement_id=survivor.id))
    return redirect(url_for(".duplicates"))


@bp.get("/admin/requirements/arbitration")
@admin_required
def arbitration() -> str:
    waiting = db.session.scalars(
        sa.select(Requirement).where(Requirement.state == "in_arbitration").order_by(Requirement.id)
    ).all()
    return render_template(
        "requirements/admin_arbitration.html",
        cases=[services.requirement_detail(db.session, r) for r in waiting],
        form=ArbitrationForm(formdata=None),
    )


@bp.post("/admin/requirements/<requirement_id>/arbitration")
@admin_required
def rule(requirement_id: str) -> Any:
    form = ArbitrationForm()
    if not form.validate_on_submit():
        requirement = services.get_requirement(db.session, requirement_id)
        return render_template(
            "requirements/admin_arbitration.html",
            cases=[services.requirement_detail(db.session, requirement)],
            form=form,
        ), 422
    try:
        services.rule_arbitration(
            db.session,
            requirement_id=requirement_id,
            for_developer=form.ruling.data == "developer",
            note=form.note.data or "",
            admin=_admin_actor(),
            now=app_now(),
            terms=_terms(),
        )
    except SoukError as exc:
        _failed(exc)
    else:
        _done(_("Ruling recorded."))
    return redirect(url_for(".arbitration"))
