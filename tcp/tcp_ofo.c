/*
 * tcp/tcp_ofo.c - the receive out-of-order queue.
 * Owns: the functions of tcp_ofo.h: sorted insertion with overlap trimming,
 * D-SACK for duplicates, the truesize budget and tail pruning, in-order pop,
 * and the receiver SACK blocks.
 * The queue is a sorted singly linked list of disjoint segments: appends at
 * the tail (the common case under loss) are O(1); other inserts walk it.
 * Its length is bounded by the budget, so a walk is bounded too.
 * Read first: RFC 9293 §3.10.7.4, RFC 2018 §4, RFC 2883 §4; Linux
 * tcp_data_queue_ofo / tcp_ofo_queue / tcp_prune_ofo_queue.
 */
#include "netstack/core.h"
#include "tcp_ofo.h"
#include "tcp_seq.h"

static inline uint32_t pkt_end(const struct ns_pkt *p)
{
	return p->seq + ns_pkt_len(p) + ((p->flags & NS_OFO_PKT_FIN) ? 1u : 0u);
}

static void stat_inc(struct ns_stack *stk, enum ns_stat_id id)
{
	if (stk)
		ns__stat_inc(stk, id);
}

void ns_ofo_init(struct ns_ofo *q)
{
	memset(q, 0, sizeof(*q));
	ns_sack_rcv_init(&q->sack);
}

static void unlink_free(struct ns_ofo *q, struct ns_pkt *prev, struct ns_pkt *p)
{
	if (prev)
		prev->next = p->next;
	else
		q->head = p->next;
	if (q->tail == p)
		q->tail = prev;
	q->npkts--;
	q->bytes -= ns_pkt_len(p);
	q->truesize -= p->truesize;
	p->next = NULL;
	ns_pkt_unref(p);
}

void ns_ofo_purge(struct ns_ofo *q)
{
	while (q->head)
		unlink_free(q, NULL, q->head);
	ns_sack_rcv_init(&q->sack);
}

/* We modify the packet's data offsets: get our own copy if it is shared. */
static struct ns_pkt *own(struct ns_pkt *p)
{
	if (atomic_load_explicit(&p->refs, memory_order_acquire) == 1)
		return p;
	return ns_pkt_unshare(p);
}

/* Cuts n bytes off the front of p (n <= payload length). */
static void trim_front(struct ns_pkt *p, uint32_t n)
{
	ns_pkt_pull(p, n);
	p->seq += n;
}

/* Drops bytes of p from sequence number `at` on (and its FIN). */
static void trim_back(struct ns_pkt *p, uint32_t at)
{
	uint32_t keep = ns_seq_diff(p->seq, at);
	if (keep < ns_pkt_len(p))
		ns_pkt_trim(p, keep);
	p->flags &= (uint8_t)~NS_OFO_PKT_FIN;
}

static void record_dsack(struct ns_ofo *q, struct ns_stack *stk, uint32_t s, uint32_t e)
{
	if (!ns_seq_lt(s, e))
		return;
	ns_sack_rcv_dsack(&q->sack, s, e);
	stat_inc(stk, NS_STAT_TcpExtTCPDSACKOfoSent);
}

/* Rebuilds SACK blocks from the queue (lowest first, so the highest ends up first). */
static void rebuild_sack(struct ns_ofo *q)
{
	bool dsack = q->sack.dsack;
	struct ns_tcp_sack_block d = q->sack.dsack_block;
	ns_sack_rcv_init(&q->sack);
	q->sack.dsack = dsack;
	q->sack.dsack_block = d;
	struct ns_pkt *p = q->head;
	while (p) {
		uint32_t s = p->seq, e = pkt_end(p);
		for (p = p->next; p && p->seq == e; p = p->next)
			e = pkt_end(p);
		ns_sack_rcv_add(&q->sack, s, e);
	}
}

/* Frees every segment after prev (prev NULL: all of them). */
static void cut_after(struct ns_ofo *q, struct ns_pkt *prev)
{
	struct ns_pkt *p = prev ? prev->next : q->head;
	if (prev)
		prev->next = NULL;
	else
		q->head = NULL;
	q->tail = prev;
	while (p) {
		struct ns_pkt *next = p->next;
		q->npkts--;
		q->bytes -= ns_pkt_len(p);
		q->truesize -= p->truesize;
		p->next = NULL;
		ns_pkt_unref(p);
		p = next;
	}
}

/*
 * The longest prefix to keep: the last segment `prev` such that everything
 * up to and including it fits in limit, and the segment after it starts at
 * or above min_seq (only those may go).  Returns false if even cutting
 * every allowed segment does not fit.  One pass.
 */
static bool find_cut(const struct ns_ofo *q, uint32_t min_seq, bool any_seq, uint64_t limit,
		     struct ns_pkt **cut)
{
	uint64_t cum = 0;
	struct ns_pkt *prev = NULL;
	bool found = false;
	for (struct ns_pkt *p = q->head;; p = p->next) {
		/* cutting after prev keeps cum bytes */
		if (cum <= limit && (!p || any_seq || ns_seq_geq(p->seq, min_seq))) {
			*cut = prev;
			found = true;
		}
		if (!p || cum > limit)
			break;
		cum += p->truesize;
		prev = p;
	}
	return found;
}

uint64_t ns_ofo_prune(struct ns_ofo *q, uint64_t target)
{
	uint64_t before = q->truesize;
	struct ns_pkt *cut;
	if (q->truesize > target && find_cut(q, 0, true, target, &cut))
		cut_after(q, cut);
	rebuild_sack(q);
	return before - q->truesize;
}

/* Frees tail segments starting at or above seq until need fits in budget. */
static bool make_room(struct ns_ofo *q, uint32_t seq, uint64_t need, uint64_t budget)
{
	if (q->truesize + need <= budget)
		return true;
	if (need > budget)
		return false;
	struct ns_pkt *cut;
	if (!find_cut(q, seq, false, budget - need, &cut))
		return false;
	cut_after(q, cut);
	rebuild_sack(q);
	return true;
}

/* Appends p's payload into prev's tailroom when they are adjacent; frees p. */
static bool try_coalesce(struct ns_ofo *q, struct ns_stack *stk, struct ns_pkt *prev,
			 struct ns_pkt *p)
{
	uint32_t len = ns_pkt_len(p);
	if (!prev || (prev->flags & NS_OFO_PKT_FIN) || pkt_end(prev) != p->seq || !len ||
	    ns_pkt_tailroom(prev) < len || atomic_load(&prev->refs) != 1)
		return false;
	memcpy(ns_pkt_put(prev, len), ns_pkt_data(p), len);
	prev->flags |= p->flags & NS_OFO_PKT_FIN;
	q->bytes += len;
	stat_inc(stk, NS_STAT_TcpExtTCPRcvCoalesce);
	ns_pkt_unref(p);
	return true;
}

/* Links p after prev (NULL: at the head). */
static void link_after(struct ns_ofo *q, struct ns_pkt *prev, struct ns_pkt *p)
{
	p->next = prev ? prev->next : q->head;
	if (prev)
		prev->next = p;
	else
		q->head = p;
	if (q->tail == prev)
		q->tail = p;
	q->npkts++;
	q->bytes += ns_pkt_len(p);
	q->truesize += p->truesize;
}

/*
 * Trims p against its neighbours: prev (the last segment starting before
 * it) and the segments after.  Returns false when nothing new remains.
 */
static bool trim_against(struct ns_ofo *q, struct ns_stack *stk, struct ns_pkt *prev,
			 struct ns_pkt *p)
{
	if (prev && ns_seq_gt(pkt_end(prev), p->seq)) {
		uint32_t pe = pkt_end(prev), e = pkt_end(p);
		if (ns_seq_geq(pe, e)) {
			record_dsack(q, stk, p->seq, e);
			return false;
		}
		record_dsack(q, stk, p->seq, pe);
		trim_front(p, pe - p->seq);
	}
	/* remove later segments the new one covers; trim against a partial one */
	struct ns_pkt *n = prev ? prev->next : q->head;
	while (n && ns_seq_lt(n->seq, pkt_end(p))) {
		uint32_t ne = pkt_end(n), e = pkt_end(p);
		if (ns_seq_gt(ne, e) || ((n->flags & NS_OFO_PKT_FIN) && !(p->flags & NS_OFO_PKT_FIN) &&
					 ne == e)) {
			record_dsack(q, stk, n->seq, e);
			trim_back(p, n->seq);
			break;
		}
		record_dsack(q, stk, n->seq, ne);
		struct ns_pkt *next = n->next;
		stat_inc(stk, NS_STAT_TcpExtTCPOFOMerge);
		unlink_free(q, prev, n);
		n = next;
	}
	return ns_pkt_len(p) || (p->flags & NS_OFO_PKT_FIN);
}

/* The last segment starting at or before seq (NULL: none). */
static struct ns_pkt *find_prev(struct ns_ofo *q, uint32_t seq)
{
	if (q->tail && ns_seq_leq(q->tail->seq, seq))
		return q->tail;                 /* fast path: at the end */
	struct ns_pkt *prev = NULL;
	for (struct ns_pkt *p = q->head; p && ns_seq_leq(p->seq, seq); p = p->next)
		prev = p;
	return prev;
}

enum ns_ofo_result ns_ofo_insert(struct ns_ofo *q, struct ns_stack *stk, struct ns_pkt *pkt,
				 uint32_t rcv_nxt, uint64_t budget)
{
	pkt->next = NULL;
	uint32_t seq = pkt->seq, end = pkt_end(pkt);
	if (!ns_seq_gt(seq, rcv_nxt) || seq == end) {
		ns_pkt_unref(pkt);
		return NS_OFO_INVALID;
	}
	if (!make_room(q, seq, pkt->truesize, budget)) {
		stat_inc(stk, NS_STAT_TcpExtTCPOFODrop);
		ns_pkt_unref(pkt);
		return NS_OFO_DROPPED;
	}
	stat_inc(stk, NS_STAT_TcpExtTCPOFOQueue);
	pkt = own(pkt);
	if (!pkt)
		return NS_OFO_DROPPED;
	struct ns_pkt *prev = find_prev(q, seq);
	if (!trim_against(q, stk, prev, pkt)) {
		stat_inc(stk, NS_STAT_TcpExtTCPOFOMerge);
		ns_pkt_unref(pkt);
		return NS_OFO_DUP;
	}
	uint32_t s = pkt->seq, e = pkt_end(pkt);
	if (!try_coalesce(q, stk, prev, pkt))
		link_after(q, prev, pkt);
	ns_sack_rcv_add(&q->sack, s, e);
	return NS_OFO_QUEUED;
}

struct ns_pkt *ns_ofo_pop(struct ns_ofo *q, uint32_t rcv_nxt)
{
	while (q->head && ns_seq_leq(q->head->seq, rcv_nxt)) {
		struct ns_pkt *p = q->head;
		uint32_t e = pkt_end(p);
		if (ns_seq_lt(p->seq, rcv_nxt))
			ns_sack_rcv_dsack(&q->sack, p->seq, ns_seq_min(e, rcv_nxt));
		if (!ns_seq_gt(e, rcv_nxt)) {
			unlink_free(q, NULL, p);        /* entirely old */
			continue;
		}
		q->head = p->next;
		if (q->tail == p)
			q->tail = NULL;
		q->npkts--;
		q->bytes -= ns_pkt_len(p);
		q->truesize -= p->truesize;
		p->next = NULL;
		if (ns_seq_lt(p->seq, rcv_nxt)) {
			p = own(p);
			if (!p)
				continue;
			trim_front(p, rcv_nxt - p->seq);
		}
		return p;
	}
	return NULL;
}

void ns_ofo_advance(struct ns_ofo *q, uint32_t rcv_nxt)
{
	ns_sack_rcv_advance(&q->sack, rcv_nxt);
	if (!q->head)
		q->sack.num = 0;
}

uint32_t ns_ofo_end(const struct ns_ofo *q, uint32_t rcv_nxt)
{
	return q->tail ? pkt_end(q->tail) : rcv_nxt;
}
