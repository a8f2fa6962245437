/*
 * tap/netstackd/netstackd.h - pieces of the netstackd daemon:
 * options (opts.c), services (services.c, http.c, on the workers of
 * evloop.c), statistics (report.c),
 * lifecycle and signals (main.c).
 */
#ifndef NETSTACKD_H
#define NETSTACKD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "netstack/netstack.h"

#define NSD_MAX_ADDRS 8
#define NSD_MAX_WORKERS 64

/* services (--services) */
#define NSD_SVC_ECHO    0x01
#define NSD_SVC_DISCARD 0x02
#define NSD_SVC_CHARGEN 0x04
#define NSD_SVC_HTTP    0x08
#define NSD_SVC_ALL     0x0f

struct nsd_opts {
	const char *tap;                /* --tap NAME, or */
	const char *packet;             /* --packet IFNAME (AF_PACKET) */
	const char *pcap;               /* --pcap FILE */
	int threads;                    /* --threads N: tap queues or AF_PACKET fanout */
	bool offload;                   /* tap: virtio-net offloads (default on) */
	struct ns_addr host4[NSD_MAX_ADDRS], host6[NSD_MAX_ADDRS];
	int host4_plen[NSD_MAX_ADDRS], host6_plen[NSD_MAX_ADDRS];
	int n_host4, n_host6;
	uint8_t mac[6];
	bool mac_set;
	struct ns_addr ip4[NSD_MAX_ADDRS], ip6[NSD_MAX_ADDRS];
	int ip4_plen[NSD_MAX_ADDRS], ip6_plen[NSD_MAX_ADDRS];
	int n_ip4, n_ip6;
	struct ns_addr gw4, gw6;        /* family 0 when not given */
	bool slaac;                     /* --slaac: IPv6 addresses from router advertisements */
	uint32_t mtu;
	unsigned services;
	int log_level;
	bool stats;                     /* --stats: print a running daemon's report and exit */
	const char *ctl;                /* --ctl PATH: control socket (default /run/netstackd/IF.sock) */
	int packet_ring;                /* --packet-ring v3 (default) | v2 */
	int workers;                    /* --workers N: service threads (0: one per CPU) */
};

/* The ss-style TCP connection table of the report (conns.c). */
void nsd_report_conns(struct ns_stack *stk, FILE *f);

/* 0 error, 1 warn, 2 info, 3 debug (set from --log-level). */
extern int nsd_log_level;

/* Parses argv.  Returns 0 to run, 1 when it printed --help/--version
 * (exit 0), -1 after printing one error line (exit 2). */
int nsd_opts_parse(int argc, char **argv, struct nsd_opts *o);

/* Services run on --workers event-loop threads (evloop.c) with nonblocking calls. */
struct nsd_services;
/* Starts the selected services on every address of stk; logs (and skips)
 * a service whose transport is unavailable.  NULL on fatal error. */
struct nsd_services *nsd_services_start(struct ns_stack *stk, const struct nsd_opts *o);
/* Stops accepting, asks every thread to finish, waits (bounded). */
void nsd_services_stop(struct nsd_services *s);
/* Connections currently served (for the statistics report). */
void nsd_services_report(struct nsd_services *s, FILE *f);

/* Fills HTTP's static body pattern (http.c); once, before serving. */
void nsd_http_init(void);

/* The device (device.c): tap or AF_PACKET endpoint, maybe under the pcap recorder. */
struct nsd_dev {
	struct ns_link *link;           /* what the NIC uses (the sniffer when --pcap) */
	struct ns_link *dev;            /* the tap or AF_PACKET endpoint */
	struct ns_link *sniffer;        /* NULL without --pcap */
	bool is_tap;
};
/* Opens what the options ask for; prints one error line and returns -1 on failure. */
int nsd_device_open(const struct nsd_opts *o, struct nsd_dev *d);
void nsd_device_report(const struct nsd_dev *d, FILE *f);

/* Statistics as nstat prints them (nonzero counters), then the device's. */
void nsd_report(struct ns_stack *stk, const struct nsd_dev *d, struct nsd_services *s, FILE *f);

#endif
