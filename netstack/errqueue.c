/*
 * netstack/errqueue.c - the socket error queue every protocol shares
 * (Linux sk_error_queue): ICMP errors (UDP IP_RECVERR), MSG_ZEROCOPY
 * completions and SO_TIMESTAMPING transmit timestamps, read with
 * recvmsg(MSG_ERRQUEUE) like Linux's ip_recv_error / ipv6_recv_error:
 * the entry's data as payload (MSG_TRUNC when longer than the buffer), the
 * timestamp control messages, then one IP_RECVERR / IPV6_RECVERR message
 * holding struct sock_extended_err and the offender's sockaddr.  Also the
 * control-message writer (Linux put_cmsg) and the receive timestamp
 * messages (SO_TIMESTAMP, SO_TIMESTAMPNS, SCM_TIMESTAMPING).
 *
 * Everything here runs under sk->mu.
 */
#include <stdlib.h>
#include "sock.h"

#define CM_ALIGN(n) (((n) + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1))
#define CM_HDR CM_ALIGN(sizeof(struct cmsghdr))

uint64_t ns__realtime(struct ns_stack *stk)
{
	if (stk->clock.realtime_ns)
		return stk->clock.realtime_ns(stk->clock.ctx);
	return ns__now(stk);
}

/* ---- control messages ------------------------------------------------------ */

void ns__cmsg_put(struct msghdr *m, size_t *off, int level, int type, const void *data, size_t len)
{
	size_t cap = m->msg_control ? m->msg_controllen : 0;
	size_t avail = cap > *off ? cap - *off : 0;
	size_t cmlen = CM_HDR + len;
	if (avail < sizeof(struct cmsghdr)) {
		m->msg_flags |= NS_MSG_CTRUNC;
		return;
	}
	if (avail < cmlen) {
		m->msg_flags |= NS_MSG_CTRUNC;
		cmlen = avail;
	}
	struct cmsghdr h;
	memset(&h, 0, sizeof(h));
	h.cmsg_len = cmlen;
	h.cmsg_level = level;
	h.cmsg_type = type;
	uint8_t *p = (uint8_t *)m->msg_control + *off;
	memcpy(p, &h, sizeof(h));
	if (cmlen > CM_HDR)
		memcpy(p + CM_HDR, data, cmlen - CM_HDR);
	*off += NS_MIN(CM_ALIGN(CM_HDR + len), avail);
}

void ns__cmsg_done(struct msghdr *m, size_t off)
{
	m->msg_controllen = off;
	m->msg_flags |= NS__MSG_CTL_SET;
}

struct ts64 {
	int64_t sec, frac;
};

void ns__sock_put_tstamp(struct ns_sock *sk, struct msghdr *m, size_t *off, uint64_t ts, bool errq)
{
	uint32_t f = sk->tsflags;
	/* Linux sock_recv_timestamp's fast path */
	if (!sk->rcvtstamp && !(f & NS_SOF_TIMESTAMPING_RX_SOFTWARE) && !(ts && (f & NS_SOF_TIMESTAMPING_SOFTWARE)))
		return;
	if (sk->rcvtstamp) {
		uint64_t t = ts ? ts : ns__realtime(sk->stk);   /* Linux: "false timestamp" now */
		struct ts64 v = { (int64_t)(t / NS_NSEC_PER_SEC), (int64_t)(t % NS_NSEC_PER_SEC) };
		int type;
		if (sk->rcvtstampns) {
			type = sk->tstamp_new ? NS_SO_TIMESTAMPNS_NEW : NS_SO_TIMESTAMPNS;
		} else {
			v.frac /= 1000;
			type = sk->tstamp_new ? NS_SO_TIMESTAMP_NEW : NS_SO_TIMESTAMP;
		}
		ns__cmsg_put(m, off, NS_SOL_SOCKET, type, &v, sizeof(v));
	}
	if (ts && (f & NS_SOF_TIMESTAMPING_SOFTWARE) &&
	    ((f & NS_SOF_TIMESTAMPING_RX_SOFTWARE) || errq || !(f & NS_SOF_TIMESTAMPING_OPT_RX_FILTER))) {
		struct ts64 tss[3];
		memset(tss, 0, sizeof(tss));
		tss[0].sec = (int64_t)(ts / NS_NSEC_PER_SEC);
		tss[0].frac = (int64_t)(ts % NS_NSEC_PER_SEC);
		ns__cmsg_put(m, off, NS_SOL_SOCKET, sk->tstamp_new ? NS_SO_TIMESTAMPING_NEW : NS_SO_TIMESTAMPING,
			     tss, sizeof(tss));
	}
}

/* ---- the queue ----------------------------------------------------------------- */

struct ns_errq_ent *ns__errq_alloc(size_t len)
{
	struct ns_errq_ent *e = calloc(1, sizeof(*e) + len);
	if (e)
		e->len = (uint32_t)len;
	return e;
}

/* Linux SKB_TRUESIZE of a small error skb plus its data. */
#define ERRQ_OVERHEAD NS_ERRQ_ZC_OMEM
/* net.core.optmem_max and what one zerocopy notification skb charges */
#define NS_OPTMEM_MAX 131072u

static void ent_free(struct ns_sock *sk, struct ns_errq_ent *e)
{
	if (e->truesize)
		sk->rmem -= e->truesize;
	if (e->ee.ee_origin == NS_SO_EE_ORIGIN_ZEROCOPY)
		sk->omem -= sk->omem >= ERRQ_OVERHEAD ? ERRQ_OVERHEAD : sk->omem;
	free(e);
}

static void append(struct ns_sock *sk, struct ns_errq_ent *e)
{
	e->next = NULL;
	if (sk->eq_tail)
		sk->eq_tail->next = e;
	else
		sk->eq_head = e;
	sk->eq_tail = e;
	sk->eq_len++;
	ns__sock_wake_locked(sk);
}

int ns__errq_queue_locked(struct ns_sock *sk, struct ns_errq_ent *e)
{
	uint32_t ts = ERRQ_OVERHEAD + e->len;
	if ((uint64_t)sk->rmem + ts >= (uint64_t)(uint32_t)sk->rcvbuf) {
		free(e);
		return -NS_ENOMEM;
	}
	e->truesize = ts;
	sk->rmem += ts;
	append(sk, e);
	return 0;
}

void ns__errq_zc_complete_locked(struct ns_sock *sk, uint32_t lo, uint32_t n, bool copied)
{
	/* the notification was charged to omem when the send allocated it */
	sk->omem -= sk->omem >= ERRQ_OVERHEAD ? ERRQ_OVERHEAD : sk->omem;
	if (!n)
		return;
	struct ns_errq_ent *t = sk->eq_tail;
	if (t && t->ee.ee_origin == NS_SO_EE_ORIGIN_ZEROCOPY) {
		uint64_t sum = (uint64_t)(t->ee.ee_data - t->ee.ee_info) + 1 + n;
		if (sum < (1ull << 32) && lo == t->ee.ee_data + 1) {
			t->ee.ee_data += n;
			ns__sock_wake_locked(sk);
			return;
		}
	}
	struct ns_errq_ent *e = ns__errq_alloc(0);
	if (!e)
		return;
	e->ee.ee_origin = NS_SO_EE_ORIGIN_ZEROCOPY;
	e->ee.ee_info = lo;
	e->ee.ee_data = lo + n - 1;
	if (copied)
		e->ee.ee_code = NS_SO_EE_CODE_ZEROCOPY_COPIED;
	sk->omem += ERRQ_OVERHEAD;              /* held until read, like the skb */
	append(sk, e);
}

/* May a MSG_ZEROCOPY send allocate a notification? (Linux sock_omalloc) */
bool ns__errq_zc_charge_locked(struct ns_sock *sk)
{
	if (sk->omem >= NS_OPTMEM_MAX)
		return false;
	sk->omem += ERRQ_OVERHEAD;
	return true;
}

void ns__errq_purge_locked(struct ns_sock *sk)
{
	while (sk->eq_head) {
		struct ns_errq_ent *e = sk->eq_head;
		sk->eq_head = e->next;
		ent_free(sk, e);
	}
	sk->eq_tail = NULL;
	sk->eq_len = 0;
}

static bool is_icmp(const struct ns_errq_ent *e)
{
	return e->ee.ee_origin == NS_SO_EE_ORIGIN_ICMP || e->ee.ee_origin == NS_SO_EE_ORIGIN_ICMP6;
}

/* Linux sock_dequeue_err_skb: SO_ERROR follows the ICMP errors still queued. */
static struct ns_errq_ent *dequeue(struct ns_sock *sk)
{
	struct ns_errq_ent *e = sk->eq_head;
	if (!e)
		return NULL;
	sk->eq_head = e->next;
	if (!sk->eq_head)
		sk->eq_tail = NULL;
	sk->eq_len--;
	struct ns_errq_ent *n = sk->eq_head;
	if (n && is_icmp(n))
		sk->err = (int)n->ee.ee_errno;
	else if (is_icmp(e))
		sk->err = 0;
	ns__sock_wake_locked(sk);
	return e;
}

static size_t copy_out(const struct msghdr *m, const uint8_t *p, size_t len)
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

ssize_t ns__errq_recv(struct ns_sock *sk, struct msghdr *m, int flags)
{
	(void)flags;                    /* Linux dequeues even with MSG_PEEK */
	pthread_mutex_lock(&sk->mu);
	struct ns_errq_ent *e = dequeue(sk);
	if (!e) {
		pthread_mutex_unlock(&sk->mu);
		return -NS_EAGAIN;
	}
	size_t copied = copy_out(m, e->data, e->len);
	if (copied < e->len)
		m->msg_flags |= NS_MSG_TRUNC;
	size_t off = 0;
	ns__sock_put_tstamp(sk, m, &off, e->tstamp_ns, true);
	if (m->msg_name && e->has_name)
		m->msg_namelen = ns__sockaddr_fill(m->msg_name, sizeof(struct sockaddr_storage), sk->domain,
						   &e->name, e->port);
	bool v6 = sk->domain == NS_AF_INET6;
	uint8_t data[16 + 28];
	memset(data, 0, sizeof(data));
	memcpy(data, &e->ee, sizeof(e->ee));
	size_t alen = v6 ? 28 : 16;
	if (e->has_offender)
		ns__sockaddr_fill((struct sockaddr *)(void *)(data + 16), (socklen_t)alen, sk->domain,
				  &e->offender, 0);
	ns__cmsg_put(m, &off, v6 ? NS_IPPROTO_IPV6 : NS_IPPROTO_IP, v6 ? NS_IPV6_RECVERR : NS_IP_RECVERR, data,
		     16 + alen);
	ns__cmsg_done(m, off);
	m->msg_flags |= NS_MSG_ERRQUEUE;
	ent_free(sk, e);
	pthread_mutex_unlock(&sk->mu);
	return (ssize_t)copied;
}
