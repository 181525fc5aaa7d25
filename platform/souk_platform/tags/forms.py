"""Back-office forms for tags: a new manual or rule tag (a rule from a short list of tests), CSV imports."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from souk_platform.core.money import to_minor_units
from souk_platform.tags.schemas import load_condition_group

# The tests a rule tag can be made of on this page: key → (condition field, comparison, value kind, words).
# The API takes the whole condition language (groups, tags, dates); these cover a merchant's daily needs.
RULES: dict[str, tuple[str, str, str, Any]] = {
    "spent_at_least": ("total_spent", "gte", "yuan", _l("Spent at least (yuan)")),
    "spent_at_most": ("total_spent", "lte", "yuan", _l("Spent at most (yuan)")),
    "orders_at_least": ("orders_count", "gte", "number", _l("Orders at least")),
    "level_at_least": ("level", "gte", "number", _l("Level at least (1–5)")),
    "points_at_least": ("points", "gte", "number", _l("Points at least")),
    "ordered_within_days": ("last_order_at", "within_days", "number", _l("Ordered within the last (days)")),
}
_YUAN = re.compile(r"(\d+|\d{1,3}(,\d{3})+)(\.\d{1,2})?")


class TagForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(
        _l("Kind"),
        choices=[("manual", _l("Manual: given and taken by staff")), ("rule", _l("Rule: follows a condition"))],
    )
    description = StringField(_l("Description"), validators=[Optional(), Length(max=500)])
    rule = SelectField(_l("Condition"), choices=[(key, words) for key, (_f, _c, _k, words) in RULES.items()])
    threshold = StringField(_l("Value"), validators=[Optional(), Length(max=30)])

    def condition(self) -> dict[str, Any] | None:
        """The rule tag's condition (validated as the API validates it), or None for a manual tag."""
        if self.kind.data != "rule":
            return None
        field, cmp, kind, _words = RULES[self.rule.data or ""]
        return self._condition(field, cmp, self._value(kind))

    def _value(self, kind: str) -> int:
        text = (self.threshold.data or "").strip().removeprefix("¥").removesuffix("元").strip()
        if kind == "yuan" and _YUAN.fullmatch(text):
            return to_minor_units(text)
        if kind == "number" and text.isdigit():
            return int(text)
        raise ValidationError(
            _l("Enter a whole number.")
            if kind == "number"
            else _l("Enter an amount like 5 or 5.00 (at most two decimals).")
        )

    def _condition(self, field: str, cmp: str, value: int) -> dict[str, Any]:
        try:
            return load_condition_group({"op": "and", "conditions": [{"field": field, "cmp": cmp, "value": value}]})
        except ma.ValidationError as error:
            raise ValidationError(_l("This value is out of range for the condition.")) from error

    def validate_threshold(self, field: StringField) -> None:
        if self.kind.data == "rule" and self.rule.data in RULES:
            self.condition()


MAX_CSV_CHARS = 1_000_000  # as the API's tag import takes


class TagImportForm(FlaskForm):
    """A ``customer,tag`` CSV as a file or pasted (the file wins); ``csv()`` is its text."""

    csv_file = FileField(_l("CSV file"))
    csv_text = TextAreaField(_l("or paste the rows"), validators=[Length(max=MAX_CSV_CHARS)])
    create_missing_tags = BooleanField(_l("Create tags that do not exist yet"), default=True)

    def _upload(self) -> FileStorage | None:
        upload = self.csv_file.data
        return upload if isinstance(upload, FileStorage) and upload.filename else None

    def csv(self) -> str:
        upload = self._upload()
        if upload is not None:
            return upload.read(MAX_CSV_CHARS * 4 + 1).decode("utf-8-sig")
        return self.csv_text.data or ""

    def validate_csv_text(self, field: TextAreaField) -> None:
        upload = self._upload()
        if upload is None and not (field.data or "").strip():
            raise ValidationError(_l("Choose a CSV file or paste its rows."))
        if upload is not None:
            try:
                text = self.csv()
            except UnicodeDecodeError as error:
                raise ValidationError(_l("The file is not UTF-8 text.")) from error
            finally:
                upload.seek(0)
            if len(text) > MAX_CSV_CHARS:
                raise ValidationError(_l("The file is too large (at most 1,000,000 characters)."))


class TagActionForm(FlaskForm):
    """A button that changes a tag (delete it, evaluate its rule now)."""

    version = StringField()
