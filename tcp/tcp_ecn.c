/*
 * tcp/tcp_ecn.c - Explicit Congestion Notification for TCP (RFC 3168) with
 * Linux's semantics and default net.ipv4.tcp_ecn = 2: a connection uses ECN
 * when our SYN asked for it (tcp_ecn = 1: ECE|CWR) and the SYN-ACK answered
 * with ECE alone, or when a peer's SYN asked (ECE|CWR, not itself ECT) and
 * tcp_ecn != 0 (our SYN-ACK then carries ECE).  Once negotiated: new data goes
 * out ECT(0) (never retransmissions, ACKs or control segments); a CE mark on
 * received data makes every segment we send carry ECE until the peer's CWR;
 * an ECE on an ACK reduces cwnd once per window (ns_tcp_cc_cwr_once: ssthresh
 * from the congestion-control module) and sets CWR on our next new data.
 * Read first: RFC 3168 6.1, Linux tcp_ecn_* in tcp_input.c / tcp_output.c.
 */
#include "tcp_internal.h"

#define ECN_MASK 3
#define ECN_NOT_ECT 0
#define ECN_ECT0 2
#define ECN_CE 3

uint8_t tcp_ecn_syn_flags(struct tcp_ep *ep, bool synack)
{
	if (synack)
		return (ep->ecn_flags & TCP_ECN_OK) ? TCPF_ECE : 0;
	if (ep->rtx_syn) {
		/* Linux tcp_ecn_clear_syn (tcp_ecn_fallback): retransmitted SYNs go without */
		return 0;
	}
	if (ep->tcp->fo.ecn == 1) {
		ep->ecn_flags = TCP_ECN_OK;
		return TCPF_ECE | TCPF_CWR;
	}
	ep->ecn_flags = 0;
	return 0;
}

/* Linux tcp_ecn_create_request(). */
void tcp_ecn_rcv_syn(struct tcp_ep *c, uint8_t flags, uint8_t tos)
{
	c->ecn_flags = 0;
	if ((flags & (TCPF_ECE | TCPF_CWR)) != (TCPF_ECE | TCPF_CWR))
		return;
	if ((tos & ECN_MASK) == ECN_NOT_ECT && c->tcp->fo.ecn != 0)
		c->ecn_flags = TCP_ECN_OK;
}

/* Linux tcp_ecn_rcv_synack(). */
void tcp_ecn_rcv_synack(struct tcp_ep *ep, uint8_t flags)
{
	if ((ep->ecn_flags & TCP_ECN_OK) && (!(flags & TCPF_ECE) || (flags & TCPF_CWR)))
		ep->ecn_flags &= (uint8_t)~TCP_ECN_OK;
}

void tcp_ecn_rcv(struct tcp_ep *ep, uint8_t flags, uint8_t tos, uint32_t len, bool ack_advanced)
{
	if (!(ep->ecn_flags & TCP_ECN_OK))
		return;
	/* receiver: CWR from the peer ends our echo (Linux tcp_ecn_accept_cwr) */
	if (flags & TCPF_CWR) {
		ep->ecn_flags &= (uint8_t)~TCP_ECN_DEMAND_CWR;
		if (len)
			ep->ack_now = true;
	}
	if (len) {
		/* Linux __tcp_ecn_check_ce */
		switch (tos & ECN_MASK) {
		case ECN_NOT_ECT:
			if (ep->ecn_flags & TCP_ECN_SEEN)
				ep->quickack = ep->quickack > 2 ? ep->quickack : 2;
			break;
		case ECN_CE:
			if (!(ep->ecn_flags & TCP_ECN_DEMAND_CWR)) {
				ep->quickack = ep->quickack > 2 ? ep->quickack : 2;
				ep->ecn_flags |= TCP_ECN_DEMAND_CWR;
			}
			ep->ecn_flags |= TCP_ECN_SEEN;
			break;
		default:
			ep->ecn_flags |= TCP_ECN_SEEN;
			break;
		}
	}
	/* sender: ECE on an ACK (not a SYN) -> one reduction per window */
	/* Linux holds CWR until something *above* high_seq is ACKed (so the CWR
	 * bit reached the receiver) */
	bool in_cwr = ep->ecn_high_seq && !ns_seq_gt(ep->snd_una, ep->ecn_high_seq);
	if (!in_cwr)
		ep->ecn_high_seq = 0;
	if ((flags & TCPF_ECE) && !(flags & TCPF_SYN) && (flags & TCPF_ACK) && !in_cwr &&
	    ep->cc.ca_state < NS_TCP_CA_RECOVERY && (ack_advanced || ep->snd_una != ep->snd_nxt)) {
		ns_tcp_cc_cwr_once(&ep->cc, ns__now(ep->stk) / NS_NSEC_PER_USEC);
		ep->ecn_high_seq = ep->snd_nxt ? ep->snd_nxt : 1;
		ep->ecn_flags |= TCP_ECN_QUEUE_CWR;
	}
}

uint8_t tcp_ecn_xmit(struct tcp_ep *ep, bool new_data, uint8_t *tos)
{
	uint8_t f = 0;
	if (!(ep->ecn_flags & TCP_ECN_OK) || ep->state == TCP_SYN_SENT)
		return 0;
	*tos &= (uint8_t)~ECN_MASK;
	if (new_data) {
		*tos |= ECN_ECT0;
		if (ep->ecn_flags & TCP_ECN_QUEUE_CWR) {
			ep->ecn_flags &= (uint8_t)~TCP_ECN_QUEUE_CWR;
			f |= TCPF_CWR;
		}
	}
	if (ep->ecn_flags & TCP_ECN_DEMAND_CWR)
		f |= TCPF_ECE;
	return f;
}
