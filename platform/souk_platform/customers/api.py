"""The customers API: list, create, read and change customers."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from souk_platform.api import (
    PageArgs,
    current_principal,
    etag,
    expected_version,
    page_of,
    page_schema,
    paginated,
    requires,
    transactional,
)
from souk_platform.api.parsing import Blueprint
from souk_platform.core.clock import app_now
from souk_platform.customers import services
from souk_platform.customers.models import Customer, CustomerIdentity
from souk_platform.customers.schemas import (
    CustomerCreateSchema,
    CustomerQuerySchema,
    CustomerSchema,
    CustomerUpdateSchema,
    IdentityCreateSchema,
    IdentitySchema,
)
from souk_platform.db import db

blp = Blueprint("customers", __name__, url_prefix="/customers", description="The shop's customers")


def _view(customer: Customer) -> dict[str, Any]:
    return services.customer_views(db.session, shop_id=customer.shop_id, customers=[customer])[0]


@blp.route("")
class CustomerList(MethodView):
    @requires("read_customers")
    @blp.arguments(CustomerQuerySchema, location="query")
    @blp.response(200, page_schema(CustomerSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Customers, newest first; filter by text (name, phone, email), level, tag or external identity"""
        shop_id = current_principal().shop_id
        stmt = services.list_customers_stmt(
            shop_id,
            q=args.pop("q"),
            level=args.pop("level"),
            tag=args.pop("tag"),
            identity_provider=args.pop("identity_provider"),
            identity_external_id=args.pop("identity_external_id"),
        )
        page = page_of(db.session, stmt, Customer.id, **args)
        body, status, headers = paginated(page)
        body["items"] = services.customer_views(db.session, shop_id=shop_id, customers=page.items)
        return body, status, headers

    @requires("write_customers")
    @transactional
    @blp.arguments(CustomerCreateSchema)
    @blp.response(201, CustomerSchema)
    @blp.alt_response(409, description="Another customer of the shop has this phone or email")
    def post(self, fields: dict[str, Any]) -> Any:
        """Add a customer (phone and email are unique within the shop)"""
        customer = services.create_customer(db.session, shop_id=current_principal().shop_id, now=app_now(), **fields)
        return _view(customer), 201, etag(customer.version)


@blp.route("/<customer_id>")
class CustomerResource(MethodView):
    @requires("read_customers")
    @blp.response(200, CustomerSchema)
    def get(self, customer_id: str) -> Any:
        """One customer, with tags and member level"""
        customer = services.get_customer(db.session, shop_id=current_principal().shop_id, customer_id=customer_id)
        return _view(customer), 200, etag(customer.version)

    @requires("write_customers")
    @transactional
    @blp.arguments(CustomerUpdateSchema)
    @blp.response(200, CustomerSchema)
    @blp.alt_response(409, description="Another customer of the shop has this phone or email")
    @blp.alt_response(412, description="If-Match names a stale version")
    @blp.alt_response(428, description="If-Match is missing: send the version you read")
    def patch(self, changes: dict[str, Any], customer_id: str) -> Any:
        """Change a customer's profile (If-Match with the version you read is required)"""
        customer = services.update_customer(
            db.session,
            shop_id=current_principal().shop_id,
            customer_id=customer_id,
            changes=changes,
            expected_version=expected_version(),
            version_required=True,
            now=app_now(),
        )
        return _view(customer), 200, etag(customer.version)


@blp.route("/<customer_id>/identities")
class IdentityList(MethodView):
    @requires("read_customers")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(IdentitySchema))
    def get(self, args: dict[str, Any], customer_id: str) -> Any:
        """The ids other systems know a customer by (WeChat openid/unionid, Alipay, an app's user id)"""
        shop_id = current_principal().shop_id
        stmt = services.list_identities_stmt(db.session, shop_id=shop_id, customer_id=customer_id)
        page = page_of(db.session, stmt, CustomerIdentity.id, **args)
        return paginated(page, view=services.identity_view)

    @requires("write_customers")
    @transactional
    @blp.arguments(IdentityCreateSchema)
    @blp.response(201, IdentitySchema)
    @blp.alt_response(200, schema=IdentitySchema, description="The customer already had this identity")
    @blp.alt_response(409, description="Another customer of the shop has this identity")
    def post(self, fields: dict[str, Any], customer_id: str) -> Any:
        """Link an external identity to a customer (unique per shop, provider and external id)"""
        identity, created = services.add_identity(
            db.session, shop_id=current_principal().shop_id, customer_id=customer_id, **fields
        )
        return services.identity_view(identity), 201 if created else 200


@blp.route("/<customer_id>/identities/<identity_id>")
class IdentityResource(MethodView):
    @requires("write_customers")
    @transactional
    @blp.response(204)
    def delete(self, customer_id: str, identity_id: str) -> Any:
        """Unlink an external identity from a customer"""
        services.remove_identity(
            db.session, shop_id=current_principal().shop_id, customer_id=customer_id, identity_id=identity_id
        )
        return "", 204
