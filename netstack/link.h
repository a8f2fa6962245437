/*
 * netstack/link.h - the link endpoint interface.
 *
 * A link endpoint moves Ethernet frames between the stack and something
 * else (a tap device, an AF_PACKET socket, an in-memory channel, ...).
 * It is a small table of operations plus a few fields the stack reads.
 *
 * Receive: the endpoint calls l->deliver(l->deliver_ctx, pkt) for every
 * frame (ns_pkt with data at the Ethernet header), consuming the packet.
 * It does so from its own receive thread after ops->start(), or from
 * ops->poll() when the stack is driven by ns_stack_poll().
 *
 * Transmit: ops->write() takes a batch of frames (data at the Ethernet
 * header) and consumes all of them whatever it returns; it may be called
 * from any thread at once and must be thread-safe.
 */
#ifndef NS_LINK_H
#define NS_LINK_H

#include <stdint.h>
#include "pkt.h"

struct ns_link;

typedef void (*ns_deliver_fn)(void *ctx, struct ns_pkt *pkt);

/* capabilities (l->caps) */
#define NS_LINK_CAP_TX_CSUM   0x01   /* accepts NS_CSUM_PARTIAL packets */
#define NS_LINK_CAP_RX_CSUM   0x02   /* may mark rx packets NS_CSUM_UNNECESSARY */
#define NS_LINK_CAP_TSO4      0x04   /* accepts NS_GSO_TCPV4 packets */
#define NS_LINK_CAP_TSO6      0x08   /* accepts NS_GSO_TCPV6 packets */
#define NS_LINK_CAP_LOOPBACK  0x10   /* frames written come back (no ARP needed) */
#define NS_LINK_CAP_NOARP     0x20   /* no neighbour resolution: any dst MAC goes */

struct ns_link_ops {
	/* Sends n frames; consumes all.  Returns frames sent or -errno. */
	int (*write)(struct ns_link *l, struct ns_pkt **pkts, int n);
	/* Embedded mode: delivers up to budget received frames; returns count. */
	int (*poll)(struct ns_link *l, int budget);
	/* Threaded mode: start/stop the receive thread(s).  May be NULL. */
	int (*start)(struct ns_link *l);
	void (*stop)(struct ns_link *l);
	/* A descriptor readable when poll() has work, or -1.  May be NULL. */
	int (*pollfd)(struct ns_link *l);
	/* Frees the endpoint (after stop). */
	void (*close)(struct ns_link *l);
};

struct ns_link {
	const struct ns_link_ops *ops;
	uint32_t mtu;                   /* L3 MTU (1500 for Ethernet) */
	uint32_t caps;                  /* NS_LINK_CAP_* */
	uint16_t max_header_len;        /* bytes the link prepends (Ethernet 14 + its own) */
	uint8_t mac[6];
	char name[32];
	ns_deliver_fn deliver;          /* set by the stack in ns_nic_add() */
	void *deliver_ctx;
	struct ns_pool *pool;           /* where to allocate rx packets (set by ns_nic_add) */
};

/* ---- endpoints in link/ --------------------------------------------------- */

/* In-memory channel; ns_link_channel_pair() joins two so that a write on one
 * is received by the other.  Frames queue (bounded, qlen frames) until the
 * receiving side polls or its thread delivers them. */
struct ns_link *ns_link_channel_new(const uint8_t mac[6], uint32_t mtu, uint32_t qlen);
void ns_link_channel_pair(struct ns_link *a, struct ns_link *b);
/* Frames written on a channel that has no peer can be taken out by a test. */
struct ns_pkt *ns_link_channel_take(struct ns_link *l);
/* Injects a frame as if received (consumes pkt). */
int ns_link_channel_inject(struct ns_link *l, struct ns_pkt *pkt);

/* Loopback: every frame written is received again. */
struct ns_link *ns_link_loopback_new(uint32_t mtu);

/* Impairment wrapper around another endpoint (takes ownership of inner). */
struct ns_impair_opts {
	uint64_t seed;
	uint32_t drop_ppm, dup_ppm, reorder_ppm, corrupt_ppm;   /* parts per million */
	uint64_t delay_ns;          /* fixed delay applied to every frame */
	uint64_t jitter_ns;         /* plus uniform random [0, jitter) */
	uint64_t (*now_ns)(void *ctx);   /* clock for delays (the stack's) */
	void *clock_ctx;
	/* Optional per-frame hook, called first for every frame written (a test
	 * drops, delays or rewrites chosen segments deterministically): returns
	 * 0 to go on with the random decisions, NS_IMPAIR_DROP to drop the frame,
	 * else extra delay in ns (then no random decisions).  May modify the frame. */
	uint64_t (*filter)(void *ctx, struct ns_pkt *frame);
	void *filter_ctx;
};
#define NS_IMPAIR_DROP UINT64_MAX
struct ns_link *ns_link_impair_new(struct ns_link *inner, const struct ns_impair_opts *o);
struct ns_impair_stats { uint64_t passed, dropped, duplicated, reordered, corrupted; };
void ns_link_impair_stats(struct ns_link *l, struct ns_impair_stats *st);
/* Clock time (opts->now_ns) when poll() next has a delayed or held frame to
 * release, UINT64_MAX if none: a pump driving a virtual clock advances to
 * the earlier of this and the stack's next timer deadline. */
uint64_t ns_link_impair_next(struct ns_link *l);

#endif
