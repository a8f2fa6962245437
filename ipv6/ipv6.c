/*
 * ipv6/ipv6.c - the IPv6 layer's per-stack state (init/fini), address
 * classes and helpers, and the local delivery queue (datagrams sent to our
 * own addresses are received later by a timer due "now", never inside the
 * sender's call, so a transport never re-enters itself).
 */
#include <stdlib.h>
#include "ipv6_internal.h"

bool ns__ip6_is_loopback(const struct ns_addr *a)
{
	static const uint8_t lo[16] = { [15] = 1 };
	return a->family == NS_AF_INET6 && memcmp(a->b, lo, 16) == 0;
}

bool ns__ip6_is_any(const struct ns_addr *a)
{
	static const uint8_t z[16];
	return memcmp(a->b, z, 16) == 0;
}

bool ns__ip6_is_v4mapped(const struct ns_addr *a)
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };
	return memcmp(a->b, pfx, 12) == 0;
}

void ns__ip6_solicited_node(const struct ns_addr *a, struct ns_addr *out)
{
	static const uint8_t pfx[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	memset(out, 0, sizeof(*out));
	out->family = NS_AF_INET6;
	memcpy(out->b, pfx, 13);
	memcpy(out->b + 13, a->b + 13, 3);
}

void ns__ip6_all_nodes(struct ns_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = NS_AF_INET6;
	out->b[0] = 0xff;
	out->b[1] = 0x02;
	out->b[15] = 1;
}

void ns__ip6_all_routers(struct ns_addr *out)
{
	ns__ip6_all_nodes(out);
	out->b[15] = 2;
}

void ns__ip6_mcast_mac(const struct ns_addr *a, uint8_t mac[6])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, a->b + 12, 4);
}

void ns__ip6_eui64(const uint8_t mac[6], uint8_t iid[8])
{
	iid[0] = mac[0] ^ 0x02;         /* invert the universal/local bit */
	iid[1] = mac[1];
	iid[2] = mac[2];
	iid[3] = 0xff;
	iid[4] = 0xfe;
	iid[5] = mac[3];
	iid[6] = mac[4];
	iid[7] = mac[5];
}

bool ns__ip6_is_ours(struct ns_nic *nic, const struct ns_addr *a, bool allow_tentative,
		     uint32_t *flags)
{
	bool found = false;
	ns_rcu_read_lock();
	struct ns_ifaddr_list *al = ns_rcu_dereference(nic->addrs);
	for (int j = 0; j < al->n; j++) {
		const struct ns_ifaddr *ifa = &al->a[j];
		if (ifa->addr.family != NS_AF_INET6 || memcmp(ifa->addr.b, a->b, 16) != 0)
			continue;
		if (!allow_tentative && (ifa->flags & (NS_IFA_TENTATIVE | NS_IFA_DUPLICATE)))
			break;
		found = true;
		if (flags)
			*flags = ifa->flags;
		break;
	}
	ns_rcu_read_unlock();
	return found;
}

/* ---- local delivery -------------------------------------------------------- */

void ns__ipv6_local_enqueue(struct ns_stack *stk, struct ns_nic *nic, struct ns_pkt *pkt)
{
	struct ns_ipv6 *ip = stk->ipv6;
	pkt->nic = nic->id;
	pkt->next = NULL;
	pthread_mutex_lock(&ip->local_mu);
	if (ip->local_len >= NS_IP6_LOCAL_QMAX) {
		pthread_mutex_unlock(&ip->local_mu);
		NS_STAT_INC(stk, Ip6OutDiscards);
		ns_pkt_unref(pkt);
		return;
	}
	if (ip->local_tail)
		ip->local_tail->next = pkt;
	else
		ip->local_head = pkt;
	ip->local_tail = pkt;
	ip->local_len++;
	pthread_mutex_unlock(&ip->local_mu);
	ns__timer_arm_earlier(stk, &ip->local_timer, ns__now(stk));
}

static void local_deliver(void *arg)
{
	struct ns_ipv6 *ip = arg;
	pthread_mutex_lock(&ip->local_mu);
	struct ns_pkt *p = ip->local_head;
	ip->local_head = ip->local_tail = NULL;
	ip->local_len = 0;
	pthread_mutex_unlock(&ip->local_mu);
	while (p) {
		struct ns_pkt *n = p->next;
		p->next = NULL;
		struct ns_nic *nic = ns__nic_get(ip->stk, p->nic);
		if (nic) {
			p->l3 = p->data;
			ns__ipv6_rcv_common(nic, p, true);
		} else {
			ns_pkt_unref(p);
		}
		p = n;
	}
}

/* ---- init / fini ------------------------------------------------------------- */

int ns__ipv6_init(struct ns_stack *stk)
{
	struct ns_ipv6 *ip = calloc(1, sizeof(*ip));
	if (!ip)
		return -NS_ENOMEM;
	ip->stk = stk;
	atomic_init(&ip->frag_id, ns__rand32(stk));
	pthread_mutex_init(&ip->local_mu, NULL);
	ns__timer_init(&ip->local_timer, local_deliver, ip);
	stk->ipv6 = ip;
	int err = ns__ip6_reasm_init(ip);
	if (!err)
		err = ns__icmp6_init(ip);
	if (err) {
		ns__ipv6_fini(stk);
		return err;
	}
	return 0;
}

void ns__ipv6_fini(struct ns_stack *stk)
{
	struct ns_ipv6 *ip = stk->ipv6;
	if (!ip)
		return;
	ns__timer_cancel_sync(stk, &ip->local_timer);
	ns_pkt_unref_chain(ip->local_head);
	ip->local_head = ip->local_tail = NULL;
	ns__ip6_reasm_fini(ip);
	ns__icmp6_fini(ip);
	pthread_mutex_destroy(&ip->local_mu);
	free(ip);
	stk->ipv6 = NULL;
}
