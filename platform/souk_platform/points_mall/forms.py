"""Forms of the points-mall pages (docs/architecture.md §5.14, §14): cash typed in yuan."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from souk_platform.points_mall.schemas import MAX_FEN, MAX_POINTS
from souk_platform.web.forms import YuanField
from souk_platform.web.once import OnceForm

KIND_WORDS = {
    "goods": _l("Goods"),
    "coupon": _l("Coupon"),
    "benefit_package": _l("Benefit package"),
    "app": _l("App item"),
}
STATUS_WORDS = {"draft": _l("Draft"), "on_sale": _l("On sale"), "off_sale": _l("Off sale")}
PERIOD_WORDS = {"day": _l("Per day"), "week": _l("Per week"), "month": _l("Per month"), "lifetime": _l("In all")}
LEVEL_CHOICES = [("", _l("Any member")), *((str(n), f"V{n}+") for n in range(2, 6))]


class ItemFields(FlaskForm):
    """What an item's page may change: its texts, price (points + yuan), stock, limits, level and status."""

    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    image_url = StringField(_l("Image URL"), validators=[Optional(), Length(max=500)])
    points = IntegerField(_l("Points"), validators=[InputRequired(), NumberRange(min=1, max=MAX_POINTS)])
    cash = YuanField(_l("Cash on top (yuan)"), maximum=MAX_FEN)
    stock = IntegerField(_l("Stock"), validators=[Optional(), NumberRange(min=0, max=10_000_000)])
    per_member_limit = IntegerField(_l("Limit per member"), validators=[Optional(), NumberRange(min=1, max=10_000)])
    limit_period = SelectField(_l("Limit period"), choices=list(PERIOD_WORDS.items()), default="lifetime")
    min_level = SelectField(_l("Who may redeem"), choices=LEVEL_CHOICES, default="")
    status = SelectField(_l("Status"), choices=list(STATUS_WORDS.items()), default="on_sale")
    sort = IntegerField(
        _l("Sort order"), default=0, validators=[Optional(), NumberRange(min=-1_000_000, max=1_000_000)]
    )


class ItemForm(ItemFields):
    """A new item: its kind and what it gives, fixed once created."""

    kind = SelectField(_l("Kind"), choices=list(KIND_WORDS.items()), default="goods")
    sku_id = SelectField(_l("SKU"), choices=[], validate_choice=False)
    coupon_id = SelectField(_l("Coupon"), choices=[], validate_choice=False)
    package_id = SelectField(_l("Benefit package"), choices=[], validate_choice=False)
    installation_id = SelectField(_l("App"), choices=[], validate_choice=False)
    app_item_code = StringField(_l("The app's item code"), validators=[Optional(), Length(max=100)])


class ItemEditForm(ItemFields):
    """An item's changes, sent with the version it was rendered at: a stale form is refused (412)."""

    version = HiddenField()


class RedemptionCancelForm(OnceForm):
    """Cancel a redemption: it gives points and money back, so it is done once however often sent."""


class RedeemForm(OnceForm):
    """A customer redeems one unit of an item on the mall page: done once however often sent."""


class PayForm(OnceForm):
    """A customer pays the cash part of a redemption with the test payment provider (the demo's payment)."""
