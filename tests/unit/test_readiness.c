/*
 * tests/unit/test_readiness.c - the readiness API an event loop builds on
 * (ns_socket_eventfd, ns_waiter_add, ns_poll_mask), between two stacks over
 * paired channels: the eventfd is level-triggered (readable exactly while
 * the mask holds, cleared by the call that consumed the event), POLLERR and
 * POLLHUP are reported whatever the mask asks for (like poll and epoll),
 * listener readiness follows the accept queue, POLLOUT comes back when the
 * peer acknowledges what filled the send buffer, and waiters see every
 * change a stack thread makes.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "helpers/ns_test.h"
#include "helpers/tcp_helpers.h"

#define SEC NS_NSEC_PER_SEC

static bool efd_readable(int efd)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	return poll(&p, 1, 0) == 1;
}

struct efd_cond {
	int efd;
};

static bool efd_cond(void *ctx) { return efd_readable(((struct efd_cond *)ctx)->efd); }

struct wctx {
	int calls, ev;
};

static void wfn(void *ctx, int ev)
{
	struct wctx *w = ctx;
	w->calls++;
	w->ev |= ev;
}

/* A connected pair: c on a, s on b. */
static void connect_pair(struct ns_test_pair *p, int *ls, int *c, int *s, uint16_t port)
{
	*ls = tt_listen(p->b.stk, port, 16);
	*c = tt_connect_nb(p->a.stk, "198.18.0.2", port);
	struct tt_accept acc = { p->b.stk, *ls, -1 };
	assert_true(ns_test_pump(p, tt_accepted, &acc, 2 * SEC));
	*s = acc.fd;
}

static void finish(struct ns_test_pair *p)
{
	ns_test_advance(p, 70 * SEC);   /* TIME_WAIT, orphans */
	ns_test_settle(p);
	assert_int_equal(ns_test_pair_live(p), 0);
	ns_test_pair_fini(p);
}

/* POLLIN: readable while data waits, not after it was read; EOF readable. */
static void test_tcp_pollin_level(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, NULL), 0);
	int ls, c, s;
	connect_pair(&p, &ls, &c, &s, 7100);
	int efd = ns_socket_eventfd(p.b.stk, s, NS_POLLIN);
	assert_true(efd >= 0);
	assert_false(efd_readable(efd));
	assert_int_equal(ns_send(p.a.stk, c, "0123456789", 10, 0), 10);
	struct efd_cond ec = { efd };
	assert_true(ns_test_pump(&p, efd_cond, &ec, SEC));
	char b[16];
	assert_int_equal(ns_recv(p.b.stk, s, b, 4, NS_MSG_DONTWAIT), 4);
	assert_true(efd_readable(efd));                 /* 6 bytes left: still readable */
	assert_int_equal(ns_recv(p.b.stk, s, b, sizeof(b), NS_MSG_DONTWAIT), 6);
	assert_false(efd_readable(efd));                /* drained: cleared by the call */
	assert_int_equal(ns_recv(p.b.stk, s, b, sizeof(b), NS_MSG_DONTWAIT), -NS_EAGAIN);
	assert_false(efd_readable(efd));
	/* the same eventfd again with another mask */
	assert_int_equal(ns_socket_eventfd(p.b.stk, s, NS_POLLOUT), efd);
	assert_true(efd_readable(efd));
	assert_int_equal(ns_socket_eventfd(p.b.stk, s, NS_POLLIN), efd);
	assert_false(efd_readable(efd));
	/* FIN: readable (EOF) and stays so */
	assert_int_equal(ns_shutdown(p.a.stk, c, NS_SHUT_WR), 0);
	assert_true(ns_test_pump(&p, efd_cond, &ec, SEC));
	assert_int_equal(ns_recv(p.b.stk, s, b, sizeof(b), NS_MSG_DONTWAIT), 0);
	assert_true(efd_readable(efd));
	ns_close(p.b.stk, s);
	ns_close(p.a.stk, c);
	ns_close(p.b.stk, ls);
	finish(&p);
}

/* A listener is readable while its accept queue is not empty. */
static void test_listener(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, NULL), 0);
	int ls = tt_listen(p.b.stk, 7101, 16);
	int efd = ns_socket_eventfd(p.b.stk, ls, NS_POLLIN);
	struct wctx w = { 0, 0 };
	assert_true(ns_waiter_add(p.b.stk, ls, NS_POLLIN, wfn, &w) > 0);
	assert_false(efd_readable(efd));
	int c1 = tt_connect_nb(p.a.stk, "198.18.0.2", 7101);
	int c2 = tt_connect_nb(p.a.stk, "198.18.0.2", 7101);
	struct efd_cond ec = { efd };
	assert_true(ns_test_pump(&p, efd_cond, &ec, SEC));
	ns_test_settle(&p);
	assert_true(w.calls >= 1);
	assert_true(w.ev & NS_POLLIN);
	int s1 = ns_accept(p.b.stk, ls, NULL, NULL, NS_SOCK_NONBLOCK);
	assert_true(s1 >= 0);
	assert_true(efd_readable(efd));                 /* one more waits */
	int s2 = ns_accept(p.b.stk, ls, NULL, NULL, NS_SOCK_NONBLOCK);
	assert_true(s2 >= 0);
	assert_false(efd_readable(efd));
	assert_int_equal(ns_accept(p.b.stk, ls, NULL, NULL, NS_SOCK_NONBLOCK), -NS_EAGAIN);
	int fds[][2] = { { 0, s1 }, { 0, s2 }, { 1, c1 }, { 1, c2 }, { 0, ls } };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		ns_close(fds[i][0] ? p.a.stk : p.b.stk, fds[i][1]);
	finish(&p);
}

/* POLLOUT: gone while the send buffer is full, back once the peer ACKs. */
static void test_tcp_pollout(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, NULL), 0);
	int ls, c, s;
	connect_pair(&p, &ls, &c, &s, 7102);
	int efd = ns_socket_eventfd(p.a.stk, c, NS_POLLOUT);
	assert_true(efd_readable(efd));
	struct wctx w = { 0, 0 };
	assert_true(ns_waiter_add(p.a.stk, c, NS_POLLOUT, wfn, &w) > 0);
	static char buf[65536];
	long sent = 0;
	for (int i = 0; i < 10000; i++) {
		ssize_t r = ns_send(p.a.stk, c, buf, sizeof(buf), NS_MSG_DONTWAIT);
		if (r == -NS_EAGAIN)
			break;
		assert_true(r > 0);
		sent += r;
	}
	assert_true(sent > 0);
	assert_false(ns_poll_mask(p.a.stk, c) & NS_POLLOUT);
	assert_false(efd_readable(efd));                /* cleared by the failing send */
	/* the peer reads: ACKs free the buffer and the stack thread sets it */
	w.calls = 0;
	long got = 0;
	for (int i = 0; i < 100000 && !efd_readable(efd); i++) {
		ssize_t r = ns_recv(p.b.stk, s, buf, sizeof(buf), NS_MSG_DONTWAIT);
		if (r > 0)
			got += r;
		ns_test_pump(&p, NULL, NULL, SEC / 100);
	}
	assert_true(efd_readable(efd));
	assert_true(w.calls >= 1);
	assert_true(w.ev & NS_POLLOUT);
	assert_true(got > 0);
	ns_close(p.a.stk, c);
	ns_close(p.b.stk, s);
	ns_close(p.b.stk, ls);
	finish(&p);
}

/*
 * An error is reported whatever the mask (poll(2): POLLERR and POLLHUP are
 * always returned; epoll always reports them): a connected UDP socket
 * watched for POLLIN only learns of ICMP port unreachable; the eventfd is
 * cleared once the error was taken.
 */
static void test_error_always_reported(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, NULL), 0);
	ns_test_settle(&p);
	struct ns_stack *A = p.a.stk;
	int u = ns_socket(A, NS_AF_INET, NS_SOCK_DGRAM | NS_SOCK_NONBLOCK, 0);
	struct sockaddr_in dst = tt_sin("198.18.0.2", 9999);
	assert_int_equal(ns_connect(A, u, (struct sockaddr *)&dst, sizeof(dst)), 0);
	int efd = ns_socket_eventfd(A, u, NS_POLLIN);
	struct wctx w = { 0, 0 };
	assert_true(ns_waiter_add(A, u, NS_POLLIN, wfn, &w) > 0);
	assert_false(efd_readable(efd));
	assert_int_equal(ns_send(A, u, "x", 1, 0), 1);
	struct efd_cond ec = { efd };
	assert_true(ns_test_pump(&p, efd_cond, &ec, SEC));
	assert_true(ns_poll_mask(A, u) & NS_POLLERR);
	assert_true(w.calls >= 1);
	assert_true(w.ev & NS_POLLERR);
	char b[4];
	assert_int_equal(ns_recv(A, u, b, sizeof(b), 0), -NS_ECONNREFUSED);
	assert_false(efd_readable(efd));                /* taken: no longer signalled */
	/* TCP: a RST to a socket watched for POLLOUT only */
	int ls, c, s;
	connect_pair(&p, &ls, &c, &s, 7103);
	int cefd = ns_socket_eventfd(A, c, NS_POLLPRI);
	assert_false(efd_readable(cefd));
	struct { int onoff, linger; } lg = { 1, 0 };
	assert_int_equal(ns_setsockopt(p.b.stk, s, NS_SOL_SOCKET, NS_SO_LINGER, &lg, sizeof(lg)), 0);
	ns_close(p.b.stk, s);                           /* linger 0: RST */
	struct efd_cond cc = { cefd };
	assert_true(ns_test_pump(&p, efd_cond, &cc, SEC));
	assert_true(ns_poll_mask(A, c) & (NS_POLLERR | NS_POLLHUP));
	ns_close(A, c);
	ns_close(p.b.stk, ls);
	ns_close(A, u);
	finish(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_pollin_level),
		cmocka_unit_test(test_listener),
		cmocka_unit_test(test_tcp_pollout),
		cmocka_unit_test(test_error_always_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
