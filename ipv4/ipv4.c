/*
 * ipv4/ipv4.c - IPv4 receive: header validation, source and destination
 * checks, options, reassembly hand-off and dispatch to the transports;
 * and the per-stack IPv4 state (init/fini).
 * Owns: IpInReceives, IpInHdrErrors, IpInAddrErrors, IpExtInTruncatedPkts,
 * IpExtInCsumErrors, IpInUnknownProtos, IpInDelivers, IpInDiscards,
 * IpExtInBcastPkts, IpExtInMcastPkts.
 * Not: output (output.c), fragments (reasm.c), ICMP (icmp.c), ARP (arp.c).
 * Read first: RFC 791 3.1, RFC 1122 3.2.1 and 3.3.6, Linux ip_rcv_core().
 */
#include <stdlib.h>
#include "ipv4_internal.h"

int ns__ipv4_init(struct ns_stack *stk)
{
	struct ns_ipv4 *ip = calloc(1, sizeof(*ip));
	if (!ip)
		return -NS_ENOMEM;
	ip->stk = stk;
	stk->ipv4 = ip;
	int err = ns__ipv4_output_init(ip);
	if (err == 0)
		err = ns__ipv4_reasm_init(ip);
	if (err == 0)
		err = ns__ipv4_pmtu_init(ip);
	if (err == 0)
		err = ns__icmp4_init(ip);
	return err;   /* on failure ns_stack_destroy() calls ns__ipv4_fini() */
}

void ns__ipv4_fini(struct ns_stack *stk)
{
	struct ns_ipv4 *ip = stk->ipv4;
	if (!ip)
		return;
	ns__ipv4_output_fini(ip);
	ns__ipv4_reasm_fini(ip);
	ns__ipv4_pmtu_fini(ip);
	ns__icmp4_fini(ip);
	stk->ipv4 = NULL;
	free(ip);
}

/* ---- options (RFC 791 3.1; Linux ip_options_compile on receive) ---------- */

#define IPOPT_EOL 0
#define IPOPT_NOP 1
#define IPOPT_RR 7
#define IPOPT_TS 68
#define IPOPT_LSRR 131
#define IPOPT_SSRR 137

/*
 * Walks the options so that none can read past the header.  Returns 0, or
 * -1 with *pp = offset of the offending byte (for a parameter problem).
 * *srr is set for source-routed datagrams.
 */
static int options_check(const uint8_t *h, int ihl, int *pp, bool *srr)
{
	int i = NS_IPV4_HLEN;
	while (i < ihl) {
		uint8_t t = h[i];
		if (t == IPOPT_EOL)
			break;
		if (t == IPOPT_NOP) {
			i++;
			continue;
		}
		if (ihl - i < 2) {
			*pp = i;
			return -1;
		}
		int olen = h[i + 1];
		if (olen < 2 || olen > ihl - i) {
			*pp = i;
			return -1;
		}
		switch (t) {
		case IPOPT_RR:
		case IPOPT_LSRR:
		case IPOPT_SSRR:
			if (olen < 3) {
				*pp = i + 1;
				return -1;
			}
			/* the pointer: at least 4, and a slot must fit whole */
			if (h[i + 2] < 4 || (h[i + 2] <= olen && h[i + 2] + 3 > olen)) {
				*pp = i + 2;
				return -1;
			}
			if (t != IPOPT_RR) {
				if (*srr) {      /* two source routes */
					*pp = i;
					return -1;
				}
				*srr = true;
			}
			break;
		case IPOPT_TS:
			if (olen < 4) {
				*pp = i + 1;
				return -1;
			}
			if (h[i + 2] < 5) {
				*pp = i + 2;
				return -1;
			}
			if (h[i + 2] <= olen) {         /* room left: the flags must fit it */
				int fl = h[i + 3] & 0x0f;
				int need = fl == 0 ? 3 : 7;
				if (fl != 0 && fl != 1 && fl != 3)
					break;          /* unknown flags: ignored on receive (Linux) */
				if (h[i + 2] + need > olen) {
					*pp = i + 2;
					return -1;
				}
			} else if ((h[i + 3] & 0x0f) != 3 && (h[i + 3] >> 4) == 15) {
				*pp = i + 3;            /* overflow counter would wrap */
				return -1;
			}
			break;
		default:
			break;          /* unknown options are ignored on receive */
		}
		i += olen;
	}
	return 0;
}

/* ---- address checks --------------------------------------------------------- */

static bool nic_is_loopback(const struct ns_nic *nic)
{
	return (nic->link->caps & NS_LINK_CAP_LOOPBACK) != 0;
}

/* Martian sources (RFC 1122 3.2.1.3, Linux ip_route_input_slow): a source
 * that names no single host, or one of our own addresses from the wire. */
static bool src_martian(struct ns_nic *nic, uint32_t src, uint32_t dst, const struct ns_addr *sa)
{
	if (ns_ip4_is_mcast(src) || ns_ip4_is_lbcast(src))
		return true;
	if (ns_ip4_is_zeronet(src))
		return !(src == 0 && ns_ip4_is_lbcast(dst));   /* DHCP discover: 0 -> bcast */
	if (nic_is_loopback(nic))
		return false;
	if (ns_ip4_is_loopback(src) || ns_ip4_is_loopback(dst))
		return true;
	if (ns__addr_local(nic->stk, sa, NULL))
		return true;
	return ns__addr_is_bcast4(nic, sa);
}

/* Whether a loopback NIC carries dst in one of its prefixes (Linux treats
 * all of 127/8 as local on lo). */
static bool loopback_prefix(struct ns_nic *nic, const struct ns_addr *dst)
{
	bool res = false;
	ns_rcu_read_lock();
	struct ns_ifaddr_list *al = ns_rcu_dereference(nic->addrs);
	for (int j = 0; j < al->n && !res; j++)
		if (al->a[j].addr.family == NS_AF_INET &&
		    ns_addr_prefix_eq(&al->a[j].addr, dst, al->a[j].plen))
			res = true;
	ns_rcu_read_unlock();
	return res;
}

/* Classifies dst: NS_PKT_HOST / BROADCAST / MULTICAST, or -1 (not ours). */
static int dst_class(struct ns_nic *nic, uint32_t dst, const struct ns_addr *da)
{
	if (ns_ip4_is_lbcast(dst))
		return NS_PKT_BROADCAST;
	if (ns_ip4_is_mcast(dst))
		return NS_PKT_MULTICAST;
	if (ns_ip4_is_zeronet(dst))
		return -1;
	/* weak host model (Linux): any of our addresses on any NIC */
	if (ns__addr_local(nic->stk, da, NULL))
		return NS_PKT_HOST;
	if (ns__addr_is_bcast4(nic, da))
		return NS_PKT_BROADCAST;
	if (nic_is_loopback(nic) && loopback_prefix(nic, da))
		return NS_PKT_HOST;
	return -1;
}

/* ---- receive ------------------------------------------------------------------ */

void ns__ipv4_rcv(struct ns_nic *nic, struct ns_pkt *pkt)
{
	ns__ipv4_rcv_common(nic, pkt, false);
}

/* Always verified, as Linux does: NS_CSUM_UNNECESSARY speaks of the L4
 * checksum only. */
static bool hdr_csum_ok(const uint8_t *h, int ihl)
{
	return ns_csum_fold(ns_csum_partial(h, (size_t)ihl, 0)) == 0;
}

void ns__ipv4_rcv_common(struct ns_nic *nic, struct ns_pkt *pkt, bool local)
{
	struct ns_stack *stk = nic->stk;
	NS_STAT_INC(stk, IpInReceives);
	uint32_t len = ns_pkt_len(pkt);
	const uint8_t *h = ns_pkt_data(pkt);
	if (len < NS_IPV4_HLEN)
		goto hdr_error;
	int ihl = ns_ip4_ihl(h);
	if ((h[0] >> 4) != 4 || ihl < NS_IPV4_HLEN || (uint32_t)ihl > len)
		goto hdr_error;
	if (!hdr_csum_ok(h, ihl)) {
		NS_STAT_INC(stk, IpExtInCsumErrors);
		goto hdr_error;
	}
	uint32_t tot = ns_ip4_totlen(h);
	if (len < tot) {
		NS_STAT_INC(stk, IpExtInTruncatedPkts);
		goto drop;
	}
	if (tot < (uint32_t)ihl)
		goto hdr_error;
	ns_pkt_trim(pkt, tot);          /* link padding */
	pkt->l3 = pkt->data;
	NS_STAT_ADD(stk, IpExtInOctets, tot);
	static const enum ns_stat_id ecn_stat[4] = { NS_STAT_IpExtInNoECTPkts, NS_STAT_IpExtInECT1Pkts,
						     NS_STAT_IpExtInECT0Pkts, NS_STAT_IpExtInCEPkts };
	ns__stat_inc(stk, ecn_stat[h[1] & 3]);

	uint32_t src = ns_ip4_src(h), dst = ns_ip4_dst(h);
	struct ns_addr sa, da;
	ns_addr_from_u32(&sa, src);
	ns_addr_from_u32(&da, dst);
	if (!local && src_martian(nic, src, dst, &sa)) {
		NS_STAT_INC(stk, IpInAddrErrors);
		goto drop;
	}
	int cls = dst_class(nic, dst, &da);
	if (cls < 0) {
		NS_STAT_INC(stk, IpInAddrErrors);   /* not ours; a host does not forward */
		goto drop;
	}
	if (cls == NS_PKT_BROADCAST)
		NS_STAT_INC(stk, IpExtInBcastPkts);
	else if (cls == NS_PKT_MULTICAST)
		NS_STAT_INC(stk, IpExtInMcastPkts);
	pkt->pkt_type = (uint8_t)cls;

	if (ihl > NS_IPV4_HLEN) {
		int pp = 0;
		bool srr = false;
		if (options_check(h, ihl, &pp, &srr) < 0) {
			struct ns_ip_meta m = { .src = sa, .dst = da, .nic = nic, .ttl = h[8],
						.tos = h[1], .pkt_type = (uint8_t)cls, .proto = h[9],
						.l3_off = pkt->l3 };
			ns__icmp4_send_error(stk, pkt, &m, NS_ICMP_PARAMETERPROB, 0, (uint32_t)pp << 24);
			goto hdr_error;
		}
		if (srr) {              /* Linux accept_source_route = 0 */
			NS_STAT_INC(stk, IpInDiscards);
			goto drop;
		}
	}
	if (ns_ip4_frag(h) & (NS_IP_MF | NS_IP_OFFMASK)) {
		pkt = ns__ipv4_reasm(stk, nic, pkt);
		if (!pkt)
			return;
	}
	ns__ipv4_deliver(nic, pkt);
	return;
hdr_error:
	NS_STAT_INC(stk, IpInHdrErrors);
drop:
	ns_pkt_unref(pkt);
}

void ns__ipv4_deliver(struct ns_nic *nic, struct ns_pkt *pkt)
{
	struct ns_stack *stk = nic->stk;
	const uint8_t *h = ns_pkt_data(pkt);
	int ihl = ns_ip4_ihl(h);
	struct ns_ip_meta m;
	memset(&m, 0, sizeof(m));
	ns_addr_from_u32(&m.src, ns_ip4_src(h));
	ns_addr_from_u32(&m.dst, ns_ip4_dst(h));
	m.nic = nic;
	m.ttl = h[8];
	m.tos = h[1];
	m.pkt_type = pkt->pkt_type;
	m.proto = h[9];
	m.l3_off = pkt->data;
	pkt->l3 = pkt->data;
	ns_pkt_pull(pkt, (size_t)ihl);
	pkt->l4 = pkt->data;
	switch (m.proto) {
	case NS_IPPROTO_UDP:
		NS_STAT_INC(stk, IpInDelivers);
		ns__udp_rcv(stk, pkt, &m);
		return;
	case NS_IPPROTO_TCP:
		NS_STAT_INC(stk, IpInDelivers);
		ns__tcp_rcv(stk, pkt, &m);
		return;
	case NS_IPPROTO_ICMP:
		NS_STAT_INC(stk, IpInDelivers);
		ns__icmp4_rcv(stk, pkt, &m);
		return;
	default:
		NS_STAT_INC(stk, IpInUnknownProtos);
		ns__icmp4_send_error(stk, pkt, &m, NS_ICMP_DEST_UNREACH, NS_ICMP_PROT_UNREACH, 0);
		ns_pkt_unref(pkt);
		return;
	}
}
