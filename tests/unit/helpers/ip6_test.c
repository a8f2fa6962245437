/*
 * tests/unit/helpers/ip6_test.c - the one-stack IPv6 test bench (see
 * ip6_test.h): capture link, virtual time, frame builders and parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include "ip6_test.h"

struct ip6t_link {
	struct ns_link l;
	pthread_mutex_t mu;
	struct ns_pkt *head, *tail;
};

static int cap_write(struct ns_link *l, struct ns_pkt **pkts, int n)
{
	struct ip6t_link *c = (struct ip6t_link *)l;
	pthread_mutex_lock(&c->mu);
	for (int i = 0; i < n; i++) {
		pkts[i]->next = NULL;
		if (c->tail)
			c->tail->next = pkts[i];
		else
			c->head = pkts[i];
		c->tail = pkts[i];
	}
	pthread_mutex_unlock(&c->mu);
	return n;
}

static void cap_close(struct ns_link *l)
{
	struct ip6t_link *c = (struct ip6t_link *)l;
	ns_pkt_unref_chain(c->head);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static const struct ns_link_ops cap_ops = { .write = cap_write, .close = cap_close };

void ip6t_init(struct ip6t *t, uint32_t flags, uint32_t mtu)
{
	memset(t, 0, sizeof(*t));
	t->vc.now = IP6T_T0;
	ns_seeded_rng_init(&t->rng, 42);
	static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0xed, 0x00, 0x01 };
	static const uint8_t peer[6] = { 0x02, 0x00, 0x5e, 0xed, 0x00, 0xfe };
	memcpy(t->mac, mac, 6);
	memcpy(t->peer_mac, peer, 6);
	struct ns_stack_opts o = { .clock = ns_vclock_clock(&t->vc), .rng = ns_seeded_rng(&t->rng),
				   .flags = flags };
	assert_int_equal(ns_stack_create(&o, &t->stk), 0);
	struct ip6t_link *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	pthread_mutex_init(&c->mu, NULL);
	c->l.ops = &cap_ops;
	c->l.mtu = mtu ? mtu : 1500;
	c->l.max_header_len = 14;
	memcpy(c->l.mac, mac, 6);
	snprintf(c->l.name, sizeof(c->l.name), "cap0");
	t->link = c;
	t->nic = ns_nic_add(t->stk, &c->l, "cap0");
	assert_true(t->nic > 0);
}

void ip6t_fini(struct ip6t *t)
{
	ip6t_drain(t);
	/* every test ends with nothing alive (queued, reassembling, captured) */
	assert_int_equal(ns_stack_live_pkts(t->stk), 0);
	ns_stack_destroy(t->stk);
	t->stk = NULL;
}

void ip6t_advance(struct ip6t *t, uint64_t d)
{
	uint64_t end = t->vc.now + d, next = 0;
	for (int i = 0; i < 1000000; i++) {
		ns_stack_poll(t->stk, &next);
		if (next > end || next == UINT64_MAX)
			break;
		if (next > t->vc.now)
			t->vc.now = next;
	}
	t->vc.now = end;
	ns_stack_poll(t->stk, NULL);
}

struct ns_pkt *ip6t_take(struct ip6t *t)
{
	struct ip6t_link *c = t->link;
	pthread_mutex_lock(&c->mu);
	struct ns_pkt *p = c->head;
	if (p) {
		c->head = p->next;
		if (!c->head)
			c->tail = NULL;
		p->next = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	return p;
}

int ip6t_drain(struct ip6t *t)
{
	int n = 0;
	struct ns_pkt *p;
	while ((p = ip6t_take(t))) {
		ns_pkt_unref(p);
		n++;
	}
	return n;
}

uint64_t ip6t_stat(struct ip6t *t, const char *name)
{
	uint64_t v = 0;
	if (ns_stat_get(t->stk, name, &v) < 0)
		fail_msg("no counter %s", name);
	return v;
}

void ip6t_inject(struct ip6t *t, const uint8_t *frame, size_t len)
{
	struct ns_pkt *p = ns_pkt_alloc(ns_stack_pool(t->stk), NS_PKT_HEADROOM, len);
	assert_non_null(p);
	memcpy(ns_pkt_data(p), frame, len);
	t->link->l.deliver(t->link->l.deliver_ctx, p);
}

struct ns_addr ip6t_addr(const char *s)
{
	struct ns_addr a;
	if (ns_addr_parse(s, &a, NULL) < 0)
		fail_msg("bad address %s", s);
	return a;
}

void ip6t_addr_add(struct ip6t *t, const char *s, int plen)
{
	struct ns_addr a = ip6t_addr(s);
	assert_int_equal(ns_nic_addr_add(t->stk, t->nic, &a, plen), 0);
}

size_t ip6t_frame(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6],
		  const struct ns_addr *src, const struct ns_addr *dst, uint8_t nh, uint8_t hlim,
		  const void *payload, size_t len)
{
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	ns_store_be16(buf + 12, NS_ETHERTYPE_IPV6);
	uint8_t *h = buf + 14;
	ns_store_be32(h, 6u << 28);
	ns_store_be16(h + 4, (uint16_t)len);
	h[6] = nh;
	h[7] = hlim;
	memcpy(h + 8, src->b, 16);
	memcpy(h + 24, dst->b, 16);
	if (len)
		memcpy(h + 40, payload, len);
	return 14 + 40 + len;
}

static uint16_t l4_csum(const uint8_t *ip6, const uint8_t *l4, size_t len, uint8_t proto)
{
	struct ns_addr s, d;
	memset(&s, 0, sizeof(s));
	memset(&d, 0, sizeof(d));
	s.family = d.family = NS_AF_INET6;
	memcpy(s.b, ip6 + 8, 16);
	memcpy(d.b, ip6 + 24, 16);
	return ns_csum_fold(ns_csum_partial(l4, len, ns_csum_pseudo(&s, &d, proto, (uint32_t)len)));
}

void ip6t_fix_csum(uint8_t *frame, size_t l4off, uint8_t proto)
{
	uint8_t *ip6 = frame + 14;
	size_t len = 40 + ns_load_be16(ip6 + 4) - l4off;
	uint8_t *l4 = ip6 + l4off;
	size_t field = proto == 17 ? 6 : 2;
	l4[field] = l4[field + 1] = 0;
	uint16_t c = l4_csum(ip6, l4, len, proto);
	if (proto == 17 && c == 0)
		c = 0xffff;
	ns_store_be16(l4 + field, c);
}

size_t ip6t_icmp6(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6],
		  const struct ns_addr *src, const struct ns_addr *dst, uint8_t hlim, uint8_t type,
		  uint8_t code, uint32_t rest, const void *body, size_t len)
{
	uint8_t msg[70000];
	assert_true(len + 8 <= sizeof(msg));
	msg[0] = type;
	msg[1] = code;
	msg[2] = msg[3] = 0;
	ns_store_be32(msg + 4, rest);
	if (len)
		memcpy(msg + 8, body, len);
	size_t n = ip6t_frame(buf, dmac, smac, src, dst, 58, hlim, msg, len + 8);
	ip6t_fix_csum(buf, 40, 58);
	return n;
}

int ip6t_parse(const struct ns_pkt *p, struct ip6t_pkt *o)
{
	memset(o, 0, sizeof(*o));
	const uint8_t *f = ns_pkt_data(p);
	size_t len = ns_pkt_len(p);
	if (len < 54 || ns_load_be16(f + 12) != NS_ETHERTYPE_IPV6)
		return -1;
	o->eth = f;
	o->ip6 = f + 14;
	o->src.family = o->dst.family = NS_AF_INET6;
	memcpy(o->src.b, o->ip6 + 8, 16);
	memcpy(o->dst.b, o->ip6 + 24, 16);
	o->hlim = o->ip6[7];
	size_t total = 40 + ns_load_be16(o->ip6 + 4);
	if (total > len - 14)
		return -1;
	uint8_t nh = o->ip6[6];
	size_t off = 40;
	while ((nh == 0 || nh == 60 || nh == 43 || nh == 44) && off + 8 <= total) {
		const uint8_t *x = o->ip6 + off;
		if (nh == 44) {
			o->has_frag = true;
			o->frag_off = ns_load_be16(x + 2);
			o->frag_id = ns_load_be32(x + 4);
			nh = x[0];
			off += 8;
			continue;
		}
		if (nh == 0 && x[2] == 5)
			o->hbh_router_alert = true;
		nh = x[0];
		off += ((size_t)x[1] + 1) * 8;
	}
	o->proto = nh;
	o->l4 = o->ip6 + off;
	o->l4_len = total - off;
	if (!o->has_frag && (nh == 58 || nh == 17) && o->l4_len >= 8)
		o->csum_ok = l4_csum(o->ip6, o->l4, o->l4_len, nh) == 0;
	return 0;
}

struct ns_pkt *ip6t_take_icmp(struct ip6t *t, uint8_t type, struct ip6t_pkt *o)
{
	struct ns_pkt *p;
	while ((p = ip6t_take(t))) {
		if (ip6t_parse(p, o) == 0 && o->proto == 58 && o->l4_len >= 4 && o->l4[0] == type)
			return p;
		ns_pkt_unref(p);
	}
	return NULL;
}
