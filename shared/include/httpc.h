/* httpc.h - outbound HTTP over libcurl.
 *
 * Every call has a connect and a total timeout and a response size cap, and
 * verifies TLS peers and host names (there is no switch to turn that off;
 * HTTPC_CA_FILE may name a CA bundle, e.g. for a test CA).
 */
#ifndef HTTPC_H
#define HTTPC_H

#include <stddef.h>

#include "kv.h"

struct arena;

struct httpc_req {
	const char *method;          /* NULL -> GET, or POST when body is set */
	const char *url;
	const char *const *headers;  /* "Name: value" strings, NULL-terminated; may be NULL */
	const void *body;
	size_t body_len;
	long connect_timeout_ms;     /* 0 -> g_cfg.http_connect_timeout_ms */
	long timeout_ms;             /* 0 -> g_cfg.http_timeout_ms; -1 -> none (long polls on loopback) */
	size_t max_response;         /* 0 -> g_cfg.http_max_response */
	/* SigV4 signing by libcurl (CURLOPT_AWS_SIGV4), e.g. "aws:amz:eu-west-1:lambda",
	 * with userpwd "ACCESS_KEY_ID:SECRET_ACCESS_KEY"; both NULL -> unsigned.
	 * A session token goes in headers as "X-Amz-Security-Token: ...". */
	const char *aws_sigv4;
	const char *userpwd;
};

struct httpc_res {
	long status;                 /* 0 when no response */
	char *body;                  /* arena-owned, NUL-terminated */
	size_t body_len;
	struct kvlist headers;       /* names lower-cased */
	char error[256];             /* why it failed, "" on success */
};

/* Returns 0 when a response arrived (any status), -1 on transport failure,
 * timeout or a response over the cap (error says which). */
int httpc_do(struct arena *a, const struct httpc_req *req, struct httpc_res *res);

/* libcurl is initialised on the first call and cleaned up at exit. */

#endif
