"""Service-market pages: catalogue, service and provider pages, provider sign-up and dashboard, the
shop's orders, the order page (timeline, messages, files and each party's actions) and the admin's
dispute queue.

Who may act on an order page is decided per order: the buyer is an owner of the ordering shop, the
provider is the user behind the provider profile, and platform admins arbitrate. Anyone else gets a
404 that does not confirm the order exists.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from souk_marketplace.service_market import catalogue, services
from souk_marketplace.service_market.api import file_response
from souk_marketplace.service_market.catalogue import PackageSpec
from souk_marketplace.service_market.files import MAX_FILE_BYTES
from souk_marketplace.service_market.forms import (
    CATEGORY_LABELS,
    KIND_LABELS,
    AcceptOfferForm,
    AnswerForm,
    ArbitrationForm,
    ExtensionAnswerForm,
    ExtensionRequestForm,
    FileForm,
    MessageForm,
    NoteForm,
    OfferForm,
    OptionalReasonForm,
    PlaceOrderForm,
    PortfolioForm,
    ProviderProfileForm,
    ProviderSignupForm,
    RatingForm,
    ReasonForm,
    RequirementsForm,
    ServiceForm,
    parse_milestones,
    to_fen,
)
from souk_marketplace.service_market.models import Service, ServiceOrder, ServiceProvider
from souk_marketplace.service_market.services import OVERDUE_GRACE, Party
from souk_marketplace.service_market.states import (
    ADMIN,
    BUYER,
    DISPUTE_STATES,
    FINAL_STATES,
    PROVIDER,
    STATES,
    allowed_moves,
)
from souk_platform.auth.models import User
from souk_platform.core.clock import app_now
from souk_platform.core.errors import Conflict, SoukError
from souk_platform.db import db
from souk_platform.ledger.services import PLATFORM, balance_of
from souk_platform.shops.models import Shop
from souk_platform.shops.services import get_shop, membership, shops_of
from souk_platform.web import once
from souk_platform.web.auth import current_user, login_required, shop_role_required, signed_in_user
from souk_platform.web.forms import EmptyForm

bp = Blueprint("service_market", __name__)

CATALOGUE_PAGE = 30
LIST_LIMIT = 200

STATE_LABELS = {
    "placed": _l("Order placed"),
    "requirements_pending": _l("Waiting for requirements"),
    "in_progress": _l("In progress"),
    "delivered": _l("Work delivered"),
    "revision_requested": _l("Revision requested"),
    "accepted": _l("Accepted"),
    "auto_completed": _l("Auto-completed"),
    "clearing": _l("Clearing"),
    "settled": _l("Settled"),
    "disputed": _l("Disputed"),
    "in_mediation": _l("In mediation"),
    "in_arbitration": _l("In arbitration"),
    "refunded": _l("Refunded"),
    "cancelled": _l("Cancelled"),
}
ACTOR_LABELS = {
    "buyer": _l("Buyer"),
    "provider": _l("Provider"),
    "admin": _l("Souk admin"),
    "system": _l("Souk (automatic)"),
}
MILESTONE_LABELS = {
    "pending": _l("Not started"),
    "in_progress": _l("In progress"),
    "delivered": _l("Work delivered"),
    "accepted": _l("Accepted"),
    "released": _l("Paid to the provider"),
    "cancelled": _l("Cancelled"),
    "resolved": _l("Settled by the dispute"),
}


@bp.record_once
def _exempt_uploads(state: Any) -> None:
    # Uploads may be larger than the app-wide body limit, which the global CSRF check would hit
    # while reading the form; the upload view raises the limit first and checks its form's token itself.
    state.app.extensions["csrf"].exempt(f"{__name__}.upload")


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "service_state_labels": STATE_LABELS,
        "service_category_labels": CATEGORY_LABELS,
        "service_kind_labels": KIND_LABELS,
        "service_actor_labels": ACTOR_LABELS,
        "service_milestone_labels": MILESTONE_LABELS,
    }


def _my_provider() -> ServiceProvider | None:
    user = current_user()
    return catalogue.provider_of_user(db.session, user.id) if user else None


def _owned_shops(user: User | None) -> list[Shop]:
    return [shop for shop, role in shops_of(db.session, user.id) if role == "owner"] if user else []


def _apply_errors(form: FlaskForm, exc: SoukError) -> bool:
    """Show a service's per-field errors next to the form's fields; False if none fit."""
    placed = False
    for name, messages in (exc.errors or {}).items():
        target: Any = form
        for part in name.split("."):
            if target is None:
                break
            if hasattr(target, "entries"):
                entries = target.entries
                target = entries[int(part)].form if part.isdigit() and int(part) < len(entries) else None
            else:
                target = getattr(target, part, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*list(target.errors or []), *messages]
            placed = True
    return placed


# --- catalogue -----------------------------------------------------------------------------------


@bp.get("/services")
def catalogue_page() -> str:
    q = (request.args.get("q") or "").strip()[:200]
    category = request.args.get("category") or None
    if category not in CATEGORY_LABELS:
        category = None
    stmt = catalogue.search_services_stmt(q=q or None, category=category)
    found = db.session.scalars(stmt.order_by(Service.id.desc()).limit(CATALOGUE_PAGE)).all()
    prices = catalogue.starting_prices(db.session, [s.id for s in found])
    ratings = catalogue.rating_summaries(db.session, sorted({s.provider_id for s in found}))
    return render_template(
        "service_market/catalogue.html",
        services=found,
        prices=prices,
        ratings=ratings,
        q=q,
        category=category,
        is_provider=_my_provider() is not None,
    )


def _service_page(service: Service, form: PlaceOrderForm | None = None) -> str:
    user = current_user()
    shops = _owned_shops(user)
    if form is None:
        form = _place_form(service, shops, formdata=None)
    summary = catalogue.rating_summaries(db.session, [service.provider_id])[service.provider_id]
    return render_template(
        "service_market/service.html",
        service=service,
        provider=service.provider,
        rating=summary,
        portfolio=catalogue.portfolio_of(db.session, service.provider_id)[:6],
        form=form,
        shops=shops,
    )


def _place_form(service: Service, shops: list[Shop], **kwargs: Any) -> PlaceOrderForm:
    form = PlaceOrderForm(**kwargs)
    form.shop_id.choices = [(shop.id, shop.name) for shop in shops]
    form.package_id.choices = [(package.id, package.name) for package in service.packages]
    return form


@bp.get("/services/<service_id>")
def service_page(service_id: str) -> str:
    return _service_page(catalogue.get_service(db.session, service_id))


@bp.post("/services/<service_id>/order")
@login_required
def place_order(service_id: str) -> Any:
    service = catalogue.get_service(db.session, service_id)
    user = signed_in_user()
    shops = _owned_shops(user)
    if not shops:
        abort(403, description=_("Only a shop owner can order services."))
    form = _place_form(service, shops)
    if not form.validate_on_submit():
        return _service_page(service, form)
    earlier = once.claim(db.session, form=form, user_id=user.id, now=app_now())
    if earlier:
        return once.already_done(earlier)
    try:
        order = services.place_order(
            db.session,
            shop_id=form.shop_id.data or "",
            package_id=form.package_id.data or "",
            requirements=(form.requirements.data or "").strip() or None,
            now=app_now(),
            fee_bps=services.fee_bps(current_app.config),
            placed_by=user.id,
        )
    except SoukError as exc:
        db.session.rollback()
        if not _apply_errors(form, exc):
            form.package_id.errors = [*list(form.package_id.errors or []), exc.detail]
        return _service_page(service, form)
    flash(_("Order placed: the price is held in escrow until the work is done."), "success")
    target = url_for("service_market.order_page", order_id=order.id)
    return once.done(db.session, form=form, user_id=user.id, target=target)


@bp.get("/services/providers/<provider_id>")
def provider_page(provider_id: str) -> str:
    provider = catalogue.get_provider(db.session, provider_id)
    return render_template(
        "service_market/provider.html",
        provider=provider,
        rating=catalogue.rating_summaries(db.session, [provider.id])[provider.id],
        ratings=catalogue.recent_ratings(db.session, provider.id),
        services=catalogue.services_of(db.session, provider.id),
        portfolio=catalogue.portfolio_of(db.session, provider.id),
    )


@bp.get("/services/portfolio/<item_id>/image")
def portfolio_image(item_id: str) -> Response:
    item = catalogue.get_portfolio_item(db.session, item_id)
    if not item.image or not item.image_type:
        abort(404)
    response = Response(item.image, mimetype=item.image_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


# --- providers -----------------------------------------------------------------------------------


@bp.route("/services/providers/signup", methods=["GET", "POST"])
def provider_signup() -> Any:
    user = current_user()
    if user is not None and catalogue.provider_of_user(db.session, user.id) is not None:
        return redirect(url_for("service_market.dashboard"))
    form: ProviderProfileForm = ProviderProfileForm() if user else ProviderSignupForm()
    if form.validate_on_submit():
        try:
            if user is not None:
                catalogue.create_provider(
                    db.session,
                    user=user,
                    display_name=form.display_name.data or "",
                    bio=form.bio.data or "",
                    categories=form.categories.data or [],
                    now=app_now(),
                )
                provider_user_id = user.id
            else:
                assert isinstance(form, ProviderSignupForm)
                provider = catalogue.sign_up_provider(
                    db.session,
                    email=form.email.data or "",
                    name=form.name.data or "",
                    password=form.password.data or "",
                    display_name=form.display_name.data or "",
                    bio=form.bio.data or "",
                    categories=form.categories.data or [],
                    now=app_now(),
                )
                provider_user_id = provider.user_id
        except Conflict:
            db.session.rollback()
            if isinstance(form, ProviderSignupForm):
                form.email.errors = [_("An account with this email already exists. Log in instead.")]
        except SoukError as exc:
            db.session.rollback()
            _apply_errors(form, exc)
        else:
            db.session.commit()
            if user is None:
                session.clear()
                session["user_id"] = provider_user_id
            flash(_("Welcome! You can list your services now."), "success")
            return redirect(url_for("service_market.dashboard"))
    return render_template("service_market/provider_signup.html", form=form)


def provider_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """The logged-in user must have a provider profile; others are sent to the sign-up page."""

    @functools.wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        provider = _my_provider()
        if provider is None:
            return redirect(url_for("service_market.provider_signup"))
        return view(provider, *args, **kwargs)

    return wrapper


@bp.get("/provider")
@provider_required
def dashboard(provider: ServiceProvider) -> str:
    state = request.args.get("state") or None
    if state not in STATES:
        state = None
    user_id = provider.user_id
    orders = db.session.scalars(
        services.orders_stmt(provider_user_id=user_id, state=state).order_by(ServiceOrder.id.desc()).limit(LIST_LIMIT)
    ).all()
    earnings = services.provider_earnings(db.session, user_id)
    accounts = {
        e.currency: balance_of(
            db.session, shop_id=PLATFORM, kind="developer.earnings", owner_id=user_id, unit=e.currency
        )
        for e in earnings
    }
    return render_template(
        "service_market/dashboard.html",
        provider=provider,
        orders=orders,
        state=state,
        counts=services.state_counts(db.session, user_id),
        earnings=earnings,
        accounts=accounts,
        services=catalogue.services_of(db.session, provider.id, include_hidden=True),
        portfolio=catalogue.portfolio_of(db.session, provider.id),
        portfolio_form=PortfolioForm(formdata=None),
        delete_form=EmptyForm(),
        rating=catalogue.rating_summaries(db.session, [provider.id])[provider.id],
    )


@bp.route("/provider/profile", methods=["GET", "POST"])
@provider_required
def edit_profile(provider: ServiceProvider) -> Any:
    form = ProviderProfileForm(obj=provider if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            catalogue.update_provider(
                db.session,
                provider=provider,
                display_name=form.display_name.data or "",
                bio=form.bio.data or "",
                categories=form.categories.data or [],
            )
        except SoukError as exc:
            db.session.rollback()
            _apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Profile saved."), "success")
            return redirect(url_for("service_market.dashboard"))
    return render_template("service_market/profile_form.html", form=form, provider=provider)


def _package_specs(form: ServiceForm) -> list[PackageSpec] | None:
    """The filled package slots as specs; None (with errors on the form) when a slot is unreadable."""
    specs: list[PackageSpec] = []
    ok = True
    for entry in form.packages.entries:
        slot = entry.form
        if not (slot.name.data or "").strip():
            continue
        try:
            milestones = parse_milestones(slot.milestones.data or "") if slot.kind.data == "project" else []
        except ValueError as exc:
            slot.milestones.errors = [_("Line %(line)s is not “title | amount | days”.", line=exc.args[0])]
            ok = False
            continue
        missing = [f for f in (slot.price, slot.delivery_days) if f.data is None]
        for field in missing:
            field.errors = [_("Required for a package.")]
        if missing:
            ok = False
            continue
        specs.append(
            PackageSpec(
                name=slot.name.data or "",
                kind=slot.kind.data or "small",
                price=to_fen(slot.price.data),
                currency="CNY",
                delivery_days=slot.delivery_days.data or 0,
                revisions=slot.revisions.data or 0,
                description=slot.description.data or "",
                milestones=milestones,
            )
        )
    if ok and not specs:
        form.packages.errors = [_("Fill in at least one package (a name, a price and delivery days).")]
        ok = False
    return specs if ok else None


def _fill_service_form(form: ServiceForm, service: Service) -> None:
    form.category.data, form.title.data = service.category, service.title
    form.description.data, form.status.data = service.description, service.status
    for entry, package in zip(form.packages.entries, service.packages, strict=False):
        slot = entry.form
        slot.name.data, slot.kind.data = package.name, package.kind
        slot.price.data = Decimal(package.price) / 100  # shown in yuan
        slot.delivery_days.data, slot.revisions.data = package.delivery_days, package.revisions
        slot.description.data = package.description
        slot.milestones.data = "\n".join(
            f"{m['title']} | {m['amount'] / 100:.2f} | {m['delivery_days']}" for m in package.milestones
        )


@bp.route("/provider/services/new", methods=["GET", "POST"])
@provider_required
def new_service(provider: ServiceProvider) -> Any:
    form = ServiceForm()
    if form.validate_on_submit():
        specs = _package_specs(form)
        if specs is not None:
            try:
                service = catalogue.create_service(
                    db.session,
                    provider=provider,
                    category=form.category.data or "",
                    title=form.title.data or "",
                    description=form.description.data or "",
                    packages=specs,
                    now=app_now(),
                )
            except SoukError as exc:
                db.session.rollback()
                if not _apply_errors(form, exc):
                    flash(exc.detail, "error")
            else:
                db.session.commit()
                flash(_("Service listed."), "success")
                return redirect(url_for("service_market.service_page", service_id=service.id))
    return render_template("service_market/service_form.html", form=form, service=None)


@bp.route("/provider/services/<service_id>/edit", methods=["GET", "POST"])
@provider_required
def edit_service(provider: ServiceProvider, service_id: str) -> Any:
    service = catalogue.owned_service(db.session, provider=provider, service_id=service_id)
    form = ServiceForm()
    if request.method == "GET":
        _fill_service_form(form, service)
    elif form.validate_on_submit():
        specs = _package_specs(form)
        if specs is not None:
            try:
                catalogue.update_service(
                    db.session,
                    provider=provider,
                    service_id=service.id,
                    category=form.category.data or "",
                    title=form.title.data or "",
                    description=form.description.data or "",
                    status=form.status.data or "active",
                    packages=specs,
                    now=app_now(),
                )
            except SoukError as exc:
                db.session.rollback()
                if not _apply_errors(form, exc):
                    flash(exc.detail, "error")
            else:
                db.session.commit()
                flash(_("Service saved."), "success")
                return redirect(url_for("service_market.dashboard"))
    return render_template("service_market/service_form.html", form=form, service=service)


@bp.post("/provider/portfolio")
@provider_required
def add_portfolio(provider: ServiceProvider) -> Any:
    form = PortfolioForm()
    if form.validate_on_submit():
        upload = form.image.data
        try:
            catalogue.add_portfolio_item(
                db.session,
                provider=provider,
                title=form.title.data or "",
                text=form.text.data or "",
                link=(form.link.data or "").strip() or None,
                image=upload.read(catalogue.MAX_IMAGE_BYTES + 1) if upload else None,
                now=app_now(),
            )
        except SoukError as exc:
            db.session.rollback()
            for field, messages in (exc.errors or {}).items():
                flash(f"{field}: {' '.join(messages)}", "error")
        else:
            db.session.commit()
            flash(_("Portfolio item added."), "success")
    else:
        for field in form:
            for message in field.errors:
                flash(f"{field.label.text}: {message}", "error")
    return redirect(url_for("service_market.dashboard") + "#portfolio")


@bp.post("/provider/portfolio/<item_id>/delete")
@provider_required
def delete_portfolio(provider: ServiceProvider, item_id: str) -> Any:
    if EmptyForm().validate_on_submit():
        catalogue.delete_portfolio_item(db.session, provider=provider, item_id=item_id)
        db.session.commit()
        flash(_("Portfolio item removed."), "success")
    return redirect(url_for("service_market.dashboard") + "#portfolio")


# --- the shop's orders and the order page --------------------------------------------------------


@bp.get("/shops/<shop_id>/service-orders")
@shop_role_required("owner")
def shop_orders(shop_id: str) -> str:
    orders = db.session.scalars(
        services.orders_stmt(shop_id=shop_id).order_by(ServiceOrder.id.desc()).limit(LIST_LIMIT)
    ).all()
    return render_template("service_market/shop_orders.html", shop=get_shop(db.session, shop_id), orders=orders)


def _parties(order_id: str) -> tuple[ServiceOrder, dict[str, Party]]:
    """The order and every role the logged-in user has on it; 404 when they have none."""
    user = signed_in_user()
    order = db.session.get(ServiceOrder, order_id)
    roles: dict[str, Party] = {}
    if order is not None:
        member = membership(db.session, shop_id=order.shop_id, user_id=user.id)
        if member is not None and member.role == "owner":
            roles[BUYER] = Party.buyer(order.shop_id, user.id)
        if order.provider_user_id == user.id:
            roles[PROVIDER] = Party.provider(user.id)
        if user.is_platform_admin:
            roles[ADMIN] = Party.admin(user.id)
    if order is None or not roles:
        abort(404)
    return order, roles


@dataclass(frozen=True, slots=True)
class Action:
    """One button or form on the order page: who may use it, its form, and the service call."""

    roles: frozenset[str]
    form: type[FlaskForm]
    run: Callable[[Party, Any, str, dt.datetime], Any]
    done: Any


def _svc(name: str, **fields: Callable[[Any], Any]) -> Callable[[Party, Any, str, dt.datetime], Any]:
    """Call ``services.<name>`` with the order, the party, the time and ``fields`` read from the form."""

    def run(party: Party, form: Any, order_id: str, now: dt.datetime) -> Any:
        values = {key: read(form) for key, read in fields.items()}
        return getattr(services, name)(db.session, order_id=order_id, party=party, now=now, **values)

    return run


ACTIONS: dict[str, Action] = {
    "requirements": Action(
        frozenset({BUYER}),
        RequirementsForm,
        _svc("submit_requirements", requirements=lambda f: f.requirements.data),
        _l("Requirements sent: the work has started."),
    ),
    "cancel": Action(
        frozenset({BUYER, PROVIDER}),
        OptionalReasonForm,
        _svc("cancel_order", reason=lambda f: f.reason.data),
        _l("The order is cancelled and what was held is refunded."),
    ),
    "deliver": Action(frozenset({PROVIDER}), NoteForm, _svc("deliver", note=lambda f: f.note.data), _l("Delivered.")),
    "accept": Action(frozenset({BUYER}), EmptyForm, _svc("accept_delivery"), _l("Delivery accepted.")),
    "revision": Action(
        frozenset({BUYER}), NoteForm, _svc("request_revision", note=lambda f: f.note.data), _l("Revision requested.")
    ),
    "extension_request": Action(
        frozenset({PROVIDER}),
        ExtensionRequestForm,
        _svc("request_extension", days=lambda f: f.days.data, reason=lambda f: f.reason.data),
        _l("Extension requested: the buyer has 4 days to answer."),
    ),
    "extension_answer": Action(
        frozenset({BUYER}),
        ExtensionAnswerForm,
        _svc("answer_extension", accept=lambda f: f.decision.data == "accept"),
        _l("Your answer is recorded."),
    ),
    "dispute": Action(
        frozenset({BUYER}),
        ReasonForm,
        _svc("open_dispute", reason=lambda f: f.reason.data),
        _l("Dispute opened: the provider has 5 days to answer."),
    ),
    "answer": Action(
        frozenset({PROVIDER}),
        AnswerForm,
        _svc("answer_dispute", answer=lambda f: f.answer.data),
        _l("Answer sent: mediation has started."),
    ),
    "offer": Action(
        frozenset({BUYER, PROVIDER}),
        OfferForm,
        _svc("make_offer", refund=lambda f: to_fen(f.refund.data), note=lambda f: f.note.data),
        _l("Offer made."),
    ),
    "accept_offer": Action(
        frozenset({BUYER, PROVIDER}),
        AcceptOfferForm,
        _svc("accept_offer", refund=lambda f: f.refund.data),
        _l("Offer accepted: the dispute is settled."),
    ),
    "escalate": Action(
        frozenset({BUYER, PROVIDER}),
        EmptyForm,
        _svc("escalate_dispute"),
        _l("The dispute goes to platform arbitration."),
    ),
    "arbitrate": Action(
        frozenset({ADMIN}),
        ArbitrationForm,
        _svc(
            "arbitrate",
            decision=lambda f: f.decision.data,
            refund=lambda f: to_fen(f.refund.data) if f.refund.data is not None else None,
            note=lambda f: f.note.data,
        ),
        _l("Decision recorded and escrow split."),
    ),
    "message": Action(
        frozenset({BUYER, PROVIDER, ADMIN}), MessageForm, _svc("post_message", body=lambda f: f.body.data), _l("Sent.")
    ),
    "rate": Action(
        frozenset({BUYER}),
        RatingForm,
        _svc("rate_provider", stars=lambda f: f.stars.data, text=lambda f: f.text.data),
        _l("Thank you for rating the provider."),
    ),
}


def _render_order(order: ServiceOrder, roles: dict[str, Party], bound: dict[str, FlaskForm] | None = None) -> str:
    now = app_now()
    forms: dict[str, FlaskForm] = {name: action.form(formdata=None) for name, action in ACTIONS.items()}
    forms["file"] = FileForm(formdata=None)
    forms.update(bound or {})
    moves = {role: allowed_moves(order.state, role) for role in roles}
    cancellable_after = order.due_at + OVERDUE_GRACE if order.due_at else None
    rating = services.rating_of(db.session, order)
    return render_template(
        "service_market/order.html",
        order=order,
        roles=roles,
        moves=moves,
        forms=forms,
        timeline=services.timeline(db.session, order),
        files=services.files_of(db.session, order),
        extension=services.pending_extension(db.session, order),
        rating=rating,
        escrow=services.escrow_balance(db.session, order),
        milestone=order.current_milestone,
        cancellable_after=cancellable_after,
        overdue=cancellable_after is not None and now > cancellable_after,
        can_rate=order.state in services.RATABLE_STATES
        and any(m.delivered_at for m in order.milestones)
        and rating is None,
        final=order.state in FINAL_STATES,
        in_dispute=order.state in DISPUTE_STATES,
    )


@bp.get("/service-orders/<order_id>")
@login_required
def order_page(order_id: str) -> str:
    order, roles = _parties(order_id)
    return _render_order(order, roles)


@bp.post("/service-orders/<order_id>/<role>/<action>")
@login_required
def order_action(order_id: str, role: str, action: str) -> Any:
    order, roles = _parties(order_id)
    chosen = ACTIONS.get(action)
    if chosen is None or role not in chosen.roles or role not in roles:
        abort(404)
    form = chosen.form()
    if not form.validate_on_submit():
        return _render_order(order, roles, {action: form})
    try:
        chosen.run(roles[role], form, order.id, app_now())
    except SoukError as exc:
        db.session.rollback()
        if _apply_errors(form, exc):
            return _render_order(db.session.get(ServiceOrder, order_id) or order, roles, {action: form})
        flash(exc.detail, "error")
    else:
        db.session.commit()
        flash(str(chosen.done), "success")
    return redirect(url_for("service_market.order_page", order_id=order_id) + "#actions")


@bp.post("/service-orders/<order_id>/<role>/files")
@login_required
def upload(order_id: str, role: str) -> Any:
    # Room for a 5 MiB file and the form around it; read before anything touches the body.
    request.max_content_length = MAX_FILE_BYTES + 256 * 1024
    order, roles = _parties(order_id)
    if role not in (BUYER, PROVIDER) or role not in roles:
        abort(404)
    form = FileForm()
    if not form.validate_on_submit() or not form.file.data:
        # This view checks its own CSRF token (see _exempt_uploads): say so next to the file.
        form.file.errors = [*form.errors.get("csrf_token", [])] or [_("Choose a file.")]
        return _render_order(order, roles, {"file": form})
    upload = form.file.data
    try:
        services.upload_file(
            db.session,
            order_id=order.id,
            party=roles[role],
            filename=upload.filename or "file",
            content=upload.read(MAX_FILE_BYTES + 1),
            now=app_now(),
        )
    except SoukError as exc:
        db.session.rollback()
        form.file.errors = [exc.detail]
        return _render_order(db.session.get(ServiceOrder, order_id) or order, roles, {"file": form})
    db.session.commit()
    flash(_("File added."), "success")
    return redirect(url_for("service_market.order_page", order_id=order_id) + "#files")


@bp.get("/service-orders/<order_id>/files/<file_id>")
@login_required
def download(order_id: str, file_id: str) -> Response:
    _order, roles = _parties(order_id)
    stored = services.get_file(db.session, order_id=order_id, file_id=file_id, party=next(iter(roles.values())))
    return file_response(stored.content, stored.content_type, stored.filename)


# --- platform admin ------------------------------------------------------------------------------


@bp.get("/admin/service-disputes")
@login_required
def admin_disputes() -> str:
    if not signed_in_user().is_platform_admin:
        abort(403)
    disputes = db.session.scalars(services.disputes_stmt().limit(LIST_LIMIT)).all()
    return render_template("service_market/admin_disputes.html", disputes=disputes, now=app_now())
