/*
 * tests/unit/test_arp.c - the ARP cache: replies and learning (RFC 826 as
 * Linux applies it), gratuitous ARP on address add, resolution with 3
 * requests 1 s apart then failure (queued packets dropped, host
 * unreachable to the local sender), the queue bound, the state machine
 * REACHABLE -> STALE -> DELAY -> PROBE -> gone, malformed frames.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "helpers/ns_test_ipv4.h"

static const uint8_t other_mac[6] = { 0x02, 0x00, 0x5e, 0xed, 0x00, 0x77 };

static int state_of(struct t4_cap *c, uint32_t ip, uint8_t *mac, int *qlen)
{
	return ns__arp_entry_state(t4_nic(c), ip, mac, qlen);
}

static void ping(struct t4_cap *c, uint32_t dst, size_t len)
{
	static uint8_t body[2000];
	assert_int_equal(ns__icmp4_xmit(c->s.stk, 0, dst, NS_ICMP_ECHO, 0, 1, body, len, 0), 0);
}

/* Takes one captured frame, asserts it is an ARP request for tip to eth_dst. */
static void expect_request(struct t4_cap *c, uint32_t tip, const uint8_t *eth_dst)
{
	struct ns_pkt *p = ns_test_capture(&c->s);
	assert_non_null(p);
	const uint8_t *d = ns_pkt_data(p);
	assert_int_equal(ns_load_be16(d + 12), NS_ETHERTYPE_ARP);
	assert_memory_equal(d, eth_dst, 6);
	assert_int_equal(ns_load_be16(d + 14 + 6), NS_ARPOP_REQUEST);
	assert_memory_equal(d + 14 + 8, t4_mac_a, 6);
	assert_int_equal(ns_load_be32(d + 14 + 14), T4_US);
	assert_int_equal(ns_load_be32(d + 14 + 24), tip);
	ns_pkt_unref(p);
}

static void test_gratuitous_on_add(void **state)
{
	(void)state;
	struct t4_cap c;
	memset(&c, 0, sizeof(c));
	c.vc.now = NS_TEST_T0;
	struct ns_test_stack_opts o = { .seed = 3 };
	assert_int_equal(ns_test_stack_init(&c.s, &c.vc, &o), 0);
	struct ns_addr a = ns_test_addr("198.18.0.1");
	assert_int_equal(ns_nic_addr_add(c.s.stk, c.s.nic, &a, 24), 0);
	struct ns_pkt *p = ns_test_capture(&c.s);
	assert_non_null(p);
	const uint8_t *d = ns_pkt_data(p);
	assert_memory_equal(d, t4_bcast, 6);
	assert_int_equal(ns_load_be16(d + 12), NS_ETHERTYPE_ARP);
	static const uint8_t zero[6];
	assert_int_equal(ns_load_be16(d + 14 + 6), NS_ARPOP_REQUEST);
	assert_int_equal(ns_load_be32(d + 14 + 14), T4_US);
	assert_int_equal(ns_load_be32(d + 14 + 24), T4_US);
	assert_memory_equal(d + 14 + 18, zero, 6);
	ns_pkt_unref(p);
	assert_int_equal(t4_stat(c.s.stk, "ArpOutGratuitous"), 1);
	t4_fini(&c);
}

static void test_reply_and_learning(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	uint8_t f[64];
	/* a request for someone else from an unknown host: no entry (arp_accept 0) */
	size_t n = t4_arp_frame(f, NS_ARPOP_REQUEST, t4_bcast, t4_mac_peer, T4_PEER, NULL,
				0xc6120009u);
	t4_inject(&c, f, n);
	assert_null(ns_test_capture(&c.s));
	assert_int_equal(state_of(&c, T4_PEER, NULL, NULL), -1);
	/* a request for us: reply + STALE entry */
	t4_peer_known(&c);
	uint8_t mac[6];
	assert_int_equal(state_of(&c, T4_PEER, mac, NULL), NS_ARP_STALE);
	assert_memory_equal(mac, t4_mac_peer, 6);
	/* another MAC within a second of the last update is ignored (locktime) */
	n = t4_arp_frame(f, NS_ARPOP_REQUEST, t4_bcast, other_mac, T4_PEER, NULL, 0xc6120009u);
	t4_inject(&c, f, n);
	assert_int_equal(state_of(&c, T4_PEER, mac, NULL), NS_ARP_STALE);
	assert_memory_equal(mac, t4_mac_peer, 6);
	/* later, a broadcast request for someone else updates the known host's MAC */
	c.vc.now += NS_NSEC_PER_SEC;
	t4_inject(&c, f, n);
	assert_int_equal(state_of(&c, T4_PEER, mac, NULL), NS_ARP_STALE);
	assert_memory_equal(mac, other_mac, 6);
	/* an unsolicited unicast reply (after the locktime) confirms it */
	c.vc.now += NS_NSEC_PER_SEC;
	n = t4_arp_frame(f, NS_ARPOP_REPLY, t4_mac_a, t4_mac_peer, T4_PEER, t4_mac_a, T4_US);
	t4_inject(&c, f, n);
	assert_int_equal(state_of(&c, T4_PEER, mac, NULL), NS_ARP_REACHABLE);
	assert_memory_equal(mac, t4_mac_peer, 6);
	/* an address probe (sender 0.0.0.0) for our address is answered, nothing learned */
	n = t4_arp_frame(f, NS_ARPOP_REQUEST, t4_bcast, other_mac, 0, NULL, T4_US);
	t4_inject(&c, f, n);
	struct ns_pkt *p = ns_test_capture(&c.s);
	assert_non_null(p);
	assert_memory_equal(ns_pkt_data(p), other_mac, 6);
	ns_pkt_unref(p);
	assert_int_equal(state_of(&c, 0, NULL, NULL), -1);
	assert_int_equal(t4_stat(c.s.stk, "ArpInRequests"), 5);
	assert_int_equal(t4_stat(c.s.stk, "ArpInReplies"), 1);
	assert_int_equal(t4_stat(c.s.stk, "ArpOutReplies"), 2);
	t4_fini(&c);
}

static void test_malformed(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	uint8_t f[64];
	size_t n = t4_arp_frame(f, NS_ARPOP_REQUEST, t4_bcast, t4_mac_peer, T4_PEER, NULL, T4_US);
	uint8_t g[64];
	memcpy(g, f, n);
	g[14 + 4] = 8;                  /* hlen */
	t4_inject(&c, g, n);
	memcpy(g, f, n);
	g[14 + 3] = 0xdd;               /* ptype */
	t4_inject(&c, g, n);
	t4_inject(&c, f, 14 + 27);      /* short */
	memcpy(g, f, n);
	g[14 + 7] = 9;                  /* op */
	t4_inject(&c, g, n);
	memcpy(g, f, n);
	ns_store_be32(g + 14 + 14, 0xe0000001u);   /* multicast sender */
	t4_inject(&c, g, n);
	memcpy(g, f, n);
	g[14 + 8] |= 1;                 /* multicast sender MAC */
	t4_inject(&c, g, n);
	assert_null(ns_test_capture(&c.s));
	assert_int_equal(t4_stat(c.s.stk, "ArpInErrors"), 6);
	assert_int_equal(state_of(&c, T4_PEER, NULL, NULL), -1);
	t4_fini(&c);
}

static void test_resolution_failure(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	ping(&c, 0xc6120009u, 100);
	ping(&c, 0xc6120009u, 100);
	expect_request(&c, 0xc6120009u, t4_bcast);
	assert_null(ns_test_capture(&c.s));
	int q = 0;
	assert_int_equal(state_of(&c, 0xc6120009u, NULL, &q), NS_ARP_INCOMPLETE);
	assert_int_equal(q, 2);
	t4_advance(&c, NS_NSEC_PER_SEC);
	expect_request(&c, 0xc6120009u, t4_bcast);
	t4_advance(&c, NS_NSEC_PER_SEC);
	expect_request(&c, 0xc6120009u, t4_bcast);
	assert_int_equal(t4_stat(c.s.stk, "ArpResolveFailed"), 0);
	t4_advance(&c, NS_NSEC_PER_SEC);
	assert_null(ns_test_capture(&c.s));
	assert_int_equal(t4_stat(c.s.stk, "ArpOutRequests"), 3);
	assert_int_equal(t4_stat(c.s.stk, "ArpResolveFailed"), 1);
	assert_int_equal(state_of(&c, 0xc6120009u, NULL, NULL), -1);
	/* both queued datagrams: host unreachable to ourselves, looped back */
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutDestUnreachs"), 2);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInDestUnreachs"), 2);
	/* a new packet starts over */
	ping(&c, 0xc6120009u, 100);
	expect_request(&c, 0xc6120009u, t4_bcast);
	t4_advance(&c, 4 * NS_NSEC_PER_SEC);
	ns_test_capture_drop(&c.s);
	t4_fini(&c);
}

static void test_queue_bound(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	for (int i = 0; i < 200; i++)
		ping(&c, T4_PEER, 1400);
	expect_request(&c, T4_PEER, t4_bcast);
	int q = 0;
	assert_int_equal(state_of(&c, T4_PEER, NULL, &q), NS_ARP_INCOMPLETE);
	assert_true(q > 3 && q < 200);
	assert_int_equal(t4_stat(c.s.stk, "ArpQueueDrops"), (uint64_t)(200 - q));
	/* the reply releases the queue, oldest dropped first: the last one is there */
	uint8_t f[64];
	size_t n = t4_arp_frame(f, NS_ARPOP_REPLY, t4_mac_a, t4_mac_peer, T4_PEER, t4_mac_a, T4_US);
	t4_inject(&c, f, n);
	int sent = 0;
	struct ns_pkt *p;
	while ((p = ns_test_capture(&c.s))) {
		assert_memory_equal(ns_pkt_data(p), t4_mac_peer, 6);
		sent++;
		ns_pkt_unref(p);
	}
	assert_int_equal(sent, q);
	t4_fini(&c);
}

static void test_state_machine(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	ping(&c, T4_PEER, 10);
	expect_request(&c, T4_PEER, t4_bcast);
	uint8_t f[64];
	size_t n = t4_arp_frame(f, NS_ARPOP_REPLY, t4_mac_a, t4_mac_peer, T4_PEER, t4_mac_a, T4_US);
	t4_inject(&c, f, n);
	ns_test_capture_drop(&c.s);
	assert_int_equal(state_of(&c, T4_PEER, NULL, NULL), NS_ARP_REACHABLE);
	/* reachable time is 15..45 s */
	t4_advance(&c, 14 * NS_NSEC_PER_SEC);
	assert_int_equal(state_of(&c, T4_PEER, NULL, NULL), NS_ARP_REACHABLE);
	t4_advance(&c, 32 * NS_NSEC_PER_SEC);
	assert_int_equal(state_of(&c, T4_PEER, NULL, NULL), NS_ARP_STALE);
	/* use: sent at once with the stale MAC, DELAY for 5 s */
	ping(&c, T4_PEER, 10);
	struct ns_pkt *p = ns_test_capture(&c.s);
	assert_non_null(p);
	assert_memory_equal(ns_pkt_data(p), t4_mac_peer, 6);
	ns_pkt_unref(p);
	assert_int_equal(state_of(&c, T4_PEER, NULL, NULL), NS_ARP_DELAY);
	t4_advance(&c, 5 * NS_NSEC_PER_SEC);
	/* no confirmation: PROBE with unicast requests, 3 of them, then gone */
	assert_int_equal(state_of(&c, T4_PEER, NULL, NULL), NS_ARP_PROBE);
	expect_request(&c, T4_PEER, t4_mac_peer);
	t4_advance(&c, NS_NSEC_PER_SEC);
	expect_request(&c, T4_PEER, t4_mac_peer);
	t4_advance(&c, NS_NSEC_PER_SEC);
	expect_request(&c, T4_PEER, t4_mac_peer);
	t4_advance(&c, NS_NSEC_PER_SEC);
	assert_null(ns_test_capture(&c.s));
	assert_int_equal(state_of(&c, T4_PEER, NULL, NULL), -1);
	/* a reply during PROBE makes it REACHABLE again */
	t4_peer_known(&c);
	ping(&c, T4_PEER, 10);
	ns_test_capture_drop(&c.s);
	assert_int_equal(state_of(&c, T4_PEER, NULL, NULL), NS_ARP_DELAY);
	t4_advance(&c, 5 * NS_NSEC_PER_SEC);
	expect_request(&c, T4_PEER, t4_mac_peer);
	t4_inject(&c, f, n);
	assert_int_equal(state_of(&c, T4_PEER, NULL, NULL), NS_ARP_REACHABLE);
	/* unused stale entries are collected after 60 s */
	t4_advance(&c, 46 * NS_NSEC_PER_SEC);
	assert_int_equal(state_of(&c, T4_PEER, NULL, NULL), NS_ARP_STALE);
	t4_advance(&c, 61 * NS_NSEC_PER_SEC);
	assert_int_equal(state_of(&c, T4_PEER, NULL, NULL), -1);
	assert_null(ns_test_capture(&c.s));
	t4_fini(&c);
}

static void test_request_source(void **state)
{
	(void)state;
	/* the request carries the waiting packet's source (Linux arp_announce 0) */
	struct t4_cap c;
	t4_init(&c);
	struct ns_addr second = ns_test_addr("198.18.0.7");
	assert_int_equal(ns_nic_addr_add(c.s.stk, c.s.nic, &second, 24), 0);
	ns_test_capture_drop(&c.s);
	assert_int_equal(ns__icmp4_xmit(c.s.stk, 0xc6120007u, 0xc6120009u, NS_ICMP_ECHO, 0, 1, NULL,
					0, 0), 0);
	struct ns_pkt *p = ns_test_capture(&c.s);
	assert_non_null(p);
	assert_int_equal(ns_load_be16(ns_pkt_data(p) + 14 + 6), NS_ARPOP_REQUEST);
	assert_int_equal(ns_load_be32(ns_pkt_data(p) + 14 + 14), 0xc6120007u);
	ns_pkt_unref(p);
	t4_advance(&c, 4 * NS_NSEC_PER_SEC);
	t4_fini(&c);
}

static void test_loopback_noarp(void **state)
{
	(void)state;
	struct ns_vclock vc = { .now = NS_TEST_T0 };
	struct ns_seeded_rng rng;
	ns_seeded_rng_init(&rng, 5);
	struct ns_stack_opts so = { .clock = ns_vclock_clock(&vc), .rng = ns_seeded_rng(&rng) };
	struct ns_stack *stk;
	assert_int_equal(ns_stack_create(&so, &stk), 0);
	int lo = ns_nic_add(stk, ns_link_loopback_new(0), "lo");
	assert_true(lo > 0);
	struct ns_addr a = ns_test_addr("127.0.0.1");
	assert_int_equal(ns_nic_addr_add(stk, lo, &a, 8), 0);
	assert_int_equal(t4_stat(stk, "ArpOutGratuitous"), 0);
	/* 127.0.0.2 is not an address but lives on lo's prefix: out and back in */
	assert_int_equal(ns__icmp4_xmit(stk, 0, 0x7f000002u, NS_ICMP_ECHO, 0, 1, NULL, 0, 0), 0);
	for (int i = 0; i < 10; i++)
		ns_stack_poll(stk, NULL);
	assert_int_equal(t4_stat(stk, "IcmpInEchos"), 1);
	assert_int_equal(t4_stat(stk, "IcmpInEchoReps"), 1);
	assert_int_equal(t4_stat(stk, "ArpOutRequests"), 0);
	assert_int_equal(ns_stack_live_pkts(stk), 0);
	ns_stack_destroy(stk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gratuitous_on_add),
		cmocka_unit_test(test_reply_and_learning),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_resolution_failure),
		cmocka_unit_test(test_queue_bound),
		cmocka_unit_test(test_state_machine),
		cmocka_unit_test(test_request_source),
		cmocka_unit_test(test_loopback_noarp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
