/*
 * tests/unit/test_tcp_wire.c - TCP segment by segment against a pretend
 * peer (capture mode): what a Linux peer sees on the wire.  SYN-ACK options
 * and window, RSTs for closed ports, RFC 5961 challenge ACKs (in-window RST,
 * SYN in ESTABLISHED), PAWS, quick ACKs at start and immediate ACKs with
 * SACK blocks for out-of-order data, D-SACK for duplicates, window
 * advertisement, active-open SYN layout.
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

#define PEER_PORT 40000
#define LPORT 80
#define PEER_ISN 1000000u

struct wire {
	struct t4_cap c;
	int lfd, afd;
	uint32_t our_isn;       /* from the SYN-ACK */
	uint32_t peer_nxt;      /* next sequence number the peer sends */
	uint32_t tsval;         /* the peer's clock */
};

static const uint8_t syn_opts[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7 };

static void ts_opt(uint8_t *o, uint32_t val, uint32_t ecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	ns_store_be32(o + 4, val);
	ns_store_be32(o + 8, ecr);
}

static void inject_tcp(struct wire *w, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
		       const uint8_t *opts, size_t olen, const void *data, size_t len)
{
	uint8_t f[2048];
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	struct ns_test_tcp t = { .sport = PEER_PORT, .dport = LPORT, .seq = seq, .ack = ack, .flags = flags,
				 .win = win, .opts = opts, .opts_len = olen };
	size_t n = ns_test_build_tcp(f, &h, &t, data, len);
	t4_inject(&w->c, f, n);
}

/* data segment with a timestamp option */
static void inject_data(struct wire *w, uint32_t seq, const char *d, size_t len, uint32_t tsval)
{
	uint8_t o[12];
	ts_opt(o, tsval, 0);
	inject_tcp(w, seq, w->our_isn + 1, NS_TEST_TCP_ACK | NS_TEST_TCP_PSH, 502, o, sizeof(o), d, len);
}

static struct ns_pkt *take_tcp(struct wire *w, struct ns_test_parsed *pp)
{
	struct ns_pkt *p = t4_take(&w->c, pp);
	if (p) {
		assert_int_equal(pp->proto, NS_IPPROTO_TCP);
		assert_true(pp->l4_csum_ok);
	}
	return p;
}

/* Handshake from the peer; leaves an accepted socket. */
static void wire_up(struct wire *w)
{
	memset(w, 0, sizeof(*w));
	t4_init(&w->c);
	t4_peer_known(&w->c);
	w->lfd = tt_listen(w->c.s.stk, LPORT, 8);
	uint8_t o[20];
	memcpy(o, syn_opts, sizeof(o));
	ns_store_be32(o + 8, 100);   /* TSval */
	inject_tcp(w, PEER_ISN, 0, NS_TEST_TCP_SYN, 64240, o, sizeof(o), NULL, 0);
	struct ns_test_parsed pp;
	struct ns_pkt *p = take_tcp(w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_SYN | NS_TEST_TCP_ACK);
	assert_int_equal(pp.ack, PEER_ISN + 1);
	/* Linux: the SYN-ACK window is the space rounded to MSS minus timestamps */
	assert_int_equal(pp.win, 65160);
	/* options: mss 1460, sackOK, TS val ecr=100, nop, wscale 7 */
	const uint8_t *opt = pp.l4 + 20;
	assert_int_equal((pp.l4[12] >> 4) * 4, 40);
	static const uint8_t want_head[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10 };
	assert_memory_equal(opt, want_head, sizeof(want_head));
	assert_int_equal(ns_load_be32(opt + 12), 100);
	static const uint8_t want_tail[] = { 1, 3, 3, 7 };
	assert_memory_equal(opt + 16, want_tail, 4);
	w->our_isn = pp.seq;
	uint32_t our_ts = ns_load_be32(opt + 8);
	ns_pkt_unref(p);
	uint8_t t[12];
	ts_opt(t, 101, our_ts);
	inject_tcp(w, PEER_ISN + 1, w->our_isn + 1, NS_TEST_TCP_ACK, 502, t, sizeof(t), NULL, 0);
	w->afd = ns_accept(w->c.s.stk, w->lfd, NULL, NULL, NS_SOCK_NONBLOCK);
	assert_true(w->afd >= 0);
	assert_null(ns_test_capture(&w->c.s));
	w->peer_nxt = PEER_ISN + 1;
	w->tsval = 102;
}

static void wire_down(struct wire *w)
{
	ns_close(w->c.s.stk, w->afd);
	ns_close(w->c.s.stk, w->lfd);
	t4_advance(&w->c, 200 * NS_NSEC_PER_SEC);
	ns_test_capture_drop(&w->c.s);
	t4_fini(&w->c);
}

static void test_closed_port_rst(void **state)
{
	(void)state;
	struct wire w;
	memset(&w, 0, sizeof(w));
	t4_init(&w.c);
	t4_peer_known(&w.c);
	struct ns_test_parsed pp;
	/* SYN: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
	inject_tcp(&w, 5000, 0, NS_TEST_TCP_SYN, 1000, NULL, 0, NULL, 0);
	struct ns_pkt *p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_RST | NS_TEST_TCP_ACK);
	assert_int_equal(pp.seq, 0);
	assert_int_equal(pp.ack, 5001);
	assert_int_equal(pp.win, 0);
	ns_pkt_unref(p);
	/* ACK: <SEQ=SEG.ACK><CTL=RST> */
	inject_tcp(&w, 5000, 777, NS_TEST_TCP_ACK, 1000, NULL, 0, "x", 1);
	p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_RST);
	assert_int_equal(pp.seq, 777);
	ns_pkt_unref(p);
	/* never a RST for a RST */
	inject_tcp(&w, 5000, 777, NS_TEST_TCP_RST, 0, NULL, 0, NULL, 0);
	assert_null(ns_test_capture(&w.c.s));
	uint64_t v;
	assert_int_equal(ns_stat_get(w.c.s.stk, "TcpOutRsts", &v), 0);
	assert_int_equal(v, 2);
	t4_fini(&w.c);
}

static void test_challenge_acks(void **state)
{
	(void)state;
	struct wire w;
	wire_up(&w);
	struct ns_test_parsed pp;
	/* RFC 5961 3.2: an in-window RST that is not exactly RCV.NXT: challenge ACK */
	inject_tcp(&w, w.peer_nxt + 100, 0, NS_TEST_TCP_RST, 0, NULL, 0, NULL, 0);
	struct ns_pkt *p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_ACK);
	assert_int_equal(pp.seq, w.our_isn + 1);
	assert_int_equal(pp.ack, w.peer_nxt);
	ns_pkt_unref(p);
	assert_int_equal(tt_state(w.c.s.stk, w.afd), TCP_ESTABLISHED);
	/* RFC 5961 4.2: a SYN in ESTABLISHED: challenge ACK, connection stays
	 * (Linux allows one challenge ACK per socket every 500 ms: wait) */
	t4_advance(&w.c, 600 * NS_NSEC_PER_MSEC);
	inject_tcp(&w, w.peer_nxt + 5, 0, NS_TEST_TCP_SYN, 1000, NULL, 0, NULL, 0);
	p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_ACK);
	assert_int_equal(pp.ack, w.peer_nxt);
	ns_pkt_unref(p);
	assert_int_equal(tt_state(w.c.s.stk, w.afd), TCP_ESTABLISHED);
	/* an out-of-window RST: silently dropped */
	inject_tcp(&w, w.peer_nxt + 10000000, 0, NS_TEST_TCP_RST, 0, NULL, 0, NULL, 0);
	assert_null(ns_test_capture(&w.c.s));
	/* the exact RST resets */
	inject_tcp(&w, w.peer_nxt, 0, NS_TEST_TCP_RST, 0, NULL, 0, NULL, 0);
	assert_int_equal(tt_state(w.c.s.stk, w.afd), TCP_CLOSE);
	assert_int_equal(tt_sock_error(w.c.s.stk, w.afd), NS_ECONNRESET);
	uint64_t v;
	assert_int_equal(ns_stat_get(w.c.s.stk, "TcpExtTCPChallengeACK", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(ns_stat_get(w.c.s.stk, "TcpExtTCPSYNChallenge", &v), 0);
	assert_int_equal(v, 1);
	wire_down(&w);
}

static void test_data_acks_sack_paws(void **state)
{
	(void)state;
	struct wire w;
	wire_up(&w);
	struct ns_test_parsed pp;
	char d[1448];
	memset(d, 'a', sizeof(d));
	/* quick-ACK mode at the start: the first data segment is ACKed at once */
	inject_data(&w, w.peer_nxt, d, 100, w.tsval++);
	struct ns_pkt *p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.ack, w.peer_nxt + 100);
	assert_int_equal(pp.payload_len, 0);
	ns_pkt_unref(p);
	w.peer_nxt += 100;
	/* out of order: immediate ACK with a SACK block for it */
	inject_data(&w, w.peer_nxt + 1000, d, 500, w.tsval++);
	p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.ack, w.peer_nxt);
	/* options: nop nop TS (12) + nop nop sack 1 block (12) */
	assert_int_equal((pp.l4[12] >> 4) * 4, 20 + 24);
	const uint8_t *o = pp.l4 + 20 + 12;
	assert_int_equal(o[2], 5);
	assert_int_equal(o[3], 10);
	assert_int_equal(ns_load_be32(o + 4), w.peer_nxt + 1000);
	assert_int_equal(ns_load_be32(o + 8), w.peer_nxt + 1500);
	ns_pkt_unref(p);
	/* the hole fills: everything is acknowledged at once, no SACK left */
	inject_data(&w, w.peer_nxt, d, 1000, w.tsval++);
	p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.ack, w.peer_nxt + 1500);
	assert_int_equal((pp.l4[12] >> 4) * 4, 32);
	ns_pkt_unref(p);
	w.peer_nxt += 1500;
	/* a duplicate of old data: immediate ACK with a D-SACK block */
	inject_data(&w, w.peer_nxt - 200, d, 200, w.tsval++);
	p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.ack, w.peer_nxt);
	assert_int_equal((pp.l4[12] >> 4) * 4, 44);
	o = pp.l4 + 20 + 12;
	assert_int_equal(ns_load_be32(o + 4), w.peer_nxt - 200);
	assert_int_equal(ns_load_be32(o + 8), w.peer_nxt);
	ns_pkt_unref(p);
	/* PAWS: a segment with an old timestamp is dropped and answered with an ACK */
	inject_data(&w, w.peer_nxt, d, 10, 5);
	p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.ack, w.peer_nxt);
	ns_pkt_unref(p);
	char buf[4096];
	assert_int_equal(ns_recv(w.c.s.stk, w.afd, buf, sizeof(buf), NS_MSG_DONTWAIT), 1600);
	uint64_t v;
	assert_int_equal(ns_stat_get(w.c.s.stk, "TcpExtPAWSEstab", &v), 0);
	assert_int_equal(v, 1);
	wire_down(&w);
}

static void test_active_open_syn(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	int fd = tt_connect_nb(c.s.stk, "198.18.0.2", 443);
	struct ns_test_parsed pp;
	struct ns_pkt *p = t4_take(&c, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_SYN);
	assert_true(pp.sport >= 32768 && pp.sport <= 60999);
	/* Linux: window 64240 (44 * 1460), options mss,sackOK,TS,nop,wscale 7 */
	assert_int_equal(pp.win, 64240);
	assert_int_equal((pp.l4[12] >> 4) * 4, 40);
	const uint8_t *o = pp.l4 + 20;
	static const uint8_t head[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10 };
	assert_memory_equal(o, head, sizeof(head));
	assert_int_equal(ns_load_be32(o + 12), 0);
	static const uint8_t tail[] = { 1, 3, 3, 7 };
	assert_memory_equal(o + 16, tail, 4);
	ns_pkt_unref(p);
	/* SYN retransmitted after 1 s, then 2 s more */
	t4_advance(&c, 999 * NS_NSEC_PER_MSEC);
	assert_null(ns_test_capture(&c.s));
	t4_advance(&c, 2 * NS_NSEC_PER_MSEC);
	p = t4_take(&c, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_SYN);
	ns_pkt_unref(p);
	t4_advance(&c, 1990 * NS_NSEC_PER_MSEC);
	assert_null(ns_test_capture(&c.s));
	t4_advance(&c, 20 * NS_NSEC_PER_MSEC);
	p = t4_take(&c, &pp);
	assert_non_null(p);
	ns_pkt_unref(p);
	ns_close(c.s.stk, fd);
	ns_test_capture_drop(&c.s);
	t4_fini(&c);
}

/* ACK from the peer for everything up to ack */
static void peer_ack(struct wire *w, uint32_t ack)
{
	uint8_t o[12];
	ts_opt(o, w->tsval++, 0);
	inject_tcp(w, w->peer_nxt, ack, NS_TEST_TCP_ACK, 502, o, sizeof(o), NULL, 0);
}

static void test_nagle_cork_nodelay(void **state)
{
	(void)state;
	struct wire w;
	wire_up(&w);
	struct ns_stack *stk = w.c.s.stk;
	struct ns_test_parsed pp;
	uint32_t una = w.our_isn + 1;
	/* Nagle: the first small write goes, a second waits for the ACK */
	assert_int_equal(ns_send(stk, w.afd, "aaaa", 4, 0), 4);
	t4_settle(&w.c);
	struct ns_pkt *p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.payload_len, 4);
	ns_pkt_unref(p);
	assert_int_equal(ns_send(stk, w.afd, "bbbb", 4, 0), 4);
	t4_settle(&w.c);
	assert_null(ns_test_capture(&w.c.s));
	peer_ack(&w, una + 4);
	p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.payload_len, 4);
	assert_int_equal(pp.seq, una + 4);
	ns_pkt_unref(p);
	peer_ack(&w, una + 8);
	una += 8;
	/* TCP_NODELAY: both small writes go at once */
	int one = 1, zero = 0;
	assert_int_equal(ns_setsockopt(stk, w.afd, NS_IPPROTO_TCP, NS_TCP_NODELAY, &one, sizeof(one)), 0);
	assert_int_equal(ns_send(stk, w.afd, "cc", 2, 0), 2);
	assert_int_equal(ns_send(stk, w.afd, "dd", 2, 0), 2);
	t4_settle(&w.c);
	assert_int_equal(ns_test_capture_drop(&w.c.s), 2);
	peer_ack(&w, una + 4);
	una += 4;
	/* TCP_CORK: nothing until uncorked (or a full segment) */
	assert_int_equal(ns_setsockopt(stk, w.afd, NS_IPPROTO_TCP, NS_TCP_CORK, &one, sizeof(one)), 0);
	assert_int_equal(ns_send(stk, w.afd, "ee", 2, 0), 2);
	assert_int_equal(ns_send(stk, w.afd, "ff", 2, 0), 2);
	t4_settle(&w.c);
	assert_null(ns_test_capture(&w.c.s));
	assert_int_equal(ns_setsockopt(stk, w.afd, NS_IPPROTO_TCP, NS_TCP_CORK, &zero, sizeof(zero)), 0);
	t4_settle(&w.c);
	p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.payload_len, 4);
	ns_pkt_unref(p);
	peer_ack(&w, una + 4);
	una += 4;
	/* MSG_MORE holds a small write; the next plain one flushes both */
	assert_int_equal(ns_send(stk, w.afd, "gg", 2, NS_MSG_MORE), 2);
	t4_settle(&w.c);
	assert_null(ns_test_capture(&w.c.s));
	assert_int_equal(ns_send(stk, w.afd, "hh", 2, 0), 2);
	t4_settle(&w.c);
	p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.payload_len, 4);
	ns_pkt_unref(p);
	peer_ack(&w, una + 4);
	wire_down(&w);
}

static void test_delayed_ack(void **state)
{
	(void)state;
	struct wire w;
	wire_up(&w);
	struct ns_test_parsed pp;
	char d[1448];
	memset(d, 'z', sizeof(d));
	/* leave quick-ACK mode: 16 segments are ACKed at once */
	for (int i = 0; i < 40; i++) {
		inject_data(&w, w.peer_nxt, d, 100, w.tsval++);
		w.peer_nxt += 100;
		ns_test_capture_drop(&w.c.s);
		char b[256];
		ns_recv(w.c.s.stk, w.afd, b, sizeof(b), NS_MSG_DONTWAIT);
	}
	/* now a lone small segment waits for the delayed-ACK timer (40 ms) */
	inject_data(&w, w.peer_nxt, d, 100, w.tsval++);
	w.peer_nxt += 100;
	assert_null(ns_test_capture(&w.c.s));
	t4_advance(&w.c, 39 * NS_NSEC_PER_MSEC);
	assert_null(ns_test_capture(&w.c.s));
	t4_advance(&w.c, 2 * NS_NSEC_PER_MSEC);
	struct ns_pkt *p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.ack, w.peer_nxt);
	ns_pkt_unref(p);
	/* two full-sized segments: ACK at once */
	inject_data(&w, w.peer_nxt, d, sizeof(d), w.tsval++);
	w.peer_nxt += sizeof(d);
	inject_data(&w, w.peer_nxt, d, sizeof(d), w.tsval++);
	w.peer_nxt += sizeof(d);
	p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.ack, w.peer_nxt);
	ns_pkt_unref(p);
	uint64_t v;
	assert_int_equal(ns_stat_get(w.c.s.stk, "TcpExtDelayedACKs", &v), 0);
	assert_true(v >= 1);
	wire_down(&w);
}

static void test_icmp_frag_needed(void **state)
{
	(void)state;
	struct wire w;
	wire_up(&w);
	struct ns_stack *stk = w.c.s.stk;
	struct ns_test_parsed pp;
	static char big[8000];
	memset(big, 'q', sizeof(big));
	int one = 1;
	assert_int_equal(ns_setsockopt(stk, w.afd, NS_IPPROTO_TCP, NS_TCP_NODELAY, &one, sizeof(one)), 0);
	assert_int_equal(ns_send(stk, w.afd, big, 1448, 0), 1448);
	t4_settle(&w.c);
	struct ns_pkt *p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.payload_len, 1448);
	/* a router says: MTU 1200 (RFC 1191), quoting our segment */
	uint8_t f[1600];
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	size_t n = ns_test_build_icmp(f, &h, NS_ICMP_DEST_UNREACH, NS_ICMP_FRAG_NEEDED, 1200, pp.l3, 28 + 20);
	ns_pkt_unref(p);
	t4_inject(&w.c, f, n);
	/* the segment is sent again, cut to the new MSS */
	p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_true(pp.payload_len <= 1200 - 40 - 12);
	assert_int_equal(pp.seq, w.our_isn + 1);
	ns_pkt_unref(p);
	int mss = 0;
	socklen_t l = sizeof(mss);
	assert_int_equal(ns_getsockopt(stk, w.afd, NS_IPPROTO_TCP, NS_TCP_MAXSEG, &mss, &l), 0);
	assert_int_equal(mss, 1200 - 40 - 12);
	ns_test_capture_drop(&w.c.s);
	wire_down(&w);
}

static void inject_from(struct wire *w, uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags,
			const uint8_t *opts, size_t olen)
{
	uint8_t f[256];
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	struct ns_test_tcp t = { .sport = sport, .dport = LPORT, .seq = seq, .ack = ack, .flags = flags,
				 .win = 502, .opts = opts, .opts_len = olen };
	size_t n = ns_test_build_tcp(f, &h, &t, NULL, 0);
	t4_inject(&w->c, f, n);
}

static void test_syn_cookies(void **state)
{
	(void)state;
	struct wire w;
	memset(&w, 0, sizeof(w));
	t4_init(&w.c);
	t4_peer_known(&w.c);
	struct ns_stack *stk = w.c.s.stk;
	w.lfd = tt_listen(stk, LPORT, 1);
	uint8_t o[20];
	memcpy(o, syn_opts, sizeof(o));
	ns_store_be32(o + 8, 500);
	/* the first SYN takes the one SYN-queue slot */
	inject_from(&w, 41000, 9000, 0, NS_TEST_TCP_SYN, o, sizeof(o));
	assert_int_equal(ns_test_capture_drop(&w.c.s), 1);
	/* the next one gets a cookie: no state kept */
	inject_from(&w, 41001, 7000, 0, NS_TEST_TCP_SYN, o, sizeof(o));
	struct ns_test_parsed pp;
	struct ns_pkt *p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_SYN | NS_TEST_TCP_ACK);
	assert_int_equal(pp.ack, 7001);
	uint32_t cookie = pp.seq;
	const uint8_t *opt = pp.l4 + 20;
	assert_int_equal(opt[0], 2);
	uint32_t tsval = ns_load_be32(opt + 8);
	ns_pkt_unref(p);
	uint64_t v;
	assert_int_equal(ns_stat_get(stk, "TcpExtSyncookiesSent", &v), 0);
	assert_int_equal(v, 1);
	/* the ACK carrying the cookie (and the TS echo with the options) */
	uint8_t t[12];
	ts_opt(t, 501, tsval);
	inject_from(&w, 41001, 7001, cookie + 1, NS_TEST_TCP_ACK, t, sizeof(t));
	assert_int_equal(ns_stat_get(stk, "TcpExtSyncookiesRecv", &v), 0);
	assert_int_equal(v, 1);
	int fd = ns_accept(stk, w.lfd, NULL, NULL, NS_SOCK_NONBLOCK);
	assert_true(fd >= 0);
	/* what the cookie kept: timestamps, SACK, window scale 7, an MSS from the table */
	uint8_t ti[104];
	socklen_t tl = sizeof(ti);
	assert_int_equal(ns_getsockopt(stk, fd, NS_IPPROTO_TCP, NS_TCP_INFO, ti, &tl), 0);
	assert_int_equal(ti[0], TCP_ESTABLISHED);
	assert_int_equal(ti[5], 7);            /* TS | SACK | WSCALE */
	assert_int_equal(ti[6] & 0xf, 7);      /* snd_wscale */
	int mss = 0;
	socklen_t ml = sizeof(mss);
	assert_int_equal(ns_getsockopt(stk, fd, NS_IPPROTO_TCP, NS_TCP_MAXSEG, &mss, &ml), 0);
	assert_int_equal(mss, 1460 - 12);
	/* a forged cookie is refused with a RST */
	inject_from(&w, 41002, 5000, 12345, NS_TEST_TCP_ACK, NULL, 0);
	p = take_tcp(&w, &pp);
	assert_non_null(p);
	assert_int_equal(pp.tcp_flags, NS_TEST_TCP_RST);
	ns_pkt_unref(p);
	assert_int_equal(ns_stat_get(stk, "TcpExtSyncookiesFailed", &v), 0);
	assert_int_equal(v, 1);
	ns_close(stk, fd);
	ns_close(stk, w.lfd);
	t4_advance(&w.c, 200 * NS_NSEC_PER_SEC);
	ns_test_capture_drop(&w.c.s);
	t4_fini(&w.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closed_port_rst),
		cmocka_unit_test(test_challenge_acks),
		cmocka_unit_test(test_data_acks_sack_paws),
		cmocka_unit_test(test_active_open_syn),
		cmocka_unit_test(test_nagle_cork_nodelay),
		cmocka_unit_test(test_delayed_ack),
		cmocka_unit_test(test_icmp_frag_needed),
		cmocka_unit_test(test_syn_cookies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
