/* log.h - JSON-lines logs on stderr.
 *
 * {"ts":"2026-11-27T09:00:00.123Z","level":"info","fn":"articles",
 *  "request_id":"...","msg":"..."}
 * Messages never contain secrets: callers log names, not values, of config.
 */
#ifndef LOG_H
#define LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* Parses "debug" / "info" / "warn" / "error"; -1 when unknown. */
int log_level_parse(const char *s, enum log_level *out);
void log_set_function(const char *name);
/* Copied; NULL or "" clears it. */
void log_set_request_id(const char *id);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* The access line: msg "request" plus method, path, status, duration_ms. */
void log_request(const char *method, const char *path, int status, double duration_ms);

#endif
