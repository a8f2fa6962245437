/*
 * tests/unit/test_reasm.c - IPv4 reassembly (in order, out of order,
 * duplicates, overlaps, inconsistent ends, timeout with and without ICMP
 * time exceeded, the 4 MiB memory bound) and output fragmentation (sizes,
 * offsets, MF, one ID, DF rules, EMSGSIZE), and both ways between two
 * stacks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "helpers/ns_test_ipv4.h"

#define BODY 3000

/* A 3008-byte ICMP echo request from the peer (payload bytes i*7). */
static size_t big_echo(uint8_t *f, uint16_t id)
{
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	h.id = id;
	uint8_t body[BODY];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7);
	return ns_test_build_icmp(f, &h, NS_ICMP_ECHO, 0, 0x00420001u, body, sizeof(body));
}

/* Collects the echo reply (fragmented by the stack) and checks it. */
static void expect_reply(struct t4_cap *c)
{
	uint8_t buf[BODY + 8];
	uint32_t got = 0, total = 0;
	uint16_t id = 0;
	int n = 0;
	struct ns_test_parsed pp;
	struct ns_pkt *p;
	while ((p = t4_take(c, &pp))) {
		assert_int_equal(ns_load_be16(pp.eth + 12), NS_ETHERTYPE_IPV4);
		assert_true(pp.ip_csum_ok);
		assert_true(ns_pkt_len(p) <= 14 + 1500);
		uint32_t off = (uint32_t)(pp.frag & NS_IP_OFFMASK) * 8;
		uint32_t len = ns_load_be16(pp.l3 + 2) - 20;
		if (n++ == 0)
			id = pp.ip_id;
		assert_int_equal(pp.ip_id, id);
		assert_int_equal(pp.frag & NS_IP_DF, 0);
		if (pp.frag & NS_IP_MF)
			assert_int_equal(len % 8, 0);
		else
			total = off + len;
		memcpy(buf + off, pp.l3 + 20, len);
		got += len;
		ns_pkt_unref(p);
	}
	assert_int_equal(n, 3);
	assert_int_equal(total, BODY + 8);
	assert_int_equal(got, total);
	assert_int_equal(buf[0], NS_ICMP_ECHOREPLY);
	assert_int_equal(ns_csum_fold(ns_csum_partial(buf, total, 0)), 0);
	for (size_t i = 0; i < BODY; i++)
		assert_int_equal(buf[8 + i], (uint8_t)(i * 7));
}

static void test_in_order(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	uint8_t whole[BODY + 100], f[1600];
	big_echo(whole, 1);
	t4_inject(&c, f, t4_frag(f, whole, 0, 1480, true));
	t4_inject(&c, f, t4_frag(f, whole, 1480, 1480, true));
	assert_int_equal(ns__ipv4_reasm_mem(c.s.stk) > 0, 1);
	t4_inject(&c, f, t4_frag(f, whole, 2960, 48, false));
	expect_reply(&c);
	assert_int_equal(t4_stat(c.s.stk, "IpReasmReqds"), 3);
	assert_int_equal(t4_stat(c.s.stk, "IpReasmOKs"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IpReasmFails"), 0);
	assert_int_equal(t4_stat(c.s.stk, "IpFragOKs"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IpFragCreates"), 3);
	assert_int_equal(ns__ipv4_reasm_mem(c.s.stk), 0);
	t4_fini(&c);
}

static void test_out_of_order_and_duplicate(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	uint8_t whole[BODY + 100], f[1600];
	big_echo(whole, 2);
	/* last first, a duplicate of it, a piece inside data we have, then the rest */
	t4_inject(&c, f, t4_frag(f, whole, 2000, 1008, false));
	t4_inject(&c, f, t4_frag(f, whole, 2000, 1008, false));
	t4_inject(&c, f, t4_frag(f, whole, 1000, 1000, true));
	t4_inject(&c, f, t4_frag(f, whole, 1200, 800, true));   /* inside 1000..2000: dup */
	assert_null(ns_test_capture(&c.s));
	t4_inject(&c, f, t4_frag(f, whole, 0, 1000, true));
	expect_reply(&c);
	assert_int_equal(t4_stat(c.s.stk, "IpReasmOKs"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IpExtReasmOverlaps"), 0);
	t4_fini(&c);
}

static void test_overlap_kills_datagram(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	uint8_t whole[BODY + 100], f[1600];
	big_echo(whole, 3);
	t4_inject(&c, f, t4_frag(f, whole, 0, 1000, true));
	t4_inject(&c, f, t4_frag(f, whole, 992, 1000, true));     /* overlaps by 8 */
	assert_int_equal(t4_stat(c.s.stk, "IpExtReasmOverlaps"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IpReasmFails"), 1);
	assert_int_equal(ns__ipv4_reasm_mem(c.s.stk), 0);
	/* the rest starts a new queue that never completes */
	t4_inject(&c, f, t4_frag(f, whole, 1992, 1016, false));
	assert_null(ns_test_capture(&c.s));
	/* a second last fragment with another end: inconsistent, killed */
	t4_inject(&c, f, t4_frag(f, whole, 1992, 1008, false));
	assert_int_equal(t4_stat(c.s.stk, "IpReasmFails"), 2);
	/* data past a known end: killed */
	t4_inject(&c, f, t4_frag(f, whole, 16, 16, false));
	t4_inject(&c, f, t4_frag(f, whole, 32, 16, true));
	assert_int_equal(t4_stat(c.s.stk, "IpReasmFails"), 3);
	assert_int_equal(ns__ipv4_reasm_mem(c.s.stk), 0);
	assert_int_equal(t4_stat(c.s.stk, "IpReasmOKs"), 0);
	t4_fini(&c);
}

static void test_ecn(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	uint8_t whole[BODY + 100], f[1600];
	/* ECT(0) + CE: the datagram is CE (seen in the echo request meta: the
	 * reply copies the request's TOS) */
	big_echo(whole, 20);
	size_t n = t4_frag(f, whole, 0, 1480, true);
	f[15] = 2;
	ns_test_fix_ipv4_csum(f);
	t4_inject(&c, f, n);
	n = t4_frag(f, whole, 1480, 1528, false);
	f[15] = 3;
	ns_test_fix_ipv4_csum(f);
	t4_inject(&c, f, n);
	assert_int_equal(t4_stat(c.s.stk, "IpReasmOKs"), 1);
	struct ns_test_parsed pp;
	struct ns_pkt *p = t4_take(&c, &pp);
	assert_non_null(p);
	assert_int_equal(pp.l3[1] & 3, 3);
	ns_pkt_unref(p);
	ns_test_capture_drop(&c.s);
	/* Not-ECT + ECT(0): dropped */
	big_echo(whole, 21);
	t4_inject(&c, f, t4_frag(f, whole, 0, 1480, true));
	n = t4_frag(f, whole, 1480, 1528, false);
	f[15] = 2;
	ns_test_fix_ipv4_csum(f);
	t4_inject(&c, f, n);
	assert_int_equal(t4_stat(c.s.stk, "IpReasmOKs"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IpReasmFails"), 1);
	assert_null(ns_test_capture(&c.s));
	t4_fini(&c);
}

static void test_oversize_killed(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	uint8_t whole[BODY + 100], f[1600];
	big_echo(whole, 4);
	size_t n = t4_frag(f, whole, 0, 1000, false);
	ns_store_be16(f + 20, (uint16_t)(65000 / 8));   /* offset 65000 + 1000 > 65535 */
	ns_test_fix_ipv4_csum(f);
	t4_inject(&c, f, n);
	assert_int_equal(t4_stat(c.s.stk, "IpReasmFails"), 1);
	assert_int_equal(ns__ipv4_reasm_mem(c.s.stk), 0);
	t4_fini(&c);
}

static void test_timeout_icmp(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	uint8_t whole[BODY + 100], f[1600];
	big_echo(whole, 5);
	/* datagram A: first fragment seen; datagram B: only a middle one */
	t4_inject(&c, f, t4_frag(f, whole, 0, 1480, true));
	big_echo(whole, 6);
	t4_inject(&c, f, t4_frag(f, whole, 1480, 1480, true));
	t4_advance(&c, 29 * NS_NSEC_PER_SEC);
	assert_null(ns_test_capture(&c.s));
	assert_int_equal(t4_stat(c.s.stk, "IpReasmTimeout"), 0);
	t4_advance(&c, 2 * NS_NSEC_PER_SEC);
	assert_int_equal(t4_stat(c.s.stk, "IpReasmTimeout"), 2);
	assert_int_equal(t4_stat(c.s.stk, "IpReasmFails"), 2);
	struct ns_test_parsed pp;
	struct ns_pkt *p = t4_take(&c, &pp);
	assert_non_null(p);
	assert_int_equal(pp.icmp_type, NS_ICMP_TIME_EXCEEDED);
	assert_int_equal(pp.icmp_code, NS_ICMP_EXC_FRAGTIME);
	assert_true(pp.l4_csum_ok);
	/* quotes the first fragment's header and its first 8+ bytes (id 5) */
	assert_int_equal(ns_load_be16(pp.payload + 4), 5);
	assert_int_equal(pp.payload[20], NS_ICMP_ECHO);
	ns_pkt_unref(p);
	assert_null(ns_test_capture(&c.s));     /* nothing for B */
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutTimeExcds"), 1);
	assert_int_equal(ns__ipv4_reasm_mem(c.s.stk), 0);
	t4_fini(&c);
}

static void test_memory_bound(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	uint8_t whole[BODY + 100], f[1600];
	uint16_t id = 100;
	/* incomplete datagrams until the 4 MiB bound is passed */
	while (ns__ipv4_reasm_mem(c.s.stk) <= NS_IPV4_REASM_HIGH) {
		big_echo(whole, id++);
		t4_inject(&c, f, t4_frag(f, whole, 0, 1480, true));
		assert_true(id < 10000);
	}
	assert_int_equal(t4_stat(c.s.stk, "IpReasmFails"), 0);
	uint64_t mem = ns__ipv4_reasm_mem(c.s.stk);
	assert_true(mem < NS_IPV4_REASM_HIGH + 4096);
	/* now every new fragment is refused and counted */
	big_echo(whole, id++);
	t4_inject(&c, f, t4_frag(f, whole, 0, 1480, true));
	assert_int_equal(t4_stat(c.s.stk, "IpReasmFails"), 1);
	assert_int_equal(ns__ipv4_reasm_mem(c.s.stk), mem);
	/* the timeout frees everything (ICMP errors go through ARP and fail) */
	t4_advance(&c, 31 * NS_NSEC_PER_SEC);
	assert_int_equal(ns__ipv4_reasm_mem(c.s.stk), 0);
	assert_int_equal(t4_stat(c.s.stk, "IpReasmTimeout"), (uint64_t)(id - 101));
	t4_advance(&c, 5 * NS_NSEC_PER_SEC);
	t4_fini(&c);
}

static void test_too_many_fragments(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	static uint8_t whole[20000], body[17000];
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	ns_test_build_icmp(whole, &h, NS_ICMP_ECHO, 0, 1, body, sizeof(body));
	uint8_t f[100];
	/* 8-byte pieces from the end backwards (the slowest order for a sorted list) */
	for (uint32_t i = 0; i < NS_IPV4_REASM_MAXFRAGS; i++) {
		uint32_t off = (NS_IPV4_REASM_MAXFRAGS - i) * 8;
		assert_int_equal(ns_test_inject(&c.s, f, t4_frag(f, whole, off, 8, true)), 0);
		if (i % 256 == 0)
			t4_settle(&c);
	}
	t4_settle(&c);
	assert_int_equal(t4_stat(c.s.stk, "IpReasmFails"), 0);
	t4_inject(&c, f, t4_frag(f, whole, 0, 8, true));
	assert_int_equal(t4_stat(c.s.stk, "IpReasmFails"), 1);
	assert_int_equal(ns__ipv4_reasm_mem(c.s.stk), 0);
	t4_fini(&c);
}

/* ---- output fragmentation ---------------------------------------------------------- */

static int send_udp(struct t4_cap *c, size_t len, uint8_t pmtudisc)
{
	struct ns_pkt *p = ns_pkt_alloc(ns_stack_pool(c->s.stk), NS_PKT_TX_HEADROOM, len);
	assert_non_null(p);
	uint8_t *u = ns_pkt_data(p);
	for (size_t i = 0; i < len; i++)
		u[i] = (uint8_t)i;
	ns_store_be16(u, 1000);
	ns_store_be16(u + 2, 2000);
	ns_store_be16(u + 4, (uint16_t)len);
	ns_store_be16(u + 6, 0);
	struct ns_ip_tx tx = { .proto = NS_IPPROTO_UDP, .ttl = -1, .pmtudisc = pmtudisc };
	ns_addr_from_u32(&tx.dst, T4_PEER);
	return ns__ip_output(c->s.stk, p, &tx);
}

static void test_fragment_sizes(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	/* fits: DF set (PMTUDISC_WANT), one frame */
	assert_int_equal(send_udp(&c, 1480, NS_IP_PMTUDISC_WANT), 0);
	struct ns_test_parsed pp;
	struct ns_pkt *p = t4_take(&c, &pp);
	assert_non_null(p);
	assert_int_equal(pp.frag, NS_IP_DF);
	assert_int_equal(ns_pkt_len(p), 14 + 1500);
	ns_pkt_unref(p);
	/* too big with DO/PROBE: EMSGSIZE, counted */
	assert_int_equal(send_udp(&c, 1481, NS_IP_PMTUDISC_DO), -NS_EMSGSIZE);
	assert_int_equal(send_udp(&c, 1481, NS_IP_PMTUDISC_PROBE), -NS_EMSGSIZE);
	assert_int_equal(t4_stat(c.s.stk, "IpFragFails"), 2);
	assert_null(ns_test_capture(&c.s));
	/* too big with WANT: fragmented without DF: 1480 + 1480 + 40 */
	assert_int_equal(send_udp(&c, 3000, NS_IP_PMTUDISC_WANT), 0);
	uint32_t expect_off[] = { 0, 1480, 2960 }, expect_len[] = { 1480, 1480, 40 };
	uint16_t id = 0;
	for (int i = 0; i < 3; i++) {
		p = t4_take(&c, &pp);
		assert_non_null(p);
		assert_true(pp.ip_csum_ok);
		if (i == 0)
			id = pp.ip_id;
		assert_int_equal(pp.ip_id, id);
		assert_int_equal((pp.frag & NS_IP_OFFMASK) * 8, expect_off[i]);
		assert_int_equal(!!(pp.frag & NS_IP_MF), i < 2);
		assert_int_equal(pp.frag & NS_IP_DF, 0);
		assert_int_equal(ns_load_be16(pp.l3 + 2) - 20, expect_len[i]);
		for (uint32_t k = 8; k < expect_len[i]; k++)
			if (pp.l3[20 + k] != (uint8_t)(expect_off[i] + k))
				fail_msg("fragment %d byte %u", i, k);
		ns_pkt_unref(p);
	}
	assert_null(ns_test_capture(&c.s));
	/* a learned path MTU of 1000: 976-byte pieces */
	struct ns_addr peer = ns_test_addr("198.18.0.2");
	ns__ip_path_mtu_update(c.s.stk, &peer, 1000);
	assert_int_equal(ns__ip_path_mtu(c.s.stk, &peer, 0), 1000);
	assert_int_equal(send_udp(&c, 2000, NS_IP_PMTUDISC_DONT), 0);
	for (int i = 0; i < 3; i++) {
		p = t4_take(&c, &pp);
		assert_non_null(p);
		assert_int_equal((pp.frag & NS_IP_OFFMASK) * 8, (uint32_t)i * 976);
		assert_true(ns_pkt_len(p) <= 14 + 1000);
		ns_pkt_unref(p);
	}
	assert_null(ns_test_capture(&c.s));
	assert_int_equal(t4_stat(c.s.stk, "IpFragOKs"), 2);
	assert_int_equal(t4_stat(c.s.stk, "IpFragCreates"), 6);
	/* PROBE ignores the path MTU, DO does not */
	assert_int_equal(send_udp(&c, 1400, NS_IP_PMTUDISC_PROBE), 0);
	assert_int_equal(send_udp(&c, 1400, NS_IP_PMTUDISC_DO), -NS_EMSGSIZE);
	ns_test_capture_drop(&c.s);
	/* an oversize datagram is refused */
	assert_int_equal(send_udp(&c, 65516, NS_IP_PMTUDISC_DONT), -NS_EMSGSIZE);
	t4_fini(&c);
}

static void test_fragment_partial_csum(void **state)
{
	(void)state;
	/* a UDP datagram with a partial checksum is completed before it is cut */
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	uint32_t len = 3000;
	struct ns_pkt *p = ns_pkt_alloc(ns_stack_pool(c.s.stk), NS_PKT_TX_HEADROOM, len);
	uint8_t *u = ns_pkt_data(p);
	for (uint32_t i = 0; i < len; i++)
		u[i] = (uint8_t)(i * 3);
	ns_store_be16(u, 1000);
	ns_store_be16(u + 2, 2000);
	ns_store_be16(u + 4, (uint16_t)len);
	struct ns_addr src = ns_test_addr("198.18.0.1"), dst = ns_test_addr("198.18.0.2");
	ns_store_be16(u + 6, (uint16_t)~ns_csum_fold(ns_csum_pseudo(&src, &dst, NS_IPPROTO_UDP, len)));
	p->csum = NS_CSUM_PARTIAL;
	p->csum_off = 6;
	p->csum_start = 1234;           /* not trusted */
	struct ns_ip_tx tx = { .proto = NS_IPPROTO_UDP, .ttl = -1, .pmtudisc = NS_IP_PMTUDISC_WANT };
	tx.dst = dst;
	assert_int_equal(ns__ip_output(c.s.stk, p, &tx), 0);
	static uint8_t whole[4000];
	uint32_t total = 0;
	struct ns_test_parsed pp;
	while ((p = t4_take(&c, &pp))) {
		uint32_t off = (uint32_t)(pp.frag & NS_IP_OFFMASK) * 8;
		uint32_t fl = ns_load_be16(pp.l3 + 2) - 20;
		memcpy(whole + off, pp.l3 + 20, fl);
		total += fl;
		ns_pkt_unref(p);
	}
	assert_int_equal(total, len);
	uint32_t sum = ns_csum_partial(whole, len, ns_csum_pseudo(&src, &dst, NS_IPPROTO_UDP, len));
	assert_int_equal(ns_csum_fold(sum), 0);
	t4_fini(&c);
}

static void test_tcp_too_big_not_fragmented(void **state)
{
	(void)state;
	/* a TCP segment over the path MTU: EMSGSIZE and a local frag-needed
	 * (Linux ip_fragment), never fragments on the wire */
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	struct ns_pkt *p = ns_pkt_alloc(ns_stack_pool(c.s.stk), NS_PKT_TX_HEADROOM, 1600);
	memset(ns_pkt_data(p), 0, 1600);
	ns_pkt_data(p)[12] = 0x50;
	struct ns_ip_tx tx = { .proto = NS_IPPROTO_TCP, .ttl = -1, .pmtudisc = NS_IP_PMTUDISC_WANT };
	tx.dst = ns_test_addr("198.18.0.2");
	assert_int_equal(ns__ip_output(c.s.stk, p, &tx), -NS_EMSGSIZE);
	t4_settle(&c);
	assert_null(ns_test_capture(&c.s));
	assert_int_equal(t4_stat(c.s.stk, "IpFragFails"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IpFragOKs"), 0);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutDestUnreachs"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInDestUnreachs"), 1);
	/* with PMTUDISC_DONT it is fragmented */
	p = ns_pkt_alloc(ns_stack_pool(c.s.stk), NS_PKT_TX_HEADROOM, 1600);
	memset(ns_pkt_data(p), 0, 1600);
	tx.pmtudisc = NS_IP_PMTUDISC_DONT;
	assert_int_equal(ns__ip_output(c.s.stk, p, &tx), 0);
	assert_int_equal(ns_test_capture_drop(&c.s), 2);
	t4_fini(&c);
}

static bool got_reply(void *ctx)
{
	uint64_t v = 0;
	ns_stat_get(ctx, "IcmpInEchoReps", &v);
	return v >= 1;
}

static void test_pair_big_ping(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, &(struct ns_test_pair_opts){ .mtu = 1280 }), 0);
	static uint8_t body[20000];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 13);
	assert_int_equal(ns__icmp4_xmit(p.a.stk, 0, 0xc6120002u, NS_ICMP_ECHO, 0, 1, body,
					sizeof(body), 0), 0);
	assert_true(ns_test_pump(&p, got_reply, p.a.stk, 5 * NS_NSEC_PER_SEC));
	uint64_t creates = t4_stat(p.a.stk, "IpFragCreates");
	assert_int_equal(creates, (20008 + 1255) / 1256);
	assert_int_equal(t4_stat(p.b.stk, "IpReasmOKs"), 1);
	assert_int_equal(t4_stat(p.a.stk, "IpReasmOKs"), 1);
	ns_test_settle(&p);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

static void test_pair_impaired_ping(void **state)
{
	(void)state;
	/* reordered and duplicated fragments still reassemble */
	struct ns_test_pair_opts o = { .impair = true,
				       .imp = { .reorder_ppm = 300000, .dup_ppm = 200000,
						.delay_ns = NS_NSEC_PER_MSEC,
						.jitter_ns = 5 * NS_NSEC_PER_MSEC } };
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, &o), 0);
	static uint8_t body[8000];
	memset(body, 0x5a, sizeof(body));
	for (int i = 0; i < 5; i++)
		assert_int_equal(ns__icmp4_xmit(p.a.stk, 0, 0xc6120002u, NS_ICMP_ECHO, 0,
						(uint32_t)i, body, sizeof(body), 0), 0);
	ns_test_pump(&p, NULL, NULL, 3 * NS_NSEC_PER_SEC);
	assert_true(t4_stat(p.a.stk, "IcmpInEchoReps") >= 5);
	assert_int_equal(t4_stat(p.a.stk, "IpExtReasmOverlaps"), 0);
	ns_test_pump(&p, NULL, NULL, 40 * NS_NSEC_PER_SEC);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_out_of_order_and_duplicate),
		cmocka_unit_test(test_overlap_kills_datagram),
		cmocka_unit_test(test_oversize_killed),
		cmocka_unit_test(test_ecn),
		cmocka_unit_test(test_timeout_icmp),
		cmocka_unit_test(test_memory_bound),
		cmocka_unit_test(test_too_many_fragments),
		cmocka_unit_test(test_fragment_sizes),
		cmocka_unit_test(test_fragment_partial_csum),
		cmocka_unit_test(test_tcp_too_big_not_fragmented),
		cmocka_unit_test(test_pair_big_ping),
		cmocka_unit_test(test_pair_impaired_ping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
