/*
 * next_best_offer — picks a journey split's branch from the customer's facts, for `journey.split`
 * (ABI v1, freestanding C).
 *
 * Input (docs/architecture.md §7.3): the node's `branches`, the platform's own weighted draw `builtin`
 * and `customer` {id, level, orders_count, total_spent (fen)}. Config: an ordered list of rules,
 *   {"rules": [{"branch": "points", "min_spent": 50000}, {"branch": "coupon", "max_orders": 0}]}
 * each rule's conditions ANDed (min_level, max_level, min_orders, max_orders, min_spent, max_spent;
 * absent = no condition; a rule without conditions matches everyone). The first rule that matches and
 * whose `branch` is one of the node's `branches` wins; when none does, the customer keeps `builtin`.
 * A fact the input lacks makes every condition on it fail. Output: {"branch": "..."}.
 * Input it cannot read gives {"branch": "holdout"}: a name no plugin may move a customer to, so the
 * platform ignores it and keeps its own draw.
 */
#include "../include/souk_plugin.h"

#define MAX_BRANCH 64 /* raw bytes of a branch's JSON string, quotes included (keys are ≤ 32 ASCII) */
#define NO_FACT (-1LL)

/* Whether the JSON strings at `a` and `b` have the same raw bytes (both at their opening quote). */
static int same_string(cur a, cur b, cur end) {
    cur a_end = skip_string(a, end), b_end = skip_string(b, end);
    if (!a_end || !b_end || a_end - a != b_end - b) return 0;
    for (; a < a_end; ++a, ++b)
        if (*a != *b) return 0;
    return 1;
}

/* The element of the `branches` array equal to the string at `name`, or NULL. */
static cur find_branch(cur branches, cur name, cur end) {
    name = skip_ws(name, end);
    if (!name || name >= end || *name != '"') return 0;
    for (cur b = arr_first(branches, end); b; b = arr_next(b, end))
        if (same_string(b, name, end)) return b;
    return 0;
}

/* Whether `fact` satisfies the rule's `min_key`/`max_key` (each absent = no bound; an absent fact fails any). */
static int within(cur rule, cur end, const char *min_key, const char *max_key, long long fact) {
    long long low = get_int(rule, end, min_key, NO_FACT), high = get_int(rule, end, max_key, NO_FACT);
    if (low == NO_FACT && high == NO_FACT) return 1;
    if (fact == NO_FACT) return 0;
    return (low == NO_FACT || fact >= low) && (high == NO_FACT || fact <= high);
}

static unsigned char *put_string(unsigned char *out, cur string, cur end) {
    cur stop = skip_string(string, end);
    while (string < stop) *out++ = *string++;
    return out;
}

__attribute__((export_name("run"))) unsigned long long run(const unsigned char *input, int len) {
    cur end = input + len;
    cur branches = obj_get(input, end, "branches");
    cur customer = obj_get(input, end, "customer");
    long long level = get_int(customer, end, "level", NO_FACT);
    long long orders = get_int(customer, end, "orders_count", NO_FACT);
    long long spent = get_int(customer, end, "total_spent", NO_FACT);

    cur chosen = 0;
    cur rules = obj_get(obj_get(input, end, "config"), end, "rules");
    for (cur rule = arr_first(rules, end); rule && !chosen; rule = arr_next(rule, end)) {
        cur branch = find_branch(branches, obj_get(rule, end, "branch"), end);
        if (branch && within(rule, end, "min_level", "max_level", level) &&
            within(rule, end, "min_orders", "max_orders", orders) && within(rule, end, "min_spent", "max_spent", spent))
            chosen = branch;
    }
    if (!chosen) chosen = find_branch(branches, obj_get(input, end, "builtin"), end);

    unsigned char *out = alloc(16 + MAX_BRANCH);
    unsigned char *at = put(out, "{\"branch\":");
    cur stop = chosen ? skip_string(chosen, end) : 0;
    at = stop && stop - chosen <= MAX_BRANCH ? put_string(at, chosen, end) : put(at, "\"holdout\"");
    at = put(at, "}");
    return souk_result(out, at);
}
