/* test_auth.c — auth.c: the keys file (comments, blank lines, CRLF, spaces;
 * refused when group/world-accessible, unreadable, empty, with short, long
 * or odd keys, too many keys, never quoting a key in a message), the Bearer
 * check (scheme, spacing, prefixes and extensions of a key, several keys),
 * and that a check takes the same time however much of a key matched. */
#include "check_main.h"

#include "server/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[64], path[128];

static void setup(void)
{
    strcpy(dir, "/tmp/cd_auth_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/keys", dir);
}

static void teardown(void)
{
    unlink(path);
    rmdir(dir);
}

static void write_keys(const char *text, mode_t mode)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(path, mode), 0);
}

#define KEY1 "k1-0123456789abcdef"
#define KEY2 "Zm9vYmFyYmF6cXV4MTIzNA=="

START_TEST(no_file_means_open)
{
    struct cd_auth *a = NULL;
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_auth_init(&a, "", &err), CD_OK);
    ck_assert_int_eq(cd_auth_n_keys(a), 0);
    ck_assert_int_eq(cd_auth_check(a, NULL), CD_AUTH_OK);
    ck_assert_int_eq(cd_auth_check(a, "Bearer whatever"), CD_AUTH_OK);
    cd_auth_free(a);
    cd_auth_free(NULL);
    ck_assert_int_eq(cd_auth_n_keys(NULL), 0);
}
END_TEST

START_TEST(reads_keys_and_checks_bearer)
{
    write_keys("# convd keys\n\n   " KEY1 "  \r\n\t# another\n" KEY2 "\n", 0600);
    struct cd_auth *a = NULL;
    struct cd_err err = { 0 };
    ck_assert_msg(cd_auth_init(&a, path, &err) == CD_OK, "%s", err.msg);
    ck_assert_int_eq(cd_auth_n_keys(a), 2);
    ck_assert_int_eq(cd_auth_check(a, "Bearer " KEY1), CD_AUTH_OK);
    ck_assert_int_eq(cd_auth_check(a, "bearer   " KEY2 "  "), CD_AUTH_OK);
    ck_assert_int_eq(cd_auth_check(a, "BEARER\t" KEY1), CD_AUTH_OK);
    ck_assert_int_eq(cd_auth_check(a, NULL), CD_AUTH_MISSING);
    ck_assert_int_eq(cd_auth_check(a, ""), CD_AUTH_MISSING);
    ck_assert_int_eq(cd_auth_check(a, "Basic " KEY1), CD_AUTH_MISSING);
    ck_assert_int_eq(cd_auth_check(a, "Bearer"), CD_AUTH_MISSING);
    ck_assert_int_eq(cd_auth_check(a, "Bearer" KEY1), CD_AUTH_MISSING);
    ck_assert_int_eq(cd_auth_check(a, KEY1), CD_AUTH_MISSING);
    ck_assert_int_eq(cd_auth_check(a, "Bearer "), CD_AUTH_INVALID);
    ck_assert_int_eq(cd_auth_check(a, "Bearer k1-0123456789abcde"), CD_AUTH_INVALID);
    ck_assert_int_eq(cd_auth_check(a, "Bearer " KEY1 "0"), CD_AUTH_INVALID);
    ck_assert_int_eq(cd_auth_check(a, "Bearer K1-0123456789abcdef"), CD_AUTH_INVALID);
    ck_assert_int_eq(cd_auth_check(a, "Bearer " KEY1 " " KEY2), CD_AUTH_INVALID);
    /* longer than any key: compared, refused */
    char big[600] = "Bearer ";
    memset(big + 7, 'k', 500);
    big[507] = '\0';
    ck_assert_int_eq(cd_auth_check(a, big), CD_AUTH_INVALID);
    /* exactly a key followed by NULs in the pad is not the key plus more */
    ck_assert_int_eq(cd_auth_check(a, "Bearer " KEY2 "="), CD_AUTH_INVALID);
    cd_auth_free(a);
}
END_TEST

/* The file is refused with a message that names it and never holds a key. */
static void refused(const char *text, mode_t mode, int want, const char *needle)
{
    write_keys(text, mode);
    struct cd_auth *a = (struct cd_auth *)1;
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_auth_init(&a, path, &err), want);
    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(err.msg, needle), "'%s' lacks '%s'", err.msg, needle);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
    ck_assert_ptr_null(strstr(err.msg, "0123456789abcdef"));
}

START_TEST(refuses_bad_files)
{
    refused(KEY1 "\n", 0644, CD_EINVAL, "chmod 600");
    refused(KEY1 "\n", 0640, CD_EINVAL, "group or others");
    refused(KEY1 "\n", 0602, CD_EINVAL, "group or others");
    refused("# nothing\n\n", 0600, CD_EINVAL, "no key");
    refused("", 0600, CD_EINVAL, "no key");
    refused("short-0123456\n", 0600, CD_EINVAL, "16..256");
    refused(KEY1 "\nk2 0123456789abcdef\n", 0600, CD_EINVAL, "line 2");
    refused("k1-0123456789abcdef\"\n", 0600, CD_EINVAL, "line 1");
    refused("k1=0123456789abcdef\n", 0600, CD_EINVAL, "line 1");
    char *many = malloc(70 * 32);
    many[0] = '\0';
    for (int i = 0; i < 70; i++)
        sprintf(many + strlen(many), "key-%02d-0123456789abcdef\n", i);
    refused(many, 0600, CD_ERANGE, "more than 64");
    free(many);
    char *huge = malloc(300);
    memset(huge, 'a', 299);
    huge[299] = '\0';
    refused(huge, 0600, CD_EINVAL, "has 299");
    free(huge);

    struct cd_auth *a = NULL;
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_auth_init(&a, "/nonexistent/keys", &err), CD_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot open"));
    ck_assert_int_eq(cd_auth_init(&a, dir, &err), CD_EINVAL);   /* a directory */
    ck_assert_ptr_nonnull(strstr(err.msg, "regular file"));
    if (geteuid() != 0) {   /* root reads anything */
        write_keys(KEY1 "\n", 0000);
        ck_assert_int_eq(cd_auth_init(&a, path, &err), CD_EIO);
    }
}
END_TEST

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Fastest of many rounds of n checks: the noise of a shared machine only
 * ever adds time, so minima compare the work itself. */
static double min_time(const struct cd_auth *a, const char *hdr, int rounds, int n)
{
    double best = 1e9;
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        for (int i = 0; i < n; i++)
            if (cd_auth_check(a, hdr) == CD_AUTH_OK)
                ck_abort_msg("unexpected match");
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    return best;
}

START_TEST(time_does_not_depend_on_the_match)
{
    /* One 255-character key; tokens that differ from it at the first byte
     * or only at the last, and its 254-byte prefix (equal content, other
     * length). An early exit on the first differing byte, or on a length
     * mismatch, makes one of them several times faster than the others;
     * the tokens are of (nearly) one length so that copying them costs the
     * same, also under valgrind or sanitizers. */
    char key[256], file[300];
    for (int i = 0; i < 255; i++)
        key[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
    key[255] = '\0';
    snprintf(file, sizeof file, "%s\n", key);
    write_keys(file, 0600);
    struct cd_auth *a = NULL;
    struct cd_err err = { 0 };
    ck_assert_msg(cd_auth_init(&a, path, &err) == CD_OK, "%s", err.msg);
    char first[300], last[300], prefix[300];
    snprintf(first, sizeof first, "Bearer %s", key);
    snprintf(last, sizeof last, "Bearer %s", key);
    snprintf(prefix, sizeof prefix, "Bearer %.254s", key);
    first[7] = 'X';
    last[7 + 254] = 'X';
    const char *tok[3] = { first, last, prefix };
    double best[3] = { 1e9, 1e9, 1e9 };
    for (int k = 0; k < 3; k++)     /* interleaved against drifting load */
        for (int j = 0; j < 3; j++) {
            double t = min_time(a, tok[j], 15, 2000);
            if (t < best[j])
                best[j] = t;
        }
    cd_auth_free(a);
    double r1 = best[1] / best[0], r2 = best[2] / best[1];
    ck_assert_msg(r1 > 0.7 && r1 < 1.4, "last-byte/first-byte mismatch time ratio %.2f", r1);
    ck_assert_msg(r2 > 0.7 && r2 < 1.4, "short/full token time ratio %.2f", r2);
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("auth");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, no_file_means_open);
    tcase_add_test(tc, reads_keys_and_checks_bearer);
    tcase_add_test(tc, refuses_bad_files);
    tcase_add_test(tc, time_does_not_depend_on_the_match);
    suite_add_tcase(s, tc);
    return s;
}

CD_TEST_MAIN(auth_suite)
