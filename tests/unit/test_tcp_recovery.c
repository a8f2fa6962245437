/*
 * tests/unit/test_tcp_recovery.c - loss recovery per MSS between two stacks
 * on a virtual clock, with chosen segments dropped or delayed by the
 * impairment link's filter: which sequence ranges are retransmitted (and
 * how often, with which flags), TCP_INFO's sacked/lost/retrans/unacked in
 * the middle of recovery, RACK repairing a lost retransmission, NewReno for
 * a peer without SACK, and undo of spurious reductions (Eifel timestamps
 * after a fast retransmit and after an RTO, F-RTO without timestamps) with
 * cwnd/ssthresh restored and Linux's counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "helpers/ns_test.h"
#include "helpers/tcp_helpers.h"

#define MS NS_NSEC_PER_MSEC
#define SEC NS_NSEC_PER_SEC
#define MSS 1448u               /* 1500 - 20 - 20 - 12 (timestamps) */
#define MSS_NOTS 1460u
#define MAXREC 256

/* One data frame a sent (offsets relative to a's ISN + 1). */
struct rec {
	uint32_t off, len;
	uint8_t flags;
	uint64_t t;
};

struct wire {
	struct ns_test_pair *p;
	uint32_t a_isn;                 /* a's ISN, from its SYN */
	bool have_isn;
	uint32_t mss;
	/* a -> b data segments: drop the first `drop_times[k]` transmissions of MSS k */
	uint8_t drop_times[64];
	uint8_t seen[64];
	uint64_t delay_first[64];       /* extra delay of the first transmission of MSS k */
	/* b -> a: drop every pure ACK while set */
	bool drop_acks;
	uint64_t delay_acks;            /* extra delay of b's ACKs while set */
	bool strip_opts;                /* remove SACK-permitted and timestamps from SYNs */
	struct rec log[MAXREC];
	unsigned n;
	uint32_t rexmit_head;           /* transmissions of MSS 0 seen */
};

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* NOPs over SACK-permitted (4) and timestamps (8) in a SYN, checksum redone. */
static void strip_syn(uint8_t *ip, uint32_t iplen)
{
	uint32_t ihl = (ip[0] & 0xf) * 4u;
	uint8_t *th = ip + ihl;
	uint32_t thl = (th[12] >> 4) * 4u;
	for (uint32_t i = 20; i < thl;) {
		uint8_t k = th[i];
		if (k == 0)
			break;
		if (k == 1) {
			i++;
			continue;
		}
		uint8_t l = th[i + 1];
		if (l < 2 || i + l > thl)
			break;
		if (k == 4 || k == 8)
			memset(th + i, 1, l);
		i += l;
	}
	uint32_t len = iplen - ihl;
	struct ns_addr s = { .family = NS_AF_INET }, d = { .family = NS_AF_INET };
	memcpy(s.b, ip + 12, 4);
	memcpy(d.b, ip + 16, 4);
	th[16] = th[17] = 0;
	uint16_t c = ns_csum_fold(ns_csum_partial(th, len, ns_csum_pseudo(&s, &d, NS_IPPROTO_TCP, len)));
	ns_store_be16(th + 16, c);
}

static uint64_t filter(void *ctx, struct ns_pkt *f)
{
	struct wire *w = ctx;
	uint8_t *e = ns_pkt_data(f);
	uint32_t flen = ns_pkt_len(f);
	if (flen < 14 + 40 || e[12] != 0x08 || e[13] != 0x00 || e[14 + 9] != NS_IPPROTO_TCP)
		return 0;
	uint8_t *ip = e + 14;
	uint32_t iplen = (uint32_t)ip[2] << 8 | ip[3];
	uint32_t ihl = (ip[0] & 0xf) * 4u;
	uint8_t *th = ip + ihl;
	uint32_t thl = (th[12] >> 4) * 4u;
	uint8_t fl = th[13];
	uint32_t seq = rd32(th + 4);
	uint32_t plen = iplen - ihl - thl;
	bool from_a = ip[15] == 1;
	if (fl & 0x02) {
		if (from_a && !w->have_isn) {
			w->a_isn = seq;
			w->have_isn = true;
		}
		if (w->strip_opts) {
			strip_syn(ip, iplen);
		}
		return 0;
	}
	if (!from_a) {
		if (plen == 0 && w->drop_acks)
			return NS_IMPAIR_DROP;
		return plen == 0 ? w->delay_acks : 0;
	}
	if (!plen || !w->have_isn)
		return 0;
	uint32_t off = seq - w->a_isn - 1;
	if (w->n < MAXREC)
		w->log[w->n++] = (struct rec){ off, plen, fl, ns_stack_now(w->p->a.stk) };
	uint32_t k = off / w->mss;
	if (k >= 64 || off % w->mss)
		return 0;
	uint8_t times = w->seen[k]++;
	if (k == 0)
		w->rexmit_head = times;
	if (times < w->drop_times[k])
		return NS_IMPAIR_DROP;
	if (times == 0 && w->delay_first[k])
		return w->delay_first[k];
	return 0;
}

struct conn {
	struct ns_test_pair p;
	struct wire w;
	int ls, c, s;
	uint64_t sent, rcvd, total;
	uint8_t buf[65536];
};

static void conn_up(struct conn *k, bool strip)
{
	memset(k, 0, sizeof(*k));
	k->w.p = &k->p;
	k->w.mss = strip ? MSS_NOTS : MSS;
	k->w.strip_opts = strip;
	struct ns_test_pair_opts o = { 0 };
	o.seed = 7;
	o.impair = true;
	o.imp.delay_ns = 10 * MS;       /* RTT 20 ms */
	o.imp.filter = filter;
	o.imp.filter_ctx = &k->w;
	assert_int_equal(ns_test_pair_init(&k->p, &o), 0);
	k->ls = tt_listen(k->p.b.stk, 5001, 8);
	k->c = tt_connect_nb(k->p.a.stk, "198.18.0.2", 5001);
	struct tt_accept acc = { k->p.b.stk, k->ls, -1 };
	assert_true(ns_test_pump(&k->p, tt_accepted, &acc, 5 * SEC));
	k->s = acc.fd;
	ns_test_advance(&k->p, 100 * MS);
}

static void conn_down(struct conn *k)
{
	ns_close(k->p.a.stk, k->c);
	ns_close(k->p.b.stk, k->s);
	ns_close(k->p.b.stk, k->ls);
	ns_test_advance(&k->p, 200 * SEC);
	ns_test_settle(&k->p);
	assert_int_equal(ns_test_pair_live(&k->p), 0);
	ns_test_pair_fini(&k->p);
}

static uint64_t stat(struct ns_stack *s, const char *n)
{
	uint64_t v = 0;
	assert_int_equal(ns_stat_get(s, n, &v), 0);
	return v;
}

/* NS_TEST_VERBOSE=1: what a sent and the recovery counters (to read a failure). */
static void dump(struct conn *k)
{
	if (!getenv("NS_TEST_VERBOSE"))
		return;
	for (unsigned i = 0; i < k->w.n; i++)
		fprintf(stderr, "  %8.3f ms  %6u:%-6u %s\n", (double)(k->w.log[i].t - NS_TEST_T0) / 1e6, k->w.log[i].off,
			k->w.log[i].off + k->w.log[i].len, (k->w.log[i].flags & 0x08) ? "P" : "");
	static const char *n[] = { "TcpRetransSegs", "TcpExtTCPTimeouts", "TcpExtTCPSackRecovery",
		"TcpExtTCPRenoRecovery", "TcpExtTCPLossProbes", "TcpExtTCPFullUndo", "TcpExtTCPPartialUndo",
		"TcpExtTCPDSACKUndo", "TcpExtTCPLossUndo", "TcpExtTCPSpuriousRTOs", "TcpExtTCPLostRetransmit",
		"TcpExtTCPDSACKRecv", "TcpExtTCPSACKReorder", "TcpExtTCPTSReorder", "TcpExtTCPRenoReorder" };
	for (size_t i = 0; i < NS_ARRAY_SIZE(n); i++) {
		uint64_t v = 0;
		ns_stat_get(k->p.a.stk, n[i], &v);
		fprintf(stderr, "  %-28s %llu\n", n[i], (unsigned long long)v);
	}
}

/* Linux struct tcp_info fields by offset */
struct info {
	uint8_t state, ca_state;
	uint32_t unacked, sacked, lost, retrans, ssthresh, cwnd, reordering, total_retrans;
};

static struct info info_of(struct ns_stack *stk, int fd)
{
	uint8_t ti[104];
	socklen_t tl = sizeof(ti);
	assert_int_equal(ns_getsockopt(stk, fd, NS_IPPROTO_TCP, NS_TCP_INFO, ti, &tl), 0);
	struct info i;
	i.state = ti[0];
	i.ca_state = ti[1];
	memcpy(&i.unacked, ti + 24, 4);
	memcpy(&i.sacked, ti + 28, 4);
	memcpy(&i.lost, ti + 32, 4);
	memcpy(&i.retrans, ti + 36, 4);
	memcpy(&i.ssthresh, ti + 76, 4);
	memcpy(&i.cwnd, ti + 80, 4);
	memcpy(&i.reordering, ti + 88, 4);
	memcpy(&i.total_retrans, ti + 100, 4);
	return i;
}

static void send_bytes(struct conn *k, uint64_t n)
{
	k->total += n;
	while (k->sent < k->total) {
		size_t m = (size_t)NS_MIN((uint64_t)sizeof(k->buf), k->total - k->sent);
		memset(k->buf, 0x5a, m);
		ssize_t r = ns_send(k->p.a.stk, k->c, k->buf, m, NS_MSG_DONTWAIT);
		if (r <= 0)
			break;
		k->sent += (uint64_t)r;
	}
}

static bool all_received(void *ctx)
{
	struct conn *k = ctx;
	if (k->sent < k->total)
		send_bytes(k, 0);
	for (;;) {
		ssize_t r = ns_recv(k->p.b.stk, k->s, k->buf, sizeof(k->buf), NS_MSG_DONTWAIT);
		if (r <= 0)
			break;
		k->rcvd += (uint64_t)r;
	}
	return k->rcvd == k->total && tt_state(k->p.a.stk, k->c) == TCP_ESTABLISHED &&
	       info_of(k->p.a.stk, k->c).unacked == 0;
}

/* How many times [off, off+len) went out, and that no other retransmission happened. */
static unsigned times_sent(const struct wire *w, uint32_t off, uint32_t len)
{
	unsigned n = 0;
	for (unsigned i = 0; i < w->n; i++)
		if (w->log[i].off <= off && w->log[i].off + w->log[i].len >= off + len)
			n++;
	return n;
}

/* Every MSS of [0, total) went out exactly once except those listed with their count. */
static void assert_sent_counts(const struct wire *w, uint64_t total, const uint32_t *mss_idx,
			       const unsigned *counts, unsigned nidx)
{
	for (uint32_t off = 0; off < total; off += w->mss) {
		uint32_t len = (uint32_t)NS_MIN((uint64_t)w->mss, total - off);
		unsigned want = 1;
		for (unsigned i = 0; i < nidx; i++)
			if (mss_idx[i] * w->mss == off)
				want = counts[i];
		unsigned got = times_sent(w, off, len);
		if (got != want)
			fail_msg("MSS at offset %u sent %u times, expected %u", off, got, want);
	}
}

/* Retransmitted segments never carry PSH unless they end the write. */
static void assert_no_psh_on_rexmit(const struct wire *w, uint64_t total)
{
	for (unsigned i = 0; i < w->n; i++) {
		bool rexmit = false;
		for (unsigned j = 0; j < i; j++)
			if (w->log[j].off == w->log[i].off)
				rexmit = true;
		if (rexmit && w->log[i].off + w->log[i].len != total)
			assert_false(w->log[i].flags & 0x08);
	}
}

struct in_recovery {
	struct conn *k;
	struct info seen;
};

static bool recovery_entered(void *ctx)
{
	struct in_recovery *r = ctx;
	if (stat(r->k->p.a.stk, "TcpExtTCPSackRecovery") == 0)
		return false;
	r->seen = info_of(r->k->p.a.stk, r->k->c);
	return true;
}

/* Two MSSs of a ten-MSS burst are lost: exactly they are retransmitted, once each. */
static void test_sack_two_lost_mss(void **state)
{
	(void)state;
	struct conn k;
	conn_up(&k, false);
	k.w.drop_times[1] = 1;
	k.w.drop_times[2] = 1;
	send_bytes(&k, 10 * MSS);
	struct in_recovery r = { &k, { 0 } };
	assert_true(ns_test_pump(&k.p, recovery_entered, &r, 5 * SEC));
	if (getenv("NS_TEST_VERBOSE"))
		fprintf(stderr, "  at recovery: unacked %u sacked %u lost %u retrans %u cwnd %u ssthresh %u\n",
			r.seen.unacked, r.seen.sacked, r.seen.lost, r.seen.retrans, r.seen.cwnd, r.seen.ssthresh);
	/* in recovery (the pump step ran all of b's ACKs for the burst): MSS 0
	 * ACKed, the 7 after the hole SACKed, the 2 in it lost and retransmitted
	 * (Linux: packets_out 9, sacked_out 7, lost_out 2, retrans_out 2) */
	assert_int_equal(r.seen.ca_state, NS_TCP_CA_RECOVERY);
	assert_int_equal(r.seen.unacked, 9);
	assert_int_equal(r.seen.sacked, 7);
	assert_int_equal(r.seen.lost, 2);
	assert_int_equal(r.seen.retrans, 2);
	assert_int_equal(r.seen.ssthresh, 7);
	assert_true(r.seen.cwnd <= 7);
	assert_true(ns_test_pump(&k.p, all_received, &k, 10 * SEC));
	dump(&k);
	static const uint32_t idx[] = { 1, 2 };
	static const unsigned cnt[] = { 2, 2 };
	assert_sent_counts(&k.w, k.total, idx, cnt, 2);
	assert_no_psh_on_rexmit(&k.w, k.total);
	assert_int_equal(stat(k.p.a.stk, "TcpRetransSegs"), 2);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPSackRecovery"), 1);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPFastRetrans"), 2);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPTimeouts"), 0);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPFullUndo"), 0);
	struct info i = info_of(k.p.a.stk, k.c);
	assert_int_equal(i.ca_state, NS_TCP_CA_OPEN);
	assert_int_equal(i.total_retrans, 2);
	assert_int_equal(i.sacked + i.lost + i.retrans + i.unacked, 0);
	assert_int_equal(i.ssthresh, 7);
	conn_down(&k);
}

/* A lost retransmission is found by RACK (newer data SACKed) and sent again, without an RTO. */
static void test_lost_retransmission(void **state)
{
	(void)state;
	struct conn k;
	conn_up(&k, false);
	k.w.drop_times[1] = 2;  /* the original and the first retransmission */
	send_bytes(&k, 30 * MSS);
	assert_true(ns_test_pump(&k.p, all_received, &k, 10 * SEC));
	dump(&k);
	static const uint32_t idx[] = { 1 };
	static const unsigned cnt[] = { 3 };
	assert_sent_counts(&k.w, k.total, idx, cnt, 1);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPLostRetransmit"), 1);
	assert_int_equal(stat(k.p.a.stk, "TcpRetransSegs"), 2);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPTimeouts"), 0);
	assert_int_equal(info_of(k.p.a.stk, k.c).total_retrans, 2);
	conn_down(&k);
}

/* A reordered (late) MSS triggers a fast retransmit; the ACK of the original echoes an
 * older timestamp (Eifel): the reduction is undone, cwnd and ssthresh restored. */
static void test_undo_spurious_fast_retransmit(void **state)
{
	(void)state;
	struct conn k;
	conn_up(&k, false);
	k.w.delay_first[1] = 15 * MS;
	send_bytes(&k, 10 * MSS);
	assert_true(ns_test_pump(&k.p, all_received, &k, 10 * SEC));
	dump(&k);
	static const uint32_t idx[] = { 1 };
	static const unsigned cnt[] = { 2 };
	assert_sent_counts(&k.w, k.total, idx, cnt, 1);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPSackRecovery"), 1);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPFullUndo"), 1);
	ns_test_advance(&k.p, 100 * MS);        /* the D-SACK of the retransmission arrives too */
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPDSACKRecv"), 1);
	struct info i = info_of(k.p.a.stk, k.c);
	assert_int_equal(i.ca_state, NS_TCP_CA_OPEN);
	assert_true(i.cwnd >= 10);              /* CUBIC undo_cwnd: the cwnd before the reduction, not 7 */
	assert_int_equal(i.ssthresh, NS_TCP_INFINITE_SSTHRESH);
	conn_down(&k);
}

struct rto_seen {
	struct conn *k;
};

static bool head_retransmitted(void *ctx)
{
	struct rto_seen *r = ctx;
	return r->k->w.seen[0] >= 2;
}

/* ACKs held back past the RTO: the head (one MSS) is retransmitted; the late ACKs
 * echo the original timestamps, so the RTO was spurious (Eifel): TCPLossUndo. */
static void test_undo_spurious_rto_eifel(void **state)
{
	(void)state;
	struct conn k;
	conn_up(&k, false);
	struct info before = info_of(k.p.a.stk, k.c);
	k.w.delay_acks = 600 * MS;
	send_bytes(&k, 10 * MSS);
	struct rto_seen r = { &k };
	assert_true(ns_test_pump(&k.p, head_retransmitted, &r, 5 * SEC));
	k.w.delay_acks = 0;
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPTimeouts"), 1);
	assert_int_equal(info_of(k.p.a.stk, k.c).ca_state, NS_TCP_CA_LOSS);
	assert_true(ns_test_pump(&k.p, all_received, &k, 10 * SEC));
	dump(&k);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPLossUndo"), 1);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPTimeouts"), 1);
	/* a loss probe (the last MSS) then the RTO's head: nothing else */
	static const uint32_t idx[] = { 0, 9 };
	static const unsigned cnt[] = { 2, 2 };
	assert_sent_counts(&k.w, k.total, idx, cnt, 2);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPLossProbes"), 1);
	struct info i = info_of(k.p.a.stk, k.c);
	assert_int_equal(i.ca_state, NS_TCP_CA_OPEN);
	assert_true(i.cwnd >= before.cwnd);     /* restored (then grown by the late ACKs) */
	assert_int_equal(i.ssthresh, before.ssthresh);
	conn_down(&k);
}

/* Without timestamps and SACK: ACKs held back past the RTO, new data after it is ACKed
 * together with never-retransmitted data: F-RTO calls the RTO spurious (RFC 5682). */
static void test_undo_spurious_rto_frto(void **state)
{
	(void)state;
	struct conn k;
	conn_up(&k, true);
	assert_int_equal(tt_state(k.p.a.stk, k.c), TCP_ESTABLISHED);
	struct info before = info_of(k.p.a.stk, k.c);
	k.w.delay_acks = 400 * MS;
	send_bytes(&k, 20 * MSS_NOTS);
	struct rto_seen r = { &k };
	assert_true(ns_test_pump(&k.p, head_retransmitted, &r, 5 * SEC));
	ns_test_advance(&k.p, 50 * MS);         /* the ACK of the retransmission is late too */
	k.w.delay_acks = 0;
	assert_true(ns_test_pump(&k.p, all_received, &k, 10 * SEC));
	dump(&k);
	/* the first late ACK covers the retransmitted head (Reno cannot tell), new
	 * data goes out (step 2.b), the next ACK covers never-retransmitted data */
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPTimeouts"), 1);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPSpuriousRTOs"), 1);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPLossUndo"), 1);
	assert_int_equal(stat(k.p.a.stk, "TcpRetransSegs"), 1);     /* only the head */
	struct info i = info_of(k.p.a.stk, k.c);
	assert_true(i.cwnd >= before.cwnd);
	assert_int_equal(i.ssthresh, before.ssthresh);
	conn_down(&k);
}

/* A peer without SACK: NewReno retransmits each lost MSS once (partial ACKs). */
static void test_newreno_two_lost(void **state)
{
	(void)state;
	struct conn k;
	conn_up(&k, true);
	k.w.drop_times[2] = 1;
	k.w.drop_times[5] = 1;
	send_bytes(&k, 10 * MSS_NOTS);
	assert_true(ns_test_pump(&k.p, all_received, &k, 10 * SEC));
	dump(&k);
	static const uint32_t idx[] = { 2, 5 };
	static const unsigned cnt[] = { 2, 2 };
	assert_sent_counts(&k.w, k.total, idx, cnt, 2);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPRenoRecovery"), 1);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPSackRecovery"), 0);
	assert_int_equal(stat(k.p.a.stk, "TcpRetransSegs"), 2);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPTimeouts"), 0);
	conn_down(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sack_two_lost_mss),
		cmocka_unit_test(test_lost_retransmission),
		cmocka_unit_test(test_undo_spurious_fast_retransmit),
		cmocka_unit_test(test_undo_spurious_rto_eifel),
		cmocka_unit_test(test_undo_spurious_rto_frto),
		cmocka_unit_test(test_newreno_two_lost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
