/*
 * tcp/tcp_sock.c - SOCK_STREAM sockets: struct ns_proto_ops for TCP.
 *
 * Owns: endpoint creation and destruction, bind / listen / accept / connect
 * (nonblocking EINPROGRESS, EALREADY, EISCONN, errors through SO_ERROR),
 * passive-open children (SYN queue accounting, accept queue, SYN cookies),
 * sendmsg / recvmsg (MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT, MSG_MORE, MSG_OOB,
 * blocking sends that wait for buffer space), shutdown, close (FIN, RST when
 * unread data, SO_LINGER), TCP-level options and TCP_INFO, SIOCINQ /
 * SIOCOUTQ, the poll mask, receive-buffer auto-tuning and window updates
 * after reads.
 */
#include <stdlib.h>
#include <sys/uio.h>
#include "tcp_internal.h"
#include "tcp_zc.h"

void tcp_select_initial_window(struct tcp_ep *ep);
void tcp_sndbuf_expand(struct tcp_ep *ep);
void tcp_init_transfer(struct tcp_ep *ep);
uint32_t tcp_packets_in_flight(struct tcp_ep *ep);

#ifndef NS_ENOTTY
#define NS_ENOTTY 25
#endif

#define RCV_SHUT 1
#define SEND_SHUT 2

static uint64_t now_us(struct tcp_ep *ep) { return ns__now(ep->stk) / NS_NSEC_PER_USEC; }

/* ---- creation / destruction ------------------------------------------------------ */

static struct tcp_ep *ep_new(struct ns_sock *sk)
{
	struct tcp_ep *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return NULL;
	ep->sk = sk;
	ep->stk = sk->stk;
	ep->tcp = sk->stk->tcp;
	ep->state = TCP_CLOSE;
	ep->family = sk->domain;
	ep->urg_data = -1;
	ep->ttl = ep->hops = -1;
	ep->mss_cache = TCP_MSS_DEFAULT;
	ep->advmss = TCP_MSS_DEFAULT;
	ns_ofo_init(&ep->ofo);
	ns_tcp_rtt_init(&ep->rtt);
	ns_rack_init(&ep->rack);
	ns_sack_sb_init(&ep->sb, 0, TCP_MSS_DEFAULT);
	ns_tcp_cc_init(&ep->cc, ns_tcp_cc_default(), TCP_MSS_DEFAULT, 0);
	tcp_timer_init(ep);
	sk->proto = ep;
	return ep;
}

int ns__tcp_sock_init(struct ns_sock *sk)
{
	if (!sk->stk->tcp)
		return -NS_EPROTONOSUPPORT;
	if (!ep_new(sk))
		return -NS_ENOMEM;
	/* Linux tcp_init_sock: tcp_wmem[1], tcp_rmem[1] */
	sk->sndbuf = (int)sk->stk->tcp->wmem[1];
	sk->rcvbuf = (int)sk->stk->tcp->rmem[1];
	return 0;
}

static void tcp_destroy(struct ns_sock *sk)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	if (!ep)
		return;
	pthread_mutex_lock(&sk->mu);
	ep->dead = true;
	pthread_mutex_unlock(&sk->mu);
	ns__timer_cancel_sync(ep->stk, &ep->timer);
	tcp_unbind(ep);
	tcp_sndq_purge(ep);
	ns_pkt_unref_chain(ep->rcvq_head);
	ep->rcvq_head = ep->rcvq_tail = NULL;
	ns_ofo_purge(&ep->ofo);
	ns_sack_sb_fini(&ep->sb);
	free(ep->txr);
	free(ep->lst);
	tcp_xf_free(ep);
	struct tcp_ep *parent = ep->parent;
	ep->parent = NULL;
	sk->proto = NULL;
	free(ep);
	if (parent)
		ns__sock_put(parent->sk);
}

/* ---- passive open: children ------------------------------------------------------------ */

struct ns_sock *tcp_create_child(struct tcp_ep *lep)
{
	struct ns_sock *lsk = lep->sk;
	struct ns_sock *sk = ns__sock_alloc(lep->stk, &ns__tcp_ops, lsk->domain, lsk->type, lsk->protocol);
	if (!sk)
		return NULL;
	struct tcp_ep *c = ep_new(sk);
	if (!c) {
		sk->ops = NULL;
		ns__sock_put(sk);
		return NULL;
	}
	/* inherited from the listener (Linux sk_clone_lock / inet_csk_clone_lock) */
	sk->sndbuf = lsk->sndbuf;
	sk->rcvbuf = lsk->rcvbuf;
	sk->sndbuf_locked = lsk->sndbuf_locked;
	sk->rcvbuf_locked = lsk->rcvbuf_locked;
	sk->reuseaddr = lsk->reuseaddr;
	sk->reuseport = lsk->reuseport;
	sk->keepalive = lsk->keepalive;
	sk->oobinline = lsk->oobinline;
	sk->linger_on = lsk->linger_on;
	sk->linger_sec = lsk->linger_sec;
	sk->rcvlowat = lsk->rcvlowat;
	sk->rcvtimeo_ns = lsk->rcvtimeo_ns;
	sk->sndtimeo_ns = lsk->sndtimeo_ns;
	sk->bound_nic = lsk->bound_nic;
	sk->v6only = lsk->v6only;
	sk->zerocopy = lsk->zerocopy;   /* sock flags and timestamping options are copied too */
	sk->tsflags = lsk->tsflags;
	sk->tskey = lsk->tskey;
	sk->rcvtstamp = lsk->rcvtstamp;
	sk->rcvtstampns = lsk->rcvtstampns;
	sk->tstamp_new = lsk->tstamp_new;
	sk->nonblock = false;
	c->nodelay = lep->nodelay;
	c->ttl = lep->ttl;              /* Linux clones the listener's inet options */
	c->hops = lep->hops;
	c->tos = lep->tos;
	c->tclass = lep->tclass;
	c->cork = lep->cork;
	c->keepalive = lsk->keepalive;
	c->keepidle = lep->keepidle;
	c->keepintvl = lep->keepintvl;
	c->keepcnt = lep->keepcnt;
	c->user_timeout_ms = lep->user_timeout_ms;
	c->user_mss = lep->user_mss;
	c->linger2 = lep->linger2;
	c->window_clamp = lep->window_clamp;
	c->notsent_lowat = lep->notsent_lowat;
	c->recv_inq = lep->recv_inq;
	c->v6only = lep->v6only;
	c->cc.ops = lep->cc.ops;
	c->family = lep->family;
	c->advmss = lep->advmss;
	c->parent = lep;
	ns__sock_get(lep->sk);   /* the child's reference on its listener */
	return sk;
}

/* A child that never made it into any table. */
void tcp_child_abort_unqueued(struct tcp_ep *c)
{
	ns__sock_put(c->sk);   /* the creation reference; destroy drops the parent's */
}

void tcp_advmss_for(struct tcp_ep *ep, uint32_t pmtu)
{
	uint32_t mss = pmtu - (ep->raddr.family == NS_AF_INET6 ? 40 : 20) - TCP_HLEN;
	if (ep->user_mss && mss > ep->user_mss)
		mss = ep->user_mss;
	ep->advmss = (uint16_t)mss;
}

void tcp_send_cookie_synack(struct tcp_ep *lep, struct tcp_seg *seg)
{
	struct ns_stack *stk = lep->stk;
	struct tcp_ep *t = calloc(1, sizeof(*t));
	if (!t)
		return;
	t->sk = lep->sk;
	t->stk = stk;
	t->tcp = lep->tcp;
	t->family = lep->family;
	t->window_clamp = lep->window_clamp;
	t->user_mss = lep->user_mss;
	t->laddr = seg->m->dst;
	t->raddr = seg->m->src;
	t->lport = seg->dport;
	t->rport = seg->sport;
	t->rcv_nxt = seg->seq + 1;
	t->rcv_wup = t->rcv_nxt;
	const struct ns_tcp_opts *o = &seg->opt;
	struct ns_syncookie_tuple tu = { .laddr = t->laddr, .raddr = t->raddr, .lport = t->lport, .rport = t->rport };
	uint16_t peer_mss = ns_tcp_opts_has(o, NS_TCP_OPT_F_MSS) ? o->mss : TCP_MSS_DEFAULT;
	uint16_t mss_enc;
	t->iss = ns_syncookie_make(&lep->tcp->sec, &tu, seg->seq, peer_mss, ns__now(stk), &mss_enc);
	tcp_advmss_for(t, ns__ip_path_mtu(stk, &t->raddr, lep->sk->bound_nic));
	t->ws_ok = ns_tcp_opts_has(o, NS_TCP_OPT_F_WSCALE);
	t->sack_ok = ns_tcp_opts_has(o, NS_TCP_OPT_F_SACK_PERM);
	t->ts_ok = ns_tcp_opts_has(o, NS_TCP_OPT_F_TS);
	tcp_select_initial_window(t);
	if (!t->ws_ok)
		t->rcv_wscale = 0;
	if (t->ts_ok) {
		struct ns_syncookie_opts co = { .mss = mss_enc, .ts = true, .wscale_ok = t->ws_ok,
						.snd_wscale = t->ws_ok ? o->wscale : 0, .sack_ok = t->sack_ok };
		uint32_t off = ns_tcp_ts_offset(&lep->tcp->sec, &t->laddr, &t->raddr);
		uint32_t now_ts = ns_tcp_ts_now(ns__now(stk), off);
		uint32_t tsval = ns_syncookie_tsval(now_ts, &co);
		t->ts_offset = off + (tsval - now_ts);
		t->ts_recent = o->tsval;
	}
	tcp_send_synack(t);
	NS_STAT_INC(stk, TcpExtSyncookiesSent);
	NS_STAT_INC(stk, TcpExtTCPReqQFullDoCookies);
	free(t);
}

/* The ACK of a cookie SYN-ACK: a child straight into ESTABLISHED (listener mu held). */
void tcp_cookie_child(struct tcp_ep *lep, struct tcp_seg *seg, const struct ns_syncookie_opts *co)
{
	struct ns_stack *stk = lep->stk;
	struct tcp_listen *L = lep->lst;
	if (L->acc_qlen > L->backlog) {
		NS_STAT_INC(stk, TcpExtListenOverflows);
		NS_STAT_INC(stk, TcpExtListenDrops);
		ns_pkt_unref(seg->pkt);
		return;
	}
	struct ns_sock *csk = tcp_create_child(lep);
	if (!csk) {
		NS_STAT_INC(stk, TcpExtListenDrops);
		ns_pkt_unref(seg->pkt);
		return;
	}
	struct tcp_ep *c = tcp_ep_of(csk);
	pthread_mutex_lock(&csk->mu);
	c->laddr = seg->m->dst;
	c->raddr = seg->m->src;
	c->lport = seg->dport;
	c->rport = seg->sport;
	c->irs = seg->seq - 1;
	/* offloads of the NIC the SYN came in on: TSO for accepted connections too */
	c->nic_caps = seg->m->nic && seg->m->nic->link ? seg->m->nic->link->caps : 0;
	c->iss = seg->ack - 1;
	c->rcv_nxt = c->rcv_wup = c->copied_seq = seg->seq;
	c->snd_una = c->snd_nxt = c->write_seq = seg->ack;
	c->snd_sml = c->snd_una;
	c->syn_acked = true;
	c->mss_clamp = co->mss;
	c->ts_ok = co->ts;
	c->sack_ok = co->sack_ok;
	c->ws_ok = co->wscale_ok;
	c->snd_wscale = co->wscale_ok ? co->snd_wscale : 0;
	tcp_advmss_for(c, ns__ip_path_mtu(stk, &c->raddr, csk->bound_nic));
	tcp_select_initial_window(c);
	if (!c->ws_ok)
		c->rcv_wscale = 0;
	if (c->ts_ok) {
		c->ts_offset = ns_tcp_ts_offset(&c->tcp->sec, &c->laddr, &c->raddr);
		c->ts_recent = seg->opt.tsval;
		c->ts_recent_stamp_ns = ns__now(stk);
	}
	c->snd_wnd = (uint32_t)seg->wnd << c->snd_wscale;
	c->max_window = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	tcp_set_state(c, TCP_ESTABLISHED);
	if (tcp_ehash_insert(c) < 0) {
		tcp_set_state(c, TCP_CLOSE);
		pthread_mutex_unlock(&csk->mu);
		tcp_child_abort_unqueued(c);
		ns_pkt_unref(seg->pkt);
		return;
	}
	tcp_inherit_port(c);
	NS_STAT_INC(stk, TcpExtSyncookiesRecv);
	NS_STAT_INC(stk, TcpPassiveOpens);
	tcp_init_transfer(c);
	/* into the accept queue (its creation reference goes with it) */
	c->in_accq = true;
	if (L->acc_tail)
		L->acc_tail->acc_next = c;
	else
		L->acc_head = c;
	L->acc_tail = c;
	L->acc_qlen++;
	/* the rest of the segment (data, FIN) */
	if (seg->len || (seg->flags & TCPF_FIN))
		tcp_rcv_state(c, seg);
	else
		ns_pkt_unref(seg->pkt);
	pthread_mutex_unlock(&csk->mu);
	ns__sock_wake_locked(lep->sk);
}

/*
 * After input or a timer ran on ep with its lock released: move a child
 * that completed the handshake to its listener's accept queue, or forget
 * one that died before (SYN queue accounting).
 */
void tcp_post_unlock(struct tcp_ep *ep)
{
	struct ns_sock *sk = ep->sk;
	pthread_mutex_lock(&sk->mu);
	if (!ep->notify_parent || !ep->parent) {
		pthread_mutex_unlock(&sk->mu);
		return;
	}
	ep->notify_parent = false;
	struct tcp_ep *lep = ep->parent;
	struct ns_sock *lsk = lep->sk;
	ns__sock_get(lsk);
	pthread_mutex_unlock(&sk->mu);

	bool drop_child = false;
	pthread_mutex_lock(&lsk->mu);
	pthread_mutex_lock(&sk->mu);
	struct tcp_listen *L = lep->lst;
	if (ep->parent == lep && !ep->in_accq) {
		if (ep->in_synq && L) {
			L->syn_qlen--;
			ep->in_synq = false;
		}
		if (ep->state != TCP_CLOSE && lep->state == TCP_LISTEN && L) {
			ep->in_accq = true;
			ep->acc_next = NULL;
			if (L->acc_tail)
				L->acc_tail->acc_next = ep;
			else
				L->acc_head = ep;
			L->acc_tail = ep;
			L->acc_qlen++;
			ns__sock_wake_locked(lsk);
		} else {
			if (ep->state != TCP_CLOSE) {
				/* the listener went away: reset the connection */
				tcp_send_active_reset(ep);
				tcp_done(ep);
			}
			drop_child = true;
		}
	}
	pthread_mutex_unlock(&sk->mu);
	pthread_mutex_unlock(&lsk->mu);
	ns__sock_put(lsk);
	if (drop_child)
		ns__sock_put(sk);   /* the creation reference: nobody will accept it */
}

/* Listener closes: reset queued children; they are released after the lock (tcp_listen_release). */
void tcp_listen_stop(struct tcp_ep *lep)
{
	struct tcp_listen *L = lep->lst;
	if (!L)
		return;
	for (struct tcp_ep *c = L->acc_head; c; c = c->acc_next) {
		pthread_mutex_lock(&c->sk->mu);
		if (c->state != TCP_CLOSE) {
			tcp_send_active_reset(c);
			NS_STAT_INC(lep->stk, TcpExtTCPAbortOnClose);
			tcp_done(c);
		}
		c->orphan = true;
		pthread_mutex_unlock(&c->sk->mu);
	}
	tcp_unhash(lep);
	tcp_set_state(lep, TCP_CLOSE);
	lep->sk->accepting = false;
}

/* Drops the accept queue's references and the SYN_RECV children (no lock held). */
static void tcp_listen_release(struct tcp_ep *lep)
{
	tcp_listen_drop_synq(lep);
	struct ns_sock *lsk = lep->sk;
	pthread_mutex_lock(&lsk->mu);
	struct tcp_listen *L = lep->lst;
	struct tcp_ep *list = L ? L->acc_head : NULL;
	if (L) {
		L->acc_head = L->acc_tail = NULL;
		L->acc_qlen = 0;
	}
	pthread_mutex_unlock(&lsk->mu);
	while (list) {
		struct tcp_ep *n = list->acc_next;
		struct ns_sock *csk = list->sk;
		pthread_mutex_lock(&csk->mu);
		list->in_accq = false;
		list->acc_next = NULL;
		pthread_mutex_unlock(&csk->mu);
		ns__sock_put(csk);
		list = n;
	}
}

void tcp_listen_release_public(struct tcp_ep *lep) { tcp_listen_release(lep); }

/* ---- bind / listen / accept ------------------------------------------------------------ */

static int parse_addr(struct tcp_ep *ep, const struct sockaddr *a, socklen_t len, struct ns_addr *addr,
		      uint16_t *port)
{
	int err = ns__sockaddr_parse(a, len, ep->sk->domain, addr, port);
	if (err < 0)
		return err;
	if (ep->sk->domain == NS_AF_INET6 && addr->family == NS_AF_INET && ep->sk->v6only)
		return -NS_EINVAL;
	return 0;
}

static int tcp_bind(struct ns_sock *sk, const struct sockaddr *a, socklen_t len)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	struct ns_addr addr;
	uint16_t port;
	int err = parse_addr(ep, a, len, &addr, &port);
	if (err < 0)
		return err;
	pthread_mutex_lock(&sk->mu);
	if (ep->state != TCP_CLOSE || ep->bound || ep->ever_connected) {
		err = -NS_EINVAL;
		goto out;
	}
	if (!ns_addr_is_any(&addr) && !ns__addr_local(sk->stk, &addr, NULL)) {
		err = -NS_EADDRNOTAVAIL;
		goto out;
	}
	ep->v6only = sk->v6only;
	if (sk->domain == NS_AF_INET6 && ns_addr_is_any(&addr) && addr.family == NS_AF_INET) {
		/* ::ffff:0.0.0.0 binds the v4 wildcard only */
		ep->v6only = false;
	}
	err = tcp_bind_port(ep, &addr, port);
	if (err == 0) {
		ep->bind_port_lock = port != 0;
		ep->bind_addr_lock = !ns_addr_is_any(&addr);
	}
out:
	pthread_mutex_unlock(&sk->mu);
	return err;
}

static struct ns_addr any_of(int domain)
{
	struct ns_addr a;
	memset(&a, 0, sizeof(a));
	a.family = domain == NS_AF_INET6 ? NS_AF_INET6 : NS_AF_INET;
	return a;
}

static int tcp_listen(struct ns_sock *sk, int backlog)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	int err = 0;
	if ((unsigned)backlog > TCP_SOMAXCONN)
		backlog = TCP_SOMAXCONN;
	pthread_mutex_lock(&sk->mu);
	if (ep->state == TCP_LISTEN) {
		ep->lst->backlog = backlog;
		goto out;
	}
	if (ep->state != TCP_CLOSE || ep->ever_connected) {
		err = -NS_EINVAL;
		goto out;
	}
	if (!ep->bound) {
		struct ns_addr a = any_of(sk->domain);
		ep->v6only = sk->v6only;
		err = tcp_bind_port(ep, &a, 0);
		if (err < 0)
			goto out;
	} else if ((err = tcp_listen_check_port(ep)) < 0) {
		goto out;
	}
	if (!ep->lst) {
		ep->lst = calloc(1, sizeof(*ep->lst));
		if (!ep->lst) {
			err = -NS_ENOMEM;
			goto out;
		}
	}
	ep->lst->backlog = backlog;
	ep->advmss = TCP_MSS_DEFAULT;
	tcp_set_state(ep, TCP_LISTEN);
	sk->accepting = true;
	tcp_lhash_insert(ep);
out:
	pthread_mutex_unlock(&sk->mu);
	return err;
}

static struct ns_sock *tcp_accept(struct ns_sock *sk, int *err)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	pthread_mutex_lock(&sk->mu);
	if (ep->state != TCP_LISTEN || !ep->lst) {
		pthread_mutex_unlock(&sk->mu);
		*err = -NS_EINVAL;
		return NULL;
	}
	struct tcp_listen *L = ep->lst;
	struct tcp_ep *c = L->acc_head;
	if (!c) {
		pthread_mutex_unlock(&sk->mu);
		*err = -NS_EAGAIN;
		return NULL;
	}
	L->acc_head = c->acc_next;
	if (!L->acc_head)
		L->acc_tail = NULL;
	L->acc_qlen--;
	pthread_mutex_lock(&c->sk->mu);
	c->in_accq = false;
	c->acc_next = NULL;
	struct tcp_ep *parent = c->parent;
	c->parent = NULL;
	pthread_mutex_unlock(&c->sk->mu);
	pthread_mutex_unlock(&sk->mu);
	if (parent)
		ns__sock_put(parent->sk);   /* cannot be the last: the caller holds one */
	*err = 0;
	return c->sk;
}

/* ---- connect ---------------------------------------------------------------------------- */

static int tcp_disconnect_locked(struct tcp_ep *ep)
{
	if (ep->state == TCP_LISTEN) {
		tcp_listen_stop(ep);
	} else if (ep->state != TCP_CLOSE) {
		if (ep->state != TCP_SYN_SENT && ep->state != TCP_TIME_WAIT)
			tcp_send_active_reset(ep);
		tcp_done(ep);
	}
	tcp_sndq_purge(ep);
	ns_pkt_unref_chain(ep->rcvq_head);
	ep->rcvq_head = ep->rcvq_tail = NULL;
	ep->rcvq_bytes = 0;
	ep->sk->rmem = 0;
	ns_ofo_purge(&ep->ofo);
	if (!ep->bind_port_lock)
		tcp_unbind(ep);
	ep->ever_connected = false;
	ep->disconnecting = false;
	ep->shut = 0;
	ep->fin_queued = ep->fin_sent = ep->fin_rcvd = false;
	ep->syn_acked = false;
	ep->rtx_syn = false;
	ep->retransmits = 0;
	ep->retrans_stamp = 0;
	ep->reset_seen = false;
	memset(&ep->raddr, 0, sizeof(ep->raddr));
	ep->rport = 0;
	ns_tcp_rtt_init(&ep->rtt);
	return 0;
}

static int connect_wait(struct tcp_ep *ep)
{
	struct ns_sock *sk = ep->sk;
	uint64_t dl = sk->sndtimeo_ns ? ns__real_now() + sk->sndtimeo_ns : 0;
	int w = ns__sock_wait_locked(sk, NS_POLLOUT | NS_POLLERR | NS_POLLHUP, dl);
	if (ep->state == TCP_ESTABLISHED || ep->state == TCP_CLOSE_WAIT) {
		ep->connect_pending = false;
		return 0;
	}
	if (sk->err)
		return -ns__sock_take_err_locked(sk);
	if (w < 0 || ep->state == TCP_SYN_SENT || ep->state == TCP_SYN_RECV)
		return -NS_EINPROGRESS;
	return ep->state == TCP_CLOSE ? -NS_ECONNABORTED : 0;
}

static int tcp_connect(struct ns_sock *sk, const struct sockaddr *a, socklen_t len)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	int err;
	if (len >= sizeof(sa_family_t) && a && a->sa_family == AF_UNSPEC) {
		pthread_mutex_lock(&sk->mu);
		err = tcp_disconnect_locked(ep);
		pthread_mutex_unlock(&sk->mu);
		return err;
	}
	struct ns_addr raddr;
	uint16_t rport;
	pthread_mutex_lock(&sk->mu);
	if (ep->disconnecting) {
		err = -NS_EINVAL;
		goto out;
	}
	switch (ep->state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		if (ns__sock_nonblock(sk)) {
			err = -NS_EALREADY;
			goto out;
		}
		err = connect_wait(ep);
		goto out;
	case TCP_CLOSE:
		if (ep->ever_connected) {
			/* Linux: the socket stays "connected" after the connection died */
			if (ep->connect_pending && sk->err) {
				ep->connect_pending = false;
				err = -ns__sock_take_err_locked(sk);
				ep->ever_connected = false;
				goto out;
			}
			err = ep->connect_pending ? -NS_ECONNABORTED : -NS_EISCONN;
			if (ep->connect_pending) {
				ep->connect_pending = false;
				ep->ever_connected = false;
			}
			goto out;
		}
		break;
	case TCP_LISTEN:
		err = -NS_EISCONN;
		goto out;
	default:
		if (ep->connect_pending) {
			/* the nonblocking connect completed: this call reports it (Linux SS_CONNECTING -> SS_CONNECTED) */
			ep->connect_pending = false;
			err = 0;
			goto out;
		}
		err = -NS_EISCONN;
		goto out;
	}
	err = parse_addr(ep, a, len, &raddr, &rport);
	if (err < 0) {
		if (err == -NS_EINVAL && sk->domain == NS_AF_INET6 && sk->v6only)
			err = -NS_ENETUNREACH;
		goto out;
	}
	if (ns_addr_is_any(&raddr)) {
		/* Linux: connecting to INADDR_ANY means the local host */
		struct ns_route_result rr;
		if (ns__route_lookup(sk->stk, &raddr, 0, &rr) < 0) {
			err = -NS_ECONNREFUSED;
			goto out;
		}
	}
	struct ns_route_result r;
	err = ns__route_lookup(sk->stk, &raddr, sk->bound_nic, &r);
	if (err < 0)
		goto out;
	if (!ep->bind_addr_lock || ns_addr_is_any(&ep->laddr) || ep->laddr.family != raddr.family)
		ep->laddr = r.src;
	ep->raddr = raddr;
	ep->rport = rport;
	ep->nic_caps = r.nic && r.nic->link ? r.nic->link->caps : 0;
	uint32_t pmtu = ns__ip_path_mtu(sk->stk, &raddr, sk->bound_nic);
	if (!pmtu)
		pmtu = r.mtu ? r.mtu : 1500;
	if (!ep->bound)
		ep->v6only = sk->v6only;
	err = tcp_hash_connect(ep);
	if (err < 0) {
		memset(&ep->raddr, 0, sizeof(ep->raddr));
		ep->rport = 0;
		if (!ep->bind_addr_lock)
			memset(&ep->laddr, 0, sizeof(ep->laddr));
		goto out;
	}
	ep->iss = tcp_new_isn(ep->tcp, ep);
	ep->ts_offset = ns_tcp_ts_offset(&ep->tcp->sec, &ep->laddr, &ep->raddr);
	ep->snd_una = ep->iss;
	ep->snd_nxt = ep->iss + 1;
	ep->write_seq = ep->iss + 1;
	ep->snd_sml = ep->iss;
	ep->snd_wnd = 0;
	ep->mss_clamp = 0;
	ep->pmtu = pmtu;
	tcp_advmss_for(ep, pmtu);
	tcp_select_initial_window(ep);
	tcp_sync_mss(ep, pmtu);
	ep->ts_ok = true;   /* for the MSS computation until the SYN-ACK says otherwise */
	ep->ts_ok = false;
	tcp_set_state(ep, TCP_SYN_SENT);
	ep->ever_connected = true;
	ep->connect_pending = true;
	ep->shut = 0;
	NS_STAT_INC(sk->stk, TcpActiveOpens);
	ep->synack_stamp = now_us(ep);
	tcp_send_syn(ep);
	ep->lsndtime = ns__now(sk->stk);
	tcp_rearm_rto(ep);
	if (ns__sock_nonblock(sk)) {
		err = -NS_EINPROGRESS;
		goto out;
	}
	err = connect_wait(ep);
	if (err == 0)
		ep->connect_pending = false;
out:
	pthread_mutex_unlock(&sk->mu);
	return err;
}

/* ---- send ---------------------------------------------------------------------------------- */

static size_t iov_total(const struct msghdr *m)
{
	size_t t = 0;
	for (size_t i = 0; i < (size_t)m->msg_iovlen; i++)
		t += m->msg_iov[i].iov_len;
	return t;
}

/* Error to report for a send that cannot go on (Linux sk_stream_error + sk_err). */
static int send_error(struct tcp_ep *ep)
{
	struct ns_sock *sk = ep->sk;
	if (sk->err)
		return -ns__sock_take_err_locked(sk);
	return -NS_EPIPE;
}

/* Linux tcp_xmit_size_goal(): the bytes tcp_sendmsg puts in one skb (whole
 * MSS, at most half the largest window the peer offered, at most a GSO packet). */
static uint32_t size_goal(struct tcp_ep *ep)
{
	uint32_t mss = tcp_current_mss(ep);
	uint32_t goal = TCP_GSO_MAX - 200;
	uint32_t cut = ep->max_window > TCP_MSS_DEFAULT ? ep->max_window / 2 : ep->max_window;
	if (cut && goal > cut)
		goal = cut;
	goal = (goal / mss) * mss;
	return goal ? goal : mss;
}

/* Bytes sendmsg may queue now under TCP_NOTSENT_LOWAT.  Linux checks
 * sk_stream_memory_free (unsent < lowat) only before starting a new skb and
 * fills the tail skb up to size_goal regardless; the unsent bytes are
 * modelled as skbs of size_goal. */
static uint64_t notsent_room(struct tcp_ep *ep)
{
	uint32_t unsent = ep->write_seq - ep->snd_nxt;
	uint32_t goal = size_goal(ep);
	uint32_t tail = unsent % goal;
	if (unsent < ep->notsent_lowat)
		return (uint64_t)goal - tail;
	return tail ? goal - tail : 0;
}

static ssize_t tcp_sendmsg(struct ns_sock *sk, const struct msghdr *m, int flags)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	size_t total = iov_total(m);
	size_t copied = 0;
	bool block = !ns__sock_nonblock(sk) && !(flags & NS_MSG_DONTWAIT);
	pthread_mutex_lock(&sk->mu);
	struct tcp_xf_send xs;          /* MSG_EOR, MSG_ZEROCOPY, timestamps (tcp_zc.c) */
	int xr = tcp_xf_send_begin(ep, m, flags, total, &xs);
	if (xr < 0) {
		pthread_mutex_unlock(&sk->mu);
		return xr;
	}
	uint64_t dl = sk->sndtimeo_ns ? ns__real_now() + sk->sndtimeo_ns : 0;
	for (;;) {
		if (sk->err || (ep->shut & SEND_SHUT)) {
			ssize_t r = copied ? (ssize_t)copied : send_error(ep);
			tcp_xf_send_end(ep, &xs, copied);
			pthread_mutex_unlock(&sk->mu);
			return r;
		}
		if (ep->state != TCP_ESTABLISHED && ep->state != TCP_CLOSE_WAIT) {
			if (ep->state != TCP_SYN_SENT && ep->state != TCP_SYN_RECV) {
				ssize_t r = copied ? (ssize_t)copied : send_error(ep);
				tcp_xf_send_end(ep, &xs, copied);
				pthread_mutex_unlock(&sk->mu);
				return r;
			}
			if (!block) {
				tcp_xf_send_end(ep, &xs, 0);
				pthread_mutex_unlock(&sk->mu);
				return -NS_EAGAIN;
			}
			if (ns__sock_wait_locked(sk, NS_POLLOUT | NS_POLLERR | NS_POLLHUP, dl) < 0) {
				tcp_xf_send_end(ep, &xs, 0);
				pthread_mutex_unlock(&sk->mu);
				return -NS_EAGAIN;
			}
			continue;
		}
		if (copied == total)
			break;
		size_t room = total - copied;
		if (ep->notsent_lowat) {
			uint64_t lim = notsent_room(ep);
			if (room > lim)
				room = (size_t)lim;
		}
		ssize_t n = room ? tcp_xf_append(ep, &xs, m, copied, room) : 0;
		if (n < 0) {
			if (copied)
				break;
			tcp_xf_send_end(ep, &xs, 0);
			pthread_mutex_unlock(&sk->mu);
			return n;
		}
		copied += (size_t)n;
		if (copied == total)
			break;
		/* buffer full: send what we can, then wait for room */
		bool saved = ep->cork;
		tcp_push(ep, !(flags & NS_MSG_MORE));
		ep->cork = saved;
		if (n > 0 && ep->notsent_lowat && notsent_room(ep) > 0 && tcp_sndbuf_space(ep) > 0)
			continue;       /* limited by TCP_NOTSENT_LOWAT and the push made room */
		if (!block)
			break;
		if (ns__sock_wait_locked(sk, NS_POLLOUT | NS_POLLERR | NS_POLLHUP, dl) < 0)
			break;
	}
	tcp_xf_send_end(ep, &xs, copied);
	if (copied && (flags & NS_MSG_OOB)) {
		/* the last byte written is urgent (Linux tcp_mark_urg) */
		ep->snd_up = ep->write_seq;
		ep->urg_mode = true;
	}
	if (copied) {
		bool saved = ep->cork;
		if ((flags & NS_MSG_MORE) && !(flags & NS_MSG_OOB))
			ep->cork = true;
		tcp_push(ep, false);
		ep->cork = saved;
	}
	pthread_mutex_unlock(&sk->mu);
	if (copied == 0 && total > 0)
		return -NS_EAGAIN;
	return (ssize_t)copied;
}

/* ---- receive ----------------------------------------------------------------------------------- */

/* Linux tcp_rcv_space_adjust(): grow the buffer when the reader keeps up (DRS). */
void tcp_rcv_space_adjust(struct tcp_ep *ep)
{
	uint64_t t = now_us(ep);
	uint64_t rtt = ep->rcv_rtt_us;
	if (!rtt || t - ep->rcv_space_time < rtt)
		return;
	uint32_t copied = ep->copied_seq - ep->rcv_space_seq;
	if (copied > ep->rcv_space) {
		if (!ep->sk->rcvbuf_locked) {
			/* twice what was read per RTT, for the window to keep up with growth */
			uint64_t want = (uint64_t)copied * 2 * 2;   /* window is half the buffer */
			if (want > TCP_RMEM_MAX)
				want = TCP_RMEM_MAX;
			if (want > (uint64_t)ep->sk->rcvbuf)
				ep->sk->rcvbuf = (int)want;
		}
		ep->rcv_space = copied;
	}
	ep->rcv_space_seq = ep->copied_seq;
	ep->rcv_space_time = t;
}

/* Linux tcp_cleanup_rbuf(): after reading, tell the peer about a much larger window. */
void tcp_cleanup_rbuf(struct tcp_ep *ep, uint32_t copied)
{
	if (ep->state == TCP_CLOSE || ep->state == TCP_LISTEN || ep->state == TCP_SYN_SENT)
		return;
	bool send = false;
	if (ep->ack_pending && (ep->rcv_nxt - ep->rcv_wup > ep->rcv_mss || ep->quickack))
		send = true;
	if (!send && copied > 0 && !(ep->shut & RCV_SHUT) && !ep->fin_rcvd) {
		uint32_t right = ep->rcv_wup + ep->rcv_wnd;
		uint32_t now_win = ns_seq_gt(right, ep->rcv_nxt) ? right - ep->rcv_nxt : 0;
		/* Linux compares with window_clamp, which never exceeds what the
		 * window field can carry (65535 << rcv_wscale) */
		uint32_t full = (uint32_t)ep->sk->rcvbuf / 2;
		uint32_t maxw = (uint32_t)65535 << ep->rcv_wscale;
		if (ep->window_clamp && full > ep->window_clamp)
			full = ep->window_clamp;
		if (full > maxw)
			full = maxw;
		if (now_win * 2 <= full) {
			uint32_t nw = NS_MIN(tcp_rcv_space_free(ep), maxw);
			if (nw >= 2 * now_win && nw - now_win >= ep->advmss)
				send = true;
		}
	}
	if (send)
		tcp_send_ack(ep);
}

static size_t copy_to_iov(const struct msghdr *m, size_t off, const uint8_t *src, size_t len)
{
	size_t done = 0;
	size_t i = 0;
	while (i < (size_t)m->msg_iovlen && off >= m->msg_iov[i].iov_len) {
		off -= m->msg_iov[i].iov_len;
		i++;
	}
	while (done < len && i < (size_t)m->msg_iovlen) {
		size_t room = m->msg_iov[i].iov_len - off;
		size_t n = len - done < room ? len - done : room;
		memcpy((uint8_t *)m->msg_iov[i].iov_base + off, src + done, n);
		done += n;
		off = 0;
		i++;
	}
	return done;
}

static ssize_t recv_oob(struct tcp_ep *ep, struct msghdr *m, int flags)
{
	if (ep->sk->oobinline || ep->urg_data < 0 || (ep->urg_data & 0x100))
		return -NS_EINVAL;
	if (ep->state == TCP_CLOSE && !ep->urg_pending)
		return -NS_ENOTCONN;
	uint8_t b = (uint8_t)ep->urg_data;
	if (iov_total(m) == 0)
		return 0;
	copy_to_iov(m, 0, &b, 1);
	if (!(flags & NS_MSG_PEEK))
		ep->urg_data |= 0x100;
	m->msg_flags |= NS_MSG_OOB;
	return 1;
}

/* Bytes readable in the receive queue from copied_seq, stopping at an urgent mark. */
static uint32_t readable(struct tcp_ep *ep)
{
	return ep->rcvq_bytes;
}

static ssize_t recv_copy(struct tcp_ep *ep, struct msghdr *m, size_t want, int flags)
{
	size_t copied = 0;
	bool peek = (flags & NS_MSG_PEEK) != 0;
	struct ns_pkt *p = ep->rcvq_head;
	uint32_t seq = ep->copied_seq;
	uint32_t skip_peek = 0;
	while (p && copied < want) {
		uint32_t plen = ns_pkt_len(p) - skip_peek;
		const uint8_t *d = ns_pkt_data(p) + skip_peek;
		uint32_t n = plen;
		if (n > want - copied)
			n = (uint32_t)(want - copied);
		/* urgent byte (SO_OOBINLINE off): stop before it, skip it once there */
		if (ep->urg_pending && !ep->sk->oobinline && ns_seq_geq(ep->urg_seq, seq) &&
		    ns_seq_lt(ep->urg_seq, seq + n)) {
			uint32_t before = ep->urg_seq - seq;
			if (before == 0) {
				if (copied)
					break;   /* Linux: stop at the mark */
				/* drop the urgent byte from the stream */
				if (!peek) {
					ns_pkt_pull(p, 1);
					ep->rcvq_bytes--;
					ep->copied_seq++;
					ep->urg_pending = false;
					seq++;
					if (ns_pkt_len(p) == 0) {
						ep->rcvq_head = p->next;
						if (!p->next)
							ep->rcvq_tail = NULL;
						ep->sk->rmem -= p->truesize;
						ns_pkt_unref(p);
						p = ep->rcvq_head;
					}
				} else {
					skip_peek++;
					seq++;
					if (skip_peek == ns_pkt_len(p)) {
						p = p->next;
						skip_peek = 0;
					}
				}
				continue;
			}
			n = before;
		}
		copy_to_iov(m, copied, d, n);
		copied += n;
		seq += n;
		if (peek) {
			if (n == plen) {
				p = p->next;
				skip_peek = 0;
			} else {
				skip_peek += n;
			}
			continue;
		}
		ep->copied_seq += n;
		ep->rcvq_bytes -= n;
		if (n == ns_pkt_len(p)) {
			ep->rcvq_head = p->next;
			if (!p->next)
				ep->rcvq_tail = NULL;
			ep->sk->rmem -= p->truesize;
			ns_pkt_unref(p);
			p = ep->rcvq_head;
		} else {
			ns_pkt_pull(p, n);
		}
		if (ep->urg_pending && ep->urg_seq == ep->copied_seq && copied)
			break;
	}
	return (ssize_t)copied;
}

/* TCP_INQ: a TCP_CM_INQ control message with Linux tcp_inq_hint(): the bytes
 * left to read, the FIN counting as one (so 1 at end of stream).  Linux
 * put_cmsg: MSG_CTRUNC when the control buffer is missing or too small. */
static void put_inq_cmsg(struct tcp_ep *ep, struct msghdr *m)
{
	int inq = (int)ep->rcvq_bytes + (ep->fin_rcvd ? 1 : 0);
	size_t hdr = (sizeof(struct cmsghdr) + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1);
	size_t cap = m->msg_control ? m->msg_controllen : 0;
	if (cap < sizeof(struct cmsghdr) || hdr + sizeof(inq) > cap) {
		m->msg_flags |= NS_MSG_CTRUNC;
		return;
	}
	struct cmsghdr h;
	memset(&h, 0, sizeof(h));
	h.cmsg_len = hdr + sizeof(inq);
	h.cmsg_level = NS_IPPROTO_TCP;
	h.cmsg_type = NS_TCP_CM_INQ;
	memcpy(m->msg_control, &h, sizeof(h));
	memcpy((uint8_t *)m->msg_control + hdr, &inq, sizeof(inq));
	m->msg_controllen = NS_MIN((hdr + sizeof(inq) + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1), cap);
	m->msg_flags |= NS__MSG_CTL_SET;
}

static ssize_t tcp_recvmsg(struct ns_sock *sk, struct msghdr *m, int flags)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	size_t want = iov_total(m);
	size_t copied = 0;
	bool block = !ns__sock_nonblock(sk) && !(flags & NS_MSG_DONTWAIT);
	m->msg_flags = 0;
	pthread_mutex_lock(&sk->mu);
	if (ep->state == TCP_LISTEN) {
		pthread_mutex_unlock(&sk->mu);
		return -NS_ENOTCONN;
	}
	if (flags & NS_MSG_OOB) {
		ssize_t r = recv_oob(ep, m, flags);
		pthread_mutex_unlock(&sk->mu);
		return r;
	}
	uint64_t dl = sk->rcvtimeo_ns ? ns__real_now() + sk->rcvtimeo_ns : 0;
	size_t target = (flags & NS_MSG_WAITALL) ? want : (size_t)(sk->rcvlowat > 0 ? sk->rcvlowat : 1);
	uint64_t rx_stamp = 0;          /* arrival of the last segment read from (tcp_zc.c) */
	if (target > want)
		target = want;
	for (;;) {
		if (readable(ep)) {
			uint64_t st = tcp_xf_rx_stamp(ep, want - copied);
			rx_stamp = st ? st : rx_stamp;
			ssize_t n = recv_copy(ep, m, want - copied, flags);
			if (n > 0 && !(flags & NS_MSG_PEEK)) {
				/* recv_copy writes from offset 0 of m: handled by copying in order */
			}
			copied += (size_t)n;
			if (flags & NS_MSG_PEEK)
				break;
			if (ep->urg_pending && ep->urg_seq == ep->copied_seq && copied)
				break;
		}
		if (copied >= target || copied == want)
			break;
		if (sk->err) {
			if (!copied) {
				ssize_t r = -ns__sock_take_err_locked(sk);
				pthread_mutex_unlock(&sk->mu);
				return r;
			}
			break;
		}
		if (ep->fin_rcvd || (ep->shut & RCV_SHUT) || ep->state == TCP_CLOSE) {
			/* Linux: a FIN received (SOCK_DONE) reads as EOF, also on an accepted
			 * socket whose TIME_WAIT record took over (state CLOSE) */
			if (!copied && ep->state == TCP_CLOSE && !ep->ever_connected && !ep->fin_rcvd) {
				pthread_mutex_unlock(&sk->mu);
				return -NS_ENOTCONN;
			}
			break;
		}
		if (!block) {
			if (!copied) {
				pthread_mutex_unlock(&sk->mu);
				return -NS_EAGAIN;
			}
			break;
		}
		if (copied) {
			/* MSG_WAITALL: the window may have to open for the rest */
			tcp_cleanup_rbuf(ep, (uint32_t)copied);
		}
		if (ns__sock_wait_locked(sk, NS_POLLIN | NS_POLLERR | NS_POLLHUP | NS_POLLRDHUP, dl) < 0) {
			if (!copied) {
				pthread_mutex_unlock(&sk->mu);
				return -NS_EAGAIN;
			}
			break;
		}
		if (m->msg_iovlen && copied) {
			/* continue filling after what we already copied */
			struct iovec iv[64];
			size_t skip = copied, k = 0;
			struct msghdr mm = *m;
			for (size_t i = 0; i < (size_t)m->msg_iovlen && k < 64; i++) {
				if (skip >= m->msg_iov[i].iov_len) {
					skip -= m->msg_iov[i].iov_len;
					continue;
				}
				iv[k].iov_base = (uint8_t *)m->msg_iov[i].iov_base + skip;
				iv[k].iov_len = m->msg_iov[i].iov_len - skip;
				skip = 0;
				k++;
			}
			mm.msg_iov = iv;
			mm.msg_iovlen = k;
			while (readable(ep) && copied < want) {
				uint64_t st = tcp_xf_rx_stamp(ep, want - copied);
				rx_stamp = st ? st : rx_stamp;
				ssize_t n = recv_copy(ep, &mm, want - copied, flags);
				if (n <= 0)
					break;
				copied += (size_t)n;
				/* advance mm past n bytes */
				size_t adv = (size_t)n;
				size_t j = 0;
				while (j < (size_t)mm.msg_iovlen && adv >= mm.msg_iov[j].iov_len) {
					adv -= mm.msg_iov[j].iov_len;
					j++;
				}
				if (j < (size_t)mm.msg_iovlen) {
					iv[j].iov_base = (uint8_t *)iv[j].iov_base + adv;
					iv[j].iov_len -= adv;
				}
				mm.msg_iov = iv + j;
				mm.msg_iovlen -= j;
			}
		}
	}
	if (copied && rx_stamp)
		tcp_xf_rx_put(ep, m, rx_stamp);     /* SO_TIMESTAMP*, SCM_TIMESTAMPING */
	if (copied && !(flags & NS_MSG_PEEK)) {
		tcp_rcv_space_adjust(ep);
		tcp_cleanup_rbuf(ep, (uint32_t)copied);
		ns__sock_wake_locked(sk);
	}
	if (ep->recv_inq)
		put_inq_cmsg(ep, m);
	pthread_mutex_unlock(&sk->mu);
	return (ssize_t)copied;
}

/* ---- shutdown / close ---------------------------------------------------------------------------------- */

/* Linux tcp_close_state(): the state after our FIN, true when a FIN must be sent. */
static bool close_state(struct tcp_ep *ep)
{
	switch (ep->state) {
	case TCP_ESTABLISHED:
	case TCP_SYN_RECV:
		tcp_set_state(ep, TCP_FIN_WAIT1);
		return true;
	case TCP_CLOSE_WAIT:
		tcp_set_state(ep, TCP_LAST_ACK);
		return true;
	default:
		return false;
	}
}

static int tcp_shutdown(struct ns_sock *sk, int how)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	if (how < NS_SHUT_RD || how > NS_SHUT_RDWR)
		return -NS_EINVAL;
	int bits = how + 1;   /* SHUT_RD 0 -> 1, SHUT_WR 1 -> 2, SHUT_RDWR 2 -> 3 */
	int err = 0;
	struct tcp_ep *stop = NULL;
	pthread_mutex_lock(&sk->mu);
	if (ep->connect_pending) {
		/* Linux inet_shutdown on SS_CONNECTING */
		if (ep->state == TCP_SYN_SENT || ep->state == TCP_SYN_RECV || ep->state == TCP_CLOSE)
			ep->disconnecting = true;
		ep->connect_pending = false;
	}
	switch (ep->state) {
	case TCP_CLOSE:
		err = -NS_ENOTCONN;
		ep->shut |= bits;
		break;
	case TCP_LISTEN:
		if (!(bits & RCV_SHUT))
			break;
		tcp_listen_stop(ep);
		stop = ep;
		break;
	case TCP_SYN_SENT:
		tcp_disconnect_locked(ep);
		ep->shut |= bits;
		break;
	default:
		ep->shut |= bits;
		if ((bits & SEND_SHUT) && close_state(ep))
			tcp_send_fin(ep);
		break;
	}
	ns__sock_wake_locked(sk);
	pthread_mutex_unlock(&sk->mu);
	if (stop)
		tcp_listen_release(stop);
	return err;
}

static void tcp_close(struct ns_sock *sk)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	bool was_listen = false;
	pthread_mutex_lock(&sk->mu);
	ep->orphan = true;
	ep->shut = RCV_SHUT | SEND_SHUT;
	if (ep->state == TCP_LISTEN) {
		tcp_listen_stop(ep);
		was_listen = true;
		tcp_unbind(ep);
		goto out;
	}
	/* unread data is lost: RST, like Linux (RFC 2525 2.17) */
	uint32_t unread = ep->rcvq_bytes;
	ns_pkt_unref_chain(ep->rcvq_head);
	ep->rcvq_head = ep->rcvq_tail = NULL;
	ep->rcvq_bytes = 0;
	sk->rmem = 0;
	ns_ofo_purge(&ep->ofo);
	switch (ep->state) {
	case TCP_CLOSE:
		tcp_unbind(ep);
		goto out;
	case TCP_SYN_SENT:
		tcp_done(ep);
		goto out;
	default:
		break;
	}
	if (unread) {
		NS_STAT_INC(sk->stk, TcpExtTCPAbortOnClose);
		tcp_send_active_reset(ep);
		tcp_done(ep);
		goto out;
	}
	if (sk->linger_on && sk->linger_sec == 0) {
		/* SO_LINGER 0: abortive close */
		if (ep->state != TCP_TIME_WAIT) {
			NS_STAT_INC(sk->stk, TcpExtTCPAbortOnData);
			tcp_send_active_reset(ep);
		}
		tcp_done(ep);
		goto out;
	}
	if (close_state(ep))
		tcp_send_fin(ep);
	if (ep->state == TCP_FIN_WAIT2) {
		uint64_t tmo = ep->linger2 > 0 ? (uint64_t)ep->linger2 * NS_NSEC_PER_SEC : TCP_FIN_TIMEOUT_NS;
		if (ep->linger2 < 0) {
			tcp_send_active_reset(ep);
			tcp_done(ep);
			goto out;
		}
		tcp_time_wait(ep, TCP_FIN_WAIT2, tmo);
	}
	if (sk->linger_on && sk->linger_sec > 0 && !ns__sock_nonblock(sk)) {
		/* SO_LINGER: wait for the FIN to be acknowledged, or the time to pass */
		uint64_t dl = ns__real_now() + (uint64_t)sk->linger_sec * NS_NSEC_PER_SEC;
		ns__sock_wait_locked(sk, NS_POLLHUP, dl);
	}
out:
	tcp_timer_update(ep);
	pthread_mutex_unlock(&sk->mu);
	if (was_listen)
		tcp_listen_release(ep);
}

/* ---- names ------------------------------------------------------------------------------------------ */

static int tcp_getname(struct ns_sock *sk, struct sockaddr *a, socklen_t *len, bool peer)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	pthread_mutex_lock(&sk->mu);
	struct ns_addr addr;
	uint16_t port;
	if (peer) {
		if (!ep->rport || ep->state == TCP_CLOSE || ep->state == TCP_SYN_SENT || ep->state == TCP_LISTEN) {
			bool dead_conn = ep->state == TCP_CLOSE && ep->rport && ep->ever_connected && !ep->connect_pending;
			if (!dead_conn) {
				pthread_mutex_unlock(&sk->mu);
				return -NS_ENOTCONN;
			}
		}
		addr = ep->raddr;
		port = ep->rport;
	} else {
		addr = ep->laddr;
		if (!addr.family)
			addr = any_of(sk->domain);
		port = ep->lport;
	}
	pthread_mutex_unlock(&sk->mu);
	*len = ns__sockaddr_fill(a, *len, sk->domain, &addr, port);
	return 0;
}

/* ---- options ------------------------------------------------------------------------------------------ */

/* Linux struct tcp_info, field for field. */
struct ns_tcp_info {
	uint8_t tcpi_state, tcpi_ca_state, tcpi_retransmits, tcpi_probes, tcpi_backoff, tcpi_options;
	uint8_t tcpi_wscale;            /* snd_wscale:4 (low), rcv_wscale:4 (high) */
	uint8_t tcpi_flags;             /* delivery_rate_app_limited:1, fastopen_client_fail:2 */
	uint32_t tcpi_rto, tcpi_ato, tcpi_snd_mss, tcpi_rcv_mss;
	uint32_t tcpi_unacked, tcpi_sacked, tcpi_lost, tcpi_retrans, tcpi_fackets;
	uint32_t tcpi_last_data_sent, tcpi_last_ack_sent, tcpi_last_data_recv, tcpi_last_ack_recv;
	uint32_t tcpi_pmtu, tcpi_rcv_ssthresh, tcpi_rtt, tcpi_rttvar, tcpi_snd_ssthresh, tcpi_snd_cwnd;
	uint32_t tcpi_advmss, tcpi_reordering;
	uint32_t tcpi_rcv_rtt, tcpi_rcv_space;
	uint32_t tcpi_total_retrans;
	uint64_t tcpi_pacing_rate, tcpi_max_pacing_rate;
	uint64_t tcpi_bytes_acked, tcpi_bytes_received;
	uint32_t tcpi_segs_out, tcpi_segs_in;
	uint32_t tcpi_notsent_bytes, tcpi_min_rtt, tcpi_data_segs_in, tcpi_data_segs_out;
	uint64_t tcpi_delivery_rate;
	uint64_t tcpi_busy_time, tcpi_rwnd_limited, tcpi_sndbuf_limited;
	uint32_t tcpi_delivered, tcpi_delivered_ce;
	uint64_t tcpi_bytes_sent, tcpi_bytes_retrans;
	uint32_t tcpi_dsack_dups, tcpi_reord_seen;
	uint32_t tcpi_rcv_ooopack;
	uint32_t tcpi_snd_wnd, tcpi_rcv_wnd;
	uint32_t tcpi_rehash;
	uint16_t tcpi_total_rto, tcpi_total_rto_recoveries;
	uint32_t tcpi_total_rto_time;
};
_Static_assert(sizeof(struct ns_tcp_info) == 248, "struct tcp_info layout (Linux 6.7)");

static uint32_t ms_since(struct tcp_ep *ep, uint64_t t)
{
	if (!t)
		return 0;
	return (uint32_t)((ns__now(ep->stk) - t) / NS_NSEC_PER_MSEC);
}

static void fill_info(struct tcp_ep *ep, struct ns_tcp_info *ti)
{
	memset(ti, 0, sizeof(*ti));
	uint32_t mss = tcp_current_mss(ep);
	ti->tcpi_state = ep->state;
	ti->tcpi_ca_state = ep->cc.ca_state;
	ti->tcpi_retransmits = ep->retransmits;
	ti->tcpi_probes = ep->probes_out;
	ti->tcpi_backoff = ep->rtt.backoff;
	if (ep->ts_ok)
		ti->tcpi_options |= 1;
	if (ep->sack_ok)
		ti->tcpi_options |= 2;
	if (ep->ws_ok) {
		ti->tcpi_options |= 4;
		ti->tcpi_wscale = (uint8_t)((ep->snd_wscale & 0xf) | (ep->rcv_wscale << 4));
	}
	if (ep->state == TCP_LISTEN) {
		ti->tcpi_unacked = ep->lst ? (uint32_t)ep->lst->acc_qlen : 0;
		ti->tcpi_sacked = ep->lst ? (uint32_t)ep->lst->backlog : 0;
		return;
	}
	ti->tcpi_rto = ns_tcp_rtt_rto(&ep->rtt);
	ti->tcpi_ato = (uint32_t)((ep->ato_ns ? ep->ato_ns : TCP_ATO_MIN_NS) / NS_NSEC_PER_USEC);
	ti->tcpi_snd_mss = mss;
	ti->tcpi_rcv_mss = ep->rcv_mss ? ep->rcv_mss : TCP_MSS_DEFAULT;
	/* Linux packets_out / sacked_out / lost_out / retrans_out: per-MSS records (rtx) */
	if (ep->state != TCP_SYN_SENT && ep->state != TCP_SYN_RECV && ep->state != TCP_CLOSE)
		ti->tcpi_unacked = ep->txr_n;
	ti->tcpi_sacked = ep->sacked_out;
	ti->tcpi_lost = ep->lost_out;
	ti->tcpi_retrans = ep->retrans_out;
	ti->tcpi_dsack_dups = ep->dsack_dups;
	ti->tcpi_reord_seen = ep->reord_seen;
	ti->tcpi_last_data_sent = ms_since(ep, ep->lsndtime);
	ti->tcpi_last_data_recv = ms_since(ep, ep->lrcvtime);
	ti->tcpi_last_ack_recv = ms_since(ep, ep->lacktime);
	ti->tcpi_pmtu = ep->pmtu;
	ti->tcpi_rcv_ssthresh = ep->rcv_wnd;
	ti->tcpi_rtt = ns_tcp_rtt_srtt(&ep->rtt);
	ti->tcpi_rttvar = ns_tcp_rtt_rttvar(&ep->rtt);
	ti->tcpi_snd_ssthresh = ep->cc.ssthresh;
	ti->tcpi_snd_cwnd = ep->cc.cwnd;
	ti->tcpi_advmss = ep->advmss;
	ti->tcpi_reordering = ep->reordering ? ep->reordering : 3;
	ti->tcpi_rcv_rtt = (uint32_t)ep->rcv_rtt_us;
	ti->tcpi_rcv_space = ep->rcv_space;
	ti->tcpi_total_retrans = ep->total_retrans;
	ti->tcpi_pacing_rate = UINT64_MAX;
	ti->tcpi_max_pacing_rate = UINT64_MAX;
	ti->tcpi_bytes_acked = ep->bytes_acked;
	ti->tcpi_bytes_received = ep->bytes_received;
	ti->tcpi_segs_out = ep->segs_out;
	ti->tcpi_segs_in = ep->segs_in;
	ti->tcpi_notsent_bytes = ns_seq_diff(ep->snd_nxt, ep->write_seq);
	uint32_t mr = ns_tcp_rtt_min(&ep->rtt);
	ti->tcpi_min_rtt = mr == UINT32_MAX ? 0 : mr;
	ti->tcpi_data_segs_in = ep->data_segs_in;
	ti->tcpi_data_segs_out = ep->data_segs_out;
	ti->tcpi_delivered = ep->delivered;
	ti->tcpi_bytes_sent = ep->bytes_sent + ep->bytes_retrans;
	ti->tcpi_bytes_retrans = ep->bytes_retrans;
	ti->tcpi_snd_wnd = ep->snd_wnd;
	ti->tcpi_rcv_wnd = ep->rcv_wnd;
}

static int get_int(const void *v, socklen_t len, int *out)
{
	if (len < sizeof(int))
		return -NS_EINVAL;
	memcpy(out, v, sizeof(int));
	return 0;
}

/* IPPROTO_IPV6 on AF_INET6 sockets: IPV6_V6ONLY (Linux: only before bind),
 * IPV6_UNICAST_HOPS (-1..255, -1 = default), IPV6_TCLASS (-1..255, -1 = 0). */
static int tcp_set_ipv6(struct ns_sock *sk, int name, const void *v, socklen_t len)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	if (sk->domain != NS_AF_INET6 ||
	    (name != NS_IPV6_V6ONLY && name != NS_IPV6_UNICAST_HOPS && name != NS_IPV6_TCLASS))
		return -NS_ENOPROTOOPT;
	if (len < sizeof(int))
		return -NS_EINVAL;
	int val;
	memcpy(&val, v, sizeof(val));
	int err = 0;
	pthread_mutex_lock(&sk->mu);
	switch (name) {
	case NS_IPV6_V6ONLY:
		if (ep->bound)
			err = -NS_EINVAL;
		else
			sk->v6only = val != 0;
		break;
	case NS_IPV6_UNICAST_HOPS:
		if (val < -1 || val > 255)
			err = -NS_EINVAL;
		else
			ep->hops = (int16_t)val;
		break;
	default:
		if (val < -1 || val > 255)
			err = -NS_EINVAL;
		else
			ep->tclass = (uint8_t)(((val < 0 ? 0 : val) & ~3) | (ep->tclass & 3));
		break;
	}
	pthread_mutex_unlock(&sk->mu);
	return err;
}

/* IPPROTO_IP: IP_TTL (1..255 or -1 = default) and IP_TOS (ECN bits stay the
 * stack's on a stream socket, as Linux keeps them). */
static int tcp_set_ip(struct ns_sock *sk, int name, const void *v, socklen_t len)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	if (name != NS_IP_TTL && name != NS_IP_TOS)
		return -NS_ENOPROTOOPT;
	int val = 0;
	if (len >= sizeof(int))
		memcpy(&val, v, sizeof(val));
	else if (len >= 1)
		val = *(const unsigned char *)v;
	else
		return -NS_EINVAL;
	int err = 0;
	pthread_mutex_lock(&sk->mu);
	if (name == NS_IP_TTL) {
		if (val != -1 && (val < 1 || val > 255))
			err = -NS_EINVAL;
		else
			ep->ttl = (int16_t)val;
	} else {
		ep->tos = (uint8_t)((val & ~3) | (ep->tos & 3));
	}
	pthread_mutex_unlock(&sk->mu);
	return err;
}

/* Linux secs_to_retrans(): TCP_DEFER_ACCEPT seconds -> SYN-ACK retransmissions
 * (timeouts from TCP_TIMEOUT_INIT 1 s doubling up to TCP_RTO_MAX 120 s). */
static uint8_t secs_to_retrans(int seconds)
{
	uint8_t res = 0;
	if (seconds > 0) {
		int timeout = 1, period = 1;
		res = 1;
		while (seconds > period && res < 255) {
			res++;
			timeout = timeout * 2 > 120 ? 120 : timeout * 2;
			period += timeout;
		}
	}
	return res;
}

/* Linux retrans_to_secs(): the inverse, for getsockopt. */
static int retrans_to_secs(uint8_t retrans)
{
	int period = 0;
	if (retrans > 0) {
		int timeout = 1;
		period = 1;
		while (--retrans) {
			timeout = timeout * 2 > 120 ? 120 : timeout * 2;
			period += timeout;
		}
	}
	return period;
}

static int tcp_setsockopt(struct ns_sock *sk, int level, int name, const void *v, socklen_t len)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	int val = 0, err = 0;
	if (level == NS_IPPROTO_IPV6)
		return tcp_set_ipv6(sk, name, v, len);
	if (level == NS_IPPROTO_IP)
		return tcp_set_ip(sk, name, v, len);
	if (level == NS_SOL_SOCKET) {
		pthread_mutex_lock(&sk->mu);
		switch (name) {
		case NS_SO_KEEPALIVE:
			ep->keepalive = sk->keepalive;
			if (ep->keepalive)
				tcp_set_keepalive(ep);
			else
				ep->t_keepalive = 0;
			break;
		case NS_SO_RCVBUF:
		case NS_SO_RCVBUFFORCE:
			if (ep->state == TCP_CLOSE || ep->state == TCP_LISTEN)
				break;
			/* a smaller buffer must not shrink the offered window: it just stops growing */
			break;
		default:
			err = -NS_ENOPROTOOPT;
			break;
		}
		pthread_mutex_unlock(&sk->mu);
		return err;
	}
	if (level != NS_IPPROTO_TCP)
		return -NS_ENOPROTOOPT;
	if (name == NS_TCP_CONGESTION) {
		char buf[NS_TCP_CC_NAME_MAX];
		size_t n = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
		memcpy(buf, v, n);
		buf[n] = 0;
		const struct ns_tcp_cc_ops *ops = ns_tcp_cc_find(buf, strlen(buf));
		if (!ops)
			return -NS_ENOENT;
		pthread_mutex_lock(&sk->mu);
		if (ep->state == TCP_CLOSE || ep->state == TCP_LISTEN || ep->state == TCP_SYN_SENT)
			ep->cc.ops = ops;
		else
			ns_tcp_cc_set_ops(&ep->cc, ops, now_us(ep));
		pthread_mutex_unlock(&sk->mu);
		return 0;
	}
	if ((err = get_int(v, len, &val)) < 0)
		return err;
	pthread_mutex_lock(&sk->mu);
	switch (name) {
	case NS_TCP_NODELAY:
		ep->nodelay = val != 0;
		if (ep->nodelay)
			tcp_push(ep, true);
		break;
	case NS_TCP_CORK:
		ep->cork = val != 0;
		if (!ep->cork)
			tcp_push(ep, true);
		break;
	case NS_TCP_MAXSEG:
		if (val && (val < (int)TCP_MIN_MSS || val > 65535)) {
			err = -NS_EINVAL;
			break;
		}
		ep->user_mss = (uint16_t)val;
		break;
	case NS_TCP_KEEPIDLE:
		if (val < 1 || val > 32767) {
			err = -NS_EINVAL;
			break;
		}
		ep->keepidle = val;
		if (ep->keepalive)
			tcp_set_keepalive(ep);
		break;
	case NS_TCP_KEEPINTVL:
		if (val < 1 || val > 32767)
			err = -NS_EINVAL;
		else
			ep->keepintvl = val;
		break;
	case NS_TCP_KEEPCNT:
		if (val < 1 || val > 127)
			err = -NS_EINVAL;
		else
			ep->keepcnt = val;
		break;
	case NS_TCP_SYNCNT:
		if (val < 1 || val > 127)
			err = -NS_EINVAL;
		else
			ep->syn_retries = val;
		break;
	case NS_TCP_LINGER2:
		ep->linger2 = val < 0 ? -1 : (val > 120 ? 0 : val);
		break;
	case NS_TCP_USER_TIMEOUT:
		if (val < 0)
			err = -NS_EINVAL;
		else
			ep->user_timeout_ms = (uint32_t)val;
		break;
	case NS_TCP_QUICKACK:
		ep->quickack_opt = false;
		if (val) {
			ep->pingpong = false;
			if (ep->ack_pending && ep->state != TCP_CLOSE && ep->state != TCP_LISTEN)
				tcp_send_ack(ep);
			if (!ep->quickack)
				ep->quickack = 1;
		} else {
			ep->pingpong = true;
		}
		break;
	case NS_TCP_WINDOW_CLAMP:
		if (val < 0)
			err = -NS_EINVAL;
		else
			ep->window_clamp = val == 0 ? 0 : (uint32_t)NS_MAX(val, NS_SOCK_MIN_RCVBUF / 2);
		break;
	case NS_TCP_DEFER_ACCEPT:
		ep->defer_accept = secs_to_retrans(val);
		break;
	case NS_TCP_NOTSENT_LOWAT:
		ep->notsent_lowat = (uint32_t)val;      /* Linux stores any value */
		ns__sock_wake_locked(sk);
		break;
	case NS_TCP_INQ:
		if (val < 0 || val > 1)
			err = -NS_EINVAL;
		else
			ep->recv_inq = val;
		break;
	default:
		err = -NS_ENOPROTOOPT;
		break;
	}
	pthread_mutex_unlock(&sk->mu);
	return err;
}

static int put_int(void *v, socklen_t *len, int val)
{
	if ((int)*len < 0)
		return -NS_EINVAL;
	socklen_t n = *len < sizeof(int) ? *len : sizeof(int);
	memcpy(v, &val, n);
	*len = n;
	return 0;
}

static int tcp_getsockopt(struct ns_sock *sk, int level, int name, void *v, socklen_t *len)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	if (level == NS_IPPROTO_IPV6 && sk->domain == NS_AF_INET6 &&
	    (name == NS_IPV6_V6ONLY || name == NS_IPV6_UNICAST_HOPS || name == NS_IPV6_TCLASS)) {
		if ((int)*len < 0)
			return -NS_EINVAL;
		pthread_mutex_lock(&sk->mu);
		int one = name == NS_IPV6_V6ONLY ? sk->v6only
			: name == NS_IPV6_TCLASS ? ep->tclass
			: ep->hops < 0 ? 64 : ep->hops;         /* Linux reports the default hop limit */
		pthread_mutex_unlock(&sk->mu);
		socklen_t n = *len < sizeof(one) ? *len : sizeof(one);
		memcpy(v, &one, n);
		*len = n;
		return 0;
	}
	/* Linux: an AF_INET socket hands other levels to ip_getsockopt, which
	 * answers EOPNOTSUPP for a level it does not know */
	if (level == NS_IPPROTO_IPV6 && sk->domain == NS_AF_INET)
		return -NS_EOPNOTSUPP;
	if (level == NS_IPPROTO_IP && (name == NS_IP_TTL || name == NS_IP_TOS)) {
		pthread_mutex_lock(&sk->mu);
		int x = name == NS_IP_TOS ? ep->tos : ep->ttl < 0 ? 64 : ep->ttl;
		pthread_mutex_unlock(&sk->mu);
		return put_int(v, len, x);
	}
	if (level != NS_IPPROTO_TCP)
		return -NS_ENOPROTOOPT;
	int val, err = 0;
	pthread_mutex_lock(&sk->mu);
	switch (name) {
	case NS_TCP_INFO: {
		struct ns_tcp_info ti;
		fill_info(ep, &ti);
		pthread_mutex_unlock(&sk->mu);
		if ((int)*len < 0)
			return -NS_EINVAL;
		socklen_t n = *len < sizeof(ti) ? *len : sizeof(ti);
		memcpy(v, &ti, n);
		*len = n;
		return 0;
	}
	case NS_TCP_CONGESTION: {
		const char *nm = ep->cc.ops ? ep->cc.ops->name : "cubic";
		pthread_mutex_unlock(&sk->mu);
		if ((int)*len < 0)
			return -NS_EINVAL;
		char buf[NS_TCP_CC_NAME_MAX];
		memset(buf, 0, sizeof(buf));
		strncpy(buf, nm, sizeof(buf) - 1);
		socklen_t n = *len < sizeof(buf) ? *len : sizeof(buf);
		memcpy(v, buf, n);
		*len = n;
		return 0;
	}
	case NS_TCP_NODELAY: val = ep->nodelay; break;
	case NS_TCP_CORK: val = ep->cork; break;
	case NS_TCP_MAXSEG:
		val = (int)ep->mss_cache;
		if (ep->state == TCP_CLOSE || ep->state == TCP_LISTEN)
			val = ep->user_mss ? ep->user_mss : TCP_MSS_DEFAULT;
		break;
	case NS_TCP_KEEPIDLE: val = ep->keepidle ? ep->keepidle : TCP_KEEPIDLE_DEF; break;
	case NS_TCP_KEEPINTVL: val = ep->keepintvl ? ep->keepintvl : TCP_KEEPINTVL_DEF; break;
	case NS_TCP_KEEPCNT: val = ep->keepcnt ? ep->keepcnt : TCP_KEEPCNT_DEF; break;
	case NS_TCP_SYNCNT: val = ep->syn_retries ? ep->syn_retries : TCP_SYN_RETRIES; break;
	case NS_TCP_LINGER2: val = ep->linger2 ? ep->linger2 : (int)(TCP_FIN_TIMEOUT_NS / NS_NSEC_PER_SEC); break;
	case NS_TCP_USER_TIMEOUT: val = (int)ep->user_timeout_ms; break;
	case NS_TCP_QUICKACK: val = !ep->pingpong; break;
	case NS_TCP_WINDOW_CLAMP: val = (int)(ep->window_clamp ? ep->window_clamp : (uint32_t)sk->rcvbuf / 2); break;
	case NS_TCP_DEFER_ACCEPT: val = retrans_to_secs(ep->defer_accept); break;
	case NS_TCP_NOTSENT_LOWAT: val = (int)ep->notsent_lowat; break;
	case NS_TCP_INQ: val = ep->recv_inq; break;
	default:
		err = -NS_ENOPROTOOPT;
		break;
	}
	pthread_mutex_unlock(&sk->mu);
	if (err)
		return err;
	return put_int(v, len, val);
}

/* ---- poll / ioctl ------------------------------------------------------------------------------------ */

/* Linux __sk_stream_is_writeable(sk, wake): free space >= half of what is
 * queued, and fewer unsent bytes than TCP_NOTSENT_LOWAT (halved when waking
 * or polling: wake = 1, Linux __tcp_stream_memory_free). */
bool tcp_stream_writeable(struct tcp_ep *ep, int wake)
{
	uint32_t queued = ep->sndq.truesize;
	uint32_t sb = (uint32_t)ep->sk->sndbuf;
	if (!(sb > queued && sb - queued >= queued / 2))
		return false;
	if (!ep->notsent_lowat)
		return true;        /* net.ipv4.tcp_notsent_lowat: UINT_MAX */
	uint64_t unsent = (uint32_t)(ep->write_seq - ep->snd_nxt);
	return (unsent << wake) < ep->notsent_lowat;
}

/* Linux tcp_poll(). */
int tcp_poll_locked(struct ns_sock *sk)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	int mask = 0;
	if (ep->state == TCP_LISTEN)
		return ep->lst && ep->lst->acc_head ? (NS_POLLIN | NS_POLLRDNORM) : 0;
	if (ep->shut == (RCV_SHUT | SEND_SHUT) || ep->state == TCP_CLOSE)
		mask |= NS_POLLHUP;
	if (ep->shut & RCV_SHUT || ep->fin_rcvd)
		mask |= NS_POLLIN | NS_POLLRDNORM | NS_POLLRDHUP;
	if (ep->state != TCP_SYN_SENT && ep->state != TCP_SYN_RECV) {
		uint32_t target = sk->rcvlowat > 0 ? (uint32_t)sk->rcvlowat : 1;
		if (ep->rcvq_bytes >= target || (ep->rcvq_bytes && ep->fin_rcvd))
			mask |= NS_POLLIN | NS_POLLRDNORM;
		if (!(ep->shut & SEND_SHUT)) {
			if (tcp_stream_writeable(ep, 1))
				mask |= NS_POLLOUT | NS_POLLWRNORM;
		} else {
			mask |= NS_POLLOUT | NS_POLLWRNORM;
		}
		if (ep->urg_data >= 0 && !(ep->urg_data & 0x100))
			mask |= NS_POLLPRI;
	}
	return mask;
}

static int tcp_ioctl(struct ns_sock *sk, unsigned long req, void *arg)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	int val;
	pthread_mutex_lock(&sk->mu);
	if (ep->state == TCP_LISTEN && (req == NS_SIOCINQ || req == NS_SIOCOUTQ || req == 0x894B)) {
		pthread_mutex_unlock(&sk->mu);
		return -NS_EINVAL;
	}
	switch (req) {
	case NS_SIOCINQ:
		/* Linux tcp_inq: with urgent data pending, the bytes before the mark */
		if (ep->state == TCP_SYN_SENT || ep->state == TCP_SYN_RECV)
			val = 0;
		else if (!sk->oobinline && ep->urg_data >= 0 && ep->urg_pending &&
			 ns_seq_geq(ep->urg_seq, ep->copied_seq) && ns_seq_lt(ep->urg_seq, ep->rcv_nxt))
			val = (int)(ep->urg_seq - ep->copied_seq);
		else
			val = (int)ep->rcvq_bytes;
		break;
	case NS_SIOCATMARK:
		/* Linux: urgent data seen and the reader is at its mark */
		val = (ep->urg_pending || ep->urg_data >= 0) && ep->urg_seq == ep->copied_seq;
		break;
	case NS_SIOCOUTQ:
		val = (int)(ep->state == TCP_SYN_SENT ? 0 : ns_seq_diff(ep->snd_una, ep->write_seq) -
			    (ep->fin_queued && ns_seq_gt(ep->write_seq, ep->snd_una) ? 1 : 0));
		break;
	case 0x894B: /* SIOCOUTQNSD */
		val = (int)(ns_seq_diff(ep->snd_nxt, ep->write_seq) - (ep->fin_queued && !ep->fin_sent ? 1 : 0));
		break;
	default:
		pthread_mutex_unlock(&sk->mu);
		return -NS_ENOTTY;
	}
	pthread_mutex_unlock(&sk->mu);
	memcpy(arg, &val, sizeof(val));
	return 0;
}

const struct ns_proto_ops ns__tcp_ops = {
	.bind = tcp_bind,
	.connect = tcp_connect,
	.listen = tcp_listen,
	.accept = tcp_accept,
	.sendmsg = tcp_sendmsg,
	.recvmsg = tcp_recvmsg,
	.shutdown = tcp_shutdown,
	.close = tcp_close,
	.destroy = tcp_destroy,
	.getname = tcp_getname,
	.setsockopt = tcp_setsockopt,
	.getsockopt = tcp_getsockopt,
	.poll_locked = tcp_poll_locked,
	.ioctl = tcp_ioctl,
};
