/*
 * ipv6/nd.c - neighbour discovery messages (RFC 4861): validation of NS,
 * NA, RS, RA and redirects (hop limit 255, code 0, lengths, options with
 * no zero length), building NS/NA/RS, answering solicitations, and RA
 * processing (hop limit, reachable/retrans times, default routers, prefix
 * information, MTU).  Redirects are counted and ignored (we are a host
 * that does not trust them).
 * Not: cache state transitions (nd_cache.c), DAD/SLAAC (addrconf.c).
 */
#include "ipv6_internal.h"

#define ND_HLIM 255

int ns__nd_parse_opts(const uint8_t *p, size_t len, struct ns_nd_opts *o)
{
	memset(o, 0, sizeof(*o));
	size_t i = 0;
	while (i < len) {
		if (len - i < 2)
			return -1;
		size_t olen = (size_t)p[i + 1] * 8;
		if (olen == 0 || olen > len - i)
			return -1;      /* RFC 4861 4.6: zero length is invalid */
		const uint8_t *opt = p + i;
		switch (opt[0]) {
		case NS_ND_OPT_SLLA:
			if (olen == 8 && !o->slla)
				o->slla = opt + 2;
			break;
		case NS_ND_OPT_TLLA:
			if (olen == 8 && !o->tlla)
				o->tlla = opt + 2;
			break;
		case NS_ND_OPT_NONCE:
			if (olen == 8 && !o->nonce)
				o->nonce = opt + 2;
			break;
		case NS_ND_OPT_MTU:
			if (olen == 8 && !o->mtu)
				o->mtu = opt;
			break;
		case NS_ND_OPT_PREFIX:
			if (olen == 32 && o->n_prefix < NS_ND_MAX_PREFIXES)
				o->prefix[o->n_prefix++] = opt;
			break;
		default:
			break;  /* unknown options are ignored (4.6) */
		}
		i += olen;
	}
	return 0;
}

/* An ND packet: ICMPv6 body then IPv6 header with hop limit 255, flow 0. */
static struct ns_pkt *nd_pkt(struct ns_nic *nic, const struct ns_addr *src,
			     const struct ns_addr *dst, uint8_t type, uint32_t rest,
			     const uint8_t *body, size_t len)
{
	struct ns_pkt *p = ns__icmp6_build(nic->stk, src, dst, type, 0, rest, body, len);
	if (!p)
		return NULL;
	if (ns__ip6_push_hdr(p, src, dst, NS_NH_ICMPV6, ND_HLIM, 0, 0) < 0) {
		ns_pkt_unref(p);
		return NULL;
	}
	p->nic = nic->id;
	ns__icmp6_count_out(nic->stk, type);
	/* Linux ndisc_send_skb counts ND packets as output requests */
	NS_STAT_INC(nic->stk, Ip6OutRequests);
	NS_STAT_ADD(nic->stk, Ip6OutOctets, ns_pkt_len(p));
	return p;
}

static size_t put_lla(uint8_t *b, uint8_t type, const uint8_t mac[6])
{
	b[0] = type;
	b[1] = 1;
	memcpy(b + 2, mac, 6);
	return 8;
}

struct ns_pkt *ns__nd_build_ns(struct ns_nic *nic, const struct ns_addr *src,
			       const struct ns_addr *dst, const struct ns_addr *target,
			       const uint8_t *nonce)
{
	uint8_t body[16 + 8 + 8];
	size_t n = 16;
	memcpy(body, target->b, 16);
	if (!ns__ip6_is_any(src))
		n += put_lla(body + n, NS_ND_OPT_SLLA, nic->mac);
	if (nonce) {
		body[n] = NS_ND_OPT_NONCE;
		body[n + 1] = 1;
		memcpy(body + n + 2, nonce, 6);
		n += 8;
	}
	return nd_pkt(nic, src, dst, NS_ICMP6_NS, 0, body, n);
}

static struct ns_pkt *build_na(struct ns_nic *nic, const struct ns_addr *src,
			       const struct ns_addr *dst, uint32_t flags, bool tlla)
{
	uint8_t body[16 + 8];
	size_t n = 16;
	memcpy(body, src->b, 16);
	if (tlla)
		n += put_lla(body + n, NS_ND_OPT_TLLA, nic->mac);
	return nd_pkt(nic, src, dst, NS_ICMP6_NA, flags, body, n);
}

/* A link-local address of nic that finished DAD, or :: */
void ns__nd_linklocal_src(struct ns_nic *nic, struct ns_addr *src)
{
	memset(src, 0, sizeof(*src));
	src->family = NS_AF_INET6;
	ns_rcu_read_lock();
	struct ns_ifaddr_list *al = ns_rcu_dereference(nic->addrs);
	for (int j = 0; j < al->n; j++) {
		const struct ns_ifaddr *ifa = &al->a[j];
		if (ifa->addr.family == NS_AF_INET6 && (ifa->flags & NS_IFA_LINKLOCAL) &&
		    !(ifa->flags & (NS_IFA_TENTATIVE | NS_IFA_DUPLICATE))) {
			*src = ifa->addr;
			break;
		}
	}
	ns_rcu_read_unlock();
}

struct ns_pkt *ns__nd_build_rs(struct ns_nic *nic)
{
	struct ns_addr src, dst;
	ns__nd_linklocal_src(nic, &src);
	ns__ip6_all_routers(&dst);
	uint8_t body[8];
	size_t n = ns__ip6_is_any(&src) ? 0 : put_lla(body, NS_ND_OPT_SLLA, nic->mac);
	return nd_pkt(nic, &src, &dst, NS_ICMP6_RS, 0, body, n);
}

/* ---- receive ------------------------------------------------------------------------ */

static bool is_solicited_node(const struct ns_addr *a)
{
	static const uint8_t pfx[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	return memcmp(a->b, pfx, 13) == 0;
}

static void send_na(struct ns_nic *nic, const struct ns_addr *target, const struct ns_addr *to,
		    bool solicited, bool override, bool tlla)
{
	uint32_t flags = (solicited ? NS_NA_F_SOLICITED : 0) | (override ? NS_NA_F_OVERRIDE : 0);
	struct ns_pkt *p = build_na(nic, target, to, flags, tlla);
	if (!p)
		return;
	if (ns_ip6_is_mcast(to)) {
		uint8_t mac[6];
		ns__ip6_mcast_mac(to, mac);
		ns__ipv6_xmit_mac(nic, p, mac);
	} else {
		ns__nd_output(nic, p, to);
	}
}

/* RFC 4861 7.1.1 and 7.2.3, RFC 4862 5.4.3 */
static void rcv_ns(struct ns_nic *nic, const uint8_t *p, size_t len, const struct ns_ip_meta *m)
{
	struct ns_nd *nd = ns__nd(nic);
	struct ns_nd_opts o;
	struct ns_addr target;
	if (len < 24 || ns__nd_parse_opts(p + 24, len - 24, &o) < 0)
		goto bad;
	ns_addr_v6(&target, p + 8);
	bool dad = ns__ip6_is_any(&m->src);
	if (ns_ip6_is_mcast(&target) || (dad && (!is_solicited_node(&m->dst) || o.slla)))
		goto bad;
	uint32_t flags = 0;
	if (!ns__ip6_is_ours(nic, &target, true, &flags))
		return;         /* not ours: no proxy ND */
	struct ns_nd_work w = { 0 };
	pthread_mutex_lock(&nd->mu);
	if (flags & NS_IFA_TENTATIVE) {
		/* 5.4.3: from :: -> someone else's DAD (unless our own looped back);
		 * from a unicast source -> address resolution: ignore */
		if (dad)
			ns__addrconf_dad_conflict_locked(nd, &target, o.nonce, &w);
		pthread_mutex_unlock(&nd->mu);
		ns__nd_work_run(nic, &w);
		return;
	}
	if (!dad && o.slla)
		ns__nd_learn_locked(nd, &m->src, o.slla, false, &w);
	pthread_mutex_unlock(&nd->mu);
	ns__nd_work_run(nic, &w);
	if (flags & NS_IFA_DUPLICATE)
		return;
	struct ns_addr to;
	bool mc = ns_ip6_is_mcast(&m->dst);
	if (dad)
		ns__ip6_all_nodes(&to);
	else
		to = m->src;
	/* Linux: the override flag and target link-layer address are set
	 * when the solicitation was multicast (or for DAD). */
	send_na(nic, &target, &to, !dad, mc || dad, mc || dad);
	return;
bad:
	NS_STAT_INC(nic->stk, Icmp6InErrors);
}

/* RFC 4861 7.1.2 and 7.2.5 */
static void rcv_na(struct ns_nic *nic, const uint8_t *p, size_t len, const struct ns_ip_meta *m)
{
	struct ns_nd *nd = ns__nd(nic);
	struct ns_nd_opts o;
	struct ns_addr target;
	if (len < 24 || ns__nd_parse_opts(p + 24, len - 24, &o) < 0)
		goto bad;
	uint32_t fl = ns_load_be32(p + 4);
	ns_addr_v6(&target, p + 8);
	if (ns_ip6_is_mcast(&target) || (ns_ip6_is_mcast(&m->dst) && (fl & NS_NA_F_SOLICITED)))
		goto bad;
	uint32_t flags = 0;
	struct ns_nd_work w = { 0 };
	pthread_mutex_lock(&nd->mu);
	if (ns__ip6_is_ours(nic, &target, true, &flags)) {
		if (flags & NS_IFA_TENTATIVE)
			ns__addrconf_dad_conflict_locked(nd, &target, NULL, &w);
		else
			ns__log(NS_LOG_DEBUG, "%s: another node advertises one of our addresses",
				nic->name);
	} else {
		ns__nd_na_locked(nd, &target, o.tlla, fl & NS_NA_F_ROUTER, fl & NS_NA_F_SOLICITED,
				 fl & NS_NA_F_OVERRIDE, &w);
	}
	pthread_mutex_unlock(&nd->mu);
	ns__nd_work_run(nic, &w);
	return;
bad:
	NS_STAT_INC(nic->stk, Icmp6InErrors);
}

static void ra_params_locked(struct ns_nd *nd, const uint8_t *p)
{
	if (p[4])
		atomic_store(&nd->cur_hlim, p[4]);
	uint32_t reach_ms = ns_load_be32(p + 8);
	uint32_t retrans_ms = ns_load_be32(p + 12);
	uint64_t reach = (uint64_t)reach_ms * NS_NSEC_PER_MSEC;
	if (reach_ms && reach_ms <= 3600000u && reach != nd->base_reachable)
		ns__nd_set_reachable_locked(nd, reach);
	if (retrans_ms)
		nd->retrans = (uint64_t)retrans_ms * NS_NSEC_PER_MSEC;
}

/* RFC 4861 6.1.2 and 6.3.4 */
static void rcv_ra(struct ns_nic *nic, const uint8_t *p, size_t len, const struct ns_ip_meta *m)
{
	struct ns_nd *nd = ns__nd(nic);
	struct ns_nd_opts o;
	if (len < 16 || !ns_ip6_is_linklocal(&m->src) || ns__nd_parse_opts(p + 16, len - 16, &o) < 0) {
		NS_STAT_INC(nic->stk, Icmp6InErrors);
		return;
	}
	if (ns__ip6_is_ours(nic, &m->src, true, NULL))
		return;         /* our own, looped back */
	struct ns_nd_work w = { 0 };
	pthread_mutex_lock(&nd->mu);
	nd->ra_seen = true;
	nd->rs_left = 0;
	nd->rs_at = 0;
	ra_params_locked(nd, p);
	ns__addrconf_router_locked(nd, &m->src, ns_load_be16(p + 6), &w);
	if (o.slla)
		ns__nd_learn_locked(nd, &m->src, o.slla, true, &w);
	if (o.mtu) {
		uint32_t mtu = ns_load_be32(o.mtu + 4);
		if (mtu >= NS_IP6_MIN_MTU && mtu <= atomic_load(&nic->mtu))
			atomic_store(&nd->mtu6, mtu);
	}
	for (int i = 0; i < o.n_prefix; i++)
		ns__addrconf_prefix_locked(nd, o.prefix[i], &w);
	pthread_mutex_unlock(&nd->mu);
	ns__nd_work_run(nic, &w);
}

void ns__nd_rcv(struct ns_nic *nic, struct ns_pkt *pkt, const struct ns_ip_meta *m)
{
	const uint8_t *p = ns_pkt_data(pkt);
	size_t len = ns_pkt_len(pkt);
	uint8_t type = p[0];
	if (type == NS_ICMP6_MLD_QUERY || type == NS_ICMP6_MLD_REPORT ||
	    type == NS_ICMP6_MLD_DONE || type == NS_ICMP6_MLD2_REPORT) {
		struct ns_nd *nd = ns__nd(nic);
		struct ns_nd_work w = { 0 };
		pthread_mutex_lock(&nd->mu);
		ns__mld_rcv_locked(nd, p, len, m, &w);
		pthread_mutex_unlock(&nd->mu);
		ns__nd_work_run(nic, &w);
		goto out;
	}
	/* RFC 4861 6.1 / 7.1: hop limit 255 (never forwarded) and code 0 */
	if (m->ttl != ND_HLIM || p[1] != 0) {
		NS_STAT_INC(nic->stk, Icmp6InErrors);
		goto out;
	}
	switch (type) {
	case NS_ICMP6_NS:
		rcv_ns(nic, p, len, m);
		break;
	case NS_ICMP6_NA:
		rcv_na(nic, p, len, m);
		break;
	case NS_ICMP6_RA:
		rcv_ra(nic, p, len, m);
		break;
	default:
		break;          /* RS (we are no router), redirect: ignored */
	}
out:
	ns_pkt_unref(pkt);
}
