/* res.c - filling the response: headers, JSON and raw bodies, error objects. */
#include "res.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "arena.h"

#define RES_JSON_TYPE "application/json; charset=utf-8"

/* Used when even the error object cannot be built or printed. */
static const char res_internal_body[] =
        "{\"error\":{\"code\":\"internal_error\",\"message\":\"internal error\"}}";

static void res_delete_json(void *p)
{
	cJSON_Delete(p);
}

static void res_free_printed(void *p)
{
	cJSON_free(p);
}

/* Zeroes r and ties it to a. */
void res_init(struct res *r, struct arena *a)
{
	memset(r, 0, sizeof(*r));
	r->arena = a;
}

/* Adds one header line (copied); repeats are kept. */
void res_header(struct res *r, const char *name, const char *value)
{
	kv_add(r->arena, &r->headers, name, value);
}

/* Replaces earlier values of name. */
void res_header_set(struct res *r, const char *name, const char *value)
{
	kv_set(r->arena, &r->headers, name, value);
}

/* Takes root, prints it compactly, sets JSON Content-Type; 500 when it cannot. */
int res_json(struct res *r, int status, cJSON *root)
{
	char *text;

	if (root == NULL) {
		fprintf(stderr, "res: res_json called without a JSON value\n");
		goto fail;
	}
	arena_defer(r->arena, res_delete_json, root);
	text = cJSON_PrintUnformatted(root);
	if (text == NULL) {
		fprintf(stderr, "res: cannot print JSON response\n");
		goto fail;
	}
	arena_defer(r->arena, res_free_printed, text);
	r->status = status;
	r->body = text;
	r->body_len = strlen(text);
	r->binary = false;
	res_header_set(r, "Content-Type", RES_JSON_TYPE);
	return status;

fail:
	r->status = 500;
	r->body = res_internal_body;
	r->body_len = sizeof(res_internal_body) - 1;
	r->binary = false;
	res_header_set(r, "Content-Type", RES_JSON_TYPE);
	return 500;
}

/* Copies body; content_type NULL keeps any Content-Type already set. */
int res_body(struct res *r, int status, const char *content_type, const void *body, size_t len,
             bool binary)
{
	r->status = status;
	r->body = arena_memdup(r->arena, body, body != NULL ? len : 0);
	r->body_len = body != NULL ? len : 0;
	r->binary = binary;
	if (content_type != NULL)
		res_header_set(r, "Content-Type", content_type);
	return status;
}

/* Status with an empty body. */
int res_empty(struct res *r, int status)
{
	r->status = status;
	r->body = "";
	r->body_len = 0;
	r->binary = false;
	return status;
}

/* {"error":{"code":...,"message":...,"field":...}}, field left out when NULL. */
int res_error(struct res *r, int status, const char *code, const char *message, const char *field)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *err = cJSON_AddObjectToObject(root, "error");

	if (err == NULL || cJSON_AddStringToObject(err, "code", code) == NULL ||
	    cJSON_AddStringToObject(err, "message", message != NULL ? message : "") == NULL ||
	    (field != NULL && cJSON_AddStringToObject(err, "field", field) == NULL)) {
		cJSON_Delete(root);
		root = NULL;
	}
	return res_json(r, status, root);
}

/* res_error with a printf-style message. */
int res_errorf(struct res *r, int status, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = arena_vprintf(r->arena, fmt, ap);
	va_end(ap);
	return res_error(r, status, code, msg, field);
}

struct res_reason_row {
	int status;
	const char *reason;
};

static const struct res_reason_row res_reasons[] = {
        {100, "Continue"},
        {101, "Switching Protocols"},
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {203, "Non-Authoritative Information"},
        {204, "No Content"},
        {205, "Reset Content"},
        {206, "Partial Content"},
        {207, "Multi-Status"},
        {300, "Multiple Choices"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {303, "See Other"},
        {304, "Not Modified"},
        {307, "Temporary Redirect"},
        {308, "Permanent Redirect"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {402, "Payment Required"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {406, "Not Acceptable"},
        {407, "Proxy Authentication Required"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {410, "Gone"},
        {411, "Length Required"},
        {412, "Precondition Failed"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {415, "Unsupported Media Type"},
        {416, "Range Not Satisfiable"},
        {417, "Expectation Failed"},
        {418, "I'm a teapot"},
        {421, "Misdirected Request"},
        {422, "Unprocessable Content"},
        {423, "Locked"},
        {424, "Failed Dependency"},
        {425, "Too Early"},
        {426, "Upgrade Required"},
        {428, "Precondition Required"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {451, "Unavailable For Legal Reasons"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
        {507, "Insufficient Storage"},
        {508, "Loop Detected"},
        {511, "Network Authentication Required"},
};

/* Reason phrase for status (RFC 9110 wording), "Unknown" otherwise. */
const char *res_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(res_reasons) / sizeof(res_reasons[0]); i++)
		if (res_reasons[i].status == status)
			return res_reasons[i].reason;
	return "Unknown";
}
