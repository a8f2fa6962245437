/*
 * tests/unit/test_link_tap.c - the plain tap endpoint (tap/tap.c) against
 * the Linux kernel, in a private network namespace this process creates
 * (unshare(CLONE_NEWNET); it vanishes with the process): embedded mode
 * (ns_stack_poll + the endpoint's pollfd in our own poll loop) and threaded
 * mode (receive thread), UDP both ways with a kernel socket, ARP in both
 * directions, a created tap's counters, error codes.  Skipped unless root.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "tap/tap.h"
#include "tap/hostcfg.h"

#define TAP "nstu0"

static int in_own_netns = -1;

static int setup_ns(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		in_own_netns = 0;
		return 0;
	}
	in_own_netns = unshare(CLONE_NEWNET) == 0;
	return 0;
}

struct env {
	struct ns_stack *stk;
	struct ns_link *tap;
	int nic;
	int ks;                         /* kernel UDP socket on 198.18.0.1:5000 */
	int us;                         /* our UDP socket on 198.18.0.2:7000 */
};

static void env_up(struct env *e)
{
	static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0xed, 0x00, 0x02 };
	int err = 0;
	assert_int_equal(ns_stack_create(NULL, &e->stk), 0);
	e->tap = ns_link_tap_open(TAP, mac, NULL, &err);
	assert_non_null(e->tap);
	assert_int_equal(err, 0);
	assert_true(ns_link_tap_created(e->tap));
	e->nic = ns_nic_add(e->stk, e->tap, TAP);
	assert_true(e->nic > 0);
	struct ns_addr a, h;
	int plen;
	ns_addr_parse("198.18.0.2/24", &a, &plen);
	ns_addr_parse("198.18.0.1", &h, NULL);
	assert_int_equal(ns_nic_addr_add(e->stk, e->nic, &a, plen), 0);
	assert_int_equal(ns_hostcfg_link_up(TAP, 0), 0);
	assert_int_equal(ns_hostcfg_addr_add(TAP, &h, 24), 0);

	e->ks = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(e->ks >= 0);
	struct sockaddr_in ka = { .sin_family = AF_INET, .sin_port = htons(5000) };
	inet_pton(AF_INET, "198.18.0.1", &ka.sin_addr);
	/* the address may need a moment to become usable */
	int r = -1;
	for (int i = 0; i < 50 && r < 0; i++) {
		r = bind(e->ks, (struct sockaddr *)&ka, sizeof(ka));
		if (r < 0)
			usleep(20000);
	}
	assert_int_equal(r, 0);
	e->us = ns_socket(e->stk, NS_AF_INET, NS_SOCK_DGRAM, 0);
	assert_true(e->us >= 0);
	struct sockaddr_in ua = { .sin_family = NS_AF_INET, .sin_port = htons(7000) };
	assert_int_equal(ns_bind(e->stk, e->us, (struct sockaddr *)&ua, sizeof(ua)), 0);
}

static void env_down(struct env *e)
{
	close(e->ks);
	ns_close(e->stk, e->us);
	ns_stack_stop(e->stk);
	assert_int_equal(ns_stack_live_pkts(e->stk), 0);
	ns_stack_destroy(e->stk);
	/* a tap we created disappears with its descriptor */
	assert_int_equal(if_nametoindex(TAP), 0);
}

static void kernel_send(struct env *e, const char *msg)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(7000) };
	inet_pton(AF_INET, "198.18.0.2", &to.sin_addr);
	assert_int_equal(sendto(e->ks, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)strlen(msg));
}

static void ours_send(struct env *e, const char *msg)
{
	struct sockaddr_in to = { .sin_family = NS_AF_INET, .sin_port = htons(5000) };
	inet_pton(AF_INET, "198.18.0.1", &to.sin_addr);
	assert_int_equal(ns_sendto(e->stk, e->us, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)strlen(msg));
}

/* Embedded mode: our own poll loop over the stack's descriptors. */
static void pump_embedded(struct env *e, int ms)
{
	int fds[4];
	int n = ns_stack_pollfds(e->stk, fds, 4);
	assert_true(n >= 1);
	struct pollfd pf[4];
	for (int i = 0; i < n; i++)
		pf[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	poll(pf, (nfds_t)n, ms);
	ns_stack_poll(e->stk, NULL);
}

static void test_tap_embedded(void **state)
{
	(void)state;
	if (!in_own_netns)
		skip();
	struct env e;
	env_up(&e);
	char buf[64];
	ssize_t r = -NS_EAGAIN;
	/* kernel -> us: the kernel resolves our MAC first (ARP answered by poll) */
	kernel_send(&e, "to netstack");
	for (int i = 0; i < 500 && r == -NS_EAGAIN; i++) {
		pump_embedded(&e, 10);
		r = ns_recv(e.stk, e.us, buf, sizeof(buf), NS_MSG_DONTWAIT);
	}
	assert_int_equal(r, 11);
	assert_memory_equal(buf, "to netstack", 11);
	/* us -> kernel */
	ours_send(&e, "to linux");
	ssize_t k = -1;
	for (int i = 0; i < 500 && k < 0; i++) {
		pump_embedded(&e, 10);
		k = recv(e.ks, buf, sizeof(buf), MSG_DONTWAIT);
	}
	assert_int_equal(k, 8);
	assert_memory_equal(buf, "to linux", 8);
	struct ns_tap_stats st;
	ns_link_tap_stats(e.tap, &st);
	assert_true(st.rx_frames >= 2 && st.tx_frames >= 1);
	/* (tx_errors may count a gratuitous ARP written before the kernel side was up: EIO) */
	assert_int_equal(st.rx_drops, 0);
	env_down(&e);
}

static void test_tap_threaded(void **state)
{
	(void)state;
	if (!in_own_netns)
		skip();
	struct env e;
	env_up(&e);
	assert_int_equal(ns_stack_start(e.stk), 0);
	struct timeval tv = { .tv_sec = 5 };
	ns_setsockopt(e.stk, e.us, NS_SOL_SOCKET, NS_SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(e.ks, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[2048], big[1400];
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 100; i++) {
		kernel_send(&e, "ping");
		assert_int_equal(ns_recv(e.stk, e.us, buf, sizeof(buf), 0), 4);
		/* a near-MTU reply */
		struct sockaddr_in to = { .sin_family = NS_AF_INET, .sin_port = htons(5000) };
		inet_pton(AF_INET, "198.18.0.1", &to.sin_addr);
		assert_int_equal(ns_sendto(e.stk, e.us, big, sizeof(big), 0, (struct sockaddr *)&to,
					   sizeof(to)), (ssize_t)sizeof(big));
		assert_int_equal(recv(e.ks, buf, sizeof(buf), 0), (ssize_t)sizeof(big));
	}
	env_down(&e);
}

static void test_tap_errors(void **state)
{
	(void)state;
	if (!in_own_netns)
		skip();
	int err = 0;
	/* "lo" exists and is not a tap */
	assert_null(ns_link_tap_open("lo", NULL, NULL, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(ns_link_tap_open("a-name-far-too-long-for-linux", NULL, NULL, &err));
	assert_int_equal(err, -ENAMETOOLONG);
	/* a second open of a tap in use: busy */
	struct ns_link *t = ns_link_tap_open(TAP, NULL, NULL, &err);
	assert_non_null(t);
	assert_null(ns_link_tap_open(TAP, NULL, NULL, &err));
	assert_int_equal(err, -EBUSY);
	t->ops->close(t);
	assert_int_equal(if_nametoindex(TAP), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tap_embedded),
		cmocka_unit_test(test_tap_threaded),
		cmocka_unit_test(test_tap_errors),
	};
	return cmocka_run_group_tests(tests, setup_ns, NULL);
}
