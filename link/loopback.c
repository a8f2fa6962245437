/*
 * link/loopback.c - the loopback endpoint: every frame written is received
 * again by the same stack.  It is a channel paired with itself (so writes
 * are queued, never delivered re-entrantly), with no MAC and no neighbour
 * resolution (NS_LINK_CAP_LOOPBACK | NS_LINK_CAP_NOARP).
 */
#include <stdio.h>
#include "link_internal.h"

struct ns_link *ns_link_loopback_new(uint32_t mtu)
{
	static const uint8_t zero_mac[6];
	struct ns_link *l = ns_link_channel_new(zero_mac, mtu ? mtu : 65536, 4096);
	if (!l)
		return NULL;
	ns_link_channel_pair(l, l);
	l->caps |= NS_LINK_CAP_LOOPBACK | NS_LINK_CAP_NOARP;
	snprintf(l->name, sizeof(l->name), "lo");
	return l;
}
