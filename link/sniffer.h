/*
 * link/sniffer.h - a wrapping link endpoint that records every frame, in
 * both directions, into a pcap file (libpcap, DLT_EN10MB) and otherwise
 * forwards everything to the inner endpoint (netstackd --pcap FILE).
 */
#ifndef NS_LINK_SNIFFER_H
#define NS_LINK_SNIFFER_H

#include "../netstack/link.h"

/*
 * Wraps inner (takes ownership; on failure inner is closed too).  Frames
 * are written as they pass: received ones before the stack sees them,
 * sent ones as handed to the inner link (a TSO frame is recorded whole, as
 * tcpdump on a TSO interface would show it).  NULL with *err = -errno when
 * the file cannot be created.
 */
struct ns_link *ns_link_sniffer_new(struct ns_link *inner, const char *path, int *err);
/* Flushes buffered records to the file (also done on close). */
void ns_link_sniffer_flush(struct ns_link *l);
/* Frames recorded so far. */
uint64_t ns_link_sniffer_count(struct ns_link *l);

#endif
