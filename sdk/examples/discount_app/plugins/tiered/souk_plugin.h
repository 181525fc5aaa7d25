/*
 * Shared freestanding helpers for the Souk sample plugins written in C (ABI v1).
 *
 * ABI v1: a core Wasm module with no imports that exports `memory`, `alloc(len) -> ptr` and
 * `run(ptr, len) -> (out_ptr << 32) | out_len`; input and output are UTF-8 JSON. Every call runs in a
 * fresh instance, so the bump allocator never frees.
 *
 * The JSON reader is deliberately tiny but bounds-checked: it walks values without building a tree,
 * never reads past `end`, and reports anything it does not understand as "absent" (a NULL pointer or
 * `ok = 0`), so malformed input can only make a plugin fall back to its neutral answer, never crash.
 */
#ifndef SOUK_PLUGIN_H
#define SOUK_PLUGIN_H

#define SOUK_PAGE 65536u
#define SOUK_MAX_DEPTH 64

typedef const unsigned char *cur;

extern unsigned char __heap_base;
static unsigned long souk_heap_top;

__attribute__((export_name("alloc"))) unsigned char *alloc(int len) {
    if (len < 0) __builtin_trap();
    if (souk_heap_top == 0) souk_heap_top = (unsigned long)&__heap_base;
    unsigned long start = (souk_heap_top + 7u) & ~7ul;
    unsigned long end = start + (unsigned long)len;
    unsigned long have = __builtin_wasm_memory_size(0) * SOUK_PAGE;
    if (end > have && __builtin_wasm_memory_grow(0, (end - have + SOUK_PAGE - 1) / SOUK_PAGE) == (unsigned long)-1)
        __builtin_trap(); /* over the sandbox's memory limit */
    souk_heap_top = end;
    return (unsigned char *)start;
}

/* --- reading ----------------------------------------------------------------------------------- */

static cur skip_ws(cur p, cur end) {
    while (p && p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
    return p;
}

/* Past the string starting at `p` (which must point at its opening quote), or NULL. */
static cur skip_string(cur p, cur end) {
    if (!p || p >= end || *p != '"') return 0;
    for (++p; p < end; ++p) {
        if (*p == '\\') {
            if (++p >= end) return 0;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return 0;
}

/* Past the JSON value starting at `p` (after whitespace), or NULL when it is malformed or too deep. */
static cur skip_value(cur p, cur end) {
    int depth = 0;
    p = skip_ws(p, end);
    if (!p || p >= end) return 0;
    do {
        if (p >= end) return 0;
        unsigned char c = *p;
        if (c == '"') {
            p = skip_string(p, end);
            if (!p) return 0;
        } else if (c == '{' || c == '[') {
            if (++depth > SOUK_MAX_DEPTH) return 0;
            ++p;
        } else if (c == '}' || c == ']') {
            if (--depth < 0) return 0;
            ++p;
        } else if (c == ',' || c == ':' || c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            if (depth == 0) return 0;
            ++p;
        } else {
            /* number, true, false, null */
            cur start = p;
            while (p < end && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || *p == '-' || *p == '+' ||
                               *p == '.' || *p == 'E'))
                ++p;
            if (p == start) return 0;
        }
    } while (depth > 0);
    return p;
}

/* Whether the string token at `p` (at its quote) is exactly `key` (no escapes in keys we look for). */
static int string_is(cur p, cur end, const char *key) {
    if (p >= end || *p != '"') return 0;
    ++p;
    for (; *key; ++key, ++p)
        if (p >= end || *p != (unsigned char)*key) return 0;
    return p < end && *p == '"';
}

/* The value of `key` in the object at `p` (after whitespace), or NULL when absent or not an object. */
static cur obj_get(cur p, cur end, const char *key) {
    p = skip_ws(p, end);
    if (!p || p >= end || *p != '{') return 0;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') return 0;
    while (p && p < end) {
        int match = string_is(p, end, key);
        p = skip_ws(skip_string(p, end), end);
        if (!p || p >= end || *p != ':') return 0;
        p = skip_ws(p + 1, end);
        if (match) return p;
        p = skip_ws(skip_value(p, end), end);
        if (!p || p >= end) return 0;
        if (*p == '}') return 0;
        if (*p != ',') return 0;
        p = skip_ws(p + 1, end);
    }
    return 0;
}

/* Array iteration: `arr_first` gives the first element (NULL for [] or a non-array), `arr_next` the next. */
static cur arr_first(cur p, cur end) {
    p = skip_ws(p, end);
    if (!p || p >= end || *p != '[') return 0;
    p = skip_ws(p + 1, end);
    if (!p || p >= end || *p == ']') return 0;
    return p;
}

static cur arr_next(cur element, cur end) {
    cur p = skip_ws(skip_value(element, end), end);
    if (!p || p >= end || *p != ',') return 0;
    return skip_ws(p + 1, end);
}

/* An integer value (no fraction or exponent, |v| < 10^15) at `p`; `*ok` says whether it was one. */
static long long read_int(cur p, cur end, int *ok) {
    long long value = 0;
    int negative = 0, digits = 0;
    *ok = 0;
    p = skip_ws(p, end);
    if (!p || p >= end) return 0;
    if (*p == '-') negative = 1, ++p;
    for (; p < end && *p >= '0' && *p <= '9'; ++p) {
        if (++digits > 15) return 0;
        value = value * 10 + (*p - '0');
    }
    if (digits == 0 || (p < end && (*p == '.' || *p == 'e' || *p == 'E'))) return 0;
    *ok = 1;
    return negative ? -value : value;
}

/* The integer at `key` in the object at `p`, or `fallback` when absent or not an integer. */
static long long get_int(cur p, cur end, const char *key, long long fallback) {
    int ok;
    cur value = obj_get(p, end, key);
    if (!value) return fallback;
    long long n = read_int(value, end, &ok);
    return ok ? n : fallback;
}

/* --- writing ----------------------------------------------------------------------------------- */

static unsigned char *put(unsigned char *out, const char *text) {
    while (*text) *out++ = (unsigned char)*text++;
    return out;
}

static unsigned char *put_int(unsigned char *out, long long value) {
    char digits[24];
    int count = 0;
    unsigned long long v = value < 0 ? (unsigned long long)(-value) : (unsigned long long)value;
    if (value < 0) *out++ = '-';
    do digits[count++] = (char)('0' + v % 10); while ((v /= 10) != 0);
    while (count) *out++ = (unsigned char)digits[--count];
    return out;
}

/* Fen as yuan with two decimals: 12345 -> "123.45". */
static unsigned char *put_yuan(unsigned char *out, long long fen) {
    out = put_int(out, fen / 100);
    *out++ = '.';
    *out++ = (unsigned char)('0' + (fen / 10) % 10);
    *out++ = (unsigned char)('0' + fen % 10);
    return out;
}

/* Fen as a short price: 30000 -> "300", 1250 -> "12.50". */
static unsigned char *put_price(unsigned char *out, long long fen) {
    return fen % 100 == 0 ? put_int(out, fen / 100) : put_yuan(out, fen);
}

static unsigned long long souk_result(unsigned char *start, unsigned char *end) {
    return ((unsigned long long)(unsigned long)start << 32) | (unsigned long long)(end - start);
}

#endif
