/* auth.c — API keys: reads the keys file (refusing one that group or others
 * may read), compares a presented Bearer token with every key in constant
 * time, and gates routes by their access class (public, keyed, admin). It
 * must never log, print or return a key, and never answers for a handler
 * beyond 401/403. */
#include "server/auth.h"

#include "server/http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYS_FILE_MAX (64 * 1024)

struct auth_key {
    unsigned char bytes[CD_AUTH_KEY_MAX];   /* zero-padded */
    size_t len;
};

struct cd_auth {
    int n;
    struct auth_key keys[CD_AUTH_MAX_KEYS];
};

/* RFC 6750 b64token: ALPHA DIGIT - . _ ~ + / then trailing '='. */
static bool token_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~' || c == '+' || c == '/';
}

static bool valid_token(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && token_char((unsigned char)s[i]))
        i++;
    if (i == 0)
        return false;
    while (i < n && s[i] == '=')
        i++;
    return i == n;
}

void cd_auth_free(struct cd_auth *a)
{
    if (!a)
        return;
    explicit_bzero(a, sizeof *a);
    free(a);
}

int cd_auth_n_keys(const struct cd_auth *a)
{
    return a ? a->n : 0;
}

/* Reads the whole file (at most KEYS_FILE_MAX bytes) after checking that it
 * is a regular file only its owner may read or write. buf gets a NUL. */
static int read_keys_file(const char *path, char *buf, size_t *len,
                          struct cd_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cd_err_set(err, CD_EIO, "api_keys_file %s: cannot open: %s",
                          path, strerror(errno));
    struct stat st;
    int rc = CD_OK;
    if (fstat(fd, &st) != 0) {
        rc = cd_err_set(err, CD_EIO, "api_keys_file %s: cannot stat: %s",
                        path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = cd_err_set(err, CD_EINVAL, "api_keys_file %s: not a regular file", path);
    } else if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
        rc = cd_err_set(err, CD_EINVAL,
                        "api_keys_file %s: mode %04o lets group or others read or "
                        "write it; make it readable by the service only (chmod 600)",
                        path, (unsigned)(st.st_mode & 07777));
    } else if (st.st_size > KEYS_FILE_MAX) {
        rc = cd_err_set(err, CD_ERANGE, "api_keys_file %s: larger than %d bytes",
                        path, KEYS_FILE_MAX);
    }
    size_t got = 0;
    while (rc == CD_OK) {
        ssize_t k = read(fd, buf + got, KEYS_FILE_MAX + 1 - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = cd_err_set(err, CD_EIO, "api_keys_file %s: cannot read: %s",
                            path, strerror(errno));
            break;
        }
        if (k == 0)
            break;
        got += (size_t)k;
        if (got > KEYS_FILE_MAX)
            rc = cd_err_set(err, CD_ERANGE, "api_keys_file %s: larger than %d bytes",
                            path, KEYS_FILE_MAX);
    }
    close(fd);
    buf[got < KEYS_FILE_MAX ? got : KEYS_FILE_MAX] = '\0';
    *len = got;
    return rc;
}

/* One key per line; blank lines and lines starting with '#' are skipped,
 * surrounding spaces and tabs (and a CR) are trimmed. */
static int parse_keys(struct cd_auth *a, const char *path, char *text, size_t len,
                      struct cd_err *err)
{
    int line = 0;
    char *p = text, *end = text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        line++;
        char *s = p;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r'))
            t--;
        size_t n = (size_t)(t - s);
        p = nl ? nl + 1 : end;
        if (n == 0 || *s == '#')
            continue;
        if (memchr(s, '\0', n) || !valid_token(s, n))
            return cd_err_set(err, CD_EINVAL, "api_keys_file %s line %d: a key may "
                              "only hold A-Z a-z 0-9 - . _ ~ + / (and trailing '=')",
                              path, line);
        if (n < CD_AUTH_KEY_MIN || n > CD_AUTH_KEY_MAX)
            return cd_err_set(err, CD_EINVAL, "api_keys_file %s line %d: a key must "
                              "be %d..%d characters long (this one has %zu)",
                              path, line, CD_AUTH_KEY_MIN, CD_AUTH_KEY_MAX, n);
        if (a->n == CD_AUTH_MAX_KEYS)
            return cd_err_set(err, CD_ERANGE, "api_keys_file %s: more than %d keys",
                              path, CD_AUTH_MAX_KEYS);
        memcpy(a->keys[a->n].bytes, s, n);
        a->keys[a->n].len = n;
        a->n++;
    }
    if (a->n == 0)
        return cd_err_set(err, CD_EINVAL, "api_keys_file %s: holds no key (one per "
                          "line; '#' starts a comment)", path);
    return CD_OK;
}

int cd_auth_init(struct cd_auth **out, const char *path, struct cd_err *err)
{
    *out = NULL;
    struct cd_auth *a = calloc(1, sizeof *a);
    if (!a)
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    if (!path || !path[0]) {
        *out = a;
        return CD_OK;
    }
    char *text = malloc(KEYS_FILE_MAX + 1);
    size_t len = 0;
    int rc = text ? read_keys_file(path, text, &len, err)
                  : cd_err_set(err, CD_ENOMEM, "out of memory");
    if (rc == CD_OK)
        rc = parse_keys(a, path, text, len, err);
    if (text) {
        explicit_bzero(text, KEYS_FILE_MAX + 1);
        free(text);
    }
    if (rc != CD_OK) {
        cd_auth_free(a);
        return rc;
    }
    *out = a;
    return CD_OK;
}

/* 1 when the padded buffers and lengths are equal, else 0; always touches
 * every byte and never branches on the data. */
static unsigned equal_padded(const unsigned char *x, size_t x_len,
                             const struct auth_key *k)
{
    uint64_t diff = (uint64_t)(x_len ^ k->len);
    for (size_t i = 0; i < CD_AUTH_KEY_MAX; i++)
        diff |= (uint64_t)(x[i] ^ k->bytes[i]);
    /* (diff - 1) & ~diff has its top bit set exactly when diff == 0. */
    return (unsigned)(((diff - 1) & ~diff) >> 63);
}

enum cd_auth_result cd_auth_check(const struct cd_auth *a, const char *header)
{
    if (!a || a->n == 0)
        return CD_AUTH_OK;
    if (!header || strncasecmp(header, "Bearer", 6) != 0 ||
        (header[6] != ' ' && header[6] != '\t'))
        return CD_AUTH_MISSING;
    const char *tok = header + 6;
    while (*tok == ' ' || *tok == '\t')
        tok++;
    size_t n = strlen(tok);
    while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
        n--;
    /* The presented token's own length may show in the copy; the keys'
     * contents and lengths never do. */
    unsigned char pad[CD_AUTH_KEY_MAX];
    memset(pad, 0, sizeof pad);
    size_t used = n < CD_AUTH_KEY_MAX ? n : CD_AUTH_KEY_MAX;
    memcpy(pad, tok, used);
    unsigned match = 0;
    for (int i = 0; i < a->n; i++)
        match |= equal_padded(pad, n, &a->keys[i]);
    explicit_bzero(pad, sizeof pad);
    return match && n > 0 && n <= CD_AUTH_KEY_MAX ? CD_AUTH_OK : CD_AUTH_INVALID;
}

bool cd_auth_gate(const struct cd_auth *a, struct cd_http_req *r,
                  enum cd_route_access access)
{
    bool keyed = cd_auth_n_keys(a) > 0;
    if (access == CD_ACCESS_PUBLIC)
        return true;
    if (access == CD_ACCESS_ADMIN && !keyed) {
        cd_http_respond_error(r, 403, "admin endpoints are disabled: configure "
                              "api_keys_file");
        return false;
    }
    if (!keyed)
        return true;
    enum cd_auth_result res = cd_auth_check(a, cd_http_header(r, "Authorization"));
    if (res == CD_AUTH_OK)
        return true;
    if (res == CD_AUTH_MISSING) {
        cd_http_add_header(r, "WWW-Authenticate", "Bearer realm=\"convd\"");
        cd_http_respond_error(r, 401, "an API key is required: send "
                              "Authorization: Bearer <key>");
    } else {
        cd_http_add_header(r, "WWW-Authenticate",
                           "Bearer realm=\"convd\", error=\"invalid_token\"");
        cd_http_respond_error(r, 401, "the API key is not valid");
    }
    return false;
}
