/*
 * tests/unit/helpers/ns_test.c - the shared unit-test harness (see ns_test.h):
 * stacks on a virtual clock, paired stacks, the pump, frame builders and
 * the frame parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ns_test.h"
#include "link/link_internal.h"

uint64_t ns_test_seed(uint64_t dflt)
{
	const char *e = getenv("NS_TEST_SEED");
	if (e && *e) {
		char *end;
		unsigned long long v = strtoull(e, &end, 0);
		if (!*end)
			return v;
	}
	return dflt;
}

struct ns_addr ns_test_addr(const char *s)
{
	struct ns_addr a;
	if (ns_addr_parse(s, &a, NULL) < 0) {
		fprintf(stderr, "ns_test_addr: bad address '%s'\n", s);
		abort();
	}
	return a;
}

/* ---- one stack ---------------------------------------------------------------- */

static uint64_t vc_now(void *ctx)
{
	return __atomic_load_n(&((struct ns_vclock *)ctx)->now, __ATOMIC_RELAXED);
}

/* Stack and NIC, no addresses yet (so a pair can be wired first). */
static int stack_create(struct ns_test_stack *t, struct ns_vclock *vc,
			const struct ns_test_stack_opts *o)
{
	static const uint8_t dmac[6] = NS_TEST_MAC_A;
	memset(t, 0, sizeof(*t));
	t->vc = vc;
	t->nic = -1;
	ns_seeded_rng_init(&t->rng, o->seed);
	memcpy(t->mac, o->mac ? o->mac : dmac, 6);
	struct ns_stack_opts so = {
		.clock = ns_vclock_clock(vc),
		.rng = ns_seeded_rng(&t->rng),
		.mem_limit = o->mem_limit,
		/* no link-local/DAD/MLD/RS frames in captures; v6 addresses usable at once */
		.flags = NS_STACK_F_NOAUTO6,
	};
	int err = ns_stack_create(&so, &t->stk);
	if (err < 0)
		return err;
	t->chan = ns_link_channel_new(t->mac, o->mtu ? o->mtu : 1500, o->qlen ? o->qlen : 4096);
	if (!t->chan)
		return -NS_ENOMEM;
	t->link = t->chan;
	if (o->impair) {
		struct ns_impair_opts io = *o->impair;
		io.now_ns = vc_now;
		io.clock_ctx = vc;
		t->link = ns_link_impair_new(t->chan, &io);
		if (!t->link) {
			t->chan->ops->close(t->chan);
			t->chan = NULL;
			return -NS_ENOMEM;
		}
	}
	t->nic = ns_nic_add(t->stk, t->link, "eth0");
	if (t->nic < 0) {
		t->link->ops->close(t->link);
		t->link = t->chan = NULL;
		return t->nic;
	}
	return 0;
}

static int stack_addrs(struct ns_test_stack *t, const char *ip4, const char *ip6)
{
	int plen, err;
	if (ip4) {
		if ((err = ns_addr_parse(ip4, &t->ip4, &plen)) < 0)
			return err;
		if ((err = ns_nic_addr_add(t->stk, t->nic, &t->ip4, plen)) < 0)
			return err;
	}
	if (ip6) {
		if ((err = ns_addr_parse(ip6, &t->ip6, &plen)) < 0)
			return err;
		if ((err = ns_nic_addr_add(t->stk, t->nic, &t->ip6, plen)) < 0)
			return err;
	}
	return 0;
}

int ns_test_stack_init(struct ns_test_stack *t, struct ns_vclock *vc,
		       const struct ns_test_stack_opts *o)
{
	struct ns_test_stack_opts d = { 0 };
	if (!o)
		o = &d;
	if (vc->now == 0)
		vc->now = NS_TEST_T0;
	int err = stack_create(t, vc, o);
	if (err == 0)
		err = stack_addrs(t, o->ip4, o->ip6);
	if (err < 0)
		ns_test_stack_fini(t);
	return err;
}

void ns_test_stack_fini(struct ns_test_stack *t)
{
	if (t->stk)
		ns_stack_destroy(t->stk);     /* closes the link */
	else if (t->link)
		t->link->ops->close(t->link);
	memset(t, 0, sizeof(*t));
}

uint64_t ns_test_stack_live(struct ns_test_stack *t) { return ns_stack_live_pkts(t->stk); }

struct ns_pkt *ns_test_capture(struct ns_test_stack *t) { return ns_link_channel_take(t->chan); }

int ns_test_capture_drop(struct ns_test_stack *t)
{
	int n = 0;
	struct ns_pkt *p;
	while ((p = ns_link_channel_take(t->chan))) {
		ns_pkt_unref(p);
		n++;
	}
	return n;
}

int ns_test_inject(struct ns_test_stack *t, const void *frame, size_t len)
{
	struct ns_pkt *p = ns_pkt_alloc(ns_stack_pool(t->stk), NS_PKT_HEADROOM, len);
	if (!p)
		return -NS_ENOBUFS;
	memcpy(ns_pkt_data(p), frame, len);
	return ns_link_channel_inject(t->chan, p);
}

/* ---- two stacks ------------------------------------------------------------------ */

int ns_test_pair_init(struct ns_test_pair *p, const struct ns_test_pair_opts *o)
{
	static const uint8_t ma[6] = NS_TEST_MAC_A, mb[6] = NS_TEST_MAC_B;
	struct ns_test_pair_opts d = { 0 };
	if (!o)
		o = &d;
	memset(p, 0, sizeof(*p));
	p->vc.now = NS_TEST_T0;
	p->seed = o->seed ? o->seed : ns_test_seed(1);
	struct ns_impair_opts ia = o->imp, ib = o->imp;
	ia.seed = p->seed * 2 + 1;
	ib.seed = p->seed * 2 + 2;
	struct ns_test_stack_opts sa = {
		.seed = p->seed ^ 0xa5a5, .mac = ma, .mtu = o->mtu, .qlen = o->qlen,
		.impair = o->impair ? &ia : NULL, .mem_limit = o->mem_limit,
	};
	struct ns_test_stack_opts sb = sa;
	sb.seed = p->seed ^ 0x5a5a;
	sb.mac = mb;
	sb.impair = o->impair ? &ib : NULL;
	int err = stack_create(&p->a, &p->vc, &sa);
	if (err == 0)
		err = stack_create(&p->b, &p->vc, &sb);
	if (err < 0)
		goto fail;
	ns_link_channel_pair(p->a.chan, p->b.chan);
	err = stack_addrs(&p->a, o->no_ipv4 ? NULL : "198.18.0.1/24", o->ipv6 ? "fd00:5eed::1/64" : NULL);
	if (err == 0)
		err = stack_addrs(&p->b, o->no_ipv4 ? NULL : "198.18.0.2/24", o->ipv6 ? "fd00:5eed::2/64" : NULL);
	if (err < 0)
		goto fail;
	ns_test_settle(p);
	return 0;
fail:
	fprintf(stderr, "ns_test_pair_init: error %d (seed %llu)\n", err, (unsigned long long)p->seed);
	ns_test_pair_fini(p);
	return err;
}

void ns_test_pair_fini(struct ns_test_pair *p)
{
	ns_test_stack_fini(&p->a);
	ns_test_stack_fini(&p->b);
}

uint64_t ns_test_pair_live(struct ns_test_pair *p)
{
	return ns_test_stack_live(&p->a) + ns_test_stack_live(&p->b);
}

/* ---- pump ------------------------------------------------------------------------ */

#define PUMP_MAX_ROUNDS 10000000

/* One round over all stacks: work done; *next gets the earliest deadline. */
static int poll_round(struct ns_test_stack **s, int n, uint64_t *next)
{
	int work = 0;
	*next = UINT64_MAX;
	for (int i = 0; i < n; i++) {
		uint64_t nx = UINT64_MAX;
		work += ns_stack_poll(s[i]->stk, &nx);
		if (nx < *next)
			*next = nx;
		if (ns__link_is_impair(s[i]->link)) {
			nx = ns_link_impair_next(s[i]->link);
			if (nx < *next)
				*next = nx;
		}
	}
	return work;
}

static void vc_set(struct ns_vclock *vc, uint64_t t)
{
	__atomic_store_n(&vc->now, t, __ATOMIC_RELAXED);
}

int ns_test_settle_n(struct ns_test_stack **s, int n)
{
	int total = 0;
	for (int r = 0; r < PUMP_MAX_ROUNDS; r++) {
		uint64_t next;
		int w = poll_round(s, n, &next);
		total += w;
		if (!w)
			break;
	}
	return total;
}

bool ns_test_pump_n(struct ns_test_stack **s, int n, ns_test_cond_fn cond, void *ctx,
		    uint64_t limit_ns)
{
	struct ns_vclock *vc = s[0]->vc;
	uint64_t start = vc_now(vc);
	uint64_t end = limit_ns > UINT64_MAX - start ? UINT64_MAX : start + limit_ns;
	int idle_same_time = 0;
	for (int r = 0; r < PUMP_MAX_ROUNDS; r++) {
		if (cond && cond(ctx))
			return true;
		uint64_t next;
		if (poll_round(s, n, &next)) {
			idle_same_time = 0;
			continue;
		}
		if (cond && cond(ctx))
			return true;
		uint64_t now = vc_now(vc);
		if (next <= now) {
			/* something claims to be due but did no work: nudge time */
			if (++idle_same_time < 3)
				continue;
			next = now + NS_NSEC_PER_USEC;
		}
		idle_same_time = 0;
		if (next >= end) {
			vc_set(vc, end);
			ns_test_settle_n(s, n);
			return cond ? cond(ctx) : true;
		}
		vc_set(vc, next);
	}
	fprintf(stderr, "ns_test_pump: gave up after %d rounds\n", PUMP_MAX_ROUNDS);
	return cond ? cond(ctx) : false;
}

bool ns_test_pump(struct ns_test_pair *p, ns_test_cond_fn cond, void *ctx, uint64_t limit_ns)
{
	struct ns_test_stack *s[2] = { &p->a, &p->b };
	return ns_test_pump_n(s, 2, cond, ctx, limit_ns);
}

int ns_test_settle(struct ns_test_pair *p)
{
	struct ns_test_stack *s[2] = { &p->a, &p->b };
	return ns_test_settle_n(s, 2);
}

void ns_test_advance(struct ns_test_pair *p, uint64_t d)
{
	ns_test_pump(p, NULL, NULL, d);
}

/* ---- frame builders ---------------------------------------------------------------- */

size_t ns_test_build_eth(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6],
			 uint16_t ethertype, const void *payload, size_t len)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	ns_store_be16(buf + 12, ethertype);
	if (len)
		memmove(buf + NS_ETH_HLEN, payload, len);
	return NS_ETH_HLEN + len;
}

static size_t ip_hlen(const struct ns_test_l3 *h) { return h->src.family == NS_AF_INET6 ? 40 : 20; }

size_t ns_test_build_ip(uint8_t *buf, const struct ns_test_l3 *h, uint8_t proto,
			const void *payload, size_t len)
{
	uint8_t *ip = buf + NS_ETH_HLEN;
	size_t hl = ip_hlen(h);
	if (len)
		memmove(ip + hl, payload, len);
	memcpy(buf, h->dst_mac, 6);
	memcpy(buf + 6, h->src_mac, 6);
	uint8_t ttl = h->ttl ? h->ttl : 64;
	if (h->src.family == NS_AF_INET6) {
		ns_store_be16(buf + 12, NS_ETHERTYPE_IPV6);
		ns_store_be32(ip, 0x60000000u | ((uint32_t)h->tos << 20));
		ns_store_be16(ip + 4, (uint16_t)len);
		ip[6] = proto;
		ip[7] = ttl;
		memcpy(ip + 8, h->src.b, 16);
		memcpy(ip + 24, h->dst.b, 16);
	} else {
		ns_store_be16(buf + 12, NS_ETHERTYPE_IPV4);
		ip[0] = 0x45;
		ip[1] = h->tos;
		ns_store_be16(ip + 2, (uint16_t)(20 + len));
		ns_store_be16(ip + 4, h->id);
		ns_store_be16(ip + 6, h->frag);
		ip[8] = ttl;
		ip[9] = proto;
		memcpy(ip + 12, h->src.b, 4);
		memcpy(ip + 16, h->dst.b, 4);
		ns_test_fix_ipv4_csum(buf);
	}
	return NS_ETH_HLEN + hl + len;
}

void ns_test_fix_ipv4_csum(uint8_t *frame)
{
	uint8_t *ip = frame + NS_ETH_HLEN;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	ip[10] = ip[11] = 0;
	ns_store_be16(ip + 10, ns_csum_fold(ns_csum_partial(ip, ihl, 0)));
}

/* Locates the L4 part of an IP frame: proto, offset, length; false if none. */
static bool find_l4(const uint8_t *frame, size_t len, struct ns_addr *src, struct ns_addr *dst,
		    uint8_t *proto, size_t *off, size_t *l4len)
{
	if (len < NS_ETH_HLEN + 20)
		return false;
	uint16_t et = ns_load_be16(frame + 12);
	const uint8_t *ip = frame + NS_ETH_HLEN;
	memset(src, 0, sizeof(*src));
	memset(dst, 0, sizeof(*dst));
	if (et == NS_ETHERTYPE_IPV4) {
		size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
		size_t tot = ns_load_be16(ip + 2);
		if (ihl < 20 || tot < ihl || NS_ETH_HLEN + tot > len)
			return false;
		ns_addr_v4(src, ip + 12);
		ns_addr_v4(dst, ip + 16);
		*proto = ip[9];
		*off = NS_ETH_HLEN + ihl;
		*l4len = tot - ihl;
		return true;
	}
	if (et == NS_ETHERTYPE_IPV6 && len >= NS_ETH_HLEN + 40) {
		size_t pl = ns_load_be16(ip + 4);
		if (NS_ETH_HLEN + 40 + pl > len)
			return false;
		src->family = dst->family = NS_AF_INET6;
		memcpy(src->b, ip + 8, 16);
		memcpy(dst->b, ip + 24, 16);
		*proto = ip[6];
		*off = NS_ETH_HLEN + 40;
		*l4len = pl;
		return true;
	}
	return false;
}

static int csum_field(uint8_t proto)
{
	switch (proto) {
	case NS_IPPROTO_UDP: return 6;
	case NS_IPPROTO_TCP: return 16;
	case NS_IPPROTO_ICMP: return 2;
	case NS_IPPROTO_ICMPV6: return 2;
	default: return -1;
	}
}

static uint16_t l4_sum(const struct ns_addr *s, const struct ns_addr *d, uint8_t proto,
		       const uint8_t *l4, size_t len)
{
	uint32_t sum = proto == NS_IPPROTO_ICMP ? 0 : ns_csum_pseudo(s, d, proto, (uint32_t)len);
	return ns_csum_fold(ns_csum_partial(l4, len, sum));
}

void ns_test_fix_l4_csum(uint8_t *frame, size_t len)
{
	struct ns_addr s, d;
	uint8_t proto;
	size_t off, l4len;
	if (!find_l4(frame, len, &s, &d, &proto, &off, &l4len))
		return;
	int f = csum_field(proto);
	if (f < 0 || (size_t)f + 2 > l4len)
		return;
	uint8_t *l4 = frame + off;
	l4[f] = l4[f + 1] = 0;
	uint16_t c = l4_sum(&s, &d, proto, l4, l4len);
	if (c == 0 && proto == NS_IPPROTO_UDP)
		c = 0xffff;
	ns_store_be16(l4 + f, c);
}

size_t ns_test_build_udp(uint8_t *buf, const struct ns_test_l3 *h, uint16_t sport,
			 uint16_t dport, const void *payload, size_t len)
{
	uint8_t *l4 = buf + NS_ETH_HLEN + ip_hlen(h);
	if (len)
		memmove(l4 + 8, payload, len);
	ns_store_be16(l4, sport);
	ns_store_be16(l4 + 2, dport);
	ns_store_be16(l4 + 4, (uint16_t)(8 + len));
	ns_store_be16(l4 + 6, 0);
	size_t n = ns_test_build_ip(buf, h, NS_IPPROTO_UDP, l4, 8 + len);
	ns_test_fix_l4_csum(buf, n);
	return n;
}

size_t ns_test_build_tcp(uint8_t *buf, const struct ns_test_l3 *h, const struct ns_test_tcp *t,
			 const void *payload, size_t len)
{
	uint8_t *l4 = buf + NS_ETH_HLEN + ip_hlen(h);
	size_t ol = t->opts_len > 40 ? 40 : t->opts_len;
	size_t hl = 20 + ((ol + 3) & ~(size_t)3);
	if (len)
		memmove(l4 + hl, payload, len);
	memset(l4, 0, hl);
	ns_store_be16(l4, t->sport);
	ns_store_be16(l4 + 2, t->dport);
	ns_store_be32(l4 + 4, t->seq);
	ns_store_be32(l4 + 8, t->ack);
	l4[12] = (uint8_t)((hl / 4) << 4);
	l4[13] = t->flags;
	ns_store_be16(l4 + 14, t->win);
	ns_store_be16(l4 + 18, t->urg);
	if (ol)
		memcpy(l4 + 20, t->opts, ol);
	size_t n = ns_test_build_ip(buf, h, NS_IPPROTO_TCP, l4, hl + len);
	ns_test_fix_l4_csum(buf, n);
	return n;
}

size_t ns_test_build_icmp(uint8_t *buf, const struct ns_test_l3 *h, uint8_t type, uint8_t code,
			  uint32_t rest, const void *body, size_t len)
{
	uint8_t *l4 = buf + NS_ETH_HLEN + ip_hlen(h);
	if (len)
		memmove(l4 + 8, body, len);
	l4[0] = type;
	l4[1] = code;
	ns_store_be16(l4 + 2, 0);
	ns_store_be32(l4 + 4, rest);
	uint8_t proto = h->src.family == NS_AF_INET6 ? NS_IPPROTO_ICMPV6 : NS_IPPROTO_ICMP;
	size_t n = ns_test_build_ip(buf, h, proto, l4, 8 + len);
	ns_test_fix_l4_csum(buf, n);
	return n;
}

void ns_test_l3_between(struct ns_test_l3 *h, const struct ns_test_stack *from,
			const struct ns_test_stack *to, int family)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->src_mac, from->mac, 6);
	memcpy(h->dst_mac, to->mac, 6);
	h->src = family == NS_AF_INET6 ? from->ip6 : from->ip4;
	h->dst = family == NS_AF_INET6 ? to->ip6 : to->ip4;
}

/* ---- parser ------------------------------------------------------------------------ */

static void parse_l4(struct ns_test_parsed *o, bool whole)
{
	const uint8_t *l4 = o->l4;
	size_t n = o->l4_len;
	int f = csum_field(o->proto);
	if (whole && f >= 0 && (size_t)f + 2 <= n)
		o->l4_csum_ok = l4_sum(&o->src, &o->dst, o->proto, l4, n) == 0;
	if (o->proto == NS_IPPROTO_UDP && n >= 8) {
		o->sport = ns_load_be16(l4);
		o->dport = ns_load_be16(l4 + 2);
		o->payload = l4 + 8;
		o->payload_len = n - 8;
	} else if (o->proto == NS_IPPROTO_TCP && n >= 20) {
		size_t hl = (size_t)(l4[12] >> 4) * 4;
		o->sport = ns_load_be16(l4);
		o->dport = ns_load_be16(l4 + 2);
		o->seq = ns_load_be32(l4 + 4);
		o->ack = ns_load_be32(l4 + 8);
		o->tcp_flags = l4[13];
		o->win = ns_load_be16(l4 + 14);
		if (hl >= 20 && hl <= n) {
			o->payload = l4 + hl;
			o->payload_len = n - hl;
		}
	} else if ((o->proto == NS_IPPROTO_ICMP || o->proto == NS_IPPROTO_ICMPV6) && n >= 8) {
		o->icmp_type = l4[0];
		o->icmp_code = l4[1];
		o->payload = l4 + 8;
		o->payload_len = n - 8;
	}
}

int ns_test_parse(const uint8_t *frame, size_t len, struct ns_test_parsed *o)
{
	memset(o, 0, sizeof(*o));
	if (len < NS_ETH_HLEN)
		return -NS_EBADMSG;
	o->eth = frame;
	o->ethertype = ns_load_be16(frame + 12);
	o->l3 = frame + NS_ETH_HLEN;
	o->l3_len = len - NS_ETH_HLEN;
	if (o->ethertype != NS_ETHERTYPE_IPV4 && o->ethertype != NS_ETHERTYPE_IPV6)
		return 0;
	size_t off, l4len;
	if (!find_l4(frame, len, &o->src, &o->dst, &o->proto, &off, &l4len))
		return -NS_EBADMSG;
	o->l4 = frame + off;
	o->l4_len = l4len;
	bool whole = true;
	if (o->ethertype == NS_ETHERTYPE_IPV4) {
		const uint8_t *ip = o->l3;
		o->ttl = ip[8];
		o->ip_id = ns_load_be16(ip + 4);
		o->frag = ns_load_be16(ip + 6);
		o->ip_csum_ok = ns_csum_fold(ns_csum_partial(ip, (size_t)(ip[0] & 0x0f) * 4, 0)) == 0;
		whole = (o->frag & 0x3fff) == 0;
		if (o->frag & 0x1fff)
			return 0;       /* not a first fragment: no L4 header here */
	} else {
		o->ttl = o->l3[7];
		o->ip_csum_ok = true;
	}
	parse_l4(o, whole);
	return 0;
}

int ns_test_parse_pkt(const struct ns_pkt *pkt, struct ns_test_parsed *out)
{
	return ns_test_parse(ns_pkt_data(pkt), ns_pkt_len(pkt), out);
}
