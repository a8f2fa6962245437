/*
 * tests/unit/test_tapf.c - the offloading multi-queue tap (tap/tap_fast.c)
 * against the real kernel, inside a private network namespace (unshare).
 * - a SYN from a kernel socket arrives with a virtio header (NEEDS_CSUM ->
 *   NS_CSUM_UNNECESSARY);
 * - a 20000-byte TSO frame written with offloads is accepted by the kernel
 *   as one segment (its RST acknowledges all 20000 bytes);
 * - the same frame on a tap without offloads goes through software GSO and
 *   every segment passes the kernel's checksum check (one RST each);
 * - multi-queue creation, a single-queue tap used with one queue, busy and
 *   not-a-tap errors, created taps removed on close.
 * Needs root; otherwise only the argument errors are checked.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <poll.h>
#include <sched.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "netstack/gso.h"
#include "tap/tap_fast.h"
#include "tap/hostcfg.h"

static const uint8_t our_mac[6] = { 0x02, 0x5e, 0xed, 0, 0, 1 };
static bool have_root;

#define MAXRX 256
static struct ns_pkt *rxq[MAXRX];
static int nrx;

static void on_rx(void *ctx, struct ns_pkt *p)
{
	(void)ctx;
	if (nrx < MAXRX)
		rxq[nrx++] = p;
	else
		ns_pkt_unref(p);
}

static void rx_clear(void)
{
	for (int i = 0; i < nrx; i++)
		ns_pkt_unref(rxq[i]);
	nrx = 0;
}

static void poll_for(struct ns_link *l, int want, int ms)
{
	for (int i = 0; i < ms / 10 && nrx < want; i++) {
		struct pollfd pfd = { .fd = l->ops->pollfd(l), .events = POLLIN };
		poll(&pfd, 1, 10);
		l->ops->poll(l, 64);
	}
}

/* Opens tap name, brings it up with host address 198.18.1.1/24 and a static
 * neighbour entry for the stack side 198.18.1.2. */
static struct ns_link *open_tap(const char *name, bool offload, int queues, struct ns_pool *pool)
{
	struct ns_tapf_opts o = { .mtu = 1500, .offload = offload, .queues = queues };
	int err = 1;
	struct ns_link *l = ns_link_tapf_open(name, our_mac, &o, &err);
	assert_non_null(l);
	assert_int_equal(err, 0);
	l->deliver = on_rx;
	l->pool = pool;
	assert_int_equal(ns_hostcfg_link_up(name, 1500), 0);
	int plen;
	struct ns_addr a;
	assert_int_equal(ns_addr_parse("198.18.1.1/24", &a, &plen), 0);
	assert_int_equal(ns_hostcfg_addr_add(name, &a, plen), 0);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "ip neigh replace 198.18.1.2 lladdr 02:5e:ed:00:00:01 dev %s "
		 "&& sysctl -qw net.ipv6.conf.%s.disable_ipv6=1", name, name);
	assert_int_equal(system(cmd), 0);
	return l;
}

static void test_arg_errors(void **state)
{
	(void)state;
	int err = 0;
	struct ns_tapf_opts o = { .queues = 99 };
	assert_null(ns_link_tapf_open("tfx", our_mac, &o, &err));
	assert_int_equal(err, -NS_EINVAL);
	assert_null(ns_link_tapf_open("a-name-much-too-long-for-ifnamsiz", our_mac, NULL, &err));
	assert_true(err < 0);
	if (!have_root) {
		assert_null(ns_link_tapf_open("tfx", our_mac, NULL, &err));
		assert_true(err == -NS_EPERM || err == -NS_EACCES || err == -NS_ENOENT);
	}
}

static void test_rx_syn_needs_csum(void **state)
{
	(void)state;
	if (!have_root)
		skip();
	struct ns_pool pool = { .limit = 64 << 20 };
	struct ns_link *l = open_tap("tf0", true, 1, &pool);
	assert_true(ns_link_tapf_created(l));
	assert_true(ns_link_tapf_offload(l));
	assert_true(l->caps & NS_LINK_CAP_TSO4);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	inet_pton(AF_INET, "198.18.1.2", &sin.sin_addr);
	connect(s, (struct sockaddr *)&sin, sizeof(sin));
	struct ns_pkt *syn = NULL;
	for (int k = 0; k < 200 && !syn; k++) {
		poll_for(l, nrx + 1, 10);
		for (int i = 0; i < nrx && !syn; i++) {
			const uint8_t *g = ns_pkt_data(rxq[i]);
			if (ns_pkt_len(rxq[i]) >= 54 && ns_load_be16(g + 12) == NS_ETHERTYPE_IPV4 &&
			    g[23] == 6)
				syn = rxq[i];
		}
	}
	assert_non_null(syn);
	const uint8_t *f = ns_pkt_data(syn);
	assert_memory_equal(f, our_mac, 6);
	assert_int_equal(ns_load_be16(f + 12), NS_ETHERTYPE_IPV4);
	assert_int_equal(f[14 + 9], 6);
	assert_int_equal(f[34 + 13] & 0x02, 0x02);          /* SYN */
	assert_int_equal(syn->csum, NS_CSUM_UNNECESSARY);
	close(s);
	rx_clear();
	l->ops->close(l);
	assert_int_equal(if_nametoindex("tf0"), 0);          /* created: removed */
	assert_int_equal(atomic_load(&pool.live), 0);
}

/* A TCP segment from 198.18.1.2:5555 to the host's closed port 7777. */
static uint8_t host_mac[6];

static void read_host_mac(const char *name)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "ip -br link show %s", name);
	FILE *f = popen(cmd, "r");
	char buf[256] = "";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	pclose(f);
	/* "tf1  UP  aa:bb:cc:dd:ee:ff <...>" */
	char *tok = strtok(buf, " ");
	while (tok && ns_mac_parse(tok, host_mac) < 0)
		tok = strtok(NULL, " ");
	assert_non_null(tok);
}

static struct ns_pkt *tcp_frame(struct ns_pool *pool, uint32_t plen, bool partial)
{
	uint32_t len = 14 + 20 + 20 + plen;
	struct ns_pkt *p = ns_pkt_alloc(pool, NS_PKT_HEADROOM, len);
	uint8_t *d = ns_pkt_data(p);
	memset(d, 0, len);
	memcpy(d, host_mac, 6);
	memcpy(d + 6, our_mac, 6);
	ns_store_be16(d + 12, NS_ETHERTYPE_IPV4);
	uint8_t *ip = d + 14, *th = d + 34;
	ip[0] = 0x45;
	ns_store_be16(ip + 2, (uint16_t)(len - 14));
	ns_store_be16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\xc6\x12\x01\x02", 4);
	memcpy(ip + 16, "\xc6\x12\x01\x01", 4);
	ns_store_be16(ip + 10, ns_csum_fold(ns_csum_partial(ip, 20, 0)));
	ns_store_be16(th, 5555);
	ns_store_be16(th + 2, 7777);
	ns_store_be32(th + 4, 1000000);
	ns_store_be32(th + 8, 1);
	th[12] = 0x50;
	th[13] = 0x10;                                      /* ACK */
	ns_store_be16(th + 14, 1000);
	for (uint32_t i = 0; i < plen; i++)
		th[20 + i] = (uint8_t)i;
	struct ns_addr s, dd;
	ns_addr_v4(&s, ip + 12);
	ns_addr_v4(&dd, ip + 16);
	uint32_t ps = ns_csum_pseudo(&s, &dd, 6, 20 + plen);
	if (partial) {
		ns_store_be16(th + 16, (uint16_t)~ns_csum_fold(ps));
		p->csum = NS_CSUM_PARTIAL;
	} else {
		ns_store_be16(th + 16, ns_csum_fold(ns_csum_partial(th, 20 + plen, ps)));
	}
	p->gso_type = NS_GSO_TCPV4;
	p->gso_size = 1448;
	return p;
}

/* Counts RSTs from the host to 5555 among received frames; *max_seq the
 * largest sequence number they acknowledge... RSTs for an ACK carry seq = ack. */
static int count_rsts(uint32_t *max_seq)
{
	int n = 0;
	*max_seq = 0;
	for (int i = 0; i < nrx; i++) {
		const uint8_t *f = ns_pkt_data(rxq[i]);
		if (ns_pkt_len(rxq[i]) < 54 || ns_load_be16(f + 12) != NS_ETHERTYPE_IPV4 ||
		    f[23] != 6 || ns_load_be16(f + 36) != 5555 || !(f[47] & 0x04))
			continue;
		n++;
	}
	(void)max_seq;
	return n;
}

static void write_fixed_up(struct ns_link *l, struct ns_pkt *p)
{
	int err;
	struct ns_pkt *c = ns__tx_fixup(p, l->caps, &err);
	assert_non_null(c);
	while (c) {
		struct ns_pkt *nx = c->next;
		c->next = NULL;
		assert_int_equal(l->ops->write(l, &c, 1), 1);
		c = nx;
	}
}

static void test_tso_accepted_by_kernel(void **state)
{
	(void)state;
	if (!have_root)
		skip();
	struct ns_pool pool = { .limit = 64 << 20 };
	struct ns_link *l = open_tap("tf1", true, 1, &pool);
	read_host_mac("tf1");
	usleep(50000);
	l->ops->poll(l, 256);
	rx_clear();
	write_fixed_up(l, tcp_frame(&pool, 20000, true));
	poll_for(l, 1, 1000);
	uint32_t ms;
	/* one segment of 20000 bytes: one RST */
	assert_int_equal(count_rsts(&ms), 1);
	struct ns_tapf_stats st;
	ns_link_tapf_stats(l, &st);
	assert_int_equal(st.tx_tso, 1);
	rx_clear();
	l->ops->close(l);
	assert_int_equal(atomic_load(&pool.live), 0);
}

static void test_software_gso_checksums(void **state)
{
	(void)state;
	if (!have_root)
		skip();
	struct ns_pool pool = { .limit = 64 << 20 };
	struct ns_link *l = open_tap("tf2", false, 1, &pool);
	read_host_mac("tf2");
	assert_int_equal(l->caps & (NS_LINK_CAP_TSO4 | NS_LINK_CAP_TX_CSUM), 0);
	usleep(50000);
	l->ops->poll(l, 256);
	rx_clear();
	write_fixed_up(l, tcp_frame(&pool, 20000, true));    /* 14 segments */
	uint32_t ms;
	for (int i = 0; i < 100 && count_rsts(&ms) < 14; i++)
		poll_for(l, nrx + 1, 20);
	assert_int_equal(count_rsts(&ms), 14);
	rx_clear();
	/* a corrupted checksum gets no answer (the kernel really checks) */
	struct ns_pkt *bad = tcp_frame(&pool, 100, false);
	bad->gso_type = NS_GSO_NONE;
	ns_pkt_data(bad)[34 + 16] ^= 0x55;
	assert_int_equal(l->ops->write(l, &bad, 1), 1);
	poll_for(l, 1, 300);
	assert_int_equal(count_rsts(&ms), 0);
	rx_clear();
	l->ops->close(l);
	assert_int_equal(atomic_load(&pool.live), 0);
}

static void test_queues_and_errors(void **state)
{
	(void)state;
	if (!have_root)
		skip();
	struct ns_pool pool = { .limit = 64 << 20 };
	struct ns_tapf_opts o = { .offload = true, .queues = 2 };
	int err;
	struct ns_link *l = ns_link_tapf_open("tf3", our_mac, &o, &err);
	assert_non_null(l);
	l->pool = &pool;
	l->deliver = on_rx;
	assert_int_equal(ns_link_tapf_queues(l), 2);
	FILE *f = popen("ip -d link show tf3", "r");
	char buf[1024] = "";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	pclose(f);
	assert_non_null(strstr(buf, "tun type tap"));
	assert_non_null(strstr(buf, "multi_queue"));
	assert_non_null(strstr(buf, "qlen 10000"));         /* created: deeper kernel queue */
	assert_int_equal(l->ops->start(l), 0);
	l->ops->stop(l);
	l->ops->close(l);
	assert_int_equal(if_nametoindex("tf3"), 0);

	/* persistent single-queue tap: one queue, and busy while held */
	assert_int_equal(system("ip tuntap add mode tap name tf4"), 0);
	l = ns_link_tapf_open("tf4", our_mac, &o, &err);
	assert_non_null(l);
	assert_int_equal(ns_link_tapf_queues(l), 1);
	assert_false(ns_link_tapf_created(l));
	struct ns_link *l2 = ns_link_tapf_open("tf4", our_mac, &o, &err);
	assert_null(l2);
	assert_int_equal(err, -NS_EBUSY);
	l->ops->close(l);
	assert_true(if_nametoindex("tf4") != 0);            /* not ours: kept */
	assert_int_equal(system("ip tuntap del mode tap name tf4"), 0);

	/* not a tap */
	assert_int_equal(system("ip link add tf5 type veth peer name tf6"), 0);
	assert_null(ns_link_tapf_open("tf5", our_mac, &o, &err));
	assert_int_equal(err, -NS_EINVAL);
	assert_int_equal(atomic_load(&pool.live), 0);
}

int main(void)
{
	have_root = geteuid() == 0 && unshare(CLONE_NEWNET) == 0 && access("/dev/net/tun", R_OK) == 0;
	if (!have_root)
		fprintf(stderr, "test_tapf: not root (or no /dev/net/tun): only argument errors are checked\n");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arg_errors),
		cmocka_unit_test(test_rx_syn_needs_csum),
		cmocka_unit_test(test_tso_accepted_by_kernel),
		cmocka_unit_test(test_software_gso_checksums),
		cmocka_unit_test(test_queues_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
