/* api_visual.h — the request side shared by the picture endpoints (segment,
 * cam): checks the model takes images, reads ?format / Accept and ?overlay,
 * finds and decodes the one input image into a new call's input, keeping
 * the decoded image only when an overlay will need it. Answers bad requests
 * itself; never waits for the device. */
#ifndef CD_API_VISUAL_H
#define CD_API_VISUAL_H

#include "media/image.h"
#include "server/api_job.h"

#include <stdbool.h>

/* What a picture endpoint learned from its request. */
struct cd_api_visual {
    int W, H;             /* the input image */
    bool png, overlay;    /* overlay implies png */
    struct cd_image img;  /* kept for the overlay only */
};

/* 0 when the model of s takes images; else answers (400 not an image model,
 * 500 input size mismatch) and returns -1. */
int cd_api_visual_check_model(struct cd_http_req *r, const struct cd_served *s);

/* Reads the answer format and overlay flag, finds the image in the body and
 * preprocesses it into a new one-sample call on s (arrival t0) returned in
 * *call. Returns 0, or -1 after answering (nothing allocated then). */
int cd_api_visual_read(struct cd_http_req *r, struct cd_server *srv,
                       struct cd_served *s, double t0, struct cd_api_visual *v,
                       struct cd_api_call **call);

#endif
