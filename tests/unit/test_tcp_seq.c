/*
 * tests/unit/test_tcp_seq.c - sequence arithmetic (tcp/tcp_seq.h), RFC 9293 §3.4.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "tcp/tcp_seq.h"

static void test_compare_wraps(void **state)
{
	(void)state;
	assert_true(ns_seq_lt(1, 2));
	assert_false(ns_seq_lt(2, 2));
	assert_true(ns_seq_leq(2, 2));
	assert_true(ns_seq_lt(0xfffffff0u, 0x10));      /* across the wrap */
	assert_true(ns_seq_gt(0x10, 0xfffffff0u));
	assert_true(ns_seq_geq(0x10, 0x10));
	assert_false(ns_seq_gt(0x10, 0x10));
	/* exactly 2^31 apart is "less" in both directions' negation sense: a-b = INT_MIN */
	assert_true(ns_seq_lt(0, 0x80000000u));
	assert_true(ns_seq_lt(0x80000000u, 0));
	assert_true(ns_seq_gt(0x7fffffffu, 0));
	assert_int_equal(ns_seq_max(0xfffffff0u, 5), 5);
	assert_int_equal(ns_seq_min(0xfffffff0u, 5), 0xfffffff0u);
	assert_int_equal(ns_seq_diff(0xfffffff0u, 0x10), 0x20);
	assert_int_equal(ns_seq_diff(0x10, 0xfffffff0u), 0);
}

static void test_between_and_window(void **state)
{
	(void)state;
	assert_true(ns_seq_between(5, 5, 10));
	assert_true(ns_seq_between(10, 5, 10));
	assert_false(ns_seq_between(11, 5, 10));
	assert_false(ns_seq_between(4, 5, 10));
	assert_true(ns_seq_between(2, 0xfffffffeu, 3));  /* wrapped range */
	assert_false(ns_seq_between(4, 0xfffffffeu, 3));
	assert_true(ns_seq_in_window(100, 100, 1));
	assert_false(ns_seq_in_window(101, 100, 1));
	assert_false(ns_seq_in_window(100, 100, 0));
	assert_true(ns_seq_in_window(3, 0xffffff00u, 0x200));
}

static void test_acceptable_rfc9293_table(void **state)
{
	(void)state;
	/* len 0, wnd 0: only seq == rcv_nxt */
	assert_true(ns_seq_acceptable(1000, 0, 1000, 0));
	assert_false(ns_seq_acceptable(1001, 0, 1000, 0));
	/* len 0, wnd > 0 */
	assert_true(ns_seq_acceptable(1000, 0, 1000, 10));
	assert_true(ns_seq_acceptable(1009, 0, 1000, 10));
	assert_false(ns_seq_acceptable(1010, 0, 1000, 10));
	assert_false(ns_seq_acceptable(999, 0, 1000, 10));
	/* len > 0, wnd 0: never */
	assert_false(ns_seq_acceptable(1000, 5, 1000, 0));
	/* len > 0, wnd > 0: first or last byte inside */
	assert_true(ns_seq_acceptable(995, 10, 1000, 10));      /* tail overlaps */
	assert_true(ns_seq_acceptable(1005, 10, 1000, 10));     /* head inside */
	assert_false(ns_seq_acceptable(990, 10, 1000, 10));     /* ends at 999 */
	assert_false(ns_seq_acceptable(1010, 10, 1000, 10));
	/* wrap */
	assert_true(ns_seq_acceptable(0xfffffffau, 10, 0xfffffffcu, 100));
}

static void test_linux_acceptable(void **state)
{
	(void)state;
	/* Linux tcp_sequence: end >= rcv_wup and seq <= rcv_nxt + wnd */
	assert_true(ns_seq_linux_acceptable(1000, 1000, 1000, 1000, 0));   /* pure ACK, zero wnd */
	assert_true(ns_seq_linux_acceptable(1010, 1010, 1000, 1000, 10));  /* right edge */
	assert_false(ns_seq_linux_acceptable(1011, 1011, 1000, 1000, 10));
	assert_true(ns_seq_linux_acceptable(900, 1000, 1000, 1000, 10));   /* old data ending at wup */
	assert_false(ns_seq_linux_acceptable(900, 999, 1000, 1000, 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compare_wraps),
		cmocka_unit_test(test_between_and_window),
		cmocka_unit_test(test_acceptable_rfc9293_table),
		cmocka_unit_test(test_linux_acceptable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
