"""Completing earning tasks: daily sign-in, reported tasks, the first paid order (docs/architecture.md §5.15).

Every completion, in the caller's transaction:

1. locks the customer's row (§5.3: the customer before ledger accounts), so one customer's completions of
   any task queue and each sees the one before — caps and "already today" are checked under it;
2. checks the task is open, what it asks for (a filled profile, a real invited customer) and its period,
   reference and caps;
3. asks risk control (``risk.services.evaluate``, action ``sign_in`` or ``points_task``): deny is a 422 whose
   decision survives the rollback; review keeps the completion ``in_review`` with its points held until a
   person approves (points awarded) or rejects it (dropped, the slot stays used);
4. writes the completion — its unique keys (task, customer, slot) and (task, reference) stop a twin that
   raced past the checks, such as two customers claiming one invitee — and awards the points through
   ``award_points`` with the completion's own dedupe key, so the ledger pays each completion once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from souk_platform.core.ids import new_id
from souk_platform.customers.models import Customer, CustomerPurchase
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.orders.models import Order
from souk_platform.points.errors import CustomerNotFound
from souk_platform.points.services import award_points
from souk_platform.points_tasks.errors import (
    AlreadyCompleted,
    AlreadySignedIn,
    CapReached,
    CompletionClosed,
    CompletionNotFound,
    InvalidCompletion,
    ReferenceUsed,
    RiskDenied,
    SignInNotOffered,
    TaskAutomatic,
    TaskNotMet,
    TaskNotOpen,
)
from souk_platform.points_tasks.models import PointsTask, PointsTaskCompletion
from souk_platform.points_tasks.services import REFERENCED_KINDS, get_task, is_open
from souk_platform.reports.services import shop_zone
from souk_platform.shops.models import Shop

__all__ = [
    "approve_completion",
    "complete_task",
    "completion_view",
    "completions_stmt",
    "on_order_paid",
    "reject_completion",
    "sign_in",
    "sign_in_calendar",
]

COUNTED = ("completed", "in_review")  # completions that use a slot and count towards caps and streaks


def local_date(shop: Shop, now: dt.datetime) -> dt.date:
    return now.astimezone(shop_zone(shop.timezone or "UTC")).date()


def _slot(task: PointsTask, day: dt.date, reference: str | None) -> str:
    """The once-per-period key: the shop-local day, ISO week, month, ``once`` or the reference."""
    if task.period == "day":
        return day.isoformat()
    if task.period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if task.period == "month":
        return f"{day.year}-{day.month:02d}"
    if task.period == "once":
        return "once"
    return f"ref:{reference}"


def completion_view(completion: PointsTaskCompletion) -> dict[str, Any]:
    return {
        "id": completion.id,
        "task_id": completion.task_id,
        "kind": completion.kind,
        "customer_id": completion.customer_id,
        "reference": completion.reference,
        "date": completion.local_date,
        "points": completion.points,
        "bonus_points": completion.bonus_points,
        "streak": completion.streak,
        "status": completion.status,
        "decision_id": completion.decision_id,
        "ip": completion.ip,
        "device_id": completion.device_id,
        "decided_at": completion.decided_at,
        "created_at": completion.created_at,
    }


def _payload(completion: PointsTaskCompletion) -> dict[str, Any]:
    view = completion_view(completion)
    view["date"] = completion.local_date.isoformat()
    view["created_at"] = completion.created_at.isoformat()
    view["decided_at"] = completion.decided_at.isoformat() if completion.decided_at else None
    return view


def completions_stmt(
    shop_id: str, *, task_id: str | None = None, customer_id: str | None = None, status: str | None = None
) -> sa.Select[Any]:
    stmt = sa.select(PointsTaskCompletion).where(PointsTaskCompletion.shop_id == shop_id)
    if task_id:
        stmt = stmt.where(PointsTaskCompletion.task_id == task_id)
    if customer_id:
        stmt = stmt.where(PointsTaskCompletion.customer_id == customer_id)
    if status:
        stmt = stmt.where(PointsTaskCompletion.status == status)
    return stmt


def _lock_customer(session: DbSession, shop_id: str, customer_id: str) -> Customer:
    customer = session.scalar(
        sa.select(Customer)
        .where(Customer.shop_id == shop_id, Customer.id == customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if customer is None:
        raise CustomerNotFound(f"No customer {customer_id} in this shop.")
    return customer


def _check_open(task: PointsTask, now: dt.datetime) -> None:
    if task.status != "active":
        raise TaskNotOpen(f"Task {task.id} is {task.status}.", task_id=task.id)
    if not is_open(task, now):
        raise TaskNotOpen(f"Task {task.id} is outside its window.", task_id=task.id)


def _count(session: DbSession, task: PointsTask, customer_id: str, day: dt.date | None = None) -> int:
    stmt = sa.select(sa.func.count()).where(
        PointsTaskCompletion.task_id == task.id,
        PointsTaskCompletion.customer_id == customer_id,
        PointsTaskCompletion.status.in_(COUNTED),
    )
    if day is not None:
        stmt = stmt.where(PointsTaskCompletion.local_date == day)
    return int(session.scalar(stmt) or 0)


def _check_caps(session: DbSession, task: PointsTask, customer_id: str, day: dt.date) -> None:
    if task.daily_cap is not None and _count(session, task, customer_id, day) >= task.daily_cap:
        raise CapReached(
            f"The customer reached this task's daily cap of {task.daily_cap}.", cap="daily_cap", limit=task.daily_cap
        )
    if task.total_cap is not None and _count(session, task, customer_id) >= task.total_cap:
        raise CapReached(
            f"The customer reached this task's total cap of {task.total_cap}.", cap="total_cap", limit=task.total_cap
        )


def _taken(session: DbSession, task: PointsTask, customer_id: str, slot: str, reference: str | None) -> None:
    """409 when this customer used the slot, or anyone was paid for this reference."""
    used = session.scalar(
        sa.select(PointsTaskCompletion.id).where(
            PointsTaskCompletion.task_id == task.id,
            PointsTaskCompletion.customer_id == customer_id,
            PointsTaskCompletion.slot == slot,
        )
    )
    if used is not None:
        if task.kind == "daily_sign_in":
            raise AlreadySignedIn("The customer already signed in today.", completion_id=used)
        if task.period is not None:
            raise AlreadyCompleted(
                f"The customer already completed this task for {slot}.", completion_id=used, period=task.period
            )
        raise ReferenceUsed(f"Reference {reference!r} was already rewarded by this task.", completion_id=used)
    if reference is not None:
        other = session.scalar(
            sa.select(PointsTaskCompletion.id).where(
                PointsTaskCompletion.task_id == task.id, PointsTaskCompletion.reference == reference
            )
        )
        if other is not None:
            raise ReferenceUsed(f"Reference {reference!r} was already rewarded by this task.", completion_id=other)


def _judged_completion(
    session: DbSession,
    *,
    shop: Shop,
    task: PointsTask,
    action: str,
    customer_id: str,
    slot: str,
    reference: str | None,
    day: dt.date,
    ip: str | None,
    device_id: str | None,
    now: dt.datetime,
    bonus: int = 0,
) -> PointsTaskCompletion:
    """Risk control first (a denial raises ``RiskDenied``), then the completion it allows — ``completed`` — or
    holds for a person — ``in_review`` — not yet written."""
    # Imported here: risk's services import orders', which call back into this module after payment.
    from souk_platform.risk.services import RiskFacts, evaluate

    completion_id = new_id("ptc")
    decision = evaluate(
        session,
        shop=shop,
        action=action,
        subject=("task_completion", completion_id),
        facts=RiskFacts(customer_id=customer_id, ip=ip, device_id=device_id),
        now=now,
    )
    if decision.outcome == "deny":
        rule = decision.deciding or (decision.fired[0] if decision.fired else None)
        raise RiskDenied(
            f"Risk control refused this: {decision.reason or (rule.reason if rule else 'denied')}.",
            rule=rule.rule if rule else None,
            decision_id=decision.id,
        )
    return PointsTaskCompletion(
        id=completion_id,
        shop_id=shop.id,
        task_id=task.id,
        customer_id=customer_id,
        kind=task.kind,
        slot=slot,
        reference=reference,
        local_date=day,
        points=task.points + bonus,
        bonus_points=bonus,
        status="completed" if decision.outcome == "allow" else "in_review",
        decision_id=decision.id,
        ip=ip,
        device_id=device_id,
        created_at=now,
    )


def _write(session: DbSession, completion: PointsTaskCompletion) -> None:
    """Insert under a savepoint: a twin that committed the same slot or reference first is a clean 409."""
    try:
        with session.begin_nested():
            session.add(completion)
            session.flush()
    except IntegrityError:
        raise ReferenceUsed(
            "Another request completed this task with the same slot or reference first.",
            reference=completion.reference,
        ) from None


def _award(session: DbSession, task: PointsTask, completion: PointsTaskCompletion, now: dt.datetime) -> None:
    award_points(
        session,
        shop_id=completion.shop_id,
        customer_id=completion.customer_id,
        points=completion.points,
        reason=task.name,
        reference=completion.id,
        dedupe_key=f"points_task:{completion.id}",
        now=now,
    )
    emit(
        session,
        shop_id=completion.shop_id,
        type="points_task.completed",
        subject_type="points_task_completion",
        subject_id=completion.id,
        payload=_payload(completion),
        created_at=now,
    )


def _check_requirements(session: DbSession, task: PointsTask, customer: Customer, reference: str | None) -> None:
    if task.kind == "complete_profile":
        wanted = task.params.get("profile_fields", [])
        missing = [
            name
            for name in wanted
            if getattr(customer, name) in (None, "") or (name == "gender" and customer.gender == "unknown")
        ]
        if missing:
            raise TaskNotMet(f"The profile lacks: {', '.join(missing)}.", missing=missing)
    if task.kind == "invite_friend":
        invited = session.scalar(
            sa.select(Customer).where(Customer.shop_id == customer.shop_id, Customer.id == reference)
        )
        if invited is None or invited.id == customer.id:
            raise InvalidCompletion(
                "The reference must be the invited customer's id: another customer of this shop.",
                errors={"reference": ["Not another customer of this shop."]},
            )
        if task.params.get("when") == "first_order" and not invited.orders_count:
            raise TaskNotMet(f"Customer {invited.id} has not paid an order yet.", missing=["first_order"])


def complete_task(
    session: DbSession,
    *,
    shop: Shop,
    task_id: str,
    customer_id: str,
    reference: str | None,
    ip: str | None,
    device_id: str | None,
    now: dt.datetime,
) -> PointsTaskCompletion:
    """Record that ``customer_id`` did the task (a review posted, a friend invited, the profile filled) and pay
    it — or hold it for review. Sign-in and the first order have their own ways in (409 here)."""
    task = get_task(session, shop_id=shop.id, task_id=task_id)
    if task.kind == "daily_sign_in":
        raise TaskAutomatic("Sign in with POST /customers/{id}/sign-ins.", kind=task.kind)
    if task.kind == "first_order":
        raise TaskAutomatic("The first paid order completes this task by itself.", kind=task.kind)
    if task.kind in REFERENCED_KINDS and not reference:
        raise InvalidCompletion(
            f"A {task.kind} completion names its reference.", errors={"reference": ["Missing data for required field."]}
        )
    if task.kind not in REFERENCED_KINDS and reference is not None:
        raise InvalidCompletion(
            f"A {task.kind} task takes no reference.", errors={"reference": ["Leave it out for this task."]}
        )
    customer = _lock_customer(session, shop.id, customer_id)
    _check_open(task, now)
    _check_requirements(session, task, customer, reference)
    day = local_date(shop, now)
    slot = _slot(task, day, reference)
    _taken(session, task, customer_id, slot, reference)
    _check_caps(session, task, customer_id, day)
    completion = _judged_completion(
        session,
        shop=shop,
        task=task,
        action="points_task",
        customer_id=customer_id,
        slot=slot,
        reference=reference,
        day=day,
        ip=ip,
        device_id=device_id,
        now=now,
    )
    _write(session, completion)
    if completion.status == "completed":
        _award(session, task, completion, now)
    return completion


# --- daily sign-in -----------------------------------------------------------------------------


def sign_in_task(session: DbSession, shop_id: str) -> PointsTask | None:
    return session.scalar(
        sa.select(PointsTask).where(PointsTask.shop_id == shop_id, PointsTask.kind == "daily_sign_in")
    )


def _bonuses(task: PointsTask) -> list[dict[str, int]]:
    return list(task.params.get("streak_bonuses", []))


def next_bonus(task: PointsTask, streak: int) -> dict[str, int] | None:
    """The next streak bonus after ``streak`` days: its length, points and the sign-ins still to go."""
    ahead = [b for b in _bonuses(task) if b["days"] > streak]
    if not ahead:
        return None
    first = ahead[0]
    return {"days": first["days"], "points": first["points"], "in_days": first["days"] - streak}


def sign_in(
    session: DbSession,
    *,
    shop: Shop,
    customer_id: str,
    ip: str | None,
    device_id: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """Sign ``customer_id`` in for the shop-local day: the task's points, plus a streak bonus on the day the
    streak reaches a bonus's length; a missed day starts the streak again. 409 ``already-signed-in`` the
    second time in a day."""
    _lock_customer(session, shop.id, customer_id)
    task = sign_in_task(session, shop.id)
    if task is None:
        raise SignInNotOffered("The shop has no daily sign-in task; create one at /points-tasks.")
    _check_open(task, now)
    day = local_date(shop, now)
    slot = _slot(task, day, None)
    _taken(session, task, customer_id, slot, None)
    _check_caps(session, task, customer_id, day)
    previous = session.scalar(
        sa.select(PointsTaskCompletion.streak).where(
            PointsTaskCompletion.task_id == task.id,
            PointsTaskCompletion.customer_id == customer_id,
            PointsTaskCompletion.slot == (day - dt.timedelta(days=1)).isoformat(),
            PointsTaskCompletion.status.in_(COUNTED),
        )
    )
    streak = (previous or 0) + 1
    bonus = sum(b["points"] for b in _bonuses(task) if b["days"] == streak)
    completion = _judged_completion(
        session,
        shop=shop,
        task=task,
        action="sign_in",
        customer_id=customer_id,
        slot=slot,
        reference=None,
        day=day,
        ip=ip,
        device_id=device_id,
        now=now,
        bonus=bonus,
    )
    completion.streak = streak
    try:  # a twin request that committed the same day first is a clean 409
        with session.begin_nested():
            session.add(completion)
            session.flush()
    except IntegrityError:
        raise AlreadySignedIn("The customer already signed in today.") from None
    if completion.status == "completed":
        _award(session, task, completion, now)
    emit(
        session,
        shop_id=shop.id,
        type="customer.signed_in",
        subject_type="customer",
        subject_id=customer_id,
        payload=_payload(completion),
        created_at=now,
    )
    return sign_in_view(task, completion)


def sign_in_view(task: PointsTask, completion: PointsTaskCompletion) -> dict[str, Any]:
    held = completion.status == "in_review"
    return {
        "id": completion.id,
        "customer_id": completion.customer_id,
        "date": completion.local_date,
        "status": completion.status,
        "points_awarded": 0 if held else completion.points,
        "points_held": completion.points if held else 0,
        "base_points": completion.points - completion.bonus_points,
        "bonus_points": completion.bonus_points,
        "streak": completion.streak,
        "next_bonus": next_bonus(task, completion.streak or 0),
        "decision_id": completion.decision_id,
    }


def _month_bounds(month: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    if month is None:
        first = today.replace(day=1)
    else:
        year, number = (int(part) for part in month.split("-"))
        first = dt.date(year, number, 1)
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following


def sign_in_calendar(
    session: DbSession, *, shop: Shop, customer_id: str, month: str | None, now: dt.datetime
) -> dict[str, Any]:
    """The days of ``month`` (``YYYY-MM``, default the shop-local current month) the customer signed in, and
    the streak as it stands today (alive while the last sign-in was today or yesterday)."""
    customer = session.scalar(sa.select(Customer.id).where(Customer.shop_id == shop.id, Customer.id == customer_id))
    if customer is None:
        raise CustomerNotFound(f"No customer {customer_id} in this shop.")
    today = local_date(shop, now)
    first, following = _month_bounds(month, today)
    task = sign_in_task(session, shop.id)
    days: list[int] = []
    streak, signed_today = 0, False
    if task is not None:
        mine = (
            PointsTaskCompletion.task_id == task.id,
            PointsTaskCompletion.customer_id == customer_id,
            PointsTaskCompletion.status.in_(COUNTED),
        )
        days = [
            d.day
            for d in session.scalars(
                sa.select(PointsTaskCompletion.local_date)
                .where(*mine, PointsTaskCompletion.local_date >= first, PointsTaskCompletion.local_date < following)
                .order_by(PointsTaskCompletion.local_date)
            )
        ]
        latest = session.execute(
            sa.select(PointsTaskCompletion.local_date, PointsTaskCompletion.streak)
            .where(*mine, PointsTaskCompletion.local_date >= today - dt.timedelta(days=1))
            .order_by(PointsTaskCompletion.local_date.desc())
            .limit(1)
        ).first()
        if latest is not None:
            streak, signed_today = int(latest.streak or 0), latest.local_date == today
    return {
        "customer_id": customer_id,
        "month": f"{first.year}-{first.month:02d}",
        "days": days,
        "count": len(days),
        "streak": streak,
        "signed_in_today": signed_today,
        "next_bonus": next_bonus(task, streak) if task is not None else None,
    }


# --- the first paid order ----------------------------------------------------------------------


def on_order_paid(session: DbSession, *, shop: Shop, order: Order, now: dt.datetime) -> int:
    """Pay the shop's open ``first_order`` tasks when ``order`` is its customer's first paid order.

    Called from the payment's ``_on_paid`` after ``record_purchase``, in its transaction and under its
    customer lock; idempotent (the ``once`` slot and the ledger key). The order passed risk control at
    checkout, so no second evaluation here. Returns the points awarded."""
    if order.customer_id is None:
        return 0
    tasks = [
        task
        for task in session.scalars(
            sa.select(PointsTask).where(PointsTask.shop_id == shop.id, PointsTask.kind == "first_order")
        )
        if is_open(task, now)
    ]
    if not tasks:
        return 0
    paid_orders = session.scalar(
        sa.select(sa.func.count()).where(
            CustomerPurchase.shop_id == shop.id,
            CustomerPurchase.customer_id == order.customer_id,
            CustomerPurchase.counts_as_order.is_(True),
        )
    )
    if paid_orders != 1:
        return 0
    awarded = 0
    day = local_date(shop, now)
    for task in tasks:
        done = session.scalar(
            sa.select(PointsTaskCompletion.id).where(
                PointsTaskCompletion.task_id == task.id,
                PointsTaskCompletion.customer_id == order.customer_id,
                PointsTaskCompletion.slot == "once",
            )
        )
        if done is not None:
            continue
        completion = PointsTaskCompletion(
            shop_id=shop.id,
            task_id=task.id,
            customer_id=order.customer_id,
            kind=task.kind,
            slot="once",
            reference=order.id,
            local_date=day,
            points=task.points,
            bonus_points=0,
            status="completed",
            ip=order.ip,
            device_id=order.device_id,
            created_at=now,
        )
        session.add(completion)
        session.flush()
        _award(session, task, completion, now)
        awarded += task.points
    return awarded


# --- held for review ---------------------------------------------------------------------------


def _held(session: DbSession, shop_id: str, task_id: str, completion_id: str) -> PointsTaskCompletion:
    completion = session.scalar(
        sa.select(PointsTaskCompletion)
        .where(
            PointsTaskCompletion.shop_id == shop_id,
            PointsTaskCompletion.task_id == task_id,
            PointsTaskCompletion.id == completion_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if completion is None:
        raise CompletionNotFound(f"No completion {completion_id} of task {task_id} in this shop.")
    if completion.status != "in_review":
        raise CompletionClosed(
            f"Completion {completion.id} is {completion.status}, not in review.", current_status=completion.status
        )
    return completion


def approve_completion(
    session: DbSession, *, shop_id: str, task_id: str, completion_id: str, now: dt.datetime
) -> PointsTaskCompletion:
    """A person let a held completion through: its points are awarded now (once: the ledger key)."""
    completion = _held(session, shop_id, task_id, completion_id)
    task = get_task(session, shop_id=shop_id, task_id=task_id)
    completion.status, completion.decided_at = "completed", now
    session.flush()
    _award(session, task, completion, now)
    return completion


def reject_completion(
    session: DbSession, *, shop_id: str, task_id: str, completion_id: str, now: dt.datetime
) -> PointsTaskCompletion:
    """A person refused a held completion: no points, and its day or reference stays used."""
    completion = _held(session, shop_id, task_id, completion_id)
    completion.status, completion.decided_at = "rejected", now
    session.flush()
    return completion
