"""A labelled set of requirement pairs for near-duplicate detection: is it the same need or not?

Written as merchants write requirements: Chinese, English, and Chinese with English product words.
Duplicates say the same need in other words; the non-duplicates are mostly hard ones from the same
corner of commerce (two ERP integrations, two kinds of point reminders, two WeCom notifications).
Three duplicates cross languages with no shared words: text similarity cannot see those, and they
stay in the set so the recall figure is honest.
"""

from __future__ import annotations

# name -> (title, description)
DOCUMENTS: dict[str, tuple[str, str]] = {
    # --- Chinese ---
    "points_expiry_zh_1": (
        "会员积分到期提醒",
        "积分快过期时自动给会员发短信或公众号消息提醒，提前7天和1天各提醒一次，提醒文案可以自己设置。",
    ),
    "points_expiry_zh_2": (
        "积分过期前通知会员",
        "希望在会员积分即将过期之前自动推送提醒（短信或微信），减少积分白白浪费，提醒的时间可以配置。",
    ),
    "level_rules_zh": (
        "会员等级升级规则自定义",
        "按消费金额、订单数自定义会员升级和保级规则，每个等级的门槛可以自己填。",
    ),
    "points_mall_zh": (
        "积分商城兑换商品",
        "会员可以用积分兑换实物商品和优惠券，兑换记录可以查询，库存单独管理。",
    ),
    "stacking_zh_1": (
        "满减活动叠加优惠券规则",
        "现在满减活动和优惠券不能同时使用，需要一个插件支持先满减再用券，并且可以设置哪些券可以叠加。",
    ),
    "stacking_zh_2": (
        "优惠券与满减叠加使用",
        "顾客下单时希望满减活动和店铺优惠券能叠加使用，最好能按商品分类控制是否允许叠加。",
    ),
    "coupon_by_tag_zh": (
        "优惠券批量发放给标签人群",
        "按顾客标签或人群包批量发放优惠券，发放后给顾客发通知。",
    ),
    "second_half_price_zh": (
        "第二件半价促销",
        "同一商品买第二件半价，可以指定参加活动的商品，和其他活动互斥。",
    ),
    "same_address_zh_1": (
        "同一收货地址多账号下单风控",
        "最近发现很多账号用同一个收货地址抢购限量商品，需要在下单时拦截同一地址多个账号的订单。",
    ),
    "same_address_zh_2": (
        "拦截同一地址的多个账号抢单",
        "限购商品被黄牛用不同账号、同一个收货地址下单，希望用 order.validate 插件识别出来并拒绝下单。",
    ),
    "address_parse_zh": (
        "收货地址自动识别与纠错",
        "顾客粘贴一段地址后自动解析省市区和详细地址，纠正常见错别字，减少发错货。",
    ),
    "kingdee_zh_1": (
        "对接金蝶ERP同步订单和库存",
        "订单付款后自动推送到金蝶云星空，库存数量每小时从ERP同步回店铺。",
    ),
    "kingdee_zh_2": (
        "订单库存与金蝶云星空双向同步",
        "需要把已支付的订单同步到金蝶ERP，并把ERP里的库存定时同步到店铺的SKU上。",
    ),
    "yonyou_members_zh": (
        "对接用友ERP同步会员数据",
        "把店铺会员资料和会员等级同步到用友U8，新会员注册时实时推送。",
    ),
    "birthday_points_zh_1": (
        "生日当月会员双倍积分",
        "会员在自己生日所在的月份下单，积分按两倍发放，需要一个积分规则插件。",
    ),
    "birthday_points_zh_2": (
        "会员生日月积分翻倍",
        "希望会员生日月购物时获得双倍积分，其他月份按正常比例积分。",
    ),
    "birthday_sms_zh": (
        "会员生日祝福短信",
        "会员生日当天自动发送一条祝福短信，短信签名和内容可以自定义，不涉及积分和优惠。",
    ),
    "first_order_zh_1": (
        "新客首单立减",
        "第一次在店里下单的新顾客自动立减10元，不需要领券，老顾客不参与。",
    ),
    "first_order_zh_2": (
        "首次购买的新用户自动优惠",
        "新用户首单无门槛立减，减免金额可以设置，下单时自动生效，不用发优惠券。",
    ),
    "repurchase_coupon_zh": (
        "老客复购送优惠券",
        "90天内买过东西的老顾客再次下单后送一张复购券，提高回购率。",
    ),
    "invoice_zh_1": (
        "电子发票自动开具",
        "订单完成后根据顾客填写的发票抬头和税号自动开具电子发票，并发送到顾客邮箱。",
    ),
    "invoice_zh_2": (
        "订单完成自动开电子发票",
        "顾客下单时填写发票抬头和税号，订单完成以后系统自动开票并把发票发给顾客。",
    ),
    "review_invite_zh": (
        "订单完成后自动邀请评价",
        "订单完成三天后给顾客发消息邀请评价，评价带图可以送积分。",
    ),
    "stored_value_bonus_zh_1": (
        "储值卡充值赠送活动",
        "充500送50，充1000送120，赠送的部分单独记账，顾客退款时先扣除赠送金额。",
    ),
    "stored_value_bonus_zh_2": (
        "充值送储值金",
        "做一个储值充值赠送的功能：充值满一定金额送储值金，赠送的金额在退款时优先扣除。",
    ),
    "stored_value_refund_zh": (
        "储值余额原路退回",
        "顾客申请注销时，把剩余的储值余额按原支付方式退回，需要财务审核。",
    ),
    "tracking_zh_1": (
        "物流轨迹查询与签收提醒",
        "接入快递100查询物流轨迹，包裹签收后自动提醒顾客给商品评价。",
    ),
    "tracking_zh_2": (
        "快递物流跟踪和签收通知",
        "订单发货后在订单页显示快递轨迹，包裹签收时给顾客发消息并邀请评价。",
    ),
    "freight_zh": (
        "按重量计算运费模板",
        "运费按商品总重量和收货省份计算，首重续重可以设置，偏远地区加价。",
    ),
    "live_coupon_zh_1": (
        "直播间专属优惠券",
        "直播的时候发放只能在直播间使用的优惠券，直播结束后券自动失效。",
    ),
    "live_coupon_zh_2": (
        "直播专享券",
        "给看直播的观众发专属优惠券，只在直播期间有效，下播后不能再用。",
    ),
    "live_replay_zh": (
        "直播间商品讲解回放",
        "直播结束后把每个商品的讲解片段剪成回放，挂在商品详情页。",
    ),
    "store_stock_zh_1": (
        "多门店库存共享",
        "线上商城和几家线下门店的库存打通，任何一家卖出都扣同一份库存，避免超卖。",
    ),
    "store_stock_zh_2": (
        "线上线下门店共享库存",
        "希望网店和线下门店用同一份库存，门店卖出后网店库存实时减少，防止超卖。",
    ),
    "pickup_zh": (
        "门店自提核销",
        "顾客下单选择到店自提，店员扫码核销提货，核销后订单自动完成。",
    ),
    "group_buy_zh_1": (
        "社群团购接龙",
        "在微信群里发起团购接龙，大家接龙报名后自动生成订单，团长统一配送。",
    ),
    "group_buy_zh_2": (
        "微信群接龙团购下单",
        "团长在微信群发接龙，群成员接龙报名数量，接龙结束后自动变成订单给团长发货。",
    ),
    "miniapp_theme_zh": (
        "小程序首页装修模板",
        "提供几套小程序首页装修模板，可以拖拽组件，节日时一键切换。",
    ),
    # --- Chinese with English product words ---
    "shopify_import_zh_1": (
        "Shopify 商品一键导入",
        "从 Shopify 店铺批量导入商品、SKU 和图片到 Souk，保留规格和价格。",
    ),
    "shopify_import_zh_2": (
        "从Shopify迁移商品数据",
        "需要把 Shopify 上的全部商品连同 SKU 价格和图片迁移过来，规格不要丢。",
    ),
    "shopify_orders_zh": (
        "Souk订单同步到Shopify",
        "我们在两个平台都开店，希望把 Souk 的订单实时同步到 Shopify 后台统一发货。",
    ),
    "miniapp_notice_zh_1": (
        "小程序订阅消息通知发货",
        "订单发货后通过微信小程序订阅消息通知顾客，消息里带上快递单号。",
    ),
    "miniapp_notice_zh_2": (
        "发货后发送小程序订阅消息",
        "希望在订单 fulfilled 的时候给顾客推送 mini program 订阅消息，内容包括物流单号。",
    ),
    "sku_limit_zh_1": (
        "SKU 级别的限购",
        "每个顾客每个 SKU 最多买 2 件，超过数量时在购物车里提示。",
    ),
    "sku_limit_zh_2": (
        "按SKU限制每人购买数量",
        "限量款需要每人限购，要一个 cart.validate 插件按 SKU 检查每个顾客的购买数量。",
    ),
    "sku_bundle_zh": (
        "SKU 组合套餐优惠",
        "几个 SKU 组合成套餐一起买打八折，套餐里的 SKU 可以自己选。",
    ),
    "kingdee_mixed": (
        "金蝶 ERP 订单同步",
        "已付款的订单推送到 Kingdee ERP，库存每小时从 Kingdee 同步一次。",
    ),
    # --- English ---
    "cart_email_en_1": (
        "Abandoned cart reminder emails",
        "Send an email to customers who left items in their cart for more than 2 hours, with a link back "
        "to the cart and an optional coupon.",
    ),
    "cart_email_en_2": (
        "Email shoppers about abandoned carts",
        "When a cart is abandoned for a few hours, email the shopper a reminder listing their cart items, "
        "maybe with a discount code.",
    ),
    "wishlist_en": (
        "Wishlist price drop emails",
        "Email customers when a product on their wishlist drops in price or comes back in stock.",
    ),
    "bulk_price_en_1": (
        "Bulk edit product prices",
        "Change the prices of many SKUs at once by a percentage or a fixed amount, filtered by product category.",
    ),
    "bulk_price_en_2": (
        "Mass price update for SKUs",
        "We need to update prices for hundreds of SKUs in one go, for example raise all tea products by 5 percent.",
    ),
    "bulk_images_en": (
        "Bulk import product images",
        "Upload a zip of photos and attach them to products by file name, replacing the old images.",
    ),
    "low_stock_en_1": (
        "Low stock alert to WeCom",
        "Notify our WeCom group when a SKU's available stock falls below a threshold we set per product.",
    ),
    "low_stock_en_2": (
        "Inventory low notifications in WeCom",
        "Post a message to a WeCom chat whenever the inventory of a SKU drops under a configurable level.",
    ),
    "new_order_wecom_en": (
        "New order notifications in WeCom",
        "Post every new paid order to a WeCom group with the buyer's name, the items and the total.",
    ),
    "level_discount_en_1": (
        "Tiered member discount by level",
        "Members at V3 and above get 5% off and V5 gets 10% off, applied automatically at checkout.",
    ),
    "level_discount_en_2": (
        "Automatic discount per membership level",
        "Give each member level its own discount percentage at checkout, without coupons.",
    ),
    "level_badge_en": (
        "Member level badge on the storefront",
        "Show the customer's member level as a badge next to their name on the storefront and in reviews.",
    ),
    "order_export_en_1": (
        "Export orders to Excel daily",
        "Every morning, export yesterday's orders with their lines and customer info to an Excel file sent by email.",
    ),
    "order_export_en_2": (
        "Daily order export spreadsheet",
        "Need a daily xlsx spreadsheet of the previous day's orders, including line items and buyer details, "
        "emailed to finance.",
    ),
    "customer_export_en": (
        "Export customer list with tags to CSV",
        "Download all customers with their tags, level and points balance as a CSV file.",
    ),
    "sales_dashboard_en": (
        "Daily sales dashboard",
        "A dashboard showing today's sales, order count and top products, refreshed every hour.",
    ),
    "gift_wrap_en_1": (
        "Gift wrapping fee option",
        "Let customers choose gift wrapping at checkout for an extra fee per order.",
    ),
    "gift_wrap_en_2": (
        "Charge for gift wrap at checkout",
        "Add an optional gift wrap service with a fixed fee added to the order total.",
    ),
    "insurance_fee_en": (
        "Shipping insurance fee",
        "Offer shipping insurance at checkout priced at 1% of the order value, refunded if the parcel is lost.",
    ),
    "referral_en_1": (
        "Referral rewards program",
        "Customers share a referral link; when a friend makes a first purchase, both of them get points.",
    ),
    "referral_en_2": (
        "Invite friends and earn points",
        "A refer-a-friend feature: the referrer and the new customer receive points after the friend's first order.",
    ),
    "review_points_en": (
        "Points for product reviews",
        "Award points when a customer writes a review with photos, at most once per order.",
    ),
    "ip_risk_en_1": (
        "Block orders from risky IP addresses",
        "Deny checkout when an IP address has placed too many orders with different accounts within an hour.",
    ),
    "ip_risk_en_2": (
        "Stop many accounts ordering from one IP",
        "Fraud rule: reject orders if the same IP is used by lots of customer accounts in a short time.",
    ),
    "refund_limit_en": (
        "Limit refund requests per customer",
        "Flag customers who ask for refunds on more than three orders a month and hold their refunds for review.",
    ),
    "points_expiry_en": (
        "Points expiry reminder",
        "Remind members by SMS before their points expire so they use them.",
    ),
    "points_expiry_rules_en": (
        "Points expiry rules per member level",
        "Let points expire after a different number of days depending on the member level.",
    ),
    "cart_reminder_en": (
        "Cart abandonment reminder",
        "Remind customers who added items to the cart but did not pay within 2 hours, and attach a coupon.",
    ),
    "kingdee_en": (
        "ERP order sync with Kingdee",
        "Push paid orders to Kingdee ERP and pull stock levels back every hour.",
    ),
    # --- Chinese twins of English needs (cross-language duplicates) ---
    "cart_reminder_zh": (
        "购物车放弃提醒",
        "顾客把商品加入购物车但两小时内没有付款，自动发消息提醒，并附上一张优惠券。",
    ),
    "points_expiry_zh_3": (
        "积分过期短信提醒",
        "会员积分快要过期前用短信提醒会员尽快使用。",
    ),
    "gift_wrap_zh": (
        "礼品包装加价服务",
        "结账时顾客可以选择礼品包装，每单加收固定费用。",
    ),
}

# (a, b, is the same need?)
PAIRS: list[tuple[str, str, bool]] = [
    # duplicates, Chinese
    ("points_expiry_zh_1", "points_expiry_zh_2", True),
    ("stacking_zh_1", "stacking_zh_2", True),
    ("same_address_zh_1", "same_address_zh_2", True),
    ("kingdee_zh_1", "kingdee_zh_2", True),
    ("birthday_points_zh_1", "birthday_points_zh_2", True),
    ("first_order_zh_1", "first_order_zh_2", True),
    ("invoice_zh_1", "invoice_zh_2", True),
    ("stored_value_bonus_zh_1", "stored_value_bonus_zh_2", True),
    ("tracking_zh_1", "tracking_zh_2", True),
    ("live_coupon_zh_1", "live_coupon_zh_2", True),
    ("store_stock_zh_1", "store_stock_zh_2", True),
    ("group_buy_zh_1", "group_buy_zh_2", True),
    ("points_expiry_zh_1", "points_expiry_zh_3", True),
    # duplicates, Chinese with English words
    ("shopify_import_zh_1", "shopify_import_zh_2", True),
    ("miniapp_notice_zh_1", "miniapp_notice_zh_2", True),
    ("sku_limit_zh_1", "sku_limit_zh_2", True),
    ("kingdee_zh_1", "kingdee_mixed", True),
    ("kingdee_en", "kingdee_mixed", True),
    # duplicates, English
    ("cart_email_en_1", "cart_email_en_2", True),
    ("bulk_price_en_1", "bulk_price_en_2", True),
    ("low_stock_en_1", "low_stock_en_2", True),
    ("level_discount_en_1", "level_discount_en_2", True),
    ("order_export_en_1", "order_export_en_2", True),
    ("gift_wrap_en_1", "gift_wrap_en_2", True),
    ("referral_en_1", "referral_en_2", True),
    ("ip_risk_en_1", "ip_risk_en_2", True),
    ("cart_email_en_1", "cart_reminder_en", True),
    # duplicates across languages, no shared words (text similarity cannot find these)
    ("cart_reminder_en", "cart_reminder_zh", True),
    ("points_expiry_en", "points_expiry_zh_3", True),
    ("gift_wrap_en_1", "gift_wrap_zh", True),
    # not duplicates: same corner of commerce, another need
    ("points_expiry_zh_1", "level_rules_zh", False),
    ("points_expiry_zh_1", "points_mall_zh", False),
    ("stacking_zh_1", "coupon_by_tag_zh", False),
    ("stacking_zh_2", "second_half_price_zh", False),
    ("same_address_zh_1", "address_parse_zh", False),
    ("kingdee_zh_1", "yonyou_members_zh", False),
    ("birthday_points_zh_1", "birthday_sms_zh", False),
    ("first_order_zh_1", "repurchase_coupon_zh", False),
    ("invoice_zh_1", "review_invite_zh", False),
    ("stored_value_bonus_zh_1", "stored_value_refund_zh", False),
    ("tracking_zh_1", "freight_zh", False),
    ("tracking_zh_2", "review_invite_zh", False),
    ("live_coupon_zh_1", "live_replay_zh", False),
    ("store_stock_zh_1", "pickup_zh", False),
    ("group_buy_zh_1", "miniapp_theme_zh", False),
    ("shopify_import_zh_1", "shopify_orders_zh", False),
    ("miniapp_notice_zh_1", "miniapp_theme_zh", False),
    ("sku_limit_zh_1", "sku_bundle_zh", False),
    ("cart_email_en_1", "wishlist_en", False),
    ("bulk_price_en_1", "bulk_images_en", False),
    ("low_stock_en_1", "new_order_wecom_en", False),
    ("level_discount_en_1", "level_badge_en", False),
    ("order_export_en_1", "customer_export_en", False),
    ("order_export_en_2", "sales_dashboard_en", False),
    ("gift_wrap_en_1", "insurance_fee_en", False),
    ("referral_en_1", "review_points_en", False),
    ("ip_risk_en_1", "refund_limit_en", False),
    ("points_expiry_en", "points_expiry_rules_en", False),
    ("kingdee_en", "yonyou_members_zh", False),
    # not duplicates: unrelated
    ("invoice_zh_1", "gift_wrap_en_1", False),
    ("cart_email_en_1", "birthday_sms_zh", False),
    ("group_buy_zh_2", "bulk_images_en", False),
]
