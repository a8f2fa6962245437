/*
 * tests/unit/test_udp.c - UDP between two stacks over paired channels
 * (tests/unit/helpers/ns_test): send/receive, addresses, MSG_PEEK and
 * MSG_TRUNC, fragmentation-sized datagrams, ICMP port unreachable ->
 * ECONNREFUSED, receive-buffer overflow counting, broadcast, SO_REUSEPORT
 * distribution, IPv6 multicast memberships, IP(V6)_MULTICAST_LOOP,
 * send-buffer accounting (EAGAIN, POLLOUT, SIOCOUTQ),
 * dual-stack v4-mapped delivery, disconnect, IP_PKTINFO,
 * traffic through the impairment wrapper.  Bind rules and checksum
 * handling without a wire use helpers/sockt.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include <pthread.h>
#include <cmocka.h>
#include "netstack/sock.h"
#include "helpers/ns_test.h"
#include "helpers/sockt.h"

#define SEC NS_NSEC_PER_SEC

static uint64_t stat(struct ns_stack *stk, const char *name)
{
	uint64_t v = 0;
	assert_int_equal(ns_stat_get(stk, name, &v), 0);
	return v;
}

static int udp_sock(struct ns_stack *s, int fam)
{
	int fd = ns_socket(s, fam, NS_SOCK_DGRAM | NS_SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	return fd;
}

static void bind4(struct ns_stack *s, int fd, const char *ip, uint16_t port, int want)
{
	struct sockaddr_in a = sockt_sin(ip, port);
	assert_int_equal(ns_bind(s, fd, (struct sockaddr *)&a, sizeof(a)), want);
}

static void bind6(struct ns_stack *s, int fd, const char *ip, uint16_t port, int want)
{
	struct sockaddr_in6 a = sockt_sin6(ip, port);
	assert_int_equal(ns_bind(s, fd, (struct sockaddr *)&a, sizeof(a)), want);
}

static ssize_t sendto4(struct ns_stack *s, int fd, const char *ip, uint16_t port, const void *b,
		       size_t n)
{
	struct sockaddr_in a = sockt_sin(ip, port);
	return ns_sendto(s, fd, b, n, 0, (struct sockaddr *)&a, sizeof(a));
}

static int setint(struct ns_stack *s, int fd, int level, int name, int v)
{
	return ns_setsockopt(s, fd, level, name, &v, sizeof(v));
}

struct readable {
	struct ns_stack *stk;
	int fd;
};

static bool is_readable(void *ctx)
{
	struct readable *r = ctx;
	return ns_poll_mask(r->stk, r->fd) & (NS_POLLIN | NS_POLLERR);
}

static void wait_readable(struct ns_test_pair *p, struct ns_stack *s, int fd)
{
	struct readable r = { s, fd };
	assert_true(ns_test_pump(p, is_readable, &r, 5 * SEC));
}

static void pair_init(struct ns_test_pair *p, bool v6)
{
	assert_int_equal(ns_test_pair_init(p, &(struct ns_test_pair_opts){ .ipv6 = v6 }), 0);
	ns_test_settle(p);
}

static void pair_fini(struct ns_test_pair *p)
{
	ns_test_settle(p);
	assert_int_equal(ns_test_pair_live(p), 0);
	ns_test_pair_fini(p);
}

/* ---- over the wire ---------------------------------------------------------------- */

static void test_send_recv_basic(void **state)
{
	(void)state;
	struct ns_test_pair p;
	pair_init(&p, false);
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	int rx = udp_sock(B, NS_AF_INET), tx = udp_sock(A, NS_AF_INET);
	bind4(B, rx, "0.0.0.0", 9000, 0);
	assert_int_equal(sendto4(A, tx, "198.18.0.2", 9000, "hello world", 11), 11);
	/* autobind: an ephemeral port in Linux's range */
	struct sockaddr_in me;
	socklen_t l = sizeof(me);
	assert_int_equal(ns_getsockname(A, tx, (struct sockaddr *)&me, &l), 0);
	uint16_t port = ntohs(me.sin_port);
	assert_true(port >= 32768 && port <= 60999);
	assert_int_equal(me.sin_addr.s_addr, 0);
	wait_readable(&p, B, rx);
	int n = 0;
	assert_int_equal(ns_ioctl(B, rx, NS_FIONREAD, &n), 0);
	assert_int_equal(n, 11);
	char buf[64];
	struct sockaddr_in from;
	l = sizeof(from);
	/* MSG_PEEK leaves it queued; MSG_TRUNC on receive returns the real length */
	assert_int_equal(ns_recvfrom(B, rx, buf, 5, NS_MSG_PEEK | NS_MSG_TRUNC, (struct sockaddr *)&from, &l), 11);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(ntohs(from.sin_port), port);
	assert_int_equal(ntohl(from.sin_addr.s_addr), 0xc6120001);
	/* truncation is flagged in msg_flags and the rest is discarded */
	struct iovec iov = { buf, 4 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	assert_int_equal(ns_recvmsg(B, rx, &m, 0), 4);
	assert_true(m.msg_flags & NS_MSG_TRUNC);
	assert_int_equal(ns_recv(B, rx, buf, sizeof(buf), 0), -NS_EAGAIN);
	assert_int_equal(stat(B, "UdpInDatagrams"), 1);
	assert_int_equal(stat(A, "UdpOutDatagrams"), 1);
	/* zero-length datagram */
	assert_int_equal(sendto4(A, tx, "198.18.0.2", 9000, "", 0), 0);
	wait_readable(&p, B, rx);
	assert_int_equal(ns_recv(B, rx, buf, sizeof(buf), 0), 0);
	/* reply to the sender's address */
	assert_int_equal(ns_sendto(B, rx, "pong", 4, 0, (struct sockaddr *)&from, l), 4);
	wait_readable(&p, A, tx);
	assert_int_equal(ns_recv(A, tx, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "pong", 4);
	/* to our own address: local delivery */
	int self = udp_sock(A, NS_AF_INET);
	bind4(A, self, "198.18.0.1", 9010, 0);
	assert_int_equal(sendto4(A, tx, "198.18.0.1", 9010, "me", 2), 2);
	wait_readable(&p, A, self);
	l = sizeof(from);
	assert_int_equal(ns_recvfrom(A, self, buf, sizeof(buf), 0, (struct sockaddr *)&from, &l), 2);
	assert_int_equal(ntohs(from.sin_port), port);
	ns_close(A, self);
	ns_close(A, tx);
	ns_close(B, rx);
	pair_fini(&p);
}

static void test_big_datagrams(void **state)
{
	(void)state;
	struct ns_test_pair p;
	pair_init(&p, false);
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	int rx = udp_sock(B, NS_AF_INET), tx = udp_sock(A, NS_AF_INET);
	bind4(B, rx, "198.18.0.2", 9001, 0);
	static uint8_t big[65600], back[65600];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(sendto4(A, tx, "198.18.0.2", 9001, big, 65508), -NS_EMSGSIZE);
	assert_int_equal(sendto4(A, tx, "198.18.0.2", 9001, big, 70000 > sizeof(big) ? 65536 : 0), -NS_EMSGSIZE);
	assert_int_equal(sendto4(A, tx, "198.18.0.2", 9001, big, 65507), 65507);
	assert_int_equal(sendto4(A, tx, "198.18.0.2", 9001, big, 3000), 3000);
	wait_readable(&p, B, rx);
	assert_int_equal(ns_recv(B, rx, back, sizeof(back), 0), 65507);
	assert_memory_equal(back, big, 65507);
	wait_readable(&p, B, rx);
	assert_int_equal(ns_recv(B, rx, back, sizeof(back), 0), 3000);
	assert_memory_equal(back, big, 3000);
	ns_close(A, tx);
	ns_close(B, rx);
	pair_fini(&p);
}

static void test_port_unreachable_econnrefused(void **state)
{
	(void)state;
	struct ns_test_pair p;
	pair_init(&p, false);
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	int c = udp_sock(A, NS_AF_INET), u = udp_sock(A, NS_AF_INET);
	struct sockaddr_in dst = sockt_sin("198.18.0.2", 9999);
	assert_int_equal(ns_connect(A, c, (struct sockaddr *)&dst, sizeof(dst)), 0);
	struct sockaddr_in peer;
	socklen_t l = sizeof(peer);
	assert_int_equal(ns_getpeername(A, c, (struct sockaddr *)&peer, &l), 0);
	assert_int_equal(ntohs(peer.sin_port), 9999);
	l = sizeof(peer);
	assert_int_equal(ns_getsockname(A, c, (struct sockaddr *)&peer, &l), 0);
	assert_int_equal(ntohl(peer.sin_addr.s_addr), 0xc6120001);  /* source chosen by connect */
	assert_int_equal(ns_send(A, c, "x", 1, 0), 1);
	assert_int_equal(sendto4(A, u, "198.18.0.2", 9999, "y", 1), 1);
	wait_readable(&p, A, c);
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	assert_int_equal(stat(B, "UdpNoPorts"), 2);
	assert_true(stat(B, "IcmpOutDestUnreachs") >= 1);
	assert_true(ns_poll_mask(A, c) & NS_POLLERR);
	char b[4];
	assert_int_equal(ns_recv(A, c, b, sizeof(b), 0), -NS_ECONNREFUSED);
	assert_int_equal(ns_recv(A, c, b, sizeof(b), 0), -NS_EAGAIN);  /* reported once */
	/* the unconnected socket is not told (no IP_RECVERR) */
	assert_false(ns_poll_mask(A, u) & NS_POLLERR);
	assert_int_equal(ns_recv(A, u, b, sizeof(b), 0), -NS_EAGAIN);
	/* again, this time read through SO_ERROR; then the next send fails once */
	assert_int_equal(ns_send(A, c, "x", 1, 0), 1);
	wait_readable(&p, A, c);
	int err = 0;
	l = sizeof(err);
	assert_int_equal(ns_getsockopt(A, c, NS_SOL_SOCKET, NS_SO_ERROR, &err, &l), 0);
	assert_int_equal(err, NS_ECONNREFUSED);
	assert_int_equal(ns_getsockopt(A, c, NS_SOL_SOCKET, NS_SO_ERROR, &err, &l), 0);
	assert_int_equal(err, 0);
	ns_test_advance(&p, 2 * SEC);                   /* past the ICMP rate limit */
	assert_int_equal(ns_send(A, c, "x", 1, 0), 1);
	wait_readable(&p, A, c);
	assert_int_equal(ns_send(A, c, "x", 1, 0), -NS_ECONNREFUSED);
	assert_int_equal(ns_send(A, c, "x", 1, 0), 1);
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	ns_close(A, c);
	ns_close(A, u);
	pair_fini(&p);
}

static void test_rcvbuf_overflow(void **state)
{
	(void)state;
	struct ns_test_pair p;
	pair_init(&p, false);
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	int rx = udp_sock(B, NS_AF_INET), tx = udp_sock(A, NS_AF_INET);
	bind4(B, rx, "0.0.0.0", 9002, 0);
	assert_int_equal(setint(B, rx, NS_SOL_SOCKET, NS_SO_RCVBUF, 8192), 0);  /* 16384 */
	char msg[1000];
	memset(msg, 'm', sizeof(msg));
	int sent = 100;
	for (int i = 0; i < sent; i++) {
		assert_int_equal(sendto4(A, tx, "198.18.0.2", 9002, msg, sizeof(msg)), (ssize_t)sizeof(msg));
		ns_test_settle(&p);
	}
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	int got = 0;
	char b[2000];
	while (ns_recv(B, rx, b, sizeof(b), 0) == (ssize_t)sizeof(msg))
		got++;
	uint64_t drops = stat(B, "UdpRcvbufErrors");
	assert_true(got > 0 && got < sent);
	assert_int_equal((uint64_t)got + drops, (uint64_t)sent);
	assert_int_equal(stat(B, "UdpInErrors"), drops);
	assert_int_equal(stat(B, "UdpInDatagrams"), (uint64_t)got);
	ns_close(A, tx);
	ns_close(B, rx);
	pair_fini(&p);
}

static void test_broadcast(void **state)
{
	(void)state;
	struct ns_test_pair p;
	pair_init(&p, false);
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	int tx = udp_sock(A, NS_AF_INET);
	int any = udp_sock(B, NS_AF_INET), bc = udp_sock(B, NS_AF_INET), uni = udp_sock(B, NS_AF_INET);
	assert_int_equal(setint(B, any, NS_SOL_SOCKET, NS_SO_REUSEADDR, 1), 0);
	assert_int_equal(setint(B, bc, NS_SOL_SOCKET, NS_SO_REUSEADDR, 1), 0);
	assert_int_equal(setint(B, uni, NS_SOL_SOCKET, NS_SO_REUSEADDR, 1), 0);
	bind4(B, any, "0.0.0.0", 9003, 0);
	bind4(B, bc, "198.18.0.255", 9003, 0);
	bind4(B, uni, "198.18.0.2", 9003, 0);
	assert_int_equal(sendto4(A, tx, "198.18.0.255", 9003, "all", 3), -NS_EACCES);
	assert_int_equal(sendto4(A, tx, "255.255.255.255", 9003, "all", 3), -NS_EACCES);
	assert_int_equal(setint(A, tx, NS_SOL_SOCKET, NS_SO_BROADCAST, 1), 0);
	assert_int_equal(sendto4(A, tx, "198.18.0.255", 9003, "all", 3), 3);
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	char b[8];
	assert_int_equal(ns_recv(B, any, b, sizeof(b), 0), 3);
	assert_int_equal(ns_recv(B, bc, b, sizeof(b), 0), 3);
	assert_int_equal(ns_recv(B, uni, b, sizeof(b), 0), -NS_EAGAIN);
	assert_int_equal(sendto4(A, tx, "255.255.255.255", 9003, "lim", 3), 3);
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	assert_int_equal(ns_recv(B, any, b, sizeof(b), 0), 3);
	assert_int_equal(ns_recv(B, bc, b, sizeof(b), 0), -NS_EAGAIN);
	/* nobody on the port: no ICMP for broadcasts */
	uint64_t icmp = stat(B, "IcmpOutDestUnreachs");
	assert_int_equal(sendto4(A, tx, "198.18.0.255", 9004, "none", 4), 4);
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	assert_int_equal(stat(B, "IcmpOutDestUnreachs"), icmp);
	assert_int_equal(stat(B, "UdpIgnoredMulti"), 1);
	ns_close(A, tx);
	ns_close(B, any);
	ns_close(B, bc);
	ns_close(B, uni);
	pair_fini(&p);
}

static void test_multicast(void **state)
{
	(void)state;
	struct ns_test_pair p;
	pair_init(&p, false);
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	int r1 = udp_sock(B, NS_AF_INET), r2 = udp_sock(B, NS_AF_INET), tx = udp_sock(A, NS_AF_INET);
	uint8_t mr[8];
	struct sockaddr_in g = sockt_sin("239.1.2.3", 9400), me = sockt_sin("198.18.0.2", 0);
	memcpy(mr, &g.sin_addr, 4);
	memcpy(mr + 4, &me.sin_addr, 4);
	for (int i = 0; i < 2; i++) {
		int fd = i ? r2 : r1;
		assert_int_equal(setint(B, fd, NS_SOL_SOCKET, NS_SO_REUSEADDR, 1), 0);
		bind4(B, fd, "0.0.0.0", 9400, 0);
		assert_int_equal(ns_setsockopt(B, fd, NS_IPPROTO_IP, 35 /* IP_ADD_MEMBERSHIP */, mr, 8), 0);
		assert_int_equal(setint(B, fd, NS_IPPROTO_IP, NS_IP_RECVTTL, 1), 0);
	}
	assert_int_equal(sendto4(A, tx, "239.1.2.3", 9400, "mc", 2), 2);
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	for (int i = 0; i < 2; i++) {
		char b[8];
		union { struct cmsghdr h; uint8_t raw[64]; } ctl;
		struct iovec iov = { b, sizeof(b) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
				    .msg_controllen = sizeof(ctl) };
		assert_int_equal(ns_recvmsg(B, i ? r2 : r1, &m, 0), 2);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		assert_non_null(c);
		int ttl;
		memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
		assert_int_equal(ttl, 1);               /* IP_MULTICAST_TTL defaults to 1 */
	}
	assert_int_equal(stat(B, "UdpNoPorts"), 0);
	ns_close(A, tx);
	ns_close(B, r1);
	ns_close(B, r2);
	pair_fini(&p);
}

/* IPV6_ADD_MEMBERSHIP joins the group on the NIC (the IPv6 layer lets its
 * datagrams in only then); drop and close leave it; Linux's errors. */
static int mreq6(struct ns_stack *s, int fd, int name, const char *group, int ifindex)
{
	uint8_t m[20];
	struct ns_addr g = ns_test_addr(group);
	memcpy(m, g.b, 16);
	memcpy(m + 16, &ifindex, 4);
	return ns_setsockopt(s, fd, NS_IPPROTO_IPV6, name, m, sizeof(m));
}

static ssize_t sendto6(struct ns_stack *s, int fd, const char *ip, uint16_t port, const char *b)
{
	struct sockaddr_in6 a = sockt_sin6(ip, port);
	return ns_sendto(s, fd, b, strlen(b), 0, (struct sockaddr *)&a, sizeof(a));
}

static void test_multicast6_membership(void **state)
{
	(void)state;
	struct ns_test_pair p;
	pair_init(&p, true);
	ns_test_pump(&p, NULL, NULL, 3 * SEC);
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	int rx = udp_sock(B, NS_AF_INET6), rx2 = udp_sock(B, NS_AF_INET6), tx = udp_sock(A, NS_AF_INET6);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(setint(B, i ? rx2 : rx, NS_SOL_SOCKET, NS_SO_REUSEADDR, 1), 0);
		bind6(B, i ? rx2 : rx, "::", 9410, 0);
	}
	assert_int_equal(setint(A, tx, NS_IPPROTO_IPV6, 17 /* IPV6_MULTICAST_IF */, p.a.nic), 0);
	char b[16];
	/* not joined: the IPv6 layer drops it */
	assert_int_equal(sendto6(A, tx, "ff05::1:3", 9410, "no"), 2);
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	assert_int_equal(ns_recv(B, rx, b, sizeof(b), 0), -NS_EAGAIN);
	/* errors like Linux */
	uint8_t shortm[16] = { 0xff, 0x05 };
	assert_int_equal(ns_setsockopt(B, rx, NS_IPPROTO_IPV6, 20, shortm, sizeof(shortm)), -NS_EINVAL);
	assert_int_equal(mreq6(B, rx, 20, "fd00:5eed::9", p.b.nic), -NS_EINVAL);
	assert_int_equal(mreq6(B, rx, 20, "ff05::1:3", 99), -NS_ENODEV);
	assert_int_equal(mreq6(B, rx, 21, "ff05::1:3", 0), -NS_EADDRNOTAVAIL);
	/* joined: delivered (to every socket on the port: IPV6_MULTICAST_ALL) */
	assert_int_equal(mreq6(B, rx, 20, "ff05::1:3", p.b.nic), 0);
	assert_int_equal(mreq6(B, rx, 20, "ff05::1:3", p.b.nic), -NS_EADDRINUSE);
	assert_int_equal(mreq6(B, rx, 20, "ff05::1:3", 0), -NS_EADDRINUSE);
	assert_int_equal(sendto6(A, tx, "ff05::1:3", 9410, "yes"), 3);
	wait_readable(&p, B, rx);
	assert_int_equal(ns_recv(B, rx, b, sizeof(b), 0), 3);
	assert_memory_equal(b, "yes", 3);
	assert_int_equal(ns_recv(B, rx2, b, sizeof(b), 0), 3);
	/* a second socket's membership keeps the group after the first drops it */
	assert_int_equal(mreq6(B, rx2, 20, "ff05::1:3", p.b.nic), 0);
	assert_int_equal(mreq6(B, rx, 21, "ff05::1:3", 0), 0);
	assert_int_equal(mreq6(B, rx, 21, "ff05::1:3", 0), -NS_EADDRNOTAVAIL);
	assert_int_equal(sendto6(A, tx, "ff05::1:3", 9410, "two"), 3);
	wait_readable(&p, B, rx2);
	assert_int_equal(ns_recv(B, rx2, b, sizeof(b), 0), 3);
	assert_int_equal(ns_recv(B, rx, b, sizeof(b), 0), 3);
	/* closing the last member leaves the group */
	ns_close(B, rx2);
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	assert_int_equal(sendto6(A, tx, "ff05::1:3", 9410, "gone"), 4);
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	assert_int_equal(ns_recv(B, rx, b, sizeof(b), 0), -NS_EAGAIN);
	ns_close(A, tx);
	ns_close(B, rx);
	pair_fini(&p);
}

/* IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP: a multicast also reaches the
 * sender's own stack (default on), not when switched off; the wire copy
 * is sent either way. */
static void test_multicast_loop(void **state)
{
	(void)state;
	struct ns_test_pair p;
	pair_init(&p, true);
	ns_test_pump(&p, NULL, NULL, 3 * SEC);
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	for (int v6 = 0; v6 < 2; v6++) {
		int fam = v6 ? NS_AF_INET6 : NS_AF_INET;
		const char *grp = v6 ? "ff05::1:4" : "239.1.2.4";
		int local = udp_sock(A, fam), tx = udp_sock(A, fam), remote = udp_sock(B, fam);
		if (v6) {
			bind6(A, local, "::", 9420, 0);
			bind6(B, remote, "::", 9420, 0);
			assert_int_equal(mreq6(A, local, 20, grp, p.a.nic), 0);
			assert_int_equal(mreq6(B, remote, 20, grp, p.b.nic), 0);
			assert_int_equal(setint(A, tx, NS_IPPROTO_IPV6, 17, p.a.nic), 0);
		} else {
			bind4(A, local, "0.0.0.0", 9420, 0);
			bind4(B, remote, "0.0.0.0", 9420, 0);
		}
		int loopopt = v6 ? 19 : 34, level = v6 ? NS_IPPROTO_IPV6 : NS_IPPROTO_IP;
		for (int loop = 1; loop >= 0; loop--) {
			assert_int_equal(setint(A, tx, level, loopopt, loop), 0);
			ssize_t n = v6 ? sendto6(A, tx, grp, 9420, "lp") : sendto4(A, tx, grp, 9420, "lp", 2);
			assert_int_equal(n, 2);
			ns_test_pump(&p, NULL, NULL, SEC / 10);
			char b[8];
			assert_int_equal(ns_recv(B, remote, b, sizeof(b), 0), 2);
			assert_int_equal(ns_recv(A, local, b, sizeof(b), 0), loop ? 2 : -NS_EAGAIN);
			assert_int_equal(ns_recv(A, local, b, sizeof(b), 0), -NS_EAGAIN);
		}
		ns_close(A, local);
		ns_close(A, tx);
		ns_close(B, remote);
	}
	pair_fini(&p);
}

/* Send-buffer accounting (Linux sk_wmem_alloc): a datagram stays charged
 * to its socket until the link frees it; with SO_SNDBUF in flight a
 * nonblocking send gets EAGAIN, poll drops POLLOUT, SIOCOUTQ counts it, a
 * blocking send waits (here: until SO_SNDTIMEO); once the peer has taken
 * the frames, sending works again. */
static void test_sndbuf_accounting(void **state)
{
	(void)state;
	struct ns_test_pair p;
	pair_init(&p, false);
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	int rx = udp_sock(B, NS_AF_INET), tx = udp_sock(A, NS_AF_INET);
	bind4(B, rx, "0.0.0.0", 9430, 0);
	assert_int_equal(setint(A, tx, NS_SOL_SOCKET, NS_SO_SNDBUF, 4096), 0);   /* 8192 (doubled) */
	int q = -1;
	assert_int_equal(ns_ioctl(A, tx, NS_SIOCOUTQ, &q), 0);
	assert_int_equal(q, 0);
	assert_true(ns_poll_mask(A, tx) & NS_POLLOUT);
	char big[1400];
	memset(big, 'w', sizeof(big));
	int sent = 0;
	ssize_t r;
	while ((r = sendto4(A, tx, "198.18.0.2", 9430, big, sizeof(big))) == (ssize_t)sizeof(big) && sent < 100)
		sent++;
	assert_int_equal(r, -NS_EAGAIN);
	/* ~1.5 KiB of truesize each: a few fit in 8 KiB, never more than that */
	assert_in_range(sent, 2, 8);
	assert_int_equal(ns_ioctl(A, tx, NS_SIOCOUTQ, &q), 0);
	assert_true(q >= 8192 && q < 8192 + 2048);
	assert_false(ns_poll_mask(A, tx) & NS_POLLOUT);
	/* a blocking sender waits for room, up to SO_SNDTIMEO (then EAGAIN) */
	int fl = ns_fcntl(A, tx, NS_F_GETFL, 0);
	assert_int_equal(ns_fcntl(A, tx, NS_F_SETFL, fl & ~NS_O_NONBLOCK), 0);
	struct { int64_t sec, usec; } tv = { 0, 50000 };      /* struct timeval */
	assert_int_equal(ns_setsockopt(A, tx, NS_SOL_SOCKET, NS_SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(sendto4(A, tx, "198.18.0.2", 9430, big, sizeof(big)), -NS_EAGAIN);
	/* the frames leave: the charge is released, POLLOUT and sends are back */
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	assert_int_equal(ns_ioctl(A, tx, NS_SIOCOUTQ, &q), 0);
	assert_int_equal(q, 0);
	assert_true(ns_poll_mask(A, tx) & NS_POLLOUT);
	assert_int_equal(sendto4(A, tx, "198.18.0.2", 9430, big, sizeof(big)), (ssize_t)sizeof(big));
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	for (int i = 0; i <= sent; i++)
		assert_int_equal(ns_recv(B, rx, big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_int_equal(ns_recv(B, rx, big, sizeof(big), 0), -NS_EAGAIN);
	/* a datagram looped back to ourselves is uncharged when it arrives */
	int self = udp_sock(A, NS_AF_INET);
	bind4(A, self, "198.18.0.1", 9431, 0);
	assert_int_equal(sendto4(A, tx, "198.18.0.1", 9431, big, 100), 100);
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	assert_int_equal(ns_ioctl(A, tx, NS_SIOCOUTQ, &q), 0);
	assert_int_equal(q, 0);
	assert_int_equal(ns_recv(A, self, big, sizeof(big), 0), 100);
	/* closing with datagrams in flight: they still leave, nothing leaks */
	assert_int_equal(ns_fcntl(A, tx, NS_F_SETFL, fl), 0);
	assert_int_equal(sendto4(A, tx, "198.18.0.2", 9430, big, sizeof(big)), (ssize_t)sizeof(big));
	ns_close(A, tx);
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	assert_int_equal(ns_recv(B, rx, big, sizeof(big), 0), (ssize_t)sizeof(big));
	ns_close(A, self);
	ns_close(B, rx);
	pair_fini(&p);
}

static void test_reuseport_distribution(void **state)
{
	(void)state;
	struct ns_test_pair p;
	pair_init(&p, false);
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	enum { NS = 4, NF = 64 };
	int rx[NS];
	for (int i = 0; i < NS; i++) {
		rx[i] = udp_sock(B, NS_AF_INET);
		assert_int_equal(setint(B, rx[i], NS_SOL_SOCKET, NS_SO_REUSEPORT, 1), 0);
		bind4(B, rx[i], "0.0.0.0", 9005, 0);
	}
	int plain = udp_sock(B, NS_AF_INET);
	bind4(B, plain, "0.0.0.0", 9005, -NS_EADDRINUSE);
	int tx[NF];
	for (int f = 0; f < NF; f++) {
		tx[f] = udp_sock(A, NS_AF_INET);
		assert_int_equal(sendto4(A, tx[f], "198.18.0.2", 9005, "1", 1), 1);
		assert_int_equal(sendto4(A, tx[f], "198.18.0.2", 9005, "2", 1), 1);
		ns_test_settle(&p);
	}
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	int total = 0;
	for (int i = 0; i < NS; i++) {
		int n = 0;
		char b[4];
		struct sockaddr_in from, prev = { 0 };
		socklen_t l;
		for (;;) {
			l = sizeof(from);
			ssize_t r = ns_recvfrom(B, rx[i], b, sizeof(b), 0, (struct sockaddr *)&from, &l);
			if (r < 0)
				break;
			/* both datagrams of a flow land on the same socket, in order */
			if (b[0] == '2')
				assert_int_equal(from.sin_port, prev.sin_port);
			prev = from;
			n++;
		}
		assert_true(n >= 2 * 4);        /* each socket gets a share */
		total += n;
	}
	assert_int_equal(total, 2 * NF);
	for (int f = 0; f < NF; f++)
		ns_close(A, tx[f]);
	for (int i = 0; i < NS; i++)
		ns_close(B, rx[i]);
	ns_close(B, plain);
	pair_fini(&p);
}

static void test_dual_stack(void **state)
{
	(void)state;
	struct ns_test_pair p;
	pair_init(&p, true);
	ns_test_advance(&p, 3 * SEC);                   /* IPv6 DAD, if any */
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	int v6 = udp_sock(B, NS_AF_INET6), only = udp_sock(B, NS_AF_INET6);
	bind6(B, v6, "::", 9006, 0);
	assert_int_equal(setint(B, only, NS_IPPROTO_IPV6, NS_IPV6_V6ONLY, 1), 0);
	bind6(B, only, "::", 9007, 0);
	int tx = udp_sock(A, NS_AF_INET);
	assert_int_equal(sendto4(A, tx, "198.18.0.2", 9006, "map", 3), 3);
	assert_int_equal(sendto4(A, tx, "198.18.0.2", 9007, "no", 2), 2);
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	struct sockaddr_in6 from;
	socklen_t l = sizeof(from);
	char b[8];
	assert_int_equal(ns_recvfrom(B, v6, b, sizeof(b), 0, (struct sockaddr *)&from, &l), 3);
	assert_int_equal(l, sizeof(struct sockaddr_in6));
	assert_int_equal(from.sin6_family, AF_INET6);
	const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1 };
	assert_memory_equal(&from.sin6_addr, mapped, 16);
	assert_int_equal(ns_recv(B, only, b, sizeof(b), 0), -NS_EAGAIN);
	assert_int_equal(stat(B, "UdpNoPorts"), 1);
	/* reply through the v4-mapped address */
	assert_int_equal(ns_sendto(B, v6, "back", 4, 0, (struct sockaddr *)&from, l), 4);
	wait_readable(&p, A, tx);
	assert_int_equal(ns_recv(A, tx, b, sizeof(b), 0), 4);
	/* a v6-only socket cannot talk to v4-mapped peers */
	assert_int_equal(ns_sendto(B, only, "x", 1, 0, (struct sockaddr *)&from, l), -NS_ENETUNREACH);
	ns_close(A, tx);
	ns_close(B, v6);
	ns_close(B, only);
	pair_fini(&p);
}

static void test_ipv6_wire(void **state)
{
	(void)state;
	struct ns_test_pair p;
	pair_init(&p, true);
	ns_test_pump(&p, NULL, NULL, 3 * SEC);
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	int rx = udp_sock(B, NS_AF_INET6), tx = udp_sock(A, NS_AF_INET6);
	bind6(B, rx, "::", 9200, 0);
	assert_int_equal(setint(B, rx, NS_IPPROTO_IPV6, NS_IPV6_RECVPKTINFO, 1), 0);
	struct sockaddr_in6 to = sockt_sin6("fd00:5eed::2", 9200);
	assert_int_equal(ns_sendto(A, tx, "six", 3, 0, (struct sockaddr *)&to, sizeof(to)), 3);
	wait_readable(&p, B, rx);
	char b[16];
	struct sockaddr_in6 from;
	union { struct cmsghdr h; uint8_t raw[128]; } ctl;
	struct iovec iov = { b, sizeof(b) };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
	assert_int_equal(ns_recvmsg(B, rx, &m, 0), 3);
	struct ns_addr src = ns_test_addr("fd00:5eed::1"), dst = ns_test_addr("fd00:5eed::2");
	assert_memory_equal(&from.sin6_addr, src.b, 16);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	assert_non_null(c);
	assert_int_equal(c->cmsg_level, NS_IPPROTO_IPV6);
	assert_int_equal(c->cmsg_type, NS_IPV6_PKTINFO);
	assert_memory_equal(CMSG_DATA(c), dst.b, 16);
	int ifi;
	memcpy(&ifi, CMSG_DATA(c) + 16, 4);
	assert_int_equal(ifi, p.b.nic);
	assert_int_equal(stat(B, "Udp6InDatagrams"), 1);
	assert_int_equal(stat(A, "Udp6OutDatagrams"), 1);
	/* ICMPv6 port unreachable -> ECONNREFUSED on the connected socket */
	struct sockaddr_in6 closed = sockt_sin6("fd00:5eed::2", 9299);
	assert_int_equal(ns_connect(A, tx, (struct sockaddr *)&closed, sizeof(closed)), 0);
	assert_int_equal(ns_send(A, tx, "x", 1, 0), 1);
	wait_readable(&p, A, tx);
	assert_int_equal(stat(B, "Udp6NoPorts"), 1);
	assert_int_equal(ns_recv(A, tx, b, sizeof(b), 0), -NS_ECONNREFUSED);
	ns_close(A, tx);
	ns_close(B, rx);
	pair_fini(&p);
}

static void test_ipv6_link_local(void **state)
{
	(void)state;
	struct ns_test_pair p;
	pair_init(&p, true);
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	struct ns_addr la = ns_test_addr("fe80::1"), lb = ns_test_addr("fe80::2");
	assert_int_equal(ns_nic_addr_add(A, p.a.nic, &la, 64), 0);
	assert_int_equal(ns_nic_addr_add(B, p.b.nic, &lb, 64), 0);
	ns_test_pump(&p, NULL, NULL, 5 * SEC);          /* DAD */
	int rx = udp_sock(B, NS_AF_INET6), tx = udp_sock(A, NS_AF_INET6);
	struct sockaddr_in6 b6 = sockt_sin6("fe80::2", 9300);
	assert_int_equal(ns_bind(B, rx, (struct sockaddr *)&b6, sizeof(b6)), -NS_EINVAL);  /* no scope */
	b6.sin6_scope_id = 99;
	assert_int_equal(ns_bind(B, rx, (struct sockaddr *)&b6, sizeof(b6)), -NS_ENODEV);
	rx = udp_sock(B, NS_AF_INET6);
	b6.sin6_scope_id = (uint32_t)p.b.nic;
	assert_int_equal(ns_bind(B, rx, (struct sockaddr *)&b6, sizeof(b6)), 0);
	struct sockaddr_in6 me;
	socklen_t l = sizeof(me);
	assert_int_equal(ns_getsockname(B, rx, (struct sockaddr *)&me, &l), 0);
	assert_int_equal(me.sin6_scope_id, (uint32_t)p.b.nic);
	struct sockaddr_in6 to = sockt_sin6("fe80::2", 9300);
	to.sin6_scope_id = (uint32_t)p.a.nic;
	assert_int_equal(ns_sendto(A, tx, "ll", 2, 0, (struct sockaddr *)&to, sizeof(to)), 2);
	wait_readable(&p, B, rx);
	struct sockaddr_in6 from;
	l = sizeof(from);
	char b[8];
	assert_int_equal(ns_recvfrom(B, rx, b, sizeof(b), 0, (struct sockaddr *)&from, &l), 2);
	assert_memory_equal(&from.sin6_addr, la.b, 16);
	assert_int_equal(from.sin6_scope_id, (uint32_t)p.b.nic);
	/* connect to a link-local peer needs an interface */
	int c = udp_sock(A, NS_AF_INET6);
	struct sockaddr_in6 peer = sockt_sin6("fe80::2", 9300);
	assert_int_equal(ns_connect(A, c, (struct sockaddr *)&peer, sizeof(peer)), -NS_EINVAL);
	peer.sin6_scope_id = (uint32_t)p.a.nic;
	assert_int_equal(ns_connect(A, c, (struct sockaddr *)&peer, sizeof(peer)), 0);
	l = sizeof(from);
	assert_int_equal(ns_getpeername(A, c, (struct sockaddr *)&from, &l), 0);
	assert_int_equal(from.sin6_scope_id, (uint32_t)p.a.nic);
	ns_close(A, c);
	ns_close(A, tx);
	ns_close(B, rx);
	pair_fini(&p);
}

static void test_pktinfo_and_disconnect(void **state)
{
	(void)state;
	struct ns_test_pair p;
	pair_init(&p, false);
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	int rx = udp_sock(B, NS_AF_INET), tx = udp_sock(A, NS_AF_INET);
	bind4(B, rx, "0.0.0.0", 9008, 0);
	assert_int_equal(setint(B, rx, NS_IPPROTO_IP, NS_IP_PKTINFO, 1), 0);
	assert_int_equal(setint(B, rx, NS_IPPROTO_IP, NS_IP_RECVTTL, 1), 0);
	assert_int_equal(setint(A, tx, NS_IPPROTO_IP, NS_IP_TTL, 33), 0);
	assert_int_equal(sendto4(A, tx, "198.18.0.2", 9008, "pi", 2), 2);
	wait_readable(&p, B, rx);
	char b[8];
	union { struct cmsghdr h; uint8_t raw[256]; } ctl;
	struct iovec iov = { b, sizeof(b) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
			    .msg_controllen = sizeof(ctl) };
	assert_int_equal(ns_recvmsg(B, rx, &m, 0), 2);
	bool saw_pi = false, saw_ttl = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == NS_IPPROTO_IP && c->cmsg_type == NS_IP_PKTINFO) {
			uint8_t *d = CMSG_DATA(c);
			int ifi;
			memcpy(&ifi, d, 4);
			assert_int_equal(ifi, p.b.nic);
			assert_int_equal(ns_load_be32(d + 8), 0xc6120002);
			saw_pi = true;
		}
		if (c->cmsg_level == NS_IPPROTO_IP && c->cmsg_type == NS_IP_TTL) {
			int ttl;
			memcpy(&ttl, CMSG_DATA(c), 4);
			assert_int_equal(ttl, 33);
			saw_ttl = true;
		}
	}
	assert_true(saw_pi && saw_ttl);
	/* too small a control buffer: MSG_CTRUNC */
	assert_int_equal(sendto4(A, tx, "198.18.0.2", 9008, "pi", 2), 2);
	wait_readable(&p, B, rx);
	m.msg_controllen = 8;
	assert_int_equal(ns_recvmsg(B, rx, &m, 0), 2);
	assert_true(m.msg_flags & NS_MSG_CTRUNC);
	/* connect autobinds; AF_UNSPEC disconnects and releases an autobound port */
	int c = udp_sock(A, NS_AF_INET);
	struct sockaddr_in dst = sockt_sin("198.18.0.2", 9008), me;
	assert_int_equal(ns_connect(A, c, (struct sockaddr *)&dst, sizeof(dst)), 0);
	socklen_t l = sizeof(me);
	assert_int_equal(ns_getsockname(A, c, (struct sockaddr *)&me, &l), 0);
	assert_true(ntohs(me.sin_port) >= 32768);
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	assert_int_equal(ns_connect(A, c, &unspec, sizeof(unspec)), 0);
	l = sizeof(me);
	assert_int_equal(ns_getsockname(A, c, (struct sockaddr *)&me, &l), 0);
	assert_int_equal(me.sin_port, 0);
	assert_int_equal(me.sin_addr.s_addr, 0);
	assert_int_equal(ns_send(A, c, "x", 1, 0), -NS_EDESTADDRREQ);
	l = sizeof(me);
	assert_int_equal(ns_getpeername(A, c, (struct sockaddr *)&me, &l), -NS_ENOTCONN);
	ns_close(A, c);
	ns_close(A, tx);
	ns_close(B, rx);
	pair_fini(&p);
}

static void test_impaired_link(void **state)
{
	(void)state;
	struct ns_test_pair p;
	struct ns_test_pair_opts o = { .impair = true };
	o.imp.drop_ppm = 100000;
	o.imp.dup_ppm = 50000;
	o.imp.reorder_ppm = 100000;
	o.imp.corrupt_ppm = 50000;
	o.imp.delay_ns = 1000000;
	o.imp.jitter_ns = 5000000;
	assert_int_equal(ns_test_pair_init(&p, &o), 0);
	struct ns_stack *A = p.a.stk, *B = p.b.stk;
	int rx = udp_sock(B, NS_AF_INET), tx = udp_sock(A, NS_AF_INET);
	bind4(B, rx, "0.0.0.0", 9009, 0);
	/* resolve ARP first (it may need retries over a lossy link) */
	enum { N = 300 };
	int seen[N] = { 0 };
	int got = 0;
	for (int i = 0; i < N; i++) {
		char msg[64];
		int n = snprintf(msg, sizeof(msg), "datagram %04d ", i);
		memset(msg + n, 'a' + i % 26, sizeof(msg) - (size_t)n);
		assert_int_equal(sendto4(A, tx, "198.18.0.2", 9009, msg, sizeof(msg)), (ssize_t)sizeof(msg));
		ns_test_pump(&p, NULL, NULL, 2 * NS_NSEC_PER_MSEC);
	}
	ns_test_pump(&p, NULL, NULL, SEC);
	char b[128];
	ssize_t r;
	while ((r = ns_recv(B, rx, b, sizeof(b), 0)) >= 0) {
		/* whatever arrives is intact: corruption is caught by checksums */
		assert_int_equal(r, 64);
		int i = atoi(b + 9);
		assert_true(i >= 0 && i < N);
		char exp[64];
		int n = snprintf(exp, sizeof(exp), "datagram %04d ", i);
		memset(exp + n, 'a' + i % 26, sizeof(exp) - (size_t)n);
		assert_memory_equal(b, exp, 64);
		seen[i]++;
		got++;
	}
	int distinct = 0;
	for (int i = 0; i < N; i++)
		distinct += seen[i] > 0;
	struct ns_impair_stats st;
	ns_link_impair_stats(p.a.link, &st);
	assert_true(st.dropped > 0 && st.corrupted > 0);
	assert_true(distinct > N / 2 && distinct < N);
	assert_true(got >= distinct);
	/* the corrupted frames were dropped and counted somewhere on B */
	static const char *drop_stats[] = { "UdpInCsumErrors", "UdpInErrors", "UdpNoPorts",
		"IpInHdrErrors", "IpExtInCsumErrors", "IpInAddrErrors", "IpInUnknownProtos",
		"IpInDiscards", "EthInBadFrames", "EthInOtherHost", "EthInUnknownProto",
		"ArpInErrors", "IpReasmFails" };
	uint64_t drops = 0;
	for (size_t k = 0; k < NS_ARRAY_SIZE(drop_stats); k++)
		drops += stat(B, drop_stats[k]);
	assert_true(drops > 0);
	ns_close(A, tx);
	ns_close(B, rx);
	ns_test_pump(&p, NULL, NULL, SEC / 10);
	pair_fini(&p);
}

/* ---- threaded mode: real threads, real clock --------------------------------------------- */

struct tstack {
	struct ns_stack *stk;
	struct ns_link *ch;
};

static void tstack_init(struct tstack *t, const uint8_t mac[6], const char *ip)
{
	assert_int_equal(ns_stack_create(NULL, &t->stk), 0);
	t->ch = ns_link_channel_new(mac, 1500, 4096);
	assert_non_null(t->ch);
	int nic = ns_nic_add(t->stk, t->ch, "ch0");
	assert_true(nic > 0);
	struct ns_addr a;
	int plen;
	assert_int_equal(ns_addr_parse(ip, &a, &plen), 0);
	assert_int_equal(ns_nic_addr_add(t->stk, nic, &a, plen), 0);
}

struct flood {
	struct ns_stack *stk;
	int fd, n, got, last;
	int64_t per_sender[4];
};

static void *flood_send(void *p)
{
	struct flood *f = p;
	int fd = ns_socket(f->stk, NS_AF_INET, NS_SOCK_DGRAM, 0);
	struct sockaddr_in to = sockt_sin("198.18.0.2", 9100);
	char msg[200];
	memset(msg, 's', sizeof(msg));
	for (int i = 0; i < f->n; i++)
		if (ns_sendto(f->stk, fd, msg, sizeof(msg), 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)sizeof(msg))
			break;
	ns_close(f->stk, fd);
	return NULL;
}

static void *flood_recv(void *p)
{
	struct flood *f = p;
	char b[512];
	for (;;) {
		ssize_t r = ns_recv(f->stk, f->fd, b, sizeof(b), 0);
		if (r < 0) {
			__atomic_store_n(&f->last, (int)r, __ATOMIC_RELAXED);
			if (r != -NS_EAGAIN)
				return NULL;
			continue;
		}
		__atomic_fetch_add(&f->got, 1, __ATOMIC_RELAXED);
	}
}

static void test_threaded_blocking(void **state)
{
	(void)state;
	struct tstack a, b;
	const uint8_t ma[6] = { 2, 0, 0, 0, 0, 0xa }, mb[6] = { 2, 0, 0, 0, 0, 0xb };
	tstack_init(&a, ma, "198.18.0.1/24");
	tstack_init(&b, mb, "198.18.0.2/24");
	ns_link_channel_pair(a.ch, b.ch);
	assert_int_equal(ns_stack_start(a.stk), 0);
	assert_int_equal(ns_stack_start(b.stk), 0);
	int rx = ns_socket(b.stk, NS_AF_INET, NS_SOCK_DGRAM, 0);
	bind4(b.stk, rx, "0.0.0.0", 9100, 0);
	struct { int64_t s, u; } tv = { 0, 200000 };
	assert_int_equal(ns_setsockopt(b.stk, rx, NS_SOL_SOCKET, NS_SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setint(b.stk, rx, NS_SOL_SOCKET, NS_SO_RCVBUF, 1 << 20), 0);
	/* resolve ARP first: packets queued behind a resolution are bounded */
	int probe = ns_socket(a.stk, NS_AF_INET, NS_SOCK_DGRAM, 0);
	char pb[8];
	assert_int_equal(sendto4(a.stk, probe, "198.18.0.2", 9100, "arp", 3), 3);
	assert_int_equal(ns_recv(b.stk, rx, pb, sizeof(pb), 0), 3);
	ns_close(a.stk, probe);
	struct flood f = { .stk = a.stk, .n = 300 };
	struct flood r = { .stk = b.stk, .fd = rx };
	pthread_t snd[4], rcv[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&rcv[i], NULL, flood_recv, &r);
	for (int i = 0; i < 4; i++)
		pthread_create(&snd[i], NULL, flood_send, &f);
	for (int i = 0; i < 4; i++)
		pthread_join(snd[i], NULL);
	/* wait (bounded) until the traffic has drained */
	for (int i = 0; i < 1000; i++) {
		struct timespec d = { 0, 10 * 1000 * 1000 };
		nanosleep(&d, NULL);
		if (__atomic_load_n(&r.got, __ATOMIC_RELAXED) + (int)stat(b.stk, "UdpRcvbufErrors") >= 4 * 300)
			break;
	}
	/* the readers are blocked (timing out and retrying): close wakes them */
	assert_int_equal(ns_close(b.stk, rx), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(rcv[i], NULL);
	assert_int_equal(r.last, -NS_EBADF);
	int got = r.got;
	/* every datagram is either received or counted as dropped */
	assert_int_equal((uint64_t)got + stat(b.stk, "UdpRcvbufErrors") + stat(b.stk, "LinkRxDrops") +
			 stat(a.stk, "LinkTxDrops") + stat(a.stk, "ArpQueueDrops"), 4 * 300);
	assert_true(got > 0);
	assert_true((uint64_t)got <= stat(b.stk, "UdpInDatagrams"));
	fprintf(stderr, "threaded: %d of %d datagrams received, %llu rcvbuf drops\n", got, 4 * 300,
		(unsigned long long)stat(b.stk, "UdpRcvbufErrors"));
	ns_stack_destroy(a.stk);
	ns_stack_destroy(b.stk);
}

/* ---- RCU: binding churn while datagrams arrive from other threads ----------------------- */

struct churn {
	struct sockt *t;
	int iters;
	unsigned seed;
	int received;
	int *stop;
	int *injected;                  /* shared: datagrams injected so far */
};

static void *churn_inject(void *p)
{
	struct churn *c = p;
	for (int i = 0; i < c->iters || !__atomic_load_n(c->stop, __ATOMIC_RELAXED); i++) {
		c->received = i + 1;            /* here: how many were injected */
		__atomic_fetch_add(c->injected, 1, __ATOMIC_RELAXED);
		uint16_t port = (uint16_t)(7300 + (rand_r(&c->seed) % 8));
		sockt_inject(c->t, "198.18.0.9", (uint16_t)(1000 + i % 500), "198.18.0.1", port, "churn", 5,
			     false);
	}
	return NULL;
}

static void *churn_bind(void *p)
{
	struct churn *c = p;
	struct ns_stack *s = c->t->stk;
	char b[16];
	/* run until the injectors are well under way, so the two overlap */
	for (int i = 0; i < c->iters || __atomic_load_n(c->injected, __ATOMIC_RELAXED) < 3000; i++) {
		int fd = ns_socket(s, i % 3 ? NS_AF_INET : NS_AF_INET6, NS_SOCK_DGRAM | NS_SOCK_NONBLOCK, 0);
		setint(s, fd, NS_SOL_SOCKET, NS_SO_REUSEPORT, 1);
		uint16_t port = (uint16_t)(7300 + (rand_r(&c->seed) % 8));
		if (i % 3) {
			struct sockaddr_in a = sockt_sin(i % 2 ? "0.0.0.0" : "198.18.0.1", port);
			ns_bind(s, fd, (struct sockaddr *)&a, sizeof(a));
		} else {
			struct sockaddr_in6 a = sockt_sin6("::", port);
			ns_bind(s, fd, (struct sockaddr *)&a, sizeof(a));
		}
		if (i % 5 == 0) {
			struct sockaddr_in peer = sockt_sin("198.18.0.9", (uint16_t)(1000 + i % 500));
			ns_connect(s, fd, (struct sockaddr *)&peer, sizeof(peer));
		}
		for (int k = 0; k < 20; k++)
			if (ns_recv(s, fd, b, sizeof(b), 0) == 5)
				c->received++;
		ns_close(s, fd);
	}
	return NULL;
}

static void test_rcu_churn(void **state)
{
	(void)state;
	struct sockt t;
	sockt_init(&t);
	/* port 7300 always has a socket, so deliveries certainly happen */
	int keep = ns_socket(t.stk, NS_AF_INET, NS_SOCK_DGRAM | NS_SOCK_NONBLOCK, 0);
	setint(t.stk, keep, NS_SOL_SOCKET, NS_SO_REUSEPORT, 1);
	bind4(t.stk, keep, "0.0.0.0", 7300, 0);
	int stop = 0, injected = 0;
	struct churn in[2] = { { &t, 2000, 1, 0, &stop, &injected }, { &t, 2000, 2, 0, &stop, &injected } };
	struct churn bd[2] = { { &t, 3000, 3, 0, &stop, &injected }, { &t, 3000, 4, 0, &stop, &injected } };
	pthread_t th[4];
	for (int i = 0; i < 2; i++) {
		pthread_create(&th[i], NULL, churn_inject, &in[i]);
		pthread_create(&th[2 + i], NULL, churn_bind, &bd[i]);
	}
	pthread_join(th[2], NULL);
	pthread_join(th[3], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	uint64_t noports = stat(t.stk, "UdpNoPorts");
	assert_true(noports > 0);
	/* some were delivered (queued, read or purged at close), some found no port */
	assert_true(noports + stat(t.stk, "UdpInErrors") < (uint64_t)injected);
	ns_close(t.stk, keep);
	assert_int_equal(ns_stack_live_pkts(t.stk), 0);
	assert_true((uint64_t)(bd[0].received + bd[1].received) == stat(t.stk, "UdpInDatagrams"));
	sockt_fini(&t);
}

/* ---- without a wire (helpers/sockt) -------------------------------------------------------- */

static void test_bind_rules(void **state)
{
	(void)state;
	struct sockt t;
	sockt_init(&t);
	struct ns_stack *s = t.stk;
	int a = udp_sock(s, NS_AF_INET), b = udp_sock(s, NS_AF_INET);
	bind4(s, a, "198.18.0.1", 7000, 0);
	bind4(s, a, "198.18.0.1", 7001, -NS_EINVAL);            /* already bound */
	bind4(s, b, "198.18.0.1", 7000, -NS_EADDRINUSE);
	bind4(s, b, "0.0.0.0", 7000, -NS_EADDRINUSE);           /* wildcard overlaps */
	bind4(s, b, "198.18.0.99", 7000, -NS_EADDRNOTAVAIL);    /* not local */
	bind4(s, b, "198.18.0.255", 7000, 0);                   /* broadcast address: allowed, distinct */
	ns_close(s, b);
	/* SO_REUSEADDR on both: shared */
	int c = udp_sock(s, NS_AF_INET), d = udp_sock(s, NS_AF_INET);
	assert_int_equal(setint(s, c, NS_SOL_SOCKET, NS_SO_REUSEADDR, 1), 0);
	bind4(s, c, "0.0.0.0", 7002, 0);
	bind4(s, d, "0.0.0.0", 7002, -NS_EADDRINUSE);
	assert_int_equal(setint(s, d, NS_SOL_SOCKET, NS_SO_REUSEADDR, 1), 0);
	bind4(s, d, "0.0.0.0", 7002, 0);
	/* dual stack: [::]:p conflicts with 0.0.0.0:p unless v6only */
	int e = udp_sock(s, NS_AF_INET6), f = udp_sock(s, NS_AF_INET6), g = udp_sock(s, NS_AF_INET);
	bind6(s, e, "::", 7003, 0);
	bind4(s, g, "0.0.0.0", 7003, -NS_EADDRINUSE);
	bind4(s, g, "198.18.0.1", 7003, -NS_EADDRINUSE);
	assert_int_equal(setint(s, f, NS_IPPROTO_IPV6, NS_IPV6_V6ONLY, 1), 0);
	bind6(s, f, "::", 7004, 0);
	bind4(s, g, "0.0.0.0", 7004, 0);
	assert_int_equal(setint(s, f, NS_IPPROTO_IPV6, NS_IPV6_V6ONLY, 0), -NS_EINVAL);  /* bound */
	/* v4-mapped binds on v6 sockets follow the v4 rules */
	int h = udp_sock(s, NS_AF_INET6), i = udp_sock(s, NS_AF_INET6);
	bind6(s, h, "::ffff:198.18.0.1", 7004, -NS_EADDRINUSE);
	bind6(s, h, "::ffff:198.18.0.77", 7005, -NS_EADDRNOTAVAIL);
	bind6(s, h, "fd00:5eed::99", 7005, -NS_EADDRNOTAVAIL);
	bind6(s, h, "fd00:5eed::1", 7005, 0);
	assert_int_equal(setint(s, i, NS_IPPROTO_IPV6, NS_IPV6_V6ONLY, 1), 0);
	bind6(s, i, "::ffff:198.18.0.1", 7006, -NS_EINVAL);    /* v4-mapped on a v6-only socket */
	/* a specific v6 address makes the socket v6-only: no v4 conflict */
	int j = udp_sock(s, NS_AF_INET);
	bind4(s, j, "0.0.0.0", 7005, 0);
	int v = -1;
	socklen_t l = sizeof(v);
	assert_int_equal(ns_getsockopt(s, h, NS_IPPROTO_IPV6, NS_IPV6_V6ONLY, &v, &l), 0);
	assert_int_equal(v, 1);
	/* bad lengths and families */
	struct sockaddr_in sin = sockt_sin("198.18.0.1", 7010);
	int k = udp_sock(s, NS_AF_INET);
	assert_int_equal(ns_bind(s, k, (struct sockaddr *)&sin, sizeof(sin) - 1), -NS_EINVAL);
	sin.sin_family = AF_INET6;
	assert_int_equal(ns_bind(s, k, (struct sockaddr *)&sin, sizeof(sin)), -NS_EAFNOSUPPORT);
	struct sockaddr_in6 s6 = sockt_sin6("::", 7010);
	assert_int_equal(ns_bind(s, h, (struct sockaddr *)&s6, 23), -NS_EINVAL);
	/* ephemeral ports are spread over 32768-60999 */
	int lo = 65535, hi = 0;
	for (int n = 0; n < 50; n++) {
		int x = udp_sock(s, NS_AF_INET);
		bind4(s, x, "0.0.0.0", 0, 0);
		struct sockaddr_in me;
		l = sizeof(me);
		assert_int_equal(ns_getsockname(s, x, (struct sockaddr *)&me, &l), 0);
		int port = ntohs(me.sin_port);
		assert_true(port >= 32768 && port <= 60999);
		lo = port < lo ? port : lo;
		hi = port > hi ? port : hi;
		ns_close(s, x);
	}
	assert_true(hi - lo > 5000);
	sockt_fini(&t);
}

static void test_checksums_and_bad_headers(void **state)
{
	(void)state;
	struct sockt t;
	sockt_init(&t);
	struct ns_stack *s = t.stk;
	int fd = udp_sock(s, NS_AF_INET6);
	bind6(s, fd, "::", 7100, 0);
	sockt_inject(&t, "198.18.0.5", 1, "198.18.0.1", 7100, "good", 4, false);
	sockt_inject(&t, "198.18.0.5", 1, "198.18.0.1", 7100, "bad!", 4, true);
	sockt_inject(&t, "fd00:5eed::5", 1, "fd00:5eed::1", 7100, "six", 3, false);
	sockt_inject(&t, "fd00:5eed::5", 1, "fd00:5eed::1", 7100, "six!", 4, true);
	assert_int_equal(stat(s, "UdpInCsumErrors"), 1);
	assert_int_equal(stat(s, "UdpInErrors"), 1);
	assert_int_equal(stat(s, "Udp6InCsumErrors"), 1);
	char b[8];
	assert_int_equal(ns_recv(s, fd, b, sizeof(b), 0), 4);
	assert_int_equal(ns_recv(s, fd, b, sizeof(b), 0), 3);
	assert_int_equal(ns_recv(s, fd, b, sizeof(b), 0), -NS_EAGAIN);
	/* hand-made headers: zero checksum (v4 ok, v6 rejected), bad lengths */
	struct { const char *src, *dst; uint16_t len; bool zero; const char *stat; } cases[] = {
		{ "198.18.0.5", "198.18.0.1", 12, true, NULL },
		{ "fd00:5eed::5", "fd00:5eed::1", 12, true, "Udp6InCsumErrors" },
		{ "198.18.0.5", "198.18.0.1", 7, true, "UdpInErrors" },
		{ "198.18.0.5", "198.18.0.1", 40, true, "UdpInErrors" },
	};
	for (size_t i = 0; i < NS_ARRAY_SIZE(cases); i++) {
		uint64_t before = cases[i].stat ? stat(s, cases[i].stat) : 0;
		struct ns_ip_meta m;
		memset(&m, 0, sizeof(m));
		m.src = ns_test_addr(cases[i].src);
		m.dst = ns_test_addr(cases[i].dst);
		m.nic = ns__nic_get(s, t.nic);
		struct ns_pkt *pk = ns_pkt_alloc(ns_stack_pool(s), 64, 12);
		uint8_t *u = ns_pkt_data(pk);
		ns_store_be16(u, 1);
		ns_store_be16(u + 2, 7100);
		ns_store_be16(u + 4, cases[i].len);
		ns_store_be16(u + 6, 0);
		memcpy(u + 8, "zero", 4);
		m.l3_off = pk->data;
		ns__udp_rcv(s, pk, &m);
		if (cases[i].stat)
			assert_int_equal(stat(s, cases[i].stat), before + 1);
		else
			assert_int_equal(ns_recv(s, fd, b, sizeof(b), 0), 4);
	}
	assert_int_equal(ns_recv(s, fd, b, sizeof(b), 0), -NS_EAGAIN);
	/* a closed port: UdpNoPorts */
	sockt_inject(&t, "198.18.0.5", 1, "198.18.0.1", 7199, "x", 1, false);
	assert_int_equal(stat(s, "UdpNoPorts"), 1);
	ns_close(s, fd);
	assert_int_equal(ns_stack_live_pkts(s), 0);
	sockt_fini(&t);
}

static void test_ip_options(void **state)
{
	(void)state;
	struct sockt t;
	sockt_init(&t);
	struct ns_stack *s = t.stk;
	int fd = udp_sock(s, NS_AF_INET), f6 = udp_sock(s, NS_AF_INET6);
	int v;
	socklen_t l = sizeof(v);
	assert_int_equal(ns_getsockopt(s, fd, NS_IPPROTO_IP, NS_IP_TTL, &v, &l), 0);
	assert_int_equal(v, 64);
	assert_int_equal(setint(s, fd, NS_IPPROTO_IP, NS_IP_TTL, 0), -NS_EINVAL);
	assert_int_equal(setint(s, fd, NS_IPPROTO_IP, NS_IP_TTL, 256), -NS_EINVAL);
	assert_int_equal(setint(s, fd, NS_IPPROTO_IP, NS_IP_TTL, 200), 0);
	unsigned char uc = 0;
	l = 1;
	assert_int_equal(ns_getsockopt(s, fd, NS_IPPROTO_IP, NS_IP_TTL, &uc, &l), 0);
	assert_int_equal(l, 1);
	assert_int_equal(uc, 200);
	assert_int_equal(setint(s, fd, NS_IPPROTO_IP, NS_IP_TTL, -1), 0);
	uc = 17;
	assert_int_equal(ns_setsockopt(s, fd, NS_IPPROTO_IP, NS_IP_TOS, &uc, 1), 0);
	l = sizeof(v);
	assert_int_equal(ns_getsockopt(s, fd, NS_IPPROTO_IP, NS_IP_TOS, &v, &l), 0);
	assert_int_equal(v, 17);
	assert_int_equal(setint(s, fd, NS_IPPROTO_IPV6, NS_IPV6_V6ONLY, 1), -NS_ENOPROTOOPT);
	assert_int_equal(setint(s, fd, NS_IPPROTO_IP, 200, 1), -NS_ENOPROTOOPT);
	l = sizeof(v);
	assert_int_equal(ns_getsockopt(s, fd, NS_IPPROTO_IP, NS_IP_MTU, &v, &l), -NS_ENOTCONN);
	/* IPv6 level */
	l = sizeof(v);
	assert_int_equal(ns_getsockopt(s, f6, NS_IPPROTO_IPV6, NS_IPV6_UNICAST_HOPS, &v, &l), 0);
	assert_int_equal(v, 64);
	assert_int_equal(setint(s, f6, NS_IPPROTO_IPV6, NS_IPV6_UNICAST_HOPS, 256), -NS_EINVAL);
	assert_int_equal(setint(s, f6, NS_IPPROTO_IPV6, NS_IPV6_UNICAST_HOPS, 9), 0);
	l = sizeof(v);
	assert_int_equal(ns_getsockopt(s, f6, NS_IPPROTO_IPV6, NS_IPV6_UNICAST_HOPS, &v, &l), 0);
	assert_int_equal(v, 9);
	assert_int_equal(ns_setsockopt(s, f6, NS_IPPROTO_IPV6, NS_IPV6_V6ONLY, &uc, 1), -NS_EINVAL);
	assert_int_equal(setint(s, f6, NS_IPPROTO_IP, NS_IP_TTL, 5), 0);   /* SOL_IP on v6 works */
	v = 1;
	assert_int_equal(ns_setsockopt(s, f6, 17 /* SOL_UDP */, 1, &v, 2), -NS_EINVAL);
	ns_close(s, fd);
	ns_close(s, f6);
	sockt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_recv_basic),
		cmocka_unit_test(test_big_datagrams),
		cmocka_unit_test(test_port_unreachable_econnrefused),
		cmocka_unit_test(test_rcvbuf_overflow),
		cmocka_unit_test(test_broadcast),
		cmocka_unit_test(test_reuseport_distribution),
		cmocka_unit_test(test_multicast),
		cmocka_unit_test(test_multicast6_membership),
		cmocka_unit_test(test_multicast_loop),
		cmocka_unit_test(test_sndbuf_accounting),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_pktinfo_and_disconnect),
		cmocka_unit_test(test_ipv6_wire),
		cmocka_unit_test(test_ipv6_link_local),
		cmocka_unit_test(test_impaired_link),
		cmocka_unit_test(test_threaded_blocking),
		cmocka_unit_test(test_rcu_churn),
		cmocka_unit_test(test_bind_rules),
		cmocka_unit_test(test_checksums_and_bad_headers),
		cmocka_unit_test(test_ip_options),
	};
	return cmocka_run_group_tests_name("udp", tests, NULL, NULL);
}
