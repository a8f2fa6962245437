/*
 * tests/unit/test_tcp_isn.c - ISNs (RFC 6528), timestamp offsets, ephemeral
 * port selection (RFC 6056 Alg. 4 with Linux's even-first parity) and SYN
 * cookies (tcp/tcp_isn.c, tcp/tcp_cookie.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "tcp/tcp_isn.h"
#include "tcp/tcp_cookie.h"

struct fixture {
	struct ns_vclock vc;
	struct ns_seeded_rng rng;
	struct ns_stack *stk;
	struct ns_tcp_secrets sec;
	struct ns_addr a, b, c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->vc.now = 1000ull * NS_NSEC_PER_SEC;
	ns_seeded_rng_init(&f->rng, 42);
	struct ns_stack_opts o = { .clock = ns_vclock_clock(&f->vc), .rng = ns_seeded_rng(&f->rng) };
	assert_int_equal(ns_stack_create(&o, &f->stk), 0);
	ns_tcp_secrets_init(&f->sec, f->stk);
	assert_int_equal(ns_addr_parse("198.18.0.1", &f->a, NULL), 0);
	assert_int_equal(ns_addr_parse("198.18.0.2", &f->b, NULL), 0);
	assert_int_equal(ns_addr_parse("fd00:5eed::2", &f->c, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ns_stack_destroy(f->stk);
	free(f);
	return 0;
}

static void test_isn_clock_and_hash(void **state)
{
	struct fixture *f = *state;
	uint64_t t = f->vc.now;
	uint32_t i1 = ns_tcp_isn(&f->sec, &f->a, 40000, &f->b, 80, t);
	/* same tuple: advances with the 4 µs clock */
	assert_int_equal(ns_tcp_isn(&f->sec, &f->a, 40000, &f->b, 80, t + 4000), i1 + 1);
	assert_int_equal(ns_tcp_isn(&f->sec, &f->a, 40000, &f->b, 80, t + 4000000), i1 + 1000);
	/* any tuple change moves it unpredictably */
	uint32_t i2 = ns_tcp_isn(&f->sec, &f->a, 40001, &f->b, 80, t);
	uint32_t i3 = ns_tcp_isn(&f->sec, &f->a, 40000, &f->b, 81, t);
	uint32_t i4 = ns_tcp_isn(&f->sec, &f->b, 40000, &f->a, 80, t);
	assert_int_not_equal(i1, i2);
	assert_int_not_equal(i1, i3);
	assert_int_not_equal(i1, i4);
	/* different secret, different ISN */
	struct ns_tcp_secrets s2;
	ns_tcp_secrets_init(&s2, f->stk);
	assert_int_not_equal(ns_tcp_isn(&s2, &f->a, 40000, &f->b, 80, t), i1);
	/* ts offset depends on addresses only */
	assert_int_equal(ns_tcp_ts_offset(&f->sec, &f->a, &f->b), ns_tcp_ts_offset(&f->sec, &f->a, &f->b));
	assert_int_not_equal(ns_tcp_ts_offset(&f->sec, &f->a, &f->b), ns_tcp_ts_offset(&f->sec, &f->a, &f->c));
}

struct ports {
	uint8_t used[65536];
	unsigned asked;
};

static bool port_free(void *ctx, uint16_t p)
{
	struct ports *ps = ctx;
	ps->asked++;
	return !ps->used[p];
}

static void test_port_pick_even_first_and_exhaustion(void **state)
{
	struct fixture *f = *state;
	struct ns_tcp_portsel sel;
	ns_tcp_portsel_init(&sel, f->stk, 0, 0);
	assert_int_equal(sel.lo, 32768);
	assert_int_equal(sel.hi, 60999);
	struct ports *ps = calloc(1, sizeof(*ps));
	uint16_t p, first = 0;
	/* all even ports of the range first, then odd ones */
	unsigned even = (60999 - 32768 + 1 + 1) / 2;    /* 14116 */
	for (unsigned i = 0; i < 60999 - 32768 + 1; i++) {
		assert_int_equal(ns_tcp_port_pick(&sel, &f->sec, &f->a, &f->b, 80, port_free, ps, &p), 0);
		assert_true(p >= 32768 && p <= 60999);
		assert_false(ps->used[p]);
		if (i < even)
			assert_int_equal(p % 2, 0);
		else
			assert_int_equal(p % 2, 1);
		if (!i)
			first = p;
		ps->used[p] = 1;
	}
	(void)first;
	assert_int_equal(ns_tcp_port_pick(&sel, &f->sec, &f->a, &f->b, 80, port_free, ps, &p),
			 -NS_EADDRNOTAVAIL);
	free(ps);
}

static void test_port_pick_spread(void **state)
{
	struct fixture *f = *state;
	struct ns_tcp_portsel sel;
	ns_tcp_portsel_init(&sel, f->stk, 0, 0);
	struct ports *ps = calloc(1, sizeof(*ps));
	/* different destinations start at different, unpredictable offsets */
	uint16_t p1, p2, p3;
	assert_int_equal(ns_tcp_port_pick(&sel, &f->sec, &f->a, &f->b, 80, port_free, ps, &p1), 0);
	assert_int_equal(ns_tcp_port_pick(&sel, &f->sec, &f->a, &f->b, 443, port_free, ps, &p2), 0);
	assert_int_equal(ns_tcp_port_pick(&sel, &f->sec, &f->a, &f->c, 80, port_free, ps, &p3), 0);
	assert_false(p1 == p2 && p2 == p3);
	/* the same destination does not reuse the same port next (table perturbation) */
	uint16_t p4;
	assert_int_equal(ns_tcp_port_pick(&sel, &f->sec, &f->a, &f->b, 80, port_free, ps, &p4), 0);
	assert_int_not_equal(p1, p4);
	/* a tiny range with one port */
	ns_tcp_portsel_init(&sel, f->stk, 5000, 5000);
	assert_int_equal(ns_tcp_port_pick(&sel, &f->sec, &f->a, &f->b, 80, port_free, ps, &p1), 0);
	assert_int_equal(p1, 5000);
	ps->used[5000] = 1;
	assert_int_equal(ns_tcp_port_pick(&sel, &f->sec, &f->a, &f->b, 80, port_free, ps, &p1),
			 -NS_EADDRNOTAVAIL);
	free(ps);
}

static void tuple(struct fixture *f, struct ns_syncookie_tuple *t)
{
	*t = (struct ns_syncookie_tuple){ .laddr = f->a, .raddr = f->b, .lport = 80, .rport = 51000 };
}

static void test_cookie_roundtrip_mss_table(void **state)
{
	struct fixture *f = *state;
	struct ns_syncookie_tuple t;
	tuple(f, &t);
	const uint16_t in[] = { 100, 536, 1299, 1300, 1439, 1440, 1459, 1460, 9000 };
	const uint16_t out[] = { 536, 536, 536, 1300, 1300, 1440, 1440, 1460, 1460 };
	for (unsigned i = 0; i < NS_ARRAY_SIZE(in); i++) {
		uint16_t mss;
		uint32_t isn = 0x12345678u + i;
		uint32_t c = ns_syncookie_make(&f->sec, &t, isn, in[i], f->vc.now, &mss);
		assert_int_equal(mss, out[i]);
		struct ns_syncookie_opts o;
		assert_int_equal(ns_syncookie_check(&f->sec, &t, isn + 1, c + 1, f->vc.now, false, 0, &o), 0);
		assert_int_equal(o.mss, out[i]);
		assert_false(o.ts);
	}
	/* IPv6 table */
	struct ns_syncookie_tuple t6 = { .laddr = f->c, .raddr = f->c, .lport = 80, .rport = 1 };
	uint16_t mss;
	ns_syncookie_make(&f->sec, &t6, 1, 1440, f->vc.now, &mss);
	assert_int_equal(mss, 1440);
	ns_syncookie_make(&f->sec, &t6, 1, 9000, f->vc.now, &mss);
	assert_int_equal(mss, 8940);
	ns_syncookie_make(&f->sec, &t6, 1, 1000, f->vc.now, &mss);
	assert_int_equal(mss, 1220);
}

static void test_cookie_rejects_forgery_and_age(void **state)
{
	struct fixture *f = *state;
	struct ns_syncookie_tuple t;
	tuple(f, &t);
	struct ns_syncookie_opts o;
	uint64_t now = f->vc.now;
	uint32_t c = ns_syncookie_make(&f->sec, &t, 1000, 1460, now, NULL);
	/* valid for the current and the previous minute counter */
	assert_int_equal(ns_syncookie_check(&f->sec, &t, 1001, c + 1, now + 59 * NS_NSEC_PER_SEC, false, 0, &o), 0);
	uint64_t next_min = (now / (60 * NS_NSEC_PER_SEC) + 1) * 60 * NS_NSEC_PER_SEC;
	assert_int_equal(ns_syncookie_check(&f->sec, &t, 1001, c + 1, next_min + 1, false, 0, &o), 0);
	assert_int_equal(ns_syncookie_check(&f->sec, &t, 1001, c + 1, next_min + 60 * NS_NSEC_PER_SEC, false, 0, &o),
			 -NS_EINVAL);
	/* wrong peer ISN, wrong tuple, flipped bits (as in Linux, the low 2 bits
	 * only select among the 4 MSS values, so they are not checked here) */
	assert_int_equal(ns_syncookie_check(&f->sec, &t, 1001 + 0x10000, c + 1, now, false, 0, &o), -NS_EINVAL);
	struct ns_syncookie_tuple t2 = t;
	t2.rport++;
	assert_int_equal(ns_syncookie_check(&f->sec, &t2, 1001, c + 1, now, false, 0, &o), -NS_EINVAL);
	unsigned accepted = 0;
	for (unsigned bit = 2; bit < 32; bit++)
		accepted += ns_syncookie_check(&f->sec, &t, 1001, (c ^ (1u << bit)) + 1, now, false, 0, &o) == 0;
	assert_int_equal(accepted, 0);
	/* random guesses essentially never pass (4 valid index values of 2^24) */
	accepted = 0;
	uint32_t x = 7;
	for (unsigned i = 0; i < 100000; i++) {
		x = x * 1664525u + 1013904223u;
		accepted += ns_syncookie_check(&f->sec, &t, 1001, x, now, false, 0, &o) == 0;
	}
	assert_true(accepted < 3);
}

static void test_cookie_timestamp_options(void **state)
{
	struct fixture *f = *state;
	struct ns_syncookie_tuple t;
	tuple(f, &t);
	struct ns_syncookie_opts in = { .ts = true, .wscale_ok = true, .snd_wscale = 7, .sack_ok = true };
	uint32_t now_ts = 0x10000005u;
	uint32_t tsval = ns_syncookie_tsval(now_ts, &in);
	assert_int_equal(tsval & 0x3f, 7 | 0x10);
	assert_true((int32_t)(tsval - now_ts) <= 0);    /* never in the future */
	assert_true(now_ts - tsval < 64);
	uint32_t c = ns_syncookie_make(&f->sec, &t, 99, 1460, f->vc.now, NULL);
	struct ns_syncookie_opts o;
	assert_int_equal(ns_syncookie_check(&f->sec, &t, 100, c + 1, f->vc.now, true, tsval, &o), 0);
	assert_true(o.ts);
	assert_true(o.wscale_ok);
	assert_int_equal(o.snd_wscale, 7);
	assert_true(o.sack_ok);
	assert_false(o.ecn);
	assert_int_equal(o.mss, 1460);
	/* no window scaling, ECN */
	struct ns_syncookie_opts in2 = { .ts = true, .ecn = true };
	tsval = ns_syncookie_tsval(0x1000003fu, &in2);
	assert_int_equal(tsval & 0x3f, 0xf | 0x20);
	assert_int_equal(ns_syncookie_check(&f->sec, &t, 100, c + 1, f->vc.now, true, tsval, &o), 0);
	assert_false(o.wscale_ok);
	assert_false(o.sack_ok);
	assert_true(o.ecn);
	/* low bits above now: stepped back one 64-tick block */
	tsval = ns_syncookie_tsval(0x10000000u, &in);
	assert_int_equal(tsval, 0x10000000u - 64 + (7 | 0x10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_isn_clock_and_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_pick_even_first_and_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_pick_spread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_roundtrip_mss_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_rejects_forgery_and_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_timestamp_options, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
