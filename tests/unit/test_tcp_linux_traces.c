/*
 * tests/unit/test_tcp_linux_traces.c - the algorithm modules driven together
 * the way the connection code drives them, replaying Linux packetdrill
 * scripts from /work/shared/packetdrill/gtests/net/tcp and checking the
 * numbers Linux produces there (cwnd, what is retransmitted when, option
 * bytes).  Each test names its script.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_opts.h"
#include "tcp/tcp_rack.h"
#include "tcp/tcp_rtt.h"
#include "tcp/tcp_sack.h"

#define MS 1000ull

/* ---- a tiny sender built from the modules ----------------------------------- */

#define MAXSEG 256

struct seg {
	uint32_t seq, end;
	uint64_t xmit;
	uint8_t flags;          /* NS_RACK_SEG_* */
	bool retrans_out;       /* a retransmission is in flight */
};

struct snd {
	struct ns_tcp_cc cc;
	struct ns_tcp_rtt rtt;
	struct ns_sack_sb sb;
	struct ns_rack rack;
	struct seg s[MAXSEG];
	unsigned nseg;
	uint32_t una, nxt, app_end;     /* app_end: end of data written */
	uint32_t mss;
	uint64_t now;
	uint32_t high_seq;              /* snd_nxt when recovery began */
	unsigned rtx_log[MAXSEG];       /* retransmitted segment indexes, in order */
	unsigned nrtx;
	unsigned new_sent_last;         /* segments of new data sent by the last xmit() */
	uint64_t lsnd;                  /* last time data was sent (Linux lsndtime) */
};

static void snd_init(struct snd *t, uint32_t mss, const struct ns_tcp_cc_ops *ops)
{
	memset(t, 0, sizeof(*t));
	t->mss = mss;
	t->una = t->nxt = t->app_end = 1;
	t->now = 1000 * MS;
	ns_tcp_cc_init(&t->cc, ops, mss, t->now);
	ns_tcp_rtt_init(&t->rtt);
	ns_sack_sb_init(&t->sb, 1, mss);
	ns_rack_init(&t->rack);
}

static uint32_t count(struct snd *t, uint8_t f)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < t->nseg; i++)
		if (t->s[i].end > t->una && (t->s[i].flags & f))
			n++;
	return n;
}

/* Linux tcp_packets_in_flight: packets_out - (sacked + lost) + retrans */
static uint32_t in_flight(struct snd *t)
{
	uint32_t out = 0, retrans = 0;
	for (unsigned i = 0; i < t->nseg; i++) {
		if (t->s[i].end <= t->una)
			continue;
		out++;
		retrans += t->s[i].retrans_out;
	}
	return out - count(t, NS_RACK_SEG_SACKED) - count(t, NS_RACK_SEG_LOST) + retrans;
}

static void sent(struct snd *t, uint32_t segs, bool cwnd_limited)
{
	struct ns_tcp_cc_sent s = { .packets_out = t->nseg ? (uint32_t)(t->nxt - t->una + t->mss - 1) / t->mss : 0,
				    .cwnd_limited = cwnd_limited, .snd_una = t->una, .snd_nxt = t->nxt,
				    .now_us = t->now };
	ns_tcp_cc_on_sent(&t->cc, segs, &s);
}

/* Sends what cwnd allows: lost segments first, then new data. */
static void xmit(struct snd *t)
{
	unsigned sent_now = 0;
	t->new_sent_last = 0;
	for (;;) {
		uint32_t fl = in_flight(t);
		if (fl >= t->cc.cwnd)
			break;
		struct seg *lost = NULL;
		for (unsigned i = 0; i < t->nseg && !lost; i++)
			if (t->s[i].end > t->una && (t->s[i].flags & NS_RACK_SEG_LOST) && !t->s[i].retrans_out)
				lost = &t->s[i];
		if (lost) {
			lost->retrans_out = true;
			lost->flags |= NS_RACK_SEG_RETRANS;
			lost->xmit = t->now;
			ns_sack_sb_retransmitted(&t->sb, lost->seq, lost->end);
			t->rtx_log[t->nrtx++] = (unsigned)(lost - t->s);
		} else if (t->nxt < t->app_end) {
			struct seg *s = &t->s[t->nseg++];
			*s = (struct seg){ .seq = t->nxt, .end = t->nxt + t->mss, .xmit = t->now };
			t->nxt = s->end;
			ns_sack_sb_sent(&t->sb, t->nxt);
			t->new_sent_last++;
		} else {
			break;
		}
		sent_now++;
	}
	bool limited = in_flight(t) >= t->cc.cwnd;
	if (sent_now || limited)                /* Linux tcp_write_xmit -> tcp_cwnd_validate */
		sent(t, sent_now, limited);
	if (sent_now)
		t->lsnd = t->now;
}

static void rack_seg(struct snd *t, unsigned i, struct ns_rack_seg *r)
{
	*r = (struct ns_rack_seg){ .seq = t->s[i].seq, .end = t->s[i].end, .xmit_us = t->s[i].xmit,
				   .flags = t->s[i].flags, .cookie = &t->s[i] };
}

/* One ACK, processed like Linux's tcp_ack(). */
static void ack(struct snd *t, uint32_t ackno, const struct ns_tcp_sack_block *b, unsigned nb)
{
	struct ns_sack_update u;
	uint32_t prior_in_flight = in_flight(t);
	uint32_t prior_lost = count(t, NS_RACK_SEG_LOST);
	bool advanced = ackno > t->una;
	ns_sack_sb_update(&t->sb, ackno, b, nb, &u);
	uint32_t delivered = 0;
	int64_t rtt = -1;
	for (unsigned i = 0; i < t->nseg; i++) {
		struct seg *s = &t->s[i];
		bool acked_now = s->end <= ackno && s->end > t->una;
		bool sacked_now = !acked_now && s->end > ackno && !(s->flags & NS_RACK_SEG_SACKED) &&
				  ns_sack_sb_is_sacked(&t->sb, s->seq, s->end);
		if (!acked_now && !sacked_now)
			continue;
		if (!(s->flags & NS_RACK_SEG_SACKED))
			delivered++;
		struct ns_rack_seg r;
		rack_seg(t, i, &r);
		ns_rack_on_delivered(&t->rack, &r, t->now, ns_tcp_rtt_min(&t->rtt));
		if (!(s->flags & NS_RACK_SEG_RETRANS))
			rtt = (int64_t)(t->now - s->xmit);
		if (sacked_now)
			s->flags |= NS_RACK_SEG_SACKED;
		s->flags &= (uint8_t)~NS_RACK_SEG_LOST;
		if (acked_now)
			s->retrans_out = false;
	}
	if (advanced)
		t->una = ackno;
	if (rtt >= 0)
		ns_tcp_rtt_sample(&t->rtt, (uint32_t)rtt, t->una, t->nxt, t->now);
	bool in_rec = t->cc.ca_state == NS_TCP_CA_RECOVERY;
	ns_rack_update_reo_wnd(&t->rack, u.dsack, t->una, t->nxt, false);
	uint32_t reo = ns_rack_reo_wnd(&t->rack, ns_tcp_rtt_min(&t->rtt), ns_tcp_rtt_srtt(&t->rtt), in_rec,
				       count(t, NS_RACK_SEG_SACKED));
	for (unsigned i = 0; i < t->nseg; i++) {
		struct seg *s = &t->s[i];
		if (s->end <= t->una || (s->flags & NS_RACK_SEG_SACKED) ||
		    ((s->flags & NS_RACK_SEG_LOST) && !s->retrans_out))
			continue;
		struct ns_rack_seg r;
		rack_seg(t, i, &r);
		uint32_t to = 0;
		if (ns_rack_seg_check(&t->rack, &r, reo, t->now, &to)) {
			s->flags |= NS_RACK_SEG_LOST;
			s->retrans_out = false;
		}
	}
	uint32_t newly_lost = count(t, NS_RACK_SEG_LOST) - NS_MIN(prior_lost, count(t, NS_RACK_SEG_LOST));
	/* Linux tcp_fastretrans_alert */
	if (t->cc.ca_state == NS_TCP_CA_RECOVERY && t->una >= t->high_seq) {
		ns_tcp_cc_exit_recovery(&t->cc, t->now);
		ns_sack_sb_exit_recovery(&t->sb);
	}
	if (t->cc.ca_state == NS_TCP_CA_OPEN && count(t, NS_RACK_SEG_LOST)) {
		ns_tcp_cc_enter_recovery(&t->cc, prior_in_flight, t->now);
		ns_sack_sb_enter_recovery(&t->sb);
		t->high_seq = t->nxt;
	}
	if (t->cc.ca_state == NS_TCP_CA_RECOVERY) {
		ns_tcp_cc_prr_ack(&t->cc, delivered, newly_lost, advanced, in_flight(t));
	} else {
		struct ns_tcp_cc_ack a = { .acked = delivered, .rtt_us = rtt, .in_flight = prior_in_flight,
					   .now_us = t->now, .snd_una = t->una, .snd_nxt = t->nxt,
					   .srtt_us = ns_tcp_rtt_srtt(&t->rtt), .sack_only = !advanced };
		ns_tcp_cc_on_ack(&t->cc, &a);
	}
	xmit(t);
}

static void snd_fini(struct snd *t)
{
	ns_sack_sb_fini(&t->sb);
}

#define SB(s, e) ((struct ns_tcp_sack_block){ (s), (e) })

/* fast_recovery/prr-ss-30pkt-lost1_4.pkt */
static void test_prr_ss_30pkt_lost1_4(void **state)
{
	(void)state;
	struct snd t;
	snd_init(&t, 1000, &ns_tcp_cc_cubic);
	ns_tcp_rtt_sample_syn(&t.rtt, 10 * MS, 1, t.now);      /* SYN-ACK -> ACK: 10 ms */
	t.app_end = 10001;
	xmit(&t);                                               /* > P. 1:10001(10000) */
	assert_int_equal(t.nxt, 10001);
	assert_int_equal(t.new_sent_last, 10);
	t.now += 10 * MS;
	struct ns_tcp_sack_block b = SB(4001, 5001);
	ack(&t, 1, &b, 1);
	t.now += 2 * MS;
	b = SB(4001, 6001);
	ack(&t, 1, &b, 1);
	assert_int_equal(t.cc.ca_state, NS_TCP_CA_OPEN);        /* not yet: RACK waits */
	assert_int_equal(t.nrtx, 0);
	b = SB(4001, 7001);
	ack(&t, 1, &b, 1);                                      /* > . 1:1001 */
	assert_int_equal(t.cc.ca_state, NS_TCP_CA_RECOVERY);
	assert_int_equal(t.cc.ssthresh, 7);
	assert_int_equal(t.nrtx, 1);
	assert_int_equal(t.rtx_log[0], 0);
	for (unsigned k = 1; k <= 3; k++) {                     /* > . 1001:2001, 2001:3001, 3001:4001 */
		b = SB(4001, 7001 + k * 1000);
		ack(&t, 1, &b, 1);
		assert_int_equal(t.nrtx, k + 1);
		assert_int_equal(t.rtx_log[k], k);
	}
	t.now += 10 * MS;
	b = SB(4001, 10001);
	ack(&t, 1001, &b, 1);
	ack(&t, 2001, &b, 1);
	ack(&t, 3001, &b, 1);
	assert_int_equal(t.nrtx, 4);                            /* nothing else retransmitted */
	ack(&t, 10001, NULL, 0);
	assert_int_equal(t.cc.ca_state, NS_TCP_CA_OPEN);
	assert_int_equal(t.cc.cwnd, 7);                         /* cwnd = ssthresh */
	/* write(4, ..., 10000): "the ssthresh*mss amount should be sent right away" */
	t.now += 10 * MS;
	t.app_end += 10000;
	xmit(&t);
	assert_int_equal(t.new_sent_last, 7);                   /* > . 10001:17001(7000) */
	snd_fini(&t);
}

/* fast_retransmit/fr-4pkt-sack.pkt */
static void test_fr_4pkt_sack(void **state)
{
	(void)state;
	struct snd t;
	snd_init(&t, 1460, &ns_tcp_cc_cubic);
	ns_tcp_rtt_sample_syn(&t.rtt, 100 * MS, 1, t.now);
	t.app_end = 5841;
	xmit(&t);                                               /* > P. 1:5841(5840) */
	assert_int_equal(t.new_sent_last, 4);
	t.now += 100 * MS;
	struct ns_tcp_sack_block b = SB(1461, 2921);
	ack(&t, 1, &b, 1);
	b = SB(1461, 4381);
	ack(&t, 1, &b, 1);
	assert_int_equal(t.nrtx, 0);
	b = SB(1461, 5841);
	ack(&t, 1, &b, 1);                                      /* > . 1:1461(1460) */
	assert_int_equal(t.nrtx, 1);
	assert_int_equal(t.rtx_log[0], 0);
	assert_true(ns_sack_sb_is_lost(&t.sb, 1));              /* RFC 6675 agrees */
	t.now += 100 * MS;
	ack(&t, 5841, NULL, 0);
	assert_int_equal(t.cc.ca_state, NS_TCP_CA_OPEN);
	snd_fini(&t);
}

/* slow_start/slow-start-ack-per-2pkt.pkt */
static void test_slow_start_ack_per_2pkt(void **state)
{
	(void)state;
	struct snd t;
	snd_init(&t, 1000, &ns_tcp_cc_cubic);
	ns_tcp_rtt_sample_syn(&t.rtt, 100 * MS, 1, t.now);
	t.app_end = 30001;
	xmit(&t);
	assert_int_equal(t.nxt, 10001);
	assert_int_equal(t.cc.cwnd, 10);
	t.now += 105 * MS;
	for (uint32_t k = 1; k <= 5; k++) {
		ack(&t, 1 + 2000 * k, NULL, 0);
		assert_int_equal(t.new_sent_last, 4);           /* > P. +4000 each time */
		t.now += 5 * MS;
	}
	assert_int_equal(t.nxt, 30001);
	assert_int_equal(t.cc.cwnd, 20);
	snd_fini(&t);
}

/* slow_start/slow-start-after-idle.pkt */
static void test_slow_start_after_idle(void **state)
{
	(void)state;
	struct snd t;
	snd_init(&t, 1000, &ns_tcp_cc_cubic);
	ns_tcp_rtt_sample_syn(&t.rtt, 100 * MS, 1, t.now);
	t.app_end = 26001;
	xmit(&t);
	assert_int_equal(t.cc.cwnd, 10);
	t.now += 100 * MS;
	ack(&t, 10001, NULL, 0);
	assert_int_equal(t.cc.cwnd, 20);                        /* a stretch ACK counts all 10 */
	assert_int_equal(t.nxt, 26001);
	t.now += 100 * MS;
	ack(&t, 26001, NULL, 0);
	assert_int_equal(t.cc.cwnd, 36);
	/* +2 s idle, then write: RTO is 300 ms, cwnd halves per RTO idle down to IW */
	uint64_t last_send = t.now - 100 * MS;
	t.now += 2000 * MS;
	ns_tcp_cc_idle_restart(&t.cc, t.now - last_send, ns_tcp_rtt_rto(&t.rtt), t.now);
	assert_int_equal(ns_tcp_rtt_rto(&t.rtt), 300 * MS);
	assert_int_equal(t.cc.cwnd, 10);
	snd_fini(&t);
}

/* The SYN-ACK option bytes these scripts expect. */
static void test_synack_options_match_scripts(void **state)
{
	(void)state;
	/* < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7> */
	const uint8_t syn[] = { 2, 4, 0x03, 0xe8, 4, 2, 1, 1, 1, 3, 3, 7 };
	struct ns_tcp_opts in, out;
	ns_tcp_opts_parse(syn, sizeof(syn), true, &in);
	assert_int_equal(in.mss, 1000);
	assert_int_equal(in.wscale, 7);
	assert_true(ns_tcp_opts_has(&in, NS_TCP_OPT_F_SACK_PERM));
	assert_false(ns_tcp_opts_has(&in, NS_TCP_OPT_F_TS));
	/* > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8> */
	ns_tcp_opts_syn(&out, 1460, 8, ns_tcp_opts_has(&in, NS_TCP_OPT_F_SACK_PERM),
			ns_tcp_opts_has(&in, NS_TCP_OPT_F_TS), 0, 0);
	char s[80];
	assert_string_equal(ns_tcp_opts_fmt(&out, s, sizeof(s)), "mss 1460,nop,nop,sackOK,nop,wscale 8");
	uint8_t b[40];
	const uint8_t want[] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 8 };
	assert_int_equal(ns_tcp_opts_write(b, sizeof(b), &out), sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
	/* a Linux client's SYN: <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7> */
	ns_tcp_opts_syn(&out, 1460, 7, true, true, 100, 0);
	assert_string_equal(ns_tcp_opts_fmt(&out, s, sizeof(s)), "mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7");
	assert_int_equal(ns_tcp_opts_len(&out), 20);
}

/*
 * cubic/cubic-bulk-166k-idle-restart.pkt: 2 segments ACKed every 100 ms.
 * Linux: cwnd 20, 30, 40, then HyStart (delay) exits slow start at 48; after
 * 4 s idle (packetdrill runs with tcp_slow_start_after_idle=0, so only
 * CUBIC's epoch shift applies) 48, 49, 52, 58 every 10 ACKs.  The script
 * runs with fq pacing, which Linux uses to hold back the first ACKs after
 * the idle period; without pacing we are one segment ahead for 40 ACKs.
 */
static void test_cubic_bulk_166k_idle_restart(void **state)
{
	(void)state;
	struct snd t;
	snd_init(&t, 1000, &ns_tcp_cc_cubic);
	ns_tcp_rtt_sample_syn(&t.rtt, 100 * MS, 1, t.now);
	t.app_end = 40001;
	xmit(&t);
	uint32_t ackno = 1;
	const uint32_t want1[] = { 20, 30, 40 };
	for (int i = 1; i <= 20; i++) {
		t.now += 100 * MS;
		ackno += 2000;
		ack(&t, ackno, NULL, 0);
		if (i % 5 == 0 && i < 20)
			assert_int_equal(t.cc.cwnd, want1[i / 5 - 1]);
		if (i == 19)
			assert_int_equal(t.cc.cwnd, 48);
	}
	assert_int_equal(t.cc.cwnd, 48);
	assert_int_equal(t.cc.ssthresh, 48);            /* HyStart left slow start */
	assert_int_equal(t.cc.priv.cubic.found_by, 2);  /* by RTT increase */
	t.now += 4000 * MS;
	t.app_end += 160000;
	ns_tcp_cc_idle_restart(&t.cc, t.now - t.lsnd, 0, t.now);
	assert_int_equal(t.cc.cwnd, 48);
	xmit(&t);
	const uint32_t linux_cwnd[] = { 48, 49, 52, 58 };
	for (int i = 1; i <= 40; i++) {
		t.now += 100 * MS;
		ackno += 2000;
		ack(&t, ackno, NULL, 0);
		if (i % 10 == 0) {
			uint32_t w = linux_cwnd[i / 10 - 1];
			assert_true(t.cc.cwnd >= w && t.cc.cwnd <= w + 1);
		}
	}
	assert_int_equal(t.cc.cwnd, 58);
	snd_fini(&t);
}

/*
 * cubic/cubic-hystart-delay-rtt-jumps-upward.pkt: RTT 200 ms, then ACKs of a
 * round arrive 240 ms after sending: after 8 samples the round's minimum
 * (240) exceeds delay_min + 16 ms, and HyStart sets ssthresh = cwnd = 36.
 */
static void test_cubic_hystart_rtt_jumps_upward(void **state)
{
	(void)state;
	struct snd t;
	snd_init(&t, 1000, &ns_tcp_cc_cubic);
	ns_tcp_rtt_sample_syn(&t.rtt, 200 * MS, 1, t.now);
	t.app_end = 30001;
	xmit(&t);
	t.now += 200 * MS;
	ack(&t, 10001, NULL, 0);
	assert_int_equal(t.cc.cwnd, 20);
	assert_int_equal(t.nxt, 30001);
	t.now += 240 * MS;
	for (uint32_t a = 12001; a <= 30001; a += 2000) {
		ack(&t, a, NULL, 0);
		if (a <= 26001) {
			assert_int_equal(t.cc.ssthresh, NS_TCP_INFINITE_SSTHRESH);
			assert_int_equal(t.cc.cwnd, 20 + (a - 10001) / 1000);
		} else {
			assert_int_equal(t.cc.ssthresh, 36);
			assert_int_equal(t.cc.cwnd, 36);
		}
		t.now += 1 * MS;
	}
	snd_fini(&t);
}

/*
 * cubic/cubic-hystart-delay-min-rtt-jumps-downward.pkt: the last ACK of the
 * round has a 29 ms RTT; the new min RTT must not cause a spurious exit
 * (Linux commit b344579ca847): slow start continues to cwnd 40.
 */
static void test_cubic_hystart_min_rtt_jumps_downward(void **state)
{
	(void)state;
	struct snd t;
	snd_init(&t, 1000, &ns_tcp_cc_cubic);
	ns_tcp_rtt_sample_syn(&t.rtt, 200 * MS, 1, t.now);
	t.app_end = 28001;
	xmit(&t);
	t.now += 200 * MS;
	ack(&t, 10001, NULL, 0);
	assert_int_equal(t.cc.cwnd, 20);
	assert_int_equal(t.nxt, 28001);
	t.now += 180 * MS;
	t.app_end += 2000;                      /* write(4, ..., 2000) */
	xmit(&t);
	assert_int_equal(t.nxt, 30001);
	t.now += 20 * MS;
	for (uint32_t a = 12001; a <= 30001; a += 2000) {
		ack(&t, a, NULL, 0);
		assert_int_equal(t.cc.ssthresh, NS_TCP_INFINITE_SSTHRESH);
		assert_int_equal(t.cc.cwnd, 20 + (a - 10001) / 1000);
		t.now += 1 * MS;
	}
	assert_int_equal(t.cc.cwnd, 40);
	snd_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prr_ss_30pkt_lost1_4),
		cmocka_unit_test(test_fr_4pkt_sack),
		cmocka_unit_test(test_slow_start_ack_per_2pkt),
		cmocka_unit_test(test_slow_start_after_idle),
		cmocka_unit_test(test_synack_options_match_scripts),
		cmocka_unit_test(test_cubic_bulk_166k_idle_restart),
		cmocka_unit_test(test_cubic_hystart_rtt_jumps_upward),
		cmocka_unit_test(test_cubic_hystart_min_rtt_jumps_downward),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
