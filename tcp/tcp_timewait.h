/*
 * tcp/tcp_timewait.h - TIME_WAIT as a small record (Linux inet_timewait_sock),
 * see tcp_timewait.c.
 */
#ifndef NS_TCP_TIMEWAIT_H
#define NS_TCP_TIMEWAIT_H

#include "tcp_internal.h"

/* What a TIME_WAIT record answers to a segment (Linux enum tcp_tw_status). */
enum tcp_tw_verdict {
	TCP_TW_NONE = 0,        /* no record for the 4-tuple: the caller goes on */
	TCP_TW_DONE,            /* consumed (answered, dropped, or the record died) */
	TCP_TW_SYN,             /* an acceptable new SYN: hand it to a listener with seg->tw_isn */
};

int tcp_tw_init(struct ns_tcp *tcp);
/* Kills every record and waits for the frees (stack teardown). */
void tcp_tw_fini(struct ns_tcp *tcp);

/* ep (sk->mu held) enters TIME_WAIT for timeo ns (0: 60 s): a record takes
 * over the 4-tuple, the port and the timer; the caller then tcp_done()s ep.
 * False when the record cannot exist (tcp_max_tw_buckets reached:
 * TCPTimeWaitOverflow; or no memory): the connection just closes. */
bool tcp_tw_enter(struct tcp_ep *ep, uint64_t timeo);

/* Input: finds the record for seg's 4-tuple and runs Linux's
 * tcp_timewait_state_process() on it.  Consumes seg->pkt unless TW_SYN or
 * TW_NONE. */
enum tcp_tw_verdict tcp_tw_rcv(struct ns_tcp *tcp, struct tcp_seg *seg);

/* Under tcp->bind_mu: may ep (4-tuple set, connecting) take the tuple a
 * record holds?  0 if no record or the record was reused (killed; ep->tw_isn
 * and the timestamp state set, TWRecycled counted), -EADDRNOTAVAIL if not.
 * autobind: the port was chosen by connect (Linux needs tcp_tw_reuse then;
 * an explicitly bound port only needs timestamps, like Linux). */
int tcp_tw_check_connect_locked(struct ns_tcp *tcp, struct tcp_ep *ep, bool autobind);

/* Bind table rules for the ports records keep (under tcp->bind_mu). */
bool tcp_tw_port_used_locked(struct ns_tcp *tcp, uint16_t port);
/* Would ep binding addr:port clash with a record (Linux inet_bind_conflict)? */
bool tcp_tw_port_conflict_locked(struct ns_tcp *tcp, const struct tcp_ep *ep, const struct ns_addr *addr,
				 uint16_t port, bool relax);
/* Does a record on port come from an explicit bind (connect must not share it)? */
bool tcp_tw_port_locked_for_connect(struct ns_tcp *tcp, uint16_t port);

/* Records in TIME_WAIT now (for diag and tests). */
struct ns_tcp_conn_info;
typedef void (*tcp_tw_fn)(void *ctx, const struct ns_addr *laddr, uint16_t lport, const struct ns_addr *raddr,
			  uint16_t rport);
int tcp_tw_foreach(struct ns_tcp *tcp, tcp_tw_fn fn, void *ctx);
/* Bytes one record takes (for the benchmark). */
size_t tcp_tw_record_size(void);

#endif
