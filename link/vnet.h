/*
 * link/vnet.h - virtio-net headers for the Linux endpoints that carry
 * offloads (tap with IFF_VNET_HDR, AF_PACKET with PACKET_VNET_HDR):
 * building one from a packet's GSO/checksum fields on transmit and reading
 * one into the packet's checksum state on receive.  Not portable.
 */
#ifndef NS_LINK_VNET_H
#define NS_LINK_VNET_H

#include <string.h>
#include <linux/virtio_net.h>
#include "../netstack/core.h"

/* Transmit: pkt data at the Ethernet header, csum_start normalised by
 * ns__nic_write (offset of the L4 header from the frame start). */
static inline void ns__vnet_hdr_from_pkt(const struct ns_pkt *p, struct virtio_net_hdr *v)
{
	memset(v, 0, sizeof(*v));
	if (p->csum == NS_CSUM_PARTIAL) {
		v->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		v->csum_start = p->csum_start;
		v->csum_offset = p->csum_off;
	}
	if ((p->gso_type == NS_GSO_TCPV4 || p->gso_type == NS_GSO_TCPV6) &&
	    (uint32_t)p->csum_start + 13 < ns_pkt_len(p)) {
		const uint8_t *th = ns_pkt_data(p) + p->csum_start;
		v->gso_type = p->gso_type == NS_GSO_TCPV4 ? VIRTIO_NET_HDR_GSO_TCPV4
							  : VIRTIO_NET_HDR_GSO_TCPV6;
		v->gso_size = p->gso_size;
		v->hdr_len = (uint16_t)(p->csum_start + (th[12] >> 4) * 4);
	}
}

/* Receive: a frame whose checksum the kernel left partial (NEEDS_CSUM: it
 * came from a local socket and was never on a wire) or already verified
 * (DATA_VALID) needs no check, as Linux's virtio-net treats it.  GSO
 * frames (GRO on the host side) are delivered whole.  Returns false when
 * the header is inconsistent with the frame (drop it). */
static inline bool ns__vnet_hdr_to_pkt(const struct virtio_net_hdr *v, struct ns_pkt *p)
{
	uint32_t len = ns_pkt_len(p);
	if (v->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if ((uint32_t)v->csum_start + v->csum_offset + 2 > len)
			return false;
		p->csum = NS_CSUM_UNNECESSARY;
	} else if (v->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		p->csum = NS_CSUM_UNNECESSARY;
	}
	uint8_t g = v->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	if (g != VIRTIO_NET_HDR_GSO_NONE && g != VIRTIO_NET_HDR_GSO_TCPV4 &&
	    g != VIRTIO_NET_HDR_GSO_TCPV6 && g != VIRTIO_NET_HDR_GSO_UDP && g != 5 /* UDP_L4 */)
		return false;
	return true;
}

#endif
