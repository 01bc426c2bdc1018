/* main.c - build/bin/gateway: flags, environment, start-up, SIGTERM drain.
 *
 *   gateway [--template F] [--bin-dir DIR[:DIR...]] [--static DIR]
 *   gateway emit tencent [--out DIR] [--template F]
 *   gateway emit knative [--template F]
 *
 * Start-up order: template, worker pool, async queue (only with
 * DATABASE_URL), object store, schedules, then the public server. SIGTERM or
 * SIGINT: stop accepting, let started requests finish, drain the pool, stop
 * schedules and the queue, free everything, exit 0.
 */
#include "gateway.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"

/* Extra seconds a drain waits beyond the longest function Timeout. */
#define MAIN_DRAIN_SLACK_S 10

static struct gw_config cfg;

/* Owned copies behind cfg's strings (the environment strings are borrowed). */
static char storage_dir_buf[4096];
static char public_url_buf[512];
static bool storage_is_s3;

/* ---- environment parsers (config.h's table mechanism) ---- */

static int fail(char *err, size_t errlen, const char *reason)
{
	snprintf(err, errlen, "%s", reason);
	return -1;
}

/* An int >= min; dest is an int. */
static int parse_int_min(const char *v, int *dest, long min, char *err, size_t errlen)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (v[0] == '\0' || errno != 0 || *end != '\0' || n < min || n > 1000000000L) {
		snprintf(err, errlen, "must be an integer >= %ld", min);
		return -1;
	}
	*dest = (int)n;
	return 0;
}

static int parse_int0(const char *v, void *dest, char *err, size_t errlen)
{
	return parse_int_min(v, dest, 0, err, errlen);
}

static int parse_int1(const char *v, void *dest, char *err, size_t errlen)
{
	return parse_int_min(v, dest, 1, err, errlen);
}

/* A size > 0. */
static int parse_size1(const char *v, void *dest, char *err, size_t errlen)
{
	size_t n;

	if (config_parse_size(v, &n, err, errlen) != 0)
		return -1;
	if (n == 0)
		return fail(err, errlen, "must be larger than 0");
	*(size_t *)dest = n;
	return 0;
}

/* A finite number > 0; dest is a double. */
static int parse_scale(const char *v, void *dest, char *err, size_t errlen)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (v[0] == '\0' || errno != 0 || *end != '\0' || !isfinite(d) || d <= 0 || d > 1e6)
		return fail(err, errlen, "must be a number > 0 (e.g. 1, 60, 0.5)");
	*(double *)dest = d;
	return 0;
}

/* [HOST]:PORT, HOST:PORT, :PORT or PORT. */
static int parse_addr(const char *v, void *dest, char *err, size_t errlen)
{
	const char *colon = strrchr(v, ':'), *port = colon ? colon + 1 : v;
	char *end;
	long n;

	if (v[0] == '[' && (colon == NULL || colon[-1] != ']'))
		return fail(err, errlen, "must be HOST:PORT, [IPV6]:PORT or PORT");
	if (v[0] != '[' && colon != NULL && memchr(v, ':', (size_t)(colon - v)) != NULL)
		return fail(err, errlen, "must be HOST:PORT, [IPV6]:PORT or PORT");
	errno = 0;
	n = strtol(port, &end, 10);
	if (port[0] < '0' || port[0] > '9' || errno != 0 || *end != '\0' || n > 65535)
		return fail(err, errlen, "must be HOST:PORT, [IPV6]:PORT or PORT (port 0-65535)");
	*(const char **)dest = v;
	return 0;
}

/* file://DIR (served at /storage/) or s3://BUCKET... (not served here). */
static int parse_storage(const char *v, void *dest, char *err, size_t errlen)
{
	(void)dest;
	if (strncmp(v, "s3://", 5) == 0 && v[5] != '\0') {
		storage_is_s3 = true;
		cfg.storage_dir = NULL;
		return 0;
	}
	if (strncmp(v, "file://", 7) != 0 || v[7] == '\0')
		return fail(err, errlen, "must be file://DIR or s3://BUCKET");
	if (snprintf(storage_dir_buf, sizeof(storage_dir_buf), "%s", v + 7) >=
	    (int)sizeof(storage_dir_buf))
		return fail(err, errlen, "is too long");
	storage_is_s3 = false;
	cfg.storage_dir = storage_dir_buf;
	return 0;
}

/* http(s)://HOST[:PORT][/PREFIX], kept without a trailing slash. */
static int parse_public_url(const char *v, void *dest, char *err, size_t errlen)
{
	size_t n;

	if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) ||
	    strchr(v, '?') != NULL || strchr(v, ' ') != NULL)
		return fail(err, errlen, "must be an http:// or https:// URL");
	n = strlen(v);
	while (n > 0 && v[n - 1] == '/')
		n--;
	if (n >= sizeof(public_url_buf) || n <= 8)
		return fail(err, errlen, "must be an http:// or https:// URL");
	memcpy(public_url_buf, v, n);
	public_url_buf[n] = '\0';
	*(const char **)dest = public_url_buf;
	return 0;
}

static const struct config_var gw_vars[] = {
        {"GATEWAY_ADDR", "127.0.0.1:8080", parse_addr, &cfg.listen,
         "address of the public server, [HOST:]PORT"},
        {"STORAGE_URL", "file://.data/objects", parse_storage, NULL,
         "object store: file://DIR (served at /storage/) or s3://BUCKET?... (not served)"},
        {"DATABASE_URL", NULL, config_parse_str, &cfg.database_url,
         "PostgreSQL for the async queue; unset: async, S3 events and schedules are off"},
        {"GATEWAY_PUBLIC_URL", NULL, parse_public_url, &cfg.public_url,
         "base of signed storage URLs; default http://<GATEWAY_ADDR>"},
        {"GW_MAX_BODY", "10M", parse_size1, &cfg.max_body,
         "largest request body for functions (413 above)"},
        {"GW_STORAGE_MAX", "50M", parse_size1, &cfg.storage_max,
         "largest PUT to /storage/ (413 above)"},
        {"GW_IDLE_SECONDS", "300", parse_int0, &cfg.idle_s,
         "idle workers stop after this many seconds"},
        {"GW_CONCURRENCY", "4", parse_int1, &cfg.default_concurrency,
         "workers per function without ReservedConcurrentExecutions"},
        {"GW_QUEUE_LENGTH", "100", parse_int0, &cfg.queue_len,
         "requests waiting per function before 429"},
        {"GW_TIME_SCALE", "1", parse_scale, &cfg.time_scale,
         "schedules run this many times faster (tests)"},
        {"GW_ASYNC_ATTEMPTS", "3", parse_int1, &cfg.async_max_attempts,
         "deliveries of an async event before it is dead-lettered"},
        {"GW_MEMORY_LIMITS", "1", config_parse_bool, &cfg.memory_limits,
         "MemorySize becomes the workers' address-space limit"},
};

static void usage(FILE *out)
{
	fputs("usage: gateway [--template FILE] [--bin-dir DIR[:DIR...]] [--static DIR]\n"
	      "       gateway emit tencent [--out DIR] [--template FILE]\n"
	      "       gateway emit knative [--template FILE]\n"
	      "\n"
	      "  --template FILE  the SAM template (default deploy/template.yaml)\n"
	      "  --bin-dir DIRS   where function binaries are, searched in order\n"
	      "                   (default build/bin)\n"
	      "  --static DIR     files served for paths no route takes (default frontend/blog)\n"
	      "  --out DIR        emit tencent: write DIR/<fn>/serverless.yml, not stdout\n"
	      "\nenvironment:\n",
	      out);
	for (size_t i = 0; i < sizeof(gw_vars) / sizeof(gw_vars[0]); i++)
		fprintf(out, "  %-20s %s (default %s)\n", gw_vars[i].name, gw_vars[i].help,
		        gw_vars[i].def ? gw_vars[i].def : "unset");
	fprintf(out, "  %-20s %s\n", "APP_SECRET",
	        "HMAC key for signed storage URLs (>= 16 chars)");
	fprintf(out, "  %-20s %s\n", "LOG_LEVEL", "debug, info, warn or error");
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]; NULL when argv[*i] is
 * another flag. Exits 2 when the value is missing. */
static const char *flag_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		fprintf(stderr, "gateway: %s needs a value\n", name);
		exit(2);
	}
	(*i)++;
	return argv[*i];
}

/* Parses flags from argv[start] (--out only when out_dir is given); 0, or -1
 * after a message (exit 2). */
static int parse_flags(int argc, char **argv, int start, bool emit_only, const char **out_dir)
{
	for (int i = start; i < argc; i++) {
		const char *v;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if ((v = flag_value(argc, argv, &i, "--template")) != NULL) {
			cfg.template_path = v;
		} else if (out_dir != NULL && (v = flag_value(argc, argv, &i, "--out")) != NULL) {
			*out_dir = v;
		} else if (!emit_only && (v = flag_value(argc, argv, &i, "--bin-dir")) != NULL) {
			cfg.bin_dir = v;
		} else if (!emit_only && (v = flag_value(argc, argv, &i, "--static")) != NULL) {
			cfg.static_dir = v;
		} else {
			fprintf(stderr, "gateway: unknown argument %s\n", argv[i]);
			usage(stderr);
			return -1;
		}
	}
	return 0;
}

/* `gateway emit tencent [--out DIR] | knative [--template F]`: the
 * manifests on stdout, or (tencent --out) as DIR/<fn>/serverless.yml. */
static int run_emit(int argc, char **argv)
{
	char err[512];
	struct tpl *t;
	const char *out_dir = NULL;
	bool tencent;
	int rc;

	if (argc < 3 || (strcmp(argv[2], "tencent") != 0 && strcmp(argv[2], "knative") != 0)) {
		fputs("usage: gateway emit tencent [--out DIR] [--template FILE]\n"
		      "       gateway emit knative [--template FILE]\n",
		      stderr);
		return 2;
	}
	tencent = strcmp(argv[2], "tencent") == 0;
	if (parse_flags(argc, argv, 3, true, tencent ? &out_dir : NULL) != 0)
		return 2;
	t = tpl_load(cfg.template_path, err, sizeof(err));
	if (t == NULL) {
		fprintf(stderr, "gateway: %s\n", err);
		return 1;
	}
	if (out_dir != NULL) {
		rc = emit_tencent_dir(t, out_dir, err, sizeof(err));
		tpl_free(t);
		if (rc != 0) {
			fprintf(stderr, "gateway: cannot write the tencent manifests: %s\n", err);
			return 1;
		}
		return 0;
	}
	rc = tencent ? emit_tencent(t, stdout) : emit_knative(t, stdout);
	if (fflush(stdout) != 0)
		rc = -1;
	tpl_free(t);
	if (rc != 0) {
		fprintf(stderr, "gateway: cannot write the %s manifest\n", argv[2]);
		return 1;
	}
	return 0;
}

/* The longest Timeout of any function, for the drain. */
static int max_timeout(const struct tpl *t)
{
	int m = 3;

	for (size_t i = 0; i < t->n_functions; i++) {
		if (t->functions[i].timeout_s > m)
			m = t->functions[i].timeout_s;
	}
	return m;
}

static bool has_schedules(const struct tpl *t)
{
	for (size_t i = 0; i < t->n_functions; i++) {
		if (t->functions[i].n_schedules > 0)
			return true;
	}
	return false;
}

static int load_config(void)
{
	char err[512];

	if (config_load_shared(err, sizeof(err)) != 0 ||
	    config_load(gw_vars, sizeof(gw_vars) / sizeof(gw_vars[0]), err, sizeof(err)) != 0) {
		fprintf(stderr, "gateway: %s\n", err);
		log_error("%s", err);
		return -1;
	}
	if (cfg.public_url == NULL) {
		const char *l = cfg.listen, *pre = "http://";
		int n;

		/* "8080", ":8080", "0.0.0.0:8080": reachable on loopback. */
		if (strchr(l, ':') == NULL)
			pre = "http://127.0.0.1:";
		else if (l[0] == ':')
			pre = "http://127.0.0.1";
		else if (strncmp(l, "0.0.0.0:", 8) == 0) {
			pre = "http://127.0.0.1";
			l += 7;
		}
		n = snprintf(public_url_buf, sizeof(public_url_buf), "%s%s", pre, l);
		if (n < 0 || (size_t)n >= sizeof(public_url_buf)) {
			fputs("gateway: GATEWAY_ADDR: is too long\n", stderr);
			return -1;
		}
		cfg.public_url = public_url_buf;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char err[512];
	struct tpl *t = NULL;
	struct pool *pool = NULL;
	struct asyncq *q = NULL;
	struct storage *st = NULL;
	struct sched *sc = NULL;
	struct front *fr = NULL;
	sigset_t set;
	int sig = 0, status = 1;

	log_set_function("gateway");
	cfg.template_path = "deploy/template.yaml";
	cfg.bin_dir = "build/bin";
	cfg.static_dir = "frontend/blog";
	if (argc >= 2 && strcmp(argv[1], "emit") == 0)
		return run_emit(argc, argv);
	if (parse_flags(argc, argv, 1, false, NULL) != 0)
		return 2;
	if (load_config() != 0)
		return 1;

	/* Every thread started from here on inherits the mask; this thread takes
	 * the signals with sigwait(). */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	t = tpl_load(cfg.template_path, err, sizeof(err));
	if (t == NULL) {
		fprintf(stderr, "gateway: %s\n", err);
		log_error("%s", err);
		goto out;
	}
	pool = pool_new(t, &cfg);
	if (pool == NULL) {
		log_error("cannot start the worker pool");
		goto out;
	}
	if (cfg.database_url != NULL) {
		q = asyncq_new(pool, t, &cfg);
		if (q == NULL) {
			log_error("cannot start the async queue (DATABASE_URL)");
			goto out;
		}
		pool_set_asyncq(pool, q);
	} else {
		log_warn("DATABASE_URL is not set: async invocations, S3 events and schedules are "
		         "disabled (Invoke with InvocationType Event answers 503)");
	}
	if (cfg.storage_dir != NULL) {
		st = storage_new(&cfg, q);
		if (st == NULL) {
			log_error("cannot open the object store %s", cfg.storage_dir);
			goto out;
		}
	} else if (storage_is_s3) {
		log_info("STORAGE_URL is s3://: /storage/ is not served by the gateway");
	}
	if (q != NULL) {
		sc = sched_new(t, q, &cfg);
		if (sc == NULL && has_schedules(t)) {
			log_error("cannot start the schedules");
			goto out;
		}
	}
	fr = front_new(&cfg, t, pool, st);
	if (fr == NULL)
		goto out;
	front_set_asyncq(fr, q);
	log_info("listening on %s", front_url(fr));

	while (sigwait(&set, &sig) != 0)
		;
	log_info("%s received: finishing in-flight requests", sig == SIGINT ? "SIGINT" : "SIGTERM");
	front_quiesce(fr);
	front_drain(fr, 2 * max_timeout(t) + MAIN_DRAIN_SLACK_S);
	pool_drain(pool, max_timeout(t) + MAIN_DRAIN_SLACK_S);
	if (sc != NULL)
		sched_free(sc);
	sc = NULL;
	if (q != NULL)
		asyncq_stop(q);
	log_info("stopped");
	status = 0;
out:
	front_free(fr);
	if (sc != NULL)
		sched_free(sc);
	if (st != NULL)
		storage_free(st);
	if (q != NULL) {
		if (status != 0)
			asyncq_stop(q);
		asyncq_free(q);
	}
	if (pool != NULL)
		pool_free(pool);
	if (t != NULL)
		tpl_free(t);
	return status;
}
