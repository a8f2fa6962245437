/*
 * tests/unit/test_ipv6_reasm.c - IPv6 reassembly edge cases: in order, out
 * of order, exact duplicates, overlaps (RFC 5722: the whole datagram goes),
 * atomic fragments (RFC 6946), a first fragment without the whole header
 * chain (RFC 7112), lengths not a multiple of 8, beyond 65535, the 60 s
 * timeout with time exceeded only when the first fragment came, and the
 * stack-wide memory bound.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "helpers/ip6_test.h"
#include "ipv6/ipv6_internal.h"

#define SEC NS_NSEC_PER_SEC
static const char *US = "fd00:5eed::1", *PEER = "fd00:5eed::2";
static uint8_t msg[70000];
static size_t msg_len;

static void setup(struct ip6t *t)
{
	ip6t_init(t, NS_STACK_F_NODAD, 0);
	ip6t_addr_add(t, US, 64);
	ip6t_advance(t, SEC);
	struct ns_addr p = ip6t_addr(PEER);
	ns__nd_learn_locked(ns__nd(ns__nic_get(t->stk, t->nic)), &p, t->peer_mac, false,
			    &(struct ns_nd_work){ 0 });
	ip6t_drain(t);
}

/* An echo request of len bytes of data (checksummed as a whole) in msg. */
static void make_echo(size_t len)
{
	uint8_t f[70100];
	static uint8_t body[66000];
	for (size_t i = 0; i < len; i++)
		body[i] = (uint8_t)(i * 11 + 3);
	struct ns_addr s = ip6t_addr(PEER), d = ip6t_addr(US);
	uint8_t m[6] = { 0 };
	size_t n = ip6t_icmp6(f, m, m, &s, &d, 64, NS_ICMP6_ECHO_REQUEST, 0, 0x77770001, body, len);
	msg_len = n - 54;
	memcpy(msg, f + 54, msg_len);
}

static uint8_t frag_nh = 58;

/* Fragment [off, off+len) of msg with id; more = M flag. */
static void frag(struct ip6t *t, uint32_t id, size_t off, size_t len, bool more)
{
	static uint8_t f[70100], pl[70000];
	pl[0] = frag_nh;
	pl[1] = 0;
	ns_store_be16(pl + 2, (uint16_t)(off | (more ? 1 : 0)));
	ns_store_be32(pl + 4, id);
	memcpy(pl + 8, msg + off, len);
	struct ns_addr s = ip6t_addr(PEER), d = ip6t_addr(US);
	size_t n = ip6t_frame(f, t->mac, t->peer_mac, &s, &d, NS_NH_FRAGMENT, 64, pl, 8 + len);
	ip6t_inject(t, f, n);
}

/* The reply to the reassembled echo, checked against msg; false if none. */
static bool echo_back(struct ip6t *t)
{
	uint8_t got[70000];
	size_t have = 0;
	struct ns_pkt *p;
	struct ip6t_pkt o;
	bool any = false;
	while ((p = ip6t_take(t))) {
		if (ip6t_parse(p, &o) == 0 && o.proto == 58) {
			size_t off = o.has_frag ? (o.frag_off & 0xfff8) : 0;
			memcpy(got + off, o.l4, o.l4_len);
			have = NS_MAX(have, off + o.l4_len);
			any = true;
		}
		ns_pkt_unref(p);
	}
	if (!any || have != msg_len)
		return false;
	return got[0] == NS_ICMP6_ECHO_REPLY && memcmp(got + 4, msg + 4, msg_len - 4) == 0;
}

static void test_in_order_out_of_order_dup(void **state)
{
	(void)state;
	struct ip6t t;
	setup(&t);
	make_echo(3000);
	frag(&t, 1, 0, 1232, true);
	frag(&t, 1, 1232, 1232, true);
	frag(&t, 1, 2464, msg_len - 2464, false);
	assert_true(echo_back(&t));
	/* reverse order with an exact duplicate in the middle */
	frag(&t, 2, 2464, msg_len - 2464, false);
	frag(&t, 2, 1232, 1232, true);
	frag(&t, 2, 1232, 1232, true);
	assert_int_equal(ns__ip6_reasm_count(t.stk), 1);
	frag(&t, 2, 0, 1232, true);
	assert_true(echo_back(&t));
	/* many small pieces, shuffled */
	make_echo(8000);
	size_t offs[64];
	int n = 0;
	for (size_t o = 0; o < msg_len; o += 512)
		offs[n++] = o;
	for (int i = n - 1; i > 0; i -= 2) {
		size_t x = offs[i];
		offs[i] = offs[i / 2];
		offs[i / 2] = x;
	}
	for (int i = 0; i < n; i++) {
		size_t len = NS_MIN((size_t)512, msg_len - offs[i]);
		frag(&t, 3, offs[i], len, offs[i] + len < msg_len);
	}
	assert_true(echo_back(&t));
	assert_int_equal(ip6t_stat(&t, "Ip6ReasmOKs"), 3);
	assert_int_equal(ip6t_stat(&t, "Ip6ReasmFails"), 0);
	assert_int_equal(ns__ip6_reasm_count(t.stk), 0);
	assert_int_equal(ns__ip6_reasm_mem(t.stk), 0);
	ip6t_fini(&t);
}

static void test_overlap_drops_datagram(void **state)
{
	(void)state;
	struct ip6t t;
	setup(&t);
	make_echo(3000);
	frag(&t, 9, 0, 1232, true);
	frag(&t, 9, 1224, 1232, true);          /* overlaps the first by 8 bytes */
	assert_int_equal(ip6t_stat(&t, "Ip6ReasmFails"), 1);
	assert_int_equal(ns__ip6_reasm_count(t.stk), 0);
	frag(&t, 9, 2456, msg_len - 2456, false);
	assert_false(echo_back(&t));
	/* a fragment inside an earlier one but not equal to it: overlap too */
	frag(&t, 10, 0, 1232, true);
	frag(&t, 10, 8, 16, true);              /* contained: a duplicate, Linux keeps the queue */
	assert_int_equal(ns__ip6_reasm_count(t.stk), 2);
	frag(&t, 10, 1200, 64, true);           /* straddles: overlap */
	assert_int_equal(ip6t_stat(&t, "Ip6ReasmFails"), 2);
	/* the last fragment disagreeing with the known total length */
	frag(&t, 11, 1232, 800, false);
	frag(&t, 11, 1232, 808, false);
	assert_int_equal(ip6t_stat(&t, "Ip6ReasmFails"), 3);
	ip6t_advance(&t, 61 * SEC);             /* the leftovers (id 9 tail) time out */
	ip6t_drain(&t);
	assert_int_equal(ns__ip6_reasm_count(t.stk), 0);
	ip6t_fini(&t);
}

static void test_atomic_and_header_rules(void **state)
{
	(void)state;
	struct ip6t t;
	setup(&t);
	make_echo(100);
	/* offset 0 and M 0: processed alone, even with a queue of the same id */
	frag(&t, 5, 0, 1232 > msg_len ? 96 : 1232, true);
	frag(&t, 5, 0, msg_len, false);
	assert_true(echo_back(&t));
	assert_int_equal(ns__ip6_reasm_count(t.stk), 1);
	/* non-last fragment not a multiple of 8: parameter problem, pointer 4 */
	make_echo(3000);
	frag(&t, 6, 0, 1001, true);
	struct ip6t_pkt o;
	struct ns_pkt *p = ip6t_take_icmp(&t, NS_ICMP6_PARAM_PROB, &o);
	assert_non_null(p);
	assert_int_equal(o.l4[1], NS_ICMP6_HDR_FIELD);
	assert_int_equal(ns_load_be32(o.l4 + 4), 4);
	ns_pkt_unref(p);
	/* ending beyond 65535: pointer at the fragment offset field */
	frag(&t, 7, 65528, 16, false);
	p = ip6t_take_icmp(&t, NS_ICMP6_PARAM_PROB, &o);
	assert_non_null(p);
	assert_int_equal(ns_load_be32(o.l4 + 4), 42);
	ns_pkt_unref(p);
	/* RFC 7112: a first fragment whose header chain ends past it */
	memset(msg, 0, 16);
	msg[0] = NS_NH_UDP;                      /* destination options -> UDP ... */
	frag_nh = NS_NH_DSTOPTS;
	frag(&t, 8, 0, 8, true);                 /* ... but the UDP header is not here */
	frag_nh = 58;
	p = ip6t_take_icmp(&t, NS_ICMP6_PARAM_PROB, &o);
	assert_non_null(p);
	assert_int_equal(o.l4[1], NS_ICMP6_HDR_INCOMP);
	assert_int_equal(ns_load_be32(o.l4 + 4), 0);
	ns_pkt_unref(p);
	assert_int_equal(ns__ip6_reasm_count(t.stk), 1);   /* only id 5 waits */
	ip6t_advance(&t, 70 * SEC);     /* its time exceeded waits for ND to fail */
	ip6t_drain(&t);
	ip6t_fini(&t);
}

static void test_timeout_time_exceeded(void **state)
{
	(void)state;
	struct ip6t t;
	setup(&t);
	make_echo(3000);
	frag(&t, 20, 0, 1232, true);             /* first fragment, then nothing */
	frag(&t, 21, 1232, 1232, true);          /* no first fragment */
	ip6t_advance(&t, 59 * SEC);
	assert_int_equal(ns__ip6_reasm_count(t.stk), 2);
	ip6t_drain(&t);
	ip6t_advance(&t, 2 * SEC);
	assert_int_equal(ns__ip6_reasm_count(t.stk), 0);
	assert_int_equal(ip6t_stat(&t, "Ip6ReasmTimeout"), 2);
	struct ip6t_pkt o;
	struct ns_pkt *p = ip6t_take_icmp(&t, NS_ICMP6_TIME_EXCEEDED, &o);
	assert_non_null(p);
	assert_int_equal(o.l4[1], NS_ICMP6_EXC_FRAGTIME);
	assert_memory_equal(o.dst.b, ip6t_addr(PEER).b, 16);
	/* it quotes the first fragment, fragment header included */
	assert_int_equal(o.l4[8 + 6], NS_NH_FRAGMENT);
	assert_int_equal(ns_load_be32(o.l4 + 8 + 44), 20);
	ns_pkt_unref(p);
	assert_null(ip6t_take_icmp(&t, NS_ICMP6_TIME_EXCEEDED, &o));
	assert_int_equal(ip6t_stat(&t, "Icmp6OutTimeExcds"), 1);
	ip6t_fini(&t);
}

static void test_memory_bound(void **state)
{
	(void)state;
	struct ip6t t;
	setup(&t);
	make_echo(3000);
	/* thousands of incomplete datagrams: memory stays under the bound */
	for (uint32_t id = 100; id < 4100; id++)
		frag(&t, id, 1232, 1232, true);
	assert_true(ns__ip6_reasm_mem(t.stk) <= NS_IP6_REASM_HIGH);
	assert_true(ip6t_stat(&t, "Ip6ReasmFails") > 0);
	/* a complete datagram still gets through */
	frag(&t, 9999, 0, 1232, true);
	frag(&t, 9999, 1232, 1232, true);
	frag(&t, 9999, 2464, msg_len - 2464, false);
	assert_true(echo_back(&t));
	ip6t_advance(&t, 61 * SEC);
	ip6t_drain(&t);
	assert_int_equal(ns__ip6_reasm_mem(t.stk), 0);
	ip6t_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_out_of_order_dup),
		cmocka_unit_test(test_overlap_drops_datagram),
		cmocka_unit_test(test_atomic_and_header_rules),
		cmocka_unit_test(test_timeout_time_exceeded),
		cmocka_unit_test(test_memory_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
