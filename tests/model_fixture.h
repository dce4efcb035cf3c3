/* model_fixture.h — header-only helpers of the server-layer tests that serve
 * copies of models/tiny-demo from a mkdtemp folder: copying a file, writing
 * a text file, making a model folder (optionally with its own model.json)
 * and removing a tree. Include after check_main.h; test code only. */
#ifndef CD_TEST_MODEL_FIXTURE_H
#define CD_TEST_MODEL_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURE_SRC "models/tiny-demo"

static void fixture_copy_file(const char *src, const char *dst)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    ck_assert_msg(in && out, "copy %s -> %s", src, dst);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
}

static void fixture_write_text(const char *path, const char *text)
{
    unlink(path);   /* never write through a link into the repository */
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* root/name as a copy of tiny-demo; model.json replaced by `json` if given. */
static void fixture_make_model(const char *root, const char *name,
                               const char *json)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", root, name);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/%s/weights.safetensors", root, name);
    fixture_copy_file(FIXTURE_SRC "/weights.safetensors", p);
    snprintf(p, sizeof p, "%s/%s/model.json", root, name);
    if (json)
        fixture_write_text(p, json);
    else
        fixture_copy_file(FIXTURE_SRC "/model.json", p);
}

static int fixture_rm_one(const char *path, const struct stat *st, int flag,
                          struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(path);
}

static void fixture_rm_tree(const char *path)
{
    nftw(path, fixture_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

#endif
