/* rtapi.h - a minimal HTTP/1.1 client for the platforms' runtime APIs.
 *
 * The Lambda and SCF runtime APIs are plain HTTP on an address the platform
 * gives (loopback or link-local). This client speaks just that: http:// URLs,
 * HTTP/1.1 with the connection kept open between calls (one per thread; a
 * stale one is replaced once, transparently), Content-Length or chunked
 * responses, no TLS, no redirects. It keeps libcurl and its TLS stack out of
 * functions that make no outbound calls; loading them was most of a cold
 * start. Anything that leaves the machine goes through httpc.h instead.
 */
#ifndef RTAPI_H
#define RTAPI_H

#include "httpc.h"

/* Same request and response shapes as httpc_do(): timeouts (timeout_ms -1 =
 * none, for the long poll), the response cap, lower-cased header names, an
 * arena-owned NUL-terminated body. Returns 0 when a response arrived (any
 * status), -1 with res->error set otherwise. */
int rtapi_do(struct arena *a, const struct httpc_req *req, struct httpc_res *res);

#endif
