/*
 * tests/unit/helpers/ns_test_ipv4.h - header-only helpers for the IPv4,
 * ARP, ICMP and reassembly tests: one capture-mode stack (198.18.0.1/24)
 * talking to a pretend peer (198.18.0.2, NS_TEST_MAC_PEER), ARP frames,
 * and IPv4 fragments cut from a built datagram.
 */
#ifndef NS_TEST_IPV4_H
#define NS_TEST_IPV4_H

#include "netstack/core.h"
#include "ipv4/ipv4_internal.h"
#include "helpers/ns_test.h"

static const uint8_t t4_mac_a[6] = NS_TEST_MAC_A;
static const uint8_t t4_mac_peer[6] = NS_TEST_MAC_PEER;
static const uint8_t t4_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
#define T4_US 0xc6120001u               /* 198.18.0.1 */
#define T4_PEER 0xc6120002u             /* 198.18.0.2 */

struct t4_cap {
	struct ns_vclock vc;
	struct ns_test_stack s;
};

static inline uint64_t t4_stat(struct ns_stack *stk, const char *name)
{
	uint64_t v = 0;
	assert_int_equal(ns_stat_get(stk, name, &v), 0);
	return v;
}

static inline void t4_settle(struct t4_cap *c)
{
	struct ns_test_stack *s = &c->s;
	ns_test_settle_n(&s, 1);
}

/* Moves the clock by d, running everything due on the way. */
static inline void t4_advance(struct t4_cap *c, uint64_t d)
{
	struct ns_test_stack *s = &c->s;
	ns_test_pump_n(&s, 1, NULL, NULL, d);
}

static inline struct ns_nic *t4_nic(struct t4_cap *c) { return ns__nic_get(c->s.stk, c->s.nic); }

static inline void t4_init_opts(struct t4_cap *c, uint32_t mtu, uint64_t mem_limit)
{
	memset(c, 0, sizeof(*c));
	c->vc.now = NS_TEST_T0;
	struct ns_test_stack_opts o = { .seed = 7, .ip4 = "198.18.0.1/24", .mtu = mtu,
					.mem_limit = mem_limit };
	assert_int_equal(ns_test_stack_init(&c->s, &c->vc, &o), 0);
	t4_settle(c);
	ns_test_capture_drop(&c->s);    /* the gratuitous ARP */
}

static inline void t4_init(struct t4_cap *c) { t4_init_opts(c, 0, 0); }

static inline void t4_fini(struct t4_cap *c)
{
	ns_test_capture_drop(&c->s);
	t4_settle(c);
	assert_int_equal(ns_test_stack_live(&c->s), 0);
	ns_test_stack_fini(&c->s);
}

/* An ARP frame from the peer's MAC. */
static inline size_t t4_arp_frame(uint8_t *buf, uint16_t op, const uint8_t *eth_dst,
				  const uint8_t *sha, uint32_t sip, const uint8_t *tha, uint32_t tip)
{
	uint8_t a[28] = { 0, 1, 8, 0, 6, 4 };
	ns_store_be16(a + 6, op);
	memcpy(a + 8, sha, 6);
	ns_store_be32(a + 14, sip);
	if (tha)
		memcpy(a + 18, tha, 6);
	ns_store_be32(a + 24, tip);
	return ns_test_build_eth(buf, eth_dst, sha, NS_ETHERTYPE_ARP, a, sizeof(a));
}

/* The peer asks for our MAC: the stack learns it (STALE) and replies. */
static inline void t4_peer_known(struct t4_cap *c)
{
	uint8_t f[64];
	size_t n = t4_arp_frame(f, NS_ARPOP_REQUEST, t4_bcast, t4_mac_peer, T4_PEER, NULL, T4_US);
	assert_int_equal(ns_test_inject(&c->s, f, n), 0);
	t4_settle(c);
	struct ns_pkt *p = ns_test_capture(&c->s);
	assert_non_null(p);
	const uint8_t *d = ns_pkt_data(p);
	assert_int_equal(ns_load_be16(d + 12), NS_ETHERTYPE_ARP);
	assert_int_equal(ns_load_be16(d + 14 + 6), NS_ARPOP_REPLY);
	ns_pkt_unref(p);
	assert_null(ns_test_capture(&c->s));
}

static inline void t4_l3_from_peer(struct ns_test_l3 *h)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->src_mac, t4_mac_peer, 6);
	memcpy(h->dst_mac, t4_mac_a, 6);
	h->src = ns_test_addr("198.18.0.2");
	h->dst = ns_test_addr("198.18.0.1");
	h->id = 0x1234;
}

/*
 * Cuts payload bytes [off, off + len) of the datagram in `whole` (a frame
 * from ns_test_build_*) into a fragment frame in out; mf: more fragments.
 */
static inline size_t t4_frag(uint8_t *out, const uint8_t *whole, uint32_t off, uint32_t len,
			     bool mf)
{
	memcpy(out, whole, 14 + 20);
	memcpy(out + 34, whole + 34 + off, len);
	ns_store_be16(out + 16, (uint16_t)(20 + len));
	uint16_t fl = (uint16_t)(ns_load_be16(whole + 20) & NS_IP_DF);
	ns_store_be16(out + 20, (uint16_t)(fl | (off / 8) | (mf ? NS_IP_MF : 0)));
	ns_test_fix_ipv4_csum(out);
	return 34 + len;
}

static inline void t4_inject(struct t4_cap *c, const uint8_t *f, size_t n)
{
	assert_int_equal(ns_test_inject(&c->s, f, n), 0);
	t4_settle(c);
}

/* The next captured frame, parsed (the caller unrefs *pp). */
static inline struct ns_pkt *t4_take(struct t4_cap *c, struct ns_test_parsed *pp)
{
	struct ns_pkt *p = ns_test_capture(&c->s);
	if (p)
		assert_int_equal(ns_test_parse_pkt(p, pp), 0);
	return p;
}

#endif
