/*
 * netstack/netstack.h - the public API of libnetstack.
 *
 * Everything an embedder needs: stack lifecycle and the two ways to run it
 * (own threads, or driven by ns_stack_poll()), NICs, addresses and routes,
 * statistics, and the socket API with Linux semantics.
 *
 * Conventions: functions return 0 (or a count) on success and a negative
 * Linux errno value (NS_EAGAIN, ...) on failure.  Constants for socket
 * families, types, levels and options carry Linux's numeric values on every
 * OS, so a sandbox can pass a guest's syscall arguments through unchanged.
 * struct sockaddr_in / sockaddr_in6 are the standard ones; sin_family is
 * compared with NS_AF_INET / NS_AF_INET6 (Linux values).
 */
#ifndef NETSTACK_H
#define NETSTACK_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "ns_abi.h"
#include "pkt.h"
#include "link.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NS_VERSION "0.1.0"

struct ns_stack;

/* ---- injected clock and random source --------------------------------- */

struct ns_clock {
	uint64_t (*now_ns)(void *ctx);   /* monotonic nanoseconds */
	void *ctx;
	/* optional: CLOCK_REALTIME nanoseconds for socket timestamps
	 * (SO_TIMESTAMP*, SO_TIMESTAMPING); NULL: now_ns */
	uint64_t (*realtime_ns)(void *ctx);
};

struct ns_rng {
	uint64_t (*next_u64)(void *ctx);
	void *ctx;
};

/* The real clock (CLOCK_MONOTONIC) and a real random source (OS entropy). */
struct ns_clock ns_clock_real(void);
struct ns_rng ns_rng_real(void);

/* A virtual clock for tests and replays: time moves only when told. */
struct ns_vclock {
	uint64_t now;                    /* nanoseconds; starts where you set it */
};
struct ns_clock ns_vclock_clock(struct ns_vclock *vc);
/* A seeded deterministic random source (xoshiro256**). */
struct ns_seeded_rng {
	uint64_t s[4];
};
void ns_seeded_rng_init(struct ns_seeded_rng *r, uint64_t seed);
struct ns_rng ns_seeded_rng(struct ns_seeded_rng *r);

/* ---- stack lifecycle ---------------------------------------------------- */

/* ns_stack_opts.flags */
#define NS_STACK_F_NODAD 0x1             /* IPv6 addresses usable at once (no DAD) */
/* No automatic IPv6 traffic: no link-local address, DAD, MLD reports or
 * router solicitations (configured IPv6 addresses and ND still work).
 * For tests that capture every frame a NIC sends. */
#define NS_STACK_F_NOAUTO6 0x2

struct ns_stack_opts {
	struct ns_clock clock;           /* zero: real clock */
	struct ns_rng rng;               /* zero: real randomness */
	uint64_t mem_limit;              /* stack-wide packet memory, bytes; 0: 256 MiB */
	uint32_t flags;                  /* NS_STACK_F_* */
};

int ns_stack_create(const struct ns_stack_opts *opts, struct ns_stack **out);
/* Stops threads, closes sockets and links, frees everything. */
void ns_stack_destroy(struct ns_stack *stk);

/*
 * Threaded mode: start a timer thread and one receive thread per link that
 * has one.  After this, never call ns_stack_poll().
 */
int ns_stack_start(struct ns_stack *stk);
void ns_stack_stop(struct ns_stack *stk);

/*
 * Embedded mode (single-threaded): receive what the links have, run the
 * timers that are due, and return the number of frames and timers handled.
 * *next_ns (if not NULL) gets the clock time of the next timer deadline, or
 * UINT64_MAX when none is pending.  Links with a file descriptor report it
 * through ns_stack_pollfds() so the caller can sleep in its own poll/epoll.
 */
int ns_stack_poll(struct ns_stack *stk, uint64_t *next_ns);
int ns_stack_pollfds(struct ns_stack *stk, int *fds, int max);
uint64_t ns_stack_now(struct ns_stack *stk);

/* Log level for messages to stderr: 0 error, 1 warn (default), 2 info, 3 debug. */
void ns_set_log_level(int level);

/* ---- addresses ---------------------------------------------------------- */

/* An IPv4 or IPv6 address; IPv4 lives in b[0..3] in network byte order. */
struct ns_addr {
	uint8_t family;                  /* NS_AF_INET or NS_AF_INET6 */
	uint8_t b[16];
};

/* Parses "198.18.0.1", "fd00:5eed::1", optionally with "/PLEN". */
int ns_addr_parse(const char *s, struct ns_addr *out, int *plen);
/* Formats into buf (at least 46 bytes); returns buf. */
const char *ns_addr_fmt(const struct ns_addr *a, char *buf, size_t len);
int ns_mac_parse(const char *s, uint8_t mac[6]);

/* ---- NICs, addresses, routes -------------------------------------------- */

/*
 * Adds a NIC on top of a link endpoint; the stack takes ownership of the
 * link (closes it on destroy).  Returns the NIC id (>= 1) or -errno.
 */
int ns_nic_add(struct ns_stack *stk, struct ns_link *link, const char *name);
int ns_nic_addr_add(struct ns_stack *stk, int nic, const struct ns_addr *a, int plen);
int ns_nic_addr_del(struct ns_stack *stk, int nic, const struct ns_addr *a);
int ns_nic_set_mtu(struct ns_stack *stk, int nic, uint32_t mtu);
/* IPv6 stateless address autoconfiguration from router advertisements
 * (RFC 4862); off by default.  Turning it on sends router solicitations. */
int ns_nic_set_slaac(struct ns_stack *stk, int nic, bool on);

/* dst/plen via gw (gw NULL or unspecified: directly connected) on nic. */
int ns_route_add(struct ns_stack *stk, const struct ns_addr *dst, int plen,
		 const struct ns_addr *gw, int nic);
int ns_route_del(struct ns_stack *stk, const struct ns_addr *dst, int plen);

/* ---- tunables ------------------------------------------------------------ */

/* Per-stack settings under Linux's sysctl names ("net.ipv4.tcp_rmem" with
 * value "4096 131072 6291456", as `sysctl -w` takes it).  Supported:
 * net.ipv4.tcp_rmem and net.ipv4.tcp_wmem (min default max; they size new
 * TCP sockets' buffers and the window scale offered); one number:
 * net.ipv4.tcp_tw_reuse (0, 1, 2 = loopback only, the default),
 * tcp_max_tw_buckets (262144), tcp_invalid_ratelimit (500 ms).  -ENOENT for
 * an unknown name, -EINVAL for a bad value.  get formats "MIN\tDEF\tMAX"
 * (or the one number). */
int ns_sysctl_set(struct ns_stack *stk, const char *name, const char *value);
int ns_sysctl_get(struct ns_stack *stk, const char *name, char *buf, size_t len);

/* ---- statistics --------------------------------------------------------- */

/* Linux SNMP MIB names ("IpInReceives", "TcpExtListenOverflows", ...). */
int ns_stat_get(struct ns_stack *stk, const char *name, uint64_t *value);
typedef void (*ns_stat_fn)(void *ctx, const char *name, uint64_t value);
void ns_stat_foreach(struct ns_stack *stk, ns_stat_fn fn, void *ctx);
/* Live packet buffers and bytes charged, for leak checks. */
uint64_t ns_stack_live_pkts(struct ns_stack *stk);

/* ---- sockets ------------------------------------------------------------ */

/* Socket descriptors are small ints private to one stack. */
int ns_socket(struct ns_stack *stk, int domain, int type, int protocol);
int ns_bind(struct ns_stack *stk, int fd, const struct sockaddr *addr, socklen_t len);
int ns_connect(struct ns_stack *stk, int fd, const struct sockaddr *addr, socklen_t len);
int ns_listen(struct ns_stack *stk, int fd, int backlog);
/* flags: NS_SOCK_NONBLOCK; addr/len may be NULL */
int ns_accept(struct ns_stack *stk, int fd, struct sockaddr *addr, socklen_t *len, int flags);
ssize_t ns_sendmsg(struct ns_stack *stk, int fd, const struct msghdr *msg, int flags);
ssize_t ns_recvmsg(struct ns_stack *stk, int fd, struct msghdr *msg, int flags);
ssize_t ns_send(struct ns_stack *stk, int fd, const void *buf, size_t len, int flags);
ssize_t ns_recv(struct ns_stack *stk, int fd, void *buf, size_t len, int flags);
ssize_t ns_sendto(struct ns_stack *stk, int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *to, socklen_t tolen);
ssize_t ns_recvfrom(struct ns_stack *stk, int fd, void *buf, size_t len, int flags,
		    struct sockaddr *from, socklen_t *fromlen);
int ns_shutdown(struct ns_stack *stk, int fd, int how);
int ns_close(struct ns_stack *stk, int fd);
int ns_getsockname(struct ns_stack *stk, int fd, struct sockaddr *addr, socklen_t *len);
int ns_getpeername(struct ns_stack *stk, int fd, struct sockaddr *addr, socklen_t *len);
int ns_setsockopt(struct ns_stack *stk, int fd, int level, int name, const void *val, socklen_t len);
int ns_getsockopt(struct ns_stack *stk, int fd, int level, int name, void *val, socklen_t *len);
/* ioctl subset: NS_FIONREAD/NS_SIOCINQ, NS_SIOCOUTQ, NS_FIONBIO */
int ns_ioctl(struct ns_stack *stk, int fd, unsigned long req, void *arg);
/* fcntl subset: NS_F_GETFL / NS_F_SETFL with NS_O_NONBLOCK */
int ns_fcntl(struct ns_stack *stk, int fd, int cmd, long arg);

/* Readiness: NS_POLLIN, NS_POLLOUT, NS_POLLERR, NS_POLLHUP, NS_POLLRDHUP, NS_POLLPRI. */
int ns_poll_mask(struct ns_stack *stk, int fd);
/*
 * Waiters: fn(ctx, events) is called, from whatever thread changed the
 * socket, when any event in mask becomes ready.  It must not call back into
 * the socket (queue work instead).  Returns a waiter id (> 0) or -errno.
 */
typedef void (*ns_waiter_fn)(void *ctx, int events);
int ns_waiter_add(struct ns_stack *stk, int fd, int mask, ns_waiter_fn fn, void *ctx);
int ns_waiter_del(struct ns_stack *stk, int fd, int id);
/*
 * An OS file descriptor that becomes readable while the socket has any of
 * the events in mask, for the caller's own epoll set.  Level-triggered; owned
 * by the socket (closed by ns_close).  eventfd on Linux, a pipe elsewhere.
 */
int ns_socket_eventfd(struct ns_stack *stk, int fd, int mask);

/* ---- monitoring: the TCP connection table (like ss -tan) ------------------- */

struct ns_tcp_conn_info {
	int state;                       /* Linux TCP_* numbering (1 ESTABLISHED .. 10 LISTEN) */
	struct ns_addr laddr, raddr;
	uint16_t lport, rport;           /* host order */
	uint32_t recvq, sendq;           /* bytes; listeners: accept queue length, backlog */
	uint32_t rtt_us, rttvar_us, rto_us;
	uint32_t cwnd, ssthresh, mss;    /* cwnd in segments */
	uint32_t total_retrans;
	uint64_t bytes_acked, bytes_received;
};
typedef void (*ns_tcp_conn_fn)(void *ctx, const struct ns_tcp_conn_info *ci);
/* Calls fn for every listener and connection (a snapshot each, taken under
 * the socket's lock; fn runs with no lock held).  Returns how many. */
int ns_tcp_foreach_conn(struct ns_stack *stk, ns_tcp_conn_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
