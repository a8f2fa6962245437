/*
 * link/link_internal.h - helpers shared by the endpoints in link/ and tap/
 * (not installed): frame copies across a "wire", the channel hooks the
 * loopback and impairment endpoints use.
 */
#ifndef NS_LINK_INTERNAL_H
#define NS_LINK_INTERNAL_H

#include "../netstack/core.h"

/*
 * Copies a frame as a wire would (borrows pkt): a fresh packet from pool
 * with NS_PKT_HEADROOM in front, the bytes only (no metadata but csum
 * state), with a partial checksum (NS_CSUM_PARTIAL) completed in software.
 * Returns NULL when the pool refuses.
 */
struct ns_pkt *ns__link_frame_copy(struct ns_pool *pool, const struct ns_pkt *pkt);
/* Completes an NS_CSUM_PARTIAL checksum in place (the caller owns pkt). */
void ns__link_csum_finish(struct ns_pkt *pkt);

/*
 * A channel normally delivers to its own l->deliver and allocates from its
 * own l->pool.  A wrapper (impair) that hands the channel's frames up in
 * its own name sets upper: the channel then reads deliver, deliver_ctx and
 * pool from upper, which ns_nic_add() filled in.
 */
void ns__link_channel_set_upper(struct ns_link *chan, struct ns_link *upper);
bool ns__link_is_channel(const struct ns_link *l);
/* Frames queued for delivery (for tests and for pump helpers). */
uint32_t ns__link_channel_rxq_len(struct ns_link *l);

/* The impairment wrapper (link/impair.c). */
bool ns__link_is_impair(const struct ns_link *l);
struct ns_link *ns__link_impair_inner(struct ns_link *l);

#endif
