/*
 * netstack/core.h - internals shared by every layer: the stack object, NICs,
 * addresses, routes, timers, statistics, RCU, checksums, byte order.
 *
 * Not installed.  Protocol code includes this (and its own *_internal.h);
 * it must stay within C11 + POSIX + liburcu (see `make portable`).
 */
#ifndef NS_CORE_H
#define NS_CORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>

#include <urcu-bp.h>
#include <urcu/rculfhash.h>
#include <urcu/ref.h>
#include <urcu/compiler.h>

#include "netstack.h"
#include "stats.h"

/* ---- byte order: load/store through memcpy, alignment never matters ---- */

static inline uint16_t ns_load_be16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)((b[0] << 8) | b[1]);
}
static inline uint32_t ns_load_be32(const void *p)
{
	const uint8_t *b = p;
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}
static inline void ns_store_be16(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}
static inline void ns_store_be32(void *p, uint32_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

#define NS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NS_MAX(a, b) ((a) > (b) ? (a) : (b))
#define NS_NSEC_PER_SEC 1000000000ull
#define NS_NSEC_PER_MSEC 1000000ull
#define NS_NSEC_PER_USEC 1000ull

/* ---- checksums (netstack/checksum.c) ------------------------------------ */

/* One's-complement sum of len bytes added to sum (32-bit accumulator). */
uint32_t ns_csum_partial(const void *data, size_t len, uint32_t sum);
/* Folds and complements: the value to store in a checksum field. */
uint16_t ns_csum_fold(uint32_t sum);
/* Pseudo-header sum for IPv4/IPv6 (src, dst from a/b; len = L4 length). */
uint32_t ns_csum_pseudo(const struct ns_addr *src, const struct ns_addr *dst,
			uint8_t proto, uint32_t len);

/* ---- addresses ---------------------------------------------------------- */

static inline bool ns_addr_eq(const struct ns_addr *a, const struct ns_addr *b)
{
	if (a->family != b->family)
		return false;
	return memcmp(a->b, b->b, a->family == NS_AF_INET ? 4 : 16) == 0;
}
static inline bool ns_addr_is_any(const struct ns_addr *a)
{
	static const uint8_t z[16];
	return memcmp(a->b, z, a->family == NS_AF_INET ? 4 : 16) == 0;
}
static inline void ns_addr_v4(struct ns_addr *a, const uint8_t b[4])
{
	memset(a, 0, sizeof(*a));
	a->family = NS_AF_INET;
	memcpy(a->b, b, 4);
}
static inline uint32_t ns_addr_v4_u32(const struct ns_addr *a) { return ns_load_be32(a->b); }
/* true when the first plen bits of a and b agree */
bool ns_addr_prefix_eq(const struct ns_addr *a, const struct ns_addr *b, int plen);

/* ---- RCU ----------------------------------------------------------------- */
/* urcu-bp: any thread may enter a read-side section without registering. */
#define ns_rcu_read_lock() urcu_bp_read_lock()
#define ns_rcu_read_unlock() urcu_bp_read_unlock()
#define ns_rcu_synchronize() urcu_bp_synchronize_rcu()
#define ns_call_rcu(head, fn) urcu_bp_call_rcu((head), (fn))
#define ns_rcu_dereference(p) rcu_dereference(p)
#define ns_rcu_assign(p, v) rcu_assign_pointer((p), (v))
struct cds_lfht *ns__lfht_new(unsigned long init_size);

/* ---- timers (netstack/timer.c) ------------------------------------------ */

typedef void (*ns_timer_fn)(void *arg);

/*
 * A timer lives inside its owner.  Pending timers sit in a 4-ary min-heap
 * ordered by deadline (O(log n) arm/cancel, O(1) next deadline; a million
 * pending timers cost 20 levels).  Callbacks run with no stack lock held, on
 * the timer thread (threaded mode) or inside ns_stack_poll().
 */
struct ns_timer {
	uint64_t when;                  /* absolute stack-clock deadline, ns */
	uint32_t idx;                   /* heap slot, NS_TIMER_IDLE when not pending */
	ns_timer_fn fn;
	void *arg;
};
#define NS_TIMER_IDLE UINT32_MAX

void ns__timer_init(struct ns_timer *t, ns_timer_fn fn, void *arg);
/* Arms (or re-arms) t for absolute time `when`. */
void ns__timer_arm(struct ns_stack *stk, struct ns_timer *t, uint64_t when);
/* Arms t only if idle or if `when` is earlier than its current deadline. */
void ns__timer_arm_earlier(struct ns_stack *stk, struct ns_timer *t, uint64_t when);
/* Removes t if pending.  Does not wait for a running callback. */
void ns__timer_cancel(struct ns_stack *stk, struct ns_timer *t);
/* Removes t and waits until its callback is not running (unless called from it).
 * Never call while holding a lock the callback takes. */
void ns__timer_cancel_sync(struct ns_stack *stk, struct ns_timer *t);
bool ns__timer_pending(struct ns_stack *stk, const struct ns_timer *t);
/* Runs due timers; returns how many ran.  *next gets the next deadline. */
int ns__timers_run(struct ns_stack *stk, uint64_t *next);
size_t ns__timers_pending_count(struct ns_stack *stk);
/* Heap operation counts since the stack was created (for benchmarks). */
struct ns_timer_stats {
	uint64_t insert, move, cancel, fire, pending;
};
void ns__timers_stats(struct ns_stack *stk, struct ns_timer_stats *out);

/* ---- NICs and interface addresses --------------------------------------- */

#define NS_MAX_NICS 64

/* interface address flags */
#define NS_IFA_TENTATIVE 0x01   /* IPv6 DAD in progress: not usable as source */
#define NS_IFA_DUPLICATE 0x02   /* DAD failed */
#define NS_IFA_LINKLOCAL 0x04
#define NS_IFA_AUTOCONF  0x08   /* SLAAC */

struct ns_ifaddr {
	struct ns_addr addr;
	int plen;
	uint32_t flags;
	uint64_t valid_until, preferred_until;   /* 0: forever */
};

/* Immutable once published; replaced as a whole (RCU). */
struct ns_ifaddr_list {
	struct rcu_head rcu;
	int n;
	struct ns_ifaddr a[];
};

struct ns_nic {
	int id;
	char name[32];
	struct ns_stack *stk;
	struct ns_link *link;
	uint8_t mac[6];
	_Atomic uint32_t mtu;
	struct ns_ifaddr_list *addrs;   /* RCU-protected; read inside ns_rcu_read_lock */
	pthread_mutex_t addr_mu;        /* serializes address updates */
	void *arp;                      /* ipv4/arp.c per-NIC state */
	void *nd;                       /* ipv6/nd.c per-NIC state */
	bool up;
};

struct ns_nic *ns__nic_get(struct ns_stack *stk, int id);
/* The NIC holding local address a (any family), or NULL.  *flags gets its IFA flags. */
struct ns_nic *ns__addr_local(struct ns_stack *stk, const struct ns_addr *a, uint32_t *flags);
/* IPv4 limited or directed broadcast for nic. */
bool ns__addr_is_bcast4(struct ns_nic *nic, const struct ns_addr *a);
/* Chooses a source address on nic for dst (same family); -EADDRNOTAVAIL if none. */
int ns__nic_src_select(struct ns_nic *nic, const struct ns_addr *dst, struct ns_addr *src);
/* Updates a flag set on an existing address (used by DAD). */
int ns__nic_addr_set_flags(struct ns_stack *stk, int nic, const struct ns_addr *a,
			   uint32_t set, uint32_t clear);
/* Iterates all NICs (ids 1..n).  */
int ns__nic_count(struct ns_stack *stk);

/* ---- routes (netstack/route.c) ------------------------------------------ */

struct ns_route_result {
	struct ns_nic *nic;
	struct ns_addr nexthop;         /* gateway, or dst itself when on-link */
	struct ns_addr src;             /* preferred source on nic */
	uint32_t mtu;                   /* link MTU (path MTU is applied by the IP layer) */
};

/* Longest-prefix match; oif > 0 restricts to that NIC.  -ENETUNREACH if none. */
int ns__route_lookup(struct ns_stack *stk, const struct ns_addr *dst, int oif,
		     struct ns_route_result *r);

/* ---- flow demux tables (netstack/demux.c) --------------------------------- */

/* A transport 4-tuple; unspecified parts are zero. */
struct ns_flow_key {
	struct ns_addr laddr, raddr;
	uint16_t lport, rport;          /* host order */
	uint8_t proto;
	uint8_t pad;
	int bound_nic;                  /* SO_BINDTODEVICE, 0 if none */
};

uint32_t ns__flow_hash(struct ns_stack *stk, const struct ns_flow_key *k);

/* ---- stats (netstack/stats.c; names in stats.h) --------------------------- */

static inline void ns__stat_add(struct ns_stack *stk, enum ns_stat_id id, uint64_t n);
static inline void ns__stat_inc(struct ns_stack *stk, enum ns_stat_id id);

/* ---- memory pool (netstack/pkt.c) ----------------------------------------- */

struct ns_pool {
	_Atomic uint64_t used;
	uint64_t limit;
	_Atomic uint64_t live;          /* live packets */
	_Atomic uint64_t fail;          /* allocations refused */
};

/* ---- the stack object ------------------------------------------------------ */

struct ns_timer_heap {
	pthread_mutex_t mu;
	pthread_cond_t cv;              /* timer thread sleeps here; cancel_sync waits here */
	struct ns_timer **h;
	uint32_t n, cap;
	struct ns_timer *running;       /* callback in progress */
	pthread_t runner;
	bool has_runner;
	/* operation counts (under mu), for benchmarks: inserts, moves of a
	 * pending timer, removals by cancel, callbacks run */
	uint64_t n_insert, n_move, n_cancel, n_fire;
};

struct ns_ipv4;
struct ns_ipv6;
struct ns_udp;
struct ns_tcp;
struct ns_socktab;

struct ns_stack {
	struct ns_clock clock;
	struct ns_rng rng;
	pthread_mutex_t rng_mu;
	uint32_t flags;
	uint64_t hash_seed[2];          /* keyed flow hashing */

	struct ns_pool pool;
	_Atomic uint64_t stats[NS_STAT__COUNT];

	struct ns_nic *_Atomic nics[NS_MAX_NICS + 1];   /* index = id */
	_Atomic int n_nics;
	pthread_mutex_t cfg_mu;         /* NIC/route configuration changes */

	struct ns_route_table *routes;  /* RCU-protected */

	struct ns_timer_heap timers;
	pthread_t timer_thread;
	_Atomic bool running;           /* threaded mode started */
	_Atomic bool stopping;
	struct ns_wakeup *timer_wake;   /* platform wakeup for the timer thread */

	struct ns_ipv4 *ipv4;
	struct ns_ipv6 *ipv6;
	struct ns_udp *udp;
	struct ns_tcp *tcp;
	struct ns_socktab *socks;
};

static inline void ns__stat_add(struct ns_stack *stk, enum ns_stat_id id, uint64_t n)
{
	atomic_fetch_add_explicit(&stk->stats[id], n, memory_order_relaxed);
}
static inline void ns__stat_inc(struct ns_stack *stk, enum ns_stat_id id)
{
	ns__stat_add(stk, id, 1);
}
#define NS_STAT_INC(stk, name) ns__stat_inc((stk), NS_STAT_##name)
#define NS_STAT_ADD(stk, name, n) ns__stat_add((stk), NS_STAT_##name, (n))

/* Real monotonic time (for blocking waits), whatever the stack clock is. */
uint64_t ns__real_now(void);
static inline uint64_t ns__now(struct ns_stack *stk) { return stk->clock.now_ns(stk->clock.ctx); }
uint64_t ns__rand64(struct ns_stack *stk);
uint32_t ns__rand32(struct ns_stack *stk);
/* Keyed hash (SipHash-2-4) over data with the stack's secret key. */
uint64_t ns__siphash(const uint64_t key[2], const void *data, size_t len);

/* ---- protocol hooks: each layer's init/fini and input ------------------- */

int ns__ipv4_init(struct ns_stack *stk);
void ns__ipv4_fini(struct ns_stack *stk);
int ns__ipv6_init(struct ns_stack *stk);
void ns__ipv6_fini(struct ns_stack *stk);
int ns__udp_init(struct ns_stack *stk);
void ns__udp_fini(struct ns_stack *stk);
int ns__tcp_init(struct ns_stack *stk);
void ns__tcp_fini(struct ns_stack *stk);
int ns__socktab_init(struct ns_stack *stk);
void ns__socktab_fini(struct ns_stack *stk);   /* closes every socket */

/* NIC lifecycle hooks (per-NIC protocol state). */
int ns__arp_nic_init(struct ns_nic *nic);
void ns__arp_nic_fini(struct ns_nic *nic);
int ns__nd_nic_init(struct ns_nic *nic);
void ns__nd_nic_fini(struct ns_nic *nic);
/* Called after an address was added to nic (gratuitous ARP, DAD). */
void ns__ipv4_addr_added(struct ns_nic *nic, const struct ns_ifaddr *ifa);
void ns__ipv6_addr_added(struct ns_nic *nic, const struct ns_ifaddr *ifa);
/* Called after an IPv6 address was removed (DAD stopped, groups left). */
void ns__ipv6_addr_deleted(struct ns_nic *nic, const struct ns_addr *a);
/* IPv6 multicast membership on a NIC for sockets (ipv6/mld.c): refcounted,
 * MLDv2 reports sent; joined groups are accepted by the IPv6 receive path.
 * 0, -ENODEV, -EINVAL (not multicast), -ENOBUFS, -EADDRNOTAVAIL (leave). */
int ns__ipv6_mc_join(struct ns_stack *stk, int nic, const struct ns_addr *group);
int ns__ipv6_mc_leave(struct ns_stack *stk, int nic, const struct ns_addr *group);

/* Ethernet (link/ethernet.c). */
#define NS_ETH_HLEN 14
#define NS_ETHERTYPE_IPV4 0x0800
#define NS_ETHERTYPE_ARP 0x0806
#define NS_ETHERTYPE_IPV6 0x86DD
/* Receive entry point of every NIC: consumes pkt (data at the Ethernet header). */
void ns__eth_input(void *nic, struct ns_pkt *pkt);
/* Prepends an Ethernet header and writes; consumes pkt. */
int ns__eth_output(struct ns_nic *nic, struct ns_pkt *pkt, const uint8_t dst[6], uint16_t ethertype);
/* Batch variant (all to the same NIC, headers already pushed). */
int ns__nic_write(struct ns_nic *nic, struct ns_pkt **pkts, int n);

/* Network layer receive (consume pkt, data at the L3 header). */
void ns__ipv4_rcv(struct ns_nic *nic, struct ns_pkt *pkt);
void ns__arp_rcv(struct ns_nic *nic, struct ns_pkt *pkt);
void ns__ipv6_rcv(struct ns_nic *nic, struct ns_pkt *pkt);

/* ---- between IP and transports -------------------------------------------- */

/* What IP tells a transport about a received datagram. */
struct ns_ip_meta {
	struct ns_addr src, dst;
	struct ns_nic *nic;
	uint8_t ttl;                    /* hop limit for IPv6 */
	uint8_t tos;                    /* traffic class for IPv6 */
	uint8_t pkt_type;               /* NS_PKT_HOST / BROADCAST / MULTICAST */
	uint8_t proto;
	uint32_t l3_off;                /* offset of the IP header in pkt->head (for ICMP errors) */
};

/* What a transport asks of IP when sending. */
struct ns_ip_tx {
	struct ns_addr src, dst;        /* src may be unspecified: chosen by route */
	uint8_t proto;
	int16_t ttl;                    /* -1: default (64) */
	uint8_t tos;
	uint8_t pmtudisc;               /* NS_IP_PMTUDISC_* (default WANT: DF set) */
	int oif;                        /* 0 or a NIC id */
	uint32_t flowlabel;             /* IPv6 */
	bool is_bcast_ok;               /* SO_BROADCAST */
	bool mc_noloop;                 /* IP(V6)_MULTICAST_LOOP 0: no local copy of a multicast */
};

/*
 * Sends a transport datagram: pkt data at the L4 header (checksum filled in,
 * or NS_CSUM_PARTIAL), headroom for IP and link.  Routes, fragments if
 * allowed, resolves the next hop.  Consumes pkt.  Returns 0 or -errno
 * (-ENETUNREACH, -EMSGSIZE when DF and too big, -ENOBUFS).
 */
int ns__ip_output(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_tx *tx);
/* IPv4 / IPv6 specific entry points behind ns__ip_output. */
int ns__ipv4_output(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_tx *tx);
int ns__ipv6_output(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_tx *tx);
/* Path MTU toward dst (link MTU if nothing learned). */
uint32_t ns__ip_path_mtu(struct ns_stack *stk, const struct ns_addr *dst, int oif);
/* Records a smaller path MTU toward dst (ICMP frag needed / packet too big):
 * never raises it; expires after 10 min; IPv4 below 552 is locked (DF off). */
void ns__ip_path_mtu_update(struct ns_stack *stk, const struct ns_addr *dst, uint32_t mtu);
/* Learned path MTU toward dst, either family (ipv4/pmtu.c); 0 if none. */
uint32_t ns__pmtu_get(struct ns_stack *stk, const struct ns_addr *dst, bool *locked);
/* The IPv6 answer (ipv6/ipv6_out.c): link MTU or RA MTU, lowered by Packet
 * Too Big messages, never below 1280.  ns__ip_path_mtu calls it for v6. */
uint32_t ns__ipv6_path_mtu(struct ns_stack *stk, const struct ns_addr *dst, int oif);

/* Transport receive (consume pkt, data at the L4 header). */
void ns__udp_rcv(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m);
void ns__tcp_rcv(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m);

/* An ICMP / ICMPv6 error about a datagram we sent, parsed for transports. */
struct ns_icmp_err {
	uint8_t family;                 /* of the offending datagram */
	uint8_t type, code;             /* ICMP or ICMPv6 values */
	int err;                        /* errno it maps to (positive), 0 if none */
	bool hard;                      /* RFC 1122 hard error (unreachable port/proto) */
	uint32_t mtu;                   /* fragmentation needed / packet too big */
	struct ns_addr src, dst;        /* of the offending datagram (src is ours) */
	uint8_t proto;
	const uint8_t *l4;              /* first bytes of its transport header */
	size_t l4_len;                  /* at least 8 */
};
void ns__udp_icmp_err(struct ns_stack *stk, const struct ns_icmp_err *e);
void ns__tcp_icmp_err(struct ns_stack *stk, const struct ns_icmp_err *e);

/* Sends an ICMPv4 error about pkt (data anywhere; l3 offset from m). Borrows pkt. */
void ns__icmp4_send_error(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m,
			  uint8_t type, uint8_t code, uint32_t info);
void ns__icmp6_send_error(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m,
			  uint8_t type, uint8_t code, uint32_t info);

#define NS_ICMP_DEST_UNREACH 3
#define NS_ICMP_TIME_EXCEEDED 11
#define NS_ICMP_PARAMETERPROB 12
#define NS_ICMP_PORT_UNREACH 3
#define NS_ICMP_PROT_UNREACH 2
#define NS_ICMP_FRAG_NEEDED 4
#define NS_ICMP6_DST_UNREACH 1
#define NS_ICMP6_PACKET_TOO_BIG 2
#define NS_ICMP6_TIME_EXCEEDED 3
#define NS_ICMP6_PARAM_PROB 4
#define NS_ICMP6_PORT_UNREACH 4

/* ---- logging -------------------------------------------------------------- */
enum { NS_LOG_ERROR = 0, NS_LOG_WARN, NS_LOG_INFO, NS_LOG_DEBUG };
extern int ns__log_level;
void ns__log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
