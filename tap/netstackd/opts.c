/*
 * tap/netstackd/opts.c - netstackd's command line.
 * Every mistake ends in exactly one line on stderr ("netstackd: ...") and
 * exit status 2; options named in the design but not implemented yet are
 * recognised and refused the same way.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "netstackd.h"

static const char usage[] =
	"usage: netstackd --tap NAME | --packet IFNAME  --ip4 ADDR/PLEN [options]\n"
	"\n"
	"Runs the netstack TCP/IP stack on a Linux tap device and serves, on all\n"
	"its addresses: echo (TCP+UDP 7), discard (TCP+UDP 9), chargen (TCP 19)\n"
	"and HTTP/1.1 (TCP 80: GET / is a short page, GET /bytes/N returns exactly\n"
	"N bytes of the pattern abc...xyzabc...).  Opens the tap if it exists,\n"
	"creates it otherwise (a created tap disappears on exit).\n"
	"\n"
	"  --tap NAME          tap device to use (opened, or created and removed on exit)\n"
	"  --packet IFNAME     use an existing interface through AF_PACKET instead\n"
	"  --mac MAC           the stack's MAC (default 02:00:5e:ed:xx:xx from the tap name)\n"
	"  --ip4 ADDR/PLEN     IPv4 address (repeatable)\n"
	"  --gw4 ADDR          IPv4 default gateway\n"
	"  --ip6 ADDR/PLEN     IPv6 address (repeatable)\n"
	"  --gw6 ADDR          IPv6 default gateway\n"
	"  --slaac             IPv6 addresses and default router from router advertisements\n"
	"  --mtu N             link MTU (default 1500)\n"
	"  --host-ip4 ADDR/PLEN  configure the kernel side of the tap: address, link up\n"
	"  --host-ip6 ADDR/PLEN  the same for IPv6\n"
	"  --threads N         receive threads: tap queues (IFF_MULTI_QUEUE) or AF_PACKET fanout\n"
	"  --offload, --no-offload  tap virtio-net offloads (checksum, TSO, GRO); default on\n"
	"  --pcap FILE         record every frame, both directions, in pcap format\n"
	"  --packet-ring v3|v2 AF_PACKET receive ring: v3 blocks (default) or v2 frames (lower latency)\n"
	"  --ctl PATH          control socket (default /run/netstackd/IFNAME.sock)\n"
	"  --stats             print the statistics of the netstackd running on --tap/--packet\n"
	"                      (or --ctl PATH, or the only one running) and exit\n"
	"  --workers N         threads running the services, each an event loop over\n"
	"                      its share of the connections (default: one per CPU)\n"
	"  --services LIST     comma list of echo,discard,chargen,http or all (default all)\n"
	"  --log-level L       error, warn, info or debug (or 0-3; default warn)\n"
	"  --help, --version\n"
	"\n"
	"Signals: SIGTERM/SIGINT stop cleanly; SIGUSR1 prints the statistics (nstat names).\n"
	"An existing single-queue tap (ip tuntap add mode tap) is used with one queue.\n";

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("netstackd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	return -1;
}

enum {
	OPT_TAP = 256, OPT_MAC, OPT_IP4, OPT_GW4, OPT_IP6, OPT_GW6, OPT_MTU, OPT_SERVICES,
	OPT_LOG, OPT_HELP, OPT_VERSION, OPT_PACKET, OPT_HOST4, OPT_HOST6, OPT_THREADS, OPT_PCAP,
	OPT_OFFLOAD, OPT_NO_OFFLOAD, OPT_SLAAC, OPT_STATS, OPT_CTL, OPT_PACKET_RING, OPT_WORKERS,
};

static const struct option longopts[] = {
	{ "tap", required_argument, NULL, OPT_TAP },
	{ "mac", required_argument, NULL, OPT_MAC },
	{ "ip4", required_argument, NULL, OPT_IP4 },
	{ "gw4", required_argument, NULL, OPT_GW4 },
	{ "ip6", required_argument, NULL, OPT_IP6 },
	{ "gw6", required_argument, NULL, OPT_GW6 },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "services", required_argument, NULL, OPT_SERVICES },
	{ "log-level", required_argument, NULL, OPT_LOG },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "packet", required_argument, NULL, OPT_PACKET },
	{ "host-ip4", required_argument, NULL, OPT_HOST4 },
	{ "host-ip6", required_argument, NULL, OPT_HOST6 },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "offload", no_argument, NULL, OPT_OFFLOAD },
	{ "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
	{ "slaac", no_argument, NULL, OPT_SLAAC },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "ctl", required_argument, NULL, OPT_CTL },
	{ "packet-ring", required_argument, NULL, OPT_PACKET_RING },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ NULL, 0, NULL, 0 },
};

static int parse_addr(const char *arg, int family, bool need_plen, struct ns_addr *a, int *plen,
		      const char *opt)
{
	if (need_plen && !strchr(arg, '/'))
		return fail("%s %s: expected ADDR/PLEN", opt, arg);
	if (!need_plen && strchr(arg, '/'))
		return fail("%s %s: expected an address without /PLEN", opt, arg);
	if (ns_addr_parse(arg, a, plen) < 0 || a->family != family)
		return fail("%s %s: not a valid %s address%s", opt, arg,
			    family == NS_AF_INET ? "IPv4" : "IPv6", need_plen ? "/prefix length" : "");
	return 0;
}

static int parse_services(const char *arg, unsigned *out)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "echo", NSD_SVC_ECHO }, { "discard", NSD_SVC_DISCARD },
		{ "chargen", NSD_SVC_CHARGEN }, { "http", NSD_SVC_HTTP }, { "all", NSD_SVC_ALL },
		{ "none", 0 },
	};
	char buf[256];
	if (strlen(arg) >= sizeof(buf))
		return fail("--services: list too long");
	strcpy(buf, arg);
	*out = 0;
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(tok, names[i].name) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return fail("--services: unknown service '%s' (known: echo, discard, chargen, http, all)", tok);
		*out |= names[i].bit;
	}
	return 0;
}

static int parse_log(const char *arg, int *lvl)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++) {
		if (strcmp(arg, names[i]) == 0 || (arg[0] == '0' + i && !arg[1])) {
			*lvl = i;
			return 0;
		}
	}
	if (strcmp(arg, "warning") == 0) {
		*lvl = 1;
		return 0;
	}
	return fail("--log-level %s: expected error, warn, info or debug", arg);
}

static int parse_u32(const char *arg, uint32_t lo, uint32_t hi, uint32_t *v, const char *opt)
{
	char *end;
	unsigned long x = strtoul(arg, &end, 10);
	if (!*arg || *end || x < lo || x > hi)
		return fail("%s %s: expected a number from %u to %u", opt, arg, lo, hi);
	*v = (uint32_t)x;
	return 0;
}

static int one_opt(int c, const char *arg, struct nsd_opts *o)
{
	uint32_t v;
	switch (c) {
	case OPT_TAP:
		if (!*arg || strlen(arg) >= 16 || strchr(arg, '/') || strchr(arg, ' '))
			return fail("--tap %s: not a valid interface name (1-15 characters)", arg);
		o->tap = arg;
		return 0;
	case OPT_MAC:
		if (ns_mac_parse(arg, o->mac) < 0)
			return fail("--mac %s: not a unicast MAC address like 02:00:5e:00:00:01", arg);
		o->mac_set = true;
		return 0;
	case OPT_IP4:
		if (o->n_ip4 == NSD_MAX_ADDRS)
			return fail("--ip4: at most %d addresses", NSD_MAX_ADDRS);
		if (parse_addr(arg, NS_AF_INET, true, &o->ip4[o->n_ip4], &o->ip4_plen[o->n_ip4], "--ip4") < 0)
			return -1;
		o->n_ip4++;
		return 0;
	case OPT_IP6:
		if (o->n_ip6 == NSD_MAX_ADDRS)
			return fail("--ip6: at most %d addresses", NSD_MAX_ADDRS);
		if (parse_addr(arg, NS_AF_INET6, true, &o->ip6[o->n_ip6], &o->ip6_plen[o->n_ip6], "--ip6") < 0)
			return -1;
		o->n_ip6++;
		return 0;
	case OPT_GW4:
		return parse_addr(arg, NS_AF_INET, false, &o->gw4, NULL, "--gw4");
	case OPT_GW6:
		return parse_addr(arg, NS_AF_INET6, false, &o->gw6, NULL, "--gw6");
	case OPT_MTU:
		if (parse_u32(arg, 576, 65521, &v, "--mtu") < 0)
			return -1;
		o->mtu = v;
		return 0;
	case OPT_SERVICES:
		return parse_services(arg, &o->services);
	case OPT_LOG:
		return parse_log(arg, &o->log_level);
	case OPT_THREADS:
		if (parse_u32(arg, 1, 16, &v, "--threads") < 0)
			return -1;
		o->threads = (int)v;
		return 0;
	case OPT_WORKERS:
		if (parse_u32(arg, 1, NSD_MAX_WORKERS, &v, "--workers") < 0)
			return -1;
		o->workers = (int)v;
		return 0;
	case OPT_PACKET:
		if (!*arg || strlen(arg) >= 16 || strchr(arg, '/') || strchr(arg, ' '))
			return fail("--packet %s: not a valid interface name (1-15 characters)", arg);
		o->packet = arg;
		return 0;
	case OPT_HOST4:
		if (o->n_host4 == NSD_MAX_ADDRS)
			return fail("--host-ip4: at most %d addresses", NSD_MAX_ADDRS);
		if (parse_addr(arg, NS_AF_INET, true, &o->host4[o->n_host4], &o->host4_plen[o->n_host4],
			       "--host-ip4") < 0)
			return -1;
		o->n_host4++;
		return 0;
	case OPT_HOST6:
		if (o->n_host6 == NSD_MAX_ADDRS)
			return fail("--host-ip6: at most %d addresses", NSD_MAX_ADDRS);
		if (parse_addr(arg, NS_AF_INET6, true, &o->host6[o->n_host6], &o->host6_plen[o->n_host6],
			       "--host-ip6") < 0)
			return -1;
		o->n_host6++;
		return 0;
	case OPT_SLAAC:
		o->slaac = true;
		return 0;
	case OPT_OFFLOAD:
	case OPT_NO_OFFLOAD:
		o->offload = c == OPT_OFFLOAD;
		return 0;
	case OPT_STATS:
		o->stats = true;
		return 0;
	case OPT_CTL:
		if (!*arg || strlen(arg) >= 100)
			return fail("--ctl %s: expected a socket path shorter than 100 bytes", arg);
		o->ctl = arg;
		return 0;
	case OPT_PACKET_RING:
		if (strcmp(arg, "v3") != 0 && strcmp(arg, "v2") != 0)
			return fail("--packet-ring %s: expected v3 or v2", arg);
		o->packet_ring = arg[1] == '2' ? 2 : 0;
		return 0;
	case OPT_PCAP:
		if (!*arg)
			return fail("--pcap: expected a file name");
		o->pcap = arg;
		return 0;
	default:
		return fail("unknown option (try --help)");
	}
}

/* A stable locally administered MAC derived from the tap name. */
static void default_mac(const char *name, uint8_t mac[6])
{
	uint32_t h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	const uint8_t m[6] = { 0x02, 0x00, 0x5e, 0xed, (uint8_t)(h >> 8), (uint8_t)h };
	memcpy(mac, m, 6);
}

int nsd_opts_parse(int argc, char **argv, struct nsd_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->services = NSD_SVC_ALL;
	o->log_level = 1;
	o->offload = true;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(usage, stdout);
			return 1;
		}
		if (c == OPT_VERSION) {
			printf("netstackd %s\n", NS_VERSION);
			return 1;
		}
		if (c == ':') {
			for (const struct option *lo = longopts; lo->name; lo++)
				if (lo->val == optopt)
					return fail("--%s needs an argument (try --help)", lo->name);
			return fail("an option needs an argument (try --help)");
		}
		if (c == '?')
			return fail("unknown option '%s' (try --help)", argv[optind - 1]);
		if (one_opt(c, optarg, o) < 0)
			return -1;
	}
	if (optind < argc)
		return fail("unexpected argument '%s' (try --help)", argv[optind]);
	if (o->stats)
		return 0;               /* client mode: needs no device or address */
	if (!o->tap && !o->packet)
		return fail("--tap NAME (or --packet IFNAME) is required (try --help)");
	if (o->tap && o->packet)
		return fail("--tap and --packet cannot be used together");
	if (!o->threads)
		o->threads = 1;
	if (o->packet && (o->n_host4 || o->n_host6))
		return fail("--host-ip4/--host-ip6 configure a tap; with --packet configure the interface yourself");
	if (o->n_ip4 == 0 && o->n_ip6 == 0 && !o->slaac)
		return fail("--ip4 ADDR/PLEN (or --ip6, or --slaac) is required");
	if (o->gw4.family && o->n_ip4 == 0)
		return fail("--gw4 needs an --ip4 address");
	if (o->gw6.family && o->n_ip6 == 0 && !o->slaac)
		return fail("--gw6 needs an --ip6 address (or --slaac)");
	if (!o->mac_set)
		default_mac(o->tap ? o->tap : o->packet, o->mac);
	if (!o->mtu)
		o->mtu = 1500;
	return 0;
}
