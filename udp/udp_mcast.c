/*
 * udp/udp_mcast.c - multicast socket options with Linux's rules:
 * IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP (struct ip_mreq or ip_mreqn;
 * EINVAL for a non-multicast group, ENODEV without an interface,
 * EADDRINUSE twice, ENOBUFS past 20, EADDRNOTAVAIL when not joined),
 * IP_MULTICAST_IF/TTL/LOOP/ALL and IPV6_MULTICAST_IF/HOPS/LOOP.
 *
 * IPv4 memberships are bookkeeping: the IPv4 layer accepts every multicast
 * datagram and delivers it to the sockets bound to its port (Linux's
 * default IP_MULTICAST_ALL behaviour); no IGMP is sent.
 * IPV6_ADD_MEMBERSHIP / IPV6_DROP_MEMBERSHIP (= IPV6_JOIN_GROUP /
 * IPV6_LEAVE_GROUP, struct ipv6_mreq) join the group on the NIC through
 * ipv6/mld.c (which sends the MLD reports and lets the group's datagrams
 * in), with Linux ipv6_sock_mc_join/drop's rules; the socket's groups are
 * left when it closes.
 */
#include "udp_internal.h"

#define NS_IP_MULTICAST_IF 32
#define NS_IP_MULTICAST_TTL 33
#define NS_IP_MULTICAST_LOOP 34
#define NS_IP_ADD_MEMBERSHIP 35
#define NS_IP_DROP_MEMBERSHIP 36
#define NS_IP_MULTICAST_ALL 49
#define NS_IPV6_MULTICAST_IF 17
#define NS_IPV6_MULTICAST_HOPS 18
#define NS_IPV6_MULTICAST_LOOP 19
#define NS_IPV6_ADD_MEMBERSHIP 20
#define NS_IPV6_DROP_MEMBERSHIP 21
#define IPV6_MREQ_LEN 20                /* struct ipv6_mreq: in6_addr + int ifindex */

/* struct ip_mreqn as the caller gave it (ip_mreq: ifindex 0). */
struct mreqn {
	uint8_t group[4], addr[4];
	int32_t ifindex;
};

static void read_mreqn(const void *v, socklen_t len, struct mreqn *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r, v, len >= 12 ? 12 : (len >= 8 ? 8 : 4));
	if (len < 8) {                          /* a bare struct in_addr is the interface */
		memcpy(r->addr, r->group, 4);
		memset(r->group, 0, 4);
	}
}

/* Linux ip_mc_find_dev: ifindex, else the NIC holding addr, else the route. */
static int find_nic(struct ns_stack *stk, const struct mreqn *r)
{
	if (r->ifindex)
		return ns__nic_get(stk, r->ifindex) ? r->ifindex : 0;
	struct ns_addr a;
	ns_addr_v4(&a, r->addr);
	if (!ns_addr_is_any(&a)) {
		struct ns_nic *nic = ns__addr_local(stk, &a, NULL);
		return nic ? nic->id : 0;
	}
	struct ns_addr g;
	ns_addr_v4(&g, r->group);
	struct ns_route_result rt;
	return ns__route_lookup(stk, &g, 0, &rt) == 0 ? rt.nic->id : 0;
}

static int join_leave(struct ns_sock *sk, const void *v, socklen_t len, bool join)
{
	struct udp_sock *us = udp_sk(sk);
	if (len < 8)
		return -NS_EINVAL;
	struct mreqn r;
	read_mreqn(v, len, &r);
	struct ns_addr g;
	ns_addr_v4(&g, r.group);
	if (join && !udp_addr_is_mcast(&g))
		return -NS_EINVAL;
	int nic = find_nic(sk->stk, &r);
	struct ns_addr ifa;
	ns_addr_v4(&ifa, r.addr);
	if (join) {
		if (!nic)
			return -NS_ENODEV;
		for (int i = 0; i < us->n_mc; i++)
			if (ns_addr_eq(&us->mc[i].group, &g) && us->mc[i].nic == nic)
				return -NS_EADDRINUSE;
		if (us->n_mc >= UDP_MC_MAX)
			return -NS_ENOBUFS;
		us->mc[us->n_mc].group = g;
		us->mc[us->n_mc].nic = nic;
		us->mc[us->n_mc].addr = ifa;
		us->n_mc++;
		return 0;
	}
	if (!r.ifindex && ns_addr_is_any(&ifa) && !nic)
		return -NS_ENODEV;
	for (int i = 0; i < us->n_mc; i++) {
		if (!ns_addr_eq(&us->mc[i].group, &g))
			continue;
		if (r.ifindex ? us->mc[i].nic != r.ifindex
			      : (!ns_addr_is_any(&ifa) && !ns_addr_eq(&ifa, &us->mc[i].addr)))
			continue;
		us->mc[i] = us->mc[--us->n_mc];
		return 0;
	}
	return -NS_EADDRNOTAVAIL;
}

static int set_mc_if(struct ns_sock *sk, const void *v, socklen_t len)
{
	struct udp_sock *us = udp_sk(sk);
	if (len < 4)
		return -NS_EINVAL;
	struct mreqn r;
	read_mreqn(v, len, &r);
	struct ns_addr a;
	ns_addr_v4(&a, r.addr);
	if (!r.ifindex && ns_addr_is_any(&a)) {
		us->mc_if = 0;
		udp_addr_any(&us->mc_addr, NS_AF_INET);
		return 0;
	}
	int nic = find_nic(sk->stk, &r);
	if (!r.ifindex && ns_addr_is_any(&a))
		nic = 0;
	if (!nic || (!r.ifindex && !ns__addr_local(sk->stk, &a, NULL)))
		return -NS_EADDRNOTAVAIL;
	if (sk->bound_nic && nic != sk->bound_nic)
		return -NS_EINVAL;
	us->mc_if = nic;
	us->mc_addr = a;
	return 0;
}

int ns__udp_set_ip_mc(struct ns_sock *sk, int name, const void *v, socklen_t len, int val)
{
	struct udp_sock *us = udp_sk(sk);
	switch (name) {
	case NS_IP_ADD_MEMBERSHIP:
	case NS_IP_DROP_MEMBERSHIP:
		return join_leave(sk, v, len, name == NS_IP_ADD_MEMBERSHIP);
	case NS_IP_MULTICAST_IF:
		return set_mc_if(sk, v, len);
	case NS_IP_MULTICAST_TTL:
		if (len < 1)
			return -NS_EINVAL;
		if (val == -1)
			val = 1;
		if (val < 0 || val > 255)
			return -NS_EINVAL;
		us->mc_ttl = (uint8_t)val;
		return 0;
	case NS_IP_MULTICAST_LOOP:
		if (len < 1)
			return -NS_EINVAL;
		us->mc_loop = val != 0;
		return 0;
	case NS_IP_MULTICAST_ALL:
		if (len < 1 || (val != 0 && val != 1))
			return -NS_EINVAL;
		us->mc_all = val != 0;
		return 0;
	default:
		return -NS_ENOPROTOOPT;
	}
}

/* Fills the value; returns its length (4), or -ENOPROTOOPT. *is_addr: an in_addr. */
int ns__udp_get_ip_mc(struct ns_sock *sk, int name, int *val, bool *is_addr)
{
	struct udp_sock *us = udp_sk(sk);
	*is_addr = false;
	switch (name) {
	case NS_IP_MULTICAST_TTL: *val = us->mc_ttl; return 0;
	case NS_IP_MULTICAST_LOOP: *val = us->mc_loop; return 0;
	case NS_IP_MULTICAST_ALL: *val = us->mc_all; return 0;
	case NS_IP_MULTICAST_IF:
		memcpy(val, us->mc_addr.b, 4);
		*is_addr = true;
		return 0;
	default:
		return -NS_ENOPROTOOPT;
	}
}

/* Linux __ipv6_sock_mc_join: EINVAL for a non-multicast group, EADDRINUSE
 * if joined already (on that interface, or on any when ifindex is 0),
 * ENODEV without an interface (ifindex 0: the route's). */
static int join6(struct ns_sock *sk, const struct ns_addr *g, int ifindex)
{
	struct udp_sock *us = udp_sk(sk);
	for (int i = 0; i < us->n_mc6; i++)
		if ((ifindex == 0 || us->mc6[i].nic == ifindex) && ns_addr_eq(&us->mc6[i].group, g))
			return -NS_EADDRINUSE;
	if (us->n_mc6 >= UDP_MC6_MAX)
		return -NS_ENOMEM;
	int nic = ifindex;
	if (!nic) {
		struct ns_route_result rt;
		if (ns__route_lookup(sk->stk, g, 0, &rt) < 0)
			return -NS_ENODEV;
		nic = rt.nic->id;
	}
	int err = ns__ipv6_mc_join(sk->stk, nic, g);
	if (err < 0)
		return err == -NS_EINVAL ? -NS_ENODEV : err;
	us->mc6[us->n_mc6].group = *g;
	us->mc6[us->n_mc6].nic = nic;
	us->n_mc6++;
	return 0;
}

/* Linux ipv6_sock_mc_drop: the first membership of the group on ifindex
 * (any when 0); EADDRNOTAVAIL if none. */
static int drop6(struct ns_sock *sk, const struct ns_addr *g, int ifindex)
{
	struct udp_sock *us = udp_sk(sk);
	for (int i = 0; i < us->n_mc6; i++) {
		if ((ifindex && us->mc6[i].nic != ifindex) || !ns_addr_eq(&us->mc6[i].group, g))
			continue;
		ns__ipv6_mc_leave(sk->stk, us->mc6[i].nic, g);   /* the NIC may be gone */
		us->mc6[i] = us->mc6[--us->n_mc6];
		return 0;
	}
	return -NS_EADDRNOTAVAIL;
}

static int membership6(struct ns_sock *sk, const void *v, socklen_t len, bool join)
{
	if (len < IPV6_MREQ_LEN)
		return -NS_EINVAL;
	struct ns_addr g;
	memset(&g, 0, sizeof(g));
	g.family = NS_AF_INET6;
	memcpy(g.b, v, 16);
	int32_t ifindex;
	memcpy(&ifindex, (const uint8_t *)v + 16, sizeof(ifindex));
	if (!udp_addr_is_mcast(&g))
		return -NS_EINVAL;
	return join ? join6(sk, &g, ifindex) : drop6(sk, &g, ifindex);
}

void ns__udp_mc6_leave_all_locked(struct ns_sock *sk)
{
	struct udp_sock *us = udp_sk(sk);
	for (int i = 0; i < us->n_mc6; i++)
		ns__ipv6_mc_leave(sk->stk, us->mc6[i].nic, &us->mc6[i].group);
	us->n_mc6 = 0;
}

int ns__udp_set_ipv6_mc(struct ns_sock *sk, int name, const void *v, int val, socklen_t len)
{
	struct udp_sock *us = udp_sk(sk);
	if (name == NS_IPV6_ADD_MEMBERSHIP || name == NS_IPV6_DROP_MEMBERSHIP)
		return membership6(sk, v, len, name == NS_IPV6_ADD_MEMBERSHIP);
	if (name != NS_IPV6_MULTICAST_IF && name != NS_IPV6_MULTICAST_HOPS && name != NS_IPV6_MULTICAST_LOOP)
		return -NS_ENOPROTOOPT;
	if (len < sizeof(int))
		return -NS_EINVAL;
	switch (name) {
	case NS_IPV6_MULTICAST_HOPS:
		if (val > 255 || val < -1)
			return -NS_EINVAL;
		us->mc_hops = (uint8_t)(val == -1 ? 1 : val);
		return 0;
	case NS_IPV6_MULTICAST_LOOP:
		if (val != 0 && val != 1)
			return -NS_EINVAL;
		us->mc_loop6 = val != 0;
		return 0;
	default:                                /* IPV6_MULTICAST_IF */
		if (val && sk->bound_nic && sk->bound_nic != val)
			return -NS_EINVAL;
		if (val && !ns__nic_get(sk->stk, val))
			return -NS_ENODEV;
		us->mc_if6 = val;
		return 0;
	}
}

int ns__udp_get_ipv6_mc(struct ns_sock *sk, int name, int *val)
{
	struct udp_sock *us = udp_sk(sk);
	switch (name) {
	case NS_IPV6_MULTICAST_HOPS: *val = us->mc_hops; return 0;
	case NS_IPV6_MULTICAST_LOOP: *val = us->mc_loop6; return 0;
	case NS_IPV6_MULTICAST_IF: *val = us->mc_if6; return 0;
	default: return -NS_ENOPROTOOPT;
	}
}
