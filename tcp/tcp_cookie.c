/*
 * tcp/tcp_cookie.c - SYN cookies (RFC 4987 §3.6) in Linux's format.
 * Owns: the functions of tcp_cookie.h.
 * Cookie = H1(tuple) + peer ISN + (count << 24) + ((H2(tuple, count) + mss index) & 0xffffff),
 * count = minutes of the stack clock; H1/H2 are SipHash with two keys.
 * Read first: RFC 4987 §3.6, Linux net/ipv4/syncookies.c (for the layout).
 */
#include "netstack/core.h"
#include "tcp_cookie.h"

#define COOKIE_BITS 24
#define COOKIE_MASK ((1u << COOKIE_BITS) - 1)
#define TS_OPT_SACK (1u << 4)
#define TS_OPT_ECN (1u << 5)

static const uint16_t msstab4[] = { 536, 1300, 1440, 1460 };
static const uint16_t msstab6[] = { 1220, 1420, 1440, 8940 };

static const uint16_t *msstab(const struct ns_syncookie_tuple *t)
{
	return t->laddr.family == NS_AF_INET6 ? msstab6 : msstab4;
}

static uint32_t cookie_hash(const uint64_t key[2], const struct ns_syncookie_tuple *t,
			    uint32_t count)
{
	uint8_t b[44];
	memset(b, 0, sizeof(b));
	b[0] = t->laddr.family;
	memcpy(b + 2, t->laddr.b, 16);
	memcpy(b + 18, t->raddr.b, 16);
	ns_store_be16(b + 34, t->lport);
	ns_store_be16(b + 36, t->rport);
	ns_store_be32(b + 38, count);
	return (uint32_t)ns__siphash(key, b, 42);
}

static uint32_t cookie_count(uint64_t now_ns)
{
	return (uint32_t)(now_ns / (60ull * NS_NSEC_PER_SEC));
}

uint32_t ns_syncookie_make(const struct ns_tcp_secrets *s, const struct ns_syncookie_tuple *t,
			   uint32_t peer_isn, uint16_t peer_mss, uint64_t now_ns, uint16_t *mss_out)
{
	const uint16_t *tab = msstab(t);
	uint32_t idx = 3;
	while (idx && peer_mss < tab[idx])
		idx--;
	if (mss_out)
		*mss_out = tab[idx];
	uint32_t count = cookie_count(now_ns);
	return cookie_hash(s->cookie[0], t, 0) + peer_isn + (count << COOKIE_BITS) +
	       ((cookie_hash(s->cookie[1], t, count) + idx) & COOKIE_MASK);
}

uint32_t ns_syncookie_tsval(uint32_t ts_now, const struct ns_syncookie_opts *o)
{
	uint32_t opts = o->wscale_ok ? (o->snd_wscale & 0xfu) : NS_SYNCOOKIE_WSCALE_NONE;
	if (o->wscale_ok && opts == NS_SYNCOOKIE_WSCALE_NONE)
		opts = 14;                      /* 15 would read back as "none" */
	if (o->sack_ok)
		opts |= TS_OPT_SACK;
	if (o->ecn)
		opts |= TS_OPT_ECN;
	uint32_t ts = (ts_now & ~NS_SYNCOOKIE_TS_MASK) | opts;
	if ((int32_t)(ts - ts_now) > 0)
		ts -= 1u << NS_SYNCOOKIE_TS_BITS;       /* never a TSval from the future */
	return ts;
}

int ns_syncookie_check(const struct ns_tcp_secrets *s, const struct ns_syncookie_tuple *t,
		       uint32_t seq, uint32_t ack_seq, uint64_t now_ns, bool has_ts, uint32_t tsecr,
		       struct ns_syncookie_opts *o)
{
	uint32_t cookie = ack_seq - 1, peer_isn = seq - 1;
	uint32_t count = cookie_count(now_ns);
	uint32_t v = cookie - cookie_hash(s->cookie[0], t, 0) - peer_isn;
	uint32_t diff = (count - (v >> COOKIE_BITS)) & (0xffffffffu >> COOKIE_BITS);
	if (diff >= NS_SYNCOOKIE_MAX_AGE)
		return -NS_EINVAL;
	uint32_t idx = (v - cookie_hash(s->cookie[1], t, count - diff)) & COOKIE_MASK;
	if (idx >= 4)
		return -NS_EINVAL;
	memset(o, 0, sizeof(*o));
	o->mss = msstab(t)[idx];
	if (!has_ts)
		return 0;
	/* Linux cookie_timestamp_decode: the echo's low bits are our options */
	o->ts = true;
	o->sack_ok = (tsecr & TS_OPT_SACK) != 0;
	o->ecn = (tsecr & TS_OPT_ECN) != 0;
	if ((tsecr & 0xfu) != NS_SYNCOOKIE_WSCALE_NONE) {
		o->wscale_ok = true;
		o->snd_wscale = (uint8_t)(tsecr & 0xfu);
	}
	return 0;
}
