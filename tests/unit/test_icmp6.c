/*
 * tests/unit/test_icmp6.c - ICMPv6 (RFC 4443): the rules for sending errors
 * (never about an ICMPv6 error, never to ::, quoting up to 1280 bytes),
 * Linux-like rate limits (per destination burst 6, refilled per 250 ms on a
 * /64; echo replies never limited), and received errors: port unreachable
 * reaching a connected UDP socket as ECONNREFUSED, packet too big lowering
 * the path MTU and then fragmenting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include "helpers/ip6_test.h"
#include "ipv6/ipv6_internal.h"

#define SEC NS_NSEC_PER_SEC
static const char *US = "fd00:5eed::1", *PEER = "fd00:5eed::2";

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

/* A datagram with an unknown next header (253) and len payload bytes. */
static void inject_unknown(struct ip6t *t, const char *src, size_t len)
{
	static uint8_t f[3000], pl[2000];
	memset(pl, 0x5a, len);
	struct ns_addr s = ip6t_addr(src), d = ip6t_addr(US);
	ip6t_inject(t, f, ip6t_frame(f, t->mac, t->peer_mac, &s, &d, 253, 64, pl, len));
}

static int count_type(struct ip6t *t, uint8_t type)
{
	int n = 0;
	struct ns_pkt *p;
	struct ip6t_pkt o;
	while ((p = ip6t_take(t))) {
		if (ip6t_parse(p, &o) == 0 && o.proto == 58 && o.l4[0] == type)
			n++;
		ns_pkt_unref(p);
	}
	return n;
}

static void test_error_rules_and_quote(void **state)
{
	(void)state;
	struct ip6t t;
	setup(&t);
	/* the quote stops so the error fits in 1280 bytes */
	inject_unknown(&t, PEER, 1400);
	struct ip6t_pkt o;
	struct ns_pkt *p = ip6t_take_icmp(&t, NS_ICMP6_PARAM_PROB, &o);
	assert_non_null(p);
	assert_int_equal(ns_pkt_len(p), 14 + 1280);
	assert_int_equal(o.hlim, 64);
	assert_true(o.csum_ok);
	assert_memory_equal(o.src.b, ip6t_addr(US).b, 16);
	ns_pkt_unref(p);
	/* a small one is quoted whole */
	inject_unknown(&t, PEER, 10);
	p = ip6t_take_icmp(&t, NS_ICMP6_PARAM_PROB, &o);
	assert_non_null(p);
	assert_int_equal(o.l4_len, 8 + 40 + 10);
	ns_pkt_unref(p);
	/* never to the unspecified address */
	inject_unknown(&t, "::", 10);
	assert_int_equal(ip6t_drain(&t), 0);
	/* never about an ICMPv6 error, even for a "10" option */
	uint8_t f[200], pl[64];
	memset(pl, 0, sizeof(pl));
	pl[0] = 58;                     /* dstopts -> ICMPv6 */
	pl[2] = 0x9e;                   /* unknown option, 10: report even to multicast */
	pl[3] = 4;
	pl[8] = NS_ICMP6_DST_UNREACH;
	struct ns_addr s = ip6t_addr(PEER), d = ip6t_addr(US);
	ip6t_inject(&t, f, ip6t_frame(f, t.mac, t.peer_mac, &s, &d, NS_NH_DSTOPTS, 64, pl, 16));
	assert_int_equal(ip6t_drain(&t), 0);
	/* but about an informational message, yes */
	pl[8] = NS_ICMP6_ECHO_REQUEST;
	ip6t_inject(&t, f, ip6t_frame(f, t.mac, t.peer_mac, &s, &d, NS_NH_DSTOPTS, 64, pl, 16));
	assert_int_equal(count_type(&t, NS_ICMP6_PARAM_PROB), 1);
	ip6t_fini(&t);
}

static void test_rate_limit(void **state)
{
	(void)state;
	struct ip6t t;
	setup(&t);
	for (int i = 0; i < 10; i++)
		inject_unknown(&t, PEER, 10);
	assert_int_equal(count_type(&t, NS_ICMP6_PARAM_PROB), 6);
	assert_int_equal(ip6t_stat(&t, "Icmp6OutRateLimitHost"), 4);
	/* one token per 250 ms on a /64 */
	ip6t_advance(&t, 250 * NS_NSEC_PER_MSEC);
	ip6t_drain(&t);
	inject_unknown(&t, PEER, 10);
	inject_unknown(&t, PEER, 10);
	assert_int_equal(count_type(&t, NS_ICMP6_PARAM_PROB), 1);
	/* another source has its own bucket */
	inject_unknown(&t, "fd00:5eed::3", 10);
	ip6t_advance(&t, 4 * SEC);      /* ::3 is resolved (or fails) */
	/* echo replies are never limited */
	static uint8_t f[200];
	struct ns_addr s = ip6t_addr(PEER), d = ip6t_addr(US);
	ip6t_drain(&t);
	for (int i = 0; i < 30; i++)
		ip6t_inject(&t, f, ip6t_icmp6(f, t.mac, t.peer_mac, &s, &d, 64, NS_ICMP6_ECHO_REQUEST,
					      0, (uint32_t)i, "x", 1));
	assert_int_equal(count_type(&t, NS_ICMP6_ECHO_REPLY), 30);
	ip6t_advance(&t, 10 * SEC);
	ip6t_drain(&t);
	ip6t_fini(&t);
}

/* Sends one UDP datagram from a connected socket; returns the frame sent. */
static struct ns_pkt *udp_send(struct ip6t *t, int fd, size_t len)
{
	static uint8_t buf[4000];
	memset(buf, 7, len);
	assert_int_equal(ns_send(t->stk, fd, buf, len, 0), (ssize_t)len);
	return ip6t_take(t);
}

static void test_errors_reach_udp(void **state)
{
	(void)state;
	struct ip6t t;
	setup(&t);
	int fd = ns_socket(t.stk, NS_AF_INET6, NS_SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in6 sa = { .sin6_family = NS_AF_INET6, .sin6_port = htons(5000) };
	memcpy(&sa.sin6_addr, ip6t_addr(PEER).b, 16);
	assert_int_equal(ns_connect(t.stk, fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	struct ns_pkt *p = udp_send(&t, fd, 100);
	assert_non_null(p);
	/* port unreachable quoting it: ECONNREFUSED on the next call */
	uint8_t f[400];
	struct ns_addr s = ip6t_addr(PEER), d = ip6t_addr(US);
	size_t n = ip6t_icmp6(f, t.mac, t.peer_mac, &s, &d, 64, NS_ICMP6_DST_UNREACH,
			      NS_ICMP6_PORT_UNREACH, 0, ns_pkt_data(p) + 14, ns_pkt_len(p) - 14);
	ns_pkt_unref(p);
	ip6t_inject(&t, f, n);
	ip6t_advance(&t, 0);
	char rb[16];
	assert_int_equal(ns_recv(t.stk, fd, rb, sizeof(rb), NS_MSG_DONTWAIT), -NS_ECONNREFUSED);
	assert_int_equal(ip6t_stat(&t, "Icmp6InDestUnreachs"), 1);
	/* packet too big 1400: later datagrams are fragmented to 1400 */
	p = udp_send(&t, fd, 1300);
	assert_non_null(p);
	n = ip6t_icmp6(f, t.mac, t.peer_mac, &s, &d, 64, NS_ICMP6_PACKET_TOO_BIG, 0, 1400,
		       ns_pkt_data(p) + 14, 300);
	ns_pkt_unref(p);
	ip6t_inject(&t, f, n);
	assert_int_equal(ns__ip_path_mtu(t.stk, &s, 0), 1400);
	/* Linux (__udp6_lib_err): a connected socket gets EMSGSIZE once */
	static uint8_t big[1400];
	assert_int_equal(ns_send(t.stk, fd, big, sizeof(big), 0), -NS_EMSGSIZE);
	p = udp_send(&t, fd, 1400);
	assert_non_null(p);
	struct ip6t_pkt o;
	assert_int_equal(ip6t_parse(p, &o), 0);
	assert_true(o.has_frag);
	assert_true(ns_pkt_len(p) - 14 <= 1400);
	ns_pkt_unref(p);
	ip6t_drain(&t);
	ns_close(t.stk, fd);
	ip6t_advance(&t, 0);
	ip6t_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_rules_and_quote),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_errors_reach_udp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
