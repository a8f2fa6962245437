/*
 * tests/unit/test_tcp_fastopen.c - TCP Fast Open (RFC 7413) and ECN (RFC 3168)
 * between two stacks on a virtual clock.  The stacks sit on unpaired
 * capture channels and a relay in the test moves frames between them, so a
 * test can look at every segment and drop or change some (drop the SYN-data,
 * drop the client's final ACK, set CE on a data packet).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "helpers/ns_test.h"
#include "helpers/tcp_helpers.h"

#define FILT_DROP_SYN_DATA 1    /* a -> b: SYN with payload */
#define FILT_DROP_FINAL_ACK 2   /* a -> b: pure ACK without SYN while set */
#define FILT_CE_ONCE 4          /* a -> b: CE on the next ECT data packet */

struct relay {
	struct ns_vclock vc;
	struct ns_test_stack a, b;      /* a = client 198.18.0.1, b = server 198.18.0.2 */
	int filter;
	/* what the relay saw */
	int syn_fo_req, syn_fo_cookie, syn_data_len, synack_cookie, syns;
	int dropped, ect0_data, not_ect_data, ce_set, ece_from_b, cwr_from_a, ece_after_cwr;
	uint32_t syn_ecn_flags, synack_ecn_flags;
	ns_test_cond_fn cond;
	void *cctx;
};

/* The Fast Open option in a TCP header, or NULL. */
static const uint8_t *fo_opt(const uint8_t *th, size_t l4len, size_t *olen)
{
	size_t doff = (size_t)(th[12] >> 4) * 4;
	if (doff > l4len)
		return NULL;
	for (size_t i = 20; i < doff;) {
		if (th[i] == 0)
			break;
		if (th[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= doff || th[i + 1] < 2 || i + th[i + 1] > doff)
			break;
		if (th[i] == 34 || (th[i] == 254 && th[i + 1] >= 4 && th[i + 2] == 0xf9 && th[i + 3] == 0x89)) {
			*olen = th[i + 1];
			return th + i;
		}
		i += th[i + 1];
	}
	return NULL;
}

/* Looks at (and maybe changes) one frame; false: drop it. */
static bool inspect(struct relay *r, uint8_t *f, size_t len, bool a_to_b)
{
	struct ns_test_parsed p;
	if (ns_test_parse(f, len, &p) < 0 || p.proto != NS_IPPROTO_TCP || p.ethertype != 0x0800)
		return true;
	uint8_t fl = p.tcp_flags;
	size_t ol = 0;
	const uint8_t *fo = fo_opt(p.l4, p.l4_len, &ol);
	uint8_t ecn = p.l3[1] & 3;
	if (a_to_b && (fl & 0x12) == 0x02) {
		r->syns++;
		r->syn_ecn_flags = fl & 0xc0;
		if (fo && (ol == 2 || (fo[0] == 254 && ol == 4)))
			r->syn_fo_req++;
		else if (fo)
			r->syn_fo_cookie++;
		r->syn_data_len = (int)p.payload_len;
		if ((r->filter & FILT_DROP_SYN_DATA) && p.payload_len) {
			r->dropped++;
			return false;
		}
	}
	if (!a_to_b && (fl & 0x12) == 0x12) {
		r->synack_ecn_flags = fl & 0xc0;
		if (fo && ol > 4)
			r->synack_cookie++;
	}
	if (a_to_b && (r->filter & FILT_DROP_FINAL_ACK) && (fl & 0x17) == 0x10 && !p.payload_len) {
		r->dropped++;
		return false;
	}
	if (a_to_b && p.payload_len) {
		if (ecn == 2)
			r->ect0_data++;
		else if (ecn == 0)
			r->not_ect_data++;
		if (fl & 0x80)
			r->cwr_from_a++;
		if ((r->filter & FILT_CE_ONCE) && ecn == 2) {
			r->filter &= ~FILT_CE_ONCE;
			f[14 + 1] |= 3;         /* CE */
			ns_test_fix_ipv4_csum(f);
			r->ce_set++;
		}
	}
	if (!a_to_b && !(fl & 0x02) && (fl & 0x40)) {
		r->ece_from_b++;
		if (r->cwr_from_a)
			r->ece_after_cwr++;
	}
	return true;
}

static void move(struct relay *r, struct ns_test_stack *from, struct ns_test_stack *to, bool a_to_b)
{
	struct ns_pkt *pkt;
	while ((pkt = ns_test_capture(from)) != NULL) {
		uint8_t f[2048];
		size_t n = ns_pkt_len(pkt);
		if (n <= sizeof(f)) {
			memcpy(f, ns_pkt_data(pkt), n);
			if (inspect(r, f, n, a_to_b))
				ns_test_inject(to, f, n);
		}
		ns_pkt_unref(pkt);
	}
}

static bool relay_cond(void *ctx)
{
	struct relay *r = ctx;
	move(r, &r->a, &r->b, true);
	move(r, &r->b, &r->a, false);
	return r->cond ? r->cond(r->cctx) : false;
}

static bool pump(struct relay *r, ns_test_cond_fn cond, void *ctx, uint64_t limit)
{
	struct ns_test_stack *s[2] = { &r->a, &r->b };
	r->cond = cond;
	r->cctx = ctx;
	bool ok = ns_test_pump_n(s, 2, relay_cond, r, limit);
	r->cond = NULL;
	return ok;
}

static void relay_init(struct relay *r)
{
	static const uint8_t ma[6] = NS_TEST_MAC_A, mb[6] = NS_TEST_MAC_B;
	memset(r, 0, sizeof(*r));
	r->vc.now = NS_TEST_T0;
	uint64_t seed = ns_test_seed(7);
	struct ns_test_stack_opts oa = { .seed = seed ^ 0xa5a5, .mac = ma, .ip4 = "198.18.0.1/24" };
	struct ns_test_stack_opts ob = { .seed = seed ^ 0x5a5a, .mac = mb, .ip4 = "198.18.0.2/24" };
	assert_int_equal(ns_test_stack_init(&r->a, &r->vc, &oa), 0);
	assert_int_equal(ns_test_stack_init(&r->b, &r->vc, &ob), 0);
	pump(r, NULL, NULL, NS_NSEC_PER_SEC / 10);
}

static void relay_fini(struct relay *r)
{
	r->filter = 0;
	pump(r, NULL, NULL, 3 * NS_NSEC_PER_SEC);
	assert_int_equal(ns_test_stack_live(&r->a), 0);
	assert_int_equal(ns_test_stack_live(&r->b), 0);
	ns_test_stack_fini(&r->a);
	ns_test_stack_fini(&r->b);
}

static uint64_t stat(struct ns_stack *stk, const char *name)
{
	uint64_t v = 0;
	assert_int_equal(ns_stat_get(stk, name, &v), 0);
	return v;
}

static int tfo_listen(struct ns_stack *stk, uint16_t port)
{
	int ls = tt_listen(stk, port, 16);
	int q = 16;
	assert_int_equal(ns_setsockopt(stk, ls, NS_IPPROTO_TCP, NS_TCP_FASTOPEN, &q, sizeof(q)), 0);
	return ls;
}

/* sendto(MSG_FASTOPEN) from a new nonblocking socket on the client. */
static int tfo_send(struct relay *r, uint16_t port, const char *data, ssize_t want)
{
	int fd = ns_socket(r->a.stk, NS_AF_INET, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = tt_sin("198.18.0.2", port);
	ssize_t n = ns_sendto(r->a.stk, fd, data, strlen(data), NS_MSG_FASTOPEN, (struct sockaddr *)&sin,
			      sizeof(sin));
	assert_int_equal(n, want);
	return fd;
}

static uint8_t info_byte(struct ns_stack *stk, int fd, size_t off)
{
	uint8_t ti[104];
	socklen_t tl = sizeof(ti);
	assert_int_equal(ns_getsockopt(stk, fd, NS_IPPROTO_TCP, NS_TCP_INFO, ti, &tl), 0);
	return ti[off];
}

static uint32_t info_u32(struct ns_stack *stk, int fd, size_t off)
{
	uint8_t ti[104];
	socklen_t tl = sizeof(ti);
	assert_int_equal(ns_getsockopt(stk, fd, NS_IPPROTO_TCP, NS_TCP_INFO, ti, &tl), 0);
	uint32_t v;
	memcpy(&v, ti + off, 4);
	return v;
}

/* A first connection that only asks for a cookie; leaves it cached on a. */
static void warm_cookie(struct relay *r, int ls)
{
	int c = tfo_send(r, 7100, "", -NS_EINPROGRESS);
	struct tt_accept acc = { r->b.stk, ls, -1 };
	assert_true(pump(r, tt_accepted, &acc, 2 * NS_NSEC_PER_SEC));
	assert_int_equal(r->syn_fo_req, 1);
	assert_int_equal(r->synack_cookie, 1);
	assert_int_equal(stat(r->b.stk, "TcpExtTCPFastOpenCookieReqd"), 1);
	assert_int_equal(info_byte(r->a.stk, c, 5) & 32, 0);   /* no TCPI_OPT_SYN_DATA */
	ns_close(r->a.stk, c);
	ns_close(r->b.stk, acc.fd);
	pump(r, NULL, NULL, NS_NSEC_PER_SEC / 10);
}

/* Cookie request and grant; SYN-data accepted by a TFO listener and
 * readable (and accepted) before the client's final ACK arrives. */
static void test_tfo_cookie_and_syn_data(void **state)
{
	(void)state;
	struct relay r;
	relay_init(&r);
	assert_int_equal(ns_sysctl_set(r.b.stk, "net.ipv4.tcp_fastopen", "3"), 0);
	int ls = tfo_listen(r.b.stk, 7100);
	warm_cookie(&r, ls);
	/* with the cookie cached the SYN carries the data */
	r.filter = FILT_DROP_FINAL_ACK;
	int c = tfo_send(&r, 7100, "hello tfo", 9);
	struct tt_accept acc = { r.b.stk, ls, -1 };
	assert_true(pump(&r, tt_accepted, &acc, NS_NSEC_PER_SEC));
	assert_int_equal(r.syn_fo_cookie, 1);
	assert_int_equal(r.syn_data_len, 9);
	assert_int_equal(tt_state(r.b.stk, acc.fd), TCP_SYN_RECV);        /* before the 3WHS completes */
	char buf[32];
	assert_int_equal(ns_recv(r.b.stk, acc.fd, buf, sizeof(buf), NS_MSG_DONTWAIT), 9);
	assert_memory_equal(buf, "hello tfo", 9);
	pump(&r, NULL, NULL, NS_NSEC_PER_SEC / 20);
	assert_true(r.dropped >= 1);                     /* the final ACK never arrived */
	assert_int_equal(tt_state(r.b.stk, acc.fd), TCP_SYN_RECV);
	assert_int_equal(stat(r.b.stk, "TcpExtTCPFastOpenPassive"), 1);
	assert_int_equal(stat(r.a.stk, "TcpExtTCPFastOpenActive"), 1);
	assert_int_equal(info_byte(r.a.stk, c, 5) & 32, 32);  /* TCPI_OPT_SYN_DATA */
	assert_int_equal(info_byte(r.b.stk, acc.fd, 5) & 32, 32);
	/* the server answers before the handshake completes; then the ACK gets through */
	assert_int_equal(ns_send(r.b.stk, acc.fd, "early", 5, 0), 5);
	r.filter = 0;
	struct tt_readable rd = { r.a.stk, c };
	assert_true(pump(&r, tt_is_readable, &rd, NS_NSEC_PER_SEC));
	assert_int_equal(ns_recv(r.a.stk, c, buf, sizeof(buf), NS_MSG_DONTWAIT), 5);
	assert_memory_equal(buf, "early", 5);
	assert_int_equal(ns_send(r.a.stk, c, "x", 1, 0), 1);
	struct tt_state_is st = { r.b.stk, acc.fd, TCP_ESTABLISHED };
	assert_true(pump(&r, tt_state_reached, &st, 3 * NS_NSEC_PER_SEC));
	ns_close(r.a.stk, c);
	ns_close(r.b.stk, acc.fd);
	ns_close(r.b.stk, ls);
	relay_fini(&r);
}

/* SYN-data lost: the SYN timeout resends a plain SYN (no cookie, no data); the
 * SYN-ACK acks only the SYN and the data is sent again. */
static void test_tfo_fallback_syn_data_lost(void **state)
{
	(void)state;
	struct relay r;
	relay_init(&r);
	assert_int_equal(ns_sysctl_set(r.b.stk, "net.ipv4.tcp_fastopen", "3"), 0);
	int ls = tfo_listen(r.b.stk, 7100);
	warm_cookie(&r, ls);
	r.syn_fo_cookie = r.syn_fo_req = 0;
	r.filter = FILT_DROP_SYN_DATA;
	int c = tfo_send(&r, 7100, "fallback data", 13);
	struct tt_accept acc = { r.b.stk, ls, -1 };
	assert_true(pump(&r, tt_accepted, &acc, 5 * NS_NSEC_PER_SEC));
	assert_int_equal(r.dropped, 1);
	assert_int_equal(r.syns, 3);                     /* warm-up, SYN-data, plain retry */
	assert_int_equal(r.syn_data_len, 0);             /* the retry carries no data ... */
	assert_int_equal(r.syn_fo_cookie, 1);            /* ... and no cookie */
	struct tt_readable rd = { r.b.stk, acc.fd };
	assert_true(pump(&r, tt_is_readable, &rd, NS_NSEC_PER_SEC));
	char buf[32];
	assert_int_equal(ns_recv(r.b.stk, acc.fd, buf, sizeof(buf), NS_MSG_DONTWAIT), 13);
	assert_memory_equal(buf, "fallback data", 13);
	assert_int_equal(stat(r.a.stk, "TcpExtTCPFastOpenActiveFail"), 1);
	assert_int_equal(stat(r.b.stk, "TcpExtTCPFastOpenPassive"), 0);
	assert_int_equal(info_byte(r.a.stk, c, 5) & 32, 0);
	ns_close(r.a.stk, c);
	ns_close(r.b.stk, acc.fd);
	ns_close(r.b.stk, ls);
	relay_fini(&r);
}

/* A server without Fast Open: the SYN-ACK acks only the SYN, the client
 * sends the SYN data again at once; a wrong cookie is answered with a fresh one. */
static void test_tfo_server_ignores(void **state)
{
	(void)state;
	struct relay r;
	relay_init(&r);
	assert_int_equal(ns_sysctl_set(r.b.stk, "net.ipv4.tcp_fastopen", "3"), 0);
	int ls = tfo_listen(r.b.stk, 7100);
	warm_cookie(&r, ls);
	/* a new key on the server: the cached cookie is now wrong */
	assert_int_equal(ns_sysctl_set(r.b.stk, "net.ipv4.tcp_fastopen_key", "01020304-05060708-090a0b0c-0d0e0f10"),
			 0);
	char key[80];
	assert_int_equal(ns_sysctl_get(r.b.stk, "net.ipv4.tcp_fastopen_key", key, sizeof(key)), 0);
	assert_string_equal(key, "01020304-05060708-090a0b0c-0d0e0f10");
	r.synack_cookie = 0;
	int c = tfo_send(&r, 7100, "stale cookie", 12);
	struct tt_accept acc = { r.b.stk, ls, -1 };
	assert_true(pump(&r, tt_accepted, &acc, 2 * NS_NSEC_PER_SEC));
	assert_int_equal(r.synack_cookie, 1);            /* the valid cookie comes back */
	assert_int_equal(stat(r.b.stk, "TcpExtTCPFastOpenPassiveFail"), 1);
	struct tt_readable rd = { r.b.stk, acc.fd };
	assert_true(pump(&r, tt_is_readable, &rd, NS_NSEC_PER_SEC));
	char buf[32];
	assert_int_equal(ns_recv(r.b.stk, acc.fd, buf, sizeof(buf), NS_MSG_DONTWAIT), 12);
	assert_memory_equal(buf, "stale cookie", 12);
	assert_int_equal(stat(r.a.stk, "TcpExtTCPFastOpenActiveFail"), 1);
	ns_close(r.a.stk, c);
	ns_close(r.b.stk, acc.fd);
	/* client side off: MSG_FASTOPEN is EOPNOTSUPP */
	assert_int_equal(ns_sysctl_set(r.a.stk, "net.ipv4.tcp_fastopen", "0"), 0);
	int fd = ns_socket(r.a.stk, NS_AF_INET, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
	struct sockaddr_in sin = tt_sin("198.18.0.2", 7100);
	assert_int_equal(ns_sendto(r.a.stk, fd, "x", 1, NS_MSG_FASTOPEN, (struct sockaddr *)&sin, sizeof(sin)),
			 -NS_EOPNOTSUPP);
	int one = 1;
	assert_int_equal(ns_setsockopt(r.a.stk, fd, NS_IPPROTO_TCP, NS_TCP_FASTOPEN_CONNECT, &one, sizeof(one)),
			 -NS_EOPNOTSUPP);
	ns_close(r.a.stk, fd);
	ns_close(r.b.stk, ls);
	relay_fini(&r);
}

/* net.ipv4.tcp_ecn on each side: ECN is used iff the client asks (1) and the
 * server accepts (1 or 2); then data goes out ECT(0), else Not-ECT. */
static void test_ecn_negotiation_matrix(void **state)
{
	(void)state;
	for (int ce = 0; ce <= 2; ce++)
		for (int se = 0; se <= 2; se++) {
			struct relay r;
			relay_init(&r);
			char v[16];
			snprintf(v, sizeof(v), "%d", ce);
			assert_int_equal(ns_sysctl_set(r.a.stk, "net.ipv4.tcp_ecn", v), 0);
			snprintf(v, sizeof(v), "%d", se);
			assert_int_equal(ns_sysctl_set(r.b.stk, "net.ipv4.tcp_ecn", v), 0);
			int ls = tt_listen(r.b.stk, 7200, 16);
			int c = tt_connect_nb(r.a.stk, "198.18.0.2", 7200);
			struct tt_accept acc = { r.b.stk, ls, -1 };
			assert_true(pump(&r, tt_accepted, &acc, 2 * NS_NSEC_PER_SEC));
			bool want = ce == 1 && se != 0;
			assert_int_equal(r.syn_ecn_flags, ce == 1 ? 0xc0 : 0);       /* ECE|CWR */
			assert_int_equal(r.synack_ecn_flags, ce == 1 && se != 0 ? 0x40 : 0);
			assert_int_equal((info_byte(r.a.stk, c, 5) & 8) != 0, want);   /* TCPI_OPT_ECN */
			assert_int_equal((info_byte(r.b.stk, acc.fd, 5) & 8) != 0, want);
			assert_int_equal(ns_send(r.a.stk, c, "ecn?", 4, 0), 4);
			struct tt_readable rd = { r.b.stk, acc.fd };
			assert_true(pump(&r, tt_is_readable, &rd, NS_NSEC_PER_SEC));
			assert_int_equal(r.ect0_data, want ? 1 : 0);
			assert_int_equal(r.not_ect_data, want ? 0 : 1);
			ns_close(r.a.stk, c);
			ns_close(r.b.stk, acc.fd);
			ns_close(r.b.stk, ls);
			relay_fini(&r);
		}
}

/* CE on a data packet: the receiver echoes ECE until the sender's CWR; the
 * sender halves cwnd once (through the congestion-control module) and sets
 * CWR on its next new data. */
static void test_ecn_ce_reaction(void **state)
{
	(void)state;
	struct relay r;
	relay_init(&r);
	assert_int_equal(ns_sysctl_set(r.a.stk, "net.ipv4.tcp_ecn", "1"), 0);
	int ls = tt_listen(r.b.stk, 7300, 16);
	int c = tt_connect_nb(r.a.stk, "198.18.0.2", 7300);
	struct tt_accept acc = { r.b.stk, ls, -1 };
	assert_true(pump(&r, tt_accepted, &acc, 2 * NS_NSEC_PER_SEC));
	uint32_t cwnd0 = info_u32(r.a.stk, c, 80);
	r.filter = FILT_CE_ONCE;
	static char data[20000];
	memset(data, 'e', sizeof(data));
	assert_int_equal(ns_send(r.a.stk, c, data, sizeof(data), 0), (ssize_t)sizeof(data));
	pump(&r, NULL, NULL, NS_NSEC_PER_SEC / 2);
	assert_int_equal(r.ce_set, 1);
	assert_true(r.ece_from_b >= 1);
	uint32_t cwnd1 = info_u32(r.a.stk, c, 80), ssthresh = info_u32(r.a.stk, c, 76);
	assert_true(ssthresh < 0x7fffffff);             /* a reduction happened (no loss: only ECE) */
	assert_true(ssthresh >= 2 && cwnd1 >= ssthresh && cwnd0 >= 2);
	/* the next new data carries CWR; after it the receiver stops echoing */
	assert_int_equal(ns_send(r.a.stk, c, data, 3000, 0), 3000);
	pump(&r, NULL, NULL, NS_NSEC_PER_SEC / 2);
	assert_int_equal(r.cwr_from_a, 1);
	int ece_before = r.ece_after_cwr;
	assert_int_equal(ns_send(r.a.stk, c, data, 3000, 0), 3000);
	pump(&r, NULL, NULL, NS_NSEC_PER_SEC / 2);
	assert_int_equal(r.ece_after_cwr, ece_before);   /* no more ECE */
	assert_true((info_byte(r.b.stk, acc.fd, 5) & 16) != 0);   /* TCPI_OPT_ECN_SEEN */
	/* everything arrived */
	size_t got = 0;
	char buf[4096];
	ssize_t n;
	while ((n = ns_recv(r.b.stk, acc.fd, buf, sizeof(buf), NS_MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	assert_int_equal(got, sizeof(data) + 6000);
	ns_close(r.a.stk, c);
	ns_close(r.b.stk, acc.fd);
	ns_close(r.b.stk, ls);
	relay_fini(&r);
}

/* The sysctls, as Linux validates and prints them. */
static void test_sysctls(void **state)
{
	(void)state;
	struct relay r;
	relay_init(&r);
	char buf[100];
	assert_int_equal(ns_sysctl_get(r.a.stk, "net.ipv4.tcp_fastopen", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1");
	assert_int_equal(ns_sysctl_get(r.a.stk, "net.ipv4.tcp_ecn", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2");
	assert_int_equal(ns_sysctl_set(r.a.stk, "net.ipv4.tcp_fastopen", "0x70403"), 0);
	assert_int_equal(ns_sysctl_get(r.a.stk, "net.ipv4.tcp_fastopen", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "459779");
	assert_int_equal(ns_sysctl_set(r.a.stk, "net.ipv4.tcp_ecn", "3"), -NS_EINVAL);
	assert_int_equal(ns_sysctl_set(r.a.stk, "net.ipv4.tcp_fastopen_key", "1-2-3"), -NS_EINVAL);
	assert_int_equal(ns_sysctl_set(r.a.stk, "net.ipv4.tcp_fastopen_key",
				       "a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4,00000001-2-3-4"), 0);
	assert_int_equal(ns_sysctl_get(r.a.stk, "net.ipv4.tcp_fastopen_key", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4,00000001-00000002-00000003-00000004");
	/* TCP_FASTOPEN_KEY reads the key bytes back (little-endian words, like Linux) */
	int fd = ns_socket(r.a.stk, NS_AF_INET, NS_SOCK_STREAM, 0);
	uint8_t k[32];
	socklen_t kl = sizeof(k);
	assert_int_equal(ns_getsockopt(r.a.stk, fd, NS_IPPROTO_TCP, NS_TCP_FASTOPEN_KEY, k, &kl), 0);
	assert_int_equal(kl, 32);
	assert_int_equal(k[0], 0xa1);
	assert_int_equal(k[4], 0xb2);
	assert_int_equal(k[16], 1);
	assert_int_equal(ns_setsockopt(r.a.stk, fd, NS_IPPROTO_TCP, NS_TCP_FASTOPEN_KEY, k, 3), -NS_EINVAL);
	int q = -1;
	assert_int_equal(ns_setsockopt(r.a.stk, fd, NS_IPPROTO_TCP, NS_TCP_FASTOPEN, &q, sizeof(q)), -NS_EINVAL);
	ns_close(r.a.stk, fd);
	relay_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tfo_cookie_and_syn_data),
		cmocka_unit_test(test_tfo_fallback_syn_data_lost),
		cmocka_unit_test(test_tfo_server_ignores),
		cmocka_unit_test(test_ecn_negotiation_matrix),
		cmocka_unit_test(test_ecn_ce_reaction),
		cmocka_unit_test(test_sysctls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
