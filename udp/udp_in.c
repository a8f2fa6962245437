/*
 * udp/udp_in.c - the UDP receive side: header and checksum validation
 * (RFC 768; IPv4 zero checksum = none, IPv6 zero checksum rejected, RFC
 * 8200 8.1), demux to one socket or fan-out for broadcast/multicast, ICMP
 * port unreachable for closed ports, the receive queue with Linux's
 * truesize limit (UdpRcvbufErrors), ICMP errors to sockets, and recvmsg
 * (MSG_PEEK, MSG_TRUNC, msg_name, IP_PKTINFO/IP_TTL/IP_TOS and
 * IPV6_PKTINFO control messages).
 *
 * A queued datagram keeps a small metadata block in front of its payload
 * (pushed into the headroom the headers left), so it needs no side
 * allocation and copies for fan-out carry it along.
 */
#include <stdlib.h>
#include "udp_internal.h"

/* metadata block: [0] family [1] ttl [2] tos [3] nic [4..5] sport [8..23] src [24..39] dst */
#define META_LEN 40

struct rx_info {
	struct ns_addr src, dst;
	uint16_t sport;
	uint8_t ttl, tos, nic;
};

static void meta_write(uint8_t *p, const struct rx_info *ri)
{
	memset(p, 0, META_LEN);
	p[0] = ri->src.family;
	p[1] = ri->ttl;
	p[2] = ri->tos;
	p[3] = ri->nic;
	ns_store_be16(p + 4, ri->sport);
	memcpy(p + 8, ri->src.b, 16);
	memcpy(p + 24, ri->dst.b, 16);
}

static void meta_read(const uint8_t *p, struct rx_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->src.family = ri->dst.family = p[0];
	ri->ttl = p[1];
	ri->tos = p[2];
	ri->nic = p[3];
	ri->sport = ns_load_be16(p + 4);
	memcpy(ri->src.b, p + 8, 16);
	memcpy(ri->dst.b, p + 24, 16);
}

#define STAT(stk, v6, name) ns__stat_inc((stk), (v6) ? NS_STAT_Udp6##name : NS_STAT_Udp##name)

/* ---- queueing ------------------------------------------------------------------- */

/* Consumes pkt (data at the metadata block). */
static void queue_rcv(struct ns_sock *sk, struct ns_pkt *pkt, bool v6)
{
	struct udp_sock *us = udp_sk(sk);
	struct ns_stack *stk = sk->stk;
	pthread_mutex_lock(&sk->mu);
	if (us->dead) {
		pthread_mutex_unlock(&sk->mu);
		STAT(stk, v6, InErrors);
		ns_pkt_unref(pkt);
		return;
	}
	/* Linux __udp_enqueue_schedule_skb: drop once rmem is over rcvbuf. */
	if (sk->rmem > (uint32_t)sk->rcvbuf) {
		pthread_mutex_unlock(&sk->mu);
		STAT(stk, v6, RcvbufErrors);
		STAT(stk, v6, InErrors);
		ns_pkt_unref(pkt);
		return;
	}
	pkt->owner = sk;
	pkt->charged = pkt->truesize;
	sk->rmem += pkt->truesize;
	pkt->next = NULL;
	if (us->rq_tail)
		us->rq_tail->next = pkt;
	else
		us->rq_head = pkt;
	us->rq_tail = pkt;
	us->rq_count++;
	ns__sock_wake_locked(sk);
	pthread_mutex_unlock(&sk->mu);
}

static struct ns_pkt *dequeue_locked(struct udp_sock *us)
{
	struct ns_pkt *p = us->rq_head;
	if (!p)
		return NULL;
	us->rq_head = p->next;
	if (!us->rq_head)
		us->rq_tail = NULL;
	us->rq_count--;
	us->sk->rmem -= p->charged;
	p->owner = NULL;
	p->charged = 0;
	p->next = NULL;
	return p;
}

void ns__udp_purge_locked(struct udp_sock *us)
{
	struct ns_pkt *p;
	while ((p = dequeue_locked(us)))
		ns_pkt_unref(p);
}

int ns__udp_next_len_locked(struct udp_sock *us)
{
	return us->rq_head ? (int)(ns_pkt_len(us->rq_head) - META_LEN) : 0;
}

/* Turns pkt (data at the UDP payload, headers pulled) into a queue entry. */
static struct ns_pkt *attach_meta(struct ns_pkt *pkt, const struct rx_info *ri)
{
	if (atomic_load(&pkt->refs) != 1 || ns_pkt_headroom(pkt) < META_LEN) {
		struct ns_pkt *c = ns_pkt_copy(pkt, META_LEN);
		ns_pkt_unref(pkt);
		if (!c)
			return NULL;
		pkt = c;
	}
	meta_write(ns_pkt_push(pkt, META_LEN), ri);
	return pkt;
}

struct fanout {
	struct ns_pkt *pkt;             /* the entry, copied for all but the last */
	int left;
	bool v6;
};

static void fanout_one(struct ns_sock *sk, void *ctx)
{
	struct fanout *f = ctx;
	struct ns_pkt *p = --f->left == 0 ? f->pkt : ns_pkt_copy(f->pkt, 0);
	if (p)
		queue_rcv(sk, p, f->v6);
	else
		STAT(sk->stk, f->v6, InErrors);
	if (p == f->pkt)
		f->pkt = NULL;
	ns__sock_put(sk);
}

static bool is_mcast_or_bcast(const struct ns_ip_meta *m)
{
	if (m->pkt_type == NS_PKT_BROADCAST || m->pkt_type == NS_PKT_MULTICAST)
		return true;
	if (udp_addr_is_mcast(&m->dst))
		return true;
	return m->dst.family == NS_AF_INET && m->nic && ns__addr_is_bcast4(m->nic, &m->dst);
}

static void count_cb(struct ns_sock *sk, void *ctx)
{
	(*(int *)ctx)++;
	ns__sock_put(sk);
}

static void deliver_multi(struct ns_stack *stk, struct ns_pkt *pkt, const struct rx_info *ri,
			  uint16_t dport, int nic)
{
	bool v6 = ri->src.family == NS_AF_INET6;
	int n = 0;
	ns__udp_lookup_all(stk, &ri->src, ri->sport, &ri->dst, dport, nic, count_cb, &n);
	if (n == 0) {
		STAT(stk, v6, IgnoredMulti);
		ns_pkt_unref(pkt);
		return;
	}
	pkt = attach_meta(pkt, ri);
	if (!pkt) {
		STAT(stk, v6, InErrors);
		return;
	}
	/* The set may change between the count and the delivery: the last
	 * socket takes the original, extra ones get copies, leftovers freed. */
	struct fanout f = { .pkt = pkt, .left = n, .v6 = v6 };
	int got = ns__udp_lookup_all(stk, &ri->src, ri->sport, &ri->dst, dport, nic, fanout_one, &f);
	if (f.pkt) {
		if (got == 0)
			STAT(stk, v6, IgnoredMulti);
		ns_pkt_unref(f.pkt);
	}
}

/* ---- input ----------------------------------------------------------------------- */

static bool csum_ok(const struct ns_pkt *pkt, const struct ns_ip_meta *m, uint32_t ulen)
{
	if (pkt->csum == NS_CSUM_UNNECESSARY)
		return true;
	uint32_t sum = ns_csum_pseudo(&m->src, &m->dst, NS_IPPROTO_UDP, ulen);
	sum = ns_csum_partial(ns_pkt_data(pkt), ulen, sum);
	return ns_csum_fold(sum) == 0;
}

void ns__udp_rcv(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m)
{
	if (pkt->destructor) {
		/* our own datagram looped back: the sender's charge ends here
		 * (Linux skb_orphan on loopback) */
		void (*d)(struct ns_pkt *) = pkt->destructor;
		pkt->destructor = NULL;
		d(pkt);
	}
	bool v6 = m->src.family == NS_AF_INET6;
	uint32_t len = ns_pkt_len(pkt);
	const uint8_t *uh = ns_pkt_data(pkt);
	if (len < UDP_HLEN)
		goto inerr;
	uint32_t ulen = ns_load_be16(uh + 4);
	if (ulen > len || ulen < UDP_HLEN)
		goto inerr;
	if (ns_load_be16(uh + 6) == 0) {
		if (v6)
			goto csumerr;           /* RFC 8200 8.1: zero checksum is invalid */
	} else if (!csum_ok(pkt, m, ulen)) {
		goto csumerr;
	}
	uint16_t sport = ns_load_be16(uh), dport = ns_load_be16(uh + 2);
	int nic = m->nic ? m->nic->id : 0;
	struct rx_info ri = { .src = m->src, .dst = m->dst, .sport = sport, .ttl = m->ttl,
			      .tos = m->tos, .nic = (uint8_t)nic };
	if (is_mcast_or_bcast(m)) {
		if (atomic_load(&pkt->refs) != 1 && !(pkt = ns_pkt_unshare(pkt)))
			goto nobuf;
		ns_pkt_trim(pkt, ulen);
		ns_pkt_pull(pkt, UDP_HLEN);
		deliver_multi(stk, pkt, &ri, dport, nic);
		return;
	}
	struct ns_sock *sk = ns__udp_lookup(stk, &m->src, sport, &m->dst, dport, nic);
	if (!sk) {
		STAT(stk, v6, NoPorts);
		if (v6)
			ns__icmp6_send_error(stk, pkt, m, NS_ICMP6_DST_UNREACH, NS_ICMP6_PORT_UNREACH, 0);
		else
			ns__icmp4_send_error(stk, pkt, m, NS_ICMP_DEST_UNREACH, NS_ICMP_PORT_UNREACH, 0);
		ns_pkt_unref(pkt);
		return;
	}
	if (atomic_load(&pkt->refs) != 1 && !(pkt = ns_pkt_unshare(pkt))) {
		ns__sock_put(sk);
		goto nobuf;
	}
	ns_pkt_trim(pkt, ulen);
	ns_pkt_pull(pkt, UDP_HLEN);
	pkt = attach_meta(pkt, &ri);
	if (pkt)
		queue_rcv(sk, pkt, v6);
	else
		STAT(stk, v6, InErrors);
	ns__sock_put(sk);
	return;
csumerr:
	STAT(stk, v6, InCsumErrors);
inerr:
	STAT(stk, v6, InErrors);
	ns_pkt_unref(pkt);
	return;
nobuf:
	STAT(stk, v6, InErrors);
}

/* ---- ICMP errors ------------------------------------------------------------------ */

/* RFC 1122 / Linux icmp_err_convert for destination unreachable codes. */
static int unreach_errno(uint8_t code, bool *hard)
{
	static const struct { uint8_t err; bool fatal; } t[16] = {
		{ NS_ENETUNREACH, false }, { NS_EHOSTUNREACH, false }, { NS_ENOPROTOOPT, true },
		{ NS_ECONNREFUSED, true }, { NS_EMSGSIZE, false }, { NS_EOPNOTSUPP, false },
		{ NS_ENETUNREACH, true }, { NS_EHOSTDOWN, true }, { NS_ENONET, true },
		{ NS_ENETUNREACH, true }, { NS_EHOSTUNREACH, true }, { NS_ENETUNREACH, false },
		{ NS_EHOSTUNREACH, false }, { NS_EHOSTUNREACH, true }, { NS_EHOSTUNREACH, true },
		{ NS_EHOSTUNREACH, true },
	};
	if (code >= 16) {
		*hard = false;
		return NS_EHOSTUNREACH;
	}
	*hard = t[code].fatal;
	return t[code].err;
}

static int icmp6_errno(uint8_t type, uint8_t code, bool *hard)
{
	*hard = false;
	if (type == NS_ICMP6_DST_UNREACH) {
		static const struct { uint8_t err; bool fatal; } t[7] = {
			{ NS_ENETUNREACH, false }, { NS_EACCES, true }, { NS_EHOSTUNREACH, false },
			{ NS_EHOSTUNREACH, false }, { NS_ECONNREFUSED, true }, { NS_EACCES, true },
			{ NS_EACCES, true },
		};
		if (code < 7) {
			*hard = t[code].fatal;
			return t[code].err;
		}
		return NS_EHOSTUNREACH;
	}
	if (type == NS_ICMP6_PARAM_PROB) {
		*hard = true;
		return NS_EPROTO;
	}
	return NS_EHOSTUNREACH;         /* time exceeded */
}

void ns__udp_icmp_err(struct ns_stack *stk, const struct ns_icmp_err *e)
{
	if (!e || !e->l4 || e->l4_len < 4)
		return;
	uint16_t sport = ns_load_be16(e->l4), dport = ns_load_be16(e->l4 + 2);
	/* The socket that would receive the reply: from (dst, dport) to (src, sport). */
	struct ns_sock *sk = ns__udp_lookup(stk, &e->dst, dport, &e->src, sport, 0);
	if (!sk)
		return;
	struct udp_sock *us = udp_sk(sk);
	bool v6 = e->family == NS_AF_INET6;
	bool toobig = v6 ? e->type == NS_ICMP6_PACKET_TOO_BIG
			 : (e->type == NS_ICMP_DEST_UNREACH && e->code == NS_ICMP_FRAG_NEEDED);
	bool hard;
	int err;
	pthread_mutex_lock(&sk->mu);
	if (toobig) {
		err = NS_EMSGSIZE;
		hard = us->pmtudisc != NS_IP_PMTUDISC_DONT;
	} else if (!v6 && e->type == NS_ICMP_DEST_UNREACH) {
		err = unreach_errno(e->code, &hard);
	} else if (!v6) {
		err = e->type == NS_ICMP_PARAMETERPROB ? NS_EPROTO : NS_EHOSTUNREACH;
		hard = e->type == NS_ICMP_PARAMETERPROB;
	} else {
		err = icmp6_errno(e->type, e->code, &hard);
	}
	/* RFC 1122 4.1.3.3; Linux reports only hard errors on connected sockets
	 * (any error with IP_RECVERR). */
	if (us->recverr)
		ns__udp_errq_add_locked(us, e, err);
	if (us->recverr || (hard && us->connected))
		ns__sock_set_err_locked(sk, err);
	pthread_mutex_unlock(&sk->mu);
	ns__sock_put(sk);
}

/* ---- recvmsg ------------------------------------------------------------------------ */

static size_t copy_to_iov(const struct msghdr *m, const uint8_t *p, size_t len)
{
	size_t done = 0;
	for (size_t i = 0; i < (size_t)m->msg_iovlen && done < len; i++) {
		size_t n = NS_MIN(m->msg_iov[i].iov_len, len - done);
		if (n)
			memcpy(m->msg_iov[i].iov_base, p + done, n);
		done += n;
	}
	return done;
}

#define CM_ALIGN(n) (((n) + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1))

struct cmsg_out {
	struct msghdr *m;
	size_t off;
};

/* Appends one control message like Linux put_cmsg (MSG_CTRUNC when it does not fit). */
static void put_cmsg(struct cmsg_out *c, int level, int type, const void *data, size_t len)
{
	size_t hdr = CM_ALIGN(sizeof(struct cmsghdr));
	size_t cap = c->m->msg_control ? c->m->msg_controllen : 0;
	if (c->off + hdr + len > cap) {
		c->m->msg_flags |= NS_MSG_CTRUNC;
		return;
	}
	struct cmsghdr h;
	memset(&h, 0, sizeof(h));
	h.cmsg_len = hdr + len;
	h.cmsg_level = level;
	h.cmsg_type = type;
	uint8_t *base = (uint8_t *)c->m->msg_control + c->off;
	memcpy(base, &h, sizeof(h));
	memcpy(base + hdr, data, len);
	c->off += NS_MIN(CM_ALIGN(hdr + len), cap - c->off);
}

/* Linux order: IPV6_PKTINFO (v6 sockets), then IPv4 ones for IPv4 datagrams
 * (IP_PKTINFO, IP_TTL, IP_TOS) or IPv6 ones (IPV6_HOPLIMIT, IPV6_TCLASS). */
static void put_cmsgs(struct udp_sock *us, struct msghdr *m, const struct rx_info *ri)
{
	struct cmsg_out c = { .m = m, .off = 0 };
	bool v4 = ri->src.family == NS_AF_INET;
	if (us->sk->domain == NS_AF_INET6 && us->recvpktinfo6) {
		uint8_t pi[20];                  /* struct in6_pktinfo */
		int32_t ifi = ri->nic;
		if (v4) {
			memset(pi, 0, 10);
			pi[10] = pi[11] = 0xff;
			memcpy(pi + 12, ri->dst.b, 4);
		} else {
			memcpy(pi, ri->dst.b, 16);
		}
		memcpy(pi + 16, &ifi, 4);
		put_cmsg(&c, NS_IPPROTO_IPV6, NS_IPV6_PKTINFO, pi, sizeof(pi));
	}
	if (v4 && us->pktinfo) {
		uint8_t pi[12];                  /* struct in_pktinfo */
		int32_t ifi = ri->nic;
		memcpy(pi, &ifi, 4);
		memcpy(pi + 4, ri->dst.b, 4);    /* ipi_spec_dst */
		memcpy(pi + 8, ri->dst.b, 4);    /* ipi_addr */
		put_cmsg(&c, NS_IPPROTO_IP, NS_IP_PKTINFO, pi, sizeof(pi));
	}
	if (v4 && us->recvttl) {
		int ttl = ri->ttl;
		put_cmsg(&c, NS_IPPROTO_IP, NS_IP_TTL, &ttl, sizeof(ttl));
	}
	if (v4 && us->recvtos)
		put_cmsg(&c, NS_IPPROTO_IP, NS_IP_TOS, &ri->tos, 1);
	if (!v4 && us->recvhoplimit6) {
		int h = ri->ttl;
		put_cmsg(&c, NS_IPPROTO_IPV6, 52 /* IPV6_HOPLIMIT */, &h, sizeof(h));
	}
	if (!v4 && us->recvtclass6) {
		int tc = ri->tos;
		put_cmsg(&c, NS_IPPROTO_IPV6, NS_IPV6_TCLASS, &tc, sizeof(tc));
	}
	m->msg_controllen = c.off;
	m->msg_flags |= NS__MSG_CTL_SET;
}

ssize_t ns__udp_recvmsg(struct ns_sock *sk, struct msghdr *m, int flags)
{
	struct udp_sock *us = udp_sk(sk);
	pthread_mutex_lock(&sk->mu);
	int err = ns__sock_take_err_locked(sk);
	if (err) {
		ns__sock_wake_locked(sk);
		pthread_mutex_unlock(&sk->mu);
		return -err;
	}
	struct ns_pkt *p = us->rq_head;
	if (!p) {
		bool wait = !(flags & NS_MSG_DONTWAIT) && !ns__sock_nonblock(sk);
		/* Linux: a blocking read after SHUT_RD returns 0, a nonblocking one EAGAIN. */
		ssize_t r = (us->shut & 1) && wait ? 0 : -NS_EAGAIN;
		pthread_mutex_unlock(&sk->mu);
		return r;
	}
	bool peek = (flags & NS_MSG_PEEK) != 0;
	if (!peek)
		dequeue_locked(us);
	else
		ns_pkt_ref(p);
	pthread_mutex_unlock(&sk->mu);

	struct rx_info ri;
	meta_read(ns_pkt_data(p), &ri);
	const uint8_t *payload = ns_pkt_data(p) + META_LEN;
	size_t len = ns_pkt_len(p) - META_LEN;
	size_t copied = copy_to_iov(m, payload, len);
	if (copied < len)
		m->msg_flags |= NS_MSG_TRUNC;
	if (m->msg_name) {
		m->msg_namelen = ns__sockaddr_fill(m->msg_name, sizeof(struct sockaddr_storage),
						   sk->domain, &ri.src, ri.sport);
		udp_sa_set_scope(m->msg_name, m->msg_namelen, &ri.src, ri.nic);
	}
	put_cmsgs(us, m, &ri);
	if (!peek)
		STAT(sk->stk, ri.src.family == NS_AF_INET6, InDatagrams);
	ns_pkt_unref(p);
	return (flags & NS_MSG_TRUNC) ? (ssize_t)len : (ssize_t)copied;
}
