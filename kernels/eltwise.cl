/* eltwise.cl — elementwise kernels: activations (cd_unary) and the four
 * binary ops with numpy broadcasting (cd_binary, cd_binary_nd).
 * Each work-item of the fast kernels handles 8 consecutive floats (float8)
 * with a scalar tail; formulas match cd_act_apply in daemon/engine/ops.c.
 * Helpers are prefixed elt_ (one program holds every kernel file). */

/* enum cd_act values (daemon/engine/ops.h) */
#define ELT_ACT_NONE 0
#define ELT_ACT_RELU 1
#define ELT_ACT_RELU6 2
#define ELT_ACT_LEAKY_RELU 3
#define ELT_ACT_GELU 4
#define ELT_ACT_GELU_TANH 5
#define ELT_ACT_SILU 6
#define ELT_ACT_SIGMOID 7
#define ELT_ACT_HARDSWISH 8
#define ELT_ACT_HARDSIGMOID 9
#define ELT_ACT_TANH 10
#define ELT_ACT_CLAMP 11

/* binary op codes, as passed by ops_cl_eltwise.c */
#define ELT_ADD 0
#define ELT_SUB 1
#define ELT_MUL 2
#define ELT_DIV 3

/* The same body for float and float8: T is the type, S builds a constant. */
#define ELT_ACT_BODY(T, x, act, alpha, beta)                                  \
    switch (act) {                                                            \
    case ELT_ACT_RELU: return fmax(x, (T)0.0f);                               \
    case ELT_ACT_RELU6: return fmin(fmax(x, (T)0.0f), (T)6.0f);               \
    case ELT_ACT_LEAKY_RELU: return select(alpha * x, x, x >= (T)0.0f);      \
    case ELT_ACT_GELU: {                                                      \
        /* erf by Abramowitz-Stegun 7.1.26 (abs error < 1.5e-7) */            \
        T z = fabs(x) * 0.70710678118654752f;                                 \
        T t = 1.0f / (1.0f + 0.3275911f * z);                                 \
        T p = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f +    \
                   t * (-1.453152027f + t * 1.061405429f))));                 \
        T e = copysign(1.0f - p * exp(-z * z), x);                            \
        return 0.5f * x * (1.0f + e);                                         \
    }                                                                         \
    case ELT_ACT_GELU_TANH: {                                                 \
        T u = 0.7978845608028654f * (x + 0.044715f * x * x * x);              \
        return 0.5f * x * (1.0f + tanh(u));                                   \
    }                                                                         \
    case ELT_ACT_SILU: return x / (1.0f + exp(-x));                           \
    case ELT_ACT_SIGMOID: return 1.0f / (1.0f + exp(-x));                     \
    case ELT_ACT_HARDSWISH:                                                   \
        return x * fmin(fmax(x + 3.0f, (T)0.0f), (T)6.0f) / 6.0f;             \
    case ELT_ACT_HARDSIGMOID:                                                 \
        return fmin(fmax(x + 3.0f, (T)0.0f), (T)6.0f) / 6.0f;                 \
    case ELT_ACT_TANH: return tanh(x);                                        \
    case ELT_ACT_CLAMP: return fmin(fmax(x, (T)alpha), (T)beta);              \
    default: return x;                                                        \
    }

inline float elt_act(float x, int act, float alpha, float beta)
{
    /* scalar select() needs integer masks; spell leaky_relu out */
    if (act == ELT_ACT_LEAKY_RELU)
        return x >= 0.0f ? x : alpha * x;
    ELT_ACT_BODY(float, x, act, alpha, beta)
}

inline float8 elt_act8(float8 x, int act, float alpha, float beta)
{
    ELT_ACT_BODY(float8, x, act, alpha, beta)
}

/* out = act(in) over n floats; global size ceil(n / 8). */
kernel void cd_unary(global float *out, ulong out_off,
                     global const float *in, ulong in_off,
                     uint n, int act, float alpha, float beta)
{
    uint i = (uint)get_global_id(0) * 8u;
    global float *o = out + out_off;
    global const float *x = in + in_off;
    if (i + 8u <= n) {
        vstore8(elt_act8(vload8(0, x + i), act, alpha, beta), 0, o + i);
        return;
    }
    for (; i < n; i++)
        o[i] = elt_act(x[i], act, alpha, beta);
}

inline float elt_bin(float a, float b, int op)
{
    switch (op) {
    case ELT_ADD: return a + b;
    case ELT_SUB: return a - b;
    case ELT_MUL: return a * b;
    default: return a / b;
    }
}

inline float8 elt_bin8(float8 a, float8 b, int op)
{
    switch (op) {
    case ELT_ADD: return a + b;
    case ELT_SUB: return a - b;
    case ELT_MUL: return a * b;
    default: return a / b;
    }
}

inline float16 elt_bin16(float16 a, float16 b, int op)
{
    switch (op) {
    case ELT_ADD: return a + b;
    case ELT_SUB: return a - b;
    case ELT_MUL: return a * b;
    default: return a / b;
    }
}

/* a is a full-size operand viewed as (rows, len); out = a (op) b, or
 * b (op) a when rev, where b by bmode is: 0 the constant bs; 1 full size
 * like a; 2 one value per row, b[r % mid]; 3 one row of len values shared
 * by every row (last-dim broadcast). Each work-item covers rpi rows times
 * chunk columns (a multiple of 16) as float16, the row's tail one by one.
 * Global size (ceil(len / chunk), ceil(rows / rpi)), one work-item per
 * work-group. */
#define ELT_ROW_LOOP(BV, BS)                                                  \
    for (; j + 16u <= e; j += 16u) {                                          \
        float16 av = vload16(0, x + j), bv = BV;                              \
        vstore16(rev ? elt_bin16(bv, av, op) : elt_bin16(av, bv, op), 0,      \
                 o + j);                                                      \
    }                                                                         \
    for (; j < e; j++) {                                                      \
        float bb = BS;                                                        \
        o[j] = rev ? elt_bin(bb, x[j], op) : elt_bin(x[j], bb, op);           \
    }
kernel void cd_binary(global float *out, ulong out_off,
                      global const float *a, ulong a_off,
                      global const float *b, ulong b_off, uint rows,
                      uint len, uint chunk, uint rpi, uint mid, float bs,
                      int bmode, int op, int rev)
{
    uint s = (uint)get_global_id(0) * chunk;
    uint r0 = (uint)get_global_id(1) * rpi;
    if (s >= len || r0 >= rows)
        return;
    uint e = min(s + chunk, len), r1 = min(r0 + rpi, rows);
    for (uint r = r0; r < r1; r++) {
        ulong base = (ulong)r * len;
        global const float *x = a + a_off + base;
        global float *o = out + out_off + base;
        uint j = s;
        if (bmode == 1) {
            global const float *y = b + b_off + base;
            ELT_ROW_LOOP(vload16(0, y + j), y[j])
        } else if (bmode == 3) {
            global const float *y = b + b_off;
            ELT_ROW_LOOP(vload16(0, y + j), y[j])
        } else {
            float c = bmode == 0 ? bs : b[b_off + r % mid];
            ELT_ROW_LOOP((float16)c, c)
        }
    }
}
#undef ELT_ROW_LOOP

/* General broadcasting over collapsed dims: dims is the output shape
 * right-aligned in 8 slots (slot 7 innermost, unused slots 1), sa/sb the
 * strides of a and b in floats (0 where the operand broadcasts). out is
 * contiguous. Each work-item handles 8 floats of one innermost row; global
 * size (ceil(dims.s7 / 8), rows), rows = dims.s0 * ... * dims.s6. */
kernel void cd_binary_nd(global float *out, ulong out_off,
                         global const float *a, ulong a_off,
                         global const float *b, ulong b_off,
                         int8 dims, int8 sa, int8 sb, uint rows, int op)
{
    uint s = (uint)get_global_id(0) * 8u;
    uint r = (uint)get_global_id(1);
    uint len = (uint)dims.s7;
    if (s >= len || r >= rows)
        return;
    global float *o = out + out_off + (ulong)r * len;
    long ia = 0, ib = 0;
    uint c;
#define ELT_STEP(k)                                                           \
    if (r > 0u) {                                                             \
        c = r % (uint)dims.k;                                                 \
        r /= (uint)dims.k;                                                    \
        ia += (long)c * sa.k;                                                 \
        ib += (long)c * sb.k;                                                 \
    }
    ELT_STEP(s6) ELT_STEP(s5) ELT_STEP(s4) ELT_STEP(s3) ELT_STEP(s2)
    ELT_STEP(s1) ELT_STEP(s0)
#undef ELT_STEP
    global const float *x = a + a_off + ia;
    global const float *y = b + b_off + ib;
    int ta = sa.s7, tb = sb.s7;
    if (s + 8u <= len && (ta == 0 || ta == 1) && (tb == 0 || tb == 1)) {
        float8 av = ta ? vload8(0, x + s) : (float8)x[0];
        float8 bv = tb ? vload8(0, y + s) : (float8)y[0];
        vstore8(elt_bin8(av, bv, op), 0, o + s);
        return;
    }
    uint end = min(s + 8u, len);
    for (; s < end; s++)
        o[s] = elt_bin(x[(long)s * ta], y[(long)s * tb], op);
}
