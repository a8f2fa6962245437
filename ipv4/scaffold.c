/* Temporary: replaced by the IPv4 implementation (delete when ipv4/ lands). */
#include "../netstack/core.h"
int ns__ipv4_init(struct ns_stack *stk) { (void)stk; return 0; }
void ns__ipv4_fini(struct ns_stack *stk) { (void)stk; }
void ns__ipv4_rcv(struct ns_nic *nic, struct ns_pkt *pkt) { NS_STAT_INC(nic->stk, IpInDiscards); ns_pkt_unref(pkt); }
void ns__arp_rcv(struct ns_nic *nic, struct ns_pkt *pkt) { NS_STAT_INC(nic->stk, ArpInErrors); ns_pkt_unref(pkt); }
int ns__arp_nic_init(struct ns_nic *nic) { (void)nic; return 0; }
void ns__arp_nic_fini(struct ns_nic *nic) { (void)nic; }
void ns__ipv4_addr_added(struct ns_nic *nic, const struct ns_ifaddr *ifa) { (void)nic; (void)ifa; }
int ns__ipv4_output(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_tx *tx) { (void)stk; (void)tx; ns_pkt_unref(pkt); return -NS_ENETUNREACH; }
int ns__ip_output(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_tx *tx)
{ return tx->dst.family == NS_AF_INET ? ns__ipv4_output(stk, pkt, tx) : ns__ipv6_output(stk, pkt, tx); }
uint32_t ns__ip_path_mtu(struct ns_stack *stk, const struct ns_addr *dst, int oif) { (void)stk; (void)dst; (void)oif; return 1500; }
void ns__icmp4_send_error(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m, uint8_t type, uint8_t code, uint32_t info) { (void)stk; (void)pkt; (void)m; (void)type; (void)code; (void)info; }
