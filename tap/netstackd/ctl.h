/*
 * tap/netstackd/ctl.h - netstackd's local control socket: a Unix stream
 * socket on which every connection gets the statistics report (nstat-style
 * counters and the ss-style connection table), and the `netstackd --stats`
 * client that prints it.
 */
#ifndef NETSTACKD_CTL_H
#define NETSTACKD_CTL_H

#include <stdio.h>

#define NSD_CTL_DIR "/run/netstackd"

typedef void (*nsd_report_fn)(void *ctx, FILE *f);

/* Default socket path for a daemon on interface ifname (into buf). */
const char *nsd_ctl_path(const char *ifname, char *buf, size_t len);
/* Starts serving reports on path (a stale socket file is replaced; a live
 * one is an error: -EADDRINUSE).  0 or -errno. */
struct nsd_ctl;
int nsd_ctl_start(const char *path, nsd_report_fn fn, void *ctx, struct nsd_ctl **out);
/* Stops the thread and removes the socket file. */
void nsd_ctl_stop(struct nsd_ctl *c);
/* Client: prints the report of the daemon at path (NULL: the only socket in
 * NSD_CTL_DIR) to out.  0, or prints one error line and returns 1. */
int nsd_ctl_query(const char *path, FILE *out);

#endif
