/*
 * tests/unit/test_tcp_states.c - TCP state machine between two stacks on a
 * virtual clock: simultaneous open and close, refused connections, resets
 * (close with unread data, SO_LINGER 0), listen backlog overflow,
 * retransmission timeout (ETIMEDOUT), TCP_USER_TIMEOUT, SYN retries,
 * keepalive, zero-window probing.
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

#define SEC NS_NSEC_PER_SEC

struct conn {
	struct ns_test_pair p;
	int ls, c, s;
};

static void conn_up(struct conn *k, uint16_t port)
{
	assert_int_equal(ns_test_pair_init(&k->p, NULL), 0);
	k->ls = tt_listen(k->p.b.stk, port, 16);
	k->c = tt_connect_nb(k->p.a.stk, "198.18.0.2", port);
	struct tt_accept acc = { k->p.b.stk, k->ls, -1 };
	assert_true(ns_test_pump(&k->p, tt_accepted, &acc, 5 * SEC));
	k->s = acc.fd;
}

static void conn_down(struct conn *k)
{
	ns_close(k->p.a.stk, k->c);
	ns_close(k->p.b.stk, k->s);
	ns_close(k->p.b.stk, k->ls);
	ns_test_advance(&k->p, 200 * SEC);
	assert_int_equal(ns_test_pair_live(&k->p), 0);
	ns_test_pair_fini(&k->p);
}

static uint64_t stat(struct ns_stack *s, const char *n)
{
	uint64_t v = 0;
	assert_int_equal(ns_stat_get(s, n, &v), 0);
	return v;
}

static void test_refused(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, NULL), 0);
	int c = tt_connect_nb(p.a.stk, "198.18.0.2", 9999);
	struct tt_readable w = { p.a.stk, c };
	assert_true(ns_test_pump(&p, tt_is_writable, &w, 2 * SEC));
	assert_int_equal(tt_sock_error(p.a.stk, c), NS_ECONNREFUSED);
	assert_int_equal(tt_sock_error(p.a.stk, c), 0);
	assert_int_equal(tt_state(p.a.stk, c), TCP_CLOSE);
	assert_true(stat(p.b.stk, "TcpOutRsts") >= 1);
	assert_int_equal(stat(p.a.stk, "TcpAttemptFails"), 1);
	ns_close(p.a.stk, c);
	ns_test_settle(&p);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

static void test_simultaneous_open(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, NULL), 0);
	int fa = ns_socket(p.a.stk, NS_AF_INET, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
	int fb = ns_socket(p.b.stk, NS_AF_INET, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
	struct sockaddr_in la = tt_sin("198.18.0.1", 4001), lb = tt_sin("198.18.0.2", 4002);
	assert_int_equal(ns_bind(p.a.stk, fa, (struct sockaddr *)&la, sizeof(la)), 0);
	assert_int_equal(ns_bind(p.b.stk, fb, (struct sockaddr *)&lb, sizeof(lb)), 0);
	/* both SYNs cross on the wire */
	assert_int_equal(ns_connect(p.a.stk, fa, (struct sockaddr *)&lb, sizeof(lb)), -NS_EINPROGRESS);
	assert_int_equal(ns_connect(p.b.stk, fb, (struct sockaddr *)&la, sizeof(la)), -NS_EINPROGRESS);
	struct tt_state_is ea = { p.a.stk, fa, TCP_ESTABLISHED }, eb = { p.b.stk, fb, TCP_ESTABLISHED };
	assert_true(ns_test_pump(&p, tt_state_reached, &ea, 5 * SEC));
	assert_true(ns_test_pump(&p, tt_state_reached, &eb, 5 * SEC));
	assert_int_equal(ns_send(p.a.stk, fa, "abc", 3, 0), 3);
	struct tt_readable rb = { p.b.stk, fb };
	assert_true(ns_test_pump(&p, tt_is_readable, &rb, SEC));
	char buf[8];
	assert_int_equal(ns_recv(p.b.stk, fb, buf, sizeof(buf), 0), 3);
	/* simultaneous close: FIN_WAIT1 -> CLOSING -> TIME_WAIT on both sides */
	assert_int_equal(ns_shutdown(p.a.stk, fa, NS_SHUT_WR), 0);
	assert_int_equal(ns_shutdown(p.b.stk, fb, NS_SHUT_WR), 0);
	assert_int_equal(tt_state(p.a.stk, fa), TCP_FIN_WAIT1);
	ns_test_settle(&p);
	/* TIME_WAIT records hold the tuples; the sockets are closed (Linux) */
	assert_int_equal(tt_state(p.a.stk, fa), TCP_CLOSE);
	assert_int_equal(tt_state(p.b.stk, fb), TCP_CLOSE);
	assert_int_equal(tt_count_state(p.a.stk, TCP_TIME_WAIT), 1);
	assert_int_equal(tt_count_state(p.b.stk, TCP_TIME_WAIT), 1);
	ns_close(p.a.stk, fa);
	ns_close(p.b.stk, fb);
	ns_test_advance(&p, 61 * SEC);
	assert_int_equal(tt_count_state(p.a.stk, TCP_TIME_WAIT), 0);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

static void test_close_unread_sends_rst(void **state)
{
	(void)state;
	struct conn k;
	conn_up(&k, 4100);
	assert_int_equal(ns_send(k.p.a.stk, k.c, "unread", 6, 0), 6);
	ns_test_settle(&k.p);
	/* b closes without reading: RST (RFC 2525), a sees ECONNRESET then EPIPE */
	assert_int_equal(ns_close(k.p.b.stk, k.s), 0);
	k.s = -1;
	ns_test_settle(&k.p);
	assert_int_equal(stat(k.p.b.stk, "TcpExtTCPAbortOnClose"), 1);
	char buf[8];
	assert_int_equal(ns_recv(k.p.a.stk, k.c, buf, sizeof(buf), NS_MSG_DONTWAIT), -NS_ECONNRESET);
	assert_int_equal(ns_recv(k.p.a.stk, k.c, buf, sizeof(buf), NS_MSG_DONTWAIT), 0);
	assert_int_equal(ns_send(k.p.a.stk, k.c, "x", 1, NS_MSG_NOSIGNAL), -NS_EPIPE);
	assert_int_equal(stat(k.p.a.stk, "TcpEstabResets"), 1);
	conn_down(&k);
}

static void test_linger0_rst(void **state)
{
	(void)state;
	struct conn k;
	conn_up(&k, 4101);
	struct { int on, sec; } lg = { 1, 0 };
	assert_int_equal(ns_setsockopt(k.p.a.stk, k.c, NS_SOL_SOCKET, NS_SO_LINGER, &lg, sizeof(lg)), 0);
	assert_int_equal(ns_close(k.p.a.stk, k.c), 0);
	k.c = -1;
	ns_test_settle(&k.p);
	/* no TIME_WAIT on the aborting side */
	assert_int_equal(tt_count_state(k.p.a.stk, TCP_TIME_WAIT), 0);
	assert_int_equal(tt_state(k.p.b.stk, k.s), TCP_CLOSE);
	assert_int_equal(ns_send(k.p.b.stk, k.s, "x", 1, NS_MSG_NOSIGNAL), -NS_ECONNRESET);
	assert_int_equal(ns_send(k.p.b.stk, k.s, "x", 1, NS_MSG_NOSIGNAL), -NS_EPIPE);
	conn_down(&k);
}

static void test_backlog_overflow(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, NULL), 0);
	int ls = tt_listen(p.b.stk, 4200, 1);
	int c[4];
	for (int i = 0; i < 4; i++)
		c[i] = tt_connect_nb(p.a.stk, "198.18.0.2", 4200);
	ns_test_advance(&p, 100 * NS_NSEC_PER_MSEC);
	/* data from every client: a connection the listener could not take yet
	 * (SYN dropped or cookie ACK dropped) completes when its retransmission
	 * finds room */
	for (int i = 0; i < 4; i++)
		if (tt_state(p.a.stk, c[i]) == TCP_ESTABLISHED)
			assert_int_equal(ns_send(p.a.stk, c[i], "x", 1, 0), 1);
	/* Linux: the accept queue holds backlog + 1 connections; later SYNs are dropped */
	int est = 0;
	for (int i = 0; i < 4; i++)
		est += tt_state(p.a.stk, c[i]) == TCP_ESTABLISHED;
	assert_true(est >= 2);
	assert_true(stat(p.b.stk, "TcpExtListenOverflows") >= 1 || stat(p.b.stk, "TcpExtSyncookiesSent") >= 1);
	/* accepting makes room: the SYN retries get in */
	int got = 0;
	bool sent[4];
	for (int i = 0; i < 4; i++)
		sent[i] = tt_state(p.a.stk, c[i]) == TCP_ESTABLISHED;
	for (int round = 0; round < 8 && got < 4; round++) {
		int fd;
		while ((fd = ns_accept(p.b.stk, ls, NULL, NULL, 0)) >= 0) {
			got++;
			ns_close(p.b.stk, fd);
		}
		for (int i = 0; i < 4; i++)
			if (tt_state(p.a.stk, c[i]) == TCP_ESTABLISHED && !sent[i])
				sent[i] = ns_send(p.a.stk, c[i], "x", 1, 0) == 1;
		ns_test_advance(&p, 4 * SEC);
	}
	assert_int_equal(got, 4);
	for (int i = 0; i < 4; i++)
		ns_close(p.a.stk, c[i]);
	ns_close(p.b.stk, ls);
	ns_test_advance(&p, 200 * SEC);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

/* the peer vanishes: its address goes away, nothing answers any more */
static void cut_b(struct conn *k)
{
	struct ns_addr b = ns_test_addr("198.18.0.2");
	assert_int_equal(ns_nic_addr_del(k->p.b.stk, k->p.b.nic, &b), 0);
}

static void test_retransmit_timeout(void **state)
{
	(void)state;
	struct conn k;
	conn_up(&k, 4300);
	cut_b(&k);
	assert_int_equal(ns_send(k.p.a.stk, k.c, "lost", 4, 0), 4);
	struct tt_state_is cl = { k.p.a.stk, k.c, TCP_CLOSE };
	/* tcp_retries2 = 15: about 924.6 s of backed-off retransmissions */
	uint64_t t0 = ns_stack_now(k.p.a.stk);
	assert_false(ns_test_pump(&k.p, tt_state_reached, &cl, 900 * SEC));
	assert_true(ns_test_pump(&k.p, tt_state_reached, &cl, 300 * SEC));
	uint64_t dt = ns_stack_now(k.p.a.stk) - t0;
	assert_true(dt >= 924 * SEC && dt <= 1100 * SEC);
	/* Linux reports the last soft error (neighbour resolution failed) or ETIMEDOUT */
	int e = tt_sock_error(k.p.a.stk, k.c);
	assert_true(e == NS_ETIMEDOUT || e == NS_EHOSTUNREACH);
	assert_true(stat(k.p.a.stk, "TcpExtTCPTimeouts") >= 10);
	assert_true(stat(k.p.a.stk, "TcpRetransSegs") >= 10);
	assert_int_equal(stat(k.p.a.stk, "TcpExtTCPAbortOnTimeout"), 1);
	conn_down(&k);
}

static void test_user_timeout(void **state)
{
	(void)state;
	struct conn k;
	conn_up(&k, 4301);
	int ut = 5000;
	assert_int_equal(ns_setsockopt(k.p.a.stk, k.c, NS_IPPROTO_TCP, NS_TCP_USER_TIMEOUT, &ut, sizeof(ut)), 0);
	cut_b(&k);
	uint64_t t0 = ns_stack_now(k.p.a.stk);
	assert_int_equal(ns_send(k.p.a.stk, k.c, "lost", 4, 0), 4);
	struct tt_state_is cl = { k.p.a.stk, k.c, TCP_CLOSE };
	assert_true(ns_test_pump(&k.p, tt_state_reached, &cl, 30 * SEC));
	uint64_t dt = ns_stack_now(k.p.a.stk) - t0;
	assert_true(dt >= 5 * SEC && dt < 12 * SEC);
	assert_int_equal(tt_sock_error(k.p.a.stk, k.c), NS_ETIMEDOUT);
	conn_down(&k);
}

static void test_syn_retries(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, NULL), 0);
	struct ns_addr b = ns_test_addr("198.18.0.2");
	/* learn b's MAC first, then make b deaf */
	int c0 = tt_connect_nb(p.a.stk, "198.18.0.2", 1);
	ns_test_settle(&p);
	ns_close(p.a.stk, c0);
	assert_int_equal(ns_nic_addr_del(p.b.stk, p.b.nic, &b), 0);
	uint64_t t0 = ns_stack_now(p.a.stk);
	int c = tt_connect_nb(p.a.stk, "198.18.0.2", 4400);
	struct tt_state_is cl = { p.a.stk, c, TCP_CLOSE };
	/* 6 retries: 1+2+4+8+16+32+64 = 127 s */
	assert_true(ns_test_pump(&p, tt_state_reached, &cl, 200 * SEC));
	uint64_t dt = ns_stack_now(p.a.stk) - t0;
	int e = tt_sock_error(p.a.stk, c);
	/* Linux: when neighbour resolution of the silent peer fails, the local
	 * "host unreachable" aborts the attempt early; otherwise 6 SYN retries */
	if (e == NS_ETIMEDOUT) {
		assert_true(dt >= 126 * SEC && dt <= 128 * SEC);
		assert_int_equal(stat(p.a.stk, "TcpExtTCPSynRetrans"), 6);
	} else {
		assert_int_equal(e, NS_EHOSTUNREACH);
		assert_true(stat(p.a.stk, "TcpExtTCPSynRetrans") >= 1);
	}
	ns_close(p.a.stk, c);
	ns_test_settle(&p);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

static void test_keepalive(void **state)
{
	(void)state;
	struct conn k;
	conn_up(&k, 4500);
	int on = 1, idle = 10, intvl = 5, cnt = 3;
	assert_int_equal(ns_setsockopt(k.p.a.stk, k.c, NS_SOL_SOCKET, NS_SO_KEEPALIVE, &on, sizeof(on)), 0);
	assert_int_equal(ns_setsockopt(k.p.a.stk, k.c, NS_IPPROTO_TCP, NS_TCP_KEEPIDLE, &idle, sizeof(idle)), 0);
	assert_int_equal(ns_setsockopt(k.p.a.stk, k.c, NS_IPPROTO_TCP, NS_TCP_KEEPINTVL, &intvl, sizeof(intvl)), 0);
	assert_int_equal(ns_setsockopt(k.p.a.stk, k.c, NS_IPPROTO_TCP, NS_TCP_KEEPCNT, &cnt, sizeof(cnt)), 0);
	/* a live peer answers the probes: the connection stays up */
	ns_test_advance(&k.p, 60 * SEC);
	assert_int_equal(tt_state(k.p.a.stk, k.c), TCP_ESTABLISHED);
	uint64_t probes = stat(k.p.a.stk, "TcpExtTCPKeepAlive");
	assert_true(probes >= 4);
	/* a dead peer: idle + cnt * intvl later the connection times out */
	cut_b(&k);
	uint64_t t0 = ns_stack_now(k.p.a.stk);
	struct tt_state_is cl = { k.p.a.stk, k.c, TCP_CLOSE };
	assert_true(ns_test_pump(&k.p, tt_state_reached, &cl, 60 * SEC));
	uint64_t dt = ns_stack_now(k.p.a.stk) - t0;
	assert_true(dt <= 26 * SEC);
	assert_int_equal(tt_sock_error(k.p.a.stk, k.c), NS_ETIMEDOUT);
	conn_down(&k);
}

static void test_zero_window_probe(void **state)
{
	(void)state;
	struct conn k;
	conn_up(&k, 4600);
	static uint8_t big[1 << 20];
	memset(big, 0x5a, sizeof(big));
	/* b never reads: its window closes; a keeps probing */
	size_t sent = 0;
	for (int i = 0; i < 100; i++) {
		ssize_t w = ns_send(k.p.a.stk, k.c, big, sizeof(big), NS_MSG_DONTWAIT);
		if (w > 0)
			sent += (size_t)w;
		ns_test_advance(&k.p, SEC);
	}
	ns_test_advance(&k.p, 120 * SEC);
	assert_true(stat(k.p.a.stk, "TcpExtTCPWinProbe") >= 2);
	assert_true(stat(k.p.b.stk, "TcpExtTCPToZeroWindowAdv") >= 1);
	assert_int_equal(tt_state(k.p.a.stk, k.c), TCP_ESTABLISHED);
	/* reading opens the window and everything arrives */
	size_t got = 0;
	static uint8_t rb[65536];
	for (int i = 0; i < 10000 && got < sent; i++) {
		ssize_t r = ns_recv(k.p.b.stk, k.s, rb, sizeof(rb), NS_MSG_DONTWAIT);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		ns_test_advance(&k.p, 10 * NS_NSEC_PER_MSEC);
		ssize_t w = 0;
		(void)w;
	}
	assert_int_equal(got, sent);
	conn_down(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_simultaneous_open),
		cmocka_unit_test(test_close_unread_sends_rst),
		cmocka_unit_test(test_linger0_rst),
		cmocka_unit_test(test_backlog_overflow),
		cmocka_unit_test(test_retransmit_timeout),
		cmocka_unit_test(test_user_timeout),
		cmocka_unit_test(test_syn_retries),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_zero_window_probe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
