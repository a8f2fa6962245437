/*
 * ipv6/pmtu.c - path MTU per destination (RFC 8201): what Packet Too Big
 * messages taught us, never below 1280, forgotten after 10 minutes (Linux
 * net.ipv6.route.mtu_expires).  A small fixed hash table, replaced in
 * place on collision; lookups and updates under one mutex.
 */
#include <stdlib.h>
#include "ipv6_internal.h"

#define PMTU_SLOTS 1024

struct pmtu_ent {
	struct ns_addr dst;
	uint32_t mtu;
	uint64_t expires;
};

struct ns_pmtu6 {
	pthread_mutex_t mu;
	struct pmtu_ent e[PMTU_SLOTS];
};

int ns__ip6_pmtu_init(struct ns_ipv6 *ip)
{
	ip->pmtu = calloc(1, sizeof(*ip->pmtu));
	if (!ip->pmtu)
		return -NS_ENOMEM;
	pthread_mutex_init(&ip->pmtu->mu, NULL);
	return 0;
}

void ns__ip6_pmtu_fini(struct ns_ipv6 *ip)
{
	if (!ip->pmtu)
		return;
	pthread_mutex_destroy(&ip->pmtu->mu);
	free(ip->pmtu);
	ip->pmtu = NULL;
}

static struct pmtu_ent *slot(struct ns_stack *stk, const struct ns_addr *dst)
{
	uint32_t h = (uint32_t)ns__siphash(stk->hash_seed, dst->b, 16);
	return &stk->ipv6->pmtu->e[h % PMTU_SLOTS];
}

uint32_t ns__ip6_pmtu_get(struct ns_stack *stk, const struct ns_addr *dst)
{
	struct ns_pmtu6 *t = stk->ipv6->pmtu;
	uint32_t mtu = 0;
	uint64_t now = ns__now(stk);
	pthread_mutex_lock(&t->mu);
	struct pmtu_ent *e = slot(stk, dst);
	if (e->mtu && memcmp(e->dst.b, dst->b, 16) == 0) {
		if (now < e->expires)
			mtu = e->mtu;
		else
			e->mtu = 0;
	}
	pthread_mutex_unlock(&t->mu);
	return mtu;
}

void ns__ip6_pmtu_update(struct ns_stack *stk, const struct ns_addr *dst, uint32_t mtu)
{
	if (mtu < NS_IP6_MIN_MTU)
		mtu = NS_IP6_MIN_MTU;
	struct ns_pmtu6 *t = stk->ipv6->pmtu;
	uint64_t now = ns__now(stk);
	pthread_mutex_lock(&t->mu);
	struct pmtu_ent *e = slot(stk, dst);
	bool same = e->mtu && memcmp(e->dst.b, dst->b, 16) == 0 && now < e->expires;
	if (!same || mtu < e->mtu) {
		ns_addr_v6(&e->dst, dst->b);
		e->mtu = mtu;
		e->expires = now + NS_IP6_PMTU_EXPIRES;
	}
	pthread_mutex_unlock(&t->mu);
}
