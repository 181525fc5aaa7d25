"""Benefit packages (权益包), their grants (权益使用记录) and a member's entitlements (会员享权判断)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from souk_platform.api import (
    current_principal,
    etag,
    expected_version,
    idempotent,
    page_of,
    page_schema,
    paginated,
    requires,
    transactional,
)
from souk_platform.api.parsing import Blueprint
from souk_platform.benefits import services
from souk_platform.benefits.models import BenefitGrant, BenefitPackage
from souk_platform.benefits.schemas import (
    BenefitGrantQuerySchema,
    BenefitGrantSchema,
    BenefitPackageQuerySchema,
    BenefitPackageSchema,
    BenefitPackageUpdateSchema,
    CustomerBenefitsSchema,
    GrantRequestSchema,
    GrantResultSchema,
)
from souk_platform.core.clock import app_now
from souk_platform.db import db

blp = Blueprint(
    "benefits",
    __name__,
    url_prefix="",  # three collections: /benefit-packages, /benefit-grants, /customers/{id}/benefits
    description="Benefit packages (权益包): what members receive on joining, levels, birthdays, or by hand",
)


@blp.route("/benefit-packages")
class PackageList(MethodView):
    @requires("read_benefits")
    @blp.arguments(BenefitPackageQuerySchema, location="query")
    @blp.response(200, page_schema(BenefitPackageSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's benefit packages, newest first"""
        stmt = services.packages_stmt(
            current_principal().shop_id, trigger=args.pop("trigger"), status=args.pop("status")
        )
        page = page_of(db.session, stmt, BenefitPackage.id, **args)
        return paginated(page, view=services.package_view)

    @requires("write_benefits")
    @transactional
    @blp.arguments(BenefitPackageSchema)
    @blp.response(201, BenefitPackageSchema)
    def post(self, fields: dict[str, Any]) -> Any:
        """Create a benefit package: its items and its trigger"""
        package = services.create_package(db.session, shop_id=current_principal().shop_id, fields=fields)
        return services.package_view(package), 201, etag(package.version)


@blp.route("/benefit-packages/<package_id>")
class PackageResource(MethodView):
    @requires("read_benefits")
    @blp.response(200, BenefitPackageSchema)
    def get(self, package_id: str) -> Any:
        """One benefit package"""
        package = services.get_package(db.session, shop_id=current_principal().shop_id, package_id=package_id)
        return services.package_view(package), 200, etag(package.version)

    @requires("write_benefits")
    @transactional
    @blp.arguments(BenefitPackageUpdateSchema)
    @blp.response(200, BenefitPackageSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], package_id: str) -> Any:
        """Change a package, or disable it with {"status": "disabled"} (send If-Match with the version you read)"""
        package = services.update_package(
            db.session,
            shop_id=current_principal().shop_id,
            package_id=package_id,
            changes=changes,
            expected_version=expected_version(),
        )
        return services.package_view(package), 200, etag(package.version)

    @requires("write_benefits")
    @transactional
    @blp.response(204)
    @blp.alt_response(409, description="The package has been granted: disable it instead")
    @blp.alt_response(412, description="If-Match names a stale version")
    def delete(self, package_id: str) -> Any:
        """Delete a package that was never granted"""
        services.delete_package(
            db.session, shop_id=current_principal().shop_id, package_id=package_id, expected_version=expected_version()
        )
        return None


@blp.route("/benefit-packages/<package_id>/grants")
class PackageGrants(MethodView):
    @requires("write_benefits")
    @idempotent
    @blp.arguments(GrantRequestSchema)
    @blp.response(201, GrantResultSchema)
    @blp.alt_response(409, description="The package is disabled")
    def post(self, body: dict[str, Any], package_id: str) -> Any:
        """Grant a package by hand to up to 500 customers, once per period (send an Idempotency-Key)"""
        return services.grant_by_hand(
            db.session,
            shop_id=current_principal().shop_id,
            package_id=package_id,
            customer_ids=body["customer_ids"],
            period=body["period"],
            note=body["note"],
            now=app_now(),
        )


@blp.route("/benefit-grants")
class GrantList(MethodView):
    @requires("read_benefits")
    @blp.arguments(BenefitGrantQuerySchema, location="query")
    @blp.response(200, page_schema(BenefitGrantSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """权益使用记录: grants, newest first; filter by customer, package or status (active, used, expired)"""
        stmt = services.grants_stmt(
            current_principal().shop_id,
            customer_id=args.pop("customer_id"),
            package_id=args.pop("package_id"),
            status=args.pop("status"),
        )
        page = page_of(db.session, stmt, BenefitGrant.id, **args)
        body, status, headers = paginated(page)
        body["items"] = services.grant_views(db.session, page.items)
        return body, status, headers


@blp.route("/benefit-grants/<grant_id>")
class GrantResource(MethodView):
    @requires("read_benefits")
    @blp.response(200, BenefitGrantSchema)
    def get(self, grant_id: str) -> Any:
        """One grant"""
        grant = services.get_grant(db.session, shop_id=current_principal().shop_id, grant_id=grant_id)
        return services.grant_views(db.session, [grant])[0], 200, etag(grant.version)


@blp.route("/benefit-grants/<grant_id>/use")
class GrantUse(MethodView):
    @requires("write_benefits")
    @transactional
    @blp.response(200, BenefitGrantSchema)
    @blp.alt_response(409, description="The grant was used or has expired")
    @blp.alt_response(412, description="If-Match names a stale version")
    def post(self, grant_id: str) -> Any:
        """Mark a grant used (a cashier or an app redeemed it): benefit.used"""
        grant = services.use_grant(
            db.session,
            shop_id=current_principal().shop_id,
            grant_id=grant_id,
            now=app_now(),
            expected_version=expected_version(),
        )
        return services.grant_views(db.session, [grant])[0], 200, etag(grant.version)


@blp.route("/customers/<customer_id>/benefits")
class CustomerBenefits(MethodView):
    @requires("read_benefits")
    @blp.response(200, CustomerBenefitsSchema)
    def get(self, customer_id: str) -> Any:
        """会员享权判断: what this member is entitled to now, and why (a grant, or their level)"""
        return services.customer_benefits(
            db.session, shop_id=current_principal().shop_id, customer_id=customer_id, now=app_now()
        )
