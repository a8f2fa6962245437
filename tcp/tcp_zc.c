/*
 * tcp/tcp_zc.c - the TCP send features that need per-write bookkeeping on
 * top of the byte-stream send queue, with Linux's semantics:
 *
 * - MSG_EOR: the last byte of such a write ends an skb that later data is
 *   never appended to (Linux TCP_SKB_CB(skb)->eor, tcp_skb_can_collapse_to),
 *   so no segment, new or retransmitted, crosses it; it carries PSH (as
 *   does the end of a full zerocopy skb, tcp_mark_push).
 * - MSG_ZEROCOPY (SO_ZEROCOPY): each send gets a notification id (or
 *   extends the notification of the unsent tail skb, msg_zerocopy_realloc),
 *   completed on the error queue when all its bytes are acknowledged, with
 *   SO_EE_CODE_ZEROCOPY_COPIED because a user-space stack copies (as Linux
 *   reports when it had to copy, e.g. over loopback).  A zerocopy skb holds
 *   at most MAX_SKB_FRAGS (17) page fragments: one per page of each iovec
 *   element, merged when contiguous in memory (skb_can_coalesce); a full one
 *   ends the skb.  Notifications cost option memory (ENOBUFS past
 *   net.core.optmem_max, Linux sock_omalloc).
 * - SO_TIMESTAMPING transmit timestamps: the last byte of each write is a
 *   key (tcp_tx_timestamp; a key still unsent in the same skb is replaced);
 *   SCM_TSTAMP_SCHED and SCM_TSTAMP_SND when a segment holding the key is
 *   handed to IP, SCM_TSTAMP_ACK when the cumulative ACK covers it.  The
 *   data of a timestamp entry is the segment payload (Linux returns the
 *   whole frame with headers for SCHED/SND); OPT_TSONLY returns none.
 * - Receive timestamps (SO_TIMESTAMP*, SCM_TIMESTAMPING): the arrival time
 *   of the segment holding the last byte read (tcp_recv_timestamp).
 *
 * State lives in struct tcp_xf, allocated on first use (ep->xf), under sk->mu.
 */
#include <stdlib.h>
#include "tcp_internal.h"
#include "tcp_zc.h"

#define ZC_MAX_FRAGS 17                 /* MAX_SKB_FRAGS */
#define ZC_PAGE 4096u
#define ZC_BYTE_LIMIT (1u << 19)        /* msg_zerocopy_realloc byte_limit */
#define ZC_LEN_MAX 65534u               /* USHRT_MAX - 1 */

enum { MARK_EOR = 1, MARK_SKB = 2 };

struct xf_mark {
	uint32_t seq;                   /* no segment crosses seq */
	uint8_t kind;
};

struct xf_uarg {                        /* one zerocopy notification (Linux ubuf_info_msgzc) */
	uint32_t id, len, bytelen;
	uint32_t end;                   /* complete when snd_una reaches it */
};

struct xf_key {                         /* one transmit timestamp key (Linux shinfo->tskey) */
	uint32_t seq;                   /* the key byte */
	uint32_t flags;                 /* NS_SOF_TIMESTAMPING_TX_* recorded at the write */
	uint32_t seg_seq, seg_len;      /* the last segment that carried it */
};

#define XF_VEC(T, name) \
	T *name;            \
	uint32_t n_##name, cap_##name

struct tcp_xf {
	XF_VEC(struct xf_mark, marks);  /* increasing, all after snd_una */
	XF_VEC(struct xf_uarg, ua);     /* in send order */
	XF_VEC(struct xf_key, keys);    /* in sequence order */
	uint32_t una;                   /* snd_una the last ACK hook saw */
	/* the unsent tail skb (zerocopy fragment accounting) */
	uint32_t tail_frags;
	uintptr_t tail_addr;            /* address after the last zerocopy fragment, 0 none */
	bool tail_zc;
};

static bool grow(void **v, uint32_t *cap, uint32_t n, size_t sz)
{
	if (n < *cap)
		return true;
	uint32_t nc = *cap ? *cap * 2 : 8;
	void *p = realloc(*v, (size_t)nc * sz);
	if (!p)
		return false;
	*v = p;
	*cap = nc;
	return true;
}
#define PUSH(xf, name, val) \
	(grow((void **)&(xf)->name, &(xf)->cap_##name, (xf)->n_##name, sizeof(*(xf)->name)) ? \
	 ((xf)->name[(xf)->n_##name++] = (val), true) : false)

static void drop_front(void *v, uint32_t *n, uint32_t k, size_t sz)
{
	if (!k)
		return;
	memmove(v, (uint8_t *)v + k * sz, (*n - k) * sz);
	*n -= k;
}

static struct tcp_xf *xf_get(struct tcp_ep *ep)
{
	if (!ep->xf) {
		ep->xf = calloc(1, sizeof(*ep->xf));
		if (ep->xf)
			ep->xf->una = ep->snd_una;
	}
	return ep->xf;
}

void tcp_xf_free(struct tcp_ep *ep)
{
	struct tcp_xf *xf = ep->xf;
	if (!xf)
		return;
	free(xf->marks);
	free(xf->ua);
	free(xf->keys);
	free(xf);
	ep->xf = NULL;
}

int ns__tcp_tskey_base_locked(struct ns_sock *sk, bool id_tcp, uint32_t *key)
{
	struct tcp_ep *ep = tcp_ep_of(sk);
	if (!ep || ep->state == TCP_CLOSE || ep->state == TCP_LISTEN)
		return -NS_EINVAL;
	*key = id_tcp ? ep->write_seq : ep->snd_una;
	return 0;
}

/* ---- segment boundaries ------------------------------------------------------------ */

static void add_mark(struct tcp_xf *xf, uint32_t seq, uint8_t kind)
{
	if (xf->n_marks && xf->marks[xf->n_marks - 1].seq == seq) {
		xf->marks[xf->n_marks - 1].kind |= kind;
		return;
	}
	PUSH(xf, marks, ((struct xf_mark){ .seq = seq, .kind = kind }));
}

uint32_t tcp_xf_seg_limit(struct tcp_ep *ep, uint32_t seq, uint32_t len)
{
	struct tcp_xf *xf = ep->xf;
	for (uint32_t i = 0; xf && i < xf->n_marks; i++) {
		uint32_t s = xf->marks[i].seq;
		if (ns_seq_gt(s, seq))
			return ns_seq_lt(s, seq + len) ? s - seq : len;
	}
	return len;
}

bool tcp_xf_is_mark(struct tcp_ep *ep, uint32_t end, bool eor_only)
{
	struct tcp_xf *xf = ep->xf;
	for (uint32_t i = 0; xf && i < xf->n_marks; i++) {
		if (xf->marks[i].seq == end)
			return !eor_only || (xf->marks[i].kind & MARK_EOR);
		if (ns_seq_gt(xf->marks[i].seq, end))
			break;
	}
	return false;
}

/* Start of the unsent tail skb: snd_nxt or the last mark before write_seq. */
static uint32_t tail_start(struct tcp_ep *ep, struct tcp_xf *xf)
{
	uint32_t s = ep->snd_nxt;
	for (uint32_t i = xf->n_marks; i-- > 0;) {
		uint32_t m = xf->marks[i].seq;
		if (ns_seq_lt(m, ep->write_seq)) {
			if (ns_seq_gt(m, s))
				s = m;
			break;
		}
	}
	return s;
}

/* ---- send ------------------------------------------------------------------------------ */

int tcp_xf_send_begin(struct tcp_ep *ep, const struct msghdr *m, int flags, size_t total, struct tcp_xf_send *xs)
{
	struct ns_sock *sk = ep->sk;
	memset(xs, 0, sizeof(*xs));
	xs->flags = flags;
	xs->total = total;
	xs->zc = (flags & NS_MSG_ZEROCOPY) && total && sk->zerocopy;
	if (!xs->zc)
		return 0;
	struct tcp_xf *xf = xf_get(ep);
	if (!xf)
		return -NS_ENOBUFS;
	/* Linux msg_zerocopy_realloc on the unsent tail skb's notification */
	if (xf->n_ua && ns_seq_lt(ep->snd_nxt, ep->write_seq)) {
		struct xf_uarg *u = &xf->ua[xf->n_ua - 1];
		if (ns_seq_gt(u->end, tail_start(ep, xf)) && u->id + u->len == sk->zckey &&
		    u->len < ZC_LEN_MAX && (uint64_t)u->bytelen + total <= ZC_BYTE_LIMIT) {
			xs->extend = true;
			return 0;
		}
	}
	if (!ns__errq_zc_charge_locked(sk))
		return -NS_ENOBUFS;
	xs->charged = true;
	return 0;
}

/* Bytes of m from skip (at most max) that fit the tail skb's fragments; 0: the skb is full. */
static size_t zc_fit(struct tcp_xf *xf, const struct msghdr *m, size_t skip, size_t max)
{
	size_t fit = 0;
	uint32_t frags = xf->tail_frags;
	uintptr_t last = xf->tail_addr;
	for (size_t i = 0; i < (size_t)m->msg_iovlen && fit < max; i++) {
		size_t l = m->msg_iov[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		uintptr_t a = (uintptr_t)m->msg_iov[i].iov_base + skip;
		size_t left = NS_MIN(l - skip, max - fit);
		skip = 0;
		while (left) {
			size_t in_page = ZC_PAGE - (a % ZC_PAGE);
			size_t n = NS_MIN(left, in_page);
			if (!(a == last && a % ZC_PAGE)) {
				if (frags == ZC_MAX_FRAGS)
					return fit;
				frags++;
			}
			a += n;
			last = a;
			fit += n;
			left -= n;
		}
	}
	return fit;
}

/* Accounts the fragments of n appended bytes (zerocopy: per page of each iovec). */
static void zc_account(struct tcp_xf *xf, const struct msghdr *m, size_t skip, size_t n)
{
	for (size_t i = 0; i < (size_t)m->msg_iovlen && n; i++) {
		size_t l = m->msg_iov[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		uintptr_t a = (uintptr_t)m->msg_iov[i].iov_base + skip;
		size_t left = NS_MIN(l - skip, n);
		skip = 0;
		n -= left;
		while (left) {
			size_t k = NS_MIN(left, ZC_PAGE - (a % ZC_PAGE));
			if (!(a == xf->tail_addr && a % ZC_PAGE))
				xf->tail_frags++;
			a += k;
			xf->tail_addr = a;
			left -= k;
		}
	}
}

ssize_t tcp_xf_append(struct tcp_ep *ep, struct tcp_xf_send *xs, const struct msghdr *m, size_t skip, size_t max)
{
	struct tcp_xf *xf = ep->xf;
	if (!xf)
		return tcp_sndq_append(ep, m, skip, max);
	if (!ns_seq_lt(ep->snd_nxt, ep->write_seq) || tcp_xf_is_mark(ep, ep->write_seq, false)) {
		xf->tail_frags = 0;             /* the next byte starts a new skb */
		xf->tail_addr = 0;
		xf->tail_zc = false;
	}
	if (!xs->zc) {
		/* copied data: one page fragment after zerocopy ones (Linux sk_page_frag) */
		if (xf->tail_zc && xf->tail_addr) {
			if (xf->tail_frags >= ZC_MAX_FRAGS) {
				add_mark(xf, ep->write_seq, MARK_SKB);
				xf->tail_frags = 0;
				xf->tail_zc = false;
			}
			xf->tail_frags++;
			xf->tail_addr = 0;
		}
		return tcp_sndq_append(ep, m, skip, max);
	}
	size_t done = 0;
	while (done < max) {
		size_t fit = zc_fit(xf, m, skip + done, max - done);
		if (!fit) {
			add_mark(xf, ep->write_seq, MARK_SKB);
			xf->tail_frags = 0;
			xf->tail_addr = 0;
			continue;
		}
		ssize_t n = tcp_sndq_append(ep, m, skip + done, fit);
		if (n <= 0)
			return done ? (ssize_t)done : n;
		zc_account(xf, m, skip + done, (size_t)n);
		xf->tail_zc = true;
		done += (size_t)n;
		if ((size_t)n < fit)
			break;
	}
	return (ssize_t)done;
}

static void add_key(struct tcp_ep *ep, struct tcp_xf *xf, uint32_t seq, uint32_t flags)
{
	/* a key still unsent in the same skb is replaced (one tskey per skb) */
	if (xf->n_keys) {
		struct xf_key *k = &xf->keys[xf->n_keys - 1];
		if (!ns_seq_lt(k->seq, ep->snd_nxt) && tcp_xf_seg_limit(ep, k->seq, seq - k->seq) == seq - k->seq) {
			k->seq = seq;
			k->flags |= flags;
			return;
		}
	}
	PUSH(xf, keys, ((struct xf_key){ .seq = seq, .flags = flags }));
}

void tcp_xf_send_end(struct tcp_ep *ep, struct tcp_xf_send *xs, size_t copied)
{
	struct ns_sock *sk = ep->sk;
	uint32_t txf = sk->tsflags & NS_SOF_TIMESTAMPING_TX_RECORD_MASK;
	if (!copied) {
		if (xs->charged)
			sk->omem -= NS_MIN(sk->omem, NS_ERRQ_ZC_OMEM);
		xs->charged = false;
		return;
	}
	if (!(xs->flags & NS_MSG_EOR) && !xs->zc && !txf)
		return;
	struct tcp_xf *xf = xf_get(ep);
	if (!xf)
		return;
	if ((xs->flags & NS_MSG_EOR) && copied == xs->total)
		add_mark(xf, ep->write_seq, MARK_EOR);
	if (xs->zc) {
		if (xs->extend) {
			struct xf_uarg *u = &xf->ua[xf->n_ua - 1];
			u->len++;
			u->bytelen += (uint32_t)xs->total;
			u->end = ep->write_seq;
		} else {
			struct xf_uarg u = { .id = sk->zckey, .len = 1, .bytelen = (uint32_t)xs->total,
					     .end = ep->write_seq };
			if (!PUSH(xf, ua, u)) {
				sk->omem -= NS_MIN(sk->omem, NS_ERRQ_ZC_OMEM);
				return;
			}
		}
		sk->zckey++;
		xs->charged = false;
	}
	if (txf)
		add_key(ep, xf, ep->write_seq - 1, txf);
}

/* ---- timestamps -------------------------------------------------------------------------- */

/* Copies [seq, seq + len) of the send queue into dst. */
static void sndq_read(struct tcp_ep *ep, uint32_t seq, uint8_t *dst, uint32_t len)
{
	for (struct ns_pkt *c = ep->sndq.head; c && len; c = c->next) {
		uint32_t cs = c->seq, cl = ns_pkt_len(c);
		if (ns_seq_leq(cs + cl, seq))
			continue;
		if (ns_seq_lt(seq, cs))
			break;
		uint32_t off = seq - cs, n = NS_MIN(cl - off, len);
		memcpy(dst, ns_pkt_data(c) + off, n);
		dst += n;
		seq += n;
		len -= n;
	}
}

static void tstamp(struct tcp_ep *ep, const struct xf_key *k, int type, uint32_t seg_seq, uint32_t seg_len)
{
	struct ns_sock *sk = ep->sk;
	uint32_t f = sk->tsflags;
	bool tsonly = f & NS_SOF_TIMESTAMPING_OPT_TSONLY;
	/* the payload must still be in the send queue */
	struct ns_pkt *h = ep->sndq.head;
	if (!h || ns_seq_lt(seg_seq, h->seq) || ns_seq_gt(seg_seq + seg_len, ep->write_seq))
		seg_len = 0;
	struct ns_errq_ent *e = ns__errq_alloc(tsonly ? 0 : seg_len);
	if (!e)
		return;
	if (!tsonly && seg_len)
		sndq_read(ep, seg_seq, e->data, seg_len);
	e->ee.ee_errno = NS_ENOMSG;
	e->ee.ee_origin = NS_SO_EE_ORIGIN_TIMESTAMPING;
	e->ee.ee_info = (uint32_t)type;
	if (f & NS_SOF_TIMESTAMPING_OPT_ID)
		e->ee.ee_data = k->seq - sk->tskey;
	e->tstamp_ns = ns__realtime(ep->stk);
	ns__errq_queue_locked(sk, e);
}

void tcp_xf_on_xmit(struct tcp_ep *ep, uint32_t seq, uint32_t len)
{
	struct tcp_xf *xf = ep->xf;
	for (uint32_t i = 0; xf && i < xf->n_keys; i++) {
		struct xf_key *k = &xf->keys[i];
		if (ns_seq_lt(k->seq, seq))
			continue;
		if (!ns_seq_lt(k->seq, seq + len))
			break;
		k->seg_seq = seq;
		k->seg_len = len;
		if (k->flags & NS_SOF_TIMESTAMPING_TX_SCHED)
			tstamp(ep, k, NS_SCM_TSTAMP_SCHED, seq, len);
		if (k->flags & NS_SOF_TIMESTAMPING_TX_SOFTWARE)
			tstamp(ep, k, NS_SCM_TSTAMP_SND, seq, len);
	}
}

/* ---- acknowledgment and purge -------------------------------------------------------------- */

static void complete_uargs(struct tcp_ep *ep, uint32_t una, bool all)
{
	struct tcp_xf *xf = ep->xf;
	uint32_t k = 0;
	bool notify = !ep->orphan && !ep->dead;   /* Linux: not once SOCK_DEAD */
	while (k < xf->n_ua && (all || !ns_seq_lt(una, xf->ua[k].end))) {
		struct xf_uarg *u = &xf->ua[k++];
		if (notify)
			ns__errq_zc_complete_locked(ep->sk, u->id, u->len, true);
		else
			ep->sk->omem -= NS_MIN(ep->sk->omem, NS_ERRQ_ZC_OMEM);
	}
	drop_front(xf->ua, &xf->n_ua, k, sizeof(*xf->ua));
}

void tcp_xf_on_ack(struct tcp_ep *ep, uint32_t una)
{
	struct tcp_xf *xf = ep->xf;
	uint32_t prior = xf->una;
	xf->una = una;
	/* ACK timestamps while the payload is still queued (tcp_ack_tstamp) */
	uint32_t k = 0;
	while (k < xf->n_keys && ns_seq_lt(xf->keys[k].seq, una)) {
		struct xf_key *key = &xf->keys[k++];
		if ((key->flags & NS_SOF_TIMESTAMPING_TX_ACK) && !ns_seq_lt(key->seq, prior))
			tstamp(ep, key, NS_SCM_TSTAMP_ACK, key->seg_seq, key->seg_len);
	}
	drop_front(xf->keys, &xf->n_keys, k, sizeof(*xf->keys));
	complete_uargs(ep, una, false);
	uint32_t mk = 0;
	while (mk < xf->n_marks && !ns_seq_gt(xf->marks[mk].seq, una))
		mk++;
	drop_front(xf->marks, &xf->n_marks, mk, sizeof(*xf->marks));
}

void tcp_xf_purge(struct tcp_ep *ep)
{
	struct tcp_xf *xf = ep->xf;
	complete_uargs(ep, 0, true);
	xf->n_keys = xf->n_marks = 0;
	xf->tail_frags = 0;
	xf->tail_addr = 0;
	xf->tail_zc = false;
}

/* ---- receive timestamps --------------------------------------------------------------------- */

uint64_t tcp_xf_rx_stamp(struct tcp_ep *ep, size_t n)
{
	struct ns_sock *sk = ep->sk;
	if (!sk->rcvtstamp && !(sk->tsflags & (NS_SOF_TIMESTAMPING_SOFTWARE | NS_SOF_TIMESTAMPING_RX_SOFTWARE)))
		return 0;
	if (n > ep->rcvq_bytes)
		n = ep->rcvq_bytes;
	if (!n)
		return 0;
	size_t off = 0;
	for (struct ns_pkt *p = ep->rcvq_head; p; p = p->next) {
		off += ns_pkt_len(p);
		if (off >= n)
			return p->tstamp ? p->tstamp : 1;
	}
	return 0;
}

void tcp_xf_rx_put(struct tcp_ep *ep, struct msghdr *m, uint64_t stamp)
{
	if (!stamp)
		return;
	struct ns_sock *sk = ep->sk;
	uint64_t now = ns__now(sk->stk), real = ns__realtime(sk->stk);
	uint64_t age = now > stamp ? now - stamp : 0;
	uint64_t ts = real > age ? real - age : 0;
	size_t off = (m->msg_flags & NS__MSG_CTL_SET) ? m->msg_controllen : 0;
	if (!sk->rcvtstamp && !((sk->tsflags & NS_SOF_TIMESTAMPING_SOFTWARE) &&
				((sk->tsflags & NS_SOF_TIMESTAMPING_RX_SOFTWARE) ||
				 !(sk->tsflags & NS_SOF_TIMESTAMPING_OPT_RX_FILTER))))
		return;
	ns__sock_put_tstamp(sk, m, &off, ts, false);
	ns__cmsg_done(m, off);
}
