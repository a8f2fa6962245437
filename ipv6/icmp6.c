/*
 * ipv6/icmp6.c - ICMPv6 (RFC 4443).
 * Owns: checksum verification (pseudo-header), per-type counters, echo
 * replies, errors we send (destination unreachable, packet too big, time
 * exceeded, parameter problem) with the RFC 4443 2.4 (e) rules and Linux's
 * rate limits (a global bucket, 1000/s burst 50, and a per-destination one,
 * 1 s scaled by the route prefix, burst 6; packet too big and informational
 * messages never limited), and errors we receive: parsed and handed to
 * UDP/TCP (struct ns_icmp_err), packet too big recorded as path MTU.
 * ND and MLD messages go to nd.c.
 */
#include <stdlib.h>
#include "ipv6_internal.h"

#define RL_PEERS 256
#define RL_TIMEOUT (1000ull * NS_NSEC_PER_MSEC)   /* net.ipv6.icmp.ratelimit */
#define RL_BURST 6                                /* XRLIM_BURST_FACTOR */
#define RL_GLOBAL_PER_SEC 1000                    /* net.ipv4.icmp_msgs_per_sec */
#define RL_GLOBAL_BURST 50                        /* net.ipv4.icmp_msgs_burst */
#define ERR_MAX 1280                              /* an error fits the minimum MTU */

struct rl_peer {
	struct ns_addr a;
	uint64_t tokens, last;
};

struct ns_icmp6_rl {
	pthread_mutex_t mu;
	uint64_t g_credit_ns;           /* global credit in ns of refill (1 msg = 1 ms) */
	uint64_t g_last;
	struct rl_peer peers[RL_PEERS];
};

int ns__icmp6_init(struct ns_ipv6 *ip)
{
	ip->rl = calloc(1, sizeof(*ip->rl));
	if (!ip->rl)
		return -NS_ENOMEM;
	pthread_mutex_init(&ip->rl->mu, NULL);
	ip->rl->g_credit_ns = RL_GLOBAL_BURST * (NS_NSEC_PER_SEC / RL_GLOBAL_PER_SEC);
	ip->rl->g_last = ns__now(ip->stk);
	return 0;
}

void ns__icmp6_fini(struct ns_ipv6 *ip)
{
	if (!ip->rl)
		return;
	pthread_mutex_destroy(&ip->rl->mu);
	free(ip->rl);
	ip->rl = NULL;
}

/* ---- counters ---------------------------------------------------------------- */

static void count_in(struct ns_stack *stk, uint8_t type)
{
	switch (type) {
	case NS_ICMP6_DST_UNREACH: NS_STAT_INC(stk, Icmp6InDestUnreachs); break;
	case NS_ICMP6_PACKET_TOO_BIG: NS_STAT_INC(stk, Icmp6InPktTooBigs); break;
	case NS_ICMP6_TIME_EXCEEDED: NS_STAT_INC(stk, Icmp6InTimeExcds); break;
	case NS_ICMP6_PARAM_PROB: NS_STAT_INC(stk, Icmp6InParmProblems); break;
	case NS_ICMP6_ECHO_REQUEST: NS_STAT_INC(stk, Icmp6InEchos); break;
	case NS_ICMP6_ECHO_REPLY: NS_STAT_INC(stk, Icmp6InEchoReplies); break;
	case NS_ICMP6_MLD_QUERY: NS_STAT_INC(stk, Icmp6InGroupMembQueries); break;
	case NS_ICMP6_MLD_REPORT: NS_STAT_INC(stk, Icmp6InGroupMembResponses); break;
	case NS_ICMP6_MLD_DONE: NS_STAT_INC(stk, Icmp6InGroupMembReductions); break;
	case NS_ICMP6_RS: NS_STAT_INC(stk, Icmp6InRouterSolicits); break;
	case NS_ICMP6_RA: NS_STAT_INC(stk, Icmp6InRouterAdvertisements); break;
	case NS_ICMP6_NS: NS_STAT_INC(stk, Icmp6InNeighborSolicits); break;
	case NS_ICMP6_NA: NS_STAT_INC(stk, Icmp6InNeighborAdvertisements); break;
	case NS_ICMP6_REDIRECT: NS_STAT_INC(stk, Icmp6InRedirects); break;
	case NS_ICMP6_MLD2_REPORT: NS_STAT_INC(stk, Icmp6InMLDv2Reports); break;
	default: break;
	}
}

void ns__icmp6_count_out(struct ns_stack *stk, uint8_t type)
{
	NS_STAT_INC(stk, Icmp6OutMsgs);
	switch (type) {
	case NS_ICMP6_DST_UNREACH: NS_STAT_INC(stk, Icmp6OutDestUnreachs); break;
	case NS_ICMP6_PACKET_TOO_BIG: NS_STAT_INC(stk, Icmp6OutPktTooBigs); break;
	case NS_ICMP6_TIME_EXCEEDED: NS_STAT_INC(stk, Icmp6OutTimeExcds); break;
	case NS_ICMP6_PARAM_PROB: NS_STAT_INC(stk, Icmp6OutParmProblems); break;
	case NS_ICMP6_ECHO_REQUEST: NS_STAT_INC(stk, Icmp6OutEchos); break;
	case NS_ICMP6_ECHO_REPLY: NS_STAT_INC(stk, Icmp6OutEchoReplies); break;
	case NS_ICMP6_RS: NS_STAT_INC(stk, Icmp6OutRouterSolicits); break;
	case NS_ICMP6_NS: NS_STAT_INC(stk, Icmp6OutNeighborSolicits); break;
	case NS_ICMP6_NA: NS_STAT_INC(stk, Icmp6OutNeighborAdvertisements); break;
	case NS_ICMP6_MLD2_REPORT: NS_STAT_INC(stk, Icmp6OutMLDv2Reports); break;
	default: break;
	}
}

/* ---- building ------------------------------------------------------------------ */

void ns__icmp6_csum_set(uint8_t *p, size_t len, const struct ns_addr *src,
			const struct ns_addr *dst)
{
	p[2] = p[3] = 0;
	uint32_t sum = ns_csum_partial(p, len, ns_csum_pseudo(src, dst, NS_NH_ICMPV6, (uint32_t)len));
	ns_store_be16(p + 2, ns_csum_fold(sum));
}

struct ns_pkt *ns__icmp6_build(struct ns_stack *stk, const struct ns_addr *src,
			       const struct ns_addr *dst, uint8_t type, uint8_t code,
			       uint32_t rest, const void *body, size_t len)
{
	struct ns_pkt *p = ns_pkt_alloc(&stk->pool, NS_PKT_TX_HEADROOM, NS_ICMP6_HLEN + len);
	if (!p) {
		NS_STAT_INC(stk, Icmp6OutErrors);
		return NULL;
	}
	uint8_t *d = ns_pkt_data(p);
	d[0] = type;
	d[1] = code;
	ns_store_be32(d + 4, rest);
	if (len)
		memcpy(d + NS_ICMP6_HLEN, body, len);
	ns__icmp6_csum_set(d, NS_ICMP6_HLEN + len, src, dst);
	p->l4 = p->data;
	return p;
}

static int send_icmp(struct ns_stack *stk, struct ns_pkt *p, const struct ns_addr *src,
		     const struct ns_addr *dst, uint8_t tclass, int oif)
{
	uint8_t type = ns_pkt_data(p)[0];
	struct ns_ip_tx tx = { .src = *src, .dst = *dst, .proto = NS_NH_ICMPV6, .ttl = -1,
			       .tos = tclass, .oif = oif, .pmtudisc = NS_IP_PMTUDISC_WANT };
	ns__icmp6_count_out(stk, type);
	int err = ns__ipv6_output(stk, p, &tx);
	if (err < 0)
		NS_STAT_INC(stk, Icmp6OutErrors);
	return err;
}

/* ---- rate limits (Linux icmpv6_xrlim_allow / icmp_global_allow) ------------------ */

static bool global_allow(struct ns_icmp6_rl *rl, uint64_t now)
{
	const uint64_t per = NS_NSEC_PER_SEC / RL_GLOBAL_PER_SEC;
	rl->g_credit_ns += now - rl->g_last;
	rl->g_last = now;
	if (rl->g_credit_ns > RL_GLOBAL_BURST * per)
		rl->g_credit_ns = RL_GLOBAL_BURST * per;
	if (rl->g_credit_ns < per)
		return false;
	rl->g_credit_ns -= per;
	return true;
}

/* Prefix length of the route toward dst: wider prefixes get more messages. */
static int route_plen(struct ns_stack *stk, const struct ns_addr *dst)
{
	int best = 0, n = ns__nic_count(stk);
	ns_rcu_read_lock();
	for (int i = 1; i <= n; i++) {
		struct ns_nic *nic = ns__nic_get(stk, i);
		if (!nic)
			continue;
		struct ns_ifaddr_list *al = ns_rcu_dereference(nic->addrs);
		for (int j = 0; j < al->n; j++)
			if (al->a[j].addr.family == NS_AF_INET6 && al->a[j].plen > best &&
			    ns_addr_prefix_eq(&al->a[j].addr, dst, al->a[j].plen))
				best = al->a[j].plen;
	}
	ns_rcu_read_unlock();
	return best;
}

static bool peer_allow(struct ns_stack *stk, struct ns_icmp6_rl *rl, const struct ns_addr *dst,
		       uint64_t now)
{
	uint64_t tmo = RL_TIMEOUT >> ((128 - route_plen(stk, dst)) >> 5);
	uint32_t h = (uint32_t)ns__siphash(stk->hash_seed, dst->b, 16) % RL_PEERS;
	struct rl_peer *pe = &rl->peers[h];
	if (!ns_addr_eq(&pe->a, dst)) {
		pe->a = *dst;
		pe->tokens = RL_BURST * tmo;
		pe->last = now;
	}
	pe->tokens += now - pe->last;
	pe->last = now;
	if (pe->tokens > RL_BURST * tmo)
		pe->tokens = RL_BURST * tmo;
	if (pe->tokens < tmo)
		return false;
	pe->tokens -= tmo;
	return true;
}

static bool rate_allow(struct ns_stack *stk, uint8_t type, const struct ns_addr *dst,
		       struct ns_nic *nic)
{
	/* Linux ratemask 0-1,3-127: packet too big and informational are free */
	if (type == NS_ICMP6_PACKET_TOO_BIG || type >= 128)
		return true;
	if (nic && (nic->link->caps & NS_LINK_CAP_LOOPBACK))
		return true;
	struct ns_icmp6_rl *rl = stk->ipv6->rl;
	uint64_t now = ns__now(stk);
	bool ok = true;
	pthread_mutex_lock(&rl->mu);
	if (!global_allow(rl, now)) {
		NS_STAT_INC(stk, IcmpOutRateLimitGlobal);
		ok = false;
	} else if (!peer_allow(stk, rl, dst, now)) {
		NS_STAT_INC(stk, Icmp6OutRateLimitHost);
		ok = false;
	}
	pthread_mutex_unlock(&rl->mu);
	return ok;
}

/* ---- sending errors ---------------------------------------------------------------- */

/* RFC 4443 2.4 (e.1): is the offending packet itself an ICMPv6 error? */
static bool is_icmp_error(const uint8_t *ip, size_t avail)
{
	uint8_t nh = ip[6];
	size_t off = NS_IP6_HLEN;
	for (int i = 0; i < 64; i++) {
		if (nh == NS_NH_ICMPV6)
			return off >= avail || ip[off] < 128;
		if (nh != NS_NH_HOP && nh != NS_NH_DSTOPTS && nh != NS_NH_ROUTING &&
		    nh != NS_NH_FRAGMENT)
			return false;
		if (off + 8 > avail)
			return false;
		if (nh == NS_NH_FRAGMENT) {
			if (ns_load_be16(ip + off + 2) & NS_IP6_OFFMASK)
				return false;   /* no upper-layer header in here */
			nh = ip[off];
			off += 8;
		} else {
			nh = ip[off];
			off += ((size_t)ip[off + 1] + 1) * 8;
		}
	}
	return false;
}

void ns__icmp6_send_error(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m,
			  uint8_t type, uint8_t code, uint32_t info)
{
	if (m->l3_off >= pkt->tail || pkt->tail - m->l3_off < NS_IP6_HLEN)
		return;
	const uint8_t *ip = pkt->head + m->l3_off;
	size_t avail = pkt->tail - m->l3_off;
	struct ns_addr osrc, odst;
	ns_addr_v6(&osrc, ip + 8);
	ns_addr_v6(&odst, ip + 24);
	/* 2.4 (e.2/e.3): not to multicast, except packet too big and an
	 * unrecognized option whose type says "even if multicast" */
	bool mc_ok = type == NS_ICMP6_PACKET_TOO_BIG ||
		     (type == NS_ICMP6_PARAM_PROB && code == NS_ICMP6_UNK_OPTION && info < avail &&
		      (ip[info] & 0xc0) == 0x80);
	bool mc = ns_ip6_is_mcast(&odst) || m->pkt_type == NS_PKT_MULTICAST ||
		  m->pkt_type == NS_PKT_BROADCAST;
	if (mc && !mc_ok)
		return;
	/* 2.4 (e.6): the source must identify a single node */
	if (ns__ip6_is_any(&osrc) || ns_ip6_is_mcast(&osrc))
		return;
	if (is_icmp_error(ip, avail))
		return;
	if (!rate_allow(stk, type, &osrc, m->nic))
		return;
	struct ns_addr src = { .family = NS_AF_INET6 };
	if (!ns_ip6_is_mcast(&odst) && ns__addr_local(stk, &odst, NULL))
		src = odst;
	size_t qlen = NS_MIN(avail, (size_t)ERR_MAX - NS_IP6_HLEN - NS_ICMP6_HLEN);
	int oif = ns_ip6_is_linklocal(&osrc) && m->nic ? m->nic->id : 0;
	if (ns__ip6_is_any(&src)) {
		struct ns_route_result r;
		if (ns__ip6_route(stk, &osrc, oif, &r) < 0 || ns__ip6_is_any(&r.src))
			return;
		src = r.src;
	}
	struct ns_pkt *p = ns__icmp6_build(stk, &src, &osrc, type, code, info, ip, qlen);
	if (p)
		send_icmp(stk, p, &src, &osrc, 0, oif);
}

/* ---- receiving ---------------------------------------------------------------------- */

static void echo_reply(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m)
{
	const uint8_t *p = ns_pkt_data(pkt);
	size_t len = ns_pkt_len(pkt);
	if (ns__ip6_is_any(&m->src) || ns_ip6_is_mcast(&m->src))
		return;
	struct ns_addr src = m->dst;
	int oif = ns_ip6_is_linklocal(&m->src) ? m->nic->id : 0;
	if (ns_ip6_is_mcast(&m->dst) && ns__nic_src_select(m->nic, &m->src, &src) < 0)
		return;
	struct ns_pkt *r = ns__icmp6_build(stk, &src, &m->src, NS_ICMP6_ECHO_REPLY, 0,
					   ns_load_be32(p + 4), p + NS_ICMP6_HLEN,
					   len - NS_ICMP6_HLEN);
	if (r)
		send_icmp(stk, r, &src, &m->src, m->tos, oif);
}

/* Linux icmpv6_err_convert */
static void err_convert(uint8_t type, uint8_t code, int *err, bool *hard)
{
	static const struct { int err; bool hard; } unreach[] = {
		{ NS_ENETUNREACH, false }, { NS_EACCES, true }, { NS_EHOSTUNREACH, false },
		{ NS_EHOSTUNREACH, false }, { NS_ECONNREFUSED, true }, { NS_EACCES, true },
		{ NS_EACCES, true },
	};
	*err = NS_EPROTO;
	*hard = false;
	switch (type) {
	case NS_ICMP6_DST_UNREACH:
		if (code < NS_ARRAY_SIZE(unreach)) {
			*err = unreach[code].err;
			*hard = unreach[code].hard;
		}
		break;
	case NS_ICMP6_PACKET_TOO_BIG:
		*err = NS_EMSGSIZE;
		break;
	case NS_ICMP6_PARAM_PROB:
		*err = NS_EPROTO;
		*hard = true;
		break;
	case NS_ICMP6_TIME_EXCEEDED:
		*err = NS_EHOSTUNREACH;
		break;
	}
}

/* Finds the upper-layer header of the quoted datagram. */
static bool inner_upper(const uint8_t *ip, size_t len, uint8_t *proto, size_t *off)
{
	uint8_t nh = ip[6];
	size_t o = NS_IP6_HLEN;
	for (int i = 0; i < 64; i++) {
		if (nh != NS_NH_HOP && nh != NS_NH_DSTOPTS && nh != NS_NH_ROUTING &&
		    nh != NS_NH_FRAGMENT) {
			*proto = nh;
			*off = o;
			return o <= len;
		}
		if (o + 8 > len)
			return false;
		if (nh == NS_NH_FRAGMENT) {
			if (ns_load_be16(ip + o + 2) & NS_IP6_OFFMASK)
				return false;
			nh = ip[o];
			o += 8;
		} else {
			nh = ip[o];
			o += ((size_t)ip[o + 1] + 1) * 8;
		}
	}
	return false;
}

static void err_rcv(struct ns_stack *stk, const uint8_t *p, size_t len)
{
	if (len < NS_ICMP6_HLEN + NS_IP6_HLEN) {
		NS_STAT_INC(stk, Icmp6InErrors);
		return;
	}
	const uint8_t *ip = p + NS_ICMP6_HLEN;
	size_t ilen = len - NS_ICMP6_HLEN;
	struct ns_icmp_err e = { .family = NS_AF_INET6, .type = p[0], .code = p[1] };
	ns_addr_v6(&e.src, ip + 8);
	ns_addr_v6(&e.dst, ip + 24);
	if (e.type == NS_ICMP6_PACKET_TOO_BIG) {
		uint32_t mtu = ns_load_be32(p + 4);
		e.mtu = mtu < NS_IP6_MIN_MTU ? NS_IP6_MIN_MTU : mtu;
		ns__ip_path_mtu_update(stk, &e.dst, e.mtu);
	}
	size_t off;
	if (!inner_upper(ip, ilen, &e.proto, &off) || ilen - off < 8)
		return;         /* too little quoted to find the socket */
	e.l4 = ip + off;
	e.l4_len = ilen - off;
	err_convert(e.type, e.code, &e.err, &e.hard);
	if (e.proto == NS_NH_UDP)
		ns__udp_icmp_err(stk, &e);
	else if (e.proto == NS_NH_TCP)
		ns__tcp_icmp_err(stk, &e);
}

void ns__icmp6_rcv(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m)
{
	const uint8_t *p = ns_pkt_data(pkt);
	size_t len = ns_pkt_len(pkt);
	NS_STAT_INC(stk, Icmp6InMsgs);
	if (len < NS_ICMP6_HLEN)
		goto err;
	if (pkt->csum != NS_CSUM_UNNECESSARY) {
		uint32_t sum = ns_csum_partial(p, len, ns_csum_pseudo(&m->src, &m->dst, NS_NH_ICMPV6,
								       (uint32_t)len));
		if (ns_csum_fold(sum) != 0) {
			NS_STAT_INC(stk, Icmp6InCsumErrors);
			goto err;
		}
	}
	count_in(stk, p[0]);
	switch (p[0]) {
	case NS_ICMP6_ECHO_REQUEST:
		echo_reply(stk, pkt, m);
		break;
	case NS_ICMP6_DST_UNREACH:
	case NS_ICMP6_PACKET_TOO_BIG:
	case NS_ICMP6_TIME_EXCEEDED:
	case NS_ICMP6_PARAM_PROB:
		err_rcv(stk, p, len);
		break;
	case NS_ICMP6_MLD_QUERY: case NS_ICMP6_MLD_REPORT: case NS_ICMP6_MLD_DONE:
	case NS_ICMP6_RS: case NS_ICMP6_RA: case NS_ICMP6_NS: case NS_ICMP6_NA:
	case NS_ICMP6_REDIRECT: case NS_ICMP6_MLD2_REPORT:
		ns__nd_rcv(m->nic, pkt, m);
		return;
	default:
		break;          /* echo replies (no ping sockets), unknown types */
	}
	ns_pkt_unref(pkt);
	return;
err:
	NS_STAT_INC(stk, Icmp6InErrors);
	ns_pkt_unref(pkt);
}
