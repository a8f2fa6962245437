/*
 * tests/unit/test_socket.c - the generic socket layer: creation errno
 * rules, descriptors, SOL_SOCKET options, fcntl/ioctl, blocking with
 * timeouts, concurrent close, readiness (mask, waiters, eventfd).
 * Datagrams are injected straight into UDP (no wire needed).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "netstack/sock.h"
#include "helpers/sockt.h"

static int setup(void **state)
{
	struct sockt *t = calloc(1, sizeof(*t));
	sockt_init(t);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct sockt *t = *state;
	struct ns_stack *stk = t->stk;
	(void)stk;
	sockt_fini(t);
	free(t);
	return 0;
}

static void check_no_pkts(struct sockt *t)
{
	assert_int_equal(ns_stack_live_pkts(t->stk), 0);
}

static void test_socket_create_errors(void **state)
{
	struct sockt *t = *state;
	struct ns_stack *s = t->stk;
	assert_int_equal(ns_socket(s, 1 /* AF_UNIX */, NS_SOCK_DGRAM, 0), -NS_EAFNOSUPPORT);
	assert_int_equal(ns_socket(s, 99, NS_SOCK_DGRAM, 0), -NS_EAFNOSUPPORT);
	assert_int_equal(ns_socket(s, -1, NS_SOCK_DGRAM, 0), -NS_EAFNOSUPPORT);
	assert_int_equal(ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM | 0x100000, 0), -NS_EINVAL);
	assert_int_equal(ns_socket(s, NS_AF_INET, 12, 0), -NS_EINVAL);
	assert_int_equal(ns_socket(s, NS_AF_INET, 5 /* SEQPACKET */, 0), -NS_ESOCKTNOSUPPORT);
	assert_int_equal(ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM, NS_IPPROTO_TCP), -NS_EPROTONOSUPPORT);
	assert_int_equal(ns_socket(s, NS_AF_INET6, NS_SOCK_DGRAM, NS_IPPROTO_TCP), -NS_EPROTONOSUPPORT);
	assert_int_equal(ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM, 300), -NS_EINVAL);
	assert_int_equal(ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM, -1), -NS_EINVAL);
	int fd = ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM | NS_SOCK_NONBLOCK | NS_SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(ns_fcntl(s, fd, NS_F_GETFL, 0) & NS_O_NONBLOCK, NS_O_NONBLOCK);
	int v;
	socklen_t l = sizeof(v);
	assert_int_equal(ns_getsockopt(s, fd, NS_SOL_SOCKET, NS_SO_PROTOCOL, &v, &l), 0);
	assert_int_equal(v, NS_IPPROTO_UDP);
	assert_int_equal(ns_close(s, fd), 0);
	check_no_pkts(t);
}

static void test_descriptors(void **state)
{
	struct sockt *t = *state;
	struct ns_stack *s = t->stk;
	int a = ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM, 0);
	int b = ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM, 0);
	int c = ns_socket(s, NS_AF_INET6, NS_SOCK_DGRAM, 0);
	assert_true(a >= 0 && b == a + 1 && c == b + 1);
	assert_int_equal(ns_close(s, b), 0);
	assert_int_equal(ns_close(s, b), -NS_EBADF);
	int d = ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM, 0);
	assert_int_equal(d, b);                         /* lowest free, like POSIX */
	/* every call on a bad descriptor is EBADF */
	char buf[4];
	struct sockaddr_in sin = sockt_sin("198.18.0.1", 1);
	socklen_t l = sizeof(sin);
	int v = 1;
	assert_int_equal(ns_bind(s, 999, (struct sockaddr *)&sin, sizeof(sin)), -NS_EBADF);
	assert_int_equal(ns_connect(s, -1, (struct sockaddr *)&sin, sizeof(sin)), -NS_EBADF);
	assert_int_equal(ns_send(s, 999, buf, 1, 0), -NS_EBADF);
	assert_int_equal(ns_recv(s, 999, buf, 1, 0), -NS_EBADF);
	assert_int_equal(ns_getsockname(s, 999, (struct sockaddr *)&sin, &l), -NS_EBADF);
	assert_int_equal(ns_setsockopt(s, 999, NS_SOL_SOCKET, NS_SO_REUSEADDR, &v, sizeof(v)), -NS_EBADF);
	assert_int_equal(ns_shutdown(s, 999, NS_SHUT_RD), -NS_EBADF);
	assert_int_equal(ns_listen(s, 999, 1), -NS_EBADF);
	assert_int_equal(ns_ioctl(s, 999, NS_FIONBIO, &v), -NS_EBADF);
	assert_int_equal(ns_fcntl(s, 999, NS_F_GETFL, 0), -NS_EBADF);
	assert_int_equal(ns_poll_mask(s, 999), -NS_EBADF);
	assert_int_equal(ns_close(s, 1 << 30), -NS_EBADF);
	/* UDP has no listen/accept */
	assert_int_equal(ns_listen(s, a, 5), -NS_EOPNOTSUPP);
	assert_int_equal(ns_accept(s, a, NULL, NULL, 0), -NS_EOPNOTSUPP);
	assert_int_equal(ns_shutdown(s, a, 3), -NS_EINVAL);
	assert_int_equal(ns_shutdown(s, a, -1), -NS_EINVAL);
	/* many descriptors: the table grows */
	int fds[200];
	for (int i = 0; i < 200; i++) {
		fds[i] = ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM, 0);
		assert_true(fds[i] >= 0);
	}
	for (int i = 0; i < 200; i++)
		assert_int_equal(ns_close(s, fds[i]), 0);
	/* the rest is closed by ns_stack_destroy */
	(void)c;
	(void)d;
	check_no_pkts(t);
}

static int geti(struct ns_stack *s, int fd, int level, int name)
{
	int v = -12345;
	socklen_t l = sizeof(v);
	int r = ns_getsockopt(s, fd, level, name, &v, &l);
	assert_int_equal(r, 0);
	assert_int_equal(l, sizeof(int));
	return v;
}

static int seti(struct ns_stack *s, int fd, int level, int name, int v)
{
	return ns_setsockopt(s, fd, level, name, &v, sizeof(v));
}

static void test_sol_socket_options(void **state)
{
	struct sockt *t = *state;
	struct ns_stack *s = t->stk;
	int fd = ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM, 0);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_TYPE), NS_SOCK_DGRAM);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_DOMAIN), NS_AF_INET);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_ACCEPTCONN), 0);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_ERROR), 0);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_RCVBUF), NS_RMEM_DEFAULT);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_SNDBUF), NS_WMEM_DEFAULT);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_RCVLOWAT), 1);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_SNDLOWAT), 1);
	/* buffer sizes: doubled, clamped to [min, 2*max] */
	assert_int_equal(seti(s, fd, NS_SOL_SOCKET, NS_SO_RCVBUF, 10000), 0);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_RCVBUF), 20000);
	assert_int_equal(seti(s, fd, NS_SOL_SOCKET, NS_SO_RCVBUF, 1), 0);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_RCVBUF), NS_SOCK_MIN_RCVBUF);
	assert_int_equal(seti(s, fd, NS_SOL_SOCKET, NS_SO_RCVBUF, 1 << 30), 0);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_RCVBUF), 2 * NS_RMEM_MAX);
	assert_int_equal(seti(s, fd, NS_SOL_SOCKET, NS_SO_RCVBUF, -1), 0);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_RCVBUF), 2 * NS_RMEM_MAX);
	assert_int_equal(seti(s, fd, NS_SOL_SOCKET, NS_SO_SNDBUF, 0), 0);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_SNDBUF), NS_SOCK_MIN_SNDBUF);
	assert_int_equal(seti(s, fd, NS_SOL_SOCKET, NS_SO_SNDBUF, 50000), 0);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_SNDBUF), 100000);
	/* booleans read back as 0/1 */
	int names[] = { NS_SO_REUSEADDR, NS_SO_REUSEPORT, NS_SO_BROADCAST, NS_SO_KEEPALIVE,
			NS_SO_OOBINLINE, NS_SO_DONTROUTE };
	for (size_t i = 0; i < NS_ARRAY_SIZE(names); i++) {
		assert_int_equal(geti(s, fd, NS_SOL_SOCKET, names[i]), 0);
		assert_int_equal(seti(s, fd, NS_SOL_SOCKET, names[i], 7), 0);
		assert_int_equal(geti(s, fd, NS_SOL_SOCKET, names[i]), 1);
		assert_int_equal(seti(s, fd, NS_SOL_SOCKET, names[i], 0), 0);
		assert_int_equal(geti(s, fd, NS_SOL_SOCKET, names[i]), 0);
	}
	/* SO_RCVLOWAT: 0 becomes 1, negative INT_MAX */
	assert_int_equal(seti(s, fd, NS_SOL_SOCKET, NS_SO_RCVLOWAT, 0), 0);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_RCVLOWAT), 1);
	assert_int_equal(seti(s, fd, NS_SOL_SOCKET, NS_SO_RCVLOWAT, -5), 0);
	assert_int_equal(geti(s, fd, NS_SOL_SOCKET, NS_SO_RCVLOWAT), 0x7fffffff);
	/* read-only and unknown options */
	assert_int_equal(seti(s, fd, NS_SOL_SOCKET, NS_SO_TYPE, 1), -NS_ENOPROTOOPT);
	assert_int_equal(seti(s, fd, NS_SOL_SOCKET, NS_SO_ERROR, 1), -NS_ENOPROTOOPT);
	assert_int_equal(seti(s, fd, NS_SOL_SOCKET, NS_SO_ACCEPTCONN, 1), -NS_ENOPROTOOPT);
	assert_int_equal(seti(s, fd, NS_SOL_SOCKET, 9999, 1), -NS_ENOPROTOOPT);
	int v = 0;
	socklen_t l = sizeof(v);
	assert_int_equal(ns_getsockopt(s, fd, NS_SOL_SOCKET, 9999, &v, &l), -NS_ENOPROTOOPT);
	/* short optlen: EINVAL on set (checked before the name), truncation on get */
	short sh = 1;
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_REUSEADDR, &sh, sizeof(sh)), -NS_EINVAL);
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, 9999, &sh, sizeof(sh)), -NS_EINVAL);
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_REUSEADDR, NULL, 4), -NS_EINVAL);
	unsigned char bytes[4] = { 0xee, 0xee, 0xee, 0xee };
	l = 2;
	assert_int_equal(ns_getsockopt(s, fd, NS_SOL_SOCKET, NS_SO_TYPE, bytes, &l), 0);
	assert_int_equal(l, 2);
	assert_int_equal(bytes[0], NS_SOCK_DGRAM);
	assert_int_equal(bytes[2], 0xee);
	l = (socklen_t)-1;
	assert_int_equal(ns_getsockopt(s, fd, NS_SOL_SOCKET, NS_SO_TYPE, bytes, &l), -NS_EINVAL);
	assert_int_equal(ns_getsockopt(s, fd, NS_SOL_SOCKET, NS_SO_TYPE, bytes, NULL), -NS_EINVAL);
	/* linger */
	struct { int on, sec; } lg = { 1, 7 }, out = { 0, 0 };
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_LINGER, &lg, 4), -NS_EINVAL);
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_LINGER, &lg, sizeof(lg)), 0);
	l = sizeof(out);
	assert_int_equal(ns_getsockopt(s, fd, NS_SOL_SOCKET, NS_SO_LINGER, &out, &l), 0);
	assert_int_equal(l, sizeof(out));
	assert_int_equal(out.on, 1);
	assert_int_equal(out.sec, 7);
	/* unknown level */
	assert_int_equal(seti(s, fd, 255, 1, 1), -NS_ENOPROTOOPT);
	ns_close(s, fd);
	check_no_pkts(t);
}

static void test_timeo_options(void **state)
{
	struct sockt *t = *state;
	struct ns_stack *s = t->stk;
	int fd = ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM, 0);
	struct { int64_t sec, usec; } tv = { 1, 500000 }, out;
	socklen_t l = sizeof(out);
	assert_int_equal(ns_getsockopt(s, fd, NS_SOL_SOCKET, NS_SO_RCVTIMEO, &out, &l), 0);
	assert_int_equal(l, 16);
	assert_true(out.sec == 0 && out.usec == 0);
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	l = sizeof(out);
	assert_int_equal(ns_getsockopt(s, fd, NS_SOL_SOCKET, NS_SO_RCVTIMEO, &out, &l), 0);
	assert_true(out.sec == 1 && out.usec == 500000);
	tv.usec = 1000000;
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_SNDTIMEO, &tv, sizeof(tv)), -NS_EDOM);
	tv.usec = -1;
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_SNDTIMEO, &tv, sizeof(tv)), -NS_EDOM);
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_SNDTIMEO, &tv, 8), -NS_EINVAL);
	/* negative seconds: do not wait at all */
	tv.sec = -3;
	tv.usec = 0;
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	char b[8];
	assert_int_equal(ns_recv(s, fd, b, sizeof(b), 0), -NS_EAGAIN);
	ns_close(s, fd);
}

static void test_fcntl_ioctl(void **state)
{
	struct sockt *t = *state;
	struct ns_stack *s = t->stk;
	int fd = ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM, 0);
	assert_int_equal(ns_fcntl(s, fd, NS_F_GETFL, 0), 2 /* O_RDWR */);
	char b[8];
	int on = 1;
	assert_int_equal(ns_ioctl(s, fd, NS_FIONBIO, &on), 0);
	assert_int_equal(ns_fcntl(s, fd, NS_F_GETFL, 0), 2 | NS_O_NONBLOCK);
	assert_int_equal(ns_recv(s, fd, b, sizeof(b), 0), -NS_EAGAIN);
	assert_int_equal(ns_fcntl(s, fd, NS_F_SETFL, 0), 0);
	assert_int_equal(ns_fcntl(s, fd, NS_F_GETFL, 0), 2);
	assert_int_equal(ns_recv(s, fd, b, sizeof(b), NS_MSG_DONTWAIT), -NS_EAGAIN);
	assert_int_equal(ns_fcntl(s, fd, 1234, 0), -NS_EINVAL);
	int n = -1;
	assert_int_equal(ns_ioctl(s, fd, NS_FIONREAD, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ns_ioctl(s, fd, NS_SIOCOUTQ, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ns_ioctl(s, fd, 0x1234, &n), -NS_ENOTTY);
	struct sockaddr_in sin = sockt_sin("198.18.0.1", 5000);
	assert_int_equal(ns_bind(s, fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sockt_inject(t, "198.18.0.2", 7, "198.18.0.1", 5000, "hello", 5, false);
	sockt_inject(t, "198.18.0.2", 7, "198.18.0.1", 5000, "hi", 2, false);
	assert_int_equal(ns_ioctl(s, fd, NS_FIONREAD, &n), 0);
	assert_int_equal(n, 5);                         /* next datagram, not the total */
	ns_close(s, fd);
	check_no_pkts(t);
}

struct recv_arg {
	struct ns_stack *stk;
	int fd;
	ssize_t ret;
	uint64_t elapsed_ms;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void *recv_thread(void *p)
{
	struct recv_arg *a = p;
	char b[64];
	uint64_t t0 = now_ms();
	a->ret = ns_recv(a->stk, a->fd, b, sizeof(b), 0);
	a->elapsed_ms = now_ms() - t0;
	return NULL;
}

static void test_blocking_timeout(void **state)
{
	struct sockt *t = *state;
	struct ns_stack *s = t->stk;
	int fd = ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM, 0);
	struct { int64_t sec, usec; } tv = { 0, 150000 };
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	struct recv_arg a = { .stk = s, .fd = fd };
	pthread_t th;
	pthread_create(&th, NULL, recv_thread, &a);
	pthread_join(th, NULL);
	assert_int_equal(a.ret, -NS_EAGAIN);
	assert_true(a.elapsed_ms >= 140 && a.elapsed_ms < 2000);
	/* data arriving from another thread wakes a blocked reader */
	struct sockaddr_in sin = sockt_sin("0.0.0.0", 5001);
	assert_int_equal(ns_bind(s, fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	tv.sec = 5;
	tv.usec = 0;
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	pthread_create(&th, NULL, recv_thread, &a);
	struct timespec d = { 0, 50 * 1000 * 1000 };
	nanosleep(&d, NULL);
	sockt_inject(t, "198.18.0.9", 9, "198.18.0.1", 5001, "wake", 4, false);
	pthread_join(th, NULL);
	assert_int_equal(a.ret, 4);
	assert_true(a.elapsed_ms < 4000);
	ns_close(s, fd);
	check_no_pkts(t);
}

static void test_concurrent_close(void **state)
{
	struct sockt *t = *state;
	struct ns_stack *s = t->stk;
	for (int round = 0; round < 20; round++) {
		int fd = ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM, 0);
		struct recv_arg a = { .stk = s, .fd = fd };
		pthread_t th;
		pthread_create(&th, NULL, recv_thread, &a);
		if (round % 2) {
			struct timespec d = { 0, 5 * 1000 * 1000 };
			nanosleep(&d, NULL);
		}
		assert_int_equal(ns_close(s, fd), 0);
		pthread_join(th, NULL);
		/* closed before the call started (EBADF) or while blocked (EBADF) */
		assert_int_equal(a.ret, -NS_EBADF);
		assert_true(a.elapsed_ms < 2000);
	}
	check_no_pkts(t);
}

struct waiter_ctx {
	int calls, last;
};

static void waiter_fn(void *ctx, int ev)
{
	struct waiter_ctx *w = ctx;
	w->calls++;
	w->last = ev;
}

static void test_readiness(void **state)
{
	struct sockt *t = *state;
	struct ns_stack *s = t->stk;
	int fd = ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM | NS_SOCK_NONBLOCK, 0);
	struct sockaddr_in sin = sockt_sin("198.18.0.1", 5002);
	assert_int_equal(ns_bind(s, fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	int m = ns_poll_mask(s, fd);
	assert_true(m & NS_POLLOUT);
	assert_false(m & NS_POLLIN);
	struct waiter_ctx w = { 0, 0 };
	int id = ns_waiter_add(s, fd, NS_POLLIN, waiter_fn, &w);
	assert_true(id > 0);
	int efd = ns_socket_eventfd(s, fd, NS_POLLIN);
	assert_true(efd >= 0);
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 0), 0);
	sockt_inject(t, "198.18.0.2", 7, "198.18.0.1", 5002, "x", 1, false);
	sockt_inject(t, "198.18.0.2", 7, "198.18.0.1", 5002, "y", 1, false);
	assert_true(ns_poll_mask(s, fd) & NS_POLLIN);
	assert_int_equal(w.calls, 2);
	assert_int_equal(w.last, NS_POLLIN);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	char b[4];
	assert_int_equal(ns_recv(s, fd, b, sizeof(b), 0), 1);
	assert_int_equal(poll(&pfd, 1, 0), 1);          /* level: one datagram left */
	assert_int_equal(ns_recv(s, fd, b, sizeof(b), 0), 1);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	assert_false(ns_poll_mask(s, fd) & NS_POLLIN);
	assert_int_equal(ns_waiter_del(s, fd, id), 0);
	assert_int_equal(ns_waiter_del(s, fd, id), -NS_ENOENT);
	sockt_inject(t, "198.18.0.2", 7, "198.18.0.1", 5002, "z", 1, false);
	assert_int_equal(w.calls, 2);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	/* shutdown(SHUT_RD): readable (EOF-like) and RDHUP */
	assert_int_equal(ns_shutdown(s, fd, NS_SHUT_RD), -NS_ENOTCONN);
	m = ns_poll_mask(s, fd);
	assert_true((m & (NS_POLLIN | NS_POLLRDHUP)) == (NS_POLLIN | NS_POLLRDHUP));
	assert_false(m & NS_POLLHUP);
	assert_int_equal(ns_shutdown(s, fd, NS_SHUT_WR), -NS_ENOTCONN);
	assert_true(ns_poll_mask(s, fd) & NS_POLLHUP);
	assert_int_equal(ns_close(s, fd), 0);           /* closes the eventfd too */
	check_no_pkts(t);
}

static void test_names_and_lengths(void **state)
{
	struct sockt *t = *state;
	struct ns_stack *s = t->stk;
	int fd = ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM, 0);
	struct sockaddr_in sin = sockt_sin("198.18.0.1", 5003);
	assert_int_equal(ns_bind(s, fd, (struct sockaddr *)&sin, 8), -NS_EINVAL);
	assert_int_equal(ns_bind(s, fd, NULL, sizeof(sin)), -NS_EINVAL);
	assert_int_equal(ns_bind(s, fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	struct sockaddr_in out;
	socklen_t l = 4;
	memset(&out, 0xaa, sizeof(out));
	assert_int_equal(ns_getsockname(s, fd, (struct sockaddr *)&out, &l), 0);
	assert_int_equal(l, sizeof(struct sockaddr_in));        /* real length, truncated copy */
	assert_int_equal(out.sin_family, AF_INET);
	assert_int_equal(out.sin_port, htons(5003));
	assert_int_equal(((unsigned char *)&out)[4], 0xaa);
	l = sizeof(out);
	assert_int_equal(ns_getsockname(s, fd, NULL, &l), -NS_EINVAL);
	assert_int_equal(ns_getsockname(s, fd, (struct sockaddr *)&out, NULL), -NS_EINVAL);
	assert_int_equal(ns_getpeername(s, fd, (struct sockaddr *)&out, &l), -NS_ENOTCONN);
	/* recvfrom fills the sender and its length */
	sockt_inject(t, "198.18.0.7", 4242, "198.18.0.1", 5003, "abc", 3, false);
	char b[8];
	l = sizeof(out);
	assert_int_equal(ns_recvfrom(s, fd, b, sizeof(b), NS_MSG_DONTWAIT, (struct sockaddr *)&out, &l), 3);
	assert_int_equal(l, sizeof(out));
	assert_int_equal(out.sin_port, htons(4242));
	assert_int_equal(ntohl(out.sin_addr.s_addr), 0xc6120007);
	ns_close(s, fd);
	check_no_pkts(t);
}

static void test_bindtodevice(void **state)
{
	struct sockt *t = *state;
	struct ns_stack *s = t->stk;
	int fd = ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM | NS_SOCK_NONBLOCK, 0);
	char name[32];
	socklen_t l = sizeof(name);
	assert_int_equal(ns_getsockopt(s, fd, NS_SOL_SOCKET, NS_SO_BINDTODEVICE, name, &l), 0);
	assert_int_equal(l, 0);
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_BINDTODEVICE, "nope", 4), -NS_ENODEV);
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_BINDTODEVICE, "sink0", 5), 0);
	l = sizeof(name);
	assert_int_equal(ns_getsockopt(s, fd, NS_SOL_SOCKET, NS_SO_BINDTODEVICE, name, &l), 0);
	assert_int_equal(l, 6);
	assert_string_equal(name, "sink0");
	l = 4;
	assert_int_equal(ns_getsockopt(s, fd, NS_SOL_SOCKET, NS_SO_BINDTODEVICE, name, &l), -NS_EINVAL);
	/* bound to the device: still receives what arrives on it */
	struct sockaddr_in sin = sockt_sin("0.0.0.0", 5010);
	assert_int_equal(ns_bind(s, fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sockt_inject(t, "198.18.0.3", 3, "198.18.0.1", 5010, "dev", 3, false);
	char b[8];
	assert_int_equal(ns_recv(s, fd, b, sizeof(b), 0), 3);
	/* a bound device beats a wildcard socket on the same port (Linux score) */
	int other = ns_socket(s, NS_AF_INET, NS_SOCK_DGRAM | NS_SOCK_NONBLOCK, 0);
	int on = 1;
	assert_int_equal(ns_setsockopt(s, other, NS_SOL_SOCKET, NS_SO_REUSEADDR, &on, sizeof(on)), 0);
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_REUSEADDR, &on, sizeof(on)), 0);
	struct sockaddr_in sin2 = sockt_sin("0.0.0.0", 5010);
	assert_int_equal(ns_bind(s, other, (struct sockaddr *)&sin2, sizeof(sin2)), 0);
	sockt_inject(t, "198.18.0.3", 3, "198.18.0.1", 5010, "dev", 3, false);
	assert_int_equal(ns_recv(s, fd, b, sizeof(b), 0), 3);
	assert_int_equal(ns_recv(s, other, b, sizeof(b), 0), -NS_EAGAIN);
	assert_int_equal(ns_setsockopt(s, fd, NS_SOL_SOCKET, NS_SO_BINDTODEVICE, "", 0), 0);
	l = sizeof(name);
	assert_int_equal(ns_getsockopt(s, fd, NS_SOL_SOCKET, NS_SO_BINDTODEVICE, name, &l), 0);
	assert_int_equal(l, 0);
	ns_close(s, fd);
	ns_close(s, other);
	check_no_pkts(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_create_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sol_socket_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeo_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fcntl_ioctl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocking_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readiness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_and_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bindtodevice, setup, teardown),
	};
	return cmocka_run_group_tests_name("socket", tests, NULL, NULL);
}
