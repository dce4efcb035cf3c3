/* test_cl_device.c — the OpenCL device layer: error names, device listing and
 * selection, program build and binary cache (hit, corrupt, unwritable),
 * buffers, kernel lookup and enqueue errors, node dispatch wrapping. Runs on
 * whatever OpenCL device exists (POCL's CPU device on the build machine). */
#include "engine/backend.h"
#include "engine/cl_backend.h"
#include "engine/cl_device.h"
#include "engine/cl_program.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];

static void mk_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cd_cl_test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void rm_tree(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static int has_gpu(void)
{
    char list[4096];
    struct cd_err err = { 0 };
    return cd_cl_list_devices(list, sizeof list, &err) == CD_OK &&
           strstr(list, "GPU") != NULL;
}

START_TEST(strerror_names)
{
    ck_assert_str_eq(cd_cl_strerror(CL_SUCCESS), "CL_SUCCESS");
    ck_assert_str_eq(cd_cl_strerror(CL_INVALID_KERNEL_NAME),
                     "CL_INVALID_KERNEL_NAME");
    ck_assert_str_eq(cd_cl_strerror(-5), "CL_OUT_OF_RESOURCES");
    ck_assert_str_eq(cd_cl_strerror(-68), "CL_INVALID_DEVICE_PARTITION_COUNT");
    ck_assert_str_eq(cd_cl_strerror(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
    ck_assert_str_eq(cd_cl_strerror(12345), "CL_UNKNOWN_ERROR");
    /* every OpenCL 1.2 code has a name: 0..-19 and -30..-68 */
    for (int rc = 0; rc >= -68; rc--) {
        if (rc <= -20 && rc >= -29)
            continue;
        ck_assert_msg(strcmp(cd_cl_strerror(rc), "CL_UNKNOWN_ERROR") != 0,
                      "no name for %d", rc);
        ck_assert_msg(strncmp(cd_cl_strerror(rc), "CL_", 3) == 0, "%d", rc);
    }
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_cl_check(CL_SUCCESS, "clFoo", &err), CD_OK);
    ck_assert_int_eq(cd_cl_check(-5, "clFoo", &err), CD_EDEVICE);
    ck_assert_str_eq(err.msg, "clFoo failed: CL_OUT_OF_RESOURCES (-5)");
    ck_assert_int_eq(cd_cl_check(-5, "clFoo", NULL), CD_EDEVICE);
}
END_TEST

START_TEST(list_devices)
{
    char list[4096], tiny[8];
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_cl_list_devices(list, sizeof list, &err), CD_OK);
    ck_assert_ptr_nonnull(strstr(list, "0:0"));
    ck_assert_int_eq(cd_cl_list_devices(tiny, sizeof tiny, &err), CD_ERANGE);
    ck_assert_uint_lt(strlen(tiny), sizeof tiny);
    ck_assert_int_eq(cd_cl_list_devices(NULL, 0, &err), CD_EINVAL);
}
END_TEST

START_TEST(select_valid)
{
    static const char *const sel[] = { "cpu", "auto", "0:0", "AUTO", "" };
    for (size_t i = 0; i < sizeof sel / sizeof sel[0]; i++) {
        struct cd_cl_backend be;
        struct cd_err err = { 0 };
        memset(&be, 0, sizeof be);
        ck_assert_msg(cd_cl_device_select(&be, sel[i], &err) == CD_OK,
                      "%s: %s", sel[i], err.msg);
        ck_assert_ptr_nonnull(be.device);
        ck_assert_ptr_nonnull(be.platform);
        ck_assert_int_gt(strlen(be.device_name), 0);
        ck_assert_int_gt(strlen(be.platform_name), 0);
        ck_assert_int_gt(strlen(be.driver), 0);
        ck_assert_uint_ge(be.compute_units, 1);
        ck_assert_uint_ge(be.max_wg, 1);
        ck_assert_uint_gt(be.local_mem, 0);
        if (strcmp(sel[i], "cpu") == 0)
            ck_assert(!be.is_gpu);
        if (has_gpu() && strcmp(sel[i], "cpu") != 0 && sel[i][0] != '0')
            ck_assert(be.is_gpu); /* auto prefers a GPU */
    }
}
END_TEST

START_TEST(select_invalid)
{
    struct cd_cl_backend be;
    struct cd_err err = { 0 };
    memset(&be, 0, sizeof be);
    ck_assert_int_eq(cd_cl_device_select(&be, "9:9", &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "no platform 9"));
    ck_assert_ptr_nonnull(strstr(err.msg, "0:0")); /* lists what exists */
    ck_assert_int_eq(cd_cl_device_select(&be, "0:99", &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "has no device 99"));
    static const char *const bad[] = { "bogus", "1:", ":1", "-1:0", "0:0x",
                                       "0:0:0", "99999999999:0" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(cd_cl_device_select(&be, bad[i], &err), CD_EINVAL);
        ck_assert_ptr_nonnull(strstr(err.msg, "expected"));
    }
    int rc = cd_cl_device_select(&be, "gpu", &err);
    if (has_gpu()) {
        ck_assert_int_eq(rc, CD_OK);
        ck_assert(be.is_gpu);
    } else {
        ck_assert_int_eq(rc, CD_EDEVICE);
        ck_assert_ptr_nonnull(strstr(err.msg, "no usable GPU device"));
        ck_assert_ptr_nonnull(strstr(err.msg, "0:0"));
    }
    ck_assert_int_eq(cd_cl_device_select(NULL, "cpu", &err), CD_EINVAL);
}
END_TEST

START_TEST(select_env)
{
    struct cd_cl_backend be;
    struct cd_err err = { 0 };
    memset(&be, 0, sizeof be);
    setenv(CD_CL_DEVICE_ENV, "9:9", 1);
    ck_assert_int_eq(cd_cl_device_select(&be, NULL, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, CD_CL_DEVICE_ENV "=\"9:9\""));
    /* an explicit choice wins over the environment */
    ck_assert_int_eq(cd_cl_device_select(&be, "0:0", &err), CD_OK);
    setenv(CD_CL_DEVICE_ENV, "cpu", 1);
    ck_assert_int_eq(cd_cl_device_select(&be, NULL, &err), CD_OK);
    ck_assert(!be.is_gpu);
    unsetenv(CD_CL_DEVICE_ENV);
    ck_assert_int_eq(cd_cl_device_select(&be, NULL, &err), CD_OK);
}
END_TEST

/* Runs cd_fill over arena[off, off+n) and checks the result and the floats
 * on either side. */
static void check_fill(struct cd_backend *b, size_t off, size_t n, float v)
{
    struct cd_cl_backend *be = b->impl;
    struct cd_err err = { 0 };
    cl_kernel k = cd_cl_kernel(be, "cd_fill", &err);
    ck_assert_msg(k != NULL, "%s", err.msg);
    cl_ulong o = off, nn = n;
    ck_assert_int_eq(clSetKernelArg(k, 0, sizeof(cl_mem), &be->arena), 0);
    ck_assert_int_eq(clSetKernelArg(k, 1, sizeof o, &o), 0);
    ck_assert_int_eq(clSetKernelArg(k, 2, sizeof nn, &nn), 0);
    ck_assert_int_eq(clSetKernelArg(k, 3, sizeof v, &v), 0);
    size_t gws = n;
    ck_assert_msg(cd_cl_enqueue(be, k, 1, &gws, NULL, "fill", &err) == CD_OK,
                  "%s", err.msg);
    ck_assert_int_eq(b->i->finish(b, &err), CD_OK);
    float got[64];
    ck_assert_uint_le(n + 2, 64);
    ck_assert_int_eq(b->i->read(b, off - 1, got, n + 2, &err), CD_OK);
    ck_assert_float_eq(got[0], 0.0f);
    for (size_t i = 1; i <= n; i++)
        ck_assert_float_eq(got[i], v);
    ck_assert_float_eq(got[n + 1], 0.0f);
}

static struct cd_backend *init_ok(const char *cache_dir)
{
    struct cd_backend *b = NULL;
    struct cd_err err = { 0 };
    int rc = cd_backend_cl_init(&b, "cpu", cache_dir, &err);
    ck_assert_msg(rc == CD_OK, "init: %s", err.msg);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(b->i->alloc(b, 256, 16, &err), CD_OK);
    return b;
}

START_TEST(program_and_cache)
{
    struct cd_cl_program_stats s0, s1;
    char dir[128], path[512];
    struct cd_err err = { 0 };
    struct stat st;
    mk_tmpdir();
    snprintf(dir, sizeof dir, "%s/a/b", tmpdir); /* created on demand */

    /* first load: built from source, cache written */
    cd_cl_program_stats(&s0);
    struct cd_backend *b = init_ok(dir);
    ck_assert_int_eq(strncmp(b->desc, "OpenCL: ", 8), 0);
    ck_assert_int_eq(cd_cl_program_cache_path(b->impl, dir, path, sizeof path,
                                              &err), CD_OK);
    cd_cl_program_stats(&s1);
    ck_assert_uint_eq(s1.source_builds, s0.source_builds + 1);
    ck_assert_uint_eq(s1.cache_misses, s0.cache_misses + 1);
    ck_assert_uint_eq(s1.cache_writes, s0.cache_writes + 1);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_gt(st.st_size, 32);
    check_fill(b, 3, 20, 1.5f);
    cd_backend_free(b);

    /* second load: from the cached binary, and it works */
    b = init_ok(dir);
    cd_cl_program_stats(&s0);
    ck_assert_uint_eq(s0.cache_hits, s1.cache_hits + 1);
    ck_assert_uint_eq(s0.source_builds, s1.source_builds);
    check_fill(b, 7, 33, -2.0f);
    cd_backend_free(b);

    /* corrupt payload: rejected, rebuilt from source, rewritten */
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "garbage!", 8, st.st_size / 2), 8);
    close(fd);
    b = init_ok(dir);
    cd_cl_program_stats(&s1);
    ck_assert_uint_eq(s1.cache_rejects, s0.cache_rejects + 1);
    ck_assert_uint_eq(s1.source_builds, s0.source_builds + 1);
    ck_assert_uint_eq(s1.cache_writes, s0.cache_writes + 1);
    check_fill(b, 1, 5, 3.0f);
    cd_backend_free(b);

    /* truncated file: same */
    ck_assert_int_eq(truncate(path, 20), 0);
    b = init_ok(dir);
    cd_cl_program_stats(&s0);
    ck_assert_uint_eq(s0.cache_rejects, s1.cache_rejects + 1);
    ck_assert_uint_eq(s0.source_builds, s1.source_builds + 1);
    cd_backend_free(b);

    /* unwritable cache location never fails the load */
    b = init_ok("/proc/convd-no-such-dir/x");
    check_fill(b, 1, 4, 9.0f);
    cd_backend_free(b);
    rm_tree(tmpdir);
}
END_TEST

START_TEST(buffers)
{
    struct cd_backend *b = init_ok(NULL);
    struct cd_cl_backend *be = b->impl;
    struct cd_err err = { 0 };
    float in[50], out[50], w[30];
    for (int i = 0; i < 50; i++)
        in[i] = (float)i * 0.25f - 3.0f;
    for (int i = 0; i < 30; i++)
        w[i] = 100.0f + (float)i;

    ck_assert_int_eq(b->i->alloc(b, 100, 40, &err), CD_OK);
    ck_assert_uint_eq(be->arena_floats, 100);
    ck_assert_uint_eq(be->wpool_floats, 40);
    ck_assert_int_eq(b->i->read(b, 0, out, 50, &err), CD_OK);
    for (int i = 0; i < 50; i++)
        ck_assert_float_eq(out[i], 0.0f); /* buffers start zeroed */
    ck_assert_int_eq(b->i->write(b, 50, in, 50, &err), CD_OK);
    ck_assert_int_eq(b->i->read(b, 50, out, 50, &err), CD_OK);
    ck_assert_mem_eq(in, out, sizeof in);
    ck_assert_int_eq(b->i->upload_weights(b, 10, w, 30, &err), CD_OK);
    float wr[30];
    ck_assert_int_eq(clEnqueueReadBuffer(be->q, be->wpool, CL_TRUE,
                                         10 * sizeof(float), sizeof wr, wr, 0,
                                         NULL, NULL), CL_SUCCESS);
    ck_assert_mem_eq(w, wr, sizeof w);

    /* out of range, overflowing and NULL copies are refused */
    ck_assert_int_eq(b->i->write(b, 51, in, 50, &err), CD_ERANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "arena"));
    ck_assert_int_eq(b->i->read(b, (size_t)-1, out, 2, &err), CD_ERANGE);
    ck_assert_int_eq(b->i->upload_weights(b, 11, w, 30, &err), CD_ERANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "weight pool"));
    ck_assert_int_eq(b->i->write(b, 0, NULL, 3, &err), CD_EINVAL);
    ck_assert_int_eq(b->i->write(b, 0, NULL, 0, &err), CD_OK);

    /* re-alloc replaces the buffers; zero sizes still give valid buffers */
    ck_assert_int_eq(b->i->alloc(b, 0, 0, &err), CD_OK);
    ck_assert_uint_ge(be->arena_floats, 16);
    ck_assert_uint_ge(be->wpool_floats, 16);
    ck_assert_int_eq(b->i->write(b, 0, in, 16, &err), CD_OK);
    /* absurd sizes fail with a message, not a crash */
    ck_assert_int_eq(b->i->alloc(b, (size_t)-1 / 2, 16, &err), CD_ENOMEM);
    ck_assert_ptr_nonnull(strstr(err.msg, "arena"));
    ck_assert_int_eq(b->i->read(b, 0, out, 1, &err), CD_EINVAL);
    ck_assert_int_eq(b->i->alloc(b, 64, 16, &err), CD_OK);
    ck_assert_int_eq(b->i->finish(b, &err), CD_OK);
    cd_backend_free(b);
    cd_backend_free(NULL);
}
END_TEST

START_TEST(kernels)
{
    struct cd_backend *b = init_ok(NULL);
    struct cd_cl_backend *be = b->impl;
    struct cd_err err = { 0 };
    check_fill(b, 2, 37, 0.5f);
    int n = be->n_kernels;
    cl_kernel k = cd_cl_kernel(be, "cd_fill", &err);
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(be->n_kernels, n); /* cached, not created again */

    ck_assert_ptr_null(cd_cl_kernel(be, "cd_no_such_kernel", &err));
    ck_assert_int_eq(err.code, CD_EDEVICE);
    ck_assert_ptr_nonnull(strstr(err.msg, "CL_INVALID_KERNEL_NAME"));
    ck_assert_ptr_nonnull(strstr(err.msg, "cd_no_such_kernel"));
    ck_assert_ptr_null(cd_cl_kernel(be, NULL, &err));
    ck_assert_int_eq(err.code, CD_EINVAL);

    /* a work-group larger than the device allows: error names both */
    size_t gws = be->max_wg * 2, lws = be->max_wg * 2;
    ck_assert_int_eq(cd_cl_enqueue(be, k, 1, &gws, &lws, "my fill", &err),
                     CD_EDEVICE);
    ck_assert_ptr_nonnull(strstr(err.msg, "my fill"));
    ck_assert_ptr_nonnull(strstr(err.msg, "cd_fill"));
    ck_assert_int_eq(cd_cl_enqueue(be, k, 4, &gws, NULL, "x", &err),
                     CD_EINVAL);
    gws = 0; /* empty work is a no-op */
    ck_assert_int_eq(cd_cl_enqueue(be, k, 1, &gws, NULL, "x", &err), CD_OK);
    cd_backend_free(b);
}
END_TEST

START_TEST(dispatch)
{
    struct cd_backend *b = init_ok(NULL);
    struct cd_err err = { 0 };
    struct cd_attrs a;
    cd_attrs_default(&a, CD_OP_RELU);
    struct cd_tref in = { .shape = { .ndim = 2, .dim = { 1, 4 } }, .off = 0 };
    struct cd_exec_node e = { .name = "r1", .op = CD_OP_RELU, .a = &a,
                              .n_in = 1, .in = &in,
                              .out = { .shape = in.shape, .off = 8 } };
    /* the op's own dispatcher may or may not exist yet; either it works or
     * its error is prefixed with the node name */
    int rc = b->i->prepare(b, &e, 1, &err);
    ck_assert_msg(rc == CD_OK || strncmp(err.msg, "node \"r1\": ", 11) == 0,
                  "%s", err.msg);
    rc = b->i->run(b, &e, 1, &err);
    ck_assert_msg(rc == CD_OK || strncmp(err.msg, "node \"r1\": ", 11) == 0,
                  "%s", err.msg);
    ck_assert_int_eq(b->i->finish(b, &err), CD_OK);
    ck_assert_int_eq(b->i->run(b, &e, 0, &err), CD_EINVAL);
    e.op = CD_OP_COUNT;
    ck_assert_int_eq(b->i->run(b, &e, 1, &err), CD_EINVAL);
    ck_assert_int_eq(b->i->prepare(b, &e, 1, &err), CD_EINVAL);
    ck_assert_int_eq(b->i->run(b, NULL, 1, &err), CD_EINVAL);
    cd_backend_free(b);
}
END_TEST

static Suite *cl_device_suite(void)
{
    Suite *s = suite_create("cl_device");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, strerror_names);
    tcase_add_test(tc, list_devices);
    tcase_add_test(tc, select_valid);
    tcase_add_test(tc, select_invalid);
    tcase_add_test(tc, select_env);
    tcase_add_test(tc, program_and_cache);
    tcase_add_test(tc, buffers);
    tcase_add_test(tc, kernels);
    tcase_add_test(tc, dispatch);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(cl_device_suite)
