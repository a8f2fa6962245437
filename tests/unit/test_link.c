/*
 * tests/unit/test_link.c - link endpoints: channel pairing and queue bound,
 * capture/inject, loopback, the impairment wrapper (seeded statistics,
 * determinism, delays on a virtual clock), threaded delivery, partial
 * checksum completion, and the shared harness (ns_test.h) itself.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/time.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "link/link_internal.h"
#include "helpers/ns_test.h"

/* ---- a collector standing in for a stack ------------------------------------ */

#define COLLECT_MAX 20000

struct collect {
	pthread_mutex_t mu;
	struct ns_pkt *p[COLLECT_MAX];
	int n;
	int overflow;
};

static void collect_fn(void *ctx, struct ns_pkt *pkt)
{
	struct collect *c = ctx;
	pthread_mutex_lock(&c->mu);
	if (c->n < COLLECT_MAX)
		c->p[c->n++] = pkt;
	else {
		c->overflow++;
		ns_pkt_unref(pkt);
	}
	pthread_mutex_unlock(&c->mu);
}

static struct collect *collect_new(void)
{
	struct collect *c = calloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

static void collect_free(struct collect *c)
{
	for (int i = 0; i < c->n; i++)
		ns_pkt_unref(c->p[i]);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static int collect_count(struct collect *c)
{
	pthread_mutex_lock(&c->mu);
	int n = c->n;
	pthread_mutex_unlock(&c->mu);
	return n;
}

static void attach(struct ns_link *l, struct collect *c, struct ns_pool *pool)
{
	l->deliver = collect_fn;
	l->deliver_ctx = c;
	l->pool = pool;
}

/* A frame of len bytes: Ethernet header to dst, ethertype 0x88b5, then a
 * 32-bit sequence number twice and a fixed fill pattern. */
static struct ns_pkt *mkframe(struct ns_pool *pool, uint32_t seq, size_t len)
{
	static const uint8_t dst[6] = NS_TEST_MAC_B, src[6] = NS_TEST_MAC_A;
	struct ns_pkt *p = ns_pkt_alloc(pool, NS_PKT_HEADROOM, len);
	uint8_t *d = ns_pkt_data(p);
	memcpy(d, dst, 6);
	memcpy(d + 6, src, 6);
	ns_store_be16(d + 12, 0x88b5);
	ns_store_be32(d + 14, seq);
	if (len >= 22)
		ns_store_be32(d + 18, seq);
	for (size_t i = 22; i < len; i++)
		d[i] = (uint8_t)(i * 7);
	return p;
}

static uint32_t frame_seq(const struct ns_pkt *p) { return ns_load_be32(ns_pkt_data(p) + 14); }

static bool fd_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

static int write1(struct ns_link *l, struct ns_pkt *p) { return l->ops->write(l, &p, 1); }

/* ---- channel ------------------------------------------------------------------- */

static void test_channel_pair(void **state)
{
	(void)state;
	struct ns_pool pa = { .limit = 1 << 24 }, pb = { .limit = 1 << 24 };
	static const uint8_t ma[6] = NS_TEST_MAC_A, mb[6] = NS_TEST_MAC_B;
	struct ns_link *a = ns_link_channel_new(ma, 1500, 16);
	struct ns_link *b = ns_link_channel_new(mb, 1500, 16);
	struct collect *ca = collect_new(), *cb = collect_new();
	attach(a, ca, &pa);
	attach(b, cb, &pb);
	ns_link_channel_pair(a, b);
	assert_int_equal(a->mtu, 1500);
	assert_memory_equal(a->mac, ma, 6);

	assert_int_equal(write1(a, mkframe(&pa, 7, 100)), 1);
	/* queued, not delivered synchronously; the sender's copy is gone */
	assert_int_equal(collect_count(cb), 0);
	assert_int_equal(atomic_load(&pa.live), 0);
	assert_int_equal(atomic_load(&pb.live), 1);   /* charged to the receiver */
	assert_int_equal(ns__link_channel_rxq_len(b), 1);
	assert_int_equal(a->ops->poll(a, 64), 0);     /* nothing for a */
	assert_int_equal(b->ops->poll(b, 64), 1);
	assert_int_equal(cb->n, 1);
	assert_int_equal(ns_pkt_len(cb->p[0]), 100);
	assert_int_equal(frame_seq(cb->p[0]), 7);
	assert_true(ns_pkt_headroom(cb->p[0]) >= NS_PKT_HEADROOM);

	/* the other direction, a batch of 3 */
	struct ns_pkt *batch[3] = { mkframe(&pb, 1, 60), mkframe(&pb, 2, 61), mkframe(&pb, 3, 1514) };
	assert_int_equal(b->ops->write(b, batch, 3), 3);
	assert_int_equal(a->ops->poll(a, 2), 2);      /* budget respected */
	assert_int_equal(a->ops->poll(a, 2), 1);
	assert_int_equal(ca->n, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(frame_seq(ca->p[i]), i + 1);

	/* over the MTU: dropped like a real NIC would */
	assert_int_equal(write1(a, mkframe(&pa, 9, 1515)), 0);
	assert_int_equal(ns__link_channel_rxq_len(b), 0);

	/* the pollfd is readable exactly while frames wait */
	int fd = b->ops->pollfd(b);
	assert_true(fd >= 0);
	assert_false(fd_readable(fd));
	write1(a, mkframe(&pa, 10, 64));
	assert_true(fd_readable(fd));
	assert_int_equal(b->ops->poll(b, 64), 1);
	assert_false(fd_readable(fd));

	/* closing one side: the other's writes are dropped, nothing leaks */
	a->ops->close(a);
	assert_int_equal(write1(b, mkframe(&pb, 11, 64)), 0);
	collect_free(ca);
	collect_free(cb);
	b->ops->close(b);
	assert_int_equal(atomic_load(&pa.live), 0);
	assert_int_equal(atomic_load(&pb.live), 0);
}

static void test_channel_queue_bound(void **state)
{
	(void)state;
	struct ns_pool pool = { .limit = 1 << 24 };
	struct ns_link *a = ns_link_channel_new(NULL, 1500, 4);
	struct ns_link *b = ns_link_channel_new(NULL, 1500, 4);
	struct collect *cb = collect_new();
	attach(a, NULL, &pool);
	a->deliver = NULL;
	attach(b, cb, &pool);
	ns_link_channel_pair(a, b);
	struct ns_pkt *batch[10];
	for (int i = 0; i < 10; i++)
		batch[i] = mkframe(&pool, (uint32_t)i, 80);
	/* tail drop at the bound: the first four are kept, the count says so */
	assert_int_equal(a->ops->write(a, batch, 10), 4);
	assert_int_equal(atomic_load(&pool.live), 4);
	assert_int_equal(b->ops->poll(b, 100), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(frame_seq(cb->p[i]), i);
	/* room again after draining */
	assert_int_equal(write1(a, mkframe(&pool, 99, 80)), 1);
	/* inject respects the bound too */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ns_link_channel_inject(b, mkframe(&pool, 100 + (uint32_t)i, 80)), 0);
	assert_int_equal(ns_link_channel_inject(b, mkframe(&pool, 200, 80)), -NS_ENOBUFS);
	/* queued frames are freed by close */
	a->ops->close(a);
	b->ops->close(b);
	collect_free(cb);
	assert_int_equal(atomic_load(&pool.live), 0);
}

static void test_channel_capture_inject(void **state)
{
	(void)state;
	struct ns_pool pool = { .limit = 1 << 24 };
	struct ns_link *c = ns_link_channel_new(NULL, 1500, 8);
	struct collect *col = collect_new();
	attach(c, col, &pool);
	struct ns_pkt *orig = mkframe(&pool, 5, 200);
	struct ns_pkt *keep = ns_pkt_ref(orig);     /* e.g. a retransmit queue */
	assert_int_equal(write1(c, orig), 1);
	struct ns_pkt *t = ns_link_channel_take(c);
	assert_non_null(t);
	assert_ptr_not_equal(t, keep);              /* a snapshot, not the shared buffer */
	assert_memory_equal(ns_pkt_data(t), ns_pkt_data(keep), 200);
	assert_null(ns_link_channel_take(c));
	ns_pkt_unref(keep);
	/* inject: delivered by poll, to this channel's own stack */
	assert_int_equal(ns_link_channel_inject(c, t), 0);
	assert_int_equal(collect_count(col), 0);
	assert_int_equal(c->ops->poll(c, 8), 1);
	assert_int_equal(frame_seq(col->p[0]), 5);
	c->ops->close(c);
	collect_free(col);
	assert_int_equal(atomic_load(&pool.live), 0);
}

static void test_loopback(void **state)
{
	(void)state;
	struct ns_pool pool = { .limit = 1 << 24 };
	struct ns_link *lo = ns_link_loopback_new(0);
	assert_true(lo->caps & NS_LINK_CAP_LOOPBACK);
	assert_true(lo->caps & NS_LINK_CAP_NOARP);
	assert_int_equal(lo->mtu, 65536);
	struct collect *col = collect_new();
	attach(lo, col, &pool);
	assert_int_equal(write1(lo, mkframe(&pool, 1, 9000)), 1);
	assert_int_equal(write1(lo, mkframe(&pool, 2, 64)), 1);
	assert_int_equal(collect_count(col), 0);   /* never re-entrant */
	assert_int_equal(lo->ops->poll(lo, 16), 2);
	assert_int_equal(frame_seq(col->p[0]), 1);
	assert_int_equal(ns_pkt_len(col->p[0]), 9000);
	assert_int_equal(frame_seq(col->p[1]), 2);
	assert_null(ns_link_channel_take(lo));
	lo->ops->close(lo);
	collect_free(col);
	assert_int_equal(atomic_load(&pool.live), 0);
}

/* ---- impairment ---------------------------------------------------------------- */

struct imp_run {
	struct ns_impair_stats st;
	int received;
	uint32_t order_hash;
	int out_of_order, corrupted_seen, dup_seen;
};

static struct imp_run impair_run(uint64_t seed, int frames)
{
	struct ns_pool pool = { .limit = 1 << 28 };
	struct ns_link *a = ns_link_channel_new(NULL, 1500, 100000);
	struct ns_link *b = ns_link_channel_new(NULL, 1500, 100000);
	ns_link_channel_pair(a, b);
	struct ns_impair_opts o = { .seed = seed, .drop_ppm = 100000, .dup_ppm = 50000,
				    .reorder_ppm = 50000, .corrupt_ppm = 20000 };
	struct ns_link *ia = ns_link_impair_new(a, &o);
	struct collect *cb = collect_new();
	attach(ia, NULL, &pool);
	ia->deliver = NULL;
	attach(b, cb, &pool);
	for (int i = 0; i < frames; i++) {
		write1(ia, mkframe(&pool, (uint32_t)i, 128));
		if (i % 100 == 99)
			ia->ops->poll(ia, 0);   /* releases a held frame */
	}
	ia->ops->poll(ia, 0);
	while (b->ops->poll(b, 1024) > 0)
		;
	struct imp_run r = { 0 };
	ns_link_impair_stats(ia, &r.st);
	r.received = cb->n;
	uint32_t last = 0, h = 2166136261u;
	uint8_t *seen = calloc((size_t)frames, 1);
	for (int i = 0; i < cb->n; i++) {
		struct ns_pkt *p = cb->p[i];
		uint32_t s = frame_seq(p);
		h = (h ^ s) * 16777619u;
		/* a corrupted frame differs from the pattern in exactly one bit */
		const uint8_t *d = ns_pkt_data(p);
		int bits = __builtin_popcount(s ^ ns_load_be32(d + 18));
		for (int k = 22; k < 128; k++)
			bits += __builtin_popcount(d[k] ^ (uint8_t)(k * 7));
		if (bits) {
			assert_int_equal(bits, 1);
			r.corrupted_seen++;
			continue;       /* its sequence number may be the damaged part */
		}
		assert_true(s < (uint32_t)frames);
		if (seen[s])
			r.dup_seen++;
		seen[s] = 1;
		if (i && s < last)
			r.out_of_order++;
		last = s;
	}
	free(seen);
	r.order_hash = h;
	ia->ops->close(ia);
	b->ops->close(b);
	collect_free(cb);
	assert_int_equal(atomic_load(&pool.live), 0);
	return r;
}

static void test_impair_stats(void **state)
{
	(void)state;
	const int N = 10000;
	uint64_t seed = ns_test_seed(42);
	struct imp_run r = impair_run(seed, N);
	print_message("impair seed %llu: passed %llu dropped %llu dup %llu reordered %llu corrupted %llu\n",
		      (unsigned long long)seed, (unsigned long long)r.st.passed,
		      (unsigned long long)r.st.dropped, (unsigned long long)r.st.duplicated,
		      (unsigned long long)r.st.reordered, (unsigned long long)r.st.corrupted);
	/* rates within a generous band around the configured ppm */
	assert_in_range(r.st.dropped, 800, 1200);           /* 10% of 10000 */
	assert_in_range(r.st.duplicated, 330, 570);         /* 5% of ~9000 */
	assert_in_range(r.st.reordered, 330, 620);
	assert_in_range(r.st.corrupted, 110, 270);          /* 2% of ~9000 */
	/* conservation: what was written = dropped + passed - duplicates */
	assert_int_equal(r.st.passed + r.st.dropped, (uint64_t)N + r.st.duplicated);
	assert_int_equal((uint64_t)r.received, r.st.passed);
	/* a corrupted frame may also have been duplicated */
	assert_in_range(r.corrupted_seen, r.st.corrupted, r.st.corrupted + r.st.duplicated);
	assert_true(r.out_of_order > 0);
	assert_true(r.dup_seen > 0);
	/* the same seed gives the same run, frame by frame; another seed does not */
	struct imp_run again = impair_run(seed, N);
	assert_memory_equal(&again.st, &r.st, sizeof(r.st));
	assert_int_equal(again.order_hash, r.order_hash);
	struct imp_run other = impair_run(seed + 1, N);
	assert_true(other.order_hash != r.order_hash);
}

static uint64_t test_clock_now(void *ctx) { return *(uint64_t *)ctx; }

static void test_impair_delay(void **state)
{
	(void)state;
	struct ns_pool pool = { .limit = 1 << 24 };
	uint64_t now = 5 * NS_NSEC_PER_SEC;
	struct ns_link *a = ns_link_channel_new(NULL, 1500, 64);
	struct ns_link *b = ns_link_channel_new(NULL, 1500, 64);
	ns_link_channel_pair(a, b);
	struct ns_impair_opts o = { .seed = 3, .delay_ns = 10 * NS_NSEC_PER_MSEC,
				    .jitter_ns = 5 * NS_NSEC_PER_MSEC,
				    .now_ns = test_clock_now, .clock_ctx = &now };
	struct ns_link *ia = ns_link_impair_new(a, &o);
	struct collect *cb = collect_new();
	attach(ia, NULL, &pool);
	ia->deliver = NULL;
	attach(b, cb, &pool);
	assert_int_equal(ns_link_impair_next(ia), UINT64_MAX);
	for (int i = 0; i < 20; i++)
		write1(ia, mkframe(&pool, (uint32_t)i, 64));
	uint64_t next = ns_link_impair_next(ia);
	assert_in_range(next, now + 10 * NS_NSEC_PER_MSEC, now + 15 * NS_NSEC_PER_MSEC - 1);
	ia->ops->poll(ia, 64);
	b->ops->poll(b, 64);
	assert_int_equal(cb->n, 0);                 /* nothing before the delay */
	int delivered = 0, rounds = 0;
	while (ns_link_impair_next(ia) != UINT64_MAX && rounds++ < 100) {
		uint64_t t = ns_link_impair_next(ia);
		assert_true(t >= now);
		now = t;
		ia->ops->poll(ia, 64);
		delivered += b->ops->poll(b, 64);
	}
	assert_int_equal(delivered, 20);
	assert_true(now < 5 * NS_NSEC_PER_SEC + 15 * NS_NSEC_PER_MSEC);
	struct ns_impair_stats st;
	ns_link_impair_stats(ia, &st);
	assert_int_equal(st.passed, 20);
	/* frames still delayed at close are freed */
	write1(ia, mkframe(&pool, 99, 64));
	ia->ops->close(ia);
	b->ops->close(b);
	collect_free(cb);
	assert_int_equal(atomic_load(&pool.live), 0);
}

/* ---- threaded mode ------------------------------------------------------------- */

struct writer {
	struct ns_link *l;
	struct ns_pool *pool;
	int base, n;
};

static void *writer_fn(void *arg)
{
	struct writer *w = arg;
	for (int i = 0; i < w->n; i++) {
		struct ns_pkt *p = mkframe(w->pool, (uint32_t)(w->base + i), 100);
		while (write1(w->l, p) == 0) {      /* queue full: retry a fresh frame */
			struct timespec ts = { 0, 100000 };
			nanosleep(&ts, NULL);
			p = mkframe(w->pool, (uint32_t)(w->base + i), 100);
		}
	}
	return NULL;
}

static void test_threaded_delivery(void **state)
{
	(void)state;
	struct ns_pool pool = { .limit = 1 << 26 };
	/* b's queue holds everything the impaired side may release at once */
	struct ns_link *a = ns_link_channel_new(NULL, 1500, 256);
	struct ns_link *b = ns_link_channel_new(NULL, 1500, 8192);
	struct collect *ca = collect_new(), *cb = collect_new();
	attach(a, ca, &pool);
	attach(b, cb, &pool);
	ns_link_channel_pair(a, b);
	struct ns_impair_opts o = { .seed = 9, .delay_ns = NS_NSEC_PER_MSEC, .reorder_ppm = 100000 };
	struct ns_link *ia = ns_link_impair_new(a, &o);   /* real clock, own thread */
	attach(ia, ca, &pool);          /* a's frames now go up through ia */
	assert_int_equal(ia->ops->start(ia), 0);
	assert_int_equal(b->ops->start(b), 0);
	struct writer w[3] = { { ia, &pool, 0, 3000 }, { ia, &pool, 3000, 3000 }, { b, &pool, 0, 2000 } };
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, writer_fn, &w[i]);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	/* everything arrives without anyone calling poll(), within 10 s */
	for (int i = 0; i < 10000 && (collect_count(cb) < 6000 || collect_count(ca) < 2000); i++) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	assert_int_equal(collect_count(cb), 6000);
	assert_int_equal(collect_count(ca), 2000);
	uint8_t *seen = calloc(6000, 1);
	for (int i = 0; i < 6000; i++) {
		uint32_t s = frame_seq(cb->p[i]);
		assert_true(s < 6000 && !seen[s]);
		seen[s] = 1;
	}
	free(seen);
	ia->ops->stop(ia);
	b->ops->stop(b);
	ia->ops->close(ia);
	b->ops->close(b);
	collect_free(ca);
	collect_free(cb);
	assert_int_equal(atomic_load(&pool.live), 0);
}

/* ---- checksum completion --------------------------------------------------------- */

static void test_partial_csum_completed(void **state)
{
	(void)state;
	struct ns_pool pool = { .limit = 1 << 24 };
	struct ns_link *c = ns_link_channel_new(NULL, 1500, 8);
	attach(c, NULL, &pool);
	c->caps |= NS_LINK_CAP_TX_CSUM;
	struct ns_test_l3 h = { .src_mac = NS_TEST_MAC_A, .dst_mac = NS_TEST_MAC_B };
	h.src = ns_test_addr("198.18.0.1");
	h.dst = ns_test_addr("198.18.0.2");
	uint8_t buf[256];
	size_t n = ns_test_build_udp(buf, &h, 1234, 7, "hello, partial", 14);
	struct ns_test_parsed ps;
	assert_int_equal(ns_test_parse(buf, n, &ps), 0);
	assert_true(ps.l4_csum_ok);
	uint16_t good = ns_load_be16(buf + 14 + 20 + 6);
	/* as a stack would send it: the field holds the pseudo-header sum */
	uint32_t ph = ns_csum_pseudo(&h.src, &h.dst, NS_IPPROTO_UDP, 8 + 14);
	uint16_t folded = (uint16_t)~ns_csum_fold(ph);
	ns_store_be16(buf + 14 + 20 + 6, folded);
	struct ns_pkt *p = ns_pkt_alloc(&pool, NS_PKT_HEADROOM, n);
	memcpy(ns_pkt_data(p), buf, n);
	p->csum = NS_CSUM_PARTIAL;
	p->csum_start = 14 + 20;
	p->csum_off = 6;
	assert_int_equal(write1(c, p), 1);
	struct ns_pkt *t = ns_link_channel_take(c);
	assert_int_equal(t->csum, NS_CSUM_NONE);
	assert_int_equal(ns_load_be16(ns_pkt_data(t) + 14 + 20 + 6), good);
	assert_int_equal(ns_test_parse_pkt(t, &ps), 0);
	assert_true(ps.l4_csum_ok);
	ns_pkt_unref(t);
	c->ops->close(c);
	assert_int_equal(atomic_load(&pool.live), 0);
}

/* ---- the harness ------------------------------------------------------------------ */

static void test_builders_and_parser(void **state)
{
	(void)state;
	uint8_t buf[2048];
	struct ns_test_l3 h = { .src_mac = NS_TEST_MAC_A, .dst_mac = NS_TEST_MAC_B, .id = 77 };
	h.src = ns_test_addr("198.18.0.1");
	h.dst = ns_test_addr("198.18.0.2");
	struct ns_test_parsed ps;
	size_t n = ns_test_build_udp(buf, &h, 5000, 7, "abc", 3);
	assert_int_equal(n, 14 + 20 + 8 + 3);
	assert_int_equal(ns_test_parse(buf, n, &ps), 0);
	assert_int_equal(ps.ethertype, NS_ETHERTYPE_IPV4);
	assert_true(ps.ip_csum_ok && ps.l4_csum_ok);
	assert_int_equal(ps.proto, NS_IPPROTO_UDP);
	assert_int_equal(ps.sport, 5000);
	assert_int_equal(ps.dport, 7);
	assert_int_equal(ps.ip_id, 77);
	assert_int_equal(ps.payload_len, 3);
	assert_memory_equal(ps.payload, "abc", 3);
	buf[n - 1] ^= 0x40;                         /* damage the payload */
	ns_test_parse(buf, n, &ps);
	assert_false(ps.l4_csum_ok);
	ns_test_fix_l4_csum(buf, n);
	ns_test_parse(buf, n, &ps);
	assert_true(ps.l4_csum_ok);
	buf[14 + 8] = 1;                            /* TTL: IP checksum now wrong */
	ns_test_parse(buf, n, &ps);
	assert_false(ps.ip_csum_ok);
	ns_test_fix_ipv4_csum(buf);
	ns_test_parse(buf, n, &ps);
	assert_true(ps.ip_csum_ok);

	static const uint8_t mss[] = { 2, 4, 0x05, 0xb4, 1 };
	struct ns_test_tcp t = { .sport = 40000, .dport = 80, .seq = 1000, .flags = NS_TEST_TCP_SYN,
				 .win = 65535, .opts = mss, .opts_len = sizeof(mss) };
	n = ns_test_build_tcp(buf, &h, &t, NULL, 0);
	assert_int_equal(n, 14 + 20 + 28);    /* 5 option bytes padded to 8 */
	ns_test_parse(buf, n, &ps);
	assert_true(ps.l4_csum_ok);
	assert_int_equal(ps.tcp_flags, NS_TEST_TCP_SYN);
	assert_int_equal(ps.seq, 1000);
	assert_int_equal(ps.payload_len, 0);

	struct ns_test_l3 h6 = { .src_mac = NS_TEST_MAC_A, .dst_mac = NS_TEST_MAC_B };
	h6.src = ns_test_addr("fd00:5eed::1");
	h6.dst = ns_test_addr("fd00:5eed::2");
	n = ns_test_build_tcp(buf, &h6, &t, "xyz", 3);
	ns_test_parse(buf, n, &ps);
	assert_int_equal(ps.ethertype, NS_ETHERTYPE_IPV6);
	assert_true(ps.l4_csum_ok);
	assert_int_equal(ps.payload_len, 3);
	n = ns_test_build_icmp(buf, &h6, 128, 0, 0x00010002, "ping", 4);
	ns_test_parse(buf, n, &ps);
	assert_true(ps.l4_csum_ok);
	assert_int_equal(ps.icmp_type, 128);
	n = ns_test_build_icmp(buf, &h, 8, 0, 0x00010002, "ping", 4);
	ns_test_parse(buf, n, &ps);
	assert_true(ps.l4_csum_ok);
	assert_int_equal(ps.proto, NS_IPPROTO_ICMP);
	/* a non-first fragment has no L4 header to parse */
	h.frag = 0x2000 | 10;
	n = ns_test_build_ip(buf, &h, NS_IPPROTO_UDP, "12345678", 8);
	ns_test_parse(buf, n, &ps);
	assert_null(ps.l4 == NULL ? NULL : ps.payload);
	assert_int_equal(ps.frag, 0x2000 | 10);
	/* truncated frames are refused, not read past */
	assert_int_equal(ns_test_parse(buf, 10, &ps), -NS_EBADMSG);
	assert_int_equal(ns_test_parse(buf, 14 + 19, &ps), -NS_EBADMSG);
}

static uint64_t stat_of(struct ns_stack *stk, const char *name)
{
	uint64_t v = 0;
	assert_int_equal(ns_stat_get(stk, name, &v), 0);
	return v;
}

struct rx_cond {
	struct ns_stack *stk;
	uint64_t want;
};

static bool rx_reached(void *ctx)
{
	struct rx_cond *c = ctx;
	return stat_of(c->stk, "EthInUnknownProto") >= c->want;
}

/* Two stacks over the harness: frames written by one NIC reach the other
 * stack's Ethernet input, also through impairment with delays. */
static void pair_frames(bool impair)
{
	struct ns_test_pair p;
	struct ns_test_pair_opts o = { .ipv6 = true };
	if (impair) {
		o.impair = true;
		o.imp = (struct ns_impair_opts){ .drop_ppm = 200000, .delay_ns = 2 * NS_NSEC_PER_MSEC,
						 .jitter_ns = NS_NSEC_PER_MSEC };
	}
	assert_int_equal(ns_test_pair_init(&p, &o), 0);
	assert_int_equal(p.a.ip4.family, NS_AF_INET);
	assert_int_equal(p.b.ip6.family, NS_AF_INET6);
	struct ns_nic *nic = ns__nic_get(p.a.stk, p.a.nic);
	uint64_t t0 = ns_stack_now(p.a.stk);
	uint64_t before = stat_of(p.b.stk, "EthInUnknownProto");
	for (int i = 0; i < 100; i++) {
		struct ns_pkt *f = mkframe(ns_stack_pool(p.a.stk), (uint32_t)i, 64);
		ns__nic_write(nic, &f, 1);
	}
	struct rx_cond c = { p.b.stk, before + (impair ? 60 : 100) };
	assert_true(ns_test_pump(&p, rx_reached, &c, NS_NSEC_PER_SEC));
	uint64_t got = stat_of(p.b.stk, "EthInUnknownProto") - before;
	if (impair) {
		struct ns_impair_stats st;
		ns_test_pump(&p, NULL, NULL, 10 * NS_NSEC_PER_MSEC);
		got = stat_of(p.b.stk, "EthInUnknownProto") - before;
		ns_link_impair_stats(p.a.link, &st);
		assert_true(st.dropped > 0);
		assert_in_range(got, 60, 100);     /* ~20% lost, none duplicated */
		assert_true(ns_stack_now(p.a.stk) >= t0 + 2 * NS_NSEC_PER_MSEC);
	} else {
		assert_int_equal(got, 100);
		assert_int_equal(ns_stack_now(p.a.stk), t0);   /* no time needed */
	}
	/* a frame for another MAC is filtered */
	struct ns_pkt *f = mkframe(ns_stack_pool(p.a.stk), 1, 64);
	ns_pkt_data(f)[5] = 0x77;
	uint64_t other = stat_of(p.b.stk, "EthInOtherHost");
	ns__nic_write(nic, &f, 1);
	ns_test_pump(&p, NULL, NULL, 20 * NS_NSEC_PER_MSEC);
	if (!impair)
		assert_int_equal(stat_of(p.b.stk, "EthInOtherHost"), other + 1);
	ns_test_settle(&p);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

static void test_harness_pair(void **state)
{
	(void)state;
	pair_frames(false);
}

static void test_harness_pair_impaired(void **state)
{
	(void)state;
	pair_frames(true);
}

static void test_harness_capture(void **state)
{
	(void)state;
	struct ns_vclock vc = { 0 };
	struct ns_test_stack s;
	struct ns_test_stack_opts o = { .seed = 5, .ip4 = "198.18.0.1/24" };
	assert_int_equal(ns_test_stack_init(&s, &vc, &o), 0);
	assert_int_equal(vc.now, NS_TEST_T0);
	ns_test_capture_drop(&s);           /* e.g. a gratuitous ARP */
	uint8_t buf[128];
	static const uint8_t peer[6] = NS_TEST_MAC_PEER;
	size_t n = ns_test_build_eth(buf, s.mac, peer, 0x88b5, "payload", 7);
	uint64_t rx = stat_of(s.stk, "LinkRxFrames");
	assert_int_equal(ns_test_inject(&s, buf, n), 0);
	struct ns_test_stack *v[1] = { &s };
	assert_true(ns_test_settle_n(v, 1) >= 1);
	assert_int_equal(stat_of(s.stk, "LinkRxFrames"), rx + 1);
	/* frames written by the stack are captured */
	struct ns_nic *nic = ns__nic_get(s.stk, s.nic);
	struct ns_pkt *f = mkframe(ns_stack_pool(s.stk), 42, 80);
	assert_int_equal(ns__nic_write(nic, &f, 1), 1);
	struct ns_pkt *t = ns_test_capture(&s);
	assert_non_null(t);
	assert_int_equal(frame_seq(t), 42);
	ns_pkt_unref(t);
	assert_null(ns_test_capture(&s));
	/* time: a pump with nothing pending jumps straight to its limit */
	assert_true(ns_test_pump_n(v, 1, NULL, NULL, 3 * NS_NSEC_PER_SEC));
	assert_int_equal(vc.now, NS_TEST_T0 + 3 * NS_NSEC_PER_SEC);
	ns_test_capture_drop(&s);
	assert_int_equal(ns_test_stack_live(&s), 0);
	ns_test_stack_fini(&s);
}

/* Two full stacks in threaded mode over paired channels (real clock): UDP
 * datagrams and replies cross through the channels' receive threads. */
static void test_threaded_stacks_udp(void **state)
{
	(void)state;
	static const uint8_t ma[6] = NS_TEST_MAC_A, mb[6] = NS_TEST_MAC_B;
	struct ns_stack *a, *b;
	assert_int_equal(ns_stack_create(NULL, &a), 0);
	assert_int_equal(ns_stack_create(NULL, &b), 0);
	struct ns_link *la = ns_link_channel_new(ma, 1500, 4096);
	struct ns_link *lb = ns_link_channel_new(mb, 1500, 4096);
	ns_link_channel_pair(la, lb);
	int na = ns_nic_add(a, la, "eth0"), nb = ns_nic_add(b, lb, "eth0");
	struct ns_addr aa = ns_test_addr("198.18.0.1"), ab = ns_test_addr("198.18.0.2");
	assert_int_equal(ns_nic_addr_add(a, na, &aa, 24), 0);
	assert_int_equal(ns_nic_addr_add(b, nb, &ab, 24), 0);
	assert_int_equal(ns_stack_start(a), 0);
	assert_int_equal(ns_stack_start(b), 0);
	int sa = ns_socket(a, NS_AF_INET, NS_SOCK_DGRAM, 0);
	int sb = ns_socket(b, NS_AF_INET, NS_SOCK_DGRAM, 0);
	assert_true(sa >= 0 && sb >= 0);
	struct sockaddr_in to = { .sin_family = NS_AF_INET, .sin_port = htons(7000) };
	memcpy(&to.sin_addr, ab.b, 4);
	struct sockaddr_in any = { .sin_family = NS_AF_INET, .sin_port = htons(7000) };
	assert_int_equal(ns_bind(b, sb, (struct sockaddr *)&any, sizeof(any)), 0);
	struct timeval tv = { .tv_sec = 5 };
	ns_setsockopt(a, sa, NS_SOL_SOCKET, NS_SO_RCVTIMEO, &tv, sizeof(tv));
	ns_setsockopt(b, sb, NS_SOL_SOCKET, NS_SO_RCVTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < 200; i++) {
		char msg[32], got[64];
		int n = snprintf(msg, sizeof(msg), "datagram %d", i);
		assert_int_equal(ns_sendto(a, sa, msg, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to)), n);
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t r = ns_recvfrom(b, sb, got, sizeof(got), 0, (struct sockaddr *)&from, &fl);
		assert_int_equal(r, n);
		assert_memory_equal(got, msg, (size_t)n);
		/* and back, to the sender's ephemeral port */
		assert_int_equal(ns_sendto(b, sb, got, (size_t)r, 0, (struct sockaddr *)&from, fl), r);
		assert_int_equal(ns_recv(a, sa, got, sizeof(got), 0), n);
	}
	ns_close(a, sa);
	ns_close(b, sb);
	ns_stack_stop(a);
	ns_stack_stop(b);
	assert_int_equal(ns_stack_live_pkts(a), 0);
	assert_int_equal(ns_stack_live_pkts(b), 0);
	ns_stack_destroy(a);
	ns_stack_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_channel_pair),
		cmocka_unit_test(test_channel_queue_bound),
		cmocka_unit_test(test_channel_capture_inject),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_impair_stats),
		cmocka_unit_test(test_impair_delay),
		cmocka_unit_test(test_threaded_delivery),
		cmocka_unit_test(test_partial_csum_completed),
		cmocka_unit_test(test_builders_and_parser),
		cmocka_unit_test(test_harness_pair),
		cmocka_unit_test(test_harness_pair_impaired),
		cmocka_unit_test(test_harness_capture),
		cmocka_unit_test(test_threaded_stacks_udp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
