/*
 * tests/replay/tool/run.c - `pcap-replay run`: deterministic replay of a
 * capture's frames into a virtual-time stack (see replay.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include "replay.h"
#include "vstack.h"

int nsr_replay_run(const struct nsr_config *cfg, uint64_t seed, const struct nsr_frames *in,
		   struct nsr_frames *got, char *err, size_t errlen)
{
	uint64_t t0 = in->n ? in->v[0].t_ns : 1000000000000ull;
	uint64_t start = t0 > cfg->settle_ns ? t0 - cfg->settle_ns : 0;
	struct nsr_vstack *v;
	if (nsr_vstack_create(cfg, seed, start, &v, err, errlen) < 0)
		return -1;
	if (nsr_vstack_start_services(v, t0, err, errlen) < 0) {
		nsr_vstack_destroy(v);
		return -1;
	}
	nsr_vstack_run_now(v);
	for (size_t i = 0; i < in->n; i++) {
		uint64_t t = in->v[i].t_ns;
		if (t < v->vc.now)
			t = v->vc.now;           /* out-of-order timestamps: keep the clock monotonic */
		nsr_vstack_advance(v, t);
		nsr_vstack_inject(v, in->v[i].data, in->v[i].len);
	}
	/* let what the last frame started finish (retransmissions, delayed ACKs,
	 * timeouts) for a bounded time (config "tail", default 5 s) */
	nsr_vstack_advance(v, v->vc.now + cfg->tail_ns);
	*got = v->out;
	memset(&v->out, 0, sizeof(v->out));
	nsr_vstack_destroy(v);
	return 0;
}
