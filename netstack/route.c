/*
 * netstack/route.c - the routing table: longest-prefix match over explicit
 * routes and the on-link prefixes of every NIC address.
 *
 * The table is an immutable sorted array published with RCU: lookups take
 * no lock; changes copy the array under stk->cfg_mu and free the old one
 * after a grace period.
 */
#include <stdlib.h>
#include "core.h"

struct ns_route {
	struct ns_addr dst;
	int plen;
	struct ns_addr gw;              /* family 0: on-link */
	int nic;
};

struct ns_route_table {
	struct rcu_head rcu;
	int n;
	struct ns_route r[];
};

int ns__route_init(struct ns_stack *stk);
void ns__route_fini(struct ns_stack *stk);

int ns__route_init(struct ns_stack *stk)
{
	stk->routes = calloc(1, sizeof(struct ns_route_table));
	return stk->routes ? 0 : -NS_ENOMEM;
}

void ns__route_fini(struct ns_stack *stk)
{
	free(stk->routes);
	stk->routes = NULL;
}

static void free_table(struct rcu_head *h)
{
	free(caa_container_of(h, struct ns_route_table, rcu));
}

static void mask_addr(struct ns_addr *a, int plen)
{
	int bits = a->family == NS_AF_INET ? 32 : 128;
	for (int i = plen; i < bits; i++)
		a->b[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

int ns_route_add(struct ns_stack *stk, const struct ns_addr *dst, int plen,
		 const struct ns_addr *gw, int nic)
{
	if (!dst || (dst->family != NS_AF_INET && dst->family != NS_AF_INET6))
		return -NS_EAFNOSUPPORT;
	if (plen < 0 || plen > (dst->family == NS_AF_INET ? 32 : 128))
		return -NS_EINVAL;
	if (gw && gw->family && gw->family != dst->family)
		return -NS_EINVAL;
	if (!ns__nic_get(stk, nic))
		return -NS_ENODEV;
	struct ns_route nr = { .dst = *dst, .plen = plen, .nic = nic };
	mask_addr(&nr.dst, plen);
	if (gw && gw->family && !ns_addr_is_any(gw))
		nr.gw = *gw;
	pthread_mutex_lock(&stk->cfg_mu);
	struct ns_route_table *old = stk->routes;
	for (int i = 0; i < old->n; i++) {
		if (old->r[i].plen == plen && ns_addr_eq(&old->r[i].dst, &nr.dst)) {
			pthread_mutex_unlock(&stk->cfg_mu);
			return -NS_EEXIST;
		}
	}
	struct ns_route_table *t = malloc(sizeof(*t) + (size_t)(old->n + 1) * sizeof(t->r[0]));
	if (!t) {
		pthread_mutex_unlock(&stk->cfg_mu);
		return -NS_ENOMEM;
	}
	memset(t, 0, sizeof(*t));
	/* keep sorted by prefix length, longest first */
	int j = 0;
	bool placed = false;
	for (int i = 0; i < old->n; i++) {
		if (!placed && old->r[i].plen < plen) {
			t->r[j++] = nr;
			placed = true;
		}
		t->r[j++] = old->r[i];
	}
	if (!placed)
		t->r[j++] = nr;
	t->n = j;
	ns_rcu_assign(stk->routes, t);
	pthread_mutex_unlock(&stk->cfg_mu);
	ns_call_rcu(&old->rcu, free_table);
	return 0;
}

int ns_route_del(struct ns_stack *stk, const struct ns_addr *dst, int plen)
{
	struct ns_addr d = *dst;
	mask_addr(&d, plen);
	pthread_mutex_lock(&stk->cfg_mu);
	struct ns_route_table *old = stk->routes;
	struct ns_route_table *t = malloc(sizeof(*t) + (size_t)old->n * sizeof(t->r[0]));
	if (!t) {
		pthread_mutex_unlock(&stk->cfg_mu);
		return -NS_ENOMEM;
	}
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < old->n; i++)
		if (!(old->r[i].plen == plen && ns_addr_eq(&old->r[i].dst, &d)))
			t->r[t->n++] = old->r[i];
	if (t->n == old->n) {
		pthread_mutex_unlock(&stk->cfg_mu);
		free(t);
		return -NS_ESRCH;
	}
	ns_rcu_assign(stk->routes, t);
	pthread_mutex_unlock(&stk->cfg_mu);
	ns_call_rcu(&old->rcu, free_table);
	return 0;
}

static bool is_v6_linklocal_or_mcast(const struct ns_addr *a)
{
	return a->family == NS_AF_INET6 &&
	       ((a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80) || a->b[0] == 0xff);
}

static int lookup(struct ns_stack *stk, const struct ns_addr *dst, int oif,
		  struct ns_route_result *r, bool want_src)
{
	int best_plen = -1;
	struct ns_nic *best_nic = NULL;
	struct ns_addr best_gw = { 0 };
	int n = atomic_load(&stk->n_nics);

	ns_rcu_read_lock();
	/* Link-scope and broadcast destinations go out the given NIC (or the first). */
	bool scoped = is_v6_linklocal_or_mcast(dst) ||
		      (dst->family == NS_AF_INET && ns_addr_v4_u32(dst) == 0xffffffffu) ||
		      (dst->family == NS_AF_INET && (dst->b[0] & 0xf0) == 0xe0);
	if (scoped) {
		best_nic = ns__nic_get(stk, oif ? oif : 1);
		best_plen = best_nic ? 128 : -1;
	}
	/* On-link prefixes of NIC addresses (Linux adds these as kernel routes). */
	for (int i = 1; i <= n && !scoped; i++) {
		struct ns_nic *nic = stk->nics[i];
		if (!nic || (oif && oif != i))
			continue;
		struct ns_ifaddr_list *al = ns_rcu_dereference(nic->addrs);
		for (int j = 0; j < al->n; j++) {
			const struct ns_ifaddr *ifa = &al->a[j];
			if (ifa->addr.family != dst->family || ifa->plen <= best_plen)
				continue;
			if (ns_addr_prefix_eq(&ifa->addr, dst, ifa->plen)) {
				best_plen = ifa->plen;
				best_nic = nic;
				memset(&best_gw, 0, sizeof(best_gw));
			}
		}
	}
	struct ns_route_table *t = ns_rcu_dereference(stk->routes);
	for (int i = 0; i < t->n && !scoped; i++) {
		const struct ns_route *rt = &t->r[i];
		if (rt->dst.family != dst->family || rt->plen <= best_plen)
			continue;
		if (oif && rt->nic != oif)
			continue;
		if (ns_addr_prefix_eq(&rt->dst, dst, rt->plen)) {
			struct ns_nic *nic = ns__nic_get(stk, rt->nic);
			if (!nic)
				continue;
			best_plen = rt->plen;
			best_nic = nic;
			best_gw = rt->gw;
			break;      /* sorted longest first */
		}
	}
	ns_rcu_read_unlock();
	if (!best_nic)
		return -NS_ENETUNREACH;
	r->nic = best_nic;
	r->nexthop = best_gw.family ? best_gw : *dst;
	r->mtu = atomic_load(&best_nic->mtu);
	if (!want_src || ns__nic_src_select(best_nic, dst, &r->src) < 0)
		memset(&r->src, 0, sizeof(r->src));
	return 0;
}

int ns__route_lookup(struct ns_stack *stk, const struct ns_addr *dst, int oif,
		     struct ns_route_result *r)
{
	return lookup(stk, dst, oif, r, true);
}

int ns__route_lookup_nosrc(struct ns_stack *stk, const struct ns_addr *dst, int oif,
			   struct ns_route_result *r)
{
	return lookup(stk, dst, oif, r, false);
}
