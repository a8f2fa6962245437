/*
 * tests/replay/tool/check.h - comparing captures: per-direction TCP
 * sequence/acknowledgement numbers relative to each side's ISN, timestamp
 * option values relative to each side's first TSval, IP IDs and checksums
 * ignored, a tolerance on time.  Used by `check` and by the differential
 * replay.
 */
#ifndef NSR_CHECK_H
#define NSR_CHECK_H

#include <stdio.h>
#include "nsr.h"
#include "decode.h"

#define NSR_REL_MAX 256

/* Per-capture state that makes TCP numbers relative. */
struct nsr_rel {
	int n;
	struct nsr_rel_dir {
		struct ns_addr src, dst;
		uint16_t sport, dport;
		uint32_t isn;
		bool has_ts;
		uint32_t ts0;
	} d[NSR_REL_MAX];
};

struct nsr_relvals {
	bool tcp;
	uint32_t seq, ack;              /* relative (ack raw when the peer's ISN is unknown) */
	bool ts;
	uint32_t tsval, tsecr;
	uint32_t sack[4][2];
};

/* Records d (learning ISN / first TSval) and gives its relative values. */
void nsr_rel_observe(struct nsr_rel *r, const struct nsr_dec *d, struct nsr_relvals *out);

/*
 * Compares two decoded frames with their relative values; appends a
 * description of every differing field ("win: expected 64240, got 65535; ")
 * to why.  Returns the number of differing fields.
 */
int nsr_cmp_frames(const struct nsr_dec *e, const struct nsr_relvals *re,
		   const struct nsr_dec *g, const struct nsr_relvals *rg, char *why, size_t len);

/* Whether TS val/ecr values are compared (the differential replay turns this off:
 * they follow the applications' timing, not the stack's behaviour). */
extern bool nsr_cmp_ts_values;

/* A decoded line with relative numbers. */
const char *nsr_format_relv(const struct nsr_dec *d, const struct nsr_relvals *rv, char *buf, size_t len);

struct nsr_check_opts {
	uint64_t tol_ns;                /* allowed time difference (relative to each first frame) */
};

/* Returns 0 when equivalent, 1 at the first divergence (printed to out). */
int nsr_check(const struct nsr_frames *exp, const struct nsr_frames *got,
	      const struct nsr_check_opts *o, FILE *out);

#endif
