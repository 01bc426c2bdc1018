/* event.h - platform events to struct req, and struct res back to events.
 *
 * Recognised: API Gateway REST proxy (v1: "httpMethod" + "requestContext"),
 * HTTP API (v2: "version":"2.0" + requestContext.http), Tencent API Gateway
 * trigger (v1-like with "headerParameters"/"queryString" or requestContext
 * "serviceId"), S3/COS object events ("Records"[].s3 / .cos), scheduled events
 * (EventBridge "source":"aws.events" / "detail-type":"Scheduled Event", SCF
 * timer "Type":"Timer"), and direct-invoke JSON:
 *   {"method":"GET","path":"/api/x","query":{"k":"v"},"headers":{"k":"v"},
 *    "body": "text" | <any JSON value>, "isBase64Encoded": false}
 */
#ifndef EVENT_H
#define EVENT_H

#include <stddef.h>

#include "req.h"

struct res;

/* Fills req from event (which must outlive req: REQ_S3/SCHEDULE/DIRECT keep a
 * borrowed pointer in req->event). Returns 0, or -1 after filling res with a
 * 400 JSON error (malformed / unknown event) or 413 (body over max_body). */
int event_to_req(const cJSON *event, struct req *req, struct res *res, size_t max_body);

/* Renders res in the response shape for kind: v1 {statusCode, headers,
 * multiValueHeaders, body, isBase64Encoded}; v2 {statusCode, headers
 * (repeats comma-joined), cookies[], body, isBase64Encoded}; Tencent
 * {isBase64Encoded, statusCode, headers, body}; direct and events: v1 shape.
 * Binary bodies are base64-encoded. Caller frees with cJSON_Delete. */
cJSON *event_from_res(const struct res *res, enum req_kind kind);

#endif
