/* fuzz_jpeg.c — libFuzzer harness for the JPEG decoder (media/jpeg_decode.c):
 * any byte string must decode or fail with a message, never crash, leak or
 * read out of bounds. Both channel counts are exercised; the pixel budget is
 * small so that huge declared sizes are refused before allocation. */
#include "media/image.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cd_err err = {0};
    struct cd_image img;
    int want = (size > 0 && (data[size - 1] & 1)) ? 1 : 3;
    if (cd_image_decode_jpeg(data, size, want, 4u << 20, &img, &err) == 0)
        cd_image_free(&img);
    return 0;
}
