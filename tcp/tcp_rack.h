/*
 * tcp/tcp_rack.h - RACK-TLP loss detection (RFC 8985), Linux's flavour
 * (tcp_recovery.c, tcp_schedule_loss_probe).
 * Owns: the RACK state (xmit time and end_seq of the most recently sent
 * segment known delivered, RTT of that delivery), the reordering window
 * (min_rtt/4 scaled by D-SACK feedback, RFC 8985 §6.2 step 4), the per-segment
 * "lost?" decision and the reordering timer, and TLP (PTO computation, probe
 * choice, episode tracking and its congestion response, §7).
 *
 * Data interface: the connection keeps its retransmission queue; RACK never
 * sees it except through struct ns_rack_seg values handed in:
 *   - for every segment newly ACKed or SACKed by an ACK:  ns_rack_on_delivered()
 *   - then ns_rack_update_reo_wnd() once per ACK,
 *   - then for each outstanding segment that is not SACKed and not already
 *     marked lost, in send-time order (or any order: the result is the
 *     same, just without the early exit): ns_rack_seg_check() says lost or
 *     not, and accumulates the reordering timeout.  ns_rack_detect_loss()
 *     runs that loop over an iterator callback for callers that prefer it.
 * Times are µs of the stack clock.  No locking, no allocation.
 */
#ifndef NS_TCP_RACK_H
#define NS_TCP_RACK_H

#include <stdbool.h>
#include <stdint.h>

#define NS_RACK_REO_WND_STEPS_MAX 16    /* RFC 8985 §6.2: reo_wnd_mult bounded */
#define NS_RACK_REO_WND_PERSIST 16      /* Linux: keep a raised window for 16 recoveries */
#define NS_TLP_WCDELACK_US 200000u      /* RFC 8985 §7.2 WCDelAckT = 200 ms (Linux TCP_RTO_MIN) */
#define NS_TLP_MIN_EXTRA_US 2000u       /* Linux TCP_TIMEOUT_MIN (2 jiffies) added when >1 in flight */

/* one segment of the retransmission queue, as RACK needs it */
struct ns_rack_seg {
	uint32_t seq, end;              /* [seq, end) */
	uint64_t xmit_us;               /* last (re)transmission time */
	uint8_t flags;                  /* NS_RACK_SEG_* */
	void *cookie;                   /* caller's segment pointer (for callbacks) */
};
#define NS_RACK_SEG_RETRANS 0x01        /* retransmitted at least once (Karn) */
#define NS_RACK_SEG_SACKED  0x02
#define NS_RACK_SEG_LOST    0x04        /* already marked lost (not yet retransmitted) */

struct ns_rack {
	uint64_t xmit_us;               /* RACK.xmit_ts of the most recently sent delivered segment */
	uint32_t end_seq;               /* RACK.end_seq */
	uint32_t rtt_us;                /* RACK.rtt */
	bool advanced;                  /* RACK.xmit_ts moved forward since the last loss detection */
	bool dsack_seen;                /* a D-SACK arrived since the last reo_wnd update */
	uint8_t reo_wnd_steps;          /* RACK.reo_wnd_mult */
	uint8_t reo_wnd_persist;        /* recoveries left before resetting steps */
	uint32_t dsack_round_end;       /* snd_nxt when the last D-SACK step was taken (one per RTT) */
	bool reord_seen;                /* reordering observed: reo_wnd may be non-zero in recovery */
	/* TLP (RFC 8985 §7) */
	uint32_t tlp_high_seq;          /* TLPRxtOut episode end (snd_nxt at probe), 0: none */
	bool tlp_is_retrans;            /* the probe was a retransmission */
	bool tlp_in_flight;             /* an episode is in progress */
};

/* Fresh state. */
void ns_rack_init(struct ns_rack *r);

/*
 * RFC 8985 §6.2 step 2 (Linux tcp_rack_advance): a segment sent at xmit_us
 * ending at end_seq was newly delivered (ACKed or SACKed) at now_us.
 * retransmitted segments whose delivery may be for the original (RTT
 * shorter than min_rtt, RFC 8985 §6.2 step 2 / Linux) are ignored.
 */
void ns_rack_on_delivered(struct ns_rack *r, const struct ns_rack_seg *s, uint64_t now_us,
			  uint32_t min_rtt_us);

/*
 * RFC 8985 §6.2 step 4 (Linux tcp_rack_update_reo_wnd), once per ACK after
 * the deliveries: dsack: this ACK carried a D-SACK; snd_una/snd_nxt after
 * it; recovery_ended: a recovery episode just ended (persist countdown).
 */
void ns_rack_update_reo_wnd(struct ns_rack *r, bool dsack, uint32_t snd_una, uint32_t snd_nxt,
			    bool recovery_ended);

/* Reordering was observed (e.g. a SACK filled a hole below the highest SACK without a retransmission). */
static inline void ns_rack_reordering_seen(struct ns_rack *r) { r->reord_seen = true; }

/*
 * The reordering window (RFC 8985 §6.2 step 5 / Linux tcp_rack_reo_wnd):
 * until reordering has been seen, 0 when in recovery or when sacked_segs
 * >= 3 (DupThresh); otherwise min(min_rtt/4 * reo_wnd_steps, srtt).
 */
uint32_t ns_rack_reo_wnd(const struct ns_rack *r, uint32_t min_rtt_us, uint32_t srtt_us,
			 bool in_recovery, uint32_t sacked_segs);

/*
 * RFC 8985 §6.2 step 5 for one segment (not SACKed, not already lost):
 * returns true when it is lost now.  Otherwise, if the segment was sent
 * before RACK.segment, *timeout_us is raised to the time left until it
 * would be (the reordering timer to arm; 0 means none).
 */
bool ns_rack_seg_check(const struct ns_rack *r, const struct ns_rack_seg *s, uint32_t reo_wnd_us,
		       uint64_t now_us, uint32_t *timeout_us);

/* Iterator over the retransmission queue: fills *s, returns false at the end. */
typedef bool (*ns_rack_next_fn)(void *ctx, struct ns_rack_seg *s);
/* Called for each segment found lost (mark it, count it). */
typedef void (*ns_rack_lost_fn)(void *ctx, const struct ns_rack_seg *s);

/*
 * RFC 8985 §6.2 steps 5-6 as a loop (Linux tcp_rack_detect_loss): visits
 * segments via next() (send-time order lets it stop at the first segment
 * sent after RACK.segment), skips SACKed and already-lost ones, calls
 * lost() for each newly lost one.  Returns how many were marked;
 * *timeout_us is the longest time left among segments not yet lost (Linux
 * takes the max so one timer covers them all; 0: none):
 * arm the reordering timer for it plus NS_TLP_MIN_EXTRA_US (Linux
 * TCP_TIMEOUT_MIN), no later than the RTO.  Clears r->advanced.
 * Linux only runs this when r->advanced is set (or from the timer).
 */
unsigned ns_rack_detect_loss(struct ns_rack *r, uint32_t reo_wnd_us, uint64_t now_us,
			     ns_rack_next_fn next, ns_rack_lost_fn lost, void *ctx,
			     uint32_t *timeout_us);

/* ---- TLP ------------------------------------------------------------------- */

/*
 * RFC 8985 §7.2 / Linux tcp_schedule_loss_probe: may a probe timer be armed
 * (instead of the RTO) after sending or on an ACK?  sack_ok: the connection
 * uses SACK; open_state: congestion state is Open or CWR; packets_out > 0.
 */
bool ns_rack_tlp_may_schedule(const struct ns_rack *r, bool sack_ok, bool open_state,
			      uint32_t packets_out);
/* The PTO fired: false while a previous probe is unanswered (then just re-arm the RTO). */
static inline bool ns_rack_tlp_may_send(const struct ns_rack *r) { return !r->tlp_in_flight; }

/*
 * The PTO (µs): 2*SRTT, plus WCDelAckT (200 ms) when only one segment is in
 * flight, else + 2 ms (Linux); 1 s without an RTT sample; never later than
 * the pending RTO would fire (rto_left_us: time until the RTO deadline).
 */
uint32_t ns_rack_tlp_pto(uint32_t srtt_us, uint32_t packets_out, uint32_t rto_left_us);

/*
 * The PTO fired: RFC 8985 §7.3.  Returns true when the probe should carry new
 * data (new_data_ok: unsent data exists and the windows allow one segment),
 * false when it should retransmit the highest-sequence segment.
 * The caller then calls ns_rack_tlp_sent().
 */
bool ns_rack_tlp_use_new_data(bool new_data_ok);
/* The probe went out: snd_nxt after sending, retrans: it was a retransmission. */
void ns_rack_tlp_sent(struct ns_rack *r, uint32_t snd_nxt, bool retrans);

/*
 * RFC 8985 §7.4 (Linux tcp_process_tlp_ack), per ACK while an episode is
 * open: ack is the cumulative ACK, dsack_for_probe: this ACK's D-SACK covers
 * the probe (the loss was spurious), is_dupack: no new data/SACK info.
 * Returns true when the probe repaired a real loss, so the caller must do a
 * congestion response (enter CWR-style reduction once, count
 * TcpExtTCPLossProbeRecovery).  Ends the episode when ack passes tlp_high_seq.
 */
bool ns_rack_tlp_on_ack(struct ns_rack *r, uint32_t ack, bool dsack_for_probe, bool is_dupack);
/* Does a D-SACK block [start, end) report the probe (Linux FLAG_DSACK_TLP)? */
bool ns_rack_tlp_dsack_is_probe(const struct ns_rack *r, uint32_t dsack_end);
/* An RTO or entering recovery ends any TLP episode (Linux tcp_init_cwnd_reduction). */
static inline void ns_rack_tlp_reset(struct ns_rack *r) { r->tlp_in_flight = false; }

#endif
