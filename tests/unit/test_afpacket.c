/*
 * tests/unit/test_afpacket.c - the AF_PACKET endpoint (link/afpacket.c) on a
 * veth pair inside a private network namespace (unshare(CLONE_NEWNET): the
 * namespace and the veth pair vanish with the process).  Checks the MAC
 * filter, embedded-mode delivery, batched transmit, TSO frames handed to
 * the kernel whole, fanout over two threads keeping each flow on one
 * thread, and the error codes.  Needs root; without it only the error
 * paths that need no privilege are checked (and the reason is printed).
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
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "link/afpacket.h"

static const uint8_t our_mac[6] = { 0x02, 0x5e, 0xed, 0, 0, 1 };
static const uint8_t peer_mac[6] = { 0x02, 0x5e, 0xed, 0, 0, 2 };
static bool have_root;

#define MAXRX 4096
struct rx_log {
	pthread_mutex_t mu;
	int n;
	uint32_t len[MAXRX];
	uint16_t port[MAXRX];           /* UDP source port of the frame */
	pthread_t thr[MAXRX];
	uint8_t first[MAXRX][16];
};
static struct rx_log rxl = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void on_rx(void *ctx, struct ns_pkt *p)
{
	(void)ctx;
	pthread_mutex_lock(&rxl.mu);
	if (rxl.n < MAXRX) {
		const uint8_t *f = ns_pkt_data(p);
		rxl.len[rxl.n] = ns_pkt_len(p);
		rxl.port[rxl.n] = ns_pkt_len(p) >= 36 ? ns_load_be16(f + 34) : 0;
		rxl.thr[rxl.n] = pthread_self();
		memcpy(rxl.first[rxl.n], f, 16);
		rxl.n++;
	}
	pthread_mutex_unlock(&rxl.mu);
	ns_pkt_unref(p);
}

static int rx_count(void)
{
	pthread_mutex_lock(&rxl.mu);
	int n = rxl.n;
	pthread_mutex_unlock(&rxl.mu);
	return n;
}

static int raw_socket(const char *ifname)
{
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	assert_true(fd >= 0);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)if_nametoindex(ifname) };
	assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return fd;
}

/* An IPv4/UDP frame from peer to dst with source port sport, plen payload bytes. */
static size_t make_frame(uint8_t *f, const uint8_t dst[6], uint16_t sport, size_t plen)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, peer_mac, 6);
	ns_store_be16(f + 12, NS_ETHERTYPE_IPV4);
	uint8_t *ip = f + 14;
	memset(ip, 0, 28);
	ip[0] = 0x45;
	ns_store_be16(ip + 2, (uint16_t)(28 + plen));
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\xc6\x12\x00\x02", 4);
	memcpy(ip + 16, "\xc6\x12\x00\x01", 4);
	ns_store_be16(ip + 10, ns_csum_fold(ns_csum_partial(ip, 20, 0)));
	ns_store_be16(ip + 20, sport);
	ns_store_be16(ip + 22, 9);
	ns_store_be16(ip + 24, (uint16_t)(8 + plen));
	for (size_t i = 0; i < plen; i++)
		ip[28 + i] = (uint8_t)(i + sport);
	return 14 + 28 + plen;
}

static int ring_mode;                   /* NS_PACKET_RING_V3 or _V2 for the next test */

static struct ns_link *open_link(int nthreads, struct ns_pool *pool)
{
	int err = 1;
	struct ns_packet_opts o = { .nthreads = nthreads, .ring = ring_mode };
	struct ns_link *l = ring_mode == NS_PACKET_RING_V3 && nthreads == 1
		? ns_link_packet_open("nsb", our_mac, nthreads, &err)
		: ns_link_packet_open_opts("nsb", our_mac, &o, &err);
	assert_non_null(l);
	assert_int_equal(err, 0);
	l->deliver = on_rx;
	l->pool = pool;
	return l;
}

/* Polls (embedded mode) until want frames arrived or 2 s passed. */
static void poll_until(struct ns_link *l, int want)
{
	for (int i = 0; i < 200 && rx_count() < want; i++) {
		struct pollfd pfd = { .fd = l->ops->pollfd(l), .events = POLLIN };
		poll(&pfd, 1, 10);
		l->ops->poll(l, 256);
	}
}

static void test_errors(void **state)
{
	(void)state;
	int err = 0;
	assert_null(ns_link_packet_open("ns-no-such-if0", our_mac, 1, &err));
	assert_int_equal(err, -NS_ENODEV);
	assert_null(ns_link_packet_open("lo", our_mac, 0, &err));
	assert_int_equal(err, -NS_EINVAL);
	assert_null(ns_link_packet_open("lo", our_mac, 99, &err));
	assert_int_equal(err, -NS_EINVAL);
	assert_null(ns_link_packet_open("a-name-much-too-long-for-ifnamsiz", our_mac, 1, &err));
	assert_int_equal(err, -NS_EINVAL);
	if (!have_root) {
		assert_null(ns_link_packet_open("lo", our_mac, 1, &err));
		assert_int_equal(err, -NS_EPERM);
		return;
	}
	/* an interface that is down */
	assert_int_equal(system("ip link add nsdown type veth peer name nsdown1"), 0);
	assert_null(ns_link_packet_open("nsdown", our_mac, 1, &err));
	assert_int_equal(err, -NS_ENETDOWN);
}

static void test_rx_filter_and_tx(void **state)
{
	ring_mode = (int)(intptr_t)*state;
	if (!have_root)
		skip();
	struct ns_pool pool = { .limit = 64 << 20 };
	struct ns_link *l = open_link(1, &pool);
	assert_int_equal(l->mtu, 1500);
	assert_true(l->caps & NS_LINK_CAP_RX_CSUM);
	rxl.n = 0;
	int fd = raw_socket("nsa");
	uint8_t f[9000];
	static const uint8_t other[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	size_t n;
	n = make_frame(f, other, 1000, 100);             /* not ours: filtered */
	assert_int_equal(send(fd, f, n, 0), (ssize_t)n);
	n = make_frame(f, our_mac, 1001, 100);
	assert_int_equal(send(fd, f, n, 0), (ssize_t)n);
	n = make_frame(f, bcast, 1002, 50);
	assert_int_equal(send(fd, f, n, 0), (ssize_t)n);
	n = make_frame(f, our_mac, 1003, 1472);          /* full-sized */
	assert_int_equal(send(fd, f, n, 0), (ssize_t)n);
	poll_until(l, 3);
	usleep(20000);
	l->ops->poll(l, 256);
	assert_int_equal(rx_count(), 3);
	assert_int_equal(rxl.port[0], 1001);
	assert_int_equal(rxl.len[0], 14 + 28 + 100);
	assert_memory_equal(rxl.first[0], our_mac, 6);
	assert_int_equal(rxl.port[1], 1002);
	assert_int_equal(rxl.port[2], 1003);
	assert_int_equal(rxl.len[2], 1514);
	assert_int_equal(atomic_load(&pool.live), 0);

	/* transmit a batch of 100 frames in one write */
	struct ns_pkt *batch[100];
	for (int i = 0; i < 100; i++) {
		size_t fl = make_frame(f, peer_mac, (uint16_t)(2000 + i), 200);
		batch[i] = ns_pkt_alloc(&pool, NS_PKT_HEADROOM, fl);
		assert_non_null(batch[i]);
		uint8_t *d = ns_pkt_data(batch[i]);
		memcpy(d, f, fl);
		memcpy(d + 6, our_mac, 6);
	}
	assert_int_equal(l->ops->write(l, batch, 100), 100);
	int got = 0;
	for (int i = 0; i < 2000 && got < 100; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(fd, f, sizeof(f), 0, (struct sockaddr *)&from, &fl);
		if (r <= 0 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		assert_int_equal(r, 14 + 28 + 200);
		assert_memory_equal(f + 6, our_mac, 6);
		assert_int_equal(ns_load_be16(f + 34), 2000 + got);    /* in order */
		got++;
	}
	assert_int_equal(got, 100);
	struct ns_link_packet_stats st;
	ns_link_packet_stats(l, &st);
	assert_int_equal(st.tx_frames, 100);
	assert_true(st.tx_calls <= 4);                  /* batched */
	assert_int_equal(st.rx_frames, 3);
	close(fd);
	l->ops->close(l);
	assert_int_equal(atomic_load(&pool.live), 0);
}

static void test_fanout_threads(void **state)
{
	ring_mode = (int)(intptr_t)*state;
	if (!have_root)
		skip();
	struct ns_pool pool = { .limit = 64 << 20 };
	struct ns_link *l = open_link(2, &pool);
	rxl.n = 0;
	assert_int_equal(l->ops->start(l), 0);
	int fd = raw_socket("nsa");
	uint8_t f[256];
	const int flows = 32, per = 20;
	/* one round of 32 frames at a time: a TPACKET_V2 ring has 128 slots
	 * per thread and drops (counted by the kernel) what does not fit */
	for (int k = 0; k < per; k++) {
		for (int i = 0; i < flows; i++) {
			size_t n = make_frame(f, our_mac, (uint16_t)(3000 + i), 64);
			assert_int_equal(send(fd, f, n, 0), (ssize_t)n);
		}
		for (int i = 0; i < 300 && rx_count() < flows * (k + 1); i++)
			usleep(1000);
	}
	for (int i = 0; i < 300 && rx_count() < flows * per; i++)
		usleep(10000);
	l->ops->stop(l);
	assert_int_equal(rx_count(), flows * per);
	/* every flow on exactly one thread; both threads used */
	pthread_t first = rxl.thr[0];
	bool other_seen = false;
	for (int i = 0; i < flows; i++) {
		pthread_t t = 0;
		bool seen = false;
		for (int j = 0; j < rxl.n; j++) {
			if (rxl.port[j] != 3000 + i)
				continue;
			if (!seen)
				t = rxl.thr[j];
			else
				assert_true(pthread_equal(t, rxl.thr[j]));
			seen = true;
		}
		assert_true(seen);
		if (!pthread_equal(t, first))
			other_seen = true;
	}
	assert_true(other_seen);
	close(fd);
	l->ops->close(l);
	assert_int_equal(atomic_load(&pool.live), 0);
}

/* A 20000-byte TSO frame goes to the kernel whole with a virtio header; the
 * peer sees one GSO packet with a correct (partial) TCP checksum. */
static void test_tso_to_kernel(void **state)
{
	ring_mode = NS_PACKET_RING_V3;
	(void)state;
	if (!have_root)
		skip();
	struct ns_pool pool = { .limit = 64 << 20 };
	struct ns_link *l = open_link(1, &pool);
	if (!(l->caps & NS_LINK_CAP_TSO4)) {
		l->ops->close(l);
		skip();
	}
	int fd = raw_socket("nsa");
	uint32_t plen = 20000, len = 14 + 20 + 20 + plen;
	struct ns_pkt *p = ns_pkt_alloc(&pool, NS_PKT_HEADROOM, len);
	uint8_t *d = ns_pkt_data(p);
	memset(d, 0, len);
	memcpy(d, peer_mac, 6);
	memcpy(d + 6, our_mac, 6);
	ns_store_be16(d + 12, NS_ETHERTYPE_IPV4);
	uint8_t *ip = d + 14, *th = d + 34;
	ip[0] = 0x45;
	ns_store_be16(ip + 2, (uint16_t)(len - 14));
	ns_store_be16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\xc6\x12\x00\x01", 4);
	memcpy(ip + 16, "\xc6\x12\x00\x02", 4);
	ns_store_be16(ip + 10, ns_csum_fold(ns_csum_partial(ip, 20, 0)));
	ns_store_be16(th, 80);
	ns_store_be16(th + 2, 40000);
	th[12] = 0x50;
	th[13] = 0x18;
	struct ns_addr s, dd;
	ns_addr_v4(&s, ip + 12);
	ns_addr_v4(&dd, ip + 16);
	ns_store_be16(th + 16, (uint16_t)~ns_csum_fold(ns_csum_pseudo(&s, &dd, 6, 20 + plen)));
	p->csum = NS_CSUM_PARTIAL;
	p->csum_start = 34;
	p->csum_off = 16;
	p->gso_type = NS_GSO_TCPV4;
	p->gso_size = 1448;
	assert_int_equal(l->ops->write(l, &p, 1), 1);
	ssize_t r = -1;
	static uint8_t buf[70000];
	for (int i = 0; i < 100; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (r > 0 && from.sll_pkttype != PACKET_OUTGOING)
			break;
	}
	/* the peer's packet socket sees the whole GSO packet */
	assert_int_equal(r, (ssize_t)len);
	close(fd);
	l->ops->close(l);
	assert_int_equal(atomic_load(&pool.live), 0);
}

int main(void)
{
	have_root = geteuid() == 0 && unshare(CLONE_NEWNET) == 0;
	if (have_root) {
		if (system("ip link add nsa type veth peer name nsb && ip link set nsa up && "
			   "ip link set nsb up && sysctl -qw net.ipv6.conf.nsa.disable_ipv6=1 && "
			   "sysctl -qw net.ipv6.conf.nsb.disable_ipv6=1") != 0) {
			fprintf(stderr, "test_afpacket: cannot create a veth pair; veth tests skipped\n");
			have_root = false;
		}
	} else {
		fprintf(stderr, "test_afpacket: not root (or no CLONE_NEWNET): only the "
			"unprivileged error paths are checked\n");
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test_prestate(test_rx_filter_and_tx, (void *)(intptr_t)NS_PACKET_RING_V3),
		cmocka_unit_test_prestate(test_rx_filter_and_tx, (void *)(intptr_t)NS_PACKET_RING_V2),
		cmocka_unit_test_prestate(test_fanout_threads, (void *)(intptr_t)NS_PACKET_RING_V3),
		cmocka_unit_test_prestate(test_fanout_threads, (void *)(intptr_t)NS_PACKET_RING_V2),
		cmocka_unit_test(test_tso_to_kernel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
