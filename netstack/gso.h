/*
 * netstack/gso.h - software segmentation offload and checksum completion
 * for outgoing frames (netstack/gso.c).  Portable.
 *
 * The transports may always hand the IP layer large TCP segments (GSO) and
 * leave the L4 checksum partial; just before a frame reaches a link,
 * ns__nic_write() (link/ethernet.c) asks ns__tx_fixup() to turn it into
 * what the link's NS_LINK_CAP_* say it accepts.  Conventions (Linux's
 * CHECKSUM_PARTIAL and virtio-net's):
 *
 *  - NS_CSUM_PARTIAL: the L4 checksum field holds the folded, *not*
 *    complemented pseudo-header sum (addresses, protocol, L4 length); the
 *    link (or ns__tx_fixup) sums from the L4 header to the end of the frame
 *    and stores the complement at csum_start + csum_off.
 *  - NS_GSO_TCPV4/TCPV6: one frame with Ethernet + IP + TCP headers and up
 *    to 64 KiB of payload; gso_size is the payload bytes per segment (MSS
 *    minus TCP options); the IP total/payload length covers the whole frame;
 *    the checksum is partial with the L4 length of the whole frame.
 *  - csum_start/csum_off are normalised here from the frame itself (the L4
 *    header found by parsing), so transports need only set csum/gso fields.
 */
#ifndef NS_GSO_H
#define NS_GSO_H

#include <stdbool.h>
#include <stdint.h>
#include "pkt.h"

/* Offsets (from the frame start) of an outgoing Ethernet frame's headers. */
struct ns_frame_info {
	uint32_t l3, l4;                /* IP header, transport header */
	uint32_t hdr_len;               /* l4 + transport header length (TCP/UDP) */
	uint8_t family;                 /* 4 or 6; 0 when not IP */
	uint8_t proto;                  /* transport protocol */
	bool is_frag;                   /* IPv4/IPv6 fragment */
};

/* Parses Ethernet + IPv4/IPv6 (+ IPv6 extension headers) + TCP/UDP.
 * Returns 0, or -NS_EINVAL when the frame is not such a packet. */
int ns__frame_parse(const uint8_t *f, uint32_t len, struct ns_frame_info *fi);

/* true when pkt (data at the Ethernet header) cannot go to a link with caps
 * as it is: GSO the link cannot segment, or a partial checksum it cannot
 * complete.  Cheap: reads only pkt fields. */
bool ns__tx_needs_fixup(const struct ns_pkt *pkt, uint32_t caps);

/*
 * Makes pkt acceptable to a link with caps.  Consumes pkt.  Returns the
 * resulting frames as a chain linked by ->next (the packet itself when no
 * segmentation was needed), or NULL when it had to be dropped (*err set:
 * -NS_EINVAL malformed, -NS_ENOBUFS allocation failed).  Segments are
 * allocated from pkt's pool with NS_PKT_HEADROOM headroom.
 */
struct ns_pkt *ns__tx_fixup(struct ns_pkt *pkt, uint32_t caps, int *err);

/* Software GSO of a TCP (or UDP) GSO frame: the segment chain, or NULL.
 * hw_csum: leave each segment's checksum partial (link has TX_CSUM). */
struct ns_pkt *ns__gso_segment(struct ns_pkt *pkt, bool hw_csum, int *err);

/* Completes the partial L4 checksum of one frame in place (needs the only
 * reference).  0 or -NS_EINVAL. */
int ns__csum_complete(struct ns_pkt *pkt);

#endif
