/*
 * tiered_discount — 满减 for the `cart.discounts` extension point (ABI v1, freestanding C).
 *
 * Config: {"tiers": [{"min_spend": 30000, "amount_off": 3000}, ...]} (fen). The best tier whose
 * `min_spend` the cart's subtotal reaches gives `amount_off` off the order (never more than the
 * subtotal). No tier reached, no customer-visible change: {"discounts": []}.
 */
#include "souk_plugin.h"

__attribute__((export_name("run"))) unsigned long long run(const unsigned char *input, int len) {
    cur end = input + len;
    long long subtotal = get_int(input, end, "subtotal", 0);
    long long best_off = 0, best_min = 0;
    cur config = obj_get(input, end, "config");
    for (cur tier = arr_first(obj_get(config, end, "tiers"), end); tier; tier = arr_next(tier, end)) {
        long long min_spend = get_int(tier, end, "min_spend", -1);
        long long off = get_int(tier, end, "amount_off", 0);
        if (min_spend < 0 || off <= 0 || subtotal < min_spend) continue;
        if (off > best_off) best_off = off, best_min = min_spend;
    }
    if (best_off > subtotal) best_off = subtotal;

    unsigned char *out = alloc(256);
    unsigned char *at = put(out, "{\"discounts\":[");
    if (best_off > 0) {
        at = put(at, "{\"label\":\"满");
        at = put_price(at, best_min);
        at = put(at, "减");
        at = put_price(at, best_off);
        at = put(at, "\",\"amount\":");
        at = put_int(at, best_off);
        at = put(at, "}");
    }
    at = put(at, "]}");
    return souk_result(out, at);
}
