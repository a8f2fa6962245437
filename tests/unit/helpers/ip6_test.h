/*
 * tests/unit/helpers/ip6_test.h - a one-stack IPv6 test bench: a stack on
 * a virtual clock and a seeded rng with one NIC on a capture link (frames
 * the stack writes are queued for the test; frames the test injects are
 * received at once), plus IPv6/ICMPv6 frame builders and a parser.
 * Used by test_ipv6*.c, test_nd*.c, test_icmp6*.c.
 */
#ifndef NS_IP6_TEST_H
#define NS_IP6_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netstack/core.h"

#define IP6T_T0 (1000ull * NS_NSEC_PER_SEC)

struct ip6t_link;

struct ip6t {
	struct ns_vclock vc;
	struct ns_seeded_rng rng;
	struct ns_stack *stk;
	struct ip6t_link *link;
	int nic;
	uint8_t mac[6];                 /* ours: 02:00:5e:ed:00:01 */
	uint8_t peer_mac[6];            /* the simulated peer: 02:00:5e:ed:00:fe */
};

/* flags: NS_STACK_F_*; mtu 0: 1500.  Aborts the test on failure. */
void ip6t_init(struct ip6t *t, uint32_t flags, uint32_t mtu);
void ip6t_fini(struct ip6t *t);
/* Runs due timers, then moves the clock by d, running timers on the way. */
void ip6t_advance(struct ip6t *t, uint64_t d);
/* Next frame the stack wrote (caller unrefs), NULL if none. */
struct ns_pkt *ip6t_take(struct ip6t *t);
int ip6t_drain(struct ip6t *t);
uint64_t ip6t_stat(struct ip6t *t, const char *name);
void ip6t_inject(struct ip6t *t, const uint8_t *frame, size_t len);
struct ns_addr ip6t_addr(const char *s);
/* Adds addr/plen to the NIC (asserts success). */
void ip6t_addr_add(struct ip6t *t, const char *a, int plen);

/* Ethernet + IPv6 header (hop limit hlim) + payload; returns frame length.
 * nh is the next header of the IPv6 header; payload is copied verbatim. */
size_t ip6t_frame(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6],
		  const struct ns_addr *src, const struct ns_addr *dst, uint8_t nh, uint8_t hlim,
		  const void *payload, size_t len);
/* An ICMPv6 message (checksummed) as the payload of ip6t_frame. */
size_t ip6t_icmp6(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6],
		  const struct ns_addr *src, const struct ns_addr *dst, uint8_t hlim, uint8_t type,
		  uint8_t code, uint32_t rest, const void *body, size_t len);
/* Fills the UDP/ICMPv6 checksum of a frame built by ip6t_frame whose upper
 * layer starts at l4off from the IPv6 header. */
void ip6t_fix_csum(uint8_t *frame, size_t l4off, uint8_t proto);

/* A parsed captured frame. */
struct ip6t_pkt {
	const uint8_t *eth, *ip6;       /* headers */
	struct ns_addr src, dst;
	uint8_t hlim;
	uint8_t proto;                  /* upper layer after skipping ext headers */
	const uint8_t *l4;
	size_t l4_len;
	bool has_frag;
	uint16_t frag_off;              /* offset | M, if has_frag */
	uint32_t frag_id;
	bool hbh_router_alert;
	bool csum_ok;                   /* ICMPv6 / UDP checksum (false for fragments) */
};
/* 0 on success; -1 if not an IPv6 frame. */
int ip6t_parse(const struct ns_pkt *p, struct ip6t_pkt *o);
/* Takes frames until one is ICMPv6 of type (frees the others); NULL if none. */
struct ns_pkt *ip6t_take_icmp(struct ip6t *t, uint8_t type, struct ip6t_pkt *o);

#endif
