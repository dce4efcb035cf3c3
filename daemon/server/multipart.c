/* multipart.c — RFC 7578 multipart/form-data: takes the boundary from the
 * Content-Type, walks the parts (CRLF--boundary delimiters), reads each
 * part's Content-Disposition and Content-Type, and points at the wanted
 * part's bytes. It never copies or writes the body and never reads past len;
 * it knows nothing of HTTP connections. */
#include "server/multipart.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define BOUNDARY_MAX 70
#define NAME_CAP 256

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

/* Next "; name=value" parameter of a header value s[0..n) starting at *i.
 * The value is unescaped into val (quoted-string) and NUL-terminated;
 * *vtrunc is set when it did not fit. Returns 1 (a parameter), 0 (end),
 * -1 (malformed). */
static int next_param(const char *s, size_t n, size_t *i, const char **name,
                      size_t *name_len, char *val, size_t vcap, size_t *vlen,
                      bool *vtrunc)
{
    size_t p = *i, o = 0;
    *vtrunc = false;
    while (p < n && is_ws(s[p]))
        p++;
    if (p == n)
        return 0;
    if (s[p] != ';')
        return -1;
    p++;
    while (p < n && is_ws(s[p]))
        p++;
    if (p == n) /* a trailing ';' is tolerated */
        return 0;
    size_t ns = p;
    while (p < n && s[p] != '=' && s[p] != ';' && !is_ws(s[p]))
        p++;
    *name = s + ns;
    *name_len = p - ns;
    while (p < n && is_ws(s[p]))
        p++;
    if (*name_len == 0 || p == n || s[p] != '=')
        return -1;
    p++;
    while (p < n && is_ws(s[p]))
        p++;
    if (p < n && s[p] == '"') {
        p++;
        for (;;) {
            if (p == n)
                return -1;           /* unterminated quoted string */
            char c = s[p++];
            if (c == '"')
                break;
            if (c == '\\') {
                if (p == n)
                    return -1;
                c = s[p++];
            }
            if (o + 1 < vcap)
                val[o++] = c;
            else
                *vtrunc = true;
        }
    } else {
        while (p < n && s[p] != ';' && !is_ws(s[p])) {
            if (o + 1 < vcap)
                val[o++] = s[p];
            else
                *vtrunc = true;
            p++;
        }
    }
    if (vcap)
        val[o] = '\0';
    *vlen = o;
    *i = p;
    return 1;
}

static bool name_is(const char *name, size_t len, const char *want)
{
    return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

static int parse_boundary(const char *ct, char *b, size_t *blen,
                          struct cd_err *err)
{
    size_t n = strlen(ct), i = 0;
    while (i < n && is_ws(ct[i]))
        i++;
    if (n - i < 10 || strncasecmp(ct + i, "multipart/", 10) != 0)
        return cd_err_set(err, CD_EFORMAT, "multipart: content type is not multipart/*");
    while (i < n && ct[i] != ';')
        i++;
    bool found = false;
    for (;;) {
        const char *name;
        size_t name_len, vlen;
        bool trunc;
        char val[BOUNDARY_MAX + 2];
        int rc = next_param(ct, n, &i, &name, &name_len, val, sizeof val,
                            &vlen, &trunc);
        if (rc == 0)
            break;
        if (rc < 0)
            return cd_err_set(err, CD_EFORMAT, "multipart: malformed content type parameters");
        if (!name_is(name, name_len, "boundary"))
            continue;
        if (trunc || vlen > BOUNDARY_MAX || vlen == 0)
            return cd_err_set(err, CD_EFORMAT,
                              "multipart: boundary must be 1 to %d bytes", BOUNDARY_MAX);
        for (size_t k = 0; k < vlen; k++)
            if ((unsigned char)val[k] < 0x20 || val[k] == 0x7f)
                return cd_err_set(err, CD_EFORMAT, "multipart: boundary holds control bytes");
        memcpy(b, val, vlen);
        *blen = vlen;
        found = true;
    }
    if (!found)
        return cd_err_set(err, CD_EFORMAT, "multipart: no boundary parameter in the content type");
    return CD_OK;
}

struct part_info {
    bool has_name, name_trunc, has_filename;
    char name[NAME_CAP];
    const char *ctype;
    size_t ctype_len;
};

static int parse_disposition(const char *v, size_t n, struct part_info *pi)
{
    size_t i = 0;
    while (i < n && v[i] != ';')    /* skip the disposition type */
        i++;
    for (;;) {
        const char *name;
        size_t name_len, vlen;
        bool trunc;
        char val[NAME_CAP];
        int rc = next_param(v, n, &i, &name, &name_len, val, sizeof val,
                            &vlen, &trunc);
        if (rc <= 0)
            return rc;
        if (name_is(name, name_len, "name")) {
            memcpy(pi->name, val, vlen + 1);
            pi->has_name = true;
            pi->name_trunc = trunc || strlen(val) != vlen;   /* NUL inside */
        } else if (name_is(name, name_len, "filename") ||
                   name_is(name, name_len, "filename*")) {
            pi->has_filename = true;
        }
    }
}

/* Header block h[0..n): lines separated by CRLF, without the blank line. */
static int parse_headers(const char *h, size_t n, struct part_info *pi,
                         struct cd_err *err)
{
    size_t p = 0;
    while (p < n) {
        const char *eol = memmem(h + p, n - p, "\r\n", 2);
        size_t le = eol ? (size_t)(eol - h) : n;
        const char *line = h + p;
        size_t ll = le - p;
        p = eol ? le + 2 : n;
        if (ll == 0 || is_ws(line[0]))   /* obsolete folding: ignored */
            continue;
        const char *colon = memchr(line, ':', ll);
        if (!colon)
            return cd_err_set(err, CD_EFORMAT, "multipart: part header line without ':'");
        size_t nl = (size_t)(colon - line), vs = nl + 1, ve = ll;
        while (vs < ve && is_ws(line[vs]))
            vs++;
        while (ve > vs && is_ws(line[ve - 1]))
            ve--;
        if (name_is(line, nl, "content-disposition")) {
            if (parse_disposition(line + vs, ve - vs, pi) < 0)
                return cd_err_set(err, CD_EFORMAT, "multipart: malformed Content-Disposition");
        } else if (name_is(line, nl, "content-type")) {
            pi->ctype = line + vs;
            pi->ctype_len = ve - vs;
        }
    }
    return CD_OK;
}

int cd_multipart_find_file(const char *content_type, const void *body,
                           size_t len, const char *field, const void **data,
                           size_t *data_len, char *part_type,
                           size_t part_type_len, struct cd_err *err)
{
    if (!content_type || (!body && len) || !data || !data_len)
        return cd_err_set(err, CD_EINVAL, "multipart: NULL argument");
    *data = NULL;
    *data_len = 0;
    if (part_type && part_type_len)
        part_type[0] = '\0';

    char delim[4 + BOUNDARY_MAX] = "\r\n--";
    size_t blen = 0;
    int rc = parse_boundary(content_type, delim + 4, &blen, err);
    if (rc != CD_OK)
        return rc;
    const size_t dlen = 4 + blen;
    const char *s = body;

    /* The first delimiter may open the body (no leading CRLF) or follow a
     * preamble. pos is the offset just past a delimiter. */
    size_t pos;
    if (len >= dlen - 2 && memcmp(s, delim + 2, dlen - 2) == 0) {
        pos = dlen - 2;
    } else {
        const char *f = len ? memmem(s, len, delim, dlen) : NULL;
        if (!f)
            return cd_err_set(err, CD_EFORMAT, "multipart: boundary not found in the body");
        pos = (size_t)(f - s) + dlen;
    }

    bool have_first = false;
    struct part_info first = {0};
    size_t first_cs = 0, first_len = 0;
    for (;;) {
        if (len - pos >= 2 && s[pos] == '-' && s[pos + 1] == '-')
            break;                          /* close delimiter */
        while (pos < len && is_ws(s[pos]))  /* transport padding */
            pos++;
        if (len - pos < 2)
            return cd_err_set(err, CD_EFORMAT, "multipart: body truncated (no closing delimiter)");
        if (s[pos] != '\r' || s[pos + 1] != '\n')
            return cd_err_set(err, CD_EFORMAT, "multipart: malformed delimiter line");
        pos += 2;

        size_t hs = pos, he, cs;
        if (len - pos >= 2 && s[pos] == '\r' && s[pos + 1] == '\n') {
            he = pos;
            cs = pos + 2;
        } else {
            size_t scan = len - pos;
            if (scan > CD_MULTIPART_MAX_HEADER + 4)
                scan = CD_MULTIPART_MAX_HEADER + 4;
            const char *e = memmem(s + pos, scan, "\r\n\r\n", 4);
            if (!e || (size_t)(e - (s + pos)) > CD_MULTIPART_MAX_HEADER) {
                if (len - pos > CD_MULTIPART_MAX_HEADER)
                    return cd_err_set(err, CD_EFORMAT,
                                      "multipart: part header longer than %d bytes",
                                      CD_MULTIPART_MAX_HEADER);
                return cd_err_set(err, CD_EFORMAT, "multipart: body truncated in a part header");
            }
            he = (size_t)(e - s);
            cs = he + 4;
        }
        struct part_info pi = {0};
        rc = parse_headers(s + hs, he - hs, &pi, err);
        if (rc != CD_OK)
            return rc;

        const char *f = memmem(s + cs, len - cs, delim, dlen);
        if (!f)
            return cd_err_set(err, CD_EFORMAT, "multipart: body truncated (no closing delimiter)");
        size_t ce = (size_t)(f - s);
        pos = ce + dlen;

        bool match = field ? (pi.has_name && !pi.name_trunc && strcmp(pi.name, field) == 0)
                           : pi.has_filename;
        if (match) {
            first = pi;
            first_cs = cs;
            first_len = ce - cs;
            have_first = true;
            break;
        }
        if (!field && !have_first) {
            first = pi;
            first_cs = cs;
            first_len = ce - cs;
            have_first = true;
        }
    }
    if (!have_first || (field && !(first.has_name && strcmp(first.name, field) == 0))) {
        if (field)
            return cd_err_set(err, CD_EFORMAT, "multipart: no part named \"%.64s\"", field);
        return cd_err_set(err, CD_EFORMAT, "multipart: the form holds no parts");
    }
    *data = s + first_cs;
    *data_len = first_len;
    if (part_type && part_type_len && first.ctype) {
        size_t n = first.ctype_len < part_type_len - 1 ? first.ctype_len : part_type_len - 1;
        memcpy(part_type, first.ctype, n);
        part_type[n] = '\0';
    }
    return CD_OK;
}
