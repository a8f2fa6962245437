/*
 * netstack/socket_poll.c - readiness: the current event mask, waking
 * blocked callers, waiter callbacks and the opt-in level-triggered
 * eventfd: a pipe where eventfd is missing, see platform.h.
 */
#include <stdlib.h>
#include "socket_internal.h"
#include "platform.h"

int ns__sock_mask_locked(struct ns_sock *sk)
{
	int m = sk->ops && sk->ops->poll_locked ? sk->ops->poll_locked(sk) : 0;
	if (sk->err || sk->eq_head)
		m |= NS_POLLERR;
	return m;
}

static void efd_update_locked(struct ns_sock *sk, int m)
{
	if (!sk->efd)
		return;
	bool want = (m & sk->efd_mask) != 0;
	if (want && !sk->efd_set)
		ns__wakeup_signal(sk->efd);
	else if (!want && sk->efd_set)
		ns__wakeup_clear(sk->efd);
	sk->efd_set = want;
}

void ns__sock_refresh_locked(struct ns_sock *sk)
{
	if (sk->efd)
		efd_update_locked(sk, ns__sock_mask_locked(sk));
}

void ns__sock_wake_locked(struct ns_sock *sk)
{
	__atomic_fetch_add(&sk->wake_gen, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&sk->cv);
	if (!sk->waiters && !sk->efd)
		return;
	int m = ns__sock_mask_locked(sk);
	sk->last_mask = m;
	for (struct ns_waiter *w = sk->waiters; w; w = w->next)
		if (m & w->mask)
			w->fn(w->ctx, m & w->mask);
	efd_update_locked(sk, m);
}

void ns__sock_set_err_locked(struct ns_sock *sk, int err)
{
	sk->err = err;
	ns__sock_wake_locked(sk);
}

int ns__sock_take_err_locked(struct ns_sock *sk)
{
	int e = sk->err;
	sk->err = 0;
	return e;
}

void ns__sock_readiness_fini_locked(struct ns_sock *sk)
{
	while (sk->waiters) {
		struct ns_waiter *w = sk->waiters;
		sk->waiters = w->next;
		free(w);
	}
	if (sk->efd) {
		struct ns_wakeup *e = sk->efd;
		__atomic_store_n(&sk->efd, NULL, __ATOMIC_RELEASE);
		ns__wakeup_free(e);
	}
}

int ns_poll_mask(struct ns_stack *stk, int fd)
{
	struct ns_sock *sk = ns__sock_lookup(stk, fd);
	if (!sk)
		return -NS_EBADF;
	pthread_mutex_lock(&sk->mu);
	int m = ns__sock_mask_locked(sk);
	pthread_mutex_unlock(&sk->mu);
	ns__sock_put(sk);
	return m;
}

int ns_waiter_add(struct ns_stack *stk, int fd, int mask, ns_waiter_fn fn, void *ctx)
{
	if (!fn || !mask)
		return -NS_EINVAL;
	struct ns_sock *sk = ns__sock_lookup(stk, fd);
	if (!sk)
		return -NS_EBADF;
	struct ns_waiter *w = calloc(1, sizeof(*w));
	int id = -NS_ENOMEM;
	pthread_mutex_lock(&sk->mu);
	if (w && ns__sock_closed_locked(sk)) {
		free(w);
		id = -NS_EBADF;
	} else if (w) {
		w->id = id = ++sk->next_waiter_id;
		w->mask = mask;
		w->fn = fn;
		w->ctx = ctx;
		w->next = sk->waiters;
		sk->waiters = w;
	}
	pthread_mutex_unlock(&sk->mu);
	ns__sock_put(sk);
	return id;
}

int ns_waiter_del(struct ns_stack *stk, int fd, int id)
{
	struct ns_sock *sk = ns__sock_lookup(stk, fd);
	if (!sk)
		return -NS_EBADF;
	int r = -NS_ENOENT;
	pthread_mutex_lock(&sk->mu);
	for (struct ns_waiter **p = &sk->waiters; *p; p = &(*p)->next) {
		if ((*p)->id == id) {
			struct ns_waiter *w = *p;
			*p = w->next;
			free(w);
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&sk->mu);
	ns__sock_put(sk);
	return r;
}

int ns_socket_eventfd(struct ns_stack *stk, int fd, int mask)
{
	struct ns_sock *sk = ns__sock_lookup(stk, fd);
	if (!sk)
		return -NS_EBADF;
	int r;
	pthread_mutex_lock(&sk->mu);
	if (ns__sock_closed_locked(sk)) {
		r = -NS_EBADF;
	} else {
		if (!sk->efd) {
			struct ns_wakeup *w = ns__wakeup_new();
			__atomic_store_n(&sk->efd, w, __ATOMIC_RELEASE);
			sk->efd_set = false;
		}
		if (sk->efd) {
			sk->efd_mask = mask;
			ns__sock_refresh_locked(sk);
			r = ns__wakeup_fd(sk->efd);
		} else {
			r = -NS_EMFILE;
		}
	}
	pthread_mutex_unlock(&sk->mu);
	ns__sock_put(sk);
	return r;
}
