/* wav.c — RIFF/WAVE parsing (chunk walk, fmt validation) and sample
 * conversion to a mono float waveform. Must not read outside the buffer,
 * trust any size before checking it, allocate before the duration check,
 * or abort on any input. Assumes nothing about host endianness. */
#include "wav.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { FMT_PCM = 1, FMT_FLOAT = 3, FMT_EXTENSIBLE = 0xFFFE };

/* The 14 bytes after the 2-byte code in a KSDATAFORMAT_SUBTYPE_* GUID. */
static const uint8_t guid_tail[14] = { 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
                                       0x80, 0x00, 0x00, 0xAA, 0x00, 0x38,
                                       0x9B, 0x71 };

struct fmt {
    int code;          /* FMT_PCM or FMT_FLOAT after resolving extensible */
    int channels, rate, bits, block_align;
};

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static int parse_fmt(const uint8_t *p, size_t size, struct fmt *f,
                     struct cd_err *err)
{
    if (size < 16)
        return cd_err_set(err, CD_EFORMAT, "wav: fmt chunk too short (%zu "
                          "bytes, need 16)", size);
    int code = (int)rd16(p);
    uint32_t ch = rd16(p + 2), rate = rd32(p + 4);
    f->block_align = (int)rd16(p + 12);
    f->bits = (int)rd16(p + 14);
    if (code == FMT_EXTENSIBLE) {
        if (size < 40 || rd16(p + 16) < 22)
            return cd_err_set(err, CD_EFORMAT, "wav: WAVE_FORMAT_EXTENSIBLE "
                              "fmt chunk too short (%zu bytes, need 40)", size);
        code = (int)rd16(p + 24);
        if (memcmp(p + 26, guid_tail, sizeof guid_tail) ||
            (code != FMT_PCM && code != FMT_FLOAT))
            return cd_err_set(err, CD_EFORMAT, "wav: extensible sub-format "
                              "is neither PCM nor IEEE float");
    }
    if (code != FMT_PCM && code != FMT_FLOAT)
        return cd_err_set(err, CD_EFORMAT, "wav: format code 0x%04x not "
                          "supported (PCM 1, IEEE float 3, extensible)", code);
    if (ch == 0 || ch > CD_WAV_MAX_CHANNELS)
        return cd_err_set(err, CD_EFORMAT, "wav: %u channels (expected "
                          "1..%d)", ch, CD_WAV_MAX_CHANNELS);
    if (rate == 0 || rate > CD_WAV_MAX_RATE)
        return cd_err_set(err, CD_EFORMAT, "wav: sample rate %u Hz (expected "
                          "1..%d)", rate, CD_WAV_MAX_RATE);
    if ((code == FMT_PCM && f->bits != 8 && f->bits != 16 && f->bits != 24 &&
         f->bits != 32) ||
        (code == FMT_FLOAT && f->bits != 32 && f->bits != 64))
        return cd_err_set(err, CD_EFORMAT, "wav: %d-bit %s samples not "
                          "supported", f->bits,
                          code == FMT_PCM ? "PCM" : "float");
    if (f->block_align != (int)ch * f->bits / 8)
        return cd_err_set(err, CD_EFORMAT, "wav: block align %d does not "
                          "match %u channels of %d bits", f->block_align, ch,
                          f->bits);
    f->code = code;
    f->channels = (int)ch;
    f->rate = (int)rate;
    return CD_OK;
}

/* One sample at p as a float (not yet clamped). */
static double sample(const uint8_t *p, const struct fmt *f)
{
    if (f->code == FMT_FLOAT) {
        if (f->bits == 32) {
            uint32_t u = rd32(p);
            float v;
            memcpy(&v, &u, sizeof v);
            return v;
        }
        uint64_t u = (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
        double v;
        memcpy(&v, &u, sizeof v);
        return v;
    }
    switch (f->bits) {
    case 8: return ((int)p[0] - 128) / 128.0;
    case 16: return (int16_t)rd16(p) / 32768.0;
    case 24: {
        int32_t v = (int32_t)((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 |
                              (uint32_t)p[2] << 24) / 256;
        return v / 8388608.0;
    }
    default: return (int32_t)rd32(p) / 2147483648.0;
    }
}

static int convert(const uint8_t *data, const struct fmt *f, size_t n_frames,
                   float *out, struct cd_err *err)
{
    size_t bps = (size_t)f->bits / 8;
    for (size_t i = 0; i < n_frames; i++) {
        const uint8_t *fr = data + i * (size_t)f->block_align;
        double acc = 0.0;
        for (int c = 0; c < f->channels; c++) {
            double v = sample(fr + (size_t)c * bps, f);
            if (!isfinite(v))
                return cd_err_set(err, CD_EFORMAT, "wav: frame %zu channel "
                                  "%d is not a finite number", i, c);
            acc += v < -1.0 ? -1.0 : v > 1.0 ? 1.0 : v;
        }
        out[i] = (float)(acc / f->channels);
    }
    return CD_OK;
}

int cd_wav_decode(const void *buf, size_t len, double max_seconds,
                  struct cd_audio *out, struct cd_err *err)
{
    const uint8_t *b = buf;
    memset(out, 0, sizeof *out);
    if (!b || !(max_seconds > 0.0))
        return cd_err_set(err, CD_EINVAL, "wav: no buffer or max_seconds "
                          "not > 0");
    if (len < 12 || memcmp(b, "RIFF", 4) || memcmp(b + 8, "WAVE", 4))
        return cd_err_set(err, CD_EFORMAT, "wav: not a RIFF/WAVE file");
    uint32_t riff = rd32(b + 4);
    if (riff < 4 || riff > len - 8)
        return cd_err_set(err, CD_EFORMAT, "wav: RIFF size %u does not fit "
                          "the %zu-byte buffer", riff, len);
    size_t end = 8 + (size_t)riff, pos = 12;
    const uint8_t *fmt_p = NULL, *data_p = NULL;
    size_t fmt_size = 0, data_size = 0, data_have = 0;
    bool truncated = false;
    while (end - pos >= 8) {
        const uint8_t *id = b + pos;
        size_t size = rd32(b + pos + 4), have = end - pos - 8;
        bool is_fmt = !memcmp(id, "fmt ", 4), is_data = !memcmp(id, "data", 4);
        if ((is_fmt && fmt_p) || (is_data && data_p))
            return cd_err_set(err, CD_EFORMAT, "wav: duplicate \"%.4s\" "
                              "chunk", (const char *)id);
        if (size > have && !is_data)
            return cd_err_set(err, CD_EFORMAT, "wav: chunk \"%.4s\" claims "
                              "%zu bytes but only %zu remain", (const char *)id,
                              size, have);
        if (is_fmt) {
            fmt_p = id + 8;
            fmt_size = size;
        } else if (is_data) {
            data_p = id + 8;
            data_size = size;
            data_have = size > have ? have : size;
            if (size > have) {
                truncated = true;
                break;
            }
        }
        pos += 8 + size;
        if (size & 1) {
            if (pos >= end)
                break;      /* a missing pad byte at the very end: tolerated */
            pos++;
        }
    }
    if (!fmt_p)
        return cd_err_set(err, CD_EFORMAT, "wav: no \"fmt \" chunk%s",
                          truncated ? " before the data chunk runs past the "
                          "end" : "");
    if (!data_p)
        return cd_err_set(err, CD_EFORMAT, "wav: no \"data\" chunk");
    struct fmt f = {0};
    int rc = parse_fmt(fmt_p, fmt_size, &f, err);
    if (rc)
        return rc;
    size_t n_frames = data_size / (size_t)f.block_align;
    double seconds = (double)n_frames / f.rate;
    if (seconds > max_seconds)
        return cd_err_set(err, CD_EFORMAT, "wav: duration %.1f s exceeds the "
                          "%.1f s limit", seconds, max_seconds);
    if (truncated)
        return cd_err_set(err, CD_EFORMAT, "wav: data chunk claims %zu bytes "
                          "but only %zu are present (truncated)", data_size,
                          data_have);
    if (n_frames == 0)
        return cd_err_set(err, CD_EFORMAT, "wav: data chunk holds no complete "
                          "frame");
    float *s = malloc(n_frames * sizeof *s);
    if (!s)
        return cd_err_set(err, CD_ENOMEM, "wav: out of memory for %zu frames",
                          n_frames);
    if ((rc = convert(data_p, &f, n_frames, s, err))) {
        free(s);
        return rc;
    }
    out->sample_rate = f.rate;
    out->channels = f.channels;
    out->n_frames = n_frames;
    out->samples = s;
    return CD_OK;
}

void cd_audio_free(struct cd_audio *a)
{
    if (!a)
        return;
    free(a->samples);
    memset(a, 0, sizeof *a);
}
