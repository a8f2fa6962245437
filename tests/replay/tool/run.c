/*
 * tests/replay/tool/run.c - `pcap-replay run`: deterministic replay of a
 * capture's frames into a virtual-time stack (see replay.h).
 *
 * Frames from the config's own MAC in the input are the original stack's and
 * are not injected, so a whole tcpdump capture can be the input.  TCP peers
 * acknowledge the ISN and echo the TSvals of the stack they talked to; unless
 * told not to, the replay adapts them on the fly to ours (the original ISN is
 * inferred from the peer's first acknowledgement, the original first TSval
 * from its first echo).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "netstack/core.h"
#include "neigh.h"
#include "replay.h"
#include "vstack.h"

#define MAX_AFLOWS 256

struct aflow {
	struct ns_addr host, peer;
	uint16_t hport, pport;
	bool orig_known, ours_known, ts_orig_known, ts_ours_known;
	uint32_t orig_isn, our_isn, ts_orig0, ts_ours0;
};

struct adapt {
	struct aflow f[MAX_AFLOWS];
	int n;
	bool tcp;                       /* adapt TCP numbers */
	bool neigh;                     /* answer neighbour resolution for the input's peers */
	struct { struct ns_addr ip; uint8_t mac[6]; } peers[64];
	int npeers;
	struct nsr_frames answers;
	size_t answers_head;
	struct nsr_vstack *v;
};

static void learn_peer(struct adapt *a, const struct nsr_dec *d)
{
	const struct ns_addr *ip = d->l3 == NSR_L3_ARP ? &d->arp_spa : &d->src;
	const uint8_t *mac = d->l3 == NSR_L3_ARP ? d->arp_sha : d->src_mac;
	if (d->truncated || ip->family == 0 || ns_addr_is_any(ip) || a->npeers >= 64)
		return;
	for (int i = 0; i < a->npeers; i++)
		if (ns_addr_eq(&a->peers[i].ip, ip))
			return;
	a->peers[a->npeers].ip = *ip;
	memcpy(a->peers[a->npeers++].mac, mac, 6);
}

static void answer_neigh(struct adapt *a, const struct nsr_dec *d)
{
	struct ns_addr target;
	uint8_t f[86];
	if (!nsr_neigh_target(d, &target))
		return;
	for (int i = 0; i < a->npeers; i++) {
		if (!ns_addr_eq(&a->peers[i].ip, &target))
			continue;
		if (d->l3 == NSR_L3_ARP && nsr_arp_answer(d, a->peers[i].mac, f) == 0)
			nsr_frames_push(&a->answers, 0, f, 42);
		else if (d->l3 == NSR_L3_IPV6 && nsr_nd_answer(d, a->peers[i].mac, f) == 0)
			nsr_frames_push(&a->answers, 0, f, 86);
		return;
	}
}

static int pump_answers(void *ctx)
{
	struct adapt *a = ctx;
	int n = 0;
	while (a->answers_head < a->answers.n) {
		struct nsr_frame *f = &a->answers.v[a->answers_head++];
		nsr_vstack_inject(a->v, f->data, f->len);
		n++;
	}
	return n;
}

static struct aflow *aflow_get(struct adapt *a, const struct ns_addr *host, uint16_t hport,
			       const struct ns_addr *peer, uint16_t pport)
{
	for (int i = 0; i < a->n; i++) {
		struct aflow *f = &a->f[i];
		if (f->hport == hport && f->pport == pport && ns_addr_eq(&f->host, host) && ns_addr_eq(&f->peer, peer))
			return f;
	}
	if (a->n >= MAX_AFLOWS)
		return NULL;
	struct aflow *f = &a->f[a->n++];
	memset(f, 0, sizeof(*f));
	f->host = *host;
	f->peer = *peer;
	f->hport = hport;
	f->pport = pport;
	return f;
}

static void adapt_on_tx(void *ctx, uint64_t t, const uint8_t *fr, size_t len)
{
	(void)t;
	struct adapt *a = ctx;
	struct nsr_dec d;
	nsr_decode(fr, len, &d);
	if (a->neigh)
		answer_neigh(a, &d);
	if (!a->tcp || d.proto != NS_IPPROTO_TCP || !d.has_l4)
		return;
	struct aflow *f = aflow_get(a, &d.src, d.sport, &d.dst, d.dport);
	if (!f)
		return;
	if ((d.th_flags & NSR_TH_SYN) && !f->ours_known) {
		f->ours_known = true;
		f->our_isn = d.seq;
	}
	if (d.opt.has_ts && !f->ts_ours_known) {
		f->ts_ours_known = true;
		f->ts_ours0 = d.opt.ts_val;
	}
}

/* Rewrites a peer frame's ack / SACK blocks / TS ecr from the original stack's numbers to ours. */
static void adapt_peer(struct adapt *a, uint8_t *fr, size_t len)
{
	struct nsr_dec d;
	nsr_decode(fr, len, &d);
	if (d.proto != NS_IPPROTO_TCP || !d.has_l4 || d.truncated)
		return;
	struct aflow *f = aflow_get(a, &d.dst, d.dport, &d.src, d.sport);
	if (!f)
		return;
	if ((d.th_flags & NSR_TH_ACK) && !f->orig_known) {
		f->orig_known = true;
		f->orig_isn = d.ack - 1;
	}
	if (d.opt.has_ts && d.opt.ts_ecr && !f->ts_orig_known) {
		f->ts_orig_known = true;
		f->ts_orig0 = d.opt.ts_ecr;
	}
	uint8_t *th = fr + d.l4_off;
	bool changed = false;
	if (f->orig_known && f->ours_known && f->orig_isn != f->our_isn) {
		uint32_t off = f->our_isn - f->orig_isn;
		if (d.th_flags & NSR_TH_ACK)
			ns_store_be32(th + 8, d.ack + off);
		if (d.opt.sack_off >= 0)
			for (int b = 0; b < d.opt.nsack; b++) {
				uint8_t *sb = th + 20 + d.opt.sack_off + 8 * b;
				ns_store_be32(sb, ns_load_be32(sb) + off);
				ns_store_be32(sb + 4, ns_load_be32(sb + 4) + off);
			}
		changed = true;
	}
	if (d.opt.ts_off >= 0 && d.opt.ts_ecr && f->ts_orig_known && f->ts_ours_known) {
		ns_store_be32(th + 20 + d.opt.ts_off + 4, d.opt.ts_ecr - f->ts_orig0 + f->ts_ours0);
		changed = true;
	}
	if (changed)
		nsr_fix_checksums(fr, len);
}

int nsr_replay_run_opts(const struct nsr_config *cfg, uint64_t seed, const struct nsr_frames *in,
			bool adapt_tcp, struct nsr_frames *got, struct nsr_frames *injected,
			char *err, size_t errlen)
{
	uint64_t t0 = in->n ? in->v[0].t_ns : 1000000000000ull;
	uint64_t start = t0 > cfg->settle_ns ? t0 - cfg->settle_ns : 0;
	struct nsr_vstack *v;
	if (nsr_vstack_create(cfg, seed, start, &v, err, errlen) < 0)
		return -1;
	struct adapt *a = calloc(1, sizeof(*a));
	if (!a) {
		nsr_vstack_destroy(v);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	a->tcp = adapt_tcp;
	a->neigh = cfg->answer_neigh;
	a->v = v;
	if (adapt_tcp || a->neigh) {
		v->on_tx = adapt_on_tx;
		v->on_tx_ctx = a;
	}
	if (a->neigh) {
		nsr_vstack_set_pump(v, pump_answers, a);
		for (size_t i = 0; i < in->n; i++) {
			struct nsr_dec d;
			if (in->v[i].len >= 12 && memcmp(in->v[i].data + 6, cfg->mac, 6) == 0)
				continue;
			nsr_decode(in->v[i].data, in->v[i].len, &d);
			if (d.l3 == NSR_L3_ARP || d.l3 == NSR_L3_IPV4 || d.l3 == NSR_L3_IPV6)
				learn_peer(a, &d);
		}
	}
	if (nsr_vstack_start_services(v, t0, err, errlen) < 0) {
		nsr_vstack_destroy(v);
		free(a);
		return -1;
	}
	nsr_vstack_run_now(v);
	uint8_t *buf = NULL;
	for (size_t i = 0; i < in->n; i++) {
		const struct nsr_frame *fr = &in->v[i];
		if (fr->len >= 12 && memcmp(fr->data + 6, cfg->mac, 6) == 0)
			continue;               /* the original stack's own frame */
		uint64_t t = fr->t_ns;
		if (t < v->vc.now)
			t = v->vc.now;           /* out-of-order timestamps: keep the clock monotonic */
		nsr_vstack_advance(v, t);
		uint8_t *nb = realloc(buf, fr->len ? fr->len : 1);
		if (!nb)
			break;
		buf = nb;
		memcpy(buf, fr->data, fr->len);
		if (adapt_tcp)
			adapt_peer(a, buf, fr->len);
		if (injected)
			nsr_frames_push(injected, v->vc.now, buf, fr->len);
		nsr_vstack_inject(v, buf, fr->len);
	}
	free(buf);
	/* let what the last frame started finish (retransmissions, delayed ACKs,
	 * timeouts) for a bounded time (config "tail", default 5 s) */
	nsr_vstack_advance(v, v->vc.now + cfg->tail_ns);
	*got = v->out;
	memset(&v->out, 0, sizeof(v->out));
	nsr_vstack_destroy(v);
	nsr_frames_free(&a->answers);
	free(a);
	return 0;
}

int nsr_replay_run(const struct nsr_config *cfg, uint64_t seed, const struct nsr_frames *in,
		   struct nsr_frames *got, char *err, size_t errlen)
{
	return nsr_replay_run_opts(cfg, seed, in, true, got, NULL, err, errlen);
}
