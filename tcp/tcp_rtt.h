/*
 * tcp/tcp_rtt.h - round-trip time estimation and the retransmission timeout
 * (RFC 6298, with Linux's arithmetic so RTO and TCP_INFO values match it).
 * Owns: SRTT/RTTVAR (µs), the RTO and its exponential backoff, Karn's rule
 * helpers, the windowed min RTT (for RACK and HyStart), and RTT samples
 * from timestamps (RFC 7323 §4).
 *
 * Linux's estimator (tcp_rtt_estimator): srtt = 7/8 srtt + 1/8 m;
 * mdev = 3/4 mdev + 1/4 |m - srtt| (a decrease of the error counts 1/8 as
 * much); rttvar = max(mdev over the last RTT, rto_min) and only decays once
 * per RTT; RTO = srtt + rttvar, rounded up to whole milliseconds (Linux keeps
 * it in jiffies, HZ = 1000).  This differs from RFC 6298's
 * RTO = SRTT + 4*RTTVAR with a 1 s floor: Linux uses a 200 ms floor on the
 * variance term, which is what peers observe.  First sample: srtt = m,
 * mdev = m/2 (so RTO = 3m, at least m + 200 ms).
 *
 * Time values are µs.  No locking; embedded in the connection.
 */
#ifndef NS_TCP_RTT_H
#define NS_TCP_RTT_H

#include <stdbool.h>
#include <stdint.h>

#define NS_TCP_RTO_MIN_US 200000u       /* Linux TCP_RTO_MIN */
#define NS_TCP_RTO_MAX_US 120000000u    /* Linux TCP_RTO_MAX */
#define NS_TCP_RTO_INIT_US 1000000u     /* RFC 6298 §2.1, Linux TCP_TIMEOUT_INIT */
#define NS_TCP_TIMEOUT_FALLBACK_US 3000000u /* RFC 6298 §5.7: after a lost SYN */
#define NS_TCP_TS_HZ 1000u              /* timestamp clock: 1 ms, as Linux */
#define NS_TCP_MIN_RTT_WLEN_US (300ull * 1000000ull) /* Linux tcp_min_rtt_wlen = 300 s */

struct ns_tcp_rtt {
	uint32_t srtt_us;               /* smoothed RTT << 3 (Linux srtt_us); 0: no sample yet */
	uint32_t mdev_us;               /* mean deviation << 2 (Linux mdev_us) */
	uint32_t mdev_max_us;           /* max mdev over the current RTT */
	uint32_t rttvar_us;             /* variance term used in the RTO */
	uint32_t rtt_seq;               /* snd_nxt when the current RTT window began */
	uint32_t rto_min_us;            /* floor on the variance term (default 200 ms) */
	uint32_t rto_us;                /* current RTO, without backoff */
	uint8_t backoff;                /* exponential backoff shift (icsk_backoff) */
	uint32_t min_rtt_us;            /* windowed minimum RTT, UINT32_MAX if none */
	uint64_t min_rtt_stamp_us;      /* when min_rtt_us was taken */
	uint32_t last_rtt_us;           /* most recent sample (tcpi_rtt uses srtt, not this) */
};

/* Fresh state: no sample, RTO 1 s, no backoff. */
void ns_tcp_rtt_init(struct ns_tcp_rtt *r);

/*
 * Feeds one valid RTT sample m_us (> 0; callers apply Karn's rule first, see
 * below).  snd_una and snd_nxt are the connection's after processing the
 * ACK: they delimit Linux's once-per-RTT decay of rttvar.  Updates the RTO
 * (backoff is not touched: the caller resets it on forward progress, as
 * RFC 6298 §5.7 / Linux do).  now_us feeds the min-RTT filter.
 */
void ns_tcp_rtt_sample(struct ns_tcp_rtt *r, uint32_t m_us, uint32_t snd_una, uint32_t snd_nxt,
		       uint64_t now_us);

/* Linux's SYN/SYN-ACK RTT sample (tcp_synack_rtt_meas / first sample): same as above. */
static inline void ns_tcp_rtt_sample_syn(struct ns_tcp_rtt *r, uint32_t m_us, uint32_t snd_nxt,
					 uint64_t now_us)
{
	ns_tcp_rtt_sample(r, m_us, snd_nxt, snd_nxt, now_us);
}

/* The RTO to arm now: rto_us << backoff, capped at 120 s. */
uint32_t ns_tcp_rtt_rto(const struct ns_tcp_rtt *r);
/* Timer expired: backoff++ (the next ns_tcp_rtt_rto() doubles, capped). */
void ns_tcp_rtt_backoff(struct ns_tcp_rtt *r);
/* Forward progress (new data ACKed): backoff = 0. */
void ns_tcp_rtt_reset_backoff(struct ns_tcp_rtt *r);
/*
 * RFC 6298 §5.7 / Linux tcp_init_transfer: the SYN or SYN-ACK was
 * retransmitted and no RTT sample was taken, so start data transfer with a 3 s RTO.
 */
void ns_tcp_rtt_syn_lost(struct ns_tcp_rtt *r);

/* TCP_INFO values (Linux tcp_get_info): tcpi_rtt, tcpi_rttvar, tcpi_rto, tcpi_min_rtt. */
static inline uint32_t ns_tcp_rtt_srtt(const struct ns_tcp_rtt *r) { return r->srtt_us >> 3; }
static inline uint32_t ns_tcp_rtt_rttvar(const struct ns_tcp_rtt *r) { return r->mdev_us >> 2; }
static inline uint32_t ns_tcp_rtt_min(const struct ns_tcp_rtt *r) { return r->min_rtt_us; }
static inline bool ns_tcp_rtt_has_sample(const struct ns_tcp_rtt *r) { return r->srtt_us != 0; }

/*
 * Karn's rule (RFC 6298 §3): an ACK for a segment that was retransmitted
 * gives no RTT sample unless it carries a timestamp echo.  Returns the sample
 * (µs) for a segment first sent at xmit_us and ACKed at now_us, or -1 when it
 * must not be used (retransmitted, or clock went backwards).
 */
int64_t ns_tcp_rtt_seq_sample(uint64_t xmit_us, uint64_t now_us, bool retransmitted);

/*
 * Timestamp clock (RFC 7323 §5.4, Linux tcp_time_stamp): milliseconds of the
 * stack clock, plus the connection's offset (ns_tcp_ts_offset in tcp_isn.h).
 */
static inline uint32_t ns_tcp_ts_now(uint64_t now_ns, uint32_t offset)
{
	return (uint32_t)(now_ns / 1000000u) + offset;
}

/*
 * RTT sample from a timestamp echo (RFC 7323 §4.1, Linux tcp_rtt_tsopt_us):
 * ts_now - tsecr ticks of 1 ms, converted to µs.  A difference of 0 ticks
 * counts as min_ticks (Linux passes 1 for data ACKs: "less than one tick";
 * 0 for SYN-ACKs).  Returns -1 when tsecr is 0 or the difference is negative
 * or absurd (2^31 / 1000 ticks or more).
 */
int64_t ns_tcp_rtt_ts_sample(uint32_t ts_now, uint32_t tsecr, uint32_t min_ticks);

#endif
