/*
 * tests/unit/test_tcp_sack.c - SACK scoreboard (RFC 6675) and receiver
 * blocks (RFC 2018 / 2883) in tcp/tcp_sack.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "tcp/tcp_sack.h"

#define B(s, e) ((struct ns_tcp_sack_block){ (s), (e) })

/* 10 segments of 1000 bytes from 1000 in flight */
static void setup10(struct ns_sack_sb *sb)
{
	ns_sack_sb_init(sb, 1000, 1000);
	ns_sack_sb_sent(sb, 11000);
}

static void test_first_loss_rfc6675(void **state)
{
	(void)state;
	struct ns_sack_sb sb;
	struct ns_sack_update u;
	setup10(&sb);
	assert_int_equal(ns_sack_sb_pipe(&sb), 10000);
	struct ns_tcp_sack_block b = B(2000, 3000);
	ns_sack_sb_update(&sb, 1000, &b, 1, &u);
	assert_int_equal(u.newly_sacked, 1000);
	assert_false(u.dsack);
	assert_false(ns_sack_sb_is_lost(&sb, 1000));    /* one SACKed segment above */
	b = B(2000, 4000);
	ns_sack_sb_update(&sb, 1000, &b, 1, &u);
	assert_int_equal(u.newly_sacked, 1000);
	assert_false(ns_sack_sb_is_lost(&sb, 1000));
	b = B(2000, 5000);
	ns_sack_sb_update(&sb, 1000, &b, 1, &u);
	assert_true(ns_sack_sb_is_lost(&sb, 1000));     /* DupThresh segments above */
	assert_false(ns_sack_sb_is_lost(&sb, 2500));    /* SACKed */
	assert_false(ns_sack_sb_is_lost(&sb, 6000));    /* nothing above */
	assert_int_equal(ns_sack_sb_pipe(&sb), 6000);   /* lost hole and SACKed bytes excluded */
	assert_int_equal(ns_sack_sb_lost_bytes(&sb), 1000);
	assert_int_equal(u.highest_sacked, 5000);
	ns_sack_sb_enter_recovery(&sb);
	assert_int_equal(sb.recovery_point, 11000);
	uint32_t s, e;
	assert_int_equal(ns_sack_sb_next_seg(&sb, true, &s, &e), NS_SACK_NEXT_RXT);
	assert_int_equal(s, 1000);
	assert_int_equal(e, 2000);
	ns_sack_sb_retransmitted(&sb, s, e);
	assert_int_equal(ns_sack_sb_pipe(&sb), 7000);   /* the retransmission is in flight */
	/* rule 2: new data next */
	assert_int_equal(ns_sack_sb_next_seg(&sb, true, &s, &e), NS_SACK_NEXT_NEW);
	/* no new data: Linux (the default) sends nothing more */
	assert_int_equal(ns_sack_sb_next_seg(&sb, false, &s, &e), NS_SACK_NEXT_NONE);
	/* strict RFC 6675: rule 3 finds nothing below the highest SACK; rule 4 rescues the tail */
	sb.rfc_rule3 = sb.rfc_rescue = true;
	assert_int_equal(ns_sack_sb_next_seg(&sb, false, &s, &e), NS_SACK_NEXT_RESCUE);
	assert_int_equal(s, 10000);
	assert_int_equal(e, 11000);
	assert_int_equal(ns_sack_sb_next_seg(&sb, false, &s, &e), NS_SACK_NEXT_NONE);
	/* the retransmission arrives: cumulative ACK to 5000 */
	ns_sack_sb_update(&sb, 5000, NULL, 0, &u);
	assert_int_equal(u.newly_acked, 4000);
	assert_int_equal(u.acked_sacked, 3000);
	assert_int_equal(u.delivered, 1000);            /* only the retransmitted hole is new */
	assert_false(u.reneged);
	assert_int_equal(sb.n, 0);
	assert_false(ns_sack_sb_recovery_done(&sb));
	ns_sack_sb_update(&sb, 11000, NULL, 0, &u);
	assert_true(ns_sack_sb_recovery_done(&sb));
	assert_int_equal(ns_sack_sb_pipe(&sb), 0);
	ns_sack_sb_fini(&sb);
}

static void test_byte_rule_small_segments(void **state)
{
	(void)state;
	struct ns_sack_sb sb;
	setup10(&sb);
	/* one big SACKed range of 2001 bytes is more than (3-1)*SMSS: lost */
	struct ns_tcp_sack_block b = B(2000, 4001);
	ns_sack_sb_update(&sb, 1000, &b, 1, NULL);
	assert_true(ns_sack_sb_is_lost(&sb, 1000));
	ns_sack_sb_fini(&sb);
	/* three discontiguous small SACKed pieces above: lost */
	setup10(&sb);
	struct ns_tcp_sack_block bs[3] = { B(2000, 2100), B(3000, 3100), B(4000, 4100) };
	ns_sack_sb_update(&sb, 1000, bs, 3, NULL);
	assert_int_equal(sb.n, 3);
	assert_true(ns_sack_sb_is_lost(&sb, 1000));
	assert_false(ns_sack_sb_is_lost(&sb, 2500));    /* only 2 above */
	ns_sack_sb_fini(&sb);
}

static void test_rule3_multiple_holes(void **state)
{
	(void)state;
	struct ns_sack_sb sb;
	setup10(&sb);
	/* holes at 1000 and 3000; SACKed 2000-3000, 4000-7000 */
	struct ns_tcp_sack_block bs[2] = { B(4000, 7000), B(2000, 3000) };
	ns_sack_sb_update(&sb, 1000, bs, 2, NULL);
	assert_true(ns_sack_sb_is_lost(&sb, 1000));
	assert_true(ns_sack_sb_is_lost(&sb, 3000));
	ns_sack_sb_enter_recovery(&sb);
	uint32_t s, e;
	assert_int_equal(ns_sack_sb_next_seg(&sb, false, &s, &e), NS_SACK_NEXT_RXT);
	assert_int_equal(s, 1000);
	ns_sack_sb_retransmitted(&sb, s, e);
	assert_int_equal(ns_sack_sb_next_seg(&sb, false, &s, &e), NS_SACK_NEXT_RXT);
	assert_int_equal(s, 3000);
	assert_int_equal(e, 4000);
	ns_sack_sb_retransmitted(&sb, s, e);
	/* pipe: 7000-11000 in flight + 2 retransmissions */
	assert_int_equal(ns_sack_sb_pipe(&sb), 4000 + 2000);
	ns_sack_sb_fini(&sb);
	/* only one SACKed segment above a hole: not lost, but rule 3 may send it */
	setup10(&sb);
	struct ns_tcp_sack_block one = B(2000, 3000);
	ns_sack_sb_update(&sb, 1000, &one, 1, NULL);
	ns_sack_sb_enter_recovery(&sb);
	assert_int_equal(ns_sack_sb_next_seg(&sb, false, &s, &e), NS_SACK_NEXT_NONE);     /* Linux */
	sb.rfc_rule3 = true;
	assert_int_equal(ns_sack_sb_next_seg(&sb, false, &s, &e), NS_SACK_NEXT_RXT3);
	assert_int_equal(s, 1000);
	assert_int_equal(e, 2000);
	ns_sack_sb_fini(&sb);
}

/* Every hole retransmitted and everything above SACKed: no rescue of old data. */
static void test_rescue_never_repeats_retransmitted(void **state)
{
	(void)state;
	struct ns_sack_sb sb;
	setup10(&sb);
	sb.rfc_rule3 = sb.rfc_rescue = true;
	struct ns_tcp_sack_block b = B(5000, 11000);
	ns_sack_sb_update(&sb, 1000, &b, 1, NULL);
	ns_sack_sb_enter_recovery(&sb);
	uint32_t s, e;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ns_sack_sb_next_seg(&sb, false, &s, &e), NS_SACK_NEXT_RXT);
		ns_sack_sb_retransmitted(&sb, s, e);
	}
	assert_int_equal(sb.high_rxt, 5000);
	assert_int_equal(ns_sack_sb_next_seg(&sb, false, &s, &e), NS_SACK_NEXT_NONE);
	ns_sack_sb_fini(&sb);
}

/* prr-ss-ack-below-snd_una-cubic.pkt: RACK marks 4001:8001 lost with one SACKed segment above. */
static void test_external_loss_mark(void **state)
{
	(void)state;
	struct ns_sack_sb sb;
	struct ns_sack_update u;
	ns_sack_sb_init(&sb, 1, 1000);
	ns_sack_sb_sent(&sb, 10001);
	struct ns_tcp_sack_block b = B(8001, 9001);
	ns_sack_sb_update(&sb, 4001, &b, 1, &u);
	ns_sack_sb_enter_recovery(&sb);
	assert_false(ns_sack_sb_is_lost(&sb, 4001));    /* DupThresh alone: not lost */
	uint32_t s, e;
	assert_int_equal(ns_sack_sb_next_seg(&sb, false, &s, &e), NS_SACK_NEXT_NONE);
	assert_int_equal(ns_sack_sb_pipe(&sb), 5000);
	for (uint32_t seg = 4001; seg < 8001; seg += 1000)
		ns_sack_sb_mark_lost(&sb, seg + 1000);  /* RACK's lost() callback */
	assert_true(ns_sack_sb_is_lost(&sb, 4001));
	assert_true(ns_sack_sb_is_lost(&sb, 8000));
	assert_false(ns_sack_sb_is_lost(&sb, 9001));
	assert_int_equal(ns_sack_sb_pipe(&sb), 1000);   /* only 9001:10001 */
	assert_int_equal(ns_sack_sb_lost_bytes(&sb), 4000);
	for (uint32_t seg = 4001; seg < 8001; seg += 1000) {
		assert_int_equal(ns_sack_sb_next_seg(&sb, false, &s, &e), NS_SACK_NEXT_RXT);
		assert_int_equal(s, seg);
		assert_int_equal(e, seg + 1000);
		ns_sack_sb_retransmitted(&sb, s, e);
	}
	assert_int_equal(ns_sack_sb_next_seg(&sb, true, &s, &e), NS_SACK_NEXT_NEW);
	assert_int_equal(ns_sack_sb_pipe(&sb), 1000 + 4000);
	/* a mark in the top hole (RTO: everything outstanding is lost) */
	ns_sack_sb_mark_lost(&sb, 10001);
	assert_int_equal(ns_sack_sb_next_seg(&sb, false, &s, &e), NS_SACK_NEXT_RXT);
	assert_int_equal(s, 9001);
	assert_int_equal(e, 10001);
	/* the mark is forgotten once ACKed past */
	ns_sack_sb_update(&sb, 10001, NULL, 0, &u);
	assert_false(sb.lost_mark_valid);
	ns_sack_sb_fini(&sb);
}

/* cubic-rack-reo-timeout-retrans-failed-incoming-data.pkt: tcpi_reordering 10, tcpi_reord_seen 2. */
static void test_reordering_degree_like_linux(void **state)
{
	(void)state;
	struct ns_sack_sb sb;
	struct ns_sack_update u;
	ns_sack_sb_init(&sb, 1, 1000);
	ns_sack_sb_sent(&sb, 10001);
	assert_int_equal(sb.reordering, 3);
	struct ns_tcp_sack_block b[2] = { B(9001, 10001) };
	ns_sack_sb_update(&sb, 1, b, 1, &u);
	assert_false(u.reorder);                        /* the highest SACK itself */
	assert_int_equal(sb.reord_seen, 0);
	b[0] = B(3001, 4001);
	b[1] = B(9001, 10001);
	ns_sack_sb_update(&sb, 1, b, 2, &u);
	assert_true(u.reorder);
	assert_int_equal(sb.reordering, 7);             /* (10001 - 3001) / 1000 */
	assert_int_equal(sb.reord_seen, 1);
	ns_sack_sb_update(&sb, 10001, NULL, 0, &u);     /* 1:3001 etc. were only late */
	assert_true(u.reorder);
	assert_int_equal(sb.reordering, 10);
	assert_int_equal(sb.reord_seen, 2);
	/* retransmitted data arriving below the fack is not reordering */
	ns_sack_sb_sent(&sb, 20001);
	b[0] = B(15001, 20001);
	ns_sack_sb_update(&sb, 10001, b, 1, &u);
	ns_sack_sb_enter_recovery(&sb);
	ns_sack_sb_retransmitted(&sb, 10001, 15001);
	ns_sack_sb_update(&sb, 20001, NULL, 0, &u);
	assert_false(u.reorder);
	assert_int_equal(sb.reord_seen, 2);
	/* capped at 300 segments */
	ns_sack_sb_init(&sb, 1, 10);
	ns_sack_sb_sent(&sb, 100001);
	b[0] = B(99001, 100001);
	ns_sack_sb_update(&sb, 1, b, 1, &u);
	ns_sack_sb_update(&sb, 99001, NULL, 0, &u);
	assert_int_equal(sb.reordering, NS_SACK_REORDERING_MAX);
	ns_sack_sb_fini(&sb);
}

static void test_dsack_and_validation(void **state)
{
	(void)state;
	struct ns_sack_sb sb;
	struct ns_sack_update u;
	setup10(&sb);
	ns_sack_sb_update(&sb, 3000, NULL, 0, &u);
	/* D-SACK below the cumulative ACK (RFC 2883 §4.1.1) */
	struct ns_tcp_sack_block d = B(1000, 2000);
	ns_sack_sb_update(&sb, 3000, &d, 1, &u);
	assert_true(u.dsack);
	assert_true(u.dsack_below_una);
	assert_int_equal(u.dsack_block.start, 1000);
	assert_int_equal(u.discarded, 0);
	assert_int_equal(sb.n, 0);
	/* D-SACK inside the second block (§4.1.2: duplicate of out-of-order data) */
	struct ns_tcp_sack_block d2[2] = { B(5000, 6000), B(4000, 7000) };
	ns_sack_sb_update(&sb, 3000, d2, 2, &u);
	assert_true(u.dsack);
	assert_false(u.dsack_below_una);
	assert_int_equal(u.newly_sacked, 3000);
	assert_true(ns_sack_sb_is_sacked(&sb, 4000, 7000));
	/* invalid: beyond snd_max, reversed, at/below snd_una (not a D-SACK), empty */
	struct ns_tcp_sack_block bad[4] = { B(9000, 12000), B(8000, 7500), B(2500, 3500), B(8000, 8000) };
	/* first block is below ack -> treated as D-SACK: use one that is not */
	bad[2] = B(3000, 3500);
	ns_sack_sb_update(&sb, 3000, bad, 4, &u);
	assert_false(u.dsack);
	assert_int_equal(u.discarded, 4);
	assert_int_equal(u.newly_sacked, 0);
	/* a D-SACK that reaches above snd_una is not a valid D-SACK */
	struct ns_tcp_sack_block d3 = B(2000, 3500);
	ns_sack_sb_update(&sb, 3000, &d3, 1, &u);
	assert_true(u.dsack);
	assert_int_equal(u.discarded, 1);
	ns_sack_sb_fini(&sb);
}

static void test_reneging(void **state)
{
	(void)state;
	struct ns_sack_sb sb;
	struct ns_sack_update u;
	setup10(&sb);
	struct ns_tcp_sack_block b = B(3000, 5000);
	ns_sack_sb_update(&sb, 1000, &b, 1, &u);
	/* the ACK moves to 3000 but 3000-5000 stays un-ACKed although SACKed */
	ns_sack_sb_update(&sb, 3000, NULL, 0, &u);
	assert_true(u.reneged);
	/* ACK into the middle of a SACKed range: also reneging */
	ns_sack_sb_update(&sb, 4000, NULL, 0, &u);
	assert_true(u.reneged);
	assert_int_equal(sb.sacked_bytes, 1000);
	ns_sack_sb_clear(&sb);
	assert_int_equal(sb.n, 0);
	assert_int_equal(ns_sack_sb_pipe(&sb), 7000);
	ns_sack_sb_fini(&sb);
}

/* Random blocks against a bitmap model; also exercises growth and the cap. */
static void test_random_against_model(void **state)
{
	(void)state;
	enum { SPACE = 200000 };
	uint8_t *model = calloc(SPACE, 1);
	struct ns_sack_sb sb;
	uint32_t base = 0xfff00000u;            /* crosses the 2^32 wrap */
	ns_sack_sb_init(&sb, base, 100);
	ns_sack_sb_sent(&sb, base + SPACE);
	uint32_t x = 99;
	for (int it = 0; it < 3000; it++) {
		x = x * 1103515245u + 12345u;
		uint32_t s = (x >> 8) % SPACE;
		x = x * 1103515245u + 12345u;
		uint32_t len = 1 + (x >> 8) % 300;
		if (s + len > SPACE)
			len = SPACE - s;
		if (s == 0)
			continue;
		struct ns_tcp_sack_block b = B(base + s, base + s + len);
		struct ns_sack_update u;
		ns_sack_sb_update(&sb, base, &b, 1, &u);
		uint32_t fresh = 0;
		for (uint32_t i = s; i < s + len; i++) {
			fresh += !model[i];
			model[i] = 1;
		}
		assert_int_equal(u.newly_sacked, fresh);
	}
	/* ranges sorted, disjoint, non-adjacent; sizes agree */
	uint32_t total = 0;
	for (unsigned i = 0; i < sb.n; i++) {
		assert_true((int32_t)(sb.ranges[i].end - sb.ranges[i].start) > 0);
		if (i)
			assert_true((int32_t)(sb.ranges[i].start - sb.ranges[i - 1].end) > 0);
		total += sb.ranges[i].end - sb.ranges[i].start;
	}
	assert_int_equal(total, sb.sacked_bytes);
	uint32_t m = 0;
	for (uint32_t i = 0; i < SPACE; i++)
		m += model[i];
	assert_int_equal(m, sb.sacked_bytes);
	for (int q = 0; q < 200; q++) {
		uint32_t s = (uint32_t)(q * 997) % SPACE, e = NS_MIN(s + 5000u, (uint32_t)SPACE);
		uint32_t want = 0;
		for (uint32_t i = s; i < e; i++)
			want += model[i];
		assert_int_equal(ns_sack_sb_sacked_in(&sb, base + s, base + e), want);
	}
	/* cumulative ACK halfway */
	struct ns_sack_update u;
	ns_sack_sb_update(&sb, base + SPACE / 2, NULL, 0, &u);
	uint32_t below = 0;
	for (uint32_t i = 0; i < SPACE / 2; i++)
		below += model[i];
	assert_int_equal(u.acked_sacked, below);
	assert_int_equal(sb.sacked_bytes, m - below);
	ns_sack_sb_fini(&sb);
	/* the cap: 2000 separate ranges keep at most NS_SACK_MAX_RANGES */
	ns_sack_sb_init(&sb, 0, 10);
	ns_sack_sb_sent(&sb, 100000);
	for (uint32_t i = 0; i < 2000; i++) {
		struct ns_tcp_sack_block b = B(10 + i * 20, 20 + i * 20);
		ns_sack_sb_update(&sb, 0, &b, 1, NULL);
	}
	assert_int_equal(sb.n, NS_SACK_MAX_RANGES);
	assert_int_equal(sb.sacked_bytes, NS_SACK_MAX_RANGES * 10);
	ns_sack_sb_fini(&sb);
	free(model);
}

/* Hostile ACKs: random (often invalid) blocks and ACK numbers never break the invariants. */
static void test_hostile_acks_keep_invariants(void **state)
{
	(void)state;
	uint32_t x = 0xdecafbad;
#define RND() (x = x * 1664525u + 1013904223u, x >> 3)
	for (int round = 0; round < 50; round++) {
		struct ns_sack_sb sb;
		uint32_t una = RND(), mss = 1 + RND() % 1460;
		ns_sack_sb_init(&sb, una, mss);
		sb.rfc_rule3 = round & 1;
		sb.rfc_rescue = round & 2;
		uint32_t max = una;
		for (int it = 0; it < 2000; it++) {
			if (RND() % 4 == 0) {
				max += RND() % 20000;
				ns_sack_sb_sent(&sb, max);
			}
			struct ns_tcp_sack_block b[4];
			unsigned n = RND() % 5;
			for (unsigned i = 0; i < n; i++) {
				uint32_t span = max - sb.snd_una + 1;
				uint32_t s0 = RND() % 8 == 0 ? RND() : sb.snd_una - 5000 + RND() % (span + 10000);
				uint32_t len = RND() % 8 == 0 ? RND() : RND() % 5000;
				b[i] = (struct ns_tcp_sack_block){ s0, s0 + len };
			}
			uint32_t ack = sb.snd_una;
			if (RND() % 3 == 0)
				ack += RND() % (max - sb.snd_una + 1);
			struct ns_sack_update u;
			ns_sack_sb_update(&sb, ack, b, n, &u);
			if (RND() % 5 == 0)
				ns_sack_sb_mark_lost(&sb, sb.snd_una + RND() % (max - sb.snd_una + 1));
			if (RND() % 7 == 0)
				ns_sack_sb_enter_recovery(&sb);
			uint32_t flight = max - sb.snd_una;
			uint32_t total = 0;
			for (unsigned i = 0; i < sb.n; i++) {
				assert_true((int32_t)(sb.ranges[i].start - sb.snd_una) > 0 ||
					    (i == 0 && sb.ranges[0].start == sb.snd_una));
				assert_true((int32_t)(sb.ranges[i].end - sb.ranges[i].start) > 0);
				assert_true((int32_t)(max - sb.ranges[i].end) >= 0);
				if (i)
					assert_true((int32_t)(sb.ranges[i].start - sb.ranges[i - 1].end) > 0);
				total += sb.ranges[i].end - sb.ranges[i].start;
			}
			assert_int_equal(total, sb.sacked_bytes);
			assert_true(sb.sacked_bytes <= flight);
			assert_true(ns_sack_sb_pipe(&sb) <= 2 * flight);
			assert_true(ns_sack_sb_lost_bytes(&sb) <= flight - sb.sacked_bytes);
			uint32_t s0, e0;
			enum ns_sack_next_kind k = ns_sack_sb_next_seg(&sb, RND() & 1, &s0, &e0);
			if (k == NS_SACK_NEXT_RXT || k == NS_SACK_NEXT_RXT3 || k == NS_SACK_NEXT_RESCUE) {
				assert_true((int32_t)(e0 - s0) > 0 && e0 - s0 <= mss);
				assert_true((int32_t)(s0 - sb.snd_una) >= 0 && (int32_t)(max - e0) >= 0);
				assert_int_equal(ns_sack_sb_sacked_in(&sb, s0, e0), 0);
				ns_sack_sb_retransmitted(&sb, s0, e0);
			}
		}
		ns_sack_sb_fini(&sb);
	}
#undef RND
}

/* ---- receiver ---- */

static void test_rcv_blocks_linux_order(void **state)
{
	(void)state;
	struct ns_sack_rcv r;
	struct ns_tcp_sack_block out[4];
	ns_sack_rcv_init(&r);
	assert_false(ns_sack_rcv_pending(&r));
	ns_sack_rcv_add(&r, 3000, 4000);
	ns_sack_rcv_add(&r, 5000, 6000);
	assert_int_equal(ns_sack_rcv_take(&r, out, 4), 2);
	assert_int_equal(out[0].start, 5000);           /* most recent first */
	assert_int_equal(out[1].start, 3000);
	/* filling the gap merges all into one block in front */
	ns_sack_rcv_add(&r, 4000, 5000);
	assert_int_equal(ns_sack_rcv_take(&r, out, 4), 1);
	assert_int_equal(out[0].start, 3000);
	assert_int_equal(out[0].end, 6000);
	/* more than 4 blocks: the oldest drops */
	for (uint32_t i = 0; i < 5; i++)
		ns_sack_rcv_add(&r, 10000 + i * 2000, 11000 + i * 2000);
	assert_int_equal(ns_sack_rcv_take(&r, out, 4), 4);
	assert_int_equal(out[0].start, 18000);
	assert_int_equal(out[3].start, 12000);
	/* extending an older block moves it to the front */
	ns_sack_rcv_add(&r, 13000, 13500);
	ns_sack_rcv_take(&r, out, 4);
	assert_int_equal(out[0].start, 12000);
	assert_int_equal(out[0].end, 13500);
	/* with timestamps only 3 fit */
	assert_int_equal(ns_sack_rcv_take(&r, out, 3), 3);
	/* rcv_nxt passes blocks: they go */
	ns_sack_rcv_advance(&r, 14500);
	assert_int_equal(ns_sack_rcv_take(&r, out, 4), 2);
	assert_int_equal(out[0].start, 18000);
	assert_int_equal(out[1].start, 16000);
}

static void test_rcv_dsack_first_once(void **state)
{
	(void)state;
	struct ns_sack_rcv r;
	struct ns_tcp_sack_block out[4];
	ns_sack_rcv_init(&r);
	ns_sack_rcv_add(&r, 5000, 6000);
	ns_sack_rcv_dsack(&r, 1000, 2000);
	ns_sack_rcv_dsack(&r, 2000, 2500);      /* adjacent: extends */
	assert_int_equal(ns_sack_rcv_take(&r, out, 4), 2);
	assert_int_equal(out[0].start, 1000);
	assert_int_equal(out[0].end, 2500);
	assert_int_equal(out[1].start, 5000);
	/* sent once */
	assert_int_equal(ns_sack_rcv_take(&r, out, 4), 1);
	assert_int_equal(out[0].start, 5000);
	/* a non-adjacent new duplicate replaces the pending one */
	ns_sack_rcv_dsack(&r, 100, 200);
	ns_sack_rcv_dsack(&r, 700, 800);
	assert_int_equal(ns_sack_rcv_take(&r, out, 1), 1);
	assert_int_equal(out[0].start, 700);
	ns_sack_rcv_advance(&r, 7000);
	assert_false(ns_sack_rcv_pending(&r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_loss_rfc6675),
		cmocka_unit_test(test_byte_rule_small_segments),
		cmocka_unit_test(test_rule3_multiple_holes),
		cmocka_unit_test(test_rescue_never_repeats_retransmitted),
		cmocka_unit_test(test_external_loss_mark),
		cmocka_unit_test(test_reordering_degree_like_linux),
		cmocka_unit_test(test_dsack_and_validation),
		cmocka_unit_test(test_reneging),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_hostile_acks_keep_invariants),
		cmocka_unit_test(test_rcv_blocks_linux_order),
		cmocka_unit_test(test_rcv_dsack_first_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
