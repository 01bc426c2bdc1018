/* sched.c - the template's Schedule events (rate() / cron()).
 *
 * One thread keeps the next fire time of every enabled schedule (see
 * schedule.h for the expressions) and, when one is due, enqueues an
 * EventBridge "Scheduled Event" for the function in the durable async queue
 * (or the event's Input, as EventBridge sends it instead), with the dedupe
 * key "sched:<fn>:<event>:<fire epoch>": two gateways, or a restart within
 * the same tick, fire it once. Missed ticks (the gateway was down) are not
 * made up, as on EventBridge.
 *
 * GW_TIME_SCALE runs the schedules' clock faster for tests: from the
 * gateway's start, schedule time = start + elapsed * scale (so with 60,
 * rate(1 minute) fires every second). At scale 1 it is the wall clock.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "crypto.h"
#include "gateway.h"
#include "log.h"
#include "schedule.h"

#define SCHED_MAX_SLEEP_MS 60000

struct sched_entry {
	const char *fn;
	const struct tpl_schedule *ev;
	struct schedule s;
	time_t next; /* schedule time of the next firing; -1 never */
};

struct sched {
	struct asyncq *q;
	double scale;
	double anchor; /* wall clock at start (seconds) */
	struct sched_entry *entries;
	size_t n;
	int stop_pipe[2];
	atomic_bool stopping;
	bool started;
	pthread_t thread;
};

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The schedules' clock. */
static double sched_now(const struct sched *s)
{
	return s->anchor + (wall_now() - s->anchor) * s->scale;
}

long sched_next_delay(const char *expression, long now_epoch)
{
	struct schedule s;
	char err[200];
	time_t next;

	if (schedule_parse(expression, &s, err, sizeof(err)) != 0)
		return -1;
	next = schedule_next(&s, (time_t)now_epoch);
	return next < 0 ? -1 : (long)(next - now_epoch);
}

/* A random (version 4) UUID. */
static void uuid4(char out[37])
{
	unsigned char b[16];

	if (crypto_random(b, sizeof(b)) != 0) {
		uint64_t t = (uint64_t)(wall_now() * 1e6);

		memset(b, 0, sizeof(b));
		memcpy(b, &t, sizeof(t));
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	         b[13], b[14], b[15]);
}

/* The EventBridge event for one firing; caller frees. */
static char *scheduled_event(const struct sched_entry *e, time_t when)
{
	cJSON *root = cJSON_CreateObject(), *res;
	char id[37], ts[32], rule[400];
	struct tm tm;
	char *out = NULL;

	if (root == NULL)
		return NULL;
	uuid4(id);
	gmtime_r(&when, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(rule, sizeof(rule), "arn:aws:events:local:000000000000:rule/%.150s-%.150s", e->fn,
	         e->ev->name);
	cJSON_AddStringToObject(root, "version", "0");
	cJSON_AddStringToObject(root, "id", id);
	cJSON_AddStringToObject(root, "detail-type", "Scheduled Event");
	cJSON_AddStringToObject(root, "source", "aws.events");
	cJSON_AddStringToObject(root, "account", "000000000000");
	cJSON_AddStringToObject(root, "time", ts);
	cJSON_AddStringToObject(root, "region", "local");
	res = cJSON_AddArrayToObject(root, "resources");
	cJSON_AddItemToArray(res, cJSON_CreateString(rule));
	cJSON_AddObjectToObject(root, "detail");
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

static void fire(struct sched *s, const struct sched_entry *e, time_t when)
{
	char key[600];
	char *ev = NULL;
	const char *payload;

	if (snprintf(key, sizeof(key), "sched:%s:%s:%lld", e->fn, e->ev->name, (long long)when) >=
	    (int)sizeof(key)) {
		log_error("sched: %s/%s: names too long", e->fn, e->ev->name);
		return;
	}
	if (e->ev->input != NULL) {
		payload = e->ev->input;
	} else {
		ev = scheduled_event(e, when);
		payload = ev;
	}
	if (payload == NULL || asyncq_enqueue(s->q, e->fn, payload, strlen(payload), key) != 0)
		log_error("sched: cannot enqueue %s/%s for %lld", e->fn, e->ev->name,
		          (long long)when);
	else
		log_debug("sched: %s/%s fired for %lld", e->fn, e->ev->name, (long long)when);
	free(ev);
}

static void *sched_thread(void *arg)
{
	struct sched *s = arg;

	while (!atomic_load(&s->stopping)) {
		double now = sched_now(s), soonest = -1, wait_ms;
		struct pollfd p = {s->stop_pipe[0], POLLIN, 0};

		for (size_t i = 0; i < s->n; i++) {
			struct sched_entry *e = &s->entries[i];

			if (e->next >= 0 && (double)e->next <= now) {
				fire(s, e, e->next);
				/* One firing per wake-up: missed ticks are not made up. */
				e->next = schedule_next(&e->s, (time_t)floor(now));
			}
			if (e->next >= 0 && (soonest < 0 || (double)e->next < soonest))
				soonest = (double)e->next;
		}
		if (soonest < 0)
			break; /* nothing will ever fire again */
		wait_ms = (soonest - sched_now(s)) / s->scale * 1000.0;
		if (wait_ms < 0)
			wait_ms = 0;
		if (wait_ms > SCHED_MAX_SLEEP_MS)
			wait_ms = SCHED_MAX_SLEEP_MS;
		(void)poll(&p, 1, (int)ceil(wait_ms));
	}
	return NULL;
}

struct sched *sched_new(const struct tpl *t, struct asyncq *q, const struct gw_config *cfg)
{
	struct sched *s = calloc(1, sizeof(*s));
	size_t total = 0;
	double now;

	if (s == NULL)
		return NULL;
	s->q = q;
	s->scale = cfg->time_scale > 0 ? cfg->time_scale : 1;
	s->anchor = wall_now();
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	for (size_t i = 0; i < t->n_functions; i++)
		total += t->functions[i].n_schedules;
	if (total == 0)
		return s;
	s->entries = calloc(total, sizeof(*s->entries));
	if (s->entries == NULL)
		goto fail;
	now = sched_now(s);
	for (size_t i = 0; i < t->n_functions; i++) {
		const struct tpl_function *f = &t->functions[i];

		for (size_t j = 0; j < f->n_schedules; j++) {
			struct sched_entry *e = &s->entries[s->n];
			char err[200];

			if (!f->schedules[j].enabled)
				continue;
			if (schedule_parse(f->schedules[j].expression, &e->s, err, sizeof(err)) !=
			    0) {
				log_error("sched: %s/%s: %s (not scheduled)", f->name,
				          f->schedules[j].name, err);
				continue;
			}
			e->fn = f->name;
			e->ev = &f->schedules[j];
			e->next = schedule_next(&e->s, (time_t)floor(now));
			s->n++;
		}
	}
	if (s->n == 0 || q == NULL)
		return s;
	if (pipe(s->stop_pipe) != 0) {
		log_error("sched: pipe: %s", strerror(errno));
		goto fail;
	}
	if (pthread_create(&s->thread, NULL, sched_thread, s) != 0) {
		log_error("sched: cannot start the schedule thread");
		goto fail;
	}
	s->started = true;
	return s;
fail:
	sched_free(s);
	return NULL;
}

void sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	if (s->started) {
		atomic_store(&s->stopping, true);
		if (write(s->stop_pipe[1], "x", 1) < 0)
			log_warn("sched: cannot wake the schedule thread: %s", strerror(errno));
		pthread_join(s->thread, NULL);
	}
	if (s->stop_pipe[0] >= 0)
		close(s->stop_pipe[0]);
	if (s->stop_pipe[1] >= 0)
		close(s->stop_pipe[1]);
	free(s->entries);
	free(s);
}
