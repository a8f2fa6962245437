/* Temporary: replaced by the TCP implementation (delete when tcp/ lands). */
#include "../netstack/sock.h"
int ns__tcp_init(struct ns_stack *stk) { (void)stk; return 0; }
void ns__tcp_fini(struct ns_stack *stk) { (void)stk; }
void ns__tcp_rcv(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m) { (void)m; NS_STAT_INC(stk, TcpInErrs); ns_pkt_unref(pkt); }
void ns__tcp_icmp_err(struct ns_stack *stk, const struct ns_icmp_err *e) { (void)stk; (void)e; }
/* Until tcp/ lands: SOCK_STREAM sockets are not supported yet. */
const struct ns_proto_ops ns__tcp_ops;
int ns__tcp_sock_init(struct ns_sock *sk) { (void)sk; return -NS_EPROTONOSUPPORT; }
