/*
 * ipv6/ipv6_in.c - the IPv6 receive path.
 * Owns: RFC 8200 3 fixed-header checks (version, payload length against the
 * frame, trimming link padding), source sanity (RFC 4291 2.5.3 / 2.7), the
 * destination filter (our non-tentative unicast addresses, joined groups),
 * and dispatch to UDP, TCP and ICMPv6 after the extension header walk
 * (exthdr.c) and reassembly (reasm.c).
 * Not: option processing (exthdr.c), ICMPv6 (icmp6.c).
 */
#include "ipv6_internal.h"

void ns__ipv6_rcv(struct ns_nic *nic, struct ns_pkt *pkt)
{
	ns__ipv6_rcv_common(nic, pkt, false);
}

/* RFC 4291 2.5.3 and 2.7 (and Linux ip6_rcv_core): addresses that never
 * arrive from another node. */
static bool bad_addresses(struct ns_nic *nic, const struct ns_addr *src,
			  const struct ns_addr *dst, bool local)
{
	if (ns_ip6_is_mcast(src))
		return true;
	if (local || (nic->link->caps & NS_LINK_CAP_LOOPBACK))
		return false;
	if (ns__ip6_is_loopback(src) || ns__ip6_is_loopback(dst))
		return true;
	/* interface-local (1) and reserved (0) multicast scopes never come from outside */
	if (ns_ip6_is_mcast(dst) && ns_ip6_mc_scope(dst) <= 1)
		return true;
	return false;
}

/* Is dst for us?  Unicast: a non-tentative address of ours (link-local ones
 * only on the receiving NIC; others on any NIC, like Linux).  Multicast: a
 * group joined on nic. */
static bool for_us(struct ns_stack *stk, struct ns_nic *nic, const struct ns_addr *dst)
{
	if (ns_ip6_is_mcast(dst)) {
		NS_STAT_INC(stk, Ip6InMcastPkts);
		return ns__mld_is_member(nic, dst);
	}
	if (ns__ip6_is_ours(nic, dst, false, NULL))
		return true;
	if (ns_ip6_is_linklocal(dst))
		return false;
	uint32_t flags = 0;
	struct ns_nic *other = ns__addr_local(stk, dst, &flags);
	return other && !(flags & (NS_IFA_TENTATIVE | NS_IFA_DUPLICATE));
}

void ns__ipv6_rcv_common(struct ns_nic *nic, struct ns_pkt *pkt, bool local)
{
	struct ns_stack *stk = nic->stk;
	NS_STAT_INC(stk, Ip6InReceives);
	pkt = ns_pkt_unshare(pkt);
	if (!pkt) {
		NS_STAT_INC(stk, Ip6InDiscards);
		return;
	}
	pkt->l3 = pkt->data;
	uint32_t len = ns_pkt_len(pkt);
	NS_STAT_ADD(stk, Ip6InOctets, len);
	const uint8_t *h = ns_pkt_data(pkt);
	if (len < NS_IP6_HLEN || ns_ip6_version(h) != 6)
		goto hdr_err;
	struct ns_ip_meta m = { .nic = nic, .ttl = ns_ip6_hlim(h), .tos = ns_ip6_tclass(h),
				.pkt_type = pkt->pkt_type, .l3_off = pkt->l3 };
	ns_addr_v6(&m.src, h + 8);
	ns_addr_v6(&m.dst, h + 24);
	if (bad_addresses(nic, &m.src, &m.dst, local))
		goto hdr_err;
	uint32_t plen = ns_ip6_plen(h);
	if (plen == 0 && ns_ip6_nexthdr(h) == NS_NH_HOP)
		goto hdr_err;           /* a jumbogram (RFC 2675): not supported */
	if (NS_IP6_HLEN + plen > len) {
		NS_STAT_INC(stk, Ip6InTruncatedPkts);
		goto drop;
	}
	ns_pkt_trim(pkt, NS_IP6_HLEN + plen);   /* link padding */
	if (!for_us(stk, nic, &m.dst)) {
		NS_STAT_INC(stk, Ip6InAddrErrors);
		goto drop;
	}
	if (ns_ip6_is_mcast(&m.dst))
		m.pkt_type = NS_PKT_MULTICAST;
	struct ns_ip6_walk w = { .nh = ns_ip6_nexthdr(h), .off = NS_IP6_HLEN, .nh_off = 6,
				 .first = true };
	ns__ip6_deliver(nic, pkt, &m, &w);
	return;
hdr_err:
	NS_STAT_INC(stk, Ip6InHdrErrors);
drop:
	ns_pkt_unref(pkt);
}

static void dispatch(struct ns_nic *nic, struct ns_pkt *pkt, struct ns_ip_meta *m,
		     const struct ns_ip6_walk *w)
{
	struct ns_stack *stk = nic->stk;
	m->proto = w->nh;
	m->l3_off = pkt->l3;
	switch (w->nh) {
	case NS_NH_UDP:
	case NS_NH_TCP:
	case NS_NH_ICMPV6:
		break;
	default:
		/* RFC 8200 4: unrecognized Next Header -> parameter problem code 1 */
		NS_STAT_INC(stk, Ip6InUnknownProtos);
		ns__icmp6_send_error(stk, pkt, m, NS_ICMP6_PARAM_PROB, NS_ICMP6_UNK_NEXTHDR, w->nh_off);
		ns_pkt_unref(pkt);
		return;
	}
	pkt->data = pkt->l3;
	ns_pkt_pull(pkt, w->off);
	pkt->l4 = pkt->data;
	NS_STAT_INC(stk, Ip6InDelivers);
	if (w->nh == NS_NH_UDP)
		ns__udp_rcv(stk, pkt, m);
	else if (w->nh == NS_NH_TCP)
		ns__tcp_rcv(stk, pkt, m);
	else
		ns__icmp6_rcv(stk, pkt, m);
}

void ns__ip6_deliver(struct ns_nic *nic, struct ns_pkt *pkt, struct ns_ip_meta *m,
		     struct ns_ip6_walk *w)
{
	struct ns_stack *stk = nic->stk;
	for (int rounds = 0; rounds < 4; rounds++) {
		switch (ns__ip6_walk(stk, pkt, m, w)) {
		case NS_WALK_UPPER:
			dispatch(nic, pkt, m, w);
			return;
		case NS_WALK_FRAG:
			pkt = ns__ip6_reasm(stk, nic, pkt, m, w);
			if (!pkt)
				return;
			m->l3_off = pkt->l3;
			continue;
		case NS_WALK_NONE:
			/* RFC 8200 4.7: nothing follows; Linux counts it delivered */
			NS_STAT_INC(stk, Ip6InDelivers);
			ns_pkt_unref(pkt);
			return;
		default:
			ns_pkt_unref(pkt);
			return;
		}
	}
	/* a reassembled datagram holding another fragment header: drop */
	NS_STAT_INC(stk, Ip6InHdrErrors);
	ns_pkt_unref(pkt);
}
