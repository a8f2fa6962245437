/*
 * tests/unit/test_ipv6_pair.c - two stacks over paired channels talking
 * IPv6: neighbour resolution both ways, UDP over IPv6 (pseudo-header
 * checksum), large datagrams fragmented by the sender and reassembled by
 * the receiver, through the impairment wrapper too, and the local loop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "helpers/ns_test.h"
#include "ipv6/ipv6_internal.h"

struct rx {
	struct ns_stack *stk;
	int fd;
	uint8_t buf[70000];
	ssize_t n;
};

static bool got(void *ctx)
{
	struct rx *r = ctx;
	r->n = ns_recv(r->stk, r->fd, r->buf, sizeof(r->buf), NS_MSG_DONTWAIT);
	return r->n >= 0;
}

static int udp6(struct ns_stack *stk, uint16_t port)
{
	int fd = ns_socket(stk, NS_AF_INET6, NS_SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in6 sa = { .sin6_family = NS_AF_INET6, .sin6_port = htons(port) };
	assert_int_equal(ns_bind(stk, fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_to(struct ns_stack *stk, int fd, const char *dst, uint16_t port, const void *b,
		    size_t n)
{
	struct sockaddr_in6 sa = { .sin6_family = NS_AF_INET6, .sin6_port = htons(port) };
	struct ns_addr a = ns_test_addr(dst);
	memcpy(&sa.sin6_addr, a.b, 16);
	assert_int_equal(ns_sendto(stk, fd, b, n, 0, (struct sockaddr *)&sa, sizeof(sa)), (ssize_t)n);
}

static void exchange(struct ns_test_pair *p, size_t len)
{
	static uint8_t msg[65000];
	for (size_t i = 0; i < len; i++)
		msg[i] = (uint8_t)(i * 13 + 1);
	struct rx r = { .stk = p->b.stk };
	r.fd = udp6(p->b.stk, 7777);
	int fa = udp6(p->a.stk, 0);
	send_to(p->a.stk, fa, "fd00:5eed::2", 7777, msg, len);
	assert_true(ns_test_pump(p, got, &r, 10 * NS_NSEC_PER_SEC));
	assert_int_equal(r.n, (ssize_t)len);
	assert_memory_equal(r.buf, msg, len);
	ns_close(p->a.stk, fa);
	ns_close(p->b.stk, r.fd);
}

static void test_udp6_small_and_fragmented(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, &(struct ns_test_pair_opts){ .ipv6 = true }), 0);
	exchange(&p, 100);
	uint64_t v = 0;
	ns_stat_get(p.a.stk, "Icmp6OutNeighborSolicits", &v);
	assert_int_equal(v, 1);          /* a resolved b */
	exchange(&p, 3000);              /* fragmented: 1500 MTU */
	ns_stat_get(p.a.stk, "Ip6FragCreates", &v);
	assert_int_equal(v, 3);
	ns_stat_get(p.b.stk, "Ip6ReasmOKs", &v);
	assert_int_equal(v, 1);
	exchange(&p, 60000);
	ns_test_settle(&p);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

static void test_udp6_impaired(void **state)
{
	(void)state;
	struct ns_test_pair p;
	struct ns_test_pair_opts o = { .ipv6 = true, .impair = true,
				       .imp = { .reorder_ppm = 300000, .dup_ppm = 100000,
						.delay_ns = NS_NSEC_PER_MSEC } };
	assert_int_equal(ns_test_pair_init(&p, &o), 0);
	for (int i = 0; i < 5; i++)
		exchange(&p, 5000 + (size_t)i * 1000);
	ns_test_pump(&p, NULL, NULL, 2 * NS_NSEC_PER_SEC);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

static void test_udp6_local_loop(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, &(struct ns_test_pair_opts){ .ipv6 = true }), 0);
	struct rx r = { .stk = p.a.stk };
	r.fd = udp6(p.a.stk, 9000);
	int fa = udp6(p.a.stk, 0);
	send_to(p.a.stk, fa, "fd00:5eed::1", 9000, "hello", 5);
	assert_true(ns_test_pump(&p, got, &r, NS_NSEC_PER_SEC));
	assert_int_equal(r.n, 5);
	ns_close(p.a.stk, fa);
	ns_close(p.a.stk, r.fd);
	ns_test_settle(&p);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp6_small_and_fragmented),
		cmocka_unit_test(test_udp6_impaired),
		cmocka_unit_test(test_udp6_local_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
