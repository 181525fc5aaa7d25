/*
 * order_cashback — a share of the paid amount back as stored value, for `order.cashback` (ABI v1, C).
 *
 * Config: {"rate_bp": 500, "min_paid": 10000, "max_amount": 5000} — `rate_bp` basis points of
 * `paid_amount` (500 = 5 %), rounded down; nothing below `min_paid` fen paid (default 0); at most
 * `max_amount` fen (default: no cap). Output: {"amount": fen}. The platform schedules it into the
 * customer's stored value after the shop's refund window.
 */
#include "../include/souk_plugin.h"

__attribute__((export_name("run"))) unsigned long long run(const unsigned char *input, int len) {
    cur end = input + len;
    long long paid = get_int(input, end, "paid_amount", 0);
    cur config = obj_get(input, end, "config");
    long long rate = get_int(config, end, "rate_bp", 0);
    long long min_paid = get_int(config, end, "min_paid", 0);
    long long cap = get_int(config, end, "max_amount", -1);
    long long amount = 0;
    if (paid > 0 && paid >= min_paid && rate > 0 && rate <= 10000) amount = paid / 10000 * rate + paid % 10000 * rate / 10000;
    if (cap >= 0 && amount > cap) amount = cap;

    unsigned char *out = alloc(64);
    unsigned char *at = put(out, "{\"amount\":");
    at = put_int(at, amount);
    at = put(at, "}");
    return souk_result(out, at);
}
