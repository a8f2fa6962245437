/*
 * tap/tap.h - the Linux tap link endpoint (IFF_TAP | IFF_NO_PI).
 *
 * Opens the tap named `name` if it exists (a persistent tap made with
 * `ip tuntap add mode tap`), or creates it (then it disappears when the
 * endpoint is closed).  Threaded mode: one receive thread waits on the
 * descriptor and drains it in batches; embedded mode: poll() reads what is
 * ready without blocking and pollfd() gives the descriptor for the
 * caller's own poll/epoll.  Writes are thread-safe (one write(2) per frame).
 *
 * Offloads (IFF_VNET_HDR, TUNSETOFFLOAD, TSO/GRO) and multi-queue live in
 * tap/tap_fast.c: ns_link_tap_open() hands over to it when opts ask for
 * NS_TAP_F_OFFLOAD or more than one queue, and the functions below work on
 * either kind.
 */
#ifndef NS_TAP_H
#define NS_TAP_H

#include <stdbool.h>
#include <stdint.h>
#include "netstack/link.h"

#define NS_TAP_F_OFFLOAD 0x01           /* virtio-net header, checksum/TSO/GRO */

struct ns_tap_opts {
	uint32_t mtu;                   /* L3 MTU the stack uses; 0: 1500 */
	uint32_t flags;                 /* NS_TAP_F_* */
	int queues;                     /* 0 or 1: single queue; more: IFF_MULTI_QUEUE */
};

/*
 * Opens or creates the tap.  mac is the stack's MAC (the tap's own kernel
 * MAC is the other end of the wire and is left alone).  Returns the
 * endpoint, or NULL with *err = -errno: -EPERM/-EACCES (no CAP_NET_ADMIN or
 * not the tap's owner), -EBUSY (another process has it), -EINVAL (a device
 * of that name exists and is not a tap), -ENOENT (no /dev/net/tun),
 * -ENAMETOOLONG.
 */
struct ns_link *ns_link_tap_open(const char *name, const uint8_t mac[6],
				 const struct ns_tap_opts *o, int *err);
/*
 * Raises the kernel-side transmit queue of tap `name` (the ring of frames
 * waiting for us to read) to at least qlen frames.  With Linux's default of
 * 1000 a kernel TCP sender overflows it in bursts and the drops cost most
 * of the throughput; ns_link_tap_open() asks for NS_TAP_TXQLEN.  Needs
 * CAP_NET_ADMIN; 0 or -errno (failure is harmless).
 */
#define NS_TAP_TXQLEN 10000
int ns_link_tap_set_txqlen(const char *name, unsigned qlen);

/* Whether ns_link_tap_open() created the device (it goes away on close). */
bool ns_link_tap_created(struct ns_link *l);

struct ns_tap_stats {
	uint64_t rx_frames, rx_bytes, rx_drops;         /* drops: no packet memory */
	uint64_t tx_frames, tx_bytes, tx_errors;        /* errors: write(2) failed */
};
void ns_link_tap_stats(struct ns_link *l, struct ns_tap_stats *st);

#endif
