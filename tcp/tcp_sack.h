/*
 * tcp/tcp_sack.h - SACK on both sides.
 * Sender: the RFC 6675 scoreboard kept as byte ranges (no per-segment
 * state needed): SACKed ranges, HighACK/HighData/HighRxt/RescueRxt, IsLost
 * with DupThresh 3, pipe, NextSeg rules 1-4, D-SACK detection (RFC 2883
 * §4), block validation (Linux tcp_is_sackblock_valid) and reneging
 * detection (RFC 6675 §8 / Linux tcp_check_sack_reneging).
 * Receiver: the blocks to advertise (RFC 2018 §4: most recent first; RFC
 * 2883: a D-SACK block first, sent once), up to what fits in the options.
 * No locking.  The scoreboard allocates only when it needs more than
 * NS_SACK_INLINE ranges (many holes), never more than NS_SACK_MAX_RANGES.
 */
#ifndef NS_TCP_SACK_H
#define NS_TCP_SACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp_opts.h"

#define NS_SACK_DUPTHRESH 3
#define NS_SACK_INLINE 8
#define NS_SACK_MAX_RANGES 1024         /* beyond this, the highest range is forgotten */

/* ---- sender scoreboard (RFC 6675) --------------------------------------- */

struct ns_sack_sb {
	uint32_t snd_una;               /* HighACK: everything below is cumulatively ACKed */
	uint32_t snd_max;               /* HighData + 1: one past the highest byte sent */
	uint32_t high_rxt;              /* HighRxt + 1: one past the highest byte retransmitted */
	uint32_t rescue_rxt;            /* RescueRxt, valid when rescue_valid */
	uint32_t recovery_point;        /* RecoveryPoint (snd_max when recovery began) */
	uint32_t mss;                   /* SMSS */
	uint32_t sacked_bytes;          /* total bytes in ranges[] */
	uint16_t n, cap;                /* ranges in use / allocated */
	uint8_t dupthresh;
	bool in_recovery;
	bool rescue_valid;
	/*
	 * NextSeg rules 3 (retransmit a hole not yet deemed lost) and 4 (rescue
	 * retransmission) are off by default: Linux only retransmits segments
	 * marked lost, then sends new data.  Set both for strict RFC 6675.
	 */
	bool rfc_rule3, rfc_rescue;
	uint32_t reordering;            /* reordering degree in segments (Linux tp->reordering, tcpi_reordering) */
	uint32_t reord_seen;            /* reordering events (tcpi_reord_seen) */
	bool lost_mark_valid;
	uint32_t lost_mark;             /* unSACKed bytes below it were marked lost (RACK / RTO) */
	struct ns_tcp_sack_block *ranges;       /* sorted, disjoint, non-adjacent; inline or heap */
	struct ns_tcp_sack_block inline_ranges[NS_SACK_INLINE];
};

/* What one ACK's SACK information did (ns_sack_sb_update). */
struct ns_sack_update {
	uint32_t newly_sacked;          /* bytes SACKed for the first time */
	uint32_t newly_acked;           /* bytes cumulatively ACKed for the first time */
	uint32_t acked_sacked;          /* of newly_acked, bytes that had been SACKed */
	uint32_t delivered;             /* bytes delivered by this ACK, each counted once:
					 * newly_sacked + newly_acked - acked_sacked (Linux's
					 * newly_acked_sacked, what PRR and cwnd growth want) */
	uint8_t discarded;              /* invalid blocks ignored (TcpExtTCPSACKDiscard) */
	bool dsack;                     /* first block was a D-SACK (TcpExtTCPDSACKRecv) */
	bool dsack_below_una;           /* ... reporting data below snd_una (vs. ofo duplicate) */
	struct ns_tcp_sack_block dsack_block;
	bool reneged;                   /* snd_una now sits on a SACKed range: receiver reneged */
	uint32_t highest_sacked;        /* one past the highest SACKed byte, or snd_una */
	bool reorder;                   /* this ACK showed reordering (TcpExtTCPSACKReorder;
					 * tell RACK: ns_rack_reordering_seen) */
};

#define NS_SACK_REORDERING_INIT 3       /* Linux tcp_reordering */
#define NS_SACK_REORDERING_MAX 300      /* Linux tcp_max_reordering */

/* An empty scoreboard: snd_una = snd_max = iss + 1. */
void ns_sack_sb_init(struct ns_sack_sb *sb, uint32_t snd_una, uint32_t mss);
/* Frees any heap ranges (the scoreboard can be re-inited after). */
void ns_sack_sb_fini(struct ns_sack_sb *sb);
/* Forgets every SACKed range (RTO, reneging: RFC 6675 §5.1 / §8). */
void ns_sack_sb_clear(struct ns_sack_sb *sb);
/* New data was sent: snd_max = end (one past the last byte sent). */
void ns_sack_sb_sent(struct ns_sack_sb *sb, uint32_t end);
/* [start, end) was retransmitted: HighRxt = max(HighRxt, end). */
void ns_sack_sb_retransmitted(struct ns_sack_sb *sb, uint32_t start, uint32_t end);
void ns_sack_sb_set_mss(struct ns_sack_sb *sb, uint32_t mss);

/*
 * Processes one ACK: ack (the cumulative ACK) and its SACK blocks in wire
 * order.  Also measures reordering like Linux (tcp_check_sack_reordering):
 * data never retransmitted (at or above HighRxt) that is SACKed or ACKed
 * below the highest SACKed byte raises sb->reordering to that distance in
 * segments (at most 300) and counts sb->reord_seen.  Callers may use
 * sb->reordering as DupThresh (sb->dupthresh).
 * The rest:
 * order.  Validates each block (start < end, inside [snd_una - 2^30 window,
 * snd_max], not wrapping), detects D-SACK per RFC 2883 §4 (first block below
 * ack, or inside the second block), merges the rest, advances snd_una and
 * drops ranges below it.  ack beyond snd_max is the caller's problem (it
 * must not call).  Fills *u (may be NULL).
 */
void ns_sack_sb_update(struct ns_sack_sb *sb, uint32_t ack, const struct ns_tcp_sack_block *blocks,
		       unsigned n, struct ns_sack_update *u);

/* Is [start, end) entirely SACKed? */
bool ns_sack_sb_is_sacked(const struct ns_sack_sb *sb, uint32_t start, uint32_t end);
/* Bytes SACKed inside [start, end). */
uint32_t ns_sack_sb_sacked_in(const struct ns_sack_sb *sb, uint32_t start, uint32_t end);
/*
 * External loss marks (Linux: RACK, or an RTO marking everything lost):
 * every unSACKed byte below end counts as lost for IsLost, pipe and NextSeg
 * rule 1, in addition to RFC 6675's DupThresh rule.  Call it from the RACK
 * "lost" callback with the segment's end, and with snd_max on an RTO.
 * Forgotten once snd_una passes it.
 */
void ns_sack_sb_mark_lost(struct ns_sack_sb *sb, uint32_t end);

/*
 * RFC 6675 IsLost(seq): DupThresh SACKed segments or > (DupThresh-1)*SMSS
 * bytes SACKed above seq, or seq below the external loss mark.
 */
bool ns_sack_sb_is_lost(const struct ns_sack_sb *sb, uint32_t seq);
/* RFC 6675 §4 pipe, in bytes, over [snd_una, snd_max). */
uint32_t ns_sack_sb_pipe(const struct ns_sack_sb *sb);
/* Bytes deemed lost (IsLost holes and loss marks), for TCP_INFO tcpi_lost (divide by MSS, round up). */
uint32_t ns_sack_sb_lost_bytes(const struct ns_sack_sb *sb);

/* RFC 6675 §5 step 4: loss recovery begins; RecoveryPoint = HighData, HighRxt = HighACK. */
void ns_sack_sb_enter_recovery(struct ns_sack_sb *sb);
void ns_sack_sb_exit_recovery(struct ns_sack_sb *sb);
/* RFC 6675 §5 step (C): recovery ends when HighACK >= RecoveryPoint. */
bool ns_sack_sb_recovery_done(const struct ns_sack_sb *sb);

enum ns_sack_next_kind {
	NS_SACK_NEXT_NONE = 0,          /* nothing may be sent */
	NS_SACK_NEXT_RXT,               /* rule 1: retransmit a lost hole */
	NS_SACK_NEXT_NEW,               /* rule 2: send new data (caller checks rwnd, available data) */
	NS_SACK_NEXT_RXT3,              /* rule 3: retransmit a not-yet-lost hole */
	NS_SACK_NEXT_RESCUE,            /* rule 4: rescue retransmission (sets RescueRxt) */
};

/*
 * RFC 6675 §4 NextSeg(): what to send next during recovery (rules 3 and 4
 * only when sb->rfc_rule3 / sb->rfc_rescue are set).  new_data_ok:
 * unsent data is available and the receive window allows it (rule 2).
 * On RXT/RXT3/RESCUE, [*start, *end) is at most one SMSS, never covering
 * SACKed bytes nor bytes below HighRxt (already retransmitted).  The caller then sends it and calls ns_sack_sb_retransmitted
 * (for RESCUE, ns_sack_sb_next_seg already recorded RescueRxt).
 */
enum ns_sack_next_kind ns_sack_sb_next_seg(struct ns_sack_sb *sb, bool new_data_ok,
					   uint32_t *start, uint32_t *end);

/* ---- receiver: blocks to advertise ---------------------------------------- */

struct ns_sack_rcv {
	uint8_t num;                    /* blocks in blocks[], most recent first */
	bool dsack;                     /* dsack_block goes first in the next ACK only */
	struct ns_tcp_sack_block blocks[NS_TCP_MAX_SACKS];
	struct ns_tcp_sack_block dsack_block;
};

void ns_sack_rcv_init(struct ns_sack_rcv *r);
/*
 * Out-of-order data [start, end) arrived (Linux tcp_sack_new_ofo_skb):
 * the block containing it moves to the front, merged with any block it
 * touches; the oldest block falls off when there are more than 4.
 */
void ns_sack_rcv_add(struct ns_sack_rcv *r, uint32_t start, uint32_t end);
/* RCV.NXT advanced: drop blocks now below it (Linux tcp_sack_remove). */
void ns_sack_rcv_advance(struct ns_sack_rcv *r, uint32_t rcv_nxt);
/*
 * A duplicate [start, end) arrived (RFC 2883 §4, Linux tcp_dsack_set /
 * tcp_dsack_extend): report it first in the next ACK.  A second duplicate
 * adjacent to / overlapping the pending one extends it.
 */
void ns_sack_rcv_dsack(struct ns_sack_rcv *r, uint32_t start, uint32_t end);
/*
 * Blocks for the next ACK: the D-SACK block (if pending) then the most
 * recent blocks, at most max in total (ns_tcp_opts_max_sacks).  Returns the
 * count.  Clears the pending D-SACK (it is sent once).
 */
unsigned ns_sack_rcv_take(struct ns_sack_rcv *r, struct ns_tcp_sack_block *out, unsigned max);
static inline bool ns_sack_rcv_pending(const struct ns_sack_rcv *r) { return r->num || r->dsack; }

#endif
