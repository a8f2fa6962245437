/*
 * tcp/tcp.c - TCP per-stack state: init/fini, the connection tables and
 * local port ownership.
 *
 * Owns: the established table (4-tuple -> endpoint, SYN_RECV..TIME_WAIT,
 * lock-free lookups on cds_lfht plus a socket reference), the listener table
 * (local port -> listening endpoints, SO_REUSEPORT selection), the bind
 * table (port -> every endpoint owning it, Linux's bind conflict rules with
 * SO_REUSEADDR / SO_REUSEPORT / TIME_WAIT), ephemeral port choice for bind(0)
 * and connect (RFC 6056), state changes and teardown (tcp_set_state,
 * tcp_done), the RFC 5961 challenge-ACK budget.
 */
#include <stdlib.h>
#include "tcp_internal.h"
#include "tcp_timewait.h"

struct ns_tcp *tcp_of(struct ns_stack *stk) { return stk->tcp; }

int ns__tcp_init(struct ns_stack *stk)
{
	struct ns_tcp *tcp = calloc(1, sizeof(*tcp));
	if (!tcp)
		return -NS_ENOMEM;
	tcp->stk = stk;
	tcp->rmem[0] = TCP_RMEM_MIN_DEFAULT;
	tcp->rmem[1] = TCP_RMEM_DEF_DEFAULT;
	tcp->rmem[2] = TCP_RMEM_MAX_DEFAULT;
	tcp->wmem[0] = TCP_WMEM_MIN_DEFAULT;
	tcp->wmem[1] = TCP_WMEM_DEF_DEFAULT;
	tcp->wmem[2] = TCP_WMEM_MAX_DEFAULT;
	tcp->ehash = ns__lfht_new(1024);
	tcp->lhash = ns__lfht_new(64);
	if (!tcp->ehash || !tcp->lhash || tcp_tw_init(tcp) < 0) {
		if (tcp->ehash)
			cds_lfht_destroy(tcp->ehash, NULL);
		if (tcp->lhash)
			cds_lfht_destroy(tcp->lhash, NULL);
		if (tcp->twhash)
			cds_lfht_destroy(tcp->twhash, NULL);
		free(tcp);
		return -NS_ENOMEM;
	}
	pthread_mutex_init(&tcp->bind_mu, NULL);
	pthread_mutex_init(&tcp->chal_mu, NULL);
	ns_tcp_secrets_init(&tcp->sec, stk);
	ns_tcp_portsel_init(&tcp->portsel, stk, 0, 0);
	stk->tcp = tcp;
	return 0;
}

void tcp_post_unlock(struct tcp_ep *ep);

/* Aborts every endpoint still in a table (orphans, TIME_WAIT, listeners). */
static void tcp_abort_all(struct ns_tcp *tcp, struct cds_lfht *ht)
{
	for (;;) {
		struct ns_sock *sk = NULL;
		struct cds_lfht_iter it;
		struct tcp_ep *ep;
		ns_rcu_read_lock();
		struct cds_lfht_node *n;
		for (cds_lfht_first(ht, &it); (n = cds_lfht_iter_get_node(&it)) != NULL; cds_lfht_next(ht, &it)) {
			ep = caa_container_of(n, struct tcp_ep, hnode);
			if (urcu_ref_get_unless_zero(&ep->sk->ref)) {
				sk = ep->sk;
				break;
			}
		}
		ns_rcu_read_unlock();
		if (!sk)
			break;
		pthread_mutex_lock(&sk->mu);
		ep = tcp_ep_of(sk);
		bool was_listen = ep->state == TCP_LISTEN;
		if (was_listen)
			tcp_listen_stop(ep);
		if (ep->hashed)
			tcp_done(ep);
		pthread_mutex_unlock(&sk->mu);
		/* like input and timers: a dead embryonic child drops its creation
		 * reference (and so its listener's), a listener its accept queue */
		if (was_listen)
			tcp_listen_release_public(ep);
		tcp_post_unlock(ep);
		ns__sock_put(sk);
	}
	(void)tcp;
}

/*
 * A closed listener's embryonic children (SYN_RECV, not yet queued for
 * accept) go at once, silently, like Linux's request sockets whose listener
 * is gone (reqsk_timer_handler / tcp_v4_rcv drop them; a later ACK from the
 * peer finds no socket and gets a RST).  Called without locks held.
 */
void tcp_listen_drop_synq(struct tcp_ep *lep)
{
	struct ns_tcp *tcp = lep->tcp;
	struct ns_sock **v = NULL;
	size_t n = 0, cap = 0;
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;
	ns_rcu_read_lock();
	for (cds_lfht_first(tcp->ehash, &it); (node = cds_lfht_iter_get_node(&it)) != NULL;
	     cds_lfht_next(tcp->ehash, &it)) {
		struct tcp_ep *ep = caa_container_of(node, struct tcp_ep, hnode);
		/* unlocked peeks, checked again under the child's lock */
		if (__atomic_load_n(&ep->parent, __ATOMIC_RELAXED) != lep ||
		    __atomic_load_n(&ep->state, __ATOMIC_RELAXED) != TCP_SYN_RECV)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct ns_sock **nv = realloc(v, nc * sizeof(*nv));
			if (!nv)
				break;  /* the rest expire on their SYN-ACK timer */
			v = nv;
			cap = nc;
		}
		if (urcu_ref_get_unless_zero(&ep->sk->ref))
			v[n++] = ep->sk;
	}
	ns_rcu_read_unlock();
	for (size_t i = 0; i < n; i++) {
		struct ns_sock *sk = v[i];
		struct tcp_ep *c = tcp_ep_of(sk);
		pthread_mutex_lock(&sk->mu);
		if (c && c->parent == lep && c->state == TCP_SYN_RECV && !c->in_accq) {
			tcp_set_state(c, TCP_CLOSE);
			tcp_done(c);
		}
		pthread_mutex_unlock(&sk->mu);
		if (c)
			tcp_post_unlock(c);     /* SYN queue accounting, creation reference */
		ns__sock_put(sk);
	}
	free(v);
}

void ns__tcp_fini(struct ns_stack *stk)
{
	struct ns_tcp *tcp = stk->tcp;
	if (!tcp)
		return;
	tcp_abort_all(tcp, tcp->lhash);
	tcp_abort_all(tcp, tcp->ehash);
	tcp_tw_fini(tcp);
	/* the deferred table references drop now */
	ns_rcu_synchronize();
	urcu_bp_barrier();
	cds_lfht_destroy(tcp->ehash, NULL);
	cds_lfht_destroy(tcp->twhash, NULL);
	cds_lfht_destroy(tcp->lhash, NULL);
	pthread_mutex_destroy(&tcp->bind_mu);
	pthread_mutex_destroy(&tcp->chal_mu);
	stk->tcp = NULL;
	free(tcp);
}

/* ---- established table ------------------------------------------------------ */

struct ekey {
	const struct ns_addr *laddr, *raddr;
	uint16_t lport, rport;
};

static uint32_t ehash_of(struct ns_tcp *tcp, const struct ns_addr *laddr, uint16_t lport,
			 const struct ns_addr *raddr, uint16_t rport)
{
	struct ns_flow_key k;
	memset(&k, 0, sizeof(k));
	k.laddr = *laddr;
	k.raddr = *raddr;
	k.lport = lport;
	k.rport = rport;
	k.proto = NS_IPPROTO_TCP;
	return ns__flow_hash(tcp->stk, &k);
}

static int ematch(struct cds_lfht_node *node, const void *key)
{
	const struct ekey *k = key;
	const struct tcp_ep *ep = caa_container_of(node, struct tcp_ep, hnode);
	return ep->lport == k->lport && ep->rport == k->rport && ns_addr_eq(&ep->raddr, k->raddr) &&
	       ns_addr_eq(&ep->laddr, k->laddr);
}

struct tcp_ep *tcp_lookup_established(struct ns_tcp *tcp, const struct ns_addr *laddr, uint16_t lport,
				      const struct ns_addr *raddr, uint16_t rport)
{
	struct ekey k = { laddr, raddr, lport, rport };
	uint32_t h = ehash_of(tcp, laddr, lport, raddr, rport);
	struct cds_lfht_iter it;
	struct tcp_ep *found = NULL;
	ns_rcu_read_lock();
	cds_lfht_lookup(tcp->ehash, h, ematch, &k, &it);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
	if (n) {
		struct tcp_ep *ep = caa_container_of(n, struct tcp_ep, hnode);
		if (urcu_ref_get_unless_zero(&ep->sk->ref))
			found = ep;
	}
	ns_rcu_read_unlock();
	return found;
}

/* Called with bind_mu held. */
static int ehash_insert_locked(struct tcp_ep *ep)
{
	struct ns_tcp *tcp = ep->tcp;
	struct ekey k = { &ep->laddr, &ep->raddr, ep->lport, ep->rport };
	ep->flow_hash = ehash_of(tcp, &ep->laddr, ep->lport, &ep->raddr, ep->rport);
	cds_lfht_node_init(&ep->hnode);
	ns__sock_get(ep->sk);
	ns_rcu_read_lock();
	struct cds_lfht_node *r = cds_lfht_add_unique(tcp->ehash, ep->flow_hash, ematch, &k, &ep->hnode);
	ns_rcu_read_unlock();
	if (r != &ep->hnode) {
		ns__sock_put(ep->sk);
		return -NS_EADDRINUSE;
	}
	ep->hashed = 'e';
	return 0;
}

int tcp_ehash_insert(struct tcp_ep *ep)
{
	pthread_mutex_lock(&ep->tcp->bind_mu);
	int r = ehash_insert_locked(ep);
	pthread_mutex_unlock(&ep->tcp->bind_mu);
	return r;
}

/* ---- listener table -------------------------------------------------------------- */

static uint32_t lhash_of(uint16_t port) { return (uint32_t)port * 2654435761u; }

static int lmatch(struct cds_lfht_node *node, const void *key)
{
	const struct tcp_ep *ep = caa_container_of(node, struct tcp_ep, hnode);
	return ep->lport == *(const uint16_t *)key;
}

int tcp_lhash_insert(struct tcp_ep *ep)
{
	struct ns_tcp *tcp = ep->tcp;
	pthread_mutex_lock(&tcp->bind_mu);
	cds_lfht_node_init(&ep->hnode);
	ns__sock_get(ep->sk);
	ns_rcu_read_lock();
	cds_lfht_add(tcp->lhash, lhash_of(ep->lport), &ep->hnode);
	ns_rcu_read_unlock();
	ep->hashed = 'l';
	pthread_mutex_unlock(&tcp->bind_mu);
	return 0;
}

/* Linux compute_score(): -1 if ep cannot take the segment. */
static int listen_score(const struct tcp_ep *ep, const struct ns_addr *laddr, int nic)
{
	if (ep->state != TCP_LISTEN)
		return -1;
	int score;
	if (laddr->family == NS_AF_INET) {
		if (ep->family == NS_AF_INET6 && ep->v6only)
			return -1;
		score = ep->family == NS_AF_INET ? 2 : 1;
	} else {
		if (ep->family != NS_AF_INET6)
			return -1;
		score = 1;
	}
	if (!ns_addr_is_any(&ep->laddr) || ep->laddr.family != laddr->family) {
		if (ep->laddr.family == laddr->family) {
			if (!ns_addr_eq(&ep->laddr, laddr))
				return -1;
			score += 4;
		} else if (!ns_addr_is_any(&ep->laddr)) {
			return -1;
		}
	}
	if (ep->sk->bound_nic) {
		if (ep->sk->bound_nic != nic)
			return -1;
		score += 4;
	}
	return score;
}

/* Iterates the listeners on port without forming pointers from NULL nodes (UBSan-clean). */
#define for_each_listener(tcp, port, it, ep)                                                           \
	for (cds_lfht_lookup((tcp)->lhash, lhash_of(port), lmatch, &(port), &(it));                     \
	     cds_lfht_iter_get_node(&(it)) &&                                                           \
	     ((ep) = caa_container_of(cds_lfht_iter_get_node(&(it)), struct tcp_ep, hnode), 1);          \
	     cds_lfht_next_duplicate((tcp)->lhash, lmatch, &(port), &(it)))

struct tcp_ep *tcp_lookup_listener(struct ns_tcp *tcp, const struct ns_addr *laddr, uint16_t lport,
				   const struct ns_addr *raddr, uint16_t rport, int nic)
{
	struct cds_lfht_iter it;
	struct tcp_ep *ep, *best = NULL;
	int best_score = -1, nbest = 0;
	ns_rcu_read_lock();
	for_each_listener(tcp, lport, it, ep) {
		int s = listen_score(ep, laddr, nic);
		if (s > best_score) {
			best_score = s;
			best = ep;
			nbest = 1;
		} else if (s == best_score && s >= 0 && ep->sk->reuseport && best->sk->reuseport) {
			nbest++;
		}
	}
	if (best && nbest > 1) {
		/* SO_REUSEPORT group: spread by the flow hash */
		uint32_t h = ehash_of(tcp, laddr, lport, raddr, rport);
		int pick = (int)(((uint64_t)h * (uint64_t)nbest) >> 32), i = 0;
		for_each_listener(tcp, lport, it, ep) {
			if (listen_score(ep, laddr, nic) == best_score && ep->sk->reuseport) {
				if (i++ == pick) {
					best = ep;
					break;
				}
			}
		}
	}
	if (best && !urcu_ref_get_unless_zero(&best->sk->ref))
		best = NULL;
	ns_rcu_read_unlock();
	return best;
}

static void unhash_put_rcu(struct rcu_head *h)
{
	struct tcp_ep *ep = caa_container_of(h, struct tcp_ep, unhash_rcu);
	ns__sock_put(ep->sk);
}

void tcp_unhash(struct tcp_ep *ep)
{
	struct ns_tcp *tcp = ep->tcp;
	if (!ep->hashed)
		return;
	pthread_mutex_lock(&tcp->bind_mu);
	ns_rcu_read_lock();
	cds_lfht_del(ep->hashed == 'e' ? tcp->ehash : tcp->lhash, &ep->hnode);
	ns_rcu_read_unlock();
	ep->hashed = 0;
	pthread_mutex_unlock(&tcp->bind_mu);
	ns_call_rcu(&ep->unhash_rcu, unhash_put_rcu);
}

/* ---- bind table --------------------------------------------------------------------- */

static unsigned bslot(uint16_t port) { return port & (TCP_BHASH_SIZE - 1); }

/* Do the local addresses of an owner (o_laddr, socket family, v6only) and
 * of a socket binding addr/family overlap? (also for TIME_WAIT records) */
bool tcp_addr_overlap(const struct ns_addr *o_laddr, int o_family, bool o_v6only, const struct ns_addr *addr,
		      int family, bool v6only);
bool tcp_addr_overlap(const struct ns_addr *o_laddr, int o_family, bool o_v6only, const struct ns_addr *addr,
		      int family, bool v6only)
{
	bool o_any = ns_addr_is_any(o_laddr);
	bool a_any = ns_addr_is_any(addr);
	/* which families each side accepts */
	bool o_v4 = o_laddr->family == NS_AF_INET || (o_family == NS_AF_INET6 && o_any && !o_v6only);
	bool o_v6 = o_laddr->family == NS_AF_INET6;
	bool a_v4 = addr->family == NS_AF_INET || (family == NS_AF_INET6 && a_any && !v6only);
	bool a_v6 = addr->family == NS_AF_INET6;
	if (o_v4 && a_v4) {
		if ((o_any && (o_laddr->family == NS_AF_INET || o_v4)) || (a_any && a_v4))
			if (o_any || a_any)
				return true;
		if (o_laddr->family == NS_AF_INET && addr->family == NS_AF_INET && ns_addr_eq(o_laddr, addr))
			return true;
	}
	if (o_v6 && a_v6) {
		if (o_any || a_any || ns_addr_eq(o_laddr, addr))
			return true;
	}
	return false;
}

/*
 * Linux inet_bind_conflict() as inet_csk_get_port() uses it (relax = true):
 * would ep binding addr:port clash with o?  relax is false only when
 * bind(0) looks for a free port: then SO_REUSEADDR does not share.
 */
static bool bind_conflict(const struct tcp_ep *ep, const struct tcp_ep *o, const struct ns_addr *addr,
			  bool relax)
{
	if (o == ep)
		return false;
	if (ep->sk->bound_nic && o->sk->bound_nic && ep->sk->bound_nic != o->sk->bound_nic)
		return false;
	if (ep->sk->reuseaddr && o->sk->reuseaddr && o->state != TCP_LISTEN) {
		if (relax)
			return false;
	} else if (ep->sk->reuseport && o->sk->reuseport) {
		return false;   /* one user: SO_REUSEPORT always shares */
	}
	return tcp_addr_overlap(&o->laddr, o->family, o->v6only, addr, ep->family, ep->v6only);
}

static bool port_conflict_locked(struct ns_tcp *tcp, const struct tcp_ep *ep, const struct ns_addr *addr,
				 uint16_t port, bool relax)
{
	for (struct tcp_ep *o = tcp->bhash[bslot(port)]; o; o = o->bnext)
		if (o->lport == port && bind_conflict(ep, o, addr, relax))
			return true;
	return tcp_tw_port_conflict_locked(tcp, ep, addr, port, relax);
}

static bool port_used_locked(struct ns_tcp *tcp, uint16_t port)
{
	for (struct tcp_ep *o = tcp->bhash[bslot(port)]; o; o = o->bnext)
		if (o->lport == port)
			return true;
	return tcp_tw_port_used_locked(tcp, port);
}

static void bhash_add_locked(struct ns_tcp *tcp, struct tcp_ep *ep)
{
	struct tcp_ep **head = &tcp->bhash[bslot(ep->lport)];
	ep->bnext = *head;
	if (ep->bnext)
		ep->bnext->bpprev = &ep->bnext;
	ep->bpprev = head;
	*head = ep;
	ep->bound = true;
}

/* O(1): a listener's port may hold 100,000 children (doubly linked chain). */
static void bhash_del_locked(struct ns_tcp *tcp, struct tcp_ep *ep)
{
	(void)tcp;
	if (ep->bpprev) {
		*ep->bpprev = ep->bnext;
		if (ep->bnext)
			ep->bnext->bpprev = ep->bpprev;
	}
	ep->bnext = NULL;
	ep->bpprev = NULL;
	ep->bound = false;
}

int tcp_bind_port(struct tcp_ep *ep, const struct ns_addr *addr, uint16_t port)
{
	struct ns_tcp *tcp = ep->tcp;
	int err = 0;
	pthread_mutex_lock(&tcp->bind_mu);
	if (port == 0) {
		/* bind(0): a port nobody owns (Linux inet_csk_find_open_port) */
		uint32_t range = TCP_EPHEM_HI - TCP_EPHEM_LO + 1;
		uint32_t off = ns__rand32(tcp->stk) % range;
		err = -NS_EADDRINUSE;
		for (uint32_t i = 0; i < range; i++) {
			uint16_t p = (uint16_t)(TCP_EPHEM_LO + (off + i) % range);
			if (!port_used_locked(tcp, p) || !port_conflict_locked(tcp, ep, addr, p, false)) {
				port = p;
				err = 0;
				break;
			}
		}
	} else if (port_conflict_locked(tcp, ep, addr, port, true)) {
		err = -NS_EADDRINUSE;
	}
	if (err == 0) {
		ep->laddr = *addr;
		ep->lport = port;
		bhash_add_locked(tcp, ep);
	}
	pthread_mutex_unlock(&tcp->bind_mu);
	return err;
}

/* listen(): re-check ownership now that we would be a listener. */
int tcp_listen_check_port(struct tcp_ep *ep)
{
	struct ns_tcp *tcp = ep->tcp;
	pthread_mutex_lock(&tcp->bind_mu);
	bool c = port_conflict_locked(tcp, ep, &ep->laddr, ep->lport, true);
	pthread_mutex_unlock(&tcp->bind_mu);
	return c ? -NS_EADDRINUSE : 0;
}

/* A passive child shares its listener's port (Linux __inet_inherit_port). */
void tcp_inherit_port(struct tcp_ep *child)
{
	pthread_mutex_lock(&child->tcp->bind_mu);
	if (!child->bound)
		bhash_add_locked(child->tcp, child);
	pthread_mutex_unlock(&child->tcp->bind_mu);
}

void tcp_unbind(struct tcp_ep *ep)
{
	if (!ep->bound)
		return;
	pthread_mutex_lock(&ep->tcp->bind_mu);
	bhash_del_locked(ep->tcp, ep);
	pthread_mutex_unlock(&ep->tcp->bind_mu);
}

/* May connect()'s autobind share port with the existing owners? (Linux: only
 * with other connect-autobound sockets; the 4-tuple must still be unique.) */
static bool port_ok_for_connect_locked(struct ns_tcp *tcp, uint16_t port)
{
	for (struct tcp_ep *o = tcp->bhash[bslot(port)]; o; o = o->bnext)
		if (o->lport == port && (o->bind_port_lock || o->state == TCP_LISTEN))
			return false;
	return !tcp_tw_port_locked_for_connect(tcp, port);
}

struct connect_ctx {
	struct ns_tcp *tcp;
	struct tcp_ep *ep;
};

static bool connect_port_free(void *vctx, uint16_t port)
{
	struct connect_ctx *c = vctx;
	if (!port_ok_for_connect_locked(c->tcp, port))
		return false;
	struct tcp_ep *o = tcp_lookup_established(c->tcp, &c->ep->laddr, port, &c->ep->raddr, c->ep->rport);
	if (o) {
		ns__sock_put(o->sk);
		return false;
	}
	/* a TIME_WAIT record of the tuple: reusable with net.ipv4.tcp_tw_reuse */
	c->ep->lport = port;
	bool ok = tcp_tw_check_connect_locked(c->tcp, c->ep, true) == 0;
	c->ep->lport = 0;
	return ok;
}

int tcp_hash_connect(struct tcp_ep *ep)
{
	struct ns_tcp *tcp = ep->tcp;
	int err;
	pthread_mutex_lock(&tcp->bind_mu);
	if (ep->bound) {
		/* explicit port: the 4-tuple must be free; a TIME_WAIT record of it
		 * gives way when timestamps protect the new connection (Linux
		 * __inet_check_established with tcp_twsk_unique) */
		err = tcp_tw_check_connect_locked(tcp, ep, false);
		if (err == 0)
			err = ehash_insert_locked(ep);
		pthread_mutex_unlock(&tcp->bind_mu);
		return err;
	}
	struct connect_ctx c = { tcp, ep };
	uint16_t port;
	err = ns_tcp_port_pick(&tcp->portsel, &tcp->sec, &ep->laddr, &ep->raddr, ep->rport,
			       connect_port_free, &c, &port);
	if (err == 0) {
		ep->lport = port;
		err = ehash_insert_locked(ep);
		if (err == 0)
			bhash_add_locked(tcp, ep);
		else
			err = -NS_EADDRNOTAVAIL;
	}
	pthread_mutex_unlock(&tcp->bind_mu);
	return err;
}

/* ---- ISN, challenge ACK budget ------------------------------------------------------ */

uint32_t tcp_new_isn(struct ns_tcp *tcp, struct tcp_ep *ep)
{
	if (ep->tw_isn) {
		/* after a TIME_WAIT record of the tuple: past its sequence space */
		uint32_t isn = ep->tw_isn;
		ep->tw_isn = 0;
		return isn;
	}
	return ns_tcp_isn(&tcp->sec, &ep->laddr, ep->lport, &ep->raddr, ep->rport, ns__now(tcp->stk));
}

bool tcp_challenge_ack_allowed(struct ns_tcp *tcp)
{
	uint64_t now_s = ns__now(tcp->stk) / NS_NSEC_PER_SEC;
	bool ok;
	pthread_mutex_lock(&tcp->chal_mu);
	if (now_s != tcp->chal_stamp_s) {
		tcp->chal_stamp_s = now_s;
		/* Linux randomizes the budget to hide it from off-path attackers */
		tcp->chal_count = TCP_CHALLENGE_ACK_LIMIT / 2 + ns__rand32(tcp->stk) % TCP_CHALLENGE_ACK_LIMIT;
	}
	ok = tcp->chal_count > 0;
	if (ok)
		tcp->chal_count--;
	pthread_mutex_unlock(&tcp->chal_mu);
	return ok;
}

/* ---- state changes -------------------------------------------------------------------- */

void tcp_set_state(struct tcp_ep *ep, int state)
{
	int old = ep->state;
	/* TcpCurrEstab: connections in ESTABLISHED or CLOSE_WAIT (RFC 4022) */
	bool was = old == TCP_ESTABLISHED || old == TCP_CLOSE_WAIT;
	bool is = state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT;
	bool tw_is = state == TCP_TIME_WAIT || state == TCP_FIN_WAIT2;
	if (!tw_is && ep->tw_counted) {
		atomic_fetch_sub(&ep->tcp->n_timewait, 1);
		ep->tw_counted = false;
	}
	(void)tw_is;
	if (is && !was)
		NS_STAT_INC(ep->stk, TcpCurrEstab);
	else if (was && !is)
		atomic_fetch_sub_explicit(&ep->stk->stats[NS_STAT_TcpCurrEstab], 1, memory_order_relaxed);
	ep->state = (uint8_t)state;
}

void tcp_done(struct tcp_ep *ep)
{
	if (ep->state == TCP_SYN_SENT || ep->state == TCP_SYN_RECV)
		NS_STAT_INC(ep->stk, TcpAttemptFails);
	tcp_set_state(ep, TCP_CLOSE);
	ep->t_rtx = ep->t_delack = ep->t_keepalive = ep->t_wait = 0;
	ep->rtx_kind = TCP_RTX_NONE;
	tcp_timer_update(ep);
	tcp_unhash(ep);
	if (!ep->bind_port_lock || ep->orphan)
		tcp_unbind(ep);
	if (ep->parent && !ep->in_accq) {
		/* an embryonic child dies: the listener accounts it on next contact */
		ep->notify_parent = true;
	}
	ep->shut = NS_SHUT_RDWR + 1;
	ns__sock_wake_locked(ep->sk);
}

void tcp_reset_ep(struct tcp_ep *ep, int err)
{
	switch (ep->state) {
	case TCP_SYN_SENT:
		err = NS_ECONNREFUSED;
		break;
	case TCP_CLOSE_WAIT:
		err = NS_EPIPE;
		break;
	case TCP_CLOSE:
		return;
	default:
		break;
	}
	if (ep->state == TCP_ESTABLISHED || ep->state == TCP_CLOSE_WAIT)
		NS_STAT_INC(ep->stk, TcpEstabResets);
	ep->reset_seen = true;
	tcp_sndq_purge(ep);
	if (!ep->orphan)
		ns__sock_set_err_locked(ep->sk, err);
	tcp_done(ep);
}

/* net.ipv4.tcp_rmem / tcp_wmem, as Linux validates them (min >= 1, min <= default <= max). */
int ns__tcp_sysctl(struct ns_stack *stk, const char *name, const uint32_t v[3], uint32_t out[3])
{
	struct ns_tcp *tcp = stk->tcp;
	_Atomic uint32_t *t;
	if (strcmp(name, "tcp_rmem") == 0)
		t = tcp->rmem;
	else if (strcmp(name, "tcp_wmem") == 0)
		t = tcp->wmem;
	else
		return -NS_ENOENT;
	if (v) {
		if (v[0] < 1 || v[0] > v[1] || v[1] > v[2] || v[2] > (1u << 30))
			return -NS_EINVAL;
		for (int i = 0; i < 3; i++)
			t[i] = v[i];
	}
	if (out)
		for (int i = 0; i < 3; i++)
			out[i] = t[i];
	return 0;
}

/* One-number TCP settings (Linux ranges): net.ipv4.tcp_tw_reuse 0..2 (2 =
 * loopback only, the default), tcp_max_tw_buckets >= 0, tcp_invalid_ratelimit
 * (ms, >= 0).  -ENOENT for another name. */
int ns__tcp_sysctl_int(struct ns_stack *stk, const char *name, const long *v, long *out)
{
	struct ns_tcp *tcp = stk->tcp;
	if (strcmp(name, "tcp_tw_reuse") == 0) {
		if (v && (*v < 0 || *v > 2))
			return -NS_EINVAL;
		if (v)
			tcp->tw_reuse = (int)*v;
		if (out)
			*out = tcp->tw_reuse;
	} else if (strcmp(name, "tcp_max_tw_buckets") == 0) {
		if (v && (*v < 0 || *v > INT32_MAX))
			return -NS_EINVAL;
		if (v)
			tcp->max_tw_buckets = (uint32_t)*v;
		if (out)
			*out = tcp->max_tw_buckets;
	} else if (strcmp(name, "tcp_invalid_ratelimit") == 0) {
		if (v && (*v < 0 || *v > INT32_MAX))
			return -NS_EINVAL;
		if (v)
			tcp->invalid_ratelimit_ms = (uint32_t)*v;
		if (out)
			*out = tcp->invalid_ratelimit_ms;
	} else {
		return -NS_ENOENT;
	}
	return 0;
}

/* ---- per-socket rate limit of ACKs to invalid segments (Linux tcp_oow_rate_limited) ---- */

bool tcp_oow_rate_limited_stamp(struct tcp_ep *ep, int stat)
{
	uint64_t now = ns__now(ep->stk);
	uint64_t lim = (uint64_t)ep->tcp->invalid_ratelimit_ms * NS_NSEC_PER_MSEC;
	if (ep->last_oow_ack && now - ep->last_oow_ack < lim) {
		ns__stat_inc(ep->stk, stat);
		return true;
	}
	ep->last_oow_ack = now;
	return false;
}

bool tcp_oow_rate_limited(struct tcp_ep *ep, const struct tcp_seg *seg, int stat)
{
	/* data segments without SYN are not likely part of an ACK loop */
	if (seg->seq != seg->end_seq && !(seg->flags & TCPF_SYN))
		return false;
	return tcp_oow_rate_limited_stamp(ep, stat);
}
