"""Tags (manual, rule, imported), tagging customers, CSV tag imports and segments.

Rule tags and segments use the one condition language in ``conditions.py``. A rule tag's customers
are recomputed by ``evaluate_rule_tag`` (on demand, on change, and by the periodic job); manual and
imported tags are changed only by staff and imports.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from souk_platform.audience.services import (
    check_references,
    compile_condition,
    count_matching,
    matching_customers_stmt,
    tag_references,
)
from souk_platform.core.versions import check_version
from souk_platform.customers.models import Customer
from souk_platform.customers.services import get_customer, normalize_phone
from souk_platform.db import DbSession, UTCDateTime
from souk_platform.events.services import emit
from souk_platform.tags.errors import (
    DuplicateName,
    InvalidCondition,
    InvalidImport,
    SegmentNotFound,
    TagImportNotFound,
    TagInUse,
    TagNotFound,
    UnknownCustomers,
    WrongTagKind,
)
from souk_platform.tags.models import CustomerTag, Segment, Tag, TagImport

MAX_IMPORT_ROWS = 10_000
_HEADER_CUSTOMER = {"phone_or_email_or_customer_id", "customer", "customer_id", "phone", "email", "identifier"}
_HEADER_TAG = {"tag", "tags", "tag_name"}


@dataclass(frozen=True, slots=True)
class TagEvaluation:
    """What one evaluation of a rule tag changed."""

    tag_id: str
    added: int
    removed: int
    customers_count: int


# --- shared checks ----------------------------------------------------------------------------------------------


def check_condition(
    session: DbSession, *, shop_id: str, condition: dict[str, Any], self_tag_id: str | None = None
) -> None:
    """Every tag, category, product and coupon a condition names must be the shop's own (422 naming the path)."""
    check_references(session, shop_id=shop_id, condition=condition, self_tag_id=self_tag_id)


def _check_name(
    session: DbSession, model: type[Tag] | type[Segment], *, shop_id: str, name: str, exclude_id: str | None
) -> None:
    stmt = sa.select(model.id).where(model.shop_id == shop_id, model.name == name)
    if exclude_id:
        stmt = stmt.where(model.id != exclude_id)
    with session.no_autoflush:
        existing = session.scalar(stmt)
    if existing is not None:
        noun = "tag" if model is Tag else "segment"
        raise DuplicateName(
            f"The {noun} {existing} is already named {name!r}.",
            errors={"name": [f"Another {noun} in this shop has this name."]},
        )


def _flush_named(
    session: DbSession, model: type[Tag] | type[Segment], *, shop_id: str, name: str, exclude_id: str | None
) -> None:
    """Flush in a savepoint so a concurrent twin with the same name is the same 409 naming the field."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        _check_name(session, model, shop_id=shop_id, name=name, exclude_id=exclude_id)
        raise


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise InvalidCondition("The name cannot be blank.", errors={"name": ["Give it a name."]})
    return cleaned


# --- tags -------------------------------------------------------------------------------------------------------


def tag_payload(tag: Tag) -> dict[str, Any]:
    return {
        "id": tag.id,
        "name": tag.name,
        "kind": tag.kind,
        "description": tag.description,
        "condition": tag.condition,
        "version": tag.version,
    }


def _emit_tag(session: DbSession, tag: Tag, type: str, **extra: Any) -> None:
    emit(
        session,
        shop_id=tag.shop_id,
        type=type,
        subject_type="tag",
        subject_id=tag.id,
        payload={**tag_payload(tag), **extra},
    )


def get_tag(session: DbSession, *, shop_id: str, tag_id: str, for_update: bool = False) -> Tag:
    stmt = sa.select(Tag).where(Tag.id == tag_id, Tag.shop_id == shop_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    tag = session.scalar(stmt)
    if tag is None:
        raise TagNotFound(f"No tag {tag_id} in this shop.")
    return tag


def tag_counts(session: DbSession, *, shop_id: str, tag_ids: Iterable[str]) -> dict[str, int]:
    """How many customers carry each tag."""
    ids = list(tag_ids)
    if not ids:
        return {}
    rows = session.execute(
        sa.select(CustomerTag.tag_id, sa.func.count())
        .where(CustomerTag.shop_id == shop_id, CustomerTag.tag_id.in_(ids))
        .group_by(CustomerTag.tag_id)
    )
    counts = {tag_id: 0 for tag_id in ids}
    counts.update({tag_id: int(n) for tag_id, n in rows})
    return counts


def tag_views(session: DbSession, *, shop_id: str, tags: list[Tag]) -> list[dict[str, Any]]:
    """Tags as the API shows them, with their customer counts."""
    counts = tag_counts(session, shop_id=shop_id, tag_ids=[t.id for t in tags])
    return [
        {
            "id": t.id,
            "name": t.name,
            "kind": t.kind,
            "description": t.description,
            "condition": t.condition,
            "customers_count": counts[t.id],
            "evaluated_at": t.evaluated_at,
            "version": t.version,
            "created_at": t.created_at,
        }
        for t in tags
    ]


def list_tags_stmt(shop_id: str, *, kind: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(Tag).where(Tag.shop_id == shop_id)
    return stmt.where(Tag.kind == kind) if kind else stmt


def create_tag(
    session: DbSession,
    *,
    shop_id: str,
    name: str,
    kind: str = "manual",
    description: str | None = None,
    condition: dict[str, Any] | None = None,
    now: dt.datetime,
) -> Tag:
    """Create a tag; a rule tag (which needs a validated ``condition``) is evaluated at once."""
    name = _clean_name(name)
    if (kind == "rule") != (condition is not None):
        raise InvalidCondition(
            "Rule tags, and only rule tags, have a condition.", errors={"condition": ["Only rule tags have one."]}
        )
    _check_name(session, Tag, shop_id=shop_id, name=name, exclude_id=None)
    if condition is not None:
        check_condition(session, shop_id=shop_id, condition=condition)
    tag = Tag(shop_id=shop_id, name=name, kind=kind, description=description, condition=condition)
    session.add(tag)
    _flush_named(session, Tag, shop_id=shop_id, name=name, exclude_id=None)
    _emit_tag(session, tag, "tag.created")
    if kind == "rule":
        evaluate_rule_tag(session, shop_id=shop_id, tag_id=tag.id, now=now)
    return tag


def update_tag(
    session: DbSession,
    *,
    shop_id: str,
    tag_id: str,
    changes: dict[str, Any],
    expected_version: int | None,
    now: dt.datetime,
) -> Tag:
    """Rename a tag or change its description; a rule tag's new condition is evaluated at once."""
    tag = get_tag(session, shop_id=shop_id, tag_id=tag_id)
    check_version(tag.version, expected_version)
    if "condition" in changes:
        if tag.kind != "rule":
            raise InvalidCondition(
                f"The tag {tag.id} is a {tag.kind} tag; only rule tags have a condition.",
                errors={"condition": ["Only rule tags have a condition."]},
            )
        check_condition(session, shop_id=shop_id, condition=changes["condition"], self_tag_id=tag.id)
    if "name" in changes:
        changes = {**changes, "name": _clean_name(changes["name"])}
        _check_name(session, Tag, shop_id=shop_id, name=changes["name"], exclude_id=tag.id)
    for field in ("name", "description", "condition"):
        if field in changes:
            setattr(tag, field, changes[field])
    if not session.is_modified(tag):
        return tag
    _flush_named(session, Tag, shop_id=shop_id, name=tag.name, exclude_id=tag.id)
    _emit_tag(session, tag, "tag.updated")
    if "condition" in changes:
        evaluate_rule_tag(session, shop_id=shop_id, tag_id=tag.id, now=now)
    return tag


def _users_of_tag(session: DbSession, *, shop_id: str, tag_id: str) -> list[str]:
    """Segments and rule tags whose condition tests ``tag_id``."""
    users: list[str] = []
    owners = [
        *session.execute(sa.select(Segment.id, Segment.condition).where(Segment.shop_id == shop_id)).all(),
        *session.execute(
            sa.select(Tag.id, Tag.condition).where(Tag.shop_id == shop_id, Tag.kind == "rule", Tag.id != tag_id)
        ).all(),
    ]
    for owner_id, condition in owners:
        if condition and any(ref == tag_id for _, ref in tag_references(condition)):
            users.append(owner_id)
    return users


def delete_tag(session: DbSession, *, shop_id: str, tag_id: str, expected_version: int | None) -> None:
    """Delete a tag and its assignments; refused (409) while a segment or rule tag tests it."""
    tag = get_tag(session, shop_id=shop_id, tag_id=tag_id, for_update=True)
    check_version(tag.version, expected_version)
    users = _users_of_tag(session, shop_id=shop_id, tag_id=tag.id)
    if users:
        raise TagInUse(f"The tag is used by the conditions of {', '.join(users)}; change those first.", used_by=users)
    session.execute(sa.delete(CustomerTag).where(CustomerTag.tag_id == tag.id))
    _emit_tag(session, tag, "tag.deleted")
    session.delete(tag)
    session.flush()


def _require_static(tag: Tag) -> None:
    if tag.kind == "rule":
        raise WrongTagKind(
            f"The tag {tag.id} is a rule tag: its customers come from its condition. Change the condition instead."
        )


def tag_customers(session: DbSession, *, shop_id: str, tag_id: str, customer_ids: list[str]) -> int:
    """Put a manual or imported tag on customers; return how many newly got it.

    Unknown ids (or another shop's) are a 422 listing them, and nothing changes.
    """
    tag = get_tag(session, shop_id=shop_id, tag_id=tag_id, for_update=True)
    _require_static(tag)
    wanted = list(dict.fromkeys(customer_ids))
    found = set(session.scalars(sa.select(Customer.id).where(Customer.shop_id == shop_id, Customer.id.in_(wanted))))
    unknown = [cid for cid in wanted if cid not in found]
    if unknown:
        raise UnknownCustomers(
            f"No customer {', '.join(unknown)} in this shop; nothing was tagged.",
            errors={"customer_ids": [f"Unknown customer: {cid}" for cid in unknown]},
            unknown_ids=unknown,
        )
    already = set(
        session.scalars(
            sa.select(CustomerTag.customer_id).where(CustomerTag.tag_id == tag.id, CustomerTag.customer_id.in_(wanted))
        )
    )
    added = [cid for cid in wanted if cid not in already]
    session.add_all(CustomerTag(tag_id=tag.id, customer_id=cid, shop_id=shop_id) for cid in added)
    session.flush()
    if added:
        _emit_tag(session, tag, "tag.customers_added", customer_ids=added)
    return len(added)


def untag_customer(session: DbSession, *, shop_id: str, tag_id: str, customer_id: str) -> bool:
    """Take a manual or imported tag off one customer; False when the customer did not carry it."""
    tag = get_tag(session, shop_id=shop_id, tag_id=tag_id, for_update=True)
    _require_static(tag)
    get_customer(session, shop_id=shop_id, customer_id=customer_id)
    result = session.execute(
        sa.delete(CustomerTag).where(CustomerTag.tag_id == tag.id, CustomerTag.customer_id == customer_id)
    )
    removed = bool(result.rowcount)  # type: ignore[attr-defined]
    if removed:
        _emit_tag(session, tag, "tag.customers_removed", customer_ids=[customer_id])
    return removed


def evaluate_rule_tag(session: DbSession, *, shop_id: str, tag_id: str, now: dt.datetime) -> TagEvaluation:
    """Give a rule tag to every customer matching its condition and take it from the others."""
    tag = get_tag(session, shop_id=shop_id, tag_id=tag_id, for_update=True)  # one evaluation at a time
    if tag.kind != "rule" or tag.condition is None:
        raise WrongTagKind(f"The tag {tag.id} is a {tag.kind} tag; only rule tags are evaluated.")
    session.flush()
    where = compile_condition(tag.condition, shop_id=shop_id, now=now)
    matching = sa.select(Customer.id).where(Customer.shop_id == shop_id, where)
    missing = sa.select(
        sa.literal(tag.id, sa.String()), Customer.id, sa.literal(shop_id, sa.String()), sa.literal(now, UTCDateTime())
    ).where(
        Customer.shop_id == shop_id,
        where,
        ~sa.exists().where(CustomerTag.tag_id == tag.id, CustomerTag.customer_id == Customer.id),
    )
    # Counted first: drivers do not all report rowcount for INSERT … SELECT (the tag lock keeps it exact).
    added = session.scalar(sa.select(sa.func.count()).select_from(missing.subquery())) or 0
    if added:
        session.execute(sa.insert(CustomerTag).from_select(["tag_id", "customer_id", "shop_id", "created_at"], missing))
    removed = session.execute(
        sa.delete(CustomerTag).where(CustomerTag.tag_id == tag.id, CustomerTag.customer_id.not_in(matching))
    ).rowcount  # type: ignore[attr-defined]
    # A plain UPDATE: evaluating is not an edit, so the tag's version (and clients' If-Match) stays.
    session.execute(sa.update(Tag).where(Tag.id == tag.id).values(evaluated_at=now))
    count = tag_counts(session, shop_id=shop_id, tag_ids=[tag.id])[tag.id]
    if added or removed:
        _emit_tag(session, tag, "tag.evaluated", added=added, removed=removed, customers_count=count)
    return TagEvaluation(tag.id, int(added or 0), int(removed or 0), count)


# --- CSV imports ------------------------------------------------------------------------------------------------


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """Non-blank rows with their line numbers; the optional header row is dropped."""
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InvalidImport(
            f"The CSV contains a NUL character on line {line}; save it as plain UTF-8 text.",
            errors={"csv": [f"Line {line}: NUL character."]},
        )
    reader = csv.reader(io.StringIO(text), strict=True)
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            cells = [c.strip() for c in cells]
            if any(cells):
                rows.append((reader.line_num, cells))
            if len(rows) > MAX_IMPORT_ROWS + 1:
                raise InvalidImport(
                    f"A CSV may have at most {MAX_IMPORT_ROWS} rows; split the file.",
                    errors={"csv": [f"More than {MAX_IMPORT_ROWS} rows."]},
                )
    except csv.Error as err:
        raise InvalidImport(
            f"The CSV cannot be read at line {reader.line_num}: {err}.",
            errors={"csv": [f"Line {reader.line_num}: {err}"]},
        ) from err
    if (
        rows
        and len(rows[0][1]) >= 2
        and rows[0][1][0].lower() in _HEADER_CUSTOMER
        and rows[0][1][1].lower() in _HEADER_TAG
    ):
        rows = rows[1:]
    if not rows:
        raise InvalidImport("The CSV has no rows to import.", errors={"csv": ["No data rows."]})
    if len(rows) > MAX_IMPORT_ROWS:
        raise InvalidImport(
            f"A CSV may have at most {MAX_IMPORT_ROWS} rows; split the file.",
            errors={"csv": [f"More than {MAX_IMPORT_ROWS} rows."]},
        )
    return rows


def _identify(raw: str) -> tuple[str, str]:
    """``(kind, value)`` for a customer cell: a customer id, an email, or a phone."""
    if raw.startswith("cus_"):
        return "id", raw
    if "@" in raw:
        return "email", raw.lower()
    return "phone", normalize_phone(raw) or raw


def import_tags(session: DbSession, *, shop_id: str, csv_text: str, create_missing_tags: bool) -> TagImport:
    """Apply a ``customer,tag`` CSV and record the import.

    Each row is checked on its own: good rows are applied, bad rows are reported (row number and
    reason) and skipped, so one typo does not block a file of thousands. Rows naming a rule tag are
    errors. A file with no rows, more than ``MAX_IMPORT_ROWS`` rows, or broken CSV quoting is a 422.
    """
    rows = _csv_rows(csv_text)
    idents = {_identify(cells[0]) for _, cells in rows if cells and cells[0]}
    customers: dict[tuple[str, str], str] = {}
    for kind, column in (("id", Customer.id), ("email", Customer.email), ("phone", Customer.phone)):
        values = [v for k, v in idents if k == kind]
        if values:
            for cid, value in session.execute(
                sa.select(Customer.id, column).where(Customer.shop_id == shop_id, column.in_(values))
            ):
                customers[(kind, str(value))] = cid
    tag_names = {cells[1] for _, cells in rows if len(cells) == 2 and cells[1]}
    tags = {t.name: t for t in session.scalars(sa.select(Tag).where(Tag.shop_id == shop_id, Tag.name.in_(tag_names)))}
    existing_pairs: set[tuple[str, str]] = {
        (customer_id, tag_id)
        for customer_id, tag_id in session.execute(
            sa.select(CustomerTag.customer_id, CustomerTag.tag_id).where(
                CustomerTag.shop_id == shop_id, CustomerTag.tag_id.in_([t.id for t in tags.values()])
            )
        )
    }

    errors: list[dict[str, Any]] = []
    created: list[Tag] = []
    added: list[tuple[str, str]] = []
    imported = 0
    for line, cells in rows:
        error = None
        if len(cells) != 2:
            error = f"Expected 2 columns (customer, tag), found {len(cells)}."
        elif not cells[0]:
            error = "The customer column is empty."
        elif not cells[1]:
            error = "The tag column is empty."
        elif len(cells[1]) > 100:
            error = "Tag names are at most 100 characters."
        if error is None:
            kind, value = _identify(cells[0])
            customer_id = customers.get((kind, value))
            tag = tags.get(cells[1])
            if customer_id is None:
                error = f"No customer with {kind} {cells[0]}."
            elif tag is not None and tag.kind == "rule":
                error = f"The tag {cells[1]!r} is a rule tag; its customers come from its condition."
            elif tag is None and not create_missing_tags:
                error = f"No tag named {cells[1]!r}; set create_missing_tags to create it."
        if error is not None:
            errors.append({"row": line, "error": error})
            continue
        assert customer_id is not None
        if tag is None:
            tag = Tag(shop_id=shop_id, name=cells[1], kind="imported")
            session.add(tag)
            session.flush()
            tags[tag.name] = tag
            created.append(tag)
        if (customer_id, tag.id) not in existing_pairs:
            existing_pairs.add((customer_id, tag.id))
            added.append((customer_id, tag.id))
        imported += 1

    session.add_all(CustomerTag(customer_id=cid, tag_id=tid, shop_id=shop_id) for cid, tid in added)
    record = TagImport(
        shop_id=shop_id,
        rows=len(rows),
        imported=imported,
        failed=len(errors),
        errors=errors,
        created_tags=[t.name for t in created],
    )
    session.add(record)
    session.flush()
    for tag in created:
        _emit_tag(session, tag, "tag.created")
    emit(
        session,
        shop_id=shop_id,
        type="tag_import.completed",
        subject_type="tag_import",
        subject_id=record.id,
        payload={
            "id": record.id,
            "rows": record.rows,
            "imported": record.imported,
            "failed": record.failed,
            "tagged": len(added),
            "created_tags": record.created_tags,
        },
    )
    return record


def get_tag_import(session: DbSession, *, shop_id: str, import_id: str) -> TagImport:
    found = session.scalar(sa.select(TagImport).where(TagImport.id == import_id, TagImport.shop_id == shop_id))
    if found is None:
        raise TagImportNotFound(f"No tag import {import_id} in this shop.")
    return found


# --- segments ---------------------------------------------------------------------------------------------------


def estimate_reach(session: DbSession, *, shop_id: str, condition: dict[str, Any], now: dt.datetime) -> int:
    """How many of the shop's customers match a (validated) condition now."""
    check_condition(session, shop_id=shop_id, condition=condition)
    return count_matching(session, shop_id=shop_id, condition=condition, now=now)


def segment_reach(session: DbSession, *, segment: Segment, now: dt.datetime) -> int:
    """A saved segment's reach now; its references were checked when it was saved (a category deleted
    since then simply matches nothing, rather than making the segment unreadable)."""
    return count_matching(session, shop_id=segment.shop_id, condition=segment.condition, now=now)


def segment_payload(segment: Segment) -> dict[str, Any]:
    return {
        "id": segment.id,
        "name": segment.name,
        "description": segment.description,
        "condition": segment.condition,
        "version": segment.version,
    }


def _emit_segment(session: DbSession, segment: Segment, type: str) -> None:
    emit(
        session,
        shop_id=segment.shop_id,
        type=type,
        subject_type="segment",
        subject_id=segment.id,
        payload=segment_payload(segment),
    )


def get_segment(session: DbSession, *, shop_id: str, segment_id: str) -> Segment:
    segment = session.scalar(sa.select(Segment).where(Segment.id == segment_id, Segment.shop_id == shop_id))
    if segment is None:
        raise SegmentNotFound(f"No segment {segment_id} in this shop.")
    return segment


def create_segment(
    session: DbSession, *, shop_id: str, name: str, description: str | None, condition: dict[str, Any]
) -> Segment:
    name = _clean_name(name)
    _check_name(session, Segment, shop_id=shop_id, name=name, exclude_id=None)
    check_condition(session, shop_id=shop_id, condition=condition)
    segment = Segment(shop_id=shop_id, name=name, description=description, condition=condition)
    session.add(segment)
    _flush_named(session, Segment, shop_id=shop_id, name=name, exclude_id=None)
    _emit_segment(session, segment, "segment.created")
    return segment


def update_segment(
    session: DbSession, *, shop_id: str, segment_id: str, changes: dict[str, Any], expected_version: int | None
) -> Segment:
    segment = get_segment(session, shop_id=shop_id, segment_id=segment_id)
    check_version(segment.version, expected_version)
    if "name" in changes:
        changes = {**changes, "name": _clean_name(changes["name"])}
        _check_name(session, Segment, shop_id=shop_id, name=changes["name"], exclude_id=segment.id)
    if "condition" in changes:
        check_condition(session, shop_id=shop_id, condition=changes["condition"])
    for field in ("name", "description", "condition"):
        if field in changes:
            setattr(segment, field, changes[field])
    if not session.is_modified(segment):
        return segment
    _flush_named(session, Segment, shop_id=shop_id, name=segment.name, exclude_id=segment.id)
    _emit_segment(session, segment, "segment.updated")
    return segment


def delete_segment(session: DbSession, *, shop_id: str, segment_id: str, expected_version: int | None) -> None:
    segment = get_segment(session, shop_id=shop_id, segment_id=segment_id)
    check_version(segment.version, expected_version)
    _emit_segment(session, segment, "segment.deleted")
    session.delete(segment)
    session.flush()


def segment_customers_stmt(segment: Segment, *, now: dt.datetime) -> sa.Select[Any]:
    """The segment's customers now (membership is computed on read, never stored)."""
    return matching_customers_stmt(segment.condition, shop_id=segment.shop_id, now=now)
