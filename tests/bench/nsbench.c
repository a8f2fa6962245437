/*
 * tests/bench/nsbench.c - load generator and reference server for
 * `make bench` (kernel sockets only; nothing from netstack).
 *
 *   nsbench serve                      echo 7, discard 9, chargen 19, HTTP 80
 *                                      (GET /bytes/N like netstackd), thread
 *                                      per connection: the kernel reference
 *   nsbench recv HOST PORT SECS        read a byte stream (chargen): Gbit/s
 *   nsbench send HOST PORT SECS        write a byte stream (discard): Gbit/s
 *   nsbench rr HOST PORT SECS          1-byte request/response (echo): trans/s
 *   nsbench crr HOST PORT SECS         connect, 1-byte req/resp, close: conn/s
 *   nsbench fetch HOST PORT N          GET /bytes/N once: Gbit/s
 *
 * Prints one number on stdout.  HOST is an IPv4 or IPv6 literal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int resolve(const char *host, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int dial(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)ss, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const void *b, size_t n)
{
	const char *p = b;
	while (n) {
		ssize_t r = write(fd, p, n);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* ---- clients ------------------------------------------------------------------ */

static int c_stream(const struct sockaddr_storage *ss, socklen_t sl, double secs, int send_side)
{
	int fd = dial(ss, sl);
	if (fd < 0)
		return perror("connect"), 1;
	static char buf[1 << 18];
	memset(buf, 'x', sizeof(buf));
	unsigned long long bytes = 0;
	double t0 = now(), t;
	/* skip the first 0.3 s (slow start) */
	double warm = t0 + 0.3;
	unsigned long long warm_bytes = 0;
	int warmed = 0;
	while ((t = now()) < t0 + secs + 0.3) {
		ssize_t r = send_side ? write(fd, buf, sizeof(buf)) : read(fd, buf, sizeof(buf));
		if (r <= 0)
			break;
		bytes += (unsigned long long)r;
		if (!warmed && t >= warm) {
			warmed = 1;
			warm_bytes = bytes;
			warm = t;
		}
	}
	close(fd);
	if (!warmed)
		return fprintf(stderr, "stream ended early\n"), 1;
	printf("%.3f\n", (double)(bytes - warm_bytes) * 8 / (now() - warm) / 1e9);
	return 0;
}

static int c_rr(const struct sockaddr_storage *ss, socklen_t sl, double secs)
{
	int fd = dial(ss, sl);
	if (fd < 0)
		return perror("connect"), 1;
	unsigned long n = 0;
	double t0 = now();
	char c = 'x';
	while (now() < t0 + secs) {
		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
			return fprintf(stderr, "rr: connection lost after %lu\n", n), 1;
		n++;
	}
	close(fd);
	printf("%.0f\n", (double)n / (now() - t0));
	return 0;
}

static int c_crr(const struct sockaddr_storage *ss, socklen_t sl, double secs)
{
	unsigned long n = 0, fail = 0;
	double t0 = now();
	char c = 'x';
	while (now() < t0 + secs) {
		int fd = dial(ss, sl);
		if (fd < 0) {
			if (++fail > 100)
				return perror("crr connect"), 1;
			continue;
		}
		if (write(fd, &c, 1) == 1 && read(fd, &c, 1) == 1)
			n++;
		close(fd);
	}
	printf("%.0f\n", (double)n / (now() - t0));
	return 0;
}

static int c_fetch(const struct sockaddr_storage *ss, socklen_t sl, unsigned long long nbytes)
{
	int fd = dial(ss, sl);
	if (fd < 0)
		return perror("connect"), 1;
	char req[128];
	int rl = snprintf(req, sizeof(req), "GET /bytes/%llu HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", nbytes);
	double t0 = now();
	if (write_all(fd, req, (size_t)rl) < 0)
		return 1;
	static char buf[1 << 18];
	unsigned long long got = 0;
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		got += (unsigned long long)r;
	close(fd);
	if (got < nbytes)
		return fprintf(stderr, "fetch: short body\n"), 1;
	printf("%.3f\n", (double)got * 8 / (now() - t0) / 1e9);
	return 0;
}

/* ---- reference server ----------------------------------------------------------- */

struct conn { int fd; int port; };

static void serve_http(int fd)
{
	char req[4096];
	size_t have = 0;
	static char body[1 << 16];
	memset(body, 'a', sizeof(body));
	for (;;) {
		char *end;
		while (!(end = memmem(req, have, "\r\n\r\n", 4))) {
			if (have == sizeof(req))
				return;
			ssize_t r = read(fd, req + have, sizeof(req) - have);
			if (r <= 0)
				return;
			have += (size_t)r;
		}
		unsigned long long n = 0;
		int close_after = memmem(req, (size_t)(end - req), "close", 5) != NULL;
		if (strncmp(req, "GET /bytes/", 11) == 0)
			n = strtoull(req + 11, NULL, 10);
		else
			n = 13;
		char hdr[160];
		int hl = snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n"
				  "Content-Type: text/plain\r\n\r\n", n);
		if (write_all(fd, hdr, (size_t)hl) < 0)
			return;
		while (n) {
			size_t k = n < sizeof(body) ? (size_t)n : sizeof(body);
			if (write_all(fd, body, k) < 0)
				return;
			n -= k;
		}
		size_t used = (size_t)(end - req) + 4;
		memmove(req, req + used, have - used);
		have -= used;
		if (close_after)
			return;
	}
}

static void *conn_thread(void *arg)
{
	struct conn c = *(struct conn *)arg;
	free(arg);
	static char buf[1 << 16];
	char lbuf[1 << 16];
	ssize_t r;
	switch (c.port) {
	case 7:
		while ((r = read(c.fd, lbuf, sizeof(lbuf))) > 0)
			if (write_all(c.fd, lbuf, (size_t)r) < 0)
				break;
		break;
	case 9:
		while (read(c.fd, lbuf, sizeof(lbuf)) > 0)
			;
		break;
	case 19:
		memset(buf, 'c', sizeof(buf));
		while (write_all(c.fd, buf, sizeof(buf)) == 0)
			;
		break;
	default:
		serve_http(c.fd);
	}
	close(c.fd);
	return NULL;
}

struct lst { int fd; int port; };

static void *accept_thread(void *arg)
{
	struct lst *l = arg;
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = malloc(sizeof(*c));
		c->fd = fd;
		c->port = l->port;
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&at, 256 << 10);
		if (pthread_create(&t, &at, conn_thread, c) != 0) {
			close(fd);
			free(c);
		}
		pthread_attr_destroy(&at);
	}
	return NULL;
}

static int serve(void)
{
	static const int ports[] = { 7, 9, 19, 80 };
	static struct lst ls[4];
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 4; i++) {
		int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int one = 1, zero = 0;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)ports[i]) };
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1024) < 0)
			return perror("bind/listen"), 1;
		ls[i].fd = fd;
		ls[i].port = ports[i];
		pthread_t t;
		pthread_create(&t, NULL, accept_thread, &ls[i]);
	}
	fprintf(stderr, "nsbench: serving 7 9 19 80\n");
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return serve();
	if (argc != 5) {
		fprintf(stderr, "usage: nsbench serve | {recv|send|rr|crr} HOST PORT SECS | fetch HOST PORT N\n");
		return 2;
	}
	struct sockaddr_storage ss;
	socklen_t sl;
	if (resolve(argv[2], argv[3], &ss, &sl) < 0)
		return fprintf(stderr, "bad address %s\n", argv[2]), 2;
	double secs = atof(argv[4]);
	if (!strcmp(argv[1], "recv"))
		return c_stream(&ss, sl, secs, 0);
	if (!strcmp(argv[1], "send"))
		return c_stream(&ss, sl, secs, 1);
	if (!strcmp(argv[1], "rr"))
		return c_rr(&ss, sl, secs);
	if (!strcmp(argv[1], "crr"))
		return c_crr(&ss, sl, secs);
	if (!strcmp(argv[1], "fetch"))
		return c_fetch(&ss, sl, strtoull(argv[4], NULL, 10));
	return 2;
}
