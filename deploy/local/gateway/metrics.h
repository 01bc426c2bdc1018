/* metrics.h - the front's request counters and latency histogram.
 *
 * gw_requests_total{function,status} and gw_request_duration_seconds
 * {function} in Prometheus text format 0.0.4. Thread-safe; the label set is
 * bounded by the template's functions ("" for requests no function served)
 * and the HTTP statuses the gateway sends.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stdio.h>

struct metrics;

/* Caller frees with metrics_free(); NULL when out of memory. */
struct metrics *metrics_new(void);
/* NULL ok. */
void metrics_free(struct metrics *m);
/* Counts one request of function ("" for none) answered with status after
 * seconds. */
void metrics_observe(struct metrics *m, const char *function, unsigned status, double seconds);
/* Writes both families (HELP, TYPE, samples) to out. */
void metrics_write(struct metrics *m, FILE *out);

#endif
