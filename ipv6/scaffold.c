/* Temporary: replaced by the IPv6 implementation (delete when ipv6/ lands). */
#include "../netstack/core.h"
int ns__ipv6_init(struct ns_stack *stk) { (void)stk; return 0; }
void ns__ipv6_fini(struct ns_stack *stk) { (void)stk; }
void ns__ipv6_rcv(struct ns_nic *nic, struct ns_pkt *pkt) { NS_STAT_INC(nic->stk, Ip6InDiscards); ns_pkt_unref(pkt); }
int ns__nd_nic_init(struct ns_nic *nic) { (void)nic; return 0; }
void ns__nd_nic_fini(struct ns_nic *nic) { (void)nic; }
void ns__ipv6_addr_added(struct ns_nic *nic, const struct ns_ifaddr *ifa) { (void)nic; (void)ifa; }
int ns__ipv6_output(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_tx *tx) { (void)stk; (void)tx; ns_pkt_unref(pkt); return -NS_ENETUNREACH; }
void ns__icmp6_send_error(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m, uint8_t type, uint8_t code, uint32_t info) { (void)stk; (void)pkt; (void)m; (void)type; (void)code; (void)info; }
