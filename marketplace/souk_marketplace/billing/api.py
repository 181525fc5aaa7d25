"""Billing API: apps ask for subscriptions, one-time and usage charges (with their installation token) and
refund them; shops read their subscriptions, charges and invoices (``read_billing``) and cancel (``write_billing``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, g, request, url_for
from flask.views import MethodView

from souk_marketplace.billing import errors, services
from souk_marketplace.billing.models import AppCharge, AppSubscription, Invoice
from souk_marketplace.billing.schemas import (
    AppChargeDetailSchema,
    AppChargeQuerySchema,
    AppChargeSchema,
    AppSubscriptionCreateSchema,
    AppSubscriptionQuerySchema,
    AppSubscriptionSchema,
    BillingInvoiceDetailSchema,
    BillingInvoiceSchema,
    ChargeRefundCreateSchema,
    ChargeRefundSchema,
    CurrentAppSubscriptionSchema,
    OneTimeChargeCreateSchema,
    UsageRecordCreateSchema,
)
from souk_platform.api import PageArgs, etag, idempotent, page_of, page_schema, paginated, requires, transactional
from souk_platform.api.guard import current_principal
from souk_platform.api.parsing import Blueprint
from souk_platform.apps.models import App, Installation
from souk_platform.auth.errors import InsufficientScope, InvalidToken
from souk_platform.auth.scopes import grants
from souk_platform.auth.services import Principal, resolve_token
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.oauth.errors import InvalidAppToken
from souk_platform.oauth.services import resolve_app_token
from souk_platform.ratelimit.limiter import charge_request

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint(
    "billing",
    __name__,
    url_prefix="/billing",
    description=(
        "App billing. An app, with its installation's token, asks for a subscription or a one-time charge and "
        "sends the merchant to `confirmation_url` to approve it; usage is charged against the cap the merchant "
        "approved. Shops read charges and invoices with `read_billing` and cancel with `write_billing`."
    ),
)

_CHALLENGE = 'Bearer realm="souk"'


def _bearer() -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise InvalidToken(
            "Send an access token as 'Authorization: Bearer <token>'.", headers={"WWW-Authenticate": _CHALLENGE}
        )
    return value.strip()


def _shop_principal(value: str) -> Principal:
    try:
        principal = resolve_token(db.session, value, current_app.extensions["souk.clock"])
    except InvalidToken as exc:
        exc.headers["WWW-Authenticate"] = _CHALLENGE + ', error="invalid_token"'
        raise
    charge_request(principal)
    return principal


def _documented(view: Callable[..., Any], description: str) -> Any:
    return Blueprint.doc(
        security=[{"bearerAuth": []}],
        description=description,
        responses={"401": "UNAUTHORIZED", "403": "FORBIDDEN", "429": "TOO_MANY_REQUESTS"},
    )(view)


def installation_token(view: F) -> F:
    """The caller must be an app, with its installation's token on this shop (staff tokens get 403)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        principal = _shop_principal(_bearer())
        if principal.installation_id is None:
            raise errors.InstallationTokenRequired(
                "Only an app, with its installation's OAuth token, can ask for charges and subscriptions on its "
                "own behalf; a shop staff token cannot. Merchants approve charges on the confirmation page."
            )
        g.principal = principal
        return view(*args, **kwargs)

    return cast(F, _documented(wrapper, "Needs the app's installation token (OAuth, bound to this shop)."))


def shop_token(staff_scope: str) -> Callable[[F], F]:
    """Any token of the shop: an app's installation token (the view shows only its own objects), or a
    staff token holding ``staff_scope``. Checked before the body is read or anything is looked up, so a
    token without the scope gets 403, never a 404 or 422 that would say what exists."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = _shop_principal(_bearer())
            if principal.installation_id is None:
                _require_scope(principal, staff_scope)
            g.principal = principal
            return view(*args, **kwargs)

        return cast(F, _documented(wrapper, f"The app's own installation token, or a shop token with {staff_scope}."))

    return decorator


def staff_token(view: F) -> F:
    """After ``requires``: refuse an app's installation token before the request is read any further."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_principal().installation_id is not None:
            # An invoice lists what the shop pays every app: one app must not read what the others charge.
            raise errors.StaffTokenRequired(
                "Invoices are for the shop's staff: an app reads its own charges at /billing/charges."
            )
        return view(*args, **kwargs)

    return cast(F, wrapper)


def app_or_installation_token(view: F) -> F:
    """The app's installation token on the shop, or its client-credentials app token (``g.calling_app``)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        value = _bearer()
        try:
            g.principal = _shop_principal(value)
            if g.principal.installation_id is None:
                raise errors.NotTheAppsCharge(
                    "Only the app that made this charge can refund it, with its installation or app token."
                )
        except InvalidToken:
            try:
                g.calling_app = resolve_app_token(db.session, value, now=app_now())
            except InvalidAppToken:
                raise InvalidToken(
                    "The token is missing, unknown, expired or revoked.",
                    headers={"WWW-Authenticate": _CHALLENGE + ', error="invalid_token"'},
                ) from None
        return view(*args, **kwargs)

    return cast(
        F,
        _documented(wrapper, "Needs the app's installation token on the shop, or its app token (client credentials)."),
    )


def _app_id_of(principal: Principal) -> str | None:
    """The app an installation token speaks for (None for a staff token)."""
    if principal.installation_id is None:
        return None
    installation = db.session.get(Installation, principal.installation_id)
    return installation.app_id if installation else None


def _require_scope(principal: Principal, scope: str) -> None:
    if not grants(principal.scopes, scope):
        raise InsufficientScope(
            f"This endpoint needs the '{scope}' scope (or the app's own installation token).",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
            required_scope=scope,
        )


def _terms() -> services.BillingTerms:
    return services.terms_from_config(current_app.config)


def confirmation_url(target: AppSubscription | AppCharge) -> str | None:
    """The Souk page where the shop owner approves ``target`` (None once decided)."""
    if target.status != "pending":
        return None
    path = url_for("billing_pages.approve", shop_id=target.shop_id, object_id=target.id)
    return str(current_app.config["SOUK_PUBLIC_URL"]).rstrip("/") + path


def _subscription_out(sub: AppSubscription | None) -> dict[str, Any] | None:
    if sub is None:
        return None
    return {name: getattr(sub, name) for name in AppSubscriptionSchema().fields if name != "confirmation_url"} | {
        "confirmation_url": confirmation_url(sub)
    }


def _charge_out(charge: AppCharge, *, detail: bool = False) -> dict[str, Any]:
    fields = {name: getattr(charge, name) for name in AppChargeSchema().fields if name != "confirmation_url"}
    fields["confirmation_url"] = confirmation_url(charge) if charge.kind == "one_time" else None
    if detail:
        fields["refunds"] = services.refunds_of(db.session, [charge.id])[charge.id]
    return fields


@blp.route("/subscriptions")
class Subscriptions(MethodView):
    @requires("read_billing")
    @blp.arguments(AppSubscriptionQuerySchema, location="query")
    @blp.response(200, page_schema(AppSubscriptionSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's app subscriptions, newest first (an app sees only its own)"""
        principal = current_principal()
        stmt = services.subscriptions_stmt(principal.shop_id, app_id=_app_id_of(principal), status=args.pop("status"))
        page = page_of(db.session, stmt, AppSubscription.id, **args)
        return paginated(type(page)([_subscription_out(s) for s in page.items], page.next_cursor))

    @installation_token
    @idempotent
    @blp.arguments(AppSubscriptionCreateSchema)
    @blp.response(201, AppSubscriptionSchema)
    @blp.alt_response(409, description="The shop is already on this plan")
    @blp.alt_response(422, description="No such plan in the installed version, or a bad return_url")
    def post(self, args: dict[str, Any]) -> Any:
        """Ask the merchant for a plan of the installed app version; send them to confirmation_url to approve

        Asking while another plan is live is a plan change: once approved, the unused part of the old plan is
        credited and the new plan's part of the period charged. Free plans, and shops that get the app free
        (crowdfunding backers), are approved at once.
        """
        principal = current_principal()
        assert principal.installation_id is not None
        sub = services.create_subscription(
            db.session,
            shop_id=principal.shop_id,
            installation_id=principal.installation_id,
            terms=_terms(),
            now=app_now(),
            **args,
        )
        return _subscription_out(sub), 201, etag(sub.version)


@blp.route("/subscription")
class CurrentSubscription(MethodView):
    @installation_token
    @blp.response(200, CurrentAppSubscriptionSchema)
    def get(self) -> Any:
        """The calling app's billing status here: none, pending, trial, active, declined, cancelled or frozen

        Anything but trial or active means the merchant is not paying now (`limited: true`): keep the app in
        its limited mode. A plan request awaiting approval is in `pending`.
        """
        principal = current_principal()
        assert principal.installation_id is not None
        status, sub, pending = services.current_subscription(db.session, installation_id=principal.installation_id)
        return {
            "status": status,
            "limited": status not in ("trial", "active"),
            "subscription": _subscription_out(sub),
            "pending": _subscription_out(pending) if pending is not sub else None,
        }


@blp.route("/subscriptions/<app_subscription_id>")
class SubscriptionResource(MethodView):
    @shop_token("read_billing")
    @blp.response(200, AppSubscriptionSchema)
    def get(self, app_subscription_id: str) -> Any:
        """One subscription (the app's own, or any of the shop's with read_billing)"""
        principal = current_principal()
        sub = services.get_subscription(
            db.session, shop_id=principal.shop_id, subscription_id=app_subscription_id, app_id=_app_id_of(principal)
        )
        return _subscription_out(sub), 200, etag(sub.version)


@blp.route("/subscriptions/<app_subscription_id>/cancel")
class CancelSubscription(MethodView):
    @shop_token("write_billing")
    @transactional
    @blp.response(200, AppSubscriptionSchema)
    @blp.alt_response(409, description="Already cancelled, declined or replaced")
    def post(self, app_subscription_id: str) -> Any:
        """Cancel a subscription now: by the app itself, or by the shop with write_billing (no automatic refund)"""
        principal = current_principal()
        app_id = _app_id_of(principal)
        sub = services.cancel_subscription(
            db.session, shop_id=principal.shop_id, subscription_id=app_subscription_id, app_id=app_id, now=app_now()
        )
        return _subscription_out(sub), 200, etag(sub.version)


@blp.route("/one-time-charges")
class OneTimeCharges(MethodView):
    @installation_token
    @idempotent
    @blp.arguments(OneTimeChargeCreateSchema)
    @blp.response(201, AppChargeSchema)
    @blp.alt_response(422, description="A bad amount, currency or return_url")
    def post(self, args: dict[str, Any]) -> Any:
        """Ask the merchant for a one-time payment; send them to confirmation_url to approve it"""
        principal = current_principal()
        assert principal.installation_id is not None
        charge = services.create_one_time_charge(
            db.session,
            shop_id=principal.shop_id,
            installation_id=principal.installation_id,
            terms=_terms(),
            now=app_now(),
            **args,
        )
        return _charge_out(charge), 201, etag(charge.version)


@blp.route("/usage-records")
class UsageRecords(MethodView):
    @installation_token
    @idempotent
    @blp.arguments(UsageRecordCreateSchema)
    @blp.response(201, AppChargeSchema)
    @blp.alt_response(200, schema=AppChargeSchema, description="The same idempotency key: the first charge, unchanged")
    @blp.alt_response(409, description="Over the approved cap, no live usage plan, or the shop's balance is short")
    def post(self, args: dict[str, Any]) -> Any:
        """Charge usage now against the usage plan's cap for the period (money moves at once)"""
        principal = current_principal()
        assert principal.installation_id is not None
        charge, created = services.record_usage(
            db.session,
            shop_id=principal.shop_id,
            installation_id=principal.installation_id,
            terms=_terms(),
            now=app_now(),
            **args,
        )
        return _charge_out(charge), 201 if created else 200, etag(charge.version)


@blp.route("/charges")
class Charges(MethodView):
    @requires("read_billing")
    @blp.arguments(AppChargeQuerySchema, location="query")
    @blp.response(200, page_schema(AppChargeSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's app charges (one-time, period fees, usage, proration), newest first; an app sees its own"""
        principal = current_principal()
        stmt = services.charges_stmt(
            principal.shop_id, app_id=_app_id_of(principal), kind=args.pop("kind"), status=args.pop("status")
        )
        page = page_of(db.session, stmt, AppCharge.id, **args)
        return paginated(type(page)([_charge_out(c) for c in page.items], page.next_cursor))


@blp.route("/charges/<charge_id>")
class ChargeResource(MethodView):
    @shop_token("read_billing")
    @blp.response(200, AppChargeDetailSchema)
    def get(self, charge_id: str) -> Any:
        """One charge with its refunds (the app's own, or any of the shop's with read_billing)"""
        principal = current_principal()
        charge = services.get_charge(
            db.session, charge_id=charge_id, shop_id=principal.shop_id, app_id=_app_id_of(principal)
        )
        return _charge_out(charge, detail=True), 200, etag(charge.version)


@blp.route("/charges/<charge_id>/refunds")
class ChargeRefunds(MethodView):
    @app_or_installation_token
    @transactional
    @blp.arguments(ChargeRefundCreateSchema)
    @blp.response(201, ChargeRefundSchema)
    @blp.alt_response(200, schema=ChargeRefundSchema, description="The same Idempotency-Key: the first refund")
    @blp.alt_response(409, description="The charge was not paid, or the developer's earnings cannot cover it")
    @blp.alt_response(422, description="More than is left to refund")
    def post(self, args: dict[str, Any], charge_id: str) -> Any:
        """The app refunds part or all of a paid charge (its installation token or its app token)

        Send `Idempotency-Key` to retry safely: the same key returns the first refund and moves nothing.
        """
        calling_app: App | None = g.get("calling_app")
        if calling_app is not None:
            charge = services.get_charge(db.session, charge_id=charge_id, app_id=calling_app.id)
        else:
            principal = current_principal()
            charge = services.get_charge(db.session, charge_id=charge_id, shop_id=principal.shop_id)
            app_id = _app_id_of(principal)
            if app_id != charge.app_id:
                raise errors.ChargeNotFound(f"No app charge {charge_id} here.")  # another app's: never confirm it
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 1 <= len(key) <= 255:
            raise errors.InvalidBillingRequest("Idempotency-Key must be 1 to 255 characters.")
        before = services.refunds_of(db.session, [charge.id])[charge.id]
        refund = services.refund_charge(
            db.session, charge=charge, created_by="app", idempotency_key=key, now=app_now(), **args
        )
        return refund, 200 if refund in before else 201


@blp.route("/invoices")
class Invoices(MethodView):
    @requires("read_billing")
    @staff_token
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(BillingInvoiceSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's monthly invoices of app charges and refunds, newest first (for the merchant's staff)"""
        principal = current_principal()
        return paginated(page_of(db.session, services.invoices_stmt(principal.shop_id), Invoice.id, **args))


@blp.route("/invoices/<invoice_id>")
class InvoiceResource(MethodView):
    @requires("read_billing")
    @staff_token
    @blp.response(200, BillingInvoiceDetailSchema)
    def get(self, invoice_id: str) -> Any:
        """One invoice with its lines (dates in the shop's timezone)"""
        principal = current_principal()
        return services.get_invoice(db.session, shop_id=principal.shop_id, invoice_id=invoice_id)
