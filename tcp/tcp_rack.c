/*
 * tcp/tcp_rack.c - RACK-TLP loss detection (RFC 8985) in Linux's form.
 * Owns: the functions of tcp_rack.h.
 * Read first: RFC 8985 §6 (RACK) and §7 (TLP); Linux tcp_recovery.c and
 * tcp_schedule_loss_probe / tcp_send_loss_probe / tcp_process_tlp_ack.
 */
#include "netstack/core.h"
#include "tcp_rack.h"
#include "tcp_seq.h"

void ns_rack_init(struct ns_rack *r)
{
	memset(r, 0, sizeof(*r));
	r->reo_wnd_steps = 1;
}

/* RFC 8985 §6.2 RACK_sent_after / Linux tcp_skb_sent_after */
static bool sent_after(uint64_t t1, uint64_t t2, uint32_t seq1, uint32_t seq2)
{
	return t1 > t2 || (t1 == t2 && ns_seq_gt(seq1, seq2));
}

void ns_rack_on_delivered(struct ns_rack *r, const struct ns_rack_seg *s, uint64_t now_us,
			  uint32_t min_rtt_us)
{
	uint64_t rtt = now_us > s->xmit_us ? now_us - s->xmit_us : 0;
	/*
	 * A retransmitted segment ACKed sooner than the min RTT was most likely
	 * delivered by its original transmission: ambiguous, ignore it.
	 */
	if ((s->flags & NS_RACK_SEG_RETRANS) && rtt < min_rtt_us)
		return;
	r->advanced = true;
	r->rtt_us = (uint32_t)NS_MIN(rtt, (uint64_t)UINT32_MAX);
	if (sent_after(s->xmit_us, r->xmit_us, s->end, r->end_seq)) {
		r->xmit_us = s->xmit_us;
		r->end_seq = s->end;
	}
}

void ns_rack_update_reo_wnd(struct ns_rack *r, bool dsack, uint32_t snd_una, uint32_t snd_nxt,
			    bool recovery_ended)
{
	if (recovery_ended && r->reo_wnd_persist)
		r->reo_wnd_persist--;
	if (dsack)
		r->dsack_seen = true;
	/* one step per round trip: disregard D-SACKs until the last step's data is ACKed */
	if (r->dsack_seen && r->dsack_round_end && ns_seq_lt(snd_una, r->dsack_round_end))
		r->dsack_seen = false;
	if (r->dsack_seen) {
		if (r->reo_wnd_steps < NS_RACK_REO_WND_STEPS_MAX)
			r->reo_wnd_steps++;
		r->dsack_seen = false;
		r->dsack_round_end = snd_nxt ? snd_nxt : 1;
		r->reo_wnd_persist = NS_RACK_REO_WND_PERSIST;
	} else if (!r->reo_wnd_persist) {
		r->reo_wnd_steps = 1;
	}
}

uint32_t ns_rack_reo_wnd(const struct ns_rack *r, uint32_t min_rtt_us, uint32_t srtt_us,
			 bool in_recovery, uint32_t sacked_segs)
{
	if (!r->reord_seen && (in_recovery || sacked_segs >= 3))
		return 0;
	if (min_rtt_us == UINT32_MAX)
		min_rtt_us = srtt_us;
	uint64_t w = (uint64_t)(min_rtt_us >> 2) * r->reo_wnd_steps;
	return (uint32_t)NS_MIN(w, (uint64_t)srtt_us);
}

bool ns_rack_seg_check(const struct ns_rack *r, const struct ns_rack_seg *s, uint32_t reo_wnd_us,
		       uint64_t now_us, uint32_t *timeout_us)
{
	if (!sent_after(r->xmit_us, s->xmit_us, r->end_seq, s->end))
		return false;
	/* lost when not delivered within RACK.rtt + reo_wnd of its sending */
	int64_t elapsed = (int64_t)(now_us - s->xmit_us);
	int64_t remaining = (int64_t)r->rtt_us + reo_wnd_us - elapsed;
	if (remaining <= 0)
		return true;
	if (timeout_us && (uint64_t)remaining > *timeout_us)
		*timeout_us = (uint32_t)NS_MIN(remaining, (int64_t)UINT32_MAX);
	return false;
}

unsigned ns_rack_detect_loss(struct ns_rack *r, uint32_t reo_wnd_us, uint64_t now_us,
			     ns_rack_next_fn next, ns_rack_lost_fn lost, void *ctx,
			     uint32_t *timeout_us)
{
	unsigned n = 0;
	uint32_t timeout = 0;
	struct ns_rack_seg s;
	r->advanced = false;
	while (next(ctx, &s)) {
		if (s.flags & (NS_RACK_SEG_SACKED | NS_RACK_SEG_LOST))
			continue;
		if (ns_rack_seg_check(r, &s, reo_wnd_us, now_us, &timeout)) {
			lost(ctx, &s);
			n++;
		}
	}
	if (timeout_us)
		*timeout_us = timeout;
	return n;
}

bool ns_rack_tlp_may_schedule(const struct ns_rack *r, bool sack_ok, bool open_state,
			      uint32_t packets_out)
{
	(void)r;
	return sack_ok && open_state && packets_out > 0;
}

uint32_t ns_rack_tlp_pto(uint32_t srtt_us, uint32_t packets_out, uint32_t rto_left_us)
{
	uint64_t pto;
	if (srtt_us) {
		pto = 2ull * srtt_us;
		pto += packets_out == 1 ? NS_TLP_WCDELACK_US : NS_TLP_MIN_EXTRA_US;
	} else {
		pto = 1000000u;                 /* Linux TCP_TIMEOUT_INIT */
	}
	pto = (pto + 999) / 1000 * 1000;        /* usecs_to_jiffies rounds up (HZ = 1000) */
	if (rto_left_us && pto > rto_left_us)
		pto = rto_left_us;
	return (uint32_t)pto;
}

bool ns_rack_tlp_use_new_data(bool new_data_ok)
{
	return new_data_ok;
}

void ns_rack_tlp_sent(struct ns_rack *r, uint32_t snd_nxt, bool retrans)
{
	r->tlp_high_seq = snd_nxt;
	r->tlp_is_retrans = retrans;
	r->tlp_in_flight = true;
}

bool ns_rack_tlp_dsack_is_probe(const struct ns_rack *r, uint32_t dsack_end)
{
	return r->tlp_in_flight && r->tlp_is_retrans && !ns_seq_lt(dsack_end, r->tlp_high_seq);
}

bool ns_rack_tlp_on_ack(struct ns_rack *r, uint32_t ack, bool dsack_for_probe, bool is_dupack)
{
	if (!r->tlp_in_flight || ns_seq_lt(ack, r->tlp_high_seq))
		return false;
	if (!r->tlp_is_retrans) {
		r->tlp_in_flight = false;       /* a new-data probe was ACKed */
		return false;
	}
	if (dsack_for_probe) {
		r->tlp_in_flight = false;       /* original and probe both arrived: no loss */
		return false;
	}
	if (ns_seq_gt(ack, r->tlp_high_seq)) {
		r->tlp_in_flight = false;       /* the probe repaired a loss */
		return true;
	}
	if (is_dupack)
		r->tlp_in_flight = false;       /* pure dupack at tlp_high_seq: no loss */
	return false;
}
