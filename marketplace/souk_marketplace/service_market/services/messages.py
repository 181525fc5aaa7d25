"""Messages and files on an order's timeline."""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa

from souk_marketplace.service_market.errors import InvalidFile, ServiceFileNotFound
from souk_marketplace.service_market.files import FILE_TYPES, MAX_FILE_BYTES, clean_filename, sniff
from souk_marketplace.service_market.models import ServiceFile, ServiceOrderEvent
from souk_marketplace.service_market.services.lookups import get_order
from souk_marketplace.service_market.services.parties import Party
from souk_marketplace.service_market.services.terms import _text
from souk_marketplace.service_market.states import BUYER, FINAL_STATES, PROVIDER, record
from souk_platform.core.errors import Conflict
from souk_platform.db import DbSession


def post_message(session: DbSession, *, order_id: str, party: Party, body: str, now: dt.datetime) -> ServiceOrderEvent:
    """A message from a party (or an admin) on the order's timeline."""
    order = get_order(session, order_id, party)
    text = _text(body, "body")
    return record(session, order, "message", actor=party.role, user_id=party.user_id, now=now, note=text)


def upload_file(
    session: DbSession, *, order_id: str, party: Party, filename: str, content: bytes, now: dt.datetime
) -> ServiceFile:
    """Keep a file on the order (≤ 5 MiB; PDF, images, ZIP or UTF-8 text, recognised by its bytes)."""
    order = get_order(session, order_id, party)
    if party.role not in (BUYER, PROVIDER):
        raise InvalidFile("Files are added by the buyer or the provider.")
    if order.state in FINAL_STATES:
        raise Conflict(f"Service order {order.id} is {order.state}: no more files can be added.")
    if not content:
        raise InvalidFile("The file is empty.", errors={"file": ["Empty file."]})
    if len(content) > MAX_FILE_BYTES:
        raise InvalidFile("The file is larger than 5 MiB.", errors={"file": ["At most 5 MiB."]})
    content_type = sniff(content)
    if content_type not in FILE_TYPES:
        raise InvalidFile(
            "Only PDF, PNG, JPEG, WebP, GIF, ZIP (office documents too) and UTF-8 text files are accepted.",
            errors={"file": ["This kind of file is not accepted."]},
        )
    milestone = order.current_milestone if party.role == PROVIDER else None
    stored = ServiceFile(
        order_id=order.id,
        shop_id=order.shop_id,
        milestone_id=milestone.id if milestone else None,
        uploaded_by=party.role,
        user_id=party.user_id,
        filename=clean_filename(filename),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        created_at=now,
    )
    session.add(stored)
    session.flush()
    record(
        session,
        order,
        "file_uploaded",
        actor=party.role,
        user_id=party.user_id,
        now=now,
        details={"file_id": stored.id, "filename": stored.filename, "size": stored.size, "type": content_type},
    )
    return stored


def get_file(session: DbSession, *, order_id: str, file_id: str, party: Party) -> ServiceFile:
    """A file of an order ``party`` may see (the two parties and admins); 404 otherwise."""
    order = get_order(session, order_id, party)
    stored = session.scalar(sa.select(ServiceFile).where(ServiceFile.id == file_id, ServiceFile.order_id == order.id))
    if stored is None:
        raise ServiceFileNotFound(f"No file {file_id} on service order {order.id}.")
    return stored
