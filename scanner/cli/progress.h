/* progress.h - the progress bar on standard error while layers are
 * scanned: layers done/total, bytes inflated, rate and ETA, redrawn in
 * place on one line. Only drawn when enabled (a terminal, not --quiet);
 * always counts the bytes for the summary line. */
#ifndef STW_CLI_PROGRESS_H
#define STW_CLI_PROGRESS_H

#include "stowaway/stowaway.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef struct cli_progress {
    bool on;
    pthread_mutex_t lock; /* the library may call back from two threads */
    struct timespec t0;
    unsigned long done, total; /* layers of the current target; total 0:
                                  not known */
    uint64_t bytes;            /* inflated bytes of the current target */
    uint64_t bytes_all;        /* of every target, for the summary */
    bool drawn;
    /* With several targets (a batch), which one is being scanned: shown
     * as "target 3/50" before the bar when targets > 1. */
    unsigned long target, targets;
} cli_progress;

/* Starts counting; draws only when on. */
void cli_progress_init(cli_progress *p, bool on);
void cli_progress_destroy(cli_progress *p);
/* Hooks the callbacks into a scan's options. */
void cli_progress_attach(cli_progress *p, stw_scan_options *so);
/* Erases the bar (before other output) and resets the per-target counts. */
void cli_progress_clear(cli_progress *p);

#endif
