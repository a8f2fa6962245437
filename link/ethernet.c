/*
 * link/ethernet.c - Ethernet II framing: receive dispatch by EtherType
 * and header construction on output.  Portable (no OS headers).
 * Owns: the MAC filter (ours, broadcast, multicast) and EtherType demux;
 * on output, software GSO / checksum completion for links that lack the
 * offload (netstack/gso.c) just before the link's write.
 */
#include "../netstack/core.h"
#include "../netstack/gso.h"

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

static int link_write(struct ns_nic *nic, struct ns_pkt **pkts, int n)
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

/* Some frames carry GSO or a partial checksum: adapt them to the link's
 * capabilities (netstack/gso.c) and write in batches. */
static int nic_write_offload(struct ns_nic *nic, struct ns_pkt **pkts, int n)
{
	struct ns_pkt *batch[64];
	int k = 0, total = 0, err = 0;
	for (int i = 0; i < n; i++) {
		struct ns_pkt *p = pkts[i];
		if (p->csum == NS_CSUM_PARTIAL || p->gso_type != NS_GSO_NONE) {
			int e;
			p = ns__tx_fixup(p, nic->link->caps, &e);
			if (!p) {
				NS_STAT_INC(nic->stk, LinkTxDrops);
				err = e;
			}
		} else {
			p->next = NULL;
		}
		while (p) {
			struct ns_pkt *nx = p->next;
			p->next = NULL;
			batch[k++] = p;
			p = nx;
			if (k == (int)NS_ARRAY_SIZE(batch)) {
				int r = link_write(nic, batch, k);
				total += r > 0 ? r : 0;
				err = r < 0 ? r : err;
				k = 0;
			}
		}
	}
	if (k) {
		int r = link_write(nic, batch, k);
		total += r > 0 ? r : 0;
		err = r < 0 ? r : err;
	}
	return total == 0 && err ? err : total;
}

int ns__nic_write(struct ns_nic *nic, struct ns_pkt **pkts, int n)
{
	for (int i = 0; i < n; i++)
		if (pkts[i]->csum == NS_CSUM_PARTIAL || pkts[i]->gso_type != NS_GSO_NONE)
			return nic_write_offload(nic, pkts, n);
	return link_write(nic, pkts, n);
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
