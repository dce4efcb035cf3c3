/* fault.c — the CONVD_FAULT_INJECT test hook (fault.h): parses the variable
 * once, then answers "must this point fail now?". It never fails anything
 * itself and never logs; the callers turn a firing into their usual error
 * path. Unset, it costs one atomic load per check. */
#include "fault.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAULT_PATH_MAX 1024

static const char *const point_names[CD_FAULT_POINT_COUNT] = {
    [CD_FAULT_BUILD] = "build",
    [CD_FAULT_ENQUEUE] = "enqueue",
    [CD_FAULT_CACHE_WRITE] = "cache_write",
};

struct fault_rule {
    bool on;                    /* the point is named in the variable */
    char path[FAULT_PATH_MAX];  /* one-shot trigger file; "" = always */
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_bool any;         /* some rule is on */
static struct fault_rule rules[CD_FAULT_POINT_COUNT];

static void parse(void)
{
    const char *env = getenv("CONVD_FAULT_INJECT");
    if (!env || !*env)
        return;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", env);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq)
            *eq = '\0';
        for (int p = 0; p < CD_FAULT_POINT_COUNT; p++) {
            if (strcmp(tok, point_names[p]) != 0)
                continue;
            rules[p].on = true;
            snprintf(rules[p].path, sizeof rules[p].path, "%s", eq ? eq + 1 : "");
            atomic_store(&any, true);
        }
    }
}

bool cd_fault_fire(enum cd_fault_point p)
{
    pthread_once(&once, parse);
    if (!atomic_load_explicit(&any, memory_order_relaxed) || p < 0 ||
        p >= CD_FAULT_POINT_COUNT || !rules[p].on)
        return false;
    if (!rules[p].path[0])
        return true;
    /* The trigger may hold a count N: the Nth check from now fails (so a
     * fault can land in the middle of a batch). Checks of one point come
     * from one thread at a time (the device worker, a model load). */
    FILE *f = fopen(rules[p].path, "r+");
    if (!f)
        return false;
    long n = 1;
    if (fscanf(f, "%ld", &n) != 1 || n < 1)
        n = 1;
    if (n > 1) {
        rewind(f);
        fprintf(f, "%ld\n", n - 1);
        fclose(f);
        return false;
    }
    fclose(f);
    /* unlink succeeds for exactly one caller per trigger file */
    return unlink(rules[p].path) == 0;
}
