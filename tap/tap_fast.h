/*
 * tap/tap_fast.h - the offloading, multi-queue tap endpoint (tap/tap_fast.c),
 * reached through ns_link_tap_open() (tap/tap.h) when offloads or several
 * queues are asked for; usable directly as well.
 *
 * - IFF_VNET_HDR + TUNSETVNETHDRSZ + TUNSETOFFLOAD(TUN_F_CSUM|TSO4|TSO6):
 *   frames carry a virtio-net header; we send TCP segments of up to 64 KiB
 *   (the kernel segments them) with partial checksums, and receive the
 *   kernel's coalesced (GRO) frames of up to 64 KiB with NEEDS_CSUM /
 *   DATA_VALID turned into NS_CSUM_UNNECESSARY.
 * - IFF_MULTI_QUEUE: one descriptor and one receive thread per queue; a
 *   flow's frames are written on the queue chosen by a symmetric hash of
 *   its addresses and ports, and the kernel steers the flow's incoming
 *   frames to the queue it last saw it written on, so a flow stays on one
 *   queue and one thread.  An existing single-queue tap is used with one
 *   queue (its flags are read from sysfs first).
 * - Receive drains up to a budget of frames per wake-up with readv() into a
 *   preallocated packet (no copy for frames up to the MTU; larger GRO frames
 *   spill into a per-queue 64 KiB buffer and are copied once).  Transmit:
 *   writev() of header + frame, one call per frame (tap has no sendmmsg).
 */
#ifndef NS_TAP_FAST_H
#define NS_TAP_FAST_H

#include <stdbool.h>
#include <stdint.h>
#include "../netstack/link.h"

struct ns_tapf_opts {
	uint32_t mtu;                   /* 0: 1500 */
	bool offload;                   /* IFF_VNET_HDR + TUNSETOFFLOAD */
	int queues;                     /* 1..16 (fewer on a single-queue tap) */
};

/* NULL with *err = -errno: -EPERM, -EBUSY, -EINVAL (not a tap), -ENOENT. */
struct ns_link *ns_link_tapf_open(const char *name, const uint8_t mac[6],
				  const struct ns_tapf_opts *o, int *err);
bool ns_link_is_tapf(const struct ns_link *l);
bool ns_link_tapf_created(struct ns_link *l);
/* Queues actually in use, and whether offloads are active. */
int ns_link_tapf_queues(struct ns_link *l);
bool ns_link_tapf_offload(struct ns_link *l);

struct ns_tapf_stats {
	uint64_t rx_frames, rx_bytes, rx_drops, rx_gro;         /* gro: frames > MTU */
	uint64_t tx_frames, tx_bytes, tx_errors, tx_tso;        /* tso: GSO frames sent */
};
void ns_link_tapf_stats(struct ns_link *l, struct ns_tapf_stats *st);

/* Sets the kernel-side queue length of tap `name` (tun drops frames for us
 * beyond it).  Done for taps ns_link_tapf_open() creates; 0 or -errno. */
int ns__tap_set_txqlen(const char *name, int qlen);

#endif
