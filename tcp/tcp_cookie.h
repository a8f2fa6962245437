/*
 * tcp/tcp_cookie.h - SYN cookies (RFC 4987 §3.6), as Linux encodes them.
 * Owns: encoding a listener's SYN-ACK ISN from the 4-tuple, the peer's ISN,
 * a minute counter and an MSS table index; with timestamps, the TSval's low
 * 6 bits carry window scale (4 bits, 0xf = none), SACK-permitted and ECN
 * (Linux cookie_init_timestamp); validation of the returning ACK within the
 * last 2 counter values (Linux MAX_SYNCOOKIE_AGE) and decoding of the
 * options.  Keys come from struct ns_tcp_secrets (tcp_isn.h).
 * Pure functions, no state.
 */
#ifndef NS_TCP_COOKIE_H
#define NS_TCP_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "netstack/netstack.h"
#include "tcp_isn.h"

#define NS_SYNCOOKIE_MAX_AGE 2          /* counter values accepted back (minutes) */
#define NS_SYNCOOKIE_TS_BITS 6
#define NS_SYNCOOKIE_TS_MASK ((1u << NS_SYNCOOKIE_TS_BITS) - 1)
#define NS_SYNCOOKIE_WSCALE_NONE 0xf

struct ns_syncookie_tuple {
	struct ns_addr laddr, raddr;
	uint16_t lport, rport;
};

/* What the listener learned from the SYN and can get back from the cookie. */
struct ns_syncookie_opts {
	uint16_t mss;                   /* from the table: the largest entry <= peer MSS */
	bool ts;                        /* timestamps negotiated (only then the rest is kept) */
	bool wscale_ok;
	uint8_t snd_wscale;             /* the peer's window scale */
	bool sack_ok;
	bool ecn;
};

/*
 * The cookie ISN for a SYN with sequence number peer_isn from tuple t, at
 * stack time now_ns.  peer_mss: the MSS the peer announced (or the default);
 * *mss_out gets the MSS actually encoded (Linux msstab: 536, 1300, 1440,
 * 1460 for IPv4; 1220, 1420, 1440, 8940 for IPv6).
 */
uint32_t ns_syncookie_make(const struct ns_tcp_secrets *s, const struct ns_syncookie_tuple *t,
			   uint32_t peer_isn, uint16_t peer_mss, uint64_t now_ns, uint16_t *mss_out);

/*
 * TSval for the cookie SYN-ACK (Linux cookie_init_timestamp): ts_now with
 * its low 6 bits replaced by wscale (0xf if none) | sack << 4 | ecn << 5,
 * stepped back 64 ticks if that would be in the future.
 */
uint32_t ns_syncookie_tsval(uint32_t ts_now, const struct ns_syncookie_opts *o);

/*
 * Validates the ACK completing a cookie handshake: ack_seq - 1 is the
 * cookie, seq - 1 the peer's ISN.  has_ts/tsecr: the ACK's timestamp option
 * (the echo of our TSval carries the options).  Fills *o on success.
 * Returns 0, or -NS_EINVAL when the cookie is bad or too old (count
 * TcpExtSyncookiesFailed).
 */
int ns_syncookie_check(const struct ns_tcp_secrets *s, const struct ns_syncookie_tuple *t,
		       uint32_t seq, uint32_t ack_seq, uint64_t now_ns, bool has_ts, uint32_t tsecr,
		       struct ns_syncookie_opts *o);

#endif
