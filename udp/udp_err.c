/*
 * udp/udp_err.c - ICMP errors for the socket error queue (IP_RECVERR /
 * IPV6_RECVERR), read with recvmsg(MSG_ERRQUEUE) through the generic queue
 * in netstack/errqueue.c like Linux's ip_icmp_error: the quoted payload as
 * data, the offending destination and port as msg_name, and struct
 * sock_extended_err (errno, origin, ICMP type/code, info) followed by the
 * offender address.  The offender is the datagram's destination: struct
 * ns_icmp_err does not carry the address of the host that sent the ICMP
 * message.
 */
#include "udp_internal.h"

#define ERR_PAYLOAD_MAX 576

void ns__udp_errq_add_locked(struct udp_sock *us, const struct ns_icmp_err *e, int err)
{
	size_t len = e->l4_len > UDP_HLEN ? NS_MIN(e->l4_len - UDP_HLEN, (size_t)ERR_PAYLOAD_MAX) : 0;
	struct ns_errq_ent *q = ns__errq_alloc(len);
	if (!q)
		return;
	q->ee.ee_errno = (uint32_t)err;
	q->ee.ee_origin = e->family == NS_AF_INET6 ? NS_SO_EE_ORIGIN_ICMP6 : NS_SO_EE_ORIGIN_ICMP;
	q->ee.ee_type = e->type;
	q->ee.ee_code = e->code;
	q->ee.ee_info = e->mtu;
	q->has_name = q->has_offender = true;
	q->name = q->offender = e->dst;
	q->port = ns_load_be16(e->l4 + 2);
	if (len)
		memcpy(q->data, e->l4 + UDP_HLEN, len);
	ns__errq_queue_locked(us->sk, q);       /* dropped when rcvbuf is full, like Linux */
}
