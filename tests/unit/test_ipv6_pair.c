/*
 * tests/unit/test_ipv6_pair.c - two stacks over paired channels talking
 * IPv6: neighbour resolution both ways, UDP over IPv6 (pseudo-header
 * checksum), large datagrams fragmented by the sender and reassembled by
 * the receiver, through the impairment wrapper too, the local loop, and
 * TCP over IPv6 (clean and impaired).
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

/* ---- TCP over IPv6 ---------------------------------------------------------------------- */

struct tcpx {
	struct ns_test_pair *p;
	int lfd, cfd, sfd;
	uint8_t *out, *in;
	size_t len, sent, got;
};

static bool accepted(void *ctx)
{
	struct tcpx *x = ctx;
	x->sfd = ns_accept(x->p->b.stk, x->lfd, NULL, NULL, NS_SOCK_NONBLOCK);
	return x->sfd >= 0;
}

static bool moved(void *ctx)
{
	struct tcpx *x = ctx;
	if (x->sent < x->len) {
		ssize_t n = ns_send(x->p->a.stk, x->cfd, x->out + x->sent, x->len - x->sent, NS_MSG_DONTWAIT);
		if (n > 0)
			x->sent += (size_t)n;
	}
	for (;;) {
		ssize_t n = ns_recv(x->p->b.stk, x->sfd, x->in + x->got, x->len - x->got, NS_MSG_DONTWAIT);
		if (n <= 0)
			break;
		x->got += (size_t)n;
	}
	return x->got == x->len;
}

static void tcp6_transfer(struct ns_test_pair *p, size_t len)
{
	struct tcpx x = { .p = p, .len = len };
	x.out = malloc(len);
	x.in = malloc(len);
	for (size_t i = 0; i < len; i++)
		x.out[i] = (uint8_t)(i * 31 + (i >> 9));
	x.lfd = ns_socket(p->b.stk, NS_AF_INET6, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
	struct sockaddr_in6 sa = { .sin6_family = NS_AF_INET6, .sin6_port = htons(8080) };
	assert_int_equal(ns_bind(p->b.stk, x.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(ns_listen(p->b.stk, x.lfd, 8), 0);
	x.cfd = ns_socket(p->a.stk, NS_AF_INET6, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
	assert_true(x.cfd >= 0);
	struct ns_addr b = ns_test_addr("fd00:5eed::2");
	memcpy(&sa.sin6_addr, b.b, 16);
	int r = ns_connect(p->a.stk, x.cfd, (struct sockaddr *)&sa, sizeof(sa));
	assert_true(r == 0 || r == -NS_EINPROGRESS);
	assert_true(ns_test_pump(p, accepted, &x, 10 * NS_NSEC_PER_SEC));
	struct sockaddr_in6 peer;
	socklen_t pl = sizeof(peer);
	assert_int_equal(ns_getpeername(p->b.stk, x.sfd, (struct sockaddr *)&peer, &pl), 0);
	assert_int_equal(peer.sin6_family, NS_AF_INET6);
	assert_memory_equal(&peer.sin6_addr, ns_test_addr("fd00:5eed::1").b, 16);
	assert_true(ns_test_pump(p, moved, &x, 120 * NS_NSEC_PER_SEC));
	assert_memory_equal(x.in, x.out, len);
	ns_close(p->a.stk, x.cfd);
	ns_close(p->b.stk, x.sfd);
	ns_close(p->b.stk, x.lfd);
	ns_test_pump(p, NULL, NULL, 130 * NS_NSEC_PER_SEC);    /* FIN, TIME_WAIT */
	free(x.out);
	free(x.in);
}

static void test_tcp6(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, &(struct ns_test_pair_opts){ .ipv6 = true }), 0);
	tcp6_transfer(&p, 2u << 20);
	uint64_t v = 0;
	ns_stat_get(p.b.stk, "Ip6InDelivers", &v);
	assert_true(v > 100);
	ns_stat_get(p.a.stk, "TcpInCsumErrors", &v);
	assert_int_equal(v, 0);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

static void test_tcp6_impaired(void **state)
{
	(void)state;
	struct ns_test_pair p;
	struct ns_test_pair_opts o = { .ipv6 = true, .impair = true,
				       .imp = { .drop_ppm = 10000, .reorder_ppm = 20000,
						.delay_ns = NS_NSEC_PER_MSEC } };
	assert_int_equal(ns_test_pair_init(&p, &o), 0);
	tcp6_transfer(&p, 1u << 20);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp6_small_and_fragmented),
		cmocka_unit_test(test_udp6_impaired),
		cmocka_unit_test(test_udp6_local_loop),
		cmocka_unit_test(test_tcp6),
		cmocka_unit_test(test_tcp6_impaired),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
