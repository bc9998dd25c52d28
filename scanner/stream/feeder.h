/* feeder.h - hands file contents from the thread that inflates and walks a
 * layer's tar to a content-scanning thread, through a bounded queue.
 *
 * Inflate is the floor of a scan and runs on one core; everything else that
 * touches content (the matcher's prefilter and confirmation) moves to a
 * second core so it vanishes under inflate. The producer packs records
 * (file begin, data, file end) into a fixed set of slots; when every slot is
 * full it waits (back-pressure), so memory is SLOTS x SLOT_SIZE whatever the
 * layer holds. The consumer owns the matcher for the feeder's lifetime. */
#ifndef STW_FEEDER_H
#define STW_FEEDER_H

#include "finding.h"
#include "matcher.h"

#include <stdint.h>

typedef struct stw_feeder stw_feeder;

/* Starts the consumer thread. m is used only by that thread until
 * stw_feeder_finish returns; findings are added to out (also only by that
 * thread until then). Both borrowed. STW_ERR_NOMEM, or STW_ERR_IO when no
 * thread could be had: the caller can match on its own thread instead. */
stw_status stw_feeder_create(stw_matcher *m, stw_finding_list *out,
                             stw_feeder **f, stw_error *err);

/* Producer side, in file order: begin (path copied), data any number of
 * times (bytes copied), end. A failure of the consumer is reported by
 * stw_feeder_finish, not here, so the producer's loop stays simple. */
stw_status stw_feeder_begin(stw_feeder *f, const char *path, uint64_t size);
stw_status stw_feeder_data(stw_feeder *f, const void *p, size_t n);
stw_status stw_feeder_end(stw_feeder *f);

/* Flushes, waits for the consumer to finish every queued file and joins
 * it. Returns the consumer's first error (err filled). */
stw_status stw_feeder_finish(stw_feeder *f, stw_error *err);

/* Stops the thread if still running (discarding queued work) and frees. */
void stw_feeder_destroy(stw_feeder *f);

#endif
