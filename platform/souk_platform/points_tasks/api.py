"""Earning tasks, their completions and daily sign-in (docs/architecture.md §5.15)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from souk_platform.api import (
    current_principal,
    etag,
    expected_version,
    idempotency_required,
    idempotent,
    page_of,
    page_schema,
    paginated,
    requires,
    transactional,
)
from souk_platform.api.parsing import Blueprint
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.points_tasks import completions, services
from souk_platform.points_tasks.models import PointsTask, PointsTaskCompletion
from souk_platform.points_tasks.schemas import (
    CompletionQuerySchema,
    CompletionRequestSchema,
    CompletionSchema,
    PointsTaskQuerySchema,
    PointsTaskSchema,
    PointsTaskUpdateSchema,
    SignInCalendarQuerySchema,
    SignInCalendarSchema,
    SignInRequestSchema,
    SignInSchema,
)
from souk_platform.shops.services import get_shop

blp = Blueprint(
    "points_tasks",
    __name__,
    url_prefix="",  # /points-tasks and /customers/{id}/sign-ins
    description="Points earning tasks (积分任务): sign-in, profile, first order, review, invitation",
)


@blp.route("/points-tasks")
class TaskList(MethodView):
    @requires("read_points")
    @blp.arguments(PointsTaskQuerySchema, location="query")
    @blp.response(200, page_schema(PointsTaskSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's earning tasks, newest first"""
        stmt = services.tasks_stmt(current_principal().shop_id, kind=args.pop("kind"), status=args.pop("status"))
        page = page_of(db.session, stmt, PointsTask.id, **args)
        return paginated(page, view=services.task_view)

    @requires("write_points")
    @transactional
    @blp.arguments(PointsTaskSchema)
    @blp.response(201, PointsTaskSchema)
    @blp.alt_response(409, description="The shop already has a daily sign-in task (sign-in-task-exists)")
    def post(self, fields: dict[str, Any]) -> Any:
        """Create an earning task"""
        task = services.create_task(db.session, shop_id=current_principal().shop_id, fields=fields)
        return services.task_view(task), 201, etag(task.version)


@blp.route("/points-tasks/<task_id>")
class TaskResource(MethodView):
    @requires("read_points")
    @blp.response(200, PointsTaskSchema)
    def get(self, task_id: str) -> Any:
        """One earning task"""
        task = services.get_task(db.session, shop_id=current_principal().shop_id, task_id=task_id)
        return services.task_view(task), 200, etag(task.version)

    @requires("write_points")
    @transactional
    @blp.arguments(PointsTaskUpdateSchema)
    @blp.response(200, PointsTaskSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], task_id: str) -> Any:
        """Change a task, or pause it with {"status": "paused"} (send If-Match with the version you read)"""
        task = services.update_task(
            db.session,
            shop_id=current_principal().shop_id,
            task_id=task_id,
            changes=changes,
            expected_version=expected_version(),
        )
        return services.task_view(task), 200, etag(task.version)

    @requires("write_points")
    @transactional
    @blp.response(204)
    @blp.alt_response(409, description="The task has completions: pause it instead")
    @blp.alt_response(412, description="If-Match names a stale version")
    def delete(self, task_id: str) -> Any:
        """Delete a task nobody completed"""
        services.delete_task(
            db.session, shop_id=current_principal().shop_id, task_id=task_id, expected_version=expected_version()
        )
        return None


@blp.route("/points-tasks/<task_id>/completions")
class TaskCompletions(MethodView):
    @requires("read_points")
    @blp.arguments(CompletionQuerySchema, location="query")
    @blp.response(200, page_schema(CompletionSchema))
    def get(self, args: dict[str, Any], task_id: str) -> Any:
        """Who completed the task, newest first; filter by customer or status"""
        shop_id = current_principal().shop_id
        services.get_task(db.session, shop_id=shop_id, task_id=task_id)
        stmt = completions.completions_stmt(
            shop_id, task_id=task_id, customer_id=args.pop("customer_id"), status=args.pop("status")
        )
        page = page_of(db.session, stmt, PointsTaskCompletion.id, **args)
        return paginated(page, view=completions.completion_view)

    @requires("write_points")
    @idempotency_required
    @blp.arguments(CompletionRequestSchema)
    @blp.response(201, CompletionSchema)
    @blp.alt_response(409, description="Paused, outside its window, not met, done this period, reference used, cap")
    @blp.alt_response(422, description="Refused by risk control (risk-denied, with rule and decision_id)")
    def post(self, body: dict[str, Any], task_id: str) -> Any:
        """Report that a customer did the task (a review posted, a friend invited, the profile filled); pays its
        points, or holds them (status in_review) when risk control asks for a person (Idempotency-Key required)"""
        shop = get_shop(db.session, current_principal().shop_id)
        completion = completions.complete_task(
            db.session,
            shop=shop,
            task_id=task_id,
            customer_id=body["customer_id"],
            reference=body["reference"],
            ip=body["ip"],
            device_id=body["device_id"],
            now=app_now(),
        )
        return completions.completion_view(completion), 201


@blp.route("/points-tasks/<task_id>/completions/<completion_id>/approve")
class ApproveCompletion(MethodView):
    @requires("write_points")
    @idempotent
    @blp.response(200, CompletionSchema)
    @blp.alt_response(409, description="Not in review (points-task-completion-closed)")
    def post(self, task_id: str, completion_id: str) -> Any:
        """Let a held completion through: its points are awarded now"""
        completion = completions.approve_completion(
            db.session, shop_id=current_principal().shop_id, task_id=task_id, completion_id=completion_id, now=app_now()
        )
        return completions.completion_view(completion)


@blp.route("/points-tasks/<task_id>/completions/<completion_id>/reject")
class RejectCompletion(MethodView):
    @requires("write_points")
    @idempotent
    @blp.response(200, CompletionSchema)
    @blp.alt_response(409, description="Not in review (points-task-completion-closed)")
    def post(self, task_id: str, completion_id: str) -> Any:
        """Refuse a held completion: no points, and its day or reference stays used"""
        completion = completions.reject_completion(
            db.session, shop_id=current_principal().shop_id, task_id=task_id, completion_id=completion_id, now=app_now()
        )
        return completions.completion_view(completion)


@blp.route("/customers/<customer_id>/sign-ins")
class SignIns(MethodView):
    @requires("read_points")
    @blp.arguments(SignInCalendarQuerySchema, location="query")
    @blp.response(200, SignInCalendarSchema)
    def get(self, args: dict[str, Any], customer_id: str) -> Any:
        """The sign-in calendar: the days of a month the customer signed in, and their streak today"""
        shop = get_shop(db.session, current_principal().shop_id)
        return completions.sign_in_calendar(
            db.session, shop=shop, customer_id=customer_id, month=args["month"], now=app_now()
        )

    @requires("write_points")
    @idempotency_required
    @blp.arguments(SignInRequestSchema)
    @blp.response(201, SignInSchema)
    @blp.alt_response(409, description="Signed in today already (already-signed-in), or no sign-in task")
    @blp.alt_response(422, description="Refused by risk control (risk-denied, with rule and decision_id)")
    def post(self, body: dict[str, Any], customer_id: str) -> Any:
        """Sign a customer in for today (shop-local): the points, the streak and the next streak bonus
        (Idempotency-Key required)"""
        shop = get_shop(db.session, current_principal().shop_id)
        return (
            completions.sign_in(
                db.session,
                shop=shop,
                customer_id=customer_id,
                ip=body["ip"],
                device_id=body["device_id"],
                now=app_now(),
            ),
            201,
        )
