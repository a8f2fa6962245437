/*
 * tcp/tcp_ofo.h - the receive out-of-order queue (RFC 9293 §3.10.7.4,
 * RFC 2018 §4 block generation, RFC 2883 D-SACK), like Linux's
 * tcp_data_queue_ofo.
 * Owns: received segments above RCV.NXT, ordered by sequence number, with
 * overlaps trimmed (new data keeps only bytes not already queued; segments a
 * new one covers entirely are freed), memory bounded by a truesize budget,
 * in-order pop as RCV.NXT advances, and the receiver's SACK / D-SACK
 * blocks (struct ns_sack_rcv, kept in step with the queue).
 *
 * Packets: data[] is the payload only (the caller pulled the TCP header);
 * pkt->seq holds the sequence number of the first payload byte; a FIN is
 * recorded with NS_OFO_PKT_FIN in pkt->flags (it occupies one sequence
 * number after the payload).  The queue links packets through pkt->next.
 * Insert consumes the packet; pop hands one back to the caller.
 * Stats (TcpExtTCPOFOQueue, TCPOFODrop, TCPOFOMerge, TCPDSACKOfoSent,
 * TCPRcvCoalesce) are counted on stk when it is not NULL.  No locking.
 */
#ifndef NS_TCP_OFO_H
#define NS_TCP_OFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netstack/pkt.h"
#include "tcp_sack.h"

struct ns_stack;

#define NS_OFO_PKT_FIN 0x80             /* in pkt->flags: segment carried FIN */

struct ns_ofo {
	struct ns_pkt *head, *tail;     /* sorted by seq, disjoint */
	uint32_t npkts;
	uint32_t bytes;                 /* payload bytes queued */
	uint64_t truesize;              /* sum of pkt->truesize */
	struct ns_sack_rcv sack;        /* blocks to advertise */
};

enum ns_ofo_result {
	NS_OFO_QUEUED = 0,              /* queued (possibly trimmed / merged) */
	NS_OFO_DUP,                     /* every byte was already queued: freed, D-SACK set */
	NS_OFO_DROPPED,                 /* over budget: freed, TCPOFODrop counted */
	NS_OFO_INVALID,                 /* empty or at/below rcv_nxt: caller's bug; freed */
};

void ns_ofo_init(struct ns_ofo *q);
/* Frees every queued packet and forgets SACK blocks. */
void ns_ofo_purge(struct ns_ofo *q);
static inline bool ns_ofo_empty(const struct ns_ofo *q) { return q->head == NULL; }

/*
 * Queues a segment that starts beyond rcv_nxt (seq = pkt->seq, FIN flag in
 * pkt->flags).  budget: the most truesize the queue may hold after this
 * insert (the caller's rcvbuf minus what its in-order receive queue holds).
 * Over budget, like Linux tcp_prune_ofo_queue: segments with higher
 * sequence numbers than the new one are pruned from the tail to make room;
 * if that is not enough the new segment is dropped (TCPOFODrop).
 * Partially duplicate data is trimmed and reported as D-SACK (RFC 2883 §4.1.3 /
 * Linux tcp_dsack_set on overlap).  Updates the SACK blocks.  Consumes pkt.
 */
enum ns_ofo_result ns_ofo_insert(struct ns_ofo *q, struct ns_stack *stk, struct ns_pkt *pkt,
				 uint32_t rcv_nxt, uint64_t budget);

/*
 * The next in-order segment once RCV.NXT = rcv_nxt: returns the first packet
 * when its seq <= rcv_nxt (its front is trimmed so pkt->seq == rcv_nxt;
 * segments entirely below rcv_nxt are freed on the way), NULL otherwise.
 * The caller advances rcv_nxt by ns_pkt_len() (+1 for FIN), then calls
 * again; and calls ns_ofo_advance() when done so SACK blocks drop.
 */
struct ns_pkt *ns_ofo_pop(struct ns_ofo *q, uint32_t rcv_nxt);
/* RCV.NXT advanced to rcv_nxt: forget SACK blocks below it. */
void ns_ofo_advance(struct ns_ofo *q, uint32_t rcv_nxt);

/* The SACK blocks for the next ACK (D-SACK first); see ns_sack_rcv_take. */
static inline unsigned ns_ofo_sack_take(struct ns_ofo *q, struct ns_tcp_sack_block *out,
					unsigned max)
{
	return ns_sack_rcv_take(&q->sack, out, max);
}

/* Highest sequence number queued + 1 (or rcv_nxt if empty). */
uint32_t ns_ofo_end(const struct ns_ofo *q, uint32_t rcv_nxt);

/*
 * Pruning under memory pressure (Linux tcp_prune_ofo_queue): frees segments
 * from the highest sequence down until truesize <= target.  Returns bytes of
 * truesize freed.  SACK blocks are rebuilt from what remains.
 */
uint64_t ns_ofo_prune(struct ns_ofo *q, uint64_t target);

#endif
