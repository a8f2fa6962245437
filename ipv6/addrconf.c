/*
 * ipv6/addrconf.c - stateless address configuration (RFC 4862).
 * Owns: the EUI-64 link-local address of every NIC, duplicate address
 * detection for every address (one NS from :: with a nonce, RFC 7527, after
 * a random delay up to 1 s, then 1 s of waiting; until then the address is
 * tentative and unusable; a conflict marks it duplicate), router
 * solicitation after the link-local address is ready (3 RS, 4 s apart),
 * the default router list from RAs (installed as ::/0 routes), on-link
 * prefixes and SLAAC addresses with their lifetimes (5.5.3), and
 * ns_nic_set_slaac().
 */
#include <stdlib.h>
#include "ipv6_internal.h"

int ns__addrconf_nic_init(struct ns_nic *nic)
{
	/* Called before the NIC is published: the list can be replaced directly. */
	if ((nic->link->caps & NS_LINK_CAP_LOOPBACK) || (nic->stk->flags & NS_STACK_F_NOAUTO6))
		return 0;
	static const uint8_t zero[6];
	if (memcmp(nic->mac, zero, 6) == 0)
		return 0;
	struct ns_ifaddr_list *old = nic->addrs;
	struct ns_ifaddr_list *nl = malloc(sizeof(*nl) + (size_t)(old->n + 1) * sizeof(nl->a[0]));
	if (!nl)
		return -NS_ENOMEM;
	memset(nl, 0, sizeof(*nl));
	memcpy(nl->a, old->a, (size_t)old->n * sizeof(nl->a[0]));
	nl->n = old->n + 1;
	struct ns_ifaddr *ifa = &nl->a[old->n];
	memset(ifa, 0, sizeof(*ifa));
	ifa->addr.family = NS_AF_INET6;
	ifa->addr.b[0] = 0xfe;
	ifa->addr.b[1] = 0x80;
	ns__ip6_eui64(nic->mac, ifa->addr.b + 8);
	ifa->plen = 64;
	ifa->flags = NS_IFA_LINKLOCAL | NS_IFA_TENTATIVE;
	struct ns_ifaddr copy = *ifa;
	nic->addrs = nl;
	free(old);
	ns__ipv6_addr_added(nic, &copy);
	return 0;
}

void ns__ipv6_addr_added(struct ns_nic *nic, const struct ns_ifaddr *ifa)
{
	struct ns_nd *nd = ns__nd(nic);
	if (!nd || ifa->addr.family != NS_AF_INET6)
		return;
	struct ns_addr sn;
	ns__ip6_solicited_node(&ifa->addr, &sn);
	pthread_mutex_lock(&nd->mu);
	ns__mld_join_locked(nd, &sn);
	if (ifa->flags & NS_IFA_TENTATIVE) {
		if (nd->no_dad || (nic->stk->flags & NS_STACK_F_NODAD))
			ns__nic_addr_set_flags(nic->stk, nic->id, &ifa->addr, 0, NS_IFA_TENTATIVE);
		else
			ns__addrconf_dad_start_locked(nd, ifa);
	}
	pthread_mutex_unlock(&nd->mu);
}

void ns__ipv6_addr_deleted(struct ns_nic *nic, const struct ns_addr *a)
{
	struct ns_nd *nd = ns__nd(nic);
	if (!nd)
		return;
	struct ns_nd_work w = { 0 };
	struct ns_addr sn;
	ns__ip6_solicited_node(a, &sn);
	pthread_mutex_lock(&nd->mu);
	for (int i = 0; i < nd->n_dad; i++) {
		if (ns_addr_eq(&nd->dad[i].addr, a)) {
			nd->dad[i] = nd->dad[--nd->n_dad];
			break;
		}
	}
	for (int i = 0; i < nd->n_prefixes; i++)
		if (nd->prefixes[i].autoconf && ns_addr_eq(&nd->prefixes[i].addr, a))
			nd->prefixes[i].autoconf = false;
	ns__mld_leave_locked(nd, &sn, &w);
	pthread_mutex_unlock(&nd->mu);
	ns__nd_work_run(nic, &w);
}

/* ---- DAD (RFC 4862 5.4) ------------------------------------------------------------ */

void ns__addrconf_dad_start_locked(struct ns_nd *nd, const struct ns_ifaddr *ifa)
{
	struct ns_stack *stk = nd->nic->stk;
	struct ns_nd_dad *d = NULL;
	for (int i = 0; i < nd->n_dad && !d; i++)
		if (ns_addr_eq(&nd->dad[i].addr, &ifa->addr))
			d = &nd->dad[i];
	if (!d) {
		if (nd->n_dad == NS_ND_MAX_DAD) {
			/* too many at once: skip DAD for this one rather than lose it */
			ns__nic_addr_set_flags(stk, nd->nic->id, &ifa->addr, 0, NS_IFA_TENTATIVE);
			return;
		}
		d = &nd->dad[nd->n_dad++];
	}
	memset(d, 0, sizeof(*d));
	d->addr = ifa->addr;
	d->probes_left = NS_ND_DAD_PROBES;
	uint64_t r = ns__rand64(stk);
	memcpy(d->nonce, &r, 6);
	/* 5.4.2: a random delay up to MAX_RTR_SOLICITATION_DELAY before the first NS */
	d->deadline = ns__now(stk) + (NS_ND_RS_DELAY * ns__rand32(stk) >> 32);
	ns__nd_schedule_locked(nd, d->deadline);
}

static void dad_remove(struct ns_nd *nd, int i)
{
	nd->dad[i] = nd->dad[--nd->n_dad];
}

void ns__addrconf_dad_conflict_locked(struct ns_nd *nd, const struct ns_addr *a,
				      const uint8_t *nonce, struct ns_nd_work *w)
{
	for (int i = 0; i < nd->n_dad; i++) {
		struct ns_nd_dad *d = &nd->dad[i];
		if (!ns_addr_eq(&d->addr, a))
			continue;
		if (nonce && d->sent && memcmp(nonce, d->nonce, 6) == 0)
			return;         /* RFC 7527: our own NS came back */
		NS_STAT_INC(nd->nic->stk, NdDadFailures);
		ns__nd_work_act(w, &(struct ns_nd_act){ .kind = NS_ND_ACT_DAD_FAILED, .a = *a });
		dad_remove(nd, i);
		return;
	}
}

static void dad_done(struct ns_nd *nd, const struct ns_addr *a, uint64_t now, struct ns_nd_work *w)
{
	ns__nd_work_act(w, &(struct ns_nd_act){ .kind = NS_ND_ACT_DAD_DONE, .a = *a });
	if (ns_ip6_is_linklocal(a)) {
		/* RFC 4861 6.3.7: solicit routers once we have a usable source */
		if (!nd->ra_seen) {
			/* next tick: after the address lost its tentative flag */
			nd->rs_left = NS_ND_RS_COUNT;
			nd->rs_at = now + 1;
		}
		ns__mld_resend_locked(nd);
	}
}

static uint64_t dad_tick(struct ns_nd *nd, uint64_t now, struct ns_nd_work *w)
{
	uint64_t next = UINT64_MAX;
	for (int i = 0; i < nd->n_dad;) {
		struct ns_nd_dad *d = &nd->dad[i];
		if (d->deadline > now) {
			next = NS_MIN(next, d->deadline);
			i++;
			continue;
		}
		if (d->probes_left == 0) {
			dad_done(nd, &d->addr, now, w);
			dad_remove(nd, i);
			continue;
		}
		struct ns_addr src = { .family = NS_AF_INET6 }, dst;
		uint8_t mac[6];
		ns__ip6_solicited_node(&d->addr, &dst);
		ns__ip6_mcast_mac(&dst, mac);
		ns__nd_work_tx(w, ns__nd_build_ns(nd->nic, &src, &dst, &d->addr, d->nonce), mac);
		d->sent = true;
		d->probes_left--;
		d->deadline = now + nd->retrans;
		next = NS_MIN(next, d->deadline);
		i++;
	}
	return next;
}

/* ---- router solicitation ----------------------------------------------------------- */

static uint64_t rs_tick(struct ns_nd *nd, uint64_t now, struct ns_nd_work *w)
{
	if (!nd->rs_at || nd->rs_left <= 0 || nd->ra_seen)
		return UINT64_MAX;
	if (nd->rs_at > now)
		return nd->rs_at;
	static const uint8_t all_routers_mac[6] = { 0x33, 0x33, 0, 0, 0, 2 };
	ns__nd_work_tx(w, ns__nd_build_rs(nd->nic), all_routers_mac);
	nd->rs_left--;
	nd->rs_at = nd->rs_left ? now + NS_ND_RS_INTERVAL : 0;
	return nd->rs_at ? nd->rs_at : UINT64_MAX;
}

/* ---- default routers (RFC 4861 6.3.4) --------------------------------------------- */

static void route_default(struct ns_nd_work *w, int kind, const struct ns_addr *gw)
{
	struct ns_nd_act a = { .kind = kind, .gw = *gw, .plen = 0 };
	a.a.family = NS_AF_INET6;
	ns__nd_work_act(w, &a);
}

static void router_remove(struct ns_nd *nd, int i, struct ns_nd_work *w)
{
	bool was = nd->routers[i].installed;
	if (was)
		route_default(w, NS_ND_ACT_ROUTE_DEL, &nd->routers[i].addr);
	nd->routers[i] = nd->routers[--nd->n_routers];
	if (was && nd->n_routers) {
		nd->routers[0].installed = true;
		route_default(w, NS_ND_ACT_ROUTE_ADD, &nd->routers[0].addr);
	}
}

void ns__addrconf_router_locked(struct ns_nd *nd, const struct ns_addr *rtr, uint16_t lifetime,
				struct ns_nd_work *w)
{
	int i = 0;
	while (i < nd->n_routers && !ns_addr_eq(&nd->routers[i].addr, rtr))
		i++;
	if (lifetime == 0) {
		if (i < nd->n_routers)
			router_remove(nd, i, w);
		return;
	}
	if (i == nd->n_routers) {
		if (nd->n_routers == NS_ND_MAX_ROUTERS)
			return;
		nd->n_routers++;
		memset(&nd->routers[i], 0, sizeof(nd->routers[i]));
		nd->routers[i].addr = *rtr;
	}
	uint64_t now = ns__now(nd->nic->stk);
	nd->routers[i].expires = now + (uint64_t)lifetime * NS_NSEC_PER_SEC;
	ns__nd_schedule_locked(nd, nd->routers[i].expires);
	bool any = false;
	for (int k = 0; k < nd->n_routers; k++)
		any |= nd->routers[k].installed;
	if (!any) {
		nd->routers[i].installed = true;   /* corrected by the route_add result */
		route_default(w, NS_ND_ACT_ROUTE_ADD, rtr);
	}
}

bool ns__nd_default_router(struct ns_nic *nic, struct ns_addr *gw)
{
	struct ns_nd *nd = ns__nd(nic);
	bool found = false;
	uint64_t now = ns__now(nic->stk);
	pthread_mutex_lock(&nd->mu);
	for (int i = 0; i < nd->n_routers && !found; i++) {
		if (nd->routers[i].expires > now) {
			*gw = nd->routers[i].addr;
			found = true;
		}
	}
	pthread_mutex_unlock(&nd->mu);
	return found;
}

static uint64_t routers_tick(struct ns_nd *nd, uint64_t now, struct ns_nd_work *w)
{
	uint64_t next = UINT64_MAX;
	for (int i = 0; i < nd->n_routers;) {
		if (nd->routers[i].expires <= now) {
			router_remove(nd, i, w);
			continue;
		}
		next = NS_MIN(next, nd->routers[i].expires);
		i++;
	}
	return next;
}

/* ---- prefixes and SLAAC (RFC 4861 6.3.4, RFC 4862 5.5.3) ------------------------------ */

static uint64_t lifetime_at(uint64_t now, uint32_t secs)
{
	return secs == 0xffffffffu ? UINT64_MAX : now + (uint64_t)secs * NS_NSEC_PER_SEC;
}

static struct ns_nd_prefix *prefix_get(struct ns_nd *nd, const struct ns_addr *pfx, int plen)
{
	for (int i = 0; i < nd->n_prefixes; i++)
		if (nd->prefixes[i].plen == plen && ns_addr_eq(&nd->prefixes[i].prefix, pfx))
			return &nd->prefixes[i];
	if (nd->n_prefixes == NS_ND_MAX_PREFIXES)
		return NULL;
	struct ns_nd_prefix *p = &nd->prefixes[nd->n_prefixes++];
	memset(p, 0, sizeof(*p));
	p->prefix = *pfx;
	p->plen = plen;
	return p;
}

static void prefix_onlink(struct ns_nd *nd, struct ns_nd_prefix *p, uint32_t valid, uint64_t now,
			  struct ns_nd_work *w)
{
	struct ns_nd_act a = { .a = p->prefix, .plen = p->plen };
	if (valid == 0) {
		if (p->route_installed) {
			a.kind = NS_ND_ACT_ROUTE_DEL;
			ns__nd_work_act(w, &a);
			p->route_installed = false;
		}
		p->onlink_expires = 0;
		return;
	}
	p->onlink_expires = lifetime_at(now, valid);
	if (!p->route_installed) {
		p->route_installed = true;   /* corrected by the route_add result */
		a.kind = NS_ND_ACT_ROUTE_ADD;
		ns__nd_work_act(w, &a);
	}
}

static void prefix_slaac(struct ns_nd *nd, struct ns_nd_prefix *p, uint32_t valid, uint32_t pref,
			 uint64_t now, struct ns_nd_work *w)
{
	const uint64_t two_hours = 7200ull * NS_NSEC_PER_SEC;
	if (!p->autoconf) {
		if (valid == 0)
			return;
		p->addr = p->prefix;
		ns__ip6_eui64(nd->nic->mac, p->addr.b + 8);
		p->autoconf = true;
		p->valid_until = lifetime_at(now, valid);
		p->preferred_until = lifetime_at(now, pref);
		ns__nd_work_act(w, &(struct ns_nd_act){ .kind = NS_ND_ACT_ADDR_ADD, .a = p->addr,
							 .plen = 64 });
		return;
	}
	/* 5.5.3 (e): the two-hour rule against lifetime-shortening attacks */
	uint64_t nv = lifetime_at(now, valid);
	uint64_t remaining = p->valid_until > now ? p->valid_until - now : 0;
	if (nv > now + two_hours || nv > p->valid_until)
		p->valid_until = nv;
	else if (remaining > two_hours)
		p->valid_until = now + two_hours;
	p->preferred_until = lifetime_at(now, pref);
}

void ns__addrconf_prefix_locked(struct ns_nd *nd, const uint8_t *opt, struct ns_nd_work *w)
{
	int plen = opt[2];
	uint8_t flags = opt[3];
	uint32_t valid = ns_load_be32(opt + 4), pref = ns_load_be32(opt + 8);
	struct ns_addr pfx;
	ns_addr_v6(&pfx, opt + 16);
	if (plen > 128 || ns_ip6_is_linklocal(&pfx) || ns_ip6_is_mcast(&pfx) || pref > valid)
		return;         /* 6.3.4 / 5.5.3 (a)-(c) */
	for (int i = plen; i < 128; i++)
		pfx.b[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	bool onlink = flags & 0x80, autonomous = flags & 0x40;
	bool slaac = autonomous && nd->slaac && plen == 64;
	if (!onlink && !slaac)
		return;
	struct ns_nd_prefix *p = prefix_get(nd, &pfx, plen);
	if (!p)
		return;
	uint64_t now = ns__now(nd->nic->stk);
	if (onlink)
		prefix_onlink(nd, p, valid, now, w);
	if (slaac)
		prefix_slaac(nd, p, valid, pref, now, w);
	if (p->onlink_expires && p->onlink_expires != UINT64_MAX)
		ns__nd_schedule_locked(nd, p->onlink_expires);
	if (p->autoconf && p->valid_until != UINT64_MAX)
		ns__nd_schedule_locked(nd, p->valid_until);
}

static uint64_t prefixes_tick(struct ns_nd *nd, uint64_t now, struct ns_nd_work *w)
{
	uint64_t next = UINT64_MAX;
	for (int i = 0; i < nd->n_prefixes;) {
		struct ns_nd_prefix *p = &nd->prefixes[i];
		if (p->onlink_expires && p->onlink_expires <= now)
			prefix_onlink(nd, p, 0, now, w);
		if (p->autoconf && p->valid_until <= now) {
			ns__nd_work_act(w, &(struct ns_nd_act){ .kind = NS_ND_ACT_ADDR_DEL, .a = p->addr });
			p->autoconf = false;
		}
		if (!p->onlink_expires && !p->autoconf) {
			nd->prefixes[i] = nd->prefixes[--nd->n_prefixes];
			continue;
		}
		if (p->onlink_expires)
			next = NS_MIN(next, p->onlink_expires);
		if (p->autoconf)
			next = NS_MIN(next, p->valid_until);
		i++;
	}
	return next;
}

uint64_t ns__addrconf_tick_locked(struct ns_nd *nd, uint64_t now, struct ns_nd_work *w)
{
	uint64_t next = dad_tick(nd, now, w);
	next = NS_MIN(next, rs_tick(nd, now, w));
	next = NS_MIN(next, routers_tick(nd, now, w));
	next = NS_MIN(next, prefixes_tick(nd, now, w));
	return next;
}

int ns_nic_set_slaac(struct ns_stack *stk, int id, bool on)
{
	struct ns_nic *nic = ns__nic_get(stk, id);
	if (!nic || !ns__nd(nic))
		return -NS_ENODEV;
	struct ns_nd *nd = ns__nd(nic);
	pthread_mutex_lock(&nd->mu);
	nd->slaac = on;
	if (on && !nd->no_dad) {
		nd->ra_seen = false;
		/* ask routers again so the prefixes come soon */
		nd->rs_left = NS_ND_RS_COUNT;
		nd->rs_at = ns__now(stk);
		ns__nd_schedule_locked(nd, nd->rs_at);
	}
	pthread_mutex_unlock(&nd->mu);
	return 0;
}
