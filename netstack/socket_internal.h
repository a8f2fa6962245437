/*
 * netstack/socket_internal.h - what the socket layer files share
 * (socket.c: descriptors and calls; socket_opt.c: SOL_SOCKET options;
 * socket_poll.c: readiness; socket_addr.c: sockaddr helpers).
 */
#ifndef NS_SOCKET_INTERNAL_H
#define NS_SOCKET_INTERNAL_H

#include "sock.h"

/* Linux's int options at SOL_SOCKET and below carry at least this much. */
#define NS_SOCK_MAX_FDS (1 << 20)

/* Linux x86-64 struct timeval / struct linger as the guest passes them. */
struct ns_timeval {
	int64_t tv_sec, tv_usec;
};
struct ns_linger {
	int32_t l_onoff, l_linger;
};

int ns__sock_setsockopt_sol(struct ns_sock *sk, int name, const void *v, socklen_t len);
int ns__sock_getsockopt_sol(struct ns_sock *sk, int name, void *v, socklen_t *len);

/* Current readiness including POLLERR for a pending error; under mu. */
int ns__sock_mask_locked(struct ns_sock *sk);
/* Brings the eventfd to the current level (after an op changed the socket); under mu. */
void ns__sock_refresh_locked(struct ns_sock *sk);
/* Drops the waiters and the eventfd at close; under mu. */
void ns__sock_readiness_fini_locked(struct ns_sock *sk);

#endif
