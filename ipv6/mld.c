/*
 * ipv6/mld.c - multicast listener discovery, version 2 (RFC 3810), host
 * side.  Owns: the groups each NIC has joined (all-nodes and the
 * solicited-node groups of its addresses), unsolicited state-change
 * reports on join (robustness 2, the repeat within 1 s), current-state
 * reports in reply to queries (after a random delay up to the maximum
 * response delay), TO_IN reports on leave.  Reports go to ff02::16 with
 * hop limit 1 and a Router Alert hop-by-hop option, from a link-local
 * address or from :: while none is ready (RFC 3590, like Linux).
 * So switches with MLD snooping deliver our neighbour solicitations.
 * MLDv1 queries are answered with v2 reports (no v1 compatibility mode).
 * ns__ipv6_mc_join/leave let sockets join other groups (refcounted).
 */
#include "ipv6_internal.h"

#define MLD_ROBUSTNESS 2
#define MLD_UNSOL_INTERVAL (1ull * NS_NSEC_PER_SEC)
#define REC_IS_EXCLUDE 2
#define REC_TO_INCLUDE 3
#define REC_TO_EXCLUDE 4
#define REC_LEN 20

static bool reportable(const struct ns_addr *g)
{
	struct ns_addr all;
	ns__ip6_all_nodes(&all);
	return ns_ip6_mc_scope(g) > 1 && !ns_addr_eq(g, &all);
}

static struct ns_mld_group *find(struct ns_nd *nd, const struct ns_addr *g)
{
	for (int i = 0; i < nd->n_groups; i++)
		if (memcmp(nd->groups[i].addr.b, g->b, 16) == 0)
			return &nd->groups[i];
	return NULL;
}

static uint64_t rand_below(struct ns_stack *stk, uint64_t max)
{
	return max ? (max * ns__rand32(stk)) >> 32 : 0;
}

void ns__mld_join_locked(struct ns_nd *nd, const struct ns_addr *g)
{
	struct ns_mld_group *m = find(nd, g);
	if (m) {
		m->users++;
		return;
	}
	if (nd->n_groups == NS_MLD_MAX_GROUPS)
		return;
	m = &nd->groups[nd->n_groups++];
	memset(m, 0, sizeof(*m));
	ns_addr_v6(&m->addr, g->b);
	m->users = 1;
	if (reportable(g) && !nd->no_dad) {
		m->reports_left = MLD_ROBUSTNESS;
		m->report_at = ns__now(nd->nic->stk);
		ns__nd_schedule_locked(nd, m->report_at);
	}
}

void ns__mld_resend_locked(struct ns_nd *nd)
{
	uint64_t now = ns__now(nd->nic->stk) + 1;       /* after the DAD act ran */
	for (int i = 0; i < nd->n_groups; i++) {
		struct ns_mld_group *m = &nd->groups[i];
		if (!reportable(&m->addr) || nd->no_dad)
			continue;
		m->reports_left = MLD_ROBUSTNESS;
		m->report_at = now;
		ns__nd_schedule_locked(nd, now);
	}
}

bool ns__mld_is_member(struct ns_nic *nic, const struct ns_addr *g)
{
	struct ns_nd *nd = ns__nd(nic);
	if (!nd)
		return false;
	pthread_mutex_lock(&nd->mu);
	bool r = find(nd, g) != NULL;
	pthread_mutex_unlock(&nd->mu);
	return r;
}

/* One report with a record of type rtype for each group in gs. */
static struct ns_pkt *build_report(struct ns_nd *nd, const struct ns_addr *gs, const uint8_t *types,
				   int n)
{
	struct ns_stack *stk = nd->nic->stk;
	uint8_t body[4 + NS_MLD_MAX_GROUPS * REC_LEN];
	struct ns_addr src, dst = { .family = NS_AF_INET6, .b = { 0xff, 0x02, [15] = 0x16 } };
	ns__nd_linklocal_src(nd->nic, &src);
	memset(body, 0, sizeof(body));
	for (int i = 0; i < n; i++) {
		uint8_t *r = body + i * REC_LEN;
		r[0] = types[i];
		memcpy(r + 4, gs[i].b, 16);
	}
	/* rest of header: reserved (16 bits), number of records */
	struct ns_pkt *p = ns__icmp6_build(stk, &src, &dst, NS_ICMP6_MLD2_REPORT, 0, (uint32_t)n,
					   body, (size_t)n * REC_LEN);
	if (!p)
		return NULL;
	/* hop-by-hop: Router Alert (RFC 2711, value 0 = MLD) and PadN */
	static const uint8_t hbh[8] = { NS_NH_ICMPV6, 0, 5, 2, 0, 0, 1, 0 };
	uint8_t *h = ns_pkt_push(p, sizeof(hbh));
	if (!h || (memcpy(h, hbh, sizeof(hbh)), ns__ip6_push_hdr(p, &src, &dst, NS_NH_HOP, 1, 0, 0) < 0)) {
		ns_pkt_unref(p);
		return NULL;
	}
	ns__icmp6_count_out(stk, NS_ICMP6_MLD2_REPORT);
	NS_STAT_INC(stk, Ip6OutRequests);
	NS_STAT_ADD(stk, Ip6OutOctets, ns_pkt_len(p));
	return p;
}

static void send_report(struct ns_nd *nd, const struct ns_addr *gs, const uint8_t *types, int n,
			struct ns_nd_work *w)
{
	static const uint8_t mac[6] = { 0x33, 0x33, 0, 0, 0, 0x16 };
	if (n > 0)
		ns__nd_work_tx(w, build_report(nd, gs, types, n), mac);
}

void ns__mld_leave_locked(struct ns_nd *nd, const struct ns_addr *g, struct ns_nd_work *w)
{
	struct ns_mld_group *m = find(nd, g);
	if (!m || --m->users > 0)
		return;
	struct ns_addr a = m->addr;
	*m = nd->groups[--nd->n_groups];
	if (reportable(&a) && !nd->no_dad) {
		uint8_t t = REC_TO_INCLUDE;
		send_report(nd, &a, &t, 1, w);
	}
}

/* RFC 3810 5.1.3: Maximum Response Code to milliseconds */
static uint64_t max_resp_ms(const uint8_t *p, size_t len)
{
	uint16_t code = ns_load_be16(p + 4);
	if (len < 28 || code < 32768)
		return code;
	return (uint64_t)((code & 0x0fff) | 0x1000) << (((code >> 12) & 7) + 3);
}

void ns__mld_rcv_locked(struct ns_nd *nd, const uint8_t *p, size_t len,
			const struct ns_ip_meta *m, struct ns_nd_work *w)
{
	(void)w;
	if (p[0] != NS_ICMP6_MLD_QUERY)
		return;                 /* other listeners' reports: nothing to do */
	/* RFC 3810 5.1.14 / 6.2: link-local source, hop limit 1 */
	if (len < 24 || !ns_ip6_is_linklocal(&m->src) || m->ttl != 1) {
		NS_STAT_INC(nd->nic->stk, Icmp6InErrors);
		return;
	}
	struct ns_addr g;
	ns_addr_v6(&g, p + 8);
	if (!ns__ip6_is_any(&g) && !find(nd, &g))
		return;
	uint64_t now = ns__now(nd->nic->stk);
	uint64_t at = now + rand_below(nd->nic->stk, max_resp_ms(p, len) * NS_NSEC_PER_MSEC);
	if (!nd->mld_general_at || at < nd->mld_general_at) {
		nd->mld_general_at = at;
		ns__nd_schedule_locked(nd, at);
	}
}

uint64_t ns__mld_tick_locked(struct ns_nd *nd, uint64_t now, struct ns_nd_work *w)
{
	struct ns_addr gs[NS_MLD_MAX_GROUPS];
	uint8_t types[NS_MLD_MAX_GROUPS];
	uint64_t next = UINT64_MAX;
	int n = 0;
	bool general = nd->mld_general_at && nd->mld_general_at <= now;
	for (int i = 0; i < nd->n_groups; i++) {
		struct ns_mld_group *m = &nd->groups[i];
		if (!reportable(&m->addr))
			continue;
		if (m->report_at && m->report_at <= now && m->reports_left) {
			gs[n] = m->addr;
			types[n++] = REC_TO_EXCLUDE;
			m->reports_left--;
			m->report_at = m->reports_left ?
				now + 1 + rand_below(nd->nic->stk, MLD_UNSOL_INTERVAL) : 0;
		} else if (general) {
			gs[n] = m->addr;
			types[n++] = REC_IS_EXCLUDE;
		}
		if (m->report_at)
			next = NS_MIN(next, m->report_at);
	}
	if (general)
		nd->mld_general_at = 0;
	else if (nd->mld_general_at)
		next = NS_MIN(next, nd->mld_general_at);
	send_report(nd, gs, types, n, w);
	return next;
}

/* ---- for sockets (IPV6_ADD_MEMBERSHIP / IPV6_DROP_MEMBERSHIP) ------------------ */

int ns__ipv6_mc_join(struct ns_stack *stk, int nic_id, const struct ns_addr *g)
{
	struct ns_nic *nic = ns__nic_get(stk, nic_id);
	if (!nic || !ns__nd(nic))
		return -NS_ENODEV;
	if (g->family != NS_AF_INET6 || !ns_ip6_is_mcast(g))
		return -NS_EINVAL;
	struct ns_nd *nd = ns__nd(nic);
	pthread_mutex_lock(&nd->mu);
	int n = nd->n_groups;
	bool had = find(nd, g) != NULL;
	ns__mld_join_locked(nd, g);
	int err = !had && nd->n_groups == n ? -NS_ENOBUFS : 0;
	pthread_mutex_unlock(&nd->mu);
	return err;
}

int ns__ipv6_mc_leave(struct ns_stack *stk, int nic_id, const struct ns_addr *g)
{
	struct ns_nic *nic = ns__nic_get(stk, nic_id);
	if (!nic || !ns__nd(nic))
		return -NS_ENODEV;
	struct ns_nd *nd = ns__nd(nic);
	struct ns_nd_work w = { 0 };
	pthread_mutex_lock(&nd->mu);
	int err = find(nd, g) ? 0 : -NS_EADDRNOTAVAIL;
	if (!err)
		ns__mld_leave_locked(nd, g, &w);
	pthread_mutex_unlock(&nd->mu);
	ns__nd_work_run(nic, &w);
	return err;
}
