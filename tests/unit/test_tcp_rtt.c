/*
 * tests/unit/test_tcp_rtt.c - RTT estimator and RTO (tcp/tcp_rtt.c).
 * Expected values follow Linux's tcp_rtt_estimator/tcp_set_rto: a first
 * sample m gives RTO = m + max(2m, 200 ms), tcpi_rttvar = m/2; the RTO never
 * drops below srtt + 200 ms; backoff doubles up to 120 s.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "tcp/tcp_rtt.h"

static void test_initial_rto(void **state)
{
	(void)state;
	struct ns_tcp_rtt r;
	ns_tcp_rtt_init(&r);
	assert_false(ns_tcp_rtt_has_sample(&r));
	assert_int_equal(ns_tcp_rtt_rto(&r), 1000000);
	ns_tcp_rtt_backoff(&r);
	assert_int_equal(ns_tcp_rtt_rto(&r), 2000000);
	ns_tcp_rtt_syn_lost(&r);        /* RFC 6298 §5.7: 3 s after a lost SYN */
	assert_int_equal(ns_tcp_rtt_rto(&r), 3000000);
}

static void test_first_sample(void **state)
{
	(void)state;
	struct ns_tcp_rtt r;
	ns_tcp_rtt_init(&r);
	ns_tcp_rtt_sample(&r, 100000, 1, 1, 0);         /* 100 ms */
	assert_int_equal(ns_tcp_rtt_srtt(&r), 100000);
	assert_int_equal(ns_tcp_rtt_rttvar(&r), 50000);
	assert_int_equal(ns_tcp_rtt_rto(&r), 300000);   /* 3 * RTT */
	assert_int_equal(ns_tcp_rtt_min(&r), 100000);
	/* a LAN RTT: the 200 ms floor on the variance term dominates */
	ns_tcp_rtt_init(&r);
	ns_tcp_rtt_sample(&r, 1000, 1, 1, 0);
	assert_int_equal(ns_tcp_rtt_rto(&r), 201000);
	assert_int_equal(ns_tcp_rtt_rttvar(&r), 500);
	/* 60 µs: Linux shows tcpi_rto 201000 (jiffies), not 200060 */
	ns_tcp_rtt_init(&r);
	ns_tcp_rtt_sample(&r, 60, 1, 1, 0);
	assert_int_equal(ns_tcp_rtt_srtt(&r), 60);
	assert_int_equal(ns_tcp_rtt_rto(&r), 201000);
}

static void test_steady_state_converges(void **state)
{
	(void)state;
	struct ns_tcp_rtt r;
	ns_tcp_rtt_init(&r);
	uint32_t una = 1000, nxt = 1000;
	for (int i = 0; i < 200; i++) {
		nxt += 1000;
		ns_tcp_rtt_sample(&r, 50000, una, nxt, (uint64_t)i * 50000);
		una += 1000;
	}
	assert_int_equal(ns_tcp_rtt_srtt(&r), 50000);
	/* mdev decays toward 0; rttvar is floored at rto_min */
	assert_true(ns_tcp_rtt_rttvar(&r) < 1000);
	assert_int_equal(ns_tcp_rtt_rto(&r), 250000);
}

static void test_variance_raises_rto(void **state)
{
	(void)state;
	struct ns_tcp_rtt r;
	ns_tcp_rtt_init(&r);
	ns_tcp_rtt_sample(&r, 100000, 1, 1, 0);
	/* a 1 s spike: err = 900 ms, srtt += 112.5 ms, mdev = 3/4*50 + 1/4*900 = 262.5 ms */
	ns_tcp_rtt_sample(&r, 1000000, 1, 1, 1);
	assert_int_equal(ns_tcp_rtt_srtt(&r), 212500);
	assert_int_equal(ns_tcp_rtt_rttvar(&r), 262500);
	/* rttvar term = 4 * mdev = 1.05 s: RTO = 212.5 ms + 1050 ms, in whole ms */
	assert_int_equal(ns_tcp_rtt_rto(&r), 1263000);
	/* a drop in RTT weighs 1/8: err = 112.5 ms below, mdev changes by (112.5-262.5)/8/4... */
	uint32_t before = r.mdev_us;
	ns_tcp_rtt_sample(&r, 100000, 1, 1, 2);
	assert_true(r.mdev_us < before);
}

static void test_rttvar_decays_once_per_rtt(void **state)
{
	(void)state;
	struct ns_tcp_rtt r;
	ns_tcp_rtt_init(&r);
	ns_tcp_rtt_sample(&r, 100000, 100, 200, 0);
	ns_tcp_rtt_sample(&r, 1000000, 100, 200, 1);
	uint32_t var = r.rttvar_us;
	/* more small samples within the same RTT window: rttvar stays */
	ns_tcp_rtt_sample(&r, 100000, 150, 300, 2);
	ns_tcp_rtt_sample(&r, 100000, 200, 300, 3);
	assert_int_equal(r.rttvar_us, var);
	/* the window passes (snd_una beyond rtt_seq = 200): the window's max was the
	 * spike itself, so nothing decays yet; a new window starts at 400 */
	ns_tcp_rtt_sample(&r, 100000, 201, 400, 4);
	assert_int_equal(r.rttvar_us, var);
	/* the next window saw only small mdev: rttvar decays by a quarter of the gap */
	ns_tcp_rtt_sample(&r, 100000, 401, 500, 5);
	assert_true(r.rttvar_us < var);
	assert_true(r.rttvar_us >= r.rto_min_us);
	assert_true(var - r.rttvar_us <= (var - r.rto_min_us) / 4);
	assert_true(r.rttvar_us > r.mdev_max_us);
}

static void test_backoff_capped(void **state)
{
	(void)state;
	struct ns_tcp_rtt r;
	ns_tcp_rtt_init(&r);
	ns_tcp_rtt_sample(&r, 100000, 1, 1, 0);
	uint32_t expect[] = { 300000, 600000, 1200000, 2400000, 4800000, 9600000, 19200000,
			      38400000, 76800000, 120000000, 120000000 };
	for (unsigned i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		assert_int_equal(ns_tcp_rtt_rto(&r), expect[i]);
		ns_tcp_rtt_backoff(&r);
	}
	for (int i = 0; i < 100; i++)
		ns_tcp_rtt_backoff(&r);
	assert_int_equal(ns_tcp_rtt_rto(&r), 120000000);
	ns_tcp_rtt_reset_backoff(&r);
	assert_int_equal(ns_tcp_rtt_rto(&r), 300000);
	/* a huge sample is capped at 120 s RTO */
	ns_tcp_rtt_init(&r);
	ns_tcp_rtt_sample(&r, 200000000, 1, 1, 0);
	assert_int_equal(ns_tcp_rtt_rto(&r), 120000000);
}

static void test_karn_and_timestamps(void **state)
{
	(void)state;
	assert_int_equal(ns_tcp_rtt_seq_sample(1000, 5000, false), 4000);
	assert_int_equal(ns_tcp_rtt_seq_sample(1000, 5000, true), -1);  /* Karn */
	assert_int_equal(ns_tcp_rtt_seq_sample(5000, 1000, false), -1);
	/* RFC 7323 §4.1: RTT from the echo, ms ticks */
	assert_int_equal(ns_tcp_rtt_ts_sample(1050, 1000, 1), 50000);
	assert_int_equal(ns_tcp_rtt_ts_sample(1000, 1000, 1), 1000);    /* < 1 tick counts as 1 */
	assert_int_equal(ns_tcp_rtt_ts_sample(1000, 1000, 0), 0);
	assert_int_equal(ns_tcp_rtt_ts_sample(1000, 1001, 1), -1);      /* echo from the future */
	assert_int_equal(ns_tcp_rtt_ts_sample(1000, 0, 1), -1);         /* no echo */
	assert_int_equal(ns_tcp_rtt_ts_sample(5, 0xfffffffbu, 1), 10000); /* wraps */
	assert_int_equal(ns_tcp_rtt_ts_sample(0x7fffffffu, 1, 1), -1);  /* absurd */
	assert_int_equal(ns_tcp_ts_now(2500000000ull, 7), 2507);
}

static void test_min_rtt_window(void **state)
{
	(void)state;
	struct ns_tcp_rtt r;
	ns_tcp_rtt_init(&r);
	ns_tcp_rtt_sample(&r, 30000, 1, 1, 0);
	ns_tcp_rtt_sample(&r, 10000, 1, 1, 1000);
	ns_tcp_rtt_sample(&r, 50000, 1, 1, 2000);
	assert_int_equal(ns_tcp_rtt_min(&r), 10000);
	/* older than 300 s: replaced by the next sample */
	ns_tcp_rtt_sample(&r, 40000, 1, 1, 1000 + NS_TCP_MIN_RTT_WLEN_US + 1);
	assert_int_equal(ns_tcp_rtt_min(&r), 40000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_rto),
		cmocka_unit_test(test_first_sample),
		cmocka_unit_test(test_steady_state_converges),
		cmocka_unit_test(test_variance_raises_rto),
		cmocka_unit_test(test_rttvar_decays_once_per_rtt),
		cmocka_unit_test(test_backoff_capped),
		cmocka_unit_test(test_karn_and_timestamps),
		cmocka_unit_test(test_min_rtt_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
