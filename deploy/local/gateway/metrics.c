/* metrics.c - request counters and the latency histogram of the front. */
#include "metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Upper bounds in seconds; +Inf is implied. */
static const double metrics_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1,     2.5,  5,     10,   30};
#define METRICS_NB (sizeof(metrics_bounds) / sizeof(metrics_bounds[0]))

struct metrics_count {
	char *function;
	unsigned status;
	unsigned long long n;
};

struct metrics_hist {
	char *function;
	unsigned long long buckets[METRICS_NB]; /* non-cumulative */
	unsigned long long count;
	double sum;
};

struct metrics {
	pthread_mutex_t lock;
	struct metrics_count *counts;
	size_t n_counts, cap_counts;
	struct metrics_hist *hists;
	size_t n_hists, cap_hists;
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_counts; i++)
		free(m->counts[i].function);
	for (size_t i = 0; i < m->n_hists; i++)
		free(m->hists[i].function);
	free(m->counts);
	free(m->hists);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* Grows *items (of size sz) to hold one more; -1 when out of memory. */
static int grow(void **items, size_t *cap, size_t n, size_t sz)
{
	void *p;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*items, ncap * sz);
	if (p == NULL)
		return -1;
	*items = p;
	*cap = ncap;
	return 0;
}

static struct metrics_count *count_for(struct metrics *m, const char *fn, unsigned status)
{
	struct metrics_count *c;
	char *name;

	for (size_t i = 0; i < m->n_counts; i++) {
		c = &m->counts[i];
		if (c->status == status && strcmp(c->function, fn) == 0)
			return c;
	}
	if (grow((void **)&m->counts, &m->cap_counts, m->n_counts, sizeof(*m->counts)) != 0)
		return NULL;
	name = strdup(fn);
	if (name == NULL)
		return NULL;
	c = &m->counts[m->n_counts++];
	memset(c, 0, sizeof(*c));
	c->function = name;
	c->status = status;
	return c;
}

static struct metrics_hist *hist_for(struct metrics *m, const char *fn)
{
	struct metrics_hist *h;
	char *name;

	for (size_t i = 0; i < m->n_hists; i++) {
		if (strcmp(m->hists[i].function, fn) == 0)
			return &m->hists[i];
	}
	if (grow((void **)&m->hists, &m->cap_hists, m->n_hists, sizeof(*m->hists)) != 0)
		return NULL;
	name = strdup(fn);
	if (name == NULL)
		return NULL;
	h = &m->hists[m->n_hists++];
	memset(h, 0, sizeof(*h));
	h->function = name;
	return h;
}

void metrics_observe(struct metrics *m, const char *function, unsigned status, double seconds)
{
	struct metrics_count *c;
	struct metrics_hist *h;

	if (m == NULL)
		return;
	if (function == NULL)
		function = "";
	if (!(seconds >= 0))
		seconds = 0;
	pthread_mutex_lock(&m->lock);
	c = count_for(m, function, status);
	if (c != NULL)
		c->n++;
	h = hist_for(m, function);
	if (h != NULL) {
		for (size_t i = 0; i < METRICS_NB; i++) {
			if (seconds <= metrics_bounds[i]) {
				h->buckets[i]++;
				break;
			}
		}
		h->count++;
		h->sum += seconds;
	}
	pthread_mutex_unlock(&m->lock);
}

/* A label value with \, " and newlines escaped (exposition format rules). */
static void put_label(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

void metrics_write(struct metrics *m, FILE *out)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	fputs("# HELP gw_requests_total Requests answered by the gateway, by function and "
	      "status.\n# TYPE gw_requests_total counter\n",
	      out);
	for (size_t i = 0; i < m->n_counts; i++) {
		fputs("gw_requests_total{function=\"", out);
		put_label(out, m->counts[i].function);
		fprintf(out, "\",status=\"%u\"} %llu\n", m->counts[i].status, m->counts[i].n);
	}
	fputs("# HELP gw_request_duration_seconds Time from request line to response, by "
	      "function.\n# TYPE gw_request_duration_seconds histogram\n",
	      out);
	for (size_t i = 0; i < m->n_hists; i++) {
		const struct metrics_hist *h = &m->hists[i];
		unsigned long long cum = 0;

		for (size_t b = 0; b < METRICS_NB; b++) {
			cum += h->buckets[b];
			fputs("gw_request_duration_seconds_bucket{function=\"", out);
			put_label(out, h->function);
			fprintf(out, "\",le=\"%g\"} %llu\n", metrics_bounds[b], cum);
		}
		fputs("gw_request_duration_seconds_bucket{function=\"", out);
		put_label(out, h->function);
		fprintf(out, "\",le=\"+Inf\"} %llu\n", h->count);
		fputs("gw_request_duration_seconds_sum{function=\"", out);
		put_label(out, h->function);
		fprintf(out, "\"} %.6f\n", h->sum);
		fputs("gw_request_duration_seconds_count{function=\"", out);
		put_label(out, h->function);
		fprintf(out, "\"} %llu\n", h->count);
	}
	pthread_mutex_unlock(&m->lock);
}
