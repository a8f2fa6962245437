/*
 * tests/unit/test_diff_udp.c - differential test: the same UDP socket
 * scenarios against Linux kernel sockets (loopback) and netstack sockets
 * (two stacks over paired channels), comparing every return value and
 * errno (tests/unit/helpers/diff.h).  Add a scenario: write sc_NAME and
 * add it to `cases`.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <cmocka.h>
#include "helpers/diff.h"
#include "netstack/ns_abi.h"

#define SEC 1000000000ull
#define O (e->ops)

static int S(struct diff_env *e, int side)
{
	return diff_socket(e, side, e->family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
}

static int bind_kind(struct diff_env *e, int fd, int kind, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t l = diff_addr(e, kind, port, &ss);
	return O->bind(e, fd, (struct sockaddr *)&ss, l);
}

static ssize_t send_kind(struct diff_env *e, int fd, int kind, uint16_t port, const void *b, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t l = diff_addr(e, kind, port, &ss);
	return O->sendto(e, fd, b, n, 0, (struct sockaddr *)&ss, l);
}

static int connect_kind(struct diff_env *e, int fd, int kind, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t l = diff_addr(e, kind, port, &ss);
	return O->connect(e, fd, (struct sockaddr *)&ss, l);
}

static int seti(struct diff_env *e, int fd, int level, int name, int v)
{
	return O->setsockopt(e, fd, level, name, &v, sizeof(v));
}

static long long geti(struct diff_env *e, int fd, int level, int name)
{
	int v = -77;
	socklen_t l = sizeof(v);
	int r = O->getsockopt(e, fd, level, name, &v, &l);
	return r < 0 ? r : (long long)v * 10 + l;       /* value and length */
}

static long long ok(long long r) { return r >= 0 ? 0 : r; }

/* ---- scenarios ------------------------------------------------------------------------ */

static void sc_socket_errors(struct diff_env *e)
{
	int f = e->family;
	DIFF_VAL(e, "dgram tcp", ok(diff_socket(e, DIFF_A, f, SOCK_DGRAM, IPPROTO_TCP)));
	DIFF_VAL(e, "stream udp", ok(diff_socket(e, DIFF_A, f, SOCK_STREAM, IPPROTO_UDP)));
	DIFF_VAL(e, "seqpacket", ok(diff_socket(e, DIFF_A, f, SOCK_SEQPACKET, 0)));
	DIFF_VAL(e, "type 12", ok(diff_socket(e, DIFF_A, f, 12, 0)));
	DIFF_VAL(e, "bad flags", ok(diff_socket(e, DIFF_A, f, SOCK_DGRAM | 0x100000, 0)));
	DIFF_VAL(e, "proto 300", ok(diff_socket(e, DIFF_A, f, SOCK_DGRAM, 300)));
	DIFF_VAL(e, "proto -1", ok(diff_socket(e, DIFF_A, f, SOCK_DGRAM, -1)));
	DIFF_VAL(e, "family 46", ok(diff_socket(e, DIFF_A, 46, SOCK_DGRAM, 0)));
	DIFF_VAL(e, "family -1", ok(diff_socket(e, DIFF_A, -1, SOCK_DGRAM, 0)));
	DIFF_VAL(e, "dgram udp", ok(diff_socket(e, DIFF_A, f, SOCK_DGRAM, IPPROTO_UDP)));
	DIFF_VAL(e, "dgram 0 cloexec", ok(diff_socket(e, DIFF_A, f, SOCK_DGRAM | SOCK_CLOEXEC, 0)));
}

static void sc_bind_twice(struct diff_env *e)
{
	int a = S(e, DIFF_A), b = S(e, DIFF_A), c = S(e, DIFF_A);
	uint16_t p = diff_port(e, 0);
	DIFF_RET(e, bind_kind(e, a, DIFF_LOCAL, p));
	DIFF_RET(e, bind_kind(e, a, DIFF_LOCAL, p));
	DIFF_RET(e, bind_kind(e, a, DIFF_LOCAL, diff_port(e, 1)));
	DIFF_RET(e, bind_kind(e, b, DIFF_LOCAL, p));
	DIFF_RET(e, bind_kind(e, b, DIFF_ANY, p));
	DIFF_RET(e, seti(e, b, SOL_SOCKET, SO_REUSEADDR, 1));
	DIFF_RET(e, bind_kind(e, b, DIFF_LOCAL, p));
	DIFF_RET(e, seti(e, a, SOL_SOCKET, SO_REUSEADDR, 1));
	DIFF_RET(e, bind_kind(e, b, DIFF_LOCAL, p));
	/* NS_SO_REUSEPORT on both */
	uint16_t q = diff_port(e, 2);
	DIFF_RET(e, seti(e, c, SOL_SOCKET, NS_SO_REUSEPORT, 1));
	DIFF_RET(e, bind_kind(e, c, DIFF_ANY, q));
	int d = S(e, DIFF_A);
	DIFF_RET(e, bind_kind(e, d, DIFF_ANY, q));
	DIFF_RET(e, seti(e, d, SOL_SOCKET, NS_SO_REUSEPORT, 1));
	DIFF_RET(e, bind_kind(e, d, DIFF_ANY, q));
	DIFF_RET(e, bind_kind(e, S(e, DIFF_A), DIFF_LOCAL, q));
	/* port 0: an ephemeral port */
	int x = S(e, DIFF_A);
	DIFF_RET(e, bind_kind(e, x, DIFF_ANY, 0));
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	DIFF_RET(e, O->getsockname(e, x, (struct sockaddr *)&ss, &l));
	DIFF_VAL(e, "ephemeral in range", diff_sa_port(&ss) >= 32768 && diff_sa_port(&ss) <= 60999);
	DIFF_VAL(e, "namelen", l);
}

static void sc_bind_errors(struct diff_env *e)
{
	int a = S(e, DIFF_A);
	uint16_t p = diff_port(e, 3);
	struct sockaddr_storage ss;
	socklen_t l = diff_addr(e, DIFF_NONLOCAL, p, &ss);
	DIFF_RET(e, O->bind(e, a, (struct sockaddr *)&ss, l));
	DIFF_RET(e, O->bind(e, a, (struct sockaddr *)&ss, l - 1));
	DIFF_RET(e, O->bind(e, a, (struct sockaddr *)&ss, 0));
	DIFF_RET(e, O->bind(e, a, (struct sockaddr *)&ss, 2));
	l = diff_addr(e, DIFF_ANY, p, &ss);
	ss.ss_family = AF_UNSPEC;
	DIFF_RET(e, O->bind(e, a, (struct sockaddr *)&ss, l));  /* v4: AF_UNSPEC + INADDR_ANY accepted */
	int b = S(e, DIFF_A);
	l = diff_addr(e, DIFF_LOCAL, p, &ss);
	ss.ss_family = e->family == AF_INET ? AF_INET6 : AF_INET;
	DIFF_RET(e, O->bind(e, b, (struct sockaddr *)&ss, l));
	struct sockaddr_storage o;
	socklen_t ol = diff_addr_fam(e, e->family == AF_INET ? AF_INET6 : AF_INET, DIFF_LOCAL, p, &o);
	DIFF_RET(e, O->bind(e, b, (struct sockaddr *)&o, ol));
	DIFF_RET(e, bind_kind(e, b, DIFF_LOCAL, p + 1));
}

static void sc_connect_closed_port(struct diff_env *e)
{
	int c = S(e, DIFF_A);
	char buf[16];
	DIFF_RET(e, connect_kind(e, c, DIFF_PEER, diff_port(e, 4)));
	DIFF_RET(e, O->sendto(e, c, "x", 1, 0, NULL, 0));
	diff_sync(e, SEC / 10);
	DIFF_RET(e, O->poll(e, c));
	DIFF_RET(e, O->recvfrom(e, c, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, c, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, O->poll(e, c));
	diff_sync(e, 2 * SEC);
	DIFF_RET(e, O->sendto(e, c, "x", 1, 0, NULL, 0));
	diff_sync(e, SEC / 10);
	DIFF_RET(e, geti(e, c, SOL_SOCKET, SO_ERROR));
	DIFF_RET(e, geti(e, c, SOL_SOCKET, SO_ERROR));
	diff_sync(e, 2 * SEC);
	DIFF_RET(e, O->sendto(e, c, "x", 1, 0, NULL, 0));
	diff_sync(e, SEC / 10);
	DIFF_RET(e, O->sendto(e, c, "y", 1, 0, NULL, 0));
	DIFF_RET(e, O->sendto(e, c, "z", 1, 0, NULL, 0));
	diff_sync(e, SEC / 10);
	/* an unconnected socket is not told */
	int u = S(e, DIFF_A);
	diff_sync(e, 2 * SEC);
	DIFF_RET(e, send_kind(e, u, DIFF_PEER, diff_port(e, 4), "u", 1));
	diff_sync(e, SEC / 10);
	DIFF_RET(e, O->recvfrom(e, u, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, geti(e, u, SOL_SOCKET, SO_ERROR));
}

static void sc_recv_empty(struct diff_env *e)
{
	char b[8];
	int a = S(e, DIFF_A);
	DIFF_RET(e, O->recvfrom(e, a, b, sizeof(b), 0, NULL, NULL));     /* unbound */
	DIFF_RET(e, bind_kind(e, a, DIFF_ANY, diff_port(e, 5)));
	DIFF_RET(e, O->recvfrom(e, a, b, sizeof(b), 0, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, a, b, 0, 0, NULL, NULL));
	int blk = diff_socket(e, DIFF_A, e->family, SOCK_DGRAM, 0);
	DIFF_RET(e, O->recvfrom(e, blk, b, sizeof(b), MSG_DONTWAIT, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, blk, b, sizeof(b), MSG_DONTWAIT | MSG_PEEK, NULL, NULL));
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	DIFF_RET(e, O->recvmsg(e, a, &m, MSG_ERRQUEUE));
	DIFF_RET(e, O->poll(e, a));
	int n = -1;
	DIFF_RET(e, O->ioctl(e, a, FIONREAD, &n));
	DIFF_VAL(e, "FIONREAD empty", n);
}

static void sc_oversize(struct diff_env *e)
{
	static char big[70000];
	static char back[70000];
	memset(big, 'b', sizeof(big));
	int a = S(e, DIFF_A), b = S(e, DIFF_B);
	uint16_t p = diff_port(e, 6);
	DIFF_RET(e, bind_kind(e, b, DIFF_ANY, p));
	size_t max = e->family == AF_INET ? 65507 : 65527;
	DIFF_RET(e, send_kind(e, a, DIFF_PEER, p, big, max + 1));
	DIFF_RET(e, send_kind(e, a, DIFF_PEER, p, big, 65536));
	DIFF_RET(e, send_kind(e, a, DIFF_PEER, p, big, 70000));
	DIFF_RET(e, send_kind(e, a, DIFF_PEER, p, big, max));
	DIFF_RET(e, send_kind(e, a, DIFF_PEER, p, big, 1500));
	diff_sync(e, SEC / 2);
	DIFF_RET(e, O->recvfrom(e, b, back, sizeof(back), 0, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, b, back, sizeof(back), 0, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, b, back, sizeof(back), 0, NULL, NULL));
}

static void sc_trunc_peek(struct diff_env *e)
{
	int a = S(e, DIFF_A), b = S(e, DIFF_B);
	uint16_t p = diff_port(e, 7);
	char buf[64];
	DIFF_RET(e, bind_kind(e, b, DIFF_ANY, p));
	DIFF_RET(e, send_kind(e, a, DIFF_PEER, p, "0123456789", 10));
	DIFF_RET(e, send_kind(e, a, DIFF_PEER, p, "abcd", 4));
	DIFF_RET(e, send_kind(e, a, DIFF_PEER, p, "second-to-last", 14));
	diff_sync(e, SEC / 10);
	int n = -1;
	DIFF_RET(e, O->ioctl(e, b, FIONREAD, &n));
	DIFF_VAL(e, "FIONREAD", n);
	DIFF_RET(e, O->recvfrom(e, b, buf, 4, MSG_PEEK, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, b, buf, 4, MSG_PEEK | MSG_TRUNC, NULL, NULL));
	DIFF_VAL(e, "peek data", memcmp(buf, "0123", 4) == 0);
	struct iovec iov = { buf, 4 };
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	DIFF_RET(e, O->recvmsg(e, b, &m, 0));
	DIFF_VAL(e, "msg_flags trunc", m.msg_flags & MSG_TRUNC);
	DIFF_RET(e, O->ioctl(e, b, FIONREAD, &n));
	DIFF_VAL(e, "FIONREAD next", n);
	DIFF_RET(e, O->recvfrom(e, b, buf, 2, MSG_TRUNC, NULL, NULL));
	/* two iovecs */
	char x[5], y[20];
	struct iovec two[2] = { { x, sizeof(x) }, { y, sizeof(y) } };
	memset(&m, 0, sizeof(m));
	m.msg_iov = two;
	m.msg_iovlen = 2;
	DIFF_RET(e, O->recvmsg(e, b, &m, 0));
	DIFF_VAL(e, "iov split", memcmp(x, "secon", 5) == 0 && memcmp(y, "d-to-last", 9) == 0);
	DIFF_VAL(e, "msg_flags", m.msg_flags);
	/* recvfrom name length */
	DIFF_RET(e, send_kind(e, a, DIFF_PEER, p, "n", 1));
	diff_sync(e, SEC / 10);
	struct sockaddr_storage from;
	socklen_t fl = 3;
	DIFF_RET(e, O->recvfrom(e, b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl));
	DIFF_VAL(e, "fromlen", fl);
}

static void sc_autobind_names(struct diff_env *e)
{
	int a = S(e, DIFF_A), b = S(e, DIFF_B);
	uint16_t p = diff_port(e, 8);
	DIFF_RET(e, bind_kind(e, b, DIFF_ANY, p));
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	DIFF_RET(e, O->getsockname(e, a, (struct sockaddr *)&ss, &l));
	DIFF_VAL(e, "unbound port", diff_sa_port(&ss));
	DIFF_VAL(e, "unbound any", diff_sa_is_any(&ss));
	DIFF_VAL(e, "len", l);
	l = sizeof(ss);
	DIFF_RET(e, O->getpeername(e, a, (struct sockaddr *)&ss, &l));
	DIFF_RET(e, send_kind(e, a, DIFF_PEER, p, "hi", 2));
	l = sizeof(ss);
	DIFF_RET(e, O->getsockname(e, a, (struct sockaddr *)&ss, &l));
	uint16_t auto_port = diff_sa_port(&ss);
	DIFF_VAL(e, "autobound in range", auto_port >= 32768 && auto_port <= 60999);
	DIFF_VAL(e, "autobound any", diff_sa_is_any(&ss));
	DIFF_RET(e, connect_kind(e, a, DIFF_PEER, p));
	l = sizeof(ss);
	DIFF_RET(e, O->getsockname(e, a, (struct sockaddr *)&ss, &l));
	DIFF_VAL(e, "same port after connect", diff_sa_port(&ss) == auto_port);
	DIFF_VAL(e, "addr set by connect", !diff_sa_is_any(&ss));
	l = sizeof(ss);
	DIFF_RET(e, O->getpeername(e, a, (struct sockaddr *)&ss, &l));
	DIFF_VAL(e, "peer port", diff_sa_port(&ss) == p);
	/* connect on an unbound socket autobinds */
	int c = S(e, DIFF_A);
	DIFF_RET(e, connect_kind(e, c, DIFF_PEER, p));
	l = sizeof(ss);
	DIFF_RET(e, O->getsockname(e, c, (struct sockaddr *)&ss, &l));
	DIFF_VAL(e, "connect autobind", diff_sa_port(&ss) >= 32768);
	/* a bad connect still autobinds first (Linux inet_dgram_connect) */
	int d = S(e, DIFF_A);
	struct sockaddr_storage o;
	socklen_t ol = diff_addr(e, DIFF_PEER, p, &o);
	o.ss_family = 99;
	DIFF_RET(e, O->connect(e, d, (struct sockaddr *)&o, ol));
	l = sizeof(ss);
	DIFF_RET(e, O->getsockname(e, d, (struct sockaddr *)&ss, &l));
	DIFF_VAL(e, "bad connect autobinds", diff_sa_port(&ss) != 0);
	/* recvfrom reports the sender */
	diff_sync(e, SEC / 10);
	char buf[8];
	l = sizeof(ss);
	DIFF_RET(e, O->recvfrom(e, b, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &l));
	DIFF_VAL(e, "sender port", diff_sa_port(&ss) == auto_port);
	DIFF_VAL(e, "sender len", l);
}

static void sc_sendto_errors(struct diff_env *e)
{
	int a = S(e, DIFF_A);
	uint16_t p = diff_port(e, 9);
	DIFF_RET(e, O->sendto(e, a, "x", 1, 0, NULL, 0));
	struct sockaddr_storage ss;
	socklen_t l = diff_addr(e, DIFF_PEER, 0, &ss);
	DIFF_RET(e, O->sendto(e, a, "x", 1, 0, (struct sockaddr *)&ss, l));        /* port 0 */
	l = diff_addr(e, DIFF_PEER, p, &ss);
	DIFF_RET(e, O->sendto(e, a, "x", 1, 0, (struct sockaddr *)&ss, l - 1));
	DIFF_RET(e, O->sendto(e, a, "x", 1, 0, (struct sockaddr *)&ss, 0));
	DIFF_RET(e, O->sendto(e, a, "x", 1, 0, (struct sockaddr *)&ss, 1));
	ss.ss_family = 99;
	DIFF_RET(e, O->sendto(e, a, "x", 1, 0, (struct sockaddr *)&ss, l));
	ss.ss_family = AF_UNSPEC;
	DIFF_RET(e, O->sendto(e, a, "x", 1, 0, (struct sockaddr *)&ss, l));
	DIFF_RET(e, O->sendto(e, a, "x", 1, MSG_OOB, (struct sockaddr *)&ss, l));
	l = diff_addr(e, DIFF_PEER, p, &ss);
	DIFF_RET(e, O->sendto(e, a, "x", 1, MSG_OOB, (struct sockaddr *)&ss, l));
	static char big[70000];
	DIFF_RET(e, O->sendto(e, a, big, sizeof(big), 0, NULL, 0));
	struct sockaddr_storage o;
	socklen_t ol = diff_addr_fam(e, e->family == AF_INET ? AF_INET6 : AF_INET, DIFF_PEER, p, &o);
	DIFF_RET(e, O->sendto(e, a, "x", 1, 0, (struct sockaddr *)&o, ol));
	/* sendmsg with msg_namelen 0 ignores the name (unlike sendto) */
	struct iovec iov = { "m", 1 };
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_name = &ss;
	DIFF_RET(e, O->sendmsg(e, a, &m, 0));
	DIFF_RET(e, O->sendto(e, a, NULL, 0, 0, NULL, 0));
}

static void sc_buffers(struct diff_env *e)
{
	int a = S(e, DIFF_A);
	DIFF_RET(e, geti(e, a, SOL_SOCKET, SO_RCVBUF));
	DIFF_RET(e, geti(e, a, SOL_SOCKET, SO_SNDBUF));
	int vals[] = { 0, 1, 1000, 4096, 100000, 212992, 300000, 1 << 30, -1, -100 };
	/* the host's net.core.[rw]mem_max may differ from Linux's default that
	 * netstack uses: values at or above it are recorded as "clamped" */
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		long long r;
		bool big = vals[i] < 0 || vals[i] > 212992;
		DIFF_RET(e, seti(e, a, SOL_SOCKET, SO_RCVBUF, vals[i]));
		r = geti(e, a, SOL_SOCKET, SO_RCVBUF);
		diff_record(e, big ? r >= 212992 * 20 : r, "rcvbuf after %d", vals[i]);
		DIFF_RET(e, seti(e, a, SOL_SOCKET, SO_SNDBUF, vals[i]));
		r = geti(e, a, SOL_SOCKET, SO_SNDBUF);
		diff_record(e, big ? r >= 212992 * 20 : r, "sndbuf after %d", vals[i]);
	}
	short sh = 4096;
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_RCVBUF, &sh, sizeof(sh)));
}

static void sc_option_lengths(struct diff_env *e)
{
	int a = S(e, DIFF_A);
	short sh = 1;
	int one = 1;
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_REUSEADDR, &sh, sizeof(sh)));
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_REUSEADDR, &one, 0));
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, 9999, &one, sizeof(one)));
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, 9999, &sh, sizeof(sh)));
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_TYPE, &one, sizeof(one)));
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_ERROR, &one, sizeof(one)));
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_REUSEADDR, &one, 64));
	unsigned char b4[8];
	memset(b4, 0xee, sizeof(b4));
	socklen_t l = 2;
	DIFF_RET(e, O->getsockopt(e, a, SOL_SOCKET, SO_TYPE, b4, &l));
	DIFF_VAL(e, "SO_TYPE len 2", l * 1000 + b4[0] * 10 + (b4[2] == 0xee));
	l = 0;
	DIFF_RET(e, O->getsockopt(e, a, SOL_SOCKET, SO_TYPE, b4, &l));
	DIFF_VAL(e, "len 0", l);
	l = 64;
	int big[16];
	DIFF_RET(e, O->getsockopt(e, a, SOL_SOCKET, SO_TYPE, big, &l));
	DIFF_VAL(e, "len 64 -> 4", l);
	l = 4;
	DIFF_RET(e, O->getsockopt(e, a, SOL_SOCKET, 9999, big, &l));
	struct { long long s, u; } tv = { 1, 1000000 };
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	tv.u = -5;
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	tv.u = 500000;
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_RCVTIMEO, &tv, 8));
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	memset(&tv, 0, sizeof(tv));
	l = sizeof(tv);
	DIFF_RET(e, O->getsockopt(e, a, SOL_SOCKET, SO_RCVTIMEO, &tv, &l));
	DIFF_VAL(e, "rcvtimeo", tv.s * 10000000 + tv.u + l);
	tv.s = -1;
	tv.u = 0;
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	l = sizeof(tv);
	DIFF_RET(e, O->getsockopt(e, a, SOL_SOCKET, SO_RCVTIMEO, &tv, &l));
	DIFF_VAL(e, "rcvtimeo negative", tv.s * 10000000 + tv.u);
	struct { int on, sec; } lg = { 1, 3 };
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_LINGER, &lg, 4));
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	memset(&lg, 0, sizeof(lg));
	l = sizeof(lg);
	DIFF_RET(e, O->getsockopt(e, a, SOL_SOCKET, SO_LINGER, &lg, &l));
	DIFF_VAL(e, "linger", lg.on * 1000 + lg.sec * 10 + l);
	/* IP level */
	DIFF_RET(e, seti(e, a, IPPROTO_IP, NS_IP_TTL, 0));
	DIFF_RET(e, seti(e, a, IPPROTO_IP, NS_IP_TTL, 256));
	DIFF_RET(e, seti(e, a, IPPROTO_IP, NS_IP_TTL, -2));
	DIFF_RET(e, geti(e, a, IPPROTO_IP, NS_IP_TTL));
	DIFF_RET(e, seti(e, a, IPPROTO_IP, NS_IP_TTL, 99));
	unsigned char uc = 0;
	l = 1;
	DIFF_RET(e, O->getsockopt(e, a, IPPROTO_IP, NS_IP_TTL, &uc, &l));
	DIFF_VAL(e, "ttl 1 byte", uc * 10 + l);
	uc = 0x28;
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, NS_IP_TOS, &uc, 1));
	DIFF_RET(e, geti(e, a, IPPROTO_IP, NS_IP_TOS));
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, NS_IP_TTL, &uc, 0));
	DIFF_RET(e, seti(e, a, IPPROTO_IP, NS_IP_MTU_DISCOVER, 9));
	DIFF_RET(e, geti(e, a, IPPROTO_IP, NS_IP_MTU_DISCOVER));
	DIFF_RET(e, geti(e, a, IPPROTO_IP, NS_IP_MTU));
	DIFF_RET(e, seti(e, a, IPPROTO_IP, NS_IP_PKTINFO, 5));
	DIFF_RET(e, geti(e, a, IPPROTO_IP, NS_IP_PKTINFO));
	DIFF_RET(e, seti(e, a, IPPROTO_IP, NS_IP_HDRINCL, 1));
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_UDP, 1 /* UDP_CORK */, &sh, sizeof(sh)));
	DIFF_RET(e, seti(e, a, 999, 1, 1));
	DIFF_RET(e, geti(e, a, 999, 1));
	DIFF_RET(e, seti(e, a, IPPROTO_IPV6, NS_IPV6_V6ONLY, 1));
	DIFF_RET(e, geti(e, a, IPPROTO_IPV6, NS_IPV6_UNICAST_HOPS));
}

static void sc_v6_options(struct diff_env *e)
{
	int a = S(e, DIFF_A);
	unsigned char uc = 1;
	DIFF_RET(e, geti(e, a, IPPROTO_IPV6, NS_IPV6_V6ONLY));
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IPV6, NS_IPV6_V6ONLY, &uc, 1));
	DIFF_RET(e, seti(e, a, IPPROTO_IPV6, NS_IPV6_UNICAST_HOPS, 256));
	DIFF_RET(e, seti(e, a, IPPROTO_IPV6, NS_IPV6_UNICAST_HOPS, -2));
	DIFF_RET(e, seti(e, a, IPPROTO_IPV6, NS_IPV6_UNICAST_HOPS, 7));
	DIFF_RET(e, geti(e, a, IPPROTO_IPV6, NS_IPV6_UNICAST_HOPS));
	DIFF_RET(e, seti(e, a, IPPROTO_IPV6, NS_IPV6_UNICAST_HOPS, -1));
	DIFF_RET(e, geti(e, a, IPPROTO_IPV6, NS_IPV6_UNICAST_HOPS));
	DIFF_RET(e, seti(e, a, IPPROTO_IPV6, NS_IPV6_RECVPKTINFO, 3));
	DIFF_RET(e, geti(e, a, IPPROTO_IPV6, NS_IPV6_RECVPKTINFO));
	DIFF_RET(e, seti(e, a, IPPROTO_IPV6, NS_IPV6_TCLASS, 300));
	DIFF_RET(e, seti(e, a, IPPROTO_IPV6, NS_IPV6_TCLASS, -1));
	DIFF_RET(e, geti(e, a, IPPROTO_IPV6, NS_IPV6_TCLASS));
	DIFF_RET(e, seti(e, a, IPPROTO_IP, NS_IP_TTL, 12));       /* SOL_IP on a v6 socket */
	DIFF_RET(e, geti(e, a, IPPROTO_IP, NS_IP_TTL));
	DIFF_RET(e, seti(e, a, IPPROTO_IPV6, 9999, 1));
	DIFF_RET(e, bind_kind(e, a, DIFF_ANY, diff_port(e, 10)));
	DIFF_RET(e, seti(e, a, IPPROTO_IPV6, NS_IPV6_V6ONLY, 1));
	DIFF_RET(e, seti(e, a, IPPROTO_IPV6, NS_IPV6_V6ONLY, 0));
}

static void sc_shutdown(struct diff_env *e)
{
	int a = S(e, DIFF_A), b = S(e, DIFF_B);
	uint16_t p = diff_port(e, 11);
	char buf[8];
	DIFF_RET(e, bind_kind(e, b, DIFF_ANY, p));
	DIFF_RET(e, O->shutdown(e, a, SHUT_RD));
	DIFF_RET(e, O->poll(e, a));
	DIFF_RET(e, O->recvfrom(e, a, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, O->shutdown(e, a, 3));
	DIFF_RET(e, O->shutdown(e, a, -1));
	int c = S(e, DIFF_A);
	DIFF_RET(e, connect_kind(e, c, DIFF_PEER, p));
	DIFF_RET(e, O->shutdown(e, c, SHUT_WR));
	DIFF_RET(e, O->poll(e, c));
	DIFF_RET(e, O->sendto(e, c, "x", 1, 0, NULL, 0));
	DIFF_RET(e, send_kind(e, c, DIFF_PEER, p, "x", 1));
	DIFF_RET(e, O->shutdown(e, c, SHUT_RD));
	DIFF_RET(e, O->poll(e, c));
	/* data still arrives after SHUT_RD and can be read */
	DIFF_RET(e, send_kind(e, b, DIFF_LOCAL, 0, "y", 1));
	struct sockaddr_storage me;
	socklen_t l = sizeof(me);
	DIFF_RET(e, O->getsockname(e, c, (struct sockaddr *)&me, &l));
	DIFF_RET(e, O->sendto(e, b, "back", 4, 0, (struct sockaddr *)&me, l));
	diff_sync(e, SEC / 10);
	DIFF_RET(e, O->recvfrom(e, c, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, c, buf, sizeof(buf), 0, NULL, NULL));
}

static void sc_disconnect(struct diff_env *e)
{
	int a = S(e, DIFF_A), b = S(e, DIFF_A);
	uint16_t p = diff_port(e, 12);
	struct sockaddr_storage ss;
	socklen_t l;
	struct sockaddr unspec;
	memset(&unspec, 0, sizeof(unspec));
	unspec.sa_family = AF_UNSPEC;
	DIFF_RET(e, connect_kind(e, a, DIFF_PEER, p));
	DIFF_RET(e, O->connect(e, a, &unspec, sizeof(unspec)));
	DIFF_RET(e, O->connect(e, a, &unspec, 1));
	l = sizeof(ss);
	DIFF_RET(e, O->getpeername(e, a, (struct sockaddr *)&ss, &l));
	l = sizeof(ss);
	DIFF_RET(e, O->getsockname(e, a, (struct sockaddr *)&ss, &l));
	DIFF_VAL(e, "autobound port released", diff_sa_port(&ss));
	DIFF_VAL(e, "addr released", diff_sa_is_any(&ss));
	DIFF_RET(e, O->sendto(e, a, "x", 1, 0, NULL, 0));
	/* an explicit bind survives the disconnect */
	DIFF_RET(e, bind_kind(e, b, DIFF_LOCAL, p + 1));
	DIFF_RET(e, connect_kind(e, b, DIFF_PEER, p));
	DIFF_RET(e, O->connect(e, b, &unspec, sizeof(unspec)));
	l = sizeof(ss);
	DIFF_RET(e, O->getsockname(e, b, (struct sockaddr *)&ss, &l));
	DIFF_VAL(e, "bound port kept", diff_sa_port(&ss) == p + 1);
	DIFF_VAL(e, "bound addr kept", !diff_sa_is_any(&ss));
	DIFF_RET(e, O->connect(e, b, &unspec, sizeof(unspec)));   /* twice is fine */
	/* reconnect elsewhere */
	DIFF_RET(e, connect_kind(e, b, DIFF_PEER, p + 2));
	l = sizeof(ss);
	DIFF_RET(e, O->getpeername(e, b, (struct sockaddr *)&ss, &l));
	DIFF_VAL(e, "new peer", diff_sa_port(&ss) == p + 2);
	/* connect errors */
	int c = S(e, DIFF_A);
	l = diff_addr(e, DIFF_PEER, p, &ss);
	DIFF_RET(e, O->connect(e, c, (struct sockaddr *)&ss, l - 1));
	DIFF_RET(e, O->connect(e, c, (struct sockaddr *)&ss, 0));
	DIFF_RET(e, connect_kind(e, c, DIFF_PEER, 0));
	l = sizeof(ss);
	DIFF_RET(e, O->getpeername(e, c, (struct sockaddr *)&ss, &l));
}

static void sc_misc(struct diff_env *e)
{
	int a = S(e, DIFF_A);
	DIFF_RET(e, geti(e, a, SOL_SOCKET, SO_TYPE));
	DIFF_RET(e, geti(e, a, SOL_SOCKET, NS_SO_PROTOCOL));
	DIFF_RET(e, geti(e, a, SOL_SOCKET, NS_SO_DOMAIN));
	DIFF_RET(e, geti(e, a, SOL_SOCKET, SO_ERROR));
	DIFF_RET(e, geti(e, a, SOL_SOCKET, NS_SO_ACCEPTCONN));
	DIFF_RET(e, geti(e, a, SOL_SOCKET, SO_RCVLOWAT));
	DIFF_RET(e, geti(e, a, SOL_SOCKET, SO_SNDLOWAT));
	DIFF_RET(e, geti(e, a, SOL_SOCKET, SO_BROADCAST));
	DIFF_RET(e, geti(e, a, SOL_SOCKET, NS_SO_REUSEPORT));
	DIFF_RET(e, geti(e, a, SOL_SOCKET, SO_KEEPALIVE));
	DIFF_RET(e, seti(e, a, SOL_SOCKET, SO_KEEPALIVE, 9));
	DIFF_RET(e, geti(e, a, SOL_SOCKET, SO_KEEPALIVE));
	DIFF_RET(e, seti(e, a, SOL_SOCKET, SO_RCVLOWAT, 0));
	DIFF_RET(e, geti(e, a, SOL_SOCKET, SO_RCVLOWAT));
	DIFF_RET(e, seti(e, a, SOL_SOCKET, SO_SNDLOWAT, 10));
	DIFF_RET(e, O->listen(e, a, 5));
	DIFF_RET(e, O->accept(e, a, NULL, NULL, 0));
	DIFF_RET(e, O->fcntl(e, a, F_GETFL, 0));
	DIFF_RET(e, O->fcntl(e, a, F_SETFL, 0));
	DIFF_RET(e, O->fcntl(e, a, F_GETFL, 0));
	int on = 1;
	DIFF_RET(e, O->ioctl(e, a, FIONBIO, &on));
	DIFF_RET(e, O->fcntl(e, a, F_GETFL, 0));
	int q = -1;
	DIFF_RET(e, O->ioctl(e, a, NS_SIOCOUTQ, &q));
	DIFF_VAL(e, "NS_SIOCOUTQ", q);
	DIFF_RET(e, O->poll(e, a));
	/* a closed descriptor */
	int c = S(e, DIFF_A);
	DIFF_RET(e, O->close(e, c));
	DIFF_RET(e, O->close(e, c));
	DIFF_RET(e, O->sendto(e, c, "x", 1, 0, NULL, 0));
	DIFF_RET(e, geti(e, c, SOL_SOCKET, SO_TYPE));
	DIFF_RET(e, O->shutdown(e, c, SHUT_RDWR));
}

static void sc_broadcast_eacces(struct diff_env *e)
{
	int a = S(e, DIFF_A);
	struct sockaddr_in b;
	memset(&b, 0, sizeof(b));
	b.sin_family = AF_INET;
	b.sin_port = htons(diff_port(e, 13));
	b.sin_addr.s_addr = htonl(0xffffffffu);
	DIFF_RET(e, O->sendto(e, a, "x", 1, 0, (struct sockaddr *)&b, sizeof(b)));
	DIFF_RET(e, O->connect(e, a, (struct sockaddr *)&b, sizeof(b)));
	DIFF_RET(e, geti(e, a, SOL_SOCKET, SO_BROADCAST));
}

/* [::] versus 0.0.0.0 (IPv6 runs only) */
static void sc_dual_stack_binds(struct diff_env *e)
{
	uint16_t p = diff_port(e, 14);
	int d = S(e, DIFF_A), f = S(e, DIFF_A), m = S(e, DIFF_A);
	int v4a = diff_socket(e, DIFF_A, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int v4b = diff_socket(e, DIFF_A, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_storage ss;
	socklen_t l;
	DIFF_RET(e, bind_kind(e, d, DIFF_ANY, p));
	l = diff_addr_fam(e, AF_INET, DIFF_ANY, p, &ss);
	DIFF_RET(e, O->bind(e, v4a, (struct sockaddr *)&ss, l));
	l = diff_addr_fam(e, AF_INET, DIFF_LOCAL, p, &ss);
	DIFF_RET(e, O->bind(e, v4a, (struct sockaddr *)&ss, l));
	DIFF_RET(e, seti(e, f, IPPROTO_IPV6, NS_IPV6_V6ONLY, 1));
	DIFF_RET(e, bind_kind(e, f, DIFF_ANY, p + 1));
	l = diff_addr_fam(e, AF_INET, DIFF_ANY, p + 1, &ss);
	DIFF_RET(e, O->bind(e, v4b, (struct sockaddr *)&ss, l));
	/* v4-mapped binds */
	struct sockaddr_in6 m6;
	memset(&m6, 0, sizeof(m6));
	m6.sin6_family = AF_INET6;
	m6.sin6_port = htons(p + 2);
	struct sockaddr_storage v4;
	diff_addr_fam(e, AF_INET, DIFF_LOCAL, 0, &v4);
	uint8_t *b = (uint8_t *)&m6.sin6_addr;
	b[10] = b[11] = 0xff;
	memcpy(b + 12, &((struct sockaddr_in *)&v4)->sin_addr, 4);
	int g = S(e, DIFF_A);
	DIFF_RET(e, seti(e, g, IPPROTO_IPV6, NS_IPV6_V6ONLY, 1));
	DIFF_RET(e, O->bind(e, g, (struct sockaddr *)&m6, sizeof(m6)));
	DIFF_RET(e, O->bind(e, m, (struct sockaddr *)&m6, sizeof(m6)));
	l = sizeof(ss);
	DIFF_RET(e, O->getsockname(e, m, (struct sockaddr *)&ss, &l));
	DIFF_VAL(e, "mapped name", memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr, b, 16) == 0);
	int h = diff_socket(e, DIFF_A, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	l = diff_addr_fam(e, AF_INET, DIFF_ANY, p + 2, &ss);
	DIFF_RET(e, O->bind(e, h, (struct sockaddr *)&ss, l));
	/* mapped any: ::ffff:0.0.0.0 */
	int k = S(e, DIFF_A);
	memset(b + 12, 0, 4);
	m6.sin6_port = htons(p + 3);
	DIFF_RET(e, O->bind(e, k, (struct sockaddr *)&m6, sizeof(m6)));
	int k2 = S(e, DIFF_A);
	DIFF_RET(e, bind_kind(e, k2, DIFF_ANY, p + 3));
	/* a specific v6 address makes the socket v6-only */
	int s6 = S(e, DIFF_A);
	DIFF_RET(e, bind_kind(e, s6, DIFF_LOCAL, p + 4));
	DIFF_RET(e, geti(e, s6, IPPROTO_IPV6, NS_IPV6_V6ONLY));
	int s4 = diff_socket(e, DIFF_A, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	l = diff_addr_fam(e, AF_INET, DIFF_ANY, p + 4, &ss);
	DIFF_RET(e, O->bind(e, s4, (struct sockaddr *)&ss, l));
	/* v6 socket connecting to an AF_INET address */
	int c = S(e, DIFF_A);
	l = diff_addr_fam(e, AF_INET, DIFF_PEER, p, &ss);
	DIFF_RET(e, O->connect(e, c, (struct sockaddr *)&ss, l));
	DIFF_RET(e, O->connect(e, f, (struct sockaddr *)&ss, l));
	DIFF_RET(e, O->sendto(e, f, "x", 1, 0, (struct sockaddr *)&ss, l));
}

static void sc_recverr(struct diff_env *e)
{
	int a = S(e, DIFF_A);
	uint16_t p = diff_port(e, 15);
	bool v6 = e->family == AF_INET6;
	DIFF_RET(e, seti(e, a, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? 25 : 11, 1));
	DIFF_RET(e, send_kind(e, a, DIFF_PEER, p, "abcdef", 6));
	diff_sync(e, SEC / 10);
	DIFF_RET(e, O->poll(e, a));
	char buf[16];
	union { struct cmsghdr h; uint8_t raw[256]; } ctl;
	struct sockaddr_storage name;
	struct iovec iov = { buf, 4 };
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_name = &name;
	m.msg_namelen = sizeof(name);
	m.msg_control = &ctl;
	m.msg_controllen = sizeof(ctl);
	DIFF_RET(e, O->recvmsg(e, a, &m, MSG_ERRQUEUE | MSG_PEEK));
	m.msg_controllen = sizeof(ctl);
	m.msg_namelen = sizeof(name);
	DIFF_RET(e, O->recvmsg(e, a, &m, MSG_ERRQUEUE));
	DIFF_VAL(e, "msg_flags", m.msg_flags);
	DIFF_VAL(e, "payload", memcmp(buf, "abcd", 4) == 0);
	DIFF_VAL(e, "name port", diff_sa_port(&name) == p);
	DIFF_VAL(e, "namelen", m.msg_namelen);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	DIFF_VAL(e, "cmsg", c != NULL);
	if (c) {
		uint8_t *d = CMSG_DATA(c);
		uint32_t eno;
		memcpy(&eno, d, 4);
		DIFF_VAL(e, "cmsg level", c->cmsg_level);
		DIFF_VAL(e, "cmsg type", c->cmsg_type);
		DIFF_VAL(e, "ee_errno", eno);
		DIFF_VAL(e, "ee_origin", d[4]);
		DIFF_VAL(e, "ee_type", d[5]);
		DIFF_VAL(e, "ee_code", d[6]);
	}
	DIFF_RET(e, geti(e, a, SOL_SOCKET, SO_ERROR));
	DIFF_RET(e, O->recvmsg(e, a, &m, MSG_ERRQUEUE));
	DIFF_RET(e, O->poll(e, a));
	/* a second error: the plain recv reports it first */
	diff_sync(e, 2 * SEC);
	DIFF_RET(e, send_kind(e, a, DIFF_PEER, p, "x", 1));
	diff_sync(e, SEC / 10);
	DIFF_RET(e, O->recvfrom(e, a, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, a, buf, sizeof(buf), 0, NULL, NULL));
	m.msg_controllen = sizeof(ctl);
	DIFF_RET(e, O->recvmsg(e, a, &m, MSG_ERRQUEUE));
	DIFF_RET(e, seti(e, a, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? 25 : 11, 0));
}

/* a connected socket takes datagrams from its peer only */
static void sc_connected_filter(struct diff_env *e)
{
	uint16_t p = diff_port(e, 16);
	int srv = S(e, DIFF_B), peer = S(e, DIFF_A), other = S(e, DIFF_A);
	char buf[8];
	DIFF_RET(e, bind_kind(e, srv, DIFF_ANY, p));
	DIFF_RET(e, bind_kind(e, peer, DIFF_ANY, p + 1));
	DIFF_RET(e, connect_kind(e, srv, DIFF_LOCAL, p + 1));
	DIFF_RET(e, send_kind(e, other, DIFF_PEER, p, "other", 5));
	DIFF_RET(e, send_kind(e, peer, DIFF_PEER, p, "peer", 4));
	diff_sync(e, SEC / 10);
	DIFF_RET(e, O->recvfrom(e, srv, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, srv, buf, sizeof(buf), 0, NULL, NULL));
	/* the stranger got port unreachable only if it was told (unconnected: no) */
	DIFF_RET(e, O->recvfrom(e, other, buf, sizeof(buf), 0, NULL, NULL));
	/* a second, unconnected socket on the same port takes the strangers */
	int wild = S(e, DIFF_B);
	DIFF_RET(e, seti(e, wild, SOL_SOCKET, SO_REUSEADDR, 1));
	DIFF_RET(e, seti(e, srv, SOL_SOCKET, SO_REUSEADDR, 1));
	DIFF_RET(e, bind_kind(e, wild, DIFF_ANY, p));
	diff_sync(e, 2 * SEC);
	DIFF_RET(e, send_kind(e, other, DIFF_PEER, p, "other2", 6));
	DIFF_RET(e, send_kind(e, peer, DIFF_PEER, p, "peer2", 5));
	diff_sync(e, SEC / 10);
	DIFF_RET(e, O->recvfrom(e, wild, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, srv, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, wild, buf, sizeof(buf), 0, NULL, NULL));
}

/* sendmsg control messages: validation and effect */
struct cbuf {
	union { struct cmsghdr h; uint8_t raw[256]; } u;
	size_t len;
};

static void cadd(struct cbuf *b, int level, int type, const void *data, size_t n)
{
	struct cmsghdr *c = (struct cmsghdr *)(void *)(b->u.raw + b->len);
	memset(c, 0, CMSG_SPACE(n));
	c->cmsg_len = CMSG_LEN(n);
	c->cmsg_level = level;
	c->cmsg_type = type;
	memcpy(CMSG_DATA(c), data, n);
	b->len += CMSG_SPACE(n);
}

static ssize_t send_cmsg(struct diff_env *e, int fd, uint16_t port, struct cbuf *b)
{
	struct sockaddr_storage ss;
	socklen_t l = diff_addr(e, DIFF_PEER, port, &ss);
	struct iovec iov = { "cm", 2 };
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	m.msg_name = &ss;
	m.msg_namelen = l;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = b->u.raw;
	m.msg_controllen = b->len;
	return O->sendmsg(e, fd, &m, 0);
}

static void sc_send_cmsg(struct diff_env *e)
{
	uint16_t p = diff_port(e, 17);
	bool v6 = e->family == AF_INET6;
	int a = S(e, DIFF_A), b = S(e, DIFF_B);
	DIFF_RET(e, bind_kind(e, b, DIFF_ANY, p));
	if (!v6)
		DIFF_RET(e, seti(e, b, IPPROTO_IP, 12 /* IP_RECVTTL */, 1));
	struct cbuf cb;
	int v;
	unsigned char uc;
	int lvl = v6 ? IPPROTO_IPV6 : IPPROTO_IP, ttl_type = v6 ? 52 : NS_IP_TTL;
	int tos_type = v6 ? NS_IPV6_TCLASS : NS_IP_TOS;
	/* hop limit / TTL */
	memset(&cb, 0, sizeof(cb)); v = 0;
	cadd(&cb, lvl, ttl_type, &v, sizeof(v));
	DIFF_RET(e, send_cmsg(e, a, p, &cb));
	memset(&cb, 0, sizeof(cb)); v = 300;
	cadd(&cb, lvl, ttl_type, &v, sizeof(v));
	DIFF_RET(e, send_cmsg(e, a, p, &cb));
	memset(&cb, 0, sizeof(cb)); uc = 5;
	cadd(&cb, lvl, ttl_type, &uc, 1);
	DIFF_RET(e, send_cmsg(e, a, p, &cb));
	memset(&cb, 0, sizeof(cb)); v = 7;
	cadd(&cb, lvl, ttl_type, &v, sizeof(v));
	DIFF_RET(e, send_cmsg(e, a, p, &cb));
	/* TOS / traffic class */
	memset(&cb, 0, sizeof(cb)); uc = 0x10;
	cadd(&cb, lvl, tos_type, &uc, 1);
	DIFF_RET(e, send_cmsg(e, a, p, &cb));
	memset(&cb, 0, sizeof(cb)); v = -1;
	cadd(&cb, lvl, tos_type, &v, sizeof(v));
	DIFF_RET(e, send_cmsg(e, a, p, &cb));
	/* unknown type at the level that applies; other levels are skipped */
	memset(&cb, 0, sizeof(cb)); v = 1;
	cadd(&cb, lvl, 99, &v, sizeof(v));
	DIFF_RET(e, send_cmsg(e, a, p, &cb));
	memset(&cb, 0, sizeof(cb));
	cadd(&cb, v6 ? IPPROTO_IP : IPPROTO_IPV6, 99, &v, sizeof(v));
	DIFF_RET(e, send_cmsg(e, a, p, &cb));
	memset(&cb, 0, sizeof(cb));
	cadd(&cb, SOL_SOCKET, 99, &v, sizeof(v));
	DIFF_RET(e, send_cmsg(e, a, p, &cb));
	memset(&cb, 0, sizeof(cb));
	cadd(&cb, 250, 1, &v, sizeof(v));
	DIFF_RET(e, send_cmsg(e, a, p, &cb));
	/* a header longer than the buffer */
	memset(&cb, 0, sizeof(cb));
	cadd(&cb, lvl, ttl_type, &v, sizeof(v));
	cb.u.h.cmsg_len = 200;
	DIFF_RET(e, send_cmsg(e, a, p, &cb));
	/* source address from PKTINFO */
	struct sockaddr_storage loc, non;
	diff_addr(e, DIFF_LOCAL, 0, &loc);
	diff_addr(e, DIFF_NONLOCAL, 0, &non);
	uint8_t pi[20];
	memset(&cb, 0, sizeof(cb));
	memset(pi, 0, sizeof(pi));
	if (v6) {
		memcpy(pi, &((struct sockaddr_in6 *)&non)->sin6_addr, 16);
		cadd(&cb, IPPROTO_IPV6, NS_IPV6_PKTINFO, pi, 20);
	} else {
		memcpy(pi + 4, &((struct sockaddr_in *)&non)->sin_addr, 4);
		cadd(&cb, IPPROTO_IP, NS_IP_PKTINFO, pi, 12);
	}
	DIFF_RET(e, send_cmsg(e, a, p, &cb));
	memset(&cb, 0, sizeof(cb));
	memset(pi, 0, sizeof(pi));
	if (v6) {
		memcpy(pi, &((struct sockaddr_in6 *)&loc)->sin6_addr, 16);
		cadd(&cb, IPPROTO_IPV6, NS_IPV6_PKTINFO, pi, 20);
	} else {
		memcpy(pi + 4, &((struct sockaddr_in *)&loc)->sin_addr, 4);
		cadd(&cb, IPPROTO_IP, NS_IP_PKTINFO, pi, 12);
		cadd(&cb, IPPROTO_IP, NS_IP_PKTINFO, pi, 8);
	}
	DIFF_RET(e, send_cmsg(e, a, p, &cb));
	if (!v6) {
		cb.len -= CMSG_SPACE(8);
		DIFF_RET(e, send_cmsg(e, a, p, &cb));
	}
	diff_sync(e, SEC / 10);
	/* what arrived: TTL as given (v4) */
	for (int i = 0; i < 8; i++) {
		char buf[8];
		union { struct cmsghdr h; uint8_t raw[128]; } ctl;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m;
		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = &ctl;
		m.msg_controllen = sizeof(ctl);
		ssize_t r = O->recvmsg(e, b, &m, 0);
		diff_record(e, r, "recv %d", i);
		if (r < 0)
			break;
		int ttl = -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == NS_IP_TTL)
				memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
		diff_record(e, ttl == 7 ? 7 : ttl < 0 ? -1 : 64, "ttl %d", i);
	}
}

/* receive control messages: which ones, in which order, what TTL/TOS */
static void sc_recv_cmsg(struct diff_env *e)
{
	uint16_t p = diff_port(e, 18);
	bool v6 = e->family == AF_INET6;
	int a = S(e, DIFF_A), b = S(e, DIFF_B);
	DIFF_RET(e, bind_kind(e, b, DIFF_ANY, p));
	if (v6) {
		DIFF_RET(e, seti(e, b, IPPROTO_IPV6, NS_IPV6_RECVPKTINFO, 1));
		DIFF_RET(e, seti(e, b, IPPROTO_IPV6, 51 /* IPV6_RECVHOPLIMIT */, 1));
		DIFF_RET(e, seti(e, b, IPPROTO_IPV6, 66 /* IPV6_RECVTCLASS */, 1));
		DIFF_RET(e, geti(e, b, IPPROTO_IPV6, 51));
		DIFF_RET(e, seti(e, a, IPPROTO_IPV6, NS_IPV6_UNICAST_HOPS, 9));
		DIFF_RET(e, seti(e, a, IPPROTO_IPV6, NS_IPV6_TCLASS, 0x20));
	} else {
		DIFF_RET(e, seti(e, b, IPPROTO_IP, NS_IP_PKTINFO, 1));
		DIFF_RET(e, seti(e, b, IPPROTO_IP, 12 /* IP_RECVTTL */, 1));
		DIFF_RET(e, seti(e, b, IPPROTO_IP, 13 /* IP_RECVTOS */, 1));
		DIFF_RET(e, seti(e, a, IPPROTO_IP, NS_IP_TTL, 9));
		DIFF_RET(e, seti(e, a, IPPROTO_IP, NS_IP_TOS, 0x20));
	}
	DIFF_RET(e, send_kind(e, a, DIFF_PEER, p, "rc", 2));
	/* a v4 datagram into a dual-stack socket */
	int c4 = -1;
	if (v6) {
		c4 = diff_socket(e, DIFF_A, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		struct sockaddr_storage ss;
		socklen_t l = diff_addr_fam(e, AF_INET, DIFF_PEER, p, &ss);
		DIFF_RET(e, O->sendto(e, c4, "v4", 2, 0, (struct sockaddr *)&ss, l));
	}
	diff_sync(e, SEC / 10);
	for (int i = 0; i < (v6 ? 2 : 1); i++) {
		char buf[8];
		union { struct cmsghdr h; uint8_t raw[256]; } ctl;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m;
		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = &ctl;
		m.msg_controllen = sizeof(ctl);
		DIFF_RET(e, O->recvmsg(e, b, &m, 0));
		DIFF_VAL(e, "controllen", m.msg_controllen);
		int k = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c), k++) {
			diff_record(e, c->cmsg_level * 1000 + c->cmsg_type, "cmsg %d level/type", k);
			diff_record(e, (long long)c->cmsg_len, "cmsg %d len", k);
			int val = -1;
			bool num = (c->cmsg_level == IPPROTO_IP && c->cmsg_type == NS_IP_TTL) ||
				   (c->cmsg_level == IPPROTO_IPV6 && (c->cmsg_type == 52 || c->cmsg_type == NS_IPV6_TCLASS));
			if (num)
				memcpy(&val, CMSG_DATA(c), sizeof(val));
			else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == NS_IP_TOS)
				val = *CMSG_DATA(c);
			diff_record(e, val, "cmsg %d value", k);
		}
	}
}

/* corking: MSG_MORE and UDP_CORK build one datagram */
static void sc_cork(struct diff_env *e)
{
	uint16_t p = diff_port(e, 19);
	int a = S(e, DIFF_A), b = S(e, DIFF_B);
	char buf[70000];
	DIFF_RET(e, bind_kind(e, b, DIFF_ANY, p));
	struct sockaddr_storage ss, other;
	socklen_t l = diff_addr(e, DIFF_PEER, p, &ss);
	diff_addr(e, DIFF_PEER, p + 1, &other);
	DIFF_RET(e, O->sendto(e, a, "ab", 2, MSG_MORE, (struct sockaddr *)&ss, l));
	DIFF_RET(e, O->sendto(e, a, "cd", 2, MSG_MORE, (struct sockaddr *)&other, l));
	DIFF_RET(e, O->sendto(e, a, "ef", 2, 0, NULL, 0));
	diff_sync(e, SEC / 10);
	ssize_t r = O->recvfrom(e, b, buf, sizeof(buf), 0, NULL, NULL);
	DIFF_VAL(e, "joined", r);
	DIFF_VAL(e, "joined data", r == 6 && memcmp(buf, "abcdef", 6) == 0);
	DIFF_RET(e, O->recvfrom(e, b, buf, sizeof(buf), 0, NULL, NULL));
	/* UDP_CORK */
	DIFF_RET(e, geti(e, a, IPPROTO_UDP, 1));
	DIFF_RET(e, seti(e, a, IPPROTO_UDP, 1, 1));
	DIFF_RET(e, geti(e, a, IPPROTO_UDP, 1));
	DIFF_RET(e, O->sendto(e, a, "x", 1, 0, (struct sockaddr *)&ss, l));
	DIFF_RET(e, O->sendto(e, a, "yz", 2, 0, (struct sockaddr *)&ss, l));
	diff_sync(e, SEC / 10);
	DIFF_RET(e, O->recvfrom(e, b, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, seti(e, a, IPPROTO_UDP, 1, 0));
	diff_sync(e, SEC / 10);
	DIFF_RET(e, O->recvfrom(e, b, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, seti(e, a, IPPROTO_UDP, 1, 0));
	/* too much: EMSGSIZE, and the pending datagram is gone */
	memset(buf, 'q', sizeof(buf));
	DIFF_RET(e, O->sendto(e, a, buf, 60000, MSG_MORE, (struct sockaddr *)&ss, l));
	DIFF_RET(e, O->sendto(e, a, buf, 6000, MSG_MORE, NULL, 0));
	DIFF_RET(e, O->sendto(e, a, "z", 1, 0, (struct sockaddr *)&ss, l));
	diff_sync(e, SEC / 10);
	DIFF_RET(e, O->recvfrom(e, b, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, b, buf, sizeof(buf), 0, NULL, NULL));
	/* MSG_MORE without a destination */
	int c = S(e, DIFF_A);
	DIFF_RET(e, O->sendto(e, c, "m", 1, MSG_MORE, NULL, 0));
}

static void mreq(struct diff_env *e, uint8_t *m, const char *group, int kind)
{
	struct sockaddr_storage ss;
	memset(m, 0, 12);
	inet_pton(AF_INET, group, m);
	if (kind >= 0) {
		diff_addr_fam(e, AF_INET, kind, 0, &ss);
		memcpy(m + 4, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	}
}

/* IPV6_ADD_MEMBERSHIP (20) / IPV6_DROP_MEMBERSHIP (21) with struct
 * ipv6_mreq on interface 1 (the kernel's lo, netstack's first NIC). */
static int mreq6_op(struct diff_env *e, int fd, int name, const char *group, int ifindex, socklen_t len)
{
	uint8_t m[20];
	inet_pton(AF_INET6, group, m);
	memcpy(m + 16, &ifindex, 4);
	return O->setsockopt(e, fd, IPPROTO_IPV6, name, m, len);
}

static void mcast6_memberships(struct diff_env *e, int a)
{
	DIFF_RET(e, mreq6_op(e, a, 20, "ff05::1:3", 1, 16));
	DIFF_RET(e, mreq6_op(e, a, 20, "::1", 1, 20));
	DIFF_RET(e, mreq6_op(e, a, 20, "ff05::1:3", 999, 20));
	DIFF_RET(e, mreq6_op(e, a, 21, "ff05::1:3", 0, 20));
	DIFF_RET(e, mreq6_op(e, a, 21, "::1", 0, 20));
	DIFF_RET(e, mreq6_op(e, a, 20, "ff05::1:3", 1, 20));
	DIFF_RET(e, mreq6_op(e, a, 20, "ff05::1:3", 1, 20));
	DIFF_RET(e, mreq6_op(e, a, 20, "ff05::1:3", 0, 20));
	DIFF_RET(e, mreq6_op(e, a, 20, "ff05::1:4", 1, 24));
	DIFF_RET(e, mreq6_op(e, a, 21, "ff05::1:3", 999, 20));
	DIFF_RET(e, mreq6_op(e, a, 21, "ff05::1:3", 0, 20));
	DIFF_RET(e, mreq6_op(e, a, 21, "ff05::1:3", 1, 20));
	DIFF_RET(e, mreq6_op(e, a, 21, "ff05::1:4", 1, 20));
	DIFF_RET(e, mreq6_op(e, a, 20, "ff05::1:5", 1, 20));    /* left joined: close leaves it */
}

/* multicast options (IPv4 runs: membership and interface rules; v6: hops/loop/if) */
static void sc_mcast_opts(struct diff_env *e)
{
	int a = S(e, DIFF_A);
	uint8_t m[12];
	unsigned char uc = 7;
	if (e->family == AF_INET6) {
		DIFF_RET(e, geti(e, a, IPPROTO_IPV6, 18));
		DIFF_RET(e, seti(e, a, IPPROTO_IPV6, 18, 256));
		DIFF_RET(e, seti(e, a, IPPROTO_IPV6, 18, 4));
		DIFF_RET(e, geti(e, a, IPPROTO_IPV6, 18));
		DIFF_RET(e, seti(e, a, IPPROTO_IPV6, 18, -1));
		DIFF_RET(e, geti(e, a, IPPROTO_IPV6, 18));
		DIFF_RET(e, geti(e, a, IPPROTO_IPV6, 19));
		DIFF_RET(e, seti(e, a, IPPROTO_IPV6, 19, 2));
		DIFF_RET(e, seti(e, a, IPPROTO_IPV6, 19, 0));
		DIFF_RET(e, geti(e, a, IPPROTO_IPV6, 19));
		DIFF_RET(e, seti(e, a, IPPROTO_IPV6, 17, 999));
		DIFF_RET(e, seti(e, a, IPPROTO_IPV6, 17, 0));
		DIFF_RET(e, geti(e, a, IPPROTO_IPV6, 17));
		DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IPV6, 18, &uc, 1));
		mcast6_memberships(e, a);
		return;
	}
	DIFF_RET(e, geti(e, a, IPPROTO_IP, 33));
	DIFF_RET(e, seti(e, a, IPPROTO_IP, 33, 300));
	DIFF_RET(e, seti(e, a, IPPROTO_IP, 33, 5));
	DIFF_RET(e, geti(e, a, IPPROTO_IP, 33));
	DIFF_RET(e, seti(e, a, IPPROTO_IP, 33, -1));
	DIFF_RET(e, geti(e, a, IPPROTO_IP, 33));
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, 33, &uc, 1));
	DIFF_RET(e, geti(e, a, IPPROTO_IP, 33));
	DIFF_RET(e, geti(e, a, IPPROTO_IP, 34));
	DIFF_RET(e, seti(e, a, IPPROTO_IP, 34, 0));
	DIFF_RET(e, geti(e, a, IPPROTO_IP, 34));
	DIFF_RET(e, geti(e, a, IPPROTO_IP, 49));
	DIFF_RET(e, seti(e, a, IPPROTO_IP, 49, 2));
	/* memberships */
	mreq(e, m, "239.1.2.3", DIFF_LOCAL);
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, 35, m, 4));
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, 35, m, 8));
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, 35, m, 8));
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, 36, m, 8));
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, 36, m, 8));
	mreq(e, m, "10.0.0.1", DIFF_LOCAL);
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, 35, m, 8));
	mreq(e, m, "239.1.2.3", -1);
	int32_t bad = 999;
	memcpy(m + 8, &bad, 4);
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, 35, m, 12));
	mreq(e, m, "239.1.2.3", DIFF_NONLOCAL);
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, 35, m, 8));
	mreq(e, m, "239.1.2.9", DIFF_LOCAL);
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, 36, m, 8));
	for (int i = 0; i < 21; i++) {
		char g[32];
		snprintf(g, sizeof(g), "239.9.9.%d", i + 1);
		mreq(e, m, g, DIFF_LOCAL);
		diff_record(e, O->setsockopt(e, a, IPPROTO_IP, 35, m, 8), "join %d", i);
	}
	/* IP_MULTICAST_IF */
	struct sockaddr_storage ss;
	diff_addr_fam(e, AF_INET, DIFF_LOCAL, 0, &ss);
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, 32, &((struct sockaddr_in *)&ss)->sin_addr, 4));
	uint8_t got[8] = { 0 };
	socklen_t l = sizeof(got);
	DIFF_RET(e, O->getsockopt(e, a, IPPROTO_IP, 32, got, &l));
	DIFF_VAL(e, "mc if", l * 10 + (memcmp(got, &((struct sockaddr_in *)&ss)->sin_addr, 4) == 0));
	diff_addr_fam(e, AF_INET, DIFF_NONLOCAL, 0, &ss);
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, 32, &((struct sockaddr_in *)&ss)->sin_addr, 4));
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, 32, &((struct sockaddr_in *)&ss)->sin_addr, 3));
	uint32_t any = 0;
	DIFF_RET(e, O->setsockopt(e, a, IPPROTO_IP, 32, &any, 4));
}

/* blocking sockets: SO_RCVTIMEO expiry, SHUT_RD makes a blocking read return 0 */
static void sc_blocking(struct diff_env *e)
{
	int a = diff_socket(e, DIFF_A, e->family, SOCK_DGRAM, 0);
	char buf[8];
	DIFF_RET(e, bind_kind(e, a, DIFF_ANY, diff_port(e, 20)));
	struct { long long s, u; } tv = { 0, 60000 };
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	DIFF_RET(e, O->recvfrom(e, a, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, a, buf, sizeof(buf), MSG_WAITALL, NULL, NULL));
	tv.s = -1;
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	DIFF_RET(e, O->recvfrom(e, a, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, O->shutdown(e, a, SHUT_RD));
	tv.s = 0;
	tv.u = 0;
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	DIFF_RET(e, O->recvfrom(e, a, buf, sizeof(buf), 0, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, a, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL));
	/* sends never block */
	DIFF_RET(e, send_kind(e, a, DIFF_PEER, diff_port(e, 21), "s", 1));
}

static const struct diff_case cases[] = {
	{ "socket_errors", sc_socket_errors, DIFF_V4 | DIFF_V6 },
	{ "bind_twice", sc_bind_twice, DIFF_V4 | DIFF_V6 },
	{ "bind_errors", sc_bind_errors, DIFF_V4 | DIFF_V6 },
	{ "connect_closed_port", sc_connect_closed_port, DIFF_V4 | DIFF_V6 },
	{ "recv_empty", sc_recv_empty, DIFF_V4 | DIFF_V6 },
	{ "oversize", sc_oversize, DIFF_V4 | DIFF_V6 },
	{ "trunc_peek", sc_trunc_peek, DIFF_V4 | DIFF_V6 },
	{ "autobind_names", sc_autobind_names, DIFF_V4 | DIFF_V6 },
	{ "sendto_errors", sc_sendto_errors, DIFF_V4 | DIFF_V6 },
	{ "buffers", sc_buffers, DIFF_V4 | DIFF_V6 },
	{ "option_lengths", sc_option_lengths, DIFF_V4 | DIFF_V6 },
	{ "v6_options", sc_v6_options, DIFF_V6 },
	{ "shutdown", sc_shutdown, DIFF_V4 | DIFF_V6 },
	{ "disconnect", sc_disconnect, DIFF_V4 | DIFF_V6 },
	{ "misc", sc_misc, DIFF_V4 | DIFF_V6 },
	{ "broadcast_eacces", sc_broadcast_eacces, DIFF_V4 },
	{ "dual_stack_binds", sc_dual_stack_binds, DIFF_V6 },
	{ "recverr", sc_recverr, DIFF_V4 | DIFF_V6 },
	{ "connected_filter", sc_connected_filter, DIFF_V4 | DIFF_V6 },
	{ "send_cmsg", sc_send_cmsg, DIFF_V4 | DIFF_V6 },
	{ "recv_cmsg", sc_recv_cmsg, DIFF_V4 | DIFF_V6 },
	{ "cork", sc_cork, DIFF_V4 | DIFF_V6 },
	{ "mcast_opts", sc_mcast_opts, DIFF_V4 | DIFF_V6 },
	{ "blocking", sc_blocking, DIFF_V4 | DIFF_V6 },
};

static void test_diff_udp(void **state)
{
	(void)state;
	assert_int_equal(diff_run_table(cases, sizeof(cases) / sizeof(cases[0])), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_udp),
	};
	return cmocka_run_group_tests_name("diff_udp", tests, NULL, NULL);
}
