/* err.h — status codes and the error record every fallible function fills.
 * A function that can fail returns an int status (CD_OK on success) and,
 * when given a non-NULL struct cd_err *, writes a one-line message into it.
 * Nothing here allocates; nothing here aborts. */
#ifndef CD_ERR_H
#define CD_ERR_H

enum cd_status {
    CD_OK = 0,
    CD_EINVAL,       /* bad argument, bad attribute, bad shape */
    CD_ENOMEM,       /* allocation failed or size would overflow */
    CD_EIO,          /* open/read/mmap failed */
    CD_EFORMAT,      /* malformed file: JSON, safetensors, image, npy */
    CD_EUNSUPPORTED, /* valid but not supported (unknown op, dtype) */
    CD_EDEVICE,      /* OpenCL call failed */
    CD_ERANGE,       /* value out of allowed range */
    CD_EBUSY,        /* queue full: try again later */
    CD_ETIMEDOUT,    /* deadline passed before the work ran */
    CD_ESHUTDOWN,    /* the server is stopping */
    CD_STATUS_COUNT
};

struct cd_err {
    int code;
    char msg[512];
};

/* Formats the message into e (if non-NULL) and returns code. */
int cd_err_set(struct cd_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes the existing message with more context ("node conv1: ..."). */
int cd_err_wrap(struct cd_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "CD_EINVAL" etc.; never NULL. */
const char *cd_status_name(int code);

#endif
