/*
 * tcp/tcp_timer.c - the endpoint timer and everything it drives.
 *
 * Owns: the single ns_timer per endpoint armed to the earliest pending
 * deadline (lazy: a later deadline does not touch the heap, the callback
 * re-arms), the retransmission timer (RFC 6298 via tcp_rtt, Karn's rule,
 * exponential backoff, SYN / SYN-ACK retries, tcp_retries2 and
 * TCP_USER_TIMEOUT -> ETIMEDOUT), the persist timer and zero-window
 * probes, RACK reordering and TLP timers, delayed ACK, keepalive, TIME_WAIT
 * and FIN_WAIT_2 expiry.
 */
#include "tcp_internal.h"
#include "tcp_timewait.h"

int tcp_write_wakeup(struct tcp_ep *ep);
uint32_t tcp_packets_in_flight(struct tcp_ep *ep);
void tcp_post_unlock(struct tcp_ep *ep);
void tcp_rack_timeout(struct tcp_ep *ep);
void tcp_tlp_fire(struct tcp_ep *ep);
void tcp_enter_loss(struct tcp_ep *ep);
void tcp_xmit_recovery(struct tcp_ep *ep);

static uint64_t now_ns(struct tcp_ep *ep) { return ns__now(ep->stk); }

static void tcp_timer_fn(void *arg);

void tcp_timer_init(struct tcp_ep *ep) { ns__timer_init(&ep->timer, tcp_timer_fn, ep); }

static uint64_t earliest(const struct tcp_ep *ep)
{
	uint64_t e = UINT64_MAX;
	if (ep->t_rtx && ep->t_rtx < e)
		e = ep->t_rtx;
	if (ep->ack_pending && ep->t_delack && ep->t_delack < e)
		e = ep->t_delack;
	if (ep->t_keepalive && ep->t_keepalive < e)
		e = ep->t_keepalive;
	if (ep->t_wait && ep->t_wait < e)
		e = ep->t_wait;
	return e;
}

void tcp_timer_update(struct tcp_ep *ep)
{
	if (ep->dead)
		return;
	uint64_t e = earliest(ep);
	if (e == UINT64_MAX)
		return;   /* a pending callback finds nothing due and stops */
	if (ep->timer_armed && ep->timer_armed <= e)
		return;   /* fires early, re-arms then */
	ep->timer_armed = e;
	ns__timer_arm(ep->stk, &ep->timer, e);
}

uint64_t tcp_rto_ns(struct tcp_ep *ep) { return (uint64_t)ns_tcp_rtt_rto(&ep->rtt) * NS_NSEC_PER_USEC; }

void tcp_rearm_rto(struct tcp_ep *ep)
{
	if (ep->snd_una == ep->snd_nxt && ep->state != TCP_SYN_SENT && ep->state != TCP_SYN_RECV) {
		if (ep->rtx_kind == TCP_RTX_RTO || ep->rtx_kind == TCP_RTX_TLP || ep->rtx_kind == TCP_RTX_REO) {
			ep->t_rtx = 0;
			ep->rtx_kind = TCP_RTX_NONE;
		}
		return;
	}
	uint64_t rto = tcp_rto_ns(ep);
	/* RFC 8985 7.2: a tail loss probe before the RTO for SACK connections */
	if (ep->state == TCP_ESTABLISHED && ns_rack_tlp_may_schedule(&ep->rack, ep->sack_ok,
	    ep->cc.ca_state == NS_TCP_CA_OPEN || ep->cc.ca_state == NS_TCP_CA_CWR, tcp_packets_in_flight(ep)) &&
	    ns_tcp_rtt_has_sample(&ep->rtt) && ep->rtt.backoff == 0) {
		uint32_t pto = ns_rack_tlp_pto(ns_tcp_rtt_srtt(&ep->rtt), tcp_packets_in_flight(ep),
					       (uint32_t)(rto / NS_NSEC_PER_USEC));
		ep->t_rtx = now_ns(ep) + (uint64_t)pto * NS_NSEC_PER_USEC;
		ep->rtx_kind = TCP_RTX_TLP;
	} else {
		ep->t_rtx = now_ns(ep) + rto;
		ep->rtx_kind = TCP_RTX_RTO;
	}
	tcp_timer_update(ep);
}

void tcp_reset_probe_timer(struct tcp_ep *ep)
{
	if (ep->rtx_kind == TCP_RTX_PROBE0 && ep->t_rtx)
		return;
	uint64_t when = (uint64_t)ns_tcp_rtt_rto(&ep->rtt) << ep->probe_backoff;
	if (when > NS_TCP_RTO_MAX_US)
		when = NS_TCP_RTO_MAX_US;
	ep->t_rtx = now_ns(ep) + when * NS_NSEC_PER_USEC;
	ep->rtx_kind = TCP_RTX_PROBE0;
	if (!ep->probe_start)
		ep->probe_start = now_ns(ep);
	tcp_timer_update(ep);
}

void tcp_set_keepalive(struct tcp_ep *ep)
{
	if (!ep->keepalive || ep->state == TCP_LISTEN || ep->state == TCP_CLOSE || ep->state == TCP_TIME_WAIT) {
		ep->t_keepalive = 0;
		return;
	}
	int idle = ep->keepidle ? ep->keepidle : TCP_KEEPIDLE_DEF;
	ep->t_keepalive = now_ns(ep) + (uint64_t)idle * NS_NSEC_PER_SEC;
	tcp_timer_update(ep);
}

void tcp_time_wait(struct tcp_ep *ep, int state, uint64_t timeo)
{
	if (state == TCP_TIME_WAIT) {
		/* Linux tcp_time_wait(): a small record takes over the 4-tuple and
		 * the endpoint closes (the descriptor, if any, sees CLOSE) */
		if (ep->tw_counted) {
			atomic_fetch_sub(&ep->tcp->n_timewait, 1);
			ep->tw_counted = false;
		}
		tcp_tw_enter(ep, timeo);
		tcp_sndq_purge(ep);
		tcp_done(ep);
		return;
	}
	if (!ep->tw_counted) {
		if (atomic_fetch_add(&ep->tcp->n_timewait, 1) >= ep->tcp->max_tw_buckets) {
			/* Linux tcp_max_tw_buckets: no TIME_WAIT state beyond the bound */
			atomic_fetch_sub(&ep->tcp->n_timewait, 1);
			NS_STAT_INC(ep->stk, TcpExtTCPTimeWaitOverflow);
			tcp_done(ep);
			return;
		}
		ep->tw_counted = true;
	}
	tcp_set_state(ep, state);
	ep->t_rtx = 0;
	ep->rtx_kind = TCP_RTX_NONE;
	ep->t_keepalive = 0;
	ep->ack_pending = false;
	ep->t_wait = now_ns(ep) + (timeo ? timeo : TCP_TIMEWAIT_NS);
	if (state == TCP_TIME_WAIT) {
		NS_STAT_INC(ep->stk, TcpExtTW);
		tcp_sndq_purge(ep);
		/* the user may still read what arrived; everything else goes */
		ns_ofo_purge(&ep->ofo);
		ns_sack_sb_fini(&ep->sb);
	}
	tcp_timer_update(ep);
	ns__sock_wake_locked(ep->sk);
}

/* Linux tcp_model_timeout(): how long `boundary` backed-off RTOs starting at rto_base last. */
static uint64_t model_timeout_ns(unsigned boundary, uint64_t rto_base_ns)
{
	unsigned thresh = 0;
	uint64_t r = TCP_RTO_MAX_NS / rto_base_ns;
	while (r > 1) {
		r >>= 1;
		thresh++;
	}
	if (boundary <= thresh)
		return ((2ull << boundary) - 1) * rto_base_ns;
	return ((2ull << thresh) - 1) * rto_base_ns + (uint64_t)(boundary - thresh) * TCP_RTO_MAX_NS;
}

/* Linux tcp_write_err(): the connection times out. */
static void write_err(struct tcp_ep *ep)
{
	int err = ep->err_soft ? ep->err_soft : NS_ETIMEDOUT;
	if (!ep->orphan)
		ns__sock_set_err_locked(ep->sk, err);
	NS_STAT_INC(ep->stk, TcpExtTCPAbortOnTimeout);
	tcp_sndq_purge(ep);
	tcp_done(ep);
}

/* Linux tcp_write_timeout(): true when the connection was aborted. */
static bool write_timeout(struct tcp_ep *ep)
{
	uint64_t now = now_ns(ep);
	if (ep->state == TCP_SYN_SENT || ep->state == TCP_SYN_RECV) {
		int retries = ep->state == TCP_SYN_SENT ? (ep->syn_retries ? ep->syn_retries : TCP_SYN_RETRIES)
							: TCP_SYNACK_RETRIES;
		bool out = ep->retransmits >= retries;
		if (ep->user_timeout_ms && ep->retrans_stamp &&
		    now - ep->retrans_stamp >= (uint64_t)ep->user_timeout_ms * NS_NSEC_PER_MSEC)
			out = true;
		if (out) {
			if (ep->state == TCP_SYN_RECV && ep->parent) {
				tcp_done(ep);   /* the request expires quietly */
			} else {
				write_err(ep);
			}
			return true;
		}
		return false;
	}
	unsigned boundary = ep->orphan ? TCP_ORPHAN_RETRIES : TCP_RETRIES2;
	uint64_t start = ep->retrans_stamp ? ep->retrans_stamp : now;
	uint64_t limit = ep->user_timeout_ms ? (uint64_t)ep->user_timeout_ms * NS_NSEC_PER_MSEC
					     : model_timeout_ns(boundary, TCP_RTO_MIN_NS);
	if (now - start >= limit && ep->retransmits >= (ep->user_timeout_ms ? 1 : 1)) {
		write_err(ep);
		return true;
	}
	return false;
}

/* TCP_DEFER_ACCEPT on the listener (Linux syn_ack_recalc): a child whose bare
 * ACK was dropped gets no SYN-ACK retransmissions until the deferring period's
 * last one (a last chance for data, or for an ACK that is then accepted); it
 * expires, quietly, after the SYN-ACK retries and the deferring period.
 * Returns true when the timer event is fully handled (expired or waiting). */
static bool synack_defer_timer(struct tcp_ep *ep, uint8_t defer)
{
	int max = TCP_SYNACK_RETRIES;
	bool expire = ep->retransmits >= max && (!ep->defer_wait || ep->retransmits >= defer);
	bool resend = !ep->defer_wait || ep->retransmits + 1 >= defer;
	if (expire) {
		tcp_done(ep);
		return true;
	}
	if (resend)
		return false;
	ep->retransmits++;
	ns_tcp_rtt_backoff(&ep->rtt);
	ep->t_rtx = now_ns(ep) + tcp_rto_ns(ep);
	ep->rtx_kind = TCP_RTX_RTO;
	return true;
}

/* Linux tcp_retransmit_timer(). */
static void retransmit_timer(struct tcp_ep *ep)
{
	if (ep->state == TCP_SYN_SENT) {
		if (write_timeout(ep))
			return;
		ep->rtx_syn = true;
		if (!ep->retrans_stamp)
			ep->retrans_stamp = now_ns(ep) - tcp_rto_ns(ep);
		tcp_send_syn(ep);
		NS_STAT_INC(ep->stk, TcpRetransSegs);
		NS_STAT_INC(ep->stk, TcpExtTCPSynRetrans);
		NS_STAT_INC(ep->stk, TcpExtTCPTimeouts);
		ep->total_retrans++;
		ep->retransmits++;
		ns_tcp_rtt_backoff(&ep->rtt);
		ep->t_rtx = now_ns(ep) + tcp_rto_ns(ep);
		ep->rtx_kind = TCP_RTX_RTO;
		return;
	}
	if (ep->state == TCP_SYN_RECV && !ep->syn_acked) {
		if (ep->parent && ep->parent->state != TCP_LISTEN) {
			tcp_done(ep);
			return;
		}
		uint8_t defer = ep->parent ? __atomic_load_n(&ep->parent->defer_accept, __ATOMIC_RELAXED) : 0;
		if (defer) {
			if (synack_defer_timer(ep, defer))
				return;
		} else if (write_timeout(ep)) {
			return;
		}
		ep->rtx_syn = true;
		if (!ep->retrans_stamp)
			ep->retrans_stamp = now_ns(ep) - tcp_rto_ns(ep);
		tcp_send_synack(ep);
		NS_STAT_INC(ep->stk, TcpRetransSegs);
		NS_STAT_INC(ep->stk, TcpExtTCPSynRetrans);
		NS_STAT_INC(ep->stk, TcpExtTCPTimeouts);
		ep->total_retrans++;
		ep->retransmits++;
		ns_tcp_rtt_backoff(&ep->rtt);
		ep->t_rtx = now_ns(ep) + tcp_rto_ns(ep);
		ep->rtx_kind = TCP_RTX_RTO;
		return;
	}
	if (ep->snd_una == ep->snd_nxt)
		return;
	if (!ep->retrans_stamp) {
		/* Linux: the original transmission time of the head */
		uint64_t xmit = ep->txr_n ? ep->txr[ep->txr_head & (ep->txr_cap - 1)].xmit_us * NS_NSEC_PER_USEC : 0;
		ep->retrans_stamp = xmit ? xmit : now_ns(ep);
	}
	if (ep->snd_wnd == 0 && ep->state != TCP_SYN_RECV && ep->orphan == false &&
	    now_ns(ep) - ep->lrcvtime > TCP_RTO_MAX_NS) {
		/* the receiver shrank its window and went silent (Linux tcp_rtx_probe0_timed_out) */
		write_err(ep);
		return;
	}
	if (write_timeout(ep))
		return;
	NS_STAT_INC(ep->stk, TcpExtTCPTimeouts);
	tcp_enter_loss(ep);
	ep->retransmits++;
	ns_tcp_rtt_backoff(&ep->rtt);
	tcp_rto_retransmit(ep);   /* the head only; ACKs clock out the rest (F-RTO) */
	ep->t_rtx = now_ns(ep) + tcp_rto_ns(ep);
	ep->rtx_kind = TCP_RTX_RTO;
}

/* Linux tcp_probe_timer(): zero-window probes. */
static void probe_timer(struct tcp_ep *ep)
{
	uint32_t data_end = ep->fin_queued ? ep->fin_seq + (ep->fin_sent ? 1 : 0) : ep->write_seq;
	if (ep->snd_una != ep->snd_nxt || !ns_seq_lt(ep->snd_nxt, data_end + (ep->fin_queued && !ep->fin_sent))) {
		ep->probes_out = 0;
		ep->probe_backoff = 0;
		ep->probe_start = 0;
		return;
	}
	if (ep->user_timeout_ms && ep->probe_start &&
	    now_ns(ep) - ep->probe_start >= (uint64_t)ep->user_timeout_ms * NS_NSEC_PER_MSEC) {
		write_err(ep);
		return;
	}
	unsigned max_probes = ep->orphan ? TCP_ORPHAN_RETRIES : TCP_RETRIES2;
	if (ep->probes_out >= max_probes) {
		write_err(ep);
		return;
	}
	NS_STAT_INC(ep->stk, TcpExtTCPWinProbe);
	if (tcp_write_wakeup(ep) > 0) {
		/* data went out: the retransmission timer takes over */
		ep->probes_out = 0;
		ep->probe_backoff = 0;
		ep->probe_start = 0;
		return;
	}
	ep->probes_out++;
	if (ep->probe_backoff < 15)
		ep->probe_backoff++;
	uint64_t when = (uint64_t)ns_tcp_rtt_rto(&ep->rtt) << ep->probe_backoff;
	if (when > NS_TCP_RTO_MAX_US)
		when = NS_TCP_RTO_MAX_US;
	ep->t_rtx = now_ns(ep) + when * NS_NSEC_PER_USEC;
	ep->rtx_kind = TCP_RTX_PROBE0;
}

/* Linux tcp_keepalive_timer(). */
static void keepalive_timer(struct tcp_ep *ep)
{
	ep->t_keepalive = 0;
	if (!ep->keepalive || (ep->state != TCP_ESTABLISHED && ep->state != TCP_CLOSE_WAIT &&
			       ep->state != TCP_FIN_WAIT1 && ep->state != TCP_FIN_WAIT2))
		return;
	int idle = ep->keepidle ? ep->keepidle : TCP_KEEPIDLE_DEF;
	int intvl = ep->keepintvl ? ep->keepintvl : TCP_KEEPINTVL_DEF;
	int cnt = ep->keepcnt ? ep->keepcnt : TCP_KEEPCNT_DEF;
	uint64_t now = now_ns(ep);
	/* data in flight or queued: the retransmission / probe timers watch the peer */
	if (ep->snd_una != ep->snd_nxt || tcp_may_send_now(ep)) {
		ep->t_keepalive = now + (uint64_t)idle * NS_NSEC_PER_SEC;
		return;
	}
	uint64_t last = ep->lrcvtime > ep->lacktime ? ep->lrcvtime : ep->lacktime;
	uint64_t elapsed = now - last;
	if (elapsed >= (uint64_t)idle * NS_NSEC_PER_SEC) {
		bool expired = ep->user_timeout_ms ? (elapsed >= (uint64_t)ep->user_timeout_ms * NS_NSEC_PER_MSEC &&
						      ep->probes_out > 0)
						   : ep->probes_out >= cnt;
		if (expired) {
			write_err(ep);
			return;
		}
		tcp_send_probe(ep, true);
		NS_STAT_INC(ep->stk, TcpExtTCPKeepAlive);
		ep->probes_out++;
		ep->t_keepalive = now + (uint64_t)intvl * NS_NSEC_PER_SEC;
	} else {
		ep->t_keepalive = last + (uint64_t)idle * NS_NSEC_PER_SEC;
	}
}

static void wait_timer(struct tcp_ep *ep)
{
	ep->t_wait = 0;
	if (ep->state == TCP_TIME_WAIT || ep->state == TCP_FIN_WAIT2)
		tcp_done(ep);
}

static void tcp_timer_fn(void *arg)
{
	struct tcp_ep *ep = arg;
	struct ns_sock *sk = ep->sk;
	pthread_mutex_lock(&sk->mu);
	if (ep->dead) {
		pthread_mutex_unlock(&sk->mu);
		return;
	}
	/* Keep the socket alive while we work (tcp_done may drop table refs).
	 * If the last reference is already gone, another thread is inside
	 * tcp_destroy (blocked in ns__timer_cancel_sync until we return):
	 * taking a reference now would resurrect it and destroy it twice
	 * (a use-after-free found by fuzz/fuzz_whole). */
	if (!urcu_ref_get_unless_zero(&sk->ref)) {
		pthread_mutex_unlock(&sk->mu);
		return;
	}
	ep->timer_armed = 0;
	uint64_t now = now_ns(ep);
	if (ep->t_wait && now >= ep->t_wait)
		wait_timer(ep);
	if (ep->state != TCP_CLOSE && ep->ack_pending && ep->t_delack && now >= ep->t_delack) {
		ep->t_delack = 0;
		NS_STAT_INC(ep->stk, TcpExtDelayedACKs);
		/* Linux: a delayed ACK that had to wait means the peer is not interactive */
		if (ep->pingpong)
			ep->pingpong = false;
		tcp_send_ack(ep);
	}
	if (ep->state != TCP_CLOSE && ep->t_rtx && now >= ep->t_rtx) {
		uint8_t kind = ep->rtx_kind;
		ep->t_rtx = 0;
		ep->rtx_kind = TCP_RTX_NONE;
		switch (kind) {
		case TCP_RTX_RTO:
			retransmit_timer(ep);
			break;
		case TCP_RTX_PROBE0:
			probe_timer(ep);
			break;
		case TCP_RTX_TLP:
			tcp_tlp_fire(ep);
			break;
		case TCP_RTX_REO:
			tcp_rack_timeout(ep);
			break;
		default:
			break;
		}
	}
	if (ep->state != TCP_CLOSE && ep->t_keepalive && now >= ep->t_keepalive)
		keepalive_timer(ep);
	if (ep->state == TCP_CLOSE) {
		ep->t_rtx = ep->t_keepalive = ep->t_wait = ep->t_delack = 0;
	}
	tcp_timer_update(ep);
	bool post = ep->notify_parent;
	pthread_mutex_unlock(&sk->mu);
	if (post)
		tcp_post_unlock(ep);
	ns__sock_put(sk);
}
