"""Coupons and promotions: CRUD, their redemptions, and a side-effect-free discount preview."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from souk_platform.api import (
    PageArgs,
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
from souk_platform.core.clock import app_now
from souk_platform.coupons import issues, services
from souk_platform.coupons.models import Coupon, CouponIssue, CouponIssueResult, CouponRedemption
from souk_platform.coupons.schemas import (
    CouponIssueCreateSchema,
    CouponIssueResultSchema,
    CouponIssueSchema,
    CouponQuerySchema,
    CouponRedemptionSchema,
    CouponSchema,
    CouponUpdateSchema,
    DiscountPreviewResultSchema,
    DiscountPreviewSchema,
    IssueResultQuerySchema,
)
from souk_platform.db import db
from souk_platform.jobs.runner import enqueue_after_commit

blp = Blueprint("coupons", __name__, url_prefix="/coupons", description="Coupons and automatic promotions")


@blp.route("")
class CouponList(MethodView):
    @requires("read_coupons")
    @blp.arguments(CouponQuerySchema, location="query")
    @blp.response(200, page_schema(CouponSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's coupons and promotions, newest first"""
        stmt = services.coupons_stmt(
            current_principal().shop_id,
            status=args.pop("status"),
            auto_apply=args.pop("auto_apply"),
            code=args.pop("code"),
        )
        return paginated(page_of(db.session, stmt, Coupon.id, **args))

    @requires("write_coupons")
    @transactional
    @blp.arguments(CouponSchema)
    @blp.response(201, CouponSchema)
    @blp.alt_response(409, description="Another coupon of the shop has this code")
    def post(self, fields: dict[str, Any]) -> Any:
        """Create a coupon, or an automatic promotion (auto_apply)"""
        coupon = services.create_coupon(db.session, shop_id=current_principal().shop_id, fields=fields)
        return coupon, 201, etag(coupon.version)


@blp.route("/preview")
class CouponPreview(MethodView):
    @requires("read_coupons")
    @blp.arguments(DiscountPreviewSchema)
    @blp.response(200, DiscountPreviewResultSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """The discounts an order would get from these codes and the automatic promotions (changes nothing)"""
        return services.preview_discounts(
            db.session,
            shop_id=current_principal().shop_id,
            customer_id=body["customer_id"],
            subtotal=body["subtotal"],
            codes=body["codes"],
            now=app_now(),
        )


@blp.route("/<coupon_id>")
class CouponResource(MethodView):
    @requires("read_coupons")
    @blp.response(200, CouponSchema)
    def get(self, coupon_id: str) -> Any:
        """One coupon"""
        coupon = services.get_coupon(db.session, shop_id=current_principal().shop_id, coupon_id=coupon_id)
        return coupon, 200, etag(coupon.version)

    @requires("write_coupons")
    @transactional
    @blp.arguments(CouponUpdateSchema)
    @blp.response(200, CouponSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], coupon_id: str) -> Any:
        """Change a coupon; disable it with {"status": "disabled"} (send If-Match with the version you read)"""
        coupon = services.update_coupon(
            db.session,
            shop_id=current_principal().shop_id,
            coupon_id=coupon_id,
            changes=changes,
            expected_version=expected_version(),
        )
        return coupon, 200, etag(coupon.version)

    @requires("write_coupons")
    @transactional
    @blp.response(204)
    @blp.alt_response(409, description="The coupon has been used: disable it instead")
    def delete(self, coupon_id: str) -> Any:
        """Delete a coupon that was never used"""
        services.delete_coupon(
            db.session, shop_id=current_principal().shop_id, coupon_id=coupon_id, expected_version=expected_version()
        )
        return None


@blp.route("/<coupon_id>/redemptions")
class RedemptionList(MethodView):
    @requires("read_coupons")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(CouponRedemptionSchema))
    def get(self, args: dict[str, Any], coupon_id: str) -> Any:
        """Orders that used this coupon, newest first"""
        stmt = services.redemptions_stmt(db.session, shop_id=current_principal().shop_id, coupon_id=coupon_id)
        return paginated(page_of(db.session, stmt, CouponRedemption.id, **args))


@blp.route("/<coupon_id>/issues")
class IssueList(MethodView):
    @requires("read_coupons")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(CouponIssueSchema))
    def get(self, args: dict[str, Any], coupon_id: str) -> Any:
        """This coupon's issues to customers, newest first"""
        stmt = issues.issues_stmt(db.session, shop_id=current_principal().shop_id, coupon_id=coupon_id)
        return paginated(page_of(db.session, stmt, CouponIssue.id, **args))

    @requires("write_coupons")
    @idempotent
    @blp.arguments(CouponIssueCreateSchema)
    @blp.response(202, CouponIssueSchema)
    @blp.alt_response(409, description="The coupon cannot be issued: a public code, disabled or ended")
    def post(self, body: dict[str, Any], coupon_id: str) -> Any:
        """Issue an issued-distribution coupon into the wallets of listed customers, a segment or a snapshot.

        Runs as a job: follow its progress at GET /coupons/{coupon_id}/issues/{issue_id} and its
        per-customer results under /results. Each customer gets it at most once per issue."""
        issue = issues.create_issue(
            db.session,
            shop_id=current_principal().shop_id,
            coupon_id=coupon_id,
            customer_ids=body["customer_ids"],
            segment_id=body["segment_id"],
            snapshot_id=body["snapshot_id"],
            now=app_now(),
        )
        enqueue_after_commit(db.session, "souk_platform.coupons.tasks.run_coupon_issue", issue.id)
        return issue, 202


@blp.route("/<coupon_id>/issues/<issue_id>")
class IssueResource(MethodView):
    @requires("read_coupons")
    @blp.response(200, CouponIssueSchema)
    def get(self, coupon_id: str, issue_id: str) -> Any:
        """One issue's progress: total, done, issued, skipped"""
        return issues.get_issue(db.session, shop_id=current_principal().shop_id, coupon_id=coupon_id, issue_id=issue_id)


@blp.route("/<coupon_id>/issues/<issue_id>/results")
class IssueResults(MethodView):
    @requires("read_coupons")
    @blp.arguments(IssueResultQuerySchema, location="query")
    @blp.response(200, page_schema(CouponIssueResultSchema))
    def get(self, args: dict[str, Any], coupon_id: str, issue_id: str) -> Any:
        """What the issue did for each customer (pending, issued, or skipped and why)"""
        stmt = issues.issue_results_stmt(
            db.session,
            shop_id=current_principal().shop_id,
            coupon_id=coupon_id,
            issue_id=issue_id,
            outcome=args.pop("outcome"),
        )
        return paginated(page_of(db.session, stmt, CouponIssueResult.id, **args))
