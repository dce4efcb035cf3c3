/* metrics.h — process metrics as atomics, exported in the Prometheus text
 * exposition format (checked by promtool). Per-model series are keyed by
 * model name (registered once at load). Recording never allocates and never
 * blocks for long. */
#ifndef CD_METRICS_H
#define CD_METRICS_H

#include <stddef.h>

#define CD_METRICS_MAX_MODELS 64

void cd_metrics_init(void);
/* Returns a slot for the model (same slot for the same name); -1 if full. */
int cd_metrics_model(const char *name);
/* One answered request. model_slot -1 for requests not tied to a model;
 * endpoint is a fixed label ("classify", "infer", "metadata", "health", ...). */
void cd_metrics_request(int model_slot, const char *endpoint, int status,
                        double seconds, size_t bytes_in, size_t bytes_out);
void cd_metrics_queue_wait(int model_slot, double seconds);
void cd_metrics_batch(int model_slot, int batch_size, double inference_seconds);
void cd_metrics_queue_depth(int model_slot, int delta);
void cd_metrics_models(int loaded, int failed);
/* Renders everything; returns an owned NUL-terminated buffer (free()). */
char *cd_metrics_render(size_t *len);

#endif
