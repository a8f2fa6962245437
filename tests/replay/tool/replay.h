/*
 * tests/replay/tool/replay.h - the library entry points of pcap-replay's
 * modes, usable from tests as well as from the command line (main.c).
 */
#ifndef NSR_REPLAY_H
#define NSR_REPLAY_H

#include <stdio.h>
#include "nsr.h"
#include "config.h"

/*
 * Replay: inject in's frames at their recorded times into a stack built
 * from cfg (virtual clock starting cfg->settle_ns before the first frame,
 * seeded random source) and collect every frame it sends into got.  Frames
 * from cfg's MAC are skipped (a whole capture can be the input); TCP peers'
 * acknowledgements, SACK blocks and TS echoes are adapted to our ISN/TSval.
 */
int nsr_replay_run(const struct nsr_config *cfg, uint64_t seed, const struct nsr_frames *in,
		   struct nsr_frames *got, char *err, size_t errlen);
/* Same; adapt_tcp false injects TCP frames exactly as captured (no ISN/TS rewriting);
 * injected (if not NULL) gets the frames as they were injected, with their times. */
int nsr_replay_run_opts(const struct nsr_config *cfg, uint64_t seed, const struct nsr_frames *in,
			bool adapt_tcp, struct nsr_frames *got, struct nsr_frames *injected,
			char *err, size_t errlen);

struct nsr_diff_opts {
	uint8_t host_mac[6];            /* the Linux host's MAC in the capture (default: cfg mac) */
	uint64_t tol_ns;
	bool verbose;
	bool compare_neigh;             /* compare ARP / ND / MLD frames too */
	bool keep_checksums;            /* default: recompute L4 checksums of injected frames
					 * (captures on hosts with checksum offload carry partial ones) */
};
/*
 * Differential replay: cap is a capture of a Linux host (our cfg's MAC and
 * addresses) talking to peers.  Peer frames are injected with their
 * original timing, their TCP ack / SACK / TS ecr rewritten from Linux's
 * ISN and TSval to ours; our responses are compared with Linux's, flow by
 * flow in order.  Writes a report to out; returns the number of differing
 * packets (0: same behaviour), -1 on error.
 */
int nsr_diff_run(const struct nsr_config *cfg, uint64_t seed, const struct nsr_frames *cap,
		 const struct nsr_diff_opts *o, struct nsr_frames *ours, FILE *out, char *err, size_t errlen);

#endif
