/*
 * udp/udp_sock.c - the UDP socket operations (struct ns_proto_ops):
 * bind and connect with Linux's rules (AF_INET and dual-stack AF_INET6,
 * connect to AF_UNSPEC disconnects, autobind on connect), shutdown,
 * getsockname/getpeername, IPPROTO_IP / IPPROTO_IPV6 / SOL_UDP options,
 * readiness, FIONREAD/SIOCOUTQ, close and destroy.
 */
#include <stdlib.h>
#include "udp_internal.h"

#define NS_SIN_LEN 16
#define NS_SIN6_LEN 24
#define NS_SOL_UDP 17
#define NS_UDP_CORK 1
#define NS_IP_RECVTOS 13
#define NS_IPV6_RECVERR 25
#define NS_IPV6_MTU_DISCOVER 23
#define NS_IP_PMTUDISC_OMIT 5
#define NS_IPV6_RECVHOPLIMIT 51
#define NS_IPV6_RECVTCLASS 66
#define LOOPBACK_DEFAULT_TTL 64

static int family_of(const struct sockaddr *a)
{
	return ((const struct sockaddr_in *)(const void *)a)->sin_family;
}

int ns__udp_sock_init(struct ns_sock *sk)
{
	struct udp_sock *us = calloc(1, sizeof(*us));
	if (!us)
		return -NS_ENOMEM;
	us->sk = sk;
	udp_addr_any(&us->laddr, sk->domain);
	udp_addr_any(&us->saddr, sk->domain);
	us->ttl = -1;
	us->hops = -1;
	us->pmtudisc = NS_IP_PMTUDISC_WANT;
	us->mc_ttl = us->mc_hops = 1;
	us->mc_loop = us->mc_all = us->mc_loop6 = true;
	udp_addr_any(&us->mc_addr, NS_AF_INET);
	sk->proto = us;
	return 0;
}

/* ---- bind ------------------------------------------------------------------------ */

/* Linux inet_addr_valid_or_nonlocal: any, local, broadcast or multicast. */
static int check_local4(struct ns_stack *stk, const struct ns_addr *a, bool *bcast_or_mcast)
{
	*bcast_or_mcast = false;
	if (ns_addr_is_any(a) || ns__addr_local(stk, a, NULL))
		return 0;
	if (udp_addr_is_mcast(a) || ns_addr_v4_u32(a) == 0xffffffffu) {
		*bcast_or_mcast = true;
		return 0;
	}
	for (int i = 1; i <= ns__nic_count(stk); i++) {
		struct ns_nic *nic = ns__nic_get(stk, i);
		if (nic && ns__addr_is_bcast4(nic, a)) {
			*bcast_or_mcast = true;
			return 0;
		}
	}
	return -NS_EADDRNOTAVAIL;
}

/* Linux __inet6_bind address checks; a scoped address binds the socket to
 * the interface named by sin6_scope_id (kept even when the bind fails). */
static int check_local6(struct ns_sock *sk, const struct ns_addr *a, const struct sockaddr *sa,
			socklen_t len, bool *mcast)
{
	*mcast = udp_addr_is_mcast(a);
	if (ns_addr_is_any(a))
		return 0;
	if (udp_needs_scope(a)) {
		uint32_t scope = udp_sa_scope(sa, len);
		if (scope)
			sk->bound_nic = (int)scope;
		if (!sk->bound_nic)
			return -NS_EINVAL;      /* a link-local bind needs an interface */
		if (!ns__nic_get(sk->stk, sk->bound_nic))
			return -NS_ENODEV;
	}
	if (*mcast)
		return 0;
	uint32_t fl = 0;
	struct ns_nic *nic = ns__addr_local(sk->stk, a, &fl);
	if (!nic || (fl & (NS_IFA_TENTATIVE | NS_IFA_DUPLICATE)))
		return -NS_EADDRNOTAVAIL;
	if (udp_needs_scope(a) && nic->id != sk->bound_nic)
		return -NS_EADDRNOTAVAIL;
	return 0;
}

static int bind4(struct ns_sock *sk, const struct sockaddr *a, socklen_t len)
{
	struct udp_sock *us = udp_sk(sk);
	if (len < NS_SIN_LEN)
		return -NS_EINVAL;
	struct sockaddr_in sin;
	memcpy(&sin, a, sizeof(sin));
	struct ns_addr addr;
	ns_addr_v4(&addr, (const uint8_t *)&sin.sin_addr);
	if (family_of(a) != NS_AF_INET && !(family_of(a) == NS_AF_UNSPEC && ns_addr_is_any(&addr)))
		return -NS_EAFNOSUPPORT;
	bool special;
	int err = check_local4(sk->stk, &addr, &special);
	if (err)
		return err;
	uint16_t port = ns_load_be16(&sin.sin_port);
	pthread_mutex_lock(&sk->mu);
	if (us->lport || us->connected)
		err = -NS_EINVAL;
	else
		err = ns__udp_bind_locked(sk->stk, us, &addr, port);
	if (!err) {
		us->saddr = addr;
		if (special)
			udp_addr_any(&us->saddr, NS_AF_INET);
		us->addr_locked = !ns_addr_is_any(&addr);
		us->port_locked = port != 0;
	}
	pthread_mutex_unlock(&sk->mu);
	return err;
}

static int bind6(struct ns_sock *sk, const struct sockaddr *a, socklen_t len)
{
	struct udp_sock *us = udp_sk(sk);
	if (len < NS_SIN6_LEN)
		return -NS_EINVAL;
	if (family_of(a) != NS_AF_INET6)
		return -NS_EAFNOSUPPORT;
	struct ns_addr addr;
	uint16_t port;
	ns__sockaddr_parse(a, len, NS_AF_INET6, &addr, &port);
	int err = 0;
	bool special = false;
	pthread_mutex_lock(&sk->mu);
	bool saved_v6only = sk->v6only;
	if (us->lport || us->connected)
		err = -NS_EINVAL;
	else if (addr.family == NS_AF_INET)
		err = sk->v6only ? -NS_EINVAL : check_local4(sk->stk, &addr, &special);
	else
		err = check_local6(sk, &addr, a, len, &special);
	if (!err) {
		if (addr.family == NS_AF_INET6 && !ns_addr_is_any(&addr))
			sk->v6only = true;      /* Linux: a specific v6 address is v6-only */
		err = ns__udp_bind_locked(sk->stk, us, &addr, port);
		if (err)
			sk->v6only = saved_v6only;
	}
	if (!err) {
		us->saddr = addr;
		if (special)
			udp_addr_any(&us->saddr, addr.family);
		us->addr_locked = !ns_addr_is_any(&addr);
		us->port_locked = port != 0;
	}
	pthread_mutex_unlock(&sk->mu);
	return err;
}

static int udp_bind(struct ns_sock *sk, const struct sockaddr *a, socklen_t len)
{
	if (!a)
		return -NS_EINVAL;
	return sk->domain == NS_AF_INET ? bind4(sk, a, len) : bind6(sk, a, len);
}

/* ---- connect ----------------------------------------------------------------------- */

static int disconnect_locked(struct ns_sock *sk)
{
	struct udp_sock *us = udp_sk(sk);
	us->connected = false;
	udp_addr_any(&us->raddr, 0);
	us->rport = 0;
	sk->bound_nic = 0;
	if (!us->addr_locked) {
		udp_addr_any(&us->laddr, sk->domain);
		udp_addr_any(&us->saddr, sk->domain);
	}
	if (!us->port_locked)
		ns__udp_unhash_locked(sk->stk, us);
	else
		ns__udp_rehash_locked(sk->stk, us);
	ns__sock_wake_locked(sk);
	return 0;
}

static bool laddr_is_wild(const struct udp_sock *us)
{
	return ns_addr_is_any(&us->laddr);
}

/* dst normalized (v4 or v6); under sk->mu. */
static int connect_locked(struct ns_sock *sk, const struct ns_addr *dst, uint16_t port)
{
	struct udp_sock *us = udp_sk(sk);
	if (dst->family == NS_AF_INET6 && us->laddr.family == NS_AF_INET)
		return -NS_ENETUNREACH;
	if (dst->family == NS_AF_INET && us->laddr.family == NS_AF_INET6 && !laddr_is_wild(us))
		return -NS_ENETUNREACH;
	struct ns_route_result rt;
	int err = ns__udp_route(sk->stk, us, dst, sk->bound_nic, &rt);
	if (err < 0)
		return err;
	if (dst->family == NS_AF_INET && ns__addr_is_bcast4(rt.nic, dst) && !sk->broadcast)
		return -NS_EACCES;
	if (ns_addr_is_any(&us->saddr) || us->saddr.family != dst->family)
		us->saddr = rt.src;
	if (laddr_is_wild(us))
		us->laddr = rt.src;
	us->raddr = *dst;
	us->rport = port;
	us->connected = true;
	ns__udp_rehash_locked(sk->stk, us);
	ns__sock_wake_locked(sk);
	return 0;
}

static int parse_connect(struct ns_sock *sk, const struct sockaddr *a, socklen_t len,
			 struct ns_addr *dst, uint16_t *port)
{
	int fam = family_of(a);
	if (sk->domain == NS_AF_INET)
		return ns__sockaddr_parse(a, len, NS_AF_INET, dst, port);
	if (fam == NS_AF_INET) {
		if (sk->v6only)
			return -NS_EAFNOSUPPORT;
		return ns__sockaddr_parse(a, len, NS_AF_INET, dst, port);
	}
	int err = ns__sockaddr_parse(a, len, NS_AF_INET6, dst, port);
	if (err == 0 && dst->family == NS_AF_INET && sk->v6only)
		return -NS_ENETUNREACH;
	if (err == 0 && udp_needs_scope(dst)) {
		/* Linux: the scope id binds the socket; no interface is EINVAL */
		uint32_t scope = udp_sa_scope(a, len);
		if (scope && sk->bound_nic && (int)scope != sk->bound_nic)
			return -NS_EINVAL;
		if (scope)
			sk->bound_nic = (int)scope;
		if (!sk->bound_nic)
			return -NS_EINVAL;
	}
	return err;
}

static int udp_connect(struct ns_sock *sk, const struct sockaddr *a, socklen_t len)
{
	struct udp_sock *us = udp_sk(sk);
	if (!a || len < sizeof(a->sa_family))
		return -NS_EINVAL;
	pthread_mutex_lock(&sk->mu);
	int err;
	if (family_of(a) == NS_AF_UNSPEC) {
		err = disconnect_locked(sk);
	} else if (!us->lport && ns__udp_bind_locked(sk->stk, us, &us->laddr, 0) < 0) {
		err = -NS_EAGAIN;               /* Linux inet_dgram_connect autobind */
	} else {
		struct ns_addr dst;
		uint16_t port;
		err = parse_connect(sk, a, len, &dst, &port);
		if (!err)
			err = connect_locked(sk, &dst, port);
	}
	pthread_mutex_unlock(&sk->mu);
	return err;
}

/* ---- shutdown, names ------------------------------------------------------------------ */

static int udp_shutdown(struct ns_sock *sk, int how)
{
	struct udp_sock *us = udp_sk(sk);
	pthread_mutex_lock(&sk->mu);
	/* Linux inet_shutdown: the flags are set even when it says ENOTCONN. */
	us->shut |= (uint8_t)(how + 1);
	int err = us->connected ? 0 : -NS_ENOTCONN;
	ns__sock_wake_locked(sk);
	pthread_mutex_unlock(&sk->mu);
	return err;
}

static int udp_getname(struct ns_sock *sk, struct sockaddr *a, socklen_t *len, bool peer)
{
	struct udp_sock *us = udp_sk(sk);
	int err = 0;
	pthread_mutex_lock(&sk->mu);
	if (peer) {
		if (!us->connected || !us->rport)
			err = -NS_ENOTCONN;
		else {
			*len = ns__sockaddr_fill(a, *len, sk->domain, &us->raddr, us->rport);
			udp_sa_set_scope(a, *len, &us->raddr, sk->bound_nic);
		}
	} else {
		const struct ns_addr *l = ns_addr_is_any(&us->laddr) ? &us->saddr : &us->laddr;
		*len = ns__sockaddr_fill(a, *len, sk->domain, l, us->lport);
		udp_sa_set_scope(a, *len, l, sk->bound_nic);
	}
	pthread_mutex_unlock(&sk->mu);
	return err;
}

/* ---- options ------------------------------------------------------------------------ */

/* Linux do_ip_setsockopt reads an int, or one byte, or nothing (= 0). */
static int ip_val(const void *v, socklen_t len)
{
	int x = 0;
	if (len >= sizeof(int))
		memcpy(&x, v, sizeof(x));
	else if (len >= 1)
		x = *(const unsigned char *)v;
	return x;
}

static int set_ip(struct ns_sock *sk, int name, const void *v, socklen_t len)
{
	struct udp_sock *us = udp_sk(sk);
	int val = ip_val(v, len);
	switch (name) {
	case NS_IP_TTL:
		if (len < 1 || (val != -1 && (val < 1 || val > 255)))
			return -NS_EINVAL;
		us->ttl = val;
		return 0;
	case NS_IP_TOS: us->tos = (uint8_t)val; return 0;
	case NS_IP_PKTINFO: us->pktinfo = val != 0; return 0;
	case NS_IP_RECVTTL: us->recvttl = val != 0; return 0;
	case NS_IP_RECVTOS: us->recvtos = val != 0; return 0;
	case NS_IP_RECVERR:
		us->recverr = val != 0;
		if (!us->recverr)
			ns__errq_purge_locked(us->sk);
		return 0;
	case NS_IP_MTU_DISCOVER:
		if (val < NS_IP_PMTUDISC_DONT || val > NS_IP_PMTUDISC_OMIT)
			return -NS_EINVAL;
		us->pmtudisc = (uint8_t)val;
		return 0;
	case NS_IP_HDRINCL:
		return -NS_ENOPROTOOPT;
	default:
		return ns__udp_set_ip_mc(sk, name, v, len, val);
	}
}

static int get_ip(struct ns_sock *sk, int name, int *val)
{
	struct udp_sock *us = udp_sk(sk);
	switch (name) {
	case NS_IP_TTL: *val = us->ttl < 0 ? LOOPBACK_DEFAULT_TTL : us->ttl; return 0;
	case NS_IP_TOS: *val = us->tos; return 0;
	case NS_IP_PKTINFO: *val = us->pktinfo; return 0;
	case NS_IP_RECVTTL: *val = us->recvttl; return 0;
	case NS_IP_RECVTOS: *val = us->recvtos; return 0;
	case NS_IP_RECVERR: *val = us->recverr; return 0;
	case NS_IP_MTU_DISCOVER: *val = us->pmtudisc; return 0;
	case NS_IP_MTU:
		if (!us->connected)
			return -NS_ENOTCONN;
		*val = (int)ns__ip_path_mtu(sk->stk, &us->raddr, sk->bound_nic);
		return 0;
	default: {
		bool is_addr;
		return ns__udp_get_ip_mc(sk, name, val, &is_addr);
	}
	}
}

static int set_ipv6(struct ns_sock *sk, int name, const void *v, socklen_t len)
{
	struct udp_sock *us = udp_sk(sk);
	int val = 0;
	if (len >= sizeof(int))
		memcpy(&val, v, sizeof(val));
	int mc = ns__udp_set_ipv6_mc(sk, name, v, val, len);
	if (mc != -NS_ENOPROTOOPT)
		return mc;
	bool known = name == NS_IPV6_V6ONLY || name == NS_IPV6_RECVPKTINFO ||
		     name == NS_IPV6_RECVHOPLIMIT || name == NS_IPV6_RECVTCLASS ||
		     name == NS_IPV6_UNICAST_HOPS || name == NS_IPV6_TCLASS ||
		     name == NS_IPV6_RECVERR || name == NS_IPV6_MTU_DISCOVER;
	if (!known)
		return -NS_ENOPROTOOPT;
	if (len < sizeof(int))
		return -NS_EINVAL;
	switch (name) {
	case NS_IPV6_V6ONLY:
		if (us->lport)
			return -NS_EINVAL;
		sk->v6only = val != 0;
		return 0;
	case NS_IPV6_RECVPKTINFO: us->recvpktinfo6 = val != 0; return 0;
	case NS_IPV6_RECVHOPLIMIT: us->recvhoplimit6 = val != 0; return 0;
	case NS_IPV6_RECVTCLASS: us->recvtclass6 = val != 0; return 0;
	case NS_IPV6_RECVERR:
		us->recverr = val != 0;
		if (!us->recverr)
			ns__errq_purge_locked(us->sk);
		return 0;
	case NS_IPV6_UNICAST_HOPS:
		if (val > 255 || val < -1)
			return -NS_EINVAL;
		us->hops = val;
		return 0;
	case NS_IPV6_TCLASS:
		if (val < -1 || val > 0xff)
			return -NS_EINVAL;
		us->tclass = (uint8_t)(val < 0 ? 0 : val);
		return 0;
	default:                                /* IPV6_MTU_DISCOVER */
		if (val < NS_IP_PMTUDISC_DONT || val > NS_IP_PMTUDISC_OMIT)
			return -NS_EINVAL;
		us->pmtudisc = (uint8_t)val;
		return 0;
	}
}

static int get_ipv6(struct ns_sock *sk, int name, int *val)
{
	struct udp_sock *us = udp_sk(sk);
	switch (name) {
	case NS_IPV6_V6ONLY: *val = sk->v6only; return 0;
	case NS_IPV6_RECVPKTINFO: *val = us->recvpktinfo6; return 0;
	case NS_IPV6_RECVHOPLIMIT: *val = us->recvhoplimit6; return 0;
	case NS_IPV6_RECVTCLASS: *val = us->recvtclass6; return 0;
	case NS_IPV6_RECVERR: *val = us->recverr; return 0;
	case NS_IPV6_UNICAST_HOPS: *val = us->hops < 0 ? LOOPBACK_DEFAULT_TTL : us->hops; return 0;
	case NS_IPV6_TCLASS: *val = us->tclass; return 0;
	case NS_IPV6_MTU_DISCOVER: *val = us->pmtudisc; return 0;
	default: return ns__udp_get_ipv6_mc(sk, name, val);
	}
}

static int udp_setsockopt(struct ns_sock *sk, int level, int name, const void *v, socklen_t len)
{
	int err;
	if (level == NS_SOL_SOCKET) {
		if (name != NS_SO_BINDTODEVICE)
			return -NS_ENOPROTOOPT;
		pthread_mutex_lock(&sk->mu);    /* the device is part of the demux key */
		ns__udp_rehash_locked(sk->stk, udp_sk(sk));
		pthread_mutex_unlock(&sk->mu);
		return 0;
	}
	if (level == NS_SOL_UDP) {
		if (len < sizeof(int))
			return -NS_EINVAL;
		if (name != NS_UDP_CORK)
			return -NS_ENOPROTOOPT;
		int on;
		memcpy(&on, v, sizeof(on));
		if (!on) {
			ns__udp_push_pending(sk);   /* Linux ignores the send result */
			return 0;
		}
		pthread_mutex_lock(&sk->mu);
		udp_sk(sk)->cork_flag = true;
		pthread_mutex_unlock(&sk->mu);
		return 0;
	}
	if (level != NS_IPPROTO_IP && !(level == NS_IPPROTO_IPV6 && sk->domain == NS_AF_INET6))
		return -NS_ENOPROTOOPT;
	pthread_mutex_lock(&sk->mu);
	err = level == NS_IPPROTO_IP ? set_ip(sk, name, v, len) : set_ipv6(sk, name, v, len);
	pthread_mutex_unlock(&sk->mu);
	return err;
}

static int udp_getsockopt(struct ns_sock *sk, int level, int name, void *v, socklen_t *len)
{
	if (level == NS_SOL_UDP) {
		if (name != NS_UDP_CORK)
			return -NS_ENOPROTOOPT;
		pthread_mutex_lock(&sk->mu);
		int on = udp_sk(sk)->cork_flag;
		pthread_mutex_unlock(&sk->mu);
		socklen_t n = NS_MIN(*len, (socklen_t)sizeof(int));
		memcpy(v, &on, n);
		*len = n;
		return 0;
	}
	/* Linux: ip_getsockopt answers EOPNOTSUPP for foreign levels,
	 * ipv6_getsockopt ENOPROTOOPT. */
	if (level != NS_IPPROTO_IP && !(level == NS_IPPROTO_IPV6 && sk->domain == NS_AF_INET6))
		return sk->domain == NS_AF_INET ? -NS_EOPNOTSUPP : -NS_ENOPROTOOPT;
	int val = 0;
	pthread_mutex_lock(&sk->mu);
	int err = level == NS_IPPROTO_IP ? get_ip(sk, name, &val) : get_ipv6(sk, name, &val);
	pthread_mutex_unlock(&sk->mu);
	if (err)
		return err;
	if (level == NS_IPPROTO_IP && name == 32 /* IP_MULTICAST_IF: an in_addr */) {
		socklen_t n = NS_MIN(*len, (socklen_t)4);
		memcpy(v, &val, n);
		*len = n;
		return 0;
	}
	if (level == NS_IPPROTO_IP && *len < sizeof(int) && *len > 0 && val >= 0 && val <= 255) {
		unsigned char uc = (unsigned char)val;   /* Linux do_ip_getsockopt */
		memcpy(v, &uc, 1);
		*len = 1;
		return 0;
	}
	socklen_t n = NS_MIN(*len, (socklen_t)sizeof(int));
	memcpy(v, &val, n);
	*len = n;
	return 0;
}

/* ---- readiness, ioctl, lifetime ----------------------------------------------------------- */

static int udp_poll_locked(struct ns_sock *sk)
{
	struct udp_sock *us = udp_sk(sk);
	int m = ns__udp_writeable(sk) ? NS_POLLOUT | NS_POLLWRNORM : 0;   /* Linux datagram_poll */
	if (us->shut & 1)
		m |= NS_POLLRDHUP | NS_POLLIN | NS_POLLRDNORM;
	if (us->shut == 3)
		m |= NS_POLLHUP;
	if (us->rq_head)
		m |= NS_POLLIN | NS_POLLRDNORM;
	return m;                       /* POLLERR for the error queue: socket_poll.c */
}

static int udp_ioctl(struct ns_sock *sk, unsigned long req, void *arg)
{
	int v;
	if (req == NS_FIONREAD) {
		pthread_mutex_lock(&sk->mu);
		v = ns__udp_next_len_locked(udp_sk(sk));
		pthread_mutex_unlock(&sk->mu);
	} else if (req == NS_SIOCOUTQ) {
		/* Linux: sk_wmem_alloc (datagrams not yet freed by the link, and
		 * the corked one) */
		pthread_mutex_lock(&sk->mu);
		v = (int)(udp_sk(sk)->cork_len + atomic_load(&udp_sk(sk)->wmem_alloc));
		pthread_mutex_unlock(&sk->mu);
	} else {
		return -NS_ENOTTY;
	}
	memcpy(arg, &v, sizeof(v));
	return 0;
}

static void udp_close(struct ns_sock *sk)
{
	struct udp_sock *us = udp_sk(sk);
	pthread_mutex_lock(&sk->mu);
	us->dead = true;
	if (us->lport)
		ns__udp_unhash_locked(sk->stk, us);
	ns__udp_purge_locked(us);
	ns__errq_purge_locked(us->sk);
	ns__udp_flush_pending_locked(us);
	pthread_mutex_unlock(&sk->mu);
}

static void us_free_rcu(struct rcu_head *h)
{
	free(caa_container_of(h, struct udp_sock, rcu));
}

static void udp_destroy(struct ns_sock *sk)
{
	struct udp_sock *us = udp_sk(sk);
	if (!us)
		return;
	pthread_mutex_lock(&sk->mu);
	if (us->lport)
		ns__udp_unhash_locked(sk->stk, us);
	ns__udp_purge_locked(us);
	ns__errq_purge_locked(us->sk);
	ns__udp_flush_pending_locked(us);
	ns__udp_mc6_leave_all_locked(sk);
	pthread_mutex_unlock(&sk->mu);
	sk->proto = NULL;
	ns_call_rcu(&us->rcu, us_free_rcu);
}

const struct ns_proto_ops ns__udp_ops = {
	.bind = udp_bind,
	.connect = udp_connect,
	.sendmsg = ns__udp_sendmsg,
	.recvmsg = ns__udp_recvmsg,
	.shutdown = udp_shutdown,
	.close = udp_close,
	.destroy = udp_destroy,
	.getname = udp_getname,
	.setsockopt = udp_setsockopt,
	.getsockopt = udp_getsockopt,
	.poll_locked = udp_poll_locked,
	.ioctl = udp_ioctl,
};
