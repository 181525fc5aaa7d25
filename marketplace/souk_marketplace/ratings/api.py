"""The ratings API: a shop rates an app it used (shop token, ``write_shop``); its developer replies (app token).

Ratings are the shop's own voice, so only the shop's staff tokens write them: an installed app's token
(even with ``write_shop``) cannot rate apps on the merchant's behalf.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView

from souk_marketplace.ratings import services
from souk_marketplace.ratings.errors import RatingsByStaffOnly
from souk_marketplace.ratings.models import AppRating
from souk_marketplace.ratings.schemas import RatingInputSchema, RatingSchema, ReplyInputSchema
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
from souk_platform.apps.models import App
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.oauth.api import requires_app_token

blp = Blueprint(
    "market_ratings",
    __name__,
    url_prefix="",  # /market/apps/{app_id}/rating (shops) and /app/ratings (developers)
    description="Ratings of apps by the shops that used them, and the developers' replies.",
)


@blp.route("/market/apps/<app_id>/rating")
class ShopRating(MethodView):
    @requires("read_shop")
    @blp.response(200, RatingSchema)
    def get(self, app_id: str) -> Any:
        """This shop's rating of the app"""
        rating = services.get_shop_rating(db.session, app_id=app_id, shop_id=current_principal().shop_id)
        return rating, 200, etag(rating.version)

    @requires("write_shop")
    @transactional
    @blp.arguments(RatingInputSchema)
    @blp.response(200, RatingSchema)
    @blp.alt_response(201, schema=RatingSchema, description="The shop's first rating of the app")
    @blp.alt_response(412, description="If-Match names a stale version")
    def put(self, args: dict[str, Any], app_id: str) -> Any:
        """Rate the app 1–5 with a text, or change the rating (shops that used it for a day; staff tokens only)"""
        principal = current_principal()
        if principal.installation_id is not None:
            raise RatingsByStaffOnly("Rate apps with one of the shop's own access tokens, not an app's.")
        rating, created = services.rate_app(
            db.session,
            app_id=app_id,
            shop_id=principal.shop_id,
            now=app_now(),
            expected_version=expected_version(),
            **args,
        )
        return rating, 201 if created else 200, etag(rating.version)


@blp.route("/app/ratings")
class AppRatings(MethodView):
    @requires_app_token
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(RatingSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Ratings of the calling app, newest first"""
        app: App = g.calling_app
        return paginated(page_of(db.session, services.ratings_stmt(app.id), AppRating.id, **args))


@blp.route("/app/ratings/<rating_id>/reply")
class RatingReply(MethodView):
    @requires_app_token
    @transactional
    @blp.arguments(ReplyInputSchema)
    @blp.response(200, RatingSchema)
    @blp.alt_response(409, description="The rating already has a reply")
    def post(self, args: dict[str, Any], rating_id: str) -> Any:
        """Reply once, publicly, to a rating of the calling app"""
        app: App = g.calling_app
        return services.reply(db.session, app_id=app.id, rating_id=rating_id, text=args["text"], now=app_now())
