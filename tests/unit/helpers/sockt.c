/*
 * tests/unit/helpers/sockt.c - see sockt.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "sockt.h"

struct sink {
	struct ns_link l;
	pthread_mutex_t mu;
	int count;
};

static int sink_write(struct ns_link *l, struct ns_pkt **pkts, int n)
{
	struct sink *s = (struct sink *)l;
	pthread_mutex_lock(&s->mu);
	s->count += n;
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < n; i++)
		ns_pkt_unref(pkts[i]);
	return n;
}

static void sink_close(struct ns_link *l)
{
	struct sink *s = (struct sink *)l;
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static const struct ns_link_ops sink_ops = { .write = sink_write, .close = sink_close };

void sockt_init(struct sockt *t)
{
	memset(t, 0, sizeof(*t));
	assert_int_equal(ns_stack_create(NULL, &t->stk), 0);
	struct sink *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	pthread_mutex_init(&s->mu, NULL);
	s->l.ops = &sink_ops;
	s->l.mtu = 1500;
	s->l.max_header_len = 14;
	memcpy(s->l.mac, "\x02\x00\x00\x00\x00\x01", 6);
	snprintf(s->l.name, sizeof(s->l.name), "sink0");
	t->link = &s->l;
	t->nic = ns_nic_add(t->stk, &s->l, "sink0");
	assert_true(t->nic > 0);
	struct ns_addr a;
	int plen;
	assert_int_equal(ns_addr_parse("198.18.0.1/24", &a, &plen), 0);
	assert_int_equal(ns_nic_addr_add(t->stk, t->nic, &a, plen), 0);
	assert_int_equal(ns_addr_parse("fd00:5eed::1/64", &a, &plen), 0);
	assert_int_equal(ns_nic_addr_add(t->stk, t->nic, &a, plen), 0);
	/* no DAD on a sink: make the address usable */
	ns__nic_addr_set_flags(t->stk, t->nic, &a, 0, NS_IFA_TENTATIVE);
}

void sockt_fini(struct sockt *t)
{
	ns_stack_destroy(t->stk);
	t->stk = NULL;
}

int sockt_sink_count(struct sockt *t)
{
	struct sink *s = (struct sink *)t->link;
	pthread_mutex_lock(&s->mu);
	int n = s->count;
	pthread_mutex_unlock(&s->mu);
	return n;
}

struct sockaddr_in sockt_sin(const char *ip, uint16_t port)
{
	struct sockaddr_in s;
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &s.sin_addr), 1);
	return s;
}

struct sockaddr_in6 sockt_sin6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 s;
	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	s.sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &s.sin6_addr), 1);
	return s;
}

void sockt_inject(struct sockt *t, const char *src, uint16_t sport, const char *dst, uint16_t dport,
		  const void *data, size_t len, bool bad_csum)
{
	struct ns_ip_meta m;
	memset(&m, 0, sizeof(m));
	assert_int_equal(ns_addr_parse(src, &m.src, NULL), 0);
	assert_int_equal(ns_addr_parse(dst, &m.dst, NULL), 0);
	m.nic = ns__nic_get(t->stk, t->nic);
	m.ttl = 64;
	m.proto = NS_IPPROTO_UDP;
	m.pkt_type = NS_PKT_HOST;
	if (m.dst.family == NS_AF_INET && (ns_addr_v4_u32(&m.dst) == 0xffffffffu ||
					   (ns_addr_v4_u32(&m.dst) & 0xff) == 0xff))
		m.pkt_type = NS_PKT_BROADCAST;
	struct ns_pkt *p = ns_pkt_alloc(ns_stack_pool(t->stk), 128, 8 + len);
	assert_non_null(p);
	uint8_t *u = ns_pkt_data(p);
	ns_store_be16(u, sport);
	ns_store_be16(u + 2, dport);
	ns_store_be16(u + 4, (uint16_t)(8 + len));
	ns_store_be16(u + 6, 0);
	if (len)
		memcpy(u + 8, data, len);
	uint32_t sum = ns_csum_pseudo(&m.src, &m.dst, NS_IPPROTO_UDP, (uint32_t)(8 + len));
	uint16_t c = ns_csum_fold(ns_csum_partial(u, 8 + len, sum));
	c = c ? c : 0xffff;
	ns_store_be16(u + 6, bad_csum ? (uint16_t)(c ^ 0x5a5a) : c);
	m.l3_off = p->data;
	ns__udp_rcv(t->stk, p, &m);
}
