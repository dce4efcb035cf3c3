/* test_wav.c — WAV decoding (daemon/media/wav.c): every sample format and
 * its scaling, channel mix-down, chunk order and odd-size padding, partial
 * trailing frames, and hostile files (tests/fixtures/audio/hostile_*.wav
 * from tools/make_audio_golden.py, plus a truncation and bit-flip fuzz loop):
 * each refused with a message, never a crash or a leak. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/wav.h"

#define FIX "tests/fixtures/audio/"

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void put16(uint8_t *p, unsigned v) { p[0] = v & 0xFF; p[1] = (v >> 8) & 0xFF; }
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (v >> (8 * i)) & 0xFF;
}

/* A WAV image: an optional junk chunk (odd size) first, then fmt and data in
 * the given order. code 0xFFFE writes an extensible fmt of sub-format sub. */
static size_t make_wav(uint8_t *b, int code, int sub, int ch, int rate,
                       int bits, const void *data, size_t dlen, int data_first,
                       int junk)
{
    uint8_t fmt[40] = {0};
    size_t flen = code == 0xFFFE ? 40 : 16, pos = 12;
    put16(fmt, (unsigned)code);
    put16(fmt + 2, (unsigned)ch);
    put32(fmt + 4, (uint32_t)rate);
    put32(fmt + 8, (uint32_t)(rate * ch * bits / 8));
    put16(fmt + 12, (unsigned)(ch * bits / 8));
    put16(fmt + 14, (unsigned)bits);
    if (code == 0xFFFE) {
        static const uint8_t tail[14] = { 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA,
                                          0, 0x38, 0x9B, 0x71 };
        put16(fmt + 16, 22);
        put16(fmt + 18, (unsigned)bits);
        put16(fmt + 24, (unsigned)sub);
        memcpy(fmt + 26, tail, 14);
    }
    memcpy(b, "RIFF\0\0\0\0WAVE", 12);
    if (junk) {
        memcpy(b + pos, "junk", 4);
        put32(b + pos + 4, 3);
        memcpy(b + pos + 8, "abc\0", 4);
        pos += 12;
    }
    for (int k = 0; k < 2; k++) {
        if ((k == 0) == (data_first != 0)) {
            memcpy(b + pos, "data", 4);
            put32(b + pos + 4, (uint32_t)dlen);
            memcpy(b + pos + 8, data, dlen);
            pos += 8 + dlen + (dlen & 1);
            if (dlen & 1)
                b[pos - 1] = 0;
        } else {
            memcpy(b + pos, "fmt ", 4);
            put32(b + pos + 4, (uint32_t)flen);
            memcpy(b + pos + 8, fmt, flen);
            pos += 8 + flen;
        }
    }
    put32(b + 4, (uint32_t)(pos - 8));
    return pos;
}

START_TEST(formats)
{
    uint8_t b[512];
    struct cd_audio a;
    struct cd_err err = {0};
    uint8_t u8[] = { 0, 128, 255, 192 };
    size_t n = make_wav(b, 1, 0, 1, 8000, 8, u8, 4, 0, 1);
    ck_assert_int_eq(cd_wav_decode(b, n, 10, &a, &err), CD_OK);
    ck_assert_int_eq(a.sample_rate, 8000);
    ck_assert_uint_eq(a.n_frames, 4);
    ck_assert_float_eq(a.samples[0], -1.0f);
    ck_assert_float_eq(a.samples[1], 0.0f);
    ck_assert_float_eq(a.samples[2], 127.0f / 128.0f);
    ck_assert_float_eq(a.samples[3], 0.5f);
    cd_audio_free(&a);
    /* 16-bit stereo, data before fmt: (-32768 + 16384) / 2 etc. */
    int16_t s16[] = { -32768, 16384, 32767, 32767, 100, -100 };
    n = make_wav(b, 1, 0, 2, 44100, 16, s16, sizeof s16, 1, 0);
    ck_assert_int_eq(cd_wav_decode(b, n, 10, &a, &err), CD_OK);
    ck_assert_int_eq(a.channels, 2);
    ck_assert_uint_eq(a.n_frames, 3);
    ck_assert_float_eq(a.samples[0], -0.25f);
    ck_assert_float_eq(a.samples[1], 32767.0f / 32768.0f);
    ck_assert_float_eq(a.samples[2], 0.0f);
    cd_audio_free(&a);
    /* 24-bit: -2^23, 2^22, -1 */
    uint8_t s24[] = { 0, 0, 0x80, 0, 0, 0x40, 0xFF, 0xFF, 0xFF };
    n = make_wav(b, 1, 0, 1, 16000, 24, s24, 9, 0, 1);   /* odd data size */
    ck_assert_int_eq(cd_wav_decode(b, n, 10, &a, &err), CD_OK);
    ck_assert_uint_eq(a.n_frames, 3);
    ck_assert_float_eq(a.samples[0], -1.0f);
    ck_assert_float_eq(a.samples[1], 0.5f);
    ck_assert_float_eq(a.samples[2], -1.0f / 8388608.0f);
    cd_audio_free(&a);
    int32_t s32[] = { INT32_MIN, 1 << 30 };
    n = make_wav(b, 0xFFFE, 1, 1, 16000, 32, s32, sizeof s32, 0, 0);
    ck_assert_int_eq(cd_wav_decode(b, n, 10, &a, &err), CD_OK);
    ck_assert_float_eq(a.samples[0], -1.0f);
    ck_assert_float_eq(a.samples[1], 0.5f);
    cd_audio_free(&a);
    float f32[] = { 0.25f, -2.0f, 3.0f };                /* clamped to [-1, 1] */
    n = make_wav(b, 0xFFFE, 3, 1, 16000, 32, f32, sizeof f32, 1, 1);
    ck_assert_int_eq(cd_wav_decode(b, n, 10, &a, &err), CD_OK);
    ck_assert_float_eq(a.samples[0], 0.25f);
    ck_assert_float_eq(a.samples[1], -1.0f);
    ck_assert_float_eq(a.samples[2], 1.0f);
    cd_audio_free(&a);
    double f64[] = { -0.125, 0.75 };
    n = make_wav(b, 3, 0, 2, 16000, 64, f64, sizeof f64, 0, 0);
    ck_assert_int_eq(cd_wav_decode(b, n, 10, &a, &err), CD_OK);
    ck_assert_uint_eq(a.n_frames, 1);
    ck_assert_float_eq(a.samples[0], 0.3125f);
    cd_audio_free(&a);
    cd_audio_free(&a);                                   /* idempotent */
    cd_audio_free(NULL);
}
END_TEST

START_TEST(partial_frame_and_limits)
{
    uint8_t b[256];
    struct cd_audio a;
    struct cd_err err = {0};
    int16_t s[] = { 1000, 2000, 3000 };                  /* stereo: 1.5 frames */
    size_t n = make_wav(b, 1, 0, 2, 16000, 16, s, sizeof s, 0, 0);
    ck_assert_int_eq(cd_wav_decode(b, n, 10, &a, &err), CD_OK);
    ck_assert_uint_eq(a.n_frames, 1);
    cd_audio_free(&a);
    /* 4 frames at 8 Hz = 0.5 s: over a 0.4 s limit, under 0.5 s */
    int16_t m[4] = {0};
    n = make_wav(b, 1, 0, 1, 8, 16, m, sizeof m, 0, 0);
    ck_assert_int_eq(cd_wav_decode(b, n, 0.4, &a, &err), CD_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "duration"));
    ck_assert_ptr_null(a.samples);
    ck_assert_int_eq(cd_wav_decode(b, n, 0.5, &a, &err), CD_OK);
    cd_audio_free(&a);
    ck_assert_int_eq(cd_wav_decode(b, n, 0.0, &a, &err), CD_EINVAL);
    ck_assert_int_eq(cd_wav_decode(NULL, 0, 1.0, &a, &err), CD_EINVAL);
    /* non-finite float */
    float nan_s[] = { 0.0f, __builtin_nanf("") };
    n = make_wav(b, 3, 0, 1, 16000, 32, nan_s, sizeof nan_s, 0, 0);
    ck_assert_int_eq(cd_wav_decode(b, n, 1, &a, &err), CD_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "finite"));
    /* duplicate fmt: a second fmt chunk appended */
    n = make_wav(b, 1, 0, 1, 16000, 16, m, sizeof m, 1, 0);
    memcpy(b + n, b + 12 + 8 + sizeof m, 24);
    put32(b + 4, (uint32_t)(n + 24 - 8));
    ck_assert_int_eq(cd_wav_decode(b, n + 24, 1, &a, &err), CD_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "duplicate"));
}
END_TEST

START_TEST(hostile_files)
{
    static const char *const cases[][2] = {
        { "lying_chunk", "claims" }, { "lying_fmt", "claims" },
        { "lying_riff", "RIFF size" }, { "zero_channels", "channels" },
        { "zero_rate", "rate" }, { "absurd_rate", "rate" },
        { "bad_format", "format code" }, { "bad_bits", "not supported" },
        { "block_align", "block align" }, { "no_fmt", "no \"fmt" },
        { "no_data", "no \"data" }, { "empty_data", "no complete frame" },
        { "ten_hours", "duration 36000.0 s" }, { "truncated", "truncated" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[128];
        snprintf(path, sizeof path, FIX "hostile_%s.wav", cases[i][0]);
        size_t len;
        uint8_t *b = read_file(path, &len);
        struct cd_audio a = { .samples = (float *)1 };
        struct cd_err err = {0};
        int rc = cd_wav_decode(b, len, 30.0, &a, &err);
        ck_assert_msg(rc == CD_EFORMAT, "%s: rc %d", cases[i][0], rc);
        ck_assert_msg(strstr(err.msg, cases[i][1]), "%s: message \"%s\"",
                      cases[i][0], err.msg);
        ck_assert_ptr_null(a.samples);
        free(b);
    }
}
END_TEST

/* Every prefix of a real file, then seeded random byte flips in its header
 * region: decode or refuse, never crash (valgrind: never read outside). */
START_TEST(fuzz)
{
    size_t len;
    uint8_t *src = read_file(FIX "word.wav", &len);
    size_t n = len < 600 ? len : 600;   /* header + a little data */
    uint8_t *b = malloc(n);
    memcpy(b, src, n);
    put32(b + 4, (uint32_t)(n - 8));
    /* data chunk size is past the LIST and fmt chunks: fix it to fit */
    for (size_t p = 12; p + 8 <= n;) {
        uint32_t sz = (uint32_t)b[p + 4] | (uint32_t)b[p + 5] << 8 |
                      (uint32_t)b[p + 6] << 16 | (uint32_t)b[p + 7] << 24;
        if (!memcmp(b + p, "data", 4)) {
            put32(b + p + 4, (uint32_t)(n - p - 8));
            break;
        }
        p += 8 + sz + (sz & 1);
    }
    struct cd_audio a;
    struct cd_err err = {0};
    ck_assert_int_eq(cd_wav_decode(b, n, 30, &a, &err), CD_OK);
    cd_audio_free(&a);
    int ok = 0, refused = 0;
    for (size_t k = 0; k < n; k++) {
        uint8_t *c = malloc(k ? k : 1);   /* exact size: valgrind sees overreads */
        memcpy(c, b, k);
        if (cd_wav_decode(c, k, 30, &a, &err) == CD_OK) {
            ok++;
            cd_audio_free(&a);
        } else {
            ck_assert(err.msg[0]);
            refused++;
        }
        free(c);
    }
    ck_assert_int_eq(refused, (int)n);   /* the RIFF size never fits a prefix */
    uint32_t seed = 12345;
    uint8_t *c = malloc(n);
    for (int it = 0; it < 3000; it++) {
        memcpy(c, b, n);
        int flips = 1 + it % 4;
        for (int f = 0; f < flips; f++) {
            seed = seed * 1664525u + 1013904223u;
            size_t at = (seed >> 8) % 72;          /* RIFF, LIST, fmt, data hdrs */
            seed = seed * 1664525u + 1013904223u;
            c[at] = (uint8_t)(seed >> 24);
        }
        err.msg[0] = 0;
        if (cd_wav_decode(c, n, 30, &a, &err) == CD_OK) {
            ok++;
            ck_assert_uint_ge(a.n_frames, 1);
            cd_audio_free(&a);
        } else {
            ck_assert(err.msg[0]);
            refused++;
        }
    }
    ck_assert_int_gt(ok, 0);
    ck_assert_int_gt(refused, (int)n);
    free(c);
    free(b);
    free(src);
}
END_TEST

static Suite *wav_suite(void)
{
    Suite *s = suite_create("wav");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, formats);
    tcase_add_test(tc, partial_frame_and_limits);
    tcase_add_test(tc, hostile_files);
    tcase_add_test(tc, fuzz);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(wav_suite)
