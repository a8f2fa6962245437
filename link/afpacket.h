/*
 * link/afpacket.h - AF_PACKET link endpoint (Linux): attach the stack to an
 * existing interface (one end of a veth pair, a physical NIC, ...).
 *
 * Receive: TPACKET_V3 memory-mapped rings, one per processor thread; with
 * nthreads > 1 the sockets form a PACKET_FANOUT_HASH group so every flow
 * stays on one thread.  A classic BPF filter drops, in the kernel, frames
 * that are not for our MAC (or broadcast/multicast) before they are copied.
 * Transmit: sendmmsg() batches on one socket with PACKET_QDISC_BYPASS and,
 * when the kernel supports it, PACKET_VNET_HDR so TCP segments up to 64 KiB
 * (TSO) and partial checksums go to the kernel unsegmented.
 */
#ifndef NS_LINK_AFPACKET_H
#define NS_LINK_AFPACKET_H

#include <stdint.h>
#include "../netstack/link.h"

/*
 * Opens an AF_PACKET endpoint on interface ifname.  mac is the stack's MAC
 * (NULL: the interface's own address); nthreads receive rings/threads (1..16).
 * Returns the link, or NULL with *err = -errno (-ENODEV no such interface,
 * -EPERM without CAP_NET_RAW, -ENETDOWN interface down, -EINVAL).
 */
struct ns_link *ns_link_packet_open(const char *ifname, const uint8_t mac[6], int nthreads,
				    int *err);

/*
 * Receive ring choice.  TPACKET_V3 (default) hands over whole blocks: the
 * fewest wake-ups under load, but a lone frame waits for the block timeout
 * (1 ms), which caps request/response rates near 1000/s.  TPACKET_V2 hands
 * over every frame at once (64 KiB slots, 128 per ring): microsecond
 * latency, one wake-up per burst.
 */
enum { NS_PACKET_RING_V3 = 0, NS_PACKET_RING_V2 = 2 };
struct ns_packet_opts {
	int nthreads;                   /* 1..16 */
	int ring;                       /* NS_PACKET_RING_V3 or NS_PACKET_RING_V2 */
};
struct ns_link *ns_link_packet_open_opts(const char *ifname, const uint8_t mac[6],
					 const struct ns_packet_opts *o, int *err);

struct ns_link_packet_stats {
	uint64_t rx_frames, rx_bytes, rx_blocks, rx_truncated, rx_nomem, rx_filtered;
	uint64_t tx_frames, tx_bytes, tx_calls, tx_errors;
	uint64_t kernel_drops;          /* PACKET_STATISTICS tp_drops, all rings */
};
void ns_link_packet_stats(struct ns_link *l, struct ns_link_packet_stats *st);

#endif
