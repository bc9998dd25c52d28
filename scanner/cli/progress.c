/* progress.c - the progress bar (progress.h). */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Columns of the bar itself, between the brackets. */
#define BAR_WIDTH 24

static double elapsed(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

static void fmt_bytes(double b, char *out, size_t n)
{
    if (b >= 1e9)
        snprintf(out, n, "%.2f GB", b / 1e9);
    else
        snprintf(out, n, "%.1f MB", b / 1e6);
}

/* Draws "[=====>    ] 3/7 layers  45.2 MB  12.3 MB/s  ETA 0:04", cut to
 * the terminal's width so it never wraps. Caller holds the lock. */
static void draw(cli_progress *p)
{
    double t = elapsed(&p->t0);
    char bar[BAR_WIDTH + 1], count[64], size[32], rate[32], eta[32] = "";
    memset(bar, ' ', BAR_WIDTH);
    bar[BAR_WIDTH] = 0;
    if (p->total) {
        unsigned long d = p->done < p->total ? p->done : p->total;
        size_t fill = (size_t)(BAR_WIDTH * d / p->total);
        memset(bar, '=', fill);
        if (fill < BAR_WIDTH)
            bar[fill] = '>';
        snprintf(count, sizeof(count), "%lu/%lu layers", d, p->total);
        if (d > 0 && d < p->total) {
            double left = t / (double)d * (double)(p->total - d);
            snprintf(eta, sizeof(eta), "  ETA %lu:%02lu",
                     (unsigned long)left / 60, (unsigned long)left % 60);
        }
    } else {
        /* Total unknown (a stream): a block that moves with each layer. */
        size_t at = p->done % (BAR_WIDTH - 2);
        memcpy(bar + at, "<=>", 3);
        snprintf(count, sizeof(count), "%lu layer%s", p->done,
                 p->done == 1 ? "" : "s");
    }
    fmt_bytes((double)p->bytes, size, sizeof(size));
    fmt_bytes(t > 0.05 ? (double)p->bytes / t : 0, rate, sizeof(rate));
    char line[256], tgt[48] = "";
    if (p->targets > 1)
        snprintf(tgt, sizeof(tgt), "target %lu/%lu ", p->target, p->targets);
    snprintf(line, sizeof(line), "%s[%s] %s  %s  %s/s%s", tgt, bar, count, size,
             rate, eta);
    int w = term_width() - 1;
    fprintf(stderr, "\r\033[K%.*s", w, line);
    fflush(stderr);
    p->drawn = true;
}

static void on_planned(void *ctx, size_t n)
{
    cli_progress *p = ctx;
    pthread_mutex_lock(&p->lock);
    p->total += n;
    if (p->on)
        draw(p);
    pthread_mutex_unlock(&p->lock);
}

static void on_done(void *ctx, const char *digest, uint64_t bytes, int cached)
{
    (void)digest;
    cli_progress *p = ctx;
    pthread_mutex_lock(&p->lock);
    p->done++;
    if (!cached) {
        p->bytes += bytes;
        p->bytes_all += bytes;
    }
    if (p->on)
        draw(p);
    pthread_mutex_unlock(&p->lock);
}

void cli_progress_init(cli_progress *p, bool on)
{
    memset(p, 0, sizeof(*p));
    p->on = on;
    pthread_mutex_init(&p->lock, NULL);
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
}

void cli_progress_destroy(cli_progress *p)
{
    pthread_mutex_destroy(&p->lock);
}

void cli_progress_attach(cli_progress *p, stw_scan_options *so)
{
    stw_scan_options_set_progress(so, on_planned, on_done, p);
}

void cli_progress_clear(cli_progress *p)
{
    pthread_mutex_lock(&p->lock);
    if (p->on && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->drawn = false;
    p->done = p->total = 0;
    p->bytes = 0;
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    pthread_mutex_unlock(&p->lock);
}
