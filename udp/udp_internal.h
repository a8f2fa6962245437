/*
 * udp/udp_internal.h - UDP (RFC 768) internals shared by the udp/ files.
 *
 * udp_table.c: the demux tables and port binding; udp_in.c: receive,
 * delivery, ICMP errors and recvmsg; udp_out.c: sendmsg; udp_sock.c: the
 * socket operations (bind, connect, shutdown, options, poll, ioctl, close).
 *
 * Addresses: every bound/peer address is kept "normalized": an IPv4-mapped
 * IPv6 address is stored as an NS_AF_INET ns_addr, so v4 traffic on a
 * dual-stack socket uses the same keys as on an AF_INET socket.  The
 * unbound local address is NS_AF_INET 0.0.0.0 on AF_INET sockets and
 * NS_AF_INET6 :: (dual-stack wildcard) on AF_INET6 sockets.
 *
 * Tables (RCU, receive path lock-free): `ports` holds one entry per bound
 * socket keyed by local port (bind conflicts, unconnected delivery,
 * broadcast/multicast fan-out); `conns` holds one entry per connected
 * socket keyed by its 4-tuple (first lookup on receive).  Entries are
 * immutable snapshots; bind/connect/disconnect replace them under
 * udp->mu and free the old ones after a grace period.
 */
#ifndef NS_UDP_INTERNAL_H
#define NS_UDP_INTERNAL_H

#include "../netstack/sock.h"

#define UDP_HLEN 8
#define UDP_EPHEMERAL_LOW 32768        /* net.ipv4.ip_local_port_range */
#define UDP_EPHEMERAL_HIGH 60999
#define UDP_MAX_PAYLOAD4 65507         /* 65535 - 20 - 8 */
#define UDP_MAX_PAYLOAD6 65527         /* 65535 - 8 (no jumbograms) */

struct ns_udp {
	pthread_mutex_t mu;             /* serializes table changes */
	struct cds_lfht *ports;
	struct cds_lfht *conns;
	uint64_t seq;                   /* bind order (newest wins ties, like Linux) */
};

struct udp_sock;

/* A table entry: what the receive path and conflict checks need, frozen. */
struct udp_ent {
	struct cds_lfht_node node;
	struct rcu_head rcu;
	struct udp_sock *us;
	int domain;                     /* NS_AF_INET / NS_AF_INET6 (socket family) */
	struct ns_addr laddr;           /* normalized local address */
	uint8_t v6[16];                 /* Linux sk_v6_rcv_saddr (AF_INET6 sockets) */
	uint32_t v4;                    /* Linux sk_rcv_saddr, host order */
	bool v6only;
	bool connected;
	struct ns_addr raddr;
	uint16_t lport, rport;
	int bound_nic;
	uint64_t seq;
};

#define UDP_MC_MAX 20                  /* net.ipv4.igmp_max_memberships */
#define UDP_MC6_MAX 64                 /* Linux: bounded by net.core.optmem_max (ENOMEM) */

/* Everything a send decided under the lock (also kept for a corked datagram). */
struct send_plan {
	struct ns_ip_tx tx;
	uint16_t sport, dport;
	bool recverr;
};

struct udp_sock {
	struct ns_sock *sk;
	struct rcu_head rcu;
	/* under sk->mu (and udp->mu for changes of the binding) */
	struct ns_addr laddr;           /* receive address (inet_rcv_saddr) */
	struct ns_addr saddr;           /* source for sending; any: chosen by route */
	uint16_t lport;                 /* 0: unbound */
	bool addr_locked, port_locked;  /* bind() chose the address / the port */
	bool connected;
	struct ns_addr raddr;
	uint16_t rport;
	struct udp_ent *pent, *cent;    /* current entries in ports / conns */
	uint8_t shut;                   /* 1: SHUT_RD, 2: SHUT_WR */
	bool dead;                      /* closed: drop what still arrives */
	/* receive queue (data at the payload; l3/l4 point at the headers) */
	struct ns_pkt *rq_head, *rq_tail;
	uint32_t rq_count;
	/* corking (UDP_CORK, MSG_MORE): one datagram being built */
	bool cork_flag;                 /* UDP_CORK */
	bool pending;
	struct send_plan cork_plan;
	uint8_t *cork_buf;
	size_t cork_len;
	/* IP / IPv6 options */
	int ttl;                        /* IP_TTL, -1: default */
	int hops;                       /* IPV6_UNICAST_HOPS, -1: default */
	uint8_t tos, tclass;
	uint8_t pmtudisc;
	bool recverr, pktinfo, recvttl, recvtos, recvpktinfo6, recvhoplimit6, recvtclass6;
	/* multicast (udp_mcast.c) */
	uint8_t mc_ttl, mc_hops;        /* default 1 */
	bool mc_loop, mc_all, mc_loop6;
	int mc_if, mc_if6;              /* IP_MULTICAST_IF / IPV6_MULTICAST_IF NIC, 0: route */
	struct ns_addr mc_addr;         /* IP_MULTICAST_IF source address */
	int n_mc;
	struct { struct ns_addr group, addr; int nic; } mc[UDP_MC_MAX];
	/* send buffer (udp_out.c): truesize of this socket's datagrams not yet
	 * freed by the link (Linux sk_wmem_alloc); nospace: a sender found it
	 * full (Linux SOCK_NOSPACE), wake it when half has drained */
	_Atomic uint32_t wmem_alloc;
	atomic_bool nospace;
	/* IPv6 memberships (IPV6_ADD_MEMBERSHIP): joined on the NIC through
	 * ns__ipv6_mc_join (MLD reports, receive filter), left on drop/close */
	int n_mc6;
	struct { struct ns_addr group; int nic; } mc6[UDP_MC6_MAX];
};

static inline struct udp_sock *udp_sk(struct ns_sock *sk) { return sk->proto; }

/* udp_table.c */
/* Binds us to laddr:port (port 0: ephemeral); under sk->mu.  -EADDRINUSE. */
int ns__udp_bind_locked(struct ns_stack *stk, struct udp_sock *us, const struct ns_addr *laddr,
			uint16_t port);
/* Re-publishes the entries after a change of laddr/connection; under sk->mu. */
void ns__udp_rehash_locked(struct ns_stack *stk, struct udp_sock *us);
/* Removes us from the tables (port released); under sk->mu. */
void ns__udp_unhash_locked(struct ns_stack *stk, struct udp_sock *us);
/* Receive lookup: the socket for a unicast datagram, with a reference, or NULL. */
struct ns_sock *ns__udp_lookup(struct ns_stack *stk, const struct ns_addr *saddr, uint16_t sport,
			       const struct ns_addr *daddr, uint16_t dport, int nic);
/* Fan-out for broadcast/multicast: calls fn for every matching socket
 * (with a reference the callee drops); returns how many. */
typedef void (*udp_each_fn)(struct ns_sock *sk, void *ctx);
int ns__udp_lookup_all(struct ns_stack *stk, const struct ns_addr *saddr, uint16_t sport,
		       const struct ns_addr *daddr, uint16_t dport, int nic, udp_each_fn fn, void *ctx);

/* udp_in.c */
ssize_t ns__udp_recvmsg(struct ns_sock *sk, struct msghdr *m, int flags);
void ns__udp_purge_locked(struct udp_sock *us);
int ns__udp_next_len_locked(struct udp_sock *us);

/* udp_err.c */
/* Queues an ICMP error on the socket's error queue (netstack/errqueue.c). */
void ns__udp_errq_add_locked(struct udp_sock *us, const struct ns_icmp_err *e, int err);

/* udp_mcast.c: -ENOPROTOOPT for names that are not multicast options */
int ns__udp_set_ip_mc(struct ns_sock *sk, int name, const void *v, socklen_t len, int val);
int ns__udp_get_ip_mc(struct ns_sock *sk, int name, int *val, bool *is_addr);
int ns__udp_set_ipv6_mc(struct ns_sock *sk, int name, const void *v, int val, socklen_t len);
/* Leaves every IPv6 group the socket joined; under sk->mu (close). */
void ns__udp_mc6_leave_all_locked(struct ns_sock *sk);
int ns__udp_get_ipv6_mc(struct ns_sock *sk, int name, int *val);

/* udp_cmsg.c: per-datagram settings from sendmsg control messages */
struct udp_txopt {
	struct ns_addr src;
	bool has_src;
	bool src_bad;                   /* IP_PKTINFO named a non-local source */
	int oif;                        /* 0: not given */
	int ttl, tos;                   /* -1: not given (hop limit / traffic class on IPv6) */
};
int ns__udp_cmsg_send(struct ns_sock *sk, const struct msghdr *m, const struct ns_addr *dst,
		      struct udp_txopt *o);

/* udp_out.c */
ssize_t ns__udp_sendmsg(struct ns_sock *sk, const struct msghdr *m, int flags);
/* Sends the corked datagram (UDP_CORK cleared); takes and releases sk->mu. */
int ns__udp_push_pending(struct ns_sock *sk);
/* Drops a corked datagram; under sk->mu. */
void ns__udp_flush_pending_locked(struct udp_sock *us);
/* Whether the send buffer is under half full (Linux sock_writeable); a
 * false answer marks the socket to be woken when it drains. */
bool ns__udp_writeable(struct ns_sock *sk);
/* Route to dst (normalized) for us: fills the route result; -ENETUNREACH... */
int ns__udp_route(struct ns_stack *stk, struct udp_sock *us, const struct ns_addr *dst, int oif,
		  struct ns_route_result *rt);

/* helpers */
static inline bool udp_addr_is_mcast(const struct ns_addr *a)
{
	return a->family == NS_AF_INET ? (a->b[0] & 0xf0) == 0xe0 : a->b[0] == 0xff;
}
/* IPv6 link-local unicast and link/interface-local multicast need an interface. */
static inline bool udp_needs_scope(const struct ns_addr *a)
{
	if (a->family != NS_AF_INET6)
		return false;
	if (a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80)
		return true;
	return a->b[0] == 0xff && (a->b[1] & 0x0f) <= 2;
}
/* sin6_scope_id of a caller's sockaddr_in6 (0 when absent). */
static inline uint32_t udp_sa_scope(const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_in6 s6;
	if (!sa || len < sizeof(s6) || ((const struct sockaddr_in6 *)(const void *)sa)->sin6_family != NS_AF_INET6)
		return 0;
	memcpy(&s6, sa, sizeof(s6));
	return s6.sin6_scope_id;
}
/* Sets sin6_scope_id in a filled sockaddr_in6 for addresses that need one. */
static inline void udp_sa_set_scope(struct sockaddr *sa, socklen_t len, const struct ns_addr *a,
				    int nic)
{
	if (!sa || len < sizeof(struct sockaddr_in6) || !udp_needs_scope(a))
		return;
	uint32_t id = (uint32_t)nic;
	memcpy((uint8_t *)sa + offsetof(struct sockaddr_in6, sin6_scope_id), &id, sizeof(id));
}
static inline void udp_addr_any(struct ns_addr *a, int family)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
}

#endif
