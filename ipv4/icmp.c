/*
 * ipv4/icmp.c - ICMPv4 (RFC 792, RFC 1122 3.2.2): receive (echo reply,
 * errors parsed and handed to the transports, fragmentation-needed into
 * the path MTU cache) and the sending of errors with RFC 1122's rules and
 * Linux's rate limits.
 * Owns: every Icmp* counter, echo and timestamp replies.
 * Read first: RFC 1122 3.2.2, RFC 1191, Linux net/ipv4/icmp.c.
 */
#include <stdlib.h>
#include "ipv4_internal.h"

/* ---- rate limits (Linux icmp_ratelimit / icmp_msgs_per_sec) -------------- */

#define RL_MASK 0x1818u                 /* Linux icmp_ratemask: types 3, 4, 11, 12 */
#define RL_HOST_NS NS_NSEC_PER_SEC      /* icmp_ratelimit = 1000 ms */
#define RL_HOST_BURST 6                 /* XRLIM_BURST_FACTOR */
#define RL_GLOBAL_PER_SEC 1000          /* icmp_msgs_per_sec */
#define RL_GLOBAL_BURST 50              /* icmp_msgs_burst */
#define RL_PEERS 1024u

struct rl_peer {
	uint32_t addr;
	bool used;
	uint64_t tokens;                /* ns of credit, at most BURST * RL_HOST_NS */
	uint64_t last;
};

struct ns_icmp_rl {
	pthread_mutex_t mu;
	uint32_t credit;                /* global bucket */
	uint64_t stamp;
	struct rl_peer peers[RL_PEERS];
};

int ns__icmp4_init(struct ns_ipv4 *ip)
{
	ip->icmp_rl = calloc(1, sizeof(*ip->icmp_rl));
	if (!ip->icmp_rl)
		return -NS_ENOMEM;
	pthread_mutex_init(&ip->icmp_rl->mu, NULL);
	ip->icmp_rl->credit = RL_GLOBAL_BURST;
	ip->icmp_rl->stamp = ns__now(ip->stk);
	return 0;
}

void ns__icmp4_fini(struct ns_ipv4 *ip)
{
	if (!ip->icmp_rl)
		return;
	pthread_mutex_destroy(&ip->icmp_rl->mu);
	free(ip->icmp_rl);
	ip->icmp_rl = NULL;
}

static bool rl_masked(uint8_t type, uint8_t code)
{
	if (type > 18)
		return false;
	if (type == NS_ICMP_DEST_UNREACH && code == NS_ICMP_FRAG_NEEDED)
		return false;                   /* PMTU discovery is never limited */
	return (RL_MASK >> type) & 1u;
}

static bool rl_global_allow(struct ns_icmp_rl *rl, uint64_t now)
{
	uint64_t delta = now - rl->stamp;
	if (delta >= NS_NSEC_PER_SEC / 50) {
		uint64_t incr = delta * RL_GLOBAL_PER_SEC / NS_NSEC_PER_SEC;
		rl->credit = (uint32_t)NS_MIN((uint64_t)rl->credit + incr, RL_GLOBAL_BURST);
		rl->stamp = now;
	}
	if (!rl->credit)
		return false;
	rl->credit--;
	return true;
}

/* Token bucket per destination (Linux inet_peer_xrlim_allow). */
static bool rl_host_allow(struct ns_stack *stk, struct ns_icmp_rl *rl, uint32_t dst, uint64_t now)
{
	uint8_t key[4];
	ns_store_be32(key, dst);
	struct rl_peer *p = &rl->peers[ns__siphash(stk->hash_seed, key, 4) & (RL_PEERS - 1)];
	if (!p->used || p->addr != dst) {
		p->used = true;
		p->addr = dst;
		p->tokens = RL_HOST_BURST * RL_HOST_NS;     /* a new peer gets the full burst */
		p->last = now;
	}
	uint64_t tok = p->tokens + (now - p->last);
	p->last = now;
	if (tok > RL_HOST_BURST * RL_HOST_NS)
		tok = RL_HOST_BURST * RL_HOST_NS;
	bool ok = false;
	if (tok >= RL_HOST_NS) {
		tok -= RL_HOST_NS;
		ok = true;
	}
	p->tokens = tok;
	return ok;
}

/* Whether an error of type/code may go to dst now; counts refusals. */
static bool rl_allow(struct ns_stack *stk, uint8_t type, uint8_t code, uint32_t dst, bool local)
{
	if (!rl_masked(type, code))
		return true;
	struct ns_icmp_rl *rl = stk->ipv4->icmp_rl;
	uint64_t now = ns__now(stk);
	pthread_mutex_lock(&rl->mu);
	bool ok = rl_global_allow(rl, now);
	if (!ok) {
		pthread_mutex_unlock(&rl->mu);
		NS_STAT_INC(stk, IcmpOutRateLimitGlobal);
		return false;
	}
	if (!local && !rl_host_allow(stk, rl, dst, now)) {   /* Linux exempts lo */
		pthread_mutex_unlock(&rl->mu);
		NS_STAT_INC(stk, IcmpOutRateLimitHost);
		return false;
	}
	pthread_mutex_unlock(&rl->mu);
	return true;
}

/* ---- sending --------------------------------------------------------------- */

static void count_out(struct ns_stack *stk, uint8_t type)
{
	NS_STAT_INC(stk, IcmpOutMsgs);
	switch (type) {
	case NS_ICMP_DEST_UNREACH: NS_STAT_INC(stk, IcmpOutDestUnreachs); break;
	case NS_ICMP_TIME_EXCEEDED: NS_STAT_INC(stk, IcmpOutTimeExcds); break;
	case NS_ICMP_PARAMETERPROB: NS_STAT_INC(stk, IcmpOutParmProbs); break;
	case NS_ICMP_ECHO: NS_STAT_INC(stk, IcmpOutEchos); break;
	case NS_ICMP_ECHOREPLY: NS_STAT_INC(stk, IcmpOutEchoReps); break;
	case NS_ICMP_TIMESTAMPREPLY: NS_STAT_INC(stk, IcmpOutTimestampReps); break;
	default: break;
	}
}

static int xmit_opts(struct ns_stack *stk, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
		     uint32_t rest, const uint8_t *body, size_t len, uint8_t tos,
		     const uint8_t *opts, uint32_t optlen);

int ns__icmp4_xmit(struct ns_stack *stk, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
		   uint32_t rest, const uint8_t *body, size_t len, uint8_t tos)
{
	return xmit_opts(stk, src, dst, type, code, rest, body, len, tos, NULL, 0);
}

static int xmit_opts(struct ns_stack *stk, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
		     uint32_t rest, const uint8_t *body, size_t len, uint8_t tos,
		     const uint8_t *opts, uint32_t optlen)
{
	struct ns_pkt *pkt = ns_pkt_alloc(ns_stack_pool(stk), NS_PKT_TX_HEADROOM, NS_ICMP_HLEN + len);
	if (!pkt) {
		NS_STAT_INC(stk, PktAllocFails);
		NS_STAT_INC(stk, IcmpOutErrors);
		return -NS_ENOBUFS;
	}
	uint8_t *h = ns_pkt_data(pkt);
	h[0] = type;
	h[1] = code;
	h[2] = h[3] = 0;
	ns_store_be32(h + 4, rest);
	if (len)
		memcpy(h + NS_ICMP_HLEN, body, len);
	ns_store_be16(h + 2, ns_csum_fold(ns_csum_partial(h, NS_ICMP_HLEN + len, 0)));
	struct ns_ip_tx tx;
	memset(&tx, 0, sizeof(tx));
	if (src)
		ns_addr_from_u32(&tx.src, src);
	ns_addr_from_u32(&tx.dst, dst);
	tx.proto = NS_IPPROTO_ICMP;
	tx.ttl = -1;
	tx.tos = tos;
	tx.pmtudisc = NS_IP_PMTUDISC_DONT;  /* Linux's ICMP socket: no DF */
	count_out(stk, type);
	int err = ns__ipv4_output_opts(stk, pkt, &tx, opts, optlen);
	if (err < 0)
		NS_STAT_INC(stk, IcmpOutErrors);
	return err;
}

/* True for ICMP types that are errors (never answered with an error). */
static bool type_is_error(uint8_t t)
{
	return t == NS_ICMP_DEST_UNREACH || t == NS_ICMP_SOURCE_QUENCH || t == NS_ICMP_REDIRECT ||
	       t == NS_ICMP_TIME_EXCEEDED || t == NS_ICMP_PARAMETERPROB;
}

void ns__icmp4_send_error(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m,
			  uint8_t type, uint8_t code, uint32_t info)
{
	if (m->l3_off >= pkt->tail || pkt->tail - m->l3_off < NS_IPV4_HLEN)
		return;
	const uint8_t *h = pkt->head + m->l3_off;
	uint32_t avail = pkt->tail - m->l3_off;
	int ihl = ns_ip4_ihl(h);
	if ((h[0] >> 4) != 4 || ihl < NS_IPV4_HLEN || (uint32_t)ihl > avail)
		return;
	/* RFC 1122 3.2.2: never about broadcasts, multicasts, non-first
	 * fragments, sources that name no single host, or ICMP errors. */
	if (m->pkt_type != NS_PKT_HOST)
		return;
	uint32_t src = ns_ip4_src(h), dst = ns_ip4_dst(h);
	if (ns_ip4_is_zeronet(src) || ns_ip4_is_lbcast(src) || ns_ip4_is_mcast(src) ||
	    (src & 0xf0000000u) == 0xf0000000u)
		return;
	if (ns_ip4_is_mcast(dst) || ns_ip4_is_lbcast(dst))
		return;
	if (ns_ip4_frag(h) & NS_IP_OFFMASK)
		return;
	if (h[9] == NS_IPPROTO_ICMP) {
		if ((uint32_t)ihl + 1 > avail)
			return;
		uint8_t it = h[ihl];
		if (it > 18 || type_is_error(it))
			return;
	}
	struct ns_addr sa, da;
	ns_addr_from_u32(&sa, src);
	ns_addr_from_u32(&da, dst);
	if (m->nic && ns__addr_is_bcast4(m->nic, &da))
		return;
	bool to_local = ns__addr_local(stk, &sa, NULL) != NULL;
	if (!rl_allow(stk, type, code, src, to_local))
		return;
	/* Linux: the error fits in min(576, path MTU) */
	uint32_t room = NS_MIN((uint32_t)NS_ICMP_ERR_MAX, ns__ip_path_mtu(stk, &sa, 0));
	uint32_t qlen = NS_MIN(avail, (uint32_t)ns_ip4_totlen(h));
	qlen = NS_MIN(qlen, room - NS_IPV4_HLEN - NS_ICMP_HLEN);
	/* reply from the address the datagram was sent to when it is ours */
	uint32_t from = ns__addr_local(stk, &da, NULL) ? dst : 0;
	uint8_t tos = (uint8_t)((h[1] & 0x1e) | 0xc0);   /* Linux: precedence internetwork control */
	ns__icmp4_xmit(stk, from, src, type, code, info, h, qlen, tos);
}

/* ---- receiving -------------------------------------------------------------- */

/* errno and RFC 1122 "hard" for an error (Linux icmp_err_convert). */
static int err_of(uint8_t type, uint8_t code, bool *hard)
{
	static const struct { int err; bool fatal; } unreach[16] = {
		{ NS_ENETUNREACH, false }, { NS_EHOSTUNREACH, false }, { NS_ENOPROTOOPT, true },
		{ NS_ECONNREFUSED, true }, { NS_EMSGSIZE, false }, { NS_EOPNOTSUPP, false },
		{ NS_ENETUNREACH, true }, { NS_EHOSTDOWN, true }, { 64 /* ENONET */, true },
		{ NS_ENETUNREACH, true }, { NS_EHOSTUNREACH, true }, { NS_ENETUNREACH, false },
		{ NS_EHOSTUNREACH, false }, { NS_EHOSTUNREACH, true }, { NS_EHOSTUNREACH, true },
		{ NS_EHOSTUNREACH, true },
	};
	*hard = false;
	switch (type) {
	case NS_ICMP_DEST_UNREACH:
		if (code > 15)
			return 0;
		*hard = unreach[code].fatal;
		return unreach[code].err;
	case NS_ICMP_TIME_EXCEEDED:
		return NS_EHOSTUNREACH;
	case NS_ICMP_PARAMETERPROB:
		*hard = true;
		return NS_EPROTO;
	default:
		return 0;
	}
}

/* ---- options echoed in replies (RFC 1122 3.2.2.6, Linux ip_options_echo) -- */

/* Time for a timestamp option: ms on the stack clock with the high bit set
 * (RFC 791: not milliseconds since midnight UT). */
static uint32_t opt_time(struct ns_stack *stk)
{
	return (uint32_t)((ns__now(stk) / NS_NSEC_PER_MSEC) % 86400000u) | 0x80000000u;
}

/* One hop of record route / timestamp processing on option o (length l):
 * what Linux does once on receive and once more on sending the reply. */
static void opt_hop(struct ns_stack *stk, uint8_t *o, uint32_t l, uint32_t me)
{
	uint32_t p = o[2];
	if (o[0] == 7) {                        /* record route */
		if (p + 3 <= l) {
			ns_store_be32(o + p - 1, me);
			o[2] = (uint8_t)(p + 4);
		}
		return;
	}
	uint8_t flags = o[3] & 0x0f, ovf = o[3] >> 4;
	uint32_t need = flags == 0 ? 4 : 8;
	if (p + need - 1 > l) {                 /* full: count the overflow */
		if (flags != 3 && ovf < 15)
			o[3] = (uint8_t)((o[3] & 0x0f) | ((ovf + 1) << 4));
		return;
	}
	if (flags == 0) {
		ns_store_be32(o + p - 1, opt_time(stk));
	} else if (flags == 1) {
		ns_store_be32(o + p - 1, me);
		ns_store_be32(o + p + 3, opt_time(stk));
	} else if (flags == 3) {
		if (ns_load_be32(o + p - 1) != me)
			return;                 /* prespecified for another host */
		ns_store_be32(o + p + 3, opt_time(stk));
	} else {
		return;
	}
	o[2] = (uint8_t)(p + need);
}

/* Builds the reply's options from the request header h (ihl bytes): record
 * route and timestamp copied and updated for receiving and for sending;
 * nothing else is echoed.  Returns their length (padded to 4). */
static uint32_t echo_options(struct ns_stack *stk, const uint8_t *h, uint32_t ihl, uint32_t me,
			     uint8_t out[40])
{
	uint32_t n = 0;
	for (uint32_t i = NS_IPV4_HLEN; i < ihl;) {
		uint8_t t = h[i];
		if (t == 0)
			break;
		if (t == 1) {
			i++;
			continue;
		}
		uint32_t l = h[i + 1];          /* bounds checked on receive */
		if ((t == 7 || t == 68) && n + l <= 40) {
			memcpy(out + n, h + i, l);
			opt_hop(stk, out + n, l, me);
			opt_hop(stk, out + n, l, me);
			n += l;
		}
		i += l;
	}
	while (n % 4)
		out[n++] = 0;
	return n;
}

static void echo_reply(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m)
{
	const uint8_t *h = ns_pkt_data(pkt);
	uint32_t len = ns_pkt_len(pkt);
	uint8_t opts[40];
	uint32_t optlen = 0;
	const uint8_t *ip = pkt->head + m->l3_off;
	uint32_t ihl = ns_ip4_ihl(ip);
	if (ihl > NS_IPV4_HLEN)
		optlen = echo_options(stk, ip, ihl, ns_addr_v4_u32(&m->dst), opts);
	xmit_opts(stk, ns_addr_v4_u32(&m->dst), ns_addr_v4_u32(&m->src), NS_ICMP_ECHOREPLY, 0,
		  ns_load_be32(h + 4), h + NS_ICMP_HLEN, len - NS_ICMP_HLEN, m->tos,
		  optlen ? opts : NULL, optlen);
}

/* Timestamp reply (RFC 792): originate copied; receive and transmit are
 * ms on the stack clock with the high bit set, which RFC 792 prescribes
 * when the time is not milliseconds since midnight UT (protocol code has
 * no wall clock).  Linux answers these too (with UT). */
static bool timestamp_reply(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m)
{
	const uint8_t *h = ns_pkt_data(pkt);
	if (ns_pkt_len(pkt) < NS_ICMP_HLEN + 4)
		return false;
	uint8_t body[12];
	memcpy(body, h + NS_ICMP_HLEN, 4);
	uint32_t ms = (uint32_t)((ns__now(stk) / NS_NSEC_PER_MSEC) % 86400000u) | 0x80000000u;
	ns_store_be32(body + 4, ms);
	ns_store_be32(body + 8, ms);
	ns__icmp4_xmit(stk, ns_addr_v4_u32(&m->dst), ns_addr_v4_u32(&m->src), NS_ICMP_TIMESTAMPREPLY,
		       0, ns_load_be32(h + 4), body, sizeof(body), m->tos);
	return true;
}

/* True when gw is a unicast address on one of nic's connected prefixes
 * (not ours, not a broadcast). */
static bool gw_onlink(struct ns_stack *stk, struct ns_nic *nic, uint32_t gw)
{
	struct ns_addr a;
	ns_addr_from_u32(&a, gw);
	if (ns_ip4_is_mcast(gw) || ns_ip4_is_lbcast(gw) || ns_ip4_is_zeronet(gw) ||
	    ns_ip4_is_loopback(gw) || ns__addr_local(stk, &a, NULL) || ns__addr_is_bcast4(nic, &a))
		return false;
	bool on = false;
	ns_rcu_read_lock();
	struct ns_ifaddr_list *al = ns_rcu_dereference(nic->addrs);
	for (int j = 0; j < al->n && !on; j++)
		if (al->a[j].addr.family == NS_AF_INET &&
		    ns_addr_prefix_eq(&al->a[j].addr, &a, al->a[j].plen))
			on = true;
	ns_rcu_read_unlock();
	return on;
}

/*
 * Redirect (RFC 1122 3.2.2.2, Linux __ip_do_redirect): accepted only from
 * the gateway we use for that destination, for a new gateway on the same
 * network; every code is taken as a host redirect.  Like Linux, it is
 * recorded only once the new gateway's link address is known (else it is
 * resolved and the next redirect counts).  Returns false when malformed.
 */
static bool rcv_redirect(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m)
{
	const uint8_t *h = ns_pkt_data(pkt);
	uint32_t len = ns_pkt_len(pkt);
	if (len < NS_ICMP_HLEN + NS_IPV4_HLEN)
		return false;
	const uint8_t *in = h + NS_ICMP_HLEN;
	if (ns_ip4_ihl(in) < NS_IPV4_HLEN || h[1] > 3)
		return true;
	uint32_t dst = ns_ip4_dst(in), new_gw = ns_load_be32(h + 4);
	uint32_t old_gw = ns_addr_v4_u32(&m->src);
	struct ns_addr d;
	ns_addr_from_u32(&d, dst);
	struct ns_route_result r;
	if (ns__route_lookup(stk, &d, 0, &r) < 0 || ns_addr_v4_u32(&r.nexthop) == dst)
		return true;                    /* no route, or on-link: nothing to redirect */
	uint32_t cur = ns__ipv4_redirect_get(stk, dst);
	if (!cur)
		cur = ns_addr_v4_u32(&r.nexthop);
	if (cur != old_gw || new_gw == old_gw || !gw_onlink(stk, r.nic, new_gw))
		return true;
	if (ns__arp_valid_or_probe(r.nic, new_gw))
		ns__ipv4_redirect_set(stk, dst, new_gw);
	return true;
}

/* An error about a datagram we sent: PMTU, then the transport.  Returns
 * false when the message is malformed. */
static bool rcv_error(struct ns_stack *stk, struct ns_pkt *pkt)
{
	const uint8_t *h = ns_pkt_data(pkt);
	uint32_t len = ns_pkt_len(pkt);
	uint8_t type = h[0], code = h[1];
	if (len < NS_ICMP_HLEN + NS_IPV4_HLEN)
		return false;
	const uint8_t *in = h + NS_ICMP_HLEN;
	int ihl = ns_ip4_ihl(in);
	if (ihl < NS_IPV4_HLEN || len < NS_ICMP_HLEN + (uint32_t)ihl + 8)
		return false;
	if (type == NS_ICMP_TIME_EXCEEDED && code == NS_ICMP_EXC_FRAGTIME)
		return true;                    /* Linux ignores these */
	if (type == NS_ICMP_SOURCE_QUENCH)
		return true;                    /* RFC 6633 */
	if (type == NS_ICMP_DEST_UNREACH && code > 15)
		return true;
	struct ns_icmp_err e;
	memset(&e, 0, sizeof(e));
	e.family = NS_AF_INET;
	e.type = type;
	e.code = code;
	e.err = err_of(type, code, &e.hard);
	ns_addr_from_u32(&e.src, ns_ip4_src(in));
	ns_addr_from_u32(&e.dst, ns_ip4_dst(in));
	e.proto = in[9];
	e.l4 = in + ihl;
	e.l4_len = len - NS_ICMP_HLEN - (uint32_t)ihl;
	if (type == NS_ICMP_DEST_UNREACH && code == NS_ICMP_FRAG_NEEDED) {
		uint32_t mtu = ns_load_be16(h + 6);
		if (mtu && mtu < NS_IPV4_MIN_MTU)
			mtu = NS_IPV4_MIN_MTU;
		ns__ip_path_mtu_update(stk, &e.dst, mtu);
		e.mtu = ns__ip_path_mtu(stk, &e.dst, 0);
	}
	if (e.proto == NS_IPPROTO_UDP)
		ns__udp_icmp_err(stk, &e);
	else if (e.proto == NS_IPPROTO_TCP)
		ns__tcp_icmp_err(stk, &e);
	return true;
}

static void count_in(struct ns_stack *stk, uint8_t type)
{
	switch (type) {
	case NS_ICMP_DEST_UNREACH: NS_STAT_INC(stk, IcmpInDestUnreachs); break;
	case NS_ICMP_TIME_EXCEEDED: NS_STAT_INC(stk, IcmpInTimeExcds); break;
	case NS_ICMP_PARAMETERPROB: NS_STAT_INC(stk, IcmpInParmProbs); break;
	case NS_ICMP_ECHO: NS_STAT_INC(stk, IcmpInEchos); break;
	case NS_ICMP_ECHOREPLY: NS_STAT_INC(stk, IcmpInEchoReps); break;
	case NS_ICMP_REDIRECT: NS_STAT_INC(stk, IcmpInRedirects); break;
	case NS_ICMP_TIMESTAMP: NS_STAT_INC(stk, IcmpInTimestamps); break;
	default: break;
	}
}

void ns__icmp4_rcv(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m)
{
	NS_STAT_INC(stk, IcmpInMsgs);
	uint32_t len = ns_pkt_len(pkt);
	const uint8_t *h = ns_pkt_data(pkt);
	if (pkt->csum != NS_CSUM_UNNECESSARY && ns_csum_fold(ns_csum_partial(h, len, 0)) != 0) {
		NS_STAT_INC(stk, IcmpInCsumErrors);
		goto error;
	}
	if (len < NS_ICMP_HLEN)
		goto error;
	uint8_t type = h[0];
	count_in(stk, type);
	if (m->pkt_type != NS_PKT_HOST) {
		/* icmp_echo_ignore_broadcasts = 1; only queries make sense here */
		goto error;
	}
	switch (type) {
	case NS_ICMP_ECHO:
		echo_reply(stk, pkt, m);
		break;
	case NS_ICMP_TIMESTAMP:
		if (!timestamp_reply(stk, pkt, m))
			goto error;
		break;
	case NS_ICMP_REDIRECT:
		if (!rcv_redirect(stk, pkt, m))
			goto error;
		break;
	case NS_ICMP_DEST_UNREACH:
	case NS_ICMP_SOURCE_QUENCH:
	case NS_ICMP_TIME_EXCEEDED:
	case NS_ICMP_PARAMETERPROB:
		if (!rcv_error(stk, pkt))
			goto error;
		break;
	default:
		break;                          /* replies, redirects, ...: nothing to do */
	}
	ns_pkt_unref(pkt);
	return;
error:
	NS_STAT_INC(stk, IcmpInErrors);
	ns_pkt_unref(pkt);
}
