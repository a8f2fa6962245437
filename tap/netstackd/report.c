/*
 * tap/netstackd/report.c - the SIGUSR1 statistics report: every nonzero
 * counter under its Linux name in nstat's layout, then the device's own
 * counters and the services' connection counts.
 */
#include <stdio.h>
#include "netstackd.h"

static void print_stat(void *ctx, const char *name, uint64_t v)
{
	FILE *f = ctx;
	if (v)
		fprintf(f, "%-32s%-16llu%6.1f\n", name, (unsigned long long)v, 0.0);
}

void nsd_report(struct ns_stack *stk, const struct nsd_dev *d, struct nsd_services *s, FILE *f)
{
	fprintf(f, "#netstack\n");
	ns_stat_foreach(stk, print_stat, f);
	nsd_device_report(d, f);
	fprintf(f, "%-32s%llu\n", "PacketsLive", (unsigned long long)ns_stack_live_pkts(stk));
	nsd_services_report(s, f);
	nsd_report_conns(stk, f);
	fflush(f);
}
