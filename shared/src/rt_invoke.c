/* rt_invoke.c - `BIN invoke [FILE]`: one event in, one response event out,
 * like `sam local invoke`. The response is always JSON on stdout (malformed
 * events get a 400 response); exit status 1 means the input could not be read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "config.h"
#include "event.h"
#include "fn.h"
#include "log.h"
#include "res.h"
#include "rt.h"

/* Reads all of f up to cap bytes into a malloc'd buffer. Returns 0, 1 when
 * the input is larger than cap (nothing kept), or -1 on a read error. */
static int read_all(FILE *f, size_t cap, char **out, size_t *outlen)
{
	size_t len = 0, size = 64 * 1024;
	char *buf = malloc(size + 1);
	int rc = -1;

	if (!buf)
		goto out;
	for (;;) {
		if (len == size) {
			if (size > cap)
				break;
			size_t nsize = size * 2;
			char *nbuf = realloc(buf, nsize + 1);
			if (!nbuf)
				goto out;
			buf = nbuf;
			size = nsize;
		}
		size_t n = fread(buf + len, 1, size - len, f);
		len += n;
		if (len > cap)
			break;
		if (n == 0) {
			if (ferror(f))
				goto out;
			break;
		}
	}
	if (len > cap) {
		rc = 1;
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	return rc;
}

/* The response for an event too large to look at: 413 in the v1 shape. */
static cJSON *too_large(void)
{
	struct arena *a = arena_new();
	struct res res;
	char id[33];
	cJSON *out;

	rt_new_request_id(id);
	res_init(&res, a);
	res_error(&res, 413, "payload_too_large", "event is too large", NULL);
	res_header_set(&res, "X-Request-Id", id);
	out = event_from_res(&res, REQ_APIGW_V1);
	arena_free(a);
	return out;
}

/* One event from path or stdin to stdout; 1 only when input is unreadable. */
int rt_invoke_run(const struct fn_app *app, const char *path)
{
	/* Room for a base64 body of max_body bytes plus its envelope. */
	size_t cap = g_cfg.max_body * 2 + 1024 * 1024;
	FILE *f = stdin;
	char *input = NULL, *text = NULL;
	size_t len = 0;
	cJSON *out = NULL;
	char id[33];
	int rc = 1, r;

	if (path && strcmp(path, "-") != 0) {
		f = fopen(path, "rb");
		if (!f) {
			fprintf(stderr, "%s: cannot open %s: %s\n", app->name, path,
			        strerror(errno));
			goto out;
		}
	}
	r = read_all(f, cap, &input, &len);
	if (r < 0) {
		fprintf(stderr, "%s: cannot read the event: %s\n", app->name,
		        path ? path : "stdin");
		goto out;
	}
	if (r > 0) {
		out = too_large();
	} else {
		rt_new_request_id(id);
		out = fn_handle_event(app, input, len, id, 0);
	}
	text = out ? cJSON_PrintUnformatted(out) : NULL;
	if (!text) {
		fprintf(stderr, "%s: cannot render the response\n", app->name);
		goto out;
	}
	if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
		fprintf(stderr, "%s: cannot write the response: %s\n", app->name, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (f && f != stdin)
		fclose(f);
	free(text);
	cJSON_Delete(out);
	free(input);
	return rc;
}
