/* log.c - JSON-lines logs on stderr, one write(2) per line. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A formatted message longer than this is cut (and marked with "..."). */
#define LOG_MSG_MAX 2048
/* Worst case: every message byte escaped as \u00XX, plus the other fields. */
#define LOG_LINE_MAX (LOG_MSG_MAX * 6 + 1024)

static atomic_int log_level = LOG_INFO;
static char log_fn[64];
static _Thread_local char log_rid[80];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* Growing view of the line buffer; stops appending (sets full) at the end. */
struct line {
	char *buf;
	size_t len, cap;
	bool full;
};

void log_set_level(enum log_level level)
{
	if (level < LOG_DEBUG || level > LOG_ERROR)
		level = LOG_INFO;
	atomic_store(&log_level, (int)level);
}

int log_level_parse(const char *s, enum log_level *out)
{
	if (s == NULL)
		return -1;
	for (int i = LOG_DEBUG; i <= LOG_ERROR; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = LOG_WARN;
		return 0;
	}
	return -1;
}

void log_set_function(const char *name)
{
	/* Set once at start-up, before threads exist. */
	snprintf(log_fn, sizeof(log_fn), "%s", name ? name : "");
}

void log_set_request_id(const char *id)
{
	snprintf(log_rid, sizeof(log_rid), "%s", id ? id : "");
}

static void line_raw(struct line *l, const char *s, size_t n)
{
	if (l->full)
		return;
	if (n > l->cap - l->len) {
		l->full = true;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void line_str(struct line *l, const char *s)
{
	line_raw(l, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Appends s as the inside of a JSON string: quotes, backslashes and control
 * characters escaped, invalid UTF-8 replaced by U+FFFD. */
static void line_escaped(struct line *l, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	char esc[8];

	while (n > 0) {
		size_t k = utf8_seq(p, n);

		if (k == 0) {
			line_str(l, "\\ufffd");
			p++;
			n--;
			continue;
		}
		if (k > 1) {
			line_raw(l, (const char *)p, k);
		} else if (*p == '"') {
			line_str(l, "\\\"");
		} else if (*p == '\\') {
			line_str(l, "\\\\");
		} else if (*p == '\n') {
			line_str(l, "\\n");
		} else if (*p == '\r') {
			line_str(l, "\\r");
		} else if (*p == '\t') {
			line_str(l, "\\t");
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			line_str(l, esc);
		} else {
			line_raw(l, (const char *)p, 1);
		}
		p += k;
		n -= k;
	}
}

static void line_field(struct line *l, const char *name, const char *value)
{
	line_str(l, ",\"");
	line_str(l, name);
	line_str(l, "\":\"");
	line_escaped(l, value);
	line_str(l, "\"");
}

/* Starts a line with ts, level, fn, request_id and msg. */
static void line_start(struct line *l, enum log_level level, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char stamp[96];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	line_str(l, "{\"ts\":\"");
	line_str(l, stamp);
	line_str(l, "\"");
	line_field(l, "level", level_names[level]);
	line_field(l, "fn", log_fn);
	if (log_rid[0] != '\0')
		line_field(l, "request_id", log_rid);
	line_field(l, "msg", msg);
}

/* Closes the object and writes it with one write(2) (retrying the rest only
 * after a short write). */
static void line_emit(struct line *l)
{
	size_t off = 0;

	/* Room for "}\n" was reserved in cap. */
	l->cap += 2;
	l->full = false;
	line_str(l, "}\n");
	while (off < l->len) {
		ssize_t w = write(STDERR_FILENO, l->buf + off, l->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

/* Formats fmt into msg (cut at LOG_MSG_MAX bytes, marked with "..."). */
static void format_msg(char *msg, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(msg, size, fmt, ap);

	if (n < 0) {
		snprintf(msg, size, "(log format error)");
	} else if ((size_t)n >= size) {
		memcpy(msg + size - 4, "...", 4);
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[LOG_MSG_MAX];
	char buf[LOG_LINE_MAX];
	struct line l = {buf, 0, sizeof(buf) - 2, false};
	va_list ap;

	if (level < LOG_DEBUG || level > LOG_ERROR)
		level = LOG_ERROR;
	if ((int)level < atomic_load(&log_level))
		return;
	va_start(ap, fmt);
	format_msg(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line_start(&l, level, msg);
	line_emit(&l);
}

void log_request(const char *method, const char *path, int status, double duration_ms)
{
	char buf[LOG_LINE_MAX];
	char num[64];
	struct line l = {buf, 0, sizeof(buf) - 2, false};
	char shortpath[LOG_MSG_MAX];
	char shortmethod[32];

	if (LOG_INFO < atomic_load(&log_level))
		return;
	/* Paths come from clients: cap them like messages. */
	snprintf(shortpath, sizeof(shortpath), "%s", path ? path : "");
	snprintf(shortmethod, sizeof(shortmethod), "%s", method ? method : "");
	line_start(&l, LOG_INFO, "request");
	line_field(&l, "method", shortmethod);
	line_field(&l, "path", shortpath);
	snprintf(num, sizeof(num), ",\"status\":%d", status);
	line_str(&l, num);
	if (!(duration_ms >= 0 && duration_ms < 1e12))
		duration_ms = 0;
	snprintf(num, sizeof(num), ",\"duration_ms\":%.3f", duration_ms);
	line_str(&l, num);
	line_emit(&l);
}
