/*
 * tap/hostcfg.h - host-side (Linux kernel) configuration of the interface
 * netstack talks through, over rtnetlink with libnl-3 route: bring it up,
 * set its MTU, add addresses and routes, so no `ip` commands are needed.
 * All functions return 0 or a negative errno (-EPERM, -ENODEV, ...);
 * adding something that already exists is not an error.
 */
#ifndef NS_TAP_HOSTCFG_H
#define NS_TAP_HOSTCFG_H

#include <stdint.h>
#include "../netstack/netstack.h"

/* Sets the link up and, when mtu != 0, its MTU. */
int ns_hostcfg_link_up(const char *ifname, uint32_t mtu);
/* Adds a/plen to ifname (IPv6 without duplicate address detection). */
int ns_hostcfg_addr_add(const char *ifname, const struct ns_addr *a, int plen);
/* Adds dst/plen on ifname, via gw when gw is not NULL. */
int ns_hostcfg_route_add(const char *ifname, const struct ns_addr *dst, int plen,
			 const struct ns_addr *gw);

#endif
