/*
 * tests/unit/test_tcp_opts.c - option parsing and Linux-identical layout
 * (tcp/tcp_opts.c).  Expected bytes are what Linux puts on the wire
 * (tcp_options_write), as packetdrill scripts in /work/shared/packetdrill show:
 * "<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>", "<nop,nop,TS val ... ecr ...>",
 * "<nop,nop,sack 1:2>".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "tcp/tcp_opts.h"

static void test_syn_all_options_linux_layout(void **state)
{
	(void)state;
	struct ns_tcp_opts o;
	ns_tcp_opts_syn(&o, 1460, 7, true, true, 0x01020304, 0);
	uint8_t b[40];
	const uint8_t want[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7 };
	assert_int_equal(ns_tcp_opts_len(&o), 20);
	assert_int_equal(ns_tcp_opts_write(b, sizeof(b), &o), 20);
	assert_memory_equal(b, want, 20);
	char s[128];
	assert_string_equal(ns_tcp_opts_fmt(&o, s, sizeof(s)),
			    "mss 1460,sackOK,TS val 16909060 ecr 0,nop,wscale 7");
	/* parse it back */
	struct ns_tcp_opts p;
	assert_int_equal(ns_tcp_opts_parse(b, 20, true, &p), 20);
	assert_int_equal(p.present, NS_TCP_OPT_F_MSS | NS_TCP_OPT_F_WSCALE | NS_TCP_OPT_F_SACK_PERM |
					    NS_TCP_OPT_F_TS);
	assert_int_equal(p.mss, 1460);
	assert_int_equal(p.wscale, 7);
	assert_int_equal(p.tsval, 0x01020304);
	assert_int_equal(p.tsecr, 0);
}

static void test_syn_variants(void **state)
{
	(void)state;
	struct ns_tcp_opts o;
	uint8_t b[40];
	char s[128];
	/* no timestamps: mss, nop, nop, sackOK, nop, wscale */
	ns_tcp_opts_syn(&o, 1460, 8, true, false, 0, 0);
	const uint8_t w1[] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 8 };
	assert_int_equal(ns_tcp_opts_write(b, sizeof(b), &o), sizeof(w1));
	assert_memory_equal(b, w1, sizeof(w1));
	assert_string_equal(ns_tcp_opts_fmt(&o, s, sizeof(s)), "mss 1460,nop,nop,sackOK,nop,wscale 8");
	/* no SACK: mss, nop, nop, TS, nop, wscale */
	ns_tcp_opts_syn(&o, 1000, 2, false, true, 5, 6);
	const uint8_t w2[] = { 2, 4, 0x03, 0xe8, 1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6, 1, 3, 3, 2 };
	assert_int_equal(ns_tcp_opts_write(b, sizeof(b), &o), sizeof(w2));
	assert_memory_equal(b, w2, sizeof(w2));
	/* SYN-ACK to a peer that offered only MSS */
	ns_tcp_opts_syn(&o, 1460, -1, false, false, 0, 0);
	assert_int_equal(ns_tcp_opts_write(b, sizeof(b), &o), 4);
	assert_string_equal(ns_tcp_opts_fmt(&o, s, sizeof(s)), "mss 1460");
	/* MSS + sackOK only */
	ns_tcp_opts_syn(&o, 1460, -1, true, false, 0, 0);
	const uint8_t w3[] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2 };
	assert_int_equal(ns_tcp_opts_write(b, sizeof(b), &o), 8);
	assert_memory_equal(b, w3, 8);
	/* wscale clamped to 14 */
	ns_tcp_opts_syn(&o, 1460, 20, false, false, 0, 0);
	assert_int_equal(o.wscale, 14);
	/* too small a buffer writes nothing */
	ns_tcp_opts_syn(&o, 1460, 7, true, true, 1, 0);
	assert_int_equal(ns_tcp_opts_write(b, 19, &o), 0);
}

static void test_data_ts_and_sack_layout(void **state)
{
	(void)state;
	struct ns_tcp_opts o = { .present = NS_TCP_OPT_F_TS, .tsval = 0x11223344, .tsecr = 0x55667788 };
	uint8_t b[40];
	const uint8_t w1[] = { 1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	assert_int_equal(ns_tcp_opts_write(b, sizeof(b), &o), 12);
	assert_memory_equal(b, w1, 12);
	assert_int_equal(ns_tcp_opts_max_sacks(&o), 3);
	/* 4 SACK blocks with TS: only 3 fit (12 + 4 + 24 = 40) */
	o.present |= NS_TCP_OPT_F_SACK;
	o.num_sacks = 4;
	for (int i = 0; i < 4; i++)
		o.sacks[i] = (struct ns_tcp_sack_block){ 100u * (i + 1), 100u * (i + 1) + 50 };
	assert_int_equal(ns_tcp_opts_len(&o), 40);
	assert_int_equal(ns_tcp_opts_write(b, sizeof(b), &o), 40);
	const uint8_t w2[] = { 1, 1, 5, 26, 0, 0, 0, 100, 0, 0, 0, 150 };
	assert_memory_equal(b + 12, w2, sizeof(w2));
	char s[160];
	assert_string_equal(ns_tcp_opts_fmt(&o, s, sizeof(s)),
			    "nop,nop,TS val 287454020 ecr 1432778632,nop,nop,sack 100:150 200:250 300:350");
	/* without TS: 4 blocks, nop,nop,sack */
	o.present = NS_TCP_OPT_F_SACK;
	assert_int_equal(ns_tcp_opts_max_sacks(&o), 4);
	assert_int_equal(ns_tcp_opts_write(b, sizeof(b), &o), 36);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[1], 1);
	assert_int_equal(b[2], 5);
	assert_int_equal(b[3], 34);
	struct ns_tcp_opts p;
	assert_int_equal(ns_tcp_opts_parse(b, 36, false, &p), 36);
	assert_int_equal(p.present, NS_TCP_OPT_F_SACK);
	assert_int_equal(p.num_sacks, 4);
	assert_int_equal(p.sacks[3].start, 400);
	assert_int_equal(p.sacks[3].end, 450);
	/* nothing at all */
	memset(&o, 0, sizeof(o));
	assert_int_equal(ns_tcp_opts_len(&o), 0);
	assert_int_equal(ns_tcp_opts_write(b, 0, &o), 0);
}

static void test_parse_syn_only_options_ignored_on_data(void **state)
{
	(void)state;
	const uint8_t b[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7 };
	struct ns_tcp_opts p;
	ns_tcp_opts_parse(b, sizeof(b), false, &p);
	assert_int_equal(p.present, NS_TCP_OPT_F_TS);   /* MSS, sackOK, wscale only on SYN */
	assert_int_equal(p.tsval, 1);
	assert_int_equal(p.tsecr, 2);
}

static void test_parse_malformed(void **state)
{
	(void)state;
	struct ns_tcp_opts p;
	/* EOL stops parsing; later bytes are ignored */
	const uint8_t eol[] = { 1, 0, 2, 4, 5, 0xb4 };
	assert_int_equal(ns_tcp_opts_parse(eol, sizeof(eol), true, &p), 1);
	assert_int_equal(p.present, 0);
	/* length < 2 stops: options before it are kept */
	const uint8_t silly[] = { 2, 4, 5, 0xb4, 3, 1, 7, 0 };
	ns_tcp_opts_parse(silly, sizeof(silly), true, &p);
	assert_int_equal(p.present, NS_TCP_OPT_F_MSS);
	const uint8_t zero[] = { 30, 0, 2, 4, 5, 0xb4 };
	ns_tcp_opts_parse(zero, sizeof(zero), true, &p);
	assert_int_equal(p.present, 0);
	/* option running past the end: not parsed */
	const uint8_t trunc[] = { 3, 3, 7, 8, 10, 0, 0, 0, 1 };
	ns_tcp_opts_parse(trunc, sizeof(trunc), true, &p);
	assert_int_equal(p.present, NS_TCP_OPT_F_WSCALE);
	/* kind without room for its length byte */
	const uint8_t lone[] = { 1, 1, 1, 2 };
	assert_int_equal(ns_tcp_opts_parse(lone, sizeof(lone), true, &p), 3);
	assert_int_equal(p.present, 0);
	/* wrong length for a known kind: skipped, parsing continues */
	const uint8_t wrong[] = { 2, 6, 5, 0xb4, 0, 0, 3, 3, 9, 8, 9, 0, 0, 0, 1, 0, 0, 0, 4, 2 };
	ns_tcp_opts_parse(wrong, sizeof(wrong), true, &p);
	assert_int_equal(p.present, NS_TCP_OPT_F_WSCALE | NS_TCP_OPT_F_SACK_PERM);
	assert_int_equal(p.wscale, 9);
	/* unknown kinds (MD5 19, experimental 254 without the Fast Open magic) are
	 * skipped; 254 with magic 0xF989 and no cookie is a Fast Open cookie request */
	const uint8_t unk[] = { 19, 6, 1, 2, 3, 4, 254, 4, 0xf9, 0x89, 254, 4, 0x12, 0x34, 2, 4, 1, 0 };
	ns_tcp_opts_parse(unk, sizeof(unk), true, &p);
	assert_int_equal(p.present, NS_TCP_OPT_F_MSS | NS_TCP_OPT_F_FASTOPEN);
	assert_int_equal(p.mss, 256);
	assert_int_equal(p.fo_len, 0);
	assert_true(p.fo_exp);
	/* Fast Open: a cookie in kind 34; odd or out-of-range lengths are ignored;
	 * not on a non-SYN segment; written back with nop,nop padding */
	const uint8_t fo[] = { 34, 10, 1, 2, 3, 4, 5, 6, 7, 8 };
	ns_tcp_opts_parse(fo, sizeof(fo), true, &p);
	assert_int_equal(p.present, NS_TCP_OPT_F_FASTOPEN);
	assert_int_equal(p.fo_len, 8);
	assert_false(p.fo_exp);
	assert_memory_equal(p.fo_val, fo + 2, 8);
	uint8_t w[40];
	assert_int_equal(ns_tcp_opts_write(w, sizeof(w), &p), 12);
	assert_memory_equal(w, fo, 10);
	assert_int_equal(w[10], 1);
	assert_int_equal(w[11], 1);
	ns_tcp_opts_parse(fo, sizeof(fo), false, &p);
	assert_int_equal(p.present, 0);
	const uint8_t fo_odd[] = { 34, 5, 1, 2, 3, 34, 4, 1, 2 };
	ns_tcp_opts_parse(fo_odd, sizeof(fo_odd), true, &p);
	assert_int_equal(p.present, 0);
	const uint8_t fo_big[] = { 254, 24, 0xf9, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				   17, 18, 19, 20 };
	ns_tcp_opts_parse(fo_big, sizeof(fo_big), true, &p);
	assert_int_equal(p.present, 0);
	/* duplicates: last wins */
	const uint8_t dup[] = { 2, 4, 1, 0, 2, 4, 2, 0 };
	ns_tcp_opts_parse(dup, sizeof(dup), true, &p);
	assert_int_equal(p.mss, 512);
	/* MSS 0 ignored; wscale 15 clamped to 14 */
	const uint8_t z[] = { 2, 4, 0, 0, 3, 3, 15, 1 };
	ns_tcp_opts_parse(z, sizeof(z), true, &p);
	assert_int_equal(p.present, NS_TCP_OPT_F_WSCALE);
	assert_int_equal(p.wscale, 14);
	/* SACK with a bad length (2 + 7) and with no blocks are ignored */
	const uint8_t sk[] = { 5, 9, 0, 0, 0, 1, 0, 0, 0, 5, 2, 1, 1, 1 };
	ns_tcp_opts_parse(sk, sizeof(sk), false, &p);
	assert_int_equal(p.present, 0);
	/* over-long input is capped at 40 bytes */
	uint8_t big[64];
	memset(big, 1, sizeof(big));
	assert_int_equal(ns_tcp_opts_parse(big, sizeof(big), true, &p), 40);
}

/* Every input of a few lengths parses without reading out of bounds (ASan checks). */
static void test_parse_exhaustive_short(void **state)
{
	(void)state;
	struct ns_tcp_opts p;
	uint8_t buf[3];
	for (unsigned v = 0; v < (1u << 24); v += 97) {
		buf[0] = (uint8_t)v;
		buf[1] = (uint8_t)(v >> 8);
		buf[2] = (uint8_t)(v >> 16);
		for (size_t len = 0; len <= 3; len++) {
			uint8_t *heap = malloc(len ? len : 1);
			memcpy(heap, buf, len);
			size_t used = ns_tcp_opts_parse(heap, len, (v & 1) != 0, &p);
			assert_true(used <= len);
			free(heap);
		}
	}
	/* random 40-byte option areas round-trip through write where parsed */
	uint32_t x = 12345;
	for (int i = 0; i < 20000; i++) {
		uint8_t b[40], out[40];
		for (int j = 0; j < 40; j++) {
			x = x * 1103515245u + 12345u;
			b[j] = (uint8_t)(x >> 16);
			if ((x >> 8) % 4 == 0)
				b[j] = (uint8_t)((x >> 24) % 9);  /* plausible kinds */
		}
		size_t len = (x >> 3) % 41;
		ns_tcp_opts_parse(b, len, true, &p);
		size_t w = ns_tcp_opts_write(out, sizeof(out), &p);
		assert_true(w <= 40 && w % 4 == 0);
		struct ns_tcp_opts q;
		ns_tcp_opts_parse(out, w, true, &q);
		assert_int_equal(q.present & ~NS_TCP_OPT_F_SACK, p.present & ~NS_TCP_OPT_F_SACK);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_all_options_linux_layout),
		cmocka_unit_test(test_syn_variants),
		cmocka_unit_test(test_data_ts_and_sack_layout),
		cmocka_unit_test(test_parse_syn_only_options_ignored_on_data),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_exhaustive_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
