/*
 * ipv6/nd_cache.c - the neighbour cache (RFC 4861 7.3, appendix C) and the
 * per-NIC ND state: INCOMPLETE/REACHABLE/STALE/DELAY/PROBE with Linux's
 * timers (retrans 1 s, reachable 30 s randomized, delay 5 s, 3 multicast
 * and 3 unicast probes), a bounded queue per unresolved neighbour (Linux
 * unres_qlen_bytes), the NIC's single ND timer that also drives DAD, router
 * solicitation, prefix/router lifetimes (addrconf.c) and MLD (mld.c), and
 * the work list that performs what was decided under nd->mu.
 * Not: parsing ND messages (nd.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include "ipv6_internal.h"

static uint32_t hash_addr(const struct ns_addr *a)
{
	uint32_t h = ns_load_be32(a->b + 12) ^ ns_load_be32(a->b + 8) * 0x9e3779b1u;
	return (h ^ (h >> 16)) % NS_ND_HASH;
}

struct ns_nd_neigh *ns__nd_lookup_locked(struct ns_nd *nd, const struct ns_addr *a)
{
	for (struct ns_nd_neigh *e = nd->hash[hash_addr(a)]; e; e = e->next)
		if (memcmp(e->addr.b, a->b, 16) == 0)
			return e;
	return NULL;
}

static void unlink_entry(struct ns_nd *nd, struct ns_nd_neigh *e)
{
	struct ns_nd_neigh **pp = &nd->hash[hash_addr(&e->addr)];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	nd->n_neigh--;
}

static void free_entry(struct ns_nd *nd, struct ns_nd_neigh *e)
{
	unlink_entry(nd, e);
	ns_pkt_unref_chain(e->q_head);
	free(e);
}

/* Table full: evict the least recently used entry that is not resolving. */
static bool evict_one(struct ns_nd *nd)
{
	struct ns_nd_neigh *victim = NULL;
	for (int i = 0; i < NS_ND_HASH; i++)
		for (struct ns_nd_neigh *e = nd->hash[i]; e; e = e->next)
			if (e->state != NS_ND_INCOMPLETE && (!victim || e->used < victim->used))
				victim = e;
	if (!victim)
		return false;
	free_entry(nd, victim);
	return true;
}

struct ns_nd_neigh *ns__nd_create_locked(struct ns_nd *nd, const struct ns_addr *a)
{
	if (nd->n_neigh >= NS_ND_MAX_NEIGH && !evict_one(nd))
		return NULL;
	struct ns_nd_neigh *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	ns_addr_v6(&e->addr, a->b);
	e->used = ns__now(nd->nic->stk);
	uint32_t h = hash_addr(a);
	e->next = nd->hash[h];
	nd->hash[h] = e;
	nd->n_neigh++;
	return e;
}

void ns__nd_set_reachable_locked(struct ns_nd *nd, uint64_t base)
{
	/* RFC 4861 6.3.2: uniformly in [0.5, 1.5) x BaseReachableTime */
	nd->base_reachable = base;
	uint64_t r = ns__rand32(nd->nic->stk);
	nd->reachable = base / 2 + (base * r >> 32);
}

void ns__nd_schedule_locked(struct ns_nd *nd, uint64_t when)
{
	if (nd->timer_at == 0 || when < nd->timer_at) {
		nd->timer_at = when;
		ns__timer_arm(nd->nic->stk, &nd->timer, when);
	}
}

/* ---- the work list ------------------------------------------------------------ */

void ns__nd_work_tx(struct ns_nd_work *w, struct ns_pkt *pkt, const uint8_t mac[6])
{
	if (!pkt)
		return;
	if (w->ntx == w->txcap) {
		int ncap = w->txcap ? w->txcap * 2 : 8;
		struct ns_nd_tx *n = realloc(w->tx, (size_t)ncap * sizeof(*n));
		if (!n) {
			ns_pkt_unref_chain(pkt);
			return;
		}
		w->tx = n;
		w->txcap = ncap;
	}
	w->tx[w->ntx].chain = pkt;
	memcpy(w->tx[w->ntx].mac, mac, 6);
	w->ntx++;
}

void ns__nd_work_act(struct ns_nd_work *w, const struct ns_nd_act *a)
{
	if (w->nact < (int)NS_ARRAY_SIZE(w->act))
		w->act[w->nact++] = *a;
}

static void route_result(struct ns_nic *nic, const struct ns_nd_act *a, bool ok)
{
	struct ns_nd *nd = ns__nd(nic);
	pthread_mutex_lock(&nd->mu);
	for (int i = 0; i < nd->n_routers; i++)
		if (a->plen == 0 && ns_addr_eq(&nd->routers[i].addr, &a->gw))
			nd->routers[i].installed = ok;
	for (int i = 0; i < nd->n_prefixes; i++)
		if (a->plen && nd->prefixes[i].plen == a->plen &&
		    ns_addr_eq(&nd->prefixes[i].prefix, &a->a))
			nd->prefixes[i].route_installed = ok;
	pthread_mutex_unlock(&nd->mu);
}

static void run_act(struct ns_nic *nic, const struct ns_nd_act *a)
{
	struct ns_stack *stk = nic->stk;
	char buf[64];
	switch (a->kind) {
	case NS_ND_ACT_ROUTE_ADD:
		route_result(nic, a, ns_route_add(stk, &a->a, a->plen, a->gw.family ? &a->gw : NULL,
						  nic->id) == 0);
		break;
	case NS_ND_ACT_ROUTE_DEL:
		ns_route_del(stk, &a->a, a->plen);
		break;
	case NS_ND_ACT_ADDR_ADD:
		if (ns_nic_addr_add(stk, nic->id, &a->a, a->plen) == 0)
			ns__nic_addr_set_flags(stk, nic->id, &a->a, NS_IFA_AUTOCONF, 0);
		break;
	case NS_ND_ACT_ADDR_DEL:
		ns_nic_addr_del(stk, nic->id, &a->a);
		break;
	case NS_ND_ACT_DAD_DONE:
		ns__nic_addr_set_flags(stk, nic->id, &a->a, 0, NS_IFA_TENTATIVE);
		ns__log(NS_LOG_INFO, "%s: %s: DAD complete", nic->name,
			ns_addr_fmt(&a->a, buf, sizeof(buf)));
		break;
	case NS_ND_ACT_DAD_FAILED:
		ns__nic_addr_set_flags(stk, nic->id, &a->a, NS_IFA_DUPLICATE, 0);
		ns__log(NS_LOG_WARN, "%s: %s: duplicate address detected, not used", nic->name,
			ns_addr_fmt(&a->a, buf, sizeof(buf)));
		break;
	}
}

static void send_unreach(struct ns_nic *nic, struct ns_pkt *p)
{
	const uint8_t *h = ns_pkt_data(p);
	struct ns_ip_meta m = { .nic = nic, .pkt_type = NS_PKT_HOST, .l3_off = p->data,
				.proto = h[6], .ttl = h[7] };
	ns_addr_v6(&m.src, h + 8);
	ns_addr_v6(&m.dst, h + 24);
	p->l3 = p->data;
	/* RFC 4861 7.2.2: address unreachable for each queued packet */
	if (ns__ip6_is_ours(nic, &m.src, true, NULL))
		ns__icmp6_send_error(nic->stk, p, &m, NS_ICMP6_DST_UNREACH, NS_ICMP6_ADDR_UNREACH, 0);
}

void ns__nd_work_run(struct ns_nic *nic, struct ns_nd_work *w)
{
	for (int i = 0; i < w->nact; i++)
		run_act(nic, &w->act[i]);
	for (int i = 0; i < w->ntx; i++) {
		struct ns_pkt *p = w->tx[i].chain;
		while (p) {
			struct ns_pkt *n = p->next;
			p->next = NULL;
			ns__ipv6_xmit_mac(nic, p, w->tx[i].mac);
			p = n;
		}
	}
	free(w->tx);
	w->tx = NULL;
	w->ntx = w->txcap = 0;
	while (w->unreach) {
		struct ns_pkt *n = w->unreach->next;
		w->unreach->next = NULL;
		send_unreach(nic, w->unreach);
		ns_pkt_unref(w->unreach);
		w->unreach = n;
	}
}

/* ---- solicitations ----------------------------------------------------------------- */

static void solicit(struct ns_nd *nd, struct ns_nd_neigh *e, bool unicast, struct ns_nd_work *w)
{
	struct ns_addr src, dst;
	if (e->ns_src.family && ns__ip6_is_ours(nd->nic, &e->ns_src, false, NULL))
		src = e->ns_src;
	else if (ns__nic_src_select(nd->nic, &e->addr, &src) < 0)
		return;         /* no usable source yet (Linux sends nothing either) */
	uint8_t mac[6];
	if (unicast) {
		dst = e->addr;
		memcpy(mac, e->mac, 6);
	} else {
		ns__ip6_solicited_node(&e->addr, &dst);
		ns__ip6_mcast_mac(&dst, mac);
	}
	ns__nd_work_tx(w, ns__nd_build_ns(nd->nic, &src, &dst, &e->addr, NULL), mac);
}

static void release_queue(struct ns_nd *nd, struct ns_nd_neigh *e, struct ns_nd_work *w)
{
	if (!e->q_head)
		return;
	ns__nd_work_tx(w, e->q_head, e->mac);
	e->q_head = e->q_tail = NULL;
	e->q_bytes = 0;
	if (e->state == NS_ND_STALE) {
		/* the queued packets were sent through a STALE entry (7.3.3) */
		e->state = NS_ND_DELAY;
		e->deadline = ns__now(nd->nic->stk) + NS_ND_T_DELAY;
		ns__nd_schedule_locked(nd, e->deadline);
	}
}

static void enqueue(struct ns_nd *nd, struct ns_nd_neigh *e, struct ns_pkt *pkt)
{
	pkt->next = NULL;
	while (e->q_head && e->q_bytes + pkt->truesize > NS_ND_QUEUE_BYTES) {
		struct ns_pkt *old = e->q_head;
		e->q_head = old->next;
		if (!e->q_head)
			e->q_tail = NULL;
		e->q_bytes -= old->truesize;
		NS_STAT_INC(nd->nic->stk, NdQueueDrops);
		ns_pkt_unref(old);
	}
	if (e->q_tail)
		e->q_tail->next = pkt;
	else
		e->q_head = pkt;
	e->q_tail = pkt;
	e->q_bytes += pkt->truesize;
}

static void enter(struct ns_nd *nd, struct ns_nd_neigh *e, int state, uint64_t deadline)
{
	e->state = (uint8_t)state;
	e->probes = 0;
	e->deadline = deadline;
	if (deadline)
		ns__nd_schedule_locked(nd, deadline);
}

int ns__nd_output(struct ns_nic *nic, struct ns_pkt *pkt, const struct ns_addr *nexthop)
{
	struct ns_nd *nd = ns__nd(nic);
	struct ns_stack *stk = nic->stk;
	struct ns_nd_work w = { 0 };
	uint64_t now = ns__now(stk);
	uint8_t mac[6];
	bool send = false;
	pthread_mutex_lock(&nd->mu);
	struct ns_nd_neigh *e = ns__nd_lookup_locked(nd, nexthop);
	if (!e) {
		e = ns__nd_create_locked(nd, nexthop);
		if (!e) {
			pthread_mutex_unlock(&nd->mu);
			NS_STAT_INC(stk, NdQueueDrops);
			ns_pkt_unref(pkt);
			return -NS_ENOBUFS;
		}
		ns_addr_v6(&e->ns_src, ns_pkt_data(pkt) + 8);
		if (!ns__ip6_is_ours(nic, &e->ns_src, false, NULL))
			e->ns_src.family = 0;
		enter(nd, e, NS_ND_INCOMPLETE, now + nd->retrans);
		solicit(nd, e, false, &w);
		e->probes = 1;
	}
	e->used = now;
	switch (e->state) {
	case NS_ND_INCOMPLETE:
		enqueue(nd, e, pkt);
		break;
	case NS_ND_REACHABLE:
	case NS_ND_STALE:
		/* 7.3.3: sending through a STALE entry (or one whose reachability
		 * has aged) starts the DELAY timer */
		if (e->state == NS_ND_STALE || now - e->confirmed >= nd->reachable)
			enter(nd, e, NS_ND_DELAY, now + NS_ND_T_DELAY);
		send = true;
		break;
	default:
		send = true;
		break;
	}
	memcpy(mac, e->mac, 6);
	pthread_mutex_unlock(&nd->mu);
	ns__nd_work_run(nic, &w);
	if (send)
		return ns__eth_output(nic, pkt, mac, NS_ETHERTYPE_IPV6);
	return 0;
}

/* ---- what NS, NA and RA tell us ------------------------------------------------------ */

void ns__nd_learn_locked(struct ns_nd *nd, const struct ns_addr *a, const uint8_t mac[6],
			 bool is_router, struct ns_nd_work *w)
{
	struct ns_nd_neigh *e = ns__nd_lookup_locked(nd, a);
	if (!e) {
		/* RFC 4861 7.2.3: create it STALE */
		e = ns__nd_create_locked(nd, a);
		if (!e)
			return;
		memcpy(e->mac, mac, 6);
		enter(nd, e, NS_ND_STALE, 0);
	} else if (e->state == NS_ND_INCOMPLETE) {
		memcpy(e->mac, mac, 6);
		enter(nd, e, NS_ND_STALE, 0);
		release_queue(nd, e, w);
	} else if (memcmp(e->mac, mac, 6) != 0) {
		memcpy(e->mac, mac, 6);
		enter(nd, e, NS_ND_STALE, 0);
	}
	if (is_router)
		e->is_router = true;
}

static void confirm(struct ns_nd *nd, struct ns_nd_neigh *e)
{
	uint64_t now = ns__now(nd->nic->stk);
	e->confirmed = now;
	enter(nd, e, NS_ND_REACHABLE, now + nd->reachable);
}

/* RFC 4861 7.2.5 */
void ns__nd_na_locked(struct ns_nd *nd, const struct ns_addr *target, const uint8_t *tlla,
		      bool router, bool solicited, bool override, struct ns_nd_work *w)
{
	struct ns_nd_neigh *e = ns__nd_lookup_locked(nd, target);
	if (!e)
		return;                 /* no entry: silently discarded */
	if (e->state == NS_ND_INCOMPLETE) {
		if (!tlla)
			return;
		memcpy(e->mac, tlla, 6);
		if (solicited)
			confirm(nd, e);
		else
			enter(nd, e, NS_ND_STALE, 0);
		e->is_router = router;
		release_queue(nd, e, w);
		return;
	}
	bool differs = tlla && memcmp(tlla, e->mac, 6) != 0;
	if (!override && differs) {
		if (e->state == NS_ND_REACHABLE)
			enter(nd, e, NS_ND_STALE, 0);
		return;
	}
	if (differs)
		memcpy(e->mac, tlla, 6);
	if (solicited)
		confirm(nd, e);
	else if (differs)
		enter(nd, e, NS_ND_STALE, 0);
	if (e->is_router && !router)
		ns__addrconf_router_locked(nd, target, 0, w);
	e->is_router = router;
}

/* ---- the timer ------------------------------------------------------------------------- */

static void fail_entry(struct ns_nd *nd, struct ns_nd_neigh *e, struct ns_nd_work *w)
{
	NS_STAT_INC(nd->nic->stk, NdResolveFailed);
	if (e->q_tail) {
		e->q_tail->next = w->unreach;
		w->unreach = e->q_head;
		e->q_head = e->q_tail = NULL;
	}
	free_entry(nd, e);
}

/* One entry's due work; returns false when the entry was freed. */
static bool tick_entry(struct ns_nd *nd, struct ns_nd_neigh *e, uint64_t now, struct ns_nd_work *w)
{
	if (!e->deadline || e->deadline > now)
		return true;
	switch (e->state) {
	case NS_ND_INCOMPLETE:
		if (e->probes >= NS_ND_MCAST_PROBES) {
			fail_entry(nd, e, w);
			return false;
		}
		solicit(nd, e, false, w);
		e->probes++;
		e->deadline = now + nd->retrans;
		break;
	case NS_ND_REACHABLE:
		enter(nd, e, NS_ND_STALE, 0);
		break;
	case NS_ND_DELAY:
		if (now - e->confirmed < NS_ND_T_DELAY) {
			confirm(nd, e);
			break;
		}
		enter(nd, e, NS_ND_PROBE, now + nd->retrans);
		solicit(nd, e, true, w);
		e->probes = 1;
		break;
	case NS_ND_PROBE:
		if (e->probes >= NS_ND_UCAST_PROBES) {
			fail_entry(nd, e, w);
			return false;
		}
		solicit(nd, e, true, w);
		e->probes++;
		e->deadline = now + nd->retrans;
		break;
	default:
		e->deadline = 0;
		break;
	}
	return true;
}

uint64_t ns__nd_cache_tick_locked(struct ns_nd *nd, uint64_t now, struct ns_nd_work *w)
{
	uint64_t next = UINT64_MAX;
	bool gc = nd->n_neigh > 128;    /* Linux gc_thresh1 */
	for (int i = 0; i < NS_ND_HASH; i++) {
		struct ns_nd_neigh *e = nd->hash[i];
		while (e) {
			struct ns_nd_neigh *n = e->next;
			if (tick_entry(nd, e, now, w)) {
				if (gc && e->state == NS_ND_STALE && now - e->used > NS_ND_STALE_GC)
					free_entry(nd, e);
				else if (e->deadline && e->deadline < next)
					next = e->deadline;
			}
			e = n;
		}
	}
	return next;
}

static void nd_timer(void *arg)
{
	struct ns_nic *nic = arg;
	struct ns_nd *nd = ns__nd(nic);
	struct ns_nd_work w = { 0 };
	pthread_mutex_lock(&nd->mu);
	uint64_t now = ns__now(nic->stk);
	nd->timer_at = 0;
	uint64_t next = ns__nd_cache_tick_locked(nd, now, &w);
	next = NS_MIN(next, ns__addrconf_tick_locked(nd, now, &w));
	next = NS_MIN(next, ns__mld_tick_locked(nd, now, &w));
	if (next != UINT64_MAX)
		ns__nd_schedule_locked(nd, next);
	pthread_mutex_unlock(&nd->mu);
	ns__nd_work_run(nic, &w);
}

/* ---- NIC lifecycle ------------------------------------------------------------------------- */

int ns__nd_nic_init(struct ns_nic *nic)
{
	struct ns_nd *nd = calloc(1, sizeof(*nd));
	if (!nd)
		return -NS_ENOMEM;
	nd->nic = nic;
	pthread_mutex_init(&nd->mu, NULL);
	ns__timer_init(&nd->timer, nd_timer, nic);
	nd->retrans = NS_ND_T_RETRANS;
	atomic_init(&nd->cur_hlim, 0);
	atomic_init(&nd->mtu6, 0);
	nd->no_dad = (nic->link->caps & (NS_LINK_CAP_NOARP | NS_LINK_CAP_LOOPBACK)) != 0 ||
		     (nic->stk->flags & NS_STACK_F_NOAUTO6);
	nic->nd = nd;
	ns__nd_set_reachable_locked(nd, NS_ND_T_REACHABLE);
	struct ns_addr all;
	ns__ip6_all_nodes(&all);
	pthread_mutex_lock(&nd->mu);
	ns__mld_join_locked(nd, &all);
	pthread_mutex_unlock(&nd->mu);
	int err = ns__addrconf_nic_init(nic);
	if (err < 0) {
		ns__nd_nic_fini(nic);
		return err;
	}
	return 0;
}

void ns__nd_nic_fini(struct ns_nic *nic)
{
	struct ns_nd *nd = ns__nd(nic);
	if (!nd)
		return;
	ns__timer_cancel_sync(nic->stk, &nd->timer);
	for (int i = 0; i < NS_ND_HASH; i++) {
		while (nd->hash[i])
			free_entry(nd, nd->hash[i]);
	}
	pthread_mutex_destroy(&nd->mu);
	free(nd);
	nic->nd = NULL;
}

int ns__nd_entry_state(struct ns_nic *nic, const struct ns_addr *a, uint8_t mac[6], int *qlen)
{
	struct ns_nd *nd = ns__nd(nic);
	pthread_mutex_lock(&nd->mu);
	struct ns_nd_neigh *e = ns__nd_lookup_locked(nd, a);
	int st = e ? e->state : -1;
	if (e && mac)
		memcpy(mac, e->mac, 6);
	if (qlen) {
		*qlen = 0;
		for (struct ns_pkt *p = e ? e->q_head : NULL; p; p = p->next)
			(*qlen)++;
	}
	pthread_mutex_unlock(&nd->mu);
	return st;
}
