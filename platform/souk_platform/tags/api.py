"""The tags, tag-imports and segments API (one condition language for rule tags and segments)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
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
from souk_platform.customers.models import Customer
from souk_platform.customers.schemas import CustomerSchema
from souk_platform.customers.services import customer_views
from souk_platform.db import db
from souk_platform.tags import services, snapshots
from souk_platform.tags.models import Segment, SegmentSnapshot, Tag, TagImport
from souk_platform.tags.schemas import (
    CountSchema,
    SegmentCreateSchema,
    SegmentEstimateSchema,
    SegmentSchema,
    SegmentUpdateSchema,
    SnapshotCreateSchema,
    SnapshotCustomersQuerySchema,
    SnapshotQuerySchema,
    SnapshotSchema,
    TagCreateSchema,
    TagCustomersSchema,
    TagImportCreateSchema,
    TagImportSchema,
    TagMembershipSchema,
    TagQuerySchema,
    TagSchema,
    TagUpdateSchema,
)

blp = Blueprint(
    "tags", __name__, url_prefix="", description="Customer tags (manual, rule, imported), tag imports and segments"
)


def _shop_id() -> str:
    return current_principal().shop_id


def _tag_view(tag: Tag) -> dict[str, Any]:
    return services.tag_views(db.session, shop_id=tag.shop_id, tags=[tag])[0]


def _segment_view(segment: Segment) -> dict[str, Any]:
    count = services.segment_reach(db.session, segment=segment, now=app_now())
    return {**services.segment_payload(segment), "count": count, "created_at": segment.created_at}


# --- tags -------------------------------------------------------------------------------------------------------


@blp.route("/tags")
class TagList(MethodView):
    @requires("read_tags")
    @blp.arguments(TagQuerySchema, location="query")
    @blp.response(200, page_schema(TagSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Tags, newest first, with how many customers carry each"""
        page = page_of(db.session, services.list_tags_stmt(_shop_id(), kind=args.pop("kind")), Tag.id, **args)
        body, status, headers = paginated(page)
        body["items"] = services.tag_views(db.session, shop_id=_shop_id(), tags=page.items)
        return body, status, headers

    @requires("write_tags")
    @transactional
    @blp.arguments(TagCreateSchema)
    @blp.response(201, TagSchema)
    @blp.alt_response(409, description="Another tag has this name")
    def post(self, fields: dict[str, Any]) -> Any:
        """Create a tag; a rule tag gets its customers at once"""
        tag = services.create_tag(db.session, shop_id=_shop_id(), now=app_now(), **fields)
        return _tag_view(tag), 201, etag(tag.version)


@blp.route("/tags/<tag_id>")
class TagResource(MethodView):
    @requires("read_tags")
    @blp.response(200, TagSchema)
    def get(self, tag_id: str) -> Any:
        """One tag"""
        tag = services.get_tag(db.session, shop_id=_shop_id(), tag_id=tag_id)
        return _tag_view(tag), 200, etag(tag.version)

    @requires("write_tags")
    @transactional
    @blp.arguments(TagUpdateSchema)
    @blp.response(200, TagSchema)
    @blp.alt_response(409, description="Another tag has this name")
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], tag_id: str) -> Any:
        """Rename a tag, or change a rule tag's condition (re-evaluated at once)"""
        tag = services.update_tag(
            db.session,
            shop_id=_shop_id(),
            tag_id=tag_id,
            changes=changes,
            expected_version=expected_version(),
            now=app_now(),
        )
        return _tag_view(tag), 200, etag(tag.version)

    @requires("write_tags")
    @transactional
    @blp.response(204)
    @blp.alt_response(409, description="A segment or rule tag tests this tag")
    def delete(self, tag_id: str) -> Any:
        """Delete a tag (customers lose it)"""
        services.delete_tag(db.session, shop_id=_shop_id(), tag_id=tag_id, expected_version=expected_version())
        return "", 204


@blp.route("/tags/<tag_id>/customers")
class TagCustomers(MethodView):
    @requires("write_tags")
    @transactional
    @blp.arguments(TagCustomersSchema)
    @blp.response(200, TagMembershipSchema)
    @blp.alt_response(409, description="Rule tags cannot be given by hand")
    @blp.alt_response(422, description="Some ids are not customers of this shop (nothing changed)")
    def post(self, fields: dict[str, Any], tag_id: str) -> Any:
        """Tag customers by hand (manual and imported tags)"""
        added = services.tag_customers(
            db.session, shop_id=_shop_id(), tag_id=tag_id, customer_ids=fields["customer_ids"]
        )
        count = services.tag_counts(db.session, shop_id=_shop_id(), tag_ids=[tag_id])[tag_id]
        return {"added": added, "removed": 0, "customers_count": count}


@blp.route("/tags/<tag_id>/customers/<customer_id>")
class TagCustomer(MethodView):
    @requires("write_tags")
    @transactional
    @blp.response(204)
    @blp.alt_response(409, description="Rule tags cannot be removed by hand")
    def delete(self, tag_id: str, customer_id: str) -> Any:
        """Take a tag off a customer (nothing happens when the customer did not carry it)"""
        services.untag_customer(db.session, shop_id=_shop_id(), tag_id=tag_id, customer_id=customer_id)
        return "", 204


@blp.route("/tags/<tag_id>/evaluate")
class TagEvaluate(MethodView):
    @requires("write_tags")
    @transactional
    @blp.response(200, TagMembershipSchema)
    @blp.alt_response(409, description="Only rule tags are evaluated")
    def post(self, tag_id: str) -> Any:
        """Re-evaluate a rule tag now: matching customers get it, the others lose it"""
        result = services.evaluate_rule_tag(db.session, shop_id=_shop_id(), tag_id=tag_id, now=app_now())
        return {"added": result.added, "removed": result.removed, "customers_count": result.customers_count}


# --- tag imports ------------------------------------------------------------------------------------------------


@blp.route("/tag-imports")
class TagImportList(MethodView):
    @requires("read_tags")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(TagImportSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Past tag imports, newest first"""
        stmt = sa.select(TagImport).where(TagImport.shop_id == _shop_id())
        return paginated(page_of(db.session, stmt, TagImport.id, **args))

    @requires("write_tags")
    @transactional
    @blp.arguments(TagImportCreateSchema)
    @blp.response(201, TagImportSchema)
    def post(self, fields: dict[str, Any]) -> Any:
        """Import tags from CSV text (JSON body): good rows are applied, bad rows reported by row number"""
        return services.import_tags(
            db.session,
            shop_id=_shop_id(),
            csv_text=fields["csv"],
            create_missing_tags=fields["create_missing_tags"],
        ), 201


@blp.route("/tag-imports/<import_id>")
class TagImportResource(MethodView):
    @requires("read_tags")
    @blp.response(200, TagImportSchema)
    def get(self, import_id: str) -> Any:
        """One tag import with its error report"""
        return services.get_tag_import(db.session, shop_id=_shop_id(), import_id=import_id)


# --- segments ---------------------------------------------------------------------------------------------------


@blp.route("/segments/estimate")
class SegmentEstimate(MethodView):
    @requires("read_tags")
    @blp.arguments(SegmentEstimateSchema)
    @blp.response(200, CountSchema)
    def post(self, fields: dict[str, Any]) -> Any:
        """How many customers a condition reaches now (nothing is saved)"""
        return {
            "count": services.estimate_reach(
                db.session, shop_id=_shop_id(), condition=fields["condition"], now=app_now()
            )
        }


@blp.route("/segments")
class SegmentList(MethodView):
    @requires("read_tags")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(SegmentSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Saved segments, newest first (each with its reach now)"""
        stmt = sa.select(Segment).where(Segment.shop_id == _shop_id())
        page = page_of(db.session, stmt, Segment.id, **args)
        return paginated(page, view=_segment_view)

    @requires("write_tags")
    @transactional
    @blp.arguments(SegmentCreateSchema)
    @blp.response(201, SegmentSchema)
    @blp.alt_response(409, description="Another segment has this name")
    def post(self, fields: dict[str, Any]) -> Any:
        """Save a segment; the response carries its reach estimate"""
        segment = services.create_segment(db.session, shop_id=_shop_id(), **fields)
        return _segment_view(segment), 201, etag(segment.version)


@blp.route("/segments/<segment_id>")
class SegmentResource(MethodView):
    @requires("read_tags")
    @blp.response(200, SegmentSchema)
    def get(self, segment_id: str) -> Any:
        """One segment with its reach now"""
        segment = services.get_segment(db.session, shop_id=_shop_id(), segment_id=segment_id)
        return _segment_view(segment), 200, etag(segment.version)

    @requires("write_tags")
    @transactional
    @blp.arguments(SegmentUpdateSchema)
    @blp.response(200, SegmentSchema)
    @blp.alt_response(409, description="Another segment has this name")
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], segment_id: str) -> Any:
        """Rename a segment or change its condition"""
        segment = services.update_segment(
            db.session, shop_id=_shop_id(), segment_id=segment_id, changes=changes, expected_version=expected_version()
        )
        return _segment_view(segment), 200, etag(segment.version)

    @requires("write_tags")
    @transactional
    @blp.response(204)
    def delete(self, segment_id: str) -> Any:
        """Delete a segment"""
        services.delete_segment(
            db.session, shop_id=_shop_id(), segment_id=segment_id, expected_version=expected_version()
        )
        return "", 204


@blp.route("/segments/<segment_id>/customers")
class SegmentCustomers(MethodView):
    @requires("read_customers")  # it lists customers' details, so it needs the customers scope
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(CustomerSchema))
    def get(self, args: dict[str, Any], segment_id: str) -> Any:
        """The customers in a segment now, newest first (needs read_customers)"""
        segment = services.get_segment(db.session, shop_id=_shop_id(), segment_id=segment_id)
        page = page_of(db.session, services.segment_customers_stmt(segment, now=app_now()), Customer.id, **args)
        body, status, headers = paginated(page)
        body["items"] = customer_views(db.session, shop_id=segment.shop_id, customers=page.items)
        return body, status, headers


# --- snapshots (docs/architecture.md §5.5) -----------------------------------------------------------------------


def _snapshot_view(snapshot: SegmentSnapshot, *, days: int | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {**snapshots.snapshot_payload(snapshot), "taken_at": snapshot.taken_at}
    if days is not None:
        view["conversion"] = snapshots.conversion(db.session, snapshot=snapshot, days=days, now=app_now())
    return view


def _snapshot_page(stmt: sa.Select[Any], args: dict[str, Any]) -> Any:
    page = page_of(db.session, stmt, SegmentSnapshot.id, **args)
    return paginated(page, view=_snapshot_view)


@blp.route("/segments/<segment_id>/snapshots")
class SegmentSnapshots(MethodView):
    @requires("read_tags")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(SnapshotSchema))
    def get(self, args: dict[str, Any], segment_id: str) -> Any:
        """A segment's snapshots, newest first"""
        segment = services.get_segment(db.session, shop_id=_shop_id(), segment_id=segment_id)
        return _snapshot_page(snapshots.snapshots_stmt(shop_id=segment.shop_id, segment_id=segment.id), args)

    @requires("write_tags")
    @idempotent
    @blp.arguments(SnapshotCreateSchema)
    @blp.response(201, SnapshotSchema)
    def post(self, fields: dict[str, Any], segment_id: str) -> Any:
        """Freeze who is in the segment now (固化人群包); later changes to the facts do not change it"""
        snapshot = snapshots.take_snapshot(
            db.session, shop_id=_shop_id(), segment_id=segment_id, name=fields["name"], now=app_now()
        )
        return _snapshot_view(snapshot), 201


@blp.route("/segment-snapshots")
class SnapshotList(MethodView):
    @requires("read_tags")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(SnapshotSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Every snapshot of the shop, newest first (including those whose segment was deleted)"""
        return _snapshot_page(snapshots.snapshots_stmt(shop_id=_shop_id()), args)


@blp.route("/segment-snapshots/<snapshot_id>")
class SnapshotResource(MethodView):
    @requires("read_tags")
    @blp.arguments(SnapshotQuerySchema, location="query")
    @blp.response(200, SnapshotSchema)
    def get(self, args: dict[str, Any], snapshot_id: str) -> Any:
        """One snapshot, with its conversion: who bought within `days` of it being taken"""
        snapshot = snapshots.get_snapshot(db.session, shop_id=_shop_id(), snapshot_id=snapshot_id)
        return _snapshot_view(snapshot, days=args["days"])

    @requires("write_tags")
    @transactional
    @blp.response(204)
    def delete(self, snapshot_id: str) -> Any:
        """Delete a snapshot and its member list"""
        snapshots.delete_snapshot(db.session, shop_id=_shop_id(), snapshot_id=snapshot_id)
        return "", 204


@blp.route("/segment-snapshots/<snapshot_id>/customers")
class SnapshotCustomers(MethodView):
    @requires("read_customers")  # it lists customers' details, so it needs the customers scope
    @blp.arguments(SnapshotCustomersQuerySchema, location="query")
    @blp.response(200, page_schema(CustomerSchema))
    def get(self, args: dict[str, Any], snapshot_id: str) -> Any:
        """The snapshot's members, newest first; `converted=true` lists those who bought within `days`"""
        snapshot = snapshots.get_snapshot(db.session, shop_id=_shop_id(), snapshot_id=snapshot_id)
        converted, days = args.pop("converted"), args.pop("days")
        stmt = snapshots.snapshot_customers_stmt(snapshot, converted=converted, days=days)
        page = page_of(db.session, stmt, Customer.id, **args)
        body, status, headers = paginated(page)
        body["items"] = customer_views(db.session, shop_id=snapshot.shop_id, customers=page.items)
        return body, status, headers
