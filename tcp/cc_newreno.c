/*
 * tcp/cc_newreno.c - "reno": standard AIMD congestion avoidance (RFC 5681),
 * the congestion-control side of NewReno (RFC 6582; partial-ACK recovery
 * itself is the connection's job).  Linux's tcp_reno_* behaviour:
 * slow start to ssthresh, +1 segment per cwnd ACKed, ssthresh = max(cwnd/2, 2),
 * undo to max(cwnd, prior_cwnd).
 * Owns: ns_tcp_cc_newreno.
 */
#include "netstack/core.h"
#include "tcp_cc.h"

static void reno_cong_avoid(struct ns_tcp_cc *cc, const struct ns_tcp_cc_ack *a)
{
	if (!ns_tcp_cc_is_cwnd_limited(cc))
		return;
	uint32_t acked = a->acked;
	if (ns_tcp_cc_in_slow_start(cc)) {
		acked = ns_tcp_cc_slow_start(cc, acked);
		if (!acked)
			return;
	}
	ns_tcp_cc_cong_avoid_ai(cc, cc->cwnd, acked);
}

static uint32_t reno_ssthresh(struct ns_tcp_cc *cc)
{
	return NS_MAX(cc->cwnd >> 1, 2u);
}

static uint32_t reno_undo_cwnd(struct ns_tcp_cc *cc)
{
	return NS_MAX(cc->cwnd, cc->prior_cwnd);
}

const struct ns_tcp_cc_ops ns_tcp_cc_newreno = {
	.name = "reno",
	.cong_avoid = reno_cong_avoid,
	.ssthresh = reno_ssthresh,
	.undo_cwnd = reno_undo_cwnd,
};
