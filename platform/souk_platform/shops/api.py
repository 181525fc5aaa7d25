from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView

from souk_platform.api import (
    PageArgs,
    current_principal,
    etag,
    expected_version,
    fast_response,
    kept_with_token,
    page_of,
    page_schema,
    paginated,
    requires,
    transactional,
)
from souk_platform.api.parsing import Blueprint
from souk_platform.db import db
from souk_platform.shops import services
from souk_platform.shops.models import StaffMember
from souk_platform.shops.schemas import ShopSchema, ShopUpdateSchema, StaffSchema, shop_json

blp = Blueprint("shop", __name__, url_prefix="/shop", description="The shop the token belongs to")


@blp.route("")
class ShopResource(MethodView):
    @requires("read_shop")
    @fast_response(blp, 200, ShopSchema)
    def get(self) -> Any:
        """The token's shop, with its settings"""
        shop_id = current_principal().shop_id
        shop = kept_with_token("shop_row", lambda: services.get_shop_row(db.session, shop_id))
        return shop_json(shop), 200, etag(shop.version)

    @requires("write_shop")
    @transactional
    @blp.arguments(ShopUpdateSchema)
    @blp.response(200, ShopSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any]) -> Any:
        """Change the shop's name or settings (send If-Match with the version you read)"""
        shop = services.update_shop(
            db.session, shop_id=current_principal().shop_id, changes=changes, expected_version=expected_version()
        )
        return shop, 200, etag(shop.version)


@blp.route("/staff")
class StaffList(MethodView):
    @requires("read_shop")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(StaffSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's staff"""
        stmt = sa.select(StaffMember).where(StaffMember.shop_id == current_principal().shop_id)
        return paginated(page_of(db.session, stmt, StaffMember.id, **args))
