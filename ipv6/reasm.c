/*
 * ipv6/reasm.c - fragment reassembly (RFC 8200 4.5).
 * Owns: the stack-wide table of datagrams being reassembled, keyed by
 * (source, destination, identification); the fragment checks of 4.5
 * (multiple-of-8 lengths, 65535 bound) and RFC 7112 (the first fragment
 * carries the whole header chain); RFC 5722 (any overlap drops the whole
 * datagram; an exact or contained duplicate is only dropped itself, like
 * Linux); the 60 s timeout with time exceeded (code 1) when the first
 * fragment had arrived; a stack-wide memory bound (Linux's 4 MiB high
 * threshold; the oldest datagrams are evicted to make room).
 * Atomic fragments never get here (exthdr.c, RFC 6946).
 */
#include <stdlib.h>
#include "ipv6_internal.h"

#define RQ_HASH 256

struct frag {
	struct frag *next;              /* sorted by offset */
	uint32_t off, end;              /* payload range in the datagram */
	uint32_t data;                  /* where the payload starts in pkt->head */
	struct ns_pkt *pkt;
};

struct rq {
	struct rq *hnext;               /* hash chain */
	struct rq *older, *newer;       /* creation order (all share one timeout) */
	struct ns_addr src, dst;
	uint32_t id;
	uint64_t expires;
	uint32_t total;                 /* datagram payload length once the last fragment came */
	uint32_t mem;
	int nfrags;
	bool last_in;
	struct frag *frags;
	struct frag *first;             /* the offset-0 fragment */
	uint32_t first_foff, first_nhoff;
	uint8_t nh;
	int nic;
	uint8_t pkt_type;
};

struct ns_reasm6 {
	pthread_mutex_t mu;
	struct rq *hash[RQ_HASH];
	struct rq *oldest, *newest;
	uint64_t mem;
	int count;
	struct ns_timer timer;
	struct ns_stack *stk;
};

static uint32_t rq_hash(const struct ns_addr *s, const struct ns_addr *d, uint32_t id)
{
	uint32_t h = id * 0x9e3779b1u;
	for (int i = 0; i < 16; i += 4)
		h = (h ^ ns_load_be32(s->b + i) ^ (ns_load_be32(d->b + i) * 31u)) * 0x85ebca6bu;
	return (h ^ (h >> 15)) % RQ_HASH;
}

static void rq_unlink(struct ns_reasm6 *r, struct rq *q)
{
	struct rq **pp = &r->hash[rq_hash(&q->src, &q->dst, q->id)];
	while (*pp && *pp != q)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = q->hnext;
	if (q->older)
		q->older->newer = q->newer;
	else
		r->oldest = q->newer;
	if (q->newer)
		q->newer->older = q->older;
	else
		r->newest = q->older;
	r->mem -= q->mem;
	r->count--;
}

static void rq_free(struct rq *q)
{
	while (q->frags) {
		struct frag *f = q->frags;
		q->frags = f->next;
		ns_pkt_unref(f->pkt);
		free(f);
	}
	free(q);
}

/* Drops a whole datagram (overlap, inconsistent lengths, eviction). */
static void rq_kill(struct ns_stack *stk, struct ns_reasm6 *r, struct rq *q)
{
	NS_STAT_INC(stk, Ip6ReasmFails);
	rq_unlink(r, q);
	rq_free(q);
}

static struct rq *rq_find(struct ns_reasm6 *r, const struct ns_addr *s, const struct ns_addr *d,
			  uint32_t id)
{
	for (struct rq *q = r->hash[rq_hash(s, d, id)]; q; q = q->hnext)
		if (q->id == id && ns_addr_eq(&q->src, s) && ns_addr_eq(&q->dst, d))
			return q;
	return NULL;
}

static struct rq *rq_create(struct ns_stack *stk, struct ns_reasm6 *r, const struct ns_ip_meta *m,
			    uint32_t id, struct ns_nic *nic, uint8_t pkt_type)
{
	struct rq *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->src = m->src;
	q->dst = m->dst;
	q->id = id;
	q->nic = nic->id;
	q->pkt_type = pkt_type;
	q->expires = ns__now(stk) + NS_IP6_REASM_TIMEOUT;
	uint32_t h = rq_hash(&q->src, &q->dst, id);
	q->hnext = r->hash[h];
	r->hash[h] = q;
	q->older = r->newest;
	if (r->newest)
		r->newest->newer = q;
	else
		r->oldest = q;
	r->newest = q;
	r->count++;
	ns__timer_arm_earlier(stk, &r->timer, q->expires);
	return q;
}

/* RFC 7112 / RFC 8200 4.5: does the first fragment hold every header up to
 * and including the upper-layer header?  (Linux ipv6frag_thdr_truncated.) */
static bool chain_complete(const uint8_t *ip, uint32_t total, uint8_t nh, uint32_t off)
{
	for (int i = 0; i < 64; i++) {
		switch (nh) {
		case NS_NH_HOP:
		case NS_NH_DSTOPTS:
		case NS_NH_ROUTING:
			if (off + 8 > total)
				return false;
			nh = ip[off];
			off += ((uint32_t)ip[off + 1] + 1) * 8;
			break;
		case NS_NH_FRAGMENT:
			if (off + 8 > total)
				return false;
			nh = ip[off];
			off += 8;
			break;
		case NS_NH_NONE:
			return off <= total;
		case NS_NH_TCP:
			return off + 20 <= total;
		case NS_NH_UDP:
		case NS_NH_ICMPV6:
			return off + 8 <= total;
		default:
			return off <= total;
		}
	}
	return false;
}

/* Inserts f; 1 on success, 0 for a duplicate (f not taken), -1 on overlap. */
static int insert(struct rq *q, struct frag *f)
{
	struct frag **pp = &q->frags;
	for (struct frag *c = q->frags; c; c = c->next) {
		if (f->off < c->end && f->end > c->off)
			return f->off >= c->off && f->end <= c->end ? 0 : -1;
	}
	while (*pp && (*pp)->off < f->off)
		pp = &(*pp)->next;
	f->next = *pp;
	*pp = f;
	q->nfrags++;
	return 1;
}

static bool complete(const struct rq *q)
{
	if (!q->last_in || !q->first)
		return false;
	uint32_t pos = 0;
	for (const struct frag *f = q->frags; f; f = f->next) {
		if (f->off > pos)
			return false;
		pos = NS_MAX(pos, f->end);
	}
	return pos >= q->total;
}

static struct ns_pkt *build(struct ns_stack *stk, struct rq *q, struct ns_ip6_walk *w)
{
	uint32_t unfrag = q->first_foff;
	uint32_t len = unfrag + q->total;
	if (len - NS_IP6_HLEN > NS_IP6_MAX_PAYLOAD)
		return NULL;
	struct ns_pkt *first = q->first->pkt;
	struct ns_pkt *p = ns_pkt_alloc(&stk->pool, NS_PKT_HEADROOM, len);
	if (!p)
		return NULL;
	uint8_t *d = ns_pkt_data(p);
	memcpy(d, first->head + first->l3, unfrag);
	d[q->first_nhoff] = q->nh;
	ns_store_be16(d + 4, (uint16_t)(len - NS_IP6_HLEN));
	for (struct frag *f = q->frags; f; f = f->next)
		memcpy(d + unfrag + f->off, f->pkt->head + f->data, f->end - f->off);
	p->l3 = p->data;
	p->nic = first->nic;
	p->pkt_type = first->pkt_type;
	p->ethertype = first->ethertype;
	w->nh = q->nh;
	w->off = unfrag;
	w->nh_off = q->first_nhoff;
	w->first = false;
	return p;
}

/* Makes room for n more bytes: evicts the oldest datagrams (not keep). */
static bool make_room(struct ns_stack *stk, struct ns_reasm6 *r, uint32_t n, struct rq *keep)
{
	if (r->mem + n <= NS_IP6_REASM_HIGH)
		return true;
	while (r->oldest && r->mem + n > NS_IP6_REASM_LOW) {
		struct rq *q = r->oldest;
		if (q == keep) {
			if (!q->newer)
				break;
			q = q->newer;
		}
		rq_kill(stk, r, q);
	}
	return r->mem + n <= NS_IP6_REASM_HIGH;
}

static bool check_fragment(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m,
			   const struct ns_ip6_walk *w, uint32_t off, uint32_t flen, bool more)
{
	const uint8_t *ip = pkt->head + pkt->l3;
	uint32_t total = pkt->tail - pkt->l3;
	if (more && (flen == 0 || (flen & 7))) {
		/* 4.5: a non-last fragment is a multiple of 8 bytes long */
		NS_STAT_INC(stk, Ip6InHdrErrors);
		ns__icmp6_send_error(stk, pkt, m, NS_ICMP6_PARAM_PROB, NS_ICMP6_HDR_FIELD, 4);
		return false;
	}
	if (off + flen > NS_IP6_MAX_PAYLOAD) {
		NS_STAT_INC(stk, Ip6InHdrErrors);
		ns__icmp6_send_error(stk, pkt, m, NS_ICMP6_PARAM_PROB, NS_ICMP6_HDR_FIELD, w->off + 2);
		return false;
	}
	if (off == 0 && !chain_complete(ip, total, ip[w->off], w->off + NS_IP6_FRAG_HLEN)) {
		NS_STAT_INC(stk, Ip6InHdrErrors);
		ns__icmp6_send_error(stk, pkt, m, NS_ICMP6_PARAM_PROB, NS_ICMP6_HDR_INCOMP, 0);
		return false;
	}
	return true;
}

/* Adds the fragment to its datagram under r->mu; returns the datagram
 * when complete (unlinked), NULL otherwise.  Consumes pkt. */
static struct rq *add_locked(struct ns_stack *stk, struct ns_reasm6 *r, struct ns_nic *nic,
			     struct ns_pkt *pkt, const struct ns_ip_meta *m,
			     const struct ns_ip6_walk *w, uint32_t off, uint32_t end, bool more)
{
	const uint8_t *fh = pkt->head + pkt->l3 + w->off;
	uint32_t id = ns_load_be32(fh + 4);
	struct rq *q = rq_find(r, &m->src, &m->dst, id);
	if (!make_room(stk, r, pkt->truesize, q) || (!q && !(q = rq_create(stk, r, m, id, nic, pkt->pkt_type))))
		goto fail;
	if ((!more && (end < q->total || (q->last_in && end != q->total))) ||
	    (more && q->last_in && end > q->total) || q->nfrags >= NS_IP6_REASM_MAXFRAGS) {
		rq_kill(stk, r, q);
		goto drop;
	}
	struct frag *f = calloc(1, sizeof(*f));
	if (!f)
		goto fail;
	*f = (struct frag){ .off = off, .end = end, .pkt = pkt,
			    .data = pkt->l3 + w->off + NS_IP6_FRAG_HLEN };
	int ins = insert(q, f);
	if (ins <= 0) {
		free(f);
		if (ins < 0)
			rq_kill(stk, r, q);     /* RFC 5722 */
		goto drop;
	}
	q->mem += pkt->truesize;
	r->mem += pkt->truesize;
	if (!more) {
		q->last_in = true;
		q->total = end;
	}
	if (off == 0) {
		q->first = f;
		q->first_foff = w->off;
		q->first_nhoff = w->nh_off;
		q->nh = fh[0];
	}
	if (!complete(q))
		return NULL;
	rq_unlink(r, q);
	return q;
fail:
	NS_STAT_INC(stk, Ip6ReasmFails);
drop:
	ns_pkt_unref(pkt);
	return NULL;
}

struct ns_pkt *ns__ip6_reasm(struct ns_stack *stk, struct ns_nic *nic, struct ns_pkt *pkt,
			     const struct ns_ip_meta *m, struct ns_ip6_walk *w)
{
	struct ns_reasm6 *r = stk->ipv6->reasm;
	const uint8_t *fh = pkt->head + pkt->l3 + w->off;
	uint16_t fo = ns_load_be16(fh + 2);
	uint32_t off = fo & NS_IP6_OFFMASK;
	bool more = fo & NS_IP6_MF;
	uint32_t flen = (pkt->tail - pkt->l3) - (w->off + NS_IP6_FRAG_HLEN);
	if (!check_fragment(stk, pkt, m, w, off, flen, more)) {
		ns_pkt_unref(pkt);
		return NULL;
	}
	pthread_mutex_lock(&r->mu);
	struct rq *q = add_locked(stk, r, nic, pkt, m, w, off, off + flen, more);
	pthread_mutex_unlock(&r->mu);
	if (!q)
		return NULL;
	struct ns_pkt *p = build(stk, q, w);
	rq_free(q);
	if (!p) {
		NS_STAT_INC(stk, Ip6ReasmFails);
		return NULL;
	}
	NS_STAT_INC(stk, Ip6ReasmOKs);
	return p;
}

/* ---- timeout ------------------------------------------------------------------- */

static void time_exceeded(struct ns_stack *stk, struct rq *q)
{
	struct ns_nic *nic = ns__nic_get(stk, q->nic);
	if (!q->first || !nic)
		return;
	/* RFC 8200 4.5: only when the first fragment arrived */
	struct ns_pkt *p = q->first->pkt;
	struct ns_ip_meta m = { .src = q->src, .dst = q->dst, .nic = nic, .pkt_type = q->pkt_type,
				.l3_off = p->l3, .proto = NS_NH_FRAGMENT };
	ns__icmp6_send_error(stk, p, &m, NS_ICMP6_TIME_EXCEEDED, NS_ICMP6_EXC_FRAGTIME, 0);
}

static void reasm_timer(void *arg)
{
	struct ns_reasm6 *r = arg;
	struct ns_stack *stk = r->stk;
	uint64_t now = ns__now(stk);
	struct rq *expired = NULL;
	pthread_mutex_lock(&r->mu);
	while (r->oldest && r->oldest->expires <= now) {
		struct rq *q = r->oldest;
		rq_unlink(r, q);
		q->hnext = expired;
		expired = q;
	}
	if (r->oldest)
		ns__timer_arm(stk, &r->timer, r->oldest->expires);
	pthread_mutex_unlock(&r->mu);
	while (expired) {
		struct rq *q = expired;
		expired = q->hnext;
		NS_STAT_INC(stk, Ip6ReasmTimeout);
		NS_STAT_INC(stk, Ip6ReasmFails);
		time_exceeded(stk, q);
		rq_free(q);
	}
}

int ns__ip6_reasm_init(struct ns_ipv6 *ip)
{
	struct ns_reasm6 *r = calloc(1, sizeof(*r));
	if (!r)
		return -NS_ENOMEM;
	pthread_mutex_init(&r->mu, NULL);
	r->stk = ip->stk;
	ns__timer_init(&r->timer, reasm_timer, r);
	ip->reasm = r;
	return 0;
}

void ns__ip6_reasm_fini(struct ns_ipv6 *ip)
{
	struct ns_reasm6 *r = ip->reasm;
	if (!r)
		return;
	ns__timer_cancel_sync(ip->stk, &r->timer);
	while (r->oldest) {
		struct rq *q = r->oldest;
		rq_unlink(r, q);
		rq_free(q);
	}
	pthread_mutex_destroy(&r->mu);
	free(r);
	ip->reasm = NULL;
}

uint64_t ns__ip6_reasm_mem(struct ns_stack *stk)
{
	struct ns_reasm6 *r = stk->ipv6->reasm;
	pthread_mutex_lock(&r->mu);
	uint64_t m = r->mem;
	pthread_mutex_unlock(&r->mu);
	return m;
}

int ns__ip6_reasm_count(struct ns_stack *stk)
{
	struct ns_reasm6 *r = stk->ipv6->reasm;
	pthread_mutex_lock(&r->mu);
	int n = r->count;
	pthread_mutex_unlock(&r->mu);
	return n;
}
