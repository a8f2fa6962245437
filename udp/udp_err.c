/*
 * udp/udp_err.c - the UDP error queue (IP_RECVERR / IPV6_RECVERR): ICMP
 * errors about datagrams a socket sent, read with recvmsg(MSG_ERRQUEUE)
 * like Linux's ip_recv_error: the quoted payload as data, the offending
 * destination as msg_name, and a struct sock_extended_err control message
 * (errno, origin, ICMP type/code, info) followed by the offender address.
 * The offender is the datagram's destination: struct ns_icmp_err does not
 * carry the address of the host that sent the ICMP message.
 */
#include <stdlib.h>
#include "udp_internal.h"

#define SO_EE_ORIGIN_ICMP 2
#define SO_EE_ORIGIN_ICMP6 3
#define ERR_PAYLOAD_MAX 576

void ns__udp_errq_add_locked(struct udp_sock *us, const struct ns_icmp_err *e, int err)
{
	if (us->eq_count >= UDP_ERRQ_MAX)
		return;                         /* Linux bounds it by rcvbuf */
	size_t len = e->l4_len > UDP_HLEN ? NS_MIN(e->l4_len - UDP_HLEN, (size_t)ERR_PAYLOAD_MAX) : 0;
	struct udp_err *q = malloc(sizeof(*q) + len);
	if (!q)
		return;
	memset(q, 0, sizeof(*q));
	q->err = err;
	q->origin = e->family == NS_AF_INET6 ? SO_EE_ORIGIN_ICMP6 : SO_EE_ORIGIN_ICMP;
	q->type = e->type;
	q->code = e->code;
	q->info = e->mtu;
	q->dst = e->dst;
	q->dport = ns_load_be16(e->l4 + 2);
	q->len = len;
	if (len)
		memcpy(q->payload, e->l4 + UDP_HLEN, len);
	if (us->eq_tail)
		us->eq_tail->next = q;
	else
		us->eq_head = q;
	us->eq_tail = q;
	us->eq_count++;
}

void ns__udp_errq_purge_locked(struct udp_sock *us)
{
	while (us->eq_head) {
		struct udp_err *q = us->eq_head;
		us->eq_head = q->next;
		free(q);
	}
	us->eq_tail = NULL;
	us->eq_count = 0;
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

#define CM_ALIGN(n) (((n) + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1))

/* struct sock_extended_err + the offender's sockaddr, as one control message. */
static void put_ee(struct ns_sock *sk, struct msghdr *m, const struct udp_err *q)
{
	uint8_t data[16 + 28];
	memset(data, 0, sizeof(data));
	uint32_t v = (uint32_t)q->err;
	memcpy(data, &v, 4);
	data[4] = q->origin;
	data[5] = q->type;
	data[6] = q->code;
	memcpy(data + 8, &q->info, 4);
	socklen_t alen = ns__sockaddr_fill((struct sockaddr *)(void *)(data + 16), 28, sk->domain,
					   &q->dst, 0);
	size_t dlen = 16 + alen;
	size_t hdr = CM_ALIGN(sizeof(struct cmsghdr));
	size_t cap = m->msg_control ? m->msg_controllen : 0;
	m->msg_controllen = 0;
	m->msg_flags |= NS__MSG_CTL_SET;
	if (hdr + dlen > cap) {
		m->msg_flags |= NS_MSG_CTRUNC;
		return;
	}
	struct cmsghdr h;
	memset(&h, 0, sizeof(h));
	h.cmsg_len = hdr + dlen;
	h.cmsg_level = sk->domain == NS_AF_INET6 ? NS_IPPROTO_IPV6 : NS_IPPROTO_IP;
	h.cmsg_type = sk->domain == NS_AF_INET6 ? 25 /* IPV6_RECVERR */ : NS_IP_RECVERR;
	memcpy(m->msg_control, &h, sizeof(h));
	memcpy((uint8_t *)m->msg_control + hdr, data, dlen);
	m->msg_controllen = NS_MIN(CM_ALIGN(hdr + dlen), cap);
}

ssize_t ns__udp_errq_recv(struct ns_sock *sk, struct msghdr *m, int flags)
{
	struct udp_sock *us = udp_sk(sk);
	pthread_mutex_lock(&sk->mu);
	struct udp_err *q = us->eq_head;
	if (!q) {
		pthread_mutex_unlock(&sk->mu);
		return -NS_EAGAIN;
	}
	/* Linux ip_recv_error dequeues even with MSG_PEEK */
	us->eq_head = q->next;
	if (!us->eq_head)
		us->eq_tail = NULL;
	us->eq_count--;
	/* Linux sock_dequeue_err_skb: SO_ERROR becomes the next one's errno */
	sk->err = us->eq_head ? us->eq_head->err : 0;
	ns__sock_wake_locked(sk);
	size_t copied = copy_out(m, q->payload, q->len);
	if (copied < q->len)
		m->msg_flags |= NS_MSG_TRUNC;
	m->msg_flags |= NS_MSG_ERRQUEUE;
	if (m->msg_name)
		m->msg_namelen = ns__sockaddr_fill(m->msg_name, sizeof(struct sockaddr_storage),
						   sk->domain, &q->dst, q->dport);
	put_ee(sk, m, q);
	free(q);
	pthread_mutex_unlock(&sk->mu);
	return (ssize_t)copied;
}
