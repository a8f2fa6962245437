/*
 * tap/netstackd/services.c - the services netstackd offers, on the public
 * socket API: echo (RFC 862, TCP and UDP 7), discard (RFC 863, TCP and UDP
 * 9), chargen (RFC 864, TCP 19) and HTTP (TCP 80, http.c).
 * Owns: the service table, one listener thread per TCP socket, a thread per
 * TCP connection, a small pool of worker threads per UDP socket, and
 * shutdown.  All calls block; every socket has 200 ms receive/send
 * timeouts so threads notice the stop flag quickly.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include "netstackd.h"
#include "svc_util.h"

#define UDP_WORKERS 2
#define MAX_SOCKS 32
#define MAX_THREADS 96
#define CONN_STACK (1024 * 1024)   /* > 256 KiB of _Thread_local buffers (glibc puts static TLS on the stack) */

typedef void (*conn_fn)(struct ns_stack *stk, int fd, const atomic_bool *stop);
typedef void (*dgram_fn)(struct ns_stack *stk, int fd, const atomic_bool *stop);

struct svc {
	const char *name;
	unsigned bit;
	int type;
	uint16_t port;
	conn_fn conn;
	dgram_fn dgram;
};

struct conn_arg;

struct nsd_services {
	struct ns_stack *stk;
	struct conn_arg *live;          /* open connections, for the report (under mu) */
	atomic_bool stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int conns;                      /* live connection threads */
	uint64_t accepted;
	int socks[MAX_SOCKS];
	int nsocks;
	pthread_t thr[MAX_THREADS];
	int nthr;
};

struct worker_arg {
	struct nsd_services *s;
	const struct svc *svc;
	int fd;
};

/* ---- helpers (svc_util.h) ---------------------------------------------------- */

void nsd_set_timeouts(struct ns_stack *stk, int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	ns_setsockopt(stk, fd, NS_SOL_SOCKET, NS_SO_RCVTIMEO, &tv, sizeof(tv));
	ns_setsockopt(stk, fd, NS_SOL_SOCKET, NS_SO_SNDTIMEO, &tv, sizeof(tv));
}

bool nsd_retry(ssize_t r) { return r == -NS_EAGAIN || r == -NS_EINTR; }

int nsd_send_all(struct ns_stack *stk, int fd, const void *buf, size_t len, const atomic_bool *stop)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t r = ns_send(stk, fd, p, len, NS_MSG_NOSIGNAL);
		if (r > 0) {
			p += r;
			len -= (size_t)r;
			continue;
		}
		if (nsd_retry(r) && !atomic_load(stop))
			continue;
		return r < 0 ? (int)r : -NS_EPIPE;
	}
	return 0;
}

/* ---- TCP services -------------------------------------------------------------- */

#define IO_BUF 65536

static void tcp_echo(struct ns_stack *stk, int fd, const atomic_bool *stop)
{
	uint8_t *buf = malloc(IO_BUF);
	while (buf && !atomic_load(stop)) {
		ssize_t n = ns_recv(stk, fd, buf, IO_BUF, 0);
		if (n == 0)
			break;          /* peer closed: our close sends FIN */
		if (n < 0) {
			if (nsd_retry(n))
				continue;
			break;
		}
		if (nsd_send_all(stk, fd, buf, (size_t)n, stop) < 0)
			break;
	}
	free(buf);
}

static void tcp_discard(struct ns_stack *stk, int fd, const atomic_bool *stop)
{
	uint8_t *buf = malloc(IO_BUF);
	while (buf && !atomic_load(stop)) {
		ssize_t n = ns_recv(stk, fd, buf, IO_BUF, 0);
		if (n == 0 || (n < 0 && !nsd_retry(n)))
			break;
	}
	free(buf);
}

/* RFC 864: lines of 72 printable characters (ASCII 32..126), each line
 * starting one character later than the previous, CR LF terminated. */
static size_t chargen_fill(uint8_t *buf, size_t lines, unsigned *start)
{
	size_t o = 0;
	for (size_t l = 0; l < lines; l++) {
		for (unsigned i = 0; i < 72; i++)
			buf[o++] = (uint8_t)(32 + (*start + i) % 95);
		buf[o++] = '\r';
		buf[o++] = '\n';
		*start = (*start + 1) % 95;
	}
	return o;
}

static void tcp_chargen(struct ns_stack *stk, int fd, const atomic_bool *stop)
{
	/* 95 lines make one full period: the same buffer repeats forever */
	uint8_t buf[95 * 74];
	unsigned start = 0;
	size_t len = chargen_fill(buf, 95, &start);
	uint8_t sink[1024];
	while (!atomic_load(stop)) {
		if (nsd_send_all(stk, fd, buf, len, stop) < 0)
			return;
		/* input is ignored (RFC 864), but an error ends the session */
		ssize_t n = ns_recv(stk, fd, sink, sizeof(sink), NS_MSG_DONTWAIT);
		if (n < 0 && !nsd_retry(n))
			return;
	}
}

static void tcp_http(struct ns_stack *stk, int fd, const atomic_bool *stop)
{
	nsd_http_serve(stk, fd, stop);
}

/* ---- UDP services --------------------------------------------------------------- */

static void udp_echo(struct ns_stack *stk, int fd, const atomic_bool *stop)
{
	uint8_t *buf = malloc(IO_BUF);
	while (buf && !atomic_load(stop)) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = ns_recvfrom(stk, fd, buf, IO_BUF, 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;       /* timeout, or an error queued by ICMP: keep serving */
		/* a failed reply (no route, no buffer) is dropped like a lost datagram */
		(void)ns_sendto(stk, fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
	free(buf);
}

static void udp_discard(struct ns_stack *stk, int fd, const atomic_bool *stop)
{
	uint8_t *buf = malloc(IO_BUF);
	while (buf && !atomic_load(stop))
		(void)ns_recv(stk, fd, buf, IO_BUF, 0);
	free(buf);
}

static const struct svc services[] = {
	{ "echo", NSD_SVC_ECHO, NS_SOCK_DGRAM, 7, NULL, udp_echo },
	{ "discard", NSD_SVC_DISCARD, NS_SOCK_DGRAM, 9, NULL, udp_discard },
	{ "echo", NSD_SVC_ECHO, NS_SOCK_STREAM, 7, tcp_echo, NULL },
	{ "discard", NSD_SVC_DISCARD, NS_SOCK_STREAM, 9, tcp_discard, NULL },
	{ "chargen", NSD_SVC_CHARGEN, NS_SOCK_STREAM, 19, tcp_chargen, NULL },
	{ "http", NSD_SVC_HTTP, NS_SOCK_STREAM, 80, tcp_http, NULL },
};

/* ---- threads ---------------------------------------------------------------------- */

struct conn_arg {
	struct nsd_services *s;
	conn_fn fn;
	int fd;
	const char *name;
	struct conn_arg *prev, *next;   /* s->live, under s->mu */
};

static void *conn_thread(void *arg)
{
	struct conn_arg *c = arg;
	struct nsd_services *s = c->s;
	c->fn(s->stk, c->fd, &s->stop);
	/* out of the report's list before the descriptor goes */
	pthread_mutex_lock(&s->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&s->mu);
	ns_close(s->stk, c->fd);
	free(c);
	pthread_mutex_lock(&s->mu);
	s->conns--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void spawn_conn(struct nsd_services *s, const struct svc *v, int fd)
{
	conn_fn fn = v->conn;
	struct conn_arg *c = malloc(sizeof(*c));
	pthread_attr_t at;
	pthread_t t;
	if (!c) {
		ns_close(s->stk, fd);
		return;
	}
	*c = (struct conn_arg){ .s = s, .fn = fn, .fd = fd, .name = v->name };
	nsd_set_timeouts(s->stk, fd, 200);
	pthread_mutex_lock(&s->mu);
	s->conns++;
	s->accepted++;
	c->next = s->live;
	if (s->live)
		s->live->prev = c;
	s->live = c;
	pthread_mutex_unlock(&s->mu);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, CONN_STACK);
	if (pthread_create(&t, &at, conn_thread, c) != 0) {
		fprintf(stderr, "netstackd: cannot start a connection thread; closing the connection\n");
		pthread_mutex_lock(&s->mu);
		s->conns--;
		if (c->next)
			c->next->prev = NULL;
		s->live = c->next;
		pthread_mutex_unlock(&s->mu);
		ns_close(s->stk, fd);
		free(c);
	}
	pthread_attr_destroy(&at);
}

static void *listener_thread(void *arg)
{
	struct worker_arg *w = arg;
	struct nsd_services *s = w->s;
	while (!atomic_load(&s->stop)) {
		int c = ns_accept(s->stk, w->fd, NULL, NULL, 0);
		if (c >= 0)
			spawn_conn(s, w->svc, c);
		else if (!nsd_retry(c) && c != -NS_ECONNABORTED) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };  /* e.g. EMFILE: back off */
			nanosleep(&ts, NULL);
		}
	}
	free(w);
	return NULL;
}

static void *dgram_thread(void *arg)
{
	struct worker_arg *w = arg;
	w->svc->dgram(w->s->stk, w->fd, &w->s->stop);
	free(w);
	return NULL;
}

static int start_thread(struct nsd_services *s, const struct svc *v, int fd, void *(*fn)(void *))
{
	if (s->nthr == MAX_THREADS)
		return -1;
	struct worker_arg *w = malloc(sizeof(*w));
	if (!w)
		return -1;
	*w = (struct worker_arg){ s, v, fd };
	if (pthread_create(&s->thr[s->nthr], NULL, fn, w) != 0) {
		free(w);
		return -1;
	}
	s->nthr++;
	return 0;
}

/* ---- sockets ----------------------------------------------------------------------- */

static int open_socket(struct ns_stack *stk, const struct svc *v, int family)
{
	int fd = ns_socket(stk, family, v->type, 0);
	if (fd < 0)
		return fd;
	int one = 1;
	ns_setsockopt(stk, fd, NS_SOL_SOCKET, NS_SO_REUSEADDR, &one, sizeof(one));
	if (family == NS_AF_INET6)
		ns_setsockopt(stk, fd, NS_IPPROTO_IPV6, NS_IPV6_V6ONLY, &one, sizeof(one));
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t len;
	if (family == NS_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = NS_AF_INET;
		sin->sin_port = htons(v->port);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = NS_AF_INET6;
		sin6->sin6_port = htons(v->port);
		len = sizeof(*sin6);
	}
	int err = ns_bind(stk, fd, (struct sockaddr *)&ss, len);
	if (err == 0 && v->type == NS_SOCK_STREAM)
		err = ns_listen(stk, fd, 1024);
	if (err < 0) {
		ns_close(stk, fd);
		return err;
	}
	nsd_set_timeouts(stk, fd, 200);
	return fd;
}

static void start_one(struct nsd_services *s, const struct svc *v, int family)
{
	const char *proto = v->type == NS_SOCK_STREAM ? "tcp" : "udp";
	int fd = open_socket(s->stk, v, family);
	if (fd < 0) {
		fprintf(stderr, "netstackd: %s %s/%u over IPv%c unavailable: %s\n", v->name, proto,
			v->port, family == NS_AF_INET ? '4' : '6', strerror(-fd));
		return;
	}
	if (s->nsocks == MAX_SOCKS) {
		ns_close(s->stk, fd);
		return;
	}
	s->socks[s->nsocks++] = fd;
	int workers = v->type == NS_SOCK_STREAM ? 1 : UDP_WORKERS;
	for (int i = 0; i < workers; i++)
		start_thread(s, v, fd, v->type == NS_SOCK_STREAM ? listener_thread : dgram_thread);
	if (nsd_log_level >= 2)
		fprintf(stderr, "netstackd: serving %s on %s/%u (IPv%c)\n", v->name, proto, v->port,
			family == NS_AF_INET ? '4' : '6');
}

struct nsd_services *nsd_services_start(struct ns_stack *stk, const struct nsd_opts *o)
{
	struct nsd_services *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->stk = stk;
	atomic_init(&s->stop, false);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		const struct svc *v = &services[i];
		if (!(o->services & v->bit))
			continue;
		if (o->n_ip4)
			start_one(s, v, NS_AF_INET);
		if (o->n_ip6)
			start_one(s, v, NS_AF_INET6);
	}
	return s;
}

void nsd_services_stop(struct nsd_services *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	for (int i = 0; i < s->nthr; i++)
		pthread_join(s->thr[i], NULL);
	for (int i = 0; i < s->nsocks; i++)
		ns_close(s->stk, s->socks[i]);
	/* connection threads notice the flag within one socket timeout */
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 5;
	pthread_mutex_lock(&s->mu);
	while (s->conns > 0) {
		if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) != 0)
			break;
	}
	int left = s->conns;
	pthread_mutex_unlock(&s->mu);
	if (left) {
		/* leave the memory to the OS rather than free what threads still use */
		fprintf(stderr, "netstackd: %d connection thread(s) did not finish\n", left);
		return;
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

int nsd_services_live(struct nsd_services *s)
{
	pthread_mutex_lock(&s->mu);
	int n = s->conns;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void nsd_services_report(struct nsd_services *s, FILE *f)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	fprintf(f, "services: %d sockets, %d connections served now, %llu accepted\n", s->nsocks,
		s->conns, (unsigned long long)s->accepted);
	/* per service: which of the open connections it serves (the full TCP
	 * table, orphans and TIME-WAIT included, follows from conns.c) */
	for (struct conn_arg *c = s->live; c; c = c->next)
		fprintf(f, "service %-8s fd %d\n", c->name, c->fd);
	pthread_mutex_unlock(&s->mu);
}
