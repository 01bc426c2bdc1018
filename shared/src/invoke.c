/* invoke.c - asynchronous invocation of another function (Lambda Invoke API,
 * InvocationType Event).
 *
 * The endpoint is AWS_ENDPOINT_URL_LAMBDA when set (the local gateway sets it
 * for its workers), else https://lambda.{AWS_REGION}.amazonaws.com. With
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment the request
 * is SigV4-signed by libcurl; AWS_SESSION_TOKEN goes in X-Amz-Security-Token.
 * Neither the payload nor any credential is ever logged.
 */
#include "invoke.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "crypto.h"
#include "httpc.h"
#include "json.h"
#include "kv.h"
#include "log.h"

#define INVOKE_NAME_MAX 64
#define INVOKE_ARN_MAX  170

static bool name_char_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* [A-Za-z0-9_-]{1,64}, optionally followed by ":qualifier" when ARN. */
static bool plain_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > INVOKE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char_ok(s[i]))
			return false;
	return true;
}

/* A function name, or a full ARN
 * arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]. */
static bool function_name_ok(const char *name)
{
	const char *p, *colon;
	size_t len = strlen(name);
	int field = 0;

	if (strncmp(name, "arn:", 4) != 0)
		return plain_name_ok(name, len);
	if (len > INVOKE_ARN_MAX)
		return false;
	/* fields: arn, partition, lambda, region, account, function, name, [qualifier] */
	for (p = name;; p = colon + 1, field++) {
		size_t n;

		colon = strchr(p, ':');
		n = colon ? (size_t)(colon - p) : strlen(p);
		switch (field) {
		case 0:
			break;
		case 2:
			if (n != 6 || strncmp(p, "lambda", 6) != 0)
				return false;
			break;
		case 5:
			if (n != 8 || strncmp(p, "function", 8) != 0)
				return false;
			break;
		case 1:
		case 3:
		case 4:
		case 6:
		case 7:
			if (!plain_name_ok(p, n))
				return false;
			break;
		default:
			return false;
		}
		if (colon == NULL)
			break;
	}
	return field == 6 || field == 7;
}

/* The error Type and Message Lambda sends back as JSON, if any. */
static void log_refusal(const char *name, const struct httpc_res *res)
{
	cJSON *root = json_parse_limited(res->body, res->body_len, 8);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "Type");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "Message");
	const char *etype = kv_get(&res->headers, "x-amzn-errortype");

	if (!cJSON_IsString(msg))
		msg = cJSON_GetObjectItemCaseSensitive(root, "message");
	log_error("async invoke of %s refused: status %ld%s%.100s%s%.300s", name, res->status,
	          cJSON_IsString(type) || etype ? ", type " : "",
	          cJSON_IsString(type) ? type->valuestring
	          : etype              ? etype
	                               : "",
	          cJSON_IsString(msg) ? ": " : "", cJSON_IsString(msg) ? msg->valuestring : "");
	cJSON_Delete(root);
}

int fn_invoke_async(const char *name, const char *payload, size_t len)
{
	const char *endpoint = getenv("AWS_ENDPOINT_URL_LAMBDA");
	const char *region = getenv("AWS_REGION");
	const char *key_id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");
	const char *headers[6] = {0};
	struct arena *a = arena_new();
	struct httpc_req req = {0};
	struct httpc_res res;
	size_t nh = 0, elen;
	char *base;
	int ret = -1;

	if (name == NULL || !function_name_ok(name)) {
		log_error("async invoke: invalid function name");
		goto out;
	}
	if (payload == NULL) {
		log_error("async invoke of %s: no payload", name);
		goto out;
	}
	if (region != NULL && region[0] == '\0')
		region = NULL;
	if (endpoint != NULL && endpoint[0] != '\0') {
		base = arena_strdup(a, endpoint);
	} else if (region != NULL) {
		base = arena_printf(a, "https://lambda.%s.amazonaws.com", region);
	} else {
		log_error(
		        "async invoke of %s: neither AWS_ENDPOINT_URL_LAMBDA nor AWS_REGION is set",
		        name);
		goto out;
	}
	elen = strlen(base);
	while (elen > 0 && base[elen - 1] == '/')
		base[--elen] = '\0';

	headers[nh++] = "X-Amz-Invocation-Type: Event";
	headers[nh++] = "Content-Type: application/json";
	if (key_id != NULL && key_id[0] != '\0' && secret != NULL && secret[0] != '\0') {
		unsigned char sum[32];

		crypto_sha256(payload, len, sum);
		req.aws_sigv4 = arena_printf(a, "aws:amz:%s:lambda", region ? region : "us-east-1");
		req.userpwd = arena_printf(a, "%s:%s", key_id, secret);
		headers[nh++] = arena_printf(a, "x-amz-content-sha256: %s", crypto_hex(a, sum, 32));
		if (token != NULL && token[0] != '\0')
			headers[nh++] = arena_printf(a, "X-Amz-Security-Token: %s", token);
	}
	req.method = "POST";
	req.url = arena_printf(a, "%s/2015-03-31/functions/%s/invocations", base, name);
	req.headers = headers;
	req.body = payload;
	req.body_len = len;
	if (httpc_do(a, &req, &res) != 0) {
		log_error("async invoke of %s failed: %s", name, res.error);
		goto out;
	}
	if (res.status != 202) {
		log_refusal(name, &res);
		goto out;
	}
	ret = 0;
out:
	arena_free(a);
	return ret;
}
