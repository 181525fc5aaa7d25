"""A service's refusal in words for a page: the problem type's title in Chinese, the detail in English.

Services explain a refusal in English (``SoukError.detail``, the API's ``detail``); the back office
shows the problem type's title from this table to a Chinese reader, and the detail (which names the
very product, level or threshold) to an English one. docs/architecture.md §14.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from souk_platform.core.errors import SoukError
from souk_platform.web.i18n import current_locale_code

TITLES = {
    "version-mismatch": _l("Someone changed this since you opened the page: reload it and try again."),
    "unprocessable": _l("The values are not valid."),
    "sku-code-taken": _l("The SKU code is already used in this shop."),
    "stock-below-reserved": _l("Stock would fall below what unpaid orders hold."),
    "stock-limit-exceeded": _l("The stock figure is out of range."),
    "category-not-found": _l("There is no such category in this shop."),
    "category-name-taken": _l("A category under the same parent already has this name."),
    "category-in-use": _l("The category still holds products or subcategories: move them first."),
    "category-tree-invalid": _l("The category tree would be invalid (a loop, or more than 3 levels)."),
    "category-limit-reached": _l("The shop has as many categories as allowed."),
    "duplicate-customer": _l("Another customer already has this phone or email."),
    "invalid-customer": _l("The customer's details are not valid."),
    "invalid-level-rules": _l("The member-level rules are not consistent."),
    "duplicate-name": _l("The name is already used in this shop."),
    "wrong-tag-kind": _l("A rule tag follows its condition: it cannot be given or taken by hand."),
    "unknown-customers": _l("Some customers do not exist in this shop."),
    "invalid-condition": _l("The condition is not valid."),
    "invalid-tag-import": _l("The CSV cannot be imported."),
    "invalid-member-price": _l("The member price is not valid: it must not exceed the SKU's list price."),
    "member-price-exists": _l("The SKU already has a member price for this level: change that one."),
    "member-price-not-found": _l("There is no such member price in this shop."),
    "duplicate-customer-identity": _l("Another customer of the shop already has this external identity."),
    "customer-identity-not-found": _l("The customer has no such external identity."),
    "precondition-required": _l("The form is out of date: reload the page and try again."),
    "tag-in-use": _l("The tag is used by a segment or rule tag: change those first."),
    "invalid-coupon-pack": _l("The coupon pack's settings are not valid."),
    "coupon-pack-not-found": _l("There is no such coupon pack in this shop."),
    "coupon-pack-not-refundable": _l(
        "This pack cannot be refunded: only in full, within its refund days, while none of its coupons is used."
    ),
    "insufficient-shop-balance": _l("The shop's balance cannot cover the refund."),
    "invalid-state-transition": _l("The order is not in a state that allows this."),
    "invalid-points-mall-item": _l("The points-mall item's settings are not valid."),
    "points-mall-item-unavailable": _l("The item cannot be redeemed now: not on sale, outside its dates or sold out."),
    "redemption-not-allowed": _l(
        "This member cannot redeem this item: their level is too low or they reached the limit."
    ),
    "redemption-rejected": _l("Risk control rejected the redemption."),
    "insufficient-balance": _l("Not enough points."),
    "out-of-stock": _l("Not enough stock."),
    "invalid-points-task": _l("The task's settings are not valid."),
    "sign-in-task-exists": _l("The shop already has a daily sign-in task: change that one."),
    "points-task-in-use": _l("Customers have completed this task: pause it instead."),
    "invalid-points-policy": _l("The points policy is not valid."),
}


def refusal(exc: SoukError, *, fields_explain: bool = False) -> str:
    """What to tell the merchant when a service refused their form.

    ``fields_explain``: the page shows the service's reasons beside the fields, so the title alone is said.
    """
    title = TITLES.get(exc.code)
    if title is not None and (fields_explain or current_locale_code() == "zh_CN"):
        return str(title)
    return exc.detail
