/*
 * ipv6/ipv6_out.c - the IPv6 output path.
 * Owns: ns__ipv6_output (route, source selection, header, hop limit, flow
 * label), software checksum completion, source fragmentation to the path
 * MTU (RFC 8200 4.5; never below 1280), the next hop: local loop,
 * multicast MAC mapping (RFC 2464 7) and the local copy of multicasts to
 * joined groups (IPV6_MULTICAST_LOOP), neighbour discovery (nd_cache.c).
 */
#include "ipv6_internal.h"

int ns__ip6_push_hdr(struct ns_pkt *pkt, const struct ns_addr *src, const struct ns_addr *dst,
		     uint8_t nh, uint8_t hlim, uint8_t tclass, uint32_t flow)
{
	uint32_t plen = ns_pkt_len(pkt);
	if (plen > NS_IP6_MAX_PAYLOAD)
		return -NS_EMSGSIZE;
	uint8_t *h = ns_pkt_push(pkt, NS_IP6_HLEN);
	if (!h)
		return -NS_ENOBUFS;
	ns_store_be32(h, (6u << 28) | ((uint32_t)tclass << 20) | (flow & 0xfffffu));
	ns_store_be16(h + 4, (uint16_t)plen);
	h[6] = nh;
	h[7] = hlim;
	memcpy(h + 8, src->b, 16);
	memcpy(h + 24, dst->b, 16);
	pkt->l3 = pkt->data;
	return 0;
}

uint8_t ns__ip6_default_hlim(struct ns_nic *nic)
{
	struct ns_nd *nd = ns__nd(nic);
	uint8_t h = nd ? atomic_load(&nd->cur_hlim) : 0;
	return h ? h : NS_IP6_DEFAULT_HLIM;
}

uint32_t ns__ip6_flowlabel(struct ns_stack *stk, const struct ns_addr *src,
			   const struct ns_addr *dst, uint8_t proto, const uint8_t *l4, size_t l4len)
{
	/* Linux auto_flowlabels: a hash of the flow (addresses, protocol, ports). */
	uint8_t buf[37];
	memcpy(buf, src->b, 16);
	memcpy(buf + 16, dst->b, 16);
	buf[32] = proto;
	memset(buf + 33, 0, 4);
	if ((proto == NS_NH_TCP || proto == NS_NH_UDP) && l4len >= 4)
		memcpy(buf + 33, l4, 4);
	return (uint32_t)ns__siphash(stk->hash_seed, buf, sizeof(buf)) & 0xfffffu;
}

uint32_t ns__ip6_next_frag_id(struct ns_stack *stk, const struct ns_addr *src,
			      const struct ns_addr *dst)
{
	/* RFC 7739 5.1: unpredictable identifications (random per datagram). */
	(void)src;
	(void)dst;
	uint32_t id;
	do
		id = ns__rand32(stk);
	while (id == 0);
	return id;
}

void ns__ip6_csum_finish(struct ns_pkt *pkt)
{
	if (pkt->csum != NS_CSUM_PARTIAL)
		return;
	uint8_t *d = ns_pkt_data(pkt);
	uint32_t len = ns_pkt_len(pkt);
	uint32_t start = pkt->csum_start, field = start + pkt->csum_off;
	if (start < len && field + 2 <= len) {
		/* the field holds the folded pseudo-header sum (Linux convention) */
		uint16_t c = ns_csum_fold(ns_csum_partial(d + start, len - start, 0));
		if (c == 0 && pkt->csum_off == 6)
			c = 0xffff;     /* UDP: zero means "no checksum" */
		ns_store_be16(d + field, c);
	}
	pkt->csum = NS_CSUM_NONE;
}

int ns__ip6_route(struct ns_stack *stk, const struct ns_addr *dst, int oif,
		  struct ns_route_result *r)
{
	int err = ns__route_lookup(stk, dst, oif, r);
	if (err == 0)
		return 0;
	/* A router learned from an RA whose ::/0 route could not be installed. */
	int n = ns__nic_count(stk);
	for (int i = 1; i <= n; i++) {
		struct ns_nic *nic = ns__nic_get(stk, i);
		struct ns_addr gw;
		if (!nic || (oif && oif != i) || !ns__nd_default_router(nic, &gw))
			continue;
		r->nic = nic;
		r->nexthop = gw;
		r->mtu = atomic_load(&nic->mtu);
		if (ns__nic_src_select(nic, dst, &r->src) < 0)
			memset(&r->src, 0, sizeof(r->src));
		return 0;
	}
	return err;
}

static uint32_t link_mtu6(struct ns_nic *nic)
{
	uint32_t mtu = atomic_load(&nic->mtu);
	struct ns_nd *nd = ns__nd(nic);
	uint32_t ra = nd ? atomic_load(&nd->mtu6) : 0;
	if (ra && ra < mtu)
		mtu = ra;
	return mtu < NS_IP6_MIN_MTU ? NS_IP6_MIN_MTU : mtu;
}

static uint32_t path_mtu(struct ns_stack *stk, struct ns_nic *nic, const struct ns_addr *dst)
{
	uint32_t mtu = link_mtu6(nic);
	uint32_t p = ns__pmtu_get(stk, dst, NULL);
	return p && p < mtu ? p : mtu;
}

uint32_t ns__ipv6_path_mtu(struct ns_stack *stk, const struct ns_addr *dst, int oif)
{
	struct ns_route_result r;
	if (ns__ip6_route(stk, dst, oif, &r) < 0) {
		uint32_t p = ns__pmtu_get(stk, dst, NULL);
		return p ? p : NS_IP6_MIN_MTU;
	}
	return path_mtu(stk, r.nic, dst);
}

/* ---- next hop ---------------------------------------------------------------- */

static int xmit_one(struct ns_nic *nic, struct ns_pkt *pkt, const struct ns_addr *nexthop)
{
	struct ns_stack *stk = nic->stk;
	NS_STAT_ADD(stk, Ip6OutOctets, ns_pkt_len(pkt));
	if (ns_ip6_is_mcast(nexthop)) {
		uint8_t mac[6];
		ns__ip6_mcast_mac(nexthop, mac);
		NS_STAT_INC(stk, Ip6OutMcastPkts);
		return ns__eth_output(nic, pkt, mac, NS_ETHERTYPE_IPV6);
	}
	if (nic->link->caps & (NS_LINK_CAP_NOARP | NS_LINK_CAP_LOOPBACK))
		return ns__eth_output(nic, pkt, nic->mac, NS_ETHERTYPE_IPV6);
	return ns__nd_output(nic, pkt, nexthop);
}

int ns__ipv6_xmit_mac(struct ns_nic *nic, struct ns_pkt *pkt, const uint8_t mac[6])
{
	/* requests and octets were counted when the packet was built or routed */
	if (mac[0] & 1)
		NS_STAT_INC(nic->stk, Ip6OutMcastPkts);
	return ns__eth_output(nic, pkt, mac, NS_ETHERTYPE_IPV6);
}

/* RFC 8200 4.5: the unfragmentable part is our fixed header (we add no
 * extension headers to datagrams that can need fragmenting). */
static int fragment(struct ns_nic *nic, struct ns_pkt *pkt, const struct ns_addr *nexthop,
		    uint32_t mtu)
{
	struct ns_stack *stk = nic->stk;
	const uint8_t *h = ns_pkt_data(pkt);
	uint32_t payload = ns_pkt_len(pkt) - NS_IP6_HLEN;
	if (mtu < NS_IP6_MIN_MTU)
		mtu = NS_IP6_MIN_MTU;
	uint32_t chunk = (mtu - NS_IP6_HLEN - NS_IP6_FRAG_HLEN) & ~7u;
	struct ns_addr src, dst;
	ns_addr_v6(&src, h + 8);
	ns_addr_v6(&dst, h + 24);
	uint32_t id = ns__ip6_next_frag_id(stk, &src, &dst);
	int err = 0;
	for (uint32_t off = 0; off < payload; off += chunk) {
		uint32_t n = NS_MIN(chunk, payload - off);
		bool more = off + n < payload;
		struct ns_pkt *f = ns_pkt_alloc(pkt->pool, NS_PKT_HEADROOM,
						NS_IP6_HLEN + NS_IP6_FRAG_HLEN + n);
		if (!f) {
			NS_STAT_INC(stk, Ip6FragFails);
			NS_STAT_INC(stk, Ip6OutDiscards);
			err = -NS_ENOBUFS;
			break;
		}
		uint8_t *d = ns_pkt_data(f);
		memcpy(d, h, NS_IP6_HLEN);
		ns_store_be16(d + 4, (uint16_t)(NS_IP6_FRAG_HLEN + n));
		d[6] = NS_NH_FRAGMENT;
		d[40] = h[6];
		d[41] = 0;
		ns_store_be16(d + 42, (uint16_t)(off | (more ? NS_IP6_MF : 0)));
		ns_store_be32(d + 44, id);
		memcpy(d + 48, h + NS_IP6_HLEN + off, n);
		f->l3 = f->data;
		NS_STAT_INC(stk, Ip6FragCreates);
		int r = xmit_one(nic, f, nexthop);
		if (r < 0 && !err)
			err = r;
	}
	if (!err)
		NS_STAT_INC(stk, Ip6FragOKs);
	ns_pkt_unref(pkt);
	return err;
}

int ns__ipv6_xmit(struct ns_nic *nic, struct ns_pkt *pkt, const struct ns_addr *nexthop,
		  uint32_t mtu, bool allow_frag)
{
	if (ns_pkt_len(pkt) <= mtu || pkt->gso_type != NS_GSO_NONE)
		return xmit_one(nic, pkt, nexthop);
	if (!allow_frag) {
		NS_STAT_INC(nic->stk, Ip6FragFails);
		ns_pkt_unref(pkt);
		return -NS_EMSGSIZE;
	}
	ns__ip6_csum_finish(pkt);
	return fragment(nic, pkt, nexthop, mtu);
}

/* ---- transports' entry point ------------------------------------------------------ */

static int output_local(struct ns_stack *stk, struct ns_nic *nic, struct ns_pkt *pkt,
			const struct ns_ip_tx *tx)
{
	const struct ns_addr *src = ns_addr_is_any(&tx->src) ? &tx->dst : &tx->src;
	uint8_t hlim = tx->ttl >= 0 ? (uint8_t)tx->ttl : ns__ip6_default_hlim(nic);
	uint32_t flow = tx->flowlabel ? tx->flowlabel :
		ns__ip6_flowlabel(stk, src, &tx->dst, tx->proto, ns_pkt_data(pkt), ns_pkt_len(pkt));
	if (pkt->csum == NS_CSUM_PARTIAL)
		pkt->csum = NS_CSUM_UNNECESSARY;   /* never leaves memory */
	else
		pkt->csum = NS_CSUM_NONE;
	pkt->gso_type = NS_GSO_NONE;
	int err = ns__ip6_push_hdr(pkt, src, &tx->dst, tx->proto, hlim, tx->tos, flow);
	if (err < 0) {
		NS_STAT_INC(stk, Ip6OutDiscards);
		ns_pkt_unref(pkt);
		return err;
	}
	pkt->pkt_type = NS_PKT_HOST;
	ns__ipv6_local_enqueue(stk, nic, pkt);
	return 0;
}

static struct ns_nic *local_nic(struct ns_stack *stk, const struct ns_ip_tx *tx)
{
	if (ns_ip6_is_mcast(&tx->dst))
		return NULL;
	struct ns_nic *nic = ns__addr_local(stk, &tx->dst, NULL);
	if (nic && tx->oif && tx->oif != nic->id && ns_ip6_is_linklocal(&tx->dst))
		return NULL;
	return nic;
}

/* A multicast to a group the NIC has joined also goes to local sockets,
 * unless IPV6_MULTICAST_LOOP is off (Linux ip6_finish_output2). */
static void loop_mcast(struct ns_stack *stk, struct ns_nic *nic, struct ns_pkt *pkt)
{
	struct ns_pkt *c = ns_pkt_copy(pkt, NS_PKT_HEADROOM);
	if (!c)
		return;
	c->csum = c->csum == NS_CSUM_PARTIAL ? NS_CSUM_UNNECESSARY : NS_CSUM_NONE;
	c->gso_type = NS_GSO_NONE;
	c->pkt_type = NS_PKT_MULTICAST;
	ns__ipv6_local_enqueue(stk, nic, c);
}

int ns__ipv6_output(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_tx *tx)
{
	if (tx->dst.family != NS_AF_INET6) {
		ns_pkt_unref(pkt);
		return -NS_EAFNOSUPPORT;
	}
	NS_STAT_INC(stk, Ip6OutRequests);
	struct ns_nic *lnic = local_nic(stk, tx);
	if (lnic)
		return output_local(stk, lnic, pkt, tx);
	struct ns_route_result r;
	if (ns__ip6_route(stk, &tx->dst, tx->oif, &r) < 0) {
		NS_STAT_INC(stk, Ip6OutNoRoutes);
		ns_pkt_unref(pkt);
		return -NS_ENETUNREACH;
	}
	struct ns_addr src = ns_addr_is_any(&tx->src) ? r.src : tx->src;
	if (src.family != NS_AF_INET6 || ns__ip6_is_any(&src)) {
		NS_STAT_INC(stk, Ip6OutDiscards);
		ns_pkt_unref(pkt);
		return -NS_EADDRNOTAVAIL;
	}
	bool mc = ns_ip6_is_mcast(&tx->dst);
	uint8_t hlim = tx->ttl >= 0 ? (uint8_t)tx->ttl : (mc ? 1 : ns__ip6_default_hlim(r.nic));
	uint32_t flow = tx->flowlabel ? tx->flowlabel :
		ns__ip6_flowlabel(stk, &src, &tx->dst, tx->proto, ns_pkt_data(pkt), ns_pkt_len(pkt));
	uint32_t mtu = path_mtu(stk, r.nic, &tx->dst);
	uint32_t len = ns_pkt_len(pkt) + NS_IP6_HLEN;
	bool gso = pkt->gso_type != NS_GSO_NONE;
	if (!gso && len > mtu && tx->pmtudisc == NS_IP_PMTUDISC_DO) {
		NS_STAT_INC(stk, Ip6FragFails);
		ns_pkt_unref(pkt);
		return -NS_EMSGSIZE;
	}
	if (pkt->csum == NS_CSUM_PARTIAL && (!(r.nic->link->caps & NS_LINK_CAP_TX_CSUM) || (!gso && len > mtu)))
		ns__ip6_csum_finish(pkt);
	pkt->l4 = pkt->data;
	int err = ns__ip6_push_hdr(pkt, &src, &tx->dst, tx->proto, hlim, tx->tos, flow);
	if (err < 0) {
		NS_STAT_INC(stk, Ip6OutDiscards);
		ns_pkt_unref(pkt);
		return err;
	}
	if (mc && !tx->mc_noloop && ns__mld_is_member(r.nic, &tx->dst))
		loop_mcast(stk, r.nic, pkt);
	return ns__ipv6_xmit(r.nic, pkt, &r.nexthop, mtu, true);
}
