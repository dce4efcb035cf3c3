/* api_ui.c — GET / and /ui/{file}: the web console's files embedded at build
 * time (tools/embed_ui.sh), only names exactly in that table (else 404; all
 * 404 when ui_enabled is false), with Content-Type, ETag (304), Cache-Control
 * and the security headers (CSP, nosniff, no referrer, no framing). It reads
 * nothing from disk and never touches a model. */
#include "server/api.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The generated file table ($(B)/gen/ui_embed.c). */
extern const size_t cd_ui_file_count;
extern const char *const cd_ui_file_names[];
extern const unsigned char *const cd_ui_file_data[];
extern const size_t cd_ui_file_sizes[];
extern const char *const cd_ui_file_etags[];

/* The page loads its script, style and pictures from this server only;
 * pictures may also be blob:/data: URLs the script makes from answers. */
#define UI_CSP                                                                 \
    "default-src 'self'; script-src 'self'; style-src 'self'; "                \
    "img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; " \
    "object-src 'none'; base-uri 'none'; form-action 'none'; "                 \
    "frame-ancestors 'none'"

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

static const char *content_type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof content_types / sizeof content_types[0]; i++)
        if (strcmp(dot, content_types[i].ext) == 0)
            return content_types[i].type;
    return "application/octet-stream";
}

/* Index of the embedded file called exactly name, or -1. */
static int find_file(const char *name)
{
    for (size_t i = 0; i < cd_ui_file_count; i++)
        if (strcmp(cd_ui_file_names[i], name) == 0)
            return (int)i;
    return -1;
}

/* Does an If-None-Match value ("a", W/"b", *) name etag? */
static bool etag_listed(const char *header, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 1 && p[0] == '*')
            return true;
        const char *tag = p;
        if (n > 2 && tag[0] == 'W' && tag[1] == '/')
            tag += 2, n -= 2;
        if (n == elen && memcmp(tag, etag, n) == 0)
            return true;
        p += end ? (size_t)(end - p) : strlen(p);
    }
    return false;
}

static void add_security_headers(struct cd_http_req *r)
{
    cd_http_add_header(r, "Content-Security-Policy", UI_CSP);
    cd_http_add_header(r, "X-Content-Type-Options", "nosniff");
    cd_http_add_header(r, "Referrer-Policy", "no-referrer");
    cd_http_add_header(r, "X-Frame-Options", "DENY");
    cd_http_add_header(r, "Cross-Origin-Opener-Policy", "same-origin");
}

static void serve(struct cd_http_req *r, struct cd_server *srv, const char *name)
{
    cd_http_set_labels(r, NULL, -1, "ui");
    if (!srv->cfg.ui_enabled) {
        cd_http_respond_error(r, 404, "the web console is disabled (ui_enabled is false)");
        return;
    }
    int i = find_file(name);
    if (i < 0) {
        cd_http_respond_error(r, 404, "no such console file: %.128s", name);
        return;
    }
    add_security_headers(r);
    cd_http_add_header(r, "ETag", cd_ui_file_etags[i]);
    /* Revalidate every time: a new binary may carry new files. */
    cd_http_add_header(r, "Cache-Control", "no-cache");
    const char *inm = cd_http_header(r, "If-None-Match");
    if (inm && etag_listed(inm, cd_ui_file_etags[i])) {
        cd_http_respond(r, 304, content_type_of(name), NULL, 0);
        return;
    }
    size_t n = cd_ui_file_sizes[i];
    char *body = malloc(n ? n : 1);
    if (!body) {
        cd_http_respond_error(r, 500, "out of memory");
        return;
    }
    memcpy(body, cd_ui_file_data[i], n);
    cd_http_respond(r, 200, content_type_of(name), body, n);
}

CD_API_FN(ui_index)
{
    serve(r, srv, "index.html");
}

CD_API_FN(ui_file)
{
    serve(r, srv, params[0]);
}
