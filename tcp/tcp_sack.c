/*
 * tcp/tcp_sack.c - SACK scoreboard (RFC 6675) and receiver SACK blocks
 * (RFC 2018, RFC 2883).
 * Owns: the functions of tcp_sack.h.  The scoreboard keeps SACKed byte
 * ranges sorted and merged; every RFC 6675 query is answered from them plus
 * HighACK/HighData/HighRxt, so the connection needs no per-segment SACK tags.
 * Because IsLost() depends only on what is SACKed above a byte, all bytes of
 * one hole (gap between SACKed ranges) are lost or not together.
 * Read first: RFC 6675 §2-5 and §8, RFC 2883 §4, RFC 2018 §4.
 */
#include <stdlib.h>

#include "netstack/core.h"
#include "tcp_sack.h"
#include "tcp_seq.h"

/* ---- range set ------------------------------------------------------------ */

void ns_sack_sb_init(struct ns_sack_sb *sb, uint32_t snd_una, uint32_t mss)
{
	memset(sb, 0, sizeof(*sb));
	sb->snd_una = sb->snd_max = sb->high_rxt = sb->recovery_point = snd_una;
	sb->mss = mss ? mss : NS_TCP_MSS_DEFAULT;
	sb->dupthresh = NS_SACK_DUPTHRESH;
	sb->reordering = NS_SACK_REORDERING_INIT;
	sb->ranges = sb->inline_ranges;
	sb->cap = NS_SACK_INLINE;
}

void ns_sack_sb_fini(struct ns_sack_sb *sb)
{
	if (sb->ranges && sb->ranges != sb->inline_ranges)
		free(sb->ranges);
	sb->ranges = sb->inline_ranges;
	sb->cap = NS_SACK_INLINE;
	sb->n = 0;
	sb->sacked_bytes = 0;
}

void ns_sack_sb_clear(struct ns_sack_sb *sb)
{
	ns_sack_sb_fini(sb);
}

void ns_sack_sb_set_mss(struct ns_sack_sb *sb, uint32_t mss)
{
	if (mss)
		sb->mss = mss;
}

void ns_sack_sb_sent(struct ns_sack_sb *sb, uint32_t end)
{
	if (ns_seq_gt(end, sb->snd_max))
		sb->snd_max = end;
}

void ns_sack_sb_retransmitted(struct ns_sack_sb *sb, uint32_t start, uint32_t end)
{
	(void)start;
	if (ns_seq_gt(end, sb->high_rxt))
		sb->high_rxt = end;
}

void ns_sack_sb_mark_lost(struct ns_sack_sb *sb, uint32_t end)
{
	if (ns_seq_gt(end, sb->snd_max))
		end = sb->snd_max;
	if (!ns_seq_gt(end, sb->snd_una))
		return;
	if (!sb->lost_mark_valid || ns_seq_gt(end, sb->lost_mark))
		sb->lost_mark = end;
	sb->lost_mark_valid = true;
}

/* Bytes of [s, e) below the external loss mark. */
static uint32_t marked_lost(const struct ns_sack_sb *sb, uint32_t s, uint32_t e)
{
	if (!sb->lost_mark_valid || !ns_seq_lt(s, sb->lost_mark))
		return 0;
	return ns_seq_min(e, sb->lost_mark) - s;
}

static bool grow(struct ns_sack_sb *sb)
{
	if (sb->cap >= NS_SACK_MAX_RANGES)
		return false;
	uint16_t ncap = (uint16_t)NS_MIN((unsigned)sb->cap * 4u, (unsigned)NS_SACK_MAX_RANGES);
	struct ns_tcp_sack_block *r = malloc(sizeof(*r) * ncap);
	if (!r)
		return false;
	memcpy(r, sb->ranges, sizeof(*r) * sb->n);
	if (sb->ranges != sb->inline_ranges)
		free(sb->ranges);
	sb->ranges = r;
	sb->cap = ncap;
	return true;
}

static void remove_at(struct ns_sack_sb *sb, unsigned i, unsigned count)
{
	for (unsigned k = i; k < i + count; k++)
		sb->sacked_bytes -= sb->ranges[k].end - sb->ranges[k].start;
	memmove(&sb->ranges[i], &sb->ranges[i + count], sizeof(sb->ranges[0]) * (sb->n - i - count));
	sb->n = (uint16_t)(sb->n - count);
}

/* Adds [s, e) (valid, above snd_una); returns bytes newly covered. */
static uint32_t range_add(struct ns_sack_sb *sb, uint32_t s, uint32_t e)
{
	unsigned i = 0;
	while (i < sb->n && ns_seq_lt(sb->ranges[i].end, s))
		i++;                            /* first range that ends at/after s */
	unsigned j = i;
	uint32_t covered = 0;
	uint32_t ns = s, ne = e;
	while (j < sb->n && ns_seq_leq(sb->ranges[j].start, e)) {
		/* overlapping or adjacent: absorb */
		covered += ns_seq_diff(ns_seq_max(sb->ranges[j].start, s),
				       ns_seq_min(sb->ranges[j].end, e));
		ns = ns_seq_min(ns, sb->ranges[j].start);
		ne = ns_seq_max(ne, sb->ranges[j].end);
		j++;
	}
	uint32_t fresh = (e - s) - covered;
	if (j > i) {
		remove_at(sb, i + 1, j - i - 1);
		sb->sacked_bytes += (ne - ns) - (sb->ranges[i].end - sb->ranges[i].start);
		sb->ranges[i] = (struct ns_tcp_sack_block){ ns, ne };
		return fresh;
	}
	if (sb->n == sb->cap && !grow(sb)) {
		if (i == sb->n)
			return 0;               /* full: forget the highest (this one) */
		remove_at(sb, sb->n - 1, 1);    /* forget the highest to keep lower info */
	}
	memmove(&sb->ranges[i + 1], &sb->ranges[i], sizeof(sb->ranges[0]) * (sb->n - i));
	sb->ranges[i] = (struct ns_tcp_sack_block){ s, e };
	sb->n++;
	sb->sacked_bytes += e - s;
	return fresh;
}

/* Drops everything below una; returns bytes of SACKed data it covered. */
static uint32_t advance_una(struct ns_sack_sb *sb, uint32_t una)
{
	uint32_t was = sb->sacked_bytes;
	unsigned k = 0;
	while (k < sb->n && ns_seq_leq(sb->ranges[k].end, una))
		k++;
	if (k)
		remove_at(sb, 0, k);
	if (sb->n && ns_seq_lt(sb->ranges[0].start, una)) {
		sb->sacked_bytes -= una - sb->ranges[0].start;
		sb->ranges[0].start = una;
	}
	return was - sb->sacked_bytes;
}

/* ---- ACK processing ------------------------------------------------------- */

/* RFC 2883 §4 as Linux's tcp_check_dsack: first block below the ACK, or inside the second. */
static bool is_dsack(uint32_t ack, const struct ns_tcp_sack_block *b, unsigned n, bool *below)
{
	*below = false;
	if (!n)
		return false;
	if (ns_seq_lt(b[0].start, ack)) {
		*below = true;
		return true;
	}
	return n > 1 && ns_seq_leq(b[0].end, b[1].end) && ns_seq_geq(b[0].start, b[1].start);
}

/* Linux tcp_is_sackblock_valid (without an undo marker: any sane D-SACK below snd_una). */
static bool block_valid(const struct ns_sack_sb *sb, const struct ns_tcp_sack_block *b, bool dsack)
{
	if (ns_seq_gt(b->end, sb->snd_max) || !ns_seq_lt(b->start, b->end))
		return false;
	if (!ns_seq_lt(b->start, sb->snd_max))
		return false;
	if (ns_seq_gt(b->start, sb->snd_una))
		return true;
	if (!dsack || ns_seq_gt(b->end, sb->snd_una))
		return false;
	return b->end - b->start <= 0x40000000u;
}

/* One past the highest SACKed byte, or snd_una (Linux tcp_highest_sack_seq). */
static uint32_t fack(const struct ns_sack_sb *sb)
{
	return sb->n ? sb->ranges[sb->n - 1].end : sb->snd_una;
}

/* The lowest byte of [s, e) not SACKed yet, or e if all of it is. */
static uint32_t first_unsacked(const struct ns_sack_sb *sb, uint32_t s, uint32_t e)
{
	for (unsigned i = 0; i < sb->n && ns_seq_lt(s, e); i++) {
		if (ns_seq_leq(sb->ranges[i].end, s))
			continue;
		if (ns_seq_gt(sb->ranges[i].start, s))
			break;
		s = sb->ranges[i].end;
	}
	return ns_seq_min(s, e);
}

/* Linux tcp_check_sack_reordering: low_seq delivered below fack_seq. */
static void check_reordering(struct ns_sack_sb *sb, uint32_t low_seq, uint32_t fack_seq,
			     struct ns_sack_update *u)
{
	if (!ns_seq_lt(low_seq, fack_seq))
		return;
	uint32_t metric = fack_seq - low_seq;
	if (sb->mss && metric > sb->reordering * sb->mss)
		sb->reordering = NS_MIN((metric + sb->mss - 1) / sb->mss, (uint32_t)NS_SACK_REORDERING_MAX);
	sb->reord_seen++;
	u->reorder = true;
}

/* Lowest newly SACKed, never retransmitted byte below the fack of its time (Linux state->reord). */
static void sack_blocks(struct ns_sack_sb *sb, const struct ns_tcp_sack_block *blocks, unsigned n,
			bool dsack, struct ns_sack_update *u)
{
	/* Linux tags in sequence order: process the valid blocks lowest first */
	unsigned order[NS_TCP_MAX_SACKS], m = 0;
	for (unsigned i = 0; i < n; i++) {
		if (dsack && i == 0)
			continue;               /* a duplicate report adds no SACK information */
		if (!block_valid(sb, &blocks[i], false)) {
			u->discarded++;
			continue;
		}
		unsigned j = m++;
		while (j > 0 && ns_seq_gt(blocks[order[j - 1]].start, blocks[i].start)) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	uint32_t reord = sb->snd_max;
	for (unsigned k = 0; k < m; k++) {
		const struct ns_tcp_sack_block *b = &blocks[order[k]];
		uint32_t f = fack(sb);
		uint32_t fresh = first_unsacked(sb, b->start, b->end);
		uint32_t low = ns_seq_max(fresh, sb->high_rxt);         /* never retransmitted */
		if (ns_seq_lt(low, b->end) && ns_seq_lt(low, f) && ns_seq_lt(low, reord))
			reord = low;
		u->newly_sacked += range_add(sb, b->start, b->end);
	}
	if (ns_seq_lt(reord, sb->snd_max))
		check_reordering(sb, reord, fack(sb), u);
}

void ns_sack_sb_update(struct ns_sack_sb *sb, uint32_t ack, const struct ns_tcp_sack_block *blocks,
		       unsigned n, struct ns_sack_update *u)
{
	struct ns_sack_update tmp;
	if (!u)
		u = &tmp;
	memset(u, 0, sizeof(*u));
	if (n > NS_TCP_MAX_SACKS)
		n = NS_TCP_MAX_SACKS;
	bool advanced = ns_seq_gt(ack, sb->snd_una);
	/* Linux tcp_clean_rtx_queue: never-retransmitted, un-SACKed data newly ACKed
	 * below the fack from before this ACK (checked after the SACK blocks, as Linux) */
	uint32_t prior_fack = fack(sb), cum_low = ack;
	if (advanced && sb->n)
		cum_low = first_unsacked(sb, ns_seq_max(sb->snd_una, sb->high_rxt), ack);
	if (advanced) {
		u->newly_acked = ack - sb->snd_una;
		u->acked_sacked = advance_una(sb, ack);
		sb->snd_una = ack;
		if (ns_seq_lt(sb->high_rxt, ack))
			sb->high_rxt = ack;
		if (sb->lost_mark_valid && !ns_seq_gt(sb->lost_mark, ack))
			sb->lost_mark_valid = false;
	}
	bool below;
	u->dsack = is_dsack(ack, blocks, n, &below);
	u->dsack_below_una = u->dsack && below;
	if (u->dsack)
		u->dsack_block = blocks[0];
	if (u->dsack && !block_valid(sb, &blocks[0], true))
		u->discarded++;
	sack_blocks(sb, blocks, n, u->dsack, u);
	if (ns_seq_lt(cum_low, ack))
		check_reordering(sb, cum_low, prior_fack, u);
	u->delivered = u->newly_sacked + (u->newly_acked - u->acked_sacked);
	u->reneged = advanced && sb->n && ns_seq_leq(sb->ranges[0].start, sb->snd_una);
	u->highest_sacked = sb->n ? sb->ranges[sb->n - 1].end : sb->snd_una;
}

/* ---- queries ---------------------------------------------------------------- */

bool ns_sack_sb_is_sacked(const struct ns_sack_sb *sb, uint32_t start, uint32_t end)
{
	for (unsigned i = 0; i < sb->n; i++)
		if (ns_seq_leq(sb->ranges[i].start, start) && ns_seq_geq(sb->ranges[i].end, end))
			return true;
	return false;
}

uint32_t ns_sack_sb_sacked_in(const struct ns_sack_sb *sb, uint32_t start, uint32_t end)
{
	uint32_t sum = 0;
	for (unsigned i = 0; i < sb->n; i++)
		sum += ns_seq_diff(ns_seq_max(sb->ranges[i].start, start),
				   ns_seq_min(sb->ranges[i].end, end));
	return sum;
}

static uint32_t segs(uint32_t bytes, uint32_t mss)
{
	return (bytes + mss - 1) / mss;
}

/* IsLost for the hole just below range k (k = n: the top hole, never lost). */
static bool hole_lost(const struct ns_sack_sb *sb, unsigned k)
{
	uint32_t bytes = 0, nseg = 0;
	for (unsigned i = k; i < sb->n; i++) {
		uint32_t len = sb->ranges[i].end - sb->ranges[i].start;
		bytes += len;
		nseg += segs(len, sb->mss);
	}
	return nseg >= sb->dupthresh || bytes > (uint32_t)(sb->dupthresh - 1) * sb->mss;
}

/* The first hole index whose bytes are not lost (all holes below it are). */
static unsigned first_unlost_hole(const struct ns_sack_sb *sb)
{
	/* walk from the top accumulating; lost-ness only grows downward */
	uint32_t bytes = 0, nseg = 0;
	unsigned k = sb->n;
	while (k > 0) {
		uint32_t len = sb->ranges[k - 1].end - sb->ranges[k - 1].start;
		bytes += len;
		nseg += segs(len, sb->mss);
		if (nseg >= sb->dupthresh || bytes > (uint32_t)(sb->dupthresh - 1) * sb->mss)
			return k;               /* hole below range k-1 ... is lost; hole k is not */
		k--;
	}
	return 0;
}

bool ns_sack_sb_is_lost(const struct ns_sack_sb *sb, uint32_t seq)
{
	unsigned k = 0;
	while (k < sb->n && ns_seq_leq(sb->ranges[k].end, seq))
		k++;
	if (k < sb->n && ns_seq_geq(seq, sb->ranges[k].start))
		return false;                   /* SACKed */
	if (sb->lost_mark_valid && ns_seq_lt(seq, sb->lost_mark) && ns_seq_geq(seq, sb->snd_una))
		return true;
	return hole_lost(sb, k);
}

/* Hole k: [start, end) between range k-1 (or snd_una) and range k (or snd_max). */
static void hole(const struct ns_sack_sb *sb, unsigned k, uint32_t *s, uint32_t *e)
{
	*s = k == 0 ? sb->snd_una : sb->ranges[k - 1].end;
	*e = k == sb->n ? sb->snd_max : sb->ranges[k].start;
}

uint32_t ns_sack_sb_pipe(const struct ns_sack_sb *sb)
{
	unsigned lost_below = first_unlost_hole(sb);
	uint32_t pipe = 0;
	for (unsigned k = 0; k <= sb->n; k++) {
		uint32_t s, e;
		hole(sb, k, &s, &e);
		if (!ns_seq_lt(s, e))
			continue;
		if (k >= lost_below)
			pipe += (e - s) - marked_lost(sb, s, e);        /* not lost: in flight */
		pipe += ns_seq_diff(s, ns_seq_min(e, sb->high_rxt)); /* retransmitted */
	}
	return pipe;
}

uint32_t ns_sack_sb_lost_bytes(const struct ns_sack_sb *sb)
{
	unsigned lost_below = first_unlost_hole(sb);
	uint32_t lost = 0;
	for (unsigned k = 0; k <= sb->n; k++) {
		uint32_t s, e;
		hole(sb, k, &s, &e);
		if (!ns_seq_lt(s, e))
			continue;
		lost += k < lost_below ? e - s : marked_lost(sb, s, e);
	}
	return lost;
}

void ns_sack_sb_enter_recovery(struct ns_sack_sb *sb)
{
	sb->in_recovery = true;
	sb->recovery_point = sb->snd_max;
	sb->high_rxt = sb->snd_una;
	sb->rescue_valid = false;
}

void ns_sack_sb_exit_recovery(struct ns_sack_sb *sb)
{
	sb->in_recovery = false;
	sb->rescue_valid = false;
}

bool ns_sack_sb_recovery_done(const struct ns_sack_sb *sb)
{
	return ns_seq_geq(sb->snd_una, sb->recovery_point);
}

/* Rules 1 and 3: the first eligible hole byte at or above HighRxt. */
static bool find_hole(const struct ns_sack_sb *sb, bool need_lost, uint32_t *start, uint32_t *end)
{
	unsigned lost_below = first_unlost_hole(sb);
	/* holes below the highest SACK; with a loss mark, also the top hole */
	for (unsigned k = 0; k <= sb->n; k++) {
		uint32_t s, e;
		hole(sb, k, &s, &e);
		s = ns_seq_max(s, sb->high_rxt);
		if (!ns_seq_lt(s, e))
			continue;
		if (need_lost && k >= lost_below) {
			uint32_t m = marked_lost(sb, s, e);
			if (!m)
				return false;   /* later holes are higher: not marked either */
			e = s + m;
		} else if (k == sb->n) {
			return false;           /* rule 3 never looks above the highest SACK */
		}
		*start = s;
		*end = e - s > sb->mss ? s + sb->mss : e;
		return true;
	}
	return false;
}

enum ns_sack_next_kind ns_sack_sb_next_seg(struct ns_sack_sb *sb, bool new_data_ok,
					   uint32_t *start, uint32_t *end)
{
	if (find_hole(sb, true, start, end))
		return NS_SACK_NEXT_RXT;
	if (new_data_ok)
		return NS_SACK_NEXT_NEW;
	if (sb->rfc_rule3 && find_hole(sb, false, start, end))
		return NS_SACK_NEXT_RXT3;
	/* rule 4: rescue retransmission, once per recovery "round" */
	if (!sb->rfc_rescue || !sb->in_recovery ||
	    (sb->rescue_valid && !ns_seq_gt(sb->snd_una, sb->rescue_rxt)))
		return NS_SACK_NEXT_NONE;
	/* the highest unSACKed byte not yet retransmitted */
	uint32_t s = 0, e = 0;
	bool found = false;
	for (unsigned k = sb->n + 1; k-- > 0 && !found;) {
		hole(sb, k, &s, &e);
		s = ns_seq_max(s, sb->high_rxt);
		found = ns_seq_lt(s, e);
	}
	if (!found)
		return NS_SACK_NEXT_NONE;
	*end = e;
	*start = e - s > sb->mss ? e - sb->mss : s;
	sb->rescue_rxt = sb->recovery_point;
	sb->rescue_valid = true;
	return NS_SACK_NEXT_RESCUE;
}

/* ---- receiver -------------------------------------------------------------- */

void ns_sack_rcv_init(struct ns_sack_rcv *r)
{
	memset(r, 0, sizeof(*r));
}

/* Linux tcp_sack_extend: merge [s, e) into b when they overlap or touch. */
static bool extend(struct ns_tcp_sack_block *b, uint32_t s, uint32_t e)
{
	if (ns_seq_gt(s, b->end) || ns_seq_gt(b->start, e))
		return false;
	b->start = ns_seq_min(b->start, s);
	b->end = ns_seq_max(b->end, e);
	return true;
}

/* After blocks[0] grew, absorb any other block it now touches. */
static void coalesce_first(struct ns_sack_rcv *r)
{
	for (unsigned i = 1; i < r->num;) {
		if (extend(&r->blocks[0], r->blocks[i].start, r->blocks[i].end)) {
			memmove(&r->blocks[i], &r->blocks[i + 1], sizeof(r->blocks[0]) * (r->num - i - 1));
			r->num--;
		} else {
			i++;
		}
	}
}

void ns_sack_rcv_add(struct ns_sack_rcv *r, uint32_t start, uint32_t end)
{
	if (!ns_seq_lt(start, end))
		return;
	for (unsigned i = 0; i < r->num; i++) {
		if (extend(&r->blocks[i], start, end)) {
			struct ns_tcp_sack_block b = r->blocks[i];
			memmove(&r->blocks[1], &r->blocks[0], sizeof(b) * i);
			r->blocks[0] = b;
			coalesce_first(r);
			return;
		}
	}
	if (r->num == NS_TCP_MAX_SACKS)
		r->num--;                       /* the oldest falls off */
	memmove(&r->blocks[1], &r->blocks[0], sizeof(r->blocks[0]) * r->num);
	r->blocks[0] = (struct ns_tcp_sack_block){ start, end };
	r->num++;
}

void ns_sack_rcv_advance(struct ns_sack_rcv *r, uint32_t rcv_nxt)
{
	for (unsigned i = 0; i < r->num;) {
		if (ns_seq_geq(rcv_nxt, r->blocks[i].start)) {
			memmove(&r->blocks[i], &r->blocks[i + 1], sizeof(r->blocks[0]) * (r->num - i - 1));
			r->num--;
		} else {
			i++;
		}
	}
}

void ns_sack_rcv_dsack(struct ns_sack_rcv *r, uint32_t start, uint32_t end)
{
	if (!ns_seq_lt(start, end))
		return;
	if (r->dsack && extend(&r->dsack_block, start, end))
		return;
	r->dsack = true;
	r->dsack_block = (struct ns_tcp_sack_block){ start, end };
}

unsigned ns_sack_rcv_take(struct ns_sack_rcv *r, struct ns_tcp_sack_block *out, unsigned max)
{
	unsigned n = 0;
	if (r->dsack && n < max)
		out[n++] = r->dsack_block;
	r->dsack = false;
	for (unsigned i = 0; i < r->num && n < max; i++)
		out[n++] = r->blocks[i];
	return n;
}
