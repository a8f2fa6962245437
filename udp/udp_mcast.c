/*
 * udp/udp_mcast.c - multicast socket options with Linux's rules:
 * IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP (struct ip_mreq or ip_mreqn;
 * EINVAL for a non-multicast group, ENODEV without an interface,
 * EADDRINUSE twice, ENOBUFS past 20, EADDRNOTAVAIL when not joined),
 * IP_MULTICAST_IF/TTL/LOOP/ALL and IPV6_MULTICAST_IF/HOPS/LOOP.
 *
 * Memberships are bookkeeping: the IPv4 layer accepts every multicast
 * datagram and delivers it to the sockets bound to its port (Linux's
 * default IP_MULTICAST_ALL behaviour); no IGMP is sent.  IPv6 group joins
 * are not offered (the MLD state belongs to ipv6/).
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

int ns__udp_set_ipv6_mc(struct ns_sock *sk, int name, int val, socklen_t len)
{
	struct udp_sock *us = udp_sk(sk);
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
