/*
 * gatespec_client.c: gatespec's networks in plain C11, speaking gatespec's exec protocol, version 1.
 *
 *     gcc -std=c11 -O2 -Wall -Wextra -Werror -o gatespec_client gatespec_client.c -lm
 *     python -m pytest --pyargs gatespec.conformance --gatespec-impl "exec:./gatespec_client"
 *
 * The protocol is conformance/adapters/exec_impl/protocol.py: one JSON request per line on stdin,
 * one JSON response per line on stdout (flushed after each), nothing else on stdout, exit 0 at the
 * end of input.  The maths is gatespec.reference's (reference/activations.py, perceptron.py,
 * logistic.py, mlp.py), computed in the reference's order of operations:
 *
 *     σ(z)        = 1/(1+e) for z ≥ 0, e/(1+e) for z < 0, e = exp(−|z|)   (exp never overflows)
 *     softplus(z) = max(z, 0) + log1p(exp(−|z|))
 *     loss        = Σ_rows softplus(z) − y·z,   ∂loss/∂z = σ(z) − y
 *     MLP         h_l = σ(h_{l−1} W_l + b_l), z = h_{L−1} W_L + b_L;
 *                 ∂W_l = h_{l−1}ᵀ δ_l, ∂b_l = Σ_rows δ_l, δ_{l−1} = (δ_l W_lᵀ) ⊙ h_{l−1} ⊙ (1 − h_{l−1})
 *     SGD         θ ← θ − η g
 *     Adam        m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g·g,
 *                 θ ← θ − (η/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε)       (torch.optim.Adam)
 *
 * Precision.  A float64 request computes in double.  A float32 request rounds its inputs to float
 * and computes in float with the f-suffixed libm functions (expf, log1pf, sqrtf), so that every
 * operation rounds to float32; the optimiser's scalars (η, β₁, 1−β₁, η/(1−β₁ᵗ), √(1−β₂ᵗ), ε) are
 * computed in double from the request's numbers and rounded to float once, as numpy does with
 * Python floats.  The numerical code is written once, in DEFINE_KERNELS(T, S), and instantiated
 * for (double, d) and (float, f); EXP, LOG1P, SQRT and FABS pick the libm function by type.  This
 * needs FLT_EVAL_METHOD == 0 (x86-64 SSE, AArch64: checked below) and no contraction of a*b + c
 * into fused multiply-adds: gcc's -std=c11 implies -ffp-contract=off (-std=gnu11 does not), and
 * -ffast-math must not be used.
 *
 * Errors.  Arguments are validated as the reference validates them (a ValueError there is an
 * "invalid-input" error here), an unknown op is "not-supported", anything else is "failure".
 * Every allocation of a request comes from an arena that is freed after its response, and every
 * error unwinds to the request loop (longjmp), so an odd request costs one error response.
 */

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "float32 requests need FLT_EVAL_METHOD == 0: every float operation rounded to float (SSE, AArch64)"
#endif

#define PROTOCOL_VERSION 1
#define MAX_JSON_DEPTH 128

#if defined(__clang__)
#define COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER "an unknown C11 compiler"
#endif

static const char *const CAPABILITIES[] = {
    "tlu-predict",    "perceptron-step", "perceptron-online", "logistic-loss-grad",
    "single-example-loss-grad", "logistic-train", "mlp-forward", "mlp-loss-grads",
    "mlp-train-sgd",  "mlp-train-adam",  "mlp-train-batched",
};

/* ============================================================================ errors */

enum ErrorKind { NOT_SUPPORTED, INVALID_INPUT, FAILURE, PROTOCOL };
static const char *const ERROR_KIND_NAMES[] = {"not-supported", "invalid-input", "failure", "protocol"};

static jmp_buf g_on_error;          /* set by serve_line for the request being answered */
static enum ErrorKind g_error_kind;
static char g_error_message[640];

/* Abandon the request: unwind to serve_line, which answers with this error. */
static _Noreturn void fail(enum ErrorKind kind, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    vsnprintf(g_error_message, sizeof g_error_message, format, ap);
    va_end(ap);
    g_error_kind = kind;
    longjmp(g_on_error, 1);
}

/* ============================================================================ per-request arena */

typedef struct Chunk {
    struct Chunk *next;
    size_t capacity, used;
    max_align_t data[];
} Chunk;

enum { CHUNK_BYTES = 1 << 16 };
static Chunk *g_chunks; /* the head is the chunk being filled */

static size_t mul_size(size_t a, size_t b)
{
    if (a && b > SIZE_MAX / a)
        fail(FAILURE, "size overflow: %zu x %zu", a, b);
    return a * b;
}

/* Zeroed memory that lives until the response is written. */
static void *arena_alloc(size_t bytes)
{
    const size_t align = _Alignof(max_align_t);
    if (bytes > SIZE_MAX - align - sizeof(Chunk))
        fail(FAILURE, "out of memory (%zu bytes)", bytes);
    bytes = bytes ? (bytes + align - 1) / align * align : align;
    if (!g_chunks || g_chunks->capacity - g_chunks->used < bytes) {
        size_t capacity = bytes > CHUNK_BYTES ? bytes : CHUNK_BYTES;
        Chunk *chunk = malloc(offsetof(Chunk, data) + capacity);
        if (!chunk)
            fail(FAILURE, "out of memory (%zu bytes)", bytes);
        chunk->capacity = capacity;
        chunk->used = 0;
        if (bytes > CHUNK_BYTES / 2 && g_chunks) { /* a big block: keep filling the current chunk */
            chunk->next = g_chunks->next;
            g_chunks->next = chunk;
        } else {
            chunk->next = g_chunks;
            g_chunks = chunk;
        }
        if (g_chunks != chunk) {
            chunk->used = bytes;
            return memset(chunk->data, 0, bytes);
        }
    }
    void *p = (unsigned char *)g_chunks->data + g_chunks->used;
    g_chunks->used += bytes;
    return memset(p, 0, bytes);
}

static void *arena_array(size_t count, size_t size) { return arena_alloc(mul_size(count, size)); }

static void arena_reset(void)
{
    while (g_chunks) {
        Chunk *next = g_chunks->next;
        free(g_chunks);
        g_chunks = next;
    }
}

/* ============================================================================ output */

static struct {
    char *data;
    size_t length, capacity;
} g_out; /* the response being written */

static void out_bytes(const char *s, size_t n)
{
    if (g_out.capacity - g_out.length <= n) {
        size_t capacity = g_out.capacity ? g_out.capacity : 1 << 16;
        while (capacity - g_out.length <= n) {
            if (capacity > SIZE_MAX / 2)
                capacity = SIZE_MAX;
            else
                capacity *= 2;
        }
        char *data = realloc(g_out.data, capacity);
        if (!data) { /* nowhere left to write even an error: give up, the suite restarts us */
            fputs("gatespec_client: out of memory for a response\n", stderr);
            exit(1);
        }
        g_out.data = data;
        g_out.capacity = capacity;
    }
    memcpy(g_out.data + g_out.length, s, n);
    g_out.length += n;
}

static void out_str(const char *s) { out_bytes(s, strlen(s)); }
static void out_char(char c) { out_bytes(&c, 1); }

static void out_json_string(const char *s, size_t n)
{
    out_char('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char escape[8];
        switch (c) {
        case '"': out_str("\\\""); break;
        case '\\': out_str("\\\\"); break;
        case '\n': out_str("\\n"); break;
        case '\r': out_str("\\r"); break;
        case '\t': out_str("\\t"); break;
        default:
            if (c < 0x20) {
                snprintf(escape, sizeof escape, "\\u%04x", c);
                out_str(escape);
            } else {
                out_char((char)c);
            }
        }
    }
    out_char('"');
}

/* Non-finite numbers as the protocol's strings. */
static bool out_non_finite(double x)
{
    if (isnan(x))
        out_str("\"NaN\"");
    else if (isinf(x))
        out_str(x > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else
        return false;
    return true;
}

/* A double to 17 significant digits: reads back to the same double. */
static void out_num_d(double x)
{
    char text[40];
    if (!out_non_finite(x))
        out_bytes(text, (size_t)snprintf(text, sizeof text, "%.17g", x));
}

/* A float to 9 significant digits (FLT_DECIMAL_DIG): reads back to the same float. */
static void out_num_f(float x)
{
    char text[40];
    if (!out_non_finite(x))
        out_bytes(text, (size_t)snprintf(text, sizeof text, "%.9g", (double)x));
}

/* ============================================================================ JSON reading */

typedef enum { J_NULL, J_FALSE, J_TRUE, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } JType;

typedef struct JVal {
    JType type;
    bool is_integer;      /* a number written without fraction or exponent */
    double number;
    const char *string;   /* J_STRING: UTF-8, NUL-terminated */
    size_t length;
    struct JVal **items;  /* J_ARRAY items, J_OBJECT values */
    const char **keys;    /* J_OBJECT keys */
    size_t count;
} JVal;

typedef struct {
    const char *at, *start, *end;
    int depth;
} Reader;

static _Noreturn void bad_json(const Reader *r, const char *what)
{
    fail(FAILURE, "the request is not valid JSON: %s at byte %zu", what, (size_t)(r->at - r->start));
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static void skip_space(Reader *r)
{
    while (r->at < r->end && (*r->at == ' ' || *r->at == '\t' || *r->at == '\n' || *r->at == '\r'))
        r->at++;
}

static JVal *new_value(JType type)
{
    JVal *v = arena_alloc(sizeof *v);
    v->type = type;
    return v;
}

static JVal *read_value(Reader *r);

/* JSON's number grammar, then strtod on a copy of exactly that text (strtod alone would also take
 * "inf", hex and a trailing "e"); strtod reads the shortest round-trip decimal back exactly. */
static JVal *read_number(Reader *r)
{
    const char *s = r->at, *p = s, *end = r->end;
    bool integer = true;
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && is_digit(*p)) {
        while (p < end && is_digit(*p))
            p++;
    } else {
        bad_json(r, "an unexpected character");
    }
    if (p < end && *p == '.') {
        integer = false;
        if (++p >= end || !is_digit(*p))
            bad_json(r, "a number without digits after '.'");
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integer = false;
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            bad_json(r, "a number without exponent digits");
        while (p < end && is_digit(*p))
            p++;
    }
    size_t n = (size_t)(p - s);
    char small[64];
    char *text = n < sizeof small ? small : arena_alloc(n + 1);
    memcpy(text, s, n);
    text[n] = '\0';
    JVal *v = new_value(J_NUMBER);
    v->number = strtod(text, NULL);
    v->is_integer = integer;
    r->at = p;
    return v;
}

static unsigned read_hex4(const Reader *r, const char *p, const char *end)
{
    unsigned code = 0;
    if (end - p < 4)
        bad_json(r, "a short \\u escape");
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned digit = is_digit(c)               ? (unsigned)(c - '0')
                         : (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10)
                         : (c >= 'A' && c <= 'F') ? (unsigned)(c - 'A' + 10)
                                                  : 16u;
        if (digit > 15)
            bad_json(r, "a bad \\u escape");
        code = code * 16 + digit;
    }
    return code;
}

/* A string starting at the opening quote, decoded to UTF-8 (never longer than its JSON text). */
static const char *read_string(Reader *r, size_t *length)
{
    const char *p = ++r->at, *close = p;
    while (close < r->end && *close != '"')
        close += *close == '\\' ? 2 : 1;
    if (close >= r->end)
        bad_json(r, "an unterminated string");
    char *out = arena_alloc((size_t)(close - p) + 1);
    size_t n = 0;
    while (p < close) {
        unsigned char c = (unsigned char)*p++;
        if (c < 0x20)
            bad_json(r, "a control character in a string");
        if (c != '\\') {
            out[n++] = (char)c;
            continue;
        }
        char e = *p++;
        unsigned code;
        switch (e) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u':
            code = read_hex4(r, p, close);
            p += 4;
            if (code >= 0xD800 && code < 0xDC00 && close - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                unsigned low = read_hex4(r, p + 2, close);
                if (low >= 0xDC00 && low < 0xE000) {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    p += 6;
                }
            }
            if (code < 0x80) {
                out[n++] = (char)code;
            } else if (code < 0x800) {
                out[n++] = (char)(0xC0 | code >> 6);
                out[n++] = (char)(0x80 | (code & 0x3F));
            } else if (code < 0x10000) { /* a lone surrogate is kept as its 3-byte form */
                out[n++] = (char)(0xE0 | code >> 12);
                out[n++] = (char)(0x80 | (code >> 6 & 0x3F));
                out[n++] = (char)(0x80 | (code & 0x3F));
            } else {
                out[n++] = (char)(0xF0 | code >> 18);
                out[n++] = (char)(0x80 | (code >> 12 & 0x3F));
                out[n++] = (char)(0x80 | (code >> 6 & 0x3F));
                out[n++] = (char)(0x80 | (code & 0x3F));
            }
            break;
        default:
            bad_json(r, "a bad escape in a string");
        }
    }
    out[n] = '\0';
    *length = n;
    r->at = close + 1;
    return out;
}

/* Append to an array's (or object's) items, doubling the arena-backed storage as it fills. */
static void push_item(JVal *v, size_t *capacity, JVal *item, const char *key)
{
    if (v->count == *capacity) {
        size_t grown = *capacity ? 2 * *capacity : 8;
        JVal **items = arena_array(grown, sizeof *items);
        if (v->count)
            memcpy(items, v->items, v->count * sizeof *items);
        v->items = items;
        if (v->type == J_OBJECT) {
            const char **keys = arena_array(grown, sizeof *keys);
            if (v->count)
                memcpy(keys, v->keys, v->count * sizeof *keys);
            v->keys = keys;
        }
        *capacity = grown;
    }
    if (v->type == J_OBJECT)
        v->keys[v->count] = key;
    v->items[v->count++] = item;
}

static JVal *read_container(Reader *r, JType type)
{
    char close = type == J_ARRAY ? ']' : '}';
    if (++r->depth > MAX_JSON_DEPTH)
        bad_json(r, "nesting too deep");
    JVal *v = new_value(type);
    size_t capacity = 0;
    r->at++;
    skip_space(r);
    if (r->at < r->end && *r->at == close) {
        r->at++;
        r->depth--;
        return v;
    }
    for (;;) {
        const char *key = NULL;
        if (type == J_OBJECT) {
            size_t length;
            skip_space(r);
            if (r->at >= r->end || *r->at != '"')
                bad_json(r, "an object key that is not a string");
            key = read_string(r, &length);
            skip_space(r);
            if (r->at >= r->end || *r->at != ':')
                bad_json(r, "a missing ':'");
            r->at++;
        }
        push_item(v, &capacity, read_value(r), key);
        skip_space(r);
        if (r->at < r->end && *r->at == ',') {
            r->at++;
            continue;
        }
        if (r->at < r->end && *r->at == close) {
            r->at++;
            break;
        }
        bad_json(r, type == J_ARRAY ? "expected ',' or ']'" : "expected ',' or '}'");
    }
    r->depth--;
    return v;
}

static JVal *read_literal(Reader *r, const char *word, JType type)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->at) < n || memcmp(r->at, word, n) != 0)
        bad_json(r, "an unexpected character");
    r->at += n;
    return new_value(type);
}

static JVal *read_value(Reader *r)
{
    skip_space(r);
    if (r->at >= r->end)
        bad_json(r, "a missing value");
    switch (*r->at) {
    case '{': return read_container(r, J_OBJECT);
    case '[': return read_container(r, J_ARRAY);
    case 't': return read_literal(r, "true", J_TRUE);
    case 'f': return read_literal(r, "false", J_FALSE);
    case 'n': return read_literal(r, "null", J_NULL);
    case '"': {
        JVal *v = new_value(J_STRING);
        v->string = read_string(r, &v->length);
        return v;
    }
    default: return read_number(r);
    }
}

/* An object's member, the last one where a key repeats (as Python's json does); NULL if absent. */
static const JVal *member(const JVal *object, const char *key)
{
    if (!object || object->type != J_OBJECT)
        return NULL;
    for (size_t i = object->count; i-- > 0;)
        if (strcmp(object->keys[i], key) == 0)
            return object->items[i];
    return NULL;
}

static bool is_string(const JVal *v, const char *s) { return v && v->type == J_STRING && strcmp(v->string, s) == 0; }

/* Any JSON value written back (the request's id). */
static void out_value(const JVal *v)
{
    char text[40];
    if (!v) {
        out_str("null");
        return;
    }
    switch (v->type) {
    case J_NULL: out_str("null"); break;
    case J_FALSE: out_str("false"); break;
    case J_TRUE: out_str("true"); break;
    case J_NUMBER:
        if (v->is_integer && fabs(v->number) < 1e15)
            out_bytes(text, (size_t)snprintf(text, sizeof text, "%.0f", v->number));
        else
            out_num_d(v->number);
        break;
    case J_STRING: out_json_string(v->string, v->length); break;
    case J_ARRAY:
    case J_OBJECT:
        out_char(v->type == J_ARRAY ? '[' : '{');
        for (size_t i = 0; i < v->count; i++) {
            if (i)
                out_char(',');
            if (v->type == J_OBJECT) {
                out_json_string(v->keys[i], strlen(v->keys[i]));
                out_char(':');
            }
            out_value(v->items[i]);
        }
        out_char(v->type == J_ARRAY ? ']' : '}');
        break;
    }
}

/* ============================================================================ arguments */

/* A number where the protocol allows one: a JSON number or "NaN", "Infinity", "-Infinity". */
static bool as_number(const JVal *v, double *x)
{
    if (v->type == J_NUMBER) {
        *x = v->number;
        return true;
    }
    if (is_string(v, "NaN"))
        *x = NAN;
    else if (is_string(v, "Infinity"))
        *x = INFINITY;
    else if (is_string(v, "-Infinity"))
        *x = -INFINITY;
    else
        return false;
    return true;
}

static const JVal *required(const JVal *object, const char *key, const char *name)
{
    const JVal *v = member(object, key);
    if (!v)
        fail(INVALID_INPUT, "%s: missing", name);
    return v;
}

static double real_arg(const JVal *object, const char *key, const char *name)
{
    double x;
    if (!as_number(required(object, key, name), &x))
        fail(INVALID_INPUT, "%s: expected a real number", name);
    return x;
}

static double non_negative_arg(const JVal *object, const char *key, const char *name)
{
    double x = real_arg(object, key, name);
    if (!isfinite(x) || x < 0)
        fail(INVALID_INPUT, "%s: expected a real number >= 0, got %.17g", name, x);
    return x;
}

static double positive_arg(const JVal *object, const char *key, const char *name)
{
    double x = real_arg(object, key, name);
    if (!isfinite(x) || x <= 0)
        fail(INVALID_INPUT, "%s: expected a positive real number, got %.17g", name, x);
    return x;
}

static double unit_interval_arg(const JVal *object, const char *key, const char *name)
{
    double x = real_arg(object, key, name);
    if (!(x >= 0 && x < 1))
        fail(INVALID_INPUT, "%s: expected a number in [0, 1), got %.17g", name, x);
    return x;
}

static size_t integer_value(const JVal *v, const char *name, size_t minimum)
{
    if (v->type != J_NUMBER || !v->is_integer)
        fail(INVALID_INPUT, "%s: expected an integer >= %zu", name, minimum);
    if (v->number < (double)minimum)
        fail(INVALID_INPUT, "%s: expected an integer >= %zu, got %.0f", name, minimum, v->number);
    if (v->number > 9007199254740992.0)
        fail(FAILURE, "%s: %.0f is more than this program counts to", name, v->number);
    return (size_t)v->number;
}

static size_t count_arg(const JVal *object, const char *key, size_t minimum)
{
    return integer_value(required(object, key, key), key, minimum);
}

/* A nested array of numbers of rank ndim.  An empty axis before the last hides the lengths after
 * it (`[]` for an (0, n) matrix): `known` counts the leading axes whose length is known. */
typedef struct {
    const char *name;
    int ndim, known;
    size_t dims[3];
    size_t count;
    double *v; /* row-major */
} Tensor;

static void fill_tensor(Tensor *t, const JVal *v, int axis, size_t *index)
{
    if (axis == t->ndim) {
        if (!as_number(v, &t->v[(*index)++]))
            fail(INVALID_INPUT, "%s: expected numbers at depth %d of a rank-%d array", t->name, axis, t->ndim);
        return;
    }
    if (v->type != J_ARRAY)
        fail(INVALID_INPUT, "%s: expected rank %d, found a non-array at depth %d", t->name, t->ndim, axis);
    if (v->count != t->dims[axis])
        fail(INVALID_INPUT, "%s: ragged: %zu entries on axis %d where the first has %zu", t->name, v->count, axis,
             t->dims[axis]);
    for (size_t i = 0; i < v->count; i++)
        fill_tensor(t, v->items[i], axis + 1, index);
}

static Tensor tensor_value(const JVal *v, const char *name, int ndim)
{
    Tensor t = {.name = name, .ndim = ndim, .known = ndim};
    const JVal *first = v;
    for (int axis = 0; axis < ndim; axis++) {
        if (first->type != J_ARRAY)
            fail(INVALID_INPUT, "%s: expected rank %d, found a non-array at depth %d", name, ndim, axis);
        t.dims[axis] = first->count;
        if (first->count == 0) {
            t.known = axis + 1;
            break;
        }
        first = first->items[0];
    }
    t.count = 1;
    for (int axis = 0; axis < t.known; axis++)
        t.count = mul_size(t.count, t.dims[axis]);
    t.v = arena_array(t.count, sizeof(double));
    size_t index = 0;
    fill_tensor(&t, v, 0, &index);
    for (size_t i = 0; i < t.count; i++)
        if (!isfinite(t.v[i]))
            fail(INVALID_INPUT, "%s: expected finite values, found NaN or inf", name);
    return t;
}

static Tensor tensor_arg(const JVal *args, const char *key, int ndim)
{
    return tensor_value(required(args, key, key), key, ndim);
}

/* Axis `axis` of t must be `want` long; an unknown length (behind an empty axis) takes it. */
static void expect_dim(Tensor *t, int axis, size_t want)
{
    if (axis < t->known) {
        if (t->dims[axis] != want)
            fail(INVALID_INPUT, "%s: expected %zu entries on axis %d, got %zu", t->name, want, axis, t->dims[axis]);
    } else {
        t->dims[axis] = want;
        if (axis == t->known)
            t->known++;
    }
}

static void expect_known(const Tensor *t)
{
    if (t->known < t->ndim)
        fail(INVALID_INPUT, "%s: an empty axis leaves the shape of this rank-%d array unknown", t->name, t->ndim);
}

/* Labels: a vector of n_rows values, each exactly 0 or 1 (reference/_validate.py labels). */
static const double *labels_arg(const JVal *args, const char *key, size_t n_rows)
{
    Tensor y = tensor_arg(args, key, 1);
    if (y.dims[0] != n_rows)
        fail(INVALID_INPUT, "%s: expected %zu labels to match the rows of the inputs, got %zu", key, n_rows, y.dims[0]);
    for (size_t i = 0; i < y.count; i++)
        if (y.v[i] != 0.0 && y.v[i] != 1.0)
            fail(INVALID_INPUT, "%s: expected labels in {0, 1}, got %.17g", key, y.v[i]);
    return y.v;
}

typedef enum { F64, F32 } Dtype;

typedef struct {
    enum { OPT_SGD, OPT_ADAM } kind;
    double lr, beta1, beta2, eps;
} Optimizer;

static Optimizer optimizer_arg(const JVal *args)
{
    Optimizer opt = {0};
    const JVal *o = required(args, "optimizer", "optimizer");
    const JVal *kind = member(o, "kind");
    if (o->type != J_OBJECT || !kind || kind->type != J_STRING)
        fail(INVALID_INPUT, "optimizer: expected {\"kind\": \"sgd\" or \"adam\", ...}");
    if (strcmp(kind->string, "sgd") == 0) {
        opt.kind = OPT_SGD;
        opt.lr = non_negative_arg(o, "lr", "optimizer.lr");
    } else if (strcmp(kind->string, "adam") == 0) {
        opt.kind = OPT_ADAM;
        opt.lr = non_negative_arg(o, "lr", "optimizer.lr");
        opt.beta1 = unit_interval_arg(o, "beta1", "optimizer.beta1");
        opt.beta2 = unit_interval_arg(o, "beta2", "optimizer.beta2");
        opt.eps = positive_arg(o, "eps", "optimizer.eps");
    } else {
        fail(INVALID_INPUT, "optimizer: expected kind \"sgd\" or \"adam\", got \"%.40s\"", kind->string);
    }
    return opt;
}

/* A threshold unit's or logistic regression's inputs: Xb (N, d), y (N), w (d), η, steps, order. */
typedef struct {
    size_t N, d;
    const double *Xb, *y, *w;
    double eta;
    size_t steps;
    size_t K;
    const size_t *order;
} LinearTask;

static LinearTask linear_inputs(const JVal *args, const char *w_key, bool with_labels)
{
    LinearTask t = {0};
    Tensor Xb = tensor_arg(args, "Xb", 2);
    Tensor w = tensor_arg(args, w_key, 1);
    if (Xb.known == 2 && w.dims[0] != Xb.dims[1])
        fail(INVALID_INPUT, "%s: expected shape (%zu,) to match the columns of Xb, got (%zu,)", w_key, Xb.dims[1],
             w.dims[0]);
    t.N = Xb.dims[0];
    t.d = w.dims[0];
    t.Xb = Xb.v;
    t.w = w.v;
    if (with_labels)
        t.y = labels_arg(args, "y", t.N);
    return t;
}

/* An MLP's inputs: params (2L parameters, B nets each), X (N, n), y, optimizer, steps. */
typedef struct {
    size_t L;      /* weight layers */
    size_t *sizes; /* L + 1 widths: n, hidden…, 1 */
    size_t B;      /* nets: 1, or the leading axis of a batched request */
    double **p;    /* W₁, b₁, …, W_L, b_L: B copies of each, net after net */
    size_t N;
    const double *X, *y;
    Optimizer opt;
    size_t steps;
} MlpTask;

/* Parameter k of the canonical layout: W_l (sizes[l], sizes[l+1]) for k = 2l, b_l (sizes[l+1]) for k = 2l + 1. */
static size_t param_size(const size_t *sizes, size_t k)
{
    return k % 2 ? sizes[k / 2 + 1] : sizes[k / 2] * sizes[k / 2 + 1];
}

static int param_shape(const size_t *sizes, size_t k, size_t *dims)
{
    if (k % 2) {
        dims[0] = sizes[k / 2 + 1];
        return 1;
    }
    dims[0] = sizes[k / 2];
    dims[1] = sizes[k / 2 + 1];
    return 2;
}

/* reference.mlp.check_params (with the net axis first where batched). */
static MlpTask mlp_inputs(const JVal *args, bool with_labels, bool batched)
{
    MlpTask t = {0};
    Tensor X = tensor_arg(args, "X", 2);
    const JVal *params = required(args, "params", "params");
    if (params->type != J_ARRAY || params->count < 2 || params->count % 2)
        fail(INVALID_INPUT, "params: expected a non-empty list [W1, b1, ..., WL, bL] of even length");
    int lead = batched ? 1 : 0;
    t.L = params->count / 2;
    t.sizes = arena_array(t.L + 1, sizeof *t.sizes);
    t.p = arena_array(2 * t.L, sizeof *t.p);
    for (size_t l = 0; l < t.L; l++) {
        char *w_name = arena_alloc(32), *b_name = arena_alloc(32);
        snprintf(w_name, 32, "params[W%zu]", l + 1);
        snprintf(b_name, 32, "params[b%zu]", l + 1);
        Tensor W = tensor_value(params->items[2 * l], w_name, 2 + lead);
        Tensor b = tensor_value(params->items[2 * l + 1], b_name, 1 + lead);
        if (l == 0) {
            t.B = batched ? W.dims[0] : 1;
            if (X.known == 2)
                expect_dim(&W, lead, X.dims[1]); /* W₁ has a row per input */
        }
        if (batched)
            expect_dim(&W, 0, t.B);
        if (l > 0)
            expect_dim(&W, lead, t.sizes[l]);
        expect_known(&W);
        if (batched)
            expect_dim(&b, 0, t.B);
        expect_dim(&b, lead, W.dims[lead + 1]);
        expect_known(&b);
        t.sizes[l] = W.dims[lead];
        t.sizes[l + 1] = W.dims[lead + 1];
        t.p[2 * l] = W.v;
        t.p[2 * l + 1] = b.v;
    }
    if (t.sizes[t.L] != 1)
        fail(INVALID_INPUT, "params: expected one output unit in the last layer, got %zu", t.sizes[t.L]);
    if (batched && t.B == 0)
        fail(INVALID_INPUT, "params: expected at least one net");
    t.N = X.dims[0];
    t.X = X.v;
    if (with_labels)
        t.y = labels_arg(args, "y", t.N);
    return t;
}

/* ============================================================================ numerics */

#define EXP(x) _Generic((x), float: expf, default: exp)(x)
#define LOG1P(x) _Generic((x), float: log1pf, default: log1p)(x)
#define SQRT(x) _Generic((x), float: sqrtf, default: sqrt)(x)
#define FABS(x) _Generic((x), float: fabsf, default: fabs)(x)

/* Every numerical function of the program, for double then float (gatespec_kernels.h). */
#define T double
#define S d
#include "gatespec_kernels.h"
#undef T
#undef S
#define T float
#define S f
#include "gatespec_kernels.h"
#undef T
#undef S

/* ============================================================================ operations */

#define RUN(kernel, task) ((dtype) == F32 ? kernel##_f(task) : kernel##_d(task))

static void op_tlu_predict(const JVal *args, Dtype dtype)
{
    LinearTask t = linear_inputs(args, "w", false);
    RUN(run_tlu_predict, &t);
}

static void op_perceptron_step(const JVal *args, Dtype dtype)
{
    LinearTask t = linear_inputs(args, "w", true);
    t.eta = positive_arg(args, "eta", "eta");
    RUN(run_perceptron_step, &t);
}

static void op_perceptron_online(const JVal *args, Dtype dtype)
{
    LinearTask t = linear_inputs(args, "w0", true);
    t.eta = positive_arg(args, "eta", "eta");
    const JVal *order = required(args, "order", "order");
    if (order->type != J_ARRAY || order->count == 0)
        fail(INVALID_INPUT, "order: expected a non-empty list of instance indices");
    size_t *indices = arena_array(order->count, sizeof *indices);
    for (size_t s = 0; s < order->count; s++) {
        indices[s] = integer_value(order->items[s], "order", 0);
        if (indices[s] >= t.N)
            fail(INVALID_INPUT, "order: expected indices in [0, %zu), got %zu", t.N, indices[s]);
    }
    t.K = order->count;
    t.order = indices;
    RUN(run_perceptron_online, &t);
}

static void op_logistic_loss_and_grad(const JVal *args, Dtype dtype)
{
    LinearTask t = linear_inputs(args, "w", true);
    RUN(run_logistic_loss_and_grad, &t);
}

static void op_single_example_loss_and_grad(const JVal *args, Dtype dtype)
{
    LinearTask t = {0};
    Tensor x = tensor_arg(args, "x", 1), w = tensor_arg(args, "w", 1);
    if (w.dims[0] != x.dims[0])
        fail(INVALID_INPUT, "w: expected shape (%zu,) to match x, got (%zu,)", x.dims[0], w.dims[0]);
    t.N = 1;
    t.d = x.dims[0];
    t.Xb = x.v;
    t.w = w.v;
    RUN(run_single_example, &t);
}

static void op_logistic_train(const JVal *args, Dtype dtype)
{
    LinearTask t = linear_inputs(args, "w0", true);
    /* The reference asks for η > 0; the suite's metamorphic check runs η = 0 (w stays as it is). */
    t.eta = non_negative_arg(args, "eta", "eta");
    t.steps = count_arg(args, "steps", 0);
    RUN(run_logistic_train, &t);
}

static void op_mlp_forward(const JVal *args, Dtype dtype)
{
    MlpTask t = mlp_inputs(args, false, false);
    RUN(run_mlp_forward, &t);
}

static void op_mlp_loss_and_grads(const JVal *args, Dtype dtype)
{
    MlpTask t = mlp_inputs(args, true, false);
    RUN(run_mlp_loss_and_grads, &t);
}

static void op_mlp_train(const JVal *args, Dtype dtype)
{
    MlpTask t = mlp_inputs(args, true, false);
    t.steps = count_arg(args, "steps", 0);
    t.opt = optimizer_arg(args);
    RUN(run_mlp_train, &t);
}

static void op_mlp_train_batched(const JVal *args, Dtype dtype)
{
    MlpTask t = mlp_inputs(args, true, true);
    t.steps = count_arg(args, "steps", 0);
    t.opt = optimizer_arg(args);
    RUN(run_mlp_train_batched, &t);
}

static const struct {
    const char *name;
    void (*run)(const JVal *args, Dtype dtype);
} OPERATIONS[] = {
    {"tlu_predict", op_tlu_predict},
    {"perceptron_step", op_perceptron_step},
    {"perceptron_online", op_perceptron_online},
    {"logistic_loss_and_grad", op_logistic_loss_and_grad},
    {"single_example_loss_and_grad", op_single_example_loss_and_grad},
    {"logistic_train", op_logistic_train},
    {"mlp_forward", op_mlp_forward},
    {"mlp_loss_and_grads", op_mlp_loss_and_grads},
    {"mlp_train", op_mlp_train},
    {"mlp_train_batched", op_mlp_train_batched},
};

static void op_hello(const JVal *request)
{
    const JVal *protocol = member(request, "protocol");
    if (!protocol || protocol->type != J_NUMBER || protocol->number != PROTOCOL_VERSION)
        fail(PROTOCOL, "speaks %d", PROTOCOL_VERSION);
    out_str("{\"protocol\":1,\"name\":\"c-plain\",\"language\":\"c\",\"framework\":\"c\",\"version\":");
    out_json_string(COMPILER, strlen(COMPILER));
    out_str(",\"dtypes\":[\"float32\",\"float64\"],\"capabilities\":[");
    for (size_t i = 0; i < sizeof CAPABILITIES / sizeof *CAPABILITIES; i++) {
        if (i)
            out_char(',');
        out_json_string(CAPABILITIES[i], strlen(CAPABILITIES[i]));
    }
    out_str("]}");
}

/* ============================================================================ the request loop */

static const JVal *g_request_id; /* the id to answer with (NULL: null) */

static void handle_request(const char *line, size_t length)
{
    Reader reader = {line, line, line + length, 0};
    const JVal *request = read_value(&reader);
    skip_space(&reader);
    if (reader.at != reader.end)
        bad_json(&reader, "characters after the value");
    if (request->type != J_OBJECT)
        fail(FAILURE, "a request must be a JSON object");
    g_request_id = member(request, "id");
    const JVal *op = member(request, "op");
    if (!op || op->type != J_STRING)
        fail(FAILURE, "the request has no \"op\" string");

    out_str("{\"id\":");
    out_value(g_request_id);
    out_str(",\"result\":");
    if (strcmp(op->string, "hello") == 0) {
        op_hello(request);
    } else {
        size_t i = 0, n = sizeof OPERATIONS / sizeof *OPERATIONS;
        while (i < n && strcmp(op->string, OPERATIONS[i].name) != 0)
            i++;
        if (i == n)
            fail(NOT_SUPPORTED, "unknown op \"%.60s\"", op->string);
        const JVal *dtype = member(request, "dtype"), *device = member(request, "device");
        const JVal *args = member(request, "args");
        if (!dtype || dtype->type != J_STRING)
            fail(FAILURE, "the request has no \"dtype\" string");
        if (!is_string(dtype, "float32") && !is_string(dtype, "float64"))
            fail(NOT_SUPPORTED, "dtype \"%.40s\": this program computes in float32 and float64", dtype->string);
        if (device && !is_string(device, "cpu"))
            fail(NOT_SUPPORTED, "device %s: this program computes on the CPU only",
                 device->type == J_STRING ? device->string : "(not a string)");
        if (!args || args->type != J_OBJECT)
            fail(FAILURE, "the request has no \"args\" object");
        OPERATIONS[i].run(args, is_string(dtype, "float32") ? F32 : F64);
    }
    out_str("}\n");
}

/* Answer one request line on stdout.  setjmp lives here, in a function whose locals never change. */
static void serve_line(const char *line, size_t length)
{
    g_out.length = 0;
    g_request_id = NULL;
    if (setjmp(g_on_error) == 0) {
        handle_request(line, length);
    } else {
        g_out.length = 0;
        out_str("{\"id\":");
        out_value(g_request_id);
        out_str(",\"error\":{\"kind\":\"");
        out_str(ERROR_KIND_NAMES[g_error_kind]);
        out_str("\",\"message\":");
        out_json_string(g_error_message, strlen(g_error_message));
        out_str("}}\n");
        if (g_error_kind == FAILURE)
            fprintf(stderr, "gatespec_client: failure: %s\n", g_error_message);
    }
    if (fwrite(g_out.data, 1, g_out.length, stdout) != g_out.length || fflush(stdout) != 0) {
        fputs("gatespec_client: cannot write to stdout\n", stderr);
        exit(1);
    }
    arena_reset();
}

/* One line of stdin into *buffer (grown as needed), without its length limit; false at the end. */
static bool read_line(char **buffer, size_t *capacity, size_t *length)
{
    size_t n = 0;
    bool any = false;
    for (;;) {
        if (*capacity - n < 2) {
            size_t grown = *capacity ? 2 * *capacity : 1 << 16;
            char *p = grown > *capacity ? realloc(*buffer, grown) : NULL;
            if (!p) {
                fputs("gatespec_client: out of memory for a request line\n", stderr);
                exit(1);
            }
            *buffer = p;
            *capacity = grown;
        }
        size_t room = *capacity - n;
        if (!fgets(*buffer + n, room > INT32_MAX ? INT32_MAX : (int)room, stdin))
            break;
        any = true;
        n += strlen(*buffer + n);
        if (n > 0 && (*buffer)[n - 1] == '\n')
            break;
    }
    if (*buffer)
        (*buffer)[n] = '\0';
    *length = n;
    return any;
}

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

int main(void)
{
    char *line = NULL;
    size_t capacity = 0, length = 0;
    while (read_line(&line, &capacity, &length))
        if (!is_blank(line, length))
            serve_line(line, length);
    free(line);
    free(g_out.data);
    return 0;
}
