/*
 * tcp/tcp_opts.h - TCP option parsing and building (RFC 9293 §3.1, RFC 6691
 * MSS, RFC 7323 window scale and timestamps, RFC 2018/2883 SACK).
 * Owns: struct ns_tcp_opts (a parsed or to-be-written option set), the
 * parser, and the writer that lays options out exactly as Linux does
 * (tcp_options_write), so a packetdrill-style comparison matches byte for byte:
 *   SYN/SYN-ACK, all on:   mss, sackOK, TS val ecr, nop, wscale        (20 bytes)
 *   SYN without TS:        mss, nop, nop, sackOK, nop, wscale          (12 bytes)
 *   SYN without SACK:      mss, nop, nop, TS val ecr, nop, wscale      (20 bytes)
 *   data/ACK with TS:      nop, nop, TS val ecr                        (12 bytes)
 *   SACK blocks:           [nop, nop, TS ...] nop, nop, sack a:b ...
 * Pure functions, no allocation, no state.
 */
#ifndef NS_TCP_OPTS_H
#define NS_TCP_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* option kinds */
#define NS_TCPOPT_EOL 0
#define NS_TCPOPT_NOP 1
#define NS_TCPOPT_MSS 2
#define NS_TCPOPT_WSCALE 3
#define NS_TCPOPT_SACK_PERM 4
#define NS_TCPOPT_SACK 5
#define NS_TCPOPT_TS 8
#define NS_TCPOPT_FASTOPEN 34          /* RFC 7413 */
#define NS_TCPOPT_EXP 254              /* RFC 6994 experimental; TFO uses magic 0xF989 */
#define NS_TCPOPT_FASTOPEN_MAGIC 0xF989

/* option lengths */
#define NS_TCPOLEN_MSS 4
#define NS_TCPOLEN_WSCALE 3
#define NS_TCPOLEN_SACK_PERM 2
#define NS_TCPOLEN_TS 10
#define NS_TCPOLEN_SACK_BASE 2
#define NS_TCPOLEN_SACK_PERBLOCK 8
#define NS_TCPOLEN_TS_ALIGNED 12       /* nop, nop, TS */

#define NS_TCP_HDR_LEN 20
#define NS_TCP_MAX_OPT_LEN 40
#define NS_TCP_MAX_WSCALE 14           /* RFC 7323 §2.3 */
#define NS_TCP_MAX_SACKS 4             /* blocks that fit with no timestamp */
#define NS_TCP_MSS_DEFAULT 536         /* RFC 9293 §3.7.1 (IPv4) */
#define NS_TCP_MSS_DEFAULT6 1220       /* RFC 9293 / 8200: 1280 - 60 */

/* which options are present (ns_tcp_opts.present) */
#define NS_TCP_OPT_F_MSS       0x01u
#define NS_TCP_OPT_F_WSCALE    0x02u
#define NS_TCP_OPT_F_SACK_PERM 0x04u
#define NS_TCP_OPT_F_TS        0x08u
#define NS_TCP_OPT_F_SACK      0x10u
#define NS_TCP_OPT_F_FASTOPEN  0x20u   /* fo_len/fo_exp/fo_val valid (SYN / SYN-ACK only) */

#define NS_TCP_FASTOPEN_COOKIE_MIN 4
#define NS_TCP_FASTOPEN_COOKIE_MAX 16

struct ns_tcp_sack_block {
	uint32_t start;                 /* first sequence number SACKed */
	uint32_t end;                   /* one past the last */
};

struct ns_tcp_opts {
	uint32_t present;               /* NS_TCP_OPT_F_* */
	uint16_t mss;                   /* valid with F_MSS */
	uint8_t wscale;                 /* valid with F_WSCALE; parser clamps to 14 like Linux */
	uint8_t num_sacks;              /* valid with F_SACK: 1..4 */
	uint32_t tsval, tsecr;          /* valid with F_TS */
	struct ns_tcp_sack_block sacks[NS_TCP_MAX_SACKS];
	/* TCP Fast Open (with F_FASTOPEN): fo_len 0 = cookie request, 4..16 = a
	 * cookie, -1 = malformed (Linux: odd or out-of-range length); fo_exp =
	 * the experimental form (kind 254, magic 0xF989) */
	int8_t fo_len;
	bool fo_exp;
	uint8_t fo_val[NS_TCP_FASTOPEN_COOKIE_MAX];
};

static inline bool ns_tcp_opts_has(const struct ns_tcp_opts *o, uint32_t f)
{
	return (o->present & f) != 0;
}

/*
 * Parses the option bytes of a TCP header (opt = header + 20,
 * len = data offset * 4 - 20, at most 40) into *out (cleared first).
 * Linux's tcp_parse_options() rules:
 *   - EOL ends parsing; NOP is skipped;
 *   - a length byte < 2, or an option running past len, ends parsing
 *     (options parsed so far are kept);
 *   - unknown kinds are skipped by their length;
 *   - a known kind with the wrong length is ignored (skipped);
 *   - MSS, window scale and SACK-permitted count only when syn is true
 *     (the segment has SYN set); MSS 0 is ignored; window scale > 14 is
 *     clamped to 14;
 *   - SACK needs length 2 + 8n with n in 1..4; blocks are kept in wire order;
 *   - a duplicate option overwrites the earlier one (last wins);
 *   - Fast Open (kind 34, or kind 254 with magic 0xF989) only with syn, even
 *     lengths: empty = request, 4..16 bytes = cookie, else fo_len = -1.
 * Never reads outside opt[0, len).  Returns the number of option bytes
 * consumed before an EOL / the end / the first malformed length.
 */
size_t ns_tcp_opts_parse(const uint8_t *opt, size_t len, bool syn, struct ns_tcp_opts *out);

/* Bytes ns_tcp_opts_write() will produce for o (a multiple of 4, <= 40). */
size_t ns_tcp_opts_len(const struct ns_tcp_opts *o);

/*
 * Writes o in Linux's order and alignment: MSS; sackOK+TS merged when both
 * are present (else nop,nop,TS and/or nop,nop,sackOK); nop,wscale; then
 * nop,nop,SACK blocks; then Fast Open (padded with nop,nop when its length
 * is 2 mod 4) when F_FASTOPEN with fo_len >= 0.  SACK blocks beyond what fits in 40 bytes are dropped
 * (3 with timestamps, 4 without).  Returns bytes written (multiple of 4), or
 * 0 if cap is too small for the whole set (nothing is written then).
 */
size_t ns_tcp_opts_write(uint8_t *buf, size_t cap, const struct ns_tcp_opts *o);

/*
 * Fills a SYN or SYN-ACK option set as Linux does: MSS always; window scale
 * when wscale >= 0; SACK-permitted when sack; timestamps when ts (tsecr 0 on a
 * SYN, the peer's TSval on a SYN-ACK).  For a SYN-ACK pass only what the
 * peer offered.
 */
void ns_tcp_opts_syn(struct ns_tcp_opts *o, uint16_t mss, int wscale, bool sack, bool ts,
		     uint32_t tsval, uint32_t tsecr);

/* Maximum SACK blocks that fit next to the other options in o (Linux: 4, or 3 with TS). */
unsigned ns_tcp_opts_max_sacks(const struct ns_tcp_opts *o);

/*
 * Formats o the way tcpdump/packetdrill prints it, e.g.
 * "mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7" (layout of the written form).
 * For logs and tests.  Returns buf.
 */
const char *ns_tcp_opts_fmt(const struct ns_tcp_opts *o, char *buf, size_t cap);

#endif
