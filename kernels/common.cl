/* common.cl — helpers shared by every kernel family. The program is built
 * from every kernels/<family>.cl in one unit with this file first, so what
 * is defined here is visible to the others. No op kernels here. */

/* buf[off + i] = value for i < n: zeroing or filling part of a buffer.
 * buf is (n,) at off; one work-item per float. */
__kernel void cd_fill(__global float *buf, ulong off, ulong n, float value)
{
    size_t i = get_global_id(0);
    if (i < n)
        buf[off + i] = value;
}
