/* fuzz_event.c - libFuzzer target: arbitrary bytes as a platform event.
 *
 * Drives the whole path a runtime adapter takes (parse, event_to_req, route,
 * handler, event_from_res) with a route table that echoes its input, so the
 * parsers and the response encoder meet hostile input. Build: make fuzz.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "config.h"
#include "event.h"
#include "json.h"
#include "kv.h"
#include "res.h"
#include "router.h"

static int echo(struct req *req, struct res *res)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *body = NULL;

	cJSON_AddStringToObject(o, "id", req_param(req, "id") ? req_param(req, "id") : "");
	cJSON_AddStringToObject(o, "q", req_query(req, "q") ? req_query(req, "q") : "");
	cJSON_AddStringToObject(o, "c", req_cookie(req, "c") ? req_cookie(req, "c") : "");
	if (json_body(req, res, &body) == 0) {
		const char *s = NULL;
		int64_t n = 0;
		if (json_str(res, body, "s", false, 0, 100, &s) != 0 ||
		    json_i64(res, body, "n", false, 0, 1000, &n) != 0)
			goto out;
	}
	res_header(res, "Set-Cookie", "a=1");
	res_header(res, "Set-Cookie", "b=2");
	return res_json(res, 200, o);
out:
	cJSON_Delete(o);
	return res->status;
}

static const struct route routes[] = {
	{ "GET", "/x/{id}", echo },
	{ "POST", "/x/{id}", echo },
	{ "EVENT", "/events/s3", echo },
	ROUTES_END
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new();
	struct req req;
	struct res res;
	cJSON *event = json_parse_limited((const char *)data, size, JSON_MAX_DEPTH);

	req_init(&req, a);
	res_init(&res, a);
	if (event && event_to_req(event, &req, &res, 1 << 16) == 0)
		router_dispatch(routes, &req, &res);
	cJSON *out = event_from_res(&res, req.kind);
	cJSON_Delete(out);
	cJSON_Delete(event);
	arena_free(a);
	return 0;
}
