/*
 * link/ethernet.c - Ethernet II framing: receive dispatch by EtherType
 * and header construction on output.  Portable (no OS headers).
 * Owns: the MAC filter (ours, broadcast, multicast) and EtherType demux.
 */
#include "../netstack/core.h"

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void ns__eth_input(void *ctx, struct ns_pkt *pkt)
{
	struct ns_nic *nic = ctx;
	struct ns_stack *stk = nic->stk;
	NS_STAT_INC(stk, LinkRxFrames);
	pkt->nic = nic->id;
	pkt->l2 = pkt->data;
	const uint8_t *h = ns_pkt_pull(pkt, NS_ETH_HLEN);
	if (!h) {
		NS_STAT_INC(stk, EthInBadFrames);
		goto drop;
	}
	if (memcmp(h, nic->mac, 6) == 0)
		pkt->pkt_type = NS_PKT_HOST;
	else if (memcmp(h, bcast, 6) == 0)
		pkt->pkt_type = NS_PKT_BROADCAST;
	else if (h[0] & 1)
		pkt->pkt_type = NS_PKT_MULTICAST;
	else {
		NS_STAT_INC(stk, EthInOtherHost);
		goto drop;
	}
	if (h[6] & 1) {             /* a multicast source address is never valid */
		NS_STAT_INC(stk, EthInBadFrames);
		goto drop;
	}
	pkt->ethertype = ns_load_be16(h + 12);
	pkt->l3 = pkt->data;
	switch (pkt->ethertype) {
	case NS_ETHERTYPE_IPV4:
		ns__ipv4_rcv(nic, pkt);
		return;
	case NS_ETHERTYPE_ARP:
		ns__arp_rcv(nic, pkt);
		return;
	case NS_ETHERTYPE_IPV6:
		ns__ipv6_rcv(nic, pkt);
		return;
	default:
		NS_STAT_INC(stk, EthInUnknownProto);
		goto drop;
	}
drop:
	ns_pkt_unref(pkt);
}

int ns__nic_write(struct ns_nic *nic, struct ns_pkt **pkts, int n)
{
	int r = nic->link->ops->write(nic->link, pkts, n);
	if (r < 0) {
		NS_STAT_ADD(nic->stk, LinkTxErrors, (uint64_t)n);
		return r;
	}
	NS_STAT_ADD(nic->stk, LinkTxFrames, (uint64_t)r);
	if (r < n)
		NS_STAT_ADD(nic->stk, LinkTxDrops, (uint64_t)(n - r));
	return r;
}

int ns__eth_output(struct ns_nic *nic, struct ns_pkt *pkt, const uint8_t dst[6], uint16_t ethertype)
{
	uint8_t *h = ns_pkt_push(pkt, NS_ETH_HLEN);
	if (!h) {
		NS_STAT_INC(nic->stk, EthOutNoBufs);
		ns_pkt_unref(pkt);
		return -NS_ENOBUFS;
	}
	memcpy(h, dst, 6);
	memcpy(h + 6, nic->mac, 6);
	ns_store_be16(h + 12, ethertype);
	pkt->l2 = pkt->data;
	pkt->ethertype = ethertype;
	pkt->nic = nic->id;
	int r = ns__nic_write(nic, &pkt, 1);
	return r < 0 ? r : 0;
}
