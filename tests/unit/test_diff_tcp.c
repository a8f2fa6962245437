/*
 * tests/unit/test_diff_tcp.c - differential test: the same TCP socket
 * scenarios against Linux kernel sockets (loopback) and netstack sockets
 * (two stacks over paired channels), comparing every return value, errno
 * and poll mask (tests/unit/helpers/diff.h).  Values that depend on the
 * path (MSS, buffer sizes that follow it) are not compared.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <netinet/tcp.h>
#include <cmocka.h>
#include "helpers/diff.h"
#include "netstack/ns_abi.h"

#define SEC 1000000000ull
#define MS 1000000ull
#define O (e->ops)

static int S(struct diff_env *e, int side)
{
	return diff_socket(e, side, e->family, SOCK_STREAM | SOCK_NONBLOCK, 0);
}

static int bind_kind(struct diff_env *e, int fd, int kind, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t l = diff_addr(e, kind, port, &ss);
	return O->bind(e, fd, (struct sockaddr *)&ss, l);
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
	return r < 0 ? r : (long long)v * 10 + l;
}



static int soerr(struct diff_env *e, int fd) { return (int)geti(e, fd, SOL_SOCKET, SO_ERROR); }

static ssize_t snd(struct diff_env *e, int fd, const char *s) { return O->sendto(e, fd, s, strlen(s), 0, NULL, 0); }

static ssize_t rcv(struct diff_env *e, int fd, size_t n, int flags)
{
	char buf[256];
	if (n > sizeof(buf))
		n = sizeof(buf);
	return O->recvfrom(e, fd, buf, n, flags, NULL, NULL);
}

/* A listener on B and an established connection A -> B; returns the accepted fd. */
static int pair_up(struct diff_env *e, int n, int *lfd, int *cfd)
{
	uint16_t p = diff_port(e, n);
	int l = S(e, DIFF_B);
	DIFF_RET(e, bind_kind(e, l, DIFF_PEER, p));
	DIFF_RET(e, O->listen(e, l, 8));
	int c = S(e, DIFF_A);
	DIFF_RET(e, connect_kind(e, c, DIFF_PEER, p));
	diff_sync(e, 50 * MS);
	int a = O->accept(e, l, NULL, NULL, SOCK_NONBLOCK);
	DIFF_VAL(e, "accept ok", a >= 0);
	*lfd = l;
	*cfd = c;
	return a;
}

/* ---- scenarios ------------------------------------------------------------------------ */

static void sc_connect_refused(struct diff_env *e)
{
	int c = S(e, DIFF_A);
	DIFF_RET(e, O->poll(e, c));
	DIFF_RET(e, connect_kind(e, c, DIFF_PEER, diff_port(e, 0)));
	diff_sync(e, 100 * MS);
	DIFF_RET(e, O->poll(e, c));
	DIFF_RET(e, soerr(e, c));
	DIFF_RET(e, soerr(e, c));
	DIFF_RET(e, O->poll(e, c));
	DIFF_RET(e, rcv(e, c, 10, 0));
	DIFF_RET(e, snd(e, c, "x"));
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	DIFF_RET(e, O->getpeername(e, c, (struct sockaddr *)&ss, &l));
	/* a second attempt after the failure is allowed */
	DIFF_RET(e, connect_kind(e, c, DIFF_PEER, diff_port(e, 0)));
	diff_sync(e, 100 * MS);
	DIFF_RET(e, soerr(e, c));
}

static void sc_connect_nonblocking(struct diff_env *e)
{
	uint16_t p = diff_port(e, 1);
	int l = S(e, DIFF_B);
	DIFF_RET(e, bind_kind(e, l, DIFF_PEER, p));
	DIFF_RET(e, O->poll(e, l));
	DIFF_RET(e, O->listen(e, l, 4));
	DIFF_RET(e, O->poll(e, l));
	DIFF_RET(e, geti(e, l, SOL_SOCKET, SO_ACCEPTCONN));
	DIFF_RET(e, O->accept(e, l, NULL, NULL, 0));
	int c = S(e, DIFF_A);
	DIFF_RET(e, connect_kind(e, c, DIFF_PEER, p));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, O->poll(e, c));
	DIFF_RET(e, soerr(e, c));
	DIFF_RET(e, connect_kind(e, c, DIFF_PEER, p));
	DIFF_RET(e, connect_kind(e, c, DIFF_PEER, p));
	DIFF_RET(e, O->poll(e, l));
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int a = O->accept(e, l, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK);
	DIFF_VAL(e, "accept ok", a >= 0);
	DIFF_VAL(e, "accept addrlen", sl);
	DIFF_RET(e, O->poll(e, l));
	DIFF_RET(e, O->poll(e, a));
	DIFF_RET(e, O->accept(e, l, NULL, NULL, 0));
	sl = sizeof(ss);
	DIFF_RET(e, O->getpeername(e, c, (struct sockaddr *)&ss, &sl));
	DIFF_VAL(e, "peer port", diff_sa_port(&ss) == p);
	/* listen on a connected socket, bind after connect */
	DIFF_RET(e, O->listen(e, c, 4));
	DIFF_RET(e, bind_kind(e, c, DIFF_LOCAL, 0));
	/* options after connect that do not depend on the path */
	DIFF_RET(e, geti(e, c, IPPROTO_TCP, TCP_NODELAY));
	DIFF_RET(e, geti(e, c, IPPROTO_TCP, TCP_CORK));
	DIFF_RET(e, geti(e, c, IPPROTO_TCP, TCP_KEEPIDLE));
	DIFF_RET(e, geti(e, c, IPPROTO_TCP, TCP_KEEPINTVL));
	DIFF_RET(e, geti(e, c, IPPROTO_TCP, TCP_KEEPCNT));
	DIFF_RET(e, geti(e, c, IPPROTO_TCP, TCP_SYNCNT));
	DIFF_RET(e, geti(e, c, IPPROTO_TCP, TCP_USER_TIMEOUT));
	DIFF_RET(e, geti(e, c, IPPROTO_TCP, TCP_LINGER2));
	DIFF_RET(e, geti(e, c, SOL_SOCKET, SO_KEEPALIVE));
	DIFF_RET(e, geti(e, c, SOL_SOCKET, SO_TYPE));
	DIFF_RET(e, geti(e, c, SOL_SOCKET, NS_SO_PROTOCOL));
	DIFF_RET(e, geti(e, c, SOL_SOCKET, SO_ACCEPTCONN));
	DIFF_RET(e, geti(e, c, SOL_SOCKET, SO_RCVBUF));
	DIFF_VAL(e, "maxseg > 0", geti(e, c, IPPROTO_TCP, TCP_MAXSEG) > 0);
	char cc[16] = { 0 };
	socklen_t cl = sizeof(cc);
	DIFF_RET(e, O->getsockopt(e, c, IPPROTO_TCP, TCP_CONGESTION, cc, &cl));
	/* the host's default may differ (net.ipv4.tcp_congestion_control): not compared */
	DIFF_VAL(e, "cc named", cc[0] != 0);
	DIFF_VAL(e, "cc len", cl);
	uint8_t ti[104];
	socklen_t tl = sizeof(ti);
	DIFF_RET(e, O->getsockopt(e, c, IPPROTO_TCP, TCP_INFO, ti, &tl));
	DIFF_VAL(e, "info len", tl);
	DIFF_VAL(e, "info state", ti[0]);
	DIFF_VAL(e, "info ca_state", ti[1]);
	DIFF_VAL(e, "info options", ti[5]);
	DIFF_VAL(e, "info wscale set", ti[6] != 0);   /* the scale follows the host's tcp_rmem */
	/* option validation */
	DIFF_RET(e, seti(e, c, IPPROTO_TCP, TCP_KEEPIDLE, 0));
	DIFF_RET(e, seti(e, c, IPPROTO_TCP, TCP_KEEPCNT, 200));
	DIFF_RET(e, seti(e, c, IPPROTO_TCP, TCP_USER_TIMEOUT, -1));
	DIFF_RET(e, seti(e, c, IPPROTO_TCP, TCP_MAXSEG, 10));
	DIFF_RET(e, seti(e, c, IPPROTO_TCP, TCP_NODELAY, 1));
	DIFF_RET(e, geti(e, c, IPPROTO_TCP, TCP_NODELAY));
	DIFF_RET(e, O->setsockopt(e, c, IPPROTO_TCP, TCP_CONGESTION, "nope", 4));
	DIFF_RET(e, O->setsockopt(e, c, IPPROTO_TCP, TCP_CONGESTION, "reno", 4));
	/* IP-level options on a stream socket (both families accept IPPROTO_IP) */
	DIFF_RET(e, geti(e, c, IPPROTO_IP, IP_TTL));
	DIFF_RET(e, seti(e, c, IPPROTO_IP, IP_TTL, 0));
	DIFF_RET(e, seti(e, c, IPPROTO_IP, IP_TTL, 256));
	DIFF_RET(e, seti(e, c, IPPROTO_IP, IP_TTL, 33));
	DIFF_RET(e, geti(e, c, IPPROTO_IP, IP_TTL));
	DIFF_RET(e, seti(e, c, IPPROTO_IP, IP_TTL, -1));
	DIFF_RET(e, geti(e, c, IPPROTO_IP, IP_TTL));
	DIFF_RET(e, seti(e, c, IPPROTO_IP, IP_TOS, 0x10 | 3));
	DIFF_RET(e, geti(e, c, IPPROTO_IP, IP_TOS));
	DIFF_RET(e, geti(e, c, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
	DIFF_RET(e, seti(e, c, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 300));
	DIFF_RET(e, seti(e, c, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 7));
	DIFF_RET(e, geti(e, c, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
	DIFF_RET(e, seti(e, c, IPPROTO_IPV6, IPV6_TCLASS, 0x20));
	DIFF_RET(e, geti(e, c, IPPROTO_IPV6, IPV6_TCLASS));
	DIFF_RET(e, seti(e, c, IPPROTO_IPV6, IPV6_TCLASS, 256));
	O->close(e, a);
}

static void sc_unconnected(struct diff_env *e)
{
	int c = S(e, DIFF_A);
	DIFF_RET(e, snd(e, c, "x"));
	DIFF_RET(e, rcv(e, c, 10, 0));
	DIFF_RET(e, O->shutdown(e, c, SHUT_WR));
	DIFF_RET(e, O->shutdown(e, c, 7));
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	DIFF_RET(e, O->getpeername(e, c, (struct sockaddr *)&ss, &l));
	l = sizeof(ss);
	DIFF_RET(e, O->getsockname(e, c, (struct sockaddr *)&ss, &l));
	DIFF_VAL(e, "unbound port", diff_sa_port(&ss));
	DIFF_RET(e, O->accept(e, c, NULL, NULL, 0));
	int n = -1;
	DIFF_RET(e, O->ioctl(e, c, FIONREAD, &n));
	DIFF_VAL(e, "inq", n);
	DIFF_RET(e, O->ioctl(e, c, TIOCOUTQ, &n));
	DIFF_VAL(e, "outq", n);
	DIFF_RET(e, geti(e, c, IPPROTO_TCP, TCP_MAXSEG));
	DIFF_RET(e, geti(e, c, SOL_SOCKET, SO_SNDBUF));
	DIFF_RET(e, geti(e, c, SOL_SOCKET, SO_RCVBUF));
	/* listen without bind picks a port */
	int d = S(e, DIFF_A);
	DIFF_RET(e, O->listen(e, d, 0));
	l = sizeof(ss);
	DIFF_RET(e, O->getsockname(e, d, (struct sockaddr *)&ss, &l));
	DIFF_VAL(e, "listen port ephemeral", diff_sa_port(&ss) >= 32768 && diff_sa_port(&ss) <= 60999);
	DIFF_RET(e, O->listen(e, d, -1));
	DIFF_RET(e, O->ioctl(e, d, FIONREAD, &n));
	DIFF_RET(e, connect_kind(e, d, DIFF_PEER, 1));
}

static void sc_data_and_shutdown(struct diff_env *e)
{
	int l, c;
	int a = pair_up(e, 2, &l, &c);
	DIFF_RET(e, snd(e, c, "hello world"));
	diff_sync(e, 50 * MS);
	int n = -1;
	DIFF_RET(e, O->ioctl(e, a, FIONREAD, &n));
	DIFF_VAL(e, "inq", n);
	DIFF_RET(e, O->ioctl(e, c, TIOCOUTQ, &n));
	DIFF_VAL(e, "outq", n);
	DIFF_RET(e, O->poll(e, a));
	DIFF_RET(e, rcv(e, a, 5, MSG_PEEK));
	DIFF_RET(e, rcv(e, a, 5, 0));
	DIFF_RET(e, rcv(e, a, 100, MSG_WAITALL | MSG_DONTWAIT));
	DIFF_RET(e, rcv(e, a, 100, 0));
	/* half-close: A shuts its sending side; B reads EOF, can still send */
	DIFF_RET(e, O->shutdown(e, c, SHUT_WR));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, O->poll(e, a));
	DIFF_RET(e, O->poll(e, c));
	DIFF_RET(e, rcv(e, a, 100, 0));
	DIFF_RET(e, snd(e, a, "reply"));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, rcv(e, c, 100, 0));
	DIFF_RET(e, snd(e, c, "more"));
	DIFF_RET(e, O->shutdown(e, c, SHUT_WR));
	/* shutdown read on B: reads return 0 */
	DIFF_RET(e, O->shutdown(e, a, SHUT_RD));
	DIFF_RET(e, rcv(e, a, 100, 0));
	DIFF_RET(e, O->poll(e, a));
	DIFF_RET(e, O->shutdown(e, a, SHUT_WR));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, O->poll(e, a));
	DIFF_RET(e, O->poll(e, c));
	DIFF_RET(e, rcv(e, c, 100, 0));
	DIFF_RET(e, snd(e, a, "x"));
	O->close(e, a);
}

static void sc_peer_reset(struct diff_env *e)
{
	int l, c;
	int a = pair_up(e, 3, &l, &c);
	/* SO_LINGER 0: abortive close sends RST */
	struct linger lg = { 1, 0 };
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	DIFF_RET(e, O->close(e, a));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, O->poll(e, c));
	DIFF_RET(e, soerr(e, c));
	DIFF_RET(e, O->poll(e, c));
	DIFF_RET(e, rcv(e, c, 10, 0));
	DIFF_RET(e, snd(e, c, "x"));
	DIFF_RET(e, snd(e, c, "x"));
	DIFF_RET(e, O->shutdown(e, c, SHUT_RDWR));
	DIFF_RET(e, connect_kind(e, c, DIFF_PEER, diff_port(e, 3)));
}

static void sc_send_after_reset(struct diff_env *e)
{
	int l, c;
	int a = pair_up(e, 4, &l, &c);
	/* data the peer never reads, then it closes: RST */
	DIFF_RET(e, snd(e, c, "unread data"));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, O->close(e, a));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, snd(e, c, "x"));
	DIFF_RET(e, snd(e, c, "x"));
	DIFF_RET(e, rcv(e, c, 10, 0));
	DIFF_RET(e, soerr(e, c));
	DIFF_RET(e, O->poll(e, c));
}

static void sc_recv_after_reset(struct diff_env *e)
{
	int l, c;
	int a = pair_up(e, 5, &l, &c);
	DIFF_RET(e, snd(e, a, "data"));
	diff_sync(e, 50 * MS);
	struct linger lg = { 1, 0 };
	DIFF_RET(e, O->setsockopt(e, a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	DIFF_RET(e, O->close(e, a));
	diff_sync(e, 50 * MS);
	/* Linux drops queued data on RST: ECONNRESET first, then EOF */
	DIFF_RET(e, rcv(e, c, 10, 0));
	DIFF_RET(e, rcv(e, c, 10, 0));
	DIFF_RET(e, O->poll(e, c));
}

static void sc_close_states(struct diff_env *e)
{
	int l, c;
	int a = pair_up(e, 6, &l, &c);
	DIFF_RET(e, O->close(e, c));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, O->poll(e, a));
	DIFF_RET(e, rcv(e, a, 10, 0));
	/* writing to a peer that closed: the first send succeeds, the RST kills the next */
	DIFF_RET(e, snd(e, a, "x"));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, snd(e, a, "x"));
	DIFF_RET(e, snd(e, a, "x"));
	DIFF_RET(e, O->poll(e, a));
	O->close(e, a);
}

static void sc_bind_rules(struct diff_env *e)
{
	uint16_t p = diff_port(e, 7);
	int a = S(e, DIFF_A), b = S(e, DIFF_A);
	DIFF_RET(e, bind_kind(e, a, DIFF_LOCAL, p));
	DIFF_RET(e, bind_kind(e, b, DIFF_LOCAL, p));
	DIFF_RET(e, bind_kind(e, b, DIFF_ANY, p));
	DIFF_RET(e, O->listen(e, a, 1));
	DIFF_RET(e, seti(e, b, SOL_SOCKET, SO_REUSEADDR, 1));
	DIFF_RET(e, bind_kind(e, b, DIFF_LOCAL, p));
	/* SO_REUSEADDR on both: bind works while neither listens */
	uint16_t q = diff_port(e, 8);
	int c = S(e, DIFF_A), d = S(e, DIFF_A);
	DIFF_RET(e, seti(e, c, SOL_SOCKET, SO_REUSEADDR, 1));
	DIFF_RET(e, seti(e, d, SOL_SOCKET, SO_REUSEADDR, 1));
	DIFF_RET(e, bind_kind(e, c, DIFF_LOCAL, q));
	DIFF_RET(e, bind_kind(e, d, DIFF_LOCAL, q));
	DIFF_RET(e, O->listen(e, c, 1));
	DIFF_RET(e, O->listen(e, d, 1));
	/* SO_REUSEPORT: both may listen */
	uint16_t r = diff_port(e, 9);
	int f = S(e, DIFF_A), g = S(e, DIFF_A);
	DIFF_RET(e, seti(e, f, SOL_SOCKET, NS_SO_REUSEPORT, 1));
	DIFF_RET(e, seti(e, g, SOL_SOCKET, NS_SO_REUSEPORT, 1));
	DIFF_RET(e, bind_kind(e, f, DIFF_ANY, r));
	DIFF_RET(e, bind_kind(e, g, DIFF_ANY, r));
	DIFF_RET(e, O->listen(e, f, 1));
	DIFF_RET(e, O->listen(e, g, 1));
	DIFF_RET(e, bind_kind(e, S(e, DIFF_A), DIFF_NONLOCAL, 0));
	DIFF_RET(e, bind_kind(e, a, DIFF_LOCAL, 0));
}

static void sc_time_wait_rebind(struct diff_env *e)
{
	int l, c;
	int a = pair_up(e, 10, &l, &c);
	/* the server closes first: its side of the connection sits in TIME_WAIT */
	DIFF_RET(e, O->close(e, a));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, rcv(e, c, 10, 0));
	DIFF_RET(e, O->close(e, c));
	DIFF_RET(e, O->close(e, l));
	diff_sync(e, 50 * MS);
	uint16_t p = diff_port(e, 10);
	int n = S(e, DIFF_B);
	DIFF_RET(e, bind_kind(e, n, DIFF_PEER, p));
	int m = S(e, DIFF_B);
	DIFF_RET(e, seti(e, m, SOL_SOCKET, SO_REUSEADDR, 1));
	DIFF_RET(e, bind_kind(e, m, DIFF_PEER, p));
	DIFF_RET(e, O->listen(e, m, 1));
}

static void sc_backlog(struct diff_env *e)
{
	uint16_t p = diff_port(e, 11);
	int l = S(e, DIFF_B);
	DIFF_RET(e, bind_kind(e, l, DIFF_PEER, p));
	DIFF_RET(e, O->listen(e, l, 1));
	int c[3];
	for (int i = 0; i < 3; i++) {
		c[i] = S(e, DIFF_A);
		DIFF_RET(e, connect_kind(e, c[i], DIFF_PEER, p));
		diff_sync(e, 50 * MS);
	}
	for (int i = 0; i < 3; i++)
		DIFF_VAL(e, "client writable", (O->poll(e, c[i]) & NS_POLLOUT) != 0);
	int got = 0, fd;
	while ((fd = O->accept(e, l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		got++;
		O->close(e, fd);
	}
	DIFF_VAL(e, "accepted", got);
	DIFF_VAL(e, "accept after", fd);
}

static void sc_linger_close_listen(struct diff_env *e)
{
	uint16_t p = diff_port(e, 12);
	int l = S(e, DIFF_B);
	DIFF_RET(e, bind_kind(e, l, DIFF_PEER, p));
	DIFF_RET(e, O->listen(e, l, 4));
	int c = S(e, DIFF_A);
	DIFF_RET(e, connect_kind(e, c, DIFF_PEER, p));
	diff_sync(e, 50 * MS);
	/* the listener closes with a connection not yet accepted: it is reset */
	DIFF_RET(e, O->close(e, l));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, snd(e, c, "x"));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, soerr(e, c));
	DIFF_RET(e, O->poll(e, c));
}

static void sc_urgent(struct diff_env *e)
{
	int l, c;
	int a = pair_up(e, 13, &l, &c);
	DIFF_RET(e, snd(e, c, "ab"));
	DIFF_RET(e, O->sendto(e, c, "c", 1, MSG_OOB, NULL, 0));
	DIFF_RET(e, snd(e, c, "de"));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, O->poll(e, a));
	int n = -1;
	DIFF_RET(e, O->ioctl(e, a, FIONREAD, &n));
	DIFF_VAL(e, "inq with urgent", n);
	n = -1;
	DIFF_RET(e, O->ioctl(e, a, NS_SIOCATMARK, &n));
	DIFF_VAL(e, "at mark before reading", n);
	char b[16] = { 0 };
	DIFF_RET(e, O->recvfrom(e, a, b, sizeof(b), MSG_OOB | MSG_PEEK, NULL, NULL));
	DIFF_RET(e, O->recvfrom(e, a, b, sizeof(b), MSG_OOB, NULL, NULL));
	DIFF_VAL(e, "oob byte", b[0]);
	DIFF_RET(e, O->recvfrom(e, a, b, sizeof(b), MSG_OOB, NULL, NULL));
	DIFF_RET(e, O->poll(e, a));
	memset(b, 0, sizeof(b));
	DIFF_RET(e, O->recvfrom(e, a, b, sizeof(b), 0, NULL, NULL));
	DIFF_VAL(e, "first", b[0] * 256 + b[1]);
	n = -1;
	DIFF_RET(e, O->ioctl(e, a, NS_SIOCATMARK, &n));
	DIFF_VAL(e, "at mark after the bytes before it", n);
	memset(b, 0, sizeof(b));
	DIFF_RET(e, O->recvfrom(e, a, b, sizeof(b), 0, NULL, NULL));
	DIFF_VAL(e, "second", b[0] * 256 + b[1]);
	n = -1;
	DIFF_RET(e, O->ioctl(e, a, NS_SIOCATMARK, &n));
	DIFF_VAL(e, "at mark after it", n);
	DIFF_RET(e, O->recvfrom(e, a, b, sizeof(b), 0, NULL, NULL));
	O->close(e, a);
}

static void sc_dual_stack(struct diff_env *e)
{
	/* an AF_INET6 listener on :: takes IPv4 connections (v4-mapped names) */
	uint16_t p = diff_port(e, 14);
	int l = diff_socket(e, DIFF_B, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_storage ss;
	socklen_t sl = diff_addr_fam(e, AF_INET6, DIFF_ANY, p, &ss);
	DIFF_RET(e, O->bind(e, l, (struct sockaddr *)&ss, sl));
	DIFF_RET(e, O->listen(e, l, 4));
	int c = diff_socket(e, DIFF_A, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sl = diff_addr_fam(e, AF_INET, DIFF_PEER, p, &ss);
	DIFF_RET(e, O->connect(e, c, (struct sockaddr *)&ss, sl));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, soerr(e, c));
	sl = sizeof(ss);
	int a = O->accept(e, l, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK);
	DIFF_VAL(e, "accepted", a >= 0);
	DIFF_VAL(e, "peer family", ss.ss_family);
	DIFF_VAL(e, "peer len", sl);
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
	DIFF_VAL(e, "v4 mapped", s6->sin6_addr.s6_addr[10] == 0xff && s6->sin6_addr.s6_addr[11] == 0xff);
	DIFF_RET(e, snd(e, c, "hi"));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, rcv(e, a, 10, 0));
	/* IPV6_V6ONLY listener: IPv4 is refused */
	uint16_t q = diff_port(e, 15);
	int m = diff_socket(e, DIFF_B, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	DIFF_RET(e, seti(e, m, IPPROTO_IPV6, IPV6_V6ONLY, 1));
	sl = diff_addr_fam(e, AF_INET6, DIFF_ANY, q, &ss);
	DIFF_RET(e, O->bind(e, m, (struct sockaddr *)&ss, sl));
	DIFF_RET(e, O->listen(e, m, 4));
	int d = diff_socket(e, DIFF_A, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sl = diff_addr_fam(e, AF_INET, DIFF_PEER, q, &ss);
	DIFF_RET(e, O->connect(e, d, (struct sockaddr *)&ss, sl));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, soerr(e, d));
	if (a >= 0)
		O->close(e, a);
}

/* TCP_NOTSENT_LOWAT, TCP_INQ and TCP_DEFER_ACCEPT values: validation and the
 * seconds <-> SYN-ACK retransmissions round trip of TCP_DEFER_ACCEPT. */
static void sc_conform_opts(struct diff_env *e)
{
	int l, c;
	int a = pair_up(e, 20, &l, &c);
	static const int lowat[] = { 0, 1, 4000, -1, 0 };
	for (size_t i = 0; i < sizeof(lowat) / sizeof(lowat[0]); i++) {
		DIFF_RET(e, seti(e, a, IPPROTO_TCP, TCP_NOTSENT_LOWAT, lowat[i]));
		DIFF_RET(e, geti(e, a, IPPROTO_TCP, TCP_NOTSENT_LOWAT));
	}
	DIFF_RET(e, geti(e, a, IPPROTO_TCP, TCP_INQ));
	static const int inq[] = { 1, 2, -1, 0 };
	for (size_t i = 0; i < sizeof(inq) / sizeof(inq[0]); i++) {
		DIFF_RET(e, seti(e, a, IPPROTO_TCP, TCP_INQ, inq[i]));
		DIFF_RET(e, geti(e, a, IPPROTO_TCP, TCP_INQ));
	}
	DIFF_RET(e, geti(e, l, IPPROTO_TCP, TCP_DEFER_ACCEPT));
	static const int defer[] = { 1, 2, 3, 4, 5, 7, 8, 30, 100, 500, 100000, -5, 0 };
	for (size_t i = 0; i < sizeof(defer) / sizeof(defer[0]); i++) {
		DIFF_RET(e, seti(e, l, IPPROTO_TCP, TCP_DEFER_ACCEPT, defer[i]));
		DIFF_RET(e, geti(e, l, IPPROTO_TCP, TCP_DEFER_ACCEPT));
	}
	/* a small lowat: writable while nothing is unsent */
	DIFF_RET(e, seti(e, a, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 100));
	DIFF_RET(e, O->poll(e, a));
	O->close(e, a);
}

static const struct diff_case cases[] = {
	{ "conform_opts", sc_conform_opts, DIFF_V4 | DIFF_V6 },
	{ "urgent", sc_urgent, DIFF_V4 | DIFF_V6 },
	{ "dual_stack", sc_dual_stack, DIFF_V6 },
	{ "connect_refused", sc_connect_refused, DIFF_V4 | DIFF_V6 },
	{ "connect_nonblocking", sc_connect_nonblocking, DIFF_V4 | DIFF_V6 },
	{ "unconnected", sc_unconnected, DIFF_V4 | DIFF_V6 },
	{ "data_and_shutdown", sc_data_and_shutdown, DIFF_V4 | DIFF_V6 },
	{ "peer_reset", sc_peer_reset, DIFF_V4 | DIFF_V6 },
	{ "send_after_reset", sc_send_after_reset, DIFF_V4 | DIFF_V6 },
	{ "recv_after_reset", sc_recv_after_reset, DIFF_V4 | DIFF_V6 },
	{ "close_states", sc_close_states, DIFF_V4 | DIFF_V6 },
	{ "bind_rules", sc_bind_rules, DIFF_V4 | DIFF_V6 },
	{ "time_wait_rebind", sc_time_wait_rebind, DIFF_V4 | DIFF_V6 },
	{ "backlog", sc_backlog, DIFF_V4 | DIFF_V6 },
	{ "close_listener", sc_linger_close_listen, DIFF_V4 | DIFF_V6 },
};

static void test_diff_tcp(void **state)
{
	(void)state;
	assert_int_equal(diff_run_table(cases, sizeof(cases) / sizeof(cases[0])), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_tcp),
	};
	return cmocka_run_group_tests_name("diff_tcp", tests, NULL, NULL);
}
