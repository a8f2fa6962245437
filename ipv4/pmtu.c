/*
 * ipv4/pmtu.c - per-destination route exceptions (Linux fib_nh_exception):
 * the path MTU cache (RFC 1191 for IPv4, RFC 8201 for IPv6) and IPv4
 * redirect gateways (RFC 1122 3.2.2.2).
 * Owns: learned path MTUs, their 10-minute expiry (Linux
 * net.ipv4.route.mtu_expires), the "locked" state below min_pmtu (552:
 * DF is then cleared and the MTU never drops further), redirected next
 * hops and their 300 s expiry (Linux gc_timeout), and ns__ip_path_mtu /
 * ns__ip_path_mtu_update for both families.
 *
 * A set-associative table (SETS x WAYS), one mutex per set: bounded memory,
 * the entry expiring first is replaced when a set is full.  Lookups skip
 * the lock while nothing was ever stored.
 */
#include <stdlib.h>
#include "ipv4_internal.h"

#define SETS 256u
#define WAYS 4u

struct pmtu_ent {
	struct ns_addr dst;             /* family 0: empty */
	uint32_t mtu;                   /* 0: none */
	bool locked;
	uint64_t expires;               /* of mtu */
	uint32_t gw;                    /* redirect gateway (IPv4), 0: none */
	uint64_t gw_expires;
};

struct ns_pmtu {
	pthread_mutex_t mu[SETS];       /* one per set: unrelated destinations never contend */
	_Atomic uint32_t used;          /* entries ever stored: 0 lets lookups skip the lock */
	struct pmtu_ent e[SETS][WAYS];
};

int ns__ipv4_pmtu_init(struct ns_ipv4 *ip)
{
	ip->pmtu = calloc(1, sizeof(*ip->pmtu));
	if (!ip->pmtu)
		return -NS_ENOMEM;
	for (uint32_t i = 0; i < SETS; i++)
		pthread_mutex_init(&ip->pmtu->mu[i], NULL);
	return 0;
}

void ns__ipv4_pmtu_fini(struct ns_ipv4 *ip)
{
	if (!ip->pmtu)
		return;
	for (uint32_t i = 0; i < SETS; i++)
		pthread_mutex_destroy(&ip->pmtu->mu[i]);
	free(ip->pmtu);
	ip->pmtu = NULL;
}

static uint32_t set_of(struct ns_stack *stk, const struct ns_addr *dst)
{
	size_t alen = dst->family == NS_AF_INET ? 4 : 16;
	return (uint32_t)ns__siphash(stk->hash_seed, dst->b, alen) & (SETS - 1);
}

static uint64_t ent_expires(const struct pmtu_ent *e)
{
	return NS_MAX(e->mtu ? e->expires : 0, e->gw ? e->gw_expires : 0);
}

/* Entry for dst in set si (expired parts are cleared), or NULL.  mu[si] held. */
static struct pmtu_ent *find_locked(struct ns_pmtu *t, uint32_t si, const struct ns_addr *dst,
				    uint64_t now)
{
	struct pmtu_ent *set = t->e[si];
	for (uint32_t w = 0; w < WAYS; w++) {
		struct pmtu_ent *e = &set[w];
		if (!e->dst.family || !ns_addr_eq(&e->dst, dst))
			continue;
		if (e->mtu && now >= e->expires) {
			e->mtu = 0;
			e->locked = false;
		}
		if (e->gw && now >= e->gw_expires)
			e->gw = 0;
		if (!e->mtu && !e->gw) {
			memset(e, 0, sizeof(*e));
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* The entry for dst, created (replacing the one expiring first) if none. */
static struct pmtu_ent *get_locked(struct ns_pmtu *t, uint32_t si, const struct ns_addr *dst,
				   uint64_t now)
{
	struct pmtu_ent *e = find_locked(t, si, dst, now);
	if (e)
		return e;
	struct pmtu_ent *set = t->e[si];
	e = &set[0];
	for (uint32_t w = 0; w < WAYS; w++) {
		if (!set[w].dst.family) {
			e = &set[w];
			break;
		}
		if (ent_expires(&set[w]) < ent_expires(e))
			e = &set[w];
	}
	memset(e, 0, sizeof(*e));
	e->dst = *dst;
	atomic_fetch_add_explicit(&t->used, 1, memory_order_release);
	return e;
}

uint32_t ns__pmtu_get(struct ns_stack *stk, const struct ns_addr *dst, bool *locked)
{
	struct ns_pmtu *t = stk->ipv4->pmtu;
	uint32_t mtu = 0;
	if (!atomic_load_explicit(&t->used, memory_order_acquire))
		return 0;
	uint32_t si = set_of(stk, dst);
	pthread_mutex_lock(&t->mu[si]);
	struct pmtu_ent *e = find_locked(t, si, dst, ns__now(stk));
	if (e) {
		mtu = e->mtu;
		if (locked)
			*locked = e->locked;
	}
	pthread_mutex_unlock(&t->mu[si]);
	return mtu;
}

uint32_t ns__ipv4_redirect_get(struct ns_stack *stk, uint32_t dst)
{
	struct ns_pmtu *t = stk->ipv4->pmtu;
	if (!atomic_load_explicit(&t->used, memory_order_acquire))
		return 0;
	struct ns_addr d;
	ns_addr_from_u32(&d, dst);
	uint32_t gw = 0;
	uint32_t si = set_of(stk, &d);
	pthread_mutex_lock(&t->mu[si]);
	struct pmtu_ent *e = find_locked(t, si, &d, ns__now(stk));
	if (e)
		gw = e->gw;
	pthread_mutex_unlock(&t->mu[si]);
	return gw;
}

void ns__ipv4_redirect_set(struct ns_stack *stk, uint32_t dst, uint32_t gw)
{
	struct ns_pmtu *t = stk->ipv4->pmtu;
	struct ns_addr d;
	ns_addr_from_u32(&d, dst);
	uint64_t now = ns__now(stk);
	uint32_t si = set_of(stk, &d);
	pthread_mutex_lock(&t->mu[si]);
	struct pmtu_ent *e = get_locked(t, si, &d, now);
	e->gw = gw;
	e->gw_expires = now + NS_REDIRECT_EXPIRES;
	pthread_mutex_unlock(&t->mu[si]);
}

uint32_t ns__ip_path_mtu(struct ns_stack *stk, const struct ns_addr *dst, int oif)
{
	if (dst->family == NS_AF_INET6 && !ns__addr_local(stk, dst, NULL))
		return ns__ipv6_path_mtu(stk, dst, oif);   /* RA MTU, RA routers, >= 1280 */
	if (ns__addr_local(stk, dst, NULL))
		return NS_IPV4_MAX_LEN;         /* looped back, never fragmented */
	struct ns_route_result r;
	if (ns__route_lookup(stk, dst, oif, &r) < 0)
		return dst->family == NS_AF_INET ? 576 : 1280;
	uint32_t p = ns__pmtu_get(stk, dst, NULL);
	return p && p < r.mtu ? p : r.mtu;
}

void ns__ip_path_mtu_update(struct ns_stack *stk, const struct ns_addr *dst, uint32_t mtu)
{
	struct ns_pmtu *t = stk->ipv4->pmtu;
	uint32_t old = ns__ip_path_mtu(stk, dst, 0);
	bool lock = false;
	if (dst->family == NS_AF_INET) {
		/* Linux __ip_rt_update_pmtu: below min_pmtu the MTU is locked at
		 * min(old, 552) and DF is no longer set. */
		if (mtu < NS_IPV4_MIN_PMTU) {
			lock = true;
			mtu = NS_MIN(old, NS_IPV4_MIN_PMTU);
		}
	} else if (mtu < 1280) {
		mtu = 1280;                     /* RFC 8201 4 */
	}
	if (mtu > old)
		return;                         /* RFC 1191: never raise on a message */
	uint64_t now = ns__now(stk);
	uint32_t si = set_of(stk, dst);
	pthread_mutex_lock(&t->mu[si]);
	struct pmtu_ent *e = get_locked(t, si, dst, now);
	e->mtu = mtu;
	e->locked = lock;
	e->expires = now + NS_PMTU_EXPIRES;
	pthread_mutex_unlock(&t->mu[si]);
}
