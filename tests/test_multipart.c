/* test_multipart.c — multipart/form-data parsing (daemon/server/multipart.c):
 * curl -F style forms, quoted boundaries, several fields, binary content
 * holding CR/LF and partial boundaries, and hostile bodies (truncated, no
 * closing delimiter, huge header, no boundary, 10000 empty parts). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/multipart.h"

#define CT "multipart/form-data; boundary=------------------------abc123"
#define B "--------------------------abc123"

static int find(const char *ct, const void *body, size_t len, const char *field,
                const void **d, size_t *n, char *type, struct cd_err *err)
{
    return cd_multipart_find_file(ct, body, len, field, d, n, type, 64, err);
}

START_TEST(curl_style)
{
    static const char body[] =
        B "\r\n"
        "Content-Disposition: form-data; name=\"image\"; filename=\"cat.png\"\r\n"
        "Content-Type: image/png\r\n"
        "\r\n"
        "\x89PNG\r\n\x1a\n..."
        "\r\n" B "--\r\n";
    const void *d;
    size_t n;
    char type[64];
    struct cd_err err = {0};
    ck_assert_int_eq(find(CT, body, sizeof body - 1, NULL, &d, &n, type, &err), CD_OK);
    ck_assert_uint_eq(n, 11);
    ck_assert(memcmp(d, "\x89PNG\r\n\x1a\n...", 11) == 0);
    ck_assert_str_eq(type, "image/png");
    ck_assert_int_eq(find(CT, body, sizeof body - 1, "image", &d, &n, type, &err), CD_OK);
    ck_assert_uint_eq(n, 11);
    ck_assert_int_eq(find(CT, body, sizeof body - 1, "file", &d, &n, type, &err), CD_EFORMAT);
    ck_assert(strstr(err.msg, "no part named") != NULL);
    /* part_type may be NULL */
    ck_assert_int_eq(cd_multipart_find_file(CT, body, sizeof body - 1, NULL, &d, &n,
                                            NULL, 0, &err), CD_OK);
}
END_TEST

START_TEST(quoted_boundary_and_fields)
{
    static const char body[] =
        "preamble to ignore\r\n"
        "--a b:c\r\n"
        "content-disposition: form-data; name=top\r\n"
        "\r\n"
        "5\r\n"
        "--a b:c\r\n"
        "Content-Disposition: form-data; name=\"note\"\r\n"
        "\r\n"
        "\r\n"
        "--a b:c  \r\n"   /* transport padding */
        "Content-Disposition: form-data; name=\"f\\\"x\"; filename=\"a;b.jpg\"\r\n"
        "Content-Type:  image/jpeg \r\n"
        "\r\n"
        "JPEGDATA"
        "\r\n--a b:c--";
    const char *ct = "Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b:c\"";
    const void *d;
    size_t n;
    char type[64];
    struct cd_err err = {0};
    ck_assert_int_eq(find(ct, body, sizeof body - 1, NULL, &d, &n, type, &err), CD_OK);
    ck_assert_uint_eq(n, 8);
    ck_assert(memcmp(d, "JPEGDATA", 8) == 0);
    ck_assert_str_eq(type, "image/jpeg");
    ck_assert_int_eq(find(ct, body, sizeof body - 1, "top", &d, &n, type, &err), CD_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert(memcmp(d, "5", 1) == 0);
    ck_assert_str_eq(type, "");
    ck_assert_int_eq(find(ct, body, sizeof body - 1, "note", &d, &n, type, &err), CD_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(find(ct, body, sizeof body - 1, "f\"x", &d, &n, type, &err), CD_OK);
    ck_assert_uint_eq(n, 8);
}
END_TEST

START_TEST(no_filename_picks_first)
{
    static const char body[] =
        "--xyz\r\n"
        "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
        "first\r\n"
        "--xyz\r\n"
        "Content-Disposition: form-data; name=\"b\"\r\n\r\n"
        "second\r\n"
        "--xyz--\r\n";
    const void *d;
    size_t n;
    char type[64];
    struct cd_err err = {0};
    ck_assert_int_eq(find("multipart/form-data;boundary=xyz", body, sizeof body - 1,
                          NULL, &d, &n, type, &err), CD_OK);
    ck_assert_uint_eq(n, 5);
    ck_assert(memcmp(d, "first", 5) == 0);
    ck_assert_int_eq(find("multipart/form-data;boundary=xyz", body, sizeof body - 1,
                          "b", &d, &n, type, &err), CD_OK);
    ck_assert(n == 6 && memcmp(d, "second", 6) == 0);
}
END_TEST

START_TEST(binary_content)
{
    /* Content full of CR, LF, "--", and prefixes of the delimiter. */
    const char *bd = "BOUNDARY42";
    char ct[128];
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", bd);
    unsigned char content[4096];
    unsigned seed = 7;
    for (size_t i = 0; i < sizeof content; i++) {
        seed = seed * 1103515245u + 12345u;
        content[i] = (unsigned char)(seed >> 16);
    }
    static const char *traps[] = {"\r\n", "\r\n--", "\r\n--BOUND", "\r\n--BOUNDARY4",
                                  "--BOUNDARY42", "\n--BOUNDARY42", "\r--BOUNDARY42"};
    size_t at = 100;
    for (size_t t = 0; t < sizeof traps / sizeof traps[0]; t++, at += 300)
        memcpy(content + at, traps[t], strlen(traps[t]));
    memcpy(content + sizeof content - 4, "\r\n\r\n", 4);   /* ends in CRLFs */
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "--%s\r\nContent-Disposition: form-data; name=\"file\"; "
                      "filename=\"x.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                      bd);
    char tail[64];
    int tl = snprintf(tail, sizeof tail, "\r\n--%s--\r\n", bd);
    size_t len = (size_t)hl + sizeof content + (size_t)tl;
    char *body = malloc(len);
    memcpy(body, head, (size_t)hl);
    memcpy(body + hl, content, sizeof content);
    memcpy(body + hl + sizeof content, tail, (size_t)tl);
    const void *d;
    size_t n;
    char type[64];
    struct cd_err err = {0};
    ck_assert_int_eq(find(ct, body, len, "file", &d, &n, type, &err), CD_OK);
    ck_assert_uint_eq(n, sizeof content);
    ck_assert(d == body + hl);
    ck_assert(memcmp(d, content, n) == 0);
    ck_assert_str_eq(type, "application/octet-stream");
    /* Every truncation fails cleanly (no closing delimiter). */
    for (size_t cut = 0; cut < len - (size_t)tl + 4; cut += 97)
        ck_assert_int_eq(find(ct, body, cut, "file", &d, &n, type, &err), CD_EFORMAT);
    free(body);
}
END_TEST

START_TEST(hostile)
{
    const void *d = (void *)1;
    size_t n = 1;
    char type[64];
    struct cd_err err = {0};
    static const char ok[] = "--b\r\nContent-Disposition: form-data; name=\"f\"; "
                             "filename=\"x\"\r\n\r\nDATA\r\n--b--";
    /* Content types without a usable boundary. */
    static const char *bad_ct[] = {
        "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=\"b", "image/png; boundary=b", "", "multipart/form-data; =b",
        "multipart/form-data; boundary=0123456789012345678901234567890123456789"
        "0123456789012345678901234567890", /* 71 bytes */
    };
    for (size_t i = 0; i < sizeof bad_ct / sizeof bad_ct[0]; i++) {
        err.msg[0] = '\0';
        ck_assert_int_eq(find(bad_ct[i], ok, sizeof ok - 1, NULL, &d, &n, type, &err), CD_EFORMAT);
        ck_assert(err.msg[0] != '\0');
        ck_assert(d == NULL && n == 0);
    }
    ck_assert_int_eq(find("multipart/form-data; boundary=b", ok, sizeof ok - 1, NULL, &d,
                          &n, type, &err), CD_OK);
    ck_assert(n == 4);
    /* 70-byte boundary is fine. */
    ck_assert_int_eq(find("multipart/form-data; boundary=01234567890123456789012345678901234"
                          "56789012345678901234567890123456789", "--x", 3, NULL, &d, &n, type,
                          &err), CD_EFORMAT);
    ck_assert(strstr(err.msg, "boundary not found") != NULL);
    /* Empty body, no delimiter, only a close delimiter, no parts. */
    ck_assert_int_eq(find("multipart/form-data; boundary=b", "", 0, NULL, &d, &n, type, &err),
                     CD_EFORMAT);
    ck_assert_int_eq(find("multipart/form-data; boundary=b", NULL, 0, NULL, &d, &n, type, &err),
                     CD_EFORMAT);
    ck_assert_int_eq(find("multipart/form-data; boundary=b", "--b--", 5, NULL, &d, &n, type,
                          &err), CD_EFORMAT);
    ck_assert(strstr(err.msg, "no parts") != NULL);
    /* No closing delimiter. */
    static const char open[] = "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nDATA";
    ck_assert_int_eq(find("multipart/form-data; boundary=b", open, sizeof open - 1, NULL, &d,
                          &n, type, &err), CD_EFORMAT);
    ck_assert(strstr(err.msg, "closing delimiter") != NULL);
    /* Garbage after a delimiter. */
    ck_assert_int_eq(find("multipart/form-data; boundary=b", "--bX\r\n\r\nx\r\n--b--", 17,
                          NULL, &d, &n, type, &err), CD_EFORMAT);
    /* Header line without ':' and malformed disposition. */
    static const char nocolon[] = "--b\r\nfoo\r\n\r\nx\r\n--b--";
    ck_assert_int_eq(find("multipart/form-data; boundary=b", nocolon, sizeof nocolon - 1, NULL,
                          &d, &n, type, &err), CD_EFORMAT);
    static const char baddisp[] = "--b\r\nContent-Disposition: form-data; name=\"x\r\n\r\nx\r\n--b--";
    ck_assert_int_eq(find("multipart/form-data; boundary=b", baddisp, sizeof baddisp - 1, NULL,
                          &d, &n, type, &err), CD_EFORMAT);
    /* Huge header: refused once it passes the limit, whether or not it ends. */
    size_t hlen = 100000;
    char *huge = malloc(hlen + 64);
    size_t o = (size_t)sprintf(huge, "--b\r\nX-Long: ");
    memset(huge + o, 'a', hlen - o);
    o = hlen;
    o += (size_t)sprintf(huge + o, "\r\n\r\nx\r\n--b--");
    ck_assert_int_eq(find("multipart/form-data; boundary=b", huge, o, NULL, &d, &n, type, &err),
                     CD_EFORMAT);
    ck_assert(strstr(err.msg, "header longer") != NULL);
    ck_assert_int_eq(find("multipart/form-data; boundary=b", huge, hlen, NULL, &d, &n, type,
                          &err), CD_EFORMAT);
    free(huge);
    /* Truncated inside the header. */
    ck_assert_int_eq(find("multipart/form-data; boundary=b", ok, 20, NULL, &d, &n, type, &err),
                     CD_EFORMAT);
    ck_assert(strstr(err.msg, "truncated") != NULL);
    /* NULL arguments. */
    ck_assert_int_eq(cd_multipart_find_file(NULL, ok, 3, NULL, &d, &n, type, 64, &err), CD_EINVAL);
    ck_assert_int_eq(cd_multipart_find_file("multipart/form-data; boundary=b", ok, 3, NULL,
                                            NULL, &n, type, 64, NULL), CD_EINVAL);
}
END_TEST

START_TEST(many_empty_parts)
{
    /* 10000 empty parts, then the file: linear time, found at the end. */
    const int parts = 10000;
    const char *one = "--b\r\n\r\n\r\n";
    size_t ol = strlen(one);
    static const char last[] = "--b\r\nContent-Disposition: form-data; name=\"f\"; "
                               "filename=\"x\"\r\n\r\nDATA\r\n--b--\r\n";
    size_t len = (size_t)parts * ol + sizeof last - 1;
    char *body = malloc(len);
    for (int i = 0; i < parts; i++)
        memcpy(body + (size_t)i * ol, one, ol);
    memcpy(body + (size_t)parts * ol, last, sizeof last - 1);
    const void *d;
    size_t n;
    char type[64];
    struct cd_err err = {0};
    ck_assert_int_eq(find("multipart/form-data; boundary=b", body, len, NULL, &d, &n, type, &err),
                     CD_OK);
    ck_assert(n == 4 && memcmp(d, "DATA", 4) == 0);
    ck_assert_int_eq(find("multipart/form-data; boundary=b", body, len, "g", &d, &n, type, &err),
                     CD_EFORMAT);
    /* Without the last part: the first (empty, unnamed) part is the answer. */
    ck_assert_int_eq(find("multipart/form-data; boundary=b", body, (size_t)parts * ol, NULL, &d,
                          &n, type, &err), CD_EFORMAT); /* no close delimiter */
    memcpy(body + (size_t)(parts - 1) * ol, "--b--\r\n\r\n", ol);
    ck_assert_int_eq(find("multipart/form-data; boundary=b", body, (size_t)parts * ol, NULL, &d,
                          &n, type, &err), CD_OK);
    ck_assert_uint_eq(n, 0);
    free(body);
}
END_TEST

static Suite *multipart_suite(void)
{
    Suite *s = suite_create("multipart");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, curl_style);
    tcase_add_test(tc, quoted_boundary_and_fields);
    tcase_add_test(tc, no_filename_picks_first);
    tcase_add_test(tc, binary_content);
    tcase_add_test(tc, hostile);
    tcase_add_test(tc, many_empty_parts);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(multipart_suite)
