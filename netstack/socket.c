/*
 * netstack/socket.c - the socket descriptor table and the socket calls.
 *
 * Owns: descriptors (an RCU-published array of socket pointers: lookups
 * take no lock, only a reference), socket creation and close, the calls of
 * the public socket API and their argument checks (Linux's errno rules),
 * and blocking: protocols are nonblocking, so a blocking call here loops on
 * -EAGAIN, sleeping on sk->cv until the next wake, the SO_RCVTIMEO /
 * SO_SNDTIMEO deadline (-EAGAIN like Linux) or a concurrent close (-EBADF).
 * Not here: SOL_SOCKET options (socket_opt.c), readiness (socket_poll.c),
 * sockaddr helpers (socket_addr.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <time.h>
#include "socket_internal.h"
#include "platform.h"

#define NS_NPROTO 46          /* Linux AF_MAX: larger families are EAFNOSUPPORT */
#define NS_SOCK_TYPE_MASK 0xf
#define NS_SOCK_MAX 11        /* Linux SOCK_MAX: larger types are EINVAL */
#define NS_IPPROTO_MAX 263
#define NS_UIO_MAXIOV 1024
#define NS_SOCKADDR_STORAGE 128
#define NS_O_RDWR 2

struct fdarr {
	struct rcu_head rcu;
	int cap;
	struct ns_sock *_Atomic s[];
};

struct ns_socktab {
	pthread_mutex_t mu;             /* serializes install/close/resize */
	struct fdarr *arr;              /* RCU-published */
	int hint;                       /* no free slot below this */
};

/* ---- table ---------------------------------------------------------------- */

static struct fdarr *fdarr_new(int cap)
{
	struct fdarr *a = calloc(1, sizeof(*a) + (size_t)cap * sizeof(a->s[0]));
	if (a)
		a->cap = cap;
	return a;
}

int ns__socktab_init(struct ns_stack *stk)
{
	struct ns_socktab *t = calloc(1, sizeof(*t));
	if (!t)
		return -NS_ENOMEM;
	t->arr = fdarr_new(64);
	if (!t->arr) {
		free(t);
		return -NS_ENOMEM;
	}
	pthread_mutex_init(&t->mu, NULL);
	stk->socks = t;
	return 0;
}

void ns__socktab_fini(struct ns_stack *stk)
{
	struct ns_socktab *t = stk->socks;
	if (!t)
		return;
	for (int fd = 0; fd < t->arr->cap; fd++)
		if (atomic_load(&t->arr->s[fd]))
			ns_close(stk, fd);
	ns_rcu_synchronize();
	free(t->arr);
	pthread_mutex_destroy(&t->mu);
	free(t);
	stk->socks = NULL;
}

static void fdarr_free_rcu(struct rcu_head *h)
{
	free(caa_container_of(h, struct fdarr, rcu));
}

/* Grows the array to hold fd; under t->mu. */
static int fdarr_grow_locked(struct ns_socktab *t, int fd)
{
	struct fdarr *old = t->arr;
	int cap = old->cap;
	while (cap <= fd)
		cap *= 2;
	struct fdarr *a = fdarr_new(cap);
	if (!a)
		return -NS_ENOMEM;
	for (int i = 0; i < old->cap; i++)
		atomic_store_explicit(&a->s[i], atomic_load_explicit(&old->s[i], memory_order_relaxed),
				      memory_order_relaxed);
	ns_rcu_assign(t->arr, a);
	ns_call_rcu(&old->rcu, fdarr_free_rcu);
	return 0;
}

int ns__sock_install(struct ns_stack *stk, struct ns_sock *sk)
{
	struct ns_socktab *t = stk->socks;
	pthread_mutex_lock(&t->mu);
	int fd = t->hint;
	while (fd < t->arr->cap && atomic_load_explicit(&t->arr->s[fd], memory_order_relaxed))
		fd++;
	if (fd >= NS_SOCK_MAX_FDS) {
		pthread_mutex_unlock(&t->mu);
		return -NS_EMFILE;
	}
	if (fd >= t->arr->cap && fdarr_grow_locked(t, fd) < 0) {
		pthread_mutex_unlock(&t->mu);
		return -NS_ENOMEM;
	}
	pthread_mutex_lock(&sk->mu);
	sk->fd = fd;
	pthread_mutex_unlock(&sk->mu);
	atomic_store_explicit(&t->arr->s[fd], sk, memory_order_release);
	t->hint = fd + 1;
	pthread_mutex_unlock(&t->mu);
	return fd;
}

struct ns_sock *ns__sock_lookup(struct ns_stack *stk, int fd)
{
	struct ns_socktab *t = stk->socks;
	struct ns_sock *sk = NULL;
	if (fd < 0 || !t)
		return NULL;
	ns_rcu_read_lock();
	struct fdarr *a = ns_rcu_dereference(t->arr);
	if (fd < a->cap) {
		sk = atomic_load_explicit(&a->s[fd], memory_order_acquire);
		if (sk && !urcu_ref_get_unless_zero(&sk->ref))
			sk = NULL;
	}
	ns_rcu_read_unlock();
	return sk;
}

/* ---- socket objects --------------------------------------------------------- */

struct ns_sock *ns__sock_alloc(struct ns_stack *stk, const struct ns_proto_ops *ops,
			       int domain, int type, int protocol)
{
	struct ns_sock *sk = calloc(1, sizeof(*sk));
	if (!sk)
		return NULL;
	urcu_ref_init(&sk->ref);
	sk->stk = stk;
	sk->ops = ops;
	sk->fd = -1;
	sk->domain = domain;
	sk->type = type;
	sk->protocol = protocol;
	pthread_mutex_init(&sk->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sk->cv, &ca);
	pthread_condattr_destroy(&ca);
	sk->sndbuf = NS_WMEM_DEFAULT;
	sk->rcvbuf = NS_RMEM_DEFAULT;
	sk->rcvlowat = 1;
	return sk;
}

static void sock_free_rcu(struct rcu_head *h)
{
	free(caa_container_of(h, struct ns_sock, rcu));
}

static void sock_release(struct urcu_ref *r)
{
	struct ns_sock *sk = caa_container_of(r, struct ns_sock, ref);
	if (sk->ops && sk->ops->destroy)
		sk->ops->destroy(sk);
	pthread_mutex_lock(&sk->mu);
	ns__sock_readiness_fini_locked(sk);
	ns__errq_purge_locked(sk);
	pthread_mutex_unlock(&sk->mu);
	pthread_mutex_destroy(&sk->mu);
	pthread_cond_destroy(&sk->cv);
	/* a concurrent lookup may still hold the pointer (its get fails): free later */
	ns_call_rcu(&sk->rcu, sock_free_rcu);
}

void ns__sock_put(struct ns_sock *sk)
{
	if (sk)
		urcu_ref_put(&sk->ref, sock_release);
}

void ns__sock_set_nonblock(struct ns_sock *sk, bool on)
{
	__atomic_store_n(&sk->nonblock, on, __ATOMIC_RELAXED);
}

static int proto_for(int type, int *protocol, const struct ns_proto_ops **ops)
{
	switch (type) {
	case NS_SOCK_DGRAM:
		if (*protocol != 0 && *protocol != NS_IPPROTO_UDP)
			return -NS_EPROTONOSUPPORT;
		*protocol = NS_IPPROTO_UDP;
		*ops = &ns__udp_ops;
		return 0;
	case NS_SOCK_STREAM:
		if (*protocol != 0 && *protocol != NS_IPPROTO_TCP)
			return -NS_EPROTONOSUPPORT;
		*protocol = NS_IPPROTO_TCP;
		*ops = &ns__tcp_ops;
		return 0;
	default:
		return -NS_ESOCKTNOSUPPORT;     /* SOCK_RAW, SOCK_SEQPACKET, ... */
	}
}

int ns_socket(struct ns_stack *stk, int domain, int type, int protocol)
{
	int flags = type & ~NS_SOCK_TYPE_MASK;
	type &= NS_SOCK_TYPE_MASK;
	if (flags & ~(NS_SOCK_NONBLOCK | NS_SOCK_CLOEXEC))
		return -NS_EINVAL;
	if (domain < 0 || domain >= NS_NPROTO)
		return -NS_EAFNOSUPPORT;
	if (type >= NS_SOCK_MAX)
		return -NS_EINVAL;
	if (domain != NS_AF_INET && domain != NS_AF_INET6)
		return -NS_EAFNOSUPPORT;
	if (protocol < 0 || protocol >= NS_IPPROTO_MAX)
		return -NS_EINVAL;
	const struct ns_proto_ops *ops;
	int err = proto_for(type, &protocol, &ops);
	if (err < 0)
		return err;
	struct ns_sock *sk = ns__sock_alloc(stk, ops, domain, type, protocol);
	if (!sk)
		return -NS_ENOMEM;
	sk->nonblock = (flags & NS_SOCK_NONBLOCK) != 0;
	err = type == NS_SOCK_DGRAM ? ns__udp_sock_init(sk) : ns__tcp_sock_init(sk);
	if (err < 0) {
		sk->ops = NULL;         /* protocol state was not created */
		ns__sock_put(sk);
		return err;
	}
	int fd = ns__sock_install(stk, sk);
	if (fd < 0) {
		if (ops->close)
			ops->close(sk);
		ns__sock_put(sk);
	}
	return fd;
}

int ns_close(struct ns_stack *stk, int fd)
{
	struct ns_socktab *t = stk->socks;
	if (fd < 0 || !t)
		return -NS_EBADF;
	pthread_mutex_lock(&t->mu);
	struct ns_sock *sk = fd < t->arr->cap ? atomic_load(&t->arr->s[fd]) : NULL;
	if (!sk) {
		pthread_mutex_unlock(&t->mu);
		return -NS_EBADF;
	}
	atomic_store_explicit(&t->arr->s[fd], NULL, memory_order_release);
	if (fd < t->hint)
		t->hint = fd;
	pthread_mutex_unlock(&t->mu);

	/* Callers blocked in this socket see the close and return -EBADF. */
	pthread_mutex_lock(&sk->mu);
	sk->fd = -1;
	sk->closing = true;
	sk->closer = pthread_self();
	ns__sock_readiness_fini_locked(sk);
	__atomic_fetch_add(&sk->wake_gen, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&sk->cv);
	pthread_mutex_unlock(&sk->mu);
	if (sk->ops->close)
		sk->ops->close(sk);
	ns__sock_put(sk);
	return 0;
}

/* ---- blocking --------------------------------------------------------------- */

static int cond_wait_until(struct ns_sock *sk, uint64_t deadline)
{
	if (!deadline)
		return pthread_cond_wait(&sk->cv, &sk->mu);
	struct timespec ts = { .tv_sec = (time_t)(deadline / NS_NSEC_PER_SEC),
			       .tv_nsec = (long)(deadline % NS_NSEC_PER_SEC) };
	return pthread_cond_timedwait(&sk->cv, &sk->mu, &ts);
}

/* Sleeps until a wake after gen0; 0, -EAGAIN at the deadline, -EBADF once closed. */
static int wait_wake(struct ns_sock *sk, uint64_t gen0, uint64_t deadline)
{
	int r = 0;
	pthread_mutex_lock(&sk->mu);
	while (__atomic_load_n(&sk->wake_gen, __ATOMIC_ACQUIRE) == gen0) {
		if (ns__sock_closed_locked(sk)) {
			r = -NS_EBADF;
			break;
		}
		if (deadline && ns__real_now() >= deadline) {
			r = -NS_EAGAIN;
			break;
		}
		cond_wait_until(sk, deadline);
	}
	if (ns__sock_closed_locked(sk))
		r = -NS_EBADF;
	pthread_mutex_unlock(&sk->mu);
	return r;
}

int ns__sock_wait_locked(struct ns_sock *sk, int mask, uint64_t deadline)
{
	while (!(ns__sock_mask_locked(sk) & mask)) {
		if (sk->closing && !pthread_equal(sk->closer, pthread_self()))
			return -NS_EBADF;
		if (atomic_load(&sk->stk->stopping))
			return -NS_EAGAIN;      /* stack stopped: nothing will change */
		if (deadline && ns__real_now() >= deadline)
			return -NS_EAGAIN;
		cond_wait_until(sk, deadline);
	}
	return 0;
}

static uint64_t deadline_of(struct ns_sock *sk, bool rx)
{
	uint64_t t = __atomic_load_n(rx ? &sk->rcvtimeo_ns : &sk->sndtimeo_ns, __ATOMIC_RELAXED);
	return t ? ns__real_now() + t : 0;
}

static void refresh(struct ns_sock *sk)
{
	if (!__atomic_load_n(&sk->efd, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&sk->mu);
	ns__sock_refresh_locked(sk);
	pthread_mutex_unlock(&sk->mu);
}

enum io_kind { IO_SEND, IO_RECV, IO_ACCEPT };

struct io_call {
	enum io_kind kind;
	struct msghdr *msg;
	int flags;
	struct ns_sock *child;          /* IO_ACCEPT result */
};

static ssize_t io_once(struct ns_sock *sk, struct io_call *c)
{
	if (c->kind == IO_SEND)
		return sk->ops->sendmsg(sk, c->msg, c->flags);
	if (c->kind == IO_RECV && (c->flags & NS_MSG_ERRQUEUE))
		return ns__errq_recv(sk, c->msg, c->flags);     /* every protocol, never blocks */
	if (c->kind == IO_RECV)
		return sk->ops->recvmsg(sk, c->msg, c->flags);
	int err = 0;
	c->child = sk->ops->accept(sk, &err);
	return c->child ? 0 : (err ? err : -NS_EAGAIN);
}

/* Runs an op, blocking on -EAGAIN unless nonblocking. */
static ssize_t io_blocking(struct ns_sock *sk, struct io_call *c)
{
	bool dontwait = (c->flags & (NS_MSG_DONTWAIT | NS_MSG_ERRQUEUE)) || ns__sock_nonblock(sk);
	/* taken before the first call: see "Blocking" in sock.h */
	uint64_t deadline = dontwait ? 0 : deadline_of(sk, c->kind != IO_SEND);
	for (;;) {
		uint64_t gen0 = __atomic_load_n(&sk->wake_gen, __ATOMIC_ACQUIRE);
		ssize_t r = io_once(sk, c);
		if (r != -NS_EAGAIN || dontwait) {
			refresh(sk);
			return r;
		}
		int w = wait_wake(sk, gen0, deadline);
		if (w < 0)
			return w;
	}
}

/* ---- calls ------------------------------------------------------------------- */

#define SOCK_OR_EBADF(sk, stk, fd)                          \
	struct ns_sock *sk = ns__sock_lookup((stk), (fd));  \
	if (!sk)                                            \
		return -NS_EBADF

int ns_bind(struct ns_stack *stk, int fd, const struct sockaddr *addr, socklen_t len)
{
	SOCK_OR_EBADF(sk, stk, fd);
	int r;
	if ((int)len < 0 || len > NS_SOCKADDR_STORAGE || (!addr && len))
		r = -NS_EINVAL;
	else
		r = sk->ops->bind(sk, addr, len);
	refresh(sk);
	ns__sock_put(sk);
	return r;
}

int ns_connect(struct ns_stack *stk, int fd, const struct sockaddr *addr, socklen_t len)
{
	SOCK_OR_EBADF(sk, stk, fd);
	int r;
	if ((int)len < 0 || len > NS_SOCKADDR_STORAGE || (!addr && len))
		r = -NS_EINVAL;
	else
		r = sk->ops->connect(sk, addr, len);
	refresh(sk);
	ns__sock_put(sk);
	return r;
}

int ns_listen(struct ns_stack *stk, int fd, int backlog)
{
	SOCK_OR_EBADF(sk, stk, fd);
	int r = sk->ops->listen ? sk->ops->listen(sk, backlog) : -NS_EOPNOTSUPP;
	refresh(sk);
	ns__sock_put(sk);
	return r;
}

static int copy_addr_out(const struct sockaddr_storage *ka, socklen_t klen, struct sockaddr *addr,
			 socklen_t *len)
{
	if (!len)
		return 0;
	socklen_t n = NS_MIN(*len, klen);
	if (n)
		memcpy(addr, ka, n);
	*len = klen;
	return 0;
}

int ns_accept(struct ns_stack *stk, int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	if (flags & ~(NS_SOCK_NONBLOCK | NS_SOCK_CLOEXEC))
		return -NS_EINVAL;
	SOCK_OR_EBADF(sk, stk, fd);
	int r;
	if (addr && (!len || (int)*len < 0)) {
		r = -NS_EINVAL;
		goto out;
	}
	if (!sk->ops->accept) {
		r = -NS_EOPNOTSUPP;
		goto out;
	}
	struct io_call c = { .kind = IO_ACCEPT };
	r = (int)io_blocking(sk, &c);
	if (r < 0)
		goto out;
	struct ns_sock *child = c.child;
	ns__sock_set_nonblock(child, (flags & NS_SOCK_NONBLOCK) != 0);
	if (addr) {
		struct sockaddr_storage ka;
		socklen_t klen = sizeof(ka);
		memset(&ka, 0, sizeof(ka));
		if (child->ops->getname(child, (struct sockaddr *)&ka, &klen, true) < 0)
			klen = 0;
		copy_addr_out(&ka, klen, addr, len);
	}
	r = ns__sock_install(stk, child);
	if (r < 0) {
		if (child->ops->close)
			child->ops->close(child);
		ns__sock_put(child);
	}
out:
	ns__sock_put(sk);
	return r;
}

static int check_iov(const struct msghdr *m)
{
	if (m->msg_iovlen > NS_UIO_MAXIOV)
		return -NS_EMSGSIZE;
	if (m->msg_iovlen && !m->msg_iov)
		return -NS_EINVAL;
	for (size_t i = 0; i < (size_t)m->msg_iovlen; i++) {
		if ((ssize_t)m->msg_iov[i].iov_len < 0)
			return -NS_EINVAL;
		if (m->msg_iov[i].iov_len && !m->msg_iov[i].iov_base)
			return -NS_EINVAL;
	}
	if (m->msg_controllen && !m->msg_control)
		return -NS_EINVAL;
	return 0;
}

/* m is the caller's message with the name already normalized. */
static ssize_t send_common(struct ns_stack *stk, int fd, struct msghdr *m, int flags)
{
	SOCK_OR_EBADF(sk, stk, fd);
	ssize_t r = check_iov(m);
	if (r == 0) {
		struct io_call c = { .kind = IO_SEND, .msg = m, .flags = flags };
		r = io_blocking(sk, &c);
	}
	ns__sock_put(sk);
	return r;
}

ssize_t ns_sendmsg(struct ns_stack *stk, int fd, const struct msghdr *msg, int flags)
{
	if (!msg)
		return -NS_EINVAL;
	struct msghdr m = *msg;
	if ((int)m.msg_namelen < 0)
		return -NS_EINVAL;
	if (!m.msg_name || !m.msg_namelen) {
		m.msg_name = NULL;
		m.msg_namelen = 0;
	}
	if (m.msg_namelen > NS_SOCKADDR_STORAGE)
		m.msg_namelen = NS_SOCKADDR_STORAGE;
	return send_common(stk, fd, &m, flags);
}

ssize_t ns_sendto(struct ns_stack *stk, int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *to, socklen_t tolen)
{
	if (!buf && len)
		return -NS_EINVAL;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (to) {
		if ((int)tolen < 0 || tolen > NS_SOCKADDR_STORAGE)
			return -NS_EINVAL;
		m.msg_name = (void *)to;
		m.msg_namelen = tolen;
	}
	return send_common(stk, fd, &m, flags);
}

ssize_t ns_send(struct ns_stack *stk, int fd, const void *buf, size_t len, int flags)
{
	return ns_sendto(stk, fd, buf, len, flags, NULL, 0);
}

/* The protocol writes the source address into a full-size buffer; the
 * caller's buffer gets as much as fits and the real length (Linux). */
static ssize_t recv_common(struct ns_stack *stk, int fd, struct msghdr *um, int flags,
			   bool want_name)
{
	SOCK_OR_EBADF(sk, stk, fd);
	ssize_t r = check_iov(um);
	if (r < 0)
		goto out;
	struct sockaddr_storage ka;
	memset(&ka, 0, sizeof(ka));
	struct msghdr m = *um;
	m.msg_name = want_name ? &ka : NULL;
	m.msg_namelen = 0;                      /* Linux: the protocol sets it when it reports one */
	m.msg_flags = 0;
	struct io_call c = { .kind = IO_RECV, .msg = &m, .flags = flags };
	r = io_blocking(sk, &c);
	if (r < 0)
		goto out;
	if (want_name) {
		socklen_t klen = m.msg_name ? m.msg_namelen : 0;
		if (klen > sizeof(ka))
			klen = 0;
		copy_addr_out(&ka, klen, um->msg_name, &um->msg_namelen);
	}
	um->msg_controllen = (m.msg_flags & NS__MSG_CTL_SET) ? m.msg_controllen : 0;
	um->msg_flags = m.msg_flags & ~NS__MSG_CTL_SET;
out:
	ns__sock_put(sk);
	return r;
}

ssize_t ns_recvmsg(struct ns_stack *stk, int fd, struct msghdr *msg, int flags)
{
	if (!msg || (int)msg->msg_namelen < 0)
		return -NS_EINVAL;
	bool want = msg->msg_name != NULL;
	if (!want)
		msg->msg_namelen = 0;
	return recv_common(stk, fd, msg, flags, want);
}

ssize_t ns_recvfrom(struct ns_stack *stk, int fd, void *buf, size_t len, int flags,
		    struct sockaddr *from, socklen_t *fromlen)
{
	if (!buf && len)
		return -NS_EINVAL;
	if (from && (!fromlen || (int)*fromlen < 0))
		return -NS_EINVAL;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_name = from, .msg_namelen = from ? *fromlen : 0 };
	ssize_t r = recv_common(stk, fd, &m, flags, from != NULL);
	if (r >= 0 && from)
		*fromlen = m.msg_namelen;
	return r;
}

ssize_t ns_recv(struct ns_stack *stk, int fd, void *buf, size_t len, int flags)
{
	return ns_recvfrom(stk, fd, buf, len, flags, NULL, NULL);
}

int ns_shutdown(struct ns_stack *stk, int fd, int how)
{
	SOCK_OR_EBADF(sk, stk, fd);
	int r;
	if (how < NS_SHUT_RD || how > NS_SHUT_RDWR)
		r = -NS_EINVAL;
	else if (!sk->ops->shutdown)
		r = -NS_EOPNOTSUPP;
	else
		r = sk->ops->shutdown(sk, how);
	refresh(sk);
	ns__sock_put(sk);
	return r;
}

static int getname(struct ns_stack *stk, int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
	SOCK_OR_EBADF(sk, stk, fd);
	int r = 0;
	if (!len || (int)*len < 0 || (!addr && *len))
		r = -NS_EINVAL;
	if (r == 0) {
		struct sockaddr_storage ka;
		socklen_t klen = sizeof(ka);
		memset(&ka, 0, sizeof(ka));
		r = sk->ops->getname(sk, (struct sockaddr *)&ka, &klen, peer);
		if (r >= 0) {
			copy_addr_out(&ka, klen, addr, len);
			r = 0;
		}
	}
	ns__sock_put(sk);
	return r;
}

int ns_getsockname(struct ns_stack *stk, int fd, struct sockaddr *addr, socklen_t *len)
{
	return getname(stk, fd, addr, len, false);
}

int ns_getpeername(struct ns_stack *stk, int fd, struct sockaddr *addr, socklen_t *len)
{
	return getname(stk, fd, addr, len, true);
}

int ns_setsockopt(struct ns_stack *stk, int fd, int level, int name, const void *val, socklen_t len)
{
	SOCK_OR_EBADF(sk, stk, fd);
	int r;
	if ((int)len < 0 || (!val && len))
		r = -NS_EINVAL;
	else if (level == NS_SOL_SOCKET)
		r = ns__sock_setsockopt_sol(sk, name, val, len);
	else
		r = sk->ops->setsockopt ? sk->ops->setsockopt(sk, level, name, val, len)
					: -NS_ENOPROTOOPT;
	refresh(sk);
	ns__sock_put(sk);
	return r;
}

int ns_getsockopt(struct ns_stack *stk, int fd, int level, int name, void *val, socklen_t *len)
{
	SOCK_OR_EBADF(sk, stk, fd);
	int r;
	if (!len || (int)*len < 0 || (!val && *len))
		r = -NS_EINVAL;
	else if (level == NS_SOL_SOCKET)
		r = ns__sock_getsockopt_sol(sk, name, val, len);
	else
		r = sk->ops->getsockopt ? sk->ops->getsockopt(sk, level, name, val, len)
					: -NS_ENOPROTOOPT;
	refresh(sk);
	ns__sock_put(sk);
	return r;
}

int ns_ioctl(struct ns_stack *stk, int fd, unsigned long req, void *arg)
{
	SOCK_OR_EBADF(sk, stk, fd);
	int r;
	if (!arg)
		r = -NS_EINVAL;
	else if (req == NS_FIONBIO) {
		int v;
		memcpy(&v, arg, sizeof(v));
		ns__sock_set_nonblock(sk, v != 0);
		r = 0;
	} else {
		r = sk->ops->ioctl ? sk->ops->ioctl(sk, req, arg) : -NS_ENOTTY;
	}
	ns__sock_put(sk);
	return r;
}

int ns_fcntl(struct ns_stack *stk, int fd, int cmd, long arg)
{
	SOCK_OR_EBADF(sk, stk, fd);
	int r;
	if (cmd == NS_F_GETFL)
		r = NS_O_RDWR | (ns__sock_nonblock(sk) ? NS_O_NONBLOCK : 0);
	else if (cmd == NS_F_SETFL) {
		ns__sock_set_nonblock(sk, (arg & NS_O_NONBLOCK) != 0);
		r = 0;
	} else
		r = -NS_EINVAL;
	ns__sock_put(sk);
	return r;
}
