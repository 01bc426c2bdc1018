/* testsrv.h - a canned HTTP server on loopback for the unit tests.
 *
 * One connection at a time: it reads a request (head and a Content-Length
 * body, or the first bytes of a TLS ClientHello), optionally stalls, sends
 * one canned response, optionally holds the connection, and closes it (or,
 * with keep_alive, reads the next request on it). The last request is kept
 * in `request` for the test to look at. */
#ifndef TESTSRV_H
#define TESTSRV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct testsrv {
	int fd;
	int port;
	pthread_t thread;
	const char *response;
	size_t response_len;
	int stall_ms;          /* before the response */
	int hold_ms;           /* after it, before closing */
	bool keep_alive;       /* answer further requests on the same connection */
	bool check_half_close; /* look for a FIN before answering (costs 60 ms) */
	atomic_bool stop;
	atomic_int requests;     /* requests answered */
	atomic_int accepts;      /* connections accepted */
	atomic_bool half_closed; /* the client shut down its side before the answer */
	char request[65536];     /* the last request, NUL-terminated */
	size_t request_len;
};

/* Starts a server on 127.0.0.1 answering with response (len bytes, or
 * strlen(response) when len is 0) after stall_ms; fails the test on error. */
struct testsrv *testsrv_start(const char *response, size_t len, int stall_ms);

/* Like testsrv_start on 127.0.0.1 (AF_INET) or ::1 (AF_INET6). For AF_INET6
 * returns NULL with errno set when the machine has no ::1. */
struct testsrv *testsrv_start_af(int family, const char *response, size_t len, int stall_ms);

/* Stops the server, waits for its thread and frees it. */
void testsrv_stop(struct testsrv *s);

#endif
