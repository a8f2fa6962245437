/*
 * tests/unit/test_ipv4.c - IPv4 receive validation (each bad header counted
 * in its stat), local delivery and protocol dispatch, ICMP echo, protocol
 * unreachable, output through ARP, and ping between two stacks.
 * Frames are injected into a capture-mode stack and its output captured.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "helpers/ns_test_ipv4.h"

static size_t arp_frame(uint8_t *buf, uint16_t op, const uint8_t *eth_dst, uint32_t sip,
			const uint8_t *tha, uint32_t tip)
{
	return t4_arp_frame(buf, op, eth_dst, t4_mac_peer, sip, tha, tip);
}

/* ---- echo -------------------------------------------------------------------------- */

static void test_echo_reply_after_arp(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	uint8_t body[100], f[256];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)i;
	size_t n = ns_test_build_icmp(f, &h, NS_ICMP_ECHO, 0, 0xabcd0007u, body, sizeof(body));
	assert_int_equal(ns_test_inject(&c.s, f, n), 0);
	t4_settle(&c);
	/* no neighbour entry: an ARP request goes out first */
	struct ns_pkt *p = ns_test_capture(&c.s);
	assert_non_null(p);
	const uint8_t *d = ns_pkt_data(p);
	assert_int_equal(ns_load_be16(d + 12), NS_ETHERTYPE_ARP);
	assert_memory_equal(d, t4_bcast, 6);
	assert_int_equal(ns_load_be16(d + 14 + 6), NS_ARPOP_REQUEST);
	assert_int_equal(ns_load_be32(d + 14 + 14), 0xc6120001u);
	assert_int_equal(ns_load_be32(d + 14 + 24), 0xc6120002u);
	ns_pkt_unref(p);
	assert_null(ns_test_capture(&c.s));
	assert_int_equal(ns__arp_entry_state(ns__nic_get(c.s.stk, c.s.nic), 0xc6120002u, NULL, NULL),
			 NS_ARP_INCOMPLETE);
	/* the reply releases the queued echo reply */
	n = arp_frame(f, NS_ARPOP_REPLY, t4_mac_a, 0xc6120002u, t4_mac_a, 0xc6120001u);
	assert_int_equal(ns_test_inject(&c.s, f, n), 0);
	t4_settle(&c);
	p = ns_test_capture(&c.s);
	assert_non_null(p);
	struct ns_test_parsed pp;
	assert_int_equal(ns_test_parse_pkt(p, &pp), 0);
	assert_memory_equal(pp.eth, t4_mac_peer, 6);
	assert_true(ns_addr_eq(&pp.src, &h.dst));
	assert_true(ns_addr_eq(&pp.dst, &h.src));
	assert_true(pp.ip_csum_ok);
	assert_true(pp.l4_csum_ok);
	assert_int_equal(pp.icmp_type, NS_ICMP_ECHOREPLY);
	assert_int_equal(ns_load_be32(pp.l4 + 4), 0xabcd0007u);
	assert_int_equal(pp.payload_len, sizeof(body));
	assert_memory_equal(pp.payload, body, sizeof(body));
	assert_int_equal(pp.ttl, 64);
	assert_int_equal(pp.frag & NS_IP_DF, 0);
	ns_pkt_unref(p);
	uint8_t mac[6];
	assert_int_equal(ns__arp_entry_state(ns__nic_get(c.s.stk, c.s.nic), 0xc6120002u, mac, NULL),
			 NS_ARP_REACHABLE);
	assert_memory_equal(mac, t4_mac_peer, 6);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInEchos"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutEchoReps"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IpInDelivers"), 1);
	assert_int_equal(t4_stat(c.s.stk, "ArpOutRequests"), 1);
	assert_int_equal(t4_stat(c.s.stk, "ArpInReplies"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IpExtInOctets"), 20 + 8 + 100);
	assert_int_equal(t4_stat(c.s.stk, "IpExtOutOctets"), 20 + 8 + 100);
	assert_int_equal(t4_stat(c.s.stk, "IpExtInNoECTPkts"), 1);
	t4_fini(&c);
}

static void test_broadcast_echo_ignored(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	memcpy(h.dst_mac, t4_bcast, 6);
	h.dst = ns_test_addr("198.18.0.255");
	uint8_t f[128];
	size_t n = ns_test_build_icmp(f, &h, NS_ICMP_ECHO, 0, 1, "x", 1);
	ns_test_inject(&c.s, f, n);
	h.dst = ns_test_addr("255.255.255.255");
	n = ns_test_build_icmp(f, &h, NS_ICMP_ECHO, 0, 1, "x", 1);
	ns_test_inject(&c.s, f, n);
	t4_settle(&c);
	assert_null(ns_test_capture(&c.s));
	assert_int_equal(t4_stat(c.s.stk, "IpExtInBcastPkts"), 2);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInEchos"), 2);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInErrors"), 2);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutEchoReps"), 0);
	t4_fini(&c);
}

/* ---- header validation ------------------------------------------------------------- */

struct bad_case {
	const char *what;
	void (*mutate)(uint8_t *f, size_t *len);
	const char *counter;
};

static void m_version(uint8_t *f, size_t *len) { (void)len; f[14] = 0x65; ns_test_fix_ipv4_csum(f); }
static void m_ihl_small(uint8_t *f, size_t *len) { (void)len; f[14] = 0x44; }
static void m_ihl_big(uint8_t *f, size_t *len) { (void)len; f[14] = 0x4f; }
static void m_csum(uint8_t *f, size_t *len) { (void)len; f[14 + 10] ^= 0x55; }
static void m_short(uint8_t *f, size_t *len) { (void)f; *len = 14 + 19; }
static void m_trunc(uint8_t *f, size_t *len) { ns_store_be16(f + 16, (uint16_t)(*len - 14 + 1)); ns_test_fix_ipv4_csum(f); }
static void m_totlen_lt_ihl(uint8_t *f, size_t *len) { (void)len; ns_store_be16(f + 16, 19); ns_test_fix_ipv4_csum(f); }
static void m_src_mcast(uint8_t *f, size_t *len) { (void)len; ns_store_be32(f + 26, 0xe0000001u); ns_test_fix_ipv4_csum(f); }
static void m_src_bcast(uint8_t *f, size_t *len) { (void)len; ns_store_be32(f + 26, 0xffffffffu); ns_test_fix_ipv4_csum(f); }
static void m_src_own(uint8_t *f, size_t *len) { (void)len; ns_store_be32(f + 26, 0xc6120001u); ns_test_fix_ipv4_csum(f); }
static void m_src_dirbcast(uint8_t *f, size_t *len) { (void)len; ns_store_be32(f + 26, 0xc61200ffu); ns_test_fix_ipv4_csum(f); }
static void m_src_loop(uint8_t *f, size_t *len) { (void)len; ns_store_be32(f + 26, 0x7f000001u); ns_test_fix_ipv4_csum(f); }
static void m_src_zero(uint8_t *f, size_t *len) { (void)len; ns_store_be32(f + 26, 0); ns_test_fix_ipv4_csum(f); }
static void m_dst_other(uint8_t *f, size_t *len) { (void)len; ns_store_be32(f + 30, 0xc6120009u); ns_test_fix_ipv4_csum(f); }
static void m_dst_zero(uint8_t *f, size_t *len) { (void)len; ns_store_be32(f + 30, 0); ns_test_fix_ipv4_csum(f); }

static void test_bad_headers_counted(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{ "version 6", m_version, "IpInHdrErrors" },
		{ "ihl 4", m_ihl_small, "IpInHdrErrors" },
		{ "ihl 15 > frame", m_ihl_big, "IpInHdrErrors" },
		{ "checksum", m_csum, "IpExtInCsumErrors" },
		{ "shorter than a header", m_short, "IpInHdrErrors" },
		{ "total length > frame", m_trunc, "IpExtInTruncatedPkts" },
		{ "total length < ihl", m_totlen_lt_ihl, "IpInHdrErrors" },
		{ "multicast source", m_src_mcast, "IpInAddrErrors" },
		{ "broadcast source", m_src_bcast, "IpInAddrErrors" },
		{ "own source", m_src_own, "IpInAddrErrors" },
		{ "directed broadcast source", m_src_dirbcast, "IpInAddrErrors" },
		{ "loopback source", m_src_loop, "IpInAddrErrors" },
		{ "zero source", m_src_zero, "IpInAddrErrors" },
		{ "not our destination", m_dst_other, "IpInAddrErrors" },
		{ "zero destination", m_dst_zero, "IpInAddrErrors" },
	};
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	for (size_t i = 0; i < NS_ARRAY_SIZE(cases); i++) {
		struct ns_test_l3 h;
		t4_l3_from_peer(&h);
		uint8_t f[256];
		size_t n = ns_test_build_icmp(f, &h, NS_ICMP_ECHO, 0, 1, "abcdefgh", 8);
		cases[i].mutate(f, &n);
		uint64_t before = t4_stat(c.s.stk, cases[i].counter);
		uint64_t rx = t4_stat(c.s.stk, "IpInReceives");
		ns_test_inject(&c.s, f, n);
		t4_settle(&c);
		if (t4_stat(c.s.stk, cases[i].counter) != before + 1)
			fail_msg("%s: %s not counted", cases[i].what, cases[i].counter);
		assert_int_equal(t4_stat(c.s.stk, "IpInReceives"), rx + 1);
		assert_int_equal(t4_stat(c.s.stk, "IcmpInMsgs"), 0);
		assert_null(ns_test_capture(&c.s));
	}
	assert_int_equal(t4_stat(c.s.stk, "IpInHdrErrors"), 6);   /* csum counts here too */
	/* link padding beyond the total length is trimmed, TTL 0/1 accepted (RFC 1122 3.2.1.7) */
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	h.ttl = 1;
	uint8_t f[256];
	size_t n = ns_test_build_icmp(f, &h, NS_ICMP_ECHO, 0, 1, "ab", 2);
	memset(f + n, 0xee, 10);
	ns_test_inject(&c.s, f, n + 10);
	t4_settle(&c);
	struct ns_pkt *p = ns_test_capture(&c.s);
	assert_non_null(p);
	struct ns_test_parsed pp;
	assert_int_equal(ns_test_parse_pkt(p, &pp), 0);
	assert_int_equal(pp.payload_len, 2);
	assert_true(pp.l4_csum_ok);
	ns_pkt_unref(p);
	t4_fini(&c);
}

static void test_options(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	uint8_t f[256], g[256];
	size_t n = ns_test_build_icmp(f, &h, NS_ICMP_ECHO, 0, 1, "abcd", 4);
	/* insert 8 bytes of options: NOP, NOP, then an option of length 4, EOL... */
	static const uint8_t good[8] = { 1, 1, 0x94, 4, 0, 0, 0, 0 };   /* router alert */
	memcpy(g, f, 34);
	memcpy(g + 34, good, 8);
	memcpy(g + 42, f + 34, n - 34);
	g[14] = 0x47;
	ns_store_be16(g + 16, (uint16_t)(n - 14 + 8));
	ns_test_fix_ipv4_csum(g);
	ns_test_inject(&c.s, g, n + 8);
	t4_settle(&c);
	struct ns_pkt *p = ns_test_capture(&c.s);
	assert_non_null(p);                 /* answered */
	ns_pkt_unref(p);
	/* a bad option length: parameter problem pointing at it */
	g[34 + 3] = 9;
	ns_test_fix_ipv4_csum(g);
	ns_test_inject(&c.s, g, n + 8);
	t4_settle(&c);
	p = ns_test_capture(&c.s);
	assert_non_null(p);
	struct ns_test_parsed pp;
	assert_int_equal(ns_test_parse_pkt(p, &pp), 0);
	assert_int_equal(pp.icmp_type, NS_ICMP_PARAMETERPROB);
	assert_int_equal(pp.l4[4], 22);     /* the option's offset in the header */
	ns_pkt_unref(p);
	assert_int_equal(t4_stat(c.s.stk, "IpInHdrErrors"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutParmProbs"), 1);
	/* source routed: dropped (Linux accept_source_route = 0) */
	static const uint8_t lsrr[8] = { 131, 7, 4, 1, 2, 3, 4, 0 };
	memcpy(g + 34, lsrr, 8);
	ns_test_fix_ipv4_csum(g);
	ns_test_inject(&c.s, g, n + 8);
	t4_settle(&c);
	assert_null(ns_test_capture(&c.s));
	assert_int_equal(t4_stat(c.s.stk, "IpInDiscards"), 1);
	t4_fini(&c);
}

/* An echo request from the peer with the given options (padded to 4). */
static size_t echo_with_opts(uint8_t *g, const uint8_t *opts, size_t olen)
{
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	uint8_t f[256];
	size_t n = ns_test_build_icmp(f, &h, NS_ICMP_ECHO, 0, 1, "abcd", 4);
	size_t pad = (olen + 3) & ~(size_t)3;
	memcpy(g, f, 34);
	memset(g + 34, 0, pad);
	memcpy(g + 34, opts, olen);
	memcpy(g + 34 + pad, f + 34, n - 34);
	g[14] = (uint8_t)(0x40 | ((20 + pad) / 4));
	ns_store_be16(g + 16, (uint16_t)(n - 14 + pad));
	ns_test_fix_ipv4_csum(g);
	return n + pad;
}

static void test_options_echoed(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	/* record route with the sender's address in it: ours goes in twice
	 * (received, sent), like Linux */
	uint8_t rr[39] = { 7, 39, 8, 0xc6, 0x12, 0, 2 };
	uint8_t g[512];
	size_t n = echo_with_opts(g, rr, sizeof(rr));
	t4_inject(&c, g, n);
	struct ns_test_parsed pp;
	struct ns_pkt *p = t4_take(&c, &pp);
	assert_non_null(p);
	assert_int_equal(pp.icmp_type, NS_ICMP_ECHOREPLY);
	assert_true(pp.ip_csum_ok);
	assert_true(pp.l4_csum_ok);
	assert_int_equal(pp.l3[0], 0x45 + 10);
	const uint8_t *o = pp.l3 + 20;
	assert_int_equal(o[0], 7);
	assert_int_equal(o[1], 39);
	assert_int_equal(o[2], 16);
	assert_int_equal(ns_load_be32(o + 3), T4_PEER);
	assert_int_equal(ns_load_be32(o + 7), T4_US);
	assert_int_equal(ns_load_be32(o + 11), T4_US);
	assert_int_equal(ns_load_be32(o + 15), 0);
	assert_int_equal(pp.payload_len, 4);
	ns_pkt_unref(p);
	/* timestamps only, one slot left: one stamp, then the overflow counts */
	uint8_t ts[12] = { 68, 12, 9, 0, 0, 0, 0, 1 };
	n = echo_with_opts(g, ts, sizeof(ts));
	t4_inject(&c, g, n);
	p = t4_take(&c, &pp);
	assert_non_null(p);
	o = pp.l3 + 20;
	assert_int_equal(o[0], 68);
	assert_int_equal(o[2], 13);
	assert_int_equal(o[3] >> 4, 1);
	assert_true(ns_load_be32(o + 8) & 0x80000000u);
	ns_pkt_unref(p);
	/* a record route pointer into a partial slot: parameter problem */
	uint8_t bad[7] = { 7, 7, 6, 0, 0, 0, 0 };
	n = echo_with_opts(g, bad, sizeof(bad));
	t4_inject(&c, g, n);
	p = t4_take(&c, &pp);
	assert_non_null(p);
	assert_int_equal(pp.icmp_type, NS_ICMP_PARAMETERPROB);
	assert_int_equal(pp.l4[4], 22);
	ns_pkt_unref(p);
	t4_fini(&c);
}

static void test_unknown_protocol(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	uint8_t f[256];
	size_t n = ns_test_build_ip(f, &h, 253, "experiment", 10);
	ns_test_inject(&c.s, f, n);
	t4_settle(&c);
	struct ns_pkt *p = ns_test_capture(&c.s);
	assert_non_null(p);
	struct ns_test_parsed pp;
	assert_int_equal(ns_test_parse_pkt(p, &pp), 0);
	assert_int_equal(pp.icmp_type, NS_ICMP_DEST_UNREACH);
	assert_int_equal(pp.icmp_code, NS_ICMP_PROT_UNREACH);
	assert_true(pp.l4_csum_ok);
	assert_int_equal(pp.l3[1], 0xc0);
	/* quotes the whole offending datagram (it is small) */
	assert_int_equal(pp.payload_len, n - 14);
	assert_memory_equal(pp.payload, f + 14, n - 14);
	ns_pkt_unref(p);
	assert_int_equal(t4_stat(c.s.stk, "IpInUnknownProtos"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutDestUnreachs"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutMsgs"), 1);
	/* never about a broadcast */
	memcpy(h.dst_mac, t4_bcast, 6);
	h.dst = ns_test_addr("198.18.0.255");
	n = ns_test_build_ip(f, &h, 253, "experiment", 10);
	ns_test_inject(&c.s, f, n);
	t4_settle(&c);
	assert_null(ns_test_capture(&c.s));
	assert_int_equal(t4_stat(c.s.stk, "IpInUnknownProtos"), 2);
	t4_fini(&c);
}

static int send_udp_to(struct t4_cap *c, const char *dst, bool bcast_ok, bool noloop)
{
	struct ns_pkt *p = ns_pkt_alloc(ns_stack_pool(c->s.stk), NS_PKT_TX_HEADROOM, 12);
	uint8_t *u = ns_pkt_data(p);
	memset(u, 0, 12);
	ns_store_be16(u, 5000);
	ns_store_be16(u + 2, 5001);
	ns_store_be16(u + 4, 12);
	struct ns_ip_tx tx = { .proto = NS_IPPROTO_UDP, .ttl = -1, .pmtudisc = NS_IP_PMTUDISC_WANT,
			       .is_bcast_ok = bcast_ok, .mc_noloop = noloop };
	tx.dst = ns_test_addr(dst);
	return ns__ip_output(c->s.stk, p, &tx);
}

static void test_broadcast_multicast_output(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	/* broadcasts need SO_BROADCAST */
	assert_int_equal(send_udp_to(&c, "198.18.0.255", false, false), -NS_EACCES);
	assert_int_equal(send_udp_to(&c, "255.255.255.255", false, false), -NS_EACCES);
	assert_int_equal(send_udp_to(&c, "198.18.0.255", true, false), 0);
	t4_settle(&c);
	struct ns_test_parsed pp;
	struct ns_pkt *p = t4_take(&c, &pp);
	assert_non_null(p);
	assert_memory_equal(pp.eth, t4_bcast, 6);
	assert_int_equal(pp.ttl, 64);
	ns_pkt_unref(p);
	assert_int_equal(t4_stat(c.s.stk, "IpExtInBcastPkts"), 1);   /* the local copy */
	/* multicast: 01:00:5e + low 23 bits, TTL 1, looped unless told not to */
	assert_int_equal(send_udp_to(&c, "239.129.2.3", false, false), 0);
	t4_settle(&c);
	p = t4_take(&c, &pp);
	assert_non_null(p);
	static const uint8_t mmac[6] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };
	assert_memory_equal(pp.eth, mmac, 6);
	assert_int_equal(pp.ttl, 1);
	ns_pkt_unref(p);
	assert_int_equal(t4_stat(c.s.stk, "IpExtInMcastPkts"), 1);
	assert_int_equal(send_udp_to(&c, "239.129.2.3", false, true), 0);
	t4_settle(&c);
	assert_int_equal(ns_test_capture_drop(&c.s), 1);
	assert_int_equal(t4_stat(c.s.stk, "IpExtInMcastPkts"), 1);
	assert_int_equal(t4_stat(c.s.stk, "ArpOutRequests"), 0);
	t4_fini(&c);
}

/* ---- two stacks ------------------------------------------------------------------ */

static bool got_reply(void *ctx)
{
	uint64_t v = 0;
	ns_stat_get(ctx, "IcmpInEchoReps", &v);
	return v >= 1;
}

static void test_ping_pair(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, &(struct ns_test_pair_opts){ 0 }), 0);
	uint8_t body[56] = "ping";
	assert_int_equal(ns__icmp4_xmit(p.a.stk, 0, 0xc6120002u, NS_ICMP_ECHO, 0, 0x00010001u, body,
					sizeof(body), 0), 0);
	assert_true(ns_test_pump(&p, got_reply, p.a.stk, 5 * NS_NSEC_PER_SEC));
	assert_int_equal(t4_stat(p.b.stk, "IcmpInEchos"), 1);
	assert_int_equal(t4_stat(p.b.stk, "IcmpOutEchoReps"), 1);
	assert_int_equal(t4_stat(p.a.stk, "IcmpOutEchos"), 1);
	ns_test_settle(&p);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

static void test_ping_self(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	assert_int_equal(ns__icmp4_xmit(c.s.stk, 0, 0xc6120001u, NS_ICMP_ECHO, 0, 7, (const uint8_t *)"me", 2, 0), 0);
	/* nothing happens inside the call: the loop is deferred */
	assert_int_equal(t4_stat(c.s.stk, "IcmpInEchos"), 0);
	t4_settle(&c);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInEchos"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInEchoReps"), 1);
	assert_null(ns_test_capture(&c.s));
	t4_fini(&c);
}

/* ---- threaded mode -------------------------------------------------------------- */

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000L };
	nanosleep(&ts, NULL);
}

static void test_threaded_pair(void **state)
{
	(void)state;
	/* real clock, each stack with its timer and channel receive threads */
	static const uint8_t mb[6] = NS_TEST_MAC_B;
	struct ns_stack *s[2];
	struct ns_link *l[2] = { ns_link_channel_new(t4_mac_a, 1500, 1024),
				 ns_link_channel_new(mb, 1500, 1024) };
	ns_link_channel_pair(l[0], l[1]);
	const char *ip[2] = { "198.18.0.1", "198.18.0.2" };
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ns_stack_create(NULL, &s[i]), 0);
		int nic = ns_nic_add(s[i], l[i], "eth0");
		assert_true(nic > 0);
		struct ns_addr a = ns_test_addr(ip[i]);
		assert_int_equal(ns_nic_addr_add(s[i], nic, &a, 24), 0);
		assert_int_equal(ns_stack_start(s[i]), 0);
	}
	static uint8_t body[4000];
	for (int k = 0; k < 20; k++) {
		assert_int_equal(ns__icmp4_xmit(s[0], 0, 0xc6120002u, NS_ICMP_ECHO, 0, (uint32_t)k,
						body, k % 2 ? sizeof(body) : 64, 0), 0);
		/* and to ourselves, from this (application) thread */
		assert_int_equal(ns__icmp4_xmit(s[0], 0, 0xc6120001u, NS_ICMP_ECHO, 0, (uint32_t)k,
						body, 64, 0), 0);
	}
	for (int t = 0; t < 400 && t4_stat(s[0], "IcmpInEchoReps") < 40; t++)
		sleep_ms(5);
	assert_int_equal(t4_stat(s[0], "IcmpInEchoReps"), 40);
	assert_int_equal(t4_stat(s[1], "IpReasmOKs"), 10);
	for (int i = 0; i < 2; i++)
		ns_stack_stop(s[i]);
	for (int i = 0; i < 2; i++) {
		ns_stack_destroy(s[i]);
	}
}

/* ---- robustness: mutated frames never crash, leak or get stuck ------------------ */

static void test_mutated_frames(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	struct ns_seeded_rng rng;
	ns_seeded_rng_init(&rng, ns_test_seed(42));
	struct ns_rng r = ns_seeded_rng(&rng);
	uint8_t seeds[6][1600];
	size_t lens[6];
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	uint8_t body[1400];
	memset(body, 0x61, sizeof(body));
	lens[0] = ns_test_build_icmp(seeds[0], &h, NS_ICMP_ECHO, 0, 1, body, 100);
	lens[1] = ns_test_build_udp(seeds[1], &h, 1, 7, body, 200);
	h.frag = NS_IP_MF;
	lens[2] = ns_test_build_icmp(seeds[2], &h, NS_ICMP_ECHO, 0, 1, body, 1000);
	h.frag = 125;
	lens[3] = ns_test_build_ip(seeds[3], &h, NS_IPPROTO_ICMP, body, 500);
	h.frag = 0;
	uint8_t inner[100];
	memcpy(inner, seeds[1] + 14, 100);
	lens[4] = ns_test_build_icmp(seeds[4], &h, NS_ICMP_DEST_UNREACH, NS_ICMP_FRAG_NEEDED, 576,
				     inner, 100);
	lens[5] = t4_arp_frame(seeds[5], NS_ARPOP_REQUEST, t4_bcast, t4_mac_peer, T4_PEER, NULL, T4_US);
	uint8_t f[1600];
	for (int i = 0; i < 20000; i++) {
		uint64_t x = r.next_u64(r.ctx);
		int k = (int)(x % 6);
		size_t n = lens[k];
		memcpy(f, seeds[k], n);
		int flips = 1 + (int)((x >> 8) % 4);
		for (int j = 0; j < flips; j++) {
			uint64_t y = r.next_u64(r.ctx);
			size_t pos = 14 + (size_t)(y % (n - 14 < 64 ? n - 14 : 64));
			f[pos] = (uint8_t)(y >> 32);
		}
		if ((x >> 16) % 3 == 0)
			ns_test_fix_ipv4_csum(f);
		if ((x >> 20) % 5 == 0)
			n = 14 + (size_t)((x >> 24) % (n - 13));
		ns_test_inject(&c.s, f, n);
		if (i % 64 == 0) {
			t4_settle(&c);
			ns_test_capture_drop(&c.s);
		}
	}
	t4_settle(&c);
	ns_test_capture_drop(&c.s);
	t4_advance(&c, 40 * NS_NSEC_PER_SEC);
	assert_int_equal(ns__ipv4_reasm_mem(c.s.stk), 0);
	assert_true(t4_stat(c.s.stk, "IpInReceives") > 10000);
	t4_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_reply_after_arp),
		cmocka_unit_test(test_broadcast_echo_ignored),
		cmocka_unit_test(test_bad_headers_counted),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_options_echoed),
		cmocka_unit_test(test_unknown_protocol),
		cmocka_unit_test(test_broadcast_multicast_output),
		cmocka_unit_test(test_ping_pair),
		cmocka_unit_test(test_ping_self),
		cmocka_unit_test(test_threaded_pair),
		cmocka_unit_test(test_mutated_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
