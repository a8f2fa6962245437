/*
 * tap/netstackd/svc_util.h - small helpers shared by the service handlers.
 */
#ifndef NSD_SVC_UTIL_H
#define NSD_SVC_UTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include "netstack/netstack.h"

/* Receive and send timeouts on fd, in milliseconds. */
void nsd_set_timeouts(struct ns_stack *stk, int fd, int ms);
/* A timeout or an interrupted call: try again (after checking stop). */
bool nsd_retry(ssize_t r);
/* Sends all of buf; 0, or -errno when the connection failed or stop was set. */
int nsd_send_all(struct ns_stack *stk, int fd, const void *buf, size_t len, const atomic_bool *stop);
/* Live connection threads. */
struct nsd_services;
int nsd_services_live(struct nsd_services *s);

#endif
