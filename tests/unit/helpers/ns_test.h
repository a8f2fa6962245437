/*
 * tests/unit/helpers/ns_test.h - the shared unit-test harness.
 *
 * What it gives a test:
 *  - stacks on a virtual clock (struct ns_vclock) and a seeded random
 *    source, so every run is reproducible from one seed (NS_TEST_SEED in
 *    the environment overrides the default; the seed is printed on request
 *    and by ns_test_fail_seed());
 *  - two stacks "a" and "b" joined by paired channels, optionally through
 *    the impairment wrapper, addressed 198.18.0.1/24 and 198.18.0.2/24
 *    (and fd00:5eed::1/64, fd00:5eed::2/64 when asked);
 *  - one stack on an unpaired "capture" channel: frames it writes are taken
 *    with ns_test_capture(), frames are injected with ns_test_inject();
 *  - a pump: polls every stack, and when nothing is left to do now, moves
 *    the virtual clock to the next timer / impairment deadline, until a
 *    condition holds or a virtual-time limit passes;
 *  - frame builders (Ethernet, IPv4, IPv6, UDP, TCP, with correct
 *    checksums) and a frame parser for captured frames.
 *
 * Everything runs single-threaded in embedded mode (ns_stack_poll).  A
 * harness object must not move after init (the stacks point at its clock).
 *
 * Typical use:
 *     struct ns_test_pair p;
 *     ns_test_pair_init(&p, &(struct ns_test_pair_opts){ .ipv6 = true });
 *     ... sockets on p.a.stk and p.b.stk ...
 *     assert_true(ns_test_pump(&p, cond_fn, ctx, 5 * NS_NSEC_PER_SEC));
 *     ... close sockets, ns_test_settle(&p) ...
 *     assert_int_equal(ns_test_pair_live(&p), 0);
 *     ns_test_pair_fini(&p);
 */
#ifndef NS_TEST_H
#define NS_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netstack/core.h"

#define NS_TEST_MAC_A { 0x02, 0x00, 0x5e, 0xed, 0x00, 0x01 }
#define NS_TEST_MAC_B { 0x02, 0x00, 0x5e, 0xed, 0x00, 0x02 }
/* The MAC of the "peer" a capture-mode test pretends to be. */
#define NS_TEST_MAC_PEER { 0x02, 0x00, 0x5e, 0xed, 0x00, 0xfe }
/* Virtual time the clock starts at (not zero: catches "0 means unset" bugs). */
#define NS_TEST_T0 (1000ull * NS_NSEC_PER_SEC)

/* The seed: $NS_TEST_SEED if set (decimal or 0x hex), else dflt. */
uint64_t ns_test_seed(uint64_t dflt);

/* ---- one stack --------------------------------------------------------------- */

struct ns_test_stack {
	struct ns_stack *stk;
	struct ns_vclock *vc;           /* shared clock (not owned) */
	struct ns_seeded_rng rng;
	struct ns_link *link;           /* what the NIC uses (impair wrapper or channel) */
	struct ns_link *chan;           /* the channel underneath */
	int nic;
	uint8_t mac[6];
	struct ns_addr ip4, ip6;        /* family 0 when not configured */
};

struct ns_test_stack_opts {
	uint64_t seed;                  /* stack rng seed */
	const uint8_t *mac;             /* NULL: NS_TEST_MAC_A */
	uint32_t mtu;                   /* 0: 1500 */
	uint32_t qlen;                  /* channel queue bound, 0: 4096 */
	const char *ip4;                /* "198.18.0.1/24" or NULL for none */
	const char *ip6;                /* "fd00:5eed::1/64" or NULL for none */
	const struct ns_impair_opts *impair;   /* wrap the channel if not NULL */
	uint64_t mem_limit;             /* 0: the stack default */
};

/* A stack on vc with one NIC on a fresh (unpaired) channel.  0 or -errno. */
int ns_test_stack_init(struct ns_test_stack *t, struct ns_vclock *vc,
		       const struct ns_test_stack_opts *o);
void ns_test_stack_fini(struct ns_test_stack *t);
/* Packets alive in this stack's pool (ns_stack_live_pkts). */
uint64_t ns_test_stack_live(struct ns_test_stack *t);

/* Capture mode (unpaired channel): the next frame the stack wrote, or NULL.
 * The caller unrefs it.  ns_test_capture_drop() discards all captured. */
struct ns_pkt *ns_test_capture(struct ns_test_stack *t);
int ns_test_capture_drop(struct ns_test_stack *t);
/* Queues a frame (bytes copied, data at the Ethernet header) as if received;
 * it is delivered by the next poll/pump.  0 or -errno. */
int ns_test_inject(struct ns_test_stack *t, const void *frame, size_t len);

/* ---- two stacks ---------------------------------------------------------------- */

struct ns_test_pair_opts {
	uint64_t seed;                  /* 0: ns_test_seed(1) */
	bool ipv6;                      /* also fd00:5eed::1/64 and ::2/64 */
	bool no_ipv4;                   /* skip the IPv4 addresses */
	uint32_t mtu;                   /* 0: 1500 */
	uint32_t qlen;                  /* 0: 4096 */
	/* Impairment on both directions when any field is set; each side gets
	 * its own seed derived from `seed`, and the harness supplies now_ns. */
	bool impair;
	struct ns_impair_opts imp;
	uint64_t mem_limit;
};

struct ns_test_pair {
	struct ns_vclock vc;
	uint64_t seed;
	struct ns_test_stack a, b;      /* a = .1, b = .2 */
};

int ns_test_pair_init(struct ns_test_pair *p, const struct ns_test_pair_opts *o);
void ns_test_pair_fini(struct ns_test_pair *p);
uint64_t ns_test_pair_live(struct ns_test_pair *p);

/* ---- driving time ---------------------------------------------------------------- */

typedef bool (*ns_test_cond_fn)(void *ctx);

/*
 * Polls the stacks until nothing is left to do at the current time; then,
 * if cond is still false, moves the clock to the next deadline (a timer or
 * an impairment release, whichever is first) and repeats, until cond(ctx)
 * is true (returns true) or limit_ns of virtual time has passed (the clock
 * ends at start + limit_ns; returns false).  cond NULL: runs the full
 * limit and returns true.  Bounded: at most 10 million poll rounds.
 */
bool ns_test_pump(struct ns_test_pair *p, ns_test_cond_fn cond, void *ctx, uint64_t limit_ns);
/* The same over any set of stacks sharing one clock. */
bool ns_test_pump_n(struct ns_test_stack **s, int n, ns_test_cond_fn cond, void *ctx,
		    uint64_t limit_ns);
/* Runs what is due now (frames in flight, due timers) without moving the
 * clock; returns the work done. */
int ns_test_settle(struct ns_test_pair *p);
int ns_test_settle_n(struct ns_test_stack **s, int n);
/* Advances the clock by d, running everything due on the way. */
void ns_test_advance(struct ns_test_pair *p, uint64_t d);

/* ---- frames --------------------------------------------------------------------- */

/*
 * Builders write into buf (at least 14 + 60 + 60 + payload bytes) and return
 * the frame length.  Every checksum is correct; change bytes afterwards and
 * call the ns_test_fix_* functions to recompute.  Addresses choose IPv4 or
 * IPv6 by their family.
 */
struct ns_test_l3 {
	uint8_t src_mac[6], dst_mac[6];
	struct ns_addr src, dst;
	uint8_t ttl;                    /* 0: 64 */
	uint8_t tos;
	uint16_t id;                    /* IPv4 identification */
	uint16_t frag;                  /* IPv4 flags+offset field as on the wire (e.g. 0x4000 DF) */
};

struct ns_test_tcp {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;                  /* NS_TEST_TCP_* */
	uint16_t win;
	uint16_t urg;
	const uint8_t *opts;            /* raw options, padded by the builder to 4 bytes */
	size_t opts_len;                /* <= 40 */
};
#define NS_TEST_TCP_FIN 0x01
#define NS_TEST_TCP_SYN 0x02
#define NS_TEST_TCP_RST 0x04
#define NS_TEST_TCP_PSH 0x08
#define NS_TEST_TCP_ACK 0x10
#define NS_TEST_TCP_URG 0x20

size_t ns_test_build_eth(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6],
			 uint16_t ethertype, const void *payload, size_t len);
/* Ethernet + IPv4 or IPv6 header + payload as the L4 part (no L4 checksum work). */
size_t ns_test_build_ip(uint8_t *buf, const struct ns_test_l3 *h, uint8_t proto,
			const void *payload, size_t len);
size_t ns_test_build_udp(uint8_t *buf, const struct ns_test_l3 *h, uint16_t sport,
			 uint16_t dport, const void *payload, size_t len);
size_t ns_test_build_tcp(uint8_t *buf, const struct ns_test_l3 *h, const struct ns_test_tcp *t,
			 const void *payload, size_t len);
/* ICMPv4 / ICMPv6 message: type, code, the 4 "rest of header" bytes, body. */
size_t ns_test_build_icmp(uint8_t *buf, const struct ns_test_l3 *h, uint8_t type, uint8_t code,
			  uint32_t rest, const void *body, size_t len);

/* Recompute the IPv4 header checksum / the L4 checksum of a built frame. */
void ns_test_fix_ipv4_csum(uint8_t *frame);
void ns_test_fix_l4_csum(uint8_t *frame, size_t len);

/* Fills h for a frame from `from` (its MAC and address of family) to `to`. */
void ns_test_l3_between(struct ns_test_l3 *h, const struct ns_test_stack *from,
			const struct ns_test_stack *to, int family);

/* A parsed frame: pointers into the frame's bytes. */
struct ns_test_parsed {
	const uint8_t *eth;
	uint16_t ethertype;
	const uint8_t *l3;              /* IPv4/IPv6/ARP header */
	size_t l3_len;                  /* from l3 to the end of the frame */
	struct ns_addr src, dst;        /* IP only */
	uint8_t proto;                  /* IPv4 protocol / IPv6 next header (after no ext headers) */
	uint8_t ttl;
	uint16_t ip_id, frag;           /* IPv4 */
	bool ip_csum_ok;                /* IPv4 header checksum; true for IPv6 */
	const uint8_t *l4;
	size_t l4_len;                  /* as the IP header says */
	bool l4_csum_ok;                /* UDP/TCP/ICMP checksum verified (false for fragments) */
	uint16_t sport, dport;          /* UDP/TCP */
	uint32_t seq, ack;              /* TCP */
	uint8_t tcp_flags;
	uint16_t win;
	const uint8_t *payload;         /* after the UDP/TCP/ICMP header */
	size_t payload_len;
	uint8_t icmp_type, icmp_code;
};
/* 0 on success, -NS_EBADMSG when the frame is too short or malformed. */
int ns_test_parse(const uint8_t *frame, size_t len, struct ns_test_parsed *out);
int ns_test_parse_pkt(const struct ns_pkt *pkt, struct ns_test_parsed *out);

/* Parses "198.18.0.1" (or IPv6); aborts the test on a typo. */
struct ns_addr ns_test_addr(const char *s);

#endif
