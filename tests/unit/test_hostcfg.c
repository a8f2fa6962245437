/*
 * tests/unit/test_hostcfg.c - host-side configuration over rtnetlink
 * (tap/hostcfg.c) on a veth pair inside a private network namespace
 * (unshare: nothing outlives the process).  Link up + MTU, IPv4 and IPv6
 * addresses (adding twice is fine), routes, and errors for a missing
 * device.  Without root only the missing-device errors are checked.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <sched.h>
#include <unistd.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "tap/hostcfg.h"

static bool have_root;

/* Runs cmd and checks its output contains want. */
static void expect_output(const char *cmd, const char *want)
{
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	pclose(f);
	if (!strstr(buf, want))
		fail_msg("'%s' output lacks '%s':\n%s", cmd, want, buf);
}

static struct ns_addr addr(const char *s, int *plen)
{
	struct ns_addr a;
	assert_int_equal(ns_addr_parse(s, &a, plen), 0);
	return a;
}

static void test_missing_device(void **state)
{
	(void)state;
	int plen = 0;
	struct ns_addr a = addr("198.18.7.1/24", &plen);
	assert_int_equal(ns_hostcfg_addr_add("ns-missing0", &a, plen), -NS_ENODEV);
	assert_int_equal(ns_hostcfg_route_add("ns-missing0", &a, plen, NULL), -NS_ENODEV);
	assert_int_equal(ns_hostcfg_link_up("ns-missing0", 1500), -NS_ENODEV);
}

static void test_configure(void **state)
{
	(void)state;
	if (!have_root)
		skip();
	assert_int_equal(ns_hostcfg_link_up("hc0", 4000), 0);
	expect_output("ip link show hc0", "mtu 4000");
	expect_output("ip link show hc0", ",UP");
	int plen;
	struct ns_addr a4 = addr("198.18.7.1/24", &plen);
	assert_int_equal(ns_hostcfg_addr_add("hc0", &a4, plen), 0);
	assert_int_equal(ns_hostcfg_addr_add("hc0", &a4, plen), 0);     /* exists: fine */
	expect_output("ip -4 addr show hc0", "inet 198.18.7.1/24");
	struct ns_addr a6 = addr("fd00:5eed:7::1/64", &plen);
	assert_int_equal(ns_hostcfg_addr_add("hc0", &a6, plen), 0);
	expect_output("ip -6 addr show hc0", "inet6 fd00:5eed:7::1/64");
	struct ns_addr d = addr("198.19.9.0/24", &plen), gw = addr("198.18.7.2", NULL);
	assert_int_equal(ns_hostcfg_route_add("hc0", &d, plen, &gw), 0);
	expect_output("ip -4 route show", "198.19.9.0/24 via 198.18.7.2 dev hc0");
	struct ns_addr h = addr("198.19.10.5/32", &plen);
	assert_int_equal(ns_hostcfg_route_add("hc0", &h, plen, NULL), 0);
	expect_output("ip -4 route show", "198.19.10.5 dev hc0");
	struct ns_addr d6 = addr("fd00:5eed:8::/64", &plen), gw6 = addr("fd00:5eed:7::2", NULL);
	assert_int_equal(ns_hostcfg_route_add("hc0", &d6, plen, &gw6), 0);
	expect_output("ip -6 route show", "fd00:5eed:8::/64 via fd00:5eed:7::2 dev hc0");
}

int main(void)
{
	have_root = geteuid() == 0 && unshare(CLONE_NEWNET) == 0 &&
		    system("ip link add hc0 type veth peer name hc1 && ip link set hc1 up") == 0;
	if (!have_root)
		fprintf(stderr, "test_hostcfg: not root: only the missing-device errors are checked\n");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_device),
		cmocka_unit_test(test_configure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
