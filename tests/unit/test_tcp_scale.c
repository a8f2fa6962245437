/*
 * tests/unit/test_tcp_scale.c - TCP at scale and TIME_WAIT records.
 *
 *  - 20,000 connections between two stacks over channels on the virtual
 *    clock: all established, every keepalive probe answered (counters exact,
 *    nobody times out), TIME_WAIT records for all after the active close,
 *    everything freed 60 s later, zero live packets; the timer heap holds one
 *    timer per endpoint and idle minutes cost one callback per probe.
 *  - A TIME_WAIT record segment by segment (capture mode, Linux
 *    tcp_timewait_state_process): the descriptor sees CLOSE, retransmitted
 *    FINs are ACKed with the record's numbers and timestamps, out-of-window
 *    ACKs are rate limited (TCPACKSkippedTimeWait), PAWS, an in-window RST
 *    kills it (RFC 1337 left as Linux's default), an out-of-window RST does
 *    not, a new SYN with a higher sequence number reaches the listener and
 *    gets an ISN past the old connection's.
 *  - tcp_max_tw_buckets: no record beyond it (TCPTimeWaitOverflow).
 *  - connect() reusing a TIME_WAIT tuple: an explicitly bound port with
 *    timestamps (Linux tcp_twsk_unique), an ephemeral port only with
 *    net.ipv4.tcp_tw_reuse = 1 after 1 s (2 = loopback only), TWRecycled.
 *  - Per-socket rate limit of ACKs for out-of-window segments (Linux
 *    tcp_invalid_ratelimit).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include "netstack/core.h"
#include "helpers/ns_test.h"
#include "helpers/ns_test_ipv4.h"
#include "helpers/tcp_helpers.h"
#include "tcp/tcp_timewait.h"

static uint64_t stat_of(struct ns_stack *stk, const char *name)
{
	uint64_t v = 0;
	assert_int_equal(ns_stat_get(stk, name, &v), 0);
	return v;
}

static int tw_count(struct ns_stack *stk) { return tcp_tw_foreach(stk->tcp, NULL, NULL); }

static void set_int(struct ns_stack *stk, int fd, int level, int name, int v)
{
	assert_int_equal(ns_setsockopt(stk, fd, level, name, &v, sizeof(v)), 0);
}

/* ---- 20,000 connections ---------------------------------------------------------------- */

#define SCALE_N 20000
#define SCALE_PORTS 2

struct scale {
	struct ns_test_pair p;
	int lfd[SCALE_PORTS];
	int *cfd, *sfd;
	int n_acc;
	int want;
};

static bool scale_accept(void *ctx)
{
	struct scale *s = ctx;
	for (int l = 0; l < SCALE_PORTS; l++) {
		int fd;
		while (s->n_acc < s->want && (fd = ns_accept(s->p.b.stk, s->lfd[l], NULL, NULL, NS_SOCK_NONBLOCK)) >= 0)
			s->sfd[s->n_acc++] = fd;
	}
	return s->n_acc >= s->want;
}

static bool all_tw_gone(void *ctx) { return tw_count(ctx) == 0; }

static void test_scale_20k(void **state)
{
	(void)state;
	struct scale *s = calloc(1, sizeof(*s));
	s->cfd = calloc(SCALE_N, sizeof(int));
	s->sfd = calloc(SCALE_N, sizeof(int));
	struct ns_test_pair_opts po = { .qlen = 65536, .mem_limit = 1ull << 30 };
	assert_int_equal(ns_test_pair_init(&s->p, &po), 0);
	struct ns_stack *a = s->p.a.stk, *b = s->p.b.stk;
	for (int l = 0; l < SCALE_PORTS; l++)
		s->lfd[l] = tt_listen(b, (uint16_t)(7000 + l), 4096);
	for (int i = 0; i < SCALE_N; i++) {
		s->cfd[i] = ns_socket(a, NS_AF_INET, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
		assert_true(s->cfd[i] >= 0);
		set_int(a, s->cfd[i], NS_SOL_SOCKET, NS_SO_KEEPALIVE, 1);
		set_int(a, s->cfd[i], NS_IPPROTO_TCP, NS_TCP_KEEPIDLE, 10);
		set_int(a, s->cfd[i], NS_IPPROTO_TCP, NS_TCP_KEEPINTVL, 5);
		set_int(a, s->cfd[i], NS_IPPROTO_TCP, NS_TCP_KEEPCNT, 3);
		struct sockaddr_in sin = tt_sin("198.18.0.2", (uint16_t)(7000 + i % SCALE_PORTS));
		assert_int_equal(ns_connect(a, s->cfd[i], (struct sockaddr *)&sin, sizeof(sin)), -NS_EINPROGRESS);
		if ((i + 1) % 2000 == 0) {
			s->want = i + 1;
			assert_true(ns_test_pump(&s->p, scale_accept, s, 5 * NS_NSEC_PER_SEC));
		}
	}
	ns_test_settle(&s->p);
	/* all established, counters exact */
	assert_int_equal(stat_of(a, "TcpCurrEstab"), SCALE_N);
	assert_int_equal(stat_of(b, "TcpCurrEstab"), SCALE_N);
	assert_int_equal(stat_of(a, "TcpActiveOpens"), SCALE_N);
	assert_int_equal(stat_of(b, "TcpPassiveOpens"), SCALE_N);
	assert_int_equal(stat_of(a, "TcpAttemptFails"), 0);
	assert_int_equal(stat_of(b, "TcpExtListenOverflows"), 0);
	assert_int_equal(stat_of(b, "TcpExtSyncookiesSent"), 0);
	assert_int_equal(tt_count_state(a, TCP_ESTABLISHED), SCALE_N);
	assert_int_equal(tt_count_state(b, TCP_ESTABLISHED), SCALE_N);
	/* one timer per endpoint at most: the heap never holds more */
	struct ns_timer_stats ta0, tb0, ta1, tb1;
	ns__timers_stats(a, &ta0);
	ns__timers_stats(b, &tb0);
	assert_true(ta0.pending <= SCALE_N + 2);
	assert_true(tb0.pending <= SCALE_N + SCALE_PORTS + 2);
	/* 65 idle seconds: each client probes every 10 s of silence, the server
	 * answers every probe (else the connection would die after 10 + 3 x 5 s) */
	uint64_t ka0 = stat_of(a, "TcpExtTCPKeepAlive");
	ns_test_advance(&s->p, 65 * NS_NSEC_PER_SEC);
	uint64_t probes = stat_of(a, "TcpExtTCPKeepAlive") - ka0;
	assert_int_equal(probes, 6ull * SCALE_N);
	assert_int_equal(stat_of(b, "TcpExtTCPKeepAlive"), 0);
	assert_int_equal(stat_of(a, "TcpExtTCPAbortOnTimeout"), 0);
	assert_int_equal(stat_of(a, "TcpCurrEstab"), SCALE_N);
	assert_int_equal(stat_of(b, "TcpCurrEstab"), SCALE_N);
	/* no scan per tick: on a two callbacks per probe (the probe, then the
	 * re-check an interval later, like Linux's keepalive timer) plus one
	 * left-over handshake deadline per endpoint (lazy re-arm); on b only
	 * that left-over deadline */
	ns__timers_stats(a, &ta1);
	ns__timers_stats(b, &tb1);
	assert_true(ta1.fire - ta0.fire <= 2 * probes + SCALE_N + 16);
	assert_true(tb1.fire - tb0.fire <= SCALE_N + 16);
	/* active close by the clients: TIME_WAIT records on a, all servers close */
	for (int i = 0; i < SCALE_N; i++)
		assert_int_equal(ns_close(a, s->cfd[i]), 0);
	ns_test_advance(&s->p, 100 * NS_NSEC_PER_MSEC);
	for (int i = 0; i < SCALE_N; i++)
		assert_int_equal(ns_close(b, s->sfd[i]), 0);
	ns_test_advance(&s->p, NS_NSEC_PER_SEC);
	assert_int_equal(tw_count(a), SCALE_N);
	assert_int_equal(stat_of(a, "TcpExtTW"), SCALE_N);
	assert_int_equal(atomic_load(&a->tcp->n_timewait), SCALE_N);
	assert_int_equal(tt_count_state(a, TCP_ESTABLISHED) + tt_count_state(b, TCP_ESTABLISHED), 0);
	assert_int_equal(stat_of(a, "TcpCurrEstab"), 0);
	assert_int_equal(stat_of(b, "TcpCurrEstab"), 0);
	/* 60 s later all records are gone */
	assert_true(ns_test_pump(&s->p, all_tw_gone, a, 61 * NS_NSEC_PER_SEC));
	assert_int_equal(atomic_load(&a->tcp->n_timewait), 0);
	for (int l = 0; l < SCALE_PORTS; l++)
		ns_close(b, s->lfd[l]);
	ns_test_settle(&s->p);
	assert_int_equal(ns_test_pair_live(&s->p), 0);
	ns_test_pair_fini(&s->p);
	free(s->cfd);
	free(s->sfd);
	free(s);
}

/* ---- a TIME_WAIT record on the wire ---------------------------------------------------------- */

#define PEER_PORT 40000
#define LPORT 80
#define PEER_ISN 1000000u

struct wire {
	struct t4_cap c;
	int lfd, afd;
	uint32_t our_nxt;       /* our snd_nxt after our FIN */
	uint32_t peer_nxt;      /* the peer's next sequence number (after its FIN) */
	uint32_t our_ts;        /* last TSval we saw from the stack */
};

static void ts_opt(uint8_t *o, uint32_t val, uint32_t ecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	ns_store_be32(o + 4, val);
	ns_store_be32(o + 8, ecr);
}

static void inject(struct wire *w, uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *opts, size_t olen)
{
	uint8_t f[256];
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	struct ns_test_tcp t = { .sport = PEER_PORT, .dport = LPORT, .seq = seq, .ack = ack, .flags = flags,
				 .win = 502, .opts = opts, .opts_len = olen };
	t4_inject(&w->c, f, ns_test_build_tcp(f, &h, &t, NULL, 0));
}

static void inject_ts(struct wire *w, uint32_t seq, uint32_t ack, uint8_t flags, uint32_t tsval)
{
	uint8_t o[12];
	ts_opt(o, tsval, w->our_ts);
	inject(w, seq, ack, flags, o, sizeof(o));
}

/* Time passed: the peer's ARP entry may have aged out (the peer never
 * answers probes here); it asks for us again, so we know it (STALE). */
static void wire_advance(struct wire *w, uint64_t d)
{
	t4_advance(&w->c, d);
	ns_test_capture_drop(&w->c.s);
	uint8_t f[64];
	size_t n = t4_arp_frame(f, NS_ARPOP_REQUEST, t4_bcast, t4_mac_peer, T4_PEER, NULL, T4_US);
	t4_inject(&w->c, f, n);
	ns_test_capture_drop(&w->c.s);
}

static struct ns_pkt *take(struct wire *w, struct ns_test_parsed *pp)
{
	struct ns_pkt *p = t4_take(&w->c, pp);
	/* ARP probes for the peer (its entry ages over the minutes): not ours */
	while (p && pp->ethertype == NS_ETHERTYPE_ARP) {
		ns_pkt_unref(p);
		p = t4_take(&w->c, pp);
	}
	if (p) {
		assert_int_equal(pp->proto, NS_IPPROTO_TCP);
		assert_true(pp->l4_csum_ok);
		if ((pp->l4[12] >> 4) * 4 >= 32 && pp->l4[22] == 8)
			w->our_ts = ns_load_be32(pp->l4 + 24);
	}
	return p;
}

/* The peer opens (with timestamps when ts); returns the stack's ISN. */
static uint32_t wire_open(struct wire *w, bool ts)
{
	memset(w, 0, sizeof(*w));
	t4_init(&w->c);
	t4_peer_known(&w->c);
	struct ns_stack *stk = w->c.s.stk;
	w->lfd = tt_listen(stk, LPORT, 8);
	uint8_t syn[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 100, 0, 0, 0, 0, 1, 3, 3, 7 };
	inject(w, PEER_ISN, 0, NS_TEST_TCP_SYN, syn, ts ? sizeof(syn) : 4);
	struct ns_test_parsed pp;
	struct ns_pkt *p = take(w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_SYN | NS_TEST_TCP_ACK);
	uint32_t isn = pp.seq;
	ns_pkt_unref(p);
	if (ts)
		inject_ts(w, PEER_ISN + 1, isn + 1, NS_TEST_TCP_ACK, 101);
	else
		inject(w, PEER_ISN + 1, isn + 1, NS_TEST_TCP_ACK, NULL, 0);
	w->afd = ns_accept(stk, w->lfd, NULL, NULL, NS_SOCK_NONBLOCK);
	assert_true(w->afd >= 0);
	w->peer_nxt = PEER_ISN + 1;
	w->our_nxt = isn + 1;
	return isn;
}

/* ... and the stack's socket closes first and ends in TIME_WAIT.  Leaves the
 * listener open. */
static void wire_to_timewait(struct wire *w, bool ts)
{
	uint32_t isn = wire_open(w, ts);
	struct ns_stack *stk = w->c.s.stk;
	struct ns_test_parsed pp;
	struct ns_pkt *p;
	/* the stack closes first: FIN */
	assert_int_equal(ns_shutdown(stk, w->afd, NS_SHUT_WR), 0);
	p = take(w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags & (NS_TEST_TCP_FIN | NS_TEST_TCP_ACK), NS_TEST_TCP_FIN | NS_TEST_TCP_ACK);
	assert_int_equal(pp.seq, isn + 1);
	ns_pkt_unref(p);
	w->our_nxt = isn + 2;
	/* the peer ACKs it and sends its FIN */
	if (ts)
		inject_ts(w, PEER_ISN + 1, w->our_nxt, NS_TEST_TCP_ACK | NS_TEST_TCP_FIN, 102);
	else
		inject(w, PEER_ISN + 1, w->our_nxt, NS_TEST_TCP_ACK | NS_TEST_TCP_FIN, NULL, 0);
	w->peer_nxt = PEER_ISN + 2;
	p = take(w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_ACK);
	assert_int_equal(pp.ack, w->peer_nxt);
	ns_pkt_unref(p);
	assert_int_equal(tw_count(stk), 1);
}

static void wire_fini(struct wire *w)
{
	struct ns_stack *stk = w->c.s.stk;
	if (w->afd >= 0)
		ns_close(stk, w->afd);
	ns_close(stk, w->lfd);
	t4_advance(&w->c, 70 * NS_NSEC_PER_SEC);
	ns_test_capture_drop(&w->c.s);
	assert_int_equal(tw_count(stk), 0);
	t4_fini(&w->c);
}

static void test_timewait_record(void **state)
{
	(void)state;
	struct wire w;
	wire_to_timewait(&w, true);
	struct ns_stack *stk = w.c.s.stk;
	struct ns_test_parsed pp;
	struct ns_pkt *p;
	/* the descriptor sees CLOSE (Linux: the socket is closed, a tw record
	 * holds the tuple) and reads EOF; the record is small */
	assert_int_equal(tt_state(stk, w.afd), TCP_CLOSE);
	char c;
	assert_int_equal(ns_recv(stk, w.afd, &c, 1, NS_MSG_DONTWAIT), 0);
	assert_true(tcp_tw_record_size() <= 256);
	assert_int_equal(ns_close(stk, w.afd), 0);
	w.afd = -1;
	assert_int_equal(tw_count(stk), 1);
	assert_int_equal(t4_stat(stk, "TcpExtTW"), 1);
	/* a retransmitted FIN: ACKed with the record's numbers, TS echoing it */
	wire_advance(&w, 10 * NS_NSEC_PER_SEC);
	inject_ts(&w, PEER_ISN + 1, w.our_nxt, NS_TEST_TCP_ACK | NS_TEST_TCP_FIN, 5000);
	p = take(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_ACK);
	assert_int_equal(pp.seq, w.our_nxt);
	assert_int_equal(pp.ack, w.peer_nxt);
	assert_int_equal((pp.l4[12] >> 4) * 4, 32);
	assert_int_equal(ns_load_be32(pp.l4 + 28), 102);   /* TSecr = ts_recent (FIN not in window: not stored) */
	ns_pkt_unref(p);
	/* a second FIN at once is ACKed too (FINs are never rate limited) */
	inject_ts(&w, PEER_ISN + 1, w.our_nxt, NS_TEST_TCP_ACK | NS_TEST_TCP_FIN, 5001);
	p = take(&w, &pp);
	assert_non_null(p);
	ns_pkt_unref(p);
	/* out-of-window pure ACKs: one answer per 500 ms */
	wire_advance(&w, NS_NSEC_PER_SEC);
	inject_ts(&w, w.peer_nxt + 5000, w.our_nxt, NS_TEST_TCP_ACK, 6000);
	p = take(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.ack, w.peer_nxt);
	ns_pkt_unref(p);
	inject_ts(&w, w.peer_nxt + 5000, w.our_nxt, NS_TEST_TCP_ACK, 6001);
	assert_null(take(&w, &pp));
	assert_int_equal(t4_stat(stk, "TcpExtTCPACKSkippedTimeWait"), 1);
	/* an in-window bare ACK updates ts_recent (and restarts the 60 s) */
	inject_ts(&w, w.peer_nxt, w.our_nxt, NS_TEST_TCP_ACK, 7000);
	assert_null(take(&w, &pp));
	/* PAWS: an older timestamp is rejected (and answered, once per 500 ms) */
	wire_advance(&w, NS_NSEC_PER_SEC);
	inject_ts(&w, w.peer_nxt, w.our_nxt, NS_TEST_TCP_ACK, 6500);
	p = take(&w, &pp);
	assert_non_null(p);
	assert_int_equal(ns_load_be32(pp.l4 + 28), 7000);
	ns_pkt_unref(p);
	assert_int_equal(t4_stat(stk, "TcpExtPAWSTimewait"), 1);
	/* an out-of-window RST is ignored, silently */
	inject(&w, w.peer_nxt + 100000, 0, NS_TEST_TCP_RST, NULL, 0);
	assert_null(take(&w, &pp));
	assert_int_equal(tw_count(stk), 1);
	/* 60 s after the last in-window ACK (restarted at 11 s) it is still there at 59 s */
	wire_advance(&w, 58 * NS_NSEC_PER_SEC);
	assert_int_equal(tw_count(stk), 1);
	/* an in-window RST kills it (Linux tcp_rfc1337 = 0) */
	inject(&w, w.peer_nxt, 0, NS_TEST_TCP_RST, NULL, 0);
	assert_null(take(&w, &pp));
	assert_int_equal(tw_count(stk), 0);
	assert_int_equal(t4_stat(stk, "TcpExtTWKilled"), 1);
	assert_int_equal(atomic_load(&stk->tcp->n_timewait), 0);
	/* now the tuple is closed: a segment gets a RST */
	inject(&w, w.peer_nxt, w.our_nxt, NS_TEST_TCP_ACK, NULL, 0);
	p = take(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags & NS_TEST_TCP_RST, NS_TEST_TCP_RST);
	ns_pkt_unref(p);
	wire_fini(&w);
}

static void test_timewait_expires(void **state)
{
	(void)state;
	struct wire w;
	wire_to_timewait(&w, true);
	struct ns_stack *stk = w.c.s.stk;
	wire_advance(&w, 59 * NS_NSEC_PER_SEC);
	assert_int_equal(tw_count(stk), 1);
	wire_advance(&w, 2 * NS_NSEC_PER_SEC);
	assert_int_equal(tw_count(stk), 0);
	assert_int_equal(atomic_load(&stk->tcp->n_timewait), 0);
	wire_fini(&w);
}

/* RFC 6191 / Linux: a new SYN reopens the tuple through the listener with an
 * ISN past the old connection's sequence space. */
static void syn_reuse(bool ts)
{
	struct wire w;
	wire_to_timewait(&w, ts);
	struct ns_stack *stk = w.c.s.stk;
	struct ns_test_parsed pp;
	struct ns_pkt *p;
	wire_advance(&w, NS_NSEC_PER_SEC);
	/* an old SYN (lower sequence number, no newer timestamp): answered with an ACK */
	uint8_t syn[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 50, 0, 0, 0, 0, 1, 3, 3, 7 };
	inject(&w, PEER_ISN - 10, 0, NS_TEST_TCP_SYN, syn, ts ? sizeof(syn) : 4);
	p = take(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_ACK);
	assert_int_equal(pp.seq, w.our_nxt);
	ns_pkt_unref(p);
	assert_int_equal(tw_count(stk), 1);
	/* a new one (higher sequence number, newer timestamp) */
	ns_store_be32(syn + 8, 200000);
	inject(&w, PEER_ISN + 100000, 0, NS_TEST_TCP_SYN, syn, ts ? sizeof(syn) : 4);
	p = take(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_SYN | NS_TEST_TCP_ACK);
	assert_int_equal(pp.ack, PEER_ISN + 100001);
	assert_int_equal(pp.seq, w.our_nxt + 65535 + 2);
	ns_pkt_unref(p);
	assert_int_equal(tw_count(stk), 0);
	assert_int_equal(t4_stat(stk, "TcpExtTW"), 1);
	wire_fini(&w);
}

static void test_timewait_syn_reuse_ts(void **state)
{
	(void)state;
	syn_reuse(true);
}

static void test_timewait_syn_reuse_nots(void **state)
{
	(void)state;
	syn_reuse(false);
}

/* ---- per-socket rate limit of ACKs to invalid segments ------------------------------------------------ */

static void test_oow_ratelimit(void **state)
{
	(void)state;
	struct wire w;
	wire_open(&w, true);
	struct ns_stack *stk = w.c.s.stk;
	struct ns_test_parsed pp;
	struct ns_pkt *p;
	char buf[256];
	assert_int_equal(ns_sysctl_get(stk, "net.ipv4.tcp_invalid_ratelimit", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "500");
	/* out-of-window pure ACKs: one duplicate ACK per 500 ms (TCPACKSkippedSeq) */
	inject_ts(&w, w.peer_nxt + 1000000, w.our_nxt, NS_TEST_TCP_ACK, 200);
	p = take(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.ack, w.peer_nxt);
	ns_pkt_unref(p);
	inject_ts(&w, w.peer_nxt + 1000000, w.our_nxt, NS_TEST_TCP_ACK, 201);
	assert_null(take(&w, &pp));
	assert_int_equal(t4_stat(stk, "TcpExtTCPACKSkippedSeq"), 1);
	/* in-window RSTs that are not exact: challenge ACKs, one per 500 ms per
	 * socket (TCPACKSkippedChallenge) before the global limit */
	wire_advance(&w, 600 * NS_NSEC_PER_MSEC);
	inject(&w, w.peer_nxt + 10, 0, NS_TEST_TCP_RST, NULL, 0);
	p = take(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_ACK);
	ns_pkt_unref(p);
	inject(&w, w.peer_nxt + 11, 0, NS_TEST_TCP_RST, NULL, 0);
	assert_null(take(&w, &pp));
	assert_int_equal(t4_stat(stk, "TcpExtTCPChallengeACK"), 1);
	assert_int_equal(t4_stat(stk, "TcpExtTCPACKSkippedChallenge"), 1);
	/* data segments out of window are always answered (not an ACK loop) */
	uint8_t o[12];
	ts_opt(o, 202, w.our_ts);
	uint8_t f[512];
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	struct ns_test_tcp t = { .sport = PEER_PORT, .dport = LPORT, .seq = w.peer_nxt + 1000000, .ack = w.our_nxt,
				 .flags = NS_TEST_TCP_ACK, .win = 502, .opts = o, .opts_len = sizeof(o) };
	t4_inject(&w.c, f, ns_test_build_tcp(f, &h, &t, "data", 4));
	p = take(&w, &pp);
	assert_non_null(p);
	ns_pkt_unref(p);
	/* the limit is a sysctl: 0 turns it off */
	assert_int_equal(ns_sysctl_set(stk, "net.ipv4.tcp_invalid_ratelimit", "0"), 0);
	inject_ts(&w, w.peer_nxt + 1000000, w.our_nxt, NS_TEST_TCP_ACK, 203);
	p = take(&w, &pp);
	assert_non_null(p);
	ns_pkt_unref(p);
	inject_ts(&w, w.peer_nxt + 1000000, w.our_nxt, NS_TEST_TCP_ACK, 204);
	p = take(&w, &pp);
	assert_non_null(p);
	ns_pkt_unref(p);
	assert_int_equal(t4_stat(stk, "TcpExtTCPACKSkippedSeq"), 1);
	wire_fini(&w);
}

/* ---- tcp_max_tw_buckets ---------------------------------------------------------------------------- */

static void close_pairs(struct ns_test_pair *p, int n, int lfd, uint16_t port)
{
	struct ns_stack *a = p->a.stk, *b = p->b.stk;
	for (int i = 0; i < n; i++) {
		int c = tt_connect_nb(a, "198.18.0.2", port);
		struct tt_accept acc = { b, lfd, -1 };
		assert_true(ns_test_pump(p, tt_accepted, &acc, NS_NSEC_PER_SEC));
		ns_close(a, c);
		ns_test_advance(p, 10 * NS_NSEC_PER_MSEC);
		ns_close(b, acc.fd);
		ns_test_advance(p, 10 * NS_NSEC_PER_MSEC);
	}
}

static void test_timewait_cap(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, NULL), 0);
	struct ns_stack *a = p.a.stk, *b = p.b.stk;
	char buf[32];
	assert_int_equal(ns_sysctl_get(a, "net.ipv4.tcp_max_tw_buckets", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "262144");
	assert_int_equal(ns_sysctl_set(a, "net.ipv4.tcp_max_tw_buckets", "3"), 0);
	assert_int_equal(ns_sysctl_set(a, "net.ipv4.tcp_max_tw_buckets", "-1"), -NS_EINVAL);
	int lfd = tt_listen(b, 7000, 16);
	close_pairs(&p, 5, lfd, 7000);
	assert_int_equal(tw_count(a), 3);
	assert_int_equal(stat_of(a, "TcpExtTW"), 3);
	assert_int_equal(stat_of(a, "TcpExtTCPTimeWaitOverflow"), 2);
	assert_int_equal(tt_count_state(a, TCP_ESTABLISHED) + tt_count_state(b, TCP_ESTABLISHED), 0);
	ns_test_advance(&p, 61 * NS_NSEC_PER_SEC);
	assert_int_equal(tw_count(a), 0);
	ns_close(b, lfd);
	ns_test_settle(&p);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

/* ---- connect() reusing a TIME_WAIT tuple ---------------------------------------------------------------- */

/* a connects from a fixed local port, closes first: a TIME_WAIT record on a. */
static int connect_from(struct ns_test_pair *p, int lfd, uint16_t lport, bool bind_it, int *srv)
{
	struct ns_stack *a = p->a.stk, *b = p->b.stk;
	int c = ns_socket(a, NS_AF_INET, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
	if (bind_it) {
		set_int(a, c, NS_SOL_SOCKET, NS_SO_REUSEADDR, 1);
		struct sockaddr_in l = tt_sin("198.18.0.1", lport);
		assert_int_equal(ns_bind(a, c, (struct sockaddr *)&l, sizeof(l)), 0);
	}
	struct sockaddr_in sin = tt_sin("198.18.0.2", 7000);
	int r = ns_connect(a, c, (struct sockaddr *)&sin, sizeof(sin));
	if (r != -NS_EINPROGRESS) {
		ns_close(a, c);
		return r;
	}
	struct tt_accept acc = { b, lfd, -1 };
	assert_true(ns_test_pump(p, tt_accepted, &acc, NS_NSEC_PER_SEC));
	*srv = acc.fd;
	return c;
}

static void active_close(struct ns_test_pair *p, int c, int s)
{
	ns_close(p->a.stk, c);
	ns_test_advance(p, 10 * NS_NSEC_PER_MSEC);
	ns_close(p->b.stk, s);
	ns_test_advance(p, 10 * NS_NSEC_PER_MSEC);
}

static void test_connect_reuse_bound(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, NULL), 0);
	struct ns_stack *a = p.a.stk, *b = p.b.stk;
	int lfd = tt_listen(b, 7000, 16);
	int s, c = connect_from(&p, lfd, 45000, true, &s);
	assert_true(c >= 0);
	active_close(&p, c, s);
	assert_int_equal(tw_count(a), 1);
	/* bind + connect to the same tuple: timestamps make it safe (Linux
	 * tcp_twsk_unique without twp), whatever tcp_tw_reuse says */
	assert_int_equal(ns_sysctl_set(a, "net.ipv4.tcp_tw_reuse", "0"), 0);
	c = connect_from(&p, lfd, 45000, true, &s);
	assert_true(c >= 0);
	assert_int_equal(tw_count(a), 0);
	assert_int_equal(stat_of(a, "TcpExtTWRecycled"), 1);
	assert_int_equal(tt_state(a, c), TCP_ESTABLISHED);
	assert_int_equal(ns_send(a, c, "hi", 2, 0), 2);
	struct tt_readable rd = { b, s };
	assert_true(ns_test_pump(&p, tt_is_readable, &rd, NS_NSEC_PER_SEC));
	char buf[4];
	assert_int_equal(ns_recv(b, s, buf, sizeof(buf), NS_MSG_DONTWAIT), 2);
	active_close(&p, c, s);
	ns_close(b, lfd);
	ns_test_advance(&p, 61 * NS_NSEC_PER_SEC);
	assert_int_equal(tw_count(a), 0);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

static void test_connect_reuse_sysctl(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, NULL), 0);
	struct ns_stack *a = p.a.stk, *b = p.b.stk;
	char buf[32];
	assert_int_equal(ns_sysctl_get(a, "net.ipv4.tcp_tw_reuse", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2");
	assert_int_equal(ns_sysctl_set(a, "net.ipv4.tcp_tw_reuse", "3"), -NS_EINVAL);
	assert_int_equal(ns_sysctl_set(a, "net.ipv4.tcp_tw_reuse", "x"), -NS_EINVAL);
	/* one ephemeral port only, so the next connect must meet the record */
	a->tcp->portsel.lo = a->tcp->portsel.hi = 41000;
	int lfd = tt_listen(b, 7000, 16);
	int s, c = connect_from(&p, lfd, 0, false, &s);
	assert_true(c >= 0);
	active_close(&p, c, s);
	assert_int_equal(tw_count(a), 1);
	/* default 2: loopback only -> 198.18.0.x may not reuse */
	assert_int_equal(connect_from(&p, lfd, 0, false, &s), -NS_EADDRNOTAVAIL);
	assert_int_equal(ns_sysctl_set(a, "net.ipv4.tcp_tw_reuse", "1"), 0);
	/* not before tcp_tw_reuse_delay (1 s) */
	assert_int_equal(connect_from(&p, lfd, 0, false, &s), -NS_EADDRNOTAVAIL);
	ns_test_advance(&p, NS_NSEC_PER_SEC);
	c = connect_from(&p, lfd, 0, false, &s);
	assert_true(c >= 0);
	assert_int_equal(stat_of(a, "TcpExtTWRecycled"), 1);
	assert_int_equal(tw_count(a), 0);
	assert_int_equal(tt_state(a, c), TCP_ESTABLISHED);
	active_close(&p, c, s);
	ns_close(b, lfd);
	ns_test_advance(&p, 61 * NS_NSEC_PER_SEC);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

/* A TIME_WAIT record keeps its port: bind() needs SO_REUSEADDR on both. */
static void test_timewait_holds_port(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, NULL), 0);
	struct ns_stack *a = p.a.stk, *b = p.b.stk;
	int lfd = tt_listen(b, 7000, 16);
	int s, c = connect_from(&p, lfd, 45001, true, &s);
	assert_true(c >= 0);
	active_close(&p, c, s);
	assert_int_equal(tw_count(a), 1);
	int x = ns_socket(a, NS_AF_INET, NS_SOCK_STREAM, 0);
	struct sockaddr_in l = tt_sin("198.18.0.1", 45001);
	assert_int_equal(ns_bind(a, x, (struct sockaddr *)&l, sizeof(l)), -NS_EADDRINUSE);
	set_int(a, x, NS_SOL_SOCKET, NS_SO_REUSEADDR, 1);
	assert_int_equal(ns_bind(a, x, (struct sockaddr *)&l, sizeof(l)), 0);
	ns_close(a, x);
	ns_close(b, lfd);
	ns_test_advance(&p, 61 * NS_NSEC_PER_SEC);
	x = ns_socket(a, NS_AF_INET, NS_SOCK_STREAM, 0);
	assert_int_equal(ns_bind(a, x, (struct sockaddr *)&l, sizeof(l)), 0);
	ns_close(a, x);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timewait_record),
		cmocka_unit_test(test_timewait_expires),
		cmocka_unit_test(test_timewait_syn_reuse_ts),
		cmocka_unit_test(test_timewait_syn_reuse_nots),
		cmocka_unit_test(test_timewait_cap),
		cmocka_unit_test(test_oow_ratelimit),
		cmocka_unit_test(test_connect_reuse_bound),
		cmocka_unit_test(test_connect_reuse_sysctl),
		cmocka_unit_test(test_timewait_holds_port),
		cmocka_unit_test(test_scale_20k),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
