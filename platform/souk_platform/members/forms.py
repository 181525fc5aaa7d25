"""The member-level editor's form: V1–V5 names and, for V2–V5, the rules to reach and keep them."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from souk_platform.members.services import LEVELS
from souk_platform.web.forms import YuanField, yuan_text

MAX_THRESHOLD = 10**12  # a sanity bound on spend (fen), orders and points thresholds


class _SubForm(FlaskForm):
    class Meta:
        csrf = False  # a sub-form: the outer form carries the token


class ThresholdForm(_SubForm):
    """One rule: met when any (or all) of the thresholds given are reached; none given means no rule."""

    match = SelectField(
        _l("Match"), choices=[("any", _l("any of")), ("all", _l("all of"))], default="any", validate_choice=False
    )
    spend = YuanField(_l("Spent (yuan)"), maximum=MAX_THRESHOLD)
    orders = IntegerField(_l("Orders"), validators=[Optional(), NumberRange(min=0, max=MAX_THRESHOLD)])
    points = IntegerField(_l("Points"), validators=[Optional(), NumberRange(min=0, max=MAX_THRESHOLD)])

    def rule(self) -> dict[str, Any] | None:
        """The rule as ``members.services`` stores it, or None when no threshold was given."""
        values = {"spend": self.spend.minor, "orders": self.orders.data, "points": self.points.data}
        if all(value is None for value in values.values()):
            return None
        return {"match": self.match.data or "any", **values}

    def show(self, rule: dict[str, Any] | None) -> None:
        rule = rule or {}
        self.match.data = rule.get("match", "any")
        self.spend.data = yuan_text(rule["spend"]) if rule.get("spend") is not None else ""
        self.orders.data = rule.get("orders")
        self.points.data = rule.get("points")


class LevelForm(_SubForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=30)])
    upgrade = FormField(ThresholdForm)
    keep = FormField(ThresholdForm)


class LevelConfigForm(FlaskForm):
    version = HiddenField()
    window_days = IntegerField(
        _l("Count spend and orders over the last (days)"), validators=[DataRequired(), NumberRange(min=1, max=3650)]
    )
    downgrade_period_days = IntegerField(
        _l("Downgrade at most once per (days)"), validators=[DataRequired(), NumberRange(min=1, max=3650)]
    )
    levels = FieldList(FormField(LevelForm), min_entries=len(LEVELS), max_entries=len(LEVELS))

    def config_levels(self) -> list[dict[str, Any]]:
        return [
            {
                "level": level,
                "name": (row.form.name.data or "").strip(),
                "upgrade": row.form.upgrade.form.rule() if level > 1 else None,
                "keep": row.form.keep.form.rule() if level > 1 else None,
            }
            for level, row in zip(LEVELS, self.levels, strict=True)
        ]
