/*
 * tests/unit/test_core.c - checksums, packet buffers, timers, routes,
 * address parsing, SipHash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "netstack/core.h"

static void test_csum_rfc1071(void **state)
{
	(void)state;
	/* RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
	const uint8_t d[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	assert_int_equal(ns_csum_partial(d, sizeof(d), 0), 0xddf2);
	assert_int_equal(ns_csum_fold(0xddf2), (uint16_t)~0xddf2);
	/* odd length pads with zero */
	const uint8_t o[] = { 0x12, 0x34, 0x56 };
	assert_int_equal(ns_csum_partial(o, 3, 0), 0x1234 + 0x5600);
	/* a real IPv4 header checksums to zero */
	const uint8_t ip[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			       0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	assert_int_equal(ns_csum_fold(ns_csum_partial(ip, sizeof(ip), 0)), 0);
	/* splitting at an even offset gives the same sum */
	uint8_t big[1001];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	uint32_t whole = ns_csum_partial(big, sizeof(big), 0);
	uint32_t split = ns_csum_partial(big + 500, 501, ns_csum_partial(big, 500, 0));
	assert_int_equal(ns_csum_fold(whole), ns_csum_fold(split));
}

static void test_pkt_push_pull(void **state)
{
	(void)state;
	struct ns_pool pool = { .limit = 1 << 20 };
	struct ns_pkt *p = ns_pkt_alloc(&pool, 64, 100);
	assert_non_null(p);
	assert_int_equal(ns_pkt_len(p), 100);
	assert_int_equal(ns_pkt_headroom(p), 64);
	uint8_t *h = ns_pkt_push(p, 20);
	assert_non_null(h);
	assert_int_equal(ns_pkt_len(p), 120);
	assert_null(ns_pkt_push(p, 45));        /* only 44 left */
	assert_non_null(ns_pkt_pull(p, 120));
	assert_null(ns_pkt_pull(p, 1));
	assert_int_equal(atomic_load(&pool.live), 1);
	struct ns_pkt *r = ns_pkt_ref(p);
	ns_pkt_unref(p);
	assert_int_equal(atomic_load(&pool.live), 1);
	ns_pkt_unref(r);
	assert_int_equal(atomic_load(&pool.live), 0);
	assert_int_equal(atomic_load(&pool.used), 0);
}

static void test_pkt_pool_limit_and_copy(void **state)
{
	(void)state;
	struct ns_pool pool = { .limit = 4096 };
	struct ns_pkt *a = ns_pkt_alloc(&pool, 0, 3000);
	assert_non_null(a);
	assert_null(ns_pkt_alloc(&pool, 0, 3000));     /* over the limit */
	assert_int_equal(atomic_load(&pool.fail), 1);
	memset(ns_pkt_data(a), 0xab, 3000);
	ns_pkt_unref(a);
	struct ns_pkt *b = ns_pkt_alloc(&pool, 16, 10);
	memcpy(ns_pkt_data(b), "0123456789", 10);
	struct ns_pkt *shared = ns_pkt_ref(b);
	struct ns_pkt *u = ns_pkt_unshare(shared);      /* refs 2: copies */
	assert_ptr_not_equal(u, b);
	assert_memory_equal(ns_pkt_data(u), "0123456789", 10);
	assert_int_equal(ns_pkt_headroom(u), 16);
	ns_pkt_unref(u);
	ns_pkt_unref(b);
	assert_int_equal(atomic_load(&pool.live), 0);
}

struct tstate {
	struct ns_vclock vc;
	struct ns_seeded_rng rng;
	struct ns_stack *stk;
};

static int setup_stack(void **state)
{
	struct tstate *t = calloc(1, sizeof(*t));
	t->vc.now = 1000 * NS_NSEC_PER_SEC;
	ns_seeded_rng_init(&t->rng, 1);
	struct ns_stack_opts o = { .clock = ns_vclock_clock(&t->vc), .rng = ns_seeded_rng(&t->rng) };
	if (ns_stack_create(&o, &t->stk) < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown_stack(void **state)
{
	struct tstate *t = *state;
	ns_stack_destroy(t->stk);
	free(t);
	return 0;
}

static int fired_order[16];
static int fired_n;
static void on_fire(void *arg)
{
	fired_order[fired_n++] = (int)(intptr_t)arg;
}

static void test_timers_order_and_cancel(void **state)
{
	struct tstate *t = *state;
	struct ns_timer tm[5];
	uint64_t base = t->vc.now;
	fired_n = 0;
	for (int i = 0; i < 5; i++)
		ns__timer_init(&tm[i], on_fire, (void *)(intptr_t)i);
	ns__timer_arm(t->stk, &tm[0], base + 50);
	ns__timer_arm(t->stk, &tm[1], base + 10);
	ns__timer_arm(t->stk, &tm[2], base + 30);
	ns__timer_arm(t->stk, &tm[3], base + 20);
	ns__timer_arm(t->stk, &tm[4], base + 40);
	ns__timer_cancel(t->stk, &tm[2]);
	ns__timer_arm(t->stk, &tm[0], base + 5);         /* move earlier */
	ns__timer_arm_earlier(t->stk, &tm[4], base + 100); /* later: ignored */
	uint64_t next;
	assert_int_equal(ns__timers_run(t->stk, &next), 0);
	assert_int_equal(next, base + 5);
	t->vc.now = base + 25;
	assert_int_equal(ns__timers_run(t->stk, &next), 3);
	assert_int_equal(fired_order[0], 0);
	assert_int_equal(fired_order[1], 1);
	assert_int_equal(fired_order[2], 3);
	assert_int_equal(next, base + 40);
	t->vc.now = base + 1000;
	assert_int_equal(ns__timers_run(t->stk, &next), 1);
	assert_int_equal(fired_order[3], 4);
	assert_int_equal(next, UINT64_MAX);
	assert_false(ns__timer_pending(t->stk, &tm[2]));
}

static int count_fired;
static void on_count(void *arg)
{
	(void)arg;
	count_fired++;
}

static void test_timers_many(void **state)
{
	struct tstate *t = *state;
	enum { N = 200000 };
	struct ns_timer *tm = calloc(N, sizeof(*tm));
	uint64_t base = t->vc.now;
	struct ns_seeded_rng r;
	ns_seeded_rng_init(&r, 7);
	count_fired = 0;
	for (int i = 0; i < N; i++) {
		ns__timer_init(&tm[i], on_count, NULL);
		ns__timer_arm(t->stk, &tm[i], base + 1 + ns_seeded_rng(&r).next_u64(&r) % 1000000);
	}
	for (int i = 0; i < N; i += 2)
		ns__timer_cancel(t->stk, &tm[i]);
	assert_int_equal(ns__timers_pending_count(t->stk), N / 2);
	/* fire in deadline order: check monotonic by sampling */
	uint64_t last = 0;
	for (uint64_t now = base; now <= base + 1000000; now += 50000) {
		t->vc.now = now;
		uint64_t next;
		ns__timers_run(t->stk, &next);
		assert_true(next == UINT64_MAX || next > now);
		assert_true(next >= last || next == UINT64_MAX);
		last = next == UINT64_MAX ? last : next;
	}
	assert_int_equal(ns__timers_pending_count(t->stk), 0);
	assert_int_equal(count_fired, N / 2);
	free(tm);
}

static void test_addr_parse(void **state)
{
	(void)state;
	struct ns_addr a;
	int plen = -1;
	char buf[64];
	assert_int_equal(ns_addr_parse("198.18.0.1/24", &a, &plen), 0);
	assert_int_equal(a.family, NS_AF_INET);
	assert_int_equal(plen, 24);
	assert_string_equal(ns_addr_fmt(&a, buf, sizeof(buf)), "198.18.0.1");
	assert_int_equal(ns_addr_parse("fd00:5eed::1/64", &a, &plen), 0);
	assert_int_equal(a.family, NS_AF_INET6);
	assert_int_equal(plen, 64);
	assert_int_equal(ns_addr_parse("198.18.0.1/33", &a, &plen), -NS_EINVAL);
	assert_int_equal(ns_addr_parse("198.18.0", &a, &plen), -NS_EINVAL);
	assert_int_equal(ns_addr_parse("1.2.3.4/", &a, &plen), -NS_EINVAL);
	uint8_t mac[6];
	assert_int_equal(ns_mac_parse("02:00:5e:00:00:01", mac), 0);
	assert_int_equal(mac[5], 1);
	assert_int_equal(ns_mac_parse("01:00:5e:00:00:01", mac), -NS_EINVAL);
	assert_int_equal(ns_mac_parse("02:00:5e:00:00", mac), -NS_EINVAL);
	assert_int_equal(ns_mac_parse("02:00:5e:00:00:01:07", mac), -NS_EINVAL);
}

static void test_siphash_vector(void **state)
{
	(void)state;
	/* Reference vector from the SipHash paper (appendix A): key 00..0f, message 00..0e. */
	uint64_t key[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	uint8_t msg[15];
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	assert_true(ns__siphash(key, msg, 15) == 0xa129ca6149be45e5ull);
}

/* A link endpoint that only counts writes, to hang NICs on. */
static int null_write(struct ns_link *l, struct ns_pkt **p, int n)
{
	(void)l;
	for (int i = 0; i < n; i++)
		ns_pkt_unref(p[i]);
	return n;
}
static void null_close(struct ns_link *l) { free(l); }
static const struct ns_link_ops null_ops = { .write = null_write, .close = null_close };
static struct ns_link *null_link(void)
{
	struct ns_link *l = calloc(1, sizeof(*l));
	l->ops = &null_ops;
	l->mtu = 1500;
	l->mac[0] = 2;
	return l;
}

static void test_route_lpm(void **state)
{
	struct tstate *t = *state;
	int n1 = ns_nic_add(t->stk, null_link(), "n1");
	int n2 = ns_nic_add(t->stk, null_link(), "n2");
	assert_int_equal(n1, 1);
	assert_int_equal(n2, 2);
	struct ns_addr a, gw, dst;
	int plen;
	ns_addr_parse("198.18.0.2/24", &a, &plen);
	assert_int_equal(ns_nic_addr_add(t->stk, n1, &a, plen), 0);
	assert_int_equal(ns_nic_addr_add(t->stk, n1, &a, plen), -NS_EEXIST);
	ns_addr_parse("198.19.0.2/16", &a, &plen);
	assert_int_equal(ns_nic_addr_add(t->stk, n2, &a, plen), 0);
	struct ns_route_result r;
	ns_addr_parse("8.8.8.8", &dst, NULL);
	assert_int_equal(ns__route_lookup(t->stk, &dst, 0, &r), -NS_ENETUNREACH);
	/* default via a gateway on n1, a more specific route via n2 */
	struct ns_addr any = { .family = NS_AF_INET };
	ns_addr_parse("198.18.0.1", &gw, NULL);
	assert_int_equal(ns_route_add(t->stk, &any, 0, &gw, n1), 0);
	ns_addr_parse("198.19.5.1", &gw, NULL);
	ns_addr_parse("198.18.128.0", &a, NULL);
	assert_int_equal(ns_route_add(t->stk, &a, 17, &gw, n2), 0);
	assert_int_equal(ns_route_add(t->stk, &a, 17, &gw, n2), -NS_EEXIST);
	assert_int_equal(ns__route_lookup(t->stk, &dst, 0, &r), 0);
	assert_int_equal(r.nic->id, n1);
	char buf[64];
	assert_string_equal(ns_addr_fmt(&r.nexthop, buf, sizeof(buf)), "198.18.0.1");
	assert_string_equal(ns_addr_fmt(&r.src, buf, sizeof(buf)), "198.18.0.2");
	/* on-link /24 beats the default; the /17 beats the on-link /24? no: /24 is longer */
	ns_addr_parse("198.18.0.77", &dst, NULL);
	assert_int_equal(ns__route_lookup(t->stk, &dst, 0, &r), 0);
	assert_int_equal(r.nic->id, n1);
	assert_string_equal(ns_addr_fmt(&r.nexthop, buf, sizeof(buf)), "198.18.0.77");
	ns_addr_parse("198.18.200.1", &dst, NULL);
	assert_int_equal(ns__route_lookup(t->stk, &dst, 0, &r), 0);
	assert_int_equal(r.nic->id, n2);
	assert_string_equal(ns_addr_fmt(&r.nexthop, buf, sizeof(buf)), "198.19.5.1");
	assert_string_equal(ns_addr_fmt(&r.src, buf, sizeof(buf)), "198.19.0.2");
	/* oif restricts */
	assert_int_equal(ns__route_lookup(t->stk, &dst, n1, &r), 0);
	assert_int_equal(r.nic->id, n1);
	assert_int_equal(ns_route_del(t->stk, &a, 17), 0);
	assert_int_equal(ns_route_del(t->stk, &a, 17), -NS_ESRCH);
	assert_int_equal(ns__route_lookup(t->stk, &dst, 0, &r), 0);
	assert_int_equal(r.nic->id, n1);
	/* local address lookup and broadcast */
	ns_addr_parse("198.18.0.2", &a, NULL);
	assert_ptr_equal(ns__addr_local(t->stk, &a, NULL), ns__nic_get(t->stk, n1));
	ns_addr_parse("198.18.0.255", &a, NULL);
	assert_true(ns__addr_is_bcast4(ns__nic_get(t->stk, n1), &a));
	assert_false(ns__addr_is_bcast4(ns__nic_get(t->stk, n2), &a));
	assert_int_equal(ns_stack_live_pkts(t->stk), 0);
}

static void test_stats_names(void **state)
{
	struct tstate *t = *state;
	uint64_t v = 99;
	assert_int_equal(ns_stat_get(t->stk, "IpInReceives", &v), 0);
	assert_int_equal(v, 0);
	NS_STAT_INC(t->stk, UdpNoPorts);
	assert_int_equal(ns_stat_get(t->stk, "UdpNoPorts", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ns_stat_get(t->stk, "NoSuchCounter", &v), -NS_ENOENT);
}

static void test_sysctl(void **state)
{
	struct tstate *t = *state;
	char buf[64];
	assert_int_equal(ns_sysctl_get(t->stk, "net.ipv4.tcp_rmem", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "4096\t131072\t6291456");     /* Linux's stock values */
	assert_int_equal(ns_sysctl_set(t->stk, "net.ipv4.tcp_rmem", "4096 540000 15728640"), 0);
	assert_int_equal(ns_sysctl_get(t->stk, "net/ipv4/tcp_rmem", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "4096\t540000\t15728640");
	/* a new TCP socket takes the default as its receive buffer */
	int fd = ns_socket(t->stk, NS_AF_INET, NS_SOCK_STREAM, 0);
	int v = 0;
	socklen_t l = sizeof(v);
	assert_int_equal(ns_getsockopt(t->stk, fd, NS_SOL_SOCKET, NS_SO_RCVBUF, &v, &l), 0);
	assert_int_equal(v, 540000);
	ns_close(t->stk, fd);
	assert_int_equal(ns_sysctl_set(t->stk, "net.ipv4.tcp_wmem", "4096 1 8"), -NS_EINVAL);
	assert_int_equal(ns_sysctl_set(t->stk, "net.ipv4.tcp_wmem", "0 1 8"), -NS_EINVAL);
	assert_int_equal(ns_sysctl_set(t->stk, "net.ipv4.tcp_wmem", "4096 16384"), -NS_EINVAL);
	assert_int_equal(ns_sysctl_set(t->stk, "net.ipv4.tcp_wmem", "4096 16384 4194304 9"), -NS_EINVAL);
	assert_int_equal(ns_sysctl_set(t->stk, "net.ipv4.no_such", "1 2 3"), -NS_ENOENT);
	assert_int_equal(ns_sysctl_set(t->stk, "kernel.hostname", "x"), -NS_ENOENT);
	assert_int_equal(ns_sysctl_get(t->stk, "net.ipv4.tcp_wmem", buf, 4), -NS_ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_rfc1071),
		cmocka_unit_test(test_pkt_push_pull),
		cmocka_unit_test(test_pkt_pool_limit_and_copy),
		cmocka_unit_test_setup_teardown(test_timers_order_and_cancel, setup_stack, teardown_stack),
		cmocka_unit_test_setup_teardown(test_timers_many, setup_stack, teardown_stack),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_siphash_vector),
		cmocka_unit_test_setup_teardown(test_route_lpm, setup_stack, teardown_stack),
		cmocka_unit_test_setup_teardown(test_stats_names, setup_stack, teardown_stack),
		cmocka_unit_test_setup_teardown(test_sysctl, setup_stack, teardown_stack),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
