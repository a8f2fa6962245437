/*
 * tests/replay/tool/neigh.c - ARP replies and neighbour advertisements on
 * behalf of a simulated peer (see neigh.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "netstack/core.h"
#include "neigh.h"

bool nsr_neigh_target(const struct nsr_dec *d, struct ns_addr *target)
{
	if (d->l3 == NSR_L3_ARP && !d->truncated && d->arp_op == 1) {
		*target = d->arp_tpa;
		return true;
	}
	if (d->l3 == NSR_L3_IPV6 && d->proto == NS_IPPROTO_ICMPV6 && d->has_l4 && d->icmp_type == 135 &&
	    d->plen >= 16) {
		memset(target, 0, sizeof(*target));
		target->family = NS_AF_INET6;
		memcpy(target->b, d->payload, 16);
		return true;
	}
	return false;
}

int nsr_arp_answer(const struct nsr_dec *d, const uint8_t mac[6], uint8_t f[42])
{
	if (d->l3 != NSR_L3_ARP || d->truncated || d->arp_op != 1)
		return -1;
	memcpy(f, d->src_mac, 6);
	memcpy(f + 6, mac, 6);
	ns_store_be16(f + 12, 0x0806);
	ns_store_be16(f + 14, 1);
	ns_store_be16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	ns_store_be16(f + 20, 2);
	memcpy(f + 22, mac, 6);
	memcpy(f + 28, d->arp_tpa.b, 4);
	memcpy(f + 32, d->arp_sha, 6);
	memcpy(f + 38, d->arp_spa.b, 4);
	return 0;
}

int nsr_nd_answer(const struct nsr_dec *d, const uint8_t mac[6], uint8_t f[86])
{
	struct ns_addr target;
	if (d->l3 != NSR_L3_IPV6 || !nsr_neigh_target(d, &target) || ns_addr_is_any(&d->src))
		return -1;
	memset(f, 0, 86);
	memcpy(f, d->src_mac, 6);
	memcpy(f + 6, mac, 6);
	ns_store_be16(f + 12, 0x86dd);
	uint8_t *ip = f + 14;
	ip[0] = 0x60;
	ns_store_be16(ip + 4, 32);
	ip[6] = NS_IPPROTO_ICMPV6;
	ip[7] = 255;
	memcpy(ip + 8, target.b, 16);
	memcpy(ip + 24, d->src.b, 16);
	uint8_t *icmp = ip + 40;
	icmp[0] = 136;
	icmp[4] = 0x60;                 /* solicited + override */
	memcpy(icmp + 8, target.b, 16);
	icmp[24] = 2;                   /* target link-layer address option */
	icmp[25] = 1;
	memcpy(icmp + 26, mac, 6);
	nsr_fix_checksums(f, 86);
	return 0;
}
