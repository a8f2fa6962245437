/*
 * tcp/tcp_cc.h - congestion control interface (RFC 5681, RFC 9438 CUBIC,
 * RFC 6582 NewReno, RFC 6928 initial window, RFC 3465 byte counting,
 * RFC 6937 proportional rate reduction).
 * Owns: struct ns_tcp_cc (cwnd and ssthresh in segments, as Linux's
 * snd_cwnd/snd_ssthresh and TCP_INFO report them), the algorithm registry
 * ("cubic" default, "reno"), the generic slow start / additive increase,
 * PRR during recovery, and undo.  Algorithms: tcp/cc_newreno.c, tcp/cc_cubic.c.
 *
 * How the connection (tcpcore) drives it, mirroring Linux's tcp_ack():
 *   connect/accept:   ns_tcp_cc_init(cc, ops, mss, now_us)
 *   each ACK:         if not in recovery/loss:  ns_tcp_cc_on_ack(cc, &ack)
 *                     in recovery:              ns_tcp_cc_prr_ack(cc, ...)
 *   each send:        ns_tcp_cc_on_sent(cc, segs, &snd)  (PRR accounting, cwnd-limited tracking)
 *   3 dupacks / SACK / RACK loss: ns_tcp_cc_enter_recovery(cc, in_flight, now)
 *   recovery done (snd_una >= recovery point): ns_tcp_cc_exit_recovery(cc, now)
 *   RTO fired:        ns_tcp_cc_on_rto(cc, in_flight, reduce, now)   (cwnd = in_flight + 1, Loss state)
 *   Loss state done:  ns_tcp_cc_exit_loss(cc, now)
 *   spurious recovery detected (D-SACK / timestamps, RFC 3522/2883): ns_tcp_cc_undo(cc)
 *   sending with nothing in flight: ns_tcp_cc_idle_restart(cc, idle_us, rto_us, now)
 *                     (idle_us: time since the last data segment was sent)
 * Segments, not bytes: acked counts are segments (GSO segments count each).
 * No locking, no allocation: the caller's lock covers it.
 */
#ifndef NS_TCP_CC_H
#define NS_TCP_CC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_TCP_INIT_CWND 10u                    /* RFC 6928, Linux TCP_INIT_CWND */
#define NS_TCP_INFINITE_SSTHRESH 0x7fffffffu    /* Linux TCP_INFINITE_SSTHRESH */
#define NS_TCP_CWND_MAX 0x7fffffffu
#define NS_TCP_CC_NAME_MAX 16                   /* Linux TCP_CA_NAME_MAX */
#define NS_TCP_CC_PRIV_WORDS 16                 /* per-algorithm private state */

/* congestion state (Linux icsk_ca_state) */
enum ns_tcp_ca_state {
	NS_TCP_CA_OPEN = 0,
	NS_TCP_CA_DISORDER,     /* dupacks/SACKs seen, no loss yet (caller's bookkeeping) */
	NS_TCP_CA_CWR,          /* ECN-triggered reduction */
	NS_TCP_CA_RECOVERY,     /* fast recovery */
	NS_TCP_CA_LOSS,         /* after an RTO */
};

struct ns_tcp_cc;

/* One ACK as the algorithm sees it. */
struct ns_tcp_cc_ack {
	uint32_t acked;         /* segments newly delivered (cum-ACKed + newly SACKed) */
	int64_t rtt_us;         /* RTT sample of this ACK, -1 if none */
	uint32_t in_flight;     /* segments in flight before this ACK (Linux prior_in_flight) */
	uint64_t now_us;
	uint32_t snd_una;       /* after this ACK (HyStart rounds) */
	uint32_t snd_nxt;
	uint32_t srtt_us;       /* smoothed RTT (0: none), for HyStart's ACK-delay allowance */
	bool sack_only;         /* snd_una did not advance: cwnd may not grow (Linux tcp_may_raise_cwnd) */
};

struct ns_tcp_cc_ops {
	const char *name;
	/* cwnd/ssthresh already set to IW10 / infinite; set up private state */
	void (*init)(struct ns_tcp_cc *cc, uint64_t now_us);
	/* Open state ACK, cwnd-limited: grow cwnd (Linux cong_avoid) */
	void (*cong_avoid)(struct ns_tcp_cc *cc, const struct ns_tcp_cc_ack *a);
	/* ssthresh to use after a congestion event (Linux ssthresh()) */
	uint32_t (*ssthresh)(struct ns_tcp_cc *cc);
	/* every ACK, with its RTT sample (Linux pkts_acked; HyStart delay) */
	void (*pkts_acked)(struct ns_tcp_cc *cc, const struct ns_tcp_cc_ack *a);
	/* state change (Linux set_state), e.g. entering LOSS resets CUBIC */
	void (*set_state)(struct ns_tcp_cc *cc, enum ns_tcp_ca_state s);
	/* transmission restarts with nothing in flight after idle_us (Linux CA_EVENT_TX_START) */
	void (*tx_start)(struct ns_tcp_cc *cc, uint64_t idle_us, uint64_t now_us);
	/* cwnd to restore on undo (Linux undo_cwnd) */
	uint32_t (*undo_cwnd)(struct ns_tcp_cc *cc);
};

/* CUBIC's private state (tcp/cc_cubic.c; here so ns_tcp_cc can hold it without casts). */
struct ns_tcp_cc_cubic {
	uint32_t cnt;                   /* ACKs per +1 cwnd */
	uint32_t last_max_cwnd;         /* W_max */
	uint32_t last_cwnd;
	uint32_t last_time;             /* ms of the last update */
	uint32_t origin_point;
	uint32_t k;                     /* time to origin, 2^-10 s */
	uint32_t delay_min;             /* µs */
	uint32_t epoch_start;           /* ms, 0: no epoch */
	uint32_t ack_cnt;
	uint32_t tcp_cwnd;              /* Reno-emulated cwnd */
	uint32_t loss_cwnd;             /* cwnd at the last reduction (undo) */
	bool found;                     /* HyStart exit found */
	bool need_reset;
	uint8_t sample_cnt;
	uint8_t found_by;               /* 1: ACK train, 2: delay (for TcpExtTCPHystart*Detect) */
	uint8_t hystart_pending;        /* found_by, until ns_tcp_cc_take_hystart() reads it */
	uint32_t round_start;           /* µs */
	uint32_t end_seq;
	uint32_t last_ack;              /* µs */
	uint32_t curr_rtt;              /* µs */
};

struct ns_tcp_cc {
	const struct ns_tcp_cc_ops *ops;
	uint32_t cwnd;                  /* snd_cwnd, segments */
	uint32_t ssthresh;              /* snd_ssthresh, segments */
	uint32_t cwnd_cnt;              /* linear increase counter (snd_cwnd_cnt) */
	uint32_t cwnd_clamp;            /* upper bound (snd_cwnd_clamp) */
	uint32_t mss;                   /* current sending MSS (for the caller; cc works in segments) */
	uint8_t ca_state;               /* enum ns_tcp_ca_state */
	uint8_t abc_limit;              /* RFC 3465 L in segments per ACK in slow start; 0: none (Linux) */
	bool cwnd_limited;              /* the sender used the whole cwnd recently */
	uint32_t max_packets_out;       /* most segments in flight this window (cwnd-limited test) */
	/* undo (RFC 3522-style, Linux prior_cwnd/prior_ssthresh) */
	uint32_t prior_cwnd;            /* cwnd when the reduction began */
	uint32_t prior_ssthresh;        /* ssthresh before it, 0 if no undo possible */
	/* PRR (RFC 6937, Linux tcp_cwnd_reduction) */
	uint32_t prr_delivered;
	uint32_t prr_out;
	uint64_t cwnd_stamp_us;         /* last cwnd change / validation */
	uint32_t cwnd_usage_seq;        /* snd_nxt when the cwnd-limited window began */
	union {
		struct ns_tcp_cc_cubic cubic;
		uint64_t raw[NS_TCP_CC_PRIV_WORDS];
	} priv;                         /* per-algorithm state */
};

/* Built-in algorithms. */
extern const struct ns_tcp_cc_ops ns_tcp_cc_newreno;
extern const struct ns_tcp_cc_ops ns_tcp_cc_cubic;

/* Looks up "cubic" or "reno" (TCP_CONGESTION; len excludes any NUL); NULL if unknown. */
const struct ns_tcp_cc_ops *ns_tcp_cc_find(const char *name, size_t len);
/* The default ("cubic", Linux's default). */
const struct ns_tcp_cc_ops *ns_tcp_cc_default(void);

/* cwnd = 10 (RFC 6928), ssthresh = infinite, Open state; ops->init. */
void ns_tcp_cc_init(struct ns_tcp_cc *cc, const struct ns_tcp_cc_ops *ops, uint32_t mss,
		    uint64_t now_us);
/* TCP_CONGESTION on a live connection: switch and re-init private state (cwnd kept). */
void ns_tcp_cc_set_ops(struct ns_tcp_cc *cc, const struct ns_tcp_cc_ops *ops, uint64_t now_us);

/*
 * Every ACK that delivered data (ACKed or SACKed) outside Recovery/CWR:
 * pkts_acked (RTT, HyStart), then, unless a->sack_only (Linux
 * tcp_may_raise_cwnd wants FLAG_DATA_ACKED), cong_avoid, which grows cwnd
 * only when cwnd-limited.  In Loss state (after an RTO) this is slow start
 * from cwnd 1, as in Linux.  In Recovery/CWR it only calls pkts_acked: use
 * ns_tcp_cc_prr_ack for cwnd.
 */
void ns_tcp_cc_on_ack(struct ns_tcp_cc *cc, const struct ns_tcp_cc_ack *a);

/* What the sender did in one transmit round (Linux tcp_cwnd_validate inputs). */
struct ns_tcp_cc_sent {
	uint32_t packets_out;   /* segments outstanding after sending */
	bool cwnd_limited;      /* sending stopped because in_flight >= cwnd */
	uint32_t snd_una, snd_nxt;
	uint64_t now_us;
};
/*
 * Records segs newly sent (PRR's prr_out, counted only in Recovery/CWR) and
 * whether the sender is cwnd-limited this window (Linux tcp_cwnd_validate:
 * the flag holds until snd_una passes the snd_nxt at which it was set;
 * otherwise max_packets_out tracks the most segments in flight).
 */
void ns_tcp_cc_on_sent(struct ns_tcp_cc *cc, uint32_t segs, const struct ns_tcp_cc_sent *snd);

/* Fast recovery begins (RFC 5681 §3.2 step 4/RFC 6675): ssthresh = ops->ssthresh(), PRR starts. */
void ns_tcp_cc_enter_recovery(struct ns_tcp_cc *cc, uint32_t in_flight, uint64_t now_us);

/*
 * PRR (RFC 6937, Linux tcp_cwnd_reduction) for one ACK during recovery:
 * newly_delivered segments (ACKed or SACKed by it), newly_lost segments
 * marked lost by it, snd_una_advanced, and in_flight = pipe after it.
 * Sets cwnd = in_flight + segments that may be sent now.
 */
void ns_tcp_cc_prr_ack(struct ns_tcp_cc *cc, uint32_t newly_delivered, uint32_t newly_lost,
		       bool snd_una_advanced, uint32_t in_flight);

/* Recovery (or CWR) complete: cwnd = ssthresh (Linux tcp_end_cwnd_reduction); Open state. */
void ns_tcp_cc_exit_recovery(struct ns_tcp_cc *cc, uint64_t now_us);

/*
 * RTO (RFC 5681 §3.1 eq. 4, Linux tcp_enter_loss): when reduce, ssthresh =
 * ops->ssthresh() and undo state is saved; always cwnd = in_flight + 1, Loss
 * state.  in_flight is Linux's tcp_packets_in_flight() *after* every
 * outstanding segment was marked lost, which is 0 in the usual case (so
 * cwnd = 1, what TCP_INFO shows after an RTO in Linux); pass 0 unless
 * retransmissions are still counted in flight.
 * reduce: Linux reduces ssthresh only once per window: pass
 * ns_tcp_cc_rto_should_reduce(cc, snd_una, high_seq, retransmits).
 */
void ns_tcp_cc_on_rto(struct ns_tcp_cc *cc, uint32_t in_flight, bool reduce, uint64_t now_us);
/*
 * Linux's rule: reduce on an RTO when the state is Open/Disorder, or the
 * previous episode's high_seq (snd_nxt when it began) is ACKed, or in Loss
 * with no retransmission timeout yet (retransmits == 0).
 */
bool ns_tcp_cc_rto_should_reduce(const struct ns_tcp_cc *cc, uint32_t snd_una, uint32_t high_seq,
				 uint32_t retransmits);

/*
 * A one-shot reduction without a recovery episode (Linux, when a TLP probe
 * turns out to have repaired a loss, RFC 8985 §7.4.2): ssthresh =
 * ops->ssthresh(), cwnd = ssthresh, back to Open.
 */
void ns_tcp_cc_cwr_once(struct ns_tcp_cc *cc, uint64_t now_us);

/* Loss state ends (all data up to the recovery point ACKed): Open state, cwnd kept. */
void ns_tcp_cc_exit_loss(struct ns_tcp_cc *cc, uint64_t now_us);

/*
 * Undo a reduction found spurious (D-SACK, Eifel timestamps; Linux
 * tcp_undo_cwnd_reduction): cwnd = max(cwnd, undo_cwnd), ssthresh =
 * max(ssthresh, prior_ssthresh); Open state.  No-op if nothing to undo.
 */
void ns_tcp_cc_undo(struct ns_tcp_cc *cc, uint64_t now_us);

/*
 * Restart after idle (RFC 5681 §4.1 / RFC 7661, Linux tcp_cwnd_restart with
 * tcp_slow_start_after_idle=1): when idle_us >= rto_us, cwnd is halved per
 * RTO idle, down to min(cwnd, IW); ssthresh keeps 3/4 of the old cwnd.
 * rto_us = 0 skips that (Linux with tcp_slow_start_after_idle=0).  Always
 * tells the algorithm (CUBIC shifts its epoch by the idle time).  idle_us:
 * now - the time data was last sent (Linux lsndtime).  Call it before
 * sending when nothing is in flight.
 */
void ns_tcp_cc_idle_restart(struct ns_tcp_cc *cc, uint64_t idle_us, uint32_t rto_us,
			    uint64_t now_us);

/*
 * Detecting that a reduction was spurious, so ns_tcp_cc_undo() may restore
 * cwnd (RFC 3708 D-SACK and RFC 3522 Eifel timestamps; Linux undo_marker,
 * undo_retrans, retrans_stamp / tcp_packet_delayed):
 *   entering Recovery or Loss:   ns_tcp_undo_start(u, snd_una, tsval)
 *   each retransmitted segment:  ns_tcp_undo_retransmitted(u, segs)
 *   each D-SACK block received:  ns_tcp_undo_dsack(u, start, end, mss)
 *   per ACK:  ns_tcp_undo_possible(u, has_ts, tsecr) -> call ns_tcp_cc_undo
 *             (in Recovery Linux undoes as soon as every retransmission was
 *             D-SACKed, TcpExtTCPDSACKUndo; at recovery end, TCPFullUndo;
 *             after an RTO, TCPLossUndo), then ns_tcp_undo_stop(u).
 */
struct ns_tcp_undo {
	bool active;                    /* undo_marker valid */
	uint32_t marker;                /* snd_una when the reduction began */
	int32_t retrans;                /* retransmitted segments not shown spurious */
	bool ts_valid;
	uint32_t rtx_tsval;             /* TSval of the first retransmission (Linux retrans_stamp) */
};
void ns_tcp_undo_start(struct ns_tcp_undo *u, uint32_t snd_una);
/* segs more segments were retransmitted; tsval: the TSval they carried (0 if no timestamps). */
void ns_tcp_undo_retransmitted(struct ns_tcp_undo *u, uint32_t segs, uint32_t tsval);
/* A D-SACK for [start, end): when it is at or above the marker, those retransmissions were spurious. */
void ns_tcp_undo_dsack(struct ns_tcp_undo *u, uint32_t start, uint32_t end, uint32_t mss);
/*
 * Linux tcp_may_undo: every retransmission was D-SACKed, or the ACK echoes
 * a timestamp older than the first retransmission (the original arrived).
 */
bool ns_tcp_undo_possible(const struct ns_tcp_undo *u, bool has_ts, uint32_t tsecr);
static inline void ns_tcp_undo_stop(struct ns_tcp_undo *u) { u->active = false; }

/*
 * HyStart left slow start since the last call: returns 1 (ACK train: count
 * TcpExtTCPHystartTrainDetect) or 2 (delay: TcpExtTCPHystartDelayDetect),
 * else 0.  Reading clears it.
 */
static inline int ns_tcp_cc_take_hystart(struct ns_tcp_cc *cc)
{
	int e = cc->priv.cubic.hystart_pending;
	if (cc->ops != &ns_tcp_cc_cubic)
		return 0;
	cc->priv.cubic.hystart_pending = 0;
	return e;
}

/*
 * ECN congestion signal (an ACK with ECE; Linux tcp_enter_cwr, RFC 3168
 * §6.1.2): ssthresh = ops->ssthresh(), CWR state, PRR reduces cwnd over the
 * next round (ns_tcp_cc_prr_ack); ns_tcp_cc_exit_recovery() ends it once
 * snd_una passes snd_nxt at entry.  No undo (prior_ssthresh = 0).  No-op if
 * already reducing.
 */
void ns_tcp_cc_enter_cwr(struct ns_tcp_cc *cc, uint64_t now_us);

/* Sets the congestion state (tells the algorithm, Linux tcp_set_ca_state). */
void ns_tcp_cc_set_state(struct ns_tcp_cc *cc, enum ns_tcp_ca_state s);

/* Sending may grow cwnd (Linux tcp_is_cwnd_limited). */
bool ns_tcp_cc_is_cwnd_limited(const struct ns_tcp_cc *cc);

/* Helpers for algorithms (Linux tcp_slow_start / tcp_cong_avoid_ai). */
uint32_t ns_tcp_cc_slow_start(struct ns_tcp_cc *cc, uint32_t acked);
void ns_tcp_cc_cong_avoid_ai(struct ns_tcp_cc *cc, uint32_t w, uint32_t acked);
static inline bool ns_tcp_cc_in_slow_start(const struct ns_tcp_cc *cc)
{
	return cc->cwnd < cc->ssthresh;
}

#endif
