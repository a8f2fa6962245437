/*
 * tcp/tcp_loss.c - loss detection and recovery glue between the connection
 * and the tcpmod algorithm modules.
 *
 * Owns: the congestion state machine as Linux runs it (Open, Disorder,
 * Recovery, Loss), fast retransmit on three duplicate ACKs or SACK/RACK
 * evidence, SACK-based recovery (RFC 6675 NextSeg through tcp_sack) with PRR
 * (through tcp_cc), NewReno partial ACKs (RFC 6582) for peers without SACK,
 * limited transmit (RFC 3042), RTO recovery (go-back through the
 * outstanding data, skipping SACKed ranges), the RACK reordering timer and
 * TLP (RFC 8985 through tcp_rack), and connection start-up of these modules.
 */
#include "tcp_internal.h"

uint32_t tcp_packets_in_flight(struct tcp_ep *ep);
int tcp_txr_find(struct tcp_ep *ep, uint32_t seq);
struct tcp_txrec *tcp_txr_get(struct tcp_ep *ep, uint32_t i);
void tcp_sndbuf_expand(struct tcp_ep *ep);
int tcp_write_wakeup(struct tcp_ep *ep);
void tcp_xmit_recovery(struct tcp_ep *ep);

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

/* ---- RACK ------------------------------------------------------------------------ */

struct rack_iter {
	struct tcp_ep *ep;
	uint32_t i;
	uint32_t lost;
};

static bool rack_next(void *ctx, struct ns_rack_seg *s)
{
	struct rack_iter *it = ctx;
	struct tcp_ep *ep = it->ep;
	while (it->i < ep->txr_n) {
		struct tcp_txrec *r = tcp_txr_get(ep, it->i++);
		if (ns_seq_lt(r->seq, ep->snd_una))
			continue;
		s->seq = r->seq;
		s->end = r->end;
		s->xmit_us = r->xmit_us;
		s->flags = r->flags;
		s->cookie = r;
		return true;
	}
	return false;
}

static void rack_lost(void *ctx, const struct ns_rack_seg *s)
{
	struct rack_iter *it = ctx;
	struct tcp_txrec *r = s->cookie;
	r->flags |= NS_RACK_SEG_LOST;
	it->lost++;
}

/* Runs RACK over the outstanding segments; returns newly lost segments, arms the reorder timer. */
static uint32_t rack_detect(struct tcp_ep *ep)
{
	if (!ep->sack_ok || !ep->rack.advanced)
		return 0;
	bool in_rec = ep->cc.ca_state >= NS_TCP_CA_RECOVERY;
	uint32_t sacked_segs = ep->sb.sacked_bytes / mss_of(ep);
	uint32_t reo = ns_rack_reo_wnd(&ep->rack, ns_tcp_rtt_min(&ep->rtt), ns_tcp_rtt_srtt(&ep->rtt), in_rec,
				       sacked_segs);
	struct rack_iter it = { ep, 0, 0 };
	uint32_t timeout = 0;
	ns_rack_detect_loss(&ep->rack, reo, now_us(ep), rack_next, rack_lost, &it, &timeout);
	if (timeout && !it.lost) {
		ep->t_rtx = ns__now(ep->stk) + (uint64_t)timeout * NS_NSEC_PER_USEC;
		ep->rtx_kind = TCP_RTX_REO;
		tcp_timer_update(ep);
	}
	ep->lost_out += it.lost;
	return it.lost;
}

/* ---- entering and leaving recovery ------------------------------------------------ */

static void enter_recovery(struct tcp_ep *ep)
{
	ep->recover = ep->snd_nxt;
	ns_tcp_cc_enter_recovery(&ep->cc, tcp_packets_in_flight(ep), now_us(ep));
	ep->cc.ca_state = NS_TCP_CA_RECOVERY;
	if (ep->sack_ok) {
		ns_sack_sb_enter_recovery(&ep->sb);
		NS_STAT_INC(ep->stk, TcpExtTCPSackRecovery);
	} else {
		NS_STAT_INC(ep->stk, TcpExtTCPRenoRecovery);
	}
	ep->high_rxt = ep->snd_una;
	/* fast retransmit of the first hole */
	if (tcp_retransmit_seq(ep, ep->snd_una, 0) > 0)
		NS_STAT_INC(ep->stk, TcpExtTCPFastRetrans);
	ep->high_rxt = ep->snd_una + mss_of(ep);
}

static void exit_recovery(struct tcp_ep *ep)
{
	if (ep->cc.ca_state == NS_TCP_CA_LOSS)
		ns_tcp_cc_exit_loss(&ep->cc, now_us(ep));
	else
		ns_tcp_cc_exit_recovery(&ep->cc, now_us(ep));
	ep->cc.ca_state = NS_TCP_CA_OPEN;
	if (ep->sack_ok)
		ns_sack_sb_exit_recovery(&ep->sb);
	ep->dupacks = 0;
	ep->lost_out = 0;
	ep->retrans_out = 0;
	ns_rack_update_reo_wnd(&ep->rack, false, ep->snd_una, ep->snd_nxt, true);
}

/* RTO (Linux tcp_enter_loss). */
void tcp_enter_loss(struct tcp_ep *ep)
{
	bool reduce = ns_tcp_cc_rto_should_reduce(&ep->cc, ep->snd_una, ep->recover, ep->retransmits);
	ns_tcp_cc_on_rto(&ep->cc, 1, reduce, now_us(ep));
	ep->cc.ca_state = NS_TCP_CA_LOSS;
	ep->recover = ep->snd_nxt;
	ep->high_rxt = ep->snd_una;
	ep->dupacks = 0;
	if (ep->sack_ok) {
		ns_sack_sb_exit_recovery(&ep->sb);
		/* RFC 6675 5.1: a receiver may have reneged; Linux keeps SACK marks unless it did */
	}
	ep->lost_out = (ep->snd_nxt - ep->snd_una + mss_of(ep) - 1) / mss_of(ep);
}

/* In-flight estimate during Loss: what was retransmitted plus new data sent since. */
static uint32_t loss_in_flight(struct tcp_ep *ep)
{
	uint32_t mss = mss_of(ep);
	uint32_t b = ns_seq_diff(ep->snd_una, ep->high_rxt);
	b += ns_seq_diff(ep->recover, ep->snd_nxt);
	uint32_t s = ep->sack_ok ? ns_sack_sb_sacked_in(&ep->sb, ep->snd_una, ep->high_rxt) : 0;
	b = b > s ? b - s : 0;
	return (b + mss - 1) / mss;
}

/* Sends retransmissions allowed by cwnd in Recovery or Loss. */
void tcp_xmit_recovery(struct tcp_ep *ep)
{
	uint32_t mss = mss_of(ep);
	int budget = 64;   /* bound the work of one event */
	if (ep->cc.ca_state == NS_TCP_CA_LOSS) {
		while (budget-- > 0 && ns_seq_lt(ep->high_rxt, ep->recover) && loss_in_flight(ep) < ep->cc.cwnd) {
			uint32_t seq = ns_seq_max(ep->high_rxt, ep->snd_una);
			if (ep->sack_ok) {
				/* skip SACKed bytes */
				uint32_t end = ns_seq_min(seq + mss, ep->recover);
				if (ns_sack_sb_is_sacked(&ep->sb, seq, end)) {
					ep->high_rxt = end;
					continue;
				}
			}
			int n = tcp_retransmit_seq(ep, seq, ns_seq_min(seq + mss, ep->recover) - seq);
			if (n <= 0) {
				if (n == 0)
					ep->high_rxt = ep->recover;
				break;
			}
			ep->high_rxt = seq + (uint32_t)n;
		}
		if (ns_seq_geq(ep->high_rxt, ep->recover))
			tcp_push(ep, false);
		return;
	}
	if (ep->cc.ca_state != NS_TCP_CA_RECOVERY)
		return;
	if (!ep->sack_ok) {
		tcp_push(ep, false);
		return;
	}
	/* segments RACK found lost first, retransmissions included (RFC 8985 6.3:
	 * a lost retransmission is repaired without waiting for the RTO) */
	for (uint32_t i = 0; i < ep->txr_n && budget > 0; i++) {
		struct tcp_txrec *r = tcp_txr_get(ep, i);
		if (!(r->flags & NS_RACK_SEG_LOST))
			continue;
		uint32_t seq = ns_seq_max(r->seq, ep->snd_una);
		bool done = true;
		while (ns_seq_lt(seq, r->end)) {
			uint32_t end = ns_seq_min(seq + mss, r->end);
			if (ns_sack_sb_is_sacked(&ep->sb, seq, end)) {
				seq = end;
				continue;
			}
			if (budget-- <= 0 || tcp_packets_in_flight(ep) >= ep->cc.cwnd) {
				done = false;
				break;
			}
			int n = tcp_retransmit_seq(ep, seq, end - seq);
			if (n <= 0) {
				done = n == 0;
				break;
			}
			seq += (uint32_t)n;
		}
		if (!done)
			break;
		r = tcp_txr_get(ep, i);   /* the ring may not move here, but be safe */
		r->flags &= (uint8_t)~NS_RACK_SEG_LOST;
		if (ep->lost_out)
			ep->lost_out--;
	}
	while (budget-- > 0 && tcp_packets_in_flight(ep) < ep->cc.cwnd) {
		uint32_t data_end = ep->fin_queued ? ep->fin_seq : ep->write_seq;
		uint32_t wnd_end = ep->snd_una + ep->snd_wnd;
		bool new_ok = ns_seq_lt(ep->snd_nxt, data_end) && ns_seq_lt(ep->snd_nxt, wnd_end);
		uint32_t s, e;
		enum ns_sack_next_kind k = ns_sack_sb_next_seg(&ep->sb, new_ok, &s, &e);
		if (k == NS_SACK_NEXT_NONE)
			break;
		if (k == NS_SACK_NEXT_NEW) {
			uint32_t before = ep->snd_nxt;
			tcp_push(ep, true);
			if (ep->snd_nxt == before)
				break;
			continue;
		}
		int n = tcp_retransmit_seq(ep, s, e - s);
		if (n <= 0) {
			if (n == 0)
				ns_sack_sb_retransmitted(&ep->sb, s, e);
			break;
		}
	}
}

/* Per-ACK loss detection and recovery (called from tcp_ack). */
void tcp_recovery_ack(struct tcp_ep *ep, uint32_t prior_una, bool dupack, const struct ns_sack_update *u,
		      uint32_t newly_acked_segs)
{
	if (ep->state != TCP_ESTABLISHED && ep->state != TCP_CLOSE_WAIT && ep->state != TCP_FIN_WAIT1 &&
	    ep->state != TCP_CLOSING && ep->state != TCP_LAST_ACK)
		return;
	bool advanced = ns_seq_gt(ep->snd_una, prior_una);
	uint32_t mss = mss_of(ep);
	if (ep->sack_ok)
		ns_rack_update_reo_wnd(&ep->rack, u->dsack, ep->snd_una, ep->snd_nxt, false);
	/* TLP episode bookkeeping (RFC 8985 7.4) */
	if (ep->rack.tlp_in_flight) {
		bool dsack_probe = u->dsack && ns_seq_geq(u->dsack_block.end, ep->rack.tlp_high_seq - mss);
		if (ns_rack_tlp_on_ack(&ep->rack, ep->snd_una, dsack_probe, dupack)) {
			NS_STAT_INC(ep->stk, TcpExtTCPLossProbeRecovery);
			ns_tcp_cc_enter_recovery(&ep->cc, tcp_packets_in_flight(ep), now_us(ep));
			ns_tcp_cc_exit_recovery(&ep->cc, now_us(ep));
		}
	}
	uint32_t newly_lost = rack_detect(ep);
	switch (ep->cc.ca_state) {
	case NS_TCP_CA_OPEN:
	case NS_TCP_CA_DISORDER: {
		bool enter;
		if (ep->sack_ok)
			enter = newly_lost > 0 || ep->dupacks >= ep->reordering ||
				(ep->sb.sacked_bytes && ns_sack_sb_is_lost(&ep->sb, ep->snd_una));
		else
			enter = ep->dupacks >= 3 && ns_seq_gt(ep->snd_una, ep->recover - 1) &&
				!(ep->snd_una == ep->recover && ep->recover != ep->snd_nxt && 0);
		if (enter) {
			enter_recovery(ep);
			break;
		}
		if (ep->dupacks || ep->sb.sacked_bytes) {
			ep->cc.ca_state = NS_TCP_CA_DISORDER;
			/* RFC 3042 limited transmit: one new segment per early duplicate ACK */
			if (dupack && ep->dupacks <= 2) {
				uint32_t c = ep->cc.cwnd;
				ep->cc.cwnd = tcp_packets_in_flight(ep) + 1;
				tcp_push(ep, true);
				ep->cc.cwnd = c;
			}
		} else {
			ep->cc.ca_state = NS_TCP_CA_OPEN;
		}
		break;
	}
	case NS_TCP_CA_RECOVERY:
		if (ns_seq_geq(ep->snd_una, ep->recover)) {
			exit_recovery(ep);
			break;
		}
		{
			/* delivered once per ACK (Linux newly_acked_sacked): SACKed bytes
			 * that are now cumulatively ACKed do not count twice; a Reno dupack
			 * stands for one segment that left the network */
			uint32_t delivered = ep->sack_ok ? (u->delivered + mss - 1) / mss
							 : newly_acked_segs + (dupack ? 1 : 0);
			ns_tcp_cc_prr_ack(&ep->cc, delivered, newly_lost, advanced, tcp_packets_in_flight(ep));
		}
		if (!ep->sack_ok && advanced) {
			/* RFC 6582 partial ACK: retransmit the next hole */
			tcp_retransmit_seq(ep, ep->snd_una, 0);
		}
		tcp_xmit_recovery(ep);
		break;
	case NS_TCP_CA_LOSS:
		if (ns_seq_geq(ep->snd_una, ep->recover)) {
			exit_recovery(ep);
			break;
		}
		if (advanced) {
			struct ns_tcp_cc_ack a = { .acked = newly_acked_segs, .rtt_us = -1,
						   .in_flight = loss_in_flight(ep) + newly_acked_segs, .now_us = now_us(ep),
						   .snd_una = ep->snd_una, .snd_nxt = ep->snd_nxt,
						   .srtt_us = ns_tcp_rtt_srtt(&ep->rtt) };
			ep->cc.ca_state = NS_TCP_CA_OPEN;
			ns_tcp_cc_on_ack(&ep->cc, &a);
			ep->cc.ca_state = NS_TCP_CA_LOSS;
			if (ns_seq_lt(ep->high_rxt, ep->snd_una))
				ep->high_rxt = ep->snd_una;
		}
		tcp_xmit_recovery(ep);
		break;
	default:
		break;
	}
}

/* The RACK reordering timer fired (RFC 8985 6.3). */
void tcp_rack_timeout(struct tcp_ep *ep)
{
	ep->rack.advanced = true;
	uint32_t lost = rack_detect(ep);
	if (lost && ep->cc.ca_state < NS_TCP_CA_RECOVERY)
		enter_recovery(ep);
	else if (lost)
		tcp_xmit_recovery(ep);
	if (!ep->t_rtx)
		tcp_rearm_rto(ep);
}

/* The TLP timer fired (RFC 8985 7.3). */
void tcp_tlp_fire(struct tcp_ep *ep)
{
	if (ep->snd_una == ep->snd_nxt)
		return;
	uint32_t mss = mss_of(ep);
	uint32_t data_end = ep->fin_queued ? ep->fin_seq : ep->write_seq;
	uint32_t wnd_end = ep->snd_una + ep->snd_wnd;
	bool new_ok = ns_seq_lt(ep->snd_nxt, data_end) && ns_seq_leq(ep->snd_nxt + NS_MIN(mss, data_end - ep->snd_nxt), wnd_end);
	NS_STAT_INC(ep->stk, TcpExtTCPLossProbes);
	if (ns_rack_tlp_use_new_data(new_ok)) {
		uint32_t c = ep->cc.cwnd;
		ep->cc.cwnd = tcp_packets_in_flight(ep) + 1;
		tcp_push(ep, true);
		ep->cc.cwnd = c;
		ns_rack_tlp_sent(&ep->rack, ep->snd_nxt, false);
	} else {
		/* retransmit the last segment */
		/* the last MSS-sized piece of the last segment (Linux tcp_send_loss_probe
		 * fragments a multi-segment skb to its tail) */
		uint32_t start = ep->snd_una;
		if (ep->txr_n) {
			struct tcp_txrec *r = tcp_txr_get(ep, ep->txr_n - 1);
			if (ns_seq_gt(r->seq, start))
				start = r->seq;
		}
		uint32_t len = ns_seq_diff(start, ep->fin_sent ? ep->fin_seq : ep->snd_nxt);
		uint32_t last = len ? start + ((len - 1) / mss) * mss : start;
		tcp_retransmit_seq(ep, last, 0);
		ns_rack_tlp_sent(&ep->rack, ep->snd_nxt, true);
	}
	/* the RTO backs the probe up */
	ep->t_rtx = ns__now(ep->stk) + tcp_rto_ns(ep);
	ep->rtx_kind = TCP_RTX_RTO;
}
