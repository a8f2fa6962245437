/*
 * netstack/sock.h - the generic socket layer (netstack/socket.c) and the
 * interface a transport protocol implements (udp/, tcp/).
 *
 * socket.c owns the descriptor table, reference counting, the socket-level
 * options every protocol shares (SOL_SOCKET), blocking (protocols are
 * nonblocking only: they return -EAGAIN and socket.c waits on sk->cv for
 * the events, honouring SO_RCVTIMEO/SO_SNDTIMEO and O_NONBLOCK), readiness
 * waiters and the per-socket eventfd.
 *
 * Locking: sk->mu protects the socket and its protocol state.  Protocol
 * ops are called WITHOUT sk->mu and take it themselves; receive paths and
 * timers take it too.  After changing anything that affects readiness,
 * the protocol calls ns__sock_wake_locked(sk) with sk->mu held.
 * Lock order: sk->mu, then protocol table locks, then the timer heap lock.
 * A listener's mu is taken before a child's mu.
 */
#ifndef NS_SOCK_H
#define NS_SOCK_H

#include "core.h"

struct ns_sock;
struct msghdr;

struct ns_proto_ops {
	int (*bind)(struct ns_sock *sk, const struct sockaddr *a, socklen_t len);
	int (*connect)(struct ns_sock *sk, const struct sockaddr *a, socklen_t len);
	int (*listen)(struct ns_sock *sk, int backlog);
	/* Returns a new socket (one reference, not yet in the table) or NULL with *err set. */
	struct ns_sock *(*accept)(struct ns_sock *sk, int *err);
	ssize_t (*sendmsg)(struct ns_sock *sk, const struct msghdr *m, int flags);
	ssize_t (*recvmsg)(struct ns_sock *sk, struct msghdr *m, int flags);
	int (*shutdown)(struct ns_sock *sk, int how);
	/* Descriptor closed: start the protocol close (FIN, RST, linger...). */
	void (*close)(struct ns_sock *sk);
	/* Last reference gone: free protocol state (no lock held). */
	void (*destroy)(struct ns_sock *sk);
	int (*getname)(struct ns_sock *sk, struct sockaddr *a, socklen_t *len, bool peer);
	/* Levels other than SOL_SOCKET, and SOL_SOCKET options socket.c passes down
	 * after storing them (SO_KEEPALIVE, SO_LINGER, SO_SNDBUF, SO_RCVBUF...). */
	int (*setsockopt)(struct ns_sock *sk, int level, int name, const void *v, socklen_t len);
	int (*getsockopt)(struct ns_sock *sk, int level, int name, void *v, socklen_t *len);
	/* Current readiness, NS_POLL* bits; called with sk->mu held. */
	int (*poll_locked)(struct ns_sock *sk);
	int (*ioctl)(struct ns_sock *sk, unsigned long req, void *arg);
};

struct ns_waiter {
	struct ns_waiter *next;
	int id, mask;
	ns_waiter_fn fn;
	void *ctx;
};

struct ns_sock {
	struct urcu_ref ref;
	struct rcu_head rcu;            /* the struct is freed a grace period after the last put */
	struct ns_stack *stk;
	const struct ns_proto_ops *ops;
	int fd;                         /* -1 until installed / after close */
	int domain, type, protocol;     /* NS_AF_*, NS_SOCK_*, NS_IPPROTO_* */

	pthread_mutex_t mu;
	pthread_cond_t cv;              /* broadcast by ns__sock_wake_locked */

	/* SOL_SOCKET state (under mu) */
	bool nonblock;
	bool reuseaddr, reuseport, broadcast, keepalive, oobinline;
	bool debug, dontroute;          /* SO_DEBUG, SO_DONTROUTE */
	bool linger_on;
	int linger_sec;
	int sndbuf, rcvbuf;             /* as getsockopt reports them (Linux doubles the set value) */
	bool sndbuf_locked, rcvbuf_locked;
	int rcvlowat;
	uint64_t rcvtimeo_ns, sndtimeo_ns;   /* 0: forever */
	int err;                        /* pending SO_ERROR (positive errno), 0 if none */
	int bound_nic;                  /* SO_BINDTODEVICE */
	bool v6only;                    /* IPV6_V6ONLY */

	/* readiness */
	struct ns_waiter *waiters;
	int next_waiter_id;
	struct ns_wakeup *efd;          /* opt-in eventfd / pipe */
	int efd_mask;
	bool efd_set;
	int last_mask;
	uint64_t wake_gen;              /* bumped by every ns__sock_wake_locked (blocked callers retry) */
	bool accepting;                 /* SO_ACCEPTCONN: set by the protocol's listen (under mu) */
	bool closing;                   /* ns_close ran: waits in other threads end (-EBADF) */
	pthread_t closer;               /* the thread running ns_close (may wait: linger) */

	/* memory accounting: bytes of packets queued on this socket */
	uint32_t rmem, wmem;

	/* error queue (MSG_ERRQUEUE), SO_ZEROCOPY, timestamping: netstack/errqueue.c */
	struct ns_errq_ent *eq_head, *eq_tail;
	uint32_t eq_len;
	uint32_t omem;                  /* option memory (zerocopy notifications), Linux sk_omem_alloc */
	uint32_t zckey;                 /* next MSG_ZEROCOPY notification id */
	uint32_t tsflags;               /* SO_TIMESTAMPING flags (NS_SOF_TIMESTAMPING_*) */
	uint32_t tskey;                 /* SOF_TIMESTAMPING_OPT_ID base */
	bool zerocopy;                  /* SO_ZEROCOPY */
	bool rcvtstamp, rcvtstampns, tstamp_new;   /* SO_TIMESTAMP / SO_TIMESTAMPNS / *_NEW */

	void *proto;                    /* protocol private state */
};

/* Allocates a socket with one reference; ops->destroy frees proto state. */
struct ns_sock *ns__sock_alloc(struct ns_stack *stk, const struct ns_proto_ops *ops,
			       int domain, int type, int protocol);
static inline void ns__sock_get(struct ns_sock *sk) { urcu_ref_get(&sk->ref); }
void ns__sock_put(struct ns_sock *sk);
/* Installs sk in the descriptor table (takes the caller's reference); returns fd or -EMFILE. */
int ns__sock_install(struct ns_stack *stk, struct ns_sock *sk);
/* The socket behind fd with a new reference (drop with ns__sock_put), or NULL. */
struct ns_sock *ns__sock_lookup(struct ns_stack *stk, int fd);
/* O_NONBLOCK / SOCK_NONBLOCK / FIONBIO state (may change concurrently: use these). */
static inline bool ns__sock_nonblock(const struct ns_sock *sk)
{
	return __atomic_load_n(&sk->nonblock, __ATOMIC_RELAXED);
}
void ns__sock_set_nonblock(struct ns_sock *sk, bool on);
/* true once the descriptor was closed (blocked callers return -EBADF); under mu. */
static inline bool ns__sock_closed_locked(const struct ns_sock *sk) { return sk->fd < 0; }

/* Readiness changed: wakes blocked callers, runs waiters, updates the eventfd. */
void ns__sock_wake_locked(struct ns_sock *sk);
/* Records a pending error (SO_ERROR) and wakes. */
void ns__sock_set_err_locked(struct ns_sock *sk, int err);
/* Takes and clears the pending error (0 if none). */
int ns__sock_take_err_locked(struct ns_sock *sk);

/*
 * Waits with sk->mu held until ops->poll_locked(sk) & mask, the deadline
 * (absolute, real monotonic ns; 0 = forever) passes (-EAGAIN), the stack
 * stops (-EAGAIN) or the descriptor is closed by another thread (-EBADF;
 * the closing thread itself may wait, e.g. for SO_LINGER).  Used by
 * protocols that must wait inside an op (connect, linger, TCP send/recv).
 */
int ns__sock_wait_locked(struct ns_sock *sk, int mask, uint64_t deadline);


/*
 * sockaddr helpers: parse into ns_addr/port (host order); -EINVAL / -EAFNOSUPPORT.
 * want_family NS_AF_INET needs >= 16 bytes and sin_family AF_INET; NS_AF_INET6
 * needs >= 24 bytes (RFC 2133 size) and AF_INET6; 0 takes either.  An
 * IPv4-mapped IPv6 address comes back as an NS_AF_INET ns_addr (check the
 * sockaddr's family if the difference matters).  Returns 0.
 */
int ns__sockaddr_parse(const struct sockaddr *sa, socklen_t len, int want_family,
		       struct ns_addr *a, uint16_t *port);
/* Fills a sockaddr_in/in6 of family (v4 addresses map to ::ffff:a.b.c.d on AF_INET6);
 * copies at most len bytes, returns the full length.  a NULL: the unspecified address. */
socklen_t ns__sockaddr_fill(struct sockaddr *sa, socklen_t len, int family,
			    const struct ns_addr *a, uint16_t port);
bool ns__addr_is_v4mapped(const uint8_t b[16]);

/*
 * Contract details (socket.c):
 * - Blocking: socket.c calls sendmsg/recvmsg/accept and, on -EAGAIN for a
 *   blocking call, waits until the next ns__sock_wake_locked (sk->wake_gen
 *   changes), the timeout (SO_RCVTIMEO/SO_SNDTIMEO; then -EAGAIN) or close
 *   (-EBADF), and calls again.  The deadline is taken before the first call,
 *   so a protocol that blocked inside the op until the same timeout (TCP)
 *   is not waited for twice.  connect is called once: a protocol that
 *   must wait (TCP) does so itself with ns__sock_wait_locked, honouring
 *   sk->nonblock and sk->sndtimeo_ns.  MSG_DONTWAIT reaches the protocol
 *   unchanged (it may ignore it).
 * - SOL_SOCKET options: socket.c validates and stores them, then calls
 *   ops->setsockopt(sk, SOL_SOCKET, ...) so the protocol can react; a
 *   protocol return of -ENOPROTOOPT there is ignored.  getsockopt at
 *   SOL_SOCKET is answered by socket.c alone.
 * - Readiness: socket.c adds NS_POLLERR while sk->err is set.  Waiter
 *   callbacks run under sk->mu on every wake whose mask intersects theirs.
 * - recvmsg gets a msghdr whose msg_name (when not NULL) points to a
 *   struct sockaddr_storage and whose msg_namelen is 0, like Linux: a
 *   protocol that reports a source fills it (ns__sockaddr_fill with
 *   sizeof(struct sockaddr_storage)) and sets msg_namelen; socket.c copies
 *   it out with Linux's truncation rules.  msg_controllen is the caller's
 *   control buffer size; a protocol that writes control messages sets it to
 *   the bytes written and sets NS__MSG_CTL_SET in msg_flags, otherwise the
 *   caller sees msg_controllen 0.  msg_flags starts at 0 (MSG_TRUNC, ...).
 * - ioctl: FIONBIO is handled by socket.c; everything else goes to
 *   ops->ioctl (NULL or -ENOIOCTLCMD-like -ENOTTY: "not a known ioctl").
 * - listen/accept NULL in ops: -EOPNOTSUPP.
 */

/* recvmsg: msg_controllen was set by the protocol (internal; cleared by socket.c). */
#define NS__MSG_CTL_SET 0x40000000

/* Linux's sysctl-like defaults shared by protocols. */
#define NS_RMEM_DEFAULT 212992
#define NS_WMEM_DEFAULT 212992
#define NS_RMEM_MAX 212992
#define NS_WMEM_MAX 212992
#define NS_SOCK_MIN_SNDBUF 4608
#define NS_SOCK_MIN_RCVBUF 2304

/* ---- error queue and timestamps (netstack/errqueue.c) ---- */
struct ns_errq_ent {
	struct ns_errq_ent *next;
	struct ns_sock_extended_err ee;
	bool has_name;                  /* msg_name = name:port (ICMP errors, like Linux) */
	bool has_offender;              /* the sockaddr after ee in the cmsg (else zeroed) */
	struct ns_addr name, offender;
	uint16_t port;
	uint64_t tstamp_ns;             /* realtime; 0: none (SCM_TIMESTAMPING etc.) */
	uint32_t truesize;              /* charged to sk->rmem (0: not charged) */
	uint32_t len;                   /* data returned as the payload */
	uint8_t data[];
};
/* A zeroed entry with room for len bytes of data (len set), or NULL. */
struct ns_errq_ent *ns__errq_alloc(size_t len);
/* Queues e like Linux sock_queue_err_skb: -ENOMEM (e freed) when rmem +
 * truesize would reach rcvbuf; wakes (POLLERR).  Under sk->mu. */
int ns__errq_queue_locked(struct ns_sock *sk, struct ns_errq_ent *e);
/* MSG_ZEROCOPY completion of ids [lo, lo + n): extends a queued tail
 * notification when contiguous (Linux __msg_zerocopy_callback). */
void ns__errq_zc_complete_locked(struct ns_sock *sk, uint32_t lo, uint32_t n, bool copied);
void ns__errq_purge_locked(struct ns_sock *sk);
/* A MSG_ZEROCOPY send takes option memory for its notification: false when
 * net.core.optmem_max is used up (the send fails with ENOBUFS, Linux sock_omalloc). */
bool ns__errq_zc_charge_locked(struct ns_sock *sk);
#define NS_ERRQ_ZC_OMEM 768u            /* option memory of one notification */
/* recvmsg(MSG_ERRQUEUE), any protocol (Linux ip_recv_error / ipv6_recv_error). */
ssize_t ns__errq_recv(struct ns_sock *sk, struct msghdr *m, int flags);
/* CLOCK_REALTIME of the stack clock (ns_clock.realtime_ns, else now_ns). */
uint64_t ns__realtime(struct ns_stack *stk);
/* Control messages written into m->msg_control like Linux put_cmsg (MSG_CTRUNC
 * when short); *off is the running length.  The caller finishes with
 * ns__cmsg_done(m, off). */
void ns__cmsg_put(struct msghdr *m, size_t *off, int level, int type, const void *data, size_t len);
void ns__cmsg_done(struct msghdr *m, size_t off);
/* SO_TIMESTAMP(NS)/SCM_TIMESTAMPING cmsgs for a receive time (Linux
 * tcp_recv_timestamp / __sock_recv_timestamp); errq: from the error queue. */
void ns__sock_put_tstamp(struct ns_sock *sk, struct msghdr *m, size_t *off, uint64_t ts_ns, bool errq);

/* SOF_TIMESTAMPING_OPT_ID base of a TCP socket (tcp/tcp_zc.c): snd_una, or
 * write_seq with OPT_ID_TCP; -EINVAL when closed or listening.  Under sk->mu. */
int ns__tcp_tskey_base_locked(struct ns_sock *sk, bool id_tcp, uint32_t *key);

/* Protocol constructors (udp/, tcp/): create the protocol state of sk. */
int ns__udp_sock_init(struct ns_sock *sk);
int ns__tcp_sock_init(struct ns_sock *sk);
extern const struct ns_proto_ops ns__udp_ops;
extern const struct ns_proto_ops ns__tcp_ops;

#endif
