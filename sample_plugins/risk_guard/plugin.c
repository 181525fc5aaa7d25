/*
 * risk_guard — risk control for `order.validate` (ABI v1, freestanding C).
 *
 * Reads the recent-order stats the platform puts in the input (each counts the order being placed,
 * over the shop's risk windows) and denies when one is above the configured limit (0 or absent = off):
 *   config.max_orders_per_buyer   vs stats.customer_dense_orders  (dense orders from one buyer)
 *   config.max_accounts_per_ip    vs stats.ip_many_customers      (many accounts from one IP)
 *   config.max_ips_per_buyer      vs stats.customer_many_ips      (one buyer hopping IPs)
 * Output: {"allow": true} or {"allow": false, "reason": "..."}.
 */
#include "../include/souk_plugin.h"

struct rule {
    const char *limit_key;
    const char *stat_key;
    const char *what;
};

static const struct rule RULES[] = {
    {"max_orders_per_buyer", "customer_dense_orders", "orders from this buyer"},
    {"max_accounts_per_ip", "ip_many_customers", "accounts ordering from this IP"},
    {"max_ips_per_buyer", "customer_many_ips", "IPs used by this buyer"},
};

__attribute__((export_name("run"))) unsigned long long run(const unsigned char *input, int len) {
    cur end = input + len;
    cur config = obj_get(input, end, "config");
    cur stats = obj_get(input, end, "stats");
    unsigned char *out = alloc(256);
    for (unsigned i = 0; i < sizeof RULES / sizeof RULES[0]; ++i) {
        long long limit = get_int(config, end, RULES[i].limit_key, 0);
        long long seen = get_int(stats, end, RULES[i].stat_key, 0);
        if (limit > 0 && seen > limit) {
            unsigned char *at = put(out, "{\"allow\":false,\"reason\":\"risk_guard: ");
            at = put_int(at, seen);
            at = put(at, " ");
            at = put(at, RULES[i].what);
            at = put(at, " in the recent window (limit ");
            at = put_int(at, limit);
            at = put(at, ")\"}");
            return souk_result(out, at);
        }
    }
    return souk_result(out, put(out, "{\"allow\":true}"));
}
