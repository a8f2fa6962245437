/*
 * tests/replay/tool/vstack.h - a netstack instance on a virtual clock and a
 * seeded random source, driven in embedded mode (ns_stack_poll), with one
 * NIC on a capture link: every frame the stack writes is recorded with the
 * virtual time, frames are injected as if received.  Also runs the config
 * file's services (listeners, echo, discard, active opens) through the
 * public socket API with nonblocking sockets.
 */
#ifndef NSR_VSTACK_H
#define NSR_VSTACK_H

#include "nsr.h"
#include "config.h"

struct nsr_vstack;

/* Warnings (services a stack cannot offer yet) go to stderr unless 0. */
extern int nsr_warnings;

/* Optional hook: called for every frame the stack writes (after recording). */
typedef void (*nsr_tx_fn)(void *ctx, uint64_t t_ns, const uint8_t *frame, size_t len);

struct nsr_vstack {
	struct ns_vclock vc;
	struct ns_seeded_rng rng;
	struct ns_stack *stk;
	int nic;
	struct nsr_frames out;          /* everything written, virtual timestamps */
	bool record;                    /* append to out (default true) */
	nsr_tx_fn on_tx;
	void *on_tx_ctx;
	const struct nsr_config *cfg;
	uint64_t t0;                    /* time services' "at" offsets count from */
	struct nsr_svc *svcs;           /* runtime state of cfg services */
	int nsvc;
	uint64_t work;                  /* frames + timers + socket events handled */
	int (*pump)(void *ctx);         /* extra per-iteration work (script runner) */
	void *pump_ctx;
	uint64_t next_timer;            /* from the last ns_stack_poll */
};

/* Creates the stack at virtual time start_ns, applies cfg (NIC, addresses,
 * routes; services are started by nsr_vstack_start_services). */
int nsr_vstack_create(const struct nsr_config *cfg, uint64_t seed, uint64_t start_ns,
		      struct nsr_vstack **out, char *err, size_t errlen);
int nsr_vstack_start_services(struct nsr_vstack *v, uint64_t t0, char *err, size_t errlen);
void nsr_vstack_destroy(struct nsr_vstack *v);
/* Delivers a frame now (as received by the NIC), then runs what is due. */
void nsr_vstack_inject(struct nsr_vstack *v, const uint8_t *frame, size_t len);
/* Runs timers and services until virtual time t (never moves backwards). */
void nsr_vstack_advance(struct nsr_vstack *v, uint64_t t);
/* Runs everything due at the current time. */
void nsr_vstack_run_now(struct nsr_vstack *v);
/* Next instant something is scheduled (timer or service action), UINT64_MAX if none. */
uint64_t nsr_vstack_next_event(struct nsr_vstack *v);
/* Pump hook for callers driving their own sockets between polls. */
typedef int (*nsr_pump_fn)(void *ctx);
void nsr_vstack_set_pump(struct nsr_vstack *v, nsr_pump_fn fn, void *ctx);

#endif
