/*
 * tap/netstackd/main.c - netstackd: the netstack daemon.
 * Owns: start-up (options, device, stack, addresses, routes, services),
 * the signal loop (SIGTERM/SIGINT stop, SIGUSR1 reports statistics) and an
 * orderly shutdown.  Runs in the foreground and logs to stderr.
 * Device: device.c; services: services.c, http.c; report: report.c.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include "netstackd.h"
#include "ctl.h"

int nsd_log_level = 1;

static int configure(struct ns_stack *stk, int nic, const struct nsd_opts *o)
{
	char b[64];
	int err;
	for (int i = 0; i < o->n_ip4 + o->n_ip6; i++) {
		const struct ns_addr *a = i < o->n_ip4 ? &o->ip4[i] : &o->ip6[i - o->n_ip4];
		int plen = i < o->n_ip4 ? o->ip4_plen[i] : o->ip6_plen[i - o->n_ip4];
		if ((err = ns_nic_addr_add(stk, nic, a, plen)) < 0) {
			fprintf(stderr, "netstackd: cannot add address %s/%d: %s\n",
				ns_addr_fmt(a, b, sizeof(b)), plen, strerror(-err));
			return err;
		}
	}
	if (o->slaac && (err = ns_nic_set_slaac(stk, nic, true)) < 0) {
		fprintf(stderr, "netstackd: cannot enable SLAAC: %s\n", strerror(-err));
		return err;
	}
	const struct ns_addr *gws[2] = { &o->gw4, &o->gw6 };
	for (int i = 0; i < 2; i++) {
		if (!gws[i]->family)
			continue;
		struct ns_addr any = { .family = gws[i]->family };
		if ((err = ns_route_add(stk, &any, 0, gws[i], nic)) < 0) {
			fprintf(stderr, "netstackd: cannot add the default route via %s: %s\n",
				ns_addr_fmt(gws[i], b, sizeof(b)), strerror(-err));
			return err;
		}
	}
	return 0;
}

static void announce(const struct nsd_opts *o)
{
	if (nsd_log_level < 2)
		return;
	char b[64];
	fprintf(stderr, "netstackd %s: %s %s, mac %02x:%02x:%02x:%02x:%02x:%02x, mtu %u", NS_VERSION,
		o->tap ? "tap" : "packet", o->tap ? o->tap : o->packet,
		o->mac[0], o->mac[1], o->mac[2], o->mac[3], o->mac[4], o->mac[5], o->mtu);
	for (int i = 0; i < o->n_ip4; i++)
		fprintf(stderr, ", %s/%d", ns_addr_fmt(&o->ip4[i], b, sizeof(b)), o->ip4_plen[i]);
	for (int i = 0; i < o->n_ip6; i++)
		fprintf(stderr, ", %s/%d", ns_addr_fmt(&o->ip6[i], b, sizeof(b)), o->ip6_plen[i]);
	fprintf(stderr, "\n");
}

/* Waits for signals on the main thread (blocked in every other thread). */
static void signal_loop(const sigset_t *set, struct ns_stack *stk, const struct nsd_dev *d,
			struct nsd_services *svc)
{
	for (;;) {
		int sig;
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			nsd_report(stk, d, svc, stdout);
			continue;
		}
		if (sig == SIGHUP)
			continue;
		if (nsd_log_level >= 2)
			fprintf(stderr, "netstackd: %s, shutting down\n", strsignal(sig));
		return;
	}
}

/* The control socket (ctl.c) serves the SIGUSR1 report to `netstackd --stats`. */
struct nsd_report_ctx {
	struct ns_stack *stk;
	const struct nsd_dev *d;
	struct nsd_services *svc;
};

static void report_to(void *ctx, FILE *f)
{
	struct nsd_report_ctx *rc = ctx;
	nsd_report(rc->stk, rc->d, rc->svc, f);
}

static const char *ctl_path(const struct nsd_opts *o, char *buf, size_t len)
{
	if (o->ctl)
		return o->ctl;
	if (o->tap || o->packet)
		return nsd_ctl_path(o->tap ? o->tap : o->packet, buf, len);
	return NULL;
}

static struct nsd_ctl *start_ctl(const struct nsd_opts *o, struct nsd_report_ctx *rc)
{
	char buf[128];
	const char *path = ctl_path(o, buf, sizeof(buf));
	struct nsd_ctl *c = NULL;
	int err = nsd_ctl_start(path, report_to, rc, &c);
	if (err < 0 && nsd_log_level >= 1)
		fprintf(stderr, "netstackd: warning: no control socket %s (%s); SIGUSR1 still reports\n",
			path, strerror(-err));
	return c;
}

static int run(const struct nsd_opts *o, const sigset_t *set)
{
	struct nsd_dev d;
	if (nsd_device_open(o, &d) < 0)
		return 1;
	struct ns_stack *stk;
	int err = ns_stack_create(NULL, &stk);
	if (err < 0) {
		fprintf(stderr, "netstackd: cannot create the stack: %s\n", strerror(-err));
		d.link->ops->close(d.link);
		return 1;
	}
	int nic = ns_nic_add(stk, d.link, o->tap ? o->tap : o->packet);
	if (nic < 0) {
		fprintf(stderr, "netstackd: cannot add the NIC: %s\n", strerror(-nic));
		d.link->ops->close(d.link);
		ns_stack_destroy(stk);
		return 1;
	}
	if (configure(stk, nic, o) < 0) {
		ns_stack_destroy(stk);
		return 1;
	}
	if ((err = ns_stack_start(stk)) < 0) {
		fprintf(stderr, "netstackd: cannot start the stack: %s\n", strerror(-err));
		ns_stack_destroy(stk);
		return 1;
	}
	struct nsd_services *svc = nsd_services_start(stk, o);
	if (!svc) {
		fprintf(stderr, "netstackd: cannot start the services\n");
		ns_stack_destroy(stk);
		return 1;
	}
	announce(o);
	struct nsd_report_ctx rc = { stk, &d, svc };
	struct nsd_ctl *ctl = start_ctl(o, &rc);
	signal_loop(set, stk, &d, svc);
	nsd_ctl_stop(ctl);
	nsd_services_stop(svc);
	ns_stack_destroy(stk);          /* stops threads, closes the device (a created tap goes) */
	return 0;
}

int main(int argc, char **argv)
{
	struct nsd_opts o;
	int r = nsd_opts_parse(argc, argv, &o);
	if (r != 0)
		return r > 0 ? 0 : 2;
	if (o.stats) {
		char buf[128];
		return nsd_ctl_query(ctl_path(&o, buf, sizeof(buf)), stdout);
	}
	nsd_log_level = o.log_level;
	ns_set_log_level(o.log_level);

	/* every thread started from here on inherits the blocked set */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return run(&o, &set);
}
