/*
 * tagged_points — more points for tagged customers, for `points.earn` (ABI v1, freestanding C).
 *
 * Config: {"tag": "vip", "multiplier": 3, "points_per_yuan": 1}. Every whole yuan (100 fen) of
 * `paid_amount` earns `points_per_yuan` points (default 1, like the built-in rule); customers whose
 * `customer.tags` (an array of tag names in the input) contains `tag` earn `multiplier` times that
 * (default 2). Output: {"points": N, "reason": "..."} (capped at 10^9, the point's maximum).
 * NOTE: this plugin replaces the built-in rule (points.earn is "last plugin wins"), so set
 * `points_per_yuan` to the shop's own rate.
 */
#include "../include/souk_plugin.h"

#define MAX_POINTS 1000000000LL

/* Whether the JSON strings at `a` and `b` have the same raw bytes (both at their opening quote). */
static int same_string(cur a, cur b, cur end) {
    cur a_end = skip_string(a, end), b_end = skip_string(b, end);
    if (!a_end || !b_end || a_end - a != b_end - b) return 0;
    for (; a < a_end; ++a, ++b)
        if (*a != *b) return 0;
    return 1;
}

__attribute__((export_name("run"))) unsigned long long run(const unsigned char *input, int len) {
    cur end = input + len;
    cur config = obj_get(input, end, "config");
    long long paid = get_int(input, end, "paid_amount", 0);
    long long rate = get_int(config, end, "points_per_yuan", 1);
    long long multiplier = get_int(config, end, "multiplier", 2);
    cur tag = skip_ws(obj_get(config, end, "tag"), end);
    if (paid < 0) paid = 0;
    if (rate < 0 || rate > 1000) rate = 0;
    if (multiplier < 1 || multiplier > 100) multiplier = 1;

    int tagged = 0;
    if (tag && tag < end && *tag == '"') {
        cur tags = obj_get(obj_get(input, end, "customer"), end, "tags");
        for (cur t = arr_first(tags, end); t && !tagged; t = arr_next(t, end)) tagged = same_string(t, tag, end);
    }
    long long points = paid / 100 * rate;
    if (tagged) points = points > MAX_POINTS / multiplier ? MAX_POINTS : points * multiplier;
    if (points > MAX_POINTS) points = MAX_POINTS;

    unsigned char *out = alloc(128);
    unsigned char *at = put(out, "{\"points\":");
    at = put_int(at, points);
    at = put(at, tagged ? ",\"reason\":\"tagged customer: x" : ",\"reason\":\"base rate\"}");
    if (tagged) {
        at = put_int(at, multiplier);
        at = put(at, " points\"}");
    }
    return souk_result(out, at);
}
