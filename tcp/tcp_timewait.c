/*
 * tcp/tcp_timewait.c - TIME_WAIT as a small record instead of the whole
 * endpoint (Linux's inet_timewait_sock / tcp_timewait_sock).
 *
 * Owns: the record (4-tuple, snd_nxt / rcv_nxt, the advertised window, the
 * timestamp state ts_recent / ts_recent_stamp / ts_offset, what the port
 * binding needs, its own timer), the TIME_WAIT table (4-tuple -> record,
 * cds_lfht, lock-free lookups; writers under tcp->bind_mu like the
 * established table), the per-port chains of records in the bind table,
 * the tcp_max_tw_buckets cap (TCPTimeWaitOverflow), segment processing in
 * TIME_WAIT (Linux tcp_timewait_state_process: retransmitted FINs re-ACKed
 * and the 60 s restarted, RFC 1337 left to Linux's default (an in-window RST
 * kills the record), PAWS, a new SYN accepted per RFC 6191 with an ISN past
 * the old sequence space, out-of-window ACKs rate limited per record), and
 * reuse of a record's 4-tuple by connect() (Linux tcp_twsk_unique with
 * net.ipv4.tcp_tw_reuse).
 *
 * Lifetime: a record lives in the table until it is killed (timer, RST, SYN
 * reuse, connect reuse, stack teardown): whoever sets `dead` under tw->mu
 * first unhashes it, cancels its timer (waiting for a running callback) and
 * frees it after an RCU grace period, so a lock-free reader may always lock
 * a record it found and check `dead`.  Lock order: tw->mu is a leaf (nothing
 * is taken or sent while it is held); tcp->bind_mu may be held while
 * tw->mu is taken; the timer callback takes bind_mu only after it set dead.
 */
#include <stdlib.h>
#include "tcp_timewait.h"

struct tcp_tw {
	struct cds_lfht_node hnode;
	struct rcu_head rcu;
	struct ns_timer timer;
	struct ns_tcp *tcp;
	pthread_mutex_t mu;
	struct tcp_tw *bnext, **bpprev;         /* tcp->twbhash chain by port */
	struct ns_addr laddr, raddr;
	uint16_t lport, rport;
	uint32_t snd_nxt, rcv_nxt;
	uint32_t rcv_wnd;                       /* advertised, already >> rcv_wscale */
	uint32_t ts_recent, ts_offset;
	uint64_t ts_recent_stamp;               /* ns; 0: the connection had no timestamps */
	uint64_t entry;                         /* ns: entered TIME_WAIT */
	uint64_t last_oow_ack;                  /* ns: rate limit of out-of-window ACKs */
	int oif, bound_nic;
	int16_t ttl;
	uint8_t tos;
	uint8_t family;                         /* socket domain */
	bool dead, reuse, reuseport, bind_port_lock, v6only;
};

size_t tcp_tw_record_size(void) { return sizeof(struct tcp_tw); }

/* ---- table ------------------------------------------------------------------------------ */

struct twkey {
	const struct ns_addr *laddr, *raddr;
	uint16_t lport, rport;
};

static uint32_t tw_hash(struct ns_tcp *tcp, const struct ns_addr *laddr, uint16_t lport, const struct ns_addr *raddr,
			uint16_t rport)
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

static int tw_match(struct cds_lfht_node *node, const void *key)
{
	const struct twkey *k = key;
	const struct tcp_tw *tw = caa_container_of(node, struct tcp_tw, hnode);
	return tw->lport == k->lport && tw->rport == k->rport && ns_addr_eq(&tw->raddr, k->raddr) &&
	       ns_addr_eq(&tw->laddr, k->laddr);
}

/* Under ns_rcu_read_lock(). */
static struct tcp_tw *tw_find(struct ns_tcp *tcp, const struct ns_addr *laddr, uint16_t lport,
			      const struct ns_addr *raddr, uint16_t rport)
{
	struct twkey k = { laddr, raddr, lport, rport };
	struct cds_lfht_iter it;
	cds_lfht_lookup(tcp->twhash, tw_hash(tcp, laddr, lport, raddr, rport), tw_match, &k, &it);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
	return n ? caa_container_of(n, struct tcp_tw, hnode) : NULL;
}

static unsigned bslot(uint16_t port) { return port & (TCP_BHASH_SIZE - 1); }

static void tw_free_rcu(struct rcu_head *h)
{
	struct tcp_tw *tw = caa_container_of(h, struct tcp_tw, rcu);
	pthread_mutex_destroy(&tw->mu);
	free(tw);
}

/* Second half of a kill, by whoever set dead; bind_mu held. */
static void tw_unlink_locked(struct tcp_tw *tw)
{
	struct ns_tcp *tcp = tw->tcp;
	ns_rcu_read_lock();
	cds_lfht_del(tcp->twhash, &tw->hnode);
	ns_rcu_read_unlock();
	*tw->bpprev = tw->bnext;
	if (tw->bnext)
		tw->bnext->bpprev = tw->bpprev;
	atomic_fetch_sub(&tcp->n_timewait, 1);
}

static void tw_release(struct tcp_tw *tw)
{
	ns__timer_cancel_sync(tw->tcp->stk, &tw->timer);
	ns_call_rcu(&tw->rcu, tw_free_rcu);
}

/* Claims the kill: true if we set dead. */
static bool tw_claim(struct tcp_tw *tw)
{
	pthread_mutex_lock(&tw->mu);
	bool mine = !tw->dead;
	tw->dead = true;
	pthread_mutex_unlock(&tw->mu);
	return mine;
}

static void tw_kill(struct tcp_tw *tw)
{
	if (!tw_claim(tw))
		return;
	pthread_mutex_lock(&tw->tcp->bind_mu);
	tw_unlink_locked(tw);
	pthread_mutex_unlock(&tw->tcp->bind_mu);
	tw_release(tw);
}

static void tw_timer_fn(void *arg)
{
	struct tcp_tw *tw = arg;
	pthread_mutex_lock(&tw->mu);
	if (tw->dead) {
		pthread_mutex_unlock(&tw->mu);
		return;
	}
	if (ns__now(tw->tcp->stk) < tw->timer.when) {
		/* re-armed meanwhile (cannot happen with the heap, kept for safety) */
		pthread_mutex_unlock(&tw->mu);
		return;
	}
	pthread_mutex_unlock(&tw->mu);
	tw_kill(tw);
}

int tcp_tw_init(struct ns_tcp *tcp)
{
	tcp->twhash = ns__lfht_new(1024);
	tcp->tw_reuse = 2;
	tcp->max_tw_buckets = TCP_MAX_TW_BUCKETS;
	tcp->invalid_ratelimit_ms = (uint32_t)(TCP_INVALID_RATELIMIT_NS / NS_NSEC_PER_MSEC);
	return tcp->twhash ? 0 : -NS_ENOMEM;
}

void tcp_tw_fini(struct ns_tcp *tcp)
{
	if (!tcp->twhash)
		return;
	for (;;) {
		struct tcp_tw *victim = NULL;
		struct cds_lfht_iter it;
		struct cds_lfht_node *n;
		ns_rcu_read_lock();
		for (cds_lfht_first(tcp->twhash, &it); (n = cds_lfht_iter_get_node(&it)) != NULL;
		     cds_lfht_next(tcp->twhash, &it)) {
			struct tcp_tw *tw = caa_container_of(n, struct tcp_tw, hnode);
			if (tw_claim(tw)) {
				victim = tw;
				break;
			}
		}
		ns_rcu_read_unlock();
		if (!victim)
			break;
		pthread_mutex_lock(&tcp->bind_mu);
		tw_unlink_locked(victim);
		pthread_mutex_unlock(&tcp->bind_mu);
		tw_release(victim);
	}
}

/* ---- entering TIME_WAIT ---------------------------------------------------------------------- */

bool tcp_tw_enter(struct tcp_ep *ep, uint64_t timeo)
{
	struct ns_tcp *tcp = ep->tcp;
	if (atomic_fetch_add(&tcp->n_timewait, 1) >= tcp->max_tw_buckets) {
		atomic_fetch_sub(&tcp->n_timewait, 1);
		NS_STAT_INC(ep->stk, TcpExtTCPTimeWaitOverflow);
		return false;
	}
	struct tcp_tw *tw = calloc(1, sizeof(*tw));
	if (!tw) {
		atomic_fetch_sub(&tcp->n_timewait, 1);
		return false;
	}
	uint64_t now = ns__now(ep->stk);
	tw->tcp = tcp;
	pthread_mutex_init(&tw->mu, NULL);
	ns__timer_init(&tw->timer, tw_timer_fn, tw);
	tw->laddr = ep->laddr;
	tw->raddr = ep->raddr;
	tw->lport = ep->lport;
	tw->rport = ep->rport;
	tw->snd_nxt = ep->snd_nxt;
	tw->rcv_nxt = ep->rcv_nxt;
	/* Linux tcp_time_wait: the window we last advertised, as sent */
	uint32_t right = ep->rcv_wup + ep->rcv_wnd;
	uint32_t wnd = ns_seq_gt(right, ep->rcv_nxt) ? right - ep->rcv_nxt : 0;
	tw->rcv_wnd = NS_MIN(wnd >> ep->rcv_wscale, 65535u);
	if (ep->ts_ok) {
		tw->ts_recent = ep->ts_recent;
		tw->ts_recent_stamp = ep->ts_recent_stamp_ns ? ep->ts_recent_stamp_ns : now;
		tw->ts_offset = ep->ts_offset;
	}
	tw->entry = now;
	tw->last_oow_ack = ep->last_oow_ack;
	bool v6 = ep->raddr.family == NS_AF_INET6;
	tw->ttl = v6 ? ep->hops : ep->ttl;
	tw->tos = v6 ? ep->tclass : ep->tos;
	tw->oif = ep->sk->bound_nic;
	tw->bound_nic = ep->sk->bound_nic;
	tw->family = (uint8_t)ep->family;
	tw->reuse = ep->sk->reuseaddr;
	tw->reuseport = ep->sk->reuseport;
	tw->bind_port_lock = ep->bind_port_lock;
	tw->v6only = ep->v6only;
	struct twkey k = { &tw->laddr, &tw->raddr, tw->lport, tw->rport };
	pthread_mutex_lock(&tcp->bind_mu);
	cds_lfht_node_init(&tw->hnode);
	ns_rcu_read_lock();
	struct cds_lfht_node *r = cds_lfht_add_unique(tcp->twhash, tw_hash(tcp, &tw->laddr, tw->lport, &tw->raddr,
							tw->rport), tw_match, &k, &tw->hnode);
	ns_rcu_read_unlock();
	if (r != &tw->hnode) {
		/* an older record of the same tuple is still being killed: no second one */
		pthread_mutex_unlock(&tcp->bind_mu);
		atomic_fetch_sub(&tcp->n_timewait, 1);
		pthread_mutex_destroy(&tw->mu);
		free(tw);
		return false;
	}
	struct tcp_tw **head = &tcp->twbhash[bslot(tw->lport)];
	tw->bnext = *head;
	if (tw->bnext)
		tw->bnext->bpprev = &tw->bnext;
	tw->bpprev = head;
	*head = tw;
	ns__timer_arm(ep->stk, &tw->timer, now + (timeo ? timeo : TCP_TIMEWAIT_NS));
	pthread_mutex_unlock(&tcp->bind_mu);
	NS_STAT_INC(ep->stk, TcpExtTW);
	return true;
}

/* ---- answering from the record ------------------------------------------------------------------------ */

struct tw_ack {
	struct ns_ip_tx tx;
	uint16_t sport, dport;
	uint32_t seq, ack, wnd;
	bool ts;
	uint32_t tsval, tsecr;
};

static void tw_ack_prepare(const struct tcp_tw *tw, struct tw_ack *a)
{
	memset(a, 0, sizeof(*a));
	a->tx.src = tw->laddr;
	a->tx.dst = tw->raddr;
	a->tx.proto = NS_IPPROTO_TCP;
	a->tx.ttl = tw->ttl;
	a->tx.tos = tw->tos;
	a->tx.pmtudisc = NS_IP_PMTUDISC_WANT;
	a->tx.oif = tw->oif;
	a->sport = tw->lport;
	a->dport = tw->rport;
	a->seq = tw->snd_nxt;
	a->ack = tw->rcv_nxt;
	a->wnd = tw->rcv_wnd;
	if (tw->ts_recent_stamp) {
		a->ts = true;
		a->tsval = (uint32_t)(ns__now(tw->tcp->stk) / NS_NSEC_PER_MSEC) + tw->ts_offset;
		a->tsecr = tw->ts_recent;
	}
}

/* Linux tcp_v4_timewait_ack(): a bare ACK with the record's numbers. */
static void tw_ack_send(struct ns_stack *stk, const struct tw_ack *a)
{
	struct ns_pkt *pkt = ns_pkt_alloc(ns_stack_pool(stk), NS_PKT_TX_HEADROOM, 0);
	if (!pkt)
		return;
	struct ns_tcp_opts o;
	memset(&o, 0, sizeof(o));
	if (a->ts) {
		o.present |= NS_TCP_OPT_F_TS;
		o.tsval = a->tsval;
		o.tsecr = a->tsecr;
	}
	uint8_t obuf[NS_TCP_MAX_OPT_LEN];
	size_t olen = ns_tcp_opts_write(obuf, sizeof(obuf), &o);
	uint32_t hl = TCP_HLEN + (uint32_t)olen;
	uint8_t *h = ns_pkt_push(pkt, hl);
	if (!h) {
		ns_pkt_unref(pkt);
		return;
	}
	memset(h, 0, TCP_HLEN);
	ns_store_be16(h, a->sport);
	ns_store_be16(h + 2, a->dport);
	ns_store_be32(h + 4, a->seq);
	ns_store_be32(h + 8, a->ack);
	h[12] = (uint8_t)((hl / 4) << 4);
	h[13] = TCPF_ACK;
	ns_store_be16(h + 14, (uint16_t)a->wnd);
	if (olen)
		memcpy(h + TCP_HLEN, obuf, olen);
	uint32_t sum = ns_csum_pseudo(&a->tx.src, &a->tx.dst, NS_IPPROTO_TCP, hl);
	ns_store_be16(h + 16, ns_csum_fold(ns_csum_partial(h, hl, sum)));
	pkt->l4 = pkt->data;
	NS_STAT_INC(stk, TcpOutSegs);
	ns__ip_output(stk, pkt, &a->tx);
}

/* Linux tcp_paws_reject() against the record (RST: only within 60 s of ts_recent). */
static bool tw_paws_reject(const struct tcp_tw *tw, const struct tcp_seg *seg, uint64_t now)
{
	if ((int32_t)(tw->ts_recent - seg->opt.tsval) <= 0)
		return false;
	if (now - tw->ts_recent_stamp >= (uint64_t)TCP_PAWS_24DAYS * NS_NSEC_PER_SEC)
		return false;
	if (!tw->ts_recent)
		return false;
	if ((seg->flags & TCPF_RST) && now - tw->ts_recent_stamp >= 60 * NS_NSEC_PER_SEC)
		return false;
	return true;
}

/* Linux tcp_oow_rate_limited(): only pure ACKs and SYNs can be part of an ACK loop. */
static bool tw_oow_limited(struct tcp_tw *tw, const struct tcp_seg *seg, uint64_t now)
{
	if (seg->seq != seg->end_seq && !(seg->flags & TCPF_SYN))
		return false;
	uint64_t lim = (uint64_t)tw->tcp->invalid_ratelimit_ms * NS_NSEC_PER_MSEC;
	if (tw->last_oow_ack && now - tw->last_oow_ack < lim) {
		NS_STAT_INC(tw->tcp->stk, TcpExtTCPACKSkippedTimeWait);
		return true;
	}
	tw->last_oow_ack = now;
	return false;
}

enum tw_act { ACT_NONE, ACT_ACK, ACT_KILL, ACT_SYN };

/* Linux tcp_timewait_state_process() for the TIME_WAIT substate; tw->mu held. */
static enum tw_act tw_process(struct tcp_tw *tw, struct tcp_seg *seg, uint64_t now)
{
	struct ns_stack *stk = tw->tcp->stk;
	bool has_ts = ns_tcp_opts_has(&seg->opt, NS_TCP_OPT_F_TS);
	bool paws = tw->ts_recent_stamp && has_ts && tw_paws_reject(tw, seg, now);
	uint8_t f = seg->flags;
	if (!paws && seg->seq == tw->rcv_nxt && (seg->seq == seg->end_seq || (f & TCPF_RST))) {
		/* in window: only a RST or a bare ACK can be here */
		if (f & TCPF_RST)
			return ACT_KILL;   /* TIME_WAIT assassination: Linux tcp_rfc1337 = 0 */
		ns__timer_arm(stk, &tw->timer, now + TCP_TIMEWAIT_NS);
		if (has_ts && tw->ts_recent_stamp) {
			tw->ts_recent = seg->opt.tsval;
			tw->ts_recent_stamp = now;
		}
		return ACT_NONE;
	}
	/* RFC 6191 / RFC 1122 4.2.2.13: a new SYN may reopen the connection */
	if ((f & TCPF_SYN) && !(f & (TCPF_RST | TCPF_ACK)) && !paws &&
	    (ns_seq_gt(seg->seq, tw->rcv_nxt) ||
	     (has_ts && tw->ts_recent_stamp && (int32_t)(tw->ts_recent - seg->opt.tsval) < 0))) {
		uint32_t isn = tw->snd_nxt + 65535 + 2;
		seg->tw_isn = isn ? isn : 1;
		return ACT_SYN;
	}
	if (paws)
		NS_STAT_INC(stk, TcpExtPAWSTimewait);   /* Linux 6.x LINUX_MIB_PAWS_TW_REJECTED */
	if (f & TCPF_RST)
		return ACT_NONE;
	/* an ACKless SYN may be an old duplicate or a new SYN with a lower
	 * sequence number: do not restart the 60 s for it */
	if (paws || (f & TCPF_ACK))
		ns__timer_arm(stk, &tw->timer, now + TCP_TIMEWAIT_NS);
	return tw_oow_limited(tw, seg, now) ? ACT_NONE : ACT_ACK;
}

enum tcp_tw_verdict tcp_tw_rcv(struct ns_tcp *tcp, struct tcp_seg *seg)
{
	if (!tcp->twhash || atomic_load_explicit(&tcp->n_timewait, memory_order_relaxed) == 0)
		return TCP_TW_NONE;
	const struct ns_ip_meta *m = seg->m;
	enum tw_act act = ACT_NONE;
	struct tw_ack a;
	struct tcp_tw *tw;
	uint64_t now = ns__now(tcp->stk);
	ns_rcu_read_lock();
	tw = tw_find(tcp, &m->dst, seg->dport, &m->src, seg->sport);
	if (!tw) {
		ns_rcu_read_unlock();
		return TCP_TW_NONE;
	}
	pthread_mutex_lock(&tw->mu);
	if (tw->dead) {
		pthread_mutex_unlock(&tw->mu);
		ns_rcu_read_unlock();
		return TCP_TW_NONE;
	}
	act = tw_process(tw, seg, now);
	if (act == ACT_ACK || act == ACT_SYN)
		tw_ack_prepare(tw, &a);
	if (act == ACT_SYN) {
		/* Linux tcp_v4_rcv TCP_TW_SYN: only if a listener takes it, else ACK */
		pthread_mutex_unlock(&tw->mu);
		struct tcp_ep *lep = tcp_lookup_listener(tcp, &m->dst, seg->dport, &m->src, seg->sport,
							 m->nic ? m->nic->id : 0);
		if (lep)
			ns__sock_put(lep->sk);
		else
			act = ACT_ACK;
		pthread_mutex_lock(&tw->mu);
	}
	bool kill = (act == ACT_KILL || act == ACT_SYN) && !tw->dead;
	if (kill)
		tw->dead = true;
	pthread_mutex_unlock(&tw->mu);
	ns_rcu_read_unlock();
	if (kill) {
		/* we set dead: the record stays allocated until tw_release's grace period */
		if (act == ACT_KILL)
			NS_STAT_INC(tcp->stk, TcpExtTWKilled);
		pthread_mutex_lock(&tcp->bind_mu);
		tw_unlink_locked(tw);
		pthread_mutex_unlock(&tcp->bind_mu);
		tw_release(tw);
	}
	if (act == ACT_SYN)
		return TCP_TW_SYN;
	if (act == ACT_ACK)
		tw_ack_send(tcp->stk, &a);
	ns_pkt_unref(seg->pkt);
	seg->pkt = NULL;
	return TCP_TW_DONE;
}

/* ---- connect() reusing a record's 4-tuple (Linux tcp_twsk_unique) --------------------------------------- */

static bool is_loopback(const struct ns_addr *a)
{
	if (a->family == NS_AF_INET)
		return a->b[0] == 127;
	static const uint8_t lo6[16] = { [15] = 1 };
	static const uint8_t mapped_lo[12] = { [10] = 0xff, [11] = 0xff };
	return memcmp(a->b, lo6, 16) == 0 || (memcmp(a->b, mapped_lo, 12) == 0 && a->b[12] == 127);
}

int tcp_tw_check_connect_locked(struct ns_tcp *tcp, struct tcp_ep *ep, bool autobind)
{
	if (!tcp->twhash || atomic_load_explicit(&tcp->n_timewait, memory_order_relaxed) == 0)
		return 0;
	ns_rcu_read_lock();
	struct tcp_tw *tw = tw_find(tcp, &ep->laddr, ep->lport, &ep->raddr, ep->rport);
	if (!tw) {
		ns_rcu_read_unlock();
		return 0;
	}
	int reuse = tcp->tw_reuse;
	uint64_t now = ns__now(tcp->stk);
	pthread_mutex_lock(&tw->mu);
	if (tw->dead) {
		/* being killed by its timer: the tuple is free (the unhash follows) */
		pthread_mutex_unlock(&tw->mu);
		ns_rcu_read_unlock();
		return 0;
	}
	if (reuse == 2 && !is_loopback(&tw->raddr) && !is_loopback(&tw->laddr))
		reuse = 0;
	/* Linux: with timestamps the old duplicates are told apart (PAWS); a port
	 * chosen by connect also needs tcp_tw_reuse and tcp_tw_reuse_delay (1 s)
	 * since the record was made */
	bool ok = tw->ts_recent_stamp &&
		  (!autobind || (reuse && now - tw->entry > 1000 * NS_NSEC_PER_MSEC));
	if (ok) {
		uint32_t seq = tw->snd_nxt + 65535 + 2;
		ep->tw_isn = seq ? seq : 1;
		ep->ts_recent = tw->ts_recent;
		ep->ts_recent_stamp_ns = tw->ts_recent_stamp;
		tw->dead = true;
	}
	pthread_mutex_unlock(&tw->mu);
	ns_rcu_read_unlock();
	if (!ok)
		return -NS_EADDRNOTAVAIL;
	NS_STAT_INC(tcp->stk, TcpExtTWRecycled);
	tw_unlink_locked(tw);
	/* the callback never takes bind_mu for a dead record: safe to wait here */
	tw_release(tw);
	return 0;
}

/* ---- bind table -------------------------------------------------------------------------------------------- */

bool tcp_tw_port_used_locked(struct ns_tcp *tcp, uint16_t port)
{
	for (struct tcp_tw *tw = tcp->twbhash[bslot(port)]; tw; tw = tw->bnext)
		if (tw->lport == port)
			return true;
	return false;
}

bool tcp_tw_port_locked_for_connect(struct ns_tcp *tcp, uint16_t port)
{
	for (struct tcp_tw *tw = tcp->twbhash[bslot(port)]; tw; tw = tw->bnext)
		if (tw->lport == port && tw->bind_port_lock)
			return true;
	return false;
}

bool tcp_addr_overlap(const struct ns_addr *o_laddr, int o_family, bool o_v6only, const struct ns_addr *addr,
		      int family, bool v6only);

bool tcp_tw_port_conflict_locked(struct ns_tcp *tcp, const struct tcp_ep *ep, const struct ns_addr *addr,
				 uint16_t port, bool relax)
{
	for (struct tcp_tw *tw = tcp->twbhash[bslot(port)]; tw; tw = tw->bnext) {
		if (tw->lport != port)
			continue;
		if (ep->sk->bound_nic && tw->bound_nic && ep->sk->bound_nic != tw->bound_nic)
			continue;
		/* Linux inet_bind_conflict: a TIME_WAIT owner is never a listener */
		if (ep->sk->reuseaddr && tw->reuse) {
			if (relax)
				continue;
		} else if (ep->sk->reuseport && tw->reuseport) {
			continue;
		}
		if (tcp_addr_overlap(&tw->laddr, tw->family, tw->v6only, addr, ep->family, ep->v6only))
			return true;
	}
	return false;
}

/* ---- iteration ---------------------------------------------------------------------------------------------- */

int tcp_tw_foreach(struct ns_tcp *tcp, tcp_tw_fn fn, void *ctx)
{
	int n = 0;
	if (!tcp->twhash)
		return 0;
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;
	ns_rcu_read_lock();
	for (cds_lfht_first(tcp->twhash, &it); (node = cds_lfht_iter_get_node(&it)) != NULL;
	     cds_lfht_next(tcp->twhash, &it)) {
		struct tcp_tw *tw = caa_container_of(node, struct tcp_tw, hnode);
		if (fn)
			fn(ctx, &tw->laddr, tw->lport, &tw->raddr, tw->rport);
		n++;
	}
	ns_rcu_read_unlock();
	return n;
}
