/*
 * tcp/tcp_seq.h - TCP sequence number arithmetic (RFC 9293 §3.4).
 * Owns: modulo-2^32 comparisons, window membership, segment acceptability.
 * Header only, no state.  Comparisons are valid while the two numbers are
 * less than 2^31 apart, which RFC 9293 §3.4 and RFC 7323 §5.2 (PAWS) ensure.
 */
#ifndef NS_TCP_SEQ_H
#define NS_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* a < b, a <= b, a > b, a >= b, modulo 2^32 (BSD SEQ_LT, Linux before()). */
static inline bool ns_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool ns_seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool ns_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool ns_seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

static inline uint32_t ns_seq_max(uint32_t a, uint32_t b) { return ns_seq_gt(a, b) ? a : b; }
static inline uint32_t ns_seq_min(uint32_t a, uint32_t b) { return ns_seq_lt(a, b) ? a : b; }

/* lo <= x <= hi, inclusive on both ends (Linux between()); needs lo <= hi. */
static inline bool ns_seq_between(uint32_t x, uint32_t lo, uint32_t hi)
{
	return x - lo <= hi - lo;
}

/* start <= x < start + wnd.  A zero window contains nothing. */
static inline bool ns_seq_in_window(uint32_t x, uint32_t start, uint32_t wnd)
{
	return x - start < wnd;
}

/* Bytes from a to b (b - a) when a <= b, else 0. */
static inline uint32_t ns_seq_diff(uint32_t a, uint32_t b)
{
	return ns_seq_geq(b, a) ? b - a : 0;
}

/*
 * RFC 9293 §3.10.7.4 "first: check sequence number": is a segment of seg_len
 * octets (SYN and FIN count) starting at seq acceptable for
 * RCV.NXT = rcv_nxt, RCV.WND = rcv_wnd?
 *   len 0, wnd 0:  seq == RCV.NXT
 *   len 0, wnd >0: RCV.NXT <= seq < RCV.NXT+RCV.WND
 *   len >0, wnd 0: not acceptable
 *   len >0, wnd >0: first or last octet inside the window
 */
static inline bool ns_seq_acceptable(uint32_t seq, uint32_t seg_len, uint32_t rcv_nxt,
				     uint32_t rcv_wnd)
{
	if (seg_len == 0)
		return rcv_wnd == 0 ? seq == rcv_nxt : ns_seq_in_window(seq, rcv_nxt, rcv_wnd);
	if (rcv_wnd == 0)
		return false;
	return ns_seq_in_window(seq, rcv_nxt, rcv_wnd) ||
	       ns_seq_in_window(seq + seg_len - 1, rcv_nxt, rcv_wnd);
}

/*
 * Linux's tcp_sequence(): the segment [seq, end_seq) overlaps the window,
 * i.e. end_seq >= rcv_wup (the left edge last advertised) and
 * seq < rcv_nxt + rcv_wnd (a zero-length segment at the right edge of a
 * zero window is still accepted, as in Linux).
 */
static inline bool ns_seq_linux_acceptable(uint32_t seq, uint32_t end_seq, uint32_t rcv_wup,
					   uint32_t rcv_nxt, uint32_t rcv_wnd)
{
	return !ns_seq_lt(end_seq, rcv_wup) && !ns_seq_gt(seq, rcv_nxt + rcv_wnd);
}

#endif
