"""Back-office forms for products and the category tree (prices typed in yuan)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from souk_platform.catalog.models import MAX_ON_HAND, MAX_PRICE, MAX_TAGS
from souk_platform.web.forms import YuanField
from souk_platform.web.once import OnceForm

NEW_SKU_ROWS = 3
_TAG_SEPARATORS = re.compile(r"[,，、]")


def split_tags(text: str | None) -> list[str]:
    """``"绿茶, 礼盒，新品"`` → ``["绿茶", "礼盒", "新品"]``: commas (either width) or 、 separate tags."""
    return list(dict.fromkeys(part.strip() for part in _TAG_SEPARATORS.split(text or "") if part.strip()))


def _tags_fit(form: FlaskForm, field: StringField) -> None:
    tags = split_tags(field.data)
    if len(tags) > MAX_TAGS:
        raise ValidationError(_l("At most %(n)d tags.", n=MAX_TAGS))
    if any(len(tag) > 30 for tag in tags):
        raise ValidationError(_l("A tag is at most 30 characters."))


class _SubForm(FlaskForm):
    class Meta:
        csrf = False  # a sub-form: the outer form carries the token


class NewSkuForm(_SubForm):
    """A SKU row of the product form; a row left without a code is skipped."""

    code = StringField(_l("SKU code"), validators=[Optional(), Length(max=64)])
    title = StringField(_l("Variant"), validators=[Optional(), Length(max=200)])
    price = YuanField(_l("Price (yuan)"), maximum=MAX_PRICE)
    on_hand = IntegerField(_l("Stock"), default=0, validators=[Optional(), NumberRange(min=0, max=MAX_ON_HAND)])

    def validate_price(self, field: YuanField) -> None:
        if self.code.data and field.minor is None:
            raise ValidationError(_l("Give the SKU a price."))


class SkuEditForm(_SubForm):
    """One existing SKU: its title, price and stock (a changed stock is recorded as an adjustment)."""

    sku_id = HiddenField()
    version = HiddenField()
    title = StringField(_l("Variant"), validators=[DataRequired(), Length(max=200)])
    price = YuanField(_l("Price (yuan)"), maximum=MAX_PRICE, validators=[DataRequired()])
    on_hand = IntegerField(
        _l("Stock"), validators=[InputRequired(_l("Give the stock (0 or more).")), NumberRange(min=0, max=MAX_ON_HAND)]
    )


class ProductForm(OnceForm):
    """Create a product (``new_skus`` are its SKUs) or edit one (``skus`` are its existing SKUs)."""

    version = HiddenField()
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10_000)])
    status = SelectField(
        _l("Status"), choices=[("draft", _l("Draft")), ("active", _l("On sale")), ("archived", _l("Archived"))]
    )
    category_id = SelectField(_l("Category"), choices=[], validate_choice=False)
    tags = StringField(_l("Tags (separated by commas)"), validators=[Optional(), _tags_fit])
    skus = FieldList(FormField(SkuEditForm), min_entries=0)
    new_skus = FieldList(FormField(NewSkuForm), min_entries=NEW_SKU_ROWS, max_entries=NEW_SKU_ROWS)


class CategoryForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    parent_id = SelectField(_l("Under"), choices=[], validate_choice=False)


class CategoryRenameForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("New name"), validators=[DataRequired(), Length(max=60)])


class CategoryMoveForm(FlaskForm):
    version = HiddenField()
    parent_id = SelectField(_l("Move under"), choices=[], validate_choice=False)


class CategoryDeleteForm(FlaskForm):
    version = HiddenField()
