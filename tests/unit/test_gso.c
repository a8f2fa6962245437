/*
 * tests/unit/test_gso.c - software GSO and checksum completion
 * (netstack/gso.c): segment sizes, IP lengths/IDs/header checksums, TCP
 * sequence numbers and flags, L4 checksums verified by recomputation,
 * partial-checksum completion, what ns__tx_fixup does per link capability,
 * malformed input, and zero live packets at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "netstack/gso.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

static const uint8_t v4src[4] = { 198, 18, 0, 1 }, v4dst[4] = { 198, 18, 0, 2 };
static const uint8_t v6src[16] = { 0xfd, 0, 0x5e, 0xed, [15] = 1 };
static const uint8_t v6dst[16] = { 0xfd, 0, 0x5e, 0xed, [15] = 2 };

static uint8_t payload_byte(uint32_t i) { return (uint8_t)(i * 131 + (i >> 8) + 7); }

/*
 * Builds an outgoing Ethernet frame (as it reaches ns__nic_write) carrying
 * a TCP or UDP packet with plen payload bytes.  topt: TCP option bytes
 * (multiple of 4).  partial: checksum left partial (pseudo-header sum).
 */
static struct ns_pkt *build(struct ns_pool *pool, int family, uint8_t proto, uint32_t plen,
			    uint32_t topt, uint8_t flags, bool partial)
{
	uint32_t l3 = 14, iphl = family == 4 ? 20 : 40, l4 = l3 + iphl;
	uint32_t thl = proto == 6 ? 20 + topt : 8;
	uint32_t len = l4 + thl + plen;
	struct ns_pkt *p = ns_pkt_alloc(pool, NS_PKT_HEADROOM, len);
	assert_non_null(p);
	uint8_t *f = ns_pkt_data(p);
	memset(f, 0, len);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	ns_store_be16(f + 12, family == 4 ? NS_ETHERTYPE_IPV4 : NS_ETHERTYPE_IPV6);
	uint8_t *ip = f + l3;
	struct ns_addr s, d;
	if (family == 4) {
		ip[0] = 0x45;
		ns_store_be16(ip + 2, (uint16_t)(len - l3));
		ns_store_be16(ip + 4, 0xfff0);          /* IDs wrap during the test */
		ns_store_be16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, v4src, 4);
		memcpy(ip + 16, v4dst, 4);
		ns_store_be16(ip + 10, ns_csum_fold(ns_csum_partial(ip, 20, 0)));
		ns_addr_v4(&s, v4src);
		ns_addr_v4(&d, v4dst);
	} else {
		ip[0] = 0x60;
		ns_store_be16(ip + 4, (uint16_t)(len - l4));
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, v6src, 16);
		memcpy(ip + 24, v6dst, 16);
		memset(&s, 0, sizeof(s));
		memset(&d, 0, sizeof(d));
		s.family = d.family = NS_AF_INET6;
		memcpy(s.b, v6src, 16);
		memcpy(d.b, v6dst, 16);
	}
	uint8_t *th = f + l4;
	ns_store_be16(th, 40000);
	ns_store_be16(th + 2, 80);
	if (proto == 6) {
		ns_store_be32(th + 4, 0xfffff000u);     /* sequence numbers wrap too */
		ns_store_be32(th + 8, 12345);
		th[12] = (uint8_t)((thl / 4) << 4);
		th[13] = flags;
		ns_store_be16(th + 14, 65535);
		for (uint32_t i = 0; i < topt; i++)
			th[20 + i] = 1;                  /* NOPs */
	} else {
		ns_store_be16(th + 4, (uint16_t)(thl + plen));
	}
	for (uint32_t i = 0; i < plen; i++)
		th[thl + i] = payload_byte(i);
	uint16_t co = proto == 6 ? 16 : 6;
	uint32_t ps = ns_csum_pseudo(&s, &d, proto, thl + plen);
	if (partial) {
		ns_store_be16(th + co, (uint16_t)~ns_csum_fold(ps));
		p->csum = NS_CSUM_PARTIAL;
	} else {
		uint16_t c = ns_csum_fold(ns_csum_partial(th, thl + plen, ps));
		ns_store_be16(th + co, proto == 17 && c == 0 ? 0xffff : c);
	}
	p->l2 = p->data;
	p->l3 = p->data + l3;
	p->l4 = p->data + l4;
	return p;
}

/* Verifies the IP header and the complete L4 checksum of one frame. */
static void check_frame(const struct ns_pkt *p, int family, uint8_t proto)
{
	const uint8_t *f = ns_pkt_data(p);
	uint32_t len = ns_pkt_len(p);
	struct ns_frame_info fi;
	assert_int_equal(ns__frame_parse(f, len, &fi), 0);
	assert_int_equal(fi.proto, proto);
	struct ns_addr s, d;
	memset(&s, 0, sizeof(s));
	memset(&d, 0, sizeof(d));
	if (family == 4) {
		assert_int_equal(ns_load_be16(f + fi.l3 + 2), len - fi.l3);
		assert_int_equal(ns_csum_fold(ns_csum_partial(f + fi.l3, 20, 0)), 0);
		ns_addr_v4(&s, f + fi.l3 + 12);
		ns_addr_v4(&d, f + fi.l3 + 16);
	} else {
		assert_int_equal(ns_load_be16(f + fi.l3 + 4), len - fi.l3 - 40);
		s.family = d.family = NS_AF_INET6;
		memcpy(s.b, f + fi.l3 + 8, 16);
		memcpy(d.b, f + fi.l3 + 24, 16);
	}
	uint32_t l4len = len - fi.l4;
	uint32_t sum = ns_csum_partial(f + fi.l4, l4len, ns_csum_pseudo(&s, &d, proto, l4len));
	assert_int_equal(ns_csum_fold(sum), 0);
	assert_int_equal(p->csum, NS_CSUM_NONE);
}

static void segment_and_check(int family, uint32_t plen, uint32_t mss, uint32_t topt, bool partial)
{
	struct ns_pool pool = { .limit = 64 << 20 };
	uint8_t flags = TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR;
	struct ns_pkt *p = build(&pool, family, 6, plen, topt, flags, partial);
	p->gso_type = family == 4 ? NS_GSO_TCPV4 : NS_GSO_TCPV6;
	p->gso_size = (uint16_t)mss;
	int err = -1;
	struct ns_pkt *segs = ns__tx_fixup(p, 0, &err);
	assert_int_equal(err, 0);
	assert_non_null(segs);
	uint32_t want = (plen + mss - 1) / mss, n = 0, off = 0;
	uint32_t hl = 14 + (family == 4 ? 20u : 40u) + 20 + topt;
	for (struct ns_pkt *s = segs; s; s = s->next, n++) {
		const uint8_t *f = ns_pkt_data(s);
		bool last = s->next == NULL;
		uint32_t seglen = last ? plen - off : mss;
		assert_int_equal(ns_pkt_len(s), hl + seglen);
		check_frame(s, family, 6);
		const uint8_t *th = f + hl - 20 - topt;
		assert_int_equal(ns_load_be32(th + 4), (uint32_t)(0xfffff000u + off));
		assert_int_equal(ns_load_be32(th + 8), 12345);
		uint8_t fl = th[13];
		assert_true(fl & TCP_ACK);
		assert_int_equal(!!(fl & TCP_FIN), last);
		assert_int_equal(!!(fl & TCP_PSH), last);
		assert_int_equal(!!(fl & TCP_CWR), n == 0);
		if (family == 4)
			assert_int_equal(ns_load_be16(f + 14 + 4), (uint16_t)(0xfff0 + n));
		for (uint32_t i = 0; i < topt; i++)
			assert_int_equal(th[20 + i], 1);
		for (uint32_t i = 0; i < seglen; i++)
			if (f[hl + i] != payload_byte(off + i))
				fail_msg("payload byte %u of segment %u differs", i, n);
		off += seglen;
	}
	assert_int_equal(n, want);
	assert_int_equal(off, plen);
	ns_pkt_unref_chain(segs);
	assert_int_equal(atomic_load(&pool.live), 0);
	assert_int_equal(atomic_load(&pool.used), 0);
}

static void test_tcp4_segments(void **state)
{
	(void)state;
	segment_and_check(4, 10000, 1448, 12, false);     /* 7 segments, last short */
	segment_and_check(4, 65000, 1460, 0, true);       /* partial checksum in */
	segment_and_check(4, 1448 * 4, 1448, 12, true);   /* exact multiple */
	segment_and_check(4, 1000, 536, 0, false);        /* 2 segments */
}

static void test_tcp6_segments(void **state)
{
	(void)state;
	segment_and_check(6, 10000, 1428, 12, true);
	segment_and_check(6, 60000, 1440, 0, false);
	segment_and_check(6, 3, 1, 0, true);              /* one byte per segment */
}

static void test_udp_gso(void **state)
{
	(void)state;
	struct ns_pool pool = { .limit = 8 << 20 };
	struct ns_pkt *p = build(&pool, 4, 17, 3000, 0, 0, true);
	p->gso_type = NS_GSO_UDP;
	p->gso_size = 1200;
	int err;
	struct ns_pkt *segs = ns__tx_fixup(p, NS_LINK_CAP_TSO4 | NS_LINK_CAP_TSO6, &err);
	assert_non_null(segs);
	int n = 0;
	uint32_t off = 0;
	for (struct ns_pkt *s = segs; s; s = s->next, n++) {
		check_frame(s, 4, 17);
		const uint8_t *u = ns_pkt_data(s) + 34;
		uint32_t seglen = ns_load_be16(u + 4) - 8u;
		assert_int_equal(seglen, s->next ? 1200u : 600u);
		for (uint32_t i = 0; i < seglen; i++)
			assert_int_equal(u[8 + i], payload_byte(off + i));
		off += seglen;
	}
	assert_int_equal(n, 3);
	ns_pkt_unref_chain(segs);
	assert_int_equal(atomic_load(&pool.live), 0);
}

/* A link with TX_CSUM but no TSO gets segments with partial checksums that
 * complete to the right value. */
static void test_segments_partial_for_csum_link(void **state)
{
	(void)state;
	struct ns_pool pool = { .limit = 8 << 20 };
	struct ns_pkt *p = build(&pool, 6, 6, 5000, 0, TCP_ACK, true);
	p->gso_type = NS_GSO_TCPV6;
	p->gso_size = 1400;
	int err;
	struct ns_pkt *segs = ns__tx_fixup(p, NS_LINK_CAP_TX_CSUM, &err);
	assert_non_null(segs);
	int n = 0;
	while (segs) {
		struct ns_pkt *s = segs;
		segs = s->next;
		s->next = NULL;
		assert_int_equal(s->csum, NS_CSUM_PARTIAL);
		assert_int_equal(s->csum_start, 14 + 40);
		assert_int_equal(s->csum_off, 16);
		assert_int_equal(ns__csum_complete(s), 0);
		check_frame(s, 6, 6);
		ns_pkt_unref(s);
		n++;
	}
	assert_int_equal(n, 4);
	assert_int_equal(atomic_load(&pool.live), 0);
}

/* Links with TSO get the frame whole, with csum_start normalised; links
 * with checksum offload get partial frames untouched; others get the
 * checksum completed. */
static void test_fixup_by_caps(void **state)
{
	(void)state;
	struct ns_pool pool = { .limit = 8 << 20 };
	int err;
	struct ns_pkt *p = build(&pool, 4, 6, 20000, 0, TCP_ACK, false);
	p->gso_type = NS_GSO_TCPV4;
	p->gso_size = 1460;
	p = ns__tx_fixup(p, NS_LINK_CAP_TX_CSUM | NS_LINK_CAP_TSO4, &err);
	assert_non_null(p);
	assert_null(p->next);
	assert_int_equal(p->gso_type, NS_GSO_TCPV4);
	assert_int_equal(p->csum, NS_CSUM_PARTIAL);     /* converted for the device */
	assert_int_equal(p->csum_start, 34);
	assert_int_equal(p->csum_off, 16);
	assert_int_equal(ns__csum_complete(p), 0);
	check_frame(p, 4, 6);
	ns_pkt_unref(p);

	p = build(&pool, 4, 17, 100, 0, 0, true);
	p = ns__tx_fixup(p, NS_LINK_CAP_TX_CSUM, &err);
	assert_int_equal(p->csum, NS_CSUM_PARTIAL);
	assert_int_equal(p->csum_start, 34);
	assert_int_equal(p->csum_off, 6);
	ns_pkt_unref(p);

	p = build(&pool, 6, 17, 100, 0, 0, true);
	p = ns__tx_fixup(p, 0, &err);
	check_frame(p, 6, 17);
	ns_pkt_unref(p);

	/* a GSO frame that fits in one segment is sent as it is */
	p = build(&pool, 4, 6, 1000, 0, TCP_ACK | TCP_FIN, true);
	p->gso_type = NS_GSO_TCPV4;
	p->gso_size = 1460;
	p = ns__tx_fixup(p, 0, &err);
	assert_null(p->next);
	assert_int_equal(p->gso_type, NS_GSO_NONE);
	check_frame(p, 4, 6);
	assert_true(ns_pkt_data(p)[34 + 13] & TCP_FIN);
	ns_pkt_unref(p);
	assert_int_equal(atomic_load(&pool.live), 0);
}

static void test_malformed_dropped(void **state)
{
	(void)state;
	struct ns_pool pool = { .limit = 8 << 20 };
	int err = 0;
	/* GSO frame that is not TCP */
	struct ns_pkt *p = build(&pool, 4, 17, 5000, 0, 0, true);
	p->gso_type = NS_GSO_TCPV4;
	p->gso_size = 1000;
	assert_null(ns__tx_fixup(p, 0, &err));
	assert_int_equal(err, -NS_EINVAL);
	/* truncated IP header */
	p = build(&pool, 4, 6, 5000, 0, TCP_ACK, true);
	p->gso_type = NS_GSO_TCPV4;
	p->gso_size = 1000;
	ns_pkt_trim(p, 20);
	assert_null(ns__tx_fixup(p, 0, &err));
	assert_int_equal(err, -NS_EINVAL);
	/* TCP data offset beyond the frame */
	p = build(&pool, 6, 6, 10, 0, TCP_ACK, true);
	ns_pkt_data(p)[54 + 12] = 0xf0;
	p->gso_type = NS_GSO_TCPV6;
	p->gso_size = 4;
	assert_null(ns__tx_fixup(p, 0, &err));
	/* family mismatch */
	p = build(&pool, 6, 6, 5000, 0, TCP_ACK, true);
	p->gso_type = NS_GSO_TCPV4;
	p->gso_size = 1000;
	assert_null(ns__tx_fixup(p, 0, &err));
	/* pool exhausted half way: nothing leaks */
	struct ns_pool small = { .limit = 40000 };
	p = build(&small, 4, 6, 30000, 0, TCP_ACK, true);
	p->gso_type = NS_GSO_TCPV4;
	p->gso_size = 1000;
	assert_null(ns__tx_fixup(p, 0, &err));
	assert_int_equal(err, -NS_ENOBUFS);
	assert_int_equal(atomic_load(&small.live), 0);
	assert_int_equal(atomic_load(&pool.live), 0);
}

/* Shared packets are copied, never modified under another holder. */
static void test_shared_not_modified(void **state)
{
	(void)state;
	struct ns_pool pool = { .limit = 8 << 20 };
	struct ns_pkt *p = build(&pool, 4, 6, 100, 0, TCP_ACK, true);
	uint8_t before[200];
	memcpy(before, ns_pkt_data(p), ns_pkt_len(p));
	ns_pkt_ref(p);
	int err;
	struct ns_pkt *q = ns__tx_fixup(p, 0, &err);
	assert_ptr_not_equal(q, p);
	assert_memory_equal(ns_pkt_data(p), before, ns_pkt_len(p));
	check_frame(q, 4, 6);
	ns_pkt_unref(q);
	ns_pkt_unref(p);
	assert_int_equal(atomic_load(&pool.live), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4_segments),
		cmocka_unit_test(test_tcp6_segments),
		cmocka_unit_test(test_udp_gso),
		cmocka_unit_test(test_segments_partial_for_csum_link),
		cmocka_unit_test(test_fixup_by_caps),
		cmocka_unit_test(test_malformed_dropped),
		cmocka_unit_test(test_shared_not_modified),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
