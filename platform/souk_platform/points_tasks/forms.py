"""The merchant's forms for points operations (docs/architecture.md §5.15): tasks and the points policy."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from souk_platform.points.policy import LIMITS
from souk_platform.points_tasks.services import MAX_CAP, MAX_TASK_POINTS
from souk_platform.web.forms import YuanField
from souk_platform.web.once import OnceForm

KIND_LABELS = {
    "daily_sign_in": _l("Daily sign-in"),
    "complete_profile": _l("Complete the profile"),
    "first_order": _l("First order"),
    "post_review": _l("Post a review"),
    "invite_friend": _l("Invite a friend"),
}
PERIOD_LABELS = {
    "": _l("Per reference (each review or friend)"),
    "day": _l("Once a day"),
    "week": _l("Once a week"),
    "month": _l("Once a month"),
    "once": _l("Once only"),
}
PROFILE_LABELS = {
    "name": _l("Name"),
    "phone": _l("Phone"),
    "email": _l("Email"),
    "birthday": _l("Birthday"),
    "gender": _l("Gender"),
    "source_channel": _l("Source channel"),
}


class TaskForm(FlaskForm):
    """A task's fields; those of other kinds are ignored. Streak bonuses are typed "7:50, 30:200"."""

    version = HiddenField()
    name = StringField(_l("Name"), validators=[InputRequired(), Length(1, 100)])
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()))
    points = IntegerField(_l("Points"), validators=[InputRequired(), NumberRange(1, MAX_TASK_POINTS)])
    period = SelectField(_l("How often (reviews and invitations)"), choices=list(PERIOD_LABELS.items()))
    daily_cap = IntegerField(_l("Daily cap per customer"), validators=[Optional(), NumberRange(1, MAX_CAP)])
    total_cap = IntegerField(_l("Total cap per customer"), validators=[Optional(), NumberRange(1, MAX_CAP)])
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends before"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=[("active", _l("Active")), ("paused", _l("Paused"))])
    streak_bonuses = StringField(
        _l("Streak bonuses (days:points, comma-separated)"), validators=[Optional(), Length(max=200)]
    )
    profile_fields = SelectMultipleField(_l("Profile fields to fill"), choices=list(PROFILE_LABELS.items()))
    invite_when = SelectField(
        _l("An invitation pays when the friend"),
        choices=[("registered", _l("registers")), ("first_order", _l("pays a first order"))],
    )


class StatusForm(FlaskForm):
    version = HiddenField()
    status = SelectField(choices=[("active", _l("Active")), ("paused", _l("Paused"))])


class PolicyForm(FlaskForm):
    """The points policy: a point's value in yuan, the spend ratio in percent."""

    version = HiddenField()
    points_per_yuan = IntegerField(
        _l("Points earned per yuan paid"), validators=[InputRequired(), NumberRange(*LIMITS["points_per_yuan"])]
    )
    point_value = YuanField(_l("What one point is worth (yuan)"), validators=[InputRequired()], maximum=10_000)
    max_spend_percent = IntegerField(
        _l("Points may pay at most (percent of an order)"), validators=[InputRequired(), NumberRange(0, 100)]
    )
    max_points_per_order = IntegerField(
        _l("At most this many points per order (blank: no cap)"),
        validators=[Optional(), NumberRange(*LIMITS["max_points_per_order"])],
    )
    expiry_policy = SelectField(
        _l("Points expire"),
        choices=[
            ("days", _l("A number of days after they are earned")),
            ("end_of_year", _l("When the next year ends")),
        ],
    )
    expiry_days = IntegerField(_l("Days"), validators=[InputRequired(), NumberRange(*LIMITS["expiry_days"])])


class HeldCompletionForm(OnceForm):
    """Approve or reject a completion held by risk control: approving pays points, so it is done once."""

    verdict = SelectField(choices=[("approve", _l("Approve")), ("reject", _l("Reject"))])
