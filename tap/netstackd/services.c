/*
 * tap/netstackd/services.c - the services netstackd offers, on the public
 * socket API: echo (RFC 862, TCP and UDP 7), discard (RFC 863, TCP and UDP
 * 9), chargen (RFC 864, TCP 19) and HTTP (TCP 80, http.c).
 * Owns: the service table, listeners and the distribution of accepted
 * connections over the workers (round robin), the connection object and its
 * output engine, the echo/discard/chargen state machines, the UDP handlers,
 * idle and linger timeouts (two FIFOs per worker: every entry of a FIFO has
 * the same duration, so the head is always the next to expire), the report
 * and shutdown.  Threads: the workers of evloop.c, nothing per connection.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "netstackd.h"
#include "svc_util.h"

#define MAX_SOCKS 32
#define IO_BUF 65536
#define RUN_ROUNDS 32                  /* steps per run before other items get a turn */
#define ACCEPT_BATCH 64
#define UDP_BATCH 64
#define HTTP_IDLE_MS 120000
#define LINGER_MS 2000

struct svc {
	const char *name;
	unsigned bit;
	int type;
	uint16_t port;
	nsd_step_fn step;               /* TCP */
	void (*dgram)(struct nsd_item *it);     /* UDP */
};

/* Per-worker service state (w->ctx). */
struct svc_worker {
	struct nsd_link all;            /* connections (under w->mu: the report reads it) */
	struct nsd_link idle, linger;   /* timeout FIFOs (worker thread only) */
	int nconns;                     /* under w->mu */
};

/* A listening or UDP socket. */
struct svc_sock {
	struct nsd_item it;
	struct nsd_services *s;
	const struct svc *svc;
};

struct nsd_services {
	struct ns_stack *stk;
	atomic_bool stop;
	struct nsd_worker *w;
	struct svc_worker *sw;
	int nw;
	atomic_uint next_worker;
	atomic_ullong accepted;
	struct svc_sock socks[MAX_SOCKS];
	int nsocks;
};

/* ---- the output engine ------------------------------------------------------------ */

static void out_reset(struct nsd_conn *c)
{
	if (c->out_heap)
		free(c->out);
	c->out = NULL;
	c->out_heap = false;
	c->out_off = c->out_len = 0;
}

bool nsd_conn_out_copy(struct nsd_conn *c, const void *p, size_t len)
{
	uint8_t *b = malloc(len);
	if (!b)
		return false;
	memcpy(b, p, len);
	out_reset(c);
	c->out = b;
	c->out_heap = true;
	c->out_len = len;
	return true;
}

static bool retry(ssize_t r) { return r == -NS_EINTR; }

/* Sends what is pending: 1 all sent, 0 would block, -errno on failure. */
static int conn_flush(struct nsd_conn *c, bool *progress)
{
	struct ns_stack *stk = c->it.w->stk;
	const int fl = NS_MSG_NOSIGNAL | NS_MSG_DONTWAIT;
	while (c->out_off < c->out_len) {
		ssize_t r = ns_send(stk, c->it.fd, c->out + c->out_off, c->out_len - c->out_off, fl);
		if (r > 0) {
			c->out_off += (size_t)r;
			*progress = true;
		} else if (r == -NS_EAGAIN) {
			return 0;
		} else if (!retry(r)) {
			return r < 0 ? (int)r : -NS_EPIPE;
		}
	}
	if (c->out)
		out_reset(c);
	while (c->pat_left) {
		size_t n = c->pat_left < IO_BUF ? (size_t)c->pat_left : IO_BUF;
		ssize_t r = ns_send(stk, c->it.fd, c->pat + c->pat_pos, n, fl);
		if (r > 0) {
			if (c->pat_left != UINT64_MAX)
				c->pat_left -= (uint64_t)r;
			c->pat_pos = (c->pat_pos + (size_t)r) % c->pat_period;
			*progress = true;
		} else if (r == -NS_EAGAIN) {
			return 0;
		} else if (!retry(r)) {
			return r < 0 ? (int)r : -NS_EPIPE;
		}
	}
	return 1;
}

/* ---- connections -------------------------------------------------------------------- */

static void conn_free(struct nsd_item *it)
{
	struct nsd_conn *c = (struct nsd_conn *)it;
	out_reset(c);
	free(c->in);
	free(c);
}

static void conn_close(struct nsd_conn *c)
{
	struct nsd_worker *w = c->it.w;
	struct svc_worker *sw = w->ctx;
	if (nsd_linked(&c->tmo))
		nsd_list_del(&c->tmo);
	pthread_mutex_lock(&w->mu);
	nsd_list_del(&c->all);
	sw->nconns--;
	pthread_mutex_unlock(&w->mu);
	ns_close(w->stk, c->it.fd);     /* FIN (or RST with unread data, like Linux) */
	nsd_item_release(&c->it);
}

void nsd_conn_touch_idle(struct nsd_conn *c)
{
	struct svc_worker *sw = c->it.w->ctx;
	if (c->lingering)
		return;
	if (nsd_linked(&c->tmo))
		nsd_list_del(&c->tmo);
	c->deadline_ms = c->it.w->now_ms + HTTP_IDLE_MS;
	nsd_list_add_tail(&sw->idle, &c->tmo);
}

void nsd_conn_linger(struct nsd_conn *c)
{
	struct svc_worker *sw = c->it.w->ctx;
	if (nsd_linked(&c->tmo))
		nsd_list_del(&c->tmo);
	c->lingering = true;
	c->deadline_ms = c->it.w->now_ms + LINGER_MS;
	nsd_list_add_tail(&sw->linger, &c->tmo);
}

/* Runs a connection until it would block (or its turn is over). */
static void conn_run(struct nsd_item *it)
{
	struct nsd_conn *c = (struct nsd_conn *)it;
	bool progress = false;
	for (int round = 0; round < RUN_ROUNDS; round++) {
		int f = conn_flush(c, &progress);
		if (f < 0) {
			conn_close(c);
			return;
		}
		if (f == 0) {
			/* wait for send space; reading stops meanwhile (backpressure) */
			if (nsd_item_want(it, NS_POLLOUT))
				continue;
			return;
		}
		enum nsd_step st = c->step(c);
		if (st == NSD_CLOSE) {
			conn_close(c);
			return;
		}
		if (st == NSD_MORE) {
			progress = true;
			continue;
		}
		if (nsd_item_want(it, NS_POLLIN | NS_POLLRDHUP))
			continue;
		return;
	}
	/* turn over: run again after the others, unless it is stuck (a mask that
	 * says ready while the calls say EAGAIN must not spin) */
	if (progress)
		nsd_item_queue(it);
}

/* ---- TCP services --------------------------------------------------------------------- */

static ssize_t rd(struct nsd_conn *c, void *buf, size_t len)
{
	ssize_t n;
	do
		n = ns_recv(c->it.w->stk, c->it.fd, buf, len, NS_MSG_DONTWAIT);
	while (retry(n));
	return n;
}

/* echo: what is read goes straight back; an unsent rest is kept and
 * nothing more is read until it went out. */
static enum nsd_step echo_step(struct nsd_conn *c)
{
	struct nsd_worker *w = c->it.w;
	ssize_t n = rd(c, w->scratch, NSD_SCRATCH);
	if (n == -NS_EAGAIN)
		return NSD_WAIT;
	if (n <= 0)
		return NSD_CLOSE;       /* peer closed (our close sends FIN) or failed */
	ssize_t s = ns_send(w->stk, c->it.fd, w->scratch, (size_t)n, NS_MSG_NOSIGNAL | NS_MSG_DONTWAIT);
	if (s < 0 && s != -NS_EAGAIN)
		return NSD_CLOSE;
	size_t sent = s > 0 ? (size_t)s : 0;
	if (sent < (size_t)n && !nsd_conn_out_copy(c, w->scratch + sent, (size_t)n - sent))
		return NSD_CLOSE;
	return NSD_MORE;
}

static enum nsd_step discard_step(struct nsd_conn *c)
{
	ssize_t n = rd(c, c->it.w->scratch, NSD_SCRATCH);
	if (n == -NS_EAGAIN)
		return NSD_WAIT;
	return n > 0 ? NSD_MORE : NSD_CLOSE;
}

/* RFC 864: lines of 72 printable characters (ASCII 32..126), each line
 * starting one character later than the previous, CR LF terminated.
 * 95 lines are one period; the buffer holds a period plus IO_BUF bytes so
 * that any offset has IO_BUF contiguous bytes after it. */
#define CHARGEN_PERIOD (95 * 74)
static uint8_t chargen_buf[CHARGEN_PERIOD + IO_BUF];

static void chargen_init(void)
{
	for (size_t o = 0; o < sizeof(chargen_buf); o++) {
		size_t line = (o / 74) % 95, col = o % 74;
		chargen_buf[o] = col < 72 ? (uint8_t)(32 + (line + col) % 95) : col == 72 ? '\r' : '\n';
	}
}

static enum nsd_step chargen_step(struct nsd_conn *c)
{
	/* input is ignored (RFC 864), but an error ends the session */
	if (!c->rd_eof) {
		ssize_t n = rd(c, c->it.w->scratch, NSD_SCRATCH);
		if (n == 0)
			c->rd_eof = true;
		else if (n < 0 && n != -NS_EAGAIN)
			return NSD_CLOSE;
	}
	if (!c->pat_left) {
		c->pat = chargen_buf;
		c->pat_period = CHARGEN_PERIOD;
		c->pat_left = UINT64_MAX;
	}
	return NSD_MORE;        /* the flush blocks: then we wait for POLLOUT */
}

/* ---- UDP services ------------------------------------------------------------------------- */

static void udp_echo(struct nsd_item *it)
{
	struct nsd_worker *w = it->w;
	for (int i = 0; i < UDP_BATCH; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = ns_recvfrom(w->stk, it->fd, w->scratch, NSD_SCRATCH, NS_MSG_DONTWAIT,
					(struct sockaddr *)&from, &fl);
		if (n == -NS_EAGAIN)
			return;
		if (n < 0)
			continue;       /* an error queued by ICMP: keep serving */
		/* a failed reply (no route, no buffer) is dropped like a lost datagram */
		(void)ns_sendto(w->stk, it->fd, w->scratch, (size_t)n, NS_MSG_DONTWAIT,
				(struct sockaddr *)&from, fl);
	}
	nsd_item_queue(it);
}

static void udp_discard(struct nsd_item *it)
{
	struct nsd_worker *w = it->w;
	for (int i = 0; i < UDP_BATCH; i++) {
		ssize_t n = ns_recv(w->stk, it->fd, w->scratch, NSD_SCRATCH, NS_MSG_DONTWAIT);
		if (n == -NS_EAGAIN)
			return;
	}
	nsd_item_queue(it);
}

static const struct svc services[] = {
	{ "echo", NSD_SVC_ECHO, NS_SOCK_DGRAM, 7, NULL, udp_echo },
	{ "discard", NSD_SVC_DISCARD, NS_SOCK_DGRAM, 9, NULL, udp_discard },
	{ "echo", NSD_SVC_ECHO, NS_SOCK_STREAM, 7, echo_step, NULL },
	{ "discard", NSD_SVC_DISCARD, NS_SOCK_STREAM, 9, discard_step, NULL },
	{ "chargen", NSD_SVC_CHARGEN, NS_SOCK_STREAM, 19, chargen_step, NULL },
	{ "http", NSD_SVC_HTTP, NS_SOCK_STREAM, 80, nsd_http_step, NULL },
};

/* ---- accepting -------------------------------------------------------------------------------- */

static void adopt(struct nsd_services *s, const struct svc *v, int fd)
{
	unsigned i = atomic_fetch_add(&s->next_worker, 1) % (unsigned)s->nw;
	struct nsd_worker *w = &s->w[i];
	struct svc_worker *sw = &s->sw[i];
	/* only HTTP builds responses in the connection (hbuf) */
	struct nsd_conn *c = calloc(1, sizeof(*c) + (v->step == nsd_http_step ? NSD_HBUF : 0));
	if (!c) {
		ns_close(s->stk, fd);
		return;
	}
	c->it.w = w;
	c->it.fd = fd;
	c->it.run = conn_run;
	c->it.free = conn_free;
	c->name = v->name;
	c->step = v->step;
	pthread_mutex_lock(&w->mu);
	nsd_list_add_tail(&sw->all, &c->all);
	sw->nconns++;
	pthread_mutex_unlock(&w->mu);
	atomic_fetch_add(&s->accepted, 1);
	/* the connection's own worker starts it (queued by attach) */
	if (nsd_item_attach(&c->it, NS_POLLIN | NS_POLLRDHUP) < 0) {
		pthread_mutex_lock(&w->mu);
		nsd_list_del(&c->all);
		sw->nconns--;
		pthread_mutex_unlock(&w->mu);
		ns_close(s->stk, fd);
		free(c);
	}
}

static void listener_run(struct nsd_item *it)
{
	struct svc_sock *l = (struct svc_sock *)it;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = ns_accept(it->w->stk, it->fd, NULL, NULL, NS_SOCK_NONBLOCK);
		if (fd >= 0) {
			adopt(l->s, l->svc, fd);
			continue;
		}
		if (fd == -NS_ECONNABORTED)
			continue;
		if (fd != -NS_EAGAIN)   /* EMFILE, ENOMEM: the next connection retries */
			fprintf(stderr, "netstackd: accept on %s: %s\n", l->svc->name, strerror(-fd));
		return;
	}
	nsd_item_queue(it);
}

/* ---- timeouts ----------------------------------------------------------------------------------- */

static int expire(struct nsd_link *fifo, uint64_t now)
{
	while (!nsd_list_empty(fifo)) {
		struct nsd_conn *c = (struct nsd_conn *)((char *)fifo->next - offsetof(struct nsd_conn, tmo));
		if (c->deadline_ms > now)
			return (int)(c->deadline_ms - now);
		conn_close(c);
	}
	return -1;
}

static int svc_tick(struct nsd_worker *w, uint64_t now)
{
	struct svc_worker *sw = w->ctx;
	int a = expire(&sw->idle, now), b = expire(&sw->linger, now);
	if (a < 0)
		return b;
	return b < 0 || a < b ? a : b;
}

/* ---- sockets ----------------------------------------------------------------------------------- */

static int open_socket(struct ns_stack *stk, const struct svc *v, int family)
{
	int fd = ns_socket(stk, family, v->type | NS_SOCK_NONBLOCK, 0);
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
		err = ns_listen(stk, fd, 4096);
	if (err < 0) {
		ns_close(stk, fd);
		return err;
	}
	return fd;
}

static void start_one(struct nsd_services *s, const struct svc *v, int family)
{
	const char *proto = v->type == NS_SOCK_STREAM ? "tcp" : "udp";
	if (s->nsocks == MAX_SOCKS)
		return;
	int fd = open_socket(s->stk, v, family);
	if (fd < 0) {
		fprintf(stderr, "netstackd: %s %s/%u over IPv%c unavailable: %s\n", v->name, proto,
			v->port, family == NS_AF_INET ? '4' : '6', strerror(-fd));
		return;
	}
	struct svc_sock *l = &s->socks[s->nsocks];
	*l = (struct svc_sock){ .s = s, .svc = v };
	l->it.w = &s->w[s->nsocks % s->nw];
	l->it.fd = fd;
	l->it.run = v->type == NS_SOCK_STREAM ? listener_run : v->dgram;
	if (nsd_item_attach(&l->it, NS_POLLIN) < 0) {
		fprintf(stderr, "netstackd: %s %s/%u: cannot watch the socket\n", v->name, proto, v->port);
		ns_close(s->stk, fd);
		return;
	}
	s->nsocks++;
	if (nsd_log_level >= 2)
		fprintf(stderr, "netstackd: serving %s on %s/%u (IPv%c)\n", v->name, proto, v->port,
			family == NS_AF_INET ? '4' : '6');
}

static int default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > NSD_MAX_WORKERS ? NSD_MAX_WORKERS : (int)n;
}

static int start_workers(struct nsd_services *s, int n)
{
	s->w = calloc((size_t)n, sizeof(*s->w));
	s->sw = calloc((size_t)n, sizeof(*s->sw));
	if (!s->w || !s->sw)
		return -1;
	for (int i = 0; i < n; i++) {
		struct nsd_worker *w = &s->w[i];
		struct svc_worker *sw = &s->sw[i];
		nsd_list_init(&sw->all);
		nsd_list_init(&sw->idle);
		nsd_list_init(&sw->linger);
		*w = (struct nsd_worker){ .id = i, .stk = s->stk, .stop = &s->stop, .tick = svc_tick,
					  .ctx = sw };
		if (nsd_worker_start(w) < 0)
			break;
		s->nw++;
	}
	if (s->nw < n)
		fprintf(stderr, "netstackd: started %d of %d workers\n", s->nw, n);
	return s->nw > 0 ? 0 : -1;
}

struct nsd_services *nsd_services_start(struct ns_stack *stk, const struct nsd_opts *o)
{
	struct nsd_services *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->stk = stk;
	atomic_init(&s->stop, false);
	chargen_init();
	nsd_http_init();
	if (start_workers(s, o->workers > 0 ? o->workers : default_workers()) < 0) {
		free(s->w);
		free(s->sw);
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		const struct svc *v = &services[i];
		if (!(o->services & v->bit))
			continue;
		if (o->n_ip4)
			start_one(s, v, NS_AF_INET);
		if (o->n_ip6)
			start_one(s, v, NS_AF_INET6);
	}
	if (nsd_log_level >= 2)
		fprintf(stderr, "netstackd: %d worker thread(s)\n", s->nw);
	return s;
}

void nsd_services_stop(struct nsd_services *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	for (int i = 0; i < s->nw; i++)
		nsd_worker_join(&s->w[i]);
	/* no worker runs now: close the sockets (their waiters go with them) */
	for (int i = 0; i < s->nsocks; i++)
		ns_close(s->stk, s->socks[i].it.fd);
	for (int i = 0; i < s->nw; i++) {
		struct svc_worker *sw = &s->sw[i];
		nsd_worker_drain(&s->w[i]);     /* frees released ones, unqueues the rest */
		while (!nsd_list_empty(&sw->all)) {
			struct nsd_conn *c = (struct nsd_conn *)((char *)sw->all.next -
								 offsetof(struct nsd_conn, all));
			conn_close(c);  /* FIN; not queued any more: freed at once */
		}
		nsd_worker_fini(&s->w[i]);
	}
	free(s->w);
	free(s->sw);
	free(s);
}

void nsd_services_report(struct nsd_services *s, FILE *f)
{
	if (!s)
		return;
	int live = 0;
	for (int i = 0; i < s->nw; i++) {
		pthread_mutex_lock(&s->w[i].mu);
		live += s->sw[i].nconns;
		pthread_mutex_unlock(&s->w[i].mu);
	}
	fprintf(f, "services: %d sockets, %d workers, %d connections served now, %llu accepted\n",
		s->nsocks, s->nw, live, (unsigned long long)atomic_load(&s->accepted));
	/* per service: which of the open connections it serves (the full TCP
	 * table, orphans and TIME-WAIT included, follows from conns.c) */
	for (int i = 0; i < s->nw; i++) {
		pthread_mutex_lock(&s->w[i].mu);
		for (struct nsd_link *n = s->sw[i].all.next; n != &s->sw[i].all; n = n->next) {
			struct nsd_conn *c = (struct nsd_conn *)((char *)n - offsetof(struct nsd_conn, all));
			fprintf(f, "service %-8s fd %d worker %d\n", c->name, c->it.fd, i);
		}
		pthread_mutex_unlock(&s->w[i].mu);
	}
}
