/* Temporary: replaced by the UDP implementation (delete when udp/ lands). */
#include "../netstack/sock.h"
int ns__udp_init(struct ns_stack *stk) { (void)stk; return 0; }
void ns__udp_fini(struct ns_stack *stk) { (void)stk; }
void ns__udp_rcv(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m) { (void)m; NS_STAT_INC(stk, UdpNoPorts); ns_pkt_unref(pkt); }
void ns__udp_icmp_err(struct ns_stack *stk, const struct ns_icmp_err *e) { (void)stk; (void)e; }
