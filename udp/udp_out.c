/*
 * udp/udp_out.c - the UDP send side: destination checks in Linux's order
 * (autobind, size, MSG_OOB, address, route, SO_BROADCAST, pending error,
 * SHUT_WR), header and checksum (RFC 768; a computed zero is sent as
 * 0xffff), and the hand-off to ns__ip_output.
 */
#include <stdlib.h>
#include "udp_internal.h"

#define NS_SIN_LEN 16
#define NS_SIN6_LEN 24

int ns__udp_route(struct ns_stack *stk, struct udp_sock *us, const struct ns_addr *dst, int oif,
		  struct ns_route_result *rt)
{
	int err = ns__route_lookup(stk, dst, oif, rt);
	if (err < 0)
		return err;
	if (rt->src.family != dst->family && ns__nic_src_select(rt->nic, dst, &rt->src) < 0)
		return -NS_EADDRNOTAVAIL;
	return 0;
}

static int sa_family(const struct msghdr *m)
{
	return ((const struct sockaddr_in *)m->msg_name)->sin_family;
}

/* The destination of a send on an AF_INET6 socket (udpv6_sendmsg rules);
 * *use_name false: send to the connected peer. */
static int dest6(struct udp_sock *us, const struct msghdr *m, struct ns_addr *dst, uint16_t *port,
		 bool *use_name, int *oif)
{
	if (m->msg_namelen < 2)
		return -NS_EINVAL;
	int fam = sa_family(m);
	if (fam == NS_AF_UNSPEC) {
		*use_name = false;
		return 0;
	}
	if (fam == NS_AF_INET) {
		if (us->sk->v6only)
			return -NS_ENETUNREACH;
		return ns__sockaddr_parse(m->msg_name, m->msg_namelen, NS_AF_INET, dst, port);
	}
	if (fam != NS_AF_INET6)
		return -NS_EINVAL;
	if (m->msg_namelen < NS_SIN6_LEN)
		return -NS_EINVAL;
	int err = ns__sockaddr_parse(m->msg_name, m->msg_namelen, NS_AF_INET6, dst, port);
	if (err == 0 && dst->family == NS_AF_INET && us->sk->v6only)
		return -NS_ENETUNREACH;
	if (err == 0 && udp_needs_scope(dst))
		*oif = (int)udp_sa_scope(m->msg_name, m->msg_namelen);   /* sin6_scope_id */
	return err;
}

static int dest4(const struct msghdr *m, struct ns_addr *dst, uint16_t *port)
{
	if (m->msg_namelen < NS_SIN_LEN)
		return -NS_EINVAL;
	int fam = sa_family(m);
	if (fam != NS_AF_INET && fam != NS_AF_UNSPEC)
		return -NS_EAFNOSUPPORT;
	struct sockaddr_in sin;
	memcpy(&sin, m->msg_name, sizeof(sin));
	ns_addr_v4(dst, (const uint8_t *)&sin.sin_addr);
	*port = ns_load_be16(&sin.sin_port);
	return 0;
}

static size_t iov_total(const struct msghdr *m, bool *overflow)
{
	size_t t = 0;
	*overflow = false;
	for (size_t i = 0; i < (size_t)m->msg_iovlen; i++) {
		if (m->msg_iov[i].iov_len > SIZE_MAX / 2 - t)
			*overflow = true;
		else
			t += m->msg_iov[i].iov_len;
	}
	return t;
}

/* Everything decided under sk->mu; returns 0 or -errno. */
static int plan_locked(struct ns_sock *sk, const struct msghdr *m, int flags, size_t total,
		       struct send_plan *p)
{
	struct udp_sock *us = udp_sk(sk);
	struct ns_stack *stk = sk->stk;
	if (!us->lport && ns__udp_bind_locked(stk, us, &us->laddr, 0) < 0)
		return -NS_EAGAIN;              /* Linux inet_send_prepare autobind */
	bool v6sock = sk->domain == NS_AF_INET6;
	/* udp_sendmsg checks size and MSG_OOB first; udpv6_sendmsg resolves the
	 * destination first and hands v4 ones to udp_sendmsg (MSG_OOB is
	 * ignored on the IPv6 path). */
	if (!v6sock && total > 0xffff)
		return -NS_EMSGSIZE;
	if (!v6sock && (flags & NS_MSG_OOB))
		return -NS_EOPNOTSUPP;
	struct ns_addr dst;
	uint16_t dport = 0;
	int scope_oif = 0;
	bool use_name = m->msg_name != NULL;
	if (use_name) {
		int err = v6sock ? dest6(us, m, &dst, &dport, &use_name, &scope_oif) : dest4(m, &dst, &dport);
		if (err < 0)
			return err;
		if (use_name && dport == 0)
			return -NS_EINVAL;
	}
	if (!use_name) {
		if (!us->connected)
			return -NS_EDESTADDRREQ;
		dst = us->raddr;
		dport = us->rport;
	}
	if (v6sock && dst.family == NS_AF_INET && total > 0xffff)
		return -NS_EMSGSIZE;
	if (v6sock && dst.family == NS_AF_INET && (flags & NS_MSG_OOB))
		return -NS_EOPNOTSUPP;
	if (total > (dst.family == NS_AF_INET ? UDP_MAX_PAYLOAD4 : UDP_MAX_PAYLOAD6))
		return -NS_EMSGSIZE;
	if (dst.family == NS_AF_INET6 && us->laddr.family == NS_AF_INET)
		return -NS_ENETUNREACH;         /* bound to a v4-mapped address */
	struct udp_txopt o = { .ttl = -1, .tos = -1, .oif = scope_oif };
	int err = ns__udp_cmsg_send(sk, m, &dst, &o);
	if (err < 0)
		return err;
	if (!v6sock && sk->bound_nic && o.oif && o.oif != sk->bound_nic)
		return -NS_EINVAL;
	bool mcast = udp_addr_is_mcast(&dst);
	int oif = o.oif ? o.oif : sk->bound_nic;
	if (mcast && !o.oif)                    /* Linux: the multicast interface first */
		oif = dst.family == NS_AF_INET ? (us->mc_if ? us->mc_if : oif)
					       : (us->mc_if6 ? us->mc_if6 : oif);
	if (oif && !ns__nic_get(stk, oif))
		return -NS_ENODEV;
	struct ns_route_result rt;
	err = o.src_bad ? -NS_ENETUNREACH : ns__udp_route(stk, us, &dst, oif, &rt);
	if (err < 0)
		return err;
	bool bcast = dst.family == NS_AF_INET && ns__addr_is_bcast4(rt.nic, &dst);
	if (bcast && !sk->broadcast)
		return -NS_EACCES;
	err = ns__sock_take_err_locked(sk);
	if (err)
		return -err;
	if (us->shut & 2)
		return -NS_EPIPE;
	memset(p, 0, sizeof(*p));
	bool own_src = us->saddr.family == dst.family && !ns_addr_is_any(&us->saddr);
	p->tx.src = o.has_src ? o.src : own_src ? us->saddr : rt.src;
	if (mcast && !o.has_src && !own_src && dst.family == NS_AF_INET && !ns_addr_is_any(&us->mc_addr))
		p->tx.src = us->mc_addr;
	p->tx.dst = dst;
	p->tx.proto = NS_IPPROTO_UDP;
	p->tx.ttl = (int16_t)(o.ttl >= 0 ? o.ttl : dst.family == NS_AF_INET ? us->ttl : us->hops);
	if (mcast && o.ttl < 0)                 /* multicast TTL / hop limit, default 1 */
		p->tx.ttl = dst.family == NS_AF_INET ? us->mc_ttl : us->mc_hops;
	p->tx.tos = (uint8_t)(o.tos >= 0 ? o.tos : dst.family == NS_AF_INET ? us->tos : us->tclass);
	p->tx.pmtudisc = us->pmtudisc;
	p->tx.oif = oif ? oif : (bcast || udp_addr_is_mcast(&dst) ? rt.nic->id : 0);
	p->tx.is_bcast_ok = sk->broadcast;
	/* IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP 0: no local copy (Linux sk_mc_loop) */
	p->tx.mc_noloop = mcast && !(dst.family == NS_AF_INET ? us->mc_loop : us->mc_loop6);
	p->sport = us->lport;
	p->dport = dport;
	p->recverr = us->recverr;
	return 0;
}

static void copy_from_iov(const struct msghdr *m, uint8_t *dst, size_t total)
{
	size_t done = 0;
	for (size_t i = 0; i < (size_t)m->msg_iovlen && done < total; i++) {
		size_t n = NS_MIN(m->msg_iov[i].iov_len, total - done);
		if (n)
			memcpy(dst + done, m->msg_iov[i].iov_base, n);
		done += n;
	}
}

/* ---- send buffer: each datagram is charged to its socket until the link
 * (or whoever holds it last) frees it; the packet holds a socket reference
 * meanwhile.  Linux sock_alloc_send_skb: a datagram may be allocated while
 * less than SO_SNDBUF is in flight, else EAGAIN (a blocking caller sleeps
 * until half of it has drained, sk_write_space). */

static uint32_t sndbuf_of(struct ns_sock *sk)
{
	int b = __atomic_load_n(&sk->sndbuf, __ATOMIC_RELAXED);
	return b > 0 ? (uint32_t)b : 0;
}

static void udp_wfree(struct ns_pkt *pkt)
{
	struct ns_sock *sk = pkt->wowner;
	struct udp_sock *us = udp_sk(sk);
	uint32_t left = atomic_fetch_sub(&us->wmem_alloc, pkt->truesize) - pkt->truesize;
	if ((uint64_t)left * 2 <= sndbuf_of(sk) && atomic_exchange(&us->nospace, false)) {
		pthread_mutex_lock(&sk->mu);
		ns__sock_wake_locked(sk);
		pthread_mutex_unlock(&sk->mu);
	}
	ns__sock_put(sk);
}

bool ns__udp_writeable(struct ns_sock *sk)
{
	struct udp_sock *us = udp_sk(sk);
	if ((uint64_t)atomic_load(&us->wmem_alloc) * 2 < sndbuf_of(sk))
		return true;
	atomic_store(&us->nospace, true);
	return false;
}

/* 0 if a datagram may be allocated now, else -EAGAIN (socket marked). */
static int wmem_room(struct ns_sock *sk)
{
	struct udp_sock *us = udp_sk(sk);
	if (atomic_load(&us->wmem_alloc) < sndbuf_of(sk))
		return 0;
	atomic_store(&us->nospace, true);
	/* a free between the check and the mark saw no mark: look again */
	return atomic_load(&us->wmem_alloc) < sndbuf_of(sk) ? 0 : -NS_EAGAIN;
}

static void wmem_charge(struct ns_sock *sk, struct ns_pkt *pkt)
{
	ns__sock_get(sk);
	atomic_fetch_add(&udp_sk(sk)->wmem_alloc, pkt->truesize);
	pkt->wowner = sk;
	pkt->destructor = udp_wfree;
}

/* Builds and sends one datagram: payload from m (when not NULL) or buf. */
static int xmit(struct ns_sock *sk, const struct send_plan *p, const struct msghdr *m,
		const uint8_t *buf, size_t total, bool check_room)
{
	struct ns_stack *stk = sk->stk;
	bool v6 = p->tx.dst.family == NS_AF_INET6;
	uint32_t ulen = (uint32_t)(UDP_HLEN + total);
	int room = check_room ? wmem_room(sk) : 0;
	if (room < 0)
		return room;
	struct ns_pkt *pkt = ns_pkt_alloc(ns_stack_pool(stk), NS_PKT_TX_HEADROOM, ulen);
	if (!pkt) {
		ns__stat_inc(stk, v6 ? NS_STAT_Udp6SndbufErrors : NS_STAT_UdpSndbufErrors);
		return -NS_ENOBUFS;
	}
	wmem_charge(sk, pkt);
	uint8_t *uh = ns_pkt_data(pkt);
	ns_store_be16(uh, p->sport);
	ns_store_be16(uh + 2, p->dport);
	ns_store_be16(uh + 4, (uint16_t)ulen);
	ns_store_be16(uh + 6, 0);
	if (m)
		copy_from_iov(m, uh + UDP_HLEN, total);
	else if (total)
		memcpy(uh + UDP_HLEN, buf, total);
	uint32_t sum = ns_csum_pseudo(&p->tx.src, &p->tx.dst, NS_IPPROTO_UDP, ulen);
	uint16_t c = ns_csum_fold(ns_csum_partial(uh, ulen, sum));
	ns_store_be16(uh + 6, c ? c : 0xffff);
	pkt->l4 = pkt->data;
	pkt->csum = NS_CSUM_NONE;
	int err = ns__ip_output(stk, pkt, &p->tx);
	if (err == -NS_ENOBUFS && !p->recverr) {
		ns__stat_inc(stk, v6 ? NS_STAT_Udp6SndbufErrors : NS_STAT_UdpSndbufErrors);
		err = 0;                        /* Linux: dropped silently without IP_RECVERR */
	} else if (err == 0) {
		ns__stat_inc(stk, v6 ? NS_STAT_Udp6OutDatagrams : NS_STAT_UdpOutDatagrams);
	}
	return err;
}

void ns__udp_flush_pending_locked(struct udp_sock *us)
{
	free(us->cork_buf);
	us->cork_buf = NULL;
	us->cork_len = 0;
	us->pending = false;
}

/* Appends to the corked datagram; under sk->mu.  -EMSGSIZE drops it (Linux). */
static int cork_append(struct udp_sock *us, const struct msghdr *m, size_t total)
{
	size_t max = us->cork_plan.tx.dst.family == NS_AF_INET ? UDP_MAX_PAYLOAD4 : UDP_MAX_PAYLOAD6;
	if (total > max - us->cork_len) {
		ns__udp_flush_pending_locked(us);
		return -NS_EMSGSIZE;
	}
	uint8_t *nb = realloc(us->cork_buf, us->cork_len + total + 1);
	if (!nb)
		return -NS_ENOBUFS;
	us->cork_buf = nb;
	copy_from_iov(m, nb + us->cork_len, total);
	us->cork_len += total;
	return 0;
}

static int send_taken(struct ns_sock *sk, struct send_plan *p, uint8_t *buf, size_t len)
{
	int err = xmit(sk, p, NULL, buf, len, false);   /* accepted already */
	free(buf);
	return err;
}

int ns__udp_push_pending(struct ns_sock *sk)
{
	struct udp_sock *us = udp_sk(sk);
	pthread_mutex_lock(&sk->mu);
	us->cork_flag = false;
	if (!us->pending) {
		pthread_mutex_unlock(&sk->mu);
		return 0;
	}
	struct send_plan p = us->cork_plan;
	uint8_t *buf = us->cork_buf;
	size_t len = us->cork_len;
	us->cork_buf = NULL;
	us->cork_len = 0;
	us->pending = false;
	pthread_mutex_unlock(&sk->mu);
	return send_taken(sk, &p, buf, len);
}

/* The datagram left (the data was copied: SO_EE_CODE_ZEROCOPY_COPIED) or the
 * send failed (Linux msg_zerocopy_put_abort: the id is not used). */
static void zc_done(struct ns_sock *sk, bool sent)
{
	pthread_mutex_lock(&sk->mu);
	if (sent)
		ns__errq_zc_complete_locked(sk, sk->zckey++, 1, true);
	else
		sk->omem -= NS_MIN(sk->omem, NS_ERRQ_ZC_OMEM);
	pthread_mutex_unlock(&sk->mu);
}

ssize_t ns__udp_sendmsg(struct ns_sock *sk, const struct msghdr *m, int flags)
{
	struct udp_sock *us = udp_sk(sk);
	bool overflow;
	size_t total = iov_total(m, &overflow);
	if (overflow)
		total = SIZE_MAX / 2;
	struct send_plan p;
	pthread_mutex_lock(&sk->mu);
	bool corkreq = us->cork_flag || (flags & NS_MSG_MORE);
	if (us->pending) {
		/* Linux: later pieces join the pending datagram, their address ignored */
		int err = cork_append(us, m, total);
		if (err || corkreq) {
			pthread_mutex_unlock(&sk->mu);
			return err ? err : (ssize_t)total;
		}
		p = us->cork_plan;
		uint8_t *buf = us->cork_buf;
		size_t len = us->cork_len;
		us->cork_buf = NULL;
		us->cork_len = 0;
		us->pending = false;
		pthread_mutex_unlock(&sk->mu);
		err = send_taken(sk, &p, buf, len);
		return err < 0 ? err : (ssize_t)total;
	}
	int err = plan_locked(sk, m, flags, total, &p);
	if (err)
		ns__sock_wake_locked(sk);       /* a taken error clears POLLERR */
	if (!err && corkreq) {
		us->cork_plan = p;
		us->cork_len = 0;
		us->pending = true;
		err = cork_append(us, m, total);
		if (err)
			ns__udp_flush_pending_locked(us);
		pthread_mutex_unlock(&sk->mu);
		return err ? err : (ssize_t)total;
	}
	/* MSG_ZEROCOPY (SO_ZEROCOPY): a notification per datagram, option memory
	 * first (Linux msg_zerocopy_alloc in __ip_append_data: ENOBUFS) */
	bool zc = !err && (flags & NS_MSG_ZEROCOPY) && sk->zerocopy;   /* length counts the UDP header */
	if (zc && !ns__errq_zc_charge_locked(sk))
		err = -NS_ENOBUFS;
	pthread_mutex_unlock(&sk->mu);
	if (err)
		return err;
	err = xmit(sk, &p, m, NULL, total, true);
	if (zc)
		zc_done(sk, err >= 0);
	return err < 0 ? err : (ssize_t)total;
}
