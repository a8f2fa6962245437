/*
 * ipv4/reasm.c - IPv4 reassembly (RFC 791 3.2, RFC 815).
 * Owns: fragment queues keyed by (src, dst, id, proto) in a hash table,
 * in arrival order for the 30 s timeout (ICMP time exceeded, code 1, when
 * the first fragment was seen), the stack-wide memory bound (4 MiB, Linux
 * ipfrag_high_thresh: above it new fragments are dropped), the bound on
 * the number of queues and of fragments per queue, and IpReasmReqds/OKs/Fails/Timeout and
 * IpExtReasmOverlaps.
 *
 * ECN (RFC 3168 5.3): CE on any fragment marks the datagram CE; Not-ECT
 * mixed with ECT/CE fails it.
 * Like Linux (and RFC 5722 for IPv6): a fragment that lies entirely inside
 * data already received is a duplicate and is ignored; one that partly
 * overlaps kills the whole datagram.  Inconsistent ends (a second last
 * fragment, data past the end) kill it too.
 */
#include <stdlib.h>
#include "ipv4_internal.h"

#define RQ_BUCKETS 1024u

struct frag {
	struct frag *next;
	struct ns_pkt *p;               /* data at its IP header */
	uint32_t off, end;              /* payload range in the datagram */
};

struct rq {
	struct rq *hnext;
	struct rq *lnext, *lprev;       /* arrival order */
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	bool first_in, last_in;
	uint32_t len;                   /* payload length known so far */
	uint32_t meat;                  /* payload bytes held */
	uint32_t mem;                   /* truesize held */
	uint32_t nfrags;
	uint8_t ecn;                    /* ECN codepoints seen: bit (1 << codepoint) */
	uint64_t expires;
	int nic;
	struct frag *frags;             /* sorted by offset, disjoint */
};

struct ns_reasm {
	pthread_mutex_t mu;
	struct rq *b[RQ_BUCKETS];
	struct rq *lhead, *ltail;
	uint32_t count;
	uint64_t mem;
	struct ns_timer timer;
	struct ns_stack *stk;
};

static void timer_fn(void *arg);

int ns__ipv4_reasm_init(struct ns_ipv4 *ip)
{
	struct ns_reasm *r = calloc(1, sizeof(*r));
	if (!r)
		return -NS_ENOMEM;
	pthread_mutex_init(&r->mu, NULL);
	r->stk = ip->stk;
	ns__timer_init(&r->timer, timer_fn, r);
	ip->reasm = r;
	return 0;
}

static void rq_free(struct rq *q)
{
	struct frag *f = q->frags;
	while (f) {
		struct frag *n = f->next;
		ns_pkt_unref(f->p);
		free(f);
		f = n;
	}
	free(q);
}

void ns__ipv4_reasm_fini(struct ns_ipv4 *ip)
{
	struct ns_reasm *r = ip->reasm;
	if (!r)
		return;
	ns__timer_cancel_sync(ip->stk, &r->timer);
	struct rq *q = r->lhead;
	while (q) {
		struct rq *n = q->lnext;
		rq_free(q);
		q = n;
	}
	pthread_mutex_destroy(&r->mu);
	free(r);
	ip->reasm = NULL;
}

uint64_t ns__ipv4_reasm_mem(struct ns_stack *stk)
{
	struct ns_reasm *r = stk->ipv4->reasm;
	pthread_mutex_lock(&r->mu);
	uint64_t m = r->mem;
	pthread_mutex_unlock(&r->mu);
	return m;
}

/* ---- the table (mu held) ------------------------------------------------------ */

static uint32_t bucket_of(struct ns_stack *stk, uint32_t src, uint32_t dst, uint16_t id,
			  uint8_t proto)
{
	uint8_t k[11];
	ns_store_be32(k, src);
	ns_store_be32(k + 4, dst);
	ns_store_be16(k + 8, id);
	k[10] = proto;
	return (uint32_t)ns__siphash(stk->hash_seed, k, sizeof(k)) & (RQ_BUCKETS - 1);
}

static void unlink_locked(struct ns_reasm *r, struct rq *q)
{
	struct rq **pp = &r->b[bucket_of(r->stk, q->src, q->dst, q->id, q->proto)];
	while (*pp && *pp != q)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = q->hnext;
	if (q->lprev)
		q->lprev->lnext = q->lnext;
	else
		r->lhead = q->lnext;
	if (q->lnext)
		q->lnext->lprev = q->lprev;
	else
		r->ltail = q->lprev;
	r->count--;
	r->mem -= q->mem;
}

static struct rq *find_or_create_locked(struct ns_reasm *r, uint32_t src, uint32_t dst,
					uint16_t id, uint8_t proto, int nic)
{
	uint32_t b = bucket_of(r->stk, src, dst, id, proto);
	for (struct rq *q = r->b[b]; q; q = q->hnext)
		if (q->src == src && q->dst == dst && q->id == id && q->proto == proto)
			return q;
	if (r->count >= NS_IPV4_REASM_MAXQ)
		return NULL;
	struct rq *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->src = src;
	q->dst = dst;
	q->id = id;
	q->proto = proto;
	q->nic = nic;
	q->expires = ns__now(r->stk) + NS_IPV4_REASM_TIMEOUT;
	q->hnext = r->b[b];
	r->b[b] = q;
	q->lprev = r->ltail;
	if (r->ltail)
		r->ltail->lnext = q;
	else
		r->lhead = q;
	r->ltail = q;
	r->count++;
	if (r->lhead == q)
		ns__timer_arm(r->stk, &r->timer, q->expires);
	return q;
}

enum { INS_OK, INS_DUP, INS_OVERLAP };

/* Where [off, end) goes: a duplicate when inside one run of contiguous
 * fragments, an overlap when it touches data otherwise. */
static int classify(const struct rq *q, uint32_t off, uint32_t end)
{
	const struct frag *f = q->frags;
	while (f) {
		uint32_t rs = f->off, re = f->end;
		while (f->next && f->next->off == re) {
			f = f->next;
			re = f->end;
		}
		if (off < re && end > rs)
			return (off >= rs && end <= re) ? INS_DUP : INS_OVERLAP;
		f = f->next;
	}
	return INS_OK;
}

static void insert_locked(struct ns_reasm *r, struct rq *q, struct frag *nf)
{
	struct frag **pp = &q->frags;
	while (*pp && (*pp)->off < nf->off)
		pp = &(*pp)->next;
	nf->next = *pp;
	*pp = nf;
	q->meat += nf->end - nf->off;
	q->nfrags++;
	q->ecn |= (uint8_t)(1u << (ns_pkt_data(nf->p)[1] & 3));
	q->mem += nf->p->truesize;
	r->mem += nf->p->truesize;
}

/* Builds the datagram from a complete queue, or NULL (no memory). */
static struct ns_pkt *assemble(struct rq *q, struct ns_pool *pool)
{
	const struct ns_pkt *first = q->frags->p;
	const uint8_t *fh = ns_pkt_data(first);
	uint32_t ihl = ns_ip4_ihl(fh);
	struct ns_pkt *p = ns_pkt_alloc(pool, NS_PKT_HEADROOM, ihl + q->len);
	if (!p)
		return NULL;
	uint8_t *h = ns_pkt_data(p);
	memcpy(h, fh, ihl);
	for (const struct frag *f = q->frags; f; f = f->next) {
		const uint8_t *d = ns_pkt_data(f->p);
		memcpy(h + ihl + f->off, d + ns_ip4_ihl(d), f->end - f->off);
	}
	ns_store_be16(h + 2, (uint16_t)(ihl + q->len));
	ns_store_be16(h + 6, (uint16_t)(ns_ip4_frag(fh) & NS_IP_DF));
	if (q->ecn & (1u << 3))
		h[1] |= 3;                      /* RFC 3168 5.3: CE on any fragment */
	h[10] = h[11] = 0;
	ns_store_be16(h + 10, ns_csum_fold(ns_csum_partial(h, ihl, 0)));
	p->l3 = p->data;
	p->nic = first->nic;
	p->pkt_type = first->pkt_type;
	p->ethertype = NS_ETHERTYPE_IPV4;
	p->tstamp = first->tstamp;
	return p;
}

/* ---- input ------------------------------------------------------------------------- */

struct ns_pkt *ns__ipv4_reasm(struct ns_stack *stk, struct ns_nic *nic, struct ns_pkt *pkt)
{
	struct ns_reasm *r = stk->ipv4->reasm;
	NS_STAT_INC(stk, IpReasmReqds);
	const uint8_t *h = ns_pkt_data(pkt);
	uint32_t ihl = ns_ip4_ihl(h), tot = ns_pkt_len(pkt);
	uint16_t fl = ns_ip4_frag(h);
	bool mf = (fl & NS_IP_MF) != 0;
	uint32_t off = (uint32_t)(fl & NS_IP_OFFMASK) * 8;
	uint32_t end = off + (tot - ihl);
	struct frag *nf = NULL;
	struct ns_pkt *done = NULL;

	pthread_mutex_lock(&r->mu);
	if (r->mem > NS_IPV4_REASM_HIGH)
		goto fail_unlocked_q;
	struct rq *q = find_or_create_locked(r, ns_ip4_src(h), ns_ip4_dst(h), ns_ip4_id(h),
					     h[9], nic->id);
	if (!q)
		goto fail_unlocked_q;
	if (!mf) {
		if (end < q->len || (q->last_in && end != q->len))
			goto kill;
		q->last_in = true;
		q->len = end;
	} else {
		if (end & 7) {          /* non-last fragments carry multiples of 8 */
			end &= ~7u;
			ns_pkt_trim(pkt, ihl + end - off);
		}
		if (end > q->len) {
			if (q->last_in)
				goto kill;
			q->len = end;
		}
	}
	if (end <= off || ihl + end > NS_IPV4_MAX_LEN)
		goto kill;
	if (q->nfrags >= NS_IPV4_REASM_MAXFRAGS)
		goto kill;              /* bounds the per-fragment work (sorted list) */
	int c = classify(q, off, end);
	if (c == INS_DUP) {
		pthread_mutex_unlock(&r->mu);
		ns_pkt_unref(pkt);
		return NULL;
	}
	if (c == INS_OVERLAP) {
		NS_STAT_INC(stk, IpExtReasmOverlaps);
		goto kill;
	}
	nf = malloc(sizeof(*nf));
	if (!nf)
		goto kill;
	nf->p = pkt;
	nf->off = off;
	nf->end = end;
	insert_locked(r, q, nf);
	if (off == 0)
		q->first_in = true;
	if (q->first_in && q->last_in && q->meat == q->len) {
		unlink_locked(r, q);
		pthread_mutex_unlock(&r->mu);
		if ((q->ecn & 1u) && (q->ecn & ~1u)) {
			/* RFC 3168 5.3 / Linux ip_frag_ecn_table: Not-ECT mixed
			 * with ECT or CE is invalid */
			rq_free(q);
			NS_STAT_INC(stk, IpReasmFails);
			return NULL;
		}
		done = assemble(q, ns_stack_pool(stk));
		rq_free(q);
		if (!done) {
			NS_STAT_INC(stk, PktAllocFails);
			NS_STAT_INC(stk, IpReasmFails);
			return NULL;
		}
		NS_STAT_INC(stk, IpReasmOKs);
		return done;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
kill:
	unlink_locked(r, q);
	pthread_mutex_unlock(&r->mu);
	rq_free(q);
	NS_STAT_INC(stk, IpReasmFails);
	ns_pkt_unref(pkt);
	return NULL;
fail_unlocked_q:
	pthread_mutex_unlock(&r->mu);
	NS_STAT_INC(stk, IpReasmFails);
	ns_pkt_unref(pkt);
	return NULL;
}

/* ---- timeout ------------------------------------------------------------------------ */

static void expire_one(struct ns_stack *stk, struct rq *q)
{
	NS_STAT_INC(stk, IpReasmFails);
	NS_STAT_INC(stk, IpReasmTimeout);
	if (q->first_in && q->frags && q->frags->off == 0) {
		struct ns_pkt *p = q->frags->p;
		const uint8_t *h = ns_pkt_data(p);
		struct ns_ip_meta m;
		memset(&m, 0, sizeof(m));
		ns_addr_from_u32(&m.src, ns_ip4_src(h));
		ns_addr_from_u32(&m.dst, ns_ip4_dst(h));
		m.nic = ns__nic_get(stk, q->nic);
		m.pkt_type = p->pkt_type;
		m.proto = h[9];
		m.ttl = h[8];
		m.tos = h[1];
		m.l3_off = p->data;
		ns__icmp4_send_error(stk, p, &m, NS_ICMP_TIME_EXCEEDED, NS_ICMP_EXC_FRAGTIME, 0);
	}
	rq_free(q);
}

static void timer_fn(void *arg)
{
	struct ns_reasm *r = arg;
	struct ns_stack *stk = r->stk;
	uint64_t now = ns__now(stk);
	struct rq *expired = NULL;
	pthread_mutex_lock(&r->mu);
	while (r->lhead && r->lhead->expires <= now) {
		struct rq *q = r->lhead;
		unlink_locked(r, q);
		q->lnext = expired;
		expired = q;
	}
	if (r->lhead)
		ns__timer_arm(stk, &r->timer, r->lhead->expires);
	pthread_mutex_unlock(&r->mu);
	while (expired) {
		struct rq *q = expired;
		expired = q->lnext;
		expire_one(stk, q);
	}
}
