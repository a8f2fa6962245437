/*
 * tests/unit/test_ipv6.c - the IPv6 receive path on a capture bench:
 * fixed-header validation (version, payload length against the frame,
 * link padding, source and destination rules, tentative destinations),
 * the extension header walk (every option action, padding rules, bounds,
 * hop-by-hop placement, routing header types, unknown next header, long
 * chains, truncation) and output fragmentation sizes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "helpers/ip6_test.h"
#include "ipv6/ipv6_internal.h"

#define SEC NS_NSEC_PER_SEC
static const char *US = "fd00:5eed::1", *PEER = "fd00:5eed::2";

/* A stack with fd00:5eed::1/64 that already knows the peer (STALE). */
static void setup(struct ip6t *t)
{
	ip6t_init(t, NS_STACK_F_NODAD, 0);
	ip6t_addr_add(t, US, 64);
	ip6t_advance(t, SEC);
	struct ns_addr p = ip6t_addr(PEER);
	ns__nd_learn_locked(ns__nd(ns__nic_get(t->stk, t->nic)), &p, t->peer_mac, false,
			    &(struct ns_nd_work){ 0 });
	ip6t_drain(t);
}

/* An echo request (8 bytes of data) behind the extension headers ext
 * (ext[0] is the first header's type, then its bytes); returns frame length. */
static size_t echo_with_ext(struct ip6t *t, uint8_t *f, const char *dst, uint8_t first,
			    const uint8_t *ext, size_t elen)
{
	uint8_t pl[2000];
	if (elen)
		memcpy(pl, ext, elen);
	uint8_t *icmp = pl + elen;
	memset(icmp, 0, 16);
	icmp[0] = NS_ICMP6_ECHO_REQUEST;
	ns_store_be32(icmp + 4, 0xabcd0001);
	struct ns_addr s = ip6t_addr(PEER), d = ip6t_addr(dst);
	uint8_t dmac[6];
	if (d.b[0] == 0xff)
		ns__ip6_mcast_mac(&d, dmac);
	else
		memcpy(dmac, t->mac, 6);
	size_t n = ip6t_frame(f, dmac, t->peer_mac, &s, &d, elen ? first : 58, 64, pl, elen + 16);
	ip6t_fix_csum(f, 40 + elen, 58);
	return n;
}

static bool replied(struct ip6t *t)
{
	struct ip6t_pkt o;
	struct ns_pkt *p = ip6t_take_icmp(t, NS_ICMP6_ECHO_REPLY, &o);
	bool ok = p && o.csum_ok;
	ns_pkt_unref(p);
	ip6t_drain(t);
	return ok;
}

/* Expects a parameter problem (code, pointer) and nothing else. */
static void expect_pp(struct ip6t *t, uint8_t code, uint32_t ptr)
{
	struct ip6t_pkt o;
	struct ns_pkt *p = ip6t_take_icmp(t, NS_ICMP6_PARAM_PROB, &o);
	assert_non_null(p);
	assert_true(o.csum_ok);
	assert_int_equal(o.l4[1], code);
	assert_int_equal(ns_load_be32(o.l4 + 4), ptr);
	assert_memory_equal(o.dst.b, ip6t_addr(PEER).b, 16);
	assert_int_equal(ns_load_be32(o.l4 + 8) >> 28, 6);     /* quotes the datagram */
	ns_pkt_unref(p);
	assert_int_equal(ip6t_drain(t), 0);
}

static void test_header_validation(void **state)
{
	(void)state;
	struct ip6t t;
	setup(&t);
	uint8_t f[3000];
	size_t n = echo_with_ext(&t, f, US, 0, NULL, 0);
	ip6t_inject(&t, f, n);
	assert_true(replied(&t));
	/* link padding after the datagram is trimmed */
	memset(f + n, 0xee, 20);
	ip6t_inject(&t, f, n + 20);
	assert_true(replied(&t));
	/* payload length beyond the frame */
	ns_store_be16(f + 18, 100);
	ip6t_inject(&t, f, n);
	assert_false(replied(&t));
	assert_int_equal(ip6t_stat(&t, "Ip6InTruncatedPkts"), 1);
	ns_store_be16(f + 18, 16);
	/* version 4 in an IPv6 EtherType */
	f[14] = 0x40;
	ip6t_inject(&t, f, n);
	f[14] = 0x60;
	/* shorter than a header */
	ip6t_inject(&t, f, 14 + 39);
	assert_int_equal(ip6t_stat(&t, "Ip6InHdrErrors"), 2);
	/* multicast source, loopback source/destination */
	uint8_t g[3000];
	static const struct { const char *src, *dst; } bad[] = {
		{ "ff02::1", "fd00:5eed::1" }, { "::1", "fd00:5eed::1" }, { "fd00:5eed::2", "::1" },
		{ "fd00:5eed::2", "ff01::1" }, { "fd00:5eed::2", "ff00::1" },
	};
	for (size_t i = 0; i < NS_ARRAY_SIZE(bad); i++) {
		struct ns_addr s = ip6t_addr(bad[i].src), d = ip6t_addr(bad[i].dst);
		n = ip6t_icmp6(g, t.mac, t.peer_mac, &s, &d, 64, NS_ICMP6_ECHO_REQUEST, 0, 1, "abcd", 4);
		ip6t_inject(&t, g, n);
	}
	assert_int_equal(ip6t_stat(&t, "Ip6InHdrErrors"), 2 + NS_ARRAY_SIZE(bad));
	assert_int_equal(ip6t_drain(&t), 0);
	/* not our address; a tentative address of ours */
	struct ns_addr s = ip6t_addr(PEER), d = ip6t_addr("fd00:5eed::99");
	n = ip6t_icmp6(g, t.mac, t.peer_mac, &s, &d, 64, NS_ICMP6_ECHO_REQUEST, 0, 1, "abcd", 4);
	ip6t_inject(&t, g, n);
	struct ns_addr us = ip6t_addr(US);
	ns__nic_addr_set_flags(t.stk, t.nic, &us, NS_IFA_TENTATIVE, 0);
	n = echo_with_ext(&t, f, US, 0, NULL, 0);
	ip6t_inject(&t, f, n);
	assert_int_equal(ip6t_stat(&t, "Ip6InAddrErrors"), 2);
	assert_int_equal(ip6t_drain(&t), 0);
	ns__nic_addr_set_flags(t.stk, t.nic, &us, 0, NS_IFA_TENTATIVE);
	/* a bad ICMPv6 checksum */
	n = echo_with_ext(&t, f, US, 0, NULL, 0);
	f[14 + 40 + 9] ^= 1;
	ip6t_inject(&t, f, n);
	assert_false(replied(&t));
	assert_int_equal(ip6t_stat(&t, "Icmp6InCsumErrors"), 1);
	ip6t_fini(&t);
}

/* hop-by-hop (or destination options) with one option of type `type` */
static size_t opt_hdr(uint8_t *e, uint8_t nh, uint8_t type, uint8_t olen)
{
	memset(e, 0, 16);
	e[0] = nh;
	size_t hl = (2 + 2 + olen + 7) / 8 * 8;
	e[1] = (uint8_t)(hl / 8 - 1);
	e[2] = type;
	e[3] = olen;
	size_t pad = hl - 4 - olen;
	if (pad == 1)
		e[4 + olen] = 0;
	else if (pad >= 2) {
		e[4 + olen] = 1;
		e[5 + olen] = (uint8_t)(pad - 2);
	}
	return hl;
}

static void test_option_actions(void **state)
{
	(void)state;
	struct ip6t t;
	setup(&t);
	uint8_t f[3000], e[64];
	/* 00: skipped */
	size_t el = opt_hdr(e, 58, 0x1e, 2);
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_HOP, e, el));
	assert_true(replied(&t));
	/* 01: discarded silently */
	el = opt_hdr(e, 58, 0x5e, 2);
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_DSTOPTS, e, el));
	assert_int_equal(ip6t_drain(&t), 0);
	/* 10: parameter problem code 2 pointing at the option type */
	el = opt_hdr(e, 58, 0x9e, 2);
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_DSTOPTS, e, el));
	expect_pp(&t, NS_ICMP6_UNK_OPTION, 42);
	/* 11: the same for unicast */
	el = opt_hdr(e, 58, 0xde, 2);
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_HOP, e, el));
	expect_pp(&t, NS_ICMP6_UNK_OPTION, 42);
	/* to a multicast destination: 10 still answers, 11 does not */
	el = opt_hdr(e, 58, 0x9e, 2);
	ip6t_inject(&t, f, echo_with_ext(&t, f, "ff02::1", NS_NH_HOP, e, el));
	expect_pp(&t, NS_ICMP6_UNK_OPTION, 42);
	el = opt_hdr(e, 58, 0xde, 2);
	ip6t_inject(&t, f, echo_with_ext(&t, f, "ff02::1", NS_NH_HOP, e, el));
	assert_int_equal(ip6t_drain(&t), 0);
	/* Router Alert is known; a multicast echo gets a reply from our unicast address */
	el = opt_hdr(e, 58, 5, 2);
	ip6t_inject(&t, f, echo_with_ext(&t, f, "ff02::1", NS_NH_HOP, e, el));
	struct ip6t_pkt o;
	struct ns_pkt *p = ip6t_take_icmp(&t, NS_ICMP6_ECHO_REPLY, &o);
	assert_non_null(p);
	assert_memory_equal(o.src.b, ip6t_addr(US).b, 16);
	ns_pkt_unref(p);
	/* the option's length runs past its header: dropped, header error */
	uint64_t h0 = ip6t_stat(&t, "Ip6InHdrErrors");
	el = opt_hdr(e, 58, 0x1e, 2);
	e[3] = 9;
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_DSTOPTS, e, el));
	/* PadN with non-zero contents, more than 7 bytes of padding */
	el = opt_hdr(e, 58, 1, 2);
	e[4] = 1;
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_DSTOPTS, e, el));
	memset(e, 0, 16);
	e[0] = 58;
	e[1] = 1;                       /* 16 bytes, 14 of Pad1 */
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_DSTOPTS, e, 16));
	assert_int_equal(ip6t_stat(&t, "Ip6InHdrErrors"), h0 + 3);
	assert_int_equal(ip6t_drain(&t), 0);
	/* exactly 6 bytes of Pad1 is fine */
	memset(e, 0, 8);
	e[0] = 58;
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_DSTOPTS, e, 8));
	assert_true(replied(&t));
	ip6t_fini(&t);
}

static void test_header_order_and_routing(void **state)
{
	(void)state;
	struct ip6t t;
	setup(&t);
	uint8_t f[3000], e[64];
	/* hop-by-hop after a destination options header: unknown next header */
	memset(e, 0, 16);
	e[0] = NS_NH_HOP;               /* dstopts -> hbh */
	e[8] = 58;                      /* hbh -> icmp */
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_DSTOPTS, e, 16));
	expect_pp(&t, NS_ICMP6_UNK_NEXTHDR, 40);
	/* routing header type 0 with segments left: refused, pointer at the type */
	memset(e, 0, 24);
	e[0] = 58;
	e[1] = 2;
	e[2] = 0;
	e[3] = 1;
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_ROUTING, e, 24));
	expect_pp(&t, NS_ICMP6_HDR_FIELD, 42);
	/* unknown routing type with segments left: the same */
	e[2] = 253;
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_ROUTING, e, 24));
	expect_pp(&t, NS_ICMP6_HDR_FIELD, 42);
	/* segments left 0: ignored, the datagram is processed */
	e[3] = 0;
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_ROUTING, e, 24));
	assert_true(replied(&t));
	e[2] = 0;
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_ROUTING, e, 24));
	assert_true(replied(&t));
	/* an unknown upper layer: parameter problem code 1 at the next-header byte */
	memset(e, 0, 8);
	e[0] = 253;
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_DSTOPTS, e, 8));
	expect_pp(&t, NS_ICMP6_UNK_NEXTHDR, 40);
	assert_int_equal(ip6t_stat(&t, "Ip6InUnknownProtos"), 2);
	/* no next header: silently consumed */
	e[0] = NS_NH_NONE;
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_DSTOPTS, e, 8));
	assert_int_equal(ip6t_drain(&t), 0);
	ip6t_fini(&t);
}

static void test_long_chain_and_truncation(void **state)
{
	(void)state;
	struct ip6t t;
	setup(&t);
	static uint8_t f[3000], e[1600];
	/* 150 destination options headers of 8 bytes, then ICMPv6 */
	int k = 150;
	memset(e, 0, sizeof(e));
	for (int i = 0; i < k; i++)
		e[i * 8] = i == k - 1 ? 58 : NS_NH_DSTOPTS;
	ip6t_inject(&t, f, echo_with_ext(&t, f, US, NS_NH_DSTOPTS, e, (size_t)k * 8));
	assert_true(replied(&t));
	/* a chain that claims more than the datagram holds: every cut is dropped */
	uint64_t h0 = ip6t_stat(&t, "Ip6InHdrErrors");
	memset(e, 0, 64);
	e[0] = NS_NH_DSTOPTS;
	e[8] = NS_NH_ROUTING;
	e[9] = 200;                     /* 1608 bytes: beyond the end */
	struct ns_addr s = ip6t_addr(PEER), d = ip6t_addr(US);
	for (size_t cut = 0; cut <= 24; cut++) {
		size_t n = ip6t_frame(f, t.mac, t.peer_mac, &s, &d, NS_NH_DSTOPTS, 64, e, cut);
		ip6t_inject(&t, f, n);
	}
	assert_int_equal(ip6t_drain(&t), 0);
	assert_true(ip6t_stat(&t, "Ip6InHdrErrors") >= h0 + 24);
	/* a truncated fragment header: parameter problem at its offset */
	size_t n = ip6t_frame(f, t.mac, t.peer_mac, &s, &d, NS_NH_FRAGMENT, 64, e, 4);
	ip6t_inject(&t, f, n);
	expect_pp(&t, NS_ICMP6_HDR_FIELD, 40);
	ip6t_fini(&t);
}

static void test_output_fragment_sizes(void **state)
{
	(void)state;
	struct ip6t t;
	setup(&t);
	static uint8_t f[5000], body[3000];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7);
	struct ns_addr s = ip6t_addr(PEER), d = ip6t_addr(US);
	size_t n = ip6t_icmp6(f, t.mac, t.peer_mac, &s, &d, 64, NS_ICMP6_ECHO_REQUEST, 0, 5, body,
			      sizeof(body));
	ip6t_inject(&t, f, n);
	/* 3008 bytes of ICMPv6 in 1448-byte pieces: 1448 + 1448 + 112 */
	struct ns_pkt *p[3];
	struct ip6t_pkt o[3];
	uint32_t id = 0;
	for (int i = 0; i < 3; i++) {
		p[i] = ip6t_take(&t);
		assert_non_null(p[i]);
		assert_int_equal(ip6t_parse(p[i], &o[i]), 0);
		assert_true(o[i].has_frag);
		if (i == 0)
			id = o[i].frag_id;
		assert_int_equal(o[i].frag_id, id);
		assert_true(ns_pkt_len(p[i]) <= 14 + 1500);
	}
	assert_int_equal(o[0].frag_off, 0 | 1);
	assert_int_equal(o[1].frag_off, 1448 | 1);
	assert_int_equal(o[2].frag_off, 2896);
	assert_int_equal(o[0].l4_len, 1448);
	assert_int_equal(o[2].l4_len, 3008 - 2896);
	assert_int_equal(o[0].l4[0], NS_ICMP6_ECHO_REPLY);
	assert_memory_equal(o[1].l4, body + 1440, 1448);
	for (int i = 0; i < 3; i++)
		ns_pkt_unref(p[i]);
	assert_null(ip6t_take(&t));
	assert_int_equal(ip6t_stat(&t, "Ip6FragCreates"), 3);
	/* a Packet Too Big lowers the path MTU (never below 1280) */
	uint8_t q[1240];
	memcpy(q, f + 14, sizeof(q));
	struct ns_addr ps = ip6t_addr(PEER), pd = ip6t_addr(US);
	/* the quoted datagram: ours to the peer */
	memcpy(q + 8, pd.b, 16);
	memcpy(q + 24, ps.b, 16);
	n = ip6t_icmp6(f, t.mac, t.peer_mac, &ps, &pd, 64, NS_ICMP6_PACKET_TOO_BIG, 0, 1000, q,
		       sizeof(q));
	ip6t_inject(&t, f, n);
	assert_int_equal(ns__ip_path_mtu(t.stk, &ps, 0), 1280);
	n = ip6t_icmp6(f, t.mac, t.peer_mac, &s, &d, 64, NS_ICMP6_ECHO_REQUEST, 0, 6, body, 1400);
	ip6t_inject(&t, f, n);
	p[0] = ip6t_take(&t);
	assert_non_null(p[0]);
	assert_int_equal(ip6t_parse(p[0], &o[0]), 0);
	assert_true(o[0].has_frag);
	assert_int_equal(ns_pkt_len(p[0]), 14 + 40 + 8 + 1232);
	ns_pkt_unref(p[0]);
	ip6t_drain(&t);
	ip6t_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_validation),
		cmocka_unit_test(test_option_actions),
		cmocka_unit_test(test_header_order_and_routing),
		cmocka_unit_test(test_long_chain_and_truncation),
		cmocka_unit_test(test_output_fragment_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
