/*
 * tcp/tcp_rtt.c - RTT estimation and RTO (RFC 6298 with Linux's arithmetic).
 * Owns: the estimator, RTO backoff, the windowed min-RTT, Karn's rule and
 * timestamp RTT samples (see tcp_rtt.h for the formulas and why they differ
 * from RFC 6298's text).
 * Read first: RFC 6298 §2-5, RFC 7323 §4, Linux tcp_rtt_estimator/tcp_set_rto.
 */
#include "netstack/core.h"
#include "tcp_rtt.h"
#include "tcp_seq.h"

void ns_tcp_rtt_init(struct ns_tcp_rtt *r)
{
	memset(r, 0, sizeof(*r));
	r->rto_min_us = NS_TCP_RTO_MIN_US;
	r->rto_us = NS_TCP_RTO_INIT_US;
	r->min_rtt_us = UINT32_MAX;
}

static void min_rtt_update(struct ns_tcp_rtt *r, uint32_t m, uint64_t now_us)
{
	if (r->min_rtt_us == UINT32_MAX || m <= r->min_rtt_us ||
	    now_us - r->min_rtt_stamp_us > NS_TCP_MIN_RTT_WLEN_US) {
		r->min_rtt_us = m;
		r->min_rtt_stamp_us = now_us;
	}
}

/*
 * Linux tcp_set_rto + tcp_bound_rto: srtt + rttvar, at most 120 s, kept in
 * whole jiffies (usecs_to_jiffies rounds up; HZ = 1000), so tcpi_rto reads
 * 201000 on a LAN as on Linux.
 */
static void set_rto(struct ns_tcp_rtt *r)
{
	uint64_t rto = (uint64_t)(r->srtt_us >> 3) + r->rttvar_us;
	rto = (rto + 999) / 1000 * 1000;
	r->rto_us = (uint32_t)NS_MIN(rto, (uint64_t)NS_TCP_RTO_MAX_US);
}

/* The estimator proper, once a previous sample exists. */
static void rtt_update(struct ns_tcp_rtt *r, int64_t m, uint32_t snd_una, uint32_t snd_nxt)
{
	int64_t srtt = r->srtt_us;
	m -= srtt >> 3;                         /* error against the estimate */
	srtt += m;                              /* srtt = 7/8 srtt + 1/8 m */
	int64_t mdev = r->mdev_us;
	if (m < 0) {
		m = -m - (mdev >> 2);
		if (m > 0)
			m >>= 3;                /* an RTT decrease weighs 1/8 as much */
	} else {
		m -= mdev >> 2;
	}
	mdev += m;                              /* mdev = 3/4 mdev + 1/4 |err| */
	r->mdev_us = (uint32_t)NS_MAX(mdev, (int64_t)0);
	if (r->mdev_us > r->mdev_max_us) {
		r->mdev_max_us = r->mdev_us;
		if (r->mdev_max_us > r->rttvar_us)
			r->rttvar_us = r->mdev_max_us;
	}
	if (ns_seq_gt(snd_una, r->rtt_seq)) {
		/* one RTT has passed: let rttvar decay toward this RTT's max */
		if (r->mdev_max_us < r->rttvar_us)
			r->rttvar_us -= (r->rttvar_us - r->mdev_max_us) >> 2;
		r->rtt_seq = snd_nxt;
		r->mdev_max_us = r->rto_min_us;
	}
	r->srtt_us = (uint32_t)NS_MAX(srtt, (int64_t)1);
}

void ns_tcp_rtt_sample(struct ns_tcp_rtt *r, uint32_t m_us, uint32_t snd_una, uint32_t snd_nxt,
		       uint64_t now_us)
{
	if (m_us == 0)
		m_us = 1;
	if (m_us > NS_TCP_RTO_MAX_US * 4)
		m_us = NS_TCP_RTO_MAX_US * 4;   /* keeps srtt << 3 inside 32 bits */
	r->last_rtt_us = m_us;
	min_rtt_update(r, m_us, now_us);
	if (r->srtt_us) {
		rtt_update(r, m_us, snd_una, snd_nxt);
	} else {
		r->srtt_us = m_us << 3;         /* first measurement: srtt = m */
		r->mdev_us = m_us << 1;         /* rttvar = m/2, so rto = 3m */
		r->rttvar_us = NS_MAX(r->mdev_us, r->rto_min_us);
		r->mdev_max_us = r->rttvar_us;
		r->rtt_seq = snd_nxt;
	}
	set_rto(r);
}

uint32_t ns_tcp_rtt_rto(const struct ns_tcp_rtt *r)
{
	uint64_t rto = (uint64_t)r->rto_us << NS_MIN(r->backoff, (uint8_t)31);
	return (uint32_t)NS_MIN(rto, (uint64_t)NS_TCP_RTO_MAX_US);
}

void ns_tcp_rtt_backoff(struct ns_tcp_rtt *r)
{
	if (r->backoff < 31)
		r->backoff++;
}

void ns_tcp_rtt_reset_backoff(struct ns_tcp_rtt *r)
{
	r->backoff = 0;
}

void ns_tcp_rtt_syn_lost(struct ns_tcp_rtt *r)
{
	if (!r->srtt_us)
		r->rto_us = NS_TCP_TIMEOUT_FALLBACK_US;
	r->backoff = 0;
}

int64_t ns_tcp_rtt_seq_sample(uint64_t xmit_us, uint64_t now_us, bool retransmitted)
{
	if (retransmitted || now_us < xmit_us)
		return -1;
	return (int64_t)(now_us - xmit_us);
}

int64_t ns_tcp_rtt_ts_sample(uint32_t ts_now, uint32_t tsecr, uint32_t min_ticks)
{
	if (!tsecr)
		return -1;
	uint32_t delta = ts_now - tsecr;
	if (delta >= INT32_MAX / (1000000u / NS_TCP_TS_HZ))
		return -1;                      /* negative or absurd */
	if (!delta)
		delta = min_ticks;              /* "less than a tick": Linux counts min */
	return (int64_t)delta * (1000000u / NS_TCP_TS_HZ);
}
