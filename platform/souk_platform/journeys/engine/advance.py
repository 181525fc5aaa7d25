"""Advancing enrolments (docs/architecture.md §5.12).

A run takes due enrolments — ``ready``, or ``waiting`` with ``wake_at <= now`` — of active journeys in batches
(``FOR UPDATE SKIP LOCKED``: two runs never hold one enrolment) and moves each through nodes until it must wait
or ends. Every node visit writes its ``journey_steps`` row, unique by ``(enrollment_id, seq)``, in the same
transaction as what the node did, under the enrolment's row lock: a run killed before its commit leaves
neither the step nor its effect, a committed step is never taken again — each step acts exactly once. Actions
also pass the step key ``journey:<enrollment>:<seq>`` on as their idempotency key; an action's refusal
(``SoukError``) is recorded as a skipped step and leaves nothing of the action behind.

A batch costs a fixed number of statements, not some per enrolment: nothing is written while enrolments move;
then the batch's enrolments go out in one versioned executemany UPDATE (``write_enrollments``), its step rows in
one executemany INSERT and its events (``journey.exited`` after that UPDATE, so each carries the version
written) in one outbox INSERT. An action with a batch form (``actions.BATCHED``: a wallet coupon) parks the
enrolments that reach it and acts for all of them at once, coupon by coupon in id order, before they move on.
A condition, or an action without a batch form, acts per enrolment as before, after writing the batch so far.

Enrolments of paused journeys stay where they are; those of archived journeys leave (reason ``archived``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
import structlog
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from souk_platform.core.errors import SoukError
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession, utcnow
from souk_platform.jobs.runner import enqueue_once_after_commit
from souk_platform.journeys.engine import actions, reading, waits
from souk_platform.journeys.engine.enrol import (
    ADVANCE_JOB,
    OPEN_STATUSES,
    close,
    emit_enrollment,
    finish,
    new_step_id,
)
from souk_platform.journeys.engine.split import weighted_branch
from souk_platform.journeys.models import Journey, JourneyEnrollment, JourneyStep, JourneyVersion
from souk_platform.shops.models import Shop

log = structlog.get_logger("souk.journeys")

# A graph is validated to have no loop without a wait; this bounds a run's work on one enrolment regardless.
MAX_STEPS_PER_RUN = 50
# An enrolment whose node failed unexpectedly is tried again after this long (its step was not written).
RETRY_AFTER = dt.timedelta(minutes=5)

# (session, enrolment, node id, split params, built-in branch) -> (branch, who chose it)
BranchPicker = Callable[[DbSession, JourneyEnrollment, str, Mapping[str, Any], str], tuple[str, str]]


def step_key(enrollment_id: str, seq: int) -> str:
    """The idempotency key a step hands to what it does (the wallet, the ledger, the message log)."""
    return f"journey:{enrollment_id}:{seq}"


class GraphCache:
    """Frozen graphs by version id, read once per run (versions never change)."""

    def __init__(self, session: DbSession) -> None:
        self._session = session
        self._graphs: dict[str, Mapping[str, Any]] = {}

    def load(self, version_ids: Iterable[str]) -> None:
        missing = {vid for vid in version_ids if vid not in self._graphs}
        if missing:
            rows = self._session.execute(
                sa.select(JourneyVersion.id, JourneyVersion.graph).where(JourneyVersion.id.in_(missing))
            )
            self._graphs.update({vid: graph or {} for vid, graph in rows})

    def __getitem__(self, version_id: str) -> Mapping[str, Any]:
        self.load([version_id])
        return self._graphs.get(version_id, {})


def take_step(
    session: DbSession,
    enrollment: JourneyEnrollment,
    node: Mapping[str, Any],
    *,
    exit_name: str | None,
    now: dt.datetime,
    outcome: dict[str, Any] | None = None,
    status: str = "done",
    seq: int | None = None,
) -> bool:
    """Record the visit of the enrolment's current node and follow ``exit_name``; returns whether the enrolment
    is still inside (False: it completed, ``journey.exited``). The caller holds the enrolment's row lock."""
    row = step_row(enrollment, node, exit_name=exit_name, now=now, outcome=outcome, status=status, seq=seq)
    session.add(JourneyStep(**row))
    if follow(enrollment, node, exit_name=exit_name, seq=row["seq"]):
        return True
    finish(session, enrollment, reason="completed", now=now, status="completed")
    return False


def step_row(
    enrollment: JourneyEnrollment,
    node: Mapping[str, Any],
    *,
    exit_name: str | None,
    now: dt.datetime,
    outcome: dict[str, Any] | None,
    status: str,
    seq: int | None,
) -> dict[str, Any]:
    """The ``journey_steps`` row of the visit of the enrolment's current node (``seq``: the next one)."""
    return {
        "id": new_step_id(),
        "shop_id": enrollment.shop_id,
        "journey_id": enrollment.journey_id,
        "enrollment_id": enrollment.id,
        "seq": seq if seq is not None else enrollment.steps_taken + 1,
        "node_id": enrollment.current_node,
        "node_type": str(node.get("type")),
        "status": status,
        "exit_taken": exit_name,
        "outcome": outcome or {},
        "created_at": now,
    }


def follow(enrollment: JourneyEnrollment, node: Mapping[str, Any], *, exit_name: str | None, seq: int) -> bool:
    """After step ``seq``: go to the node ``exit_name`` leads to (``ready``); False when it leads nowhere (the
    caller closes the enrolment as completed)."""
    enrollment.steps_taken = seq
    enrollment.wake_at = None
    enrollment.waiting_event = None
    target = reading.next_node(node, exit_name) if exit_name else None
    if target is None:
        return False
    enrollment.current_node = target
    enrollment.status = "ready"
    return True


def _condition_holds(session: DbSession, enrollment: JourneyEnrollment, condition: Any, now: dt.datetime) -> bool:
    from souk_platform.audience.services import compile_condition

    where = compile_condition(condition, shop_id=enrollment.shop_id, now=now)
    found = session.scalar(
        sa.select(
            sa.exists().where(Customer.shop_id == enrollment.shop_id, Customer.id == enrollment.customer_id, where)
        )
    )
    return bool(found)


# The enrolment columns the engine moves. The ORM sends a versioned row's UPDATE alone (a round trip per
# enrolment); ``write_enrollments`` sends a batch's in one executemany.
MOVED_COLUMNS = (
    "status",
    "current_node",
    "variant",
    "wake_at",
    "waiting_event",
    "steps_taken",
    "exit_reason",
    "exited_at",
)


def write_enrollments(session: DbSession, enrollments: Iterable[JourneyEnrollment]) -> None:
    """Write ``MOVED_COLUMNS`` of the changed ``enrollments`` (locked by the caller) with one executemany UPDATE,
    bumping and checking each ``version`` as the ORM does (a row changed meanwhile raises ``StaleDataError``),
    and mark them written in the session."""
    changed = [enrollment for enrollment in enrollments if sa.inspect(enrollment).modified]
    if not changed:
        return
    table = cast(sa.Table, JourneyEnrollment.__table__)
    now = utcnow()
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("w_id"), table.c.version == sa.bindparam("w_version"))
        .values(
            {
                **{name: sa.bindparam(f"w_{name}", type_=table.c[name].type) for name in MOVED_COLUMNS},
                "version": table.c.version + 1,
                "updated_at": sa.bindparam("w_updated_at", type_=table.c.updated_at.type),
            }
        )
    )
    rows = [
        {
            "w_id": enrollment.id,
            "w_version": enrollment.version,
            "w_updated_at": now,
            **{f"w_{name}": getattr(enrollment, name) for name in MOVED_COLUMNS},
        }
        for enrollment in changed
    ]
    connection = session.connection(bind_arguments={"mapper": JourneyEnrollment})
    result = connection.execute(update, rows)
    if connection.dialect.supports_sane_multi_rowcount and result.rowcount != len(rows):
        raise StaleDataError(f"journey_enrollments: {len(rows)} rows to update, {result.rowcount} matched")
    for enrollment in changed:
        for name in MOVED_COLUMNS:
            set_committed_value(enrollment, name, getattr(enrollment, name))
        set_committed_value(enrollment, "version", enrollment.version + 1)
        set_committed_value(enrollment, "updated_at", now)


@dataclass(frozen=True, slots=True)
class _Parked:
    """An enrolment at an action node with a batch form, waiting for the batch to act."""

    enrollment: JourneyEnrollment
    node: Mapping[str, Any]
    seq: int
    context: actions.ActionContext


class Advancer:
    """Moves claimed enrolments through their graphs (one run, one transaction per batch).

    Call ``run`` for each enrolment, then ``settle``: it performs the parked batch actions, moves those
    enrolments on and writes the batch (``write``)."""

    def __init__(self, session: DbSession, *, now: dt.datetime, pick_branch: BranchPicker | None = None) -> None:
        self.session = session
        self.now = now
        self.graphs = GraphCache(session)
        self.pick_branch = pick_branch
        # The batch's shops, read once and held: their timezone, and a split plugin's ``session.get(Shop)`` finds
        # them in the identity map (which holds objects weakly) instead of reading one per enrolment.
        self._shops: dict[str, Shop | None] = {}
        self._visits: dict[str, int] = {}  # node visits this run, per enrolment (``MAX_STEPS_PER_RUN``)
        self._parked: dict[tuple[str, str, str], list[_Parked]] = {}  # (action, shop, group) -> parked steps
        # Not written yet: the enrolments changed, the step rows, and those that left (``journey.exited``).
        self._changed: dict[str, JourneyEnrollment] = {}
        self._steps: list[dict[str, Any]] = []
        self._closed: list[JourneyEnrollment] = []

    def load_shops(self, shop_ids: Iterable[str]) -> None:
        missing = sorted(set(shop_ids) - set(self._shops))
        if missing:
            with self.session.no_autoflush:  # shops' settings: the batch's changes so far stay unwritten
                found = {shop.id: shop for shop in self.session.scalars(sa.select(Shop).where(Shop.id.in_(missing)))}
            self._shops.update({shop_id: found.get(shop_id) for shop_id in missing})

    def _zone(self, shop_id: str) -> str:
        self.load_shops([shop_id])
        shop = self._shops[shop_id]
        return (shop.timezone if shop is not None else None) or "Asia/Shanghai"

    def run(self, enrollment: JourneyEnrollment) -> None:
        """Move one locked enrolment until it waits, ends, parks at a batch action, or has visited
        ``MAX_STEPS_PER_RUN`` nodes in this run. An enrolment the graph cannot take on at one node (a bad
        param) is tried again after ``RETRY_AFTER``."""
        try:
            self._move(enrollment)
        except (KeyError, TypeError, ValueError, AttributeError):  # a graph the engine cannot follow at one node
            log.exception("journey.advance_failed", enrollment=enrollment.id, node=enrollment.current_node)
            enrollment.status = "waiting"
            enrollment.wake_at = self.now + RETRY_AFTER

    def _move(self, enrollment: JourneyEnrollment) -> None:
        self._changed[enrollment.id] = enrollment
        graph = self.graphs[enrollment.version_id]
        while self._visits.get(enrollment.id, 0) < MAX_STEPS_PER_RUN:
            self._visits[enrollment.id] = self._visits.get(enrollment.id, 0) + 1
            if enrollment.status not in OPEN_STATUSES:
                return
            node = reading.node(graph, enrollment.current_node)
            if node is None:
                self.close(enrollment, reason="completed", status="completed")
                return
            if not self._visit(enrollment, node):
                return
        enqueue_once_after_commit(self.session, ADVANCE_JOB)  # more to do: the next run goes on

    def close(self, enrollment: JourneyEnrollment, *, reason: str, status: str = "exited") -> None:
        """Take the enrolment out (``journey.exited`` once the batch is written)."""
        close(enrollment, reason=reason, now=self.now, status=status)
        self._changed[enrollment.id] = enrollment
        self._closed.append(enrollment)

    def settle(self) -> None:
        """Perform the parked batch actions — group by group in (action, group) order, so coupons are locked in
        id order — record each step and move its enrolment on (which may park it again); then write the
        batch."""
        while self._parked:
            self.write()  # what the last round moved, before the actions read
            parked, self._parked = self._parked, {}
            done: list[tuple[_Parked, Mapping[str, Any], dict[str, Any] | SoukError]] = []
            for action, shop_id, group in sorted(parked, key=lambda key: (key[0], key[2], key[1])):
                steps = parked[(action, shop_id, group)]
                params = reading.params(steps[0].node)
                try:
                    outcomes = actions.BATCHED[action].perform([step.context for step in steps], params)
                except (KeyError, TypeError, ValueError, AttributeError):  # as ``run``: tried again later
                    log.exception("journey.advance_failed", action=action, group=group, enrollments=len(steps))
                    for step in steps:
                        step.enrollment.status = "waiting"
                        step.enrollment.wake_at = self.now + RETRY_AFTER
                        self._changed[step.enrollment.id] = step.enrollment
                    continue
                done.extend((step, params, outcome) for step, outcome in zip(steps, outcomes, strict=True))
            # Recorded once every group has acted: a group's reads would otherwise flush the steps before it.
            moving = [
                step.enrollment
                for step, params, outcome in done
                if self._record_action(step.enrollment, step.node, step.seq, params, outcome)
            ]
            for enrollment in moving:
                self.run(enrollment)
        self._write_last()

    def write(self) -> None:
        """Write what the batch has changed so far: its enrolments (``write_enrollments``: one executemany UPDATE),
        its step rows (one executemany INSERT), then the rest (wallet entries, events) by one flush."""
        write_enrollments(self.session, self._changed.values())
        self._changed = {}
        if self._steps:
            connection = self.session.connection(bind_arguments={"mapper": JourneyStep})
            connection.execute(sa.insert(cast(sa.Table, JourneyStep.__table__)), self._steps)
            self._steps = []
        self.session.flush()

    def _write_last(self) -> None:
        """The batch's last write, with ``journey.exited`` for every enrolment that left, emitted once its row is
        written (the payload carries that version), so the batch's events go out in its last flush."""
        write_enrollments(self.session, self._changed.values())
        self._changed = {}
        for enrollment in self._closed:
            emit_enrollment(self.session, enrollment, "journey.exited", now=self.now)
        self._closed = []
        self.write()

    def _take(
        self,
        enrollment: JourneyEnrollment,
        node: Mapping[str, Any],
        *,
        exit_name: str | None,
        outcome: dict[str, Any] | None = None,
        status: str = "done",
        seq: int | None = None,
    ) -> bool:
        """``take_step`` for the batch: the row and the enrolment are written by ``write``."""
        row = step_row(enrollment, node, exit_name=exit_name, now=self.now, outcome=outcome, status=status, seq=seq)
        self._steps.append(row)
        self._changed[enrollment.id] = enrollment
        if follow(enrollment, node, exit_name=exit_name, seq=row["seq"]):
            return True
        self.close(enrollment, reason="completed", status="completed")
        return False

    def _visit(self, enrollment: JourneyEnrollment, node: Mapping[str, Any]) -> bool:
        """Act at one node; True to go on to the next node now, False to stop (waiting, parked or ended)."""
        kind = node.get("type")
        params = reading.params(node)
        if kind == "wait":
            return self._wait(enrollment, node, params)
        if kind == "exit":
            self._take(enrollment, node, exit_name=None)
            return False
        if kind == "condition":
            self.write()  # the savepoint would flush the batch's enrolments one UPDATE each
            try:
                with self.session.begin_nested():
                    holds = _condition_holds(self.session, enrollment, params.get("condition"), self.now)
                outcome: dict[str, Any] = {}
            except (SoukError, ValueError, KeyError, TypeError) as error:
                holds, outcome = False, {"error": str(error)[:300]}
            return self._take(enrollment, node, exit_name="yes" if holds else "no", outcome=outcome)
        if kind == "split":
            builtin = weighted_branch(params, enrollment_id=enrollment.id, node_id=enrollment.current_node)
            branch, chosen_by = builtin, "builtin"
            if self.pick_branch is not None:
                with self.session.no_autoflush:  # a plugin decides on its payload: the batch stays unwritten
                    branch, chosen_by = self.pick_branch(
                        self.session, enrollment, enrollment.current_node, params, builtin
                    )
            enrollment.variant = branch
            return self._take(enrollment, node, exit_name=branch, outcome={"variant": branch, "chosen_by": chosen_by})
        if kind == "action":
            return self._act(enrollment, node, params)
        # trigger (the entry) and anything unknown: pass through
        return self._take(enrollment, node, exit_name="default")

    def _wait(self, enrollment: JourneyEnrollment, node: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
        event_wait = params.get("kind") == "event"
        if enrollment.status == "ready":  # just arrived: go to sleep
            enrollment.status = "waiting"
            enrollment.wake_at = waits.wake_at(params, now=self.now, timezone=self._zone(enrollment.shop_id))
            enrollment.waiting_event = str(params.get("event")) if event_wait else None
            if enrollment.wake_at > self.now:
                return False
        outcome = {"woke_at": self.now.isoformat()}
        return self._take(enrollment, node, exit_name="timeout" if event_wait else "default", outcome=outcome)

    def _act(self, enrollment: JourneyEnrollment, node: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
        seq = enrollment.steps_taken + 1
        context = actions.ActionContext(
            session=self.session,
            enrollment=enrollment,
            node_id=enrollment.current_node,
            step_key=step_key(enrollment.id, seq),
            now=self.now,
            settings=reading.settings(self.graphs[enrollment.version_id]),
            timezone=self._zone(enrollment.shop_id),
        )
        action = str(params.get("action"))
        batched = actions.BATCHED.get(action)
        if batched is not None:  # acts in ``settle``, with the batch's other steps at this action
            key = (action, enrollment.shop_id, batched.group(params))
            self._parked.setdefault(key, []).append(_Parked(enrollment, node, seq, context))
            return False
        self.write()  # the action may read the steps so far (a message names the coupon given) and flushes
        outcome: dict[str, Any] | SoukError
        try:
            if action in actions.REFUSE_BEFORE_WRITING:
                outcome = actions.perform(context, params)
            else:
                with self.session.begin_nested():
                    outcome = actions.perform(context, params)
        except SoukError as refusal:
            outcome = refusal
        return self._record_action(enrollment, node, seq, params, outcome)

    def _record_action(
        self,
        enrollment: JourneyEnrollment,
        node: Mapping[str, Any],
        seq: int,
        params: Mapping[str, Any],
        outcome: dict[str, Any] | SoukError,
    ) -> bool:
        """The action step's row: what it did, or (``skipped``) why it did nothing."""
        if isinstance(outcome, SoukError):
            recorded = {"action": params.get("action"), "reason": outcome.code, "detail": outcome.detail[:300]}
            status = "skipped"
        else:
            recorded, status = {"action": params.get("action"), **outcome}, "done"
        return self._take(enrollment, node, exit_name="default", outcome=recorded, status=status, seq=seq)


def _due(now: dt.datetime) -> sa.ColumnElement[bool]:
    active = sa.and_(
        Journey.status == "active",
        sa.or_(
            JourneyEnrollment.status == "ready",
            sa.and_(JourneyEnrollment.status == "waiting", JourneyEnrollment.wake_at <= now),
        ),
    )
    archived = sa.and_(Journey.status == "archived", JourneyEnrollment.status.in_(OPEN_STATUSES))
    return sa.or_(active, archived)


def advance_batch(
    session: DbSession, *, now: dt.datetime, batch: int = 200, pick_branch: BranchPicker | None = None
) -> int:
    """Claim up to ``batch`` due enrolments and move each as far as it goes now; returns how many were claimed.
    The caller commits (that commit is what makes the steps, and their effects, happen)."""
    claimed = list(
        session.scalars(
            sa.select(JourneyEnrollment.id)
            .join(Journey, Journey.id == JourneyEnrollment.journey_id)
            .where(JourneyEnrollment.status.in_(OPEN_STATUSES), _due(now))
            .order_by(JourneyEnrollment.id)
            .limit(batch)
            .with_for_update(of=JourneyEnrollment, skip_locked=True)
        )
    )
    if not claimed:
        return 0
    enrollments = list(
        session.scalars(
            sa.select(JourneyEnrollment)
            .where(JourneyEnrollment.id.in_(claimed))
            .order_by(JourneyEnrollment.id)
            .execution_options(populate_existing=True)
        )
    )
    statuses: dict[str, str] = {
        journey_id: status
        for journey_id, status in session.execute(
            sa.select(Journey.id, Journey.status).where(Journey.id.in_({e.journey_id for e in enrollments}))
        )
    }
    advancer = Advancer(session, now=now, pick_branch=pick_branch)
    advancer.graphs.load({e.version_id for e in enrollments})
    advancer.load_shops({e.shop_id for e in enrollments})
    for enrollment in enrollments:
        if statuses.get(enrollment.journey_id) == "archived":
            advancer.close(enrollment, reason="archived")
            continue
        # No savepoint per enrolment (two round trips and a flush each, a third of a run's time): actions run in
        # their own savepoint, and a database error anywhere fails the batch, which is then redone whole.
        advancer.run(enrollment)
    advancer.settle()
    return len(claimed)


def wake_on_event(
    session: DbSession, enrollment: JourneyEnrollment, graph: Mapping[str, Any], *, event_id: str, now: dt.datetime
) -> bool:
    """An event wait's event arrived: take the wait's ``event`` exit now (the enrolment is locked by the caller);
    False when it is no longer waiting there."""
    node = reading.node(graph, enrollment.current_node)
    if enrollment.status != "waiting" or node is None or node.get("type") != "wait":
        return False
    inside = take_step(session, enrollment, node, exit_name="event", now=now, outcome={"event_id": event_id})
    if inside:
        enqueue_once_after_commit(session, ADVANCE_JOB)
    return True


def reach_goal(
    session: DbSession,
    enrollment: JourneyEnrollment,
    *,
    event_id: str,
    revenue: int,
    now: dt.datetime,
) -> None:
    """Record the goal (``journey.goal_reached``) and, for an enrolment still inside, take it out (reason
    ``goal``). A completed enrolment still converts: its conversion is what the report compares."""
    enrollment.goal_reached_at = now
    enrollment.goal_event_id = event_id
    enrollment.goal_revenue = revenue
    session.flush()
    emit_enrollment(session, enrollment, "journey.goal_reached", now=now)
    if enrollment.status in OPEN_STATUSES:
        finish(session, enrollment, reason="goal", now=now)
