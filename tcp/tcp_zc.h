/*
 * tcp/tcp_zc.h - MSG_EOR, MSG_ZEROCOPY and SO_TIMESTAMPING bookkeeping for
 * TCP (tcp_zc.c).  Every function runs under sk->mu; those taking ep->xf
 * are called only when it is set (the hooks check).
 */
#ifndef NS_TCP_ZC_H
#define NS_TCP_ZC_H

#include "tcp_internal.h"

/* One sendmsg's state between begin and end. */
struct tcp_xf_send {
	int flags;
	size_t total;
	bool zc;                        /* MSG_ZEROCOPY on a SO_ZEROCOPY socket */
	bool extend;                    /* extends the tail skb's notification */
	bool charged;                   /* option memory taken for a new notification */
};

/* Before anything is queued: -ENOBUFS when no notification can be had. */
int tcp_xf_send_begin(struct tcp_ep *ep, const struct msghdr *m, int flags, size_t total, struct tcp_xf_send *xs);
/* tcp_sndq_append with zerocopy fragment limits (ends full skbs). */
ssize_t tcp_xf_append(struct tcp_ep *ep, struct tcp_xf_send *xs, const struct msghdr *m, size_t skip, size_t max);
/* After the data went in (copied may be 0: nothing happened). */
void tcp_xf_send_end(struct tcp_ep *ep, struct tcp_xf_send *xs, size_t copied);

/* len limited so that [seq, seq + len) crosses no skb end (MSG_EOR, full zerocopy skb). */
uint32_t tcp_xf_seg_limit(struct tcp_ep *ep, uint32_t seq, uint32_t len);
/* Is end an skb end (eor_only: of a MSG_EOR write)? */
bool tcp_xf_is_mark(struct tcp_ep *ep, uint32_t end, bool eor_only);

/* A segment [seq, seq + len) was handed to IP (new or retransmitted). */
void tcp_xf_on_xmit(struct tcp_ep *ep, uint32_t seq, uint32_t len);
/* snd_una moved to una; called before the acked bytes leave the queue. */
void tcp_xf_on_ack(struct tcp_ep *ep, uint32_t una);
/* The send queue is dropped (reset, close, destroy). */
void tcp_xf_purge(struct tcp_ep *ep);
void tcp_xf_free(struct tcp_ep *ep);

/* Receive timestamps: the arrival time of the segment that holds the n-th
 * readable byte (0 when not wanted), then the control messages for it. */
uint64_t tcp_xf_rx_stamp(struct tcp_ep *ep, size_t n);
void tcp_xf_rx_put(struct tcp_ep *ep, struct msghdr *m, uint64_t stamp);

#endif
