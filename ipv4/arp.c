/*
 * ipv4/arp.c - ARP (RFC 826) per NIC: the neighbour cache with Linux's
 * states (INCOMPLETE, REACHABLE, STALE, DELAY, PROBE), requests and
 * retries, replies for our addresses, learning, the bounded queue of
 * packets waiting for resolution, gratuitous ARP on address add.
 * Owns: nic->arp and the Arp* counters.
 *
 * Locking: one mutex per NIC serializes changes to its table; nothing is
 * sent or freed while it is held (frames to send are collected and sent
 * after unlock, since a link may deliver or block).  The transmit fast path
 * takes no lock: bucket chains are RCU-protected (entries freed after a
 * grace period) and each entry publishes its MAC and state in one atomic
 * word; only a miss, an unresolved or a STALE entry takes the mutex.  One
 * timer per NIC, armed at the earliest entry deadline, walks the table
 * (at most ARP_MAX entries).
 *
 * Timing (Linux defaults): retrans 1 s, 3 broadcast requests then
 * failure; reachable 15-45 s (base 30 s), delay_first_probe 5 s, 3
 * unicast probes; stale entries unused for 60 s are removed; the queue
 * per neighbour holds at most ARP_QBYTES of truesize (oldest dropped).
 * Read first: RFC 826, RFC 1122 2.3.2, RFC 4861 7.3 (the state machine
 * Linux uses for ARP too), Linux net/ipv4/arp.c and net/core/neighbour.c.
 */
#include <stdlib.h>
#include "ipv4_internal.h"

#define ARP_BUCKETS 256u
#define ARP_MAX 1024                    /* Linux gc_thresh3 */
#define ARP_RETRANS NS_NSEC_PER_SEC
#define ARP_MCAST_PROBES 3
#define ARP_UCAST_PROBES 3
#define ARP_BASE_REACHABLE (30ull * NS_NSEC_PER_SEC)
#define ARP_DELAY (5ull * NS_NSEC_PER_SEC)
#define ARP_GC_STALE (60ull * NS_NSEC_PER_SEC)
#define ARP_QBYTES 212992u              /* Linux unres_qlen_bytes */
#define ARP_LOCKTIME NS_NSEC_PER_SEC     /* Linux locktime: first answer wins */

struct arp_ent {
	struct arp_ent *next;           /* RCU-protected chain */
	struct rcu_head rcu;
	uint32_t ip;                    /* immutable */
	_Atomic uint64_t hw;            /* MAC (bits 0..47) | state << 48, for lockless readers */
	_Atomic uint64_t used;          /* last transmit through it */
	/* the rest under arp_tab.mu */
	uint8_t mac[6];
	uint8_t state;
	uint8_t probes;
	uint32_t sip;                   /* source for our requests (the first packet's), 0: choose */
	uint64_t deadline;              /* next state event, 0 none */
	uint64_t confirmed, updated;
	struct ns_pkt *qh, *qt;
	uint32_t qbytes;
};

struct arp_tab {
	pthread_mutex_t mu;
	struct ns_nic *nic;
	struct ns_timer timer;
	int count;
	struct arp_ent *b[ARP_BUCKETS];
};

/* Work collected under the lock and done after it. */
struct arp_work {
	struct ns_pkt *send;            /* frames ready (Ethernet header pushed) */
	struct ns_pkt **send_tail;
	struct ns_pkt *failed;          /* queued datagrams whose resolution failed */
	struct ns_pkt *drop;
};

static void work_init(struct arp_work *w)
{
	memset(w, 0, sizeof(*w));
	w->send_tail = &w->send;
}

static void timer_fn(void *arg);

static struct arp_tab *tab_of(struct ns_nic *nic) { return nic->arp; }

static uint32_t bucket_of(uint32_t ip)
{
	uint32_t h = ip * 0x9e3779b1u;
	return h >> 24;
}

int ns__arp_nic_init(struct ns_nic *nic)
{
	struct arp_tab *t = calloc(1, sizeof(*t));
	if (!t)
		return -NS_ENOMEM;
	pthread_mutex_init(&t->mu, NULL);
	t->nic = nic;
	ns__timer_init(&t->timer, timer_fn, t);
	nic->arp = t;
	return 0;
}

static void ent_free(struct arp_ent *e)
{
	ns_pkt_unref_chain(e->qh);
	free(e);
}

static void ent_free_rcu(struct rcu_head *h)
{
	free(caa_container_of(h, struct arp_ent, rcu));
}

/* Publishes mac + state for the lockless transmit path (mu held). */
static void publish(struct arp_ent *e)
{
	uint64_t w = (uint64_t)e->state << 48;
	for (int i = 0; i < 6; i++)
		w |= (uint64_t)e->mac[i] << (40 - 8 * i);
	atomic_store_explicit(&e->hw, w, memory_order_release);
}

void ns__arp_nic_fini(struct ns_nic *nic)
{
	struct arp_tab *t = tab_of(nic);
	if (!t)
		return;
	ns__timer_cancel_sync(nic->stk, &t->timer);
	for (uint32_t i = 0; i < ARP_BUCKETS; i++) {
		struct arp_ent *e = t->b[i];
		while (e) {
			struct arp_ent *n = e->next;
			ent_free(e);
			e = n;
		}
	}
	pthread_mutex_destroy(&t->mu);
	free(t);
	nic->arp = NULL;
}

/* ---- the table (mu held) ---------------------------------------------------- */

static struct arp_ent *lookup_locked(struct arp_tab *t, uint32_t ip)
{
	for (struct arp_ent *e = t->b[bucket_of(ip)]; e; e = e->next)
		if (e->ip == ip)
			return e;
	return NULL;
}

static void unlink_locked(struct arp_tab *t, struct arp_ent *e)
{
	struct arp_ent **pp = &t->b[bucket_of(e->ip)];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp) {
		ns_rcu_assign(*pp, e->next);
		t->count--;
	}
}

/* Removes the least recently used entry that is not INCOMPLETE. */
static bool evict_one_locked(struct arp_tab *t, struct arp_work *w)
{
	struct arp_ent *victim = NULL;
	for (uint32_t i = 0; i < ARP_BUCKETS; i++)
		for (struct arp_ent *e = t->b[i]; e; e = e->next)
			if (e->state != NS_ARP_INCOMPLETE && e->state != NS_ARP_PERMANENT &&
			    (!victim || e->used < victim->used))
				victim = e;
	if (!victim)
		return false;
	unlink_locked(t, victim);
	struct ns_pkt *q = victim->qh;
	victim->qh = NULL;
	if (q) {
		struct ns_pkt *last = q;
		while (last->next)
			last = last->next;
		last->next = w->drop;
		w->drop = q;
	}
	ns_call_rcu(&victim->rcu, ent_free_rcu);
	return true;
}

static struct arp_ent *create_locked(struct arp_tab *t, uint32_t ip, struct arp_work *w)
{
	if (t->count >= ARP_MAX && !evict_one_locked(t, w))
		return NULL;
	struct arp_ent *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->ip = ip;
	uint32_t b = bucket_of(ip);
	e->next = t->b[b];
	ns_rcu_assign(t->b[b], e);
	t->count++;
	return e;
}

static uint64_t reachable_time(struct ns_stack *stk)
{
	/* uniformly in [base/2, 3*base/2) like Linux neigh_rand_reach_time */
	return ARP_BASE_REACHABLE / 2 + (ns__rand64(stk) % ARP_BASE_REACHABLE);
}

/* ---- frames ----------------------------------------------------------------- */

/* Builds an ARP frame (Ethernet header pushed) or NULL. */
static struct ns_pkt *arp_build(struct ns_nic *nic, uint16_t op, const uint8_t *eth_dst,
				uint32_t sip, const uint8_t *tha, uint32_t tip)
{
	static const uint8_t zero[6];
	struct ns_pkt *p = ns_pkt_alloc(ns_stack_pool(nic->stk), NS_PKT_HEADROOM, NS_ARP_LEN);
	if (!p) {
		NS_STAT_INC(nic->stk, PktAllocFails);
		return NULL;
	}
	uint8_t *a = ns_pkt_data(p);
	ns_store_be16(a, 1);                    /* Ethernet */
	ns_store_be16(a + 2, NS_ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	ns_store_be16(a + 6, op);
	memcpy(a + 8, nic->mac, 6);
	ns_store_be32(a + 14, sip);
	memcpy(a + 18, tha ? tha : zero, 6);
	ns_store_be32(a + 24, tip);
	p->l3 = p->data;
	uint8_t *h = ns_pkt_push(p, NS_ETH_HLEN);
	if (!h) {                       /* cannot happen: NS_PKT_HEADROOM >= 14 */
		ns_pkt_unref(p);
		return NULL;
	}
	memcpy(h, eth_dst, 6);
	memcpy(h + 6, nic->mac, 6);
	ns_store_be16(h + 12, NS_ETHERTYPE_ARP);
	p->l2 = p->data;
	p->ethertype = NS_ETHERTYPE_ARP;
	p->nic = nic->id;
	return p;
}

static void work_send(struct arp_work *w, struct ns_pkt *p)
{
	if (!p)
		return;
	p->next = NULL;
	*w->send_tail = p;
	w->send_tail = &p->next;
}

/* Our source for a request about ip when no packet named one: an address
 * on the NIC, in ip's subnet if there is one. */
static uint32_t req_source(struct ns_nic *nic, uint32_t ip)
{
	struct ns_addr d, s;
	ns_addr_from_u32(&d, ip);
	if (ns__nic_src_select(nic, &d, &s) < 0)
		return 0;
	return ns_addr_v4_u32(&s);
}

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Queues a request (broadcast, or unicast to the cached MAC when probing). */
static void solicit_locked(struct arp_tab *t, struct arp_ent *e, struct arp_work *w)
{
	struct ns_nic *nic = t->nic;
	const uint8_t *dst = e->state == NS_ARP_PROBE ? e->mac : bcast;
	uint32_t sip = e->sip;
	if (sip) {                      /* still ours? */
		struct ns_addr a;
		ns_addr_from_u32(&a, sip);
		if (!ns__addr_local(nic->stk, &a, NULL))
			sip = 0;
	}
	if (!sip)
		sip = req_source(nic, e->ip);
	struct ns_pkt *p = arp_build(nic, NS_ARPOP_REQUEST, dst, sip, NULL, e->ip);
	if (p) {
		NS_STAT_INC(nic->stk, ArpOutRequests);
		work_send(w, p);
	}
	e->probes++;
}

/* Pushes Ethernet headers on the queued datagrams and moves them to send. */
static void flush_queue_locked(struct arp_tab *t, struct arp_ent *e, struct arp_work *w)
{
	struct ns_pkt *q = e->qh;
	e->qh = e->qt = NULL;
	e->qbytes = 0;
	while (q) {
		struct ns_pkt *p = q;
		q = q->next;
		p->next = NULL;
		uint8_t *h = ns_pkt_push(p, NS_ETH_HLEN);
		if (!h) {
			NS_STAT_INC(t->nic->stk, EthOutNoBufs);
			p->next = w->drop;
			w->drop = p;
			continue;
		}
		memcpy(h, e->mac, 6);
		memcpy(h + 6, t->nic->mac, 6);
		ns_store_be16(h + 12, NS_ETHERTYPE_IPV4);
		p->l2 = p->data;
		p->ethertype = NS_ETHERTYPE_IPV4;
		work_send(w, p);
	}
}

static void arm(struct arp_tab *t, uint64_t when)
{
	ns__timer_arm_earlier(t->nic->stk, &t->timer, when);
}

/* Sends and frees what was collected (no lock held). */
static void work_run(struct arp_tab *t, struct arp_work *w)
{
	struct ns_stack *stk = t->nic->stk;
	while (w->send) {
		struct ns_pkt *p = w->send;
		w->send = p->next;
		p->next = NULL;
		ns__nic_write(t->nic, &p, 1);
	}
	while (w->failed) {
		struct ns_pkt *p = w->failed;
		w->failed = p->next;
		p->next = NULL;
		/* Linux arp_error_report: host unreachable toward the sender
		 * (our own socket, through the local loop). */
		struct ns_ip_meta m;
		memset(&m, 0, sizeof(m));
		const uint8_t *h = ns_pkt_data(p);
		ns_addr_from_u32(&m.src, ns_ip4_src(h));
		ns_addr_from_u32(&m.dst, ns_ip4_dst(h));
		m.nic = t->nic;
		m.pkt_type = NS_PKT_HOST;
		m.proto = h[9];
		m.l3_off = p->data;
		NS_STAT_INC(stk, IpOutDiscards);
		ns__icmp4_send_error(stk, p, &m, NS_ICMP_DEST_UNREACH, NS_ICMP_HOST_UNREACH, 0);
		ns_pkt_unref(p);
	}
	ns_pkt_unref_chain(w->drop);
	w->drop = NULL;
}

/* ---- transmit path -------------------------------------------------------------- */

static void enqueue_locked(struct arp_tab *t, struct arp_ent *e, struct ns_pkt *pkt,
			   struct arp_work *w)
{
	struct ns_stack *stk = t->nic->stk;
	/* Linux __neigh_event_send: drop the oldest until the new one fits */
	while (e->qh && e->qbytes + pkt->truesize > ARP_QBYTES) {
		struct ns_pkt *old = e->qh;
		e->qh = old->next;
		if (!e->qh)
			e->qt = NULL;
		e->qbytes -= old->truesize;
		old->next = w->drop;
		w->drop = old;
		NS_STAT_INC(stk, ArpQueueDrops);
	}
	pkt->next = NULL;
	if (e->qt)
		e->qt->next = pkt;
	else
		e->qh = pkt;
	e->qt = pkt;
	e->qbytes += pkt->truesize;
}

/* The lockless lookup: true with mac when the entry can be used as is. */
static bool fast_lookup(struct arp_tab *t, uint32_t ip, uint8_t mac[6], uint64_t now)
{
	bool ok = false;
	ns_rcu_read_lock();
	struct arp_ent *e = ns_rcu_dereference(t->b[bucket_of(ip)]);
	while (e && e->ip != ip)
		e = ns_rcu_dereference(e->next);
	if (e) {
		uint64_t w = atomic_load_explicit(&e->hw, memory_order_acquire);
		uint8_t st = (uint8_t)(w >> 48);
		if (st == NS_ARP_REACHABLE || st == NS_ARP_DELAY || st == NS_ARP_PROBE ||
		    st == NS_ARP_PERMANENT) {
			for (int i = 0; i < 6; i++)
				mac[i] = (uint8_t)(w >> (40 - 8 * i));
			atomic_store_explicit(&e->used, now, memory_order_relaxed);
			ok = true;
		}
	}
	ns_rcu_read_unlock();
	return ok;
}

int ns__arp_output(struct ns_nic *nic, struct ns_pkt *pkt, uint32_t nexthop)
{
	struct arp_tab *t = tab_of(nic);
	struct ns_stack *stk = nic->stk;
	uint64_t now = ns__now(stk);
	uint8_t mac[6];
	if (fast_lookup(t, nexthop, mac, now))
		return ns__eth_output(nic, pkt, mac, NS_ETHERTYPE_IPV4);
	struct arp_work w;
	work_init(&w);
	pthread_mutex_lock(&t->mu);
	struct arp_ent *e = lookup_locked(t, nexthop);
	if (e && e->state != NS_ARP_INCOMPLETE) {
		memcpy(mac, e->mac, 6);
		e->used = now;
		if (e->state == NS_ARP_STALE) {
			e->state = NS_ARP_DELAY;
			e->deadline = now + ARP_DELAY;
			publish(e);
			arm(t, e->deadline);
		}
		pthread_mutex_unlock(&t->mu);
		return ns__eth_output(nic, pkt, mac, NS_ETHERTYPE_IPV4);
	}
	if (!e) {
		e = create_locked(t, nexthop, &w);
		if (!e) {
			pthread_mutex_unlock(&t->mu);
			NS_STAT_INC(stk, ArpQueueDrops);
			ns_pkt_unref(pkt);
			work_run(t, &w);
			return -NS_ENOBUFS;
		}
		e->state = NS_ARP_INCOMPLETE;
		e->used = now;
		e->updated = now;
		e->probes = 0;
		/* Linux arp_announce = 0: ask with the waiting packet's source */
		e->sip = ns_ip4_src(ns_pkt_data(pkt));
		publish(e);
		solicit_locked(t, e, &w);
		e->deadline = now + ARP_RETRANS;
		arm(t, e->deadline);
	}
	enqueue_locked(t, e, pkt, &w);
	pthread_mutex_unlock(&t->mu);
	work_run(t, &w);
	return 0;
}

/* ---- timers ------------------------------------------------------------------------ */

/* Advances one entry whose deadline passed; false when it must be removed. */
static bool ent_expire_locked(struct arp_tab *t, struct arp_ent *e, uint64_t now,
			      struct arp_work *w)
{
	struct ns_stack *stk = t->nic->stk;
	switch (e->state) {
	case NS_ARP_INCOMPLETE:
		if (e->probes >= ARP_MCAST_PROBES) {
			NS_STAT_INC(stk, ArpResolveFailed);
			struct ns_pkt *q = e->qh;
			if (q) {
				e->qt->next = w->failed;
				w->failed = q;
			}
			e->qh = e->qt = NULL;
			return false;
		}
		solicit_locked(t, e, w);
		e->deadline = now + ARP_RETRANS;
		return true;
	case NS_ARP_REACHABLE:
		if (e->used + ARP_DELAY > now && e->used > e->confirmed) {
			e->state = NS_ARP_DELAY;
			e->deadline = e->used + ARP_DELAY;
		} else {
			e->state = NS_ARP_STALE;
			e->deadline = e->used > e->updated ? e->used + ARP_GC_STALE : now + ARP_GC_STALE;
		}
		return true;
	case NS_ARP_STALE:
		if (e->used + ARP_GC_STALE > now) {
			e->deadline = e->used + ARP_GC_STALE;
			return true;
		}
		return false;                   /* unused for 60 s: collected */
	case NS_ARP_DELAY:
		if (e->confirmed + ARP_DELAY > now) {
			e->state = NS_ARP_REACHABLE;
			e->deadline = e->confirmed + reachable_time(stk);
			return true;
		}
		e->state = NS_ARP_PROBE;
		e->probes = 0;
		/* fall through */
	case NS_ARP_PROBE:
		if (e->probes >= ARP_UCAST_PROBES) {
			NS_STAT_INC(stk, ArpResolveFailed);
			return false;
		}
		solicit_locked(t, e, w);
		e->deadline = now + ARP_RETRANS;
		return true;
	default:
		e->deadline = 0;
		return true;
	}
}

static void timer_fn(void *arg)
{
	struct arp_tab *t = arg;
	struct ns_stack *stk = t->nic->stk;
	uint64_t now = ns__now(stk), next = UINT64_MAX;
	struct arp_work w;
	work_init(&w);
	pthread_mutex_lock(&t->mu);
	for (uint32_t i = 0; i < ARP_BUCKETS; i++) {
		struct arp_ent **pp = &t->b[i];
		while (*pp) {
			struct arp_ent *e = *pp;
			if (e->deadline && e->deadline <= now) {
				if (!ent_expire_locked(t, e, now, &w)) {
					ns_rcu_assign(*pp, e->next);
					t->count--;
					ns_pkt_unref_chain(e->qh);
					e->qh = NULL;
					ns_call_rcu(&e->rcu, ent_free_rcu);
					continue;
				}
				publish(e);
			}
			if (e->deadline && e->deadline < next)
				next = e->deadline;
			pp = &e->next;
		}
	}
	if (next != UINT64_MAX)
		ns__timer_arm(stk, &t->timer, next);
	pthread_mutex_unlock(&t->mu);
	work_run(t, &w);
}

/* ---- receive ---------------------------------------------------------------------- */

/* Records sha for sip: creates when `create`, else only updates an entry
 * we have.  `confirm`: a unicast reply (REACHABLE), else STALE.  A new MAC
 * within ARP_LOCKTIME of the last update is ignored unless `force` (a
 * request for us or a gratuitous ARP), as Linux does. */
static void learn_locked(struct arp_tab *t, uint32_t sip, const uint8_t *sha, bool create,
			 bool confirm, bool force, uint64_t now, struct arp_work *w)
{
	struct arp_ent *e = lookup_locked(t, sip);
	if (!e) {
		if (!create)
			return;
		e = create_locked(t, sip, w);
		if (!e)
			return;
		e->used = 0;
	}
	if (e->state == NS_ARP_PERMANENT)
		return;
	if (e->state && e->state != NS_ARP_INCOMPLETE && memcmp(e->mac, sha, 6) != 0 && !force &&
	    now < e->updated + ARP_LOCKTIME)
		return;
	bool changed = e->state == NS_ARP_INCOMPLETE || memcmp(e->mac, sha, 6) != 0;
	memcpy(e->mac, sha, 6);
	e->updated = now;
	if (confirm) {
		e->state = NS_ARP_REACHABLE;
		e->confirmed = now;
		e->deadline = now + reachable_time(t->nic->stk);
	} else if (changed || !e->state) {
		e->state = NS_ARP_STALE;
		e->deadline = now + ARP_GC_STALE;
	}
	publish(e);
	if (e->qh)
		flush_queue_locked(t, e, w);
	arm(t, e->deadline);
}

void ns__arp_rcv(struct ns_nic *nic, struct ns_pkt *pkt)
{
	struct ns_stack *stk = nic->stk;
	struct arp_tab *t = tab_of(nic);
	const uint8_t *a = ns_pkt_data(pkt);
	if (ns_pkt_len(pkt) < NS_ARP_LEN || ns_load_be16(a) != 1 ||
	    ns_load_be16(a + 2) != NS_ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4 ||
	    (nic->link->caps & NS_LINK_CAP_NOARP)) {
		NS_STAT_INC(stk, ArpInErrors);
		goto drop;
	}
	uint16_t op = ns_load_be16(a + 6);
	const uint8_t *sha = a + 8;
	uint32_t sip = ns_load_be32(a + 14), tip = ns_load_be32(a + 24);
	if (op == NS_ARPOP_REQUEST)
		NS_STAT_INC(stk, ArpInRequests);
	else if (op == NS_ARPOP_REPLY)
		NS_STAT_INC(stk, ArpInReplies);
	if ((op != NS_ARPOP_REQUEST && op != NS_ARPOP_REPLY) || (sha[0] & 1) ||
	    ns_ip4_is_mcast(tip) || ns_ip4_is_loopback(tip) || ns_ip4_is_mcast(sip) ||
	    ns_ip4_is_lbcast(sip) || ns_ip4_is_loopback(sip) || memcmp(sha, nic->mac, 6) == 0) {
		NS_STAT_INC(stk, ArpInErrors);
		goto drop;
	}
	struct ns_addr ta;
	ns_addr_from_u32(&ta, tip);
	uint32_t flags = 0;
	bool for_us = ns__addr_local(stk, &ta, &flags) != NULL;   /* Linux arp_ignore = 0 */
	struct ns_pkt *reply = NULL;
	if (op == NS_ARPOP_REQUEST && for_us)
		reply = arp_build(nic, NS_ARPOP_REPLY, sha, tip, sha, sip);
	uint64_t now = ns__now(stk);
	struct arp_work w;
	work_init(&w);
	if (sip != 0) {                 /* sip 0: an address probe (RFC 5227), learn nothing */
		bool create = op == NS_ARPOP_REQUEST && for_us;
		bool confirm = op == NS_ARPOP_REPLY && pkt->pkt_type == NS_PKT_HOST;
		pthread_mutex_lock(&t->mu);
		learn_locked(t, sip, sha, create, confirm, create || sip == tip, now, &w);
		pthread_mutex_unlock(&t->mu);
	}
	ns_pkt_unref(pkt);
	if (reply) {
		NS_STAT_INC(stk, ArpOutReplies);
		ns__nic_write(nic, &reply, 1);
	}
	work_run(t, &w);
	return;
drop:
	ns_pkt_unref(pkt);
}

void ns__ipv4_addr_added(struct ns_nic *nic, const struct ns_ifaddr *ifa)
{
	if (nic->link->caps & (NS_LINK_CAP_NOARP | NS_LINK_CAP_LOOPBACK))
		return;
	uint32_t ip = ns_addr_v4_u32(&ifa->addr);
	/* gratuitous request: sender = target = the new address (RFC 5227 3) */
	struct ns_pkt *p = arp_build(nic, NS_ARPOP_REQUEST, bcast, ip, NULL, ip);
	if (!p)
		return;
	NS_STAT_INC(nic->stk, ArpOutGratuitous);
	ns__nic_write(nic, &p, 1);
}

bool ns__arp_valid_or_probe(struct ns_nic *nic, uint32_t ip)
{
	if (nic->link->caps & (NS_LINK_CAP_NOARP | NS_LINK_CAP_LOOPBACK))
		return true;
	struct arp_tab *t = tab_of(nic);
	uint64_t now = ns__now(nic->stk);
	struct arp_work w;
	work_init(&w);
	bool valid = false;
	pthread_mutex_lock(&t->mu);
	struct arp_ent *e = lookup_locked(t, ip);
	if (e) {
		valid = e->state != NS_ARP_INCOMPLETE;      /* Linux NUD_VALID */
	} else if ((e = create_locked(t, ip, &w)) != NULL) {
		e->state = NS_ARP_INCOMPLETE;
		e->used = now;
		e->updated = now;
		publish(e);
		solicit_locked(t, e, &w);
		e->deadline = now + ARP_RETRANS;
		arm(t, e->deadline);
	}
	pthread_mutex_unlock(&t->mu);
	work_run(t, &w);
	return valid;
}

int ns__arp_entry_state(struct ns_nic *nic, uint32_t ip, uint8_t mac[6], int *qlen)
{
	struct arp_tab *t = tab_of(nic);
	int st = -1;
	pthread_mutex_lock(&t->mu);
	struct arp_ent *e = lookup_locked(t, ip);
	if (e) {
		st = e->state;
		if (mac)
			memcpy(mac, e->mac, 6);
		if (qlen) {
			int n = 0;
			for (struct ns_pkt *p = e->qh; p; p = p->next)
				n++;
			*qlen = n;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return st;
}
