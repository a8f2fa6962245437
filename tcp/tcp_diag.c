/*
 * tcp/tcp_diag.c - the connection table for monitoring (netstackd's
 * ss-style report): ns_tcp_foreach_conn() visits every listener and every
 * connection (SYN_SENT .. TIME_WAIT) with a snapshot of its state.
 * Owns: nothing; reads the tables like a lookup does (RCU, references) and
 * each endpoint under its sk->mu, never holding a lock across the callback.
 */
#include <stdlib.h>
#include "../netstack/core.h"
#include "../netstack/sock.h"
#include "tcp_internal.h"

#define DIAG_MAX 262144         /* connections reported at most */

/* Takes a reference on every socket in ht (inside one RCU section). */
static size_t collect(struct cds_lfht *ht, struct ns_sock ***arr, size_t *n, size_t *cap)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;
	ns_rcu_read_lock();
	for (cds_lfht_first(ht, &it); (node = cds_lfht_iter_get_node(&it)) != NULL; cds_lfht_next(ht, &it)) {
		struct tcp_ep *ep = caa_container_of(node, struct tcp_ep, hnode);
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 256;
			struct ns_sock **na = nc <= DIAG_MAX ? realloc(*arr, nc * sizeof(*na)) : NULL;
			if (!na)
				break;
			*arr = na;
			*cap = nc;
		}
		if (urcu_ref_get_unless_zero(&ep->sk->ref))
			(*arr)[(*n)++] = ep->sk;
	}
	ns_rcu_read_unlock();
	return *n;
}

static void snapshot(struct tcp_ep *ep, struct ns_tcp_conn_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	ci->state = ep->state;
	ci->laddr = ep->laddr;
	ci->raddr = ep->raddr;
	ci->lport = ep->lport;
	ci->rport = ep->rport;
	if (ep->state == TCP_LISTEN) {
		ci->recvq = ep->lst ? (uint32_t)ep->lst->acc_qlen : 0;
		ci->sendq = ep->lst ? (uint32_t)ep->lst->backlog : 0;
		return;
	}
	ci->recvq = ep->rcvq_bytes;
	ci->sendq = ep->write_seq - ep->snd_una;
	ci->rtt_us = ns_tcp_rtt_srtt(&ep->rtt);
	ci->rttvar_us = ns_tcp_rtt_rttvar(&ep->rtt);
	ci->rto_us = ns_tcp_rtt_rto(&ep->rtt);
	ci->cwnd = ep->cc.cwnd;
	ci->ssthresh = ep->cc.ssthresh;
	ci->mss = tcp_current_mss(ep);
	ci->total_retrans = ep->total_retrans;
	ci->bytes_acked = ep->bytes_acked;
	ci->bytes_received = ep->bytes_received;
}

int ns_tcp_foreach_conn(struct ns_stack *stk, ns_tcp_conn_fn fn, void *ctx)
{
	struct ns_tcp *tcp = stk->tcp;
	if (!tcp)
		return 0;
	struct ns_sock **arr = NULL;
	size_t n = 0, cap = 0;
	collect(tcp->lhash, &arr, &n, &cap);
	collect(tcp->ehash, &arr, &n, &cap);
	int visited = 0;
	for (size_t i = 0; i < n; i++) {
		struct ns_sock *sk = arr[i];
		struct ns_tcp_conn_info ci;
		bool ok = false;
		pthread_mutex_lock(&sk->mu);
		struct tcp_ep *ep = tcp_ep_of(sk);
		if (ep && ep->hashed) {
			snapshot(ep, &ci);
			ok = true;
		}
		pthread_mutex_unlock(&sk->mu);
		ns__sock_put(sk);
		if (ok) {
			fn(ctx, &ci);
			visited++;
		}
	}
	free(arr);
	return visited;
}
