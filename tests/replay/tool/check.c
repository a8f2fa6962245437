/*
 * tests/replay/tool/check.c - capture comparison (see check.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "netstack/core.h"
#include "check.h"

bool nsr_cmp_ts_values = true;

static struct nsr_rel_dir *rel_find(struct nsr_rel *r, const struct ns_addr *s, const struct ns_addr *d,
				    uint16_t sp, uint16_t dp)
{
	for (int i = 0; i < r->n; i++) {
		struct nsr_rel_dir *x = &r->d[i];
		if (x->sport == sp && x->dport == dp && ns_addr_eq(&x->src, s) && ns_addr_eq(&x->dst, d))
			return x;
	}
	return NULL;
}

void nsr_rel_observe(struct nsr_rel *r, const struct nsr_dec *d, struct nsr_relvals *o)
{
	memset(o, 0, sizeof(*o));
	if (d->proto != NS_IPPROTO_TCP || !d->has_l4 || d->truncated)
		return;
	o->tcp = true;
	struct nsr_rel_dir *me = rel_find(r, &d->src, &d->dst, d->sport, d->dport);
	if (!me || (d->th_flags & NSR_TH_SYN)) {
		if (!me && r->n < NSR_REL_MAX) {
			me = &r->d[r->n++];
			memset(me, 0, sizeof(*me));
			me->src = d->src;
			me->dst = d->dst;
			me->sport = d->sport;
			me->dport = d->dport;
		}
		if (me && (d->th_flags & NSR_TH_SYN || me->isn == 0))
			me->isn = d->seq;
	}
	if (me && d->opt.has_ts && !me->has_ts) {
		me->has_ts = true;
		me->ts0 = d->opt.ts_val;
	}
	struct nsr_rel_dir *peer = rel_find(r, &d->dst, &d->src, d->dport, d->sport);
	o->seq = me ? d->seq - me->isn : d->seq;
	o->ack = peer ? d->ack - peer->isn : d->ack;
	for (int i = 0; i < d->opt.nsack; i++) {
		o->sack[i][0] = peer ? d->opt.sack[i][0] - peer->isn : d->opt.sack[i][0];
		o->sack[i][1] = peer ? d->opt.sack[i][1] - peer->isn : d->opt.sack[i][1];
	}
	if (d->opt.has_ts) {
		o->ts = true;
		o->tsval = me && me->has_ts ? d->opt.ts_val - me->ts0 : d->opt.ts_val;
		o->tsecr = peer && peer->has_ts && d->opt.ts_ecr ? d->opt.ts_ecr - peer->ts0 : d->opt.ts_ecr;
	}
}

const char *nsr_format_relv(const struct nsr_dec *d, const struct nsr_relvals *rv, char *buf, size_t len)
{
	return nsr_format_rel(d, rv && rv->tcp, rv ? rv->seq : 0, rv ? rv->ack : 0,
			      rv && rv->ts, rv ? rv->tsval : 0, rv ? rv->tsecr : 0, buf, len);
}

struct why {
	char *buf;
	size_t len, pos;
	int n;
};

static void add(struct why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct why *w, const char *fmt, ...)
{
	w->n++;
	if (w->pos + 1 >= w->len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(w->buf + w->pos, w->len - w->pos, fmt, ap);
	va_end(ap);
	if (r > 0)
		w->pos = NS_MIN(w->len - 1, w->pos + (size_t)r);
}

#define CMPU(name, a, b) do { if ((a) != (b)) add(w, "%s: expected %llu, got %llu; ", name, \
	(unsigned long long)(a), (unsigned long long)(b)); } while (0)

static void cmp_addr(struct why *w, const char *name, const struct ns_addr *a, const struct ns_addr *b)
{
	if (!ns_addr_eq(a, b)) {
		char x[64], y[64];
		add(w, "%s: expected %s, got %s; ", name, ns_addr_fmt(a, x, sizeof(x)), ns_addr_fmt(b, y, sizeof(y)));
	}
}

static void cmp_bytes(struct why *w, const char *name, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	if (an != bn) {
		add(w, "%s length: expected %zu, got %zu; ", name, an, bn);
		return;
	}
	for (size_t i = 0; i < an; i++) {
		if (a[i] != b[i]) {
			add(w, "%s differs at byte %zu (expected 0x%02x, got 0x%02x); ", name, i, a[i], b[i]);
			return;
		}
	}
}

/* Options compared kind by kind, TS values through the relative mapping. */
static void cmp_opts(struct why *w, const struct nsr_dec *e, const struct nsr_relvals *re,
		     const struct nsr_dec *g, const struct nsr_relvals *rg)
{
	const struct nsr_tcpopts *a = &e->opt, *b = &g->opt;
	char ka[128] = "", kb[128] = "";
	size_t pa = 0, pb = 0;
	for (size_t i = 0; i < e->optlen && pa + 4 < sizeof(ka);) {
		uint8_t k = e->opts[i];
		pa += (size_t)snprintf(ka + pa, sizeof(ka) - pa, "%u,", k);
		if (k <= 1) { i++; if (k == 0) break; continue; }
		if (i + 1 >= e->optlen || e->opts[i + 1] < 2) break;
		i += e->opts[i + 1];
	}
	for (size_t i = 0; i < g->optlen && pb + 4 < sizeof(kb);) {
		uint8_t k = g->opts[i];
		pb += (size_t)snprintf(kb + pb, sizeof(kb) - pb, "%u,", k);
		if (k <= 1) { i++; if (k == 0) break; continue; }
		if (i + 1 >= g->optlen || g->opts[i + 1] < 2) break;
		i += g->opts[i + 1];
	}
	if (strcmp(ka, kb) != 0) {
		char x[256], y[256];
		struct nsr_dec e2 = *e, g2 = *g;
		e2.plen = g2.plen = 0;
		nsr_format_relv(&e2, re, x, sizeof(x));
		nsr_format_relv(&g2, rg, y, sizeof(y));
		const char *ox = strstr(x, "options ["), *oy = strstr(y, "options [");
		add(w, "options: expected %s, got %s; ", ox ? ox + 8 : "[]", oy ? oy + 8 : "[]");
		return;
	}
	if (a->has_mss) CMPU("mss", a->mss, b->mss);
	if (a->has_ws) CMPU("wscale", a->ws, b->ws);
	if (a->has_ts && nsr_cmp_ts_values) {
		CMPU("TS val (relative)", re->tsval, rg->tsval);
		CMPU("TS ecr (relative)", re->tsecr, rg->tsecr);
	}
	CMPU("sack blocks", a->nsack, b->nsack);
	for (int i = 0; i < a->nsack && i < b->nsack; i++) {
		CMPU("sack left (relative)", re->sack[i][0], rg->sack[i][0]);
		CMPU("sack right (relative)", re->sack[i][1], rg->sack[i][1]);
	}
}

static bool is_icmp_error(const struct nsr_dec *d)
{
	if (d->proto == NS_IPPROTO_ICMP)
		return d->icmp_type == 3 || d->icmp_type == 4 || d->icmp_type == 5 || d->icmp_type == 11 ||
		       d->icmp_type == 12;
	return d->icmp_type >= 1 && d->icmp_type <= 4;
}

/* The datagram an ICMP error quotes: its IP ID and checksums do not count
 * (a capture on a host with checksum offload quotes partial checksums). */
static void mask_quoted(uint8_t *q, size_t n)
{
	size_t l4 = 0;
	uint8_t proto = 0;
	if (n >= 20 && (q[0] >> 4) == 4) {
		memset(q + 4, 0, 2);
		memset(q + 10, 0, 2);
		l4 = (size_t)(q[0] & 15) * 4;
		proto = q[9];
	} else if (n >= 40 && (q[0] >> 4) == 6) {
		l4 = 40;
		proto = q[6];
	} else {
		return;
	}
	size_t off = proto == NS_IPPROTO_TCP ? 16 : proto == NS_IPPROTO_UDP ? 6 :
		     (proto == NS_IPPROTO_ICMP || proto == NS_IPPROTO_ICMPV6) ? 2 : (size_t)-1;
	if (off != (size_t)-1 && l4 + off + 2 <= n)
		memset(q + l4 + off, 0, 2);
}

int nsr_cmp_frames(const struct nsr_dec *e, const struct nsr_relvals *re,
		   const struct nsr_dec *g, const struct nsr_relvals *rg, char *buf, size_t len)
{
	struct why wv = { .buf = buf, .len = len }, *w = &wv;
	if (len)
		buf[0] = 0;
	if (memcmp(e->dst_mac, g->dst_mac, 6)) add(w, "ethernet destination differs; ");
	if (memcmp(e->src_mac, g->src_mac, 6)) add(w, "ethernet source differs; ");
	CMPU("ethertype", e->ethertype, g->ethertype);
	if (w->n)
		return w->n;
	if (e->l3 == NSR_L3_ARP) {
		CMPU("arp op", e->arp_op, g->arp_op);
		if (memcmp(e->arp_sha, g->arp_sha, 6)) add(w, "arp sender MAC differs; ");
		if (memcmp(e->arp_tha, g->arp_tha, 6)) add(w, "arp target MAC differs; ");
		cmp_addr(w, "arp sender IP", &e->arp_spa, &g->arp_spa);
		cmp_addr(w, "arp target IP", &e->arp_tpa, &g->arp_tpa);
		return w->n;
	}
	if (e->l3 != NSR_L3_IPV4 && e->l3 != NSR_L3_IPV6) {
		cmp_bytes(w, "frame", e->frame, e->len, g->frame, g->len);
		return w->n;
	}
	cmp_addr(w, "ip src", &e->src, &g->src);
	cmp_addr(w, "ip dst", &e->dst, &g->dst);
	CMPU("ip proto", e->proto, g->proto);
	CMPU("ttl", e->ttl, g->ttl);
	CMPU("tos", e->tos, g->tos);
	CMPU("DF", e->df, g->df);
	CMPU("MF", e->mf, g->mf);
	CMPU("fragment offset", e->frag_off, g->frag_off);
	CMPU("ip length", e->ip_len, g->ip_len);
	if (w->n || e->is_frag) {
		if (!w->n)
			cmp_bytes(w, "fragment payload", e->payload, e->plen, g->payload, g->plen);
		return w->n;
	}
	if (e->proto == NS_IPPROTO_TCP && e->has_l4 && g->has_l4) {
		CMPU("sport", e->sport, g->sport);
		CMPU("dport", e->dport, g->dport);
		if (e->th_flags != g->th_flags) {
			char x[12], y[12];
			add(w, "flags: expected [%s], got [%s]; ", nsr_flags_str(e->th_flags, x),
			    nsr_flags_str(g->th_flags, y));
		}
		CMPU("seq (relative)", re->seq, rg->seq);
		if (e->th_flags & g->th_flags & NSR_TH_ACK)
			CMPU("ack (relative)", re->ack, rg->ack);
		CMPU("win", e->win, g->win);
		CMPU("urg", e->urg, g->urg);
		cmp_opts(w, e, re, g, rg);
		CMPU("payload length", e->plen, g->plen);
		if (e->plen == g->plen)
			cmp_bytes(w, "payload", e->payload, e->plen, g->payload, g->plen);
		return w->n;
	}
	if (e->proto == NS_IPPROTO_UDP && e->has_l4 && g->has_l4) {
		CMPU("sport", e->sport, g->sport);
		CMPU("dport", e->dport, g->dport);
		cmp_bytes(w, "payload", e->payload, e->plen, g->payload, g->plen);
		return w->n;
	}
	if ((e->proto == NS_IPPROTO_ICMP || e->proto == NS_IPPROTO_ICMPV6) && e->has_l4 && g->has_l4) {
		CMPU("icmp type", e->icmp_type, g->icmp_type);
		CMPU("icmp code", e->icmp_code, g->icmp_code);
		CMPU("icmp header word", e->icmp_rest, g->icmp_rest);
		if (e->plen != g->plen || e->plen > 65536) {
			cmp_bytes(w, "icmp payload", e->payload, e->plen, g->payload, g->plen);
			return w->n;
		}
		uint8_t *a = malloc(e->plen + 1), *b = malloc(g->plen + 1);
		if (a && b) {
			memcpy(a, e->payload, e->plen);
			memcpy(b, g->payload, g->plen);
			if (is_icmp_error(e)) {
				mask_quoted(a, e->plen);
				mask_quoted(b, g->plen);
			}
			cmp_bytes(w, "icmp payload", a, e->plen, b, g->plen);
		}
		free(a);
		free(b);
		return w->n;
	}
	cmp_bytes(w, "ip payload", e->payload, e->plen, g->payload, g->plen);
	return w->n;
}

static void print_pair(FILE *out, const struct nsr_frames *f, size_t i, const struct nsr_dec *d,
		       const struct nsr_relvals *rv, uint64_t t0, const char *tag)
{
	char line[512];
	if (i < f->n)
		fprintf(out, "  %-8s #%zu %+11.6f %s\n", tag, i + 1, ((double)(int64_t)(f->v[i].t_ns - t0)) / 1e9,
			nsr_format_relv(d, rv, line, sizeof(line)));
	else
		fprintf(out, "  %-8s (none)\n", tag);
}

/* Times count from the first IP frame that is not neighbour discovery (what a
 * stack does at start-up, before the traffic, does not shift the comparison). */
static uint64_t time_base(const struct nsr_frames *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct nsr_dec d;
		nsr_decode(f->v[i].data, f->v[i].len, &d);
		if ((d.l3 == NSR_L3_IPV4 || d.l3 == NSR_L3_IPV6) &&
		    !(d.proto == NS_IPPROTO_ICMPV6 && d.has_l4 && d.icmp_type >= 130 && d.icmp_type <= 143))
			return f->v[i].t_ns;
	}
	return f->n ? f->v[0].t_ns : 0;
}

int nsr_check(const struct nsr_frames *exp, const struct nsr_frames *got,
	      const struct nsr_check_opts *o, FILE *out)
{
	static struct nsr_rel re, rg;
	memset(&re, 0, sizeof(re));
	memset(&rg, 0, sizeof(rg));
	uint64_t te0 = time_base(exp), tg0 = time_base(got);
	size_t n = NS_MAX(exp->n, got->n);
	for (size_t i = 0; i < n; i++) {
		struct nsr_dec de, dg;
		struct nsr_relvals ve, vg;
		memset(&de, 0, sizeof(de));
		memset(&dg, 0, sizeof(dg));
		memset(&ve, 0, sizeof(ve));
		memset(&vg, 0, sizeof(vg));
		if (i < exp->n) {
			nsr_decode(exp->v[i].data, exp->v[i].len, &de);
			nsr_rel_observe(&re, &de, &ve);
		}
		if (i < got->n) {
			nsr_decode(got->v[i].data, got->v[i].len, &dg);
			nsr_rel_observe(&rg, &dg, &vg);
		}
		char why[1024] = "";
		if (i >= exp->n)
			snprintf(why, sizeof(why), "unexpected extra packet (expected %zu packets)", exp->n);
		else if (i >= got->n)
			snprintf(why, sizeof(why), "missing packet (got only %zu packets)", got->n);
		else if (nsr_cmp_frames(&de, &ve, &dg, &vg, why, sizeof(why)) == 0) {
			int64_t a = (int64_t)(exp->v[i].t_ns - te0), b = (int64_t)(got->v[i].t_ns - tg0);
			uint64_t diff = (uint64_t)(a > b ? a - b : b - a);
			if (diff <= o->tol_ns || a < 0 || b < 0)
				continue;       /* start-up chatter before the traffic: its timing is the launcher's */
			snprintf(why, sizeof(why), "time: expected %+.6f s, got %+.6f s (tolerance %.3f ms)",
				 (double)a / 1e9, (double)b / 1e9, (double)o->tol_ns / 1e6);
		}
		fprintf(out, "DIVERGENCE at packet #%zu: %s\n", i + 1, why);
		print_pair(out, exp, i, &de, &ve, te0, "expected");
		print_pair(out, got, i, &dg, &vg, tg0, "got");
		return 1;
	}
	fprintf(out, "OK: %zu packets match\n", n);
	return 0;
}
