/*
 * netstack/pkt.h - packet buffers.
 *
 * One contiguous allocation per packet: head[0, cap), payload head[data, tail).
 * Each layer pushes its header into the headroom (no copy) on output and
 * pulls its header off the front on input, so a received frame travels up
 * the stack as the same buffer.  l2/l3/l4 record header offsets as they are
 * pushed or parsed.
 *
 * Reference counted: ns_pkt_ref() shares a packet read-only (a queue and a
 * retransmission may both hold it); push/pull/trim need the only reference
 * (ns_pkt_unshare() gives one).  Every function taking a packet says whether
 * it consumes the caller's reference or borrows it.
 *
 * Memory accounting: each packet charges its truesize to the stack's pool
 * (stack-wide limit) and, while a socket queues it, to that socket.
 */
#ifndef NS_PKT_H
#define NS_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>

struct ns_stack;
struct ns_pool;

/* csum state (pkt->csum) */
enum {
	NS_CSUM_NONE = 0,       /* rx: not verified; tx: checksums complete */
	NS_CSUM_UNNECESSARY,    /* rx: verified by the link (DATA_VALID) */
	NS_CSUM_PARTIAL,        /* tx: L4 checksum left for the link, from csum_start/csum_off */
};

/* gso_type */
enum { NS_GSO_NONE = 0, NS_GSO_TCPV4, NS_GSO_TCPV6, NS_GSO_UDP };

struct ns_pkt {
	atomic_uint refs;
	uint8_t *head;
	uint32_t data, tail, cap;
	uint32_t l2, l3, l4;            /* header offsets into head */
	uint32_t truesize;              /* bytes charged for this packet */
	struct ns_pool *pool;           /* uncharged on free */
	struct ns_pkt *next;            /* for queues and batches (owner's use) */
	int nic;                        /* rx: receiving NIC id; tx: output NIC */
	uint16_t ethertype;             /* host order, set by Ethernet input/output */
	uint8_t csum;                   /* NS_CSUM_* */
	uint8_t gso_type;               /* NS_GSO_* */
	uint16_t gso_size;              /* MSS for GSO segments */
	uint16_t csum_start;            /* offset from data of checksummed area */
	uint16_t csum_off;              /* checksum field offset from csum_start */
	uint8_t pkt_type;               /* NS_PKT_HOST, NS_PKT_BROADCAST, NS_PKT_MULTICAST, NS_PKT_OTHER */
	uint8_t flags;                  /* owner's use */
	uint32_t hash;                  /* flow hash, 0 if none */
	uint32_t seq;                   /* transport's use (TCP: sequence number of data[0]) */
	uint64_t tstamp;                /* rx time (stack clock) or owner's use */
	void *owner;                    /* socket this packet is charged to, or NULL */
	uint32_t charged;               /* bytes charged to owner */
	/* a sender's send-buffer charge (UDP, Linux skb->destructor = sock_wfree):
	 * called once when the packet is freed; never copied with the packet */
	void (*destructor)(struct ns_pkt *p);
	void *wowner;                   /* the destructor's socket */
};

enum { NS_PKT_HOST = 0, NS_PKT_BROADCAST, NS_PKT_MULTICAST, NS_PKT_OTHER };

/* Link-layer headroom every stack packet reserves (Ethernet + virtio-net + slack). */
#define NS_PKT_HEADROOM 128
/* Headroom for a transport packet: link + IPv6/IPv4 header + TCP header with options. */
#define NS_PKT_TX_HEADROOM (NS_PKT_HEADROOM + 40 + 8 + 60)

/* A stack-wide memory pool with a limit; NULL pool means unlimited, uncounted. */
struct ns_pool *ns_stack_pool(struct ns_stack *stk);

/* Allocates headroom + len bytes with data at headroom and tail at headroom + len. */
struct ns_pkt *ns_pkt_alloc(struct ns_pool *pool, size_t headroom, size_t len);
struct ns_pkt *ns_pkt_ref(struct ns_pkt *p);
void ns_pkt_unref(struct ns_pkt *p);
/* Frees a chain linked by ->next (each one unref'd). */
void ns_pkt_unref_chain(struct ns_pkt *p);
/* Returns a private copy if shared (consumes p); NULL on allocation failure (p freed). */
struct ns_pkt *ns_pkt_unshare(struct ns_pkt *p);
/* Deep copy with at least headroom bytes in front (borrows p). */
struct ns_pkt *ns_pkt_copy(struct ns_pkt *p, size_t headroom);

static inline uint8_t *ns_pkt_data(const struct ns_pkt *p) { return p->head + p->data; }
static inline uint32_t ns_pkt_len(const struct ns_pkt *p) { return p->tail - p->data; }
static inline uint32_t ns_pkt_headroom(const struct ns_pkt *p) { return p->data; }
static inline uint32_t ns_pkt_tailroom(const struct ns_pkt *p) { return p->cap - p->tail; }

/* Into the headroom; returns the new front, NULL if not enough headroom. */
static inline uint8_t *ns_pkt_push(struct ns_pkt *p, size_t n)
{
	if (n > p->data)
		return NULL;
	p->data -= (uint32_t)n;
	return p->head + p->data;
}
/* Off the front; returns the old front (the header pulled), NULL if too short. */
static inline uint8_t *ns_pkt_pull(struct ns_pkt *p, size_t n)
{
	if (n > ns_pkt_len(p))
		return NULL;
	uint8_t *h = p->head + p->data;
	p->data += (uint32_t)n;
	return h;
}
/* Appends n bytes at the tail; returns them, NULL if no tailroom. */
static inline uint8_t *ns_pkt_put(struct ns_pkt *p, size_t n)
{
	if (n > ns_pkt_tailroom(p))
		return NULL;
	uint8_t *t = p->head + p->tail;
	p->tail += (uint32_t)n;
	return t;
}
/* Cuts the payload to len bytes (len <= current length). */
static inline void ns_pkt_trim(struct ns_pkt *p, size_t len)
{
	if (len < ns_pkt_len(p))
		p->tail = p->data + (uint32_t)len;
}

/* Fuzz builds (-DNS_PKT_DEBUG): a record of every live packet (pkt.c). */
#ifdef NS_PKT_DEBUG
#define NS_PKT_DBG_EVENTS 8
struct ns_pkt_dbg_info {
	const struct ns_pkt *pkt;
	const void *block;              /* the malloc'd block (for allocator stack lookups) */
	void *alloc_pc;                 /* caller of ns_pkt_alloc */
	uint64_t serial;                /* allocation order */
	unsigned nevents;               /* ref/unref calls so far; the last NS_PKT_DBG_EVENTS kept */
	void *event_pc[NS_PKT_DBG_EVENTS];
	int8_t event_delta[NS_PKT_DBG_EVENTS];  /* +1 ref, -1 unref */
};
/* Calls fn for each live packet of pool (NULL: every pool), under a lock:
 * fn must not allocate or free packets. */
void ns_pkt_debug_foreach(struct ns_pool *pool, void (*fn)(const struct ns_pkt_dbg_info *, void *),
			  void *arg);
#endif

#endif
