/*
 * tcp/tcp_loss.c - loss detection, recovery and undo, per MSS, as Linux's
 * tcp_input.c / tcp_recovery.c run them.
 *
 * Owns: the per-record scoreboard of the retransmission queue (struct
 * tcp_txrec: one record per MSS sent, flags SACKED / LOST / RTX / RETRANS)
 * and its counters (sacked_out, lost_out, retrans_out; packets_out is
 * txr_n), so pipe = packets_out - (sacked_out + lost_out) + retrans_out is
 * RFC 6675's pipe in segments; SACK tagging with D-SACK (RFC 2018/2883,
 * Linux tcp_sacktag_*), the cumulative-ACK clean-up (tcp_clean_rtx_queue),
 * reordering measurement (TCPSACKReorder / TCPTSReorder / TCPRenoReorder),
 * the congestion state machine (Open, Disorder, Recovery, Loss; Linux
 * tcp_fastretrans_alert), RACK loss marking (RFC 8985) including lost
 * retransmissions, NewReno (RFC 6582) for peers without SACK (dupacks count
 * as sacked_out like Linux), PRR (RFC 6937 through tcp_cc), retransmission
 * of lost records only (tcp_xmit_retransmit_queue; consecutive lost records
 * go out as one GSO frame), RTO (tcp_enter_loss) with F-RTO (RFC 5682,
 * tcp_frto=2), undo of spurious reductions (Eifel timestamps RFC 3522,
 * D-SACK RFC 3708: TCPFullUndo, TCPPartialUndo, TCPDSACKUndo, TCPLossUndo,
 * TCPSpuriousRTOs), the RACK reordering timer and TLP.
 * Limited transmit (RFC 3042) falls out of pipe: each SACK/dupack lowers it.
 */
#include "tcp_internal.h"

uint32_t tcp_packets_in_flight(struct tcp_ep *ep);
int tcp_txr_find(struct tcp_ep *ep, uint32_t seq);
struct tcp_txrec *tcp_txr_get(struct tcp_ep *ep, uint32_t i);
void tcp_txr_ack(struct tcp_ep *ep, uint32_t una);
void tcp_sndbuf_expand(struct tcp_ep *ep);
int tcp_write_wakeup(struct tcp_ep *ep);
int tcp_retransmit_recs(struct tcp_ep *ep, uint32_t i, uint32_t n, bool tlp);

static uint64_t now_us(struct tcp_ep *ep) { return ns__now(ep->stk) / NS_NSEC_PER_USEC; }

/* After the handshake (Linux tcp_init_transfer). */
void tcp_init_transfer(struct tcp_ep *ep)
{
	tcp_sync_mss(ep, ep->pmtu ? ep->pmtu : ns__ip_path_mtu(ep->stk, &ep->raddr, ep->sk->bound_nic));
	const struct ns_tcp_cc_ops *ops = ep->cc.ops ? ep->cc.ops : ns_tcp_cc_default();
	ns_tcp_cc_init(&ep->cc, ops, tcp_current_mss(ep), now_us(ep));
	if (ep->rtx_syn && !ns_tcp_rtt_has_sample(&ep->rtt))
		ns_tcp_rtt_syn_lost(&ep->rtt);
	ns_tcp_rtt_reset_backoff(&ep->rtt);
	ep->retransmits = 0;
	ep->retrans_stamp = 0;
	ns_sack_sb_init(&ep->sb, ep->snd_una, tcp_current_mss(ep));
	ns_rack_init(&ep->rack);
	ep->high_rxt = ep->snd_una;
	ep->recover = ep->snd_una;
	ep->high_seq = ep->snd_una;
	ep->highest_sack = ep->snd_una;
	ep->sacked_out = ep->lost_out = ep->retrans_out = 0;
	ep->undo_on = ep->undo_ts_valid = ep->frto_on = false;
	ep->snd_sml = ep->snd_una;
	ep->reordering = 3;
	ep->rcv_mss = NS_MIN((uint32_t)ep->advmss, tcp_current_mss(ep));
	if (ep->rcv_mss < 536)
		ep->rcv_mss = 536;
	ep->rcv_space = ep->rcv_wnd ? ep->rcv_wnd : 10 * ep->advmss;
	ep->rcv_space_seq = ep->copied_seq;
	ep->rcv_space_time = now_us(ep);
	ep->lrcvtime = ep->lacktime = ns__now(ep->stk);
	tcp_sndbuf_expand(ep);
	tcp_set_keepalive(ep);
}

static uint32_t mss_of(struct tcp_ep *ep) { return tcp_current_mss(ep); }

/* What one ACK did (Linux's FLAG_* and struct tcp_sacktag_state). */
enum {
	LF_DATA_ACKED = 0x01,           /* new data cumulatively ACKed */
	LF_DATA_SACKED = 0x02,          /* new SACK information */
	LF_SND_UNA_ADV = 0x04,
	LF_ORIG_SACK_ACKED = 0x08,      /* never-retransmitted data below high_seq delivered */
	LF_RETRANS_DATA_ACKED = 0x10,
	LF_DSACKING = 0x20,             /* a valid D-SACK */
	LF_DSACK_TLP = 0x40,            /* ... for the loss probe */
	LF_LOST_RETRANS = 0x80,         /* a retransmission was found lost */
};
enum { REXMIT_NONE, REXMIT_LOST, REXMIT_NEW };

struct ack_state {
	uint32_t flag;
	uint32_t delivered;             /* segments newly delivered (Linux newly_acked_sacked) */
	uint32_t acked;                 /* records cumulatively ACKed */
	uint32_t reord;                 /* lowest never-retransmitted seq delivered out of order */
	uint32_t prior_fack;
	uint32_t newly_lost;
	bool has_ts;
	uint32_t tsecr;
	bool dsack_rack;                /* tell RACK (reo_wnd steps) */
};

static uint64_t rec_now_us(struct tcp_ep *ep) { return ns__now(ep->stk) / NS_NSEC_PER_USEC; }

static void set_ca(struct tcp_ep *ep, enum ns_tcp_ca_state s) { ns_tcp_cc_set_state(&ep->cc, s); }

/* Linux tcp_highest_sack_seq: the end of the highest SACKed record (start of the one after it). */
static uint32_t highest_sack_seq(struct tcp_ep *ep)
{
	if (!ep->sack_ok || !ep->sacked_out)
		return ep->snd_una;
	return ns_seq_max(ep->highest_sack, ep->snd_una);
}

static bool any_retrans_done(struct tcp_ep *ep)
{
	if (ep->retrans_out)
		return true;
	return ep->txr_n && (tcp_txr_get(ep, 0)->flags & NS_RACK_SEG_RETRANS);
}

/* Linux tcp_mark_skb_lost. */
static void mark_lost(struct tcp_ep *ep, struct tcp_txrec *r, struct ack_state *st)
{
	if (r->flags & NS_RACK_SEG_SACKED)
		return;
	if (r->flags & NS_RACK_SEG_LOST) {
		if (r->flags & TCP_TXR_RTX) {
			/* a retransmission lost again (RFC 8985 6.3) */
			r->flags &= (uint8_t)~TCP_TXR_RTX;
			if (ep->retrans_out)
				ep->retrans_out--;
			NS_STAT_INC(ep->stk, TcpExtTCPLostRetransmit);
			if (st)
				st->newly_lost++;
		}
	} else {
		r->flags |= NS_RACK_SEG_LOST;
		ep->lost_out++;
		if (st)
			st->newly_lost++;
	}
}

/* Linux tcp_check_sack_reordering. */
static void check_reordering(struct tcp_ep *ep, uint32_t low_seq, bool ts)
{
	uint32_t fack = highest_sack_seq(ep);
	if (!ns_seq_lt(low_seq, fack))
		return;
	uint32_t mss = mss_of(ep), metric = fack - low_seq;
	if (metric > ep->reordering * mss)
		ep->reordering = NS_MIN((metric + mss - 1) / mss, (uint32_t)NS_SACK_REORDERING_MAX);
	ep->reord_seen++;
	ns_rack_reordering_seen(&ep->rack);
	if (ts)
		NS_STAT_INC(ep->stk, TcpExtTCPTSReorder);
	else
		NS_STAT_INC(ep->stk, TcpExtTCPSACKReorder);
}

/* ---- Reno: duplicate ACKs stand for SACKed segments (Linux tcp_add_reno_sack) ---- */

static bool limit_reno_sacked(struct tcp_ep *ep)
{
	uint32_t holes = NS_MAX(ep->lost_out, 1u);
	holes = NS_MIN(holes, ep->txr_n);
	if (ep->sacked_out + holes > ep->txr_n) {
		ep->sacked_out = ep->txr_n - holes;
		return true;
	}
	return false;
}

static void check_reno_reordering(struct tcp_ep *ep, uint32_t addend)
{
	if (!limit_reno_sacked(ep))
		return;
	ep->reordering = NS_MIN(ep->txr_n + addend, (uint32_t)NS_SACK_REORDERING_MAX);
	ep->reord_seen++;
	NS_STAT_INC(ep->stk, TcpExtTCPRenoReorder);
}

static void add_reno_sack(struct tcp_ep *ep, uint32_t num_dupack, struct ack_state *st)
{
	if (!num_dupack)
		return;
	uint32_t prior = ep->sacked_out;
	ep->sacked_out += num_dupack;
	check_reno_reordering(ep, 0);
	if (ep->sacked_out > prior)
		st->delivered += ep->sacked_out - prior;
}

static void remove_reno_sacks(struct tcp_ep *ep, uint32_t acked, struct ack_state *st)
{
	if (acked > 0) {
		st->delivered += acked > ep->sacked_out + 1 ? acked - ep->sacked_out : 1;
		if (acked - 1 >= ep->sacked_out)
			ep->sacked_out = 0;
		else
			ep->sacked_out -= acked - 1;
	}
	check_reno_reordering(ep, acked);
}

/* ---- SACK tagging (Linux tcp_sacktag_write_queue) ------------------------------ */

/* Linux tcp_dsack_seen: how many segments the D-SACK reports, 0 if dubious. */
static uint32_t dsack_seen(struct tcp_ep *ep, uint32_t s, uint32_t e, struct ack_state *st)
{
	if (!ns_seq_lt(s, e))
		return 0;
	uint32_t len = e - s, mss = mss_of(ep), dup = 1;
	if (len > ep->max_window)
		return 0;
	if (len > mss)
		dup = (len + mss - 1) / mss;
	else if (ep->rack.tlp_in_flight && ep->rack.tlp_high_seq == e)
		st->flag |= LF_DSACK_TLP;
	ep->dsack_dups += dup;
	if (ep->dsack_dups > ep->total_retrans)
		return 0;               /* we never sent that many duplicates */
	if (ep->reord_seen && !(st->flag & LF_DSACK_TLP))
		st->dsack_rack = true;
	st->flag |= LF_DSACKING;
	st->delivered += dup;   /* a spurious retransmission was delivered */
	return dup;
}

/* Linux tcp_check_dsack (RFC 2883 section 4). */
static bool check_dsack(struct tcp_ep *ep, const struct ns_tcp_sack_block *b, unsigned n, uint32_t ack,
			uint32_t prior_una, struct ack_state *st)
{
	if (ns_seq_lt(b[0].start, ack))
		NS_STAT_INC(ep->stk, TcpExtTCPDSACKRecv);
	else if (n > 1 && !ns_seq_gt(b[0].end, b[1].end) && !ns_seq_lt(b[0].start, b[1].start))
		NS_STAT_INC(ep->stk, TcpExtTCPDSACKOfoRecv);
	else
		return false;
	uint32_t dup = dsack_seen(ep, b[0].start, b[0].end, st);
	if (!dup)
		return false;
	/* D-SACK for data already ACKed: count the retransmission as spurious */
	if (ep->undo_on && ep->undo_retrans > 0 && !ns_seq_gt(b[0].end, prior_una) &&
	    ns_seq_gt(b[0].end, ep->undo_marker))
		ep->undo_retrans = NS_MAX(0, ep->undo_retrans - (int32_t)dup);
	return true;
}

/* Linux tcp_is_sackblock_valid (snd_una: before this ACK). */
static bool sackblock_valid(struct tcp_ep *ep, bool dsack, uint32_t s, uint32_t e, uint32_t una)
{
	if (ns_seq_gt(e, ep->snd_nxt) || !ns_seq_lt(s, e) || !ns_seq_lt(s, ep->snd_nxt))
		return false;
	if (ns_seq_gt(s, una))
		return true;
	if (!dsack || !ep->undo_on || ns_seq_gt(e, una))
		return false;
	if (!ns_seq_lt(s, ep->undo_marker))
		return true;
	if (!ns_seq_gt(e, ep->undo_marker))
		return false;
	return !ns_seq_lt(s, e - ep->max_window);
}

/* Linux tcp_sacktag_one for one record. */
static void sacktag_one(struct tcp_ep *ep, struct tcp_txrec *r, bool dup, struct ack_state *st, uint64_t now,
			uint32_t minrtt)
{
	uint8_t f = r->flags;
	if (dup && (f & (NS_RACK_SEG_RETRANS | TCP_TXR_RTX))) {
		if (ep->undo_on && ep->undo_retrans > 0 && ns_seq_gt(r->end, ep->undo_marker))
			ep->undo_retrans--;
		if ((f & NS_RACK_SEG_SACKED) && ns_seq_lt(r->seq, st->reord))
			st->reord = r->seq;
	}
	if (!ns_seq_gt(r->end, ep->snd_una))
		return;
	if (!(f & NS_RACK_SEG_SACKED)) {
		struct ns_rack_seg rs = { r->seq, r->end, r->xmit_us, f, NULL };
		ns_rack_on_delivered(&ep->rack, &rs, now, minrtt);
		if (f & TCP_TXR_RTX) {
			/* not lost: the retransmission is still believed in flight */
			if (f & NS_RACK_SEG_LOST) {
				f &= (uint8_t)~(NS_RACK_SEG_LOST | TCP_TXR_RTX);
				ep->lost_out--;
				ep->retrans_out--;
			}
		} else {
			if (!(f & NS_RACK_SEG_RETRANS)) {
				if (ns_seq_lt(r->seq, highest_sack_seq(ep)) && ns_seq_lt(r->seq, st->reord))
					st->reord = r->seq;
				if (!ns_seq_gt(r->end, ep->high_seq))
					st->flag |= LF_ORIG_SACK_ACKED;
			}
			if (f & NS_RACK_SEG_LOST) {
				f &= (uint8_t)~NS_RACK_SEG_LOST;
				ep->lost_out--;
			}
		}
		f |= NS_RACK_SEG_SACKED;
		st->flag |= LF_DATA_SACKED;
		ep->sacked_out++;
		st->delivered++;
		if (ep->sacked_out == 1 || ns_seq_gt(r->end, ep->highest_sack))
			ep->highest_sack = r->end;
	}
	if (dup && (f & TCP_TXR_RTX)) {
		f &= (uint8_t)~TCP_TXR_RTX;
		ep->retrans_out--;
	}
	r->flags = f;
}

/* Tags every record entirely inside [s, e). */
static void sacktag_range(struct tcp_ep *ep, uint32_t s, uint32_t e, bool dup, struct ack_state *st)
{
	uint64_t now = rec_now_us(ep);
	uint32_t minrtt = ns_tcp_rtt_min(&ep->rtt);
	int i = tcp_txr_find(ep, s);
	if (i < 0) {
		/* s in no record: start at the first record after it */
		uint32_t lo = 0, hi = ep->txr_n;
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;
			if (ns_seq_lt(tcp_txr_get(ep, mid)->seq, s))
				lo = mid + 1;
			else
				hi = mid;
		}
		i = (int)lo;
	}
	for (uint32_t k = (uint32_t)i; k < ep->txr_n; k++) {
		struct tcp_txrec *r = tcp_txr_get(ep, k);
		if (ns_seq_gt(r->end, e))
			break;
		if (ns_seq_lt(r->seq, s))
			continue;       /* partly covered: Linux only tags whole MSS pieces */
		sacktag_one(ep, r, dup, st, now, minrtt);
	}
}

static void sacktag(struct tcp_ep *ep, const struct tcp_seg *seg, uint32_t prior_una, struct ack_state *st)
{
	const struct ns_tcp_sack_block *b = seg->opt.sacks;
	unsigned n = seg->opt.num_sacks;
	if (n > NS_TCP_MAX_SACKS)
		n = NS_TCP_MAX_SACKS;
	if (!n)
		return;
	bool found_dup = check_dsack(ep, b, n, seg->ack, prior_una, st);
	unsigned order[NS_TCP_MAX_SACKS], m = 0;
	bool dupf[NS_TCP_MAX_SACKS] = { false };
	for (unsigned i = 0; i < n; i++) {
		bool dup = i == 0 && found_dup;
		if (!sackblock_valid(ep, dup, b[i].start, b[i].end, prior_una)) {
			if (dup)
				if (ep->undo_on)
					NS_STAT_INC(ep->stk, TcpExtTCPDSACKIgnoredOld);
				else
					NS_STAT_INC(ep->stk, TcpExtTCPDSACKIgnoredNoUndo);
			else if (!(seg->ack != prior_una && !ns_seq_gt(b[i].end, prior_una)))
				NS_STAT_INC(ep->stk, TcpExtTCPSACKDiscard);
			continue;
		}
		if (!ns_seq_gt(b[i].end, prior_una))
			continue;       /* very old (a D-SACK below snd_una was counted above) */
		unsigned j = m++;
		while (j > 0 && ns_seq_gt(b[order[j - 1]].start, b[i].start)) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
		dupf[i] = dup;
	}
	for (unsigned k = 0; k < m; k++)
		sacktag_range(ep, b[order[k]].start, b[order[k]].end, dupf[order[k]], st);
	if (ep->cc.ca_state != NS_TCP_CA_LOSS || ep->undo_on)
		check_reordering(ep, st->reord, false);
}

/* ---- cumulative ACK (Linux tcp_clean_rtx_queue) ----------------------------------- */

static void clean_rtx_queue(struct tcp_ep *ep, uint32_t ack, struct ack_state *st)
{
	uint64_t now = rec_now_us(ep);
	uint32_t minrtt = ns_tcp_rtt_min(&ep->rtt);
	uint32_t reord = ep->snd_nxt;
	while (ep->txr_n) {
		struct tcp_txrec *r = tcp_txr_get(ep, 0);
		if (ns_seq_gt(r->end, ack))
			break;
		uint8_t f = r->flags;
		if (f & (NS_RACK_SEG_RETRANS | TCP_TXR_RTX)) {
			if (f & TCP_TXR_RTX)
				ep->retrans_out--;
			st->flag |= LF_RETRANS_DATA_ACKED;
		} else if (!(f & NS_RACK_SEG_SACKED)) {
			if (ns_seq_lt(r->seq, reord))
				reord = r->seq;
			if (!ns_seq_gt(r->end, ep->high_seq))
				st->flag |= LF_ORIG_SACK_ACKED;
		}
		if (f & NS_RACK_SEG_SACKED) {
			ep->sacked_out--;
		} else if (ep->sack_ok) {
			st->delivered++;
			struct ns_rack_seg rs = { r->seq, r->end, r->xmit_us, f, NULL };
			ns_rack_on_delivered(&ep->rack, &rs, now, minrtt);
		}
		if (f & NS_RACK_SEG_LOST)
			ep->lost_out--;
		st->acked++;
		tcp_txr_ack(ep, r->end);
	}
	if (!st->acked)
		return;
	st->flag |= LF_DATA_ACKED;
	if (!ep->sack_ok) {
		remove_reno_sacks(ep, st->acked, st);
		/* Reno cannot tell which transmission a retransmitted segment's ACK was for */
		if (st->flag & LF_RETRANS_DATA_ACKED)
			st->flag &= ~(uint32_t)LF_ORIG_SACK_ACKED;
	} else if (ns_seq_lt(reord, st->prior_fack)) {
		check_reordering(ep, reord, false);
	}
	if (!ep->txr_n)
		ep->sacked_out = ep->lost_out = ep->retrans_out = 0;
}

/* ---- RACK (RFC 8985, Linux tcp_rack_detect_loss) -------------------------------------- */

static uint32_t rack_reo_wnd(struct tcp_ep *ep)
{
	bool in_rec = ep->cc.ca_state >= NS_TCP_CA_RECOVERY;
	uint32_t sacked = ep->sacked_out >= ep->reordering ? 3 : 0;
	return ns_rack_reo_wnd(&ep->rack, ns_tcp_rtt_min(&ep->rtt), ns_tcp_rtt_srtt(&ep->rtt), in_rec, sacked);
}

/*
 * Marks lost every record sent before the most recently delivered one by
 * more than the reordering window; records sent in sequence order, so the
 * walk stops at the first never-retransmitted record sent after RACK's.
 * Arms the reordering timer for the rest.
 */
static void rack_detect_loss(struct tcp_ep *ep, struct ack_state *st, bool arm)
{
	uint32_t reo = rack_reo_wnd(ep);
	uint64_t now = rec_now_us(ep);
	uint32_t timeout = 0;
	ep->rack.advanced = false;
	for (uint32_t i = 0; i < ep->txr_n; i++) {
		struct tcp_txrec *r = tcp_txr_get(ep, i);
		uint8_t f = r->flags;
		if (f & NS_RACK_SEG_SACKED)
			continue;
		if ((f & NS_RACK_SEG_LOST) && !(f & TCP_TXR_RTX))
			continue;
		struct ns_rack_seg rs = { r->seq, r->end, r->xmit_us, f, NULL };
		uint32_t left = 0;
		bool before = r->xmit_us < ep->rack.xmit_us ||
			      (r->xmit_us == ep->rack.xmit_us && ns_seq_lt(r->end, ep->rack.end_seq));
		if (!before) {
			if (!(f & NS_RACK_SEG_RETRANS))
				break;
			continue;
		}
		if (ns_rack_seg_check(&ep->rack, &rs, reo, now, &left))
			mark_lost(ep, r, st);
		else if (left > timeout)
			timeout = left;
	}
	if (timeout && arm) {
		uint64_t t = ns__now(ep->stk) + ((uint64_t)timeout + NS_TLP_MIN_EXTRA_US) * NS_NSEC_PER_USEC;
		uint64_t rto = ns__now(ep->stk) + tcp_rto_ns(ep);
		ep->t_rtx = t < rto ? t : rto;
		ep->rtx_kind = TCP_RTX_REO;
		tcp_timer_update(ep);
	}
}

static void newreno_mark_lost(struct tcp_ep *ep, bool advanced, struct ack_state *st)
{
	uint8_t s = ep->cc.ca_state;
	if ((s < NS_TCP_CA_RECOVERY && ep->sacked_out >= ep->reordering) ||
	    (s == NS_TCP_CA_RECOVERY && advanced)) {
		struct tcp_txrec *r = tcp_txr_get(ep, 0);
		if (!(r->flags & NS_RACK_SEG_LOST))
			mark_lost(ep, r, st);
	}
}

/* Linux tcp_identify_packet_loss. */
static void identify_packet_loss(struct tcp_ep *ep, struct ack_state *st)
{
	if (!ep->txr_n)
		return;
	if (!ep->sack_ok) {
		newreno_mark_lost(ep, (st->flag & LF_SND_UNA_ADV) != 0, st);
	} else if (ep->rack.advanced) {
		uint32_t prior_retrans = ep->retrans_out;
		rack_detect_loss(ep, st, true);
		if (prior_retrans > ep->retrans_out)
			st->flag |= LF_LOST_RETRANS;
	}
}

/* ---- undo (RFC 3522 Eifel, RFC 3708 D-SACK; Linux tcp_try_undo_*) ---------------------- */

static void init_undo(struct tcp_ep *ep)
{
	ep->undo_on = true;
	ep->undo_marker = ep->snd_una;
	ep->undo_retrans = ep->retrans_out ? (int32_t)ep->retrans_out : -1;
}

/* Linux tcp_packet_delayed: nothing retransmitted, or the ACK echoes a TSval older than the first retransmission. */
static bool packet_delayed(struct tcp_ep *ep, const struct ack_state *st)
{
	if (!ep->undo_ts_valid)
		return true;
	return ep->ts_ok && st->has_ts && st->tsecr && ns_seq_lt(st->tsecr, ep->undo_tsval);
}

static bool may_undo(struct tcp_ep *ep, const struct ack_state *st)
{
	return ep->undo_on && (!ep->undo_retrans || packet_delayed(ep, st));
}

static void undo_cwnd_reduction(struct tcp_ep *ep, bool unmark_loss)
{
	if (unmark_loss) {
		for (uint32_t i = 0; i < ep->txr_n; i++)
			tcp_txr_get(ep, i)->flags &= (uint8_t)~NS_RACK_SEG_LOST;
		ep->lost_out = 0;
	}
	uint8_t s = ep->cc.ca_state;
	ns_tcp_cc_undo(&ep->cc, rec_now_us(ep));
	ep->cc.ca_state = s;    /* the caller decides the state */
	ep->undo_on = false;
	ep->rack.advanced = true;       /* re-examine losses */
}

static void try_keep_open(struct tcp_ep *ep)
{
	enum ns_tcp_ca_state s = NS_TCP_CA_OPEN;
	if (ep->sacked_out + ep->lost_out || any_retrans_done(ep))
		s = NS_TCP_CA_DISORDER;
	if (ep->cc.ca_state != s) {
		set_ca(ep, s);
		ep->high_seq = ep->snd_nxt;
	}
}

static bool non_sack_preventing_reopen(struct tcp_ep *ep)
{
	if (ep->snd_una == ep->high_seq && !ep->sack_ok) {
		/* hold the state until something above high_seq is ACKed (RFC 6582) */
		if (!any_retrans_done(ep))
			ep->undo_ts_valid = false;
		return true;
	}
	return false;
}

static bool try_undo_recovery(struct tcp_ep *ep, const struct ack_state *st)
{
	if (may_undo(ep, st)) {
		bool loss = ep->cc.ca_state == NS_TCP_CA_LOSS;
		undo_cwnd_reduction(ep, false);
		if (loss)
			NS_STAT_INC(ep->stk, TcpExtTCPLossUndo);
		else
			NS_STAT_INC(ep->stk, TcpExtTCPFullUndo);
	} else if (ep->rack.reo_wnd_persist) {
		ep->rack.reo_wnd_persist--;
	}
	if (non_sack_preventing_reopen(ep))
		return true;
	set_ca(ep, NS_TCP_CA_OPEN);
	ep->is_sack_reneg = false;
	return false;
}

static bool try_undo_dsack(struct tcp_ep *ep)
{
	if (ep->undo_on && !ep->undo_retrans) {
		if (ep->rack.reo_wnd_persist < NS_RACK_REO_WND_PERSIST)
			ep->rack.reo_wnd_persist++;
		undo_cwnd_reduction(ep, false);
		NS_STAT_INC(ep->stk, TcpExtTCPDSACKUndo);
		return true;
	}
	return false;
}

static bool try_undo_loss(struct tcp_ep *ep, bool frto_undo, const struct ack_state *st)
{
	if (!frto_undo && !may_undo(ep, st))
		return false;
	undo_cwnd_reduction(ep, true);
	NS_STAT_INC(ep->stk, TcpExtTCPLossUndo);
	if (frto_undo)
		NS_STAT_INC(ep->stk, TcpExtTCPSpuriousRTOs);
	ep->retransmits = 0;
	ns_tcp_rtt_reset_backoff(&ep->rtt);
	if (non_sack_preventing_reopen(ep))
		return true;
	if (frto_undo || ep->sack_ok) {
		set_ca(ep, NS_TCP_CA_OPEN);
		ep->is_sack_reneg = false;
	}
	return true;
}

static bool try_undo_partial(struct tcp_ep *ep, uint32_t prior_una, const struct ack_state *st)
{
	if (!ep->undo_on || !packet_delayed(ep, st))
		return false;
	/* the hole was filled by the delayed original, not the retransmission */
	check_reordering(ep, prior_una, true);
	if (ep->retrans_out)
		return true;
	if (!any_retrans_done(ep))
		ep->undo_ts_valid = false;
	undo_cwnd_reduction(ep, true);
	NS_STAT_INC(ep->stk, TcpExtTCPPartialUndo);
	try_keep_open(ep);
	return false;
}

/* ---- entering and leaving recovery ------------------------------------------------ */

static void enter_recovery(struct tcp_ep *ep)
{
	if (ep->sack_ok)
		NS_STAT_INC(ep->stk, TcpExtTCPSackRecovery);
	else
		NS_STAT_INC(ep->stk, TcpExtTCPRenoRecovery);
	init_undo(ep);
	ns_tcp_cc_enter_recovery(&ep->cc, tcp_packets_in_flight(ep), rec_now_us(ep));
	ep->high_seq = ep->recover = ep->snd_nxt;
	ns_rack_tlp_reset(&ep->rack);
}

static void try_to_open(struct tcp_ep *ep)
{
	if (!any_retrans_done(ep))
		ep->undo_ts_valid = false;
	if (ep->cc.ca_state != NS_TCP_CA_CWR)
		try_keep_open(ep);
}

/* RTO marks (Linux tcp_timeout_mark_lost): everything but recently sent records. */
static void timeout_mark_lost(struct tcp_ep *ep)
{
	if (!ep->txr_n)
		return;
	bool reneg = ep->sack_ok && (tcp_txr_get(ep, 0)->flags & NS_RACK_SEG_SACKED);
	if (reneg) {
		NS_STAT_INC(ep->stk, TcpExtTCPSACKReneging);
		ep->sacked_out = 0;
		ep->is_sack_reneg = true;
	} else if (!ep->sack_ok) {
		ep->sacked_out = 0;
	}
	uint64_t now = rec_now_us(ep);
	for (uint32_t i = 0; i < ep->txr_n; i++) {
		struct tcp_txrec *r = tcp_txr_get(ep, i);
		if (reneg) {
			r->flags &= (uint8_t)~NS_RACK_SEG_SACKED;
		} else if (i) {
			struct ns_rack_seg rs = { r->seq, r->end, r->xmit_us, r->flags, NULL };
			uint32_t left = 0;
			struct ns_rack tmp = ep->rack;
			tmp.xmit_us = UINT64_MAX;       /* every record counts as sent before */
			if (!ns_rack_seg_check(&tmp, &rs, 0, now, &left))
				continue;       /* sent within the last RACK RTT: not lost yet */
		}
		mark_lost(ep, r, NULL);
	}
}

/* RTO (Linux tcp_enter_loss); the timer then calls tcp_rto_retransmit(). */
void tcp_enter_loss(struct tcp_ep *ep)
{
	uint8_t prev = ep->cc.ca_state;
	bool new_recovery = prev < NS_TCP_CA_RECOVERY;
	if (ep->retransmits == 0) {
		if (prev == NS_TCP_CA_RECOVERY || prev == NS_TCP_CA_DISORDER || ep->sacked_out)
			if (ep->sack_ok)
				NS_STAT_INC(ep->stk, TcpExtTCPSackFailures);
			else
				NS_STAT_INC(ep->stk, TcpExtTCPRenoFailures);
		else if (prev == NS_TCP_CA_LOSS)
			NS_STAT_INC(ep->stk, TcpExtTCPLossFailures);
	}
	timeout_mark_lost(ep);
	bool reduce = ns_tcp_cc_rto_should_reduce(&ep->cc, ep->snd_una, ep->high_seq, ep->retransmits);
	if (reduce)
		init_undo(ep);
	ns_tcp_cc_on_rto(&ep->cc, tcp_packets_in_flight(ep), reduce, rec_now_us(ep));
	if (prev <= NS_TCP_CA_DISORDER && ep->sacked_out >= NS_SACK_REORDERING_INIT)
		ep->reordering = NS_MIN(ep->reordering, (uint32_t)NS_SACK_REORDERING_INIT);
	ep->high_seq = ep->recover = ep->snd_nxt;
	ns_rack_tlp_reset(&ep->rack);
	ep->frto_on = new_recovery || ep->retransmits;
	ep->dupacks = 0;
}

/* After tcp_enter_loss: retransmit the head (one MSS). */
void tcp_rto_retransmit(struct tcp_ep *ep)
{
	if (ep->txr_n)
		tcp_retransmit_recs(ep, 0, 1, false);
}

/* ---- retransmission (Linux tcp_xmit_retransmit_queue) --------------------------------- */

static void xmit_retransmit_queue(struct tcp_ep *ep)
{
	uint32_t mss = mss_of(ep);
	uint32_t max_recs = NS_MAX((TCP_GSO_MAX - 200) / mss, 1u);
	bool rearm = false;
	for (uint32_t i = 0; i < ep->txr_n; i++) {
		uint32_t in_flight = tcp_packets_in_flight(ep);
		if (in_flight >= ep->cc.cwnd || ep->retrans_out >= ep->lost_out)
			break;
		uint32_t segs = NS_MIN(ep->cc.cwnd - in_flight, max_recs);
		struct tcp_txrec *r = tcp_txr_get(ep, i);
		uint8_t f = r->flags;
		if (!(f & NS_RACK_SEG_LOST) || (f & (NS_RACK_SEG_SACKED | TCP_TXR_RTX)))
			continue;
		/* consecutive lost records go out as one GSO frame */
		uint32_t n = 1, end = r->end;
		while (n < segs && i + n < ep->txr_n) {
			struct tcp_txrec *q = tcp_txr_get(ep, i + n);
			if (q->seq != end || (q->flags & (NS_RACK_SEG_SACKED | TCP_TXR_RTX)) ||
			    !(q->flags & NS_RACK_SEG_LOST) || (r->flags & TCP_TXR_PSH))
				break;
			end = q->end;
			r = q;
			n++;
		}
		int sent = tcp_retransmit_recs(ep, i, n, false);
		if (sent <= 0)
			break;
		if (ep->cc.ca_state == NS_TCP_CA_LOSS)
			NS_STAT_ADD(ep->stk, TcpExtTCPSlowStartRetrans, (uint64_t)sent);
		else
			NS_STAT_ADD(ep->stk, TcpExtTCPFastRetrans, (uint64_t)sent);
		if (ep->cc.ca_state == NS_TCP_CA_RECOVERY || ep->cc.ca_state == NS_TCP_CA_CWR)
			ep->cc.prr_out += (uint32_t)sent;
		if (i == 0 && ep->rtx_kind != TCP_RTX_REO)
			rearm = true;
		i += (uint32_t)sent - 1;
	}
	if (rearm) {
		ep->t_rtx = ns__now(ep->stk) + tcp_rto_ns(ep);
		ep->rtx_kind = TCP_RTX_RTO;
		tcp_timer_update(ep);
	}
}

static void xmit_recovery(struct tcp_ep *ep, int rexmit)
{
	if (rexmit == REXMIT_NONE)
		return;
	if (rexmit == REXMIT_NEW) {
		tcp_push(ep, true);
		if (ns_seq_gt(ep->snd_nxt, ep->high_seq))
			return;
		ep->frto_on = false;
	}
	xmit_retransmit_queue(ep);
}

/*
 * The path MTU dropped (Linux tcp_simple_retransmit): records larger than the
 * MSS now are lost; Loss state without touching cwnd (ssthresh keeps 3/4 of
 * it, no undo), and retransmit what cwnd allows.
 */
void tcp_simple_retransmit(struct tcp_ep *ep)
{
	uint32_t mss = mss_of(ep), prior_lost = ep->lost_out;
	for (uint32_t i = 0; i < ep->txr_n; i++) {
		struct tcp_txrec *r = tcp_txr_get(ep, i);
		uint32_t len = r->end - r->seq - ((ep->fin_sent && r->end == ep->fin_seq + 1) ? 1 : 0);
		if (len > mss)
			mark_lost(ep, r, NULL);
	}
	if (prior_lost == ep->lost_out)
		return;
	if (!ep->sack_ok)
		limit_reno_sacked(ep);
	if (ep->cc.ca_state != NS_TCP_CA_LOSS) {
		ep->high_seq = ep->recover = ep->snd_nxt;
		ep->cc.ssthresh = NS_MAX(ep->cc.ssthresh, (ep->cc.cwnd >> 1) + (ep->cc.cwnd >> 2));
		ep->cc.prior_ssthresh = 0;
		ep->undo_on = false;
		ep->frto_on = false;
		set_ca(ep, NS_TCP_CA_LOSS);
	}
	xmit_retransmit_queue(ep);
}

/* Sends retransmissions allowed by cwnd (after a window update or a timer). */
void tcp_xmit_recovery(struct tcp_ep *ep)
{
	if (ep->lost_out > ep->retrans_out)
		xmit_retransmit_queue(ep);
}

/* ---- the state machine (Linux tcp_process_loss / tcp_fastretrans_alert) ---------------- */

static void process_loss(struct tcp_ep *ep, uint32_t num_dupack, struct ack_state *st, int *rexmit)
{
	bool recovered = !ns_seq_lt(ep->snd_una, ep->high_seq);
	if ((st->flag & LF_SND_UNA_ADV) && try_undo_loss(ep, false, st))
		return;
	if (ep->frto_on) {
		/* RFC 5682 3.1 step 3.b: never-retransmitted data was delivered: spurious RTO */
		if ((st->flag & LF_ORIG_SACK_ACKED) && try_undo_loss(ep, true, st))
			return;
		if (ns_seq_gt(ep->snd_nxt, ep->high_seq)) {
			if ((st->flag & LF_DATA_SACKED) || num_dupack)
				ep->frto_on = false;    /* step 3.a: the loss was real */
		} else if ((st->flag & LF_SND_UNA_ADV) && !recovered) {
			ep->high_seq = ep->snd_nxt;
			/* step 2.b: send new data first, if any */
			uint32_t data_end = ep->fin_queued ? ep->fin_seq + (ep->fin_sent ? 1 : 0) : ep->write_seq;
			if (ns_seq_lt(ep->snd_nxt, data_end) && ns_seq_gt(ep->snd_una + ep->snd_wnd, ep->snd_nxt)) {
				*rexmit = REXMIT_NEW;
				return;
			}
			ep->frto_on = false;
		}
	}
	if (recovered) {
		try_undo_recovery(ep, st);
		return;
	}
	if (!ep->sack_ok) {
		if (ns_seq_gt(ep->snd_nxt, ep->high_seq) && num_dupack)
			add_reno_sack(ep, num_dupack, st);
		else if (st->flag & LF_SND_UNA_ADV)
			ep->sacked_out = 0;
	}
	*rexmit = REXMIT_LOST;
}

static bool time_to_recover(struct tcp_ep *ep) { return ep->lost_out > 0; }

static void fastretrans_alert(struct tcp_ep *ep, uint32_t prior_una, uint32_t num_dupack, struct ack_state *st,
			      int *rexmit)
{
	bool advanced = (st->flag & LF_SND_UNA_ADV) != 0;
	if (!ep->txr_n && ep->sacked_out)
		ep->sacked_out = 0;
	/* D: state exits once high_seq is ACKed */
	if (ep->cc.ca_state == NS_TCP_CA_OPEN) {
		ep->undo_ts_valid = false;
	} else if (!ns_seq_lt(ep->snd_una, ep->high_seq)) {
		if (ep->cc.ca_state == NS_TCP_CA_CWR) {
			if (ep->snd_una != ep->high_seq)
				ns_tcp_cc_exit_recovery(&ep->cc, rec_now_us(ep));
		} else if (ep->cc.ca_state == NS_TCP_CA_RECOVERY) {
			if (!ep->sack_ok)
				ep->sacked_out = 0;
			if (try_undo_recovery(ep, st))
				return;
			/* Linux tcp_end_cwnd_reduction: cwnd = ssthresh unless undone */
			if (ep->undo_on && ep->cc.ssthresh < NS_TCP_INFINITE_SSTHRESH)
				ep->cc.cwnd = ep->cc.ssthresh;
		}
	}
	/* E: process the state */
	switch (ep->cc.ca_state) {
	case NS_TCP_CA_RECOVERY:
		if (!advanced) {
			if (!ep->sack_ok)
				add_reno_sack(ep, num_dupack, st);
		} else if (try_undo_partial(ep, prior_una, st)) {
			return;
		}
		if (try_undo_dsack(ep))
			try_keep_open(ep);
		identify_packet_loss(ep, st);
		if (ep->cc.ca_state != NS_TCP_CA_RECOVERY) {
			if (!time_to_recover(ep))
				return;
			enter_recovery(ep);
		}
		break;
	case NS_TCP_CA_LOSS:
		process_loss(ep, num_dupack, st, rexmit);
		identify_packet_loss(ep, st);
		if (!(ep->cc.ca_state == NS_TCP_CA_OPEN || (st->flag & LF_LOST_RETRANS)))
			return;
		/* fall through: cwnd undone, or retransmissions lost */
		/* FALLTHROUGH */
	default:
		if (!ep->sack_ok) {
			if (advanced)
				ep->sacked_out = 0;
			add_reno_sack(ep, num_dupack, st);
		}
		if (ep->cc.ca_state <= NS_TCP_CA_DISORDER)
			try_undo_dsack(ep);
		identify_packet_loss(ep, st);
		if (!time_to_recover(ep)) {
			try_to_open(ep);
			return;
		}
		enter_recovery(ep);
		break;
	}
	*rexmit = REXMIT_LOST;
}

/* Linux tcp_cong_control: PRR during a reduction, else growth when allowed. */
static void cong_control(struct tcp_ep *ep, const struct ack_state *st, int64_t rtt_us, uint32_t prior_in_flight)
{
	struct ns_tcp_cc_ack a = { .acked = st->delivered, .rtt_us = rtt_us, .in_flight = prior_in_flight,
				   .now_us = rec_now_us(ep), .snd_una = ep->snd_una, .snd_nxt = ep->snd_nxt,
				   .srtt_us = ns_tcp_rtt_srtt(&ep->rtt) };
	uint8_t s = ep->cc.ca_state;
	if (s == NS_TCP_CA_RECOVERY || s == NS_TCP_CA_CWR) {
		if (st->acked)
			ns_tcp_cc_on_ack(&ep->cc, &a);         /* RTT / HyStart bookkeeping only */
		ns_tcp_cc_prr_ack(&ep->cc, st->delivered, st->newly_lost, (st->flag & LF_SND_UNA_ADV) != 0,
				  tcp_packets_in_flight(ep));
		return;
	}
	/* Linux tcp_may_raise_cwnd */
	bool raise = ep->reordering > NS_SACK_REORDERING_INIT ? (st->flag & (LF_DATA_ACKED | LF_DATA_SACKED)) != 0
							       : (st->flag & LF_DATA_ACKED) != 0;
	a.sack_only = !raise;
	if (st->delivered || st->acked)
		ns_tcp_cc_on_ack(&ep->cc, &a);
}

/*
 * Everything an acceptable ACK does to the retransmission queue, loss
 * recovery and cwnd (tcp_in.c's tcp_ack calls it after snd_una and the send
 * queue moved; ack < prior_una: an old ACK whose SACK blocks still count).
 * dupack: no data, no window change, snd_una unchanged; rtt_us: this ACK's
 * RTT sample or -1.
 */
void tcp_loss_ack(struct tcp_ep *ep, const struct tcp_seg *seg, uint32_t prior_una, bool dupack, int64_t rtt_us)
{
	struct ack_state st;
	memset(&st, 0, sizeof(st));
	st.reord = ep->snd_nxt;
	st.has_ts = ns_tcp_opts_has(&seg->opt, NS_TCP_OPT_F_TS);
	st.tsecr = seg->opt.tsecr;
	uint32_t ack = seg->ack;
	/* counters as they were before this ACK (snd_una already moved) */
	uint32_t una_now = ep->snd_una;
	ep->snd_una = prior_una;
	st.prior_fack = highest_sack_seq(ep);
	uint32_t prior_in_flight = tcp_packets_in_flight(ep);
	if (ep->sack_ok && ns_tcp_opts_has(&seg->opt, NS_TCP_OPT_F_SACK))
		sacktag(ep, seg, prior_una, &st);
	ep->snd_una = una_now;
	if (ns_seq_lt(ack, prior_una)) {
		/* old ACK: only its SACK information */
		if (st.flag & (LF_DATA_SACKED | LF_DSACKING)) {
			int rexmit = REXMIT_NONE;
			fastretrans_alert(ep, prior_una, 0, &st, &rexmit);
			xmit_recovery(ep, rexmit);
		}
		return;
	}
	if (ns_seq_gt(ack, prior_una)) {
		st.flag |= LF_SND_UNA_ADV;
		clean_rtx_queue(ep, ack, &st);
	}
	if (ep->state != TCP_ESTABLISHED && ep->state != TCP_CLOSE_WAIT && ep->state != TCP_FIN_WAIT1 &&
	    ep->state != TCP_CLOSING && ep->state != TCP_LAST_ACK)
		return;
	if (ep->sack_ok)
		ns_rack_update_reo_wnd(&ep->rack, st.dsack_rack, ep->snd_una, ep->snd_nxt, false);
	/* TLP episode (RFC 8985 7.4, Linux tcp_process_tlp_ack) */
	if (ep->rack.tlp_in_flight) {
		bool pure_dup = !(st.flag & (LF_SND_UNA_ADV | LF_DATA_SACKED)) && dupack;
		if (ns_rack_tlp_on_ack(&ep->rack, ack, (st.flag & LF_DSACK_TLP) != 0, pure_dup)) {
			NS_STAT_INC(ep->stk, TcpExtTCPLossProbeRecovery);
			ns_tcp_cc_cwr_once(&ep->cc, rec_now_us(ep));
			try_keep_open(ep);
		}
	}
	/* Linux tcp_ack_is_dubious: a duplicate, new SACK / D-SACK information, or not Open */
	uint32_t num_dupack = dupack && !(st.flag & LF_DSACKING) ? 1 : 0;
	bool dubious = dupack || (st.flag & (LF_DATA_SACKED | LF_DSACKING)) || ep->cc.ca_state != NS_TCP_CA_OPEN;
	int rexmit = REXMIT_NONE;
	if (dubious)
		fastretrans_alert(ep, prior_una, num_dupack, &st, &rexmit);
	cong_control(ep, &st, rtt_us, prior_in_flight);
	xmit_recovery(ep, rexmit);
}

/* The RACK reordering timer fired (Linux tcp_rack_reo_timeout). */
void tcp_rack_timeout(struct tcp_ep *ep)
{
	struct ack_state st;
	memset(&st, 0, sizeof(st));
	uint32_t prior = tcp_packets_in_flight(ep);
	rack_detect_loss(ep, &st, false);
	if (prior != tcp_packets_in_flight(ep)) {
		if (ep->cc.ca_state != NS_TCP_CA_RECOVERY) {
			enter_recovery(ep);
			ns_tcp_cc_prr_ack(&ep->cc, 1, st.newly_lost, false, tcp_packets_in_flight(ep));
		}
		xmit_retransmit_queue(ep);
	}
	if (!ep->t_rtx)
		tcp_rearm_rto(ep);
}

/* The TLP timer fired (RFC 8985 7.3, Linux tcp_send_loss_probe). */
void tcp_tlp_fire(struct tcp_ep *ep)
{
	if (ep->snd_una == ep->snd_nxt || !ep->txr_n)
		return;
	if (!ns_rack_tlp_may_send(&ep->rack)) {
		ep->t_rtx = ns__now(ep->stk) + tcp_rto_ns(ep);
		ep->rtx_kind = TCP_RTX_RTO;
		return;
	}
	uint32_t mss = mss_of(ep);
	uint32_t data_end = ep->fin_queued ? ep->fin_seq : ep->write_seq;
	uint32_t wnd_end = ep->snd_una + ep->snd_wnd;
	bool new_ok = ns_seq_lt(ep->snd_nxt, data_end) && ns_seq_leq(ep->snd_nxt + NS_MIN(mss, data_end - ep->snd_nxt), wnd_end);
	NS_STAT_INC(ep->stk, TcpExtTCPLossProbes);
	uint32_t before = ep->snd_nxt;
	if (ns_rack_tlp_use_new_data(new_ok)) {
		uint32_t c = ep->cc.cwnd;
		ep->cc.cwnd = tcp_packets_in_flight(ep) + 1;
		tcp_push(ep, true);
		ep->cc.cwnd = c;
	}
	if (ep->snd_nxt != before) {
		ns_rack_tlp_sent(&ep->rack, ep->snd_nxt, false);
	} else {
		/* retransmit the highest-sequence MSS (Linux fragments the tail skb to it) */
		tcp_retransmit_recs(ep, ep->txr_n - 1, 1, true);
		ns_rack_tlp_sent(&ep->rack, ep->snd_nxt, true);
	}
	/* the RTO backs the probe up */
	ep->t_rtx = ns__now(ep->stk) + tcp_rto_ns(ep);
	ep->rtx_kind = TCP_RTX_RTO;
}
