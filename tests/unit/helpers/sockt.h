/*
 * tests/unit/helpers/sockt.h - helpers for socket/UDP unit tests that do
 * not need a wire: a stack with a "sink" NIC (frames written are counted
 * and dropped, or kept for inspection), datagram injection straight into
 * ns__udp_rcv, and sockaddr builders.
 */
#ifndef NS_TEST_SOCKT_H
#define NS_TEST_SOCKT_H

#include "netstack/core.h"

struct sockt {
	struct ns_stack *stk;
	int nic;
	struct ns_link *link;
};

/* A stack with NIC 1 on a sink link, 198.18.0.1/24 and fd00:5eed::1/64 (usable). */
void sockt_init(struct sockt *t);
void sockt_fini(struct sockt *t);
/* Frames the stack wrote so far (taken out and freed). */
int sockt_sink_count(struct sockt *t);

struct sockaddr_in sockt_sin(const char *ip, uint16_t port);
struct sockaddr_in6 sockt_sin6(const char *ip, uint16_t port);

/* Delivers a UDP datagram as IP would (valid checksum unless bad_csum). */
void sockt_inject(struct sockt *t, const char *src, uint16_t sport, const char *dst, uint16_t dport,
		  const void *data, size_t len, bool bad_csum);

#endif
