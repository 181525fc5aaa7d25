"""Forms that move money do their work once, however often the browser sends them.

A double click, a refresh that resends the POST, or a slow network that makes someone click again
would otherwise pledge, order or pay twice. Each rendering of such a form carries a fresh key
(``OnceForm.form_key``). The view claims the key, in the same transaction as the work, with an
``IdempotencyRecord`` (the table the API's ``Idempotency-Key`` uses, purged with it): a second
sending finds the key taken (on PostgreSQL it waits for the first to commit) and is sent where the
first one went instead of doing the work again. A failed first sending rolls its claim back, so
correcting the form and sending it again works.

    form = PledgeForm()
    ...validate...
    earlier = once.claim(db.session, form=form, user_id=user.id, now=now)
    if earlier:
        return once.already_done(earlier)
    ...the work...
    return once.done(db.session, form=form, user_id=user.id, target=url)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import sqlalchemy as sa
from flask import flash, redirect, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms import HiddenField
from wtforms.validators import InputRequired, Length

from souk_platform.api.models import IdempotencyRecord
from souk_platform.db import DbSession

_OWNER_PREFIX = "web:"


def _new_key() -> str:
    return uuid.uuid4().hex


class OnceForm(FlaskForm):
    """A form whose every rendering carries a fresh ``form_key`` (see the module's docstring)."""

    # InputRequired, not DataRequired: a sending without the key must not get a fresh default one.
    form_key = HiddenField(default=_new_key, validators=[InputRequired(), Length(min=16, max=64)])


def _owner(user_id: str) -> str:
    return _OWNER_PREFIX + user_id


def claim(session: DbSession, *, form: OnceForm, user_id: str, now: dt.datetime) -> str | None:
    """Claim the form's key for this sending: None the first time; else where the first sending went."""
    key = str(form.form_key.data)
    record = IdempotencyRecord(
        owner=_owner(user_id),
        key=key,
        method=request.method,
        path=request.path[:500],
        request_hash=hashlib.sha256(request.path.encode()).hexdigest(),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        first = session.scalar(
            sa.select(IdempotencyRecord).where(IdempotencyRecord.owner == _owner(user_id), IdempotencyRecord.key == key)
        )
        location = (first.response_headers or {}).get("Location") if first else None
        return str(location or request.referrer or "/")
    return None


def already_done(target: str) -> Response:
    flash(_("That form had already been sent: it was done once, not twice."), "info")
    return redirect(target)


def done(session: DbSession, *, form: OnceForm, user_id: str, target: str) -> Response:
    """Remember where this sending went (for a repeat of it), commit the work with it, and go there."""
    session.execute(
        sa.update(IdempotencyRecord)
        .where(IdempotencyRecord.owner == _owner(user_id), IdempotencyRecord.key == str(form.form_key.data))
        .values(status_code=302, response_headers={"Location": target})
    )
    session.commit()
    return redirect(target)
