/*
 * link/impair.c - the impairment wrapper: a link endpoint around another
 * one that drops, duplicates, reorders, delays and corrupts the frames
 * written through it, from its own seeded random source, so a test run is
 * reproducible from its seed.  Frames received from the inner endpoint go
 * up unchanged (wrap both ends of a pair to impair both directions).
 * Owns: the per-frame decisions, the reorder hold slot, the delay heap and
 * the thread that releases delayed frames in threaded mode.
 *
 * Decisions, in order, per frame written: the test's filter (drop, delay or
 * rewrite a chosen frame); drop (drop_ppm); corrupt one bit
 * after the Ethernet header (corrupt_ppm; partial checksums are completed
 * first so the damage is visible to the receiver); duplicate (dup_ppm);
 * reorder (reorder_ppm: the frame is held and sent after the next frame,
 * or at the next poll()/thread wake-up if none follows); then delay
 * (delay_ns + uniform [0, jitter_ns)) measured on opts->now_ns.
 *
 * Delayed frames are released by poll() (embedded mode: a pump that runs
 * a virtual clock asks ns_link_impair_next() for the next release time) or
 * by the wrapper's thread (threaded mode).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include "link_internal.h"

struct delayed {
	uint64_t when, seq;
	struct ns_pkt *pkt;
};

struct impair {
	struct ns_link l;
	struct ns_link *inner;
	struct ns_impair_opts o;
	struct ns_seeded_rng rng;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ns_pkt *held;            /* reorder slot */
	struct delayed *heap;           /* binary min-heap on (when, seq) */
	uint32_t n, cap;
	uint64_t seq;
	struct ns_impair_stats st;

	pthread_t thr;
	bool running, stopping;
};

static const struct ns_link_ops impair_ops;

static struct impair *to_imp(struct ns_link *l) { return (struct impair *)l; }

static uint64_t imp_now(struct impair *m)
{
	if (m->o.now_ns)
		return m->o.now_ns(m->o.clock_ctx);
	return ns__real_now();
}

static uint64_t rnd(struct impair *m) { return ns_seeded_rng(&m->rng).next_u64(&m->rng); }

static bool roll(struct impair *m, uint32_t ppm)
{
	return ppm && rnd(m) % 1000000u < ppm;
}

/* ---- delay heap ------------------------------------------------------------- */

static bool dl_less(const struct delayed *a, const struct delayed *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static bool heap_push(struct impair *m, uint64_t when, struct ns_pkt *p)
{
	if (m->n == m->cap) {
		uint32_t nc = m->cap ? m->cap * 2 : 64;
		struct delayed *h = realloc(m->heap, nc * sizeof(*h));
		if (!h)
			return false;
		m->heap = h;
		m->cap = nc;
	}
	uint32_t i = m->n++;
	struct delayed d = { when, m->seq++, p };
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!dl_less(&d, &m->heap[parent]))
			break;
		m->heap[i] = m->heap[parent];
		i = parent;
	}
	m->heap[i] = d;
	return true;
}

static struct ns_pkt *heap_pop(struct impair *m)
{
	struct ns_pkt *p = m->heap[0].pkt;
	struct delayed last = m->heap[--m->n];
	uint32_t i = 0;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= m->n)
			break;
		if (c + 1 < m->n && dl_less(&m->heap[c + 1], &m->heap[c]))
			c++;
		if (!dl_less(&m->heap[c], &last))
			break;
		m->heap[i] = m->heap[c];
		i = c;
	}
	if (m->n)
		m->heap[i] = last;
	return p;
}

/* ---- output ------------------------------------------------------------------ */

struct batch {
	struct ns_pkt *p[64];
	int n;
};

static void sync_inner(struct impair *m)
{
	if (!ns__link_is_channel(m->inner))
		m->inner->pool = m->l.pool;
}

static void batch_flush(struct impair *m, struct batch *b)
{
	if (b->n) {
		sync_inner(m);
		m->inner->ops->write(m->inner, b->p, b->n);
	}
	b->n = 0;
}

/* Adds a frame to the outgoing batch; mu held: the batch is flushed by
 * the caller after unlocking, unless it fills up first. */
static void out_locked(struct impair *m, struct batch *b, struct ns_pkt *p)
{
	if (b->n == (int)NS_ARRAY_SIZE(b->p)) {
		pthread_mutex_unlock(&m->mu);
		batch_flush(m, b);
		pthread_mutex_lock(&m->mu);
	}
	b->p[b->n++] = p;
	m->st.passed++;
}

static void emit_locked(struct impair *m, struct batch *b, struct ns_pkt *p)
{
	if (m->o.delay_ns || m->o.jitter_ns) {
		uint64_t d = m->o.delay_ns;
		if (m->o.jitter_ns)
			d += rnd(m) % m->o.jitter_ns;
		if (heap_push(m, imp_now(m) + d, p)) {
			pthread_cond_signal(&m->cv);
			return;
		}
	}
	out_locked(m, b, p);
}

static struct ns_pkt *corrupt(struct impair *m, struct ns_pkt *p)
{
	struct ns_pkt *c = ns_pkt_copy(p, ns_pkt_headroom(p));
	ns_pkt_unref(p);
	if (!c)
		return NULL;
	ns__link_csum_finish(c);
	uint32_t len = ns_pkt_len(c);
	if (len > NS_ETH_HLEN) {
		uint32_t at = NS_ETH_HLEN + (uint32_t)(rnd(m) % (len - NS_ETH_HLEN));
		ns_pkt_data(c)[at] ^= (uint8_t)(1u << (rnd(m) % 8));
	}
	return c;
}

static void one_frame_locked(struct impair *m, struct batch *b, struct ns_pkt *p)
{
	if (m->o.filter) {
		uint64_t f = m->o.filter(m->o.filter_ctx, p);
		if (f == NS_IMPAIR_DROP) {
			m->st.dropped++;
			ns_pkt_unref(p);
			return;
		}
		if (f) {
			if (!heap_push(m, imp_now(m) + m->o.delay_ns + f, p))
				out_locked(m, b, p);
			else
				pthread_cond_signal(&m->cv);
			return;
		}
	}
	if (roll(m, m->o.drop_ppm)) {
		m->st.dropped++;
		ns_pkt_unref(p);
		return;
	}
	if (roll(m, m->o.corrupt_ppm)) {
		p = corrupt(m, p);
		if (!p)
			return;
		m->st.corrupted++;
	}
	struct ns_pkt *frames[2] = { p, NULL };
	if (roll(m, m->o.dup_ppm)) {
		frames[1] = ns_pkt_copy(p, ns_pkt_headroom(p));
		if (frames[1])
			m->st.duplicated++;
	}
	for (int i = 0; i < 2 && frames[i]; i++) {
		struct ns_pkt *f = frames[i];
		if (!m->held && roll(m, m->o.reorder_ppm)) {
			m->held = f;
			m->st.reordered++;
			continue;
		}
		emit_locked(m, b, f);
		if (m->held) {
			struct ns_pkt *h = m->held;
			m->held = NULL;
			emit_locked(m, b, h);
		}
	}
}

static int impair_write(struct ns_link *l, struct ns_pkt **pkts, int n)
{
	struct impair *m = to_imp(l);
	struct batch b = { .n = 0 };
	pthread_mutex_lock(&m->mu);
	for (int i = 0; i < n; i++)
		one_frame_locked(m, &b, pkts[i]);
	pthread_mutex_unlock(&m->mu);
	batch_flush(m, &b);
	return n;       /* dropped frames count as sent: the wire lost them */
}

/* Releases the held frame and every delayed frame due; returns how many. */
static int release_due(struct impair *m, bool release_held)
{
	struct batch b = { .n = 0 };
	int k = 0;
	pthread_mutex_lock(&m->mu);
	if (release_held && m->held) {
		struct ns_pkt *h = m->held;
		m->held = NULL;
		emit_locked(m, &b, h);
		k++;
	}
	uint64_t now = imp_now(m);
	while (m->n && m->heap[0].when <= now) {
		out_locked(m, &b, heap_pop(m));
		k++;
	}
	pthread_mutex_unlock(&m->mu);
	batch_flush(m, &b);
	return k;
}

/* ---- receive side and threads ----------------------------------------------- */

static void impair_rx(void *ctx, struct ns_pkt *pkt)
{
	struct impair *m = ctx;
	if (m->l.deliver)
		m->l.deliver(m->l.deliver_ctx, pkt);
	else
		ns_pkt_unref(pkt);
}

static int impair_poll(struct ns_link *l, int budget)
{
	struct impair *m = to_imp(l);
	sync_inner(m);
	int k = release_due(m, true);
	if (m->inner->ops->poll)
		k += m->inner->ops->poll(m->inner, budget);
	return k;
}

static void *impair_thread(void *arg)
{
	struct impair *m = arg;
	bool real = m->o.now_ns == NULL;
	pthread_mutex_lock(&m->mu);
	while (!m->stopping) {
		uint64_t now = imp_now(m);
		uint64_t wait = NS_NSEC_PER_SEC;
		if (m->held)
			wait = NS_NSEC_PER_MSEC;
		if (m->n)
			wait = NS_MIN(wait, m->heap[0].when > now ? m->heap[0].when - now : 0);
		if (!real)
			wait = NS_MIN(wait, NS_NSEC_PER_MSEC);
		if (wait) {
			uint64_t dl = ns__real_now() + wait;
			struct timespec ts = { .tv_sec = (time_t)(dl / NS_NSEC_PER_SEC),
					       .tv_nsec = (long)(dl % NS_NSEC_PER_SEC) };
			pthread_cond_timedwait(&m->cv, &m->mu, &ts);
			if (m->stopping)
				break;
		}
		bool held = m->held != NULL;
		pthread_mutex_unlock(&m->mu);
		release_due(m, held);
		pthread_mutex_lock(&m->mu);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

static int impair_start(struct ns_link *l)
{
	struct impair *m = to_imp(l);
	sync_inner(m);
	if (m->inner->ops->start) {
		int err = m->inner->ops->start(m->inner);
		if (err < 0)
			return err;
	}
	pthread_mutex_lock(&m->mu);
	int r = 0;
	if (!m->running) {
		m->stopping = false;
		r = pthread_create(&m->thr, NULL, impair_thread, m);
		m->running = r == 0;
	}
	pthread_mutex_unlock(&m->mu);
	return r == 0 ? 0 : -NS_ENOMEM;
}

static void impair_stop(struct ns_link *l)
{
	struct impair *m = to_imp(l);
	pthread_mutex_lock(&m->mu);
	bool was = m->running;
	m->stopping = true;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	if (was)
		pthread_join(m->thr, NULL);
	m->running = false;
	if (m->inner->ops->stop)
		m->inner->ops->stop(m->inner);
}

static int impair_pollfd(struct ns_link *l)
{
	struct impair *m = to_imp(l);
	return m->inner->ops->pollfd ? m->inner->ops->pollfd(m->inner) : -1;
}

static void impair_close(struct ns_link *l)
{
	struct impair *m = to_imp(l);
	impair_stop(l);
	while (m->n)
		ns_pkt_unref(heap_pop(m));
	ns_pkt_unref(m->held);
	free(m->heap);
	if (m->inner->ops->close)
		m->inner->ops->close(m->inner);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m);
}

static const struct ns_link_ops impair_ops = {
	.write = impair_write,
	.poll = impair_poll,
	.start = impair_start,
	.stop = impair_stop,
	.pollfd = impair_pollfd,
	.close = impair_close,
};

/* ---- public --------------------------------------------------------------------- */

struct ns_link *ns_link_impair_new(struct ns_link *inner, const struct ns_impair_opts *o)
{
	if (!inner)
		return NULL;
	struct impair *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->l.ops = &impair_ops;
	m->l.mtu = inner->mtu;
	m->l.caps = inner->caps;
	m->l.max_header_len = inner->max_header_len;
	memcpy(m->l.mac, inner->mac, 6);
	snprintf(m->l.name, sizeof(m->l.name), "imp-%.24s", inner->name);
	m->inner = inner;
	if (o)
		m->o = *o;
	ns_seeded_rng_init(&m->rng, m->o.seed);
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	if (ns__link_is_channel(inner)) {
		ns__link_channel_set_upper(inner, &m->l);
	} else {
		inner->deliver = impair_rx;
		inner->deliver_ctx = m;
	}
	return &m->l;
}

void ns_link_impair_stats(struct ns_link *l, struct ns_impair_stats *st)
{
	struct impair *m = to_imp(l);
	pthread_mutex_lock(&m->mu);
	*st = m->st;
	pthread_mutex_unlock(&m->mu);
}

uint64_t ns_link_impair_next(struct ns_link *l)
{
	struct impair *m = to_imp(l);
	pthread_mutex_lock(&m->mu);
	uint64_t next = UINT64_MAX;
	if (m->held)
		next = imp_now(m);
	if (m->n)
		next = NS_MIN(next, m->heap[0].when);
	pthread_mutex_unlock(&m->mu);
	return next;
}

bool ns__link_is_impair(const struct ns_link *l) { return l && l->ops == &impair_ops; }

struct ns_link *ns__link_impair_inner(struct ns_link *l) { return to_imp(l)->inner; }
