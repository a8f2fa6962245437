/*
 * tests/unit/test_icmp.c - ICMPv4: when errors are (not) sent (RFC 1122
 * 3.2.2), what they quote (576-byte cap), Linux's rate limits (per host
 * token bucket, global bucket, echo replies and frag-needed exempt),
 * received errors (checksum, truncation, counters) and fragmentation
 * needed recorded as path MTU (RFC 1191: no increase, 552 floor locked,
 * 10-minute expiry), timestamp replies, redirects (RFC 1122 3.2.2.2), and
 * errors delivered to UDP sockets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "helpers/ns_test_ipv4.h"

/* Builds a received datagram as a packet (data at L4, like a transport
 * sees it) with its meta, for ns__icmp4_send_error. */
static struct ns_pkt *rx_pkt(struct t4_cap *c, const uint8_t *frame, size_t n,
			     struct ns_ip_meta *m, uint8_t pkt_type)
{
	struct ns_pkt *p = ns_pkt_alloc(ns_stack_pool(c->s.stk), NS_PKT_HEADROOM, n - 14);
	assert_non_null(p);
	memcpy(ns_pkt_data(p), frame + 14, n - 14);
	memset(m, 0, sizeof(*m));
	const uint8_t *h = ns_pkt_data(p);
	ns_addr_from_u32(&m->src, ns_ip4_src(h));
	ns_addr_from_u32(&m->dst, ns_ip4_dst(h));
	m->nic = t4_nic(c);
	m->pkt_type = pkt_type;
	m->proto = h[9];
	m->l3_off = p->data;
	ns_pkt_pull(p, 20);
	return p;
}

static bool try_error(struct t4_cap *c, const uint8_t *frame, size_t n, uint8_t pkt_type)
{
	struct ns_ip_meta m;
	struct ns_pkt *p = rx_pkt(c, frame, n, &m, pkt_type);
	uint64_t before = t4_stat(c->s.stk, "IcmpOutDestUnreachs");
	ns__icmp4_send_error(c->s.stk, p, &m, NS_ICMP_DEST_UNREACH, NS_ICMP_PORT_UNREACH, 0);
	ns_pkt_unref(p);
	t4_settle(c);
	bool sent = t4_stat(c->s.stk, "IcmpOutDestUnreachs") > before;
	ns_test_capture_drop(&c->s);
	return sent;
}

static void test_error_rules(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	struct ns_test_l3 h;
	uint8_t f[1200];
	size_t n;
	/* a plain UDP datagram to us: answered */
	t4_l3_from_peer(&h);
	n = ns_test_build_udp(f, &h, 1, 2, "x", 1);
	assert_true(try_error(&c, f, n, NS_PKT_HOST));
	/* an echo request: answered (a query, not an error) */
	n = ns_test_build_icmp(f, &h, NS_ICMP_ECHO, 0, 0, "x", 1);
	assert_true(try_error(&c, f, n, NS_PKT_HOST));
	/* about ICMP errors: never */
	static const uint8_t err_types[] = { NS_ICMP_DEST_UNREACH, NS_ICMP_TIME_EXCEEDED,
					     NS_ICMP_PARAMETERPROB, NS_ICMP_REDIRECT,
					     NS_ICMP_SOURCE_QUENCH };
	for (size_t i = 0; i < sizeof(err_types); i++) {
		n = ns_test_build_icmp(f, &h, err_types[i], 0, 0, "x", 1);
		assert_false(try_error(&c, f, n, NS_PKT_HOST));
	}
	/* not about non-first fragments */
	t4_l3_from_peer(&h);
	h.frag = 100;
	n = ns_test_build_udp(f, &h, 1, 2, "x", 1);
	assert_false(try_error(&c, f, n, NS_PKT_HOST));
	/* not about broadcasts or multicasts */
	t4_l3_from_peer(&h);
	n = ns_test_build_udp(f, &h, 1, 2, "x", 1);
	assert_false(try_error(&c, f, n, NS_PKT_BROADCAST));
	assert_false(try_error(&c, f, n, NS_PKT_MULTICAST));
	h.dst = ns_test_addr("198.18.0.255");
	n = ns_test_build_udp(f, &h, 1, 2, "x", 1);
	assert_false(try_error(&c, f, n, NS_PKT_HOST));
	/* not to sources that name no single host */
	static const char *bad_src[] = { "0.0.0.0", "255.255.255.255", "224.0.0.5", "240.0.0.1" };
	for (size_t i = 0; i < NS_ARRAY_SIZE(bad_src); i++) {
		t4_l3_from_peer(&h);
		h.src = ns_test_addr(bad_src[i]);
		n = ns_test_build_udp(f, &h, 1, 2, "x", 1);
		assert_false(try_error(&c, f, n, NS_PKT_HOST));
	}
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutDestUnreachs"), 2);
	t4_fini(&c);
}

static void test_error_quote_576(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	h.tos = 0x2b;
	uint8_t f[1200], body[1000];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)i;
	size_t n = ns_test_build_udp(f, &h, 1, 2, body, sizeof(body));
	struct ns_ip_meta m;
	struct ns_pkt *p = rx_pkt(&c, f, n, &m, NS_PKT_HOST);
	ns__icmp4_send_error(c.s.stk, p, &m, NS_ICMP_DEST_UNREACH, NS_ICMP_PORT_UNREACH, 0);
	ns_pkt_unref(p);
	t4_settle(&c);
	struct ns_test_parsed pp;
	p = t4_take(&c, &pp);
	assert_non_null(p);
	assert_int_equal(ns_load_be16(pp.l3 + 2), 576);
	assert_int_equal(pp.payload_len, 576 - 28);
	assert_memory_equal(pp.payload, f + 14, 576 - 28);
	assert_true(pp.l4_csum_ok);
	assert_int_equal(pp.icmp_code, NS_ICMP_PORT_UNREACH);
	assert_int_equal(pp.l3[1], (0x2b & 0x1e) | 0xc0);
	assert_int_equal(ns_load_be32(pp.l3 + 12), T4_US);   /* from the address it was sent to */
	assert_int_equal(pp.frag & NS_IP_DF, 0);
	ns_pkt_unref(p);
	t4_fini(&c);
}

static void unknown_proto_from(struct t4_cap *c, uint32_t src)
{
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	ns_addr_from_u32(&h.src, src);
	uint8_t f[128];
	size_t n = ns_test_build_ip(f, &h, 253, "xyz", 3);
	assert_int_equal(ns_test_inject(&c->s, f, n), 0);
}

static void test_rate_limit_host(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	for (int i = 0; i < 10; i++)
		unknown_proto_from(&c, T4_PEER);
	t4_settle(&c);
	/* burst of 6 (XRLIM_BURST_FACTOR), then one per second */
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutDestUnreachs"), 6);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutRateLimitHost"), 4);
	assert_int_equal(ns_test_capture_drop(&c.s), 6);
	c.vc.now += NS_NSEC_PER_SEC / 2;
	unknown_proto_from(&c, T4_PEER);
	t4_settle(&c);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutDestUnreachs"), 6);
	c.vc.now += NS_NSEC_PER_SEC / 2;
	unknown_proto_from(&c, T4_PEER);
	unknown_proto_from(&c, T4_PEER);
	t4_settle(&c);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutDestUnreachs"), 7);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutRateLimitHost"), 6);
	/* echo replies are never limited */
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	uint8_t f[128];
	size_t n = ns_test_build_icmp(f, &h, NS_ICMP_ECHO, 0, 1, "p", 1);
	for (int i = 0; i < 30; i++)
		ns_test_inject(&c.s, f, n);
	t4_settle(&c);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutEchoReps"), 30);
	t4_fini(&c);
}

static void test_rate_limit_global(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	for (uint32_t i = 0; i < 60; i++)
		unknown_proto_from(&c, 0xc612000au + i);
	t4_settle(&c);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutDestUnreachs"), 50);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutRateLimitGlobal"), 10);
	/* 1000 per second: 20 ms later 20 more */
	c.vc.now += 20 * NS_NSEC_PER_MSEC;
	for (uint32_t i = 0; i < 30; i++)
		unknown_proto_from(&c, 0xc6120050u + i);
	t4_settle(&c);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutDestUnreachs"), 70);
	/* nobody answers ARP: the queued errors are dropped, no error about an error */
	t4_advance(&c, 4 * NS_NSEC_PER_SEC);
	assert_int_equal(t4_stat(c.s.stk, "IcmpOutDestUnreachs"), 70);
	t4_fini(&c);
}

/* An ICMP error from the peer about a UDP datagram we sent to `about`. */
static size_t error_about(uint8_t *f, uint8_t type, uint8_t code, uint32_t rest, uint32_t about,
			  size_t quote)
{
	struct ns_test_l3 in;
	memset(&in, 0, sizeof(in));
	in.src = ns_test_addr("198.18.0.1");
	ns_addr_from_u32(&in.dst, about);
	uint8_t inner[1600], payload[1400];
	memset(payload, 0xab, sizeof(payload));
	size_t n = ns_test_build_udp(inner, &in, 4000, 53, payload, 1400);
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	return ns_test_build_icmp(f, &h, type, code, rest, inner + 14, NS_MIN(quote, n - 14));
}

static void test_frag_needed_pmtu(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	struct ns_addr far = ns_test_addr("198.18.0.77");
	assert_int_equal(ns__ip_path_mtu(c.s.stk, &far, 0), 1500);
	uint8_t f[1600];
	size_t n = error_about(f, NS_ICMP_DEST_UNREACH, NS_ICMP_FRAG_NEEDED, 1200, 0xc612004du, 28);
	t4_inject(&c, f, n);
	assert_int_equal(ns__ip_path_mtu(c.s.stk, &far, 0), 1200);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInDestUnreachs"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInErrors"), 0);
	/* an increase is ignored */
	n = error_about(f, NS_ICMP_DEST_UNREACH, NS_ICMP_FRAG_NEEDED, 1400, 0xc612004du, 28);
	t4_inject(&c, f, n);
	assert_int_equal(ns__ip_path_mtu(c.s.stk, &far, 0), 1200);
	/* below 552: locked at 552 */
	n = error_about(f, NS_ICMP_DEST_UNREACH, NS_ICMP_FRAG_NEEDED, 300, 0xc612004du, 28);
	t4_inject(&c, f, n);
	assert_int_equal(ns__ip_path_mtu(c.s.stk, &far, 0), 552);
	bool locked = false;
	assert_int_equal(ns__pmtu_get(c.s.stk, &far, &locked), 552);
	assert_true(locked);
	/* other destinations are untouched; the entry expires after 10 minutes */
	struct ns_addr peer = ns_test_addr("198.18.0.2");
	assert_int_equal(ns__ip_path_mtu(c.s.stk, &peer, 0), 1500);
	c.vc.now += 599 * NS_NSEC_PER_SEC;
	assert_int_equal(ns__ip_path_mtu(c.s.stk, &far, 0), 552);
	c.vc.now += 2 * NS_NSEC_PER_SEC;
	assert_int_equal(ns__ip_path_mtu(c.s.stk, &far, 0), 1500);
	t4_fini(&c);
}

static void test_locked_pmtu_clears_df(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	struct ns_addr peer = ns_test_addr("198.18.0.2");
	ns__ip_path_mtu_update(c.s.stk, &peer, 400);
	assert_int_equal(ns__ip_path_mtu(c.s.stk, &peer, 0), 552);
	struct ns_pkt *p = ns_pkt_alloc(ns_stack_pool(c.s.stk), NS_PKT_TX_HEADROOM, 100);
	memset(ns_pkt_data(p), 0, 100);
	struct ns_ip_tx tx = { .proto = NS_IPPROTO_UDP, .ttl = -1, .pmtudisc = NS_IP_PMTUDISC_WANT };
	tx.dst = peer;
	assert_int_equal(ns__ip_output(c.s.stk, p, &tx), 0);
	struct ns_test_parsed pp;
	p = t4_take(&c, &pp);
	assert_non_null(p);
	assert_int_equal(pp.frag & NS_IP_DF, 0);
	ns_pkt_unref(p);
	t4_fini(&c);
}

static void test_bad_icmp_input(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	uint8_t f[1600];
	/* bad checksum */
	size_t n = ns_test_build_icmp(f, &h, NS_ICMP_ECHO, 0, 1, "abc", 3);
	f[n - 1] ^= 0xff;
	t4_inject(&c, f, n);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInCsumErrors"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInErrors"), 1);
	/* shorter than an ICMP header */
	uint8_t four[4] = { NS_ICMP_ECHO, 0, 0, 0 };
	ns_store_be16(four + 2, ns_csum_fold(ns_csum_partial(four, 4, 0)));
	n = ns_test_build_ip(f, &h, NS_IPPROTO_ICMP, four, 4);
	t4_inject(&c, f, n);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInErrors"), 2);
	/* an error quoting less than a header + 8 bytes */
	n = error_about(f, NS_ICMP_DEST_UNREACH, NS_ICMP_PORT_UNREACH, 0, T4_PEER, 24);
	t4_inject(&c, f, n);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInErrors"), 3);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInDestUnreachs"), 1);
	/* well-formed errors of each kind are counted by type */
	n = error_about(f, NS_ICMP_TIME_EXCEEDED, 0, 0, T4_PEER, 28);
	t4_inject(&c, f, n);
	n = error_about(f, NS_ICMP_PARAMETERPROB, 0, 0x14000000u, T4_PEER, 28);
	t4_inject(&c, f, n);
	n = error_about(f, NS_ICMP_DEST_UNREACH, NS_ICMP_PORT_UNREACH, 0, T4_PEER, 548);
	t4_inject(&c, f, n);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInTimeExcds"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInParmProbs"), 1);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInDestUnreachs"), 2);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInErrors"), 3);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInMsgs"), 6);
	assert_null(ns_test_capture(&c.s));     /* errors are never answered */
	t4_fini(&c);
}

static void test_timestamp_reply(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	t4_peer_known(&c);
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	uint8_t f[128], body[12] = { 1, 2, 3, 4 };
	size_t n = ns_test_build_icmp(f, &h, NS_ICMP_TIMESTAMP, 0, 0x00070009u, body, sizeof(body));
	t4_inject(&c, f, n);
	struct ns_test_parsed pp;
	struct ns_pkt *p = t4_take(&c, &pp);
	assert_non_null(p);
	assert_int_equal(pp.icmp_type, NS_ICMP_TIMESTAMPREPLY);
	assert_true(pp.l4_csum_ok);
	assert_int_equal(ns_load_be32(pp.l4 + 4), 0x00070009u);
	assert_int_equal(pp.payload_len, 12);
	assert_memory_equal(pp.payload, body, 4);
	uint32_t rx = ns_load_be32(pp.payload + 4);
	assert_true(rx & 0x80000000u);
	assert_int_equal(rx & 0x7fffffffu, (NS_TEST_T0 / NS_NSEC_PER_MSEC) % 86400000u);
	ns_pkt_unref(p);
	/* too short: an input error, no reply */
	n = ns_test_build_icmp(f, &h, NS_ICMP_TIMESTAMP, 0, 1, body, 2);
	t4_inject(&c, f, n);
	assert_null(ns_test_capture(&c.s));
	assert_int_equal(t4_stat(c.s.stk, "IcmpInErrors"), 1);
	t4_fini(&c);
}

static const uint8_t gw_mac[6] = { 0x02, 0x00, 0x5e, 0xed, 0x00, 0xfd };
#define GW 0xc61200feu                  /* 198.18.0.254 */
#define FAR 0xc6130505u                 /* 198.19.5.5, behind the gateway */

/* Pings FAR and returns the destination MAC of the frame that leaves. */
static void ping_far_mac(struct t4_cap *c, uint8_t mac[6])
{
	assert_int_equal(ns__icmp4_xmit(c->s.stk, 0, FAR, NS_ICMP_ECHO, 0, 1, NULL, 0, 0), 0);
	t4_settle(c);
	struct ns_pkt *p = ns_test_capture(&c->s);
	assert_non_null(p);
	assert_int_equal(ns_load_be16(ns_pkt_data(p) + 12), NS_ETHERTYPE_IPV4);
	memcpy(mac, ns_pkt_data(p), 6);
	ns_pkt_unref(p);
	assert_null(ns_test_capture(&c->s));
}

/* A redirect for FAR from `from` (IP and MAC) naming new_gw. */
static void inject_redirect(struct t4_cap *c, uint32_t from, const uint8_t *from_mac,
			    uint32_t new_gw)
{
	struct ns_test_l3 in;
	memset(&in, 0, sizeof(in));
	in.src = ns_test_addr("198.18.0.1");
	ns_addr_from_u32(&in.dst, FAR);
	uint8_t inner[128];
	size_t n = ns_test_build_icmp(inner, &in, NS_ICMP_ECHO, 0, 1, NULL, 0);
	struct ns_test_l3 h;
	t4_l3_from_peer(&h);
	memcpy(h.src_mac, from_mac, 6);
	ns_addr_from_u32(&h.src, from);
	uint8_t f[256];
	size_t m = ns_test_build_icmp(f, &h, NS_ICMP_REDIRECT, 1, new_gw, inner + 14, n - 14);
	t4_inject(c, f, m);
}

static void test_redirect(void **state)
{
	(void)state;
	struct t4_cap c;
	t4_init(&c);
	struct ns_addr any = ns_test_addr("0.0.0.0"), gw;
	ns_addr_from_u32(&gw, GW);
	assert_int_equal(ns_route_add(c.s.stk, &any, 0, &gw, c.s.nic), 0);
	uint8_t f[64], mac[6];
	/* the gateway is resolved and used */
	assert_int_equal(ns__icmp4_xmit(c.s.stk, 0, FAR, NS_ICMP_ECHO, 0, 1, NULL, 0, 0), 0);
	t4_settle(&c);
	ns_test_capture_drop(&c.s);
	size_t n = t4_arp_frame(f, NS_ARPOP_REPLY, t4_mac_a, gw_mac, GW, t4_mac_a, T4_US);
	t4_inject(&c, f, n);
	ns_test_capture_drop(&c.s);
	ping_far_mac(&c, mac);
	assert_memory_equal(mac, gw_mac, 6);
	/* not from our gateway, or toward an off-link or local address: ignored */
	inject_redirect(&c, T4_PEER, t4_mac_peer, T4_PEER);
	inject_redirect(&c, GW, gw_mac, 0xc6140001u);
	inject_redirect(&c, GW, gw_mac, T4_US);
	inject_redirect(&c, GW, gw_mac, 0xc61200ffu);
	assert_null(ns_test_capture(&c.s));
	ping_far_mac(&c, mac);
	assert_memory_equal(mac, gw_mac, 6);
	/* from the gateway to .2, whose MAC is unknown: resolved first, not used yet */
	inject_redirect(&c, GW, gw_mac, T4_PEER);
	struct ns_pkt *p = ns_test_capture(&c.s);
	assert_non_null(p);
	assert_int_equal(ns_load_be16(ns_pkt_data(p) + 12), NS_ETHERTYPE_ARP);
	assert_int_equal(ns_load_be32(ns_pkt_data(p) + 14 + 24), T4_PEER);
	ns_pkt_unref(p);
	ping_far_mac(&c, mac);
	assert_memory_equal(mac, gw_mac, 6);
	n = t4_arp_frame(f, NS_ARPOP_REPLY, t4_mac_a, t4_mac_peer, T4_PEER, t4_mac_a, T4_US);
	t4_inject(&c, f, n);
	/* the next redirect is taken */
	inject_redirect(&c, GW, gw_mac, T4_PEER);
	ping_far_mac(&c, mac);
	assert_memory_equal(mac, t4_mac_peer, 6);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInRedirects"), 6);
	assert_int_equal(t4_stat(c.s.stk, "IcmpInErrors"), 0);
	/* it lasts 300 s */
	c.vc.now += 301 * NS_NSEC_PER_SEC;
	t4_settle(&c);
	ns_test_capture_drop(&c.s);
	assert_int_equal(ns__icmp4_xmit(c.s.stk, 0, FAR, NS_ICMP_ECHO, 0, 1, NULL, 0, 0), 0);
	t4_settle(&c);
	/* the gateway's entry went stale meanwhile: still its MAC */
	p = ns_test_capture(&c.s);
	assert_non_null(p);
	assert_memory_equal(ns_pkt_data(p), gw_mac, 6);
	ns_pkt_unref(p);
	t4_advance(&c, 10 * NS_NSEC_PER_SEC);
	t4_fini(&c);
}

/* ---- errors reach the socket (through udp/) ---------------------------------------- */

static struct sockaddr_in sin4(uint32_t a, uint16_t port)
{
	struct sockaddr_in s;
	memset(&s, 0, sizeof(s));
	s.sin_family = NS_AF_INET;
	s.sin_port = htons(port);
	s.sin_addr.s_addr = htonl(a);
	return s;
}

struct refused {
	struct ns_stack *stk;
	int fd;
	ssize_t r;
};

static bool recv_not_again(void *ctx)
{
	struct refused *x = ctx;
	char b[8];
	x->r = ns_recv(x->stk, x->fd, b, sizeof(b), NS_MSG_DONTWAIT);
	return x->r != -NS_EAGAIN;
}

static void test_port_unreach_to_connected_udp(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, &(struct ns_test_pair_opts){ 0 }), 0);
	int fd = ns_socket(p.a.stk, NS_AF_INET, NS_SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in to = sin4(0xc6120002u, 9999);
	assert_int_equal(ns_connect(p.a.stk, fd, (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(ns_send(p.a.stk, fd, "hello", 5, 0), 5);
	struct refused x = { p.a.stk, fd, 0 };
	assert_true(ns_test_pump(&p, recv_not_again, &x, 2 * NS_NSEC_PER_SEC));
	assert_int_equal(x.r, -NS_ECONNREFUSED);
	assert_int_equal(t4_stat(p.b.stk, "IcmpOutDestUnreachs"), 1);
	assert_int_equal(t4_stat(p.a.stk, "IcmpInDestUnreachs"), 1);
	assert_int_equal(ns_close(p.a.stk, fd), 0);
	/* the same to our own address: the error travels the local loop */
	fd = ns_socket(p.a.stk, NS_AF_INET, NS_SOCK_DGRAM, 0);
	to = sin4(0xc6120001u, 9999);
	assert_int_equal(ns_connect(p.a.stk, fd, (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(ns_send(p.a.stk, fd, "hello", 5, 0), 5);
	x.fd = fd;
	assert_true(ns_test_pump(&p, recv_not_again, &x, 2 * NS_NSEC_PER_SEC));
	assert_int_equal(x.r, -NS_ECONNREFUSED);
	assert_int_equal(ns_close(p.a.stk, fd), 0);
	ns_test_settle(&p);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

static void test_host_unreach_to_udp(void **state)
{
	(void)state;
	/* nobody answers ARP for .9: after 3 s a host unreachable comes back
	 * through the local loop; like Linux, a UDP socket reports this soft
	 * error only with IP_RECVERR */
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, &(struct ns_test_pair_opts){ 0 }), 0);
	int fd[2];
	for (int i = 0; i < 2; i++) {
		fd[i] = ns_socket(p.a.stk, NS_AF_INET, NS_SOCK_DGRAM, 0);
		assert_true(fd[i] >= 0);
		int on = 1;
		if (i == 1)
			assert_int_equal(ns_setsockopt(p.a.stk, fd[i], NS_IPPROTO_IP, NS_IP_RECVERR,
						       &on, sizeof(on)), 0);
		struct sockaddr_in to = sin4(0xc6120009u, (uint16_t)(9999 + i));
		assert_int_equal(ns_connect(p.a.stk, fd[i], (struct sockaddr *)&to, sizeof(to)), 0);
		assert_int_equal(ns_send(p.a.stk, fd[i], "hello", 5, 0), 5);
	}
	struct refused x = { p.a.stk, fd[1], 0 };
	assert_true(ns_test_pump(&p, recv_not_again, &x, 10 * NS_NSEC_PER_SEC));
	assert_int_equal(x.r, -NS_EHOSTUNREACH);
	assert_int_equal(t4_stat(p.a.stk, "ArpResolveFailed"), 1);
	assert_int_equal(t4_stat(p.a.stk, "IcmpInDestUnreachs"), 2);
	char b[8];
	assert_int_equal(ns_recv(p.a.stk, fd[0], b, sizeof(b), NS_MSG_DONTWAIT), -NS_EAGAIN);
	for (int i = 0; i < 2; i++)
		assert_int_equal(ns_close(p.a.stk, fd[i]), 0);
	ns_test_settle(&p);
	assert_int_equal(ns_test_pair_live(&p), 0);
	ns_test_pair_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_rules),
		cmocka_unit_test(test_error_quote_576),
		cmocka_unit_test(test_rate_limit_host),
		cmocka_unit_test(test_rate_limit_global),
		cmocka_unit_test(test_frag_needed_pmtu),
		cmocka_unit_test(test_locked_pmtu_clears_df),
		cmocka_unit_test(test_bad_icmp_input),
		cmocka_unit_test(test_timestamp_reply),
		cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_port_unreach_to_connected_udp),
		cmocka_unit_test(test_host_unreach_to_udp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
