/* cl_program.c — builds the one OpenCL program from the embedded kernel
 * sources, caches its binary on disk, creates kernels on first use and
 * enqueues them. It knows no op: dispatchers (ops_cl*.c) pick kernels and
 * arguments. A broken or unwritable cache is never an error, only a rebuild. */
#include "cl_program.h"

#include "cl_backend.h"
#include "fault.h"
#include "kernels_embed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC "CDCLBIN1"
#define CACHE_HDR 32                    /* magic, key, size, checksum */
#define CACHE_MAX ((size_t)512 << 20)   /* refuse larger cache files */
#define MAX_SOURCES 256

static atomic_ulong n_source, n_hit, n_miss, n_reject, n_write, n_tmp, n_write_fail;
static atomic_flag write_fail_noted = ATOMIC_FLAG_INIT;
static char write_fail_reason[512];   /* the first failed write, set once */

void cd_cl_program_stats(struct cd_cl_program_stats *out)
{
    if (!out)
        return;
    out->source_builds = atomic_load(&n_source);
    out->cache_hits = atomic_load(&n_hit);
    out->cache_misses = atomic_load(&n_miss);
    out->cache_rejects = atomic_load(&n_reject);
    out->cache_writes = atomic_load(&n_write);
    out->cache_write_failures = atomic_load(&n_write_fail);
}

/* ---- hashing ---------------------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * FNV_PRIME;
    return h;
}

/* Hashes s including its NUL, so "ab"+"c" and "a"+"bc" differ. */
static uint64_t fnv_str(uint64_t h, const char *s)
{
    return fnv(h, s, strlen(s) + 1);
}

static uint64_t cache_key(const struct cd_cl_backend *be)
{
    uint64_t h = fnv_str(FNV_OFFSET, CACHE_MAGIC);
    h = fnv_str(h, CD_CL_BUILD_OPTIONS);
    h = fnv_str(h, be->device_name);
    h = fnv_str(h, be->driver);
    h = fnv_str(h, be->platform_name);
    for (size_t i = 0; i < cd_kernel_count && cd_kernel_sources[i]; i++) {
        h = fnv_str(h, cd_kernel_names[i]);
        h = fnv_str(h, cd_kernel_sources[i]);
    }
    return h;
}

int cd_cl_program_cache_path(const struct cd_cl_backend *be,
                             const char *cache_dir, char *buf, size_t len,
                             struct cd_err *err)
{
    if (!be || !cache_dir || !buf || len == 0)
        return cd_err_set(err, CD_EINVAL, "cache path: bad argument");
    int n = snprintf(buf, len, "%s/convd-%016llx.bin", cache_dir,
                     (unsigned long long)cache_key(be));
    if (n < 0 || (size_t)n >= len)
        return cd_err_set(err, CD_ERANGE, "cache path too long: %.200s",
                          cache_dir);
    return CD_OK;
}

/* ---- cache files ------------------------------------------------------ */

/* mkdir -p; returns 0 on success. */
static int mkdir_p(const char *dir)
{
    char p[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof p)
        return -1;
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return -1;
        p[i] = c;
    }
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* Reads and verifies a cache file; returns the binary (owned) or NULL. */
static unsigned char *cache_read(const char *path, uint64_t key, size_t *size)
{
    unsigned char hdr[CACHE_HDR], *bin = NULL;
    uint64_t k, n, sum;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size < CACHE_HDR || (size_t)st.st_size - CACHE_HDR > CACHE_MAX)
        goto fail;
    if (read(fd, hdr, CACHE_HDR) != CACHE_HDR ||
        memcmp(hdr, CACHE_MAGIC, 8) != 0)
        goto fail;
    memcpy(&k, hdr + 8, 8);
    memcpy(&n, hdr + 16, 8);
    memcpy(&sum, hdr + 24, 8);
    if (k != key || n == 0 || n != (uint64_t)st.st_size - CACHE_HDR)
        goto fail;
    if (!(bin = malloc((size_t)n)))
        goto fail;
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, bin + got, (size_t)n - got);
        if (r <= 0)
            goto fail;
        got += (size_t)r;
    }
    if (fnv(FNV_OFFSET, bin, (size_t)n) != sum)
        goto fail;
    close(fd);
    *size = (size_t)n;
    return bin;
fail:
    free(bin);
    close(fd);
    return NULL;
}

static int write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Counts a failed cache write; the first one's reason is kept for the
 * daemon to log once (cd_cl_program_cache_error). */
static void write_failed(const char *what, const char *path, int errnum)
{
    if (!atomic_flag_test_and_set(&write_fail_noted))
        snprintf(write_fail_reason, sizeof write_fail_reason, "%s %.400s: %s", what,
                 path, strerror(errnum));
    atomic_fetch_add(&n_write_fail, 1);
}

/* Writes the binary to path through a temporary file and rename(2), so a
 * reader never sees half a file. A failure is only counted: the cache is
 * optional and the program is already built. */
static void cache_write(const char *dir, const char *path, uint64_t key,
                        const unsigned char *bin, size_t n)
{
    char tmp[4200];
    unsigned char hdr[CACHE_HDR];
    uint64_t n64 = n, sum = fnv(FNV_OFFSET, bin, n);
    if (mkdir_p(dir) != 0) {
        write_failed("mkdir", dir, errno);
        return;
    }
    int len = snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%lu", path, (long)getpid(),
                       atomic_fetch_add(&n_tmp, 1));
    if (len < 0 || (size_t)len >= sizeof tmp)
        return;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        write_failed("open", tmp, errno);
        return;
    }
    memcpy(hdr, CACHE_MAGIC, 8);
    memcpy(hdr + 8, &key, 8);
    memcpy(hdr + 16, &n64, 8);
    memcpy(hdr + 24, &sum, 8);
    int bad = write_all(fd, hdr, CACHE_HDR) || write_all(fd, bin, n);
    if (!bad && cd_fault_fire(CD_FAULT_CACHE_WRITE)) {   /* test hook: disk full */
        errno = ENOSPC;
        bad = 1;
    }
    int errnum = errno;
    bad |= close(fd) != 0;
    if (!bad && rename(tmp, path) != 0) {
        errnum = errno;
        bad = 1;
    }
    if (bad) {
        write_failed("write", tmp, errnum);
        unlink(tmp);
        return;
    }
    atomic_fetch_add(&n_write, 1);
}

int cd_cl_program_cache_error(char *buf, size_t len)
{
    if (!buf || len == 0)
        return 0;
    buf[0] = '\0';
    if (atomic_load(&n_write_fail) == 0)
        return 0;
    snprintf(buf, len, "%s", write_fail_reason);
    return 1;
}

/* ---- building --------------------------------------------------------- */

/* Fills err with the build failure and the first error lines of the log. */
static int build_error(struct cd_cl_backend *be, cl_program prog, cl_int rc,
                       struct cd_err *err)
{
    char head[96], excerpt[sizeof err->msg];
    size_t n = 0, pos = 0;
    char *log = NULL;
    snprintf(head, sizeof head, "clBuildProgram failed: %s (%d)",
             cd_cl_strerror(rc), (int)rc);
    excerpt[0] = '\0';
    if (clGetProgramBuildInfo(prog, be->device, CL_PROGRAM_BUILD_LOG, 0, NULL,
                              &n) == CL_SUCCESS && n > 1 && n < (64u << 20) &&
        (log = malloc(n + 1)) &&
        clGetProgramBuildInfo(prog, be->device, CL_PROGRAM_BUILD_LOG, n, log,
                              NULL) == CL_SUCCESS) {
        log[n] = '\0';
        const char *s = strstr(log, "error");
        if (!s)
            s = log;
        while (s > log && s[-1] != '\n')
            s--;
        /* Lines joined by " | ", blank lines dropped. */
        for (; *s && pos + 4 < sizeof excerpt; s++) {
            if (*s == '\n' || *s == '\r') {
                if (pos > 0 && excerpt[pos - 1] != ' ' && s[1] && s[1] != '\n')
                    pos += (size_t)snprintf(excerpt + pos,
                                            sizeof excerpt - pos, " | ");
                continue;
            }
            excerpt[pos++] = *s;
        }
        excerpt[pos < sizeof excerpt ? pos : sizeof excerpt - 1] = '\0';
    }
    free(log);
    return cd_err_set(err, CD_EDEVICE, "%s: %s", head,
                      excerpt[0] ? excerpt : "(no build log)");
}

/* Program from a verified cached binary, or NULL (then build from source). */
static cl_program build_binary(struct cd_cl_backend *be,
                               const unsigned char *bin, size_t n)
{
    cl_int rc, st = CL_SUCCESS;
    cl_program p = clCreateProgramWithBinary(be->ctx, 1, &be->device, &n, &bin,
                                             &st, &rc);
    if (rc != CL_SUCCESS || st != CL_SUCCESS) {
        if (p)
            clReleaseProgram(p);
        return NULL;
    }
    rc = clBuildProgram(p, 1, &be->device, CD_CL_BUILD_OPTIONS, NULL, NULL);
    if (rc != CL_SUCCESS) {
        clReleaseProgram(p);
        return NULL;
    }
    return p;
}

/* A source that does not compile: the "build" fault injection (fault.h)
 * appends it so the real compiler fails with a real build log. */
static const char fault_source[] =
    "\n#line 1 \"fault_injected.cl\"\n"
    "kernel void cd_fault_injected(global float *x)\n"
    "{\n    x[0] = convd_fault_injected_undeclared;\n}\n";

/* Every embedded source behind a #line directive naming its file, common.cl
 * first so the others may use its helpers; broken adds fault_source. */
static int build_source(struct cd_cl_backend *be, cl_program *out, bool broken,
                        struct cd_err *err)
{
    const char *strs[2 * MAX_SOURCES + 1];
    char lines[MAX_SOURCES][96];
    cl_uint n = 0;
    size_t count = cd_kernel_count;
    if (count == 0 || count > MAX_SOURCES)
        return cd_err_set(err, CD_EDEVICE, "%zu embedded kernel sources "
                          "(expected 1..%d)", count, MAX_SOURCES);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < count && cd_kernel_sources[i]; i++) {
            const char *name = cd_kernel_names[i] ? cd_kernel_names[i] : "?";
            if ((strcmp(name, "common.cl") == 0) != (pass == 0))
                continue;
            if (strpbrk(name, "\"\\\n") || strlen(name) > 64)
                name = "kernel.cl";
            snprintf(lines[i], sizeof lines[i], "\n#line 1 \"%s\"\n", name);
            strs[n++] = lines[i];
            strs[n++] = cd_kernel_sources[i];
        }
    }
    if (broken)
        strs[n++] = fault_source;
    cl_int rc;
    cl_program p = clCreateProgramWithSource(be->ctx, n, strs, NULL, &rc);
    if (rc != CL_SUCCESS)
        return cd_cl_check(rc, "clCreateProgramWithSource", err);
    rc = clBuildProgram(p, 1, &be->device, CD_CL_BUILD_OPTIONS, NULL, NULL);
    if (rc != CL_SUCCESS) {
        int st = build_error(be, p, rc, err);
        clReleaseProgram(p);
        return st;
    }
    atomic_fetch_add(&n_source, 1);
    *out = p;
    return CD_OK;
}

static void cache_save(struct cd_cl_backend *be, const char *dir,
                       const char *path, uint64_t key)
{
    size_t n = 0;
    unsigned char *bin = NULL;
    if (clGetProgramInfo(be->prog, CL_PROGRAM_BINARY_SIZES, sizeof n, &n,
                         NULL) != CL_SUCCESS || n == 0 || n > CACHE_MAX ||
        !(bin = malloc(n)))
        return;
    if (clGetProgramInfo(be->prog, CL_PROGRAM_BINARIES, sizeof bin, &bin,
                         NULL) == CL_SUCCESS)
        cache_write(dir, path, key, bin, n);
    free(bin);
}

int cd_cl_program_build(struct cd_cl_backend *be, const char *cache_dir,
                        struct cd_err *err)
{
    char path[4096];
    if (!be || !be->ctx || !be->device)
        return cd_err_set(err, CD_EINVAL, "program build: no context");
    if (be->prog)
        return CD_OK;
    uint64_t key = cache_key(be);
    bool inject = cd_fault_fire(CD_FAULT_BUILD);   /* test hook: compile error */
    int use_cache = !inject && cache_dir && *cache_dir &&
                    cd_cl_program_cache_path(be, cache_dir, path, sizeof path,
                                             NULL) == CD_OK;
    if (use_cache) {
        size_t n = 0;
        unsigned char *bin = cache_read(path, key, &n);
        if (bin) {
            be->prog = build_binary(be, bin, n);
            free(bin);
            atomic_fetch_add(be->prog ? &n_hit : &n_reject, 1);
        } else {
            atomic_fetch_add(access(path, F_OK) == 0 ? &n_reject : &n_miss, 1);
        }
        if (be->prog)
            return CD_OK;
    }
    int rc = build_source(be, &be->prog, inject, err);
    if (rc != CD_OK)
        return rc;
    if (use_cache)
        cache_save(be, cache_dir, path, key);
    return CD_OK;
}

void cd_cl_program_release(struct cd_cl_backend *be)
{
    if (!be)
        return;
    for (int i = 0; i < be->n_kernels; i++)
        if (be->kernels[i].k)
            clReleaseKernel(be->kernels[i].k);
    be->n_kernels = 0;
    if (be->prog)
        clReleaseProgram(be->prog);
    be->prog = NULL;
}

/* ---- kernels ---------------------------------------------------------- */

cl_kernel cd_cl_kernel(struct cd_cl_backend *be, const char *name,
                       struct cd_err *err)
{
    if (!be || !name || !*name) {
        cd_err_set(err, CD_EINVAL, "kernel lookup: no backend or no name");
        return NULL;
    }
    for (int i = 0; i < be->n_kernels; i++)
        if (strcmp(be->kernels[i].name, name) == 0)
            return be->kernels[i].k;
    if (!be->prog) {
        cd_err_set(err, CD_EDEVICE, "kernel %.64s: program not built", name);
        return NULL;
    }
    if (be->n_kernels >= CD_CL_MAX_KERNELS) {
        cd_err_set(err, CD_ERANGE, "kernel %.64s: more than %d kernels", name,
                   CD_CL_MAX_KERNELS);
        return NULL;
    }
    cl_int rc;
    cl_kernel k = clCreateKernel(be->prog, name, &rc);
    if (rc != CL_SUCCESS || !k) {
        cd_err_set(err, CD_EDEVICE, "clCreateKernel(%.64s) failed: %s (%d)",
                   name, cd_cl_strerror(rc), (int)rc);
        return NULL;
    }
    be->kernels[be->n_kernels].name = name;
    be->kernels[be->n_kernels].k = k;
    be->n_kernels++;
    return k;
}

int cd_cl_enqueue(struct cd_cl_backend *be, cl_kernel k, cl_uint dims,
                  const size_t *gws, const size_t *lws, const char *what,
                  struct cd_err *err)
{
    char kname[64] = "?", sizes[160];
    if (!be || !be->q || !k || !gws || dims < 1 || dims > 3)
        return cd_err_set(err, CD_EINVAL, "%s: bad enqueue arguments",
                          what ? what : "enqueue");
    for (cl_uint i = 0; i < dims; i++)
        if (gws[i] == 0)
            return CD_OK; /* nothing to compute */
    /* test hook (fault.h): the enqueue fails as a device out of resources */
    cl_int rc = cd_fault_fire(CD_FAULT_ENQUEUE)
                    ? CL_OUT_OF_RESOURCES
                    : clEnqueueNDRangeKernel(be->q, k, dims, NULL, gws, lws, 0, NULL, NULL);
    if (rc == CL_SUCCESS)
        return CD_OK;
    size_t kn = 0;
    if (clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, 0, NULL, &kn) ==
            CL_SUCCESS && kn > 0 && kn <= sizeof kname)
        clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof kname, kname, NULL);
    int p = snprintf(sizes, sizeof sizes, "gws=%zu", gws[0]);
    for (cl_uint i = 1; i < dims; i++)
        p += snprintf(sizes + p, sizeof sizes - (size_t)p, "x%zu", gws[i]);
    if (lws) {
        p += snprintf(sizes + p, sizeof sizes - (size_t)p, " lws=%zu", lws[0]);
        for (cl_uint i = 1; i < dims; i++)
            p += snprintf(sizes + p, sizeof sizes - (size_t)p, "x%zu", lws[i]);
    }
    return cd_err_set(err, CD_EDEVICE,
                      "%s: clEnqueueNDRangeKernel(%s, %s) failed: %s (%d)",
                      what ? what : "enqueue", kname, sizes,
                      cd_cl_strerror(rc), (int)rc);
}
