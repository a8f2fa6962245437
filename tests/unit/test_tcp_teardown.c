/*
 * tests/unit/test_tcp_teardown.c - TCP endpoints are freed when a listener
 * or the whole stack goes away while passive opens are in progress:
 * embryonic children (SYN_RECV, not yet in the accept queue) and children
 * waiting in the accept queue.  Regression for a leak found by fuzz_tcp
 * (fuzz/regressions/tcp/leak-syn-recv-child-at-destroy): the child and its
 * listener kept each other alive past ns_stack_destroy.  Under ASan the
 * leak check runs in each test after the stack is destroyed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "helpers/ns_test.h"
#include "helpers/ns_test_ipv4.h"
#include "helpers/tcp_helpers.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define NO_LEAKS() assert_int_equal(__lsan_do_recoverable_leak_check(), 0)
#else
#define NO_LEAKS() ((void)0)
#endif

#define PEER_PORT 40000
#define LPORT 80
#define PEER_ISN 1000000u

static void inject_tcp(struct t4_cap *c, uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags)
{
	uint8_t f[256];
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	struct ns_test_tcp t = { .sport = sport, .dport = LPORT, .seq = seq, .ack = ack, .flags = flags,
				 .win = 64240 };
	t4_inject(c, f, ns_test_build_tcp(f, &h, &t, NULL, 0));
}

/* A SYN from the peer's port sport; returns our ISN from the SYN-ACK. */
static uint32_t peer_syn(struct t4_cap *c, uint16_t sport)
{
	inject_tcp(c, sport, PEER_ISN, 0, NS_TEST_TCP_SYN);
	struct ns_test_parsed pp;
	struct ns_pkt *p = t4_take(c, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_SYN | NS_TEST_TCP_ACK);
	assert_int_equal(pp.ack, PEER_ISN + 1);
	uint32_t isn = pp.seq;
	ns_pkt_unref(p);
	return isn;
}

static void setup(struct t4_cap *c, int *lfd)
{
	t4_init(c);
	t4_peer_known(c);
	*lfd = tt_listen(c->s.stk, LPORT, 8);
	assert_true(*lfd >= 0);
}

/* The fuzz reproducer: the stack is destroyed with a child in SYN_RECV. */
static void test_destroy_with_embryonic_child(void **state)
{
	(void)state;
	struct t4_cap c;
	int lfd;
	setup(&c, &lfd);
	peer_syn(&c, PEER_PORT);
	assert_int_equal(tt_count_state(c.s.stk, TCP_SYN_RECV), 1);
	t4_fini(&c);
	NO_LEAKS();
}

/* The listener is closed first, then the stack goes with the child still embryonic. */
static void test_close_listener_then_destroy(void **state)
{
	(void)state;
	struct t4_cap c;
	int lfd;
	setup(&c, &lfd);
	peer_syn(&c, PEER_PORT);
	peer_syn(&c, PEER_PORT + 1);
	assert_int_equal(tt_count_state(c.s.stk, TCP_SYN_RECV), 2);
	assert_int_equal(ns_close(c.s.stk, lfd), 0);
	t4_fini(&c);
	NO_LEAKS();
}

/* Closed listener: its embryonic child expires on its own (SYN-ACK retries end). */
static void test_close_listener_child_expires(void **state)
{
	(void)state;
	struct t4_cap c;
	int lfd;
	setup(&c, &lfd);
	peer_syn(&c, PEER_PORT);
	assert_int_equal(ns_close(c.s.stk, lfd), 0);
	t4_advance(&c, 200 * NS_NSEC_PER_SEC);
	assert_int_equal(tt_count_state(c.s.stk, TCP_SYN_RECV), 0);
	ns_test_capture_drop(&c.s);
	t4_fini(&c);
	NO_LEAKS();
}

/* A completed child nobody accepted, next to an embryonic one. */
static void test_destroy_with_unaccepted_child(void **state)
{
	(void)state;
	struct t4_cap c;
	int lfd;
	setup(&c, &lfd);
	uint32_t isn = peer_syn(&c, PEER_PORT);
	inject_tcp(&c, PEER_PORT, PEER_ISN + 1, isn + 1, NS_TEST_TCP_ACK);
	assert_int_equal(tt_count_state(c.s.stk, TCP_ESTABLISHED), 1);
	peer_syn(&c, PEER_PORT + 1);
	assert_int_equal(tt_count_state(c.s.stk, TCP_SYN_RECV), 1);
	t4_fini(&c);
	NO_LEAKS();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_destroy_with_embryonic_child),
		cmocka_unit_test(test_close_listener_then_destroy),
		cmocka_unit_test(test_close_listener_child_expires),
		cmocka_unit_test(test_destroy_with_unaccepted_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
