/*
 * tests/unit/test_nd.c - neighbour discovery and address configuration:
 * link-local address and DAD (success, conflict by NA, by NS, own NS looped
 * back), the neighbour cache state machine on a virtual clock (INCOMPLETE,
 * REACHABLE, STALE, DELAY, PROBE, failure with ICMPv6 unreachable, queue
 * bound), answering NS, RA processing (default router, MTU, SLAAC), MLDv2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "helpers/ip6_test.h"
#include "ipv6/ipv6_internal.h"

#define SEC NS_NSEC_PER_SEC

static const uint8_t bcast6_all_nodes[6] = { 0x33, 0x33, 0, 0, 0, 1 };

static struct ns_addr our_ll(void) { return ip6t_addr("fe80::5eff:feed:1"); }

static bool usable(struct ip6t *t, const char *a)
{
	struct ns_addr x = ip6t_addr(a);
	return ns__ip6_is_ours(ns__nic_get(t->stk, t->nic), &x, false, NULL);
}

static uint32_t addr_flags(struct ip6t *t, const char *a)
{
	struct ns_addr x = ip6t_addr(a);
	uint32_t f = 0;
	assert_true(ns__ip6_is_ours(ns__nic_get(t->stk, t->nic), &x, true, &f));
	return f;
}

static void test_linklocal_dad_ok(void **state)
{
	(void)state;
	struct ip6t t;
	ip6t_init(&t, 0, 0);
	/* EUI-64 from 02:00:5e:ed:00:01, tentative until DAD is done */
	assert_true(addr_flags(&t, "fe80::5eff:feed:1") & NS_IFA_TENTATIVE);
	assert_false(usable(&t, "fe80::5eff:feed:1"));
	ip6t_advance(&t, 0);
	/* MLD report for the solicited-node group, from :: (RFC 3590) */
	struct ip6t_pkt o;
	struct ns_pkt *p = ip6t_take_icmp(&t, NS_ICMP6_MLD2_REPORT, &o);
	assert_non_null(p);
	assert_true(o.csum_ok);
	assert_int_equal(o.hlim, 1);
	assert_true(o.hbh_router_alert);
	assert_true(ns__ip6_is_any(&o.src));
	assert_memory_equal(o.dst.b, ip6t_addr("ff02::16").b, 16);
	assert_int_equal(ns_load_be16(o.l4 + 6), 1);                 /* one record */
	assert_int_equal(o.l4[8], 4);                                  /* CHANGE_TO_EXCLUDE */
	assert_memory_equal(o.l4 + 12, ip6t_addr("ff02::1:ffed:1").b, 16);
	ns_pkt_unref(p);
	/* the DAD NS comes within 1 s: from ::, to the solicited-node group, with a nonce */
	ip6t_advance(&t, 1 * SEC);
	p = ip6t_take_icmp(&t, NS_ICMP6_NS, &o);
	assert_non_null(p);
	assert_true(o.csum_ok);
	assert_int_equal(o.hlim, 255);
	assert_true(ns__ip6_is_any(&o.src));
	assert_memory_equal(o.dst.b, ip6t_addr("ff02::1:ffed:1").b, 16);
	assert_memory_equal(o.eth, "\x33\x33\xff\xed\x00\x01", 6);
	assert_memory_equal(o.l4 + 8, our_ll().b, 16);
	assert_int_equal(o.l4_len, 32);
	assert_int_equal(o.l4[24], NS_ND_OPT_NONCE);
	ns_pkt_unref(p);
	assert_false(usable(&t, "fe80::5eff:feed:1"));
	ip6t_advance(&t, 1 * SEC + 1);
	assert_true(usable(&t, "fe80::5eff:feed:1"));
	/* then a router solicitation from the link-local address with SLLA */
	p = ip6t_take_icmp(&t, NS_ICMP6_RS, &o);
	assert_non_null(p);
	assert_memory_equal(o.src.b, our_ll().b, 16);
	assert_int_equal(o.hlim, 255);
	assert_int_equal(o.l4_len, 16);
	ns_pkt_unref(p);
	/* 3 RS, 4 s apart, then silence */
	ip6t_drain(&t);
	ip6t_advance(&t, 4 * SEC);
	assert_non_null(p = ip6t_take_icmp(&t, NS_ICMP6_RS, &o));
	ns_pkt_unref(p);
	ip6t_advance(&t, 4 * SEC);
	assert_non_null(p = ip6t_take_icmp(&t, NS_ICMP6_RS, &o));
	ns_pkt_unref(p);
	ip6t_drain(&t);
	ip6t_advance(&t, 20 * SEC);
	assert_null(ip6t_take_icmp(&t, NS_ICMP6_RS, &o));
	assert_int_equal(ip6t_stat(&t, "Icmp6OutRouterSolicits"), 3);
	assert_int_equal(ip6t_stat(&t, "NdDadFailures"), 0);
	ip6t_fini(&t);
}

/* Waits for the DAD NS of addr and returns it (caller unrefs). */
static struct ns_pkt *wait_dad_ns(struct ip6t *t, const char *addr, struct ip6t_pkt *o)
{
	struct ns_addr a = ip6t_addr(addr);
	for (int i = 0; i < 20; i++) {
		ip6t_advance(t, SEC / 10);
		struct ns_pkt *p;
		while ((p = ip6t_take_icmp(t, NS_ICMP6_NS, o))) {
			if (ns__ip6_is_any(&o->src) && memcmp(o->l4 + 8, a.b, 16) == 0)
				return p;
			ns_pkt_unref(p);
		}
	}
	return NULL;
}

static void test_dad_conflict_na(void **state)
{
	(void)state;
	struct ip6t t;
	ip6t_init(&t, 0, 0);
	ip6t_addr_add(&t, "fd00:5eed::1", 64);
	struct ip6t_pkt o;
	struct ns_pkt *p = wait_dad_ns(&t, "fd00:5eed::1", &o);
	assert_non_null(p);
	ns_pkt_unref(p);
	/* another node defends the address */
	uint8_t body[24], f[200];
	memcpy(body, ip6t_addr("fd00:5eed::1").b, 16);
	body[16] = NS_ND_OPT_TLLA;
	body[17] = 1;
	memcpy(body + 18, t.peer_mac, 6);
	struct ns_addr src = ip6t_addr("fe80::99"), dst = ip6t_addr("ff02::1");
	size_t n = ip6t_icmp6(f, bcast6_all_nodes, t.peer_mac, &src, &dst, 255, NS_ICMP6_NA, 0,
			      NS_NA_F_OVERRIDE, body, sizeof(body));
	ip6t_inject(&t, f, n);
	ip6t_advance(&t, 3 * SEC);
	assert_true(addr_flags(&t, "fd00:5eed::1") & NS_IFA_DUPLICATE);
	assert_false(usable(&t, "fd00:5eed::1"));
	assert_int_equal(ip6t_stat(&t, "NdDadFailures"), 1);
	/* the link-local address is unaffected */
	assert_true(usable(&t, "fe80::5eff:feed:1"));
	ip6t_fini(&t);
}

static size_t dad_ns_frame(struct ip6t *t, uint8_t *f, const char *target, const uint8_t nonce[6])
{
	uint8_t body[24];
	memcpy(body, ip6t_addr(target).b, 16);
	body[16] = NS_ND_OPT_NONCE;
	body[17] = 1;
	memcpy(body + 18, nonce, 6);
	struct ns_addr src = ip6t_addr("::"), dst;
	struct ns_addr tg = ip6t_addr(target);
	ns__ip6_solicited_node(&tg, &dst);
	uint8_t dmac[6];
	ns__ip6_mcast_mac(&dst, dmac);
	return ip6t_icmp6(f, dmac, t->peer_mac, &src, &dst, 255, NS_ICMP6_NS, 0, 0, body, sizeof(body));
}

static void test_dad_conflict_ns_and_own_loop(void **state)
{
	(void)state;
	struct ip6t t;
	ip6t_init(&t, 0, 0);
	ip6t_addr_add(&t, "fd00:5eed::1", 64);
	ip6t_addr_add(&t, "fd00:5eed::3", 64);
	struct ip6t_pkt o;
	struct ns_pkt *p = wait_dad_ns(&t, "fd00:5eed::1", &o);
	assert_non_null(p);
	uint8_t f[200], own_nonce[6];
	memcpy(own_nonce, o.l4 + 26, 6);
	ns_pkt_unref(p);
	/* our own NS reflected back (same nonce, RFC 7527): not a conflict */
	size_t n = dad_ns_frame(&t, f, "fd00:5eed::1", own_nonce);
	ip6t_inject(&t, f, n);
	/* another node doing DAD for ::3 at the same time */
	static const uint8_t other[6] = { 1, 2, 3, 4, 5, 6 };
	n = dad_ns_frame(&t, f, "fd00:5eed::3", other);
	ip6t_inject(&t, f, n);
	ip6t_advance(&t, 3 * SEC);
	assert_true(usable(&t, "fd00:5eed::1"));
	assert_true(addr_flags(&t, "fd00:5eed::3") & NS_IFA_DUPLICATE);
	assert_int_equal(ip6t_stat(&t, "NdDadFailures"), 1);
	/* a DAD probe for a valid address of ours is defended with an NA to all-nodes */
	ip6t_drain(&t);
	n = dad_ns_frame(&t, f, "fd00:5eed::1", other);
	ip6t_inject(&t, f, n);
	p = ip6t_take_icmp(&t, NS_ICMP6_NA, &o);
	assert_non_null(p);
	assert_memory_equal(o.dst.b, ip6t_addr("ff02::1").b, 16);
	assert_int_equal(ns_load_be32(o.l4 + 4), NS_NA_F_OVERRIDE);    /* not solicited */
	assert_int_equal(o.l4[24], NS_ND_OPT_TLLA);
	ns_pkt_unref(p);
	ip6t_fini(&t);
}

/* ---- neighbour cache ------------------------------------------------------------------ */

static const char *PEER = "fd00:5eed::2";

static void inject_echo(struct ip6t *t, const char *from, uint16_t seq, size_t len)
{
	static uint8_t f[70000], body[66000];
	for (size_t i = 0; i < len; i++)
		body[i] = (uint8_t)i;
	struct ns_addr s = ip6t_addr(from), d = ip6t_addr("fd00:5eed::1");
	size_t n = ip6t_icmp6(f, t->mac, t->peer_mac, &s, &d, 64, NS_ICMP6_ECHO_REQUEST, 0,
			      0x12340000u | seq, body, len);
	ip6t_inject(t, f, n);
}

static void inject_na(struct ip6t *t, const char *target, uint32_t flags, const uint8_t *mac)
{
	uint8_t body[24], f[200];
	memcpy(body, ip6t_addr(target).b, 16);
	size_t bl = 16;
	if (mac) {
		body[16] = NS_ND_OPT_TLLA;
		body[17] = 1;
		memcpy(body + 18, mac, 6);
		bl = 24;
	}
	struct ns_addr s = ip6t_addr(target), d = ip6t_addr("fd00:5eed::1");
	size_t n = ip6t_icmp6(f, t->mac, t->peer_mac, &s, &d, 255, NS_ICMP6_NA, 0, flags, body, bl);
	ip6t_inject(t, f, n);
}

static int state_of(struct ip6t *t, const char *a, int *qlen)
{
	struct ns_addr x = ip6t_addr(a);
	return ns__nd_entry_state(ns__nic_get(t->stk, t->nic), &x, NULL, qlen);
}

static void test_neigh_state_machine(void **state)
{
	(void)state;
	struct ip6t t;
	ip6t_init(&t, NS_STACK_F_NODAD, 0);
	ip6t_addr_add(&t, "fd00:5eed::1", 64);
	ip6t_advance(&t, 2 * SEC);
	ip6t_drain(&t);
	/* an echo request from an unknown neighbour: the reply waits for resolution */
	inject_echo(&t, PEER, 1, 8);
	int q = 0;
	assert_int_equal(state_of(&t, PEER, &q), NS_ND_INCOMPLETE);
	assert_int_equal(q, 1);
	struct ip6t_pkt o;
	struct ns_pkt *p = ip6t_take_icmp(&t, NS_ICMP6_NS, &o);
	assert_non_null(p);
	assert_memory_equal(o.dst.b, ip6t_addr("ff02::1:ff00:2").b, 16);
	assert_memory_equal(o.src.b, ip6t_addr("fd00:5eed::1").b, 16);   /* the queued packet's source */
	assert_memory_equal(o.l4 + 8, ip6t_addr(PEER).b, 16);
	assert_int_equal(o.l4[24], NS_ND_OPT_SLLA);
	assert_memory_equal(o.l4 + 26, t.mac, 6);
	ns_pkt_unref(p);
	/* solicited NA: REACHABLE, the reply leaves to the peer's MAC */
	inject_na(&t, PEER, NS_NA_F_SOLICITED | NS_NA_F_OVERRIDE, t.peer_mac);
	assert_int_equal(state_of(&t, PEER, NULL), NS_ND_REACHABLE);
	p = ip6t_take_icmp(&t, NS_ICMP6_ECHO_REPLY, &o);
	assert_non_null(p);
	assert_memory_equal(o.eth, t.peer_mac, 6);
	assert_int_equal(ns_load_be32(o.l4 + 4), 0x12340001u);
	assert_true(o.csum_ok);
	ns_pkt_unref(p);
	/* REACHABLE for ReachableTime (15..45 s), then STALE */
	ip6t_advance(&t, 46 * SEC);
	assert_int_equal(state_of(&t, PEER, NULL), NS_ND_STALE);
	/* traffic through STALE: sent at once, DELAY */
	inject_echo(&t, PEER, 2, 8);
	assert_int_equal(state_of(&t, PEER, NULL), NS_ND_DELAY);
	assert_non_null(p = ip6t_take_icmp(&t, NS_ICMP6_ECHO_REPLY, &o));
	ns_pkt_unref(p);
	/* no confirmation within 5 s: PROBE with unicast NS */
	ip6t_advance(&t, 5 * SEC);
	assert_int_equal(state_of(&t, PEER, NULL), NS_ND_PROBE);
	p = ip6t_take_icmp(&t, NS_ICMP6_NS, &o);
	assert_non_null(p);
	assert_memory_equal(o.dst.b, ip6t_addr(PEER).b, 16);
	assert_memory_equal(o.eth, t.peer_mac, 6);
	ns_pkt_unref(p);
	/* a solicited NA confirms it */
	inject_na(&t, PEER, NS_NA_F_SOLICITED, NULL);
	assert_int_equal(state_of(&t, PEER, NULL), NS_ND_REACHABLE);
	/* an unsolicited NA with a different MAC and no override: REACHABLE -> STALE, MAC kept */
	static const uint8_t other[6] = { 0x02, 9, 9, 9, 9, 9 };
	inject_na(&t, PEER, 0, other);
	uint8_t mac[6];
	struct ns_addr pa = ip6t_addr(PEER);
	assert_int_equal(ns__nd_entry_state(ns__nic_get(t.stk, t.nic), &pa, mac, NULL), NS_ND_STALE);
	assert_memory_equal(mac, t.peer_mac, 6);
	/* with override: the new MAC is taken */
	inject_na(&t, PEER, NS_NA_F_OVERRIDE, other);
	assert_int_equal(ns__nd_entry_state(ns__nic_get(t.stk, t.nic), &pa, mac, NULL), NS_ND_STALE);
	assert_memory_equal(mac, other, 6);
	/* DELAY -> PROBE -> 3 unanswered probes -> gone */
	inject_echo(&t, PEER, 3, 8);
	ip6t_advance(&t, 5 * SEC);
	assert_int_equal(state_of(&t, PEER, NULL), NS_ND_PROBE);
	ip6t_drain(&t);
	ip6t_advance(&t, 2 * SEC);
	assert_int_equal(state_of(&t, PEER, NULL), NS_ND_PROBE);
	ip6t_advance(&t, 1 * SEC);
	assert_int_equal(state_of(&t, PEER, NULL), -1);
	assert_int_equal(ip6t_stat(&t, "Icmp6OutNeighborSolicits"), 5);   /* 1 multicast + 1 + 3 unicast */
	ip6t_fini(&t);
}

static void test_neigh_incomplete_fails(void **state)
{
	(void)state;
	struct ip6t t;
	ip6t_init(&t, NS_STACK_F_NODAD, 0);
	ip6t_addr_add(&t, "fd00:5eed::1", 64);
	ip6t_advance(&t, 2 * SEC);
	ip6t_drain(&t);
	/* many replies queue; the queue is bounded in bytes */
	for (int i = 0; i < 200; i++)
		inject_echo(&t, PEER, (uint16_t)i, 1000);
	int q = 0;
	assert_int_equal(state_of(&t, PEER, &q), NS_ND_INCOMPLETE);
	assert_true(q > 10 && q < 200);
	assert_true(ip6t_stat(&t, "NdQueueDrops") > 0);
	/* 3 multicast NS, one per second, then failure */
	ip6t_advance(&t, 1 * SEC);
	ip6t_advance(&t, 1 * SEC);
	assert_int_equal(state_of(&t, PEER, NULL), NS_ND_INCOMPLETE);
	ip6t_advance(&t, 1 * SEC);
	assert_int_equal(state_of(&t, PEER, NULL), -1);
	assert_int_equal(ip6t_stat(&t, "Icmp6OutNeighborSolicits"), 3);
	assert_int_equal(ip6t_stat(&t, "NdResolveFailed"), 1);
	/* each queued packet got an address-unreachable error (rate limited) */
	ip6t_advance(&t, 0);
	assert_true(ip6t_stat(&t, "Icmp6OutDestUnreachs") >= 1);
	ip6t_fini(&t);
	assert_true(1);
}

static void test_ns_answered(void **state)
{
	(void)state;
	struct ip6t t;
	ip6t_init(&t, NS_STACK_F_NODAD, 0);
	ip6t_addr_add(&t, "fd00:5eed::1", 64);
	ip6t_advance(&t, 2 * SEC);
	ip6t_drain(&t);
	uint8_t body[24], f[200];
	memcpy(body, ip6t_addr("fd00:5eed::1").b, 16);
	body[16] = NS_ND_OPT_SLLA;
	body[17] = 1;
	memcpy(body + 18, t.peer_mac, 6);
	struct ns_addr s = ip6t_addr(PEER), d = ip6t_addr("ff02::1:ff00:1");
	uint8_t dmac[6];
	ns__ip6_mcast_mac(&d, dmac);
	/* hop limit 254: invalid, ignored */
	size_t n = ip6t_icmp6(f, dmac, t.peer_mac, &s, &d, 254, NS_ICMP6_NS, 0, 0, body, 24);
	ip6t_inject(&t, f, n);
	assert_int_equal(ip6t_drain(&t), 0);
	/* a zero-length option: invalid */
	body[17] = 0;
	n = ip6t_icmp6(f, dmac, t.peer_mac, &s, &d, 255, NS_ICMP6_NS, 0, 0, body, 24);
	ip6t_inject(&t, f, n);
	assert_int_equal(ip6t_drain(&t), 0);
	assert_int_equal(ip6t_stat(&t, "Icmp6InErrors"), 2);
	body[17] = 1;
	n = ip6t_icmp6(f, dmac, t.peer_mac, &s, &d, 255, NS_ICMP6_NS, 0, 0, body, 24);
	ip6t_inject(&t, f, n);
	struct ip6t_pkt o;
	struct ns_pkt *p = ip6t_take_icmp(&t, NS_ICMP6_NA, &o);
	assert_non_null(p);
	assert_memory_equal(o.eth, t.peer_mac, 6);
	assert_memory_equal(o.src.b, ip6t_addr("fd00:5eed::1").b, 16);
	assert_memory_equal(o.dst.b, s.b, 16);
	assert_int_equal(o.hlim, 255);
	assert_int_equal(ns_load_be32(o.l4 + 4), NS_NA_F_SOLICITED | NS_NA_F_OVERRIDE);
	assert_int_equal(o.l4[24], NS_ND_OPT_TLLA);
	assert_memory_equal(o.l4 + 26, t.mac, 6);
	assert_true(o.csum_ok);
	ns_pkt_unref(p);
	/* the sender was learned from its SLLA (STALE, then DELAY after our NA) */
	assert_int_equal(state_of(&t, PEER, NULL), NS_ND_DELAY);
	assert_int_equal(ip6t_stat(&t, "Icmp6InNeighborSolicits"), 3);
	ip6t_fini(&t);
}

/* ---- router advertisements, SLAAC, MLD queries ---------------------------------------- */

static size_t ra_frame(struct ip6t *t, uint8_t *f, const char *src, uint8_t hlim, uint16_t life,
		       uint32_t valid, uint32_t pref, uint32_t mtu)
{
	uint8_t body[128];
	size_t n = 0;
	ns_store_be32(body, 0);         /* reachable time */
	ns_store_be32(body + 4, 0);     /* retrans timer */
	n = 8;
	body[n] = NS_ND_OPT_SLLA;
	body[n + 1] = 1;
	memcpy(body + n + 2, t->peer_mac, 6);
	n += 8;
	body[n] = NS_ND_OPT_MTU;
	body[n + 1] = 1;
	ns_store_be16(body + n + 2, 0);
	ns_store_be32(body + n + 4, mtu);
	n += 8;
	body[n] = NS_ND_OPT_PREFIX;
	body[n + 1] = 4;
	body[n + 2] = 64;
	body[n + 3] = 0xc0;             /* on-link, autonomous */
	ns_store_be32(body + n + 4, valid);
	ns_store_be32(body + n + 8, pref);
	ns_store_be32(body + n + 12, 0);
	memcpy(body + n + 16, ip6t_addr("fd00:5eed:1::").b, 16);
	n += 32;
	struct ns_addr s = ip6t_addr(src), d = ip6t_addr("ff02::1");
	/* rest of header: cur hop limit 32, flags 0, router lifetime */
	uint32_t rest = (32u << 24) | life;
	return ip6t_icmp6(f, bcast6_all_nodes, t->peer_mac, &s, &d, hlim, NS_ICMP6_RA, 0, rest, body, n);
}

static bool has_default_via(struct ip6t *t, const char *gw)
{
	struct ns_route_result r;
	struct ns_addr far = ip6t_addr("2001:db8::1");
	if (ns__route_lookup(t->stk, &far, 0, &r) < 0)
		return false;
	return ns_addr_eq(&r.nexthop, &(struct ns_addr){ 0 }) ? false :
	       memcmp(r.nexthop.b, ip6t_addr(gw).b, 16) == 0;
}

static void test_ra_slaac(void **state)
{
	(void)state;
	struct ip6t t;
	ip6t_init(&t, 0, 0);
	assert_int_equal(ns_nic_set_slaac(t.stk, t.nic, true), 0);
	ip6t_advance(&t, 3 * SEC);
	ip6t_drain(&t);
	uint8_t f[300];
	/* invalid: hop limit 254, or a global source: ignored */
	ip6t_inject(&t, f, ra_frame(&t, f, "fe80::1", 254, 1800, 86400, 14400, 1400));
	ip6t_inject(&t, f, ra_frame(&t, f, "fd00:5eed::9", 255, 1800, 86400, 14400, 1400));
	assert_int_equal(ip6t_stat(&t, "Icmp6InErrors"), 2);
	assert_false(has_default_via(&t, "fe80::1"));
	/* a valid one: default router, hop limit, MTU, prefix -> SLAAC address after DAD */
	ip6t_inject(&t, f, ra_frame(&t, f, "fe80::1", 255, 1800, 86400, 14400, 1400));
	assert_int_equal(ip6t_stat(&t, "Icmp6InRouterAdvertisements"), 3);
	assert_true(has_default_via(&t, "fe80::1"));
	assert_int_equal(ns__ip6_default_hlim(ns__nic_get(t.stk, t.nic)), 32);
	struct ns_addr far = ip6t_addr("2001:db8::1");
	assert_int_equal(ns__ip_path_mtu(t.stk, &far, 0), 1400);
	struct ns_addr rtr = ip6t_addr("fe80::1");
	uint8_t mac[6];
	assert_int_equal(ns__nd_entry_state(ns__nic_get(t.stk, t.nic), &rtr, mac, NULL), NS_ND_STALE);
	assert_memory_equal(mac, t.peer_mac, 6);
	const char *sl = "fd00:5eed:1::5eff:feed:1";
	assert_true(addr_flags(&t, sl) & NS_IFA_TENTATIVE);
	assert_true(addr_flags(&t, sl) & NS_IFA_AUTOCONF);
	ip6t_advance(&t, 3 * SEC);
	assert_true(usable(&t, sl));
	/* 5.5.3 (e): a short valid lifetime cannot cut a long one below 2 hours */
	ip6t_inject(&t, f, ra_frame(&t, f, "fe80::1", 255, 1800, 10, 5, 1400));
	ip6t_advance(&t, 60 * SEC);
	assert_true(usable(&t, sl));
	/* router lifetime 0: the default route goes */
	ip6t_inject(&t, f, ra_frame(&t, f, "fe80::1", 255, 0, 86400, 14400, 1400));
	assert_false(has_default_via(&t, "fe80::1"));
	/* the router lifetime runs out by itself too */
	ip6t_inject(&t, f, ra_frame(&t, f, "fe80::1", 255, 30, 86400, 14400, 1400));
	assert_true(has_default_via(&t, "fe80::1"));
	ip6t_advance(&t, 31 * SEC);
	assert_false(has_default_via(&t, "fe80::1"));
	ip6t_advance(&t, 10 * SEC);
	ip6t_drain(&t);
	ip6t_fini(&t);
}

static void test_slaac_off_by_default(void **state)
{
	(void)state;
	struct ip6t t;
	ip6t_init(&t, 0, 0);
	ip6t_advance(&t, 3 * SEC);
	uint8_t f[300];
	ip6t_inject(&t, f, ra_frame(&t, f, "fe80::1", 255, 1800, 86400, 14400, 1400));
	ip6t_advance(&t, 3 * SEC);
	struct ns_addr sl = ip6t_addr("fd00:5eed:1::5eff:feed:1");
	assert_null(ns__addr_local(t.stk, &sl, NULL));
	assert_true(has_default_via(&t, "fe80::1"));    /* routers are still learned */
	ip6t_drain(&t);
	ip6t_fini(&t);
}

static void test_mld_query(void **state)
{
	(void)state;
	struct ip6t t;
	ip6t_init(&t, 0, 0);
	ip6t_addr_add(&t, "fd00:5eed::1", 64);
	ip6t_advance(&t, 5 * SEC);
	ip6t_drain(&t);
	/* MLDv2 general query, max response 1000 ms */
	uint8_t body[20] = { 0 }, f[200];
	struct ns_addr s = ip6t_addr("fe80::1"), d = ip6t_addr("ff02::1");
	size_t n = ip6t_icmp6(f, bcast6_all_nodes, t.peer_mac, &s, &d, 1, NS_ICMP6_MLD_QUERY, 0,
			      1000u << 16, body, sizeof(body));
	ip6t_inject(&t, f, n);
	assert_int_equal(ip6t_drain(&t), 0);            /* delayed at random */
	ip6t_advance(&t, 1 * SEC);
	struct ip6t_pkt o;
	struct ns_pkt *p = ip6t_take_icmp(&t, NS_ICMP6_MLD2_REPORT, &o);
	assert_non_null(p);
	assert_memory_equal(o.src.b, our_ll().b, 16);   /* link-local source once valid */
	assert_int_equal(o.hlim, 1);
	assert_true(o.hbh_router_alert);
	assert_true(o.csum_ok);
	int nrec = ns_load_be16(o.l4 + 6);
	assert_int_equal(nrec, 2);                      /* ff02::1:ffed:1 and ff02::1:ff00:1 */
	for (int i = 0; i < nrec; i++) {
		assert_int_equal(o.l4[8 + i * 20], 2);  /* MODE_IS_EXCLUDE */
		assert_int_equal(o.l4[8 + i * 20 + 4], 0xff);
	}
	ns_pkt_unref(p);
	/* a query with hop limit 2 is invalid */
	n = ip6t_icmp6(f, bcast6_all_nodes, t.peer_mac, &s, &d, 2, NS_ICMP6_MLD_QUERY, 0,
		       1000u << 16, body, sizeof(body));
	ip6t_inject(&t, f, n);
	ip6t_advance(&t, 2 * SEC);
	assert_null(ip6t_take_icmp(&t, NS_ICMP6_MLD2_REPORT, &o));
	assert_int_equal(ip6t_stat(&t, "Icmp6InGroupMembQueries"), 2);
	ip6t_fini(&t);
}

static void test_addr_delete_leaves_group(void **state)
{
	(void)state;
	struct ip6t t;
	ip6t_init(&t, 0, 0);
	ip6t_advance(&t, 3 * SEC);
	ip6t_addr_add(&t, "fd00:5eed::1", 64);
	struct ns_addr a = ip6t_addr("fd00:5eed::1"), sn = ip6t_addr("ff02::1:ff00:1");
	struct ns_nic *nic = ns__nic_get(t.stk, t.nic);
	assert_true(ns__mld_is_member(nic, &sn));
	/* deleted during DAD: no NS for it later, the group is left with TO_IN {} */
	ip6t_drain(&t);
	assert_int_equal(ns_nic_addr_del(t.stk, t.nic, &a), 0);
	assert_false(ns__mld_is_member(nic, &sn));
	struct ip6t_pkt o;
	struct ns_pkt *p = ip6t_take_icmp(&t, NS_ICMP6_MLD2_REPORT, &o);
	assert_non_null(p);
	assert_int_equal(o.l4[8], 3);                   /* CHANGE_TO_INCLUDE */
	assert_memory_equal(o.l4 + 12, sn.b, 16);
	ns_pkt_unref(p);
	ip6t_advance(&t, 3 * SEC);
	while ((p = ip6t_take_icmp(&t, NS_ICMP6_NS, &o))) {
		assert_memory_not_equal(o.l4 + 8, a.b, 16);
		ns_pkt_unref(p);
	}
	/* the link-local address keeps its own group */
	struct ns_addr llsn = ip6t_addr("ff02::1:ffed:1");
	assert_true(ns__mld_is_member(nic, &llsn));
	ip6t_fini(&t);
}

static void test_socket_group_join(void **state)
{
	(void)state;
	struct ip6t t;
	ip6t_init(&t, NS_STACK_F_NODAD, 0);
	ip6t_addr_add(&t, "fd00:5eed::1", 64);
	ip6t_advance(&t, 3 * SEC);
	ip6t_drain(&t);
	struct ns_addr g = ip6t_addr("ff05::1234"), s = ip6t_addr("fd00:5eed::2");
	uint8_t f[200], dmac[6];
	ns__ip6_mcast_mac(&g, dmac);
	/* not joined: dropped */
	size_t n = ip6t_icmp6(f, dmac, t.peer_mac, &s, &g, 64, NS_ICMP6_ECHO_REQUEST, 0, 1, "x", 1);
	ip6t_inject(&t, f, n);
	assert_int_equal(ip6t_stat(&t, "Ip6InAddrErrors"), 1);
	assert_int_equal(ns__ipv6_mc_join(t.stk, t.nic, &s), -NS_EINVAL);
	assert_int_equal(ns__ipv6_mc_join(t.stk, t.nic, &g), 0);
	assert_int_equal(ns__ipv6_mc_join(t.stk, t.nic, &g), 0);       /* refcounted */
	ip6t_advance(&t, 0);
	struct ip6t_pkt o;
	struct ns_pkt *p = ip6t_take_icmp(&t, NS_ICMP6_MLD2_REPORT, &o);
	assert_non_null(p);
	assert_memory_equal(o.l4 + 12, g.b, 16);
	ns_pkt_unref(p);
	ip6t_drain(&t);
	ip6t_inject(&t, f, n);
	assert_int_equal(ip6t_stat(&t, "Ip6InAddrErrors"), 1);
	assert_int_equal(ip6t_stat(&t, "Icmp6InEchos"), 1);        /* accepted now */
	assert_int_equal(ns__ipv6_mc_leave(t.stk, t.nic, &g), 0);
	assert_true(ns__mld_is_member(ns__nic_get(t.stk, t.nic), &g));
	assert_int_equal(ns__ipv6_mc_leave(t.stk, t.nic, &g), 0);
	assert_false(ns__mld_is_member(ns__nic_get(t.stk, t.nic), &g));
	assert_int_equal(ns__ipv6_mc_leave(t.stk, t.nic, &g), -NS_EADDRNOTAVAIL);
	ip6t_advance(&t, 5 * SEC);      /* the queued echo reply's resolution fails */
	ip6t_drain(&t);
	ip6t_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linklocal_dad_ok),
		cmocka_unit_test(test_dad_conflict_na),
		cmocka_unit_test(test_dad_conflict_ns_and_own_loop),
		cmocka_unit_test(test_neigh_state_machine),
		cmocka_unit_test(test_neigh_incomplete_fails),
		cmocka_unit_test(test_ns_answered),
		cmocka_unit_test(test_ra_slaac),
		cmocka_unit_test(test_slaac_off_by_default),
		cmocka_unit_test(test_mld_query),
		cmocka_unit_test(test_addr_delete_leaves_group),
		cmocka_unit_test(test_socket_group_join),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
