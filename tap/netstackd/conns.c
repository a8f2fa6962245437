/*
 * tap/netstackd/conns.c - the connection table of the statistics report,
 * laid out like `ss -tan -i`: state, queues, local and peer address, then
 * rtt/rttvar, cwnd, ssthresh, mss and retransmissions.  Also the glue that
 * serves the whole report on the control socket (ctl.c).
 */
#include <stdio.h>
#include <string.h>
#include "netstackd.h"

static const char *state_name(int st)
{
	static const char *const names[] = {
		"UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
		"TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING",
	};
	return st > 0 && st < (int)(sizeof(names) / sizeof(names[0])) ? names[st] : names[0];
}

/* "198.18.0.2:80", "[fd00::1]:80", "0.0.0.0:*" as ss prints them. */
static void endpoint(char *buf, size_t len, const struct ns_addr *a, uint16_t port)
{
	char ab[64], pb[8];
	ns_addr_fmt(a, ab, sizeof(ab));
	if (port)
		snprintf(pb, sizeof(pb), "%u", port);
	else
		snprintf(pb, sizeof(pb), "*");
	if (a->family == NS_AF_INET6)
		snprintf(buf, len, "[%s]:%s", ab, pb);
	else
		snprintf(buf, len, "%s:%s", ab, pb);
}

static void print_conn(void *ctx, const struct ns_tcp_conn_info *ci)
{
	FILE *f = ctx;
	char l[80], r[80];
	endpoint(l, sizeof(l), &ci->laddr, ci->lport);
	struct ns_addr peer = ci->raddr;
	if (peer.family != NS_AF_INET && peer.family != NS_AF_INET6) {
		memset(&peer, 0, sizeof(peer));             /* a listener: no peer yet */
		peer.family = ci->laddr.family;
	}
	endpoint(r, sizeof(r), &peer, ci->rport);
	fprintf(f, "%-11s %-7u %-7u %-40s %-40s", state_name(ci->state), ci->recvq, ci->sendq, l, r);
	if (ci->state != 10)
		fprintf(f, " rtt:%.3f/%.3f cwnd:%u ssthresh:%u mss:%u retrans:%u bytes_acked:%llu bytes_received:%llu",
			ci->rtt_us / 1000.0, ci->rttvar_us / 1000.0, ci->cwnd, ci->ssthresh, ci->mss,
			ci->total_retrans, (unsigned long long)ci->bytes_acked,
			(unsigned long long)ci->bytes_received);
	fputc('\n', f);
}

void nsd_report_conns(struct ns_stack *stk, FILE *f)
{
	fprintf(f, "#tcp (ss -tan)\n%-11s %-7s %-7s %-40s %-40s\n", "State", "Recv-Q", "Send-Q",
		"Local Address:Port", "Peer Address:Port");
	ns_tcp_foreach_conn(stk, print_conn, f);
}
