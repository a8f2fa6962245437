/*
 * tests/unit/test_ipv6_fuzz.c - bad input never crashes, leaks or corrupts:
 * a hundred thousand mutated IPv6 frames (extension header chains,
 * fragments, ND/RA/MLD messages, ICMPv6 errors, truncations, random bytes)
 * from a seeded generator into one stack; afterwards the stack still
 * answers a plain echo and, once its timers ran out, holds no packet.
 * Run under ASan+UBSan by `make test`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include "helpers/ip6_test.h"
#include "ipv6/ipv6_internal.h"

#define SEC NS_NSEC_PER_SEC

static uint64_t rs = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs >> 16);
}

/* A plausible frame of one of several kinds, before mutation. */
static size_t template(struct ip6t *t, uint8_t *f, int kind)
{
	static const char *srcs[] = { "fd00:5eed::2", "fe80::1", "::", "fd00:5eed::3" };
	static const char *dsts[] = { "fd00:5eed::1", "ff02::1", "ff02::1:ff00:1", "fe80::5eff:feed:1" };
	struct ns_addr s = ip6t_addr(srcs[rnd() % 4]), d = ip6t_addr(dsts[rnd() % 4]);
	uint8_t dmac[6];
	if (d.b[0] == 0xff)
		ns__ip6_mcast_mac(&d, dmac);
	else
		memcpy(dmac, t->mac, 6);
	uint8_t pl[1600];
	size_t n = 8 + rnd() % 1200;
	for (size_t i = 0; i < n; i++)
		pl[i] = (uint8_t)rnd();
	uint8_t hl = rnd() % 2 ? 255 : (uint8_t)rnd();
	switch (kind) {
	case 0: {                       /* ICMPv6 of any type, checksummed */
		uint8_t types[] = { 1, 2, 3, 4, 128, 129, 130, 133, 134, 135, 136, 137, 143 };
		uint8_t ty = types[rnd() % sizeof(types)];
		if (ty >= 133 && ty <= 136) {
			/* mostly valid ND options */
			for (size_t o = 16 + (ty == 134 ? 0 : 8); o + 8 <= n; o += 8) {
				pl[o] = (uint8_t)(1 + rnd() % 5);
				pl[o + 1] = pl[o] == 3 ? 4 : 1;
				if (rnd() % 8 == 0)
					pl[o + 1] = (uint8_t)rnd() % 3;
			}
		}
		return ip6t_icmp6(f, dmac, t->peer_mac, &s, &d, hl, ty, (uint8_t)(rnd() % 3), rnd(),
				  pl, n);
	}
	case 1: {                       /* a chain of extension headers */
		uint8_t nhs[] = { 0, 43, 44, 60, 58, 17, 6, 59, 253 };
		size_t off = 0;
		uint8_t first = nhs[rnd() % sizeof(nhs)];
		while (off + 8 < n && rnd() % 4) {
			pl[off] = nhs[rnd() % sizeof(nhs)];
			pl[off + 1] = (uint8_t)(rnd() % 3);
			off += ((size_t)pl[off + 1] + 1) * 8;
		}
		return ip6t_frame(f, dmac, t->peer_mac, &s, &d, first, hl, pl, n);
	}
	default: {                      /* fragments of one of a few ids */
		pl[0] = rnd() % 2 ? 58 : 17;
		pl[1] = 0;
		ns_store_be16(pl + 2, (uint16_t)((rnd() % 64) * 8 | (rnd() % 2)));
		ns_store_be32(pl + 4, rnd() % 4);
		size_t len = 8 + ((rnd() % 2) ? (rnd() % 64) * 8 : rnd() % 600);
		if (len > n)
			len = n;
		return ip6t_frame(f, dmac, t->peer_mac, &s, &d, 44, hl, pl, len);
	}
	}
}

static void test_mutated_frames(void **state)
{
	(void)state;
	struct ip6t t;
	ip6t_init(&t, 0, 0);
	ip6t_addr_add(&t, "fd00:5eed::1", 64);
	ns_nic_set_slaac(t.stk, t.nic, true);
	ip6t_advance(&t, 3 * SEC);
	static uint8_t f[3000];
	for (int i = 0; i < 100000; i++) {
		size_t n = template(&t, f, (int)(rnd() % 3));
		int flips = (int)(rnd() % 4);
		for (int k = 0; k < flips; k++)
			f[14 + rnd() % (n - 14)] ^= (uint8_t)(1u << (rnd() % 8));
		if (rnd() % 5 == 0)
			n = 14 + rnd() % (n - 13);
		ip6t_inject(&t, f, n);
		if (i % 500 == 0) {
			ip6t_advance(&t, (uint64_t)(rnd() % 3000) * NS_NSEC_PER_MSEC);
			ip6t_drain(&t);
		}
	}
	ip6t_drain(&t);
	/* still healthy: a valid echo is answered */
	struct ns_addr s = ip6t_addr("fd00:5eed::2"), d = ip6t_addr("fd00:5eed::1");
	size_t n = ip6t_icmp6(f, t.mac, t.peer_mac, &s, &d, 64, NS_ICMP6_ECHO_REQUEST, 0, 1, "ok", 2);
	ip6t_inject(&t, f, n);
	ip6t_advance(&t, 5 * SEC);
	/* either the reply went out or it waits for / failed resolution; both fine,
	 * but nothing may be stuck once every timer ran out */
	ip6t_advance(&t, 7300 * SEC);
	ip6t_drain(&t);
	assert_true(ip6t_stat(&t, "Ip6InReceives") >= 100000);
	/* the mutations reached the interesting paths */
	static const char *seen[] = { "Ip6InHdrErrors", "Ip6ReasmReqds", "Ip6ReasmFails",
				      "Icmp6InMsgs", "Icmp6InErrors", "Icmp6InCsumErrors",
				      "Icmp6InNeighborSolicits", "Icmp6InRouterAdvertisements",
				      "Icmp6OutParmProblems", "Ip6InUnknownProtos" };
	for (size_t i = 0; i < NS_ARRAY_SIZE(seen); i++) {
		if (getenv("NS_TEST_VERBOSE"))
			fprintf(stderr, "%s %llu\n", seen[i], (unsigned long long)ip6t_stat(&t, seen[i]));
		assert_true(ip6t_stat(&t, seen[i]) > 0);
	}
	ip6t_fini(&t);                  /* asserts zero live packets */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutated_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
