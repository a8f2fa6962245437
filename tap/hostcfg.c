/*
 * tap/hostcfg.c - host-side interface configuration over rtnetlink
 * (libnl-3 route): link up + MTU, addresses, routes.  Linux only.
 * Owns: nothing persistent; each call opens and closes its own socket
 * (configuration happens a few times at start-up).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "hostcfg.h"

static int nl_to_errno(int e)
{
	switch (-e) {
	case 0: return 0;
	case NLE_PERM: return -EPERM;
	case NLE_EXIST: return -EEXIST;
	case NLE_NODEV: case NLE_OBJ_NOTFOUND: return -ENODEV;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_INVAL: case NLE_RANGE: return -EINVAL;
	case NLE_BUSY: return -EBUSY;
	case NLE_NOADDR: return -EADDRNOTAVAIL;
	case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
	default: return -EIO;
	}
}

static int open_sock(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	int e = nl_connect(sk, NETLINK_ROUTE);
	if (e < 0) {
		nl_socket_free(sk);
		return nl_to_errno(e);
	}
	*out = sk;
	return 0;
}

int ns_hostcfg_link_up(const char *ifname, uint32_t mtu)
{
	struct nl_sock *sk;
	int e = open_sock(&sk);
	if (e < 0)
		return e;
	struct rtnl_link *link = NULL, *chg = NULL;
	e = rtnl_link_get_kernel(sk, 0, ifname, &link);
	if (e < 0) {
		e = nl_to_errno(e);
		goto out;
	}
	chg = rtnl_link_alloc();
	if (!chg) {
		e = -ENOMEM;
		goto out;
	}
	rtnl_link_set_flags(chg, IFF_UP);
	if (mtu)
		rtnl_link_set_mtu(chg, mtu);
	e = nl_to_errno(rtnl_link_change(sk, link, chg, 0));
out:
	rtnl_link_put(chg);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return e;
}

static struct nl_addr *to_nl(const struct ns_addr *a, int plen)
{
	bool v4 = a->family == NS_AF_INET;
	struct nl_addr *n = nl_addr_build(v4 ? AF_INET : AF_INET6, a->b, v4 ? 4 : 16);
	if (n)
		nl_addr_set_prefixlen(n, plen);
	return n;
}

int ns_hostcfg_addr_add(const char *ifname, const struct ns_addr *a, int plen)
{
	unsigned idx = if_nametoindex(ifname);
	if (!idx)
		return -ENODEV;
	struct nl_sock *sk;
	int e = open_sock(&sk);
	if (e < 0)
		return e;
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = to_nl(a, plen);
	if (!ra || !local) {
		e = -ENOMEM;
		goto out;
	}
	rtnl_addr_set_ifindex(ra, (int)idx);
	rtnl_addr_set_family(ra, a->family == NS_AF_INET ? AF_INET : AF_INET6);
	rtnl_addr_set_prefixlen(ra, plen);
	if ((e = rtnl_addr_set_local(ra, local)) < 0) {
		e = nl_to_errno(e);
		goto out;
	}
	if (a->family == NS_AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	e = nl_to_errno(rtnl_addr_add(sk, ra, 0));
	if (e == -EEXIST)
		e = 0;
out:
	nl_addr_put(local);
	rtnl_addr_put(ra);
	nl_socket_free(sk);
	return e;
}

int ns_hostcfg_route_add(const char *ifname, const struct ns_addr *dst, int plen,
			 const struct ns_addr *gw)
{
	unsigned idx = if_nametoindex(ifname);
	if (!idx)
		return -ENODEV;
	struct nl_sock *sk;
	int e = open_sock(&sk);
	if (e < 0)
		return e;
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *d = to_nl(dst, plen), *g = gw ? to_nl(gw, gw->family == NS_AF_INET ? 32 : 128) : NULL;
	if (!rt || !nh || !d || (gw && !g)) {
		e = -ENOMEM;
		rtnl_route_nh_free(nh);
		goto out;
	}
	rtnl_route_set_family(rt, dst->family == NS_AF_INET ? AF_INET : AF_INET6);
	rtnl_route_set_dst(rt, d);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_set_scope(rt, gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	rtnl_route_nh_set_ifindex(nh, (int)idx);
	if (g)
		rtnl_route_nh_set_gateway(nh, g);
	rtnl_route_add_nexthop(rt, nh);     /* the route owns nh now */
	e = nl_to_errno(rtnl_route_add(sk, rt, NLM_F_CREATE));
	if (e == -EEXIST)
		e = 0;
out:
	nl_addr_put(d);
	nl_addr_put(g);
	rtnl_route_put(rt);
	nl_socket_free(sk);
	return e;
}
