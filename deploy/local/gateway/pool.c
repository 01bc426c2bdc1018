/* pool.c - worker processes per function, speaking the Lambda Runtime API.
 *
 * Each template function gets a pool: worker processes (fork + execve of
 * its binary, found on the --bin-dir search list) started with
 * AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT/w/<worker id>, so the loopback
 * libmicrohttpd server below knows which worker polls /next and which one
 * holds an invocation. One mutex per function guards its workers, its wait
 * queue and its counters. The server runs on one internal epoll thread: a
 * /next with nothing to hand out is suspended (MHD suspend/resume) and
 * resumed by whoever assigns that worker an invocation; the caller of
 * pool_invoke() sleeps on a condition variable until /response wakes it.
 * No thread per waiting worker, no polling. (A synchronous Invoke API call,
 * which blocks in pool_invoke(), gets a thread of its own.)
 *
 *   pool_invoke -> idle worker? assign (warm) : below the limit? spawn (cold)
 *               : queue not full? wait in FIFO order : INV_THROTTLED
 *   GET  /w/ID/2018-06-01/runtime/invocation/next        blocks until assigned
 *   POST /w/ID/2018-06-01/runtime/invocation/RID/response INV_OK
 *   POST /w/ID/2018-06-01/runtime/invocation/RID/error    INV_FUNCTION_ERROR
 *   POST /w/ID/2018-06-01/runtime/init/error              INV_UNAVAILABLE
 *   POST /2015-03-31/functions/NAME/invocations           the Lambda Invoke API
 *
 * Limits, as Lambda has them: Timeout counts from the moment the worker got
 * the event (then SIGKILL, INV_TIMEOUT); a cold worker has INIT_TIMEOUT_MS
 * to ask for its first event; a queued invocation waits at most one Timeout
 * for a free slot (then INV_THROTTLED). A watcher thread per worker blocks
 * in waitpid() and turns an exit into INV_CRASHED (mid-invocation) or
 * INV_UNAVAILABLE (during init). A maintenance thread stops workers idle for
 * cfg->idle_s (SIGTERM: the runtime loop exits at once while it waits in
 * /next), escalating to SIGKILL after STOP_GRACE_MS.
 *
 * Memory: with cfg->memory_limits the child sets RLIMIT_AS to MemorySize
 * plus MEM_ALLOWANCE_MB before execve. The allowance covers what Lambda does
 * not count against MemorySize here but RLIMIT_AS does: the mapped binary,
 * glibc, libpq/libcurl/OpenSSL and the main stack (a worker maps about 20 MB of
 * address space before its first allocation). A worker binary built with
 * AddressSanitizer reserves terabytes of address space (its shadow memory)
 * and cannot start under any RLIMIT_AS, so the limit is decided per binary:
 * when a function's binary is resolved, its ELF dynamic section is read, and
 * a binary that needs libasan.so.N (gcc's dynamic runtime) or names
 * __asan_init among its dynamic symbols (clang's static runtime) runs without
 * the limit, with one log line saying why. Anything unreadable or malformed
 * counts as "not ASan": the limit applies.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "gateway.h"
#include "log.h"
#include "rt.h"

#define RUNTIME_PATH     "/2018-06-01/runtime"
#define INVOKE_PATH      "/2015-03-31/functions/"
#define INVOKE_SUFFIX    "/invocations"
#define ARN_PREFIX       "arn:aws:lambda:local:000000000000:function:"
#define INIT_TIMEOUT_MS  10000.0 /* Lambda's init phase limit */
#define STOP_GRACE_MS    2000.0  /* SIGTERM, then SIGKILL */
#define MAINT_PERIOD_MS  250
#define MEM_ALLOWANCE_MB 64
#define REQUEST_ID_MAX   64

enum wstate {
	W_STARTING, /* spawned, has not asked for its first event yet */
	W_IDLE,
	W_BUSY,
	W_STOPPING, /* signalled; nothing is assigned any more */
	W_DEAD,     /* reaped; only a /next handler may still hold it */
};

struct worker;

/* One pool_invoke() call: lives on the caller's stack, guarded by fp->mu. */
struct inv {
	char id[REQUEST_ID_MAX];
	char trace[96];
	const char *event; /* borrowed from the caller, valid until done */
	size_t len;
	struct worker *w; /* assigned worker, NULL while queued */
	struct inv *next; /* wait queue */
	bool queued, delivered, done, cold;
	enum inv_result result;
	char *body; /* malloc'd result, handed to the caller */
	size_t blen;
	double since_ms;    /* monotonic: queued or assigned at */
	double deadline_ms; /* monotonic, once delivered */
	long long deadline_epoch_ms;
	pthread_cond_t cond; /* the caller waits here */
};

struct fnpool;

struct worker {
	struct fnpool *fp;
	unsigned long seq;
	pid_t pid;
	enum wstate state;
	bool ready;      /* has polled /next at least once */
	struct inv *inv; /* assigned invocation (delivered or not) */
	double idle_since, stop_since;
	struct MHD_Connection *con; /* its /next, suspended until there is work */
	struct worker *next;
};

struct fnpool {
	struct pool *p;
	size_t idx;
	const struct tpl_function *f;
	char *bin; /* absolute path; NULL until found */
	bool asan; /* bin is built with AddressSanitizer: no RLIMIT_AS */
	char *task_root;
	char **env; /* NULL-terminated; env[0] is the per-worker runtime API slot */
	size_t n_env;
	int max; /* concurrency; 0 = disabled */
	pthread_mutex_t mu;
	struct worker *workers;
	unsigned long next_seq;
	int n_busy; /* workers holding an invocation */
	struct inv *qhead, *qtail;
	int n_queued;
	unsigned long cold, throttles, timeouts, crashes;
};

struct pool {
	const struct tpl *t;
	const struct gw_config *cfg;
	struct fnpool *fns;
	size_t n;
	struct MHD_Daemon *d;
	char addr[32];
	struct asyncq *q;
	bool mem_limits;
	atomic_int stopping; /* draining: new invocations get INV_STOPPING */
	bool drained;
	pthread_mutex_t mu; /* watchers, invokers, closing */
	pthread_cond_t cond;
	int watchers;
	int invokers; /* Invoke API threads running */
	bool closing;
	bool maint_started;
	pthread_t maint;
	size_t body_cap;
};

enum conn_wait {
	C_NONE,
	C_NEXT,        /* a /next suspended until its worker has work */
	C_INVOKE,      /* an Invoke API call running on its own thread */
	C_INVOKE_DONE, /* ... finished: result in r/out */
};

/* Per-connection state of the Runtime API server. */
struct conn {
	char *buf;
	size_t len, cap;
	bool too_big;
	enum conn_wait wait;
	struct pool *p;
	struct MHD_Connection *con;
	struct fnpool *fp;
	enum inv_result r;
	struct inv_out out;
};

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static long long epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void abs_time(double mono, struct timespec *ts)
{
	if (mono < 0)
		mono = 0;
	ts->tv_sec = (time_t)(mono / 1000.0);
	ts->tv_nsec = (long)((mono - (double)ts->tv_sec * 1000.0) * 1e6);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	} else if (ts->tv_nsec < 0) {
		ts->tv_nsec = 0;
	}
}

static int cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int rc;

	if (pthread_condattr_init(&a) != 0)
		return -1;
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	rc = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return rc == 0 ? 0 : -1;
}

/* ---- the request id inside an event (a tiny JSON skipper) ---- */

static const char *js_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at '"': just past the closing quote, or NULL. */
static const char *js_str(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Skips one value: past a string or container, at the ',' '}' ']' ending a
 * scalar. NULL when malformed. */
static const char *js_value(const char *p, const char *e)
{
	int depth = 0;

	p = js_ws(p, e);
	while (p < e) {
		char c = *p;

		if (c == '"') {
			p = js_str(p, e);
			if (!p || depth == 0)
				return p;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return p;
			if (--depth == 0)
				return p + 1;
		} else if (c == ',' && depth == 0) {
			return p;
		}
		p++;
	}
	return depth == 0 ? p : NULL;
}

/* p at an object: the value of its member key, or NULL. */
static const char *js_member(const char *p, const char *e, const char *key)
{
	size_t klen = strlen(key);

	p = js_ws(p, e);
	if (p >= e || *p != '{')
		return NULL;
	p++;
	for (;;) {
		const char *ks, *ke;

		p = js_ws(p, e);
		if (p >= e || *p != '"')
			return NULL;
		ks = p + 1;
		ke = js_str(p, e);
		if (!ke)
			return NULL;
		p = js_ws(ke, e);
		if (p >= e || *p != ':')
			return NULL;
		p = js_ws(p + 1, e);
		if ((size_t)(ke - 1 - ks) == klen && memcmp(ks, key, klen) == 0)
			return p;
		p = js_value(p, e);
		if (!p)
			return NULL;
		p = js_ws(p, e);
		if (p >= e || *p != ',')
			return NULL;
		p++;
	}
}

/* requestContext.requestId of an HTTP event (the front's X-Request-Id), so
 * the function, the access log and the client share one id; else a new one. */
static void event_request_id(const char *ev, size_t len, char *out, size_t outlen)
{
	const char *e = ev + len, *v = NULL;
	size_t n = 0;

	if (ev)
		v = js_member(ev, e, "requestContext");
	if (v)
		v = js_member(v, e, "requestId");
	if (v && *v == '"') {
		for (v++; v + n < e && v[n] != '"'; n++) {
			char c = v[n];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || c == '.'))
				break;
		}
		if (n > 0 && n < outlen && v + n < e && v[n] == '"') {
			memcpy(out, v, n);
			out[n] = '\0';
			return;
		}
	}
	char id[33];
	rt_new_request_id(id);
	snprintf(out, outlen, "%s", id);
}

/* ---- binaries and environment ---- */

/* Finds name in the colon-separated dirs: the first executable regular file. */
const char *pool_find_binary(const char *dirs, const char *name, char *out, size_t outlen)
{
	const char *d = dirs;

	if (!dirs || !name || !*name || strchr(name, '/'))
		return NULL;
	while (*d) {
		const char *colon = strchr(d, ':');
		size_t dlen = colon ? (size_t)(colon - d) : strlen(d);
		struct stat st;
		int n;

		if (dlen > 0) {
			n = snprintf(out, outlen, "%.*s/%s", (int)dlen, d, name);
			if (n > 0 && (size_t)n < outlen && stat(out, &st) == 0 &&
			    S_ISREG(st.st_mode) && access(out, X_OK) == 0)
				return out;
		}
		if (!colon)
			break;
		d = colon + 1;
	}
	return NULL;
}

/* ---- is a binary built with AddressSanitizer? (its ELF dynamic section) ---- */

#define ELF_MAX_PHNUM  512
#define ELF_MAX_DYN    (64 * 1024)       /* bytes of PT_DYNAMIC looked at */
#define ELF_MAX_STRTAB (4 * 1024 * 1024) /* bytes of DT_STRTAB */

/* Reads exactly len bytes at off of a file of size bytes. 0 / -1. */
static int elf_read(int fd, uint64_t size, uint64_t off, void *buf, size_t len)
{
	size_t done = 0;

	if (off > size || len > size - off)
		return -1;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* The file offset of [addr, addr + len): inside the file image of one PT_LOAD
 * segment. 0 / -1. */
static int elf_file_off(const Elf64_Phdr *ph, size_t n, uint64_t addr, uint64_t len, uint64_t *off)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t rel;

		if (ph[i].p_type != PT_LOAD || addr < ph[i].p_vaddr)
			continue;
		rel = addr - ph[i].p_vaddr;
		if (rel > ph[i].p_filesz || len > ph[i].p_filesz - rel ||
		    ph[i].p_offset > UINT64_MAX - rel)
			continue;
		*off = ph[i].p_offset + rel;
		return 0;
	}
	return -1;
}

/* Whether the string table (NUL-terminated at len) holds name as a whole
 * string. */
static bool elf_has_string(const char *tab, size_t len, const char *name)
{
	size_t nl = strlen(name);
	const char *p = tab, *end = tab + len;

	while (p < end) {
		const char *hit = memmem(p, (size_t)(end - p), name, nl + 1);

		if (!hit)
			return false;
		if (hit == tab || hit[-1] == '\0')
			return true;
		p = hit + 1;
	}
	return false;
}

/* Whether the ELF file at path is built with AddressSanitizer: a DT_NEEDED
 * libasan.so.N (gcc), or __asan_init among its dynamic symbol names (clang
 * links the runtime statically and exports it). what gets the evidence. Any
 * read or parse failure (not ELF64 of this byte order, truncated, offsets
 * outside the file or its segments) is false. */
static bool elf_is_asan(const char *path, char *what, size_t whatlen)
{
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = NULL;
	Elf64_Dyn *dyn = NULL;
	char *strtab = NULL;
	size_t ndyn = 0, phnum;
	uint64_t size, tab_addr = 0, tab_size = 0, tab_off;
	bool have_tab = false, have_size = false, asan = false;
	const Elf64_Phdr *dph = NULL;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0)
		goto out;
	size = (uint64_t)st.st_size;
	if (elf_read(fd, size, 0, &eh, sizeof(eh)) != 0 ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	    eh.e_ident[EI_DATA] != ELFDATA2LSB ||
#else
	    eh.e_ident[EI_DATA] != ELFDATA2MSB ||
#endif
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > ELF_MAX_PHNUM)
		goto out;
	phnum = eh.e_phnum;
	ph = calloc(phnum, sizeof(*ph));
	if (!ph || elf_read(fd, size, eh.e_phoff, ph, phnum * sizeof(*ph)) != 0)
		goto out;
	for (size_t i = 0; i < phnum; i++) {
		if (ph[i].p_type == PT_DYNAMIC) {
			dph = &ph[i];
			break;
		}
	}
	if (!dph || dph->p_filesz < sizeof(Elf64_Dyn))
		goto out; /* static: nothing to look at */
	ndyn = (dph->p_filesz < ELF_MAX_DYN ? dph->p_filesz : ELF_MAX_DYN) / sizeof(*dyn);
	dyn = calloc(ndyn, sizeof(*dyn));
	if (!dyn || elf_read(fd, size, dph->p_offset, dyn, ndyn * sizeof(*dyn)) != 0)
		goto out;
	for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		if (dyn[i].d_tag == DT_STRTAB) {
			tab_addr = dyn[i].d_un.d_ptr;
			have_tab = true;
		} else if (dyn[i].d_tag == DT_STRSZ) {
			tab_size = dyn[i].d_un.d_val;
			have_size = true;
		}
	}
	if (!have_tab || !have_size || tab_size == 0 || tab_size > ELF_MAX_STRTAB ||
	    elf_file_off(ph, phnum, tab_addr, tab_size, &tab_off) != 0)
		goto out;
	strtab = malloc((size_t)tab_size + 1);
	if (!strtab || elf_read(fd, size, tab_off, strtab, (size_t)tab_size) != 0)
		goto out;
	strtab[tab_size] = '\0';
	for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL && !asan; i++) {
		const char *name;

		if (dyn[i].d_tag != DT_NEEDED || dyn[i].d_un.d_val >= tab_size)
			continue;
		name = strtab + dyn[i].d_un.d_val;
		if (strncmp(name, "libasan.so", 10) == 0) {
			snprintf(what, whatlen, "it needs %s", name);
			asan = true;
		}
	}
	if (!asan && elf_has_string(strtab, (size_t)tab_size, "__asan_init")) {
		snprintf(what, whatlen, "it has the symbol __asan_init");
		asan = true;
	}
out:
	free(strtab);
	free(dyn);
	free(ph);
	close(fd);
	return asan;
}

/* Resolves fp->bin (again, if it went missing). 0 when there is one. */
static int fn_resolve_binary(struct fnpool *fp)
{
	char path[PATH_MAX], full[PATH_MAX], why[128];
	const struct gw_config *cfg = fp->p->cfg;
	char *slash;

	if (fp->bin)
		return 0;
	if (!pool_find_binary(cfg->bin_dir, fp->f->name, path, sizeof(path))) {
		log_error("function %s unavailable: no executable '%s' in bin dirs %s", fp->f->name,
		          fp->f->name, cfg->bin_dir ? cfg->bin_dir : "(none)");
		return -1;
	}
	if (!realpath(path, full))
		snprintf(full, sizeof(full), "%s", path);
	fp->bin = strdup(full);
	fp->task_root = strdup(full);
	if (!fp->bin || !fp->task_root) {
		free(fp->bin);
		free(fp->task_root);
		fp->bin = fp->task_root = NULL;
		return -1;
	}
	slash = strrchr(fp->task_root, '/');
	if (slash && slash != fp->task_root)
		*slash = '\0';
	fp->asan = elf_is_asan(fp->bin, why, sizeof(why));
	if (fp->asan && cfg->memory_limits && fp->f->memory_mb > 0)
		log_info("function %s: no memory limit: %s is built with AddressSanitizer (%s), "
		         "which reserves terabytes of address space",
		         fp->f->name, fp->bin, why);
	return 0;
}

static char *env_pair(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *s = malloc(n);

	if (s && snprintf(s, n, "%s=%s", name, value) < 0) {
		free(s);
		s = NULL;
	}
	return s;
}

/* Sets name (replacing an earlier entry). 0 / -1. */
static int env_put(char **env, size_t *n, size_t cap, const char *name, const char *value)
{
	size_t nl = strlen(name);
	char *s;

	if (!value)
		return 0;
	s = env_pair(name, value);
	if (!s)
		return -1;
	for (size_t i = 1; i < *n; i++) {
		if (strncmp(env[i], name, nl) == 0 && env[i][nl] == '=') {
			free(env[i]);
			env[i] = s;
			return 0;
		}
	}
	if (*n + 1 >= cap) {
		free(s);
		return -1;
	}
	env[(*n)++] = s;
	env[*n] = NULL;
	return 0;
}

static bool env_has(char **env, size_t n, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 1; i < n; i++) {
		if (strncmp(env[i], name, nl) == 0 && env[i][nl] == '=')
			return true;
	}
	return false;
}

/* The worker environment (gateway.md): fixed variables, then the template's
 * (Globals first, the function's last; intrinsics take the gateway's value),
 * then the gateway's secrets and URLs unless the template set them. The
 * gateway's AWS credentials pass through, as Lambda gives a function its
 * role's: an s3:// STORAGE_URL needs them in the workers. */
static int fn_build_env(struct fnpool *fp)
{
	static const char *const pass[] = {"PATH",
	                                   "LANG",
	                                   "ASAN_OPTIONS",
	                                   "UBSAN_OPTIONS",
	                                   "LSAN_OPTIONS",
	                                   "AWS_ACCESS_KEY_ID",
	                                   "AWS_SECRET_ACCESS_KEY",
	                                   "AWS_SESSION_TOKEN"};
	static const char *const always[] = {"DATABASE_URL", "APP_SECRET", "STORAGE_URL",
	                                     "LOG_LEVEL"};
	const struct tpl_function *f = fp->f;
	size_t cap = 32 + f->n_env, n = 1;
	char **env = calloc(cap, sizeof(*env));
	char mem[32], endpoint[64];
	int rc = -1;

	if (!env)
		return -1;
	snprintf(mem, sizeof(mem), "%d", f->memory_mb);
	snprintf(endpoint, sizeof(endpoint), "http://%s", fp->p->addr);
	for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
		if (env_put(env, &n, cap, pass[i], getenv(pass[i])))
			goto out;
	}
	if (env_put(env, &n, cap, "TZ", "UTC") ||
	    env_put(env, &n, cap, "AWS_LAMBDA_FUNCTION_NAME", f->name) ||
	    env_put(env, &n, cap, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", mem) ||
	    env_put(env, &n, cap, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST") ||
	    env_put(env, &n, cap, "AWS_REGION", "local") ||
	    env_put(env, &n, cap, "_HANDLER", "bootstrap") ||
	    env_put(env, &n, cap, "LAMBDA_TASK_ROOT", fp->task_root ? fp->task_root : ".") ||
	    env_put(env, &n, cap, "AWS_ENDPOINT_URL_LAMBDA", endpoint) ||
	    /* where store_public_url() and presigned URLs point */
	    env_put(env, &n, cap, "GATEWAY_PUBLIC_URL", fp->p->cfg->public_url))
		goto out;
	for (size_t i = 0; i < f->n_env; i++) {
		const char *v = f->env[i].value ? f->env[i].value : getenv(f->env[i].name);
		if (env_put(env, &n, cap, f->env[i].name, v))
			goto out;
	}
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++) {
		if (!env_has(env, n, always[i]) &&
		    env_put(env, &n, cap, always[i], getenv(always[i])))
			goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		for (size_t i = 1; i < n; i++)
			free(env[i]);
		free(env);
		log_error("function %s: cannot build the worker environment", f->name);
		return -1;
	}
	fp->env = env;
	fp->n_env = n;
	return 0;
}

/* ---- workers ---- */

static void *watch_worker(void *arg);

/* In the child: async-signal-safe calls only, then execve. */
static void child_exec(const char *bin, char *const argv[], char *const envp[],
                       const struct rlimit *mem)
{
	static const int sigs[] = {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2};
	static const char msg[] =
	        "{\"level\":\"error\",\"msg\":\"gateway worker: execve failed\"}\n";
	struct sigaction sa;
	sigset_t none;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	dup2(2, 1);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
		for (int i = 3; i < 1024; i++)
			close(i);
	if (mem)
		setrlimit(RLIMIT_AS, mem);
	execve(bin, argv, envp);
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(127);
	_exit(127);
}

static void worker_free(struct worker *w)
{
	free(w);
}

/* Resumes the worker's suspended /next (it re-checks what it waits for).
 * fp->mu held. */
static void worker_wake(struct worker *w)
{
	if (w->con) {
		MHD_resume_connection(w->con);
		w->con = NULL;
	}
}

/* Starts a worker process and its watcher. fp->mu held. NULL on failure. */
static struct worker *worker_spawn(struct fnpool *fp)
{
	struct pool *p = fp->p;
	struct worker *w = NULL;
	char **envp = NULL;
	char *rtenv = NULL;
	char *argv[2];
	struct rlimit mem, *memp = NULL;
	char api[96];
	pthread_attr_t attr;
	pthread_t th;
	pid_t pid;
	int err;

	w = calloc(1, sizeof(*w));
	envp = calloc(fp->n_env + 1, sizeof(*envp));
	if (!w || !envp) {
		free(w);
		w = NULL;
		goto out;
	}
	w->fp = fp;
	w->seq = ++fp->next_seq;
	w->state = W_STARTING;
	snprintf(api, sizeof(api), "%s/w/%zu-%lu", p->addr, fp->idx, w->seq);
	rtenv = env_pair("AWS_LAMBDA_RUNTIME_API", api);
	if (!rtenv)
		goto fail;
	envp[0] = rtenv;
	for (size_t i = 1; i < fp->n_env; i++)
		envp[i] = fp->env[i];
	envp[fp->n_env] = NULL;
	argv[0] = fp->bin;
	argv[1] = NULL;
	if (p->mem_limits && !fp->asan && fp->f->memory_mb > 0) {
		mem.rlim_cur = mem.rlim_max =
		        (rlim_t)(fp->f->memory_mb + MEM_ALLOWANCE_MB) * 1024 * 1024;
		memp = &mem;
	}
	pid = fork();
	if (pid == 0)
		child_exec(fp->bin, argv, envp, memp);
	if (pid < 0) {
		log_error("function %s: cannot start a worker: fork: %s", fp->f->name,
		          strerror(errno));
		goto fail;
	}
	w->pid = pid;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_mutex_lock(&p->mu);
	err = pthread_create(&th, &attr, watch_worker, w);
	if (err == 0)
		p->watchers++;
	pthread_mutex_unlock(&p->mu);
	pthread_attr_destroy(&attr);
	if (err != 0) {
		log_error("function %s: cannot start a watcher thread: %s", fp->f->name,
		          strerror(err));
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		goto fail;
	}
	w->next = fp->workers;
	fp->workers = w;
	fp->cold++;
	log_debug("function %s: started worker %zu-%lu (pid %d)", fp->f->name, fp->idx, w->seq,
	          (int)pid);
	goto out;
fail:
	if (w)
		worker_free(w);
	w = NULL;
out:
	free(rtenv);
	free(envp);
	return w;
}

static struct worker *worker_find(struct fnpool *fp, unsigned long seq)
{
	for (struct worker *w = fp->workers; w; w = w->next) {
		if (w->seq == seq)
			return w;
	}
	return NULL;
}

/* Completes inv with r (body: malloc'd, taken). fp->mu held. */
static void inv_finish(struct inv *inv, enum inv_result r, char *body, size_t blen)
{
	inv->result = r;
	inv->body = body;
	inv->blen = blen;
	inv->done = true;
	inv->w = NULL;
	pthread_cond_signal(&inv->cond);
}

static void fn_refill(struct fnpool *fp);

/* The worker no longer holds an invocation. fp->mu held. */
static void worker_release(struct fnpool *fp, struct worker *w)
{
	if (w->inv) {
		w->inv->w = NULL;
		w->inv = NULL;
		fp->n_busy--;
	}
}

/* Signals a live worker; it takes no more invocations. fp->mu held (so the
 * pid cannot have been reaped and reused). */
static void worker_stop(struct fnpool *fp, struct worker *w, int sig)
{
	if (w->state == W_DEAD)
		return;
	if (w->state != W_STOPPING) {
		w->state = W_STOPPING;
		w->stop_since = mono_ms();
	}
	worker_release(fp, w);
	kill(w->pid, sig);
	worker_wake(w);
}

/* Hands inv to an idle worker (the most recently idle: the others age out),
 * or starts one. fp->mu held; 0, or -1 when no worker could be started. */
static int fn_dispatch(struct fnpool *fp, struct inv *inv)
{
	struct worker *w = NULL;

	for (struct worker *x = fp->workers; x; x = x->next) {
		if (x->state == W_IDLE && !x->inv && (!w || x->idle_since > w->idle_since))
			w = x;
	}
	if (w) {
		w->state = W_BUSY;
	} else {
		if (fn_resolve_binary(fp) != 0)
			return -1;
		w = worker_spawn(fp);
		if (!w)
			return -1;
		inv->cold = true;
	}
	w->inv = inv;
	inv->w = w;
	inv->queued = false;
	inv->since_ms = mono_ms();
	fp->n_busy++;
	worker_wake(w);
	return 0;
}

/* Moves queued invocations into free slots. fp->mu held. */
static void fn_refill(struct fnpool *fp)
{
	while (fp->qhead && fp->n_busy < fp->max) {
		struct inv *inv = fp->qhead;

		fp->qhead = inv->next;
		if (!fp->qhead)
			fp->qtail = NULL;
		fp->n_queued--;
		inv->next = NULL;
		inv->queued = false;
		if (fn_dispatch(fp, inv) != 0)
			inv_finish(inv, INV_UNAVAILABLE, NULL, 0);
	}
}

static void queue_remove(struct fnpool *fp, struct inv *inv)
{
	struct inv **pp = &fp->qhead, *prev = NULL;

	while (*pp && *pp != inv) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = inv->next;
	if (fp->qtail == inv)
		fp->qtail = prev;
	fp->n_queued--;
	inv->next = NULL;
	inv->queued = false;
}

/* The reaper: waitpid() for one worker, then what its exit means. */
static void *watch_worker(void *arg)
{
	struct worker *w = arg;
	struct fnpool *fp = w->fp;
	struct pool *p = fp->p;
	struct inv *inv;
	int st = 0;
	pid_t r;

	do
		r = waitpid(w->pid, &st, 0);
	while (r < 0 && errno == EINTR);
	pthread_mutex_lock(&fp->mu);
	inv = w->inv;
	if (inv && !inv->done) {
		worker_release(fp, w);
		if (inv->delivered) {
			fp->crashes++;
			log_error("function %s: worker pid %d died mid-invocation (%s %d)",
			          fp->f->name, (int)w->pid,
			          r > 0 && WIFSIGNALED(st) ? "signal" : "status",
			          r > 0 && WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			inv_finish(inv, INV_CRASHED, NULL, 0);
		} else if (w->ready && !atomic_load(&p->stopping)) {
			/* Died between two invocations: this one never reached it. */
			log_warn("function %s: idle worker pid %d exited; retrying on another",
			         fp->f->name, (int)w->pid);
			if (fn_dispatch(fp, inv) != 0)
				inv_finish(inv, INV_UNAVAILABLE, NULL, 0);
		} else {
			log_error("function %s: worker pid %d exited during init (%s %d)",
			          fp->f->name, (int)w->pid,
			          r > 0 && WIFSIGNALED(st) ? "signal" : "status",
			          r > 0 && WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			/* Perhaps the binary went away: look it up again next time. */
			if (r > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 127) {
				free(fp->bin);
				free(fp->task_root);
				fp->bin = fp->task_root = NULL;
			}
			inv_finish(inv, INV_UNAVAILABLE, NULL, 0);
		}
	} else if (w->state != W_STOPPING && r > 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		log_warn("function %s: idle worker pid %d exited (%s %d)", fp->f->name, (int)w->pid,
		         WIFSIGNALED(st) ? "signal" : "status",
		         WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	}
	worker_release(fp, w);
	for (struct worker **pp = &fp->workers; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	w->state = W_DEAD;
	worker_wake(w);
	worker_free(w);
	fn_refill(fp);
	pthread_mutex_unlock(&fp->mu);

	pthread_mutex_lock(&p->mu);
	p->watchers--;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* inv's wait ran out. fp->mu held. */
static void inv_expire(struct fnpool *fp, struct inv *inv)
{
	struct worker *w = inv->w;

	if (inv->queued) {
		queue_remove(fp, inv);
		fp->throttles++;
		log_warn("function %s: no free worker within %d s; throttled", fp->f->name,
		         fp->f->timeout_s);
		inv_finish(inv, INV_THROTTLED, NULL, 0);
		return;
	}
	if (!inv->delivered) {
		log_error("function %s: worker pid %d did not ask for an event within %.0f s; "
		          "killing it",
		          fp->f->name, w ? (int)w->pid : -1, INIT_TIMEOUT_MS / 1000.0);
		if (w)
			worker_stop(fp, w, SIGKILL);
		fn_refill(fp);
		inv_finish(inv, INV_UNAVAILABLE, NULL, 0);
		return;
	}
	fp->timeouts++;
	log_warn("function %s: invocation %s timed out after %d s; killing worker pid %d",
	         fp->f->name, inv->id, fp->f->timeout_s, w ? (int)w->pid : -1);
	if (w)
		worker_stop(fp, w, SIGKILL);
	fn_refill(fp);
	inv_finish(inv, INV_TIMEOUT, NULL, 0);
}

static struct fnpool *fn_find(struct pool *p, const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->fns[i].f->name, name) == 0)
			return &p->fns[i];
	}
	return NULL;
}

/* Runs one invocation and waits for it. Thread-safe. */
enum inv_result pool_invoke(struct pool *p, const char *fn, const char *event, size_t len,
                            struct inv_out *out)
{
	double t0 = mono_ms();
	struct fnpool *fp = fn_find(p, fn);
	enum inv_result r;
	struct inv inv;
	char rid[33];

	memset(out, 0, sizeof(*out));
	if (!fp)
		return INV_UNKNOWN;
	memset(&inv, 0, sizeof(inv));
	if (cond_init_mono(&inv.cond) != 0)
		return INV_UNAVAILABLE;
	inv.event = event ? event : "{}";
	inv.len = event ? len : 2;
	event_request_id(inv.event, inv.len, inv.id, sizeof(inv.id));
	rt_new_request_id(rid);
	snprintf(inv.trace, sizeof(inv.trace), "Root=1-%08llx-%.24s;Sampled=0",
	         (unsigned long long)(epoch_ms() / 1000), rid);

	pthread_mutex_lock(&fp->mu);
	if (atomic_load(&p->stopping)) {
		inv_finish(&inv, INV_STOPPING, NULL, 0);
	} else if (fp->max == 0) {
		fp->throttles++;
		inv_finish(&inv, INV_THROTTLED, NULL, 0);
	} else if (fn_resolve_binary(fp) != 0) {
		inv_finish(&inv, INV_UNAVAILABLE, NULL, 0);
	} else if (fp->n_busy < fp->max && !fp->qhead) {
		if (fn_dispatch(fp, &inv) != 0)
			inv_finish(&inv, INV_UNAVAILABLE, NULL, 0);
	} else if (fp->n_queued < p->cfg->queue_len) {
		inv.queued = true;
		inv.since_ms = t0;
		if (fp->qtail)
			fp->qtail->next = &inv;
		else
			fp->qhead = &inv;
		fp->qtail = &inv;
		fp->n_queued++;
	} else {
		fp->throttles++;
		inv_finish(&inv, INV_THROTTLED, NULL, 0);
	}
	while (!inv.done) {
		double limit = inv.queued      ? inv.since_ms + fp->f->timeout_s * 1000.0
		               : inv.delivered ? inv.deadline_ms
		                               : inv.since_ms + INIT_TIMEOUT_MS;
		struct timespec ts;

		if (mono_ms() >= limit) {
			inv_expire(fp, &inv);
			break;
		}
		abs_time(limit, &ts);
		pthread_cond_timedwait(&inv.cond, &fp->mu, &ts);
	}
	pthread_mutex_unlock(&fp->mu);

	r = inv.result;
	out->body = inv.body;
	out->len = inv.blen;
	out->cold = inv.cold;
	out->ms = mono_ms() - t0;
	pthread_cond_destroy(&inv.cond);
	return r;
}

/* ---- the Runtime API server ---- */

static enum MHD_Result reply(struct MHD_Connection *con, unsigned status, const char *body)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(con, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* {"errorMessage":msg,"errorType":type}: the Runtime API's error shape. */
static enum MHD_Result reply_rt_error(struct MHD_Connection *con, unsigned status, const char *type,
                                      const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;
	enum MHD_Result ret = MHD_NO;

	if (o && cJSON_AddStringToObject(o, "errorMessage", msg) &&
	    cJSON_AddStringToObject(o, "errorType", type))
		s = cJSON_PrintUnformatted(o);
	if (s)
		ret = reply(con, status, s);
	free(s);
	cJSON_Delete(o);
	return ret;
}

/* {"Message":msg,"Type":kind} with x-amzn-ErrorType: the Invoke API's shape. */
static enum MHD_Result reply_api_error(struct MHD_Connection *con, unsigned status,
                                       const char *etype, const char *kind, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;
	struct MHD_Response *r = NULL;
	enum MHD_Result ret = MHD_NO;

	if (o && cJSON_AddStringToObject(o, "Message", msg) &&
	    cJSON_AddStringToObject(o, "Type", kind))
		s = cJSON_PrintUnformatted(o);
	if (s)
		r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(s);
		goto out;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "x-amzn-ErrorType", etype);
	ret = MHD_queue_response(con, status, r);
	MHD_destroy_response(r);
out:
	cJSON_Delete(o);
	return ret;
}

/* Takes the connection's body (malloc'd, NUL-terminated). */
static char *conn_take(struct conn *c, size_t *len)
{
	char *b = c->buf;

	*len = c->len;
	c->buf = NULL;
	c->len = c->cap = 0;
	if (!b)
		b = calloc(1, 1);
	return b;
}

/* GET /next: answers with w's assigned invocation, or suspends the
 * connection until fn_dispatch() (or the worker's end) resumes it; the
 * server calls this again then. */
static enum MHD_Result rt_next(struct MHD_Connection *con, struct conn *c, struct fnpool *fp,
                               unsigned long seq)
{
	struct MHD_Response *r = NULL;
	struct worker *w;
	struct inv *inv;
	char deadline[32], arn[256];
	enum MHD_Result ret;
	bool resumed = c->wait == C_NEXT;

	c->wait = C_NONE;
	pthread_mutex_lock(&fp->mu);
	w = worker_find(fp, seq);
	if (!w || w->state == W_STOPPING || w->state == W_DEAD) {
		pthread_mutex_unlock(&fp->mu);
		if (!w && !resumed)
			return reply_rt_error(con, 404, "InvalidWorkerId", "unknown worker");
		return reply_rt_error(con, 410, "WorkerStopping", "this worker is stopping");
	}
	w->ready = true;
	if (w->state == W_STARTING)
		w->state = w->inv ? W_BUSY : W_IDLE;
	inv = w->inv;
	if (!inv || inv->delivered) {
		if (w->con && w->con != con) {
			pthread_mutex_unlock(&fp->mu);
			return reply_rt_error(con, 400, "InvalidStateTransition",
			                      "this worker is already waiting for an event");
		}
		/* Under fp->mu: nobody can resume it before it is suspended. */
		w->con = con;
		c->wait = C_NEXT;
		MHD_suspend_connection(con);
		pthread_mutex_unlock(&fp->mu);
		return MHD_YES;
	}
	inv->delivered = true;
	inv->deadline_ms = mono_ms() + fp->f->timeout_s * 1000.0;
	inv->deadline_epoch_ms = epoch_ms() + (long long)fp->f->timeout_s * 1000;
	/* Copied now: the caller's buffer may go once it has its answer. */
	r = MHD_create_response_from_buffer(inv->len, (void *)inv->event, MHD_RESPMEM_MUST_COPY);
	if (r) {
		snprintf(deadline, sizeof(deadline), "%lld", inv->deadline_epoch_ms);
		snprintf(arn, sizeof(arn), ARN_PREFIX "%s", fp->f->name);
		MHD_add_response_header(r, "Content-Type", "application/json");
		MHD_add_response_header(r, "Lambda-Runtime-Aws-Request-Id", inv->id);
		MHD_add_response_header(r, "Lambda-Runtime-Deadline-Ms", deadline);
		MHD_add_response_header(r, "Lambda-Runtime-Invoked-Function-Arn", arn);
		MHD_add_response_header(r, "Lambda-Runtime-Trace-Id", inv->trace);
	}
	/* The caller now waits for the deadline instead of the init limit. */
	pthread_cond_signal(&inv->cond);
	pthread_mutex_unlock(&fp->mu);
	if (!r)
		return MHD_NO;
	ret = MHD_queue_response(con, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* POST .../invocation/{id}/response or /error. */
static enum MHD_Result rt_result(struct pool *p, struct MHD_Connection *con, struct conn *c,
                                 struct fnpool *fp, unsigned long seq, const char *id, size_t idlen,
                                 bool error)
{
	struct worker *w;
	struct inv *inv;
	char *body;
	size_t len;

	(void)p;
	if (c->too_big)
		return reply_rt_error(con, 413, "RequestEntityTooLarge",
		                      "the response is over the payload limit");
	pthread_mutex_lock(&fp->mu);
	w = worker_find(fp, seq);
	if (!w) {
		pthread_mutex_unlock(&fp->mu);
		return reply_rt_error(con, 404, "InvalidWorkerId", "unknown worker");
	}
	inv = w->inv;
	if (!inv || !inv->delivered || inv->done || strlen(inv->id) != idlen ||
	    memcmp(inv->id, id, idlen) != 0) {
		pthread_mutex_unlock(&fp->mu);
		return reply_rt_error(con, 400, "InvalidRequestID",
		                      "no such invocation on this worker");
	}
	body = conn_take(c, &len);
	if (!body) {
		pthread_mutex_unlock(&fp->mu);
		return MHD_NO;
	}
	worker_release(fp, w);
	if (w->state == W_BUSY) {
		w->state = W_IDLE;
		w->idle_since = mono_ms();
	}
	inv_finish(inv, error ? INV_FUNCTION_ERROR : INV_OK, body, len);
	fn_refill(fp);
	pthread_mutex_unlock(&fp->mu);
	return reply(con, 202, "{\"status\":\"OK\"}");
}

/* POST /runtime/init/error: the worker could not start. */
static enum MHD_Result rt_init_error(struct MHD_Connection *con, struct conn *c, struct fnpool *fp,
                                     unsigned long seq)
{
	struct worker *w;
	struct inv *inv;
	char *body;
	size_t len;

	pthread_mutex_lock(&fp->mu);
	w = worker_find(fp, seq);
	if (!w) {
		pthread_mutex_unlock(&fp->mu);
		return reply_rt_error(con, 404, "InvalidWorkerId", "unknown worker");
	}
	log_error("function %s: worker pid %d failed to initialise: %.300s", fp->f->name,
	          (int)w->pid, c->buf ? c->buf : "");
	inv = w->inv;
	if (w->state != W_STOPPING && w->state != W_DEAD) {
		w->state = W_STOPPING;
		w->stop_since = mono_ms();
	}
	worker_release(fp, w);
	if (inv && !inv->done) {
		body = conn_take(c, &len);
		inv_finish(inv, INV_UNAVAILABLE, body, body ? len : 0);
	}
	worker_wake(w);
	fn_refill(fp);
	pthread_mutex_unlock(&fp->mu);
	return reply(con, 202, "{\"status\":\"OK\"}");
}

/* /w/<idx>-<seq>/2018-06-01/runtime/...: the Runtime API of one worker. */
static enum MHD_Result rt_route(struct pool *p, struct MHD_Connection *con, struct conn *c,
                                const char *url, const char *method)
{
	const char *s = url + 3, *rest;
	char *end;
	unsigned long idx, seq;
	struct fnpool *fp;
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;

	errno = 0;
	idx = strtoul(s, &end, 10);
	if (errno || end == s || *end != '-')
		return reply_rt_error(con, 404, "InvalidWorkerId", "unknown worker");
	s = end + 1;
	seq = strtoul(s, &end, 10);
	if (errno || end == s || *end != '/' || idx >= p->n)
		return reply_rt_error(con, 404, "InvalidWorkerId", "unknown worker");
	fp = &p->fns[idx];
	rest = end;
	if (strncmp(rest, RUNTIME_PATH "/", sizeof(RUNTIME_PATH)) != 0)
		return reply_rt_error(con, 404, "NotFound", "no such Runtime API path");
	rest += sizeof(RUNTIME_PATH);
	if (strcmp(rest, "invocation/next") == 0) {
		if (!get)
			return reply_rt_error(con, 405, "MethodNotAllowed", "use GET");
		return rt_next(con, c, fp, seq);
	}
	if (strcmp(rest, "init/error") == 0) {
		if (!post)
			return reply_rt_error(con, 405, "MethodNotAllowed", "use POST");
		return rt_init_error(con, c, fp, seq);
	}
	if (strncmp(rest, "invocation/", 11) == 0) {
		const char *id = rest + 11, *slash = strchr(id, '/');

		if (slash && slash != id &&
		    (strcmp(slash, "/response") == 0 || strcmp(slash, "/error") == 0)) {
			if (!post)
				return reply_rt_error(con, 405, "MethodNotAllowed", "use POST");
			return rt_result(p, con, c, fp, seq, id, (size_t)(slash - id),
			                 strcmp(slash, "/error") == 0);
		}
	}
	return reply_rt_error(con, 404, "NotFound", "no such Runtime API path");
}

/* The synchronous Invoke API answer for a pool result (Lambda's shapes). */
static enum MHD_Result invoke_sync_reply(struct MHD_Connection *con, struct fnpool *fp,
                                         enum inv_result r, struct inv_out *out)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *type = NULL, *msg = NULL;
	char text[160];

	switch (r) {
	case INV_OK:
	case INV_FUNCTION_ERROR:
		break;
	case INV_THROTTLED:
		return reply_api_error(con, 429, "TooManyRequestsException", "User",
		                       "Rate Exceeded.");
	case INV_STOPPING:
		return reply_api_error(con, 503, "ServiceException", "Service",
		                       "the gateway is shutting down");
	case INV_UNKNOWN:
		return reply_api_error(con, 404, "ResourceNotFoundException", "User",
		                       "Function not found");
	case INV_TIMEOUT:
		type = "Sandbox.Timedout";
		snprintf(text, sizeof(text), "Task timed out after %d.00 seconds",
		         fp->f->timeout_s);
		msg = text;
		break;
	case INV_CRASHED:
		type = "Runtime.ExitError";
		msg = "the runtime exited during the invocation";
		break;
	case INV_UNAVAILABLE:
		type = "Runtime.InitError";
		msg = "the function could not be started";
		break;
	}
	if (type) {
		cJSON *o = cJSON_CreateObject();
		free(out->body);
		out->body = NULL;
		if (o && cJSON_AddStringToObject(o, "errorMessage", msg) &&
		    cJSON_AddStringToObject(o, "errorType", type))
			out->body = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		out->len = out->body ? strlen(out->body) : 0;
	}
	resp = MHD_create_response_from_buffer(
	        out->body ? out->len : 0, out->body ? out->body : (void *)"",
	        out->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	out->body = NULL;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "X-Amz-Executed-Version", "$LATEST");
	if (r != INV_OK)
		MHD_add_response_header(resp, "X-Amz-Function-Error", "Unhandled");
	ret = MHD_queue_response(con, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Hands an Invoke API result back to its suspended connection. */
static void invoke_done(struct conn *c)
{
	struct pool *p = c->p;

	c->wait = C_INVOKE_DONE;
	/* The server may finish and free c from here on. */
	MHD_resume_connection(c->con);
	pthread_mutex_lock(&p->mu);
	p->invokers--;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
}

static void *invoke_thread(void *arg)
{
	struct conn *c = arg;

	c->r = pool_invoke(c->p, c->fp->f->name, c->buf ? c->buf : "{}", c->buf ? c->len : 2,
	                   &c->out);
	invoke_done(c);
	return NULL;
}

/* POST /2015-03-31/functions/{name}/invocations */
static enum MHD_Result invoke_api(struct pool *p, struct MHD_Connection *con, struct conn *c,
                                  const char *url, const char *method)
{
	const char *name = url + sizeof(INVOKE_PATH) - 1;
	size_t nlen = strlen(name), slen = sizeof(INVOKE_SUFFIX) - 1;
	const char *type;
	char fname[256], msg[400];
	const char *colon;
	struct fnpool *fp;
	pthread_attr_t attr;
	pthread_t th;
	int err;

	if (c->wait == C_INVOKE_DONE) {
		c->wait = C_NONE;
		return invoke_sync_reply(con, c->fp, c->r, &c->out);
	}
	if (nlen <= slen || strcmp(name + nlen - slen, INVOKE_SUFFIX) != 0)
		return reply_api_error(con, 404, "UnknownOperationException", "User",
		                       "unknown operation");
	nlen -= slen;
	if (nlen >= sizeof(fname))
		nlen = sizeof(fname) - 1;
	memcpy(fname, name, nlen);
	fname[nlen] = '\0';
	if (strcmp(method, "POST") != 0)
		return reply_api_error(con, 405, "MethodNotAllowedException", "User", "use POST");
	/* A full ARN names the function after "function:" (a qualifier after it). */
	name = fname;
	if (strncmp(name, "arn:", 4) == 0) {
		const char *f = strstr(name, ":function:");
		name = f ? f + 10 : name;
	}
	colon = strchr(name, ':');
	if (colon)
		fname[colon - fname] = '\0';
	fp = fn_find(p, name);
	if (!fp) {
		snprintf(msg, sizeof(msg), "Function not found: " ARN_PREFIX "%s", name);
		return reply_api_error(con, 404, "ResourceNotFoundException", "User", msg);
	}
	if (c->too_big)
		return reply_api_error(con, 413, "RequestTooLargeException", "User",
		                       "the request payload is over the limit");
	type = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "X-Amz-Invocation-Type");
	if (type && strcmp(type, "Event") == 0) {
		if (!p->q)
			return reply_api_error(con, 503, "ServiceException", "Service",
			                       "asynchronous invocation is not available");
		if (asyncq_enqueue(p->q, fp->f->name, c->buf ? c->buf : "{}", c->buf ? c->len : 2,
		                   NULL) != 0)
			return reply_api_error(con, 500, "ServiceException", "Service",
			                       "the event could not be queued");
		return reply(con, 202, "");
	}
	if (type && strcmp(type, "DryRun") == 0)
		return reply(con, 204, "");
	if (type && strcmp(type, "RequestResponse") != 0)
		return reply_api_error(con, 400, "InvalidParameterValueException", "User",
		                       "unknown X-Amz-Invocation-Type");
	/* pool_invoke blocks: run it on a thread of its own while the server
	 * goes on (the worker it waits for talks to this same server). */
	c->p = p;
	c->con = con;
	c->fp = fp;
	c->wait = C_INVOKE;
	pthread_mutex_lock(&p->mu);
	p->invokers++;
	pthread_mutex_unlock(&p->mu);
	MHD_suspend_connection(con);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&th, &attr, invoke_thread, c);
	pthread_attr_destroy(&attr);
	if (err != 0) {
		log_error("invoke API: cannot start a thread: %s", strerror(err));
		c->r = INV_UNAVAILABLE;
		invoke_done(c);
	}
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct pool *p = cls;
	struct conn *c = *con_cls;

	(void)version;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return MHD_NO;
		*con_cls = c;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (c->too_big || c->len + n > p->body_cap) {
			c->too_big = true;
			return MHD_YES;
		}
		if (c->len + n + 1 > c->cap) {
			size_t cap = c->cap ? c->cap : 4096;
			char *nb;

			while (cap < c->len + n + 1)
				cap *= 2;
			nb = realloc(c->buf, cap);
			if (!nb)
				return MHD_NO;
			c->buf = nb;
			c->cap = cap;
		}
		memcpy(c->buf + c->len, upload_data, n);
		c->len += n;
		c->buf[c->len] = '\0';
		return MHD_YES;
	}
	if (strncmp(url, "/w/", 3) == 0)
		return rt_route(p, con, c, url, method);
	if (strncmp(url, INVOKE_PATH, sizeof(INVOKE_PATH) - 1) == 0)
		return invoke_api(p, con, c, url, method);
	return reply_rt_error(con, 404, "NotFound", "no such path");
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct conn *c = *con_cls;

	(void)cls;
	(void)con;
	(void)toe;
	if (c) {
		free(c->buf);
		free(c->out.body);
		free(c);
		*con_cls = NULL;
	}
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("runtime API server: %s", msg);
}

/* ---- maintenance: scale to zero ---- */

static void *maintain(void *arg)
{
	struct pool *p = arg;
	double idle_ms = (p->cfg->idle_s > 0 ? p->cfg->idle_s : 0) * 1000.0;

	pthread_mutex_lock(&p->mu);
	while (!p->closing) {
		struct timespec ts;

		abs_time(mono_ms() + MAINT_PERIOD_MS, &ts);
		pthread_cond_timedwait(&p->cond, &p->mu, &ts);
		if (p->closing)
			break;
		pthread_mutex_unlock(&p->mu);
		for (size_t i = 0; i < p->n; i++) {
			struct fnpool *fp = &p->fns[i];
			double now = mono_ms();

			pthread_mutex_lock(&fp->mu);
			for (struct worker *w = fp->workers; w; w = w->next) {
				if (w->state == W_IDLE && !w->inv && p->cfg->idle_s >= 0 &&
				    now - w->idle_since >= idle_ms) {
					log_info(
					        "function %s: stopping worker pid %d (idle %.0f s)",
					        fp->f->name, (int)w->pid,
					        (now - w->idle_since) / 1000.0);
					worker_stop(fp, w, SIGTERM);
				} else if (w->state == W_STOPPING &&
				           now - w->stop_since >= STOP_GRACE_MS) {
					kill(w->pid, SIGKILL);
				}
			}
			pthread_mutex_unlock(&fp->mu);
		}
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* ---- life cycle ---- */

/* Starts the Runtime API server on 127.0.0.1 (ephemeral port). */
struct pool *pool_new(const struct tpl *t, const struct gw_config *cfg)
{
	struct pool *p = calloc(1, sizeof(*p));
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	size_t inited = 0;
	bool ok = false;

	if (!p)
		return NULL;
	p->t = t;
	p->cfg = cfg;
	p->n = t->n_functions;
	p->body_cap = cfg->max_body * 2 + 1024 * 1024;
	p->mem_limits = cfg->memory_limits;
	pthread_mutex_init(&p->mu, NULL);
	if (cond_init_mono(&p->cond) != 0)
		goto out;
	p->fns = calloc(p->n ? p->n : 1, sizeof(*p->fns));
	if (!p->fns)
		goto out;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	p->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	                                MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
	                        0, NULL, NULL, on_request, p, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
	                        p, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED,
	                        on_completed, p, MHD_OPTION_CONNECTION_TIMEOUT, 0U, MHD_OPTION_END);
	if (!p->d) {
		log_error("cannot start the Runtime API server on 127.0.0.1");
		goto out;
	}
	info = MHD_get_daemon_info(p->d, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || info->port == 0) {
		log_error("cannot find the Runtime API server's port");
		goto out;
	}
	snprintf(p->addr, sizeof(p->addr), "127.0.0.1:%u", (unsigned)info->port);

	for (size_t i = 0; i < p->n; i++) {
		struct fnpool *fp = &p->fns[i];

		fp->p = p;
		fp->idx = i;
		fp->f = &t->functions[i];
		fp->max = fp->f->reserved >= 0 ? fp->f->reserved : cfg->default_concurrency;
		if (fp->max < 0)
			fp->max = 1;
		pthread_mutex_init(&fp->mu, NULL);
		inited++;
		if (fn_resolve_binary(fp) != 0)
			log_warn("function %s: invocations will fail until its binary exists",
			         fp->f->name);
		if (fn_build_env(fp) != 0)
			goto out;
		if (fp->max == 0)
			log_info("function %s: ReservedConcurrentExecutions is 0: disabled",
			         fp->f->name);
	}
	if (pthread_create(&p->maint, NULL, maintain, p) != 0) {
		log_error("cannot start the worker maintenance thread");
		goto out;
	}
	p->maint_started = true;
	log_info("runtime API on %s: %zu functions", p->addr, p->n);
	ok = true;
out:
	if (!ok) {
		if (p->d)
			MHD_stop_daemon(p->d);
		p->d = NULL;
		for (size_t i = 0; i < inited; i++) {
			struct fnpool *fp = &p->fns[i];
			for (size_t k = 1; fp->env && k < fp->n_env; k++)
				free(fp->env[k]);
			free(fp->env);
			free(fp->bin);
			free(fp->task_root);
			pthread_mutex_destroy(&fp->mu);
		}
		free(p->fns);
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->mu);
		free(p);
		p = NULL;
	}
	return p;
}

/* Where async Invoke API calls go. */
void pool_set_asyncq(struct pool *p, struct asyncq *q)
{
	p->q = q;
}

/* "127.0.0.1:PORT" of the Runtime API server. */
const char *pool_runtime_addr(const struct pool *p)
{
	return p->addr;
}

static int pool_busy(struct pool *p)
{
	int n = 0;

	for (size_t i = 0; i < p->n; i++) {
		pthread_mutex_lock(&p->fns[i].mu);
		n += p->fns[i].n_busy + p->fns[i].n_queued;
		pthread_mutex_unlock(&p->fns[i].mu);
	}
	return n;
}

/* Signals every worker; fails what is still running with INV_STOPPING. */
static void pool_signal_all(struct pool *p, int sig)
{
	for (size_t i = 0; i < p->n; i++) {
		struct fnpool *fp = &p->fns[i];

		pthread_mutex_lock(&fp->mu);
		while (fp->qhead) {
			struct inv *inv = fp->qhead;
			queue_remove(fp, inv);
			inv_finish(inv, INV_STOPPING, NULL, 0);
		}
		for (struct worker *w = fp->workers; w; w = w->next) {
			struct inv *inv = w->inv;

			if (w->state == W_DEAD)
				continue;
			worker_stop(fp, w, sig);
			if (inv && !inv->done)
				inv_finish(inv, INV_STOPPING, NULL, 0);
		}
		pthread_mutex_unlock(&fp->mu);
	}
}

/* Waits until every watcher is done or until the monotonic limit. */
static bool pool_wait_watchers(struct pool *p, double limit)
{
	bool none;

	pthread_mutex_lock(&p->mu);
	while (p->watchers > 0 && mono_ms() < limit) {
		struct timespec ts;

		abs_time(limit, &ts);
		pthread_cond_timedwait(&p->cond, &p->mu, &ts);
	}
	none = p->watchers == 0;
	pthread_mutex_unlock(&p->mu);
	return none;
}

/* Stops taking invocations, lets running ones finish (up to timeout_s), then
 * SIGTERM to every worker and SIGKILL to those still there after a grace. */
void pool_drain(struct pool *p, int timeout_s)
{
	double limit = mono_ms() + (timeout_s > 0 ? timeout_s : 0) * 1000.0;
	int left;

	if (!p || p->drained)
		return;
	atomic_store(&p->stopping, 1);
	/* Shutdown only: a short sleep between checks keeps the hot path free
	 * of drain bookkeeping. */
	while ((left = pool_busy(p)) > 0 && mono_ms() < limit) {
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (left > 0)
		log_warn("drain: %d invocations still running after %d s; stopping them", left,
		         timeout_s);
	pool_signal_all(p, SIGTERM);
	if (!pool_wait_watchers(p, mono_ms() + STOP_GRACE_MS)) {
		log_warn("drain: workers still running after SIGTERM; killing them");
		pool_signal_all(p, SIGKILL);
		pool_wait_watchers(p, mono_ms() + 10000.0);
	}
	p->drained = true;
}

/* Drains (at once) if needed, stops the server and frees everything. */
void pool_free(struct pool *p)
{
	if (!p)
		return;
	pool_drain(p, 0);
	pthread_mutex_lock(&p->mu);
	p->closing = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
	if (p->maint_started)
		pthread_join(p->maint, NULL);
	pthread_mutex_lock(&p->mu);
	while (p->invokers > 0)
		pthread_cond_wait(&p->cond, &p->mu);
	pthread_mutex_unlock(&p->mu);
	/* Any /next still blocked belongs to a dead worker and has been woken. */
	if (p->d)
		MHD_stop_daemon(p->d);
	for (size_t i = 0; i < p->n; i++) {
		struct fnpool *fp = &p->fns[i];

		while (fp->workers) {
			/* Only when a watcher could not finish (waitpid never returned). */
			struct worker *w = fp->workers;
			fp->workers = w->next;
			worker_free(w);
		}
		for (size_t k = 1; fp->env && k < fp->n_env; k++)
			free(fp->env[k]);
		free(fp->env);
		free(fp->bin);
		free(fp->task_root);
		pthread_mutex_destroy(&fp->mu);
	}
	free(p->fns);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* Prometheus text: per function cold starts, workers, in flight, queued,
 * throttles, timeouts and crashes. */
void pool_metrics(struct pool *p, FILE *out)
{
	static const char *const head = "# HELP gw_cold_starts_total Worker processes started.\n"
	                                "# TYPE gw_cold_starts_total counter\n";

	fputs(head, out);
	for (size_t i = 0; i < p->n; i++) {
		struct fnpool *fp = &p->fns[i];
		pthread_mutex_lock(&fp->mu);
		fprintf(out, "gw_cold_starts_total{function=\"%s\"} %lu\n", fp->f->name, fp->cold);
		pthread_mutex_unlock(&fp->mu);
	}
	fputs("# HELP gw_workers Live worker processes by state.\n"
	      "# TYPE gw_workers gauge\n",
	      out);
	for (size_t i = 0; i < p->n; i++) {
		struct fnpool *fp = &p->fns[i];
		int idle = 0, busy = 0;

		pthread_mutex_lock(&fp->mu);
		for (struct worker *w = fp->workers; w; w = w->next) {
			if (w->state == W_IDLE)
				idle++;
			else if (w->state == W_BUSY || w->state == W_STARTING)
				busy++;
		}
		pthread_mutex_unlock(&fp->mu);
		fprintf(out, "gw_workers{function=\"%s\",state=\"idle\"} %d\n", fp->f->name, idle);
		fprintf(out, "gw_workers{function=\"%s\",state=\"busy\"} %d\n", fp->f->name, busy);
	}
	static const struct {
		const char *name, *type, *help;
		size_t off;
		bool is_int;
	} rows[] = {
	        {"gw_inflight", "gauge", "Invocations running in a worker.",
	         offsetof(struct fnpool, n_busy), true},
	        {"gw_queued", "gauge", "Invocations waiting for a free worker.",
	         offsetof(struct fnpool, n_queued), true},
	        {"gw_throttles_total", "counter", "Invocations refused (429).",
	         offsetof(struct fnpool, throttles), false},
	        {"gw_timeouts_total", "counter", "Invocations past their Timeout (504).",
	         offsetof(struct fnpool, timeouts), false},
	        {"gw_crashes_total", "counter", "Workers that died mid-invocation (502).",
	         offsetof(struct fnpool, crashes), false},
	};
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", rows[r].name, rows[r].help,
		        rows[r].name, rows[r].type);
		for (size_t i = 0; i < p->n; i++) {
			struct fnpool *fp = &p->fns[i];
			const char *base = (const char *)fp + rows[r].off;
			unsigned long v;

			pthread_mutex_lock(&fp->mu);
			if (rows[r].is_int) {
				int iv;
				memcpy(&iv, base, sizeof(iv));
				v = iv > 0 ? (unsigned long)iv : 0;
			} else {
				memcpy(&v, base, sizeof(v));
			}
			pthread_mutex_unlock(&fp->mu);
			fprintf(out, "%s{function=\"%s\"} %lu\n", rows[r].name, fp->f->name, v);
		}
	}
}
