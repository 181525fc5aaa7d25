"""Recording risk decisions so that a denial outlives the transaction it denied (docs/architecture.md §5.13).

A decision is added to the caller's session: an allowed or reviewed checkout commits it with the order,
in the same write. A denial makes the caller raise and roll back; so a denial is also remembered in
``session.info`` and, right after the rollback, written again (with its ``risk.decided`` event) in a
short transaction of its own on the same session — the way the plugin invocation log survives
(``plugins/invocation_log.py``): same connection, so the test suite's SAVEPOINT session sees it, and a
SAVEPOINT rolling back hands the row back to the enclosing transaction. Nothing else of the denied
work is written. (A denial by a plugin rolls back the plugin's invocation log too, which is written again
by its own hook in the same way; each hook writes only its own rows.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.jobs.runner import install_session_hooks as install_job_hooks
from souk_platform.risk.models import RiskDecision

log = structlog.get_logger("souk.risk")

_UNCOMMITTED = "souk.risk_denials"


@dataclass(slots=True)
class _Remembered:
    fields: dict[str, Any]  # the row's columns, id included, to build it again
    row: RiskDecision


def decision_payload(fields: dict[str, Any]) -> dict[str, Any]:
    """The ``risk.decided`` event's data: the decision as the API shows it."""
    created_at = fields["created_at"]
    return {
        "id": fields["id"],
        "action": fields["action"],
        "subject_type": fields["subject_type"],
        "subject_id": fields["subject_id"],
        "customer_id": fields["customer_id"],
        "ip": fields["ip"],
        "device_id": fields["device_id"],
        "outcome": fields["outcome"],
        "rules": fields["rules"],
        "created_at": created_at.isoformat(),
    }


def _write(session: DbSession, fields: dict[str, Any]) -> RiskDecision:
    row = RiskDecision(**fields)
    session.add(row)
    if fields["outcome"] != "allow":  # risk.decided is for decisions that stopped something
        emit(
            session,
            shop_id=fields["shop_id"],
            type="risk.decided",
            subject_type="risk_decision",
            subject_id=fields["id"],
            payload=decision_payload(fields),
            created_at=fields["created_at"],
        )
    return row


def record(session: DbSession, fields: dict[str, Any]) -> RiskDecision:
    """Add one decision row (``fields`` are its columns, with its id); a denial survives a rollback."""
    row = _write(session, fields)
    if fields["outcome"] == "deny":
        session.info.setdefault(_UNCOMMITTED, []).append(_Remembered(fields, row))
    return row


def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a SAVEPOINT was released, not the unit of work
    # Forget the denials this commit wrote. Another after-rollback writer (the plugin invocation log)
    # may commit first, in the same rollback: the denials it did not write are kept for ours.
    remembered: list[_Remembered] | None = session.info.get(_UNCOMMITTED)
    left = [entry for entry in remembered or [] if not sa.inspect(entry.row).persistent]
    if left:
        session.info[_UNCOMMITTED] = left
    else:
        session.info.pop(_UNCOMMITTED, None)


def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    remembered: list[_Remembered] | None = session.info.get(_UNCOMMITTED)
    if not remembered:
        return
    if previous.nested:
        # A SAVEPOINT rolled back: its rows were expunged; the enclosing transaction gets them back.
        for entry in remembered:
            if entry.row not in session:
                entry.row = _write(session, entry.fields)
        return
    if previous.parent is not None:
        return  # a failed flush: the unit of work itself rolls back next, and lands below
    del session.info[_UNCOMMITTED]
    try:
        for entry in remembered:
            entry.row = _write(session, entry.fields)
        session.commit()
    except Exception:
        # Never let the record mask the error that caused the rollback.
        log.exception("risk decisions could not be written after a rollback", rows=len(remembered))
        session.rollback()


def install() -> None:
    """Wire the after-rollback write into SQLAlchemy sessions (once per process, after the job hooks)."""
    install_job_hooks()
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
