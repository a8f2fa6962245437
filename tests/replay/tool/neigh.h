/*
 * tests/replay/tool/neigh.h - answers on behalf of a simulated peer to the
 * stack's neighbour resolution (ARP requests, IPv6 neighbour solicitations),
 * used by the script runner and the differential replay.
 */
#ifndef NSR_NEIGH_H
#define NSR_NEIGH_H

#include <stddef.h>
#include <stdint.h>
#include "decode.h"

/* An ARP reply "tpa is-at mac" to the request d; out gets 42 bytes.  Returns 0 or -1 (not a request). */
int nsr_arp_answer(const struct nsr_dec *d, const uint8_t mac[6], uint8_t out[42]);
/* A solicited neighbour advertisement for the target of the NS in d; out gets 86 bytes.
 * Returns 0 or -1 (not a solicitation, or DAD from the unspecified address). */
int nsr_nd_answer(const struct nsr_dec *d, const uint8_t mac[6], uint8_t out[86]);
/* The target of an ARP request or neighbour solicitation (false if d is neither). */
bool nsr_neigh_target(const struct nsr_dec *d, struct ns_addr *target);

#endif
