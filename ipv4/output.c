/*
 * ipv4/output.c - IPv4 output: route and source selection, header build,
 * IP identification, the DF / path-MTU decision, fragmentation, the next
 * hop (ARP, broadcast, multicast, NOARP links) and local delivery through
 * a deferred queue.
 * Owns: IpOutRequests, IpOutNoRoutes, IpOutDiscards, IpFragOKs,
 * IpFragCreates, IpFragFails; ns__ip_output, ns__ipv4_output.
 * Read first: RFC 791 3.2 (fragmentation), RFC 1122 3.3.3 and 3.2.1.7,
 * RFC 6864 (IP ID), Linux ip_queue_xmit / __ip_make_skb / ip_do_fragment.
 */
#include <stdlib.h>
#include "ipv4_internal.h"

#define IDENTS_SIZE 2048u

static void local_timer_fn(void *arg);

int ns__ipv4_output_init(struct ns_ipv4 *ip)
{
	ip->idents = calloc(IDENTS_SIZE, sizeof(*ip->idents));
	if (!ip->idents)
		return -NS_ENOMEM;
	ip->idents_mask = IDENTS_SIZE - 1;
	for (uint32_t i = 0; i < IDENTS_SIZE; i++)
		atomic_init(&ip->idents[i], ns__rand32(ip->stk));
	pthread_mutex_init(&ip->local_mu, NULL);
	ns__timer_init(&ip->local_timer, local_timer_fn, ip);
	return 0;
}

void ns__ipv4_output_fini(struct ns_ipv4 *ip)
{
	if (!ip->idents)
		return;
	ns__timer_cancel_sync(ip->stk, &ip->local_timer);
	pthread_mutex_lock(&ip->local_mu);
	struct ns_pkt *q = ip->local_head;
	ip->local_head = ip->local_tail = NULL;
	ip->local_len = 0;
	pthread_mutex_unlock(&ip->local_mu);
	ns_pkt_unref_chain(q);
	pthread_mutex_destroy(&ip->local_mu);
	free(ip->idents);
	ip->idents = NULL;
}

/* ---- header --------------------------------------------------------------- */

uint16_t ns__ipv4_next_id(struct ns_stack *stk, uint32_t src, uint32_t dst, uint8_t proto)
{
	struct ns_ipv4 *ip = stk->ipv4;
	uint8_t key[9];
	ns_store_be32(key, src);
	ns_store_be32(key + 4, dst);
	key[8] = proto;
	uint32_t idx = (uint32_t)ns__siphash(stk->hash_seed, key, sizeof(key)) & ip->idents_mask;
	return (uint16_t)atomic_fetch_add_explicit(&ip->idents[idx], 1, memory_order_relaxed);
}

void ns__ipv4_build_hdr(uint8_t *h, uint16_t totlen, uint16_t id, uint16_t frag, uint8_t ttl,
			uint8_t tos, uint8_t proto, uint32_t src, uint32_t dst)
{
	h[0] = 0x45;
	h[1] = tos;
	ns_store_be16(h + 2, totlen);
	ns_store_be16(h + 4, id);
	ns_store_be16(h + 6, frag);
	h[8] = ttl;
	h[9] = proto;
	h[10] = h[11] = 0;
	ns_store_be32(h + 12, src);
	ns_store_be32(h + 16, dst);
	ns_store_be16(h + 10, ns_csum_fold(ns_csum_partial(h, NS_IPV4_HLEN, 0)));
}

void ns__ipv4_csum_finish(struct ns_pkt *pkt)
{
	if (pkt->csum != NS_CSUM_PARTIAL)
		return;
	/* the sum starts at the L4 header (where data is when IP gets the
	 * packet); csum_start is not trusted: gso.h lets transports leave it */
	uint32_t len = ns_pkt_len(pkt);
	uint32_t off = pkt->csum_off;
	if (off + 2 <= len) {
		uint8_t *p = ns_pkt_data(pkt);
		/* the field holds the pseudo-header sum; 0 goes out as 0xffff */
		uint16_t c = ns_csum_fold(ns_csum_partial(p, len, 0));
		if (c == 0)
			c = 0xffff;
		ns_store_be16(p + off, c);
	}
	pkt->csum = NS_CSUM_NONE;
}

/* ---- local delivery -------------------------------------------------------- */

void ns__ipv4_local_enqueue(struct ns_stack *stk, struct ns_nic *nic, struct ns_pkt *pkt)
{
	struct ns_ipv4 *ip = stk->ipv4;
	pkt->nic = nic->id;
	pkt->next = NULL;
	/* never crossed a wire: treat the checksums as verified (Linux lo) */
	pkt->csum = NS_CSUM_UNNECESSARY;
	pkt->gso_type = NS_GSO_NONE;    /* delivered whole, like Linux lo (GRO-sized) */
	pkt->gso_size = 0;
	pkt->pkt_type = NS_PKT_HOST;
	pthread_mutex_lock(&ip->local_mu);
	if (ip->local_len >= NS_IPV4_LOCAL_QMAX) {
		pthread_mutex_unlock(&ip->local_mu);
		NS_STAT_INC(stk, IpOutDiscards);
		ns_pkt_unref(pkt);
		return;
	}
	if (ip->local_tail)
		ip->local_tail->next = pkt;
	else
		ip->local_head = pkt;
	ip->local_tail = pkt;
	ip->local_len++;
	pthread_mutex_unlock(&ip->local_mu);
	ns__timer_arm_earlier(stk, &ip->local_timer, ns__now(stk));
}

static void local_timer_fn(void *arg)
{
	struct ns_ipv4 *ip = arg;
	struct ns_stack *stk = ip->stk;
	pthread_mutex_lock(&ip->local_mu);
	struct ns_pkt *q = ip->local_head;
	ip->local_head = ip->local_tail = NULL;
	ip->local_len = 0;
	pthread_mutex_unlock(&ip->local_mu);
	while (q) {
		struct ns_pkt *p = q;
		q = q->next;
		p->next = NULL;
		struct ns_nic *nic = ns__nic_get(stk, p->nic);
		if (!nic) {
			NS_STAT_INC(stk, IpInDiscards);
			ns_pkt_unref(p);
			continue;
		}
		ns__ipv4_rcv_common(nic, p, true);
	}
}

/* ---- next hop --------------------------------------------------------------- */

static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static bool dst_is_bcast(struct ns_nic *nic, uint32_t dst)
{
	if (ns_ip4_is_lbcast(dst))
		return true;
	struct ns_addr a;
	ns_addr_from_u32(&a, dst);
	return ns__addr_is_bcast4(nic, &a);
}

int ns__ipv4_xmit(struct ns_stack *stk, struct ns_nic *nic, struct ns_pkt *pkt, uint32_t nexthop,
		  bool bcast)
{
	pkt->l3 = pkt->data;
	pkt->nic = nic->id;
	/* partial checksums and GSO are completed for the link by ns__nic_write */
	NS_STAT_ADD(stk, IpExtOutOctets, ns_pkt_len(pkt));
	if (nic->link->caps & (NS_LINK_CAP_NOARP | NS_LINK_CAP_LOOPBACK))
		return ns__eth_output(nic, pkt, nic->mac, NS_ETHERTYPE_IPV4);
	uint32_t dst = ns_ip4_dst(ns_pkt_data(pkt));
	if (ns_ip4_is_mcast(dst)) {
		/* RFC 1112 6.4: 01:00:5e + the low 23 bits of the group */
		uint8_t mac[6] = { 0x01, 0x00, 0x5e, (uint8_t)((dst >> 16) & 0x7f),
				   (uint8_t)(dst >> 8), (uint8_t)dst };
		return ns__eth_output(nic, pkt, mac, NS_ETHERTYPE_IPV4);
	}
	if (bcast)
		return ns__eth_output(nic, pkt, bcast_mac, NS_ETHERTYPE_IPV4);
	return ns__arp_output(nic, pkt, nexthop);
}

/* ---- fragmentation ----------------------------------------------------------- */

struct out_ctx {
	struct ns_nic *nic;
	const uint8_t *opts;            /* IP options (a multiple of 4 bytes) or NULL */
	uint32_t optlen;
	bool local;
	bool bcast;                     /* limited or directed broadcast */
	bool loop;                      /* a copy goes to local sockets */
	uint32_t src, dst, nexthop;
	uint8_t ttl, tos, proto;
};

/* Writes the header at h: hlen = 20 + optlen; `first`: a first (or only)
 * fragment, else options not marked "copy" become NOPs (Linux
 * ip_options_fragment, RFC 791 3.1). */
static void build_hdr(uint8_t *h, const struct out_ctx *c, uint16_t totlen, uint16_t id,
		      uint16_t frag, bool first)
{
	ns__ipv4_build_hdr(h, totlen, id, frag, c->ttl, c->tos, c->proto, c->src, c->dst);
	if (!c->optlen)
		return;
	uint32_t hlen = NS_IPV4_HLEN + c->optlen;
	h[0] = (uint8_t)(0x40 | (hlen / 4));
	memcpy(h + NS_IPV4_HLEN, c->opts, c->optlen);
	for (uint32_t i = NS_IPV4_HLEN; !first && i < hlen;) {
		uint8_t t = h[i];
		if (t == 0)
			break;
		if (t == 1 || i + 1 >= hlen) {
			i++;
			continue;
		}
		uint32_t l = h[i + 1] < 2 ? 2 : h[i + 1];
		if (!(t & 0x80))
			memset(h + i, 1, NS_MIN(l, hlen - i));
		i += l;
	}
	h[10] = h[11] = 0;
	ns_store_be16(h + 10, ns_csum_fold(ns_csum_partial(h, hlen, 0)));
}

/* Pushes the header and sends one datagram (data at L4).  Consumes pkt. */
static int send_one(struct ns_stack *stk, const struct out_ctx *c, struct ns_pkt *pkt, bool df)
{
	uint32_t l4len = ns_pkt_len(pkt);
	uint32_t hlen = NS_IPV4_HLEN + c->optlen;
	uint8_t *h = ns_pkt_push(pkt, hlen);
	if (!h) {
		struct ns_pkt *cp = ns_pkt_copy(pkt, NS_PKT_HEADROOM + hlen);
		ns_pkt_unref(pkt);
		if (!cp) {
			NS_STAT_INC(stk, IpOutDiscards);
			return -NS_ENOBUFS;
		}
		pkt = cp;
		h = ns_pkt_push(pkt, hlen);
	}
	uint16_t id = ns__ipv4_next_id(stk, c->src, c->dst, c->proto);
	build_hdr(h, c, (uint16_t)(l4len + hlen), id, df ? NS_IP_DF : 0, true);
	if (c->local) {
		NS_STAT_ADD(stk, IpExtOutOctets, ns_pkt_len(pkt));
		ns__ipv4_local_enqueue(stk, c->nic, pkt);
		return 0;
	}
	if (c->loop) {
		/* the local copy (c->loop: see ns__ipv4_output_opts) */
		struct ns_pkt *cp = ns_pkt_copy(pkt, NS_PKT_HEADROOM);
		if (cp)
			ns__ipv4_local_enqueue(stk, c->nic, cp);
	}
	int err = ns__ipv4_xmit(stk, c->nic, pkt, c->nexthop, c->bcast);
	return err == -NS_ENOBUFS ? err : 0;
}

/* Splits an L4 datagram into fragments of at most mtu bytes.  Consumes pkt. */
static int fragment(struct ns_stack *stk, const struct out_ctx *c, struct ns_pkt *pkt, uint32_t mtu)
{
	ns__ipv4_csum_finish(pkt);
	uint32_t l4len = ns_pkt_len(pkt);
	uint32_t hlen = NS_IPV4_HLEN + c->optlen;
	uint32_t per = mtu > hlen ? (mtu - hlen) & ~7u : 0;
	if (per < 8) {
		NS_STAT_INC(stk, IpFragFails);
		ns_pkt_unref(pkt);
		return -NS_EMSGSIZE;
	}
	uint32_t n = (l4len + per - 1) / per;
	uint16_t id = ns__ipv4_next_id(stk, c->src, c->dst, c->proto);
	const uint8_t *src = ns_pkt_data(pkt);
	struct ns_pkt *head = NULL, **tailp = &head;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = i * per;
		uint32_t fl = NS_MIN(per, l4len - off);
		struct ns_pkt *f = ns_pkt_alloc(pkt->pool, NS_PKT_HEADROOM + hlen, fl);
		if (!f) {
			ns_pkt_unref_chain(head);
			ns_pkt_unref(pkt);
			NS_STAT_INC(stk, PktAllocFails);
			NS_STAT_INC(stk, IpFragFails);
			return -NS_ENOBUFS;
		}
		memcpy(ns_pkt_data(f), src + off, fl);
		uint8_t *h = ns_pkt_push(f, hlen);
		uint16_t frag = (uint16_t)((off / 8) | (i + 1 < n ? NS_IP_MF : 0));
		build_hdr(h, c, (uint16_t)(fl + hlen), id, frag, i == 0);
		*tailp = f;
		tailp = &f->next;
	}
	ns_pkt_unref(pkt);
	NS_STAT_INC(stk, IpFragOKs);
	NS_STAT_ADD(stk, IpFragCreates, n);
	while (head) {
		struct ns_pkt *f = head;
		head = f->next;
		f->next = NULL;
		if (c->loop) {
			struct ns_pkt *cp = ns_pkt_copy(f, NS_PKT_HEADROOM);
			if (cp)
				ns__ipv4_local_enqueue(stk, c->nic, cp);
		}
		ns__ipv4_xmit(stk, c->nic, f, c->nexthop, c->bcast);
	}
	return 0;
}

/* Linux ip_fragment() on a DF datagram of ours: a fragmentation-needed
 * error to ourselves, so the transport learns the MTU through its ICMP
 * handler (looped back, never sent out).  Borrows pkt (data at L4). */
static void local_frag_needed(struct ns_stack *stk, const struct out_ctx *c, struct ns_pkt *pkt,
			      uint32_t mtu)
{
	uint32_t l4len = ns_pkt_len(pkt);
	uint8_t *h = ns_pkt_push(pkt, NS_IPV4_HLEN);
	if (!h)
		return;
	ns__ipv4_build_hdr(h, (uint16_t)(l4len + NS_IPV4_HLEN), 0, NS_IP_DF, c->ttl, c->tos,
			   c->proto, c->src, c->dst);
	struct ns_ip_meta m;
	memset(&m, 0, sizeof(m));
	ns_addr_from_u32(&m.src, c->src);
	ns_addr_from_u32(&m.dst, c->dst);
	m.nic = c->nic;
	m.pkt_type = NS_PKT_HOST;
	m.proto = c->proto;
	m.l3_off = pkt->data;
	ns__icmp4_send_error(stk, pkt, &m, NS_ICMP_DEST_UNREACH, NS_ICMP_FRAG_NEEDED, mtu);
	ns_pkt_pull(pkt, NS_IPV4_HLEN);
}

/* ---- the entry points --------------------------------------------------------- */

int ns__ip_output(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_tx *tx)
{
	if (tx->dst.family == NS_AF_INET)
		return ns__ipv4_output(stk, pkt, tx);
	if (tx->dst.family == NS_AF_INET6)
		return ns__ipv6_output(stk, pkt, tx);
	ns_pkt_unref(pkt);
	return -NS_EAFNOSUPPORT;
}

/* Route and source: fills c; returns the MTU to use or -errno. */
static int route(struct ns_stack *stk, const struct ns_ip_tx *tx, struct out_ctx *c, bool *locked)
{
	uint32_t dst = ns_addr_v4_u32(&tx->dst);
	struct ns_addr d = tx->dst;
	if (dst == 0) {                 /* Linux: 0.0.0.0 means this host */
		if (tx->src.family == NS_AF_INET && !ns_addr_is_any(&tx->src))
			d = tx->src;
		else
			ns_addr_from_u32(&d, 0x7f000001u);
		dst = ns_addr_v4_u32(&d);
	}
	c->dst = dst;
	c->src = tx->src.family == NS_AF_INET ? ns_addr_v4_u32(&tx->src) : 0;
	struct ns_nic *lnic = ns__addr_local(stk, &d, NULL);
	if (lnic) {        /* our own address: looped back whatever the oif (Linux) */
		c->nic = lnic;
		c->local = true;
		c->nexthop = dst;
		if (!c->src)
			c->src = dst;
		return NS_IPV4_MAX_LEN;
	}
	struct ns_route_result r;
	/* a sender with a source (TCP, bound sockets) needs no source selection */
	int err = c->src ? ns__route_lookup_nosrc(stk, &d, tx->oif, &r) :
			   ns__route_lookup(stk, &d, tx->oif, &r);
	if (err < 0)
		return -NS_ENETUNREACH;
	c->nic = r.nic;
	c->nexthop = ns_addr_v4_u32(&r.nexthop);
	if (c->nexthop != dst) {        /* through a gateway: a redirect may name another */
		uint32_t gw = ns__ipv4_redirect_get(stk, dst);
		if (gw)
			c->nexthop = gw;
	}
	if (!c->src && r.src.family == NS_AF_INET)
		c->src = ns_addr_v4_u32(&r.src);
	if (tx->pmtudisc >= NS_IP_PMTUDISC_PROBE)
		return (int)r.mtu;
	uint32_t p = ns__pmtu_get(stk, &d, locked);
	return (int)(p && p < r.mtu ? p : r.mtu);
}

int ns__ipv4_output(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_tx *tx)
{
	return ns__ipv4_output_opts(stk, pkt, tx, NULL, 0);
}

int ns__ipv4_output_opts(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_tx *tx,
			 const uint8_t *opts, uint32_t optlen)
{
	if (tx->dst.family != NS_AF_INET || optlen > NS_IPV4_MAX_HLEN - NS_IPV4_HLEN || optlen % 4) {
		ns_pkt_unref(pkt);
		return -NS_EAFNOSUPPORT;
	}
	struct out_ctx c;
	memset(&c, 0, sizeof(c));
	bool locked = false;
	int mtu = route(stk, tx, &c, &locked);
	if (mtu < 0) {
		NS_STAT_INC(stk, IpOutNoRoutes);
		ns_pkt_unref(pkt);
		return mtu;
	}
	NS_STAT_INC(stk, IpOutRequests);
	c.bcast = !c.local && dst_is_bcast(c.nic, c.dst);
	/* broadcasts, and multicasts unless IP_MULTICAST_LOOP is off, are
	 * looped back to local sockets too (Linux) */
	c.loop = c.bcast || (!c.local && ns_ip4_is_mcast(c.dst) && !tx->mc_noloop);
	if (c.bcast && !tx->is_bcast_ok) {
		NS_STAT_INC(stk, IpOutDiscards);
		ns_pkt_unref(pkt);
		return -NS_EACCES;
	}
	pkt = ns_pkt_unshare(pkt);
	if (!pkt) {
		NS_STAT_INC(stk, IpOutDiscards);
		return -NS_ENOBUFS;
	}
	c.proto = tx->proto;
	c.tos = tx->tos;
	c.opts = opts;
	c.optlen = opts ? optlen : 0;
	if (tx->ttl > 0)
		c.ttl = (uint8_t)NS_MIN(tx->ttl, 255);
	else
		c.ttl = ns_ip4_is_mcast(c.dst) ? 1 : NS_IPV4_DEFAULT_TTL;
	uint32_t l4len = ns_pkt_len(pkt);
	uint32_t hlen = NS_IPV4_HLEN + c.optlen;
	if (l4len + hlen > NS_IPV4_MAX_LEN) {
		NS_STAT_INC(stk, IpOutDiscards);
		ns_pkt_unref(pkt);
		return -NS_EMSGSIZE;
	}
	/* GSO packets are never fragmented: ns__nic_write segments them */
	bool gso = pkt->gso_type != NS_GSO_NONE;
	if (l4len + hlen <= (uint32_t)mtu || gso || c.local) {
		bool df = gso || tx->pmtudisc == NS_IP_PMTUDISC_DO ||
			  tx->pmtudisc == NS_IP_PMTUDISC_PROBE ||
			  (tx->pmtudisc == NS_IP_PMTUDISC_WANT && !locked);
		return send_one(stk, &c, pkt, df);
	}
	/* TCP's DF is set per segment (Linux ip_queue_xmit): a segment grown
	 * too big for a shrunken path is not fragmented either */
	bool tcp_df = c.proto == NS_IPPROTO_TCP && tx->pmtudisc == NS_IP_PMTUDISC_WANT && !locked;
	if (tx->pmtudisc == NS_IP_PMTUDISC_DO || tx->pmtudisc == NS_IP_PMTUDISC_PROBE || tcp_df) {
		NS_STAT_INC(stk, IpFragFails);
		if (c.proto == NS_IPPROTO_TCP)
			local_frag_needed(stk, &c, pkt, (uint32_t)mtu);
		ns_pkt_unref(pkt);
		return -NS_EMSGSIZE;
	}
	return fragment(stk, &c, pkt, (uint32_t)mtu);
}
