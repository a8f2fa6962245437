/*
 * tcp/tcp_cc.c - congestion control framework: registry, slow start and
 * additive increase helpers, PRR, recovery/loss/undo transitions, restart
 * after idle, cwnd-limited tracking.
 * Owns: every ns_tcp_cc_* function of tcp_cc.h except the algorithms
 * (tcp/cc_newreno.c, tcp/cc_cubic.c).
 * Read first: RFC 5681 §3-4, RFC 6937 (PRR), RFC 6928, RFC 3465, RFC 7661;
 * Linux tcp_cong.c, tcp_input.c (tcp_cwnd_reduction, tcp_enter_loss, undo).
 */
#include "netstack/core.h"
#include "tcp_cc.h"
#include "tcp_seq.h"

static const struct ns_tcp_cc_ops *const algos[] = { &ns_tcp_cc_cubic, &ns_tcp_cc_newreno };

const struct ns_tcp_cc_ops *ns_tcp_cc_find(const char *name, size_t len)
{
	while (len && name[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < NS_ARRAY_SIZE(algos); i++) {
		size_t n = strlen(algos[i]->name);
		if (n == len && memcmp(algos[i]->name, name, len) == 0)
			return algos[i];
	}
	return NULL;
}

const struct ns_tcp_cc_ops *ns_tcp_cc_default(void)
{
	return &ns_tcp_cc_cubic;
}

static void set_state(struct ns_tcp_cc *cc, enum ns_tcp_ca_state s)
{
	if (cc->ops->set_state)
		cc->ops->set_state(cc, s);
	cc->ca_state = (uint8_t)s;
}

void ns_tcp_cc_set_state(struct ns_tcp_cc *cc, enum ns_tcp_ca_state s) { set_state(cc, s); }

void ns_tcp_cc_init(struct ns_tcp_cc *cc, const struct ns_tcp_cc_ops *ops, uint32_t mss,
		    uint64_t now_us)
{
	memset(cc, 0, sizeof(*cc));
	cc->ops = ops ? ops : ns_tcp_cc_default();
	cc->cwnd = NS_TCP_INIT_CWND;
	cc->ssthresh = NS_TCP_INFINITE_SSTHRESH;
	cc->cwnd_clamp = NS_TCP_CWND_MAX;
	cc->mss = mss;
	cc->cwnd_stamp_us = now_us;
	if (cc->ops->init)
		cc->ops->init(cc, now_us);
}

void ns_tcp_cc_set_ops(struct ns_tcp_cc *cc, const struct ns_tcp_cc_ops *ops, uint64_t now_us)
{
	if (!ops || ops == cc->ops)
		return;
	cc->ops = ops;
	memset(&cc->priv, 0, sizeof(cc->priv));
	if (ops->init)
		ops->init(cc, now_us);
}

bool ns_tcp_cc_is_cwnd_limited(const struct ns_tcp_cc *cc)
{
	if (cc->cwnd_limited)
		return true;
	/* in slow start, let cwnd grow to twice what was in flight (Linux) */
	if (ns_tcp_cc_in_slow_start(cc))
		return cc->cwnd < 2 * cc->max_packets_out;
	return false;
}

uint32_t ns_tcp_cc_slow_start(struct ns_tcp_cc *cc, uint32_t acked)
{
	uint32_t inc = acked;
	if (cc->abc_limit && inc > cc->abc_limit)
		inc = cc->abc_limit;            /* RFC 3465 L: the excess is not carried over */
	uint64_t want = (uint64_t)cc->cwnd + inc;
	uint32_t cwnd = (uint32_t)NS_MIN(want, (uint64_t)cc->ssthresh);
	if (cwnd < cc->cwnd)
		cwnd = cc->cwnd;
	uint32_t used = cwnd - cc->cwnd;
	cc->cwnd = NS_MIN(cwnd, cc->cwnd_clamp);
	if (cwnd < cc->ssthresh)
		return 0;
	return acked - used;                    /* crossed ssthresh: the rest is for CA */
}

void ns_tcp_cc_cong_avoid_ai(struct ns_tcp_cc *cc, uint32_t w, uint32_t acked)
{
	if (!w)
		w = 1;
	if (cc->cwnd_cnt >= w) {                /* credit from a larger w: apply gently */
		cc->cwnd_cnt = 0;
		cc->cwnd++;
	}
	cc->cwnd_cnt += acked;
	if (cc->cwnd_cnt >= w) {
		uint32_t delta = cc->cwnd_cnt / w;
		cc->cwnd_cnt -= delta * w;
		cc->cwnd += delta;
	}
	cc->cwnd = NS_MIN(cc->cwnd, cc->cwnd_clamp);
}

void ns_tcp_cc_on_ack(struct ns_tcp_cc *cc, const struct ns_tcp_cc_ack *a)
{
	if (cc->ops->pkts_acked)
		cc->ops->pkts_acked(cc, a);
	if (!a->acked || a->sack_only)
		return;
	if (cc->ca_state == NS_TCP_CA_RECOVERY || cc->ca_state == NS_TCP_CA_CWR)
		return;                         /* PRR owns cwnd (ns_tcp_cc_prr_ack) */
	if (cc->ops->cong_avoid)
		cc->ops->cong_avoid(cc, a);
	cc->cwnd_stamp_us = a->now_us;
}

void ns_tcp_cc_on_sent(struct ns_tcp_cc *cc, uint32_t segs, const struct ns_tcp_cc_sent *snd)
{
	if (cc->ca_state == NS_TCP_CA_RECOVERY || cc->ca_state == NS_TCP_CA_CWR)
		cc->prr_out += segs;
	/* Linux tcp_cwnd_validate */
	if (!ns_seq_lt(snd->snd_una, cc->cwnd_usage_seq) || snd->cwnd_limited ||
	    (!cc->cwnd_limited && snd->packets_out > cc->max_packets_out)) {
		cc->cwnd_limited = snd->cwnd_limited;
		cc->max_packets_out = snd->packets_out;
		cc->cwnd_usage_seq = snd->snd_nxt;
	}
	if (ns_tcp_cc_is_cwnd_limited(cc))
		cc->cwnd_stamp_us = snd->now_us;
}

/* Linux tcp_current_ssthresh */
static uint32_t current_ssthresh(const struct ns_tcp_cc *cc)
{
	if (cc->ca_state == NS_TCP_CA_RECOVERY || cc->ca_state == NS_TCP_CA_CWR)
		return cc->ssthresh;
	return NS_MAX(cc->ssthresh, (cc->cwnd >> 1) + (cc->cwnd >> 2));
}

void ns_tcp_cc_enter_recovery(struct ns_tcp_cc *cc, uint32_t in_flight, uint64_t now_us)
{
	(void)in_flight;
	cc->prior_ssthresh = 0;
	if (cc->ca_state != NS_TCP_CA_RECOVERY && cc->ca_state != NS_TCP_CA_CWR) {
		cc->prior_ssthresh = current_ssthresh(cc);
		/* Linux tcp_init_cwnd_reduction */
		cc->cwnd_cnt = 0;
		cc->prior_cwnd = cc->cwnd;
		cc->prr_delivered = 0;
		cc->prr_out = 0;
		cc->ssthresh = cc->ops->ssthresh(cc);
	}
	cc->cwnd_stamp_us = now_us;
	set_state(cc, NS_TCP_CA_RECOVERY);
}

void ns_tcp_cc_prr_ack(struct ns_tcp_cc *cc, uint32_t newly_delivered, uint32_t newly_lost,
		       bool snd_una_advanced, uint32_t in_flight)
{
	if (!newly_delivered || !cc->prior_cwnd)
		return;
	int64_t sndcnt;
	int64_t delta = (int64_t)cc->ssthresh - in_flight;
	cc->prr_delivered += newly_delivered;
	if (delta < 0) {
		/* RFC 6937: proportional part, ceil(ssthresh * delivered / prior_cwnd) - out */
		uint64_t dividend = (uint64_t)cc->ssthresh * cc->prr_delivered + cc->prior_cwnd - 1;
		sndcnt = (int64_t)(dividend / cc->prior_cwnd) - cc->prr_out;
	} else {
		/* slow-start reduction bound (PRR-SSRB) */
		sndcnt = NS_MAX((int64_t)cc->prr_delivered - cc->prr_out, (int64_t)newly_delivered);
		if (snd_una_advanced && !newly_lost)
			sndcnt++;
		sndcnt = NS_MIN(delta, sndcnt);
	}
	/* force a fast retransmit upon entering recovery */
	sndcnt = NS_MAX(sndcnt, (int64_t)(cc->prr_out ? 0 : 1));
	if (sndcnt < 0)
		sndcnt = 0;
	cc->cwnd = (uint32_t)NS_MIN((int64_t)in_flight + sndcnt, (int64_t)cc->cwnd_clamp);
}

void ns_tcp_cc_exit_recovery(struct ns_tcp_cc *cc, uint64_t now_us)
{
	if (cc->ssthresh < NS_TCP_INFINITE_SSTHRESH &&
	    (cc->ca_state == NS_TCP_CA_RECOVERY || cc->ca_state == NS_TCP_CA_CWR)) {
		cc->cwnd = cc->ssthresh;
		cc->cwnd_stamp_us = now_us;
	}
	set_state(cc, NS_TCP_CA_OPEN);
}

bool ns_tcp_cc_rto_should_reduce(const struct ns_tcp_cc *cc, uint32_t snd_una, uint32_t high_seq,
				 uint32_t retransmits)
{
	return cc->ca_state <= NS_TCP_CA_DISORDER || !ns_seq_gt(high_seq, snd_una) ||
	       (cc->ca_state == NS_TCP_CA_LOSS && !retransmits);
}

void ns_tcp_cc_on_rto(struct ns_tcp_cc *cc, uint32_t in_flight, bool reduce, uint64_t now_us)
{
	if (reduce) {
		cc->prior_ssthresh = current_ssthresh(cc);
		cc->prior_cwnd = cc->cwnd;
		cc->ssthresh = cc->ops->ssthresh(cc);
	}
	cc->cwnd = NS_MIN(in_flight + 1, cc->cwnd_clamp);
	cc->cwnd_cnt = 0;
	cc->cwnd_stamp_us = now_us;
	set_state(cc, NS_TCP_CA_LOSS);
}

void ns_tcp_cc_enter_cwr(struct ns_tcp_cc *cc, uint64_t now_us)
{
	cc->prior_ssthresh = 0;
	if (cc->ca_state >= NS_TCP_CA_CWR)
		return;                         /* CWR, Recovery or Loss already reduce */
	cc->cwnd_cnt = 0;
	cc->prior_cwnd = cc->cwnd;
	cc->prr_delivered = cc->prr_out = 0;
	cc->ssthresh = cc->ops->ssthresh(cc);
	cc->cwnd_stamp_us = now_us;
	set_state(cc, NS_TCP_CA_CWR);
}

void ns_tcp_cc_cwr_once(struct ns_tcp_cc *cc, uint64_t now_us)
{
	cc->prior_ssthresh = 0;
	cc->cwnd_cnt = 0;
	cc->prior_cwnd = cc->cwnd;
	cc->prr_delivered = cc->prr_out = 0;
	cc->ssthresh = cc->ops->ssthresh(cc);
	set_state(cc, NS_TCP_CA_CWR);
	ns_tcp_cc_exit_recovery(cc, now_us);
}

void ns_tcp_cc_exit_loss(struct ns_tcp_cc *cc, uint64_t now_us)
{
	cc->cwnd_stamp_us = now_us;
	set_state(cc, NS_TCP_CA_OPEN);
}

void ns_tcp_cc_undo(struct ns_tcp_cc *cc, uint64_t now_us)
{
	if (cc->prior_ssthresh) {
		uint32_t undo = cc->ops->undo_cwnd ? cc->ops->undo_cwnd(cc)
						   : NS_MAX(cc->cwnd, cc->prior_cwnd);
		cc->cwnd = NS_MIN(undo, cc->cwnd_clamp);
		if (cc->prior_ssthresh > cc->ssthresh)
			cc->ssthresh = cc->prior_ssthresh;
	}
	cc->prior_ssthresh = 0;
	cc->cwnd_stamp_us = now_us;
	set_state(cc, NS_TCP_CA_OPEN);
}

void ns_tcp_cc_idle_restart(struct ns_tcp_cc *cc, uint64_t idle_us, uint32_t rto_us,
			    uint64_t now_us)
{
	if (idle_us > rto_us && rto_us) {
		/* Linux tcp_cwnd_restart (RFC 7661 / RFC 5681 §4.1) */
		uint32_t restart = NS_MIN((uint32_t)NS_TCP_INIT_CWND, cc->cwnd);
		uint32_t cwnd = cc->cwnd;
		cc->ssthresh = current_ssthresh(cc);
		int64_t delta = (int64_t)idle_us;
		while ((delta -= rto_us) > 0 && cwnd > restart)
			cwnd >>= 1;
		cc->cwnd = NS_MAX(cwnd, restart);
		cc->cwnd_stamp_us = now_us;
	}
	if (cc->ops->tx_start)
		cc->ops->tx_start(cc, idle_us, now_us);
}

/* ---- undo detection (RFC 3708, RFC 3522; Linux tcp_may_undo) ---------------- */

void ns_tcp_undo_start(struct ns_tcp_undo *u, uint32_t snd_una)
{
	memset(u, 0, sizeof(*u));
	u->active = true;
	u->marker = snd_una;
}

void ns_tcp_undo_retransmitted(struct ns_tcp_undo *u, uint32_t segs, uint32_t tsval)
{
	if (!u->active)
		return;
	if (!u->ts_valid && tsval) {
		u->rtx_tsval = tsval;
		u->ts_valid = true;
	}
	u->retrans += (int32_t)segs;
}

void ns_tcp_undo_dsack(struct ns_tcp_undo *u, uint32_t start, uint32_t end, uint32_t mss)
{
	/* Linux tcp_dsack_seen / tcp_sacktag: D-SACKs below the marker are old news */
	if (!u->active || !ns_seq_lt(start, end) || ns_seq_lt(start, u->marker) || u->retrans <= 0)
		return;
	uint32_t segs = mss ? (end - start + mss - 1) / mss : 1;
	u->retrans -= (int32_t)NS_MIN(segs, (uint32_t)u->retrans);
}

bool ns_tcp_undo_possible(const struct ns_tcp_undo *u, bool has_ts, uint32_t tsecr)
{
	if (!u->active)
		return false;
	if (u->retrans <= 0)
		return true;
	/* Eifel: the ACK was triggered by the original transmission */
	return has_ts && u->ts_valid && tsecr && ns_seq_lt(tsecr, u->rtx_tsval);
}
