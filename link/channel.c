/*
 * link/channel.c - the in-memory channel endpoint.
 * Owns: the bounded receive queue of a channel, pairing two channels into a
 * wire (a write on one is queued on the other, copied into the receiver's
 * pool), the capture queue of an unpaired channel (ns_link_channel_take),
 * the embedded poll() and the threaded receive thread.
 *
 * A write never delivers synchronously: the frame is queued and delivered
 * later by poll() or the receive thread, so a stack never re-enters another
 * stack (or itself) while it holds locks.
 *
 * Lifetime: a pair shares one refcounted struct wire; closing one side
 * detaches it under wire->mu, so the other side's writes are dropped from
 * then on (each stack owns and closes its own channel, in any order).
 * Lock order: wire->mu, then a channel's mu.
 */
#include <stdlib.h>
#include <stdio.h>
#include "link_internal.h"
#include "../netstack/platform.h"

struct wire {
	pthread_mutex_t mu;
	struct chan *side[2];
	int refs;
};

struct chan {
	struct ns_link l;
	struct ns_link *upper;          /* whose deliver/pool to use (self by default) */
	struct wire *wire;              /* set once by pairing, before use */
	int side;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ns_pkt *rx_head, *rx_tail;       /* frames to deliver to this stack */
	uint32_t rx_len;
	struct ns_pkt *cap_head, *cap_tail;     /* unpaired: frames written, for take() */
	uint32_t cap_len;
	uint32_t qmax;
	struct ns_wakeup *wake;         /* readable while rx_len > 0 */

	pthread_t thr;
	bool running, stopping;
};

static const struct ns_link_ops chan_ops;

bool ns__link_is_channel(const struct ns_link *l) { return l && l->ops == &chan_ops; }

static struct chan *to_chan(struct ns_link *l) { return (struct chan *)l; }

void ns__link_channel_set_upper(struct ns_link *l, struct ns_link *upper)
{
	to_chan(l)->upper = upper ? upper : l;
}

/* ---- frame copies --------------------------------------------------------- */

void ns__link_csum_finish(struct ns_pkt *pkt)
{
	if (pkt->csum != NS_CSUM_PARTIAL)
		return;
	uint32_t len = ns_pkt_len(pkt);
	uint32_t start = pkt->csum_start, off = pkt->csum_off;
	if (start < len && (uint32_t)start + off + 2 <= len) {
		uint8_t *p = ns_pkt_data(pkt) + start;
		/* the field holds the pseudo-header sum: fold it in with the data;
		 * a zero result is sent as 0xffff (as Linux's skb_checksum_help) */
		uint16_t c = ns_csum_fold(ns_csum_partial(p, len - start, 0));
		if (c == 0)
			c = 0xffff;
		ns_store_be16(p + off, c);
	}
	pkt->csum = NS_CSUM_NONE;
}

struct ns_pkt *ns__link_frame_copy(struct ns_pool *pool, const struct ns_pkt *pkt)
{
	uint32_t len = ns_pkt_len(pkt);
	struct ns_pkt *c = ns_pkt_alloc(pool, NS_PKT_HEADROOM, len);
	if (!c)
		return NULL;
	memcpy(ns_pkt_data(c), ns_pkt_data(pkt), len);
	if (pkt->csum == NS_CSUM_PARTIAL) {
		c->csum = NS_CSUM_PARTIAL;
		c->csum_start = pkt->csum_start;
		c->csum_off = pkt->csum_off;
		ns__link_csum_finish(c);
	}
	c->l2 = c->data;
	return c;
}

/* ---- queues ----------------------------------------------------------------- */

/* Appends pkt to c's receive queue (consumes it); false when full. */
static bool rx_enqueue(struct chan *c, struct ns_pkt *pkt)
{
	pthread_mutex_lock(&c->mu);
	if (c->rx_len >= c->qmax) {
		pthread_mutex_unlock(&c->mu);
		ns_pkt_unref(pkt);
		return false;
	}
	pkt->next = NULL;
	if (c->rx_tail)
		c->rx_tail->next = pkt;
	else
		c->rx_head = pkt;
	c->rx_tail = pkt;
	if (c->rx_len++ == 0) {
		if (c->wake)
			ns__wakeup_signal(c->wake);
		pthread_cond_signal(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return true;
}

/* Takes up to max frames off the receive queue as a chain; c->mu held. */
static struct ns_pkt *rx_dequeue_locked(struct chan *c, int max, int *n)
{
	struct ns_pkt *head = c->rx_head, *last = NULL, *p = head;
	int k = 0;
	while (p && k < max) {
		last = p;
		p = p->next;
		k++;
	}
	if (!last) {
		*n = 0;
		return NULL;
	}
	last->next = NULL;
	c->rx_head = p;
	if (!p)
		c->rx_tail = NULL;
	c->rx_len -= (uint32_t)k;
	if (c->rx_len == 0 && c->wake)
		ns__wakeup_clear(c->wake);
	*n = k;
	return head;
}

static void deliver_chain(struct chan *c, struct ns_pkt *p)
{
	struct ns_link *up = c->upper;
	while (p) {
		struct ns_pkt *n = p->next;
		p->next = NULL;
		if (up->deliver)
			up->deliver(up->deliver_ctx, p);
		else
			ns_pkt_unref(p);
		p = n;
	}
}

static bool cap_enqueue(struct chan *c, struct ns_pkt *pkt)
{
	pthread_mutex_lock(&c->mu);
	if (c->cap_len >= c->qmax) {
		pthread_mutex_unlock(&c->mu);
		ns_pkt_unref(pkt);
		return false;
	}
	pkt->next = NULL;
	if (c->cap_tail)
		c->cap_tail->next = pkt;
	else
		c->cap_head = pkt;
	c->cap_tail = pkt;
	c->cap_len++;
	pthread_mutex_unlock(&c->mu);
	return true;
}

/* ---- ops ---------------------------------------------------------------------- */

/* A frame longer than the link allows is dropped as a real NIC would. */
static bool frame_fits(const struct chan *c, const struct ns_pkt *p)
{
	if (p->gso_type != NS_GSO_NONE && (c->l.caps & (NS_LINK_CAP_TSO4 | NS_LINK_CAP_TSO6)))
		return ns_pkt_len(p) <= 65536 + NS_ETH_HLEN;
	return ns_pkt_len(p) <= c->l.mtu + NS_ETH_HLEN && ns_pkt_len(p) >= NS_ETH_HLEN;
}

static bool write_one(struct chan *c, struct ns_pkt *p)
{
	if (!frame_fits(c, p)) {
		ns_pkt_unref(p);
		return false;
	}
	struct wire *w = c->wire;
	if (!w) {
		struct ns_pkt *cp = ns__link_frame_copy(c->upper->pool, p);
		ns_pkt_unref(p);
		return cp && cap_enqueue(c, cp);
	}
	bool ok = false;
	pthread_mutex_lock(&w->mu);
	struct chan *peer = w->side[1 - c->side];
	if (peer) {
		struct ns_pkt *cp = ns__link_frame_copy(peer->upper->pool, p);
		ok = cp && rx_enqueue(peer, cp);
	}
	pthread_mutex_unlock(&w->mu);
	ns_pkt_unref(p);
	return ok;
}

static int chan_write(struct ns_link *l, struct ns_pkt **pkts, int n)
{
	struct chan *c = to_chan(l);
	int sent = 0;
	for (int i = 0; i < n; i++)
		sent += write_one(c, pkts[i]);
	return sent;
}

static int chan_poll(struct ns_link *l, int budget)
{
	struct chan *c = to_chan(l);
	if (!c->upper->deliver)
		return 0;
	int n;
	pthread_mutex_lock(&c->mu);
	struct ns_pkt *chain = rx_dequeue_locked(c, budget, &n);
	pthread_mutex_unlock(&c->mu);
	deliver_chain(c, chain);
	return n;
}

static void *rx_thread(void *arg)
{
	struct chan *c = arg;
	pthread_mutex_lock(&c->mu);
	while (!c->stopping) {
		if (!c->rx_len) {
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		int n;
		struct ns_pkt *chain = rx_dequeue_locked(c, 64, &n);
		pthread_mutex_unlock(&c->mu);
		deliver_chain(c, chain);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static int chan_start(struct ns_link *l)
{
	struct chan *c = to_chan(l);
	pthread_mutex_lock(&c->mu);
	if (c->running) {
		pthread_mutex_unlock(&c->mu);
		return 0;
	}
	c->stopping = false;
	int r = pthread_create(&c->thr, NULL, rx_thread, c);
	c->running = r == 0;
	pthread_mutex_unlock(&c->mu);
	return r == 0 ? 0 : -NS_ENOMEM;
}

static void chan_stop(struct ns_link *l)
{
	struct chan *c = to_chan(l);
	pthread_mutex_lock(&c->mu);
	if (!c->running) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	c->stopping = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thr, NULL);
	pthread_mutex_lock(&c->mu);
	c->running = false;
	pthread_mutex_unlock(&c->mu);
}

static int chan_pollfd(struct ns_link *l)
{
	struct chan *c = to_chan(l);
	return c->wake ? ns__wakeup_fd(c->wake) : -1;
}

static void wire_detach(struct chan *c)
{
	struct wire *w = c->wire;
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->side[c->side] = NULL;
	bool last = --w->refs == 0;
	pthread_mutex_unlock(&w->mu);
	if (last) {
		pthread_mutex_destroy(&w->mu);
		free(w);
	}
	c->wire = NULL;
}

static void chan_close(struct ns_link *l)
{
	struct chan *c = to_chan(l);
	chan_stop(l);
	wire_detach(c);
	ns_pkt_unref_chain(c->rx_head);
	ns_pkt_unref_chain(c->cap_head);
	if (c->wake)
		ns__wakeup_free(c->wake);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

static const struct ns_link_ops chan_ops = {
	.write = chan_write,
	.poll = chan_poll,
	.start = chan_start,
	.stop = chan_stop,
	.pollfd = chan_pollfd,
	.close = chan_close,
};

/* ---- public ------------------------------------------------------------------- */

struct ns_link *ns_link_channel_new(const uint8_t mac[6], uint32_t mtu, uint32_t qlen)
{
	struct chan *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->l.ops = &chan_ops;
	c->l.mtu = mtu ? mtu : 1500;
	c->l.max_header_len = NS_ETH_HLEN;
	if (mac)
		memcpy(c->l.mac, mac, 6);
	snprintf(c->l.name, sizeof(c->l.name), "chan");
	c->upper = &c->l;
	c->qmax = qlen ? qlen : 1024;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->wake = ns__wakeup_new();
	return &c->l;
}

void ns_link_channel_pair(struct ns_link *a, struct ns_link *b)
{
	struct chan *ca = to_chan(a), *cb = to_chan(b);
	if (ca->wire || cb->wire)
		return;         /* already paired: a channel has one peer for life */
	struct wire *w = calloc(1, sizeof(*w));
	if (!w)
		return;
	pthread_mutex_init(&w->mu, NULL);
	w->side[0] = ca;
	w->side[1] = cb;
	w->refs = ca == cb ? 1 : 2;
	ca->wire = w;
	ca->side = 0;
	cb->wire = w;
	cb->side = ca == cb ? 0 : 1;
	if (ca == cb)
		w->side[1] = ca;        /* paired with itself: loopback */
}

struct ns_pkt *ns_link_channel_take(struct ns_link *l)
{
	struct chan *c = to_chan(l);
	pthread_mutex_lock(&c->mu);
	struct ns_pkt *p = c->cap_head;
	if (p) {
		c->cap_head = p->next;
		if (!c->cap_head)
			c->cap_tail = NULL;
		c->cap_len--;
		p->next = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	return p;
}

int ns_link_channel_inject(struct ns_link *l, struct ns_pkt *pkt)
{
	if (!pkt)
		return -NS_EINVAL;
	return rx_enqueue(to_chan(l), pkt) ? 0 : -NS_ENOBUFS;
}

uint32_t ns__link_channel_rxq_len(struct ns_link *l)
{
	struct chan *c = to_chan(l);
	pthread_mutex_lock(&c->mu);
	uint32_t n = c->rx_len;
	pthread_mutex_unlock(&c->mu);
	return n;
}
