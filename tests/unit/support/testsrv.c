/* testsrv.c - the canned one-connection-at-a-time HTTP server of testsrv.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testsrv.h"

/* Waits up to max_ms (forever when negative) for fd to be readable, giving up
 * when the server is told to stop. */
static bool wait_readable(int fd, struct testsrv *s, int max_ms)
{
	struct pollfd p = {fd, POLLIN, 0};

	for (int waited = 0; !atomic_load(&s->stop) && (max_ms < 0 || waited < max_ms);
	     waited += 20) {
		int rc = poll(&p, 1, 20);

		if (rc > 0)
			return true;
		if (rc < 0)
			return false;
	}
	return false;
}

static void read_request(struct testsrv *s, int c)
{
	size_t want = 0;
	char *end;

	s->request_len = 0;
	s->request[0] = '\0';
	for (;;) {
		ssize_t n;

		if (!wait_readable(c, s, -1))
			return;
		n = read(c, s->request + s->request_len, sizeof(s->request) - 1 - s->request_len);
		if (n <= 0)
			return;
		s->request_len += (size_t)n;
		s->request[s->request_len] = '\0';
		end = memmem(s->request, s->request_len, "\r\n\r\n", 4);
		if (end != NULL && want == 0) {
			const char *cl = strcasestr(s->request, "\r\ncontent-length:");

			want = (size_t)(end + 4 - s->request);
			if (cl != NULL && cl < end)
				want += strtoul(cl + 17, NULL, 10);
		}
		if ((want > 0 && s->request_len >= want) || s->request[0] == 0x16 /* TLS */)
			return;
		if (s->request_len >= sizeof(s->request) - 1)
			return;
	}
}

static void sleep_unless_stopped(struct testsrv *s, int ms)
{
	for (int waited = 0; waited < ms && !atomic_load(&s->stop); waited += 10)
		usleep(10000);
}

static void *serve(void *arg)
{
	struct testsrv *s = arg;

	while (!atomic_load(&s->stop)) {
		char b;
		int c;

		if (!wait_readable(s->fd, s, -1))
			break;
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		atomic_fetch_add(&s->accepts, 1);
	again:
		read_request(s, c);
		if (s->keep_alive && s->request_len == 0) {
			close(c);
			continue;
		}
		/* A FIN right after the request would show as EOF here. */
		if (s->check_half_close && wait_readable(c, s, 60) &&
		    recv(c, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
			atomic_store(&s->half_closed, true);
		atomic_fetch_add(&s->requests, 1);
		sleep_unless_stopped(s, s->stall_ms);
		/* The client may have given up: no SIGPIPE, errors ignored. */
		if (send(c, s->response, s->response_len, MSG_NOSIGNAL) < 0 && errno == ENOMEM)
			perror("canned server send");
		sleep_unless_stopped(s, s->hold_ms);
		if (s->keep_alive && !atomic_load(&s->stop))
			goto again;
		close(c);
	}
	return NULL;
}

struct testsrv *testsrv_start_af(int family, const char *response, size_t len, int stall_ms)
{
	struct testsrv *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	int one = 1;

	assert_non_null(s);
	s->response = response;
	s->response_len = len ? len : strlen(response);
	s->stall_ms = stall_ms;
	s->fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 && family == AF_INET6) {
		int e = errno;

		free(s);
		errno = e;
		return NULL;
	}
	assert_true(s->fd >= 0);
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;

		sa->sin6_family = AF_INET6;
		sa->sin6_addr = in6addr_loopback;
		sl = sizeof(*sa);
		if (bind(s->fd, (struct sockaddr *)sa, sl) != 0) {
			int e = errno;

			close(s->fd);
			free(s);
			errno = e;
			return NULL;
		}
	} else {
		struct sockaddr_in *sa = (struct sockaddr_in *)&ss;

		sa->sin_family = AF_INET;
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*sa);
		assert_int_equal(bind(s->fd, (struct sockaddr *)sa, sl), 0);
	}
	assert_int_equal(listen(s->fd, 16), 0);
	sl = sizeof(ss);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&ss, &sl), 0);
	s->port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                   : ((struct sockaddr_in *)&ss)->sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
	return s;
}

struct testsrv *testsrv_start(const char *response, size_t len, int stall_ms)
{
	return testsrv_start_af(AF_INET, response, len, stall_ms);
}

void testsrv_stop(struct testsrv *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->fd);
	free(s);
}
