/*
 * tests/unit/test_tcp_rack.c - RACK-TLP (tcp/tcp_rack.c): delivery tracking,
 * time-based loss marking and the reordering timer, the adaptive reordering
 * window (D-SACK steps and persistence), TLP scheduling, PTO and episodes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "tcp/tcp_rack.h"
#include "tcp/tcp_cc.h"

#define MS 1000ull

/* a retransmission queue of 10 segments sent 1 ms apart from t = 1 s */
struct q {
	struct ns_rack_seg s[10];
	unsigned pos;
	unsigned lost_count;
};

static void q_init(struct q *q)
{
	for (unsigned i = 0; i < 10; i++)
		q->s[i] = (struct ns_rack_seg){ .seq = 1000 + i * 1000, .end = 2000 + i * 1000,
						.xmit_us = 1000 * MS + i * MS, .cookie = &q->s[i] };
	q->pos = 0;
	q->lost_count = 0;
}

static bool q_next(void *ctx, struct ns_rack_seg *s)
{
	struct q *q = ctx;
	if (q->pos >= 10)
		return false;
	*s = q->s[q->pos++];
	return true;
}

static void q_lost(void *ctx, const struct ns_rack_seg *s)
{
	struct q *q = ctx;
	struct ns_rack_seg *mine = s->cookie;
	mine->flags |= NS_RACK_SEG_LOST;
	q->lost_count++;
}

static void test_rack_marks_older_segments_lost(void **state)
{
	(void)state;
	struct ns_rack r;
	struct q q;
	ns_rack_init(&r);
	q_init(&q);
	/* RTT 50 ms: segment 5 (sent at 1.004 s) SACKed at 1.054 s */
	uint64_t now = 1054 * MS;
	q.s[4].flags |= NS_RACK_SEG_SACKED;
	ns_rack_on_delivered(&r, &q.s[4], now, 50 * MS);
	assert_true(r.advanced);
	assert_int_equal(r.rtt_us, 50 * MS);
	assert_int_equal(r.end_seq, 6000);
	/* reo_wnd = min_rtt/4 = 12.5 ms (reordering seen so it is not zeroed) */
	ns_rack_reordering_seen(&r);
	uint32_t reo = ns_rack_reo_wnd(&r, 50 * MS, 50 * MS, false, 1);
	assert_int_equal(reo, 12500);
	uint32_t timeout;
	q.pos = 0;
	assert_int_equal(ns_rack_detect_loss(&r, reo, now, q_next, q_lost, &q, &timeout), 0);
	/* segments 1-4 (sent at 1.000-1.003 s) expire at xmit + 50 + 12.5 ms; like
	 * Linux, the timer covers the last of them: 1.0655 - 1.054 = 11.5 ms */
	assert_int_equal(timeout, 11500);
	assert_false(r.advanced);
	/* 9 ms later: segments 1..? sent at 1.000..1.003; lost when now - xmit >= 62.5 ms */
	now = 1063 * MS;
	q.pos = 0;
	assert_int_equal(ns_rack_detect_loss(&r, reo, now, q_next, q_lost, &q, &timeout), 1);
	assert_true(q.s[0].flags & NS_RACK_SEG_LOST);
	assert_false(q.s[1].flags & NS_RACK_SEG_LOST);
	assert_int_equal(timeout, 2500);                        /* segment 4 at 1.0655 s */
	/* segments sent after RACK.segment are never marked */
	now = 2000 * MS;
	q.pos = 0;
	assert_int_equal(ns_rack_detect_loss(&r, reo, now, q_next, q_lost, &q, &timeout), 3);
	for (unsigned i = 5; i < 10; i++)
		assert_false(q.s[i].flags & NS_RACK_SEG_LOST);
	assert_int_equal(timeout, 0);
}

static void test_rack_no_reordering_zero_window(void **state)
{
	(void)state;
	struct ns_rack r;
	ns_rack_init(&r);
	/* before any reordering: 0 in recovery or with 3 SACKed segments */
	assert_int_equal(ns_rack_reo_wnd(&r, 40 * MS, 50 * MS, true, 0), 0);
	assert_int_equal(ns_rack_reo_wnd(&r, 40 * MS, 50 * MS, false, 3), 0);
	assert_int_equal(ns_rack_reo_wnd(&r, 40 * MS, 50 * MS, false, 2), 10 * MS);
	/* capped at srtt */
	r.reo_wnd_steps = 16;
	ns_rack_reordering_seen(&r);
	assert_int_equal(ns_rack_reo_wnd(&r, 40 * MS, 50 * MS, true, 5), 50 * MS);
	/* with window 0 a segment sent before RACK.segment is lost once RACK.rtt passed */
	struct ns_rack_seg delivered = { .seq = 2000, .end = 3000, .xmit_us = 10 * MS };
	ns_rack_init(&r);
	ns_rack_on_delivered(&r, &delivered, 40 * MS, 30 * MS);
	struct ns_rack_seg older = { .seq = 1000, .end = 2000, .xmit_us = 9 * MS };
	uint32_t t = 0;
	assert_false(ns_rack_seg_check(&r, &older, 0, 38 * MS, &t));
	assert_int_equal(t, 1 * MS);
	assert_true(ns_rack_seg_check(&r, &older, 0, 39 * MS, &t));
	/* same send time: ordered by sequence */
	struct ns_rack_seg same = { .seq = 1000, .end = 2000, .xmit_us = 10 * MS };
	assert_true(ns_rack_seg_check(&r, &same, 0, 40 * MS, NULL));
	struct ns_rack_seg later = { .seq = 3000, .end = 4000, .xmit_us = 10 * MS };
	assert_false(ns_rack_seg_check(&r, &later, 0, 400 * MS, NULL));
}

static void test_rack_ambiguous_retransmit_ignored(void **state)
{
	(void)state;
	struct ns_rack r;
	ns_rack_init(&r);
	/* retransmitted at 100 ms, ACKed at 105 ms with min_rtt 30 ms: the original was ACKed */
	struct ns_rack_seg s = { .seq = 1, .end = 2, .xmit_us = 100 * MS, .flags = NS_RACK_SEG_RETRANS };
	ns_rack_on_delivered(&r, &s, 105 * MS, 30 * MS);
	assert_false(r.advanced);
	assert_int_equal(r.xmit_us, 0);
	/* ACKed 40 ms after the retransmission: counts */
	ns_rack_on_delivered(&r, &s, 140 * MS, 30 * MS);
	assert_true(r.advanced);
	assert_int_equal(r.xmit_us, 100 * MS);
	assert_int_equal(r.rtt_us, 40 * MS);
	/* an older segment delivered later does not move RACK.xmit back */
	struct ns_rack_seg old = { .seq = 0, .end = 1, .xmit_us = 50 * MS };
	ns_rack_on_delivered(&r, &old, 150 * MS, 30 * MS);
	assert_int_equal(r.xmit_us, 100 * MS);
	assert_int_equal(r.rtt_us, 100 * MS);                   /* Linux updates rtt anyway */
}

static void test_rack_reo_wnd_dsack_adapts(void **state)
{
	(void)state;
	struct ns_rack r;
	ns_rack_init(&r);
	assert_int_equal(r.reo_wnd_steps, 1);
	/* a D-SACK: one step up, persists 16 recoveries */
	ns_rack_update_reo_wnd(&r, true, 1000, 5000, false);
	assert_int_equal(r.reo_wnd_steps, 2);
	/* another D-SACK within the same round trip: ignored */
	ns_rack_update_reo_wnd(&r, true, 3000, 6000, false);
	assert_int_equal(r.reo_wnd_steps, 2);
	/* after the round (snd_una passed 5000): counts */
	ns_rack_update_reo_wnd(&r, true, 5001, 9000, false);
	assert_int_equal(r.reo_wnd_steps, 3);
	ns_rack_reordering_seen(&r);
	assert_int_equal(ns_rack_reo_wnd(&r, 40 * MS, 100 * MS, false, 0), 30 * MS);
	/* 16 recoveries without D-SACK: back to 1 */
	for (int i = 0; i < 15; i++) {
		ns_rack_update_reo_wnd(&r, false, 10000, 10000, true);
		assert_int_equal(r.reo_wnd_steps, 3);
	}
	ns_rack_update_reo_wnd(&r, false, 10000, 10000, true);
	assert_int_equal(r.reo_wnd_steps, 1);
	/* bounded */
	for (uint32_t i = 0; i < 40; i++)
		ns_rack_update_reo_wnd(&r, true, 20000 + i * 10, 20000 + i * 10 + 5, false);
	assert_int_equal(r.reo_wnd_steps, NS_RACK_REO_WND_STEPS_MAX);
}

static void test_tlp_pto(void **state)
{
	(void)state;
	/* 2*SRTT + 2 ms with several segments out */
	assert_int_equal(ns_rack_tlp_pto(50 * MS, 10, 0), 102 * MS);
	/* one segment out: + WCDelAckT 200 ms */
	assert_int_equal(ns_rack_tlp_pto(50 * MS, 1, 0), 300 * MS);
	/* no RTT sample: 1 s */
	assert_int_equal(ns_rack_tlp_pto(0, 3, 0), 1000 * MS);
	/* never after the RTO */
	assert_int_equal(ns_rack_tlp_pto(50 * MS, 1, 250 * MS), 250 * MS);
	struct ns_rack r;
	ns_rack_init(&r);
	assert_true(ns_rack_tlp_may_schedule(&r, true, true, 3));
	assert_false(ns_rack_tlp_may_schedule(&r, false, true, 3));     /* no SACK */
	assert_false(ns_rack_tlp_may_schedule(&r, true, false, 3));     /* in recovery */
	assert_false(ns_rack_tlp_may_schedule(&r, true, true, 0));
	assert_true(ns_rack_tlp_use_new_data(true));
	assert_false(ns_rack_tlp_use_new_data(false));
}

static void test_tlp_episodes(void **state)
{
	(void)state;
	struct ns_rack r;
	/* new-data probe ACKed: episode over, no reduction */
	ns_rack_init(&r);
	assert_true(ns_rack_tlp_may_send(&r));
	ns_rack_tlp_sent(&r, 11000, false);
	assert_false(ns_rack_tlp_may_send(&r));
	assert_false(ns_rack_tlp_on_ack(&r, 9000, false, false));      /* below: still open */
	assert_false(ns_rack_tlp_may_send(&r));
	assert_false(ns_rack_tlp_on_ack(&r, 11000, false, false));
	assert_true(ns_rack_tlp_may_send(&r));
	/* retransmission probe, D-SACK says the original arrived: no loss */
	ns_rack_tlp_sent(&r, 11000, true);
	assert_true(ns_rack_tlp_dsack_is_probe(&r, 11000));
	assert_false(ns_rack_tlp_dsack_is_probe(&r, 10000));
	assert_false(ns_rack_tlp_on_ack(&r, 11000, true, false));
	assert_true(ns_rack_tlp_may_send(&r));
	/* retransmission probe, ACK goes beyond: the probe repaired a loss */
	ns_rack_tlp_sent(&r, 11000, true);
	assert_false(ns_rack_tlp_on_ack(&r, 11000, false, false));     /* wait for D-SACK */
	assert_true(ns_rack_tlp_on_ack(&r, 12000, false, false));
	assert_true(ns_rack_tlp_may_send(&r));
	/* pure duplicate ACK at tlp_high_seq: both arrived */
	ns_rack_tlp_sent(&r, 11000, true);
	assert_false(ns_rack_tlp_on_ack(&r, 11000, false, true));
	assert_true(ns_rack_tlp_may_send(&r));
	/* the caller's congestion response: one-shot reduction */
	struct ns_tcp_cc cc;
	ns_tcp_cc_init(&cc, &ns_tcp_cc_cubic, 1000, 0);
	cc.cwnd = 20;
	ns_tcp_cc_cwr_once(&cc, 0);
	assert_int_equal(cc.cwnd, 14);
	assert_int_equal(cc.ssthresh, 14);
	assert_int_equal(cc.ca_state, NS_TCP_CA_OPEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rack_marks_older_segments_lost),
		cmocka_unit_test(test_rack_no_reordering_zero_window),
		cmocka_unit_test(test_rack_ambiguous_retransmit_ignored),
		cmocka_unit_test(test_rack_reo_wnd_dsack_adapts),
		cmocka_unit_test(test_tlp_pto),
		cmocka_unit_test(test_tlp_episodes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
