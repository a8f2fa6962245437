/*
 * udp/udp_table.c - UDP demux tables and port binding.
 *
 * Owns: the `ports` and `conns` RCU hash tables (cds_lfht), the bind
 * conflict rules of Linux (udp_lib_lport_inuse + inet_rcv_saddr_equal:
 * SO_REUSEADDR on both, SO_REUSEPORT on both, dual-stack :: versus
 * 0.0.0.0, IPV6_V6ONLY, bound devices), randomized ephemeral ports
 * (RFC 6056 algorithm 1 over 32768-60999, from the stack rng), and the
 * receive lookups: connected 4-tuple first, then the best-scoring bound
 * socket (exact address beats wildcard, AF_INET beats dual-stack), with
 * SO_REUSEPORT groups chosen by flow hash; broadcast/multicast fan-out.
 * Readers (receive path) take no lock; writers hold udp->mu.
 */
#include <stdlib.h>
#include "udp_internal.h"

#define LOOPBACK4_IPV6 0x7f000006u      /* Linux's sk_rcv_saddr of a v6-only binding */
#define MAX_CANDS 64

enum { V6_ANY, V6_MAPPED, V6_OTHER };

int ns__udp_init(struct ns_stack *stk)
{
	struct ns_udp *u = calloc(1, sizeof(*u));
	if (!u)
		return -NS_ENOMEM;
	pthread_mutex_init(&u->mu, NULL);
	u->ports = ns__lfht_new(64);
	u->conns = ns__lfht_new(64);
	if (!u->ports || !u->conns) {
		if (u->ports)
			cds_lfht_destroy(u->ports, NULL);
		if (u->conns)
			cds_lfht_destroy(u->conns, NULL);
		free(u);
		return -NS_ENOMEM;
	}
	stk->udp = u;
	return 0;
}

void ns__udp_fini(struct ns_stack *stk)
{
	struct ns_udp *u = stk->udp;
	if (!u)
		return;
	/* Sockets were closed by the socket table; entries are gone. */
	ns_rcu_synchronize();
	cds_lfht_destroy(u->ports, NULL);
	cds_lfht_destroy(u->conns, NULL);
	pthread_mutex_destroy(&u->mu);
	free(u);
	stk->udp = NULL;
}

/* ---- entries ----------------------------------------------------------------- */

static unsigned long port_hash(struct ns_stack *stk, uint16_t port)
{
	uint8_t b[2];
	ns_store_be16(b, port);
	return (unsigned long)ns__siphash(stk->hash_seed, b, 2);
}

struct conn_key {
	const struct ns_addr *laddr, *raddr;
	uint16_t lport, rport;
};

static unsigned long conn_hash(struct ns_stack *stk, const struct ns_addr *l, uint16_t lport,
			       const struct ns_addr *r, uint16_t rport)
{
	struct ns_flow_key k;
	memset(&k, 0, sizeof(k));
	k.laddr = *l;
	k.raddr = *r;
	k.lport = lport;
	k.rport = rport;
	k.proto = NS_IPPROTO_UDP;
	return ns__flow_hash(stk, &k);
}

static int match_port(struct cds_lfht_node *n, const void *key)
{
	const struct udp_ent *e = caa_container_of(n, struct udp_ent, node);
	return e->lport == *(const uint16_t *)key;
}

static int match_conn(struct cds_lfht_node *n, const void *key)
{
	const struct udp_ent *e = caa_container_of(n, struct udp_ent, node);
	const struct conn_key *k = key;
	return e->lport == k->lport && e->rport == k->rport && ns_addr_eq(&e->laddr, k->laddr) &&
	       ns_addr_eq(&e->raddr, k->raddr);
}

static int v6_type(const uint8_t b[16])
{
	static const uint8_t z[16];
	if (memcmp(b, z, 16) == 0)
		return V6_ANY;
	return ns__addr_is_v4mapped(b) ? V6_MAPPED : V6_OTHER;
}

/* Snapshot of us as Linux's socket fields see it. */
static struct udp_ent *ent_new(struct udp_sock *us, const struct ns_addr *laddr, uint16_t lport)
{
	struct udp_ent *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	struct ns_sock *sk = us->sk;
	e->us = us;
	e->domain = sk->domain;
	e->laddr = *laddr;
	e->lport = lport;
	e->v6only = sk->v6only;
	e->bound_nic = sk->bound_nic;
	if (laddr->family == NS_AF_INET) {
		e->v4 = ns_addr_v4_u32(laddr);
		e->v6[10] = e->v6[11] = 0xff;
		memcpy(e->v6 + 12, laddr->b, 4);
	} else {
		memcpy(e->v6, laddr->b, 16);
		e->v4 = ns_addr_is_any(laddr) ? 0 : LOOPBACK4_IPV6;
	}
	if (us->connected) {
		e->connected = true;
		e->raddr = us->raddr;
		e->rport = us->rport;
	}
	return e;
}

static void ent_free_rcu(struct rcu_head *h)
{
	free(caa_container_of(h, struct udp_ent, rcu));
}

static void ent_del(struct cds_lfht *ht, struct udp_ent *e)
{
	if (!e)
		return;
	cds_lfht_del(ht, &e->node);
	ns_call_rcu(&e->rcu, ent_free_rcu);
}

/* ---- bind conflicts (Linux inet_rcv_saddr_equal with wildcards) ---------------- */

static bool v4_equal(uint32_t a, uint32_t b, bool b_v6only)
{
	if (b_v6only)
		return false;
	return a == b || a == 0 || b == 0;
}

static bool saddr_equal(const struct udp_ent *a, const struct udp_ent *b)
{
	if (a->domain != NS_AF_INET6)
		return v4_equal(a->v4, b->v4, b->v6only);
	int t1 = v6_type(a->v6);
	int t2 = b->domain == NS_AF_INET6 ? v6_type(b->v6) : V6_MAPPED;
	if (t1 == V6_MAPPED && t2 == V6_MAPPED)
		return v4_equal(a->v4, b->v4, b->v6only);
	if (t1 == V6_ANY && t2 == V6_ANY)
		return true;
	if (t2 == V6_ANY && !(b->v6only && t1 == V6_MAPPED))
		return true;
	if (t1 == V6_ANY && !(a->v6only && t2 == V6_MAPPED))
		return true;
	return b->domain == NS_AF_INET6 && memcmp(a->v6, b->v6, 16) == 0;
}

static bool sk_flag(const bool *f) { return __atomic_load_n(f, __ATOMIC_RELAXED); }

/* Is port taken for the would-be entry a?  Under udp->mu. */
static bool port_inuse(struct ns_stack *stk, const struct udp_ent *a, uint16_t port)
{
	struct ns_udp *u = stk->udp;
	struct ns_sock *ska = a->us->sk;
	struct cds_lfht_iter it;
	bool inuse = false;
	ns_rcu_read_lock();
	cds_lfht_lookup(u->ports, port_hash(stk, port), match_port, &port, &it);
	for (struct cds_lfht_node *n = cds_lfht_iter_get_node(&it); n && !inuse;
	     cds_lfht_next_duplicate(u->ports, match_port, &port, &it), n = cds_lfht_iter_get_node(&it)) {
		const struct udp_ent *b = caa_container_of(n, struct udp_ent, node);
		struct ns_sock *skb = b->us->sk;
		if (b->us == a->us)
			continue;
		if (b->bound_nic && a->bound_nic && b->bound_nic != a->bound_nic)
			continue;
		if (sk_flag(&skb->reuseaddr) && ska->reuseaddr)
			continue;
		if (!saddr_equal(a, b))
			continue;
		if (sk_flag(&skb->reuseport) && ska->reuseport)
			continue;
		inuse = true;
	}
	ns_rcu_read_unlock();
	return inuse;
}

int ns__udp_bind_locked(struct ns_stack *stk, struct udp_sock *us, const struct ns_addr *laddr,
			uint16_t port)
{
	struct ns_udp *u = stk->udp;
	struct udp_ent *e = ent_new(us, laddr, port);
	if (!e)
		return -NS_ENOBUFS;
	pthread_mutex_lock(&u->mu);
	if (port == 0) {
		uint32_t n = UDP_EPHEMERAL_HIGH - UDP_EPHEMERAL_LOW + 1;
		uint32_t start = ns__rand32(stk) % n;
		for (uint32_t i = 0; i < n && !port; i++) {
			uint16_t p = (uint16_t)(UDP_EPHEMERAL_LOW + (start + i) % n);
			if (!port_inuse(stk, e, p))
				port = p;
		}
	} else if (port_inuse(stk, e, port)) {
		port = 0;
	}
	if (!port) {
		pthread_mutex_unlock(&u->mu);
		free(e);
		return -NS_EADDRINUSE;
	}
	e->lport = port;
	e->seq = ++u->seq;
	us->laddr = *laddr;
	us->lport = port;
	cds_lfht_add(u->ports, port_hash(stk, port), &e->node);
	us->pent = e;
	pthread_mutex_unlock(&u->mu);
	return 0;
}

void ns__udp_rehash_locked(struct ns_stack *stk, struct udp_sock *us)
{
	struct ns_udp *u = stk->udp;
	if (!us->lport)
		return;
	struct udp_ent *pe = ent_new(us, &us->laddr, us->lport);
	struct udp_ent *ce = us->connected ? ent_new(us, &us->laddr, us->lport) : NULL;
	pthread_mutex_lock(&u->mu);
	if (pe) {
		pe->seq = us->pent ? us->pent->seq : ++u->seq;
		cds_lfht_add(u->ports, port_hash(stk, us->lport), &pe->node);
		ent_del(u->ports, us->pent);
		us->pent = pe;
	}
	if (ce)
		cds_lfht_add(u->conns, conn_hash(stk, &ce->laddr, ce->lport, &ce->raddr, ce->rport),
			     &ce->node);
	ent_del(u->conns, us->cent);
	us->cent = ce;
	pthread_mutex_unlock(&u->mu);
}

void ns__udp_unhash_locked(struct ns_stack *stk, struct udp_sock *us)
{
	struct ns_udp *u = stk->udp;
	pthread_mutex_lock(&u->mu);
	ent_del(u->ports, us->pent);
	ent_del(u->conns, us->cent);
	us->pent = us->cent = NULL;
	us->lport = 0;
	pthread_mutex_unlock(&u->mu);
}

/* ---- receive lookups ------------------------------------------------------------ */

/* nic 0: unknown (ICMP error lookups), matches any binding */
static bool dev_ok(const struct udp_ent *e, int nic)
{
	return !e->bound_nic || !nic || e->bound_nic == nic;
}

/* Linux compute_score for an unconnected entry; -1: no match. */
static int score(const struct udp_ent *e, const struct ns_addr *daddr, int nic)
{
	int s;
	if (!dev_ok(e, nic))
		return -1;
	if (daddr->family == NS_AF_INET) {
		if (e->domain == NS_AF_INET)
			s = 2;
		else if (e->v6only)
			return -1;
		else
			s = 1;
		if (e->laddr.family == NS_AF_INET6) {
			if (!ns_addr_is_any(&e->laddr))
				return -1;
		} else if (!ns_addr_is_any(&e->laddr)) {
			if (!ns_addr_eq(&e->laddr, daddr))
				return -1;
			s += 4;
		}
	} else {
		if (e->domain != NS_AF_INET6 || e->laddr.family != NS_AF_INET6)
			return -1;
		s = 1;
		if (!ns_addr_is_any(&e->laddr)) {
			if (!ns_addr_eq(&e->laddr, daddr))
				return -1;
			s += 4;
		}
	}
	if (e->bound_nic)
		s += 4;
	return s;
}

static struct ns_sock *sk_hold(struct udp_sock *us)
{
	struct ns_sock *sk = us->sk;
	return urcu_ref_get_unless_zero(&sk->ref) ? sk : NULL;
}

static struct ns_sock *lookup_conn(struct ns_stack *stk, const struct ns_addr *saddr, uint16_t sport,
				   const struct ns_addr *daddr, uint16_t dport, int nic)
{
	struct ns_udp *u = stk->udp;
	struct conn_key k = { .laddr = daddr, .raddr = saddr, .lport = dport, .rport = sport };
	struct cds_lfht_iter it;
	cds_lfht_lookup(u->conns, conn_hash(stk, daddr, dport, saddr, sport), match_conn, &k, &it);
	for (struct cds_lfht_node *n = cds_lfht_iter_get_node(&it); n;
	     cds_lfht_next_duplicate(u->conns, match_conn, &k, &it), n = cds_lfht_iter_get_node(&it)) {
		const struct udp_ent *e = caa_container_of(n, struct udp_ent, node);
		if (!dev_ok(e, nic))
			continue;
		if (daddr->family == NS_AF_INET && e->domain == NS_AF_INET6 && e->v6only)
			continue;
		struct ns_sock *sk = sk_hold(e->us);
		if (sk)
			return sk;
	}
	return NULL;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct udp_ent *x = *(const struct udp_ent *const *)a;
	const struct udp_ent *y = *(const struct udp_ent *const *)b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Among equally good entries: a SO_REUSEPORT group sharing one address is
 * chosen by flow hash; otherwise the newest binding wins (Linux). */
static const struct udp_ent *pick(struct ns_stack *stk, const struct udp_ent **c, int n,
				  const struct ns_addr *saddr, uint16_t sport,
				  const struct ns_addr *daddr, uint16_t dport)
{
	const struct udp_ent *group[MAX_CANDS];
	int g = 0;
	for (int i = 0; i < n; i++)
		if (sk_flag(&c[i]->us->sk->reuseport) && ns_addr_eq(&c[i]->laddr, &c[0]->laddr))
			group[g++] = c[i];
	if (g > 1) {
		qsort(group, (size_t)g, sizeof(group[0]), cmp_seq);
		struct ns_flow_key k;
		memset(&k, 0, sizeof(k));
		k.laddr = *daddr;
		k.raddr = *saddr;
		k.lport = dport;
		k.rport = sport;
		k.proto = NS_IPPROTO_UDP;
		return group[ns__flow_hash(stk, &k) % (uint32_t)g];
	}
	const struct udp_ent *best = c[0];
	for (int i = 1; i < n; i++)
		if (c[i]->seq > best->seq)
			best = c[i];
	return best;
}

struct ns_sock *ns__udp_lookup(struct ns_stack *stk, const struct ns_addr *saddr, uint16_t sport,
			       const struct ns_addr *daddr, uint16_t dport, int nic)
{
	struct ns_udp *u = stk->udp;
	struct ns_sock *sk;
	ns_rcu_read_lock();
	sk = lookup_conn(stk, saddr, sport, daddr, dport, nic);
	if (sk) {
		ns_rcu_read_unlock();
		return sk;
	}
	const struct udp_ent *cand[MAX_CANDS];
	int n = 0, best = -1;
	struct cds_lfht_iter it;
	cds_lfht_lookup(u->ports, port_hash(stk, dport), match_port, &dport, &it);
	for (struct cds_lfht_node *nd = cds_lfht_iter_get_node(&it); nd;
	     cds_lfht_next_duplicate(u->ports, match_port, &dport, &it), nd = cds_lfht_iter_get_node(&it)) {
		const struct udp_ent *e = caa_container_of(nd, struct udp_ent, node);
		if (e->connected)
			continue;
		int s = score(e, daddr, nic);
		if (s < 0 || s < best)
			continue;
		if (s > best) {
			best = s;
			n = 0;
		}
		if (n < MAX_CANDS)
			cand[n++] = e;
	}
	sk = NULL;
	if (n) {
		const struct udp_ent *e = pick(stk, cand, n, saddr, sport, daddr, dport);
		sk = sk_hold(e->us);
	}
	ns_rcu_read_unlock();
	return sk;
}

/* Linux __udp_is_mcast_sock */
static bool mcast_match(const struct udp_ent *e, const struct ns_addr *saddr, uint16_t sport,
			const struct ns_addr *daddr, int nic)
{
	if (!dev_ok(e, nic))
		return false;
	if (e->connected && (!ns_addr_eq(&e->raddr, saddr) || (e->rport && e->rport != sport)))
		return false;
	if (daddr->family == NS_AF_INET) {
		if (e->domain == NS_AF_INET6 && e->v6only)
			return false;
		if (e->laddr.family == NS_AF_INET6)
			return ns_addr_is_any(&e->laddr);
	} else if (e->domain != NS_AF_INET6 || e->laddr.family != NS_AF_INET6) {
		return false;
	}
	return ns_addr_is_any(&e->laddr) || ns_addr_eq(&e->laddr, daddr);
}

int ns__udp_lookup_all(struct ns_stack *stk, const struct ns_addr *saddr, uint16_t sport,
		       const struct ns_addr *daddr, uint16_t dport, int nic, udp_each_fn fn, void *ctx)
{
	struct ns_udp *u = stk->udp;
	struct ns_sock *found[MAX_CANDS];
	int n = 0;
	struct cds_lfht_iter it;
	ns_rcu_read_lock();
	cds_lfht_lookup(u->ports, port_hash(stk, dport), match_port, &dport, &it);
	for (struct cds_lfht_node *nd = cds_lfht_iter_get_node(&it); nd && n < MAX_CANDS;
	     cds_lfht_next_duplicate(u->ports, match_port, &dport, &it), nd = cds_lfht_iter_get_node(&it)) {
		const struct udp_ent *e = caa_container_of(nd, struct udp_ent, node);
		if (!mcast_match(e, saddr, sport, daddr, nic))
			continue;
		struct ns_sock *sk = sk_hold(e->us);
		if (sk)
			found[n++] = sk;
	}
	ns_rcu_read_unlock();
	for (int i = 0; i < n; i++)
		fn(found[i], ctx);
	return n;
}
