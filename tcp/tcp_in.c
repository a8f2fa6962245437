/*
 * tcp/tcp_in.c - TCP segment input.
 *
 * Owns: header validation and checksum, demultiplexing to an endpoint
 * (established table, then listeners, else a RST), and the state machine of
 * RFC 9293 3.10.7 step by step with Linux's choices: SYN-SENT handling
 * (simultaneous open), listener SYN handling (SYN queue, accept queue
 * overflow, SYN cookies), PAWS (RFC 7323), sequence acceptability, RST and
 * SYN validation with challenge ACKs (RFC 5961), ACK processing (RTT,
 * congestion control, SACK/RACK loss detection and recovery), window
 * updates, urgent data, in-order and out-of-order data, FIN processing,
 * TIME_WAIT (RFC 6191 reuse), delayed/quick ACK decisions, ICMP errors
 * (RFC 5927, RFC 1191).
 */
#include <stdlib.h>
#include "tcp_internal.h"
#include "tcp_timewait.h"

void tcp_sndbuf_expand(struct tcp_ep *ep);
void tcp_select_initial_window(struct tcp_ep *ep);
uint32_t tcp_packets_in_flight(struct tcp_ep *ep);
int tcp_txr_find(struct tcp_ep *ep, uint32_t seq);
struct tcp_txrec *tcp_txr_get(struct tcp_ep *ep, uint32_t i);

void tcp_init_transfer(struct tcp_ep *ep);
void tcp_post_unlock(struct tcp_ep *ep);

static uint64_t now_us(struct tcp_ep *ep) { return ns__now(ep->stk) / NS_NSEC_PER_USEC; }

/* ---- header parsing --------------------------------------------------------------- */

static bool parse_segment(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m,
			  struct tcp_seg *seg)
{
	uint32_t len = ns_pkt_len(pkt);
	const uint8_t *h = ns_pkt_data(pkt);
	if (len < TCP_HLEN)
		return false;
	uint32_t doff = (uint32_t)(h[12] >> 4) * 4;
	if (doff < TCP_HLEN || doff > len)
		return false;
	if (pkt->csum != NS_CSUM_UNNECESSARY) {
		uint32_t sum = ns_csum_pseudo(&m->src, &m->dst, NS_IPPROTO_TCP, len);
		if (ns_csum_fold(ns_csum_partial(h, len, sum)) != 0) {
			NS_STAT_INC(stk, TcpInCsumErrors);
			return false;
		}
	}
	memset(seg, 0, sizeof(*seg));
	seg->sport = ns_load_be16(h);
	seg->dport = ns_load_be16(h + 2);
	seg->seq = ns_load_be32(h + 4);
	seg->ack = ns_load_be32(h + 8);
	seg->flags = h[13];
	seg->wnd = ns_load_be16(h + 14);
	seg->up = ns_load_be16(h + 18);
	if (doff > TCP_HLEN)
		ns_tcp_opts_parse(h + TCP_HLEN, doff - TCP_HLEN, (seg->flags & TCPF_SYN) != 0, &seg->opt);
	ns_pkt_pull(pkt, doff);
	seg->len = ns_pkt_len(pkt);
	seg->end_seq = seg->seq + seg->len + ((seg->flags & TCPF_SYN) ? 1 : 0) + ((seg->flags & TCPF_FIN) ? 1 : 0);
	seg->pkt = pkt;
	seg->m = m;
	return true;
}

static bool seg_has_ts(const struct tcp_seg *seg) { return ns_tcp_opts_has(&seg->opt, NS_TCP_OPT_F_TS); }

/* ---- demultiplexing -------------------------------------------------------------------- */

void ns__tcp_rcv(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m)
{
	struct ns_tcp *tcp = stk->tcp;
	struct tcp_seg seg;
	if (m->pkt_type != NS_PKT_HOST || !tcp) {
		ns_pkt_unref(pkt);
		return;
	}
	pkt->tstamp = ns__now(stk);     /* arrival, for receive timestamps (tcp_zc.c) */
	if (!parse_segment(stk, pkt, m, &seg)) {
		NS_STAT_INC(stk, TcpInErrs);
		ns_pkt_unref(pkt);
		return;
	}
	NS_STAT_INC(stk, TcpInSegs);
	for (int round = 0; round < 2; round++) {
		struct tcp_ep *ep = tcp_lookup_established(tcp, &m->dst, seg.dport, &m->src, seg.sport);
		if (ep) {
			struct ns_sock *sk = ep->sk;
			pthread_mutex_lock(&sk->mu);
			if (ep->state == TCP_TIME_WAIT && (seg.flags & TCPF_SYN) && !(seg.flags & (TCPF_ACK | TCPF_RST))) {
				/* RFC 6191 / Linux tcp_timewait_state_process: a new SYN may reuse the tuple */
				bool newer = ns_seq_gt(seg.seq, ep->rcv_nxt);
				if (ep->ts_ok && seg_has_ts(&seg))
					newer = (int32_t)(seg.opt.tsval - ep->ts_recent) > 0;
				if (newer) {
					NS_STAT_INC(stk, TcpExtTWRecycled);
					tcp_done(ep);
					pthread_mutex_unlock(&sk->mu);
					ns__sock_put(sk);
					continue;   /* to the listener */
				}
			}
			if (ep->state == TCP_CLOSE || ep->state == TCP_LISTEN) {
				pthread_mutex_unlock(&sk->mu);
				ns__sock_put(sk);
				break;
			}
			tcp_rcv_state(ep, &seg);
			bool post = ep->notify_parent;
			pthread_mutex_unlock(&sk->mu);
			if (post)
				tcp_post_unlock(ep);
			ns__sock_put(sk);
			return;
		}
		break;
	}
	/* a TIME_WAIT record answers, or lets a new SYN through to the listener */
	if (tcp_tw_rcv(tcp, &seg) == TCP_TW_DONE)
		return;
	struct tcp_ep *lep = tcp_lookup_listener(tcp, &m->dst, seg.dport, &m->src, seg.sport,
						 m->nic ? m->nic->id : 0);
	if (lep) {
		struct ns_sock *sk = lep->sk;
		pthread_mutex_lock(&sk->mu);
		if (lep->state == TCP_LISTEN) {
			tcp_listen_rcv(lep, &seg);
			pthread_mutex_unlock(&sk->mu);
			ns__sock_put(sk);
			return;
		}
		pthread_mutex_unlock(&sk->mu);
		ns__sock_put(sk);
	}
	/* RFC 9293 3.10.7.1: CLOSED */
	tcp_send_reset_reply(stk, &seg);
	ns_pkt_unref(seg.pkt);
}

/* ---- listener -------------------------------------------------------------------------------- */

static void child_from_syn(struct tcp_ep *c, const struct tcp_seg *seg)
{
	const struct ns_tcp_opts *o = &seg->opt;
	c->laddr = seg->m->dst;
	c->raddr = seg->m->src;
	c->lport = seg->dport;
	c->rport = seg->sport;
	c->irs = seg->seq;
	/* offloads of the NIC the SYN came in on: TSO for accepted connections too */
	c->nic_caps = seg->m->nic && seg->m->nic->link ? seg->m->nic->link->caps : 0;
	c->rcv_nxt = seg->seq + 1;
	c->rcv_wup = c->rcv_nxt;
	c->copied_seq = c->rcv_nxt;
	c->mss_clamp = ns_tcp_opts_has(o, NS_TCP_OPT_F_MSS) ? o->mss : TCP_MSS_DEFAULT;
	c->ws_ok = ns_tcp_opts_has(o, NS_TCP_OPT_F_WSCALE);
	c->snd_wscale = c->ws_ok ? o->wscale : 0;
	c->sack_ok = ns_tcp_opts_has(o, NS_TCP_OPT_F_SACK_PERM);
	c->ts_ok = ns_tcp_opts_has(o, NS_TCP_OPT_F_TS);
	if (c->ts_ok) {
		c->ts_recent = o->tsval;
		c->ts_recent_stamp_ns = ns__now(c->stk);
	}
	c->snd_wnd = seg->wnd;   /* never scaled in a SYN */
	c->snd_wl1 = seg->seq;
	c->max_window = c->snd_wnd;
}

/* RFC 9293 3.10.7.2 LISTEN, with Linux's queues and SYN cookies. */
void tcp_listen_rcv(struct tcp_ep *lep, struct tcp_seg *seg)
{
	struct ns_stack *stk = lep->stk;
	struct tcp_listen *L = lep->lst;
	if (seg->flags & TCPF_RST)
		goto drop;
	if (seg->flags & TCPF_ACK) {
		if (!(seg->flags & TCPF_SYN) && L) {
			/* the ACK of a cookie SYN-ACK? */
			struct ns_syncookie_tuple t = { .laddr = seg->m->dst, .raddr = seg->m->src,
							.lport = seg->dport, .rport = seg->sport };
			struct ns_syncookie_opts co;
			if (!(seg->flags & TCPF_FIN) &&
			    ns_syncookie_check(&lep->tcp->sec, &t, seg->seq, seg->ack, ns__now(stk),
					       seg_has_ts(seg), seg->opt.tsecr, &co) == 0) {
				tcp_cookie_child(lep, seg, &co);
				return;
			}
			if (!(seg->flags & TCPF_FIN))
				NS_STAT_INC(stk, TcpExtSyncookiesFailed);
		}
		tcp_send_reset_reply(stk, seg);
		goto drop;
	}
	if (!(seg->flags & TCPF_SYN) || !L)
		goto drop;
	/* Linux tcp_conn_request() */
	if (L->acc_qlen > L->backlog) {
		NS_STAT_INC(stk, TcpExtListenOverflows);
		NS_STAT_INC(stk, TcpExtListenDrops);
		goto drop;
	}
	if (L->syn_qlen >= L->backlog || L->syn_qlen >= TCP_SOMAXCONN) {
		tcp_send_cookie_synack(lep, seg);
		goto drop;
	}
	struct ns_sock *csk = tcp_create_child(lep);
	if (!csk) {
		NS_STAT_INC(stk, TcpExtListenDrops);
		goto drop;
	}
	struct tcp_ep *c = tcp_ep_of(csk);
	pthread_mutex_lock(&csk->mu);
	child_from_syn(c, seg);
	c->tw_isn = seg->tw_isn;
	c->iss = tcp_new_isn(c->tcp, c);
	if (c->ts_ok)
		c->ts_offset = ns_tcp_ts_offset(&c->tcp->sec, &c->laddr, &c->raddr);
	c->snd_una = c->snd_nxt = c->iss;
	c->write_seq = c->iss + 1;
	c->snd_sml = c->iss;
	uint32_t pmtu = ns__ip_path_mtu(stk, &c->raddr, csk->bound_nic);
	tcp_advmss_for(c, pmtu);
	tcp_sync_mss(c, pmtu);
	tcp_select_initial_window(c);
	if (!c->ws_ok)
		c->rcv_wscale = 0;
	tcp_set_state(c, TCP_SYN_RECV);
	if (tcp_ehash_insert(c) < 0) {
		/* a connection with this tuple exists already (a race): drop the SYN */
		tcp_set_state(c, TCP_CLOSE);
		pthread_mutex_unlock(&csk->mu);
		tcp_child_abort_unqueued(c);
		goto drop;
	}
	tcp_inherit_port(c);
	L->syn_qlen++;
	c->in_synq = true;
	tcp_send_synack(c);
	c->snd_nxt = c->iss + 1;
	c->lsndtime = ns__now(stk);
	c->synack_stamp = now_us(c);
	tcp_rearm_rto(c);
	pthread_mutex_unlock(&csk->mu);
drop:
	ns_pkt_unref(seg->pkt);
}

/* ---- helpers for the synchronized states ----------------------------------------------------- */

static uint32_t receive_window(const struct tcp_ep *ep)
{
	int32_t w = (int32_t)(ep->rcv_wup + ep->rcv_wnd - ep->rcv_nxt);
	return w < 0 ? 0 : (uint32_t)w;
}

/* Enters quick-ACK mode (Linux tcp_enter_quickack_mode). */
static void enter_quickack(struct tcp_ep *ep, uint32_t max)
{
	uint32_t mss = ep->rcv_mss ? ep->rcv_mss : ep->advmss;
	uint32_t q = ep->rcv_wnd / (2 * (mss ? mss : 536));
	if (q > max)
		q = max;
	if (q < 2)
		q = 2;
	if (ep->quickack < q)
		ep->quickack = (uint8_t)q;
	ep->pingpong = false;
	ep->ato_ns = TCP_ATO_MIN_NS;
}

static void ack_now(struct tcp_ep *ep) { ep->ack_now = true; }

/* RFC 7323 5.3 PAWS: true when the segment must be dropped. */
static bool paws_reject(struct tcp_ep *ep, const struct tcp_seg *seg)
{
	if (!ep->ts_ok || !seg_has_ts(seg))
		return false;
	if ((int32_t)(seg->opt.tsval - ep->ts_recent) >= 0)
		return false;
	/* ts_recent older than 24 days is invalid (RFC 7323 5.5) */
	if (ns__now(ep->stk) - ep->ts_recent_stamp_ns > (uint64_t)TCP_PAWS_24DAYS * NS_NSEC_PER_SEC)
		return false;
	/* Linux: a RST is not subject to PAWS (tcp_paws_discard ignores it via tcp_disordered_ack) */
	if (seg->flags & TCPF_RST)
		return false;
	return true;
}

/* RFC 7323 4.3: record TSval when the segment covers Last.ACK.sent (rcv_wup). */
static void store_ts_recent(struct tcp_ep *ep, const struct tcp_seg *seg)
{
	if (!ep->ts_ok || !seg_has_ts(seg))
		return;
	if (ns_seq_leq(seg->seq, ep->rcv_wup) && (int32_t)(seg->opt.tsval - ep->ts_recent) >= 0) {
		ep->ts_recent = seg->opt.tsval;
		ep->ts_recent_stamp_ns = ns__now(ep->stk);
	}
}

static void wake(struct tcp_ep *ep) { ns__sock_wake_locked(ep->sk); }

/* ---- receive queue ---------------------------------------------------------------------------------- */

static void rcvq_add(struct tcp_ep *ep, struct ns_pkt *pkt)
{
	uint32_t len = ns_pkt_len(pkt);
	struct ns_pkt *t = ep->rcvq_tail;
	/* coalesce small segments into the tail: bounded memory for tiny segments */
	if (t && len <= ns_pkt_tailroom(t) && atomic_load(&t->refs) == 1 && len < 1024) {
		memcpy(ns_pkt_put(t, len), ns_pkt_data(pkt), len);
		ep->rcvq_bytes += len;
		NS_STAT_INC(ep->stk, TcpExtTCPRcvCoalesce);
		ns_pkt_unref(pkt);
		return;
	}
	pkt->next = NULL;
	if (t)
		t->next = pkt;
	else
		ep->rcvq_head = pkt;
	ep->rcvq_tail = pkt;
	ep->rcvq_bytes += len;
	ep->sk->rmem += pkt->truesize;
}

/* Linux tcp_try_rmem_schedule(): room for truesize more bytes? Prunes the ofo queue if not. */
static bool rmem_schedule(struct tcp_ep *ep, uint32_t truesize)
{
	uint64_t limit = (uint64_t)ep->sk->rcvbuf;
	uint64_t used = ep->sk->rmem + ep->ofo.truesize;
	if (used + truesize <= limit)
		return true;
	if (!ns_ofo_empty(&ep->ofo)) {
		uint64_t target = ep->sk->rmem + truesize >= limit ? 0 : limit - ep->sk->rmem - truesize;
		ns_ofo_prune(&ep->ofo, target);
		NS_STAT_INC(ep->stk, TcpExtTCPRcvCollapsed);
	}
	used = ep->sk->rmem + ep->ofo.truesize;
	return used + truesize <= limit;
}

static void tcp_fin(struct tcp_ep *ep);

/* Moves segments the ofo queue can now deliver (rcv_nxt advanced). */
static void ofo_drain(struct tcp_ep *ep)
{
	struct ns_pkt *p;
	bool fin = false;
	while (!fin && (p = ns_ofo_pop(&ep->ofo, ep->rcv_nxt)) != NULL) {
		uint32_t len = ns_pkt_len(p);
		fin = (p->flags & NS_OFO_PKT_FIN) != 0;
		ep->rcv_nxt += len;
		ep->bytes_received += len;
		if (len)
			rcvq_add(ep, p);
		else
			ns_pkt_unref(p);
		if (fin)
			ep->rcv_nxt++;
	}
	ns_ofo_advance(&ep->ofo, ep->rcv_nxt);
	if (fin)
		tcp_fin(ep);
}

/* Linux tcp_measure_rcv_mss(): how big the peer's segments are. */
static void measure_rcv_mss(struct tcp_ep *ep, uint32_t len)
{
	if (len > ep->rcv_mss)
		ep->rcv_mss = len > ep->advmss ? ep->advmss : len;
}

/* Receive-side RTT for auto-tuning (Linux tcp_rcv_rtt_measure / _ts): a
 * window's worth of data arriving bounds the RTT from above; a timestamp
 * echo gives it directly when it is at least one tick. */
static void rcv_rtt_update(struct tcp_ep *ep, uint64_t m, bool win_dep)
{
	if (!m)
		m = 1;
	if (!ep->rcv_rtt_us) {
		ep->rcv_rtt_us = m;
		return;
	}
	if (win_dep) {
		/* a window measurement only ever lowers the estimate */
		if (m < ep->rcv_rtt_us)
			ep->rcv_rtt_us = m;
		return;
	}
	ep->rcv_rtt_us = (ep->rcv_rtt_us * 7 + m) / 8;
}

static void rcv_rtt_measure(struct tcp_ep *ep, const struct tcp_seg *seg)
{
	uint64_t t = now_us(ep);
	if (ep->ts_ok && seg_has_ts(seg) && seg->opt.tsecr && seg->len >= ep->rcv_mss) {
		int64_t m = ns_tcp_rtt_ts_sample(tcp_ts_now(ep), seg->opt.tsecr, 1);
		if (m > 0)
			rcv_rtt_update(ep, (uint64_t)m, false);
	}
	if (ep->rcv_rtt_time && ns_seq_lt(ep->rcv_nxt, ep->rcv_rtt_seq))
		return;
	if (ep->rcv_rtt_time)
		rcv_rtt_update(ep, t - ep->rcv_rtt_time, true);
	ep->rcv_rtt_seq = ep->rcv_nxt + ep->rcv_wnd;
	ep->rcv_rtt_time = t;
}

/* Linux tcp_event_data_recv(): ACK pacing state on new data. */
static void event_data_recv(struct tcp_ep *ep, const struct tcp_seg *seg)
{
	measure_rcv_mss(ep, seg->len);
	rcv_rtt_measure(ep, seg);
	if (ep->ato_ns == 0) {
		/* first data: quick ACKs while the peer's window opens */
		enter_quickack(ep, TCP_MAX_QUICKACKS);
		ep->ato_ns = TCP_ATO_MIN_NS;
	}
	if (seg->len >= ep->rcv_mss && ep->rcv_mss)
		ep->unacked_full++;
	else if (seg->len)
		ep->unacked_full += 0;
}

/* RFC 9293 3.10.7.4 seventh: process the segment text. */
static void data_queue(struct tcp_ep *ep, struct tcp_seg *seg)
{
	struct ns_pkt *pkt = seg->pkt;
	seg->pkt = NULL;
	uint32_t seq = seg->seq;
	uint32_t len = seg->len;
	bool fin = (seg->flags & TCPF_FIN) != 0;
	if (len == 0 && !fin) {
		ns_pkt_unref(pkt);
		return;
	}
	/* data after our user shut reading and closed: Linux resets (TCPAbortOnData) */
	if (len && ep->orphan && ns_seq_gt(seq + len, ep->rcv_nxt) &&
	    (ep->state == TCP_FIN_WAIT1 || ep->state == TCP_FIN_WAIT2)) {
		NS_STAT_INC(ep->stk, TcpExtTCPAbortOnData);
		tcp_send_active_reset(ep);
		ns_pkt_unref(pkt);
		tcp_done(ep);
		return;
	}
	if (seq == ep->rcv_nxt) {
		if (receive_window(ep) == 0 && len) {
			/* out of window: zero window probe data */
			ack_now(ep);
			ns_pkt_unref(pkt);
			return;
		}
		if (len && !rmem_schedule(ep, pkt->truesize)) {
			NS_STAT_INC(ep->stk, TcpExtTCPRcvQDrop);
			ack_now(ep);
			ns_pkt_unref(pkt);
			return;
		}
		event_data_recv(ep, seg);
		ep->rcv_nxt += len;
		ep->bytes_received += len;
		ep->data_segs_in += len ? 1 : 0;
		bool had_ofo = !ns_ofo_empty(&ep->ofo);
		if (len)
			rcvq_add(ep, pkt);
		else
			ns_pkt_unref(pkt);
		if (fin) {
			ep->rcv_nxt++;
			tcp_fin(ep);
		} else if (had_ofo) {
			ofo_drain(ep);
			/* a hole filled: ACK at once (Linux: ICSK_ACK_NOW when the ofo queue empties) */
			ack_now(ep);
		}
		if (had_ofo)
			ns_ofo_advance(&ep->ofo, ep->rcv_nxt);
		wake(ep);
		return;
	}
	if (ns_seq_leq(seg->end_seq, ep->rcv_nxt)) {
		/* a retransmission of data we have: D-SACK it, ACK now (RFC 2883) */
		if (ep->sack_ok && len) {
			ns_sack_rcv_dsack(&ep->ofo.sack, seq, seq + len);
			NS_STAT_INC(ep->stk, TcpExtTCPDSACKOldSent);
		}
		NS_STAT_INC(ep->stk, TcpExtDelayedACKLost);
		enter_quickack(ep, TCP_MAX_QUICKACKS);
		ack_now(ep);
		ns_pkt_unref(pkt);
		return;
	}
	if (!ns_seq_lt(seq, ep->rcv_nxt + receive_window(ep))) {
		/* beyond the window */
		ack_now(ep);
		ns_pkt_unref(pkt);
		return;
	}
	if (ns_seq_lt(seq, ep->rcv_nxt)) {
		/* partial overlap: D-SACK the old part, keep the new */
		uint32_t dup = ep->rcv_nxt - seq;
		if (ep->sack_ok) {
			ns_sack_rcv_dsack(&ep->ofo.sack, seq, ep->rcv_nxt);
			NS_STAT_INC(ep->stk, TcpExtTCPDSACKOldSent);
		}
		ns_pkt_pull(pkt, dup);
		seg->seq = ep->rcv_nxt;
		seg->len = len - dup;
		seg->pkt = pkt;
		ack_now(ep);
		data_queue(ep, seg);
		return;
	}
	/* out of order: queue it and ACK at once with SACK blocks */
	measure_rcv_mss(ep, len);
	pkt->seq = seq;
	pkt->flags = fin ? NS_OFO_PKT_FIN : 0;
	uint64_t limit = (uint64_t)ep->sk->rcvbuf;
	uint64_t budget = ep->sk->rmem >= limit ? 0 : limit - ep->sk->rmem;
	ns_ofo_insert(&ep->ofo, ep->stk, pkt, ep->rcv_nxt, budget);
	enter_quickack(ep, TCP_MAX_QUICKACKS);
	ack_now(ep);
}

/* RFC 9293 3.10.7.4 eighth: the FIN (in order). rcv_nxt already counts it. */
static void tcp_fin(struct tcp_ep *ep)
{
	ep->fin_rcvd = true;
	ep->shut |= 1;
	ack_now(ep);
	switch (ep->state) {
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
		tcp_set_state(ep, TCP_CLOSE_WAIT);
		ep->pingpong = true;
		break;
	case TCP_FIN_WAIT1:
		/* simultaneous close (our FIN not yet acknowledged) */
		tcp_set_state(ep, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		tcp_send_ack(ep);
		tcp_time_wait(ep, TCP_TIME_WAIT, 0);
		break;
	default:
		break;
	}
	/* out-of-order data beyond the FIN is meaningless now */
	ns_ofo_purge(&ep->ofo);
	wake(ep);
}

/* ---- ACK processing ------------------------------------------------------------------------------------ */

static void rtt_from_ack(struct tcp_ep *ep, const struct tcp_seg *seg, uint32_t prior_una, uint32_t ack,
			 int64_t *rtt_out)
{
	int64_t m = -1;
	uint64_t t = now_us(ep);
	if (ep->ts_ok && seg_has_ts(seg) && seg->opt.tsecr)
		m = ns_tcp_rtt_ts_sample(tcp_ts_now(ep), seg->opt.tsecr, 1);
	if (m < 0 && ep->txr_n) {
		/* Karn: only from segments never retransmitted (the oldest newly acked one) */
		struct tcp_txrec *r = tcp_txr_get(ep, 0);
		if (ns_seq_geq(r->seq, prior_una) && ns_seq_leq(r->end, ack))
			m = ns_tcp_rtt_seq_sample(r->xmit_us, t, (r->flags & NS_RACK_SEG_RETRANS) != 0);
	}
	if (m > 0)
		ns_tcp_rtt_sample(&ep->rtt, (uint32_t)m, ack, ep->snd_nxt, t);
	*rtt_out = m;
}

/* Linux tcp_ack_update_window(). */
static void ack_update_window(struct tcp_ep *ep, const struct tcp_seg *seg, uint32_t ack)
{
	uint32_t nwin = (uint32_t)seg->wnd << ep->snd_wscale;
	if (ns_seq_gt(ack, ep->snd_una) || ns_seq_gt(seg->seq, ep->snd_wl1) ||
	    (seg->seq == ep->snd_wl1 && nwin > ep->snd_wnd)) {
		bool was_zero = ep->snd_wnd == 0;
		ep->snd_wl1 = seg->seq;
		ep->snd_wl2 = ack;
		if (ep->snd_wnd != nwin) {
			ep->snd_wnd = nwin;
			if (nwin > ep->max_window) {
				ep->max_window = nwin;
				tcp_sync_mss(ep, ep->pmtu);
			}
		}
		if (was_zero && nwin) {
			ep->probe_backoff = 0;
			ep->probe_start = 0;
		}
	}
}

/* Returns false when the segment must be dropped (RFC 9293 fifth, ACK field). */
static bool tcp_ack(struct tcp_ep *ep, struct tcp_seg *seg)
{
	uint32_t ack = seg->ack;
	uint32_t prior_una = ep->snd_una;
	uint32_t prior_wnd = ep->snd_wnd;
	if (ns_seq_gt(ack, ep->snd_nxt)) {
		/* acknowledges something not yet sent: drop it (RFC 9293 3.10.7.4).
		 * Linux answers with a challenge ACK only outside ESTABLISHED
		 * (tcp_rcv_state_process); tcp_rcv_established drops silently. */
		if (ep->state != TCP_ESTABLISHED)
			tcp_send_challenge_ack(ep);
		return false;
	}
	if (ns_seq_lt(ack, prior_una - ep->max_window)) {
		/* RFC 5961 5.2: too old, blind data injection defence */
		tcp_send_challenge_ack(ep);
		return false;
	}
	if (ns_seq_lt(ack, prior_una)) {
		tcp_loss_ack(ep, seg, prior_una, false, -1);   /* its SACK blocks still count */
		return true;   /* old duplicate ACK: the text may still be new */
	}
	ack_update_window(ep, seg, ack);
	ep->lacktime = ns__now(ep->stk);
	ep->probes_out = 0;   /* the peer is alive (Linux tcp_ack) */
	bool dupack = false;
	uint32_t acked_segs = 0;
	int64_t rtt = -1;
	if (seg->len == 0 && !(seg->flags & (TCPF_SYN | TCPF_FIN)))
		NS_STAT_INC(ep->stk, TcpExtTCPPureAcks);
	if (ns_seq_gt(ack, prior_una)) {
		uint32_t acked = ack - prior_una;
		rtt_from_ack(ep, seg, prior_una, ack, &rtt);
		ep->snd_una = ack;
		tcp_sndq_ack(ep, ack);
		if (ep->urg_mode && !ns_seq_lt(ack, ep->snd_up))
			ep->urg_mode = false;
		uint32_t mss = tcp_current_mss(ep);
		acked_segs = (acked + mss - 1) / mss;
		ep->bytes_acked += acked;
		ep->delivered += acked_segs;
		ep->retransmits = 0;
		ep->probes_out = 0;
		ns_tcp_rtt_reset_backoff(&ep->rtt);
		ep->dupacks = 0;
		if (ep->snd_una == ep->snd_nxt)
			ep->retrans_stamp = 0;
	} else if (seg->len == 0 && !(seg->flags & (TCPF_SYN | TCPF_FIN)) && ep->snd_una != ep->snd_nxt &&
		   ((uint32_t)seg->wnd << ep->snd_wscale) == prior_wnd) {
		dupack = true;
		ep->dupacks++;
	}
	tcp_loss_ack(ep, seg, prior_una, dupack, rtt);
	if (ns_seq_gt(ack, prior_una)) {
		if (ep->rtx_kind != TCP_RTX_REO || !ep->t_rtx)   /* a RACK timer stays (Linux FLAG_SET_XMIT_TIMER) */
			tcp_rearm_rto(ep);
		if (tcp_sndbuf_space(ep) >= (uint32_t)ep->sk->sndbuf / 3 || ep->sndq.truesize == 0) {
			tcp_sndbuf_expand(ep);
			wake(ep);
		}
	}
	return true;
}

/* ---- SYN-SENT (RFC 9293 3.10.7.3) ------------------------------------------------------------------------- */

static void rcv_synsent(struct tcp_ep *ep, struct tcp_seg *seg)
{
	bool ack_ok = false;
	if (seg->flags & TCPF_ACK) {
		if (ns_seq_leq(seg->ack, ep->iss) || ns_seq_gt(seg->ack, ep->snd_nxt)) {
			tcp_send_reset_reply(ep->stk, seg);
			goto drop;
		}
		ack_ok = true;
	}
	if (seg->flags & TCPF_RST) {
		if (ack_ok)
			tcp_reset_ep(ep, NS_ECONNREFUSED);
		goto drop;
	}
	if (!(seg->flags & TCPF_SYN))
		goto drop;
	/* PAWS on the SYN-ACK (Linux: tsecr must echo something we sent) */
	const struct ns_tcp_opts *o = &seg->opt;
	ep->irs = seg->seq;
	ep->rcv_nxt = seg->seq + 1;
	ep->rcv_wup = ep->rcv_nxt;
	ep->copied_seq = ep->rcv_nxt;
	ep->mss_clamp = ns_tcp_opts_has(o, NS_TCP_OPT_F_MSS) ? o->mss : TCP_MSS_DEFAULT;
	if (ep->user_mss && ep->mss_clamp > ep->user_mss)
		ep->mss_clamp = ep->user_mss;
	ep->ws_ok = ns_tcp_opts_has(o, NS_TCP_OPT_F_WSCALE);
	ep->snd_wscale = ep->ws_ok ? o->wscale : 0;
	if (!ep->ws_ok)
		ep->rcv_wscale = 0;
	ep->sack_ok = ns_tcp_opts_has(o, NS_TCP_OPT_F_SACK_PERM);
	ep->ts_ok = ns_tcp_opts_has(o, NS_TCP_OPT_F_TS);
	if (ep->ts_ok) {
		ep->ts_recent = o->tsval;
		ep->ts_recent_stamp_ns = ns__now(ep->stk);
	}
	ep->snd_wnd = seg->wnd;
	ep->max_window = ep->snd_wnd;
	ep->snd_wl1 = seg->seq;
	ep->snd_wl2 = seg->ack;
	if (ack_ok) {
		/* RTT of the SYN (Karn: only when not retransmitted, or from the timestamp) */
		int64_t m = -1;
		if (ep->ts_ok && o->tsecr)
			m = ns_tcp_rtt_ts_sample(tcp_ts_now(ep), o->tsecr, 0);
		else if (!ep->rtx_syn)
			m = (int64_t)(now_us(ep) - ep->synack_stamp);
		if (m > 0)
			ns_tcp_rtt_sample_syn(&ep->rtt, (uint32_t)m, ep->snd_nxt, now_us(ep));
		ep->snd_una = seg->ack;
		ep->syn_acked = true;
		tcp_set_state(ep, TCP_ESTABLISHED);
		tcp_init_transfer(ep);
		enter_quickack(ep, TCP_MAX_QUICKACKS);
		tcp_send_ack(ep);
		wake(ep);
		/* data queued before the handshake completed (e.g. nonblocking send) */
		tcp_push(ep, false);
		goto drop;
	}
	/* simultaneous open: SYN-RECEIVED, send SYN,ACK with our ISS */
	tcp_set_state(ep, TCP_SYN_RECV);
	if (!ep->ws_ok)
		ep->rcv_wscale = 0;
	tcp_send_synack(ep);
	tcp_rearm_rto(ep);
drop:
	if (seg->pkt)
		ns_pkt_unref(seg->pkt);
	seg->pkt = NULL;
}

/* ---- TIME_WAIT (Linux tcp_timewait_state_process) -------------------------------------------------------- */

static void rcv_timewait(struct tcp_ep *ep, struct tcp_seg *seg)
{
	if (paws_reject(ep, seg)) {
		NS_STAT_INC(ep->stk, TcpExtPAWSEstab);
		tcp_send_ack(ep);
		goto drop;
	}
	if (seg->flags & TCPF_RST) {
		/* RFC 1337 hazard accepted like Linux (tcp_rfc1337 = 0): an in-window RST kills it */
		if (ns_seq_geq(seg->seq, ep->rcv_nxt) || seg->seq == ep->rcv_nxt - 1) {
			NS_STAT_INC(ep->stk, TcpExtTWKilled);
			tcp_done(ep);
		}
		goto drop;
	}
	if (seg->flags & TCPF_SYN) {
		/* an old SYN: RFC 5961 says challenge ACK; Linux answers with an ACK */
		tcp_send_ack(ep);
		goto drop;
	}
	if ((seg->flags & TCPF_FIN) && seg->end_seq == ep->rcv_nxt) {
		/* retransmitted FIN: our last ACK was lost; re-ACK and restart 2MSL */
		store_ts_recent(ep, seg);
		tcp_send_ack(ep);
		tcp_time_wait(ep, TCP_TIME_WAIT, 0);
		goto drop;
	}
	if (seg->len || ns_seq_gt(seg->end_seq, ep->rcv_nxt) || ns_seq_lt(seg->seq, ep->rcv_nxt - 1))
		tcp_send_ack(ep);
drop:
	ns_pkt_unref(seg->pkt);
	seg->pkt = NULL;
}

/* ---- urgent data (RFC 9293 3.8.5; Linux tcp_check_urg / tcp_urg) ------------------------------------------ */

static void check_urg(struct tcp_ep *ep, const struct tcp_seg *seg)
{
	if (!(seg->flags & TCPF_URG) || seg->up == 0)
		return;
	/* Linux (tcp_stdurg = 0): the pointer points one past the urgent byte */
	uint32_t ptr = seg->seq + seg->up - 1;
	if (ns_seq_lt(ptr, ep->copied_seq))
		return;
	if (ep->urg_pending && ptr == ep->urg_seq)
		return;
	ep->urg_seq = ptr;
	ep->urg_pending = true;
	ep->urg_data = -1;
	ns__sock_wake_locked(ep->sk);
}

static void capture_urg_byte(struct tcp_ep *ep, const struct tcp_seg *seg, uint32_t seq0)
{
	if (!ep->urg_pending || ep->urg_data >= 0)
		return;
	if (ns_seq_geq(ep->urg_seq, seq0) && ns_seq_lt(ep->urg_seq, seq0 + seg->len) && seg->pkt) {
		ep->urg_data = ns_pkt_data(seg->pkt)[ep->urg_seq - seq0];
		ns__sock_wake_locked(ep->sk);
	}
}

/* ---- the synchronized states (RFC 9293 3.10.7.4) ------------------------------------------------------------ */

/* Linux __tcp_ack_snd_check(): after input, ACK now or later. */
static void ack_snd_check(struct tcp_ep *ep)
{
	if (ep->state == TCP_CLOSE || ep->state == TCP_TIME_WAIT)
		return;
	if (!ep->ack_pending && !ep->ack_now)
		return;
	bool now = ep->ack_now || ep->quickack > 0 || ep->quickack_opt || !ns_ofo_empty(&ep->ofo);
	/* more than one full-sized segment unacknowledged, and the window would not shrink */
	if (ep->rcv_nxt - ep->rcv_wup > ep->rcv_mss && ep->unacked_full >= 2)
		now = true;
	if (now)
		tcp_send_ack(ep);
	else
		tcp_send_delayed_ack(ep);
}

/* TCP_DEFER_ACCEPT (Linux tcp_check_req): while the listener defers, the
 * handshake's bare ACK (no data, no FIN) is dropped; the child stays in
 * SYN_RECV remembering it was acknowledged (its SYN-ACK timer then waits,
 * see tcp_timer.c) until data arrives. */
static bool defer_bare_ack(struct tcp_ep *ep, const struct tcp_seg *seg)
{
	if (!ep->parent || seg->len || (seg->flags & TCPF_FIN))
		return false;
	uint8_t defer = __atomic_load_n(&ep->parent->defer_accept, __ATOMIC_RELAXED);
	if (ep->retransmits >= defer)
		return false;
	ep->defer_wait = true;
	return true;
}

void tcp_rcv_state(struct tcp_ep *ep, struct tcp_seg *seg)
{
	ep->segs_in++;
	ep->lrcvtime = ns__now(ep->stk);
	switch (ep->state) {
	case TCP_SYN_SENT:
		rcv_synsent(ep, seg);
		return;
	case TCP_TIME_WAIT:
		rcv_timewait(ep, seg);
		return;
	case TCP_CLOSE:
	case TCP_LISTEN:
		tcp_send_reset_reply(ep->stk, seg);
		ns_pkt_unref(seg->pkt);
		return;
	default:
		break;
	}
	if (ep->state == TCP_SYN_RECV && ep->parent && (seg->flags & TCPF_SYN) && !(seg->flags & TCPF_ACK) &&
	    seg->seq == ep->irs) {
		/* a retransmitted SYN: our SYN-ACK was lost (Linux tcp_check_req) */
		tcp_send_synack(ep);
		goto drop;
	}
	/* first: sequence number, with PAWS before it (RFC 7323 5.3) */
	/* scale: ACKs to invalid segments at most every tcp_invalid_ratelimit per
	 * socket (Linux tcp_oow_rate_limited; a request sock counts SynRecv) */
	bool synrecv = ep->state == TCP_SYN_RECV && ep->parent;
	if (paws_reject(ep, seg)) {
		NS_STAT_INC(ep->stk, TcpExtPAWSEstab);
		if (!(seg->flags & TCPF_RST) &&
		    !tcp_oow_rate_limited(ep, seg, synrecv ? NS_STAT_TcpExtTCPACKSkippedSynRecv
							   : NS_STAT_TcpExtTCPACKSkippedPAWS))
			tcp_send_ack(ep);
		goto drop;
	}
	if (!ns_seq_linux_acceptable(seg->seq, seg->end_seq, ep->rcv_wup, ep->rcv_nxt, receive_window(ep))) {
		/* RFC 9293: ACK an unacceptable segment, at most every 500 ms
		 * (Linux tcp_oow_rate_limited) so two confused ends cannot ping-pong */
		if ((seg->flags & TCPF_SYN) && !(seg->flags & TCPF_RST) && !synrecv) {
			/* Linux tcp_validate_incoming: an out-of-window SYN gets a challenge ACK */
			NS_STAT_INC(ep->stk, TcpExtTCPSYNChallenge);
			tcp_send_challenge_ack(ep);
		} else if (!(seg->flags & TCPF_RST)) {
			if (!tcp_oow_rate_limited(ep, seg, synrecv ? NS_STAT_TcpExtTCPACKSkippedSynRecv
								   : NS_STAT_TcpExtTCPACKSkippedSeq)) {
				if (ns_seq_lt(seg->end_seq, ep->rcv_nxt) && seg->len && ep->sack_ok) {
					/* a retransmission of data we have: D-SACK it (RFC 2883) */
					ns_sack_rcv_dsack(&ep->ofo.sack, seg->seq, seg->end_seq);
					NS_STAT_INC(ep->stk, TcpExtTCPDSACKOldSent);
				}
				tcp_send_ack(ep);
			}
		}
		goto drop;
	}
	/* second: RST (RFC 5961 3.2) */
	if (seg->flags & TCPF_RST) {
		if (seg->seq == ep->rcv_nxt) {
			switch (ep->state) {
			case TCP_SYN_RECV:
				if (ep->parent) {
					/* passive open: back to LISTEN, i.e. forget the child */
					NS_STAT_INC(ep->stk, TcpAttemptFails);
					tcp_set_state(ep, TCP_CLOSE);
					tcp_done(ep);
				} else {
					tcp_reset_ep(ep, NS_ECONNREFUSED);
				}
				break;
			case TCP_CLOSING:
			case TCP_LAST_ACK:
				tcp_done(ep);
				break;
			default:
				tcp_reset_ep(ep, NS_ECONNRESET);
				break;
			}
		} else {
			tcp_send_challenge_ack(ep);
		}
		goto drop;
	}
	/* fourth: SYN in a synchronized state (RFC 5961 4.2) */
	if (seg->flags & TCPF_SYN) {
		NS_STAT_INC(ep->stk, TcpExtTCPSYNChallenge);
		tcp_send_challenge_ack(ep);
		goto drop;
	}
	/* fifth: ACK */
	if (!(seg->flags & TCPF_ACK))
		goto drop;
	if (ep->state == TCP_SYN_RECV) {
		if (!ns_seq_gt(seg->ack, ep->snd_una) || ns_seq_gt(seg->ack, ep->snd_nxt)) {
			tcp_send_reset_reply(ep->stk, seg);
			goto drop;
		}
		if (defer_bare_ack(ep, seg)) {
			NS_STAT_INC(ep->stk, TcpExtTCPDeferAcceptDrop);
			goto drop;
		}
		if (ep->parent && ep->parent->lst && ep->parent->lst->acc_qlen > ep->parent->lst->backlog) {
			/* accept queue full: Linux drops the ACK, the SYN-ACK timer retries */
			NS_STAT_INC(ep->stk, TcpExtListenOverflows);
			NS_STAT_INC(ep->stk, TcpExtListenDrops);
			goto drop;
		}
		if (ep->ts_ok && seg_has_ts(seg) && seg->opt.tsecr) {
			int64_t m = ns_tcp_rtt_ts_sample(tcp_ts_now(ep), seg->opt.tsecr, 0);
			if (m > 0)
				ns_tcp_rtt_sample_syn(&ep->rtt, (uint32_t)m, ep->snd_nxt, now_us(ep));
		} else if (!ep->rtx_syn) {
			ns_tcp_rtt_sample_syn(&ep->rtt, (uint32_t)NS_MAX(now_us(ep) - ep->synack_stamp, 1ull),
					      ep->snd_nxt, now_us(ep));
		}
		ep->snd_una = seg->ack;
		ep->syn_acked = true;
		ep->snd_wnd = (uint32_t)seg->wnd << ep->snd_wscale;
		ep->max_window = NS_MAX(ep->max_window, ep->snd_wnd);
		ep->snd_wl1 = seg->seq;
		ep->snd_wl2 = seg->ack;
		tcp_set_state(ep, TCP_ESTABLISHED);
		if (ep->parent) {
			NS_STAT_INC(ep->stk, TcpPassiveOpens);
			ep->notify_parent = true;
		}
		tcp_init_transfer(ep);
		ep->t_rtx = 0;
		ep->rtx_kind = TCP_RTX_NONE;
		tcp_timer_update(ep);
		wake(ep);
	} else {
		if (!tcp_ack(ep, seg))
			goto drop;
	}
	store_ts_recent(ep, seg);
	if (ep->fin_sent && ns_seq_gt(ep->snd_una, ep->fin_seq)) {
		/* our FIN is acknowledged */
		switch (ep->state) {
		case TCP_FIN_WAIT1: {
			tcp_set_state(ep, TCP_FIN_WAIT2);
			ep->shut |= 2;
			uint64_t tmo = ep->linger2 > 0 ? (uint64_t)ep->linger2 * NS_NSEC_PER_SEC : TCP_FIN_TIMEOUT_NS;
			if (ep->linger2 < 0) {
				/* TCP_LINGER2 < 0: no FIN_WAIT_2 at all */
				tcp_send_active_reset(ep);
				tcp_done(ep);
				goto drop;
			}
			if (ep->orphan)
				tcp_time_wait(ep, TCP_FIN_WAIT2, tmo);
			wake(ep);
			break;
		}
		case TCP_CLOSING:
			tcp_time_wait(ep, TCP_TIME_WAIT, 0);
			goto drop;
		case TCP_LAST_ACK:
			tcp_done(ep);
			goto drop;
		default:
			break;
		}
	}
	/* sixth: URG */
	uint32_t seq0 = seg->seq;
	if (ep->state == TCP_ESTABLISHED || ep->state == TCP_FIN_WAIT1 || ep->state == TCP_FIN_WAIT2)
		check_urg(ep, seg);
	/* seventh: text; eighth: FIN */
	switch (ep->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_SYN_RECV:
		if (seg->len)
			capture_urg_byte(ep, seg, seq0);
		data_queue(ep, seg);
		if (ep->state == TCP_CLOSE)
			goto drop;
		break;
	default:
		/* CLOSE_WAIT, CLOSING, LAST_ACK: the peer already sent FIN; ignore text */
		if ((seg->flags & TCPF_FIN) || seg->len)
			ack_now(ep);
		break;
	}
	if (seg->len || (seg->flags & TCPF_FIN))
		ep->ack_pending = true;
	/* send what the ACK allowed, then decide about our ACK */
	tcp_push(ep, false);
	if (ep->notsent_lowat && tcp_stream_writeable(ep, 1))
		wake(ep);       /* Linux tcp_check_space after tcp_data_snd_check */
	ack_snd_check(ep);
drop:
	if (seg->pkt)
		ns_pkt_unref(seg->pkt);
	seg->pkt = NULL;
}

/* ---- ICMP errors (RFC 5927, RFC 1191) --------------------------------------------------------------------------- */

void ns__tcp_icmp_err(struct ns_stack *stk, const struct ns_icmp_err *e)
{
	struct ns_tcp *tcp = stk->tcp;
	if (!tcp || e->l4_len < 8)
		return;
	uint16_t sport = ns_load_be16(e->l4), dport = ns_load_be16(e->l4 + 2);
	uint32_t seq = ns_load_be32(e->l4 + 4);
	struct tcp_ep *ep = tcp_lookup_established(tcp, &e->src, sport, &e->dst, dport);
	if (!ep)
		return;
	struct ns_sock *sk = ep->sk;
	pthread_mutex_lock(&sk->mu);
	/* RFC 5927 4.1: the quoted sequence number must be in flight */
	if (ep->state == TCP_LISTEN || ep->state == TCP_CLOSE || ep->state == TCP_TIME_WAIT ||
	    !ns_seq_between(seq, ep->snd_una, ep->snd_nxt)) {
		NS_STAT_INC(stk, TcpExtOutOfWindowIcmps);
		goto out;
	}
	if (e->mtu) {
		/* RFC 1191: fragmentation needed / packet too big */
		uint32_t mtu = e->mtu;
		uint32_t min_mtu = ep->raddr.family == NS_AF_INET6 ? 1280 : 576;
		if (mtu < min_mtu)
			mtu = min_mtu;
		if (mtu < ep->pmtu) {
			tcp_sync_mss(ep, mtu);
			/* retransmit what no longer fits (Linux tcp_simple_retransmit) */
			if (ep->snd_una != ep->snd_nxt)
				tcp_retransmit_seq(ep, ep->snd_una, 0);
		}
		goto out;
	}
	if (ep->state == TCP_SYN_SENT || (ep->state == TCP_SYN_RECV && !ep->parent)) {
		/* Linux tcp_v4_err: an error while connecting aborts the attempt */
		if (e->err) {
			ns__sock_set_err_locked(sk, e->err);
			tcp_done(ep);
		}
		goto out;
	}
	if (ep->state == TCP_SYN_RECV) {
		/* a request: Linux tcp_req_err drops it when the sequence matches */
		if (e->err && seq == ep->iss)
			tcp_done(ep);
		goto out;
	}
	/* RFC 5927 5.2 / Linux: on an established connection errors are soft */
	ep->err_soft = e->err;
out:;
	bool post = ep->notify_parent;
	pthread_mutex_unlock(&sk->mu);
	if (post)
		tcp_post_unlock(ep);
	ns__sock_put(sk);
}
