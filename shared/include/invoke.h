/* invoke.h - invoking another function asynchronously.
 *
 * fn_invoke_async() is the Lambda Invoke API with InvocationType Event:
 *   POST {endpoint}/2015-03-31/functions/{name}/invocations
 *   X-Amz-Invocation-Type: Event          -> 202 once the event is stored
 * On AWS the endpoint is https://lambda.{AWS_REGION}.amazonaws.com and the
 * request is SigV4-signed (libcurl CURLOPT_AWS_SIGV4) with the function's
 * credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).
 * Locally the gateway sets AWS_ENDPOINT_URL_LAMBDA (the AWS SDKs' variable)
 * for its workers to its loopback Runtime API server, which implements the
 * same call over a durable queue in PostgreSQL; no signature is needed there.
 */
#ifndef INVOKE_H
#define INVOKE_H

#include <stddef.h>

/* Queues payload (JSON text) for function name. 0 when accepted (202), -1
 * after logging why (no endpoint configured, refused, timed out). */
int fn_invoke_async(const char *name, const char *payload, size_t len);

#endif
