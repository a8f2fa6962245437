/*
 * tcp/tcp_isn.c - ISNs (RFC 6528), timestamp offsets, ephemeral ports
 * (RFC 6056 Algorithm 4, with Linux's even-first parity and perturbation).
 * Owns: the functions of tcp_isn.h.
 * Read first: RFC 6528 §3, RFC 6056 §3.3.4, RFC 7323 §5.4.
 */
#include "netstack/core.h"
#include "tcp_isn.h"

void ns_tcp_secrets_init(struct ns_tcp_secrets *s, struct ns_stack *stk)
{
	s->isn[0] = ns__rand64(stk);
	s->isn[1] = ns__rand64(stk);
	s->ts[0] = ns__rand64(stk);
	s->ts[1] = ns__rand64(stk);
	s->port[0] = ns__rand64(stk);
	s->port[1] = ns__rand64(stk);
	for (int i = 0; i < 2; i++) {
		s->cookie[i][0] = ns__rand64(stk);
		s->cookie[i][1] = ns__rand64(stk);
	}
}

/* Serializes addresses and ports into buf (family-tagged, fixed size). */
static size_t tuple_bytes(uint8_t buf[40], const struct ns_addr *laddr, uint16_t lport,
			  const struct ns_addr *raddr, uint16_t rport)
{
	memset(buf, 0, 40);
	buf[0] = laddr->family;
	buf[1] = raddr->family;
	memcpy(buf + 2, laddr->b, 16);
	memcpy(buf + 18, raddr->b, 16);
	ns_store_be16(buf + 34, lport);
	ns_store_be16(buf + 36, rport);
	return 38;
}

uint32_t ns_tcp_isn(const struct ns_tcp_secrets *s, const struct ns_addr *laddr, uint16_t lport,
		    const struct ns_addr *raddr, uint16_t rport, uint64_t now_ns)
{
	uint8_t b[40];
	size_t n = tuple_bytes(b, laddr, lport, raddr, rport);
	uint32_t f = (uint32_t)ns__siphash(s->isn, b, n);
	uint32_t m = (uint32_t)(now_ns / 4000u);        /* RFC 6528 §3: 4 µs ticks */
	return m + f;
}

uint32_t ns_tcp_ts_offset(const struct ns_tcp_secrets *s, const struct ns_addr *laddr,
			  const struct ns_addr *raddr)
{
	uint8_t b[40];
	size_t n = tuple_bytes(b, laddr, 0, raddr, 0);
	return (uint32_t)ns__siphash(s->ts, b, n);
}

static uint32_t xorshift(uint32_t *st)
{
	uint32_t x = *st ? *st : 0x9e3779b9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*st = x;
	return x;
}

void ns_tcp_portsel_init(struct ns_tcp_portsel *ps, struct ns_stack *stk, uint16_t lo, uint16_t hi)
{
	if (lo == 0 && hi == 0) {
		lo = NS_TCP_PORT_LO;
		hi = NS_TCP_PORT_HI;
	}
	if (hi < lo) {
		uint16_t t = lo;
		lo = hi;
		hi = t;
	}
	ps->lo = lo ? lo : 1;
	ps->hi = hi;
	for (unsigned i = 0; i < NS_TCP_PORT_TABLE; i++)
		ps->perturb[i] = ns__rand32(stk);
	ps->rng = ns__rand32(stk) | 1u;
}

/* One parity pass: ports lo + start, +2, ... wrapping; returns tries used or -1. */
static int scan(const struct ns_tcp_portsel *ps, uint32_t start, ns_port_free_fn is_free,
		void *ctx, uint16_t *out)
{
	uint32_t range = (uint32_t)ps->hi - ps->lo + 1;
	uint32_t off = start;
	for (uint32_t i = 0; i < range; i += 2, off += 2) {
		if (off >= range)
			off -= range;
		uint16_t port = (uint16_t)(ps->lo + off);
		if (is_free(ctx, port)) {
			*out = port;
			return (int)i;
		}
	}
	return -1;
}

int ns_tcp_port_pick(struct ns_tcp_portsel *ps, const struct ns_tcp_secrets *s,
		     const struct ns_addr *laddr, const struct ns_addr *raddr, uint16_t rport,
		     ns_port_free_fn is_free, void *ctx, uint16_t *out)
{
	uint8_t b[40];
	size_t n = tuple_bytes(b, laddr, 0, raddr, rport);
	uint64_t h = ns__siphash(s->port, b, n);                /* F() and G() from one hash */
	uint32_t idx = (uint32_t)h & (NS_TCP_PORT_TABLE - 1);
	uint32_t range = (uint32_t)ps->hi - ps->lo + 1;
	uint32_t off = (ps->perturb[idx] + (uint32_t)(h >> 32)) % range;
	/* Linux: first pass on ports of lo's parity (even for 32768), then the other */
	off &= ~1u;
	int tries = scan(ps, off, is_free, ctx, out);
	if (tries < 0 && range > 1)
		tries = scan(ps, off + 1 < range ? off + 1 : 0, is_free, ctx, out);
	if (tries < 0)
		return -NS_EADDRNOTAVAIL;
	/* Linux: table[idx] += max(tries, random(0..7) * 2) + 2 */
	uint32_t jitter = (xorshift(&ps->rng) % 8u) * 2u;
	ps->perturb[idx] += NS_MAX((uint32_t)tries, jitter) + 2u;
	return 0;
}
