/* tasks.h — one background thread that runs slow server tasks (model loads
 * and unloads asked over HTTP) one at a time, in arrival order, so that no
 * HTTP thread waits for a model build. The queue is bounded. A task either
 * runs or, when the server stops first, is cancelled; exactly one of its two
 * functions is called, from the task thread or from cd_tasks_stop. */
#ifndef CD_TASKS_H
#define CD_TASKS_H

#include "engine/err.h"

#define CD_TASKS_MAX_QUEUED 16

struct cd_tasks;

int cd_tasks_init(struct cd_tasks **out, struct cd_err *err);
/* Queues run(arg); cancel(arg) instead if the server stops before it ran.
 * CD_EBUSY when CD_TASKS_MAX_QUEUED wait already, CD_ESHUTDOWN after stop:
 * then neither function is called and the caller keeps arg. */
int cd_tasks_submit(struct cd_tasks *t, void (*run)(void *arg),
                    void (*cancel)(void *arg), void *arg, struct cd_err *err);
/* Refuses new tasks, cancels the queued ones, waits for the running one and
 * joins the thread. NULL ok; idempotent. */
void cd_tasks_stop(struct cd_tasks *t);
void cd_tasks_free(struct cd_tasks *t);   /* stops first; NULL ok */

#endif
