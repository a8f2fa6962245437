/*
 * tcp/tcp_isn.h - initial sequence numbers (RFC 6528), timestamp offsets
 * (RFC 7323 §5.4, Linux secure_tcp_ts_off) and ephemeral port selection
 * (RFC 6056 Algorithm 4 "double-hash", Linux's __inet_hash_connect flavour).
 * Owns: the per-stack TCP secrets and the port-selection perturbation table.
 * ISN = M + F(laddr, lport, raddr, rport, secret), M a 4 µs clock (RFC 6528 §3)
 * from the stack clock, F = SipHash-2-4 (ns__siphash).
 * No locking except as noted; the secrets are written once at init.
 */
#ifndef NS_TCP_ISN_H
#define NS_TCP_ISN_H

#include <stdbool.h>
#include <stdint.h>

#include "netstack/netstack.h"

struct ns_stack;

#define NS_TCP_PORT_LO 32768            /* Linux ip_local_port_range default */
#define NS_TCP_PORT_HI 60999
#define NS_TCP_PORT_TABLE 256           /* RFC 6056 Algorithm 4 table_length (Linux uses 2^16) */

struct ns_tcp_secrets {
	uint64_t isn[2];                /* RFC 6528 F() key */
	uint64_t ts[2];                 /* timestamp offset key */
	uint64_t port[2];               /* RFC 6056 F() and G() keys */
	uint64_t cookie[2][2];          /* SYN cookie keys (tcp_cookie.h) */
};

/* Draws every secret from the stack RNG (ns__rand64). */
void ns_tcp_secrets_init(struct ns_tcp_secrets *s, struct ns_stack *stk);

/* RFC 6528: ISN for the 4-tuple at stack time now_ns. */
uint32_t ns_tcp_isn(const struct ns_tcp_secrets *s, const struct ns_addr *laddr, uint16_t lport,
		    const struct ns_addr *raddr, uint16_t rport, uint64_t now_ns);

/* Per-connection timestamp offset (Linux secure_tcp_ts_off: keyed on the addresses). */
uint32_t ns_tcp_ts_offset(const struct ns_tcp_secrets *s, const struct ns_addr *laddr,
			  const struct ns_addr *raddr);

/* Is lport free for (laddr, raddr, rport)?  Called with whatever lock the caller holds. */
typedef bool (*ns_port_free_fn)(void *ctx, uint16_t lport);

struct ns_tcp_portsel {
	uint16_t lo, hi;                /* inclusive range, default 32768..60999 */
	uint32_t perturb[NS_TCP_PORT_TABLE];    /* RFC 6056 Algorithm 4 table[] */
	uint32_t rng;                   /* xorshift state for the post-pick jitter */
};

/* Range lo..hi (0, 0 for Linux's default); perturbation table from the stack RNG. */
void ns_tcp_portsel_init(struct ns_tcp_portsel *ps, struct ns_stack *stk, uint16_t lo, uint16_t hi);

/*
 * RFC 6056 Algorithm 4 for connect(): starts at
 * lo + (F(laddr, raddr, rport) + table[G(...)]) mod range, tries even ports
 * first then odd ones (Linux prefers even ports for connect, leaving odd ones
 * to bind(0)), and asks is_free() for each candidate.  On success advances
 * the table slot (Linux: by the tries + 2) and stores the port in *out.
 * Returns 0 or -NS_EADDRNOTAVAIL when every port is taken.  The caller
 * serializes calls for one ps (its bind-table lock).
 */
int ns_tcp_port_pick(struct ns_tcp_portsel *ps, const struct ns_tcp_secrets *s,
		     const struct ns_addr *laddr, const struct ns_addr *raddr, uint16_t rport,
		     ns_port_free_fn is_free, void *ctx, uint16_t *out);

#endif
