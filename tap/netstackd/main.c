/*
 * tap/netstackd/main.c - netstackd: the netstack daemon on a tap device.
 * Owns: start-up (options, tap, stack, addresses, routes, services), the
 * signal loop (SIGTERM/SIGINT stop, SIGUSR1 reports statistics) and an
 * orderly shutdown.  Runs in the foreground and logs to stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include "netstackd.h"
#include "tap/tap.h"

int nsd_log_level = 1;

static void tap_error(const char *name, int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
		fprintf(stderr, "netstackd: cannot open tap '%s': permission denied "
			"(needs CAP_NET_ADMIN, or the tap belongs to another user)\n", name);
		break;
	case EBUSY:
		fprintf(stderr, "netstackd: tap '%s' is busy (another process has it open)\n", name);
		break;
	case EINVAL:
		fprintf(stderr, "netstackd: '%s' exists but is not a usable tap device "
			"(a single-queue tap is expected)\n", name);
		break;
	case ENOENT:
	case ENODEV:
	case ENXIO:
		fprintf(stderr, "netstackd: cannot open tap '%s': /dev/net/tun is missing "
			"(is the tun module loaded?)\n", name);
		break;
	default:
		fprintf(stderr, "netstackd: cannot open tap '%s': %s\n", name, strerror(-err));
	}
}

static int configure(struct ns_stack *stk, int nic, const struct nsd_opts *o)
{
	char b[64];
	int err;
	for (int i = 0; i < o->n_ip4; i++) {
		if ((err = ns_nic_addr_add(stk, nic, &o->ip4[i], o->ip4_plen[i])) < 0) {
			fprintf(stderr, "netstackd: cannot add address %s/%d: %s\n",
				ns_addr_fmt(&o->ip4[i], b, sizeof(b)), o->ip4_plen[i], strerror(-err));
			return err;
		}
	}
	for (int i = 0; i < o->n_ip6; i++) {
		if ((err = ns_nic_addr_add(stk, nic, &o->ip6[i], o->ip6_plen[i])) < 0) {
			fprintf(stderr, "netstackd: cannot add address %s/%d: %s\n",
				ns_addr_fmt(&o->ip6[i], b, sizeof(b)), o->ip6_plen[i], strerror(-err));
			return err;
		}
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
	fprintf(stderr, "netstackd %s: tap %s, mac %02x:%02x:%02x:%02x:%02x:%02x, mtu %u", NS_VERSION,
		o->tap, o->mac[0], o->mac[1], o->mac[2], o->mac[3], o->mac[4], o->mac[5], o->mtu);
	for (int i = 0; i < o->n_ip4; i++)
		fprintf(stderr, ", %s/%d", ns_addr_fmt(&o->ip4[i], b, sizeof(b)), o->ip4_plen[i]);
	for (int i = 0; i < o->n_ip6; i++)
		fprintf(stderr, ", %s/%d", ns_addr_fmt(&o->ip6[i], b, sizeof(b)), o->ip6_plen[i]);
	fprintf(stderr, "\n");
}

/* Waits for signals on the main thread (blocked everywhere else). */
static void signal_loop(const sigset_t *set, struct ns_stack *stk, struct ns_link *link,
			struct nsd_services *svc)
{
	for (;;) {
		int sig;
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			nsd_report(stk, link, svc, stdout);
			continue;
		}
		if (sig == SIGHUP)
			continue;
		if (nsd_log_level >= 2)
			fprintf(stderr, "netstackd: %s, shutting down\n", strsignal(sig));
		return;
	}
}

int main(int argc, char **argv)
{
	struct nsd_opts o;
	int r = nsd_opts_parse(argc, argv, &o);
	if (r != 0)
		return r > 0 ? 0 : 2;
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

	int err;
	struct ns_tap_opts to = { .mtu = o.mtu };
	struct ns_link *link = ns_link_tap_open(o.tap, o.mac, &to, &err);
	if (!link) {
		tap_error(o.tap, err);
		return 1;
	}
	struct ns_stack *stk;
	if ((err = ns_stack_create(NULL, &stk)) < 0) {
		fprintf(stderr, "netstackd: cannot create the stack: %s\n", strerror(-err));
		link->ops->close(link);
		return 1;
	}
	int nic = ns_nic_add(stk, link, o.tap);
	if (nic < 0) {
		fprintf(stderr, "netstackd: cannot add the NIC: %s\n", strerror(-nic));
		link->ops->close(link);
		ns_stack_destroy(stk);
		return 1;
	}
	if (configure(stk, nic, &o) < 0) {
		ns_stack_destroy(stk);
		return 1;
	}
	if ((err = ns_stack_start(stk)) < 0) {
		fprintf(stderr, "netstackd: cannot start the stack: %s\n", strerror(-err));
		ns_stack_destroy(stk);
		return 1;
	}
	struct nsd_services *svc = nsd_services_start(stk, &o);
	if (!svc) {
		fprintf(stderr, "netstackd: cannot start the services\n");
		ns_stack_destroy(stk);
		return 1;
	}
	announce(&o);
	signal_loop(&set, stk, link, svc);
	nsd_services_stop(svc);
	ns_stack_destroy(stk);          /* stops threads, closes the tap */
	return 0;
}
