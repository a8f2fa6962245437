/*
 * tests/unit/test_tcp_conn.c - TCP between two stacks over paired channels
 * on a virtual clock: handshake, data both ways, half-close, FIN exchange
 * through every closing state, simultaneous open and close, RST cases,
 * listener backlog, nonblocking connect, TIME_WAIT.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "helpers/ns_test.h"
#include "helpers/tcp_helpers.h"

static void test_handshake_data_fin(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, NULL), 0);
	struct ns_stack *a = p.a.stk, *b = p.b.stk;
	int ls = tt_listen(b, 7000, 16);
	int c = tt_connect_nb(a, "198.18.0.2", 7000);
	struct tt_accept acc = { b, ls, -1 };
	assert_true(ns_test_pump(&p, tt_accepted, &acc, 2 * NS_NSEC_PER_SEC));
	int s = acc.fd;
	assert_true(tt_state(a, c) == TCP_ESTABLISHED);
	assert_true(tt_state(b, s) == TCP_ESTABLISHED);
	assert_int_equal(tt_sock_error(a, c), 0);
	/* data a -> b */
	assert_int_equal(ns_send(a, c, "hello", 5, 0), 5);
	char buf[64];
	struct tt_readable rd = { b, s };
	assert_true(ns_test_pump(&p, tt_is_readable, &rd, NS_NSEC_PER_SEC));
	assert_int_equal(ns_recv(b, s, buf, sizeof(buf), NS_MSG_DONTWAIT), 5);
	assert_memory_equal(buf, "hello", 5);
	/* b -> a */
	assert_int_equal(ns_send(b, s, "world!", 6, 0), 6);
	struct tt_readable rda = { a, c };
	assert_true(ns_test_pump(&p, tt_is_readable, &rda, NS_NSEC_PER_SEC));
	assert_int_equal(ns_recv(a, c, buf, sizeof(buf), NS_MSG_DONTWAIT), 6);
	assert_memory_equal(buf, "world!", 6);
	assert_int_equal(ns_recv(a, c, buf, sizeof(buf), NS_MSG_DONTWAIT), -NS_EAGAIN);
	/* active close by a: FIN_WAIT1 -> FIN_WAIT2; b sees EOF (CLOSE_WAIT) */
	assert_int_equal(ns_shutdown(a, c, NS_SHUT_WR), 0);
	assert_true(ns_test_pump(&p, tt_is_readable, &rd, NS_NSEC_PER_SEC));
	assert_int_equal(ns_recv(b, s, buf, sizeof(buf), NS_MSG_DONTWAIT), 0);
	assert_int_equal(tt_state(b, s), TCP_CLOSE_WAIT);
	ns_test_settle(&p);
	assert_int_equal(tt_state(a, c), TCP_FIN_WAIT2);
	/* half-close: b can still send */
	assert_int_equal(ns_send(b, s, "late", 4, 0), 4);
	assert_true(ns_test_pump(&p, tt_is_readable, &rda, NS_NSEC_PER_SEC));
	assert_int_equal(ns_recv(a, c, buf, sizeof(buf), NS_MSG_DONTWAIT), 4);
	assert_int_equal(ns_send(a, c, "x", 1, NS_MSG_NOSIGNAL), -NS_EPIPE);
	/* b closes: LAST_ACK -> CLOSED; a -> TIME_WAIT (a record holds the
	 * tuple; the socket itself is closed, as on Linux) */
	assert_int_equal(ns_close(b, s), 0);
	ns_test_settle(&p);
	assert_int_equal(tt_state(a, c), TCP_CLOSE);
	assert_int_equal(tt_count_state(a, TCP_TIME_WAIT), 1);
	assert_int_equal(ns_recv(a, c, buf, sizeof(buf), NS_MSG_DONTWAIT), 0);
	assert_int_equal(ns_close(a, c), 0);
	assert_int_equal(ns_close(b, ls), 0);
	/* TIME_WAIT lasts 60 s */
	ns_test_advance(&p, 59 * NS_NSEC_PER_SEC);
	assert_int_equal(tt_count_state(a, TCP_TIME_WAIT), 1);
	ns_test_advance(&p, 2 * NS_NSEC_PER_SEC);
	assert_int_equal(tt_count_state(a, TCP_TIME_WAIT), 0);
	uint64_t v;
	assert_int_equal(ns_stat_get(a, "TcpActiveOpens", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ns_stat_get(b, "TcpPassiveOpens", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ns_stat_get(a, "TcpCurrEstab", &v), 0);
	assert_int_equal(v, 0);
	ns_test_settle(&p);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_data_fin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
