/*
 * tests/unit/helpers/tcp_helpers.c - see tcp_helpers.h.
 */
#include <stdlib.h>
#include <stdio.h>
#include <arpa/inet.h>
#include "tcp_helpers.h"
#include "tcp/tcp_timewait.h"

struct sockaddr_in tt_sin(const char *ip, uint16_t port)
{
	struct sockaddr_in s;
	memset(&s, 0, sizeof(s));
	s.sin_family = NS_AF_INET;
	s.sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &s.sin_addr) != 1)
		abort();
	return s;
}

int tt_listen(struct ns_stack *stk, uint16_t port, int backlog)
{
	int fd = ns_socket(stk, NS_AF_INET, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
	if (fd < 0)
		abort();
	struct sockaddr_in s = tt_sin("0.0.0.0", port);
	if (ns_bind(stk, fd, (struct sockaddr *)&s, sizeof(s)) < 0 || ns_listen(stk, fd, backlog) < 0)
		abort();
	return fd;
}

int tt_connect_nb(struct ns_stack *stk, const char *ip, uint16_t port)
{
	int fd = ns_socket(stk, NS_AF_INET, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
	if (fd < 0)
		abort();
	struct sockaddr_in s = tt_sin(ip, port);
	int r = ns_connect(stk, fd, (struct sockaddr *)&s, sizeof(s));
	if (r != -NS_EINPROGRESS) {
		fprintf(stderr, "tt_connect_nb: connect returned %d\n", r);
		abort();
	}
	return fd;
}

int tt_state(struct ns_stack *stk, int fd)
{
	struct ns_sock *sk = ns__sock_lookup(stk, fd);
	if (!sk)
		return -1;
	pthread_mutex_lock(&sk->mu);
	int st = tcp_ep_of(sk)->state;
	pthread_mutex_unlock(&sk->mu);
	ns__sock_put(sk);
	return st;
}

int tt_sock_error(struct ns_stack *stk, int fd)
{
	int e = -1;
	socklen_t l = sizeof(e);
	if (ns_getsockopt(stk, fd, NS_SOL_SOCKET, NS_SO_ERROR, &e, &l) < 0)
		return -1;
	return e;
}

int tt_count_state(struct ns_stack *stk, int state)
{
	struct cds_lfht_iter it;
	struct tcp_ep *ep;
	int n = 0;
	ns_rcu_read_lock();
	struct cds_lfht_node *nd;
	for (cds_lfht_first(stk->tcp->ehash, &it); (nd = cds_lfht_iter_get_node(&it)) != NULL;
	     cds_lfht_next(stk->tcp->ehash, &it)) {
		ep = caa_container_of(nd, struct tcp_ep, hnode);
		if (ep->state == state)
			n++;
	}
	ns_rcu_read_unlock();
	/* TIME_WAIT lives in small records, not endpoints (tcp/tcp_timewait.c) */
	if (state == TCP_TIME_WAIT)
		n += tcp_tw_foreach(stk->tcp, NULL, NULL);
	return n;
}

bool tt_accepted(void *ctx)
{
	struct tt_accept *a = ctx;
	if (a->fd >= 0)
		return true;
	int fd = ns_accept(a->stk, a->lfd, NULL, NULL, NS_SOCK_NONBLOCK);
	if (fd >= 0)
		a->fd = fd;
	return fd >= 0;
}

bool tt_is_readable(void *ctx)
{
	struct tt_readable *r = ctx;
	return (ns_poll_mask(r->stk, r->fd) & (NS_POLLIN | NS_POLLHUP | NS_POLLERR)) != 0;
}

bool tt_is_writable(void *ctx)
{
	struct tt_readable *r = ctx;
	return (ns_poll_mask(r->stk, r->fd) & (NS_POLLOUT | NS_POLLHUP | NS_POLLERR)) != 0;
}

bool tt_state_reached(void *ctx)
{
	struct tt_state_is *s = ctx;
	return tt_state(s->stk, s->fd) == s->state;
}
