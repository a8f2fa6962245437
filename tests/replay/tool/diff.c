/*
 * tests/replay/tool/diff.c - differential replay against Linux (see
 * replay.h): peer frames of a Linux capture are injected with their
 * original timing, TCP ack/SACK/TS ecr adapted on the fly from Linux's ISN
 * and TSval to the ones our stack chose (as packetdrill does), and our
 * responses are compared flow by flow with Linux's.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "netstack/core.h"
#include "check.h"
#include "neigh.h"
#include "replay.h"
#include "vstack.h"

#define MAX_FLOWS 256

/* A TCP connection seen from the host: host side (local) and peer side. */
struct dflow {
	struct ns_addr host, peer;
	uint16_t hport, pport;
	bool lin_isn_known, our_isn_known, lin_ts_known, our_ts_known;
	uint32_t lin_isn, our_isn, lin_ts0, our_ts0;
};

struct dstate {
	struct dflow f[MAX_FLOWS];
	int nf;
	struct { struct ns_addr ip; uint8_t mac[6]; } peers[64];   /* the capture's peer addresses */
	int npeers;
	struct nsr_frames answers;      /* ARP / ND answers waiting to be injected */
	size_t answers_head;
	struct nsr_vstack *v;
	bool compare_neigh;
	struct nsr_frames all;          /* injected (rewritten) + our frames, in order */
	struct nsr_frames mine;         /* our frames only */
	uint8_t host_mac[6];
};

static struct dflow *flow_get(struct dstate *s, const struct ns_addr *host, uint16_t hport,
			      const struct ns_addr *peer, uint16_t pport, bool create)
{
	for (int i = 0; i < s->nf; i++) {
		struct dflow *f = &s->f[i];
		if (f->hport == hport && f->pport == pport && ns_addr_eq(&f->host, host) && ns_addr_eq(&f->peer, peer))
			return f;
	}
	if (!create || s->nf >= MAX_FLOWS)
		return NULL;
	struct dflow *f = &s->f[s->nf++];
	memset(f, 0, sizeof(*f));
	f->host = *host;
	f->peer = *peer;
	f->hport = hport;
	f->pport = pport;
	return f;
}

static bool is_host_frame(const struct dstate *s, const uint8_t *fr, size_t len)
{
	return len >= 14 && memcmp(fr + 6, s->host_mac, 6) == 0;
}

/* Learns Linux's ISN and first TSval per flow from the capture's host frames. */
static void learn_peer(struct dstate *s, const struct ns_addr *ip, const uint8_t mac[6]);

static void learn_linux(struct dstate *s, const struct nsr_frames *cap)
{
	for (size_t i = 0; i < cap->n; i++) {
		struct nsr_dec d;
		nsr_decode(cap->v[i].data, cap->v[i].len, &d);
		if (!is_host_frame(s, cap->v[i].data, cap->v[i].len)) {
			if (d.l3 == NSR_L3_ARP && !d.truncated)
				learn_peer(s, &d.arp_spa, d.arp_sha);
			else if (d.l3 == NSR_L3_IPV4 || d.l3 == NSR_L3_IPV6)
				learn_peer(s, &d.src, d.src_mac);
			continue;
		}
		if (d.proto != NS_IPPROTO_TCP || !d.has_l4)
			continue;
		struct dflow *f = flow_get(s, &d.src, d.sport, &d.dst, d.dport, true);
		if (!f)
			continue;
		if (!f->lin_isn_known && (d.th_flags & NSR_TH_SYN)) {
			f->lin_isn_known = true;
			f->lin_isn = d.seq;
		}
		if (!f->lin_ts_known && d.opt.has_ts) {
			f->lin_ts_known = true;
			f->lin_ts0 = d.opt.ts_val;
		}
	}
}

static void learn_peer(struct dstate *s, const struct ns_addr *ip, const uint8_t mac[6])
{
	if (ip->family == 0 || ns_addr_is_any(ip))
		return;
	for (int i = 0; i < s->npeers; i++)
		if (ns_addr_eq(&s->peers[i].ip, ip))
			return;
	if (s->npeers >= 64)
		return;
	s->peers[s->npeers].ip = *ip;
	memcpy(s->peers[s->npeers].mac, mac, 6);
	s->npeers++;
}

static const uint8_t *peer_mac(const struct dstate *s, const struct ns_addr *ip)
{
	for (int i = 0; i < s->npeers; i++)
		if (ns_addr_eq(&s->peers[i].ip, ip))
			return s->peers[i].mac;
	return NULL;
}

/* Our stack resolves a peer the capture knows: the peer answers (its cache state
 * on the Linux host is not something a fresh stack can share). */
static void answer_neigh(struct dstate *s, const struct nsr_dec *d)
{
	struct ns_addr target;
	if (!nsr_neigh_target(d, &target))
		return;
	const uint8_t *mac = peer_mac(s, &target);
	uint8_t f[86];
	if (!mac)
		return;
	if (d->l3 == NSR_L3_ARP && nsr_arp_answer(d, mac, f) == 0)
		nsr_frames_push(&s->answers, 0, f, 42);
	else if (d->l3 == NSR_L3_IPV6 && nsr_nd_answer(d, mac, f) == 0)
		nsr_frames_push(&s->answers, 0, f, 86);
}

static int pump_answers(void *ctx)
{
	struct dstate *s = ctx;
	int n = 0;
	while (s->answers_head < s->answers.n) {
		struct nsr_frame *f = &s->answers.v[s->answers_head++];
		nsr_vstack_inject(s->v, f->data, f->len);
		n++;
	}
	return n;
}

static bool is_neigh(const struct nsr_dec *d)
{
	return d->l3 == NSR_L3_ARP ||
	       (d->l3 == NSR_L3_IPV6 && d->proto == NS_IPPROTO_ICMPV6 && d->has_l4 &&
		((d->icmp_type >= 133 && d->icmp_type <= 137) || (d->icmp_type >= 130 && d->icmp_type <= 132) ||
		 d->icmp_type == 143));
}

static void on_tx(void *ctx, uint64_t t, const uint8_t *fr, size_t len)
{
	struct dstate *s = ctx;
	nsr_frames_push(&s->all, t, fr, len);
	nsr_frames_push(&s->mine, t, fr, len);
	struct nsr_dec d;
	nsr_decode(fr, len, &d);
	answer_neigh(s, &d);
	if (d.proto != NS_IPPROTO_TCP || !d.has_l4)
		return;
	struct dflow *f = flow_get(s, &d.src, d.sport, &d.dst, d.dport, true);
	if (!f)
		return;
	if (!f->our_isn_known && (d.th_flags & NSR_TH_SYN)) {
		f->our_isn_known = true;
		f->our_isn = d.seq;
	}
	if (!f->our_ts_known && d.opt.has_ts) {
		f->our_ts_known = true;
		f->our_ts0 = d.opt.ts_val;
	}
}

/* Rewrites a peer frame's ack, SACK blocks and TS ecr into our number space. */
static void rewrite_peer(struct dstate *s, uint8_t *fr, size_t len, bool fix)
{
	if (fix)
		nsr_fix_checksums(fr, len);
	struct nsr_dec d;
	nsr_decode(fr, len, &d);
	if (d.proto != NS_IPPROTO_TCP || !d.has_l4 || d.truncated)
		return;
	struct dflow *f = flow_get(s, &d.dst, d.dport, &d.src, d.sport, false);
	if (!f)
		return;
	uint8_t *th = fr + d.l4_off;
	bool changed = false;
	if (f->lin_isn_known && f->our_isn_known) {
		uint32_t off = f->our_isn - f->lin_isn;
		if (d.th_flags & NSR_TH_ACK) {
			ns_store_be32(th + 8, d.ack + off);
			changed = true;
		}
		if (d.opt.sack_off >= 0) {
			uint8_t *sb = th + 20 + d.opt.sack_off;
			for (int b = 0; b < d.opt.nsack; b++) {
				ns_store_be32(sb + 8 * b, ns_load_be32(sb + 8 * b) + off);
				ns_store_be32(sb + 8 * b + 4, ns_load_be32(sb + 8 * b + 4) + off);
			}
			changed = true;
		}
	}
	if (d.opt.ts_off >= 0 && d.opt.ts_ecr && f->lin_ts_known && f->our_ts_known) {
		ns_store_be32(th + 20 + d.opt.ts_off + 4, d.opt.ts_ecr - f->lin_ts0 + f->our_ts0);
		changed = true;
	}
	if (changed)
		nsr_fix_checksums(fr, len);
}

/* One side's host frames bucketed by conversation, with relative values. */
struct bucket_pkt {
	size_t idx;
	uint64_t t;
	struct nsr_dec d;
	struct nsr_relvals rv;
};
struct bucket {
	char key[160];
	struct bucket_pkt *p;
	size_t n, cap;
};
struct buckets {
	struct bucket b[MAX_FLOWS];
	int n;
};

static void bucket_key(const struct nsr_dec *d, char *k, size_t len)
{
	char a[64], b[64];
	if (d->l3 == NSR_L3_IPV4 || d->l3 == NSR_L3_IPV6)
		snprintf(k, len, "%s %s.%u > %s.%u", d->proto == NS_IPPROTO_TCP ? "tcp" : d->proto == NS_IPPROTO_UDP ? "udp" :
			 d->proto == NS_IPPROTO_ICMP ? "icmp" : d->proto == NS_IPPROTO_ICMPV6 ? "icmp6" : "ip",
			 ns_addr_fmt(&d->src, a, sizeof(a)), d->sport, ns_addr_fmt(&d->dst, b, sizeof(b)), d->dport);
	else if (d->l3 == NSR_L3_ARP)
		snprintf(k, len, "arp");
	else
		snprintf(k, len, "ethertype 0x%04x", d->ethertype);
}

static void bucket_add(struct buckets *bs, size_t idx, uint64_t t, const struct nsr_dec *d, const struct nsr_relvals *rv)
{
	char k[160];
	bucket_key(d, k, sizeof(k));
	struct bucket *b = NULL;
	for (int i = 0; i < bs->n; i++)
		if (!strcmp(bs->b[i].key, k))
			b = &bs->b[i];
	if (!b) {
		if (bs->n >= MAX_FLOWS)
			return;
		b = &bs->b[bs->n++];
		memset(b, 0, sizeof(*b));
		snprintf(b->key, sizeof(b->key), "%s", k);
	}
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 32;
		struct bucket_pkt *np = realloc(b->p, nc * sizeof(*np));
		if (!np)
			return;
		b->p = np;
		b->cap = nc;
	}
	b->p[b->n++] = (struct bucket_pkt){ .idx = idx, .t = t, .d = *d, .rv = *rv };
}

static void buckets_free(struct buckets *bs)
{
	for (int i = 0; i < bs->n; i++)
		free(bs->b[i].p);
}

static void fill_buckets(const struct dstate *s, const struct nsr_frames *all, struct buckets *bs)
{
	static struct nsr_rel rel;
	memset(&rel, 0, sizeof(rel));
	for (size_t i = 0; i < all->n; i++) {
		struct nsr_dec d;
		struct nsr_relvals rv;
		nsr_decode(all->v[i].data, all->v[i].len, &d);
		nsr_rel_observe(&rel, &d, &rv);
		/* injected frames are the peer's: only the host's (Linux's or ours) are compared,
		 * neighbour discovery only on request */
		if (is_host_frame(s, all->v[i].data, all->v[i].len) && (s->compare_neigh || !is_neigh(&d)))
			bucket_add(bs, i, all->v[i].t_ns, &d, &rv);
	}
}

static int compare_buckets(const struct buckets *lin, const struct buckets *our, const struct nsr_diff_opts *o, FILE *out)
{
	int ndiff = 0;
	for (int i = 0; i < lin->n; i++) {
		const struct bucket *a = &lin->b[i], *b = NULL;
		for (int j = 0; j < our->n; j++)
			if (!strcmp(our->b[j].key, a->key))
				b = &our->b[j];
		size_t bn = b ? b->n : 0, n = NS_MAX(a->n, bn);
		int shown = 0, fdiff = 0;
		for (size_t k = 0; k < n; k++) {
			char why[1024] = "", l1[512], l2[512];
			if (k >= a->n)
				snprintf(why, sizeof(why), "extra packet from our stack");
			else if (k >= bn)
				snprintf(why, sizeof(why), "our stack did not send this packet");
			else if (!nsr_cmp_frames(&a->p[k].d, &a->p[k].rv, &b->p[k].d, &b->p[k].rv, why, sizeof(why))) {
				uint64_t ta = a->p[k].t, tb = b->p[k].t, dt = ta > tb ? ta - tb : tb - ta;
				if (!o->tol_ns || dt <= o->tol_ns)
					continue;
				snprintf(why, sizeof(why), "time differs by %.3f ms", (double)dt / 1e6);
			}
			fdiff++;
			if (shown++ < 10 || o->verbose) {
				fprintf(out, "  [%s] packet %zu: %s\n", a->key, k + 1, why);
				fprintf(out, "      linux: %s\n", k < a->n ? nsr_format_relv(&a->p[k].d, &a->p[k].rv, l1, sizeof(l1)) : "(none)");
				fprintf(out, "      ours:  %s\n", k < bn ? nsr_format_relv(&b->p[k].d, &b->p[k].rv, l2, sizeof(l2)) : "(none)");
			}
		}
		fprintf(out, "flow %s: linux sent %zu, ours %zu, %d differ\n", a->key, a->n, bn, fdiff);
		ndiff += fdiff;
	}
	for (int j = 0; j < our->n; j++) {
		bool found = false;
		for (int i = 0; i < lin->n; i++)
			found |= !strcmp(our->b[j].key, lin->b[i].key);
		if (!found) {
			char l2[512];
			fprintf(out, "flow %s: linux sent 0, ours %zu (extra)\n", our->b[j].key, our->b[j].n);
			fprintf(out, "      ours:  %s\n", nsr_format_relv(&our->b[j].p[0].d, &our->b[j].p[0].rv, l2, sizeof(l2)));
			ndiff += (int)our->b[j].n;
		}
	}
	return ndiff;
}

int nsr_diff_run(const struct nsr_config *cfg, uint64_t seed, const struct nsr_frames *cap,
		 const struct nsr_diff_opts *o, struct nsr_frames *ours, FILE *out, char *err, size_t errlen)
{
	struct dstate *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(s->host_mac, o->host_mac, 6);
	nsr_cmp_ts_values = o->tol_ns != 0;
	s->compare_neigh = o->compare_neigh;
	learn_linux(s, cap);
	uint64_t t0 = cap->n ? cap->v[0].t_ns : 1000000000000ull;
	struct nsr_vstack *v;
	if (nsr_vstack_create(cfg, seed, t0 > cfg->settle_ns ? t0 - cfg->settle_ns : 0, &v, err, errlen) < 0) {
		free(s);
		return -1;
	}
	v->record = false;
	s->v = v;
	nsr_vstack_set_pump(v, pump_answers, s);
	if (nsr_vstack_start_services(v, t0, err, errlen) < 0) {
		nsr_vstack_destroy(v);
		free(s);
		return -1;
	}
	nsr_vstack_run_now(v);
	/* frames sent while settling (DAD, gratuitous ARP) are not part of the comparison */
	v->on_tx = on_tx;
	v->on_tx_ctx = s;
	size_t injected = 0;
	for (size_t i = 0; i < cap->n; i++) {
		if (is_host_frame(s, cap->v[i].data, cap->v[i].len))
			continue;
		uint64_t t = NS_MAX(cap->v[i].t_ns, v->vc.now);
		nsr_vstack_advance(v, t);
		uint8_t *fr = malloc(cap->v[i].len ? cap->v[i].len : 1);
		if (!fr)
			break;
		memcpy(fr, cap->v[i].data, cap->v[i].len);
		rewrite_peer(s, fr, cap->v[i].len, !o->keep_checksums);
		nsr_frames_push(&s->all, v->vc.now, fr, cap->v[i].len);
		nsr_vstack_inject(v, fr, cap->v[i].len);
		free(fr);
		injected++;
	}
	uint64_t tend = cap->n ? cap->v[cap->n - 1].t_ns : v->vc.now;
	nsr_vstack_advance(v, NS_MAX(tend, v->vc.now) + (o->tol_ns ? o->tol_ns : 1000000));
	nsr_vstack_destroy(v);
	nsr_frames_free(&s->answers);

	struct buckets *bl = calloc(1, sizeof(*bl)), *bo = calloc(1, sizeof(*bo));
	int nd = -1;
	if (bl && bo) {
		fill_buckets(s, cap, bl);
		fill_buckets(s, &s->all, bo);
		fprintf(out, "differential replay: %zu peer frames injected; linux sent %zu frames, ours %zu%s\n",
			injected, cap->n - injected, s->mine.n,
			s->compare_neigh ? "" : " (ARP/ND/MLD not compared: --compare-neigh)");
		nd = compare_buckets(bl, bo, o, out);
		fprintf(out, "%s: %d packets differ\n", nd ? "DIFFERENT" : "SAME", nd);
		buckets_free(bl);
		buckets_free(bo);
	} else {
		snprintf(err, errlen, "out of memory");
	}
	free(bl);
	free(bo);
	*ours = s->mine;
	nsr_frames_free(&s->all);
	free(s);
	return nd;
}
