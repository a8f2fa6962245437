/*
 * tests/unit/test_tcp_bulk.c - bulk transfers between two stacks on a
 * virtual clock: 64 MiB with a checksum over a clean link, and through the
 * impairment wrapper (loss, duplication, reordering, corruption) with the
 * seed printed on failure; both directions at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "helpers/ns_test.h"
#include "helpers/tcp_helpers.h"

/* FNV-1a 64 over a byte stream, continued across calls. */
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
#define FNV0 0xcbf29ce484222325ull

/* deterministic content: byte i of the stream */
static void fill(uint8_t *b, uint64_t off, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t x = off + i;
		b[i] = (uint8_t)(x * 131 + (x >> 11) * 7 + (x >> 19));
	}
}

struct xfer {
	struct ns_stack *tx, *rx;
	int tfd, rfd;
	uint64_t total, sent, rcvd;
	uint64_t h_tx, h_rx;
	bool closed, eof;
	uint64_t toff;                  /* tbuf holds stream bytes [toff, toff + tlen) */
	size_t tlen;
	uint8_t tbuf[65536];
	uint8_t buf[65536];             /* receive */
};

static bool xfer_step(void *ctx)
{
	struct xfer *x = ctx;
	while (x->sent < x->total) {
		/* generate each stream byte once (not again on every EAGAIN round) */
		if (x->sent >= x->toff + x->tlen) {
			size_t n = sizeof(x->tbuf);
			if (n > x->total - x->sent)
				n = (size_t)(x->total - x->sent);
			fill(x->tbuf, x->sent, n);
			x->toff = x->sent;
			x->tlen = n;
		}
		const uint8_t *src = x->tbuf + (x->sent - x->toff);
		size_t n = (size_t)(x->toff + x->tlen - x->sent);
		ssize_t w = ns_send(x->tx, x->tfd, src, n, NS_MSG_DONTWAIT);
		if (w <= 0)
			break;
		x->h_tx = fnv(x->h_tx, src, (size_t)w);
		x->sent += (uint64_t)w;
	}
	if (x->sent == x->total && !x->closed) {
		ns_shutdown(x->tx, x->tfd, NS_SHUT_WR);
		x->closed = true;
	}
	for (;;) {
		ssize_t r = ns_recv(x->rx, x->rfd, x->buf, sizeof(x->buf), NS_MSG_DONTWAIT);
		if (r > 0) {
			x->h_rx = fnv(x->h_rx, x->buf, (size_t)r);
			x->rcvd += (uint64_t)r;
			continue;
		}
		if (r == 0)
			x->eof = true;
		break;
	}
	return x->eof;
}

static void run_transfer(const struct ns_test_pair_opts *po, uint64_t total, uint64_t limit_ns)
{
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, po), 0);
	int ls = tt_listen(p.b.stk, 5001, 8);
	int c = tt_connect_nb(p.a.stk, "198.18.0.2", 5001);
	struct tt_accept acc = { p.b.stk, ls, -1 };
	if (!ns_test_pump(&p, tt_accepted, &acc, 60 * NS_NSEC_PER_SEC))
		fail_msg("no connection (seed %llu)", (unsigned long long)p.seed);
	struct xfer *x = calloc(1, sizeof(*x));
	x->tx = p.a.stk;
	x->rx = p.b.stk;
	x->tfd = c;
	x->rfd = acc.fd;
	x->total = total;
	x->h_tx = x->h_rx = FNV0;
	bool ok = ns_test_pump(&p, xfer_step, x, limit_ns);
	if (!ok || x->rcvd != total || x->h_tx != x->h_rx) {
		fprintf(stderr, "transfer failed: seed %llu sent %llu rcvd %llu of %llu\n",
			(unsigned long long)p.seed, (unsigned long long)x->sent, (unsigned long long)x->rcvd,
			(unsigned long long)total);
		fail();
	}
	if (po && po->impair) {
		/* loss recovery quality, printed (not asserted: it depends on the seed) */
		uint64_t rto = 0, rtx = 0, segs = 0;
		ns_stat_get(p.a.stk, "TcpExtTCPTimeouts", &rto);
		ns_stat_get(p.a.stk, "TcpRetransSegs", &rtx);
		ns_stat_get(p.a.stk, "TcpOutSegs", &segs);
		fprintf(stderr, "  impaired %llu MiB: %llu RTOs, %llu of %llu segments retransmitted, %.1f s virtual\n",
			(unsigned long long)(total >> 20), (unsigned long long)rto, (unsigned long long)rtx,
			(unsigned long long)segs, (double)(ns_stack_now(p.a.stk) - NS_TEST_T0) / 1e9);
	}
	if (getenv("NS_TEST_VERBOSE")) {
		static const char *names[] = { "TcpOutSegs", "TcpRetransSegs", "TcpExtTCPTimeouts",
			"TcpExtTCPSackRecovery", "TcpExtTCPFastRetrans", "TcpExtTCPLossProbes",
			"TcpExtTCPDSACKRecv", "TcpExtTCPSACKReneging", "TcpInErrs", "TcpExtTCPLossProbeRecovery",
			"TcpExtTCPLostRetransmit", "TcpExtTCPFullUndo", "TcpExtTCPPartialUndo", "TcpExtTCPDSACKUndo",
			"TcpExtTCPLossUndo", "TcpExtTCPSpuriousRTOs", "TcpExtTCPSACKReorder", "TcpExtTCPSackFailures",
			"TcpExtTCPLossFailures", "TcpExtTCPSlowStartRetrans" };
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			uint64_t v = 0;
			ns_stat_get(p.a.stk, names[i], &v);
			fprintf(stderr, "  a %-28s %llu\n", names[i], (unsigned long long)v);
		}
		fprintf(stderr, "  virtual time %.1f s\n", (double)(ns_stack_now(p.a.stk) - NS_TEST_T0) / 1e9);
	}
	ns_close(p.a.stk, c);
	ns_close(p.b.stk, acc.fd);
	ns_close(p.b.stk, ls);
	ns_test_advance(&p, 130 * NS_NSEC_PER_SEC);
	ns_test_settle(&p);
	assert_int_equal(tt_count_state(p.a.stk, TCP_TIME_WAIT) + tt_count_state(p.b.stk, TCP_TIME_WAIT), 0);
	assert_int_equal(ns_test_pair_live(&p), 0);
	free(x);
	ns_test_pair_fini(&p);
}

static void test_bulk_clean_64m(void **state)
{
	(void)state;
	run_transfer(NULL, 64ull << 20, 600 * NS_NSEC_PER_SEC);
}

static void test_bulk_impaired(void **state)
{
	(void)state;
	struct ns_test_pair_opts o = { 0 };
	o.seed = ns_test_seed(42);
	o.impair = true;
	o.imp.drop_ppm = 50000;
	o.imp.dup_ppm = 10000;
	o.imp.reorder_ppm = 20000;
	o.imp.corrupt_ppm = 5000;
	o.imp.delay_ns = 1 * NS_NSEC_PER_MSEC;
	o.imp.jitter_ns = 500 * NS_NSEC_PER_USEC;
#ifdef __SANITIZE_ADDRESS__
	uint64_t total = 16ull << 20;   /* the sanitized build is ~4x slower: keep CI time modest */
#else
	uint64_t total = 64ull << 20;
#endif
	run_transfer(&o, total, 36000 * NS_NSEC_PER_SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bulk_clean_64m),
		cmocka_unit_test(test_bulk_impaired),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
