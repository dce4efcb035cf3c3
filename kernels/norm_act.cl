/* norm_act.cl — inference batchnorm with a fused activation and per-sample
 * strides (cd_batchnorm_act): batchnorm -> relu in one pass over memory, and
 * input or output may be a channel prefix of a wider buffer (DenseNet's
 * in-place concat). Per-channel scale is computed once per work-item, never
 * per element. Activation formulas: cd_act16/cd_act in common.cl. */

/* x is (N, C, inner) with sample b at in_off + b * in_bstride, out likewise;
 * out = act((x - mean[c]) * w[c] / sqrt(var[c] + eps) + bias[c]).
 * Global size (>= ceil(inner / 16), >= C, N), padded to the local size:
 * 16 consecutive floats of one channel row per work-item. */
kernel void cd_batchnorm_act(global float *out, ulong out_off,
                             ulong out_bstride, global const float *in,
                             ulong in_off, ulong in_bstride,
                             global const float *wp, ulong w_off, ulong b_off,
                             ulong m_off, ulong v_off, uint C, uint inner,
                             float eps, int act, float alpha, float beta)
{
    uint j = (uint)get_global_id(0) * 16u;
    uint c = (uint)get_global_id(1);
    ulong n = get_global_id(2);
    if (j >= inner || c >= C)
        return;
    float s = wp[w_off + c] / sqrt(wp[v_off + c] + eps);
    float m = wp[m_off + c], t = wp[b_off + c];
    ulong row = (ulong)c * inner + j;
    global const float *x = in + in_off + n * in_bstride + row;
    global float *o = out + out_off + n * out_bstride + row;
    if (j + 16u <= inner) {
        float16 v = (vload16(0, x) - m) * s + t;
        vstore16(cd_act16(v, act, alpha, beta), 0, o);
        return;
    }
    for (uint i = 0; i < inner - j; i++)
        o[i] = cd_act((x[i] - m) * s + t, act, alpha, beta);
}
