/* asyncq.c - the durable async-invocation queue in PostgreSQL.
 *
 * Events are rows of async_events (sql/002_async_queue.sql): committed before
 * asyncq_enqueue() returns, so they survive a gateway restart. Delivery
 * threads, each with its own connection, claim the oldest due row with
 * FOR UPDATE SKIP LOCKED, setting locked_until past the function's timeout (a
 * claim held by a gateway that died expires and the row is retried) and
 * counting the attempt. A delivery succeeds when pool_invoke() gives INV_OK
 * and the response has no statusCode >= 500; the row is deleted. A failure
 * schedules the row again after an exponential backoff, until the attempt
 * limit, when the row moves to async_dead_letters with its last error in one
 * statement. Threads sleep on LISTEN async_events (enqueue notifies) and poll
 * for delayed retries.
 *
 * libpq connections are not shared between threads: enqueue and the metrics
 * queries use one connection under a mutex, each delivery thread its own.
 */
#include <errno.h>
#include <inttypes.h>
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
#include <libpq-fe.h>

#include "gateway.h"
#include "json.h"
#include "log.h"

#define ASYNCQ_THREADS       4
#define ASYNCQ_CHANNEL       "async_events"
#define ASYNCQ_LOCK_MARGIN_S 60    /* claim = function timeout + this */
#define ASYNCQ_BACKOFF_MAX_S 300.0 /* before time scaling */
#define ASYNCQ_ERROR_MAX     500   /* bytes of last_error kept */
#define ASYNCQ_PRUNE_S       600   /* how often old dedupe keys are pruned */
#define ASYNCQ_RECONNECT_MS  1000

struct asyncq {
	struct pool *pool;
	const struct tpl *tpl;
	const struct gw_config *cfg;
	const char *conninfo; /* borrowed from cfg; NULL -> PG* variables */
	double poll_ms;       /* idle poll period (retries becoming due) */

	pthread_mutex_t enq_lock; /* guards enq_conn */
	PGconn *enq_conn;

	int stop_pipe[2]; /* written once by asyncq_stop: wakes every thread */
	atomic_bool stopping;
	bool stopped;
	pthread_t threads[ASYNCQ_THREADS];
	int n_threads;

	atomic_uint_fast64_t delivered, retries, dead, enqueued;
	atomic_int pruner; /* the first delivery thread also prunes dedupe keys */
};

struct claim {
	char *id;
	char *fn;
	char *payload;
	size_t len;
	long attempts;
	long max_attempts;
};

static PGconn *connect_db(const struct asyncq *q)
{
	const char *keys[] = {"dbname", "connect_timeout", "application_name", "options", NULL};
	const char *vals[] = {q->conninfo ? q->conninfo : "", "5", "gateway-asyncq",
	                      "-c TimeZone=UTC", NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		log_error("asyncq: cannot connect to PostgreSQL: %s",
		          c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Runs one parameterised statement; NULL (logged) unless it succeeded. */
static PGresult *run(PGconn *c, const char *what, const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		log_error("asyncq: %s failed: %s", what, PQerrorMessage(c));
		PQclear(r);
		return NULL;
	}
	return r;
}

/* Sleeps up to ms, or until asyncq_stop. True when stopping. */
static bool nap(struct asyncq *q, int ms)
{
	struct pollfd p = {q->stop_pipe[0], POLLIN, 0};

	if (atomic_load(&q->stopping))
		return true;
	(void)poll(&p, 1, ms);
	return atomic_load(&q->stopping);
}

/* ---- enqueue ---- */

static const char enqueue_sql[] =
        "WITH e AS (INSERT INTO async_events (function, payload) VALUES ($1, $2) RETURNING id) "
        "SELECT pg_notify('" ASYNCQ_CHANNEL "', ''), (SELECT count(*) FROM e)";

/* The key is recorded in async_dedupe first: it outlives the event row. */
static const char enqueue_dedupe_sql[] =
        "WITH k AS (INSERT INTO async_dedupe (function, dedupe_key) VALUES ($1, $3) "
        "           ON CONFLICT DO NOTHING RETURNING 1), "
        "e AS (INSERT INTO async_events (function, payload, dedupe_key) "
        "      SELECT $1, $2, $3 FROM k ON CONFLICT DO NOTHING RETURNING id) "
        "SELECT pg_notify('" ASYNCQ_CHANNEL "', ''), (SELECT count(*) FROM e)";

int asyncq_enqueue(struct asyncq *q, const char *fn, const char *payload, size_t len,
                   const char *dedupe_key)
{
	const char *params[3] = {fn, payload, dedupe_key};
	PGresult *r = NULL;
	int ret = -1;

	if (q == NULL || fn == NULL || fn[0] == '\0' || payload == NULL)
		return -1;
	if (memchr(payload, '\0', len) != NULL || strlen(payload) != len) {
		log_error("asyncq: event for %s contains a NUL byte", fn);
		return -1;
	}
	pthread_mutex_lock(&q->enq_lock);
	for (int attempt = 0; attempt < 2 && r == NULL; attempt++) {
		if (q->enq_conn != NULL && PQstatus(q->enq_conn) != CONNECTION_OK) {
			PQfinish(q->enq_conn);
			q->enq_conn = NULL;
		}
		if (q->enq_conn == NULL)
			q->enq_conn = connect_db(q);
		if (q->enq_conn == NULL)
			break;
		r = run(q->enq_conn, "enqueue", dedupe_key ? enqueue_dedupe_sql : enqueue_sql,
		        dedupe_key ? 3 : 2, params);
		/* Retry only when the connection broke (the statement never ran). */
		if (r == NULL && PQstatus(q->enq_conn) == CONNECTION_OK)
			break;
	}
	if (r == NULL)
		goto out;
	if (strcmp(PQgetvalue(r, 0, 1), "0") == 0)
		log_info("asyncq: duplicate event for %s dropped (dedupe key %.200s)", fn,
		         dedupe_key ? dedupe_key : "");
	else
		atomic_fetch_add(&q->enqueued, 1);
	ret = 0;
out:
	pthread_mutex_unlock(&q->enq_lock);
	PQclear(r);
	return ret;
}

/* ---- S3 events ---- */

/* Key as S3 writes it in notifications: form-style, '+' for space, '/' kept. */
static char *s3_key_escape(const char *key)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(key), j = 0;
	char *out = malloc(n * 3 + 1);

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)key[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~' ||
		    ch == '/') {
			out[j++] = (char)ch;
		} else if (ch == ' ') {
			out[j++] = '+';
		} else {
			out[j++] = '%';
			out[j++] = hex[ch >> 4];
			out[j++] = hex[ch & 15];
		}
	}
	out[j] = '\0';
	return out;
}

static bool s3_event_matches(const struct tpl_s3 *e, const char *bucket, const char *key)
{
	size_t klen = strlen(key), plen, slen;

	if (e->bucket == NULL || strcmp(e->bucket, bucket) != 0 || e->event == NULL)
		return false;
	if (strcmp(e->event, "s3:ObjectCreated:*") != 0 &&
	    strcmp(e->event, "s3:ObjectCreated:Put") != 0)
		return false;
	plen = e->prefix ? strlen(e->prefix) : 0;
	slen = e->suffix ? strlen(e->suffix) : 0;
	if (plen > klen || slen > klen)
		return false;
	return (plen == 0 || strncmp(key, e->prefix, plen) == 0) &&
	       (slen == 0 || strcmp(key + klen - slen, e->suffix) == 0);
}

/* RFC 3339 UTC with milliseconds. */
static void now_rfc3339(char *buf, size_t n, uint64_t *ns_out)
{
	struct timespec ts;
	struct tm tm;
	char secs[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%03ldZ", secs, ts.tv_nsec / 1000000);
	if (ns_out != NULL)
		*ns_out = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The S3 notification (AWS's documented shape) for one function. */
static char *s3_event_json(const char *config_id, const char *bucket, const char *key, size_t size,
                           const char *etag)
{
	cJSON *root = cJSON_CreateObject(), *recs, *rec, *s3, *b, *o, *x;
	char when[48], arn[600], seq[24], reqid[24];
	char *esc = s3_key_escape(key), *out = NULL;
	uint64_t ns;

	now_rfc3339(when, sizeof(when), &ns);
	snprintf(arn, sizeof(arn), "arn:aws:s3:::%.500s", bucket);
	snprintf(seq, sizeof(seq), "%016" PRIX64, ns);
	snprintf(reqid, sizeof(reqid), "%016" PRIX64,
	         (uint64_t)(ns ^ UINT64_C(0x5a5a5a5a5a5a5a5a)));
	if (root == NULL || esc == NULL)
		goto out;
	recs = cJSON_AddArrayToObject(root, "Records");
	rec = cJSON_CreateObject();
	cJSON_AddItemToArray(recs, rec);
	cJSON_AddStringToObject(rec, "eventVersion", "2.1");
	cJSON_AddStringToObject(rec, "eventSource", "aws:s3");
	cJSON_AddStringToObject(rec, "awsRegion", "local");
	cJSON_AddStringToObject(rec, "eventTime", when);
	cJSON_AddStringToObject(rec, "eventName", "ObjectCreated:Put");
	x = cJSON_AddObjectToObject(rec, "userIdentity");
	cJSON_AddStringToObject(x, "principalId", "local");
	x = cJSON_AddObjectToObject(rec, "requestParameters");
	cJSON_AddStringToObject(x, "sourceIPAddress", "127.0.0.1");
	x = cJSON_AddObjectToObject(rec, "responseElements");
	cJSON_AddStringToObject(x, "x-amz-request-id", reqid);
	cJSON_AddStringToObject(x, "x-amz-id-2", seq);
	s3 = cJSON_AddObjectToObject(rec, "s3");
	cJSON_AddStringToObject(s3, "s3SchemaVersion", "1.0");
	cJSON_AddStringToObject(s3, "configurationId", config_id);
	b = cJSON_AddObjectToObject(s3, "bucket");
	cJSON_AddStringToObject(b, "name", bucket);
	x = cJSON_AddObjectToObject(b, "ownerIdentity");
	cJSON_AddStringToObject(x, "principalId", "local");
	cJSON_AddStringToObject(b, "arn", arn);
	o = cJSON_AddObjectToObject(s3, "object");
	cJSON_AddStringToObject(o, "key", esc);
	cJSON_AddNumberToObject(o, "size", (double)size);
	cJSON_AddStringToObject(o, "eTag", etag);
	cJSON_AddStringToObject(o, "sequencer", seq);
	out = cJSON_PrintUnformatted(root);
out:
	free(esc);
	cJSON_Delete(root);
	return out;
}

int asyncq_object_created(struct asyncq *q, const char *bucket, const char *key, size_t size,
                          const char *etag)
{
	char tag[200], dedupe[1400], config_id[200];
	size_t tlen;
	int ret = 0;

	if (q == NULL || bucket == NULL || key == NULL)
		return -1;
	/* S3 events carry the ETag without its quotes. */
	snprintf(tag, sizeof(tag), "%s", etag && etag[0] == '"' ? etag + 1 : etag ? etag : "");
	tlen = strlen(tag);
	if (tlen > 0 && tag[tlen - 1] == '"')
		tag[tlen - 1] = '\0';
	if (snprintf(dedupe, sizeof(dedupe), "s3:%s:%s", key, tag) >= (int)sizeof(dedupe)) {
		log_error("asyncq: object key too long for an event");
		return -1;
	}
	for (size_t i = 0; i < q->tpl->n_functions; i++) {
		const struct tpl_function *f = &q->tpl->functions[i];

		for (size_t j = 0; j < f->n_s3; j++) {
			char *ev;

			if (!s3_event_matches(&f->s3[j], bucket, key))
				continue;
			snprintf(config_id, sizeof(config_id), "%s-s3-%zu", f->logical_id, j);
			ev = s3_event_json(config_id, bucket, key, size, tag);
			if (ev == NULL || asyncq_enqueue(q, f->name, ev, strlen(ev), dedupe) != 0)
				ret = -1;
			free(ev);
			break; /* one event per function, even when several match */
		}
	}
	return ret;
}

/* ---- delivery ---- */

static const char claim_sql[] =
        "UPDATE async_events SET attempts = attempts + 1, "
        "       locked_until = now() + make_interval(secs => $1::double precision) "
        "WHERE id = (SELECT id FROM async_events "
        "            WHERE run_at <= now() AND (locked_until IS NULL OR locked_until < now()) "
        "            ORDER BY run_at, id FOR UPDATE SKIP LOCKED LIMIT 1) "
        "RETURNING id, function, payload, attempts, COALESCE(max_attempts, $2::integer)";

static const char done_sql[] = "DELETE FROM async_events WHERE id = $1";

/* $4: 0 to keep the attempt counted, -1 to give it back (throttled, draining). */
static const char retry_sql[] =
        "UPDATE async_events SET run_at = now() + make_interval(secs => $2::double precision), "
        "       locked_until = NULL, last_error = $3, attempts = greatest(attempts + $4::integer, "
        "0) "
        "WHERE id = $1";

static const char dead_sql[] =
        "WITH d AS (DELETE FROM async_events WHERE id = $1 RETURNING *) "
        "INSERT INTO async_dead_letters (id, function, payload, dedupe_key, attempts, "
        "       max_attempts, run_at, locked_until, last_error, created_at) "
        "SELECT id, function, payload, dedupe_key, attempts, max_attempts, run_at, NULL, $2, "
        "       created_at FROM d";

static const char prune_sql[] =
        "DELETE FROM async_dedupe WHERE created_at < now() - interval '7 days'";

static void claim_release(struct claim *c)
{
	free(c->id);
	free(c->fn);
	free(c->payload);
	memset(c, 0, sizeof(*c));
}

static long lock_seconds(const struct asyncq *q)
{
	long max_timeout = 3;

	for (size_t i = 0; i < q->tpl->n_functions; i++)
		if (q->tpl->functions[i].timeout_s > max_timeout)
			max_timeout = q->tpl->functions[i].timeout_s;
	return max_timeout + ASYNCQ_LOCK_MARGIN_S;
}

/* 1 when a row was claimed, 0 when none is due, -1 on a database error. */
static int claim_one(struct asyncq *q, PGconn *c, struct claim *out)
{
	char lock_s[32], max_att[32];
	const char *params[2] = {lock_s, max_att};
	PGresult *r;
	char *end;
	int ret = -1;

	snprintf(lock_s, sizeof(lock_s), "%ld", lock_seconds(q));
	snprintf(max_att, sizeof(max_att), "%d",
	         q->cfg->async_max_attempts > 0 ? q->cfg->async_max_attempts : 3);
	r = run(c, "claim", claim_sql, 2, params);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		ret = 0;
		goto out;
	}
	out->id = strdup(PQgetvalue(r, 0, 0));
	out->fn = strdup(PQgetvalue(r, 0, 1));
	out->len = (size_t)PQgetlength(r, 0, 2);
	out->payload = malloc(out->len + 1);
	if (out->id == NULL || out->fn == NULL || out->payload == NULL) {
		claim_release(out);
		goto out;
	}
	memcpy(out->payload, PQgetvalue(r, 0, 2), out->len + 1);
	out->attempts = strtol(PQgetvalue(r, 0, 3), &end, 10);
	out->max_attempts = strtol(PQgetvalue(r, 0, 4), &end, 10);
	ret = 1;
out:
	PQclear(r);
	return ret;
}

/* The response's statusCode when it is an HTTP-shaped response, else 0;
 * for a failure, its body (or the whole response) goes into err. */
static int response_status(const char *body, size_t len, char *err, size_t errlen)
{
	cJSON *root;
	const cJSON *sc, *b;
	int status = 0;

	if (body == NULL || len == 0)
		return 0;
	root = json_parse_limited(body, len, 64);
	sc = cJSON_GetObjectItemCaseSensitive(root, "statusCode");
	b = cJSON_GetObjectItemCaseSensitive(root, "body");
	if (cJSON_IsNumber(sc))
		status = (int)sc->valuedouble;
	if (status >= 500)
		snprintf(err, errlen, "status %d: %.*s", status, ASYNCQ_ERROR_MAX,
		         cJSON_IsString(b) ? b->valuestring : body);
	cJSON_Delete(root);
	return status;
}

/* No overlong forms, surrogates or code points past U+10FFFF. */
static bool second_byte_ok(unsigned char lead, unsigned char next)
{
	if (lead == 0xe0)
		return next >= 0xa0;
	if (lead == 0xed)
		return next < 0xa0;
	if (lead == 0xf0)
		return next >= 0x90;
	if (lead == 0xf4)
		return next < 0x90;
	return true;
}

/* Makes s valid UTF-8 in place (PostgreSQL refuses anything else): invalid
 * bytes become '?', a sequence cut by truncation is dropped. */
static void utf8_clean(char *s)
{
	size_t i = 0, n = strlen(s);

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t want = c < 0x80             ? 1
		              : (c & 0xe0) == 0xc0 ? 2
		              : (c & 0xf0) == 0xe0 ? 3
		              : (c & 0xf8) == 0xf0 ? 4
		                                   : 0;
		size_t k;

		if (want == 0 || (want == 2 && c < 0xc2) || (want == 4 && c > 0xf4)) {
			s[i++] = '?';
			continue;
		}
		if (i + want > n) {
			bool cont = true;

			for (k = 1; i + k < n; k++)
				cont = cont && ((unsigned char)s[i + k] & 0xc0) == 0x80;
			if (cont) {
				s[i] = '\0'; /* truncated mid-character */
				return;
			}
		}
		for (k = 1; k < want && i + k < n; k++)
			if (((unsigned char)s[i + k] & 0xc0) != 0x80)
				break;
		if (k < want || (want >= 3 && !second_byte_ok(c, (unsigned char)s[i + 1]))) {
			s[i++] = '?';
			continue;
		}
		i += want;
	}
}

static const char *result_name(enum inv_result r)
{
	switch (r) {
	case INV_OK:
		return "ok";
	case INV_FUNCTION_ERROR:
		return "function error";
	case INV_THROTTLED:
		return "throttled";
	case INV_TIMEOUT:
		return "timed out";
	case INV_CRASHED:
		return "crashed";
	case INV_UNAVAILABLE:
		return "unavailable";
	case INV_UNKNOWN:
		return "no such function";
	case INV_STOPPING:
		return "gateway stopping";
	}
	return "unknown";
}

/* Delivers one claimed event and records the outcome. 0, or -1 when the
 * outcome could not be written (the claim then expires and it is retried). */
static int deliver(struct asyncq *q, PGconn *c, const struct claim *cl)
{
	struct inv_out out = {0};
	enum inv_result r;
	char err[ASYNCQ_ERROR_MAX + 64] = "";
	char delay[32], give_back[8] = "0";
	const char *params[4];
	PGresult *res = NULL;
	int status = 0, ret = -1;
	double backoff;

	r = pool_invoke(q->pool, cl->fn, cl->payload, cl->len, &out);
	if (r == INV_OK) {
		status = response_status(out.body, out.len, err, sizeof(err));
		if (status < 500) {
			params[0] = cl->id;
			res = run(c, "delete delivered event", done_sql, 1, params);
			if (res != NULL) {
				atomic_fetch_add(&q->delivered, 1);
				ret = 0;
			}
			goto out;
		}
	} else if (r == INV_FUNCTION_ERROR && out.body != NULL) {
		snprintf(err, sizeof(err), "function error: %.*s", ASYNCQ_ERROR_MAX, out.body);
	} else {
		snprintf(err, sizeof(err), "%s", result_name(r));
	}

	utf8_clean(err);
	if (r == INV_THROTTLED || r == INV_STOPPING) {
		/* Not the function's failure: try again later without counting it. */
		snprintf(give_back, sizeof(give_back), "-1");
		backoff = 1.0;
	} else if (r == INV_UNKNOWN || cl->attempts >= cl->max_attempts) {
		params[0] = cl->id;
		params[1] = err;
		res = run(c, "dead-letter", dead_sql, 2, params);
		if (res != NULL) {
			atomic_fetch_add(&q->dead, 1);
			log_warn("asyncq: event %s for %s dead-lettered after %ld attempt(s): "
			         "%.200s",
			         cl->id, cl->fn, cl->attempts, err);
			ret = 0;
		}
		goto out;
	} else {
		backoff = 1.0;
		for (long i = 1; i < cl->attempts && backoff < ASYNCQ_BACKOFF_MAX_S; i++)
			backoff *= 2;
		if (backoff > ASYNCQ_BACKOFF_MAX_S)
			backoff = ASYNCQ_BACKOFF_MAX_S;
	}
	if (q->cfg->time_scale > 0)
		backoff /= q->cfg->time_scale;
	snprintf(delay, sizeof(delay), "%.3f", backoff);
	params[0] = cl->id;
	params[1] = delay;
	params[2] = err;
	params[3] = give_back;
	res = run(c, "reschedule", retry_sql, 4, params);
	if (res != NULL) {
		if (give_back[0] == '0') {
			atomic_fetch_add(&q->retries, 1);
			log_warn("asyncq: event %s for %s failed (attempt %ld of %ld), retry in "
			         "%.3f s: "
			         "%.200s",
			         cl->id, cl->fn, cl->attempts, cl->max_attempts, backoff, err);
		}
		ret = 0;
	}
out:
	PQclear(res);
	free(out.body);
	return ret;
}

/* Waits for a notification, a stop, or the poll period. */
static void wait_for_work(struct asyncq *q, PGconn *c)
{
	struct pollfd p[2] = {{q->stop_pipe[0], POLLIN, 0}, {PQsocket(c), POLLIN, 0}};
	PGnotify *n;

	if (poll(p, 2, (int)q->poll_ms) > 0 && (p[1].revents & POLLIN))
		(void)PQconsumeInput(c);
	while ((n = PQnotifies(c)) != NULL)
		PQfreemem(n);
}

static void *delivery_thread(void *arg)
{
	struct asyncq *q = arg;
	PGconn *c = NULL;
	time_t last_prune = 0;
	bool pruner = atomic_exchange(&q->pruner, 1) == 0;

	while (!atomic_load(&q->stopping)) {
		struct claim cl = {0};
		int got;

		if (c != NULL && PQstatus(c) != CONNECTION_OK) {
			PQfinish(c);
			c = NULL;
		}
		if (c == NULL) {
			PGresult *r;

			c = connect_db(q);
			if (c == NULL) {
				nap(q, ASYNCQ_RECONNECT_MS);
				continue;
			}
			r = run(c, "listen", "LISTEN " ASYNCQ_CHANNEL, 0, NULL);
			PQclear(r);
		}
		if (pruner && time(NULL) - last_prune > ASYNCQ_PRUNE_S) {
			PQclear(run(c, "prune dedupe keys", prune_sql, 0, NULL));
			last_prune = time(NULL);
		}
		got = claim_one(q, c, &cl);
		if (got == 1) {
			(void)deliver(q, c, &cl);
			claim_release(&cl);
			continue;
		}
		if (got < 0) {
			nap(q, ASYNCQ_RECONNECT_MS);
			continue;
		}
		wait_for_work(q, c);
	}
	PQfinish(c);
	return NULL;
}

struct asyncq *asyncq_new(struct pool *p, const struct tpl *t, const struct gw_config *cfg)
{
	struct asyncq *q = calloc(1, sizeof(*q));
	PGresult *r;

	if (q == NULL)
		return NULL;
	q->pool = p;
	q->tpl = t;
	q->cfg = cfg;
	q->conninfo = cfg->database_url;
	q->poll_ms = 1000.0 / (cfg->time_scale > 1 ? cfg->time_scale : 1);
	if (q->poll_ms < 20)
		q->poll_ms = 20;
	q->stop_pipe[0] = q->stop_pipe[1] = -1;
	pthread_mutex_init(&q->enq_lock, NULL);
	if (pipe(q->stop_pipe) != 0) {
		log_error("asyncq: pipe: %s", strerror(errno));
		goto fail;
	}
	q->enq_conn = connect_db(q);
	if (q->enq_conn != NULL) {
		/* A clear message when the migration has not been applied. */
		r = run(q->enq_conn, "check for the queue table (run the migrations: sql/)",
		        "SELECT 1 FROM async_events LIMIT 0", 0, NULL);
		PQclear(r);
	}
	for (int i = 0; i < ASYNCQ_THREADS; i++) {
		if (pthread_create(&q->threads[i], NULL, delivery_thread, q) != 0) {
			log_error("asyncq: cannot start a delivery thread");
			goto fail;
		}
		q->n_threads++;
	}
	return q;
fail:
	asyncq_stop(q);
	asyncq_free(q);
	return NULL;
}

void asyncq_stop(struct asyncq *q)
{
	if (q == NULL || q->stopped)
		return;
	atomic_store(&q->stopping, true);
	if (q->stop_pipe[1] >= 0 && write(q->stop_pipe[1], "x", 1) < 0)
		log_warn("asyncq: cannot wake delivery threads: %s", strerror(errno));
	/* Each thread finishes the delivery it is in, then exits. */
	for (int i = 0; i < q->n_threads; i++)
		pthread_join(q->threads[i], NULL);
	q->n_threads = 0;
	pthread_mutex_lock(&q->enq_lock);
	PQfinish(q->enq_conn);
	q->enq_conn = NULL;
	q->stopped = true; /* metrics stop querying; enqueue still works (reconnects) */
	pthread_mutex_unlock(&q->enq_lock);
}

void asyncq_free(struct asyncq *q)
{
	if (q == NULL)
		return;
	asyncq_stop(q);
	PQfinish(q->enq_conn);
	if (q->stop_pipe[0] >= 0)
		close(q->stop_pipe[0]);
	if (q->stop_pipe[1] >= 0)
		close(q->stop_pipe[1]);
	pthread_mutex_destroy(&q->enq_lock);
	free(q);
}

/* One count query on the enqueue connection; -1 when unavailable. */
static long long count_rows(struct asyncq *q, const char *sql)
{
	PGresult *r;
	long long n = -1;
	char *end;

	if (q->stopped)
		return -1;
	if (q->enq_conn != NULL && PQstatus(q->enq_conn) != CONNECTION_OK) {
		PQfinish(q->enq_conn);
		q->enq_conn = NULL;
	}
	if (q->enq_conn == NULL)
		q->enq_conn = connect_db(q);
	if (q->enq_conn == NULL)
		return -1;
	r = run(q->enq_conn, "metrics", sql, 0, NULL);
	if (r != NULL && PQntuples(r) == 1)
		n = strtoll(PQgetvalue(r, 0, 0), &end, 10);
	PQclear(r);
	return n;
}

void asyncq_metrics(struct asyncq *q, FILE *out)
{
	long long depth, dead;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->enq_lock);
	depth = count_rows(q, "SELECT count(*) FROM async_events");
	dead = count_rows(q, "SELECT count(*) FROM async_dead_letters");
	pthread_mutex_unlock(&q->enq_lock);
	if (depth >= 0)
		fprintf(out,
		        "# HELP gw_async_queue_depth Async events waiting or being delivered.\n"
		        "# TYPE gw_async_queue_depth gauge\n"
		        "gw_async_queue_depth %lld\n",
		        depth);
	if (dead >= 0)
		fprintf(out,
		        "# HELP gw_async_dead_letters Async events that exhausted their attempts.\n"
		        "# TYPE gw_async_dead_letters gauge\n"
		        "gw_async_dead_letters %lld\n",
		        dead);
	fprintf(out,
	        "# HELP gw_async_delivered_total Async events delivered successfully.\n"
	        "# TYPE gw_async_delivered_total counter\n"
	        "gw_async_delivered_total %" PRIuFAST64 "\n"
	        "# HELP gw_async_retries_total Failed async deliveries scheduled for a retry.\n"
	        "# TYPE gw_async_retries_total counter\n"
	        "gw_async_retries_total %" PRIuFAST64 "\n"
	        "# HELP gw_async_dead_lettered_total Async events moved to the dead letters.\n"
	        "# TYPE gw_async_dead_lettered_total counter\n"
	        "gw_async_dead_lettered_total %" PRIuFAST64 "\n"
	        "# HELP gw_async_enqueued_total Async events accepted into the queue.\n"
	        "# TYPE gw_async_enqueued_total counter\n"
	        "gw_async_enqueued_total %" PRIuFAST64 "\n",
	        (uint_fast64_t)atomic_load(&q->delivered), (uint_fast64_t)atomic_load(&q->retries),
	        (uint_fast64_t)atomic_load(&q->dead), (uint_fast64_t)atomic_load(&q->enqueued));
}
