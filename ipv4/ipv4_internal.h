/*
 * ipv4/ipv4_internal.h - what the files of ipv4/ share (not installed):
 * the wire format of IPv4, ICMPv4 and ARP headers, the per-stack IPv4
 * state (struct ns_ipv4) and the entry points between ipv4.c, output.c,
 * reasm.c, pmtu.c, arp.c and icmp.c.
 *
 * Read first: RFC 791 (IP), RFC 792 (ICMP), RFC 826 (ARP), RFC 1122 3.2
 * (host requirements for IP/ICMP), RFC 1191 (PMTU discovery), RFC 815
 * (reassembly).
 */
#ifndef NS_IPV4_INTERNAL_H
#define NS_IPV4_INTERNAL_H

#include "../netstack/core.h"

/* ---- IPv4 header (RFC 791 3.1) ------------------------------------------- */

#define NS_IPV4_HLEN 20                 /* without options */
#define NS_IPV4_MAX_HLEN 60
#define NS_IPV4_MIN_MTU 68              /* RFC 791: every host takes 68 unfragmented */
#define NS_IPV4_DEFAULT_TTL 64          /* Linux net.ipv4.ip_default_ttl */
#define NS_IPV4_MAX_LEN 65535

#define NS_IP_DF 0x4000
#define NS_IP_MF 0x2000
#define NS_IP_OFFMASK 0x1fff

#define NS_IPPROTO_ICMP 1
#define NS_IPPROTO_TCP 6
#define NS_IPPROTO_UDP 17

/* A view of a validated header: every accessor is safe once ipv4 checked hlen. */
static inline uint8_t ns_ip4_ihl(const uint8_t *h) { return (uint8_t)((h[0] & 0x0f) * 4); }
static inline uint16_t ns_ip4_totlen(const uint8_t *h) { return ns_load_be16(h + 2); }
static inline uint16_t ns_ip4_id(const uint8_t *h) { return ns_load_be16(h + 4); }
static inline uint16_t ns_ip4_frag(const uint8_t *h) { return ns_load_be16(h + 6); }
static inline uint32_t ns_ip4_src(const uint8_t *h) { return ns_load_be32(h + 12); }
static inline uint32_t ns_ip4_dst(const uint8_t *h) { return ns_load_be32(h + 16); }

/* Address classes (host order). */
static inline bool ns_ip4_is_mcast(uint32_t a) { return (a & 0xf0000000u) == 0xe0000000u; }
static inline bool ns_ip4_is_lbcast(uint32_t a) { return a == 0xffffffffu; }
static inline bool ns_ip4_is_zeronet(uint32_t a) { return (a & 0xff000000u) == 0; }
static inline bool ns_ip4_is_loopback(uint32_t a) { return (a & 0xff000000u) == 0x7f000000u; }

static inline void ns_addr_from_u32(struct ns_addr *a, uint32_t v)
{
	memset(a, 0, sizeof(*a));
	a->family = NS_AF_INET;
	ns_store_be32(a->b, v);
}

/* ---- ICMP (RFC 792) -------------------------------------------------------- */

#define NS_ICMP_HLEN 8
#define NS_ICMP_ECHOREPLY 0
#define NS_ICMP_SOURCE_QUENCH 4
#define NS_ICMP_REDIRECT 5
#define NS_ICMP_ECHO 8
#define NS_ICMP_TIMESTAMP 13
#define NS_ICMP_TIMESTAMPREPLY 14
#define NS_ICMP_NET_UNREACH 0
#define NS_ICMP_HOST_UNREACH 1
#define NS_ICMP_EXC_TTL 0
#define NS_ICMP_EXC_FRAGTIME 1
/* Linux: an error quotes at most this much of the offending datagram, so the
 * whole error fits in 576 bytes (RFC 1812 4.3.2.3). */
#define NS_ICMP_ERR_MAX 576

/* ---- ARP (RFC 826) ----------------------------------------------------------- */

#define NS_ARP_LEN 28
#define NS_ARPOP_REQUEST 1
#define NS_ARPOP_REPLY 2

/* ---- per-stack state ---------------------------------------------------------- */

struct ns_reasm;
struct ns_pmtu;
struct ns_icmp_rl;

struct ns_ipv4 {
	struct ns_stack *stk;
	/* IP identification: per-destination counters (Linux ip_idents). */
	_Atomic uint32_t *idents;
	uint32_t idents_mask;
	/* Local delivery: packets to our own addresses wait here and are
	 * processed by a timer due "now" (the timer thread or ns_stack_poll),
	 * never inside the sender's call. */
	pthread_mutex_t local_mu;
	struct ns_pkt *local_head, *local_tail;
	uint32_t local_len;
	struct ns_timer local_timer;
	struct ns_reasm *reasm;
	struct ns_pmtu *pmtu;
	struct ns_icmp_rl *icmp_rl;
};

#define NS_IPV4_LOCAL_QMAX 8192         /* packets waiting for local delivery */

/* ipv4.c: the receive path after link input.  `local`: looped back from
 * our own output (source checks skipped). */
void ns__ipv4_rcv_common(struct ns_nic *nic, struct ns_pkt *pkt, bool local);
/* Delivers a complete (reassembled) datagram, data at the IP header. */
void ns__ipv4_deliver(struct ns_nic *nic, struct ns_pkt *pkt);

/* output.c */
int ns__ipv4_output_init(struct ns_ipv4 *ip);
void ns__ipv4_output_fini(struct ns_ipv4 *ip);
/* Sends a complete IPv4 datagram (data at the IP header, header checksum
 * done) toward its destination through nic/nexthop: ARP, or local loop. */
int ns__ipv4_xmit(struct ns_stack *stk, struct ns_nic *nic, struct ns_pkt *pkt,
		  uint32_t nexthop, bool bcast);
uint16_t ns__ipv4_next_id(struct ns_stack *stk, uint32_t src, uint32_t dst, uint8_t proto);
/* Queues a datagram for local delivery (consumes pkt). */
void ns__ipv4_local_enqueue(struct ns_stack *stk, struct ns_nic *nic, struct ns_pkt *pkt);
/* Fills header fields and checksum at h (hlen 20). */
void ns__ipv4_build_hdr(uint8_t *h, uint16_t totlen, uint16_t id, uint16_t frag, uint8_t ttl,
			uint8_t tos, uint8_t proto, uint32_t src, uint32_t dst);
/* ns__ipv4_output with IP options (optlen a multiple of 4, at most 40). */
int ns__ipv4_output_opts(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_tx *tx,
			 const uint8_t *opts, uint32_t optlen);
/* Completes an NS_CSUM_PARTIAL checksum in software (data at the L4 header,
 * csum_off from it). */
void ns__ipv4_csum_finish(struct ns_pkt *pkt);

/* reasm.c */
int ns__ipv4_reasm_init(struct ns_ipv4 *ip);
void ns__ipv4_reasm_fini(struct ns_ipv4 *ip);
/* Takes a fragment (data at IP header, trimmed); returns the reassembled
 * datagram (data at its IP header) when complete, else NULL. */
struct ns_pkt *ns__ipv4_reasm(struct ns_stack *stk, struct ns_nic *nic, struct ns_pkt *pkt);
/* Bytes of fragments held (for tests). */
uint64_t ns__ipv4_reasm_mem(struct ns_stack *stk);
#define NS_IPV4_REASM_HIGH (4u << 20)   /* Linux ipfrag_high_thresh */
#define NS_IPV4_REASM_TIMEOUT (30ull * NS_NSEC_PER_SEC)
#define NS_IPV4_REASM_MAXQ 4096         /* concurrent datagrams */
/* fragments per datagram: 65535 bytes in 48-byte pieces (68-byte MTU) need 1366 */
#define NS_IPV4_REASM_MAXFRAGS 2048

/* pmtu.c */
int ns__ipv4_pmtu_init(struct ns_ipv4 *ip);
void ns__ipv4_pmtu_fini(struct ns_ipv4 *ip);
/* Learned path MTU toward dst (0: none); *locked set when below min_pmtu. */
uint32_t ns__pmtu_get(struct ns_stack *stk, const struct ns_addr *dst, bool *locked);
/* Redirected next hop for dst (0: none), and recording one (RFC 1122 3.2.2.2). */
uint32_t ns__ipv4_redirect_get(struct ns_stack *stk, uint32_t dst);
void ns__ipv4_redirect_set(struct ns_stack *stk, uint32_t dst, uint32_t gw);
#define NS_PMTU_EXPIRES (600ull * NS_NSEC_PER_SEC)   /* Linux mtu_expires */
#define NS_REDIRECT_EXPIRES (300ull * NS_NSEC_PER_SEC) /* Linux gc_timeout */
#define NS_IPV4_MIN_PMTU 552                         /* Linux min_pmtu */

/* icmp.c */
int ns__icmp4_init(struct ns_ipv4 *ip);
void ns__icmp4_fini(struct ns_ipv4 *ip);
void ns__icmp4_rcv(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m);
/* Sends an ICMP message with the given header rest and body to dst (from
 * src, or a route-chosen source when src is 0).  Copies body. */
int ns__icmp4_xmit(struct ns_stack *stk, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
		   uint32_t rest, const uint8_t *body, size_t len, uint8_t tos);

/* arp.c */
/* Sends pkt (data at the IP header) to nexthop on nic: resolves or queues.
 * Consumes pkt.  0, or -errno when dropped at once. */
int ns__arp_output(struct ns_nic *nic, struct ns_pkt *pkt, uint32_t nexthop);
/* Whether ip has a usable neighbour entry on nic; if not, starts resolving
 * it (a request, no packet queued). */
bool ns__arp_valid_or_probe(struct ns_nic *nic, uint32_t ip);
/* Test hooks: state of an entry (or -1), and the number of packets queued. */
int ns__arp_entry_state(struct ns_nic *nic, uint32_t ip, uint8_t mac[6], int *qlen);

enum ns_arp_state {
	NS_ARP_INCOMPLETE = 1,
	NS_ARP_REACHABLE,
	NS_ARP_STALE,
	NS_ARP_DELAY,
	NS_ARP_PROBE,
	NS_ARP_PERMANENT,
};

#endif
