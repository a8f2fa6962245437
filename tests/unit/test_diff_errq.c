/*
 * tests/unit/test_diff_errq.c - differential test of the socket error queue
 * features against Linux kernel sockets (loopback; helpers/diff.h):
 * SO_ZEROCOPY / MSG_ZEROCOPY completions on TCP (the kernel copies over
 * loopback, so it reports SO_EE_CODE_ZEROCOPY_COPIED like netstack always
 * does), SO_TIMESTAMPING validation and TCP transmit timestamps
 * (SCHED/SND/ACK with OPT_ID and OPT_TSONLY), receive timestamps
 * (SO_TIMESTAMP, SO_TIMESTAMPNS, SCM_TIMESTAMPING) and the option values.
 * Timestamp values differ by nature (clocks); their presence is compared.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <netinet/tcp.h>
#include <cmocka.h>
#include "helpers/diff.h"
#include "netstack/ns_abi.h"

#define MS 1000000ull
#define O (e->ops)

static int S(struct diff_env *e, int side)
{
	return diff_socket(e, side, e->family, SOCK_STREAM | SOCK_NONBLOCK, 0);
}

static int seti(struct diff_env *e, int fd, int level, int name, int v)
{
	return O->setsockopt(e, fd, level, name, &v, sizeof(v));
}

static long long geti(struct diff_env *e, int fd, int level, int name)
{
	int v[2] = { -77, -77 };
	socklen_t l = sizeof(v);
	int r = O->getsockopt(e, fd, level, name, v, &l);
	return r < 0 ? r : (long long)v[0] * 10 + l;
}

/* A listener on B (opt set on it before the connection) and A -> B; returns the accepted fd. */
static int pair_up(struct diff_env *e, int n, int lopt, int *cfd)
{
	uint16_t p = diff_port(e, n);
	int l = S(e, DIFF_B);
	struct sockaddr_storage ss;
	socklen_t sl = diff_addr(e, DIFF_PEER, p, &ss);
	if (lopt)
		DIFF_RET(e, seti(e, l, SOL_SOCKET, lopt, 1));
	DIFF_RET(e, O->bind(e, l, (struct sockaddr *)&ss, sl));
	DIFF_RET(e, O->listen(e, l, 8));
	int c = S(e, DIFF_A);
	DIFF_RET(e, O->connect(e, c, (struct sockaddr *)&ss, sl));
	diff_sync(e, 50 * MS);
	int a = O->accept(e, l, NULL, NULL, SOCK_NONBLOCK);
	DIFF_VAL(e, "accept ok", a >= 0);
	*cfd = c;
	return a;
}

/* recvmsg(MSG_ERRQUEUE) with an empty buffer: records the result, flags, each
 * control message's level/type/length and the extended error's fields. */
static void read_errq(struct diff_env *e, int fd, const char *what)
{
	char buf[1];
	union { struct cmsghdr h; uint8_t raw[512]; } ctl;
	struct sockaddr_storage name;
	struct iovec iov = { buf, 0 };
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_name = &name;
	m.msg_namelen = sizeof(name);
	m.msg_control = &ctl;
	m.msg_controllen = sizeof(ctl);
	ssize_t r = O->recvmsg(e, fd, &m, MSG_ERRQUEUE);
	diff_record(e, r, "%s: recvmsg", what);
	if (r < 0)
		return;
	diff_record(e, m.msg_flags, "%s: msg_flags", what);
	diff_record(e, m.msg_namelen, "%s: msg_namelen", what);
	int i = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c), i++) {
		diff_record(e, c->cmsg_level, "%s: cmsg %d level", what, i);
		diff_record(e, c->cmsg_type, "%s: cmsg %d type", what, i);
		diff_record(e, (long long)c->cmsg_len, "%s: cmsg %d len", what, i);
		if (c->cmsg_type == 11 || c->cmsg_type == 25) {        /* IP_RECVERR / IPV6_RECVERR */
			struct ns_sock_extended_err ee;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			diff_record(e, ee.ee_errno, "%s: ee_errno", what);
			diff_record(e, ee.ee_origin, "%s: ee_origin", what);
			diff_record(e, ee.ee_code, "%s: ee_code", what);
			diff_record(e, ee.ee_info, "%s: ee_info", what);
			diff_record(e, ee.ee_data, "%s: ee_data", what);
		}
	}
	diff_record(e, i, "%s: cmsgs", what);
}

static ssize_t sendz(struct diff_env *e, int fd, size_t n, int flags)
{
	static char buf[4096];
	return O->sendto(e, fd, buf, n, flags, NULL, 0);
}

static void drain(struct diff_env *e, int fd)
{
	char buf[4096];
	while (O->recvfrom(e, fd, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL) > 0)
		;
}

/* ---- scenarios ------------------------------------------------------------------------ */

static void sc_zerocopy_opt(struct diff_env *e)
{
	int t = S(e, DIFF_A);
	DIFF_RET(e, geti(e, t, SOL_SOCKET, NS_SO_ZEROCOPY));
	DIFF_RET(e, seti(e, t, SOL_SOCKET, NS_SO_ZEROCOPY, 2));
	DIFF_RET(e, seti(e, t, SOL_SOCKET, NS_SO_ZEROCOPY, -1));
	DIFF_RET(e, seti(e, t, SOL_SOCKET, NS_SO_ZEROCOPY, 1));
	DIFF_RET(e, geti(e, t, SOL_SOCKET, NS_SO_ZEROCOPY));
	DIFF_RET(e, O->setsockopt(e, t, SOL_SOCKET, NS_SO_ZEROCOPY, "\1", 1));
	DIFF_RET(e, seti(e, t, SOL_SOCKET, NS_SO_ZEROCOPY, 0));
	DIFF_RET(e, geti(e, t, SOL_SOCKET, NS_SO_ZEROCOPY));
	int u = diff_socket(e, DIFF_A, e->family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	DIFF_RET(e, seti(e, u, SOL_SOCKET, NS_SO_ZEROCOPY, 1));
	DIFF_RET(e, geti(e, u, SOL_SOCKET, NS_SO_ZEROCOPY));
	read_errq(e, u, "udp empty");
	read_errq(e, t, "tcp empty");
}

static void sc_zerocopy(struct diff_env *e)
{
	int c;
	int a = pair_up(e, 1, NS_SO_ZEROCOPY, &c);
	DIFF_RET(e, geti(e, a, SOL_SOCKET, NS_SO_ZEROCOPY));    /* inherited */
	DIFF_RET(e, geti(e, c, SOL_SOCKET, NS_SO_ZEROCOPY));
	/* without SO_ZEROCOPY the flag is ignored */
	DIFF_RET(e, sendz(e, c, 1000, NS_MSG_ZEROCOPY));
	diff_sync(e, 50 * MS);
	read_errq(e, c, "no zc");
	DIFF_RET(e, seti(e, c, SOL_SOCKET, NS_SO_ZEROCOPY, 1));
	DIFF_RET(e, sendz(e, c, 1000, NS_MSG_ZEROCOPY));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, O->poll(e, c) & NS_POLLERR);
	read_errq(e, c, "first");
	DIFF_RET(e, O->poll(e, c) & NS_POLLERR);
	/* completions acknowledged one after the other merge into one range */
	for (int i = 0; i < 3; i++) {
		DIFF_RET(e, sendz(e, c, 2000, NS_MSG_ZEROCOPY));
		diff_sync(e, 50 * MS);
	}
	DIFF_RET(e, sendz(e, c, 0, NS_MSG_ZEROCOPY));
	DIFF_RET(e, sendz(e, c, 10, 0));
	diff_sync(e, 50 * MS);
	read_errq(e, c, "merged");
	read_errq(e, c, "empty");
	DIFF_RET(e, geti(e, c, SOL_SOCKET, SO_ERROR));
	/* the zerocopy socket as the receiver: data arrives normally */
	drain(e, a);
	DIFF_RET(e, sendz(e, a, 100, NS_MSG_ZEROCOPY));
	diff_sync(e, 50 * MS);
	read_errq(e, a, "accepted");
	O->close(e, a);
}

static void sc_udp_zerocopy(struct diff_env *e)
{
	int a = diff_socket(e, DIFF_A, e->family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int b = diff_socket(e, DIFF_B, e->family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_storage ss;
	socklen_t sl = diff_addr(e, DIFF_PEER, diff_port(e, 4), &ss);
	DIFF_RET(e, O->bind(e, b, (struct sockaddr *)&ss, sl));
	static char buf[200];
	DIFF_RET(e, O->sendto(e, a, buf, 100, NS_MSG_ZEROCOPY, (struct sockaddr *)&ss, sl));
	diff_sync(e, 20 * MS);
	read_errq(e, a, "udp no zc");
	DIFF_RET(e, seti(e, a, SOL_SOCKET, NS_SO_ZEROCOPY, 1));
	for (int i = 0; i < 3; i++)
		DIFF_RET(e, O->sendto(e, a, buf, 100, NS_MSG_ZEROCOPY, (struct sockaddr *)&ss, sl));
	DIFF_RET(e, O->sendto(e, a, buf, 0, NS_MSG_ZEROCOPY, (struct sockaddr *)&ss, sl));
	diff_sync(e, 20 * MS);
	DIFF_RET(e, O->poll(e, a) & NS_POLLERR);
	read_errq(e, a, "udp merged");
	read_errq(e, a, "udp empty");
	DIFF_RET(e, O->sendto(e, a, buf, 100, NS_MSG_ZEROCOPY, (struct sockaddr *)&ss, sl));
	diff_sync(e, 20 * MS);
	read_errq(e, a, "udp next");
}

static void sc_timestamping_opt(struct diff_env *e)
{
	int t = S(e, DIFF_A);
	DIFF_RET(e, geti(e, t, SOL_SOCKET, NS_SO_TIMESTAMPING));
	DIFF_RET(e, seti(e, t, SOL_SOCKET, NS_SO_TIMESTAMPING, NS_SOF_TIMESTAMPING_OPT_ID));
	DIFF_RET(e, seti(e, t, SOL_SOCKET, NS_SO_TIMESTAMPING, NS_SOF_TIMESTAMPING_OPT_STATS));
	DIFF_RET(e, seti(e, t, SOL_SOCKET, NS_SO_TIMESTAMPING, NS_SOF_TIMESTAMPING_OPT_ID_TCP));
	DIFF_RET(e, seti(e, t, SOL_SOCKET, NS_SO_TIMESTAMPING, 1 << 25));
	DIFF_RET(e, seti(e, t, SOL_SOCKET, NS_SO_TIMESTAMPING,
			 NS_SOF_TIMESTAMPING_OPT_STATS | NS_SOF_TIMESTAMPING_OPT_TSONLY | NS_SOF_TIMESTAMPING_SOFTWARE));
	DIFF_RET(e, geti(e, t, SOL_SOCKET, NS_SO_TIMESTAMPING));
	DIFF_RET(e, geti(e, t, SOL_SOCKET, NS_SO_TIMESTAMPING_NEW));
	DIFF_RET(e, seti(e, t, SOL_SOCKET, NS_SO_TIMESTAMPING_NEW, NS_SOF_TIMESTAMPING_SOFTWARE));
	DIFF_RET(e, geti(e, t, SOL_SOCKET, NS_SO_TIMESTAMPING_NEW));
	DIFF_RET(e, geti(e, t, SOL_SOCKET, NS_SO_TIMESTAMPING));
	/* SO_TIMESTAMP / SO_TIMESTAMPNS and their _NEW forms share the flags */
	static const int opts[] = { NS_SO_TIMESTAMP, NS_SO_TIMESTAMPNS, NS_SO_TIMESTAMP_NEW, NS_SO_TIMESTAMPNS_NEW };
	for (int i = 0; i < 4; i++) {
		DIFF_RET(e, seti(e, t, SOL_SOCKET, opts[i], 1));
		for (int j = 0; j < 4; j++)
			diff_record(e, geti(e, t, SOL_SOCKET, opts[j]), "after %d: get %d", opts[i], opts[j]);
	}
	DIFF_RET(e, seti(e, t, SOL_SOCKET, NS_SO_TIMESTAMPNS, 0));
	DIFF_RET(e, geti(e, t, SOL_SOCKET, NS_SO_TIMESTAMP_NEW));
	DIFF_RET(e, geti(e, t, SOL_SOCKET, NS_SO_TIMESTAMP));
}

static void sc_tx_timestamps(struct diff_env *e)
{
	int c;
	int a = pair_up(e, 2, 0, &c);
	int f = NS_SOF_TIMESTAMPING_TX_SCHED | NS_SOF_TIMESTAMPING_TX_SOFTWARE | NS_SOF_TIMESTAMPING_TX_ACK |
		NS_SOF_TIMESTAMPING_SOFTWARE | NS_SOF_TIMESTAMPING_OPT_ID | NS_SOF_TIMESTAMPING_OPT_TSONLY;
	DIFF_RET(e, sendz(e, c, 300, 0));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, seti(e, c, SOL_SOCKET, NS_SO_TIMESTAMPING, f));
	DIFF_RET(e, geti(e, c, SOL_SOCKET, NS_SO_TIMESTAMPING));
	DIFF_RET(e, sendz(e, c, 1000, 0));
	diff_sync(e, 50 * MS);
	DIFF_RET(e, O->poll(e, c) & NS_POLLERR);
	read_errq(e, c, "sched");
	read_errq(e, c, "snd");
	read_errq(e, c, "ack");
	read_errq(e, c, "empty");
	/* without OPT_TSONLY the entry has data: MSG_TRUNC into an empty buffer */
	DIFF_RET(e, seti(e, c, SOL_SOCKET, NS_SO_TIMESTAMPING, f & ~NS_SOF_TIMESTAMPING_OPT_TSONLY));
	DIFF_RET(e, sendz(e, c, 500, 0));
	diff_sync(e, 50 * MS);
	read_errq(e, c, "data sched");
	read_errq(e, c, "data snd");
	read_errq(e, c, "data ack");
	/* OPT_ID already on: the key base stays */
	DIFF_RET(e, seti(e, c, SOL_SOCKET, NS_SO_TIMESTAMPING, f));
	DIFF_RET(e, sendz(e, c, 1, 0));
	diff_sync(e, 50 * MS);
	read_errq(e, c, "again sched");
	read_errq(e, c, "again snd");
	read_errq(e, c, "again ack");
	read_errq(e, c, "again empty");
	O->close(e, a);
}

/* recvmsg with a control buffer: the receive timestamp messages' types and lengths. */
static void read_rx(struct diff_env *e, int fd, const char *what)
{
	char buf[64];
	union { struct cmsghdr h; uint8_t raw[256]; } ctl;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = &ctl;
	m.msg_controllen = sizeof(ctl);
	ssize_t r = O->recvmsg(e, fd, &m, 0);
	diff_record(e, r, "%s: recvmsg", what);
	int i = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); r >= 0 && c; c = CMSG_NXTHDR(&m, c), i++) {
		diff_record(e, c->cmsg_type, "%s: cmsg %d type", what, i);
		diff_record(e, (long long)c->cmsg_len, "%s: cmsg %d len", what, i);
		int64_t v[2];
		memcpy(v, CMSG_DATA(c), sizeof(v));
		diff_record(e, v[0] > 0, "%s: cmsg %d seconds set", what, i);
	}
	diff_record(e, i, "%s: cmsgs", what);
}

static void sc_rx_timestamps(struct diff_env *e)
{
	/* Linux turns receive timestamping on through deferred work when the
	 * first socket asks: a socket that asked before makes it deterministic */
	int w = S(e, DIFF_B);
	DIFF_RET(e, seti(e, w, SOL_SOCKET, NS_SO_TIMESTAMP, 1));
	diff_sync(e, 50 * MS);
	int c;
	int a = pair_up(e, 3, 0, &c);
	static const struct { int opt, v; } steps[] = {
		{ NS_SO_TIMESTAMP, 1 }, { NS_SO_TIMESTAMPNS, 1 }, { NS_SO_TIMESTAMP_NEW, 1 },
		{ NS_SO_TIMESTAMPNS, 0 },
		{ NS_SO_TIMESTAMPING, NS_SOF_TIMESTAMPING_SOFTWARE | NS_SOF_TIMESTAMPING_RX_SOFTWARE },
		{ NS_SO_TIMESTAMPNS, 1 },
		{ NS_SO_TIMESTAMPING, NS_SOF_TIMESTAMPING_SOFTWARE | NS_SOF_TIMESTAMPING_OPT_RX_FILTER },
		{ NS_SO_TIMESTAMPING, 0 }, { NS_SO_TIMESTAMPNS, 0 },
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		DIFF_RET(e, seti(e, a, SOL_SOCKET, steps[i].opt, steps[i].v));
		DIFF_RET(e, sendz(e, c, 10, 0));
		diff_sync(e, 20 * MS);
		char what[32];
		snprintf(what, sizeof(what), "step %zu", i);
		read_rx(e, a, what);
	}
	O->close(e, a);
}

static const struct diff_case cases[] = {
	{ "zerocopy_opt", sc_zerocopy_opt, DIFF_V4 | DIFF_V6 },
	{ "zerocopy", sc_zerocopy, DIFF_V4 | DIFF_V6 },
	{ "udp_zerocopy", sc_udp_zerocopy, DIFF_V4 | DIFF_V6 },
	{ "timestamping_opt", sc_timestamping_opt, DIFF_V4 | DIFF_V6 },
	{ "tx_timestamps", sc_tx_timestamps, DIFF_V4 | DIFF_V6 },
	{ "rx_timestamps", sc_rx_timestamps, DIFF_V4 | DIFF_V6 },
};

static void test_diff_errq(void **state)
{
	(void)state;
	assert_int_equal(diff_run_table(cases, sizeof(cases) / sizeof(cases[0])), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_errq),
	};
	return cmocka_run_group_tests_name("diff_errq", tests, NULL, NULL);
}
