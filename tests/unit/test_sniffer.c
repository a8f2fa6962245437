/*
 * tests/unit/test_sniffer.c - the pcap-recording link wrapper
 * (link/sniffer.c) around an in-memory channel: frames written and frames
 * received are all in the file, in order, byte for byte, readable with
 * libpcap; the wrapper forwards deliver and write; bad paths fail cleanly.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "link/sniffer.h"

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0xa };
static int delivered;
static uint8_t last_rx[64];

static void on_rx(void *ctx, struct ns_pkt *p)
{
	(void)ctx;
	delivered++;
	memcpy(last_rx, ns_pkt_data(p), NS_MIN(ns_pkt_len(p), sizeof(last_rx)));
	ns_pkt_unref(p);
}

static struct ns_pkt *frame(struct ns_pool *pool, uint8_t tag, size_t len)
{
	struct ns_pkt *p = ns_pkt_alloc(pool, NS_PKT_HEADROOM, len);
	assert_non_null(p);
	uint8_t *d = ns_pkt_data(p);
	for (size_t i = 0; i < len; i++)
		d[i] = (uint8_t)(tag + i * 3);
	memcpy(d, mac_a, 6);
	d[12] = 0x88;
	d[13] = 0xb5;                   /* local experimental EtherType */
	return p;
}

static void test_records_both_directions(void **state)
{
	(void)state;
	char path[] = "/tmp/ns-sniffer-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct ns_pool pool = { .limit = 8 << 20 };
	struct ns_link *ch = ns_link_channel_new(mac_a, 1500, 64);
	assert_non_null(ch);
	int err = 1;
	struct ns_link *l = ns_link_sniffer_new(ch, path, &err);
	assert_non_null(l);
	assert_int_equal(err, 0);
	assert_int_equal(l->mtu, 1500);
	assert_memory_equal(l->mac, mac_a, 6);
	l->deliver = on_rx;
	l->pool = &pool;
	size_t lens[6] = { 60, 1514, 100, 64, 900, 61 };
	/* w r w r w r: alternate directions */
	for (int i = 0; i < 6; i++) {
		struct ns_pkt *p = frame(&pool, (uint8_t)i, lens[i]);
		if (i % 2 == 0) {
			assert_int_equal(l->ops->write(l, &p, 1), 1);
			struct ns_pkt *t = ns_link_channel_take(ch);
			assert_non_null(t);
			assert_int_equal(ns_pkt_len(t), lens[i]);
			ns_pkt_unref(t);
		} else {
			assert_int_equal(ns_link_channel_inject(ch, p), 0);
			assert_int_equal(l->ops->poll(l, 16), 1);
			assert_int_equal(last_rx[14], (uint8_t)(i + 14 * 3));
		}
	}
	assert_int_equal(delivered, 3);
	assert_int_equal(ns_link_sniffer_count(l), 6);
	l->ops->close(l);
	assert_int_equal(atomic_load(&pool.live), 0);

	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, eb);
	assert_non_null(pc);
	assert_int_equal(pcap_datalink(pc), DLT_EN10MB);
	struct pcap_pkthdr *h;
	const u_char *data;
	int n = 0;
	while (pcap_next_ex(pc, &h, &data) == 1) {
		assert_true(n < 6);
		assert_int_equal(h->caplen, lens[n]);
		assert_int_equal(h->len, lens[n]);
		for (size_t i = 14; i < lens[n]; i++)
			if (data[i] != (uint8_t)(n + i * 3))
				fail_msg("frame %d byte %zu differs", n, i);
		n++;
	}
	assert_int_equal(n, 6);
	pcap_close(pc);
	unlink(path);
}

static void test_bad_path(void **state)
{
	(void)state;
	struct ns_link *ch = ns_link_channel_new(mac_a, 1500, 4);
	int err = 0;
	assert_null(ns_link_sniffer_new(ch, "/nonexistent-dir/x.pcap", &err));   /* ch closed */
	assert_int_equal(err, -NS_ENOENT);
	assert_null(ns_link_sniffer_new(NULL, "/tmp/x", &err));
	assert_int_equal(err, -NS_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_both_directions),
		cmocka_unit_test(test_bad_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
