/*
 * tap/netstackd/report.c - the SIGUSR1 statistics report: every nonzero
 * counter under its Linux name in nstat's layout, then the tap's own
 * counters and the services' connection counts.
 */
#include <stdio.h>
#include "netstackd.h"
#include "tap/tap.h"

static void print_stat(void *ctx, const char *name, uint64_t v)
{
	FILE *f = ctx;
	if (v)
		fprintf(f, "%-32s%-16llu%6.1f\n", name, (unsigned long long)v, 0.0);
}

void nsd_report(struct ns_stack *stk, struct ns_link *link, struct nsd_services *s, FILE *f)
{
	fprintf(f, "#netstack\n");
	ns_stat_foreach(stk, print_stat, f);
	if (link) {
		struct ns_tap_stats t;
		ns_link_tap_stats(link, &t);
		fprintf(f, "#tap %s\n", link->name);
		fprintf(f, "%-32s%-16llu\n%-32s%-16llu\n%-32s%-16llu\n", "TapRxFrames",
			(unsigned long long)t.rx_frames, "TapRxBytes", (unsigned long long)t.rx_bytes,
			"TapRxDrops", (unsigned long long)t.rx_drops);
		fprintf(f, "%-32s%-16llu\n%-32s%-16llu\n%-32s%-16llu\n", "TapTxFrames",
			(unsigned long long)t.tx_frames, "TapTxBytes", (unsigned long long)t.tx_bytes,
			"TapTxErrors", (unsigned long long)t.tx_errors);
	}
	fprintf(f, "PacketsLive                     %llu\n", (unsigned long long)ns_stack_live_pkts(stk));
	nsd_services_report(s, f);
	fflush(f);
}
