/*
 * ipv6/ipv6_internal.h - what the files of ipv6/ share (not installed):
 * the IPv6 / ICMPv6 / ND wire format, the per-stack IPv6 state
 * (struct ns_ipv6), the per-NIC neighbour discovery state (struct ns_nd,
 * nic->nd) and the entry points between the files:
 *
 *   ipv6.c      init/fini, address classes, local delivery queue
 *   ipv6_in.c   receive: RFC 8200 header checks, destination filter, dispatch
 *   exthdr.c    extension header walk and TLV option actions (RFC 8200 4)
 *   ipv6_out.c  output: route, source, header, fragmentation, next hop
 *   reasm.c     reassembly (RFC 8200 4.5, RFC 5722, RFC 6946, RFC 7112)
 *   icmp6.c     ICMPv6 (RFC 4443): echo, errors, rate limits, error delivery
 *   nd.c        neighbour discovery messages (RFC 4861): NS/NA/RS/RA/redirect
 *   nd_cache.c  the neighbour cache state machine and the per-NIC ND timer
 *   addrconf.c  link-local address, DAD, SLAAC (RFC 4862)
 *   mld.c       MLDv2 reports (RFC 3810)
 *
 * Locking: nd->mu protects everything in struct ns_nd (neighbours, DAD,
 * routers, prefixes, groups).  Nothing is sent while it is held: work is
 * collected in a struct ns_nd_work and done after unlocking
 * (ns__nd_work_run).  Order: nd->mu, then nic->addr_mu, then the timer heap.
 */
#ifndef NS_IPV6_INTERNAL_H
#define NS_IPV6_INTERNAL_H

#include "../netstack/core.h"

/* ---- IPv6 header (RFC 8200 3) ------------------------------------------- */

#define NS_IP6_HLEN 40
#define NS_IP6_MIN_MTU 1280
#define NS_IP6_DEFAULT_HLIM 64
#define NS_IP6_MAX_PAYLOAD 65535

/* next header values */
#define NS_NH_HOP 0
#define NS_NH_TCP 6
#define NS_NH_UDP 17
#define NS_NH_ROUTING 43
#define NS_NH_FRAGMENT 44
#define NS_NH_ESP 50
#define NS_NH_AH 51
#define NS_NH_ICMPV6 58
#define NS_NH_NONE 59
#define NS_NH_DSTOPTS 60

#define NS_IP6_FRAG_HLEN 8
#define NS_IP6_MF 0x0001
#define NS_IP6_OFFMASK 0xfff8

static inline uint8_t ns_ip6_version(const uint8_t *h) { return h[0] >> 4; }
static inline uint8_t ns_ip6_tclass(const uint8_t *h) { return (uint8_t)(((h[0] & 0x0f) << 4) | (h[1] >> 4)); }
static inline uint32_t ns_ip6_flow(const uint8_t *h) { return ns_load_be32(h) & 0x000fffffu; }
static inline uint16_t ns_ip6_plen(const uint8_t *h) { return ns_load_be16(h + 4); }
static inline uint8_t ns_ip6_nexthdr(const uint8_t *h) { return h[6]; }
static inline uint8_t ns_ip6_hlim(const uint8_t *h) { return h[7]; }

static inline void ns_addr_v6(struct ns_addr *a, const uint8_t b[16])
{
	memset(a, 0, sizeof(*a));
	a->family = NS_AF_INET6;
	memcpy(a->b, b, 16);
}

/* ---- address classes (RFC 4291) ------------------------------------------- */

static inline bool ns_ip6_is_mcast(const struct ns_addr *a) { return a->b[0] == 0xff; }
static inline bool ns_ip6_is_linklocal(const struct ns_addr *a)
{
	return a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}
static inline int ns_ip6_mc_scope(const struct ns_addr *a) { return a->b[1] & 0x0f; }
bool ns__ip6_is_loopback(const struct ns_addr *a);
bool ns__ip6_is_any(const struct ns_addr *a);
bool ns__ip6_is_v4mapped(const struct ns_addr *a);
/* ff02::1:ffXX:XXXX for a */
void ns__ip6_solicited_node(const struct ns_addr *a, struct ns_addr *out);
void ns__ip6_all_nodes(struct ns_addr *out);           /* ff02::1 */
void ns__ip6_all_routers(struct ns_addr *out);         /* ff02::2 */
void ns__ip6_mcast_mac(const struct ns_addr *a, uint8_t mac[6]);   /* 33:33:xx */
/* EUI-64 interface identifier from a MAC (RFC 4291 2.5.1, appendix A). */
void ns__ip6_eui64(const uint8_t mac[6], uint8_t iid[8]);

/* ---- ICMPv6 (RFC 4443) ---------------------------------------------------- */

#define NS_ICMP6_HLEN 8
#define NS_ICMP6_ECHO_REQUEST 128
#define NS_ICMP6_ECHO_REPLY 129
#define NS_ICMP6_MLD_QUERY 130
#define NS_ICMP6_MLD_REPORT 131
#define NS_ICMP6_MLD_DONE 132
#define NS_ICMP6_RS 133
#define NS_ICMP6_RA 134
#define NS_ICMP6_NS 135
#define NS_ICMP6_NA 136
#define NS_ICMP6_REDIRECT 137
#define NS_ICMP6_MLD2_REPORT 143

/* destination unreachable codes */
#define NS_ICMP6_NOROUTE 0
#define NS_ICMP6_ADM_PROHIBITED 1
#define NS_ICMP6_NOT_NEIGHBOUR 2
#define NS_ICMP6_ADDR_UNREACH 3
/* time exceeded codes */
#define NS_ICMP6_EXC_HOPLIMIT 0
#define NS_ICMP6_EXC_FRAGTIME 1
/* parameter problem codes */
#define NS_ICMP6_HDR_FIELD 0
#define NS_ICMP6_UNK_NEXTHDR 1
#define NS_ICMP6_UNK_OPTION 2
#define NS_ICMP6_HDR_INCOMP 3

/* ---- ND (RFC 4861 4) ------------------------------------------------------- */

#define NS_ND_OPT_SLLA 1
#define NS_ND_OPT_TLLA 2
#define NS_ND_OPT_PREFIX 3
#define NS_ND_OPT_REDIRECT 4
#define NS_ND_OPT_MTU 5
#define NS_ND_OPT_NONCE 14

#define NS_NA_F_ROUTER 0x80000000u
#define NS_NA_F_SOLICITED 0x40000000u
#define NS_NA_F_OVERRIDE 0x20000000u

/* Linux defaults (net.ipv6.neigh.default.*, net.ipv6.conf.default.*) */
#define NS_ND_T_RETRANS (1ull * NS_NSEC_PER_SEC)
#define NS_ND_T_REACHABLE (30ull * NS_NSEC_PER_SEC)
#define NS_ND_T_DELAY (5ull * NS_NSEC_PER_SEC)
#define NS_ND_MCAST_PROBES 3
#define NS_ND_UCAST_PROBES 3
#define NS_ND_QUEUE_BYTES 212992u       /* unres_qlen_bytes */
#define NS_ND_MAX_NEIGH 1024            /* gc_thresh3 */
#define NS_ND_STALE_GC (60ull * NS_NSEC_PER_SEC)      /* gc_stale_time */
#define NS_ND_RS_COUNT 3
#define NS_ND_RS_INTERVAL (4ull * NS_NSEC_PER_SEC)
#define NS_ND_RS_DELAY (1ull * NS_NSEC_PER_SEC)
#define NS_ND_DAD_PROBES 1
#define NS_ND_MAX_ROUTERS 8
#define NS_ND_MAX_PREFIXES 16

enum ns_nd_state {
	NS_ND_NONE = 0,
	NS_ND_INCOMPLETE,
	NS_ND_REACHABLE,
	NS_ND_STALE,
	NS_ND_DELAY,
	NS_ND_PROBE,
};

struct ns_nd_neigh {
	struct ns_nd_neigh *next;       /* hash chain */
	struct ns_addr addr;
	uint8_t mac[6];
	uint8_t state;                  /* enum ns_nd_state */
	uint8_t probes;                 /* solicitations sent in this state */
	bool is_router;
	uint64_t deadline;              /* next timer action; 0: none */
	uint64_t confirmed;             /* last reachability confirmation */
	uint64_t used;                  /* last output through it */
	struct ns_addr ns_src;          /* source for our solicitations (family 0: choose) */
	struct ns_pkt *q_head, *q_tail; /* packets waiting for resolution */
	uint32_t q_bytes;
};

struct ns_nd_dad {
	struct ns_addr addr;
	uint64_t deadline;
	uint8_t probes_left;            /* NS still to send */
	uint8_t nonce[6];               /* RFC 7527 enhanced DAD */
	bool sent;
};

struct ns_nd_router {
	struct ns_addr addr;
	uint64_t expires;
	bool installed;                 /* we added the ::/0 route for it */
};

struct ns_nd_prefix {
	struct ns_addr prefix;
	int plen;
	uint64_t onlink_expires;        /* 0: not on-link by RA */
	bool route_installed;
	bool autoconf;                  /* a SLAAC address was formed */
	struct ns_addr addr;            /* that address */
	uint64_t valid_until, preferred_until;
};

struct ns_mld_group {
	struct ns_addr addr;
	int users;
	uint8_t reports_left;           /* unsolicited state-change reports to send */
	uint64_t report_at;             /* 0: nothing scheduled */
};

#define NS_ND_HASH 64
#define NS_MLD_MAX_GROUPS 64
#define NS_ND_MAX_DAD 32

struct ns_nd {
	struct ns_nic *nic;
	pthread_mutex_t mu;
	struct ns_timer timer;          /* one timer per NIC: the earliest deadline */
	uint64_t timer_at;

	struct ns_nd_neigh *hash[NS_ND_HASH];
	int n_neigh;

	/* parameters (RA may change them) */
	uint64_t base_reachable, reachable, retrans;
	_Atomic uint8_t cur_hlim;
	_Atomic uint32_t mtu6;          /* RA MTU option, 0: link MTU */
	bool slaac;                     /* accept SLAAC prefixes */
	bool no_dad;                    /* no DAD, MLD or RS (NOARP/loopback link, NOAUTO6) */

	struct ns_nd_dad dad[NS_ND_MAX_DAD];
	int n_dad;

	/* router solicitation */
	int rs_left;
	uint64_t rs_at;                 /* 0: none scheduled */
	bool ra_seen;

	struct ns_nd_router routers[NS_ND_MAX_ROUTERS];
	int n_routers;
	struct ns_nd_prefix prefixes[NS_ND_MAX_PREFIXES];
	int n_prefixes;

	struct ns_mld_group groups[NS_MLD_MAX_GROUPS];
	int n_groups;
	uint64_t mld_general_at;        /* pending reply to a general query */
};

/* What ND decided under nd->mu, done after unlocking. */
enum ns_nd_act_kind {
	NS_ND_ACT_ROUTE_ADD, NS_ND_ACT_ROUTE_DEL,
	NS_ND_ACT_ADDR_ADD, NS_ND_ACT_ADDR_DEL, NS_ND_ACT_DAD_DONE,
	NS_ND_ACT_DAD_FAILED,
};
struct ns_nd_act {
	int kind;
	struct ns_addr a, gw;
	int plen;
	uint64_t valid, preferred;
};
struct ns_nd_tx {
	struct ns_pkt *chain;           /* linked by ->next, data at the IPv6 header */
	uint8_t mac[6];
};
struct ns_nd_work {
	struct ns_nd_tx *tx;
	int ntx, txcap;
	struct ns_pkt *unreach;         /* chain: resolution failed, send ICMPv6 unreachable */
	struct ns_pkt *resend;          /* chain: to send through ns__ipv6_xmit again */
	struct ns_nd_act act[16];
	int nact;
};

/* ---- per-stack state -------------------------------------------------------- */

struct ns_reasm6;
struct ns_icmp6_rl;

struct ns_ipv6 {
	struct ns_stack *stk;
	_Atomic uint32_t frag_id;
	/* Local delivery: packets to our own addresses wait here and are
	 * received by a timer due "now", never inside the sender's call. */
	pthread_mutex_t local_mu;
	struct ns_pkt *local_head, *local_tail;
	uint32_t local_len;
	struct ns_timer local_timer;
	struct ns_reasm6 *reasm;
	struct ns_icmp6_rl *rl;
};
#define NS_IP6_LOCAL_QMAX 8192

static inline struct ns_nd *ns__nd(struct ns_nic *nic) { return (struct ns_nd *)nic->nd; }

/* ---- ipv6_in.c ------------------------------------------------------------------ */

/* Result of walking the extension headers (exthdr.c). */
enum ns_ip6_walk_res {
	NS_WALK_UPPER = 0,              /* reached an upper-layer header: proto/off */
	NS_WALK_FRAG,                   /* a non-atomic fragment header at off */
	NS_WALK_NONE,                   /* no next header */
	NS_WALK_DROP,                   /* dropped, counted (maybe an ICMPv6 error sent) */
};
struct ns_ip6_walk {
	uint8_t nh;                     /* next header value to process */
	uint32_t off;                   /* its offset from the IPv6 header */
	uint32_t nh_off;                /* offset of the byte holding nh */
	bool first;                     /* nothing processed after the fixed header yet */
};
/* Walks from w (offsets relative to the IPv6 header at pkt->head + pkt->l3;
 * the datagram ends at pkt->tail).  On NS_WALK_DROP pkt is still the
 * caller's to free. */
int ns__ip6_walk(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m,
		 struct ns_ip6_walk *w);
/* Continues delivering a datagram (data at the IPv6 header) from w. Consumes pkt. */
void ns__ip6_deliver(struct ns_nic *nic, struct ns_pkt *pkt, struct ns_ip_meta *m,
		     struct ns_ip6_walk *w);
/* The receive path; local = looped back from our own output. */
void ns__ipv6_rcv_common(struct ns_nic *nic, struct ns_pkt *pkt, bool local);

/* ---- ipv6.c ---------------------------------------------------------------------- */

void ns__ipv6_local_enqueue(struct ns_stack *stk, struct ns_nic *nic, struct ns_pkt *pkt);
/* One of our addresses on nic (not tentative unless allow_tentative). */
bool ns__ip6_is_ours(struct ns_nic *nic, const struct ns_addr *a, bool allow_tentative,
		     uint32_t *flags);

/* ---- ipv6_out.c -------------------------------------------------------------------- */

/* Pushes an IPv6 header in front of pkt (data at the payload). */
int ns__ip6_push_hdr(struct ns_pkt *pkt, const struct ns_addr *src, const struct ns_addr *dst,
		     uint8_t nh, uint8_t hlim, uint8_t tclass, uint32_t flow);
/* Sends a complete datagram (data at the IPv6 header) out nic toward
 * nexthop: multicast mapping, local loop, ND resolution, fragmentation
 * to mtu.  Consumes pkt. */
int ns__ipv6_xmit(struct ns_nic *nic, struct ns_pkt *pkt, const struct ns_addr *nexthop,
		  uint32_t mtu, bool allow_frag);
/* A complete datagram straight to mac (no resolution, no fragmentation). */
int ns__ipv6_xmit_mac(struct ns_nic *nic, struct ns_pkt *pkt, const uint8_t mac[6]);
/* Fills the L4 checksum of an NS_CSUM_PARTIAL packet (data at the L4 header). */
void ns__ip6_csum_finish(struct ns_pkt *pkt);
/* Route + source for dst (RA routers included); 0 or -ENETUNREACH. */
int ns__ip6_route(struct ns_stack *stk, const struct ns_addr *dst, int oif,
		  struct ns_route_result *r);
uint32_t ns__ip6_next_frag_id(struct ns_stack *stk, const struct ns_addr *src,
			      const struct ns_addr *dst);
uint8_t ns__ip6_default_hlim(struct ns_nic *nic);
uint32_t ns__ip6_flowlabel(struct ns_stack *stk, const struct ns_addr *src,
			   const struct ns_addr *dst, uint8_t proto, const uint8_t *l4, size_t l4len);

/* ---- reasm.c ------------------------------------------------------------------------- */

int ns__ip6_reasm_init(struct ns_ipv6 *ip);
void ns__ip6_reasm_fini(struct ns_ipv6 *ip);
/* Takes a fragment (data at the IPv6 header, w->off at the fragment header).
 * Returns the reassembled datagram (data at its IPv6 header) with w set to
 * continue after the removed fragment header, or NULL (consumed). */
struct ns_pkt *ns__ip6_reasm(struct ns_stack *stk, struct ns_nic *nic, struct ns_pkt *pkt,
			     const struct ns_ip_meta *m, struct ns_ip6_walk *w);
uint64_t ns__ip6_reasm_mem(struct ns_stack *stk);
int ns__ip6_reasm_count(struct ns_stack *stk);
#define NS_IP6_REASM_HIGH (4u << 20)    /* Linux ip6frag_high_thresh */
#define NS_IP6_REASM_LOW (3u << 20)     /* Linux ip6frag_low_thresh */
#define NS_IP6_REASM_TIMEOUT (60ull * NS_NSEC_PER_SEC)
#define NS_IP6_REASM_MAXFRAGS 2048      /* per datagram */

/* ---- icmp6.c ----------------------------------------------------------------------------- */

int ns__icmp6_init(struct ns_ipv6 *ip);
void ns__icmp6_fini(struct ns_ipv6 *ip);
/* data at the ICMPv6 header; consumes pkt */
void ns__icmp6_rcv(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m);
/* Builds an ICMPv6 packet (header + body copied) with its checksum, data at
 * the ICMPv6 header, headroom for IPv6 + link. NULL when out of memory. */
struct ns_pkt *ns__icmp6_build(struct ns_stack *stk, const struct ns_addr *src,
			       const struct ns_addr *dst, uint8_t type, uint8_t code,
			       uint32_t rest, const void *body, size_t len);
void ns__icmp6_count_out(struct ns_stack *stk, uint8_t type);
/* Recomputes the checksum of an ICMPv6 message at p (len bytes). */
void ns__icmp6_csum_set(uint8_t *p, size_t len, const struct ns_addr *src,
			const struct ns_addr *dst);

/* Path MTU: the cache shared with IPv4 (ipv4/pmtu.c: ns__pmtu_get,
 * ns__ip_path_mtu_update, both families; v6 clamped to >= 1280). */

/* ---- nd.c ------------------------------------------------------------------------------------ */

/* ICMPv6 ND/MLD messages (types 130..137, 143); data at the ICMPv6 header. Consumes pkt. */
void ns__nd_rcv(struct ns_nic *nic, struct ns_pkt *pkt, const struct ns_ip_meta *m);
/* Builds an NS for target (dst: solicited-node multicast, or the target
 * when unicast); src unspecified for DAD. nonce may be NULL. */
struct ns_pkt *ns__nd_build_ns(struct ns_nic *nic, const struct ns_addr *src,
			       const struct ns_addr *dst, const struct ns_addr *target,
			       const uint8_t *nonce);
struct ns_pkt *ns__nd_build_rs(struct ns_nic *nic);
/* A link-local address of nic that finished DAD, or :: */
void ns__nd_linklocal_src(struct ns_nic *nic, struct ns_addr *src);
/* Parses ND options (RFC 4861 4.6): 0, or -1 when malformed (zero length,
 * overrun).  Records the first SLLA/TLLA/nonce/MTU. */
struct ns_nd_opts {
	const uint8_t *slla, *tlla, *nonce;
	const uint8_t *mtu;
	const uint8_t *prefix[NS_ND_MAX_PREFIXES];
	int n_prefix;
};
int ns__nd_parse_opts(const uint8_t *p, size_t len, struct ns_nd_opts *o);

/* ---- nd_cache.c ------------------------------------------------------------------------------- */

int ns__nd_cache_init(struct ns_nd *nd);
void ns__nd_cache_fini(struct ns_nd *nd);
/* Sends pkt (data at the IPv6 header) to nexthop: now, or after resolution. Consumes pkt. */
int ns__nd_output(struct ns_nic *nic, struct ns_pkt *pkt, const struct ns_addr *nexthop);
/* Locked helpers used by nd.c. */
struct ns_nd_neigh *ns__nd_lookup_locked(struct ns_nd *nd, const struct ns_addr *a);
struct ns_nd_neigh *ns__nd_create_locked(struct ns_nd *nd, const struct ns_addr *a);
/* New link-layer address learned (NS/RA SLLA): RFC 4861 7.2.3 / 6.3.4. */
void ns__nd_learn_locked(struct ns_nd *nd, const struct ns_addr *a, const uint8_t mac[6],
			 bool is_router, struct ns_nd_work *w);
/* NA processing (RFC 4861 7.2.5). */
void ns__nd_na_locked(struct ns_nd *nd, const struct ns_addr *target, const uint8_t *tlla,
		      bool router, bool solicited, bool override, struct ns_nd_work *w);
void ns__nd_set_reachable_locked(struct ns_nd *nd, uint64_t base);
/* Arms the NIC's ND timer no later than when. */
void ns__nd_schedule_locked(struct ns_nd *nd, uint64_t when);
/* Work list: push a packet for mac; run everything after unlocking. */
void ns__nd_work_tx(struct ns_nd_work *w, struct ns_pkt *pkt, const uint8_t mac[6]);
void ns__nd_work_act(struct ns_nd_work *w, const struct ns_nd_act *a);
void ns__nd_work_run(struct ns_nic *nic, struct ns_nd_work *w);
/* Timer pieces of each module: run what is due at now, return the next deadline. */
uint64_t ns__nd_cache_tick_locked(struct ns_nd *nd, uint64_t now, struct ns_nd_work *w);
uint64_t ns__addrconf_tick_locked(struct ns_nd *nd, uint64_t now, struct ns_nd_work *w);
uint64_t ns__mld_tick_locked(struct ns_nd *nd, uint64_t now, struct ns_nd_work *w);
/* Test hooks. */
int ns__nd_entry_state(struct ns_nic *nic, const struct ns_addr *a, uint8_t mac[6], int *qlen);

/* ---- addrconf.c ------------------------------------------------------------------------------- */

/* Adds the EUI-64 link-local address (called from ns__nd_nic_init). */
int ns__addrconf_nic_init(struct ns_nic *nic);
/* DAD for a new tentative address. */
void ns__addrconf_dad_start_locked(struct ns_nd *nd, const struct ns_ifaddr *ifa);
/* NS or NA received for a tentative address of ours: duplicate unless it is
 * our own NS looped back (nonce). */
void ns__addrconf_dad_conflict_locked(struct ns_nd *nd, const struct ns_addr *a,
				      const uint8_t *nonce, struct ns_nd_work *w);
/* RA processing of a Prefix Information option (RFC 4861 6.3.4, RFC 4862 5.5.3). */
void ns__addrconf_prefix_locked(struct ns_nd *nd, const uint8_t *opt, struct ns_nd_work *w);
void ns__addrconf_router_locked(struct ns_nd *nd, const struct ns_addr *rtr, uint16_t lifetime,
				struct ns_nd_work *w);
/* The default router to use on nic (first with lifetime), false if none. */
bool ns__nd_default_router(struct ns_nic *nic, struct ns_addr *gw);

/* ---- mld.c ------------------------------------------------------------------------------------ */

/* Joins/leaves a group (refcounted).  Reports are scheduled on the ND timer. */
void ns__mld_join_locked(struct ns_nd *nd, const struct ns_addr *g);
void ns__mld_leave_locked(struct ns_nd *nd, const struct ns_addr *g, struct ns_nd_work *w);
bool ns__mld_is_member(struct ns_nic *nic, const struct ns_addr *g);
void ns__mld_rcv_locked(struct ns_nd *nd, const uint8_t *icmp, size_t len,
			const struct ns_ip_meta *m, struct ns_nd_work *w);
/* Send a fresh round of reports (after the link-local address became valid). */
void ns__mld_resend_locked(struct ns_nd *nd);

#endif
