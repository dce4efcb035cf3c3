/* api_visual.c — request parsing shared by the picture endpoints (segment,
 * cam): image-model check, ?format / Accept / ?overlay, and decoding the one
 * input image into a new call. It answers bad requests itself but must not
 * submit the call nor format any answer. */
#include "server/api_visual.h"

#include "server/image_input.h"

int cd_api_visual_check_model(struct cd_http_req *r, const struct cd_served *s)
{
    size_t numel = cd_image_input_numel(&s->model->pre);
    if (numel == 0 || numel != cd_served_input_numel(s)) {
        cd_http_respond_error(r, numel ? 500 : 400, "model %s does not take images",
                              s->name);
        return -1;
    }
    return 0;
}

int cd_api_visual_read(struct cd_http_req *r, struct cd_server *srv,
                       struct cd_served *s, double t0, struct cd_api_visual *v,
                       struct cd_api_call **call)
{
    struct cd_err err = {0};
    struct cd_api_call *c = NULL;
    *call = NULL;
    if (cd_api_want_png(r, &v->png) != 0) {
        cd_http_respond_error(r, 400, "format must be json or png");
        goto fail;
    }
    if (cd_api_flag(r, "overlay", &v->overlay) != 0) {
        cd_http_respond_error(r, 400, "overlay must be 1, 0, true or false");
        goto fail;
    }
    if (v->overlay)
        v->png = true;
    size_t len = 0, img_len = 0;
    const void *body = cd_http_body(r, &len), *img = NULL;
    int st = cd_image_input_find(cd_http_header(r, "Content-Type"), body, len, "file",
                                 &img, &img_len, &err);
    if (st) {
        cd_http_respond_error(r, st, "%s", err.msg);
        goto fail;
    }
    if (!(c = cd_api_call_new(r, srv, s, 1, NULL, t0))) {
        cd_http_respond_error(r, 500, "out of memory");
        goto fail;
    }
    st = cd_image_input_tensor_keep(img, img_len, &s->model->pre,
                                    srv->cfg.max_image_pixels, c->input, &v->img, &err);
    if (st) {
        cd_http_respond_error(r, st, "%s", err.msg);
        goto fail;
    }
    v->W = v->img.width;
    v->H = v->img.height;
    if (!v->overlay)
        cd_image_free(&v->img);
    *call = c;
    return 0;
fail:
    cd_api_call_free(c);
    return -1;
}
