/*
 * tests/replay/tool/vstack.c - the virtual-time stack instance of
 * pcap-replay: capture link, embedded-mode event loop and the config
 * services (see vstack.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "netstack/core.h"
#include "vstack.h"

int nsr_warnings = 1;

/* ---- capture link --------------------------------------------------------- */

struct cap_link {
	struct ns_link l;
	struct nsr_vstack *v;
};

static int cap_write(struct ns_link *l, struct ns_pkt **pkts, int n)
{
	struct cap_link *c = (struct cap_link *)l;
	struct nsr_vstack *v = c->v;
	for (int i = 0; i < n; i++) {
		struct ns_pkt *p = pkts[i];
		uint64_t now = v->vc.now;
		if (v->record)
			nsr_frames_push(&v->out, now, ns_pkt_data(p), ns_pkt_len(p));
		if (v->on_tx)
			v->on_tx(v->on_tx_ctx, now, ns_pkt_data(p), ns_pkt_len(p));
		ns_pkt_unref(p);
	}
	return n;
}

static int cap_poll(struct ns_link *l, int budget)
{
	(void)l;
	(void)budget;
	return 0;
}

static void cap_close(struct ns_link *l) { free(l); }

static const struct ns_link_ops cap_ops = {
	.write = cap_write,
	.poll = cap_poll,
	.close = cap_close,
};

/* ---- services ---------------------------------------------------------------- */

struct conn {
	int fd;
	bool echo;
	bool eof;
	uint8_t *pend;                  /* echo bytes not yet accepted by send */
	size_t npend;
	struct conn *next;
};

struct nsr_svc {
	const struct nsr_svc_cfg *c;
	int fd4, fd6;
	bool started, connected;
	uint64_t sent;
	struct conn *conns;
};

static void conn_free(struct nsr_vstack *v, struct conn *k)
{
	if (k->fd >= 0)
		ns_close(v->stk, k->fd);
	free(k->pend);
	free(k);
}

/* Reads what is there; echoes or discards.  Returns events handled. */
static int conn_pump(struct nsr_vstack *v, struct conn *k)
{
	int work = 0;
	if (k->fd < 0)
		return 0;
	uint8_t buf[16384];
	for (int guard = 0; guard < 64; guard++) {
		if (k->npend) {
			ssize_t w = ns_send(v->stk, k->fd, k->pend, k->npend, NS_MSG_NOSIGNAL);
			if (w > 0) {
				memmove(k->pend, k->pend + w, k->npend - (size_t)w);
				k->npend -= (size_t)w;
				work++;
			}
			if (k->npend)
				break;          /* no room: wait for the peer */
		}
		if (k->eof)
			break;
		ssize_t r = ns_recv(v->stk, k->fd, buf, sizeof(buf), 0);
		if (r == -NS_EAGAIN)
			break;
		work++;
		if (r <= 0) {
			k->eof = true;
			break;
		}
		if (k->echo) {
			uint8_t *np = realloc(k->pend, k->npend + (size_t)r);
			if (!np)
				break;
			k->pend = np;
			memcpy(k->pend + k->npend, buf, (size_t)r);
			k->npend += (size_t)r;
		}
	}
	if (k->eof && !k->npend && k->fd >= 0) {
		/* peer finished (or failed) and everything is echoed: close like a server */
		ns_close(v->stk, k->fd);
		k->fd = -1;
		work++;
	}
	return work;
}

static int udp_pump(struct nsr_vstack *v, int fd, bool echo)
{
	int work = 0;
	uint8_t buf[65536];
	int errs = 0;
	for (int guard = 0; guard < 256; guard++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t r = ns_recvfrom(v->stk, fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (r < 0 && r != -NS_EAGAIN) {
			if (++errs > 4)     /* a pending error (ICMP) is reported once */
				break;
			continue;
		}
		if (r < 0)
			break;
		work++;
		if (echo)
			ns_sendto(v->stk, fd, buf, (size_t)r, 0, (struct sockaddr *)&from, fl);
	}
	return work;
}

static int svc_open(struct nsr_vstack *v, struct nsr_svc *s, int family)
{
	bool tcp = s->c->kind == NSR_SVC_TCP_LISTEN || s->c->kind == NSR_SVC_TCP_ECHO ||
		   s->c->kind == NSR_SVC_TCP_DISCARD;
	int fd = ns_socket(v->stk, family, (tcp ? NS_SOCK_STREAM : NS_SOCK_DGRAM) | NS_SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	int one = 1;
	ns_setsockopt(v->stk, fd, NS_SOL_SOCKET, NS_SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t len;
	if (family == NS_AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = NS_AF_INET;
		a->sin_port = htons(s->c->port);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = NS_AF_INET6;
		a->sin6_port = htons(s->c->port);
		ns_setsockopt(v->stk, fd, NS_IPPROTO_IPV6, NS_IPV6_V6ONLY, &one, sizeof(one));
		len = sizeof(*a);
	}
	int r = ns_bind(v->stk, fd, (struct sockaddr *)&ss, len);
	if (r == 0 && tcp)
		r = ns_listen(v->stk, fd, 128);
	if (r < 0) {
		ns_close(v->stk, fd);
		return r;
	}
	return fd;
}

static void sockaddr_from(const struct ns_addr *a, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == NS_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = NS_AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->b, 4);
		*len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = NS_AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->b, 16);
		*len = sizeof(*s6);
	}
}

static int connect_pump(struct nsr_vstack *v, struct nsr_svc *s)
{
	int work = 0;
	if (!s->started) {
		if (v->vc.now < v->t0 + s->c->at_ns)
			return 0;
		s->started = true;
		int fd = ns_socket(v->stk, s->c->raddr.family, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
		if (fd < 0)
			return 1;
		struct sockaddr_storage ss;
		socklen_t len;
		sockaddr_from(&s->c->raddr, s->c->port, &ss, &len);
		ns_connect(v->stk, fd, (struct sockaddr *)&ss, len);
		struct conn *k = calloc(1, sizeof(*k));
		if (!k) {
			ns_close(v->stk, fd);
			return 1;
		}
		k->fd = fd;
		s->conns = k;
		work++;
	}
	struct conn *k = s->conns;
	if (!k || k->fd < 0)
		return work;
	static const uint8_t pattern[1024] = { 0 };
	while (s->sent < s->c->send_bytes) {
		size_t n = (size_t)NS_MIN((uint64_t)sizeof(pattern), s->c->send_bytes - s->sent);
		ssize_t w = ns_send(v->stk, k->fd, pattern, n, NS_MSG_NOSIGNAL);
		if (w <= 0)
			break;
		s->sent += (uint64_t)w;
		work++;
	}
	work += conn_pump(v, k);
	return work;
}

static int listener_pump(struct nsr_vstack *v, struct nsr_svc *s, int lfd)
{
	int work = 0;
	for (int guard = 0; lfd >= 0 && guard < 256; guard++) {
		int fd = ns_accept(v->stk, lfd, NULL, NULL, NS_SOCK_NONBLOCK);
		if (fd < 0)
			break;
		struct conn *k = calloc(1, sizeof(*k));
		if (!k) {
			ns_close(v->stk, fd);
			break;
		}
		k->fd = fd;
		k->echo = s->c->kind == NSR_SVC_TCP_ECHO;
		k->next = s->conns;
		s->conns = k;
		work++;
	}
	return work;
}

static int svc_pump(struct nsr_vstack *v, struct nsr_svc *s)
{
	int work = 0;
	switch (s->c->kind) {
	case NSR_SVC_TCP_CONNECT:
		return connect_pump(v, s);
	case NSR_SVC_UDP_ECHO:
	case NSR_SVC_UDP_DISCARD:
	case NSR_SVC_UDP_LISTEN: {
		bool echo = s->c->kind == NSR_SVC_UDP_ECHO;
		if (s->fd4 >= 0)
			work += udp_pump(v, s->fd4, echo);
		if (s->fd6 >= 0)
			work += udp_pump(v, s->fd6, echo);
		return work;
	}
	default:
		work += listener_pump(v, s, s->fd4);
		work += listener_pump(v, s, s->fd6);
		for (struct conn *k = s->conns; k; k = k->next)
			work += conn_pump(v, k);
		return work;
	}
}

static int pump_all(struct nsr_vstack *v)
{
	int work = 0;
	for (int i = 0; i < v->nsvc; i++)
		work += svc_pump(v, &v->svcs[i]);
	if (v->pump)
		work += v->pump(v->pump_ctx);
	return work;
}

/* ---- lifecycle and event loop ---------------------------------------------- */

int nsr_vstack_create(const struct nsr_config *cfg, uint64_t seed, uint64_t start_ns,
		      struct nsr_vstack **out, char *err, size_t errlen)
{
	struct nsr_vstack *v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	v->cfg = cfg;
	v->record = true;
	v->vc.now = start_ns;
	ns_seeded_rng_init(&v->rng, seed);
	struct ns_stack_opts o = { .clock = ns_vclock_clock(&v->vc), .rng = ns_seeded_rng(&v->rng),
				   .flags = cfg->stack_flags };
	int r = ns_stack_create(&o, &v->stk);
	if (r < 0) {
		snprintf(err, errlen, "ns_stack_create: %d", r);
		free(v);
		return -1;
	}
	struct cap_link *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		nsr_vstack_destroy(v);
		return -1;
	}
	c->v = v;
	c->l.ops = &cap_ops;
	c->l.mtu = cfg->mtu;
	c->l.max_header_len = 14;
	memcpy(c->l.mac, cfg->mac, 6);
	snprintf(c->l.name, sizeof(c->l.name), "replay0");
	v->nic = ns_nic_add(v->stk, &c->l, "replay0");
	if (v->nic < 0) {
		snprintf(err, errlen, "ns_nic_add: %d", v->nic);
		free(c);
		nsr_vstack_destroy(v);
		return -1;
	}
	char ab[64];
	for (int i = 0; i < cfg->naddr; i++) {
		r = ns_nic_addr_add(v->stk, v->nic, &cfg->addr[i].a, cfg->addr[i].plen);
		if (r < 0) {
			snprintf(err, errlen, "address %s: error %d", ns_addr_fmt(&cfg->addr[i].a, ab, sizeof(ab)), r);
			nsr_vstack_destroy(v);
			return -1;
		}
	}
	for (int i = 0; i < cfg->nroute; i++) {
		r = ns_route_add(v->stk, &cfg->route[i].dst, cfg->route[i].plen,
				 cfg->route[i].has_gw ? &cfg->route[i].gw : NULL, v->nic);
		if (r < 0) {
			snprintf(err, errlen, "route %s/%d: error %d",
				 ns_addr_fmt(&cfg->route[i].dst, ab, sizeof(ab)), cfg->route[i].plen, r);
			nsr_vstack_destroy(v);
			return -1;
		}
	}
	*out = v;
	return 0;
}

int nsr_vstack_start_services(struct nsr_vstack *v, uint64_t t0, char *err, size_t errlen)
{
	(void)err;
	const struct nsr_config *cfg = v->cfg;
	v->t0 = t0;
	v->svcs = calloc((size_t)cfg->nsvc + 1, sizeof(*v->svcs));
	if (!v->svcs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	bool has4 = false, has6 = false;
	int nfail = 0, first_err = 0, first_port = 0;
	for (int i = 0; i < cfg->naddr; i++) {
		has4 |= cfg->addr[i].a.family == NS_AF_INET;
		has6 |= cfg->addr[i].a.family == NS_AF_INET6;
	}
	for (int i = 0; i < cfg->nsvc; i++) {
		struct nsr_svc *s = &v->svcs[i];
		s->c = &cfg->svc[i];
		s->fd4 = s->fd6 = -1;
		v->nsvc = i + 1;
		if (s->c->kind == NSR_SVC_TCP_CONNECT)
			continue;
		/* a protocol the stack does not have yet is a warning, not the end of the replay */
		if (has4 && (s->fd4 = svc_open(v, s, NS_AF_INET)) < 0 && !nfail++)
			first_err = s->fd4, first_port = s->c->port;
		if (has6 && (s->fd6 = svc_open(v, s, NS_AF_INET6)) < 0 && !nfail++)
			first_err = s->fd6, first_port = s->c->port;
	}
	if (nfail && nsr_warnings)
		fprintf(stderr, "pcap-replay: warning: %d service sockets could not be opened (first: port %d, error %d)\n",
			nfail, first_port, first_err);
	return 0;
}

void nsr_vstack_destroy(struct nsr_vstack *v)
{
	if (!v)
		return;
	for (int i = 0; i < v->nsvc; i++) {
		struct nsr_svc *s = &v->svcs[i];
		while (s->conns) {
			struct conn *k = s->conns;
			s->conns = k->next;
			conn_free(v, k);
		}
		if (s->fd4 >= 0)
			ns_close(v->stk, s->fd4);
		if (s->fd6 >= 0)
			ns_close(v->stk, s->fd6);
	}
	free(v->svcs);
	if (v->stk) {
		/* drain: with every socket closed, let the stack's own timers finish what is in
		 * flight (SYN-ACK retries, FIN retransmissions, TIME_WAIT) in virtual time,
		 * unrecorded, so that it is torn down quiescent */
		v->record = false;
		v->on_tx = NULL;
		v->pump = NULL;
		v->nsvc = 0;
		nsr_vstack_advance(v, v->vc.now + 200ull * 1000000000ull);
		ns_stack_destroy(v->stk);
	}
	nsr_frames_free(&v->out);
	free(v);
}

void nsr_vstack_set_pump(struct nsr_vstack *v, nsr_pump_fn fn, void *ctx)
{
	v->pump = fn;
	v->pump_ctx = ctx;
}

void nsr_vstack_run_now(struct nsr_vstack *v)
{
	for (int guard = 0; guard < 100000; guard++) {
		uint64_t next = UINT64_MAX;
		int w = ns_stack_poll(v->stk, &next);
		w += pump_all(v);
		v->next_timer = next;
		v->work += (uint64_t)w;
		if (w == 0 && next > v->vc.now)
			return;
	}
	fprintf(stderr, "pcap-replay: warning: no quiescence at t=%llu ns (busy loop?)\n",
		(unsigned long long)v->vc.now);
}

uint64_t nsr_vstack_next_event(struct nsr_vstack *v)
{
	uint64_t next = v->next_timer;
	for (int i = 0; i < v->nsvc; i++) {
		struct nsr_svc *s = &v->svcs[i];
		if (s->c->kind == NSR_SVC_TCP_CONNECT && !s->started)
			next = NS_MIN(next, v->t0 + s->c->at_ns);
	}
	return next;
}

void nsr_vstack_advance(struct nsr_vstack *v, uint64_t t)
{
	nsr_vstack_run_now(v);
	for (int guard = 0; guard < 10000000; guard++) {
		uint64_t next = nsr_vstack_next_event(v);
		if (next > t)
			break;
		if (next > v->vc.now)
			v->vc.now = next;
		nsr_vstack_run_now(v);
	}
	if (t > v->vc.now)
		v->vc.now = t;
	nsr_vstack_run_now(v);
}

void nsr_vstack_inject(struct nsr_vstack *v, const uint8_t *frame, size_t len)
{
	struct ns_nic *nic = ns__nic_get(v->stk, v->nic);
	if (!nic || len > 65535 + 14)
		return;
	struct ns_link *l = nic->link;
	struct ns_pkt *p = ns_pkt_alloc(l->pool, NS_PKT_HEADROOM, len);
	if (!p)
		return;
	memcpy(ns_pkt_data(p), frame, len);
	p->tstamp = v->vc.now;
	l->deliver(l->deliver_ctx, p);
	nsr_vstack_run_now(v);
}
