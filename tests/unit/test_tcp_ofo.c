/*
 * tests/unit/test_tcp_ofo.c - receive out-of-order queue (tcp/tcp_ofo.c):
 * ordering, overlap trimming, D-SACK, SACK blocks, memory budget, pop, and a
 * randomized reassembly check against the original byte stream.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "tcp/tcp_ofo.h"

static struct ns_pool pool = { .limit = 1u << 30 };

static uint8_t byte_at(uint32_t seq) { return (uint8_t)(seq * 7 + (seq >> 8)); }

/* A payload-only packet of len bytes at seq, with `room` bytes of tailroom. */
static struct ns_pkt *mk(uint32_t seq, uint32_t len, uint32_t room, bool fin)
{
	struct ns_pkt *p = ns_pkt_alloc(&pool, 64, len + room);
	assert_non_null(p);
	ns_pkt_trim(p, len);
	for (uint32_t i = 0; i < len; i++)
		ns_pkt_data(p)[i] = byte_at(seq + i);
	p->seq = seq;
	p->flags = fin ? NS_OFO_PKT_FIN : 0;
	return p;
}

static void check_pkt(struct ns_pkt *p, uint32_t seq, uint32_t len)
{
	assert_non_null(p);
	assert_int_equal(p->seq, seq);
	assert_int_equal(ns_pkt_len(p), len);
	for (uint32_t i = 0; i < len; i++)
		assert_int_equal(ns_pkt_data(p)[i], byte_at(seq + i));
}

#define BIG (1ull << 40)

static void test_order_and_pop(void **state)
{
	(void)state;
	struct ns_ofo q;
	ns_ofo_init(&q);
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(3000, 1000, 0, false), 1000, BIG), NS_OFO_QUEUED);
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(5000, 1000, 0, false), 1000, BIG), NS_OFO_QUEUED);
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(2000, 1000, 0, false), 1000, BIG), NS_OFO_QUEUED);
	assert_int_equal(q.npkts, 3);
	assert_int_equal(q.bytes, 3000);
	assert_int_equal(ns_ofo_end(&q, 1000), 6000);
	/* SACK blocks: most recent first, merged */
	struct ns_tcp_sack_block b[4];
	assert_int_equal(ns_ofo_sack_take(&q, b, 4), 2);
	assert_int_equal(b[0].start, 2000);
	assert_int_equal(b[0].end, 4000);
	assert_int_equal(b[1].start, 5000);
	/* nothing in order yet */
	assert_null(ns_ofo_pop(&q, 1000));
	/* the hole fills (caller delivered 1000..2000): pop 2000 and 3000, stop at 4000 */
	struct ns_pkt *p = ns_ofo_pop(&q, 2000);
	check_pkt(p, 2000, 1000);
	ns_pkt_unref(p);
	p = ns_ofo_pop(&q, 3000);
	check_pkt(p, 3000, 1000);
	ns_pkt_unref(p);
	assert_null(ns_ofo_pop(&q, 4000));
	ns_ofo_advance(&q, 4000);
	assert_int_equal(ns_ofo_sack_take(&q, b, 4), 1);
	assert_int_equal(b[0].start, 5000);
	/* in-order data overlapping the head: trimmed on pop, D-SACK for the overlap */
	p = ns_ofo_pop(&q, 5500);
	check_pkt(p, 5500, 500);
	ns_pkt_unref(p);
	ns_ofo_advance(&q, 6000);
	assert_true(ns_ofo_empty(&q));
	assert_int_equal(ns_ofo_sack_take(&q, b, 4), 1);        /* the D-SACK only */
	assert_int_equal(b[0].start, 5000);
	assert_int_equal(b[0].end, 5500);
	assert_int_equal(q.truesize, 0);
	ns_ofo_purge(&q);
	assert_int_equal(atomic_load(&pool.live), 0);
}

static void test_overlaps_trim_and_dsack(void **state)
{
	(void)state;
	struct ns_ofo q;
	struct ns_tcp_sack_block b[4];
	ns_ofo_init(&q);
	ns_ofo_insert(&q, NULL, mk(2000, 1000, 0, false), 1000, BIG);
	/* front overlap: trimmed to 3000..3500, D-SACK 2500..3000 */
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(2500, 1000, 0, false), 1000, BIG), NS_OFO_QUEUED);
	assert_int_equal(q.bytes, 1500);
	assert_int_equal(ns_ofo_sack_take(&q, b, 4), 2);
	assert_int_equal(b[0].start, 2500);
	assert_int_equal(b[0].end, 3000);
	assert_int_equal(b[1].start, 2000);
	assert_int_equal(b[1].end, 3500);
	/* exact duplicate */
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(2200, 300, 0, false), 1000, BIG), NS_OFO_DUP);
	assert_int_equal(ns_ofo_sack_take(&q, b, 4), 2);
	assert_int_equal(b[0].start, 2200);
	assert_int_equal(b[0].end, 2500);
	/* a big segment covering everything: old ones freed, new one kept whole */
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(1500, 2500, 0, false), 1000, BIG), NS_OFO_QUEUED);
	assert_int_equal(q.npkts, 1);
	assert_int_equal(q.bytes, 2500);
	/* tail overlap with a later segment: the new one is cut at its start */
	ns_ofo_insert(&q, NULL, mk(6000, 1000, 0, false), 1000, BIG);
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(5000, 1500, 0, false), 1000, BIG), NS_OFO_QUEUED);
	assert_int_equal(q.bytes, 2500 + 1000 + 1000);
	/* now pop everything in order and check bytes */
	struct ns_pkt *p = ns_ofo_pop(&q, 1500);
	check_pkt(p, 1500, 2500);
	ns_pkt_unref(p);
	assert_null(ns_ofo_pop(&q, 4000));
	p = ns_ofo_pop(&q, 5000);
	check_pkt(p, 5000, 1000);
	ns_pkt_unref(p);
	p = ns_ofo_pop(&q, 6000);
	check_pkt(p, 6000, 1000);
	ns_pkt_unref(p);
	ns_ofo_purge(&q);
	assert_int_equal(atomic_load(&pool.live), 0);
}

static void test_invalid_and_fin(void **state)
{
	(void)state;
	struct ns_ofo q;
	ns_ofo_init(&q);
	/* at or below rcv_nxt, or empty: caller's bug, freed */
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(1000, 10, 0, false), 1000, BIG), NS_OFO_INVALID);
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(2000, 0, 0, false), 1000, BIG), NS_OFO_INVALID);
	/* FIN after data: occupies one sequence number */
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(2000, 100, 0, true), 1000, BIG), NS_OFO_QUEUED);
	assert_int_equal(ns_ofo_end(&q, 1000), 2101);
	struct ns_tcp_sack_block b[4];
	assert_int_equal(ns_ofo_sack_take(&q, b, 4), 1);
	assert_int_equal(b[0].end, 2101);
	/* a retransmitted FIN-only segment is a duplicate */
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(2100, 0, 0, true), 1000, BIG), NS_OFO_DUP);
	struct ns_pkt *p = ns_ofo_pop(&q, 2000);
	check_pkt(p, 2000, 100);
	assert_true(p->flags & NS_OFO_PKT_FIN);
	ns_pkt_unref(p);
	ns_ofo_purge(&q);
	assert_int_equal(atomic_load(&pool.live), 0);
}

static void test_budget_drop_and_prune(void **state)
{
	(void)state;
	struct ns_ofo q;
	ns_ofo_init(&q);
	struct ns_pkt *probe = mk(0, 1000, 0, false);
	uint64_t ts = probe->truesize;
	ns_pkt_unref(probe);
	uint64_t budget = ts * 4;
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(ns_ofo_insert(&q, NULL, mk(10000 + i * 2000, 1000, 0, false), 1000, budget),
				 NS_OFO_QUEUED);
	assert_int_equal(q.truesize, budget);
	/* above everything queued: dropped */
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(30000, 1000, 0, false), 1000, budget), NS_OFO_DROPPED);
	assert_int_equal(q.npkts, 4);
	/* below the tail: the highest segment is pruned to make room (Linux) */
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(2000, 1000, 0, false), 1000, budget), NS_OFO_QUEUED);
	assert_int_equal(q.npkts, 4);
	assert_int_equal(ns_ofo_end(&q, 1000), 15000);
	struct ns_tcp_sack_block b[4];
	unsigned n = ns_ofo_sack_take(&q, b, 4);
	assert_int_equal(n, 4);
	for (unsigned i = 0; i < n; i++)
		assert_true(b[i].end <= 15000);         /* no block for pruned data */
	/* explicit prune down to one segment */
	assert_int_equal(ns_ofo_prune(&q, ts), 3 * ts);
	assert_int_equal(q.npkts, 1);
	assert_int_equal(ns_ofo_sack_take(&q, b, 4), 1);
	assert_int_equal(b[0].start, 2000);
	ns_ofo_purge(&q);
	assert_int_equal(atomic_load(&pool.live), 0);
}

static void test_many_small_segments_prune(void **state)
{
	(void)state;
	struct ns_ofo q;
	ns_ofo_init(&q);
	for (uint32_t i = 0; i < 3000; i++)
		assert_int_equal(ns_ofo_insert(&q, NULL, mk(2000 + 2 * i, 1, 0, false), 1000, BIG), NS_OFO_QUEUED);
	assert_int_equal(q.npkts, 3000);
	uint64_t one = q.truesize / 3000;
	/* a segment below everything, budget = what is queued: exactly the top one goes */
	uint64_t budget = q.truesize;
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(1500, 1, 0, false), 1000, budget), NS_OFO_QUEUED);
	assert_int_equal(q.npkts, 3000);
	assert_int_equal(ns_ofo_end(&q, 1000), 2000 + 2 * 2998 + 1);
	/* a segment in the middle may only prune segments above it */
	budget = q.truesize - 1000 * one;
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(2000 + 2 * 1500 + 1, 1, 0, false), 1000, budget),
			 NS_OFO_QUEUED);
	assert_true(q.truesize <= budget);
	/* 1001 of the highest segments made room (the new one charges too) */
	assert_int_equal(ns_ofo_end(&q, 1000), 2000 + 2 * 1997 + 1);
	assert_int_equal(q.npkts, 3000 - 1001);         /* the new byte joined its neighbour */
	/* a segment above the kept data cannot make room by pruning: dropped */
	assert_int_equal(ns_ofo_insert(&q, NULL, mk(9000, 1, 0, false), 1000, q.truesize), NS_OFO_DROPPED);
	assert_int_equal(ns_ofo_prune(&q, 0) > 0, 1);
	assert_true(ns_ofo_empty(&q));
	assert_int_equal(q.npkts, 0);
	assert_int_equal(q.truesize, 0);
	ns_ofo_purge(&q);
	assert_int_equal(atomic_load(&pool.live), 0);
}

static void test_coalesce_into_tailroom(void **state)
{
	(void)state;
	struct ns_ofo q;
	ns_ofo_init(&q);
	ns_ofo_insert(&q, NULL, mk(2000, 100, 1000, false), 1000, BIG);
	for (uint32_t s = 2100; s < 3000; s += 100)
		assert_int_equal(ns_ofo_insert(&q, NULL, mk(s, 100, 0, false), 1000, BIG), NS_OFO_QUEUED);
	assert_int_equal(q.npkts, 1);
	assert_int_equal(q.bytes, 1000);
	assert_int_equal(atomic_load(&pool.live), 1);
	struct ns_pkt *p = ns_ofo_pop(&q, 2000);
	check_pkt(p, 2000, 1000);
	ns_pkt_unref(p);
	ns_ofo_purge(&q);
}

/* Random segments (overlapping, duplicated, reordered) reassemble to the stream. */
static void test_random_reassembly(void **state)
{
	(void)state;
	enum { LEN = 200000 };
	uint8_t *out = malloc(LEN);
	uint32_t x = 2024;
	for (int round = 0; round < 20; round++) {
		struct ns_ofo q;
		ns_ofo_init(&q);
		uint32_t isn = 0xffff0000u + (uint32_t)round * 977u;   /* wraps */
		uint32_t rcv_nxt = isn, got = 0;
		int iters = 0;
		while (got < LEN && iters++ < 200000) {
			x = x * 1103515245u + 12345u;
			uint32_t r = (x >> 8) % 20000;
			uint32_t off = r < 2000 ? (got > r / 4 ? got - r / 4 : 0) : got + r - 2000;
			x = x * 1103515245u + 12345u;
			uint32_t len = 1 + (x >> 8) % 1500;
			if (off >= LEN)
				continue;
			if (off + len > LEN)
				len = LEN - off;
			uint32_t seq = isn + off;
			if (seq == rcv_nxt || (int32_t)(seq - rcv_nxt) < 0) {
				/* in order (or overlapping it): deliver directly like the caller would */
				uint32_t skip = rcv_nxt - seq;
				if (skip >= len)
					continue;
				for (uint32_t i = skip; i < len; i++)
					out[got++] = byte_at(seq + i);
				rcv_nxt = seq + len;
				struct ns_pkt *p;
				while ((p = ns_ofo_pop(&q, rcv_nxt))) {
					assert_int_equal(p->seq, rcv_nxt);
					for (uint32_t i = 0; i < ns_pkt_len(p); i++)
						out[got++] = ns_pkt_data(p)[i];
					rcv_nxt += ns_pkt_len(p);
					ns_pkt_unref(p);
				}
				ns_ofo_advance(&q, rcv_nxt);
			} else {
				ns_ofo_insert(&q, NULL, mk(seq, len, (x >> 4) % 3 ? 0 : 2000, false), rcv_nxt,
					      1ull << 22);
			}
			/* invariants: sorted, disjoint, above rcv_nxt */
			uint32_t last = rcv_nxt, cnt = 0, bytes = 0;
			for (struct ns_pkt *p = q.head; p; p = p->next) {
				assert_true((int32_t)(p->seq - last) >= 0);
				last = p->seq + ns_pkt_len(p);
				cnt++;
				bytes += ns_pkt_len(p);
			}
			assert_int_equal(cnt, q.npkts);
			assert_int_equal(bytes, q.bytes);
		}
		assert_int_equal(got, LEN);
		for (uint32_t i = 0; i < LEN; i++)
			assert_int_equal(out[i], byte_at(isn + i));
		ns_ofo_purge(&q);
		assert_int_equal(atomic_load(&pool.live), 0);
	}
	free(out);
}

/* Hostile segments: random overlaps, FINs in the middle, tiny budgets, prunes. */
static void test_hostile_segments_keep_invariants(void **state)
{
	(void)state;
	uint32_t x = 777;
#define RND() (x = x * 1664525u + 1013904223u, x >> 3)
	struct ns_ofo q;
	ns_ofo_init(&q);
	uint32_t rcv_nxt = 0xfffff000u;
	for (int it = 0; it < 20000; it++) {
		uint32_t seq = rcv_nxt + 1 + RND() % 60000;
		uint32_t len = RND() % 1600;
		bool fin = RND() % 10 == 0;
		uint64_t budget = RND() % 4 == 0 ? RND() % 20000 : 1u << 20;
		ns_ofo_insert(&q, NULL, mk(seq, len, RND() % 2 ? 0 : 1500, fin), rcv_nxt, budget);
		if (RND() % 50 == 0) {
			rcv_nxt += RND() % 3000;
			struct ns_pkt *p;
			while ((p = ns_ofo_pop(&q, rcv_nxt))) {
				assert_int_equal(p->seq, rcv_nxt);
				for (uint32_t i = 0; i < ns_pkt_len(p); i++)
					assert_int_equal(ns_pkt_data(p)[i], byte_at(p->seq + i));
				rcv_nxt += ns_pkt_len(p) + ((p->flags & NS_OFO_PKT_FIN) ? 1 : 0);
				ns_pkt_unref(p);
			}
			ns_ofo_advance(&q, rcv_nxt);
		}
		if (RND() % 200 == 0)
			ns_ofo_prune(&q, RND() % 100000);
		uint32_t last = rcv_nxt, cnt = 0, bytes = 0;
		uint64_t ts = 0;
		for (struct ns_pkt *p = q.head; p; p = p->next) {
			assert_true((int32_t)(p->seq - last) >= 0);
			assert_true(ns_pkt_len(p) > 0 || (p->flags & NS_OFO_PKT_FIN));
			last = p->seq + ns_pkt_len(p) + ((p->flags & NS_OFO_PKT_FIN) ? 1 : 0);
			cnt++;
			bytes += ns_pkt_len(p);
			ts += p->truesize;
			if (!p->next)
				assert_ptr_equal(q.tail, p);
		}
		assert_int_equal(cnt, q.npkts);
		assert_int_equal(bytes, q.bytes);
		assert_int_equal(ts, q.truesize);
		struct ns_tcp_sack_block b[4];
		unsigned n = ns_ofo_sack_take(&q, b, 4);
		for (unsigned i = 0; i < n; i++)
			assert_true((int32_t)(b[i].end - b[i].start) > 0);
	}
#undef RND
	ns_ofo_purge(&q);
	assert_int_equal(atomic_load(&pool.live), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_pop),
		cmocka_unit_test(test_overlaps_trim_and_dsack),
		cmocka_unit_test(test_invalid_and_fin),
		cmocka_unit_test(test_budget_drop_and_prune),
		cmocka_unit_test(test_many_small_segments_prune),
		cmocka_unit_test(test_coalesce_into_tailroom),
		cmocka_unit_test(test_random_reassembly),
		cmocka_unit_test(test_hostile_segments_keep_invariants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
