/*
 * tcp/tcp_out.c - TCP output.
 *
 * Owns: the send queue (user bytes copied once into chunk packets), segment
 * building (header, options in Linux's layout, checksum) and transmission,
 * the transmit loop (cwnd, the peer's window, sender SWS avoidance, Nagle with
 * Minshall's variant, TCP_NODELAY / TCP_CORK / MSG_MORE), MSS computation,
 * receive-window selection (window scaling, receiver SWS avoidance, never
 * shrinking), pure ACKs, delayed-ACK scheduling, window probes, SYN / SYN-ACK
 * / FIN / RST generation and RSTs for segments that have no connection.
 *
 * A transmission covers [seq, seq+len) of the send queue; len may exceed the
 * MSS when the route's link has TSO, in which case the packet carries
 * gso_type/gso_size and is cut by the link (tcp_transmit()).
 */
#include <stdlib.h>
#include <sys/uio.h>
#include "tcp_internal.h"
#include "tcp_zc.h"

/* ---- MSS ------------------------------------------------------------------------ */

static uint32_t ip_hlen(const struct tcp_ep *ep) { return ep->raddr.family == NS_AF_INET6 ? 40 : 20; }

static uint32_t tcp_opt_overhead(const struct tcp_ep *ep) { return ep->ts_ok ? NS_TCPOLEN_TS_ALIGNED : 0; }

/* Linux tcp_sync_mss(): payload per segment for this path MTU. */
void tcp_sync_mss(struct tcp_ep *ep, uint32_t pmtu)
{
	ep->pmtu = pmtu;
	uint32_t mss = pmtu - ip_hlen(ep) - TCP_HLEN;
	if (ep->mss_clamp && mss > ep->mss_clamp)
		mss = ep->mss_clamp;
	if (ep->user_mss && mss > ep->user_mss)
		mss = ep->user_mss;
	/* Linux tcp_bound_to_half_wnd */
	if (ep->max_window > TCP_MSS_DEFAULT && mss > ep->max_window / 2 && ep->max_window / 2 > 64)
		mss = ep->max_window / 2 > 68 ? ep->max_window / 2 : 68;
	/* a tiny peer MSS must not underflow with the options (Linux tcp_min_snd_mss) */
	if (mss < 48 + tcp_opt_overhead(ep))
		mss = 48;
	else
		mss -= tcp_opt_overhead(ep);
	if (mss > 65535 - 60 - 40)
		mss = 65535 - 60 - 40;
	ep->mss_cache = mss;
	ns_sack_sb_set_mss(&ep->sb, mss);
	ep->cc.mss = mss;
}

uint32_t tcp_current_mss(struct tcp_ep *ep) { return ep->mss_cache ? ep->mss_cache : TCP_MSS_DEFAULT; }

/* ---- receive window ------------------------------------------------------------------ */

static uint32_t rcv_full_space(struct tcp_ep *ep)
{
	/* Linux tcp_win_from_space with tcp_adv_win_scale = 1: half the buffer */
	uint32_t full = (uint32_t)ep->sk->rcvbuf / 2;
	if (ep->window_clamp && full > ep->window_clamp)
		full = ep->window_clamp;
	return full;
}

uint32_t tcp_rcv_space_free(struct tcp_ep *ep)
{
	uint32_t full = rcv_full_space(ep);
	uint32_t used = ep->rcvq_bytes + ep->ofo.bytes;
	/* memory actually charged matters too: tiny segments cost more than their bytes */
	uint32_t mem = ep->sk->rmem / 2;
	if (mem > used)
		used = mem;
	return used >= full ? 0 : full - used;
}

/* Linux __tcp_select_window(): receiver SWS avoidance (RFC 9293 3.8.6.2.2). */
static uint32_t raw_select_window(struct tcp_ep *ep)
{
	uint32_t mss = ep->rcv_mss ? ep->rcv_mss : ep->advmss;
	uint32_t full = rcv_full_space(ep);
	uint32_t free_space = tcp_rcv_space_free(ep);
	uint32_t window;
	if (mss > full)
		mss = full ? full : 1;
	if (free_space < full / 2) {
		ep->quickack = 0;
		if (free_space < mss)
			return 0;
	}
	if (ep->rcv_wscale) {
		window = free_space;
		uint32_t unit = 1u << ep->rcv_wscale;
		/* advertise only what is really free, in whole units */
		window &= ~(unit - 1);
		if (window == 0 && free_space >= mss)
			window = unit;
	} else {
		window = ep->rcv_wnd;
		if (window <= free_space - mss || window > free_space)
			window = (free_space / mss) * mss;
		else if (mss == full && free_space > window + full / 2)
			window = free_space;
	}
	return window;
}

uint16_t tcp_select_window(struct tcp_ep *ep)
{
	uint32_t cur = 0;
	uint32_t right = ep->rcv_wup + ep->rcv_wnd;
	if (ns_seq_gt(right, ep->rcv_nxt))
		cur = right - ep->rcv_nxt;
	uint32_t nw = raw_select_window(ep);
	if (nw < cur) {
		/* never shrink the offered window (RFC 9293 3.8.6.2.2 / RFC 7323 2.4) */
		uint32_t unit = 1u << ep->rcv_wscale;
		nw = (cur + unit - 1) & ~(unit - 1);
	}
	uint32_t maxw = (uint32_t)65535 << ep->rcv_wscale;
	if (nw > maxw)
		nw = maxw;
	uint32_t old = ep->rcv_wnd;
	ep->rcv_wnd = nw;
	ep->rcv_wup = ep->rcv_nxt;
	nw >>= ep->rcv_wscale;
	if (nw == 0) {
		NS_STAT_INC(ep->stk, TcpExtTCPToZeroWindowAdv);
		if (old == 0)
			NS_STAT_INC(ep->stk, TcpExtTCPWantZeroWindowAdv);
	} else if (old == 0) {
		NS_STAT_INC(ep->stk, TcpExtTCPFromZeroWindowAdv);
	}
	return (uint16_t)nw;
}

/* ---- send queue -------------------------------------------------------------------- */

static inline uint32_t chunk_seq(const struct ns_pkt *c) { return c->seq; }
static inline uint32_t chunk_end(const struct ns_pkt *c) { return c->seq + ns_pkt_len(c); }

uint32_t tcp_sndbuf_space(struct tcp_ep *ep)
{
	uint32_t sb = (uint32_t)ep->sk->sndbuf;
	return ep->sndq.truesize >= sb ? 0 : sb - ep->sndq.truesize;
}

static void sndq_charge(struct tcp_ep *ep, struct ns_pkt *c, int sign)
{
	if (sign > 0) {
		ep->sndq.truesize += c->truesize;
		ep->sk->wmem += c->truesize;
	} else {
		ep->sndq.truesize -= c->truesize;
		ep->sk->wmem -= c->truesize;
	}
}

ssize_t tcp_sndq_append(struct tcp_ep *ep, const struct msghdr *m, size_t skip, size_t max)
{
	size_t done = 0;
	size_t iov_i = 0, iov_off = 0;
	/* find the starting iov position */
	size_t s = skip;
	while (iov_i < (size_t)m->msg_iovlen && s >= m->msg_iov[iov_i].iov_len) {
		s -= m->msg_iov[iov_i].iov_len;
		iov_i++;
	}
	iov_off = s;
	while (done < max && iov_i < (size_t)m->msg_iovlen) {
		struct ns_pkt *t = ep->sndq.tail;
		/* bytes already sent stay where they are: appending never moves them */
		uint32_t room = t ? ns_pkt_tailroom(t) : 0;
		if (room == 0) {
			if (tcp_sndbuf_space(ep) == 0)
				break;
			size_t want = max - done;
			size_t cap = want < 2048 ? 2048 : want > TCP_SND_CHUNK ? TCP_SND_CHUNK : want;
			struct ns_pkt *c = ns_pkt_alloc(ns_stack_pool(ep->stk), 0, cap);
			if (!c) {
				if (done == 0)
					return -NS_ENOBUFS;
				break;
			}
			c->tail = c->data;   /* empty, all tailroom */
			c->seq = ep->write_seq;
			c->next = NULL;
			if (t)
				t->next = c;
			else
				ep->sndq.head = c;
			ep->sndq.tail = c;
			sndq_charge(ep, c, 1);
			t = c;
			room = ns_pkt_tailroom(c);
		}
		const struct iovec *iv = &m->msg_iov[iov_i];
		size_t n = iv->iov_len - iov_off;
		if (n > room)
			n = room;
		if (n > max - done)
			n = max - done;
		memcpy(ns_pkt_put(t, n), (const uint8_t *)iv->iov_base + iov_off, n);
		iov_off += n;
		if (iov_off == iv->iov_len) {
			iov_i++;
			iov_off = 0;
		}
		done += n;
		ep->write_seq += (uint32_t)n;
		ep->sndq.bytes += (uint32_t)n;
	}
	return (ssize_t)done;
}

void tcp_sndq_ack(struct tcp_ep *ep, uint32_t ack)
{
	struct ns_pkt *c;
	if (ep->xf)
		tcp_xf_on_ack(ep, ack);     /* zerocopy completions, ACK timestamps */
	while ((c = ep->sndq.head) != NULL) {
		if (ns_seq_leq(chunk_end(c), ack)) {
			ep->sndq.bytes -= ns_pkt_len(c);
			ep->sndq.head = c->next;
			if (!c->next)
				ep->sndq.tail = NULL;
			sndq_charge(ep, c, -1);
			ns_pkt_unref(c);
			continue;
		}
		if (ns_seq_gt(ack, chunk_seq(c))) {
			uint32_t n = ack - chunk_seq(c);
			ns_pkt_pull(c, n);
			c->seq += n;
			ep->sndq.bytes -= n;
		}
		break;
	}
}

void tcp_sndq_purge(struct tcp_ep *ep)
{
	struct ns_pkt *c = ep->sndq.head;
	if (ep->xf)
		tcp_xf_purge(ep);
	while (c) {
		struct ns_pkt *n = c->next;
		sndq_charge(ep, c, -1);
		ns_pkt_unref(c);
		c = n;
	}
	ep->sndq.head = ep->sndq.tail = NULL;
	ep->sndq.bytes = 0;
	ep->txr_n = 0;
}

/* Copies [seq, seq+len) of the queue into dst. */
static void sndq_copy(struct tcp_ep *ep, uint32_t seq, uint8_t *dst, uint32_t len)
{
	struct ns_pkt *c = ep->sndq.head;
	while (c && ns_seq_leq(chunk_end(c), seq))
		c = c->next;
	while (len && c) {
		uint32_t off = seq - chunk_seq(c);
		uint32_t n = ns_pkt_len(c) - off;
		if (n > len)
			n = len;
		memcpy(dst, ns_pkt_data(c) + off, n);
		dst += n;
		seq += n;
		len -= n;
		c = c->next;
	}
}

/* ---- tx records (RACK / Karn) ---------------------------------------------------------- */

static struct tcp_txrec *txr_at(struct tcp_ep *ep, uint32_t i)
{
	return &ep->txr[(ep->txr_head + i) & (ep->txr_cap - 1)];
}

/* Room for n more records; false when the ring cannot grow (send nothing then). */
static bool txr_reserve(struct tcp_ep *ep, uint32_t n)
{
	if (ep->txr_n + n <= ep->txr_cap)
		return true;
	uint32_t ncap = ep->txr_cap ? ep->txr_cap : 64;
	while (ncap < ep->txr_n + n)
		ncap *= 2;
	struct tcp_txrec *nr = malloc(ncap * sizeof(*nr));
	if (!nr)
		return false;
	for (uint32_t i = 0; i < ep->txr_n; i++)
		nr[i] = *txr_at(ep, i);
	free(ep->txr);
	ep->txr = nr;
	ep->txr_cap = ncap;
	ep->txr_head = 0;
	return true;
}

/* One record per MSS of [seq, end) (end may include the FIN); the last one carries psh. */
static void txr_push_burst(struct tcp_ep *ep, uint32_t seq, uint32_t end, uint32_t mss, bool psh, uint64_t now)
{
	do {
		uint32_t e = ns_seq_diff(seq, end) > mss ? seq + mss : end;
		/* a FIN alone after a full MSS joins the last piece (Linux: one skb) */
		if (ns_seq_diff(e, end) == 1 && ep->fin_sent && end == ep->fin_seq + 1)
			e = end;
		struct tcp_txrec *r = txr_at(ep, ep->txr_n++);
		r->seq = seq;
		r->end = e;
		r->xmit_us = now;
		r->flags = (psh && e == end) ? TCP_TXR_PSH : 0;
		seq = e;
	} while (ns_seq_lt(seq, end));
}

/* Index of the record containing seq, or -1. */
int tcp_txr_find(struct tcp_ep *ep, uint32_t seq)
{
	uint32_t lo = 0, hi = ep->txr_n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		struct tcp_txrec *r = txr_at(ep, mid);
		if (ns_seq_geq(seq, r->end))
			lo = mid + 1;
		else if (ns_seq_lt(seq, r->seq))
			hi = mid;
		else
			return (int)mid;
	}
	return -1;
}

struct tcp_txrec *tcp_txr_get(struct tcp_ep *ep, uint32_t i) { return txr_at(ep, i); }

void tcp_txr_ack(struct tcp_ep *ep, uint32_t una)
{
	while (ep->txr_n) {
		struct tcp_txrec *r = txr_at(ep, 0);
		if (ns_seq_gt(r->end, una))
			break;
		ep->txr_head = (ep->txr_head + 1) & (ep->txr_cap - 1);
		ep->txr_n--;
	}
}

/* ---- building and sending a segment -------------------------------------------------------- */

static uint64_t now_us(struct tcp_ep *ep) { return ns__now(ep->stk) / NS_NSEC_PER_USEC; }

static void fill_ip_tx(const struct tcp_ep *ep, struct ns_ip_tx *tx)
{
	memset(tx, 0, sizeof(*tx));
	tx->src = ep->laddr;
	tx->dst = ep->raddr;
	tx->proto = NS_IPPROTO_TCP;
	bool v6 = ep->raddr.family == NS_AF_INET6;
	tx->ttl = v6 ? ep->hops : ep->ttl;
	tx->tos = v6 ? ep->tclass : ep->tos;
	tx->pmtudisc = NS_IP_PMTUDISC_WANT;
	tx->oif = ep->sk->bound_nic;
}

/* Header + options in front of the payload already in pkt; computes the checksum and sends. */
static int tcp_finish_and_send(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_tx *tx,
			       uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
			       uint16_t win, const struct ns_tcp_opts *o, bool partial, uint16_t urg)
{
	uint8_t obuf[NS_TCP_MAX_OPT_LEN];
	size_t olen = o ? ns_tcp_opts_write(obuf, sizeof(obuf), o) : 0;
	uint32_t hl = TCP_HLEN + (uint32_t)olen;
	uint8_t *h = ns_pkt_push(pkt, hl);
	if (!h) {
		ns_pkt_unref(pkt);
		return -NS_ENOBUFS;
	}
	ns_store_be16(h, sport);
	ns_store_be16(h + 2, dport);
	ns_store_be32(h + 4, seq);
	ns_store_be32(h + 8, ack);
	h[12] = (uint8_t)((hl / 4) << 4);
	h[13] = flags;
	ns_store_be16(h + 14, win);
	ns_store_be16(h + 16, 0);
	ns_store_be16(h + 18, urg);
	if (urg)
		h[13] |= TCPF_URG;
	if (olen)
		memcpy(h + TCP_HLEN, obuf, olen);
	uint32_t len = ns_pkt_len(pkt);
	uint32_t sum = ns_csum_pseudo(&tx->src, &tx->dst, NS_IPPROTO_TCP, len);
	if (partial) {
		/* the link (or netstack/gso.c) sums the segment: one pass fewer here */
		ns_store_be16(h + 16, (uint16_t)~ns_csum_fold(sum));
		pkt->csum = NS_CSUM_PARTIAL;
		pkt->csum_start = 0;
		pkt->csum_off = 16;
	} else {
		ns_store_be16(h + 16, ns_csum_fold(ns_csum_partial(h, len, sum)));
	}
	pkt->l4 = pkt->data;
	/* Linux counts what reaches the wire: every segment of a GSO packet */
	NS_STAT_ADD(stk, TcpOutSegs, pkt->gso_size ? (len - hl + pkt->gso_size - 1) / pkt->gso_size : 1);
	if (flags & TCPF_RST)
		NS_STAT_INC(stk, TcpOutRsts);
	return ns__ip_output(stk, pkt, tx);
}

/* Options for a non-SYN segment: timestamps and SACK blocks. */
static void data_opts(struct tcp_ep *ep, struct ns_tcp_opts *o, bool with_sack)
{
	memset(o, 0, sizeof(*o));
	if (ep->ts_ok) {
		o->present |= NS_TCP_OPT_F_TS;
		o->tsval = tcp_ts_now(ep);
		o->tsecr = ep->ts_recent;
	}
	if (with_sack && ep->sack_ok && ns_sack_rcv_pending(&ep->ofo.sack)) {
		unsigned max = ns_tcp_opts_max_sacks(o);
		o->num_sacks = (uint8_t)ns_ofo_sack_take(&ep->ofo, o->sacks, max);
		if (o->num_sacks)
			o->present |= NS_TCP_OPT_F_SACK;
	}
}

/* Every segment we send on an established-ish connection carries ACK and our window. */
static void ack_sent(struct tcp_ep *ep)
{
	ep->ack_pending = false;
	ep->ack_now = false;
	ep->unacked_full = 0;
	ep->t_delack = 0;
	if (ep->quickack)
		ep->quickack--;
}

/*
 * Sends [seq, seq+len) from the send queue (len may be > MSS only for TSO),
 * with FIN when it ends at fin_seq.  Returns 0 or -errno.
 */
static int tcp_transmit(struct tcp_ep *ep, uint32_t seq, uint32_t len, bool rtx, bool psh)
{
	uint32_t mss = tcp_current_mss(ep);
	struct ns_pkt *pkt = ns_pkt_alloc(ns_stack_pool(ep->stk), NS_PKT_TX_HEADROOM, len);
	if (!pkt)
		return -NS_ENOBUFS;
	if (len)
		sndq_copy(ep, seq, ns_pkt_data(pkt), len);
	uint8_t flags = TCPF_ACK;
	/* PSH: new data carrying the last byte written so far (Linux marks the
	 * tail of each write); a retransmission only where the original had it */
	if (psh && len)
		flags |= TCPF_PSH;
	if (ep->fin_queued && seq + len == ep->fin_seq) {
		flags |= TCPF_FIN;
	}
	if (len > mss) {
		pkt->gso_type = ep->raddr.family == NS_AF_INET6 ? NS_GSO_TCPV6 : NS_GSO_TCPV4;
		pkt->gso_size = (uint16_t)mss;
	}
	struct ns_tcp_opts o;
	data_opts(ep, &o, true);
	struct ns_ip_tx tx;
	fill_ip_tx(ep, &tx);
	uint16_t win = tcp_select_window(ep);
	/* urgent pointer on every segment before it (Linux tcp_transmit_skb) */
	uint16_t urg = 0;
	if (ep->urg_mode && ns_seq_lt(seq, ep->snd_up)) {
		if (ns_seq_lt(ep->snd_up, seq + 0x10000))
			urg = (uint16_t)(ep->snd_up - seq);
		else if (ns_seq_gt(seq + 0xFFFF, ep->snd_nxt))
			urg = 0xFFFF;
	}
	int err = tcp_finish_and_send(ep->stk, pkt, &tx, ep->lport, ep->rport, seq, ep->rcv_nxt, flags, win, &o,
				      len > 0, urg);
	ack_sent(ep);
	uint32_t nsegs = len > mss ? (len + mss - 1) / mss : 1;
	ep->segs_out += nsegs;
	if (len) {
		ep->data_segs_out += nsegs;
		if (rtx) {
			ep->bytes_retrans += len;
		} else {
			ep->bytes_sent += len;
			NS_STAT_INC(ep->stk, TcpExtTCPOrigDataSent);
		}
	}
	if (flags & TCPF_FIN)
		ep->fin_sent = true;
	if (len && ep->xf)
		tcp_xf_on_xmit(ep, seq, len);   /* SCHED / SND timestamps */
	(void)err;   /* a local send failure is like a loss: the RTO recovers */
	return 0;
}

static void tcp_event_new_data_sent(struct tcp_ep *ep, uint32_t seq, uint32_t end, bool psh)
{
	uint64_t t = now_us(ep);
	bool was_idle = ep->snd_una == ep->snd_nxt;
	txr_push_burst(ep, seq, end, tcp_current_mss(ep), psh, t);
	ep->snd_nxt = end;
	ns_sack_sb_sent(&ep->sb, end);
	/* Linux: only when idle before or a loss probe was pending (a RACK timer stays) */
	if (was_idle || ep->rtx_kind == TCP_RTX_TLP || ep->rtx_kind == TCP_RTX_PROBE0 || !ep->t_rtx)
		tcp_rearm_rto(ep);
	ep->lsndtime = ns__now(ep->stk);
}

bool tcp_may_send_now(struct tcp_ep *ep)
{
	return ep->sndq.bytes > 0 && ns_seq_lt(ep->snd_nxt, ep->write_seq);
}

/* Linux tcp_packets_in_flight(): packets_out - (sacked_out + lost_out) + retrans_out,
 * every record one packet (RFC 6675 pipe counted in segments). */
static uint32_t packets_in_flight(struct tcp_ep *ep)
{
	uint32_t left = ep->sacked_out + ep->lost_out;
	uint32_t out = ep->txr_n > left ? ep->txr_n - left : 0;
	return out + ep->retrans_out;
}

uint32_t tcp_packets_in_flight(struct tcp_ep *ep) { return packets_in_flight(ep); }

/* Is a segment of len bytes < mss held back by Nagle / cork? (Linux tcp_nagle_test) */
static bool nagle_holds(struct tcp_ep *ep, uint32_t seq, uint32_t len, uint32_t mss, bool force)
{
	if (len >= mss)
		return false;
	if (ep->fin_queued && seq + len == ep->fin_seq)
		return false;   /* FIN goes out */
	if (ep->cork)
		return true;
	if (force)
		return false;
	if (ep->nodelay)
		return false;
	/* Minshall: hold only while a previous small segment is unacknowledged */
	return ep->snd_nxt != ep->snd_una && ns_seq_gt(ep->snd_sml, ep->snd_una);
}

/* Linux tcp_write_xmit(): sends new data while the windows allow. */
static void tcp_write_xmit(struct tcp_ep *ep, bool force_small)
{
	uint32_t mss = tcp_current_mss(ep);
	uint32_t sent_segs = 0;
	bool cwnd_limited = false;
	uint32_t data_end = ep->fin_queued ? ep->fin_seq : ep->write_seq;
	/* large segments always: a link without TSO gets them cut by netstack/gso.c */
	bool tso = true;
	while (ns_seq_lt(ep->snd_nxt, data_end) || (ep->fin_queued && !ep->fin_sent && ep->snd_nxt == ep->fin_seq)) {
		uint32_t avail = data_end - ep->snd_nxt;
		bool at_mark = false;       /* ends at an skb end (MSG_EOR, zerocopy): not the tail */
		if (ep->xf && avail) {
			uint32_t lim = tcp_xf_seg_limit(ep, ep->snd_nxt, avail);
			at_mark = lim < avail;
			avail = lim;
		}
		uint32_t in_flight = packets_in_flight(ep);
		/* the final FIN in a one-segment skb is not held by cwnd (Linux tcp_cwnd_test) */
		bool fin_seg = ep->fin_queued && !ep->fin_sent && avail <= mss;
		if (in_flight >= ep->cc.cwnd && !fin_seg) {
			cwnd_limited = true;
			break;
		}
		uint32_t cwnd_quota = in_flight >= ep->cc.cwnd ? 1 : ep->cc.cwnd - in_flight;
		uint32_t wnd_end = ep->snd_una + ep->snd_wnd;
		uint32_t wnd_left = ns_seq_gt(wnd_end, ep->snd_nxt) ? wnd_end - ep->snd_nxt : 0;
		uint32_t len = avail < mss ? avail : mss;
		if (tso && avail > mss) {
			uint32_t max = cwnd_quota * mss;
			if (max > TCP_GSO_MAX - 200)
				max = ((TCP_GSO_MAX - 200) / mss) * mss;
			len = avail < max ? avail : max;
			if (len > wnd_left && wnd_left >= mss)
				len = (wnd_left / mss) * mss;
			/* a short tail that Nagle would hold goes later (Linux tcp_mss_split_point) */
			if (len > mss && len % mss &&
			    nagle_holds(ep, ep->snd_nxt + len - len % mss, len % mss, mss, force_small || at_mark))
				len -= len % mss;
		}
		/* sender SWS avoidance: the first MSS must fit the window (Linux tcp_snd_wnd_test) */
		if (len > wnd_left) {
			if (len != 0)
				break;
		}
		if (nagle_holds(ep, ep->snd_nxt, len, mss, force_small || at_mark))
			break;
		uint32_t seq = ep->snd_nxt;
		uint32_t end = seq + len;
		if (!txr_reserve(ep, len / mss + 2))
			break;   /* no memory for the records: the ACK clock or the RTO retries */
		/* PSH also at an skb end: MSG_EOR write, full zerocopy skb (tcp_mark_push) */
		bool psh = len && (end == data_end || (ep->xf && tcp_xf_is_mark(ep, end, false)));
		tcp_transmit(ep, seq, len, false, psh);
		if (ep->fin_queued && end == ep->fin_seq && ep->fin_sent)
			end++;   /* FIN occupies one sequence number */
		if (len < mss)
			ep->snd_sml = seq + len;
		tcp_event_new_data_sent(ep, seq, end, psh);
		sent_segs += len > mss ? (len + mss - 1) / mss : 1;
		if (end == data_end + 1 || (!len && ep->fin_sent))
			break;
	}
	if (sent_segs || cwnd_limited) {
		struct ns_tcp_cc_sent snd = { .packets_out = packets_in_flight(ep), .cwnd_limited = cwnd_limited,
					      .snd_una = ep->snd_una, .snd_nxt = ep->snd_nxt,
					      .now_us = now_us(ep) };
		ns_tcp_cc_on_sent(&ep->cc, sent_segs, &snd);
	}
	/* nothing in flight but data waiting behind a closed window: persist */
	if (ep->snd_una == ep->snd_nxt && ns_seq_lt(ep->snd_nxt, data_end + (ep->fin_queued && !ep->fin_sent)))
		tcp_reset_probe_timer(ep);
}

void tcp_push(struct tcp_ep *ep, bool force_small)
{
	if (ep->state != TCP_ESTABLISHED && ep->state != TCP_CLOSE_WAIT && ep->state != TCP_FIN_WAIT1 &&
	    ep->state != TCP_CLOSING && ep->state != TCP_LAST_ACK)
		return;
	tcp_write_xmit(ep, force_small);
}

/*
 * Retransmits records [i, i + n) of the queue as one frame (a GSO frame when
 * n > 1; the records must be consecutive).  PSH only when the last record's
 * original carried it (Linux keeps PSH on the tail piece of a write).  tlp:
 * a loss probe (Linux __tcp_retransmit_skb without SACKED_RETRANS: not in
 * retrans_out).  Returns records sent, 0 if nothing to send, or -errno.
 */
int tcp_retransmit_recs(struct tcp_ep *ep, uint32_t i, uint32_t n, bool tlp)
{
	if (!n || i + n > ep->txr_n)
		return 0;
	struct tcp_txrec *first = txr_at(ep, i), *last = txr_at(ep, i + n - 1);
	uint32_t seq = ns_seq_max(first->seq, ep->snd_una);
	uint32_t end = last->end;
	if (!ns_seq_lt(seq, end))
		return 0;
	bool fin = ep->fin_sent && end == ep->fin_seq + 1;
	uint32_t len = end - seq - (fin ? 1 : 0);
	/* the peer's window: only what fits, except the head (Linux tcp_retransmit_skb) */
	uint32_t wnd_end = ep->snd_una + ep->snd_wnd;
	if (len && seq != ep->snd_una && ns_seq_gt(end - (fin ? 1 : 0), wnd_end))
		return -NS_EAGAIN;
	int err = tcp_transmit(ep, seq, len, true, (last->flags & TCP_TXR_PSH) != 0);
	if (err < 0)
		return err;
	uint64_t t = now_us(ep);
	for (uint32_t k = 0; k < n; k++) {
		struct tcp_txrec *r = txr_at(ep, i + k);
		r->xmit_us = t;
		r->flags |= NS_RACK_SEG_RETRANS;
		if (!tlp && !(r->flags & TCP_TXR_RTX)) {
			r->flags |= TCP_TXR_RTX;
			ep->retrans_out++;
		}
	}
	uint32_t mss = tcp_current_mss(ep);
	uint32_t segs = len > mss ? (len + mss - 1) / mss : 1;
	ep->total_retrans += segs;
	NS_STAT_ADD(ep->stk, TcpRetransSegs, segs);
	ns_sack_sb_retransmitted(&ep->sb, seq, end);
	if (ns_seq_gt(end, ep->high_rxt))
		ep->high_rxt = end;
	if (!ep->retrans_stamp)
		ep->retrans_stamp = ns__now(ep->stk);
	if (tlp)
		return (int)n;
	/* undo bookkeeping (Linux tcp_retransmit_skb: retrans_stamp, undo_retrans;
	 * a loss probe, __tcp_retransmit_skb, touches neither) */
	if (!ep->undo_ts_valid) {
		ep->undo_tsval = tcp_ts_now(ep);
		ep->undo_ts_valid = true;
	}
	if (ep->undo_on) {
		if (ep->undo_retrans < 0)
			ep->undo_retrans = 0;
		ep->undo_retrans += (int32_t)n;
	}
	return (int)n;
}

/* Retransmits the record holding seq (PMTU shrink, Reno partial ACK). */
int tcp_retransmit_seq(struct tcp_ep *ep, uint32_t seq, uint32_t max_len)
{
	(void)max_len;
	if (ns_seq_lt(seq, ep->snd_una))
		seq = ep->snd_una;
	int i = tcp_txr_find(ep, seq);
	if (i < 0)
		return 0;
	return tcp_retransmit_recs(ep, (uint32_t)i, 1, false);
}

/* ---- control segments ------------------------------------------------------------------------ */

static int send_ctl(struct tcp_ep *ep, uint32_t seq, uint8_t flags, const struct ns_tcp_opts *o)
{
	struct ns_pkt *pkt = ns_pkt_alloc(ns_stack_pool(ep->stk), NS_PKT_TX_HEADROOM, 0);
	if (!pkt)
		return -NS_ENOBUFS;
	struct ns_ip_tx tx;
	fill_ip_tx(ep, &tx);
	uint16_t win;
	if (flags & TCPF_SYN)
		win = (uint16_t)NS_MIN(ep->rcv_wnd, 65535u);   /* never scaled in a SYN (RFC 7323 2.2) */
	else
		win = tcp_select_window(ep);
	uint32_t ack = (flags & TCPF_ACK) ? ep->rcv_nxt : 0;
	ep->segs_out++;
	return tcp_finish_and_send(ep->stk, pkt, &tx, ep->lport, ep->rport, seq, ack, flags, win, o, false, 0);
}

static void syn_opts(struct tcp_ep *ep, struct ns_tcp_opts *o, bool synack)
{
	bool ts = synack ? ep->ts_ok : true;
	bool sack = synack ? ep->sack_ok : true;
	int ws = synack ? (ep->ws_ok ? ep->rcv_wscale : -1) : ep->rcv_wscale;
	uint32_t tsval = tcp_ts_now(ep);
	ns_tcp_opts_syn(o, ep->advmss, ws, sack, ts, tsval, synack ? ep->ts_recent : 0);
}

/* Linux tcp_select_initial_window(): the window in our SYN / SYN-ACK and its scale. */
void tcp_select_initial_window(struct tcp_ep *ep)
{
	/* a SYN-ACK rounds to the MSS less the timestamps it agreed to; a SYN
	 * does not know yet (Linux tcp_openreq_init_rwin / tcp_connect_init) */
	uint32_t mss = ep->advmss - (ep->state != TCP_SYN_SENT && ep->ts_ok ? NS_TCPOLEN_TS_ALIGNED : 0);
	uint32_t space = rcv_full_space(ep);
	if (space > mss)
		space = (space / mss) * mss;
	ep->rcv_wnd = NS_MIN(space, 65535u);
	/* scale from the largest buffer we could grow to (tcp_rmem[2]) */
	uint32_t maxspace = NS_MAX((uint32_t)TCP_RMEM_MAX, (uint32_t)ep->sk->rcvbuf);
	if (ep->sk->rcvbuf_locked)
		maxspace = (uint32_t)ep->sk->rcvbuf;
	uint8_t ws = 0;
	while (maxspace > 65535 && ws < TCP_MAX_WSCALE) {
		maxspace >>= 1;
		ws++;
	}
	ep->rcv_wscale = ws;
	if (ep->rcv_wnd > 65535)
		ep->rcv_wnd = 65535;
}

int tcp_send_syn(struct tcp_ep *ep)
{
	struct ns_tcp_opts o;
	syn_opts(ep, &o, false);
	int err = send_ctl(ep, ep->iss, TCPF_SYN, &o);
	return err;
}

int tcp_send_synack(struct tcp_ep *ep)
{
	struct ns_tcp_opts o;
	syn_opts(ep, &o, true);
	return send_ctl(ep, ep->iss, TCPF_SYN | TCPF_ACK, &o);
}

void tcp_send_ack(struct tcp_ep *ep)
{
	if (ep->state == TCP_CLOSE || ep->state == TCP_LISTEN || ep->state == TCP_SYN_SENT)
		return;
	struct ns_tcp_opts o;
	data_opts(ep, &o, true);
	/* seq: snd_nxt (Linux tcp_acceptable_seq) */
	send_ctl(ep, ep->snd_nxt, TCPF_ACK, &o);
	ack_sent(ep);
	tcp_timer_update(ep);
}

void tcp_send_delayed_ack(struct tcp_ep *ep)
{
	uint64_t ato = ep->ato_ns ? ep->ato_ns : TCP_ATO_MIN_NS;
	if (ato > TCP_DELACK_MAX_NS)
		ato = TCP_DELACK_MAX_NS;
	uint64_t when = ns__now(ep->stk) + ato;
	ep->ack_pending = true;
	if (!ep->t_delack || when < ep->t_delack)
		ep->t_delack = when;
	tcp_timer_update(ep);
}

void tcp_send_challenge_ack(struct tcp_ep *ep)
{
	/* first the per-socket limit (Linux tcp_send_challenge_ack), then the global one */
	if (tcp_oow_rate_limited_stamp(ep, NS_STAT_TcpExtTCPACKSkippedChallenge))
		return;
	if (!tcp_challenge_ack_allowed(ep->tcp))
		return;
	NS_STAT_INC(ep->stk, TcpExtTCPChallengeACK);
	tcp_send_ack(ep);
}

void tcp_send_active_reset(struct tcp_ep *ep)
{
	struct ns_tcp_opts o;
	data_opts(ep, &o, false);
	send_ctl(ep, ep->snd_nxt, TCPF_RST | TCPF_ACK, &o);
}

void tcp_send_fin(struct tcp_ep *ep)
{
	if (ep->fin_queued)
		return;
	ep->fin_queued = true;
	ep->fin_seq = ep->write_seq;
	ep->write_seq++;
	tcp_write_xmit(ep, true);
}

/* Zero-window probe (Linux tcp_xmit_probe_skb: an old sequence number) or keepalive. */
void tcp_send_probe(struct tcp_ep *ep, bool keepalive)
{
	(void)keepalive;
	struct ns_tcp_opts o;
	data_opts(ep, &o, false);
	send_ctl(ep, ep->snd_una - 1, TCPF_ACK, &o);
}

/* Linux tcp_write_wakeup(): a partial window opened: send what fits. */
int tcp_write_wakeup(struct tcp_ep *ep)
{
	uint32_t data_end = ep->fin_queued ? ep->fin_seq : ep->write_seq;
	uint32_t wnd_end = ep->snd_una + ep->snd_wnd;
	if (ns_seq_lt(ep->snd_nxt, data_end) && ns_seq_lt(ep->snd_nxt, wnd_end)) {
		uint32_t mss = tcp_current_mss(ep);
		uint32_t len = NS_MIN(NS_MIN(data_end - ep->snd_nxt, wnd_end - ep->snd_nxt), mss);
		uint32_t seq = ep->snd_nxt;
		if (ep->xf)
			len = tcp_xf_seg_limit(ep, seq, len);   /* MSG_EOR / zerocopy skb ends */
		if (!txr_reserve(ep, len / mss + 2))
			return 0;
		bool psh = seq + len == data_end || (ep->xf && tcp_xf_is_mark(ep, seq + len, false));
		tcp_transmit(ep, seq, len, false, psh);
		uint32_t end = seq + len;
		if (ep->fin_sent && end == ep->fin_seq)
			end++;
		tcp_event_new_data_sent(ep, seq, end, psh);
		return 1;
	}
	tcp_send_probe(ep, false);
	return 0;
}

/* ---- RST for a segment without a connection (RFC 9293 3.10.7.1) ---------------------------------- */

void tcp_send_reset_reply(struct ns_stack *stk, const struct tcp_seg *seg)
{
	if (seg->flags & TCPF_RST)
		return;
	if (seg->m->pkt_type != NS_PKT_HOST)
		return;
	struct ns_pkt *pkt = ns_pkt_alloc(ns_stack_pool(stk), NS_PKT_TX_HEADROOM, 0);
	if (!pkt)
		return;
	struct ns_ip_tx tx;
	memset(&tx, 0, sizeof(tx));
	tx.src = seg->m->dst;
	tx.dst = seg->m->src;
	tx.proto = NS_IPPROTO_TCP;
	tx.ttl = -1;
	tx.pmtudisc = NS_IP_PMTUDISC_WANT;
	tx.oif = seg->m->nic ? seg->m->nic->id : 0;
	uint32_t seq, ack;
	uint8_t flags;
	if (seg->flags & TCPF_ACK) {
		seq = seg->ack;
		ack = 0;
		flags = TCPF_RST;
	} else {
		seq = 0;
		ack = seg->end_seq;
		flags = TCPF_RST | TCPF_ACK;
	}
	tcp_finish_and_send(stk, pkt, &tx, seg->dport, seg->sport, seq, ack, flags, 0, NULL, false, 0);
}

/* ---- buffer sizing ----------------------------------------------------------------------------------- */

static uint32_t roundup_pow2(uint32_t v)
{
	uint32_t p = 1;
	while (p < v)
		p <<= 1;
	return p;
}

/* Linux tcp_sndbuf_expand(): room for two windows of cwnd (at least IW10) segments. */
void tcp_sndbuf_expand(struct tcp_ep *ep)
{
	if (ep->sk->sndbuf_locked)
		return;
	uint32_t mss = NS_MAX((uint32_t)ep->mss_clamp, ep->mss_cache);
	uint32_t per_mss = roundup_pow2(mss + 320 + 320) + 256;
	uint32_t nr = NS_MAX((uint32_t)TCP_INIT_CWND, ep->cc.cwnd);
	nr = NS_MAX(nr, ep->reordering + 1);
	uint64_t sndmem = 2ull * nr * per_mss;
	if (sndmem > TCP_WMEM_MAX)
		sndmem = TCP_WMEM_MAX;
	if ((uint64_t)ep->sk->sndbuf < sndmem)
		ep->sk->sndbuf = (int)sndmem;
}
