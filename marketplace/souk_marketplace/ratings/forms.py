"""Forms of the rating pages (Flask-WTF, CSRF-protected)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from souk_marketplace.ratings.services import MAX_TEXT, STARS


class RatingForm(FlaskForm):
    shop_id = SelectField(_l("Shop"), choices=[], validate_choice=False)  # the owner's eligible shops
    stars = RadioField(
        _l("Stars"),
        choices=[SelectChoice(n, "★" * n) for n in reversed(STARS)],
        coerce=int,
        validators=[InputRequired(message=_l("Choose 1 to 5 stars."))],
    )
    text = TextAreaField(
        _l("Your review"),
        validators=[DataRequired(message=_l("Write a few words.")), Length(max=MAX_TEXT)],
    )


class ReplyForm(FlaskForm):
    text = TextAreaField(
        _l("Your public reply"),
        validators=[DataRequired(message=_l("Write your reply.")), Length(max=MAX_TEXT)],
    )
