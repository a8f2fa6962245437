/*
 * tests/replay/tool/script_run.c - the packet-script runner: a stack on a
 * virtual clock, the statement loop with packetdrill's timing rules
 * (relative times count from the previous event; blocking calls run while
 * later events happen), injected packets with the remote sequence space
 * kept and our ISN / TSval mapped, expected packets checked field by field
 * (TSO-like aggregation of consecutive segments as packetdrill does),
 * automatic ARP/NDP answers for the simulated peer.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "neigh.h"
#include "script_int.h"

static const uint8_t LOCAL_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t PEER_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

/* ---- results ----------------------------------------------------------------------- */

static char *vfmt(const char *fmt, va_list ap)
{
	char *s = malloc(4096);
	if (s)
		vsnprintf(s, 4096, fmt, ap);
	return s;
}

void nsr_r_fail(struct nsr_runner *r, const char *fmt, ...)
{
	if (r->failed || r->skipped_script)
		return;
	r->failed = true;
	va_list ap;
	va_start(ap, fmt);
	char *m = vfmt(fmt, ap);
	va_end(ap);
	char *full = malloc(5000);
	char text[300] = "";
	if (r->cur && r->cur->text) {
		snprintf(text, sizeof(text), "%s", r->cur->text);
		for (char *q = text; *q; q++)
			if (*q == '\n' || *q == '\t')
				*q = ' ';           /* a statement spanning lines, on one line */
	}
	if (full && m)
		snprintf(full, 5000, "line %d: %s: %s", r->cur ? r->cur->line : 0, text, m);
	free(m);
	r->reason = full;
}

void nsr_r_skip_script(struct nsr_runner *r, const char *fmt, ...)
{
	if (r->failed || r->skipped_script)
		return;
	r->skipped_script = true;
	va_list ap;
	va_start(ap, fmt);
	char *m = vfmt(fmt, ap);
	va_end(ap);
	char *full = malloc(5000);
	if (full && m)
		snprintf(full, 5000, "line %d: %s", r->cur ? r->cur->line : 0, m);
	free(m);
	r->reason = full;
}

void nsr_r_skip_stmt(struct nsr_runner *r, const struct nsr_stmt *st, const char *why)
{
	r->skipped++;
	char item[300];
	int n = snprintf(item, sizeof(item), "%sline %d: %s", r->skipped_len ? "; " : "", st->line, why);
	if (n <= 0)
		return;
	char *nl = realloc(r->skipped_list, r->skipped_len + (size_t)n + 1);
	if (!nl)
		return;
	memcpy(nl + r->skipped_len, item, (size_t)n + 1);
	r->skipped_list = nl;
	r->skipped_len += (size_t)n;
}

uint64_t nsr_r_time_ns(struct nsr_runner *r, int64_t us)
{
	return r->t0 + (uint64_t)(us < 0 ? 0 : us) * 1000ull;
}

static double rel_s(struct nsr_runner *r, uint64_t ns)
{
	return ns >= r->t0 ? (double)(ns - r->t0) / 1e9 : -(double)(r->t0 - ns) / 1e9;
}

/* ---- the peer's link-layer answers ------------------------------------------------ */

static void auto_arp(struct nsr_runner *r, const struct nsr_dec *d)
{
	uint8_t f[42];
	if (!ns_addr_eq(&d->arp_tpa, &r->cfg.addr[0].a) && nsr_arp_answer(d, PEER_MAC, f) == 0)
		nsr_frames_push(&r->inj, 0, f, sizeof(f));
}

static void auto_nd(struct nsr_runner *r, const struct nsr_dec *d)
{
	struct ns_addr target;
	uint8_t f[86];
	if (!nsr_neigh_target(d, &target))
		return;
	for (int i = 0; i < r->cfg.naddr; i++)
		if (ns_addr_eq(&target, &r->cfg.addr[i].a))
			return;                 /* DAD or a probe for our own address: stay silent */
	if (nsr_nd_answer(d, PEER_MAC, f) == 0)
		nsr_frames_push(&r->inj, 0, f, sizeof(f));
}

static void on_tx(void *ctx, uint64_t t, const uint8_t *fr, size_t len)
{
	struct nsr_runner *r = ctx;
	struct nsr_dec d;
	nsr_decode(fr, len, &d);
	if (d.l3 == NSR_L3_ARP) {
		auto_arp(r, &d);
		return;
	}
	if (d.l3 != NSR_L3_IPV4 && d.l3 != NSR_L3_IPV6)
		return;
	if (d.proto == NS_IPPROTO_ICMPV6 && d.has_l4 &&
	    ((d.icmp_type >= 130 && d.icmp_type <= 137) || d.icmp_type == 143)) {
		auto_nd(r, &d);
		return;
	}
	if (d.proto == 2)               /* IGMP */
		return;
	nsr_frames_push(&r->outq, t, fr, len);
}

static int pump(void *ctx)
{
	struct nsr_runner *r = ctx;
	int work = 0;
	while (r->inj_head < r->inj.n) {
		struct nsr_frame *f = &r->inj.v[r->inj_head++];
		nsr_vstack_inject(r->v, f->data, f->len);
		work++;
	}
	if (r->pend.active && !r->pend.done && nsr_sys_retry(r))
		work++;
	return work;
}

/* ---- clock ------------------------------------------------------------------------------ */

/* Advances to t, stopping early (returning true) when stop(r) holds. */
static bool advance_until(struct nsr_runner *r, uint64_t t, bool (*stop)(struct nsr_runner *))
{
	struct nsr_vstack *v = r->v;
	nsr_vstack_run_now(v);
	for (int guard = 0; guard < 10000000; guard++) {
		if (stop && stop(r))
			return true;
		uint64_t next = nsr_vstack_next_event(v);
		if (r->pend.active && !r->pend.done && r->pend.deadline_ns)
			next = NS_MIN(next, r->pend.deadline_ns);
		if (next > t)
			break;
		if (next > v->vc.now)
			v->vc.now = next;
		nsr_vstack_run_now(v);
	}
	if (stop && stop(r))
		return true;
	if (t > v->vc.now) {
		v->vc.now = t;
		nsr_vstack_run_now(v);
	}
	return stop ? stop(r) : false;
}

static bool pending_done(struct nsr_runner *r) { return !r->pend.active || r->pend.done; }
static bool outq_nonempty(struct nsr_runner *r) { return r->outq_head < r->outq.n; }

/* A finished blocking call is checked against its statement and end time. */
static void settle_pending(struct nsr_runner *r)
{
	if (!r->pend.active || !r->pend.done)
		return;
	const struct nsr_stmt *save = r->cur;
	r->cur = r->pend.st;
	r->pend.active = false;
	uint64_t t = r->pend.done_ns, e = r->pend.end_ns;
	uint64_t dt = t > e ? t - e : e - t;
	nsr_sys_check(r, r->pend.st, r->pend.ret);
	if (dt > r->tol_ns)
		nsr_r_fail(r, "blocking call returned at %.6f s, expected %.6f s (tolerance %.3f ms)",
			   rel_s(r, t), rel_s(r, e), (double)r->tol_ns / 1e6);
	r->cur = save;
}

/* Waits for an outstanding blocking call before a new system call runs. */
static void finish_pending(struct nsr_runner *r)
{
	if (!r->pend.active)
		return;
	if (!r->pend.done)
		advance_until(r, r->pend.end_ns + r->tol_ns, pending_done);
	if (!r->pend.done) {
		const struct nsr_stmt *save = r->cur;
		r->cur = r->pend.st;
		nsr_r_fail(r, "blocking call did not return by %.6f s", rel_s(r, r->pend.end_ns + r->tol_ns));
		r->cur = save;
		r->pend.active = false;
		return;
	}
	settle_pending(r);
}

/* ---- packets: building what the peer sends ------------------------------------------------ */

static size_t put_ip(struct nsr_runner *r, uint8_t *f, uint8_t proto, size_t l4len, uint8_t tos)
{
	memcpy(f, LOCAL_MAC, 6);
	memcpy(f + 6, r->remote_mac, 6);
	uint8_t *ip = f + 14;
	if (r->family == NS_AF_INET) {
		ns_store_be16(f + 12, 0x0800);
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[1] = tos;
		ns_store_be16(ip + 2, (uint16_t)(20 + l4len));
		ns_store_be16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, r->remote.b, 4);
		memcpy(ip + 16, r->local.b, 4);
		return 14 + 20;
	}
	ns_store_be16(f + 12, 0x86dd);
	memset(ip, 0, 40);
	ip[0] = (uint8_t)(0x60 | (tos >> 4));
	ip[1] = (uint8_t)(tos << 4);
	ns_store_be16(ip + 4, (uint16_t)l4len);
	ip[6] = proto;
	ip[7] = 64;
	memcpy(ip + 8, r->remote.b, 16);
	memcpy(ip + 24, r->local.b, 16);
	return 14 + 40;
}

static uint32_t map_ecr(struct nsr_runner *r, uint32_t ecr)
{
	for (int i = r->nts - 1; i >= 0; i--)
		if (r->ts_script[i] == ecr)
			return r->ts_live[i];
	if (r->ts_first)
		return ecr - r->ts_first_script + r->ts_first_live;
	return ecr;
}

static void inject_tcp(struct nsr_runner *r, const struct nsr_pkt_spec *k)
{
	size_t l4len = 20 + (size_t)((k->optlen + 3) & ~3) + k->len;
	uint8_t *f = calloc(1, 14 + 40 + l4len);
	if (!f) {
		nsr_r_fail(r, "out of memory");
		return;
	}
	if (!r->lport_known && !(k->flags & NSR_TH_SYN && !(k->flags & NSR_TH_ACK)))
		r->lport = r->bind_port;
	if (!r->lport_known) {
		r->lport = r->bind_port;
		r->rport = r->remote_port;
	}
	size_t off = put_ip(r, f, NS_IPPROTO_TCP, l4len, k->has_tos ? k->tos : 0);
	uint8_t *th = f + off;
	ns_store_be16(th, r->rport);
	ns_store_be16(th + 2, r->lport);
	ns_store_be32(th + 4, k->seq);
	uint32_t ackoff = r->isn_known ? r->live_isn - r->script_isn : 0;
	if (k->flags & NSR_TH_ACK)
		ns_store_be32(th + 8, k->ack + ackoff);
	th[12] = (uint8_t)(((20 + ((k->optlen + 3) & ~3)) / 4) << 4);
	th[13] = k->flags;
	ns_store_be16(th + 14, (uint16_t)(k->has_win ? k->win : 65535));
	uint8_t *o = th + 20;
	memcpy(o, k->opts, k->optlen);
	for (size_t i = k->optlen; i < (size_t)((k->optlen + 3) & ~3); i++)
		o[i] = 0;                   /* pad with EOL */
	if (k->sack_off >= 0)
		for (int b = 0; b < k->nsack; b++) {
			uint8_t *sb = o + k->sack_off + 8 * b;
			ns_store_be32(sb, ns_load_be32(sb) + ackoff);
			ns_store_be32(sb + 4, ns_load_be32(sb + 4) + ackoff);
		}
	if (k->ts_off >= 0 && (k->flags & NSR_TH_ACK))
		ns_store_be32(o + k->ts_off + 4, map_ecr(r, ns_load_be32(o + k->ts_off + 4)));
	size_t len = off + l4len;
	nsr_fix_checksums(f, len);
	nsr_vstack_inject(r->v, f, len);
	free(f);
}

static void inject_udp(struct nsr_runner *r, const struct nsr_pkt_spec *k)
{
	size_t l4len = 8 + k->udp_len;
	uint8_t *f = calloc(1, 14 + 40 + l4len);
	if (!f)
		return;
	if (!r->lport_known) {
		r->lport = r->bind_port;
		r->rport = r->remote_port;
	}
	size_t off = put_ip(r, f, NS_IPPROTO_UDP, l4len, k->has_tos ? k->tos : 0);
	ns_store_be16(f + off, r->rport);
	ns_store_be16(f + off + 2, r->lport);
	ns_store_be16(f + off + 4, (uint16_t)l4len);
	nsr_fix_checksums(f, off + l4len);
	nsr_vstack_inject(r->v, f, off + l4len);
	free(f);
}

static void inject_icmp(struct nsr_runner *r, const struct nsr_pkt_spec *k)
{
	if (r->family != NS_AF_INET) {
		nsr_r_skip_script(r, "ICMP packets in IPv6 mode are not supported by this runner");
		return;
	}
	/* the quoted datagram: our IP header and the first 8 bytes of our segment */
	uint8_t f[14 + 20 + 8 + 20 + 8];
	memset(f, 0, sizeof(f));
	size_t off = put_ip(r, f, NS_IPPROTO_ICMP, 8 + 28, 0);
	uint8_t *ic = f + off;
	ic[0] = k->icmp_type;
	ic[1] = k->icmp_code;
	if (k->icmp_mtu)
		ns_store_be16(ic + 6, (uint16_t)k->icmp_mtu);
	uint8_t *q = ic + 8;
	q[0] = 0x45;
	ns_store_be16(q + 2, (uint16_t)(20 + 20 + k->icmp_inner_len));
	ns_store_be16(q + 6, 0x4000);
	q[8] = 64;
	bool udp = r->sut_type == NS_SOCK_DGRAM;
	q[9] = udp ? NS_IPPROTO_UDP : NS_IPPROTO_TCP;
	memcpy(q + 12, r->local.b, 4);
	memcpy(q + 16, r->remote.b, 4);
	ns_store_be16(q + 10, ns_csum_fold(ns_csum_partial(q, 20, 0)));
	ns_store_be16(q + 20, r->lport);
	ns_store_be16(q + 22, r->rport);
	if (udp) {
		ns_store_be16(q + 2, (uint16_t)(20 + 8 + k->icmp_inner_len));
		ns_store_be16(q + 10, 0);
		ns_store_be16(q + 10, ns_csum_fold(ns_csum_partial(q, 20, 0)));
		ns_store_be16(q + 24, (uint16_t)(8 + k->icmp_inner_len));
	} else {
		uint32_t off_isn = r->isn_known ? r->live_isn - r->script_isn : 0;
		ns_store_be32(q + 24, k->icmp_inner_seq + off_isn);
	}
	nsr_fix_checksums(f, sizeof(f));
	nsr_vstack_inject(r->v, f, sizeof(f));
}

/* ---- packets: checking what the stack sent ---------------------------------------------------- */

static bool payload_zero(const struct nsr_dec *d)
{
	for (size_t i = 0; i < d->plen; i++)
		if (d->payload[i])
			return false;
	return true;
}

static void fmt_actual(struct nsr_runner *r, const struct nsr_dec *d, uint32_t seq_script, uint64_t t,
		       char *buf, size_t len)
{
	char line[400];
	nsr_format_rel(d, true, seq_script, d->ack, false, 0, 0, line, sizeof(line));
	snprintf(buf, len, "%.6f %s", rel_s(r, t), line);
}

static bool check_time(struct nsr_runner *r, uint64_t t, uint64_t lo, uint64_t hi, bool any)
{
	if (any)
		return true;
	uint64_t a = lo > r->tol_ns ? lo - r->tol_ns : 0, b = hi + r->tol_ns;
	return t >= a && t <= b;
}

static int opts_kinds(const uint8_t *o, size_t n, uint8_t *kinds, int max)
{
	int k = 0;
	for (size_t i = 0; i < n && k < max;) {
		kinds[k++] = o[i];
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2)
			break;
		i += o[i + 1];
	}
	return k;
}

static void check_tcp_opts(struct nsr_runner *r, const struct nsr_pkt_spec *k, const struct nsr_dec *d,
			   const char *actual)
{
	if (k->opts_nocheck)
		return;
	uint8_t ka[40], kb[40];
	int na = opts_kinds(k->opts, k->optlen, ka, 40);
	int nb = opts_kinds(d->opts, d->optlen, kb, 40);
	/* trailing EOL padding in the actual header does not count */
	while (nb > 0 && kb[nb - 1] == 0 && (na == 0 || ka[na - 1] != 0))
		nb--;
	if (na != nb || memcmp(ka, kb, (size_t)na)) {
		nsr_r_fail(r, "bad outbound TCP options\n    actual: %s", actual);
		return;
	}
	struct nsr_tcpopts s;
	nsr_tcpopts_parse(k->opts, k->optlen, &s);
	if (s.has_mss && s.mss != d->opt.mss)
		nsr_r_fail(r, "mss: expected %u, got %u\n    actual: %s", s.mss, d->opt.mss, actual);
	else if (s.has_ws && s.ws != d->opt.ws)
		nsr_r_fail(r, "wscale: expected %u, got %u\n    actual: %s", s.ws, d->opt.ws, actual);
	else if (s.nsack != d->opt.nsack)
		nsr_r_fail(r, "sack blocks: expected %d, got %d\n    actual: %s", s.nsack, d->opt.nsack, actual);
	for (int i = 0; i < s.nsack && !r->failed; i++)
		if (s.sack[i][0] != d->opt.sack[i][0] || s.sack[i][1] != d->opt.sack[i][1])
			nsr_r_fail(r, "sack block %d: expected %u:%u, got %u:%u\n    actual: %s", i,
				   s.sack[i][0], s.sack[i][1], d->opt.sack[i][0], d->opt.sack[i][1], actual);
	if (s.has_ts && d->opt.has_ts && !r->failed) {
		uint32_t live = d->opt.ts_val;
		if (!r->ts_first) {
			r->ts_first = true;
			r->ts_first_script = s.ts_val;
			r->ts_first_live = live;
		}
		if (r->nts < NSR_TSMAP) {
			r->ts_script[r->nts] = s.ts_val;
			r->ts_live[r->nts++] = live;
		} else {
			memmove(r->ts_script, r->ts_script + 1, sizeof(r->ts_script) - sizeof(uint32_t));
			memmove(r->ts_live, r->ts_live + 1, sizeof(r->ts_live) - sizeof(uint32_t));
			r->ts_script[NSR_TSMAP - 1] = s.ts_val;
			r->ts_live[NSR_TSMAP - 1] = live;
		}
		if (r->ts_tick_us) {
			uint32_t mapped = r->ts_first_script + (live - r->ts_first_live);
			int64_t dev = (int32_t)(mapped - s.ts_val);
			if ((uint64_t)(dev < 0 ? -dev : dev) * r->ts_tick_us * 1000ull > r->tol_ns)
				nsr_r_fail(r, "TS val: expected %u, got %u (in script space; %llu us per tick)\n    actual: %s",
					   s.ts_val, mapped, (unsigned long long)r->ts_tick_us, actual);
		}
	}
}

/* Takes the next candidate frame, waiting (in virtual time) until deadline. */
static bool next_out(struct nsr_runner *r, uint64_t deadline, struct nsr_frame **f)
{
	if (!outq_nonempty(r))
		advance_until(r, deadline, outq_nonempty);
	if (!outq_nonempty(r))
		return false;
	*f = &r->outq.v[r->outq_head++];
	return true;
}

static void expect_tcp(struct nsr_runner *r, const struct nsr_pkt_spec *k, uint64_t lo, uint64_t hi, bool any,
		       uint64_t deadline)
{
	struct nsr_frame *f;
	if (!next_out(r, deadline, &f)) {
		nsr_r_fail(r, "timed out waiting for the packet (until %.6f s)", rel_s(r, deadline));
		return;
	}
	struct nsr_dec d;
	nsr_decode(f->data, f->len, &d);
	char actual[600];
	if (d.proto != NS_IPPROTO_TCP || !d.has_l4) {
		fmt_actual(r, &d, 0, f->t_ns, actual, sizeof(actual));
		nsr_r_fail(r, "expected a TCP segment\n    actual: %s", actual);
		return;
	}
	if ((k->flags & NSR_TH_SYN) && !r->isn_known) {
		r->isn_known = true;
		r->live_isn = d.seq;
		r->script_isn = k->seq;
		if (!r->lport_known) {
			r->lport_known = true;
			r->lport = d.sport;
			r->rport = d.dport;
		}
	}
	if (!r->lport_known) {
		r->lport_known = true;
		r->lport = d.sport;
		r->rport = d.dport;
	}
	uint32_t off = r->isn_known ? r->live_isn - r->script_isn : 0;
	uint32_t sseq = d.seq - off;
	fmt_actual(r, &d, sseq, f->t_ns, actual, sizeof(actual));
	/* aggregate consecutive segments up to the expected length (TSO/GSO on the wire) */
	uint32_t total = (uint32_t)d.plen;
	uint8_t flags = d.th_flags;
	bool zero = payload_zero(&d);
	uint64_t t_first = f->t_ns;
	uint32_t next_seq = d.seq + (uint32_t)d.plen;
	while (!r->strict_segments && total < k->len && d.plen > 0 && !(flags & (NSR_TH_SYN | NSR_TH_FIN | NSR_TH_RST))) {
		struct nsr_frame *g;
		if (!next_out(r, deadline, &g))
			break;
		struct nsr_dec e;
		nsr_decode(g->data, g->len, &e);
		if (e.proto != NS_IPPROTO_TCP || !e.has_l4 || e.seq != next_seq || e.sport != d.sport ||
		    e.plen == 0) {
			r->outq_head--;         /* not a continuation: leave it for the next statement */
			break;
		}
		total += (uint32_t)e.plen;
		flags |= e.th_flags;
		zero &= payload_zero(&e);
		next_seq += (uint32_t)e.plen;
	}
	char ef[12], af[12];
	if (flags != k->flags)
		nsr_r_fail(r, "flags: expected [%s], got [%s]\n    actual: %s", nsr_flags_str(k->flags, ef),
			   nsr_flags_str(flags, af), actual);
	else if (sseq != k->seq)
		nsr_r_fail(r, "seq: expected %u, got %u\n    actual: %s", k->seq, sseq, actual);
	else if (total != k->len)
		nsr_r_fail(r, "payload: expected %u bytes, got %u\n    actual: %s", k->len, total, actual);
	else if ((k->flags & NSR_TH_ACK) && d.ack != k->ack)
		nsr_r_fail(r, "ack: expected %u, got %u\n    actual: %s", k->ack, d.ack, actual);
	else if (k->has_win && d.win != k->win)
		nsr_r_fail(r, "win: expected %u, got %u\n    actual: %s", k->win, d.win, actual);
	else if (!zero)
		nsr_r_fail(r, "payload bytes differ from what the script wrote\n    actual: %s", actual);
	else if (k->has_tos && (d.tos & 3) != k->tos)
		nsr_r_fail(r, "ECN bits: expected %u, got %u\n    actual: %s", k->tos, d.tos & 3, actual);
	if (r->failed)
		return;
	check_tcp_opts(r, k, &d, actual);
	if (r->failed)
		return;
	if (!check_time(r, t_first, lo, hi, any))
		nsr_r_fail(r, "packet at %.6f s, expected %.6f s (tolerance %.3f ms)\n    actual: %s",
			   rel_s(r, t_first), rel_s(r, lo), (double)r->tol_ns / 1e6, actual);
}

static void expect_other(struct nsr_runner *r, const struct nsr_pkt_spec *k, uint64_t lo, uint64_t hi, bool any,
			 uint64_t deadline)
{
	struct nsr_frame *f;
	if (!next_out(r, deadline, &f)) {
		nsr_r_fail(r, "timed out waiting for the packet (until %.6f s)", rel_s(r, deadline));
		return;
	}
	struct nsr_dec d;
	nsr_decode(f->data, f->len, &d);
	char actual[600];
	fmt_actual(r, &d, d.seq, f->t_ns, actual, sizeof(actual));
	if (k->proto == NSR_P_UDP && d.proto == NS_IPPROTO_UDP && d.has_l4 && !r->lport_known) {
		r->lport_known = true;
		r->lport = d.sport;
		r->rport = d.dport;
	}
	if (k->proto == NSR_P_UDP) {
		if (d.proto != NS_IPPROTO_UDP || !d.has_l4)
			nsr_r_fail(r, "expected a UDP datagram\n    actual: %s", actual);
		else if (d.plen != k->udp_len)
			nsr_r_fail(r, "udp length: expected %u, got %zu\n    actual: %s", k->udp_len, d.plen, actual);
	} else {
		uint8_t want = r->family == NS_AF_INET ? NS_IPPROTO_ICMP : NS_IPPROTO_ICMPV6;
		if (d.proto != want || !d.has_l4)
			nsr_r_fail(r, "expected an ICMP message\n    actual: %s", actual);
		else {
			uint8_t ty = k->icmp_type, co = k->icmp_code;
			if (r->family == NS_AF_INET6) {     /* packetdrill's ICMPv4 names, ICMPv6 values */
				if (ty == 3 && co == 4) {
					ty = 2;
					co = 0;
				} else if (ty == 3) {
					ty = 1;
					co = co == 3 ? 4 : co == 2 ? 4 : co == 1 ? 3 : 0;
				} else if (ty == 11) {
					ty = 3;
				} else if (ty == 8 || ty == 0) {
					ty = ty == 8 ? 128 : 129;
				}
			}
			if (d.icmp_type != ty || d.icmp_code != co)
				nsr_r_fail(r, "icmp type/code: expected %u/%u, got %u/%u\n    actual: %s", ty, co,
					   d.icmp_type, d.icmp_code, actual);
		}
	}
	if (!r->failed && !check_time(r, f->t_ns, lo, hi, any))
		nsr_r_fail(r, "packet at %.6f s, expected %.6f s (tolerance %.3f ms)\n    actual: %s",
			   rel_s(r, f->t_ns), rel_s(r, lo), (double)r->tol_ns / 1e6, actual);
}

/* ---- statements ------------------------------------------------------------------------------- */

static void event_window(struct nsr_runner *r, const struct nsr_time *t, uint64_t *lo, uint64_t *hi, bool *any)
{
	*any = false;
	switch (t->kind) {
	case NSR_T_ABS:
		*lo = *hi = nsr_r_time_ns(r, t->us);
		break;
	case NSR_T_REL:
		*lo = *hi = r->base_ns + (uint64_t)t->us * 1000ull;
		break;
	case NSR_T_ABS_RANGE:
		*lo = nsr_r_time_ns(r, t->us);
		*hi = nsr_r_time_ns(r, t->us_end);
		break;
	case NSR_T_REL_RANGE:
		*lo = r->base_ns + (uint64_t)t->us * 1000ull;
		*hi = r->base_ns + (uint64_t)t->us_end * 1000ull;
		break;
	default:
		*any = true;
		*lo = *hi = r->v->vc.now;
		break;
	}
	if (*hi < *lo)
		*hi = *lo;
}

static void do_option(struct nsr_runner *r, const struct nsr_stmt *st)
{
	const char *n = st->opt_name, *v = st->opt_value;
	char *end;
	if (!strcmp(n, "tolerance_usecs")) {
		unsigned long long x = strtoull(v, &end, 10);
		if (*end == 0)
			r->tol_ns = x * 1000ull;
	} else if (!strcmp(n, "ip_version")) {
		if (!strcmp(v, "ipv6"))
			r->family = NS_AF_INET6;
		else if (!strcmp(v, "ipv4-mapped-ipv6"))
			r->mapped = true;
		else if (strcmp(v, "ipv4"))
			nsr_r_skip_script(r, "unsupported --ip_version=%s", v);
	} else if (!strcmp(n, "tcp_ts_tick_usecs")) {
		r->ts_tick_us = strtoull(v, &end, 10);
	} else if (!strcmp(n, "strict_segments")) {
		r->strict_segments = true;
	} else if (!strcmp(n, "bind_port")) {
		r->bind_port = (uint16_t)strtoul(v, &end, 10);
	} else if (!strcmp(n, "connect_port")) {
		r->connect_port = (uint16_t)strtoul(v, &end, 10);
	} else if (!strcmp(n, "local_ip") || !strcmp(n, "remote_ip") || !strcmp(n, "tcp_ts_ecr_scaled") ||
		   !strcmp(n, "gateway_ip") || !strcmp(n, "netmask_ip")) {
		/* addresses are mapped onto 198.18.0.0/15 and fd00:5eed::/48; ecr is always interpolated */
		if (strchr(v, ':') && strcmp(n, "tcp_ts_ecr_scaled"))
			r->family = NS_AF_INET6;
	} else {
		char why[200];
		snprintf(why, sizeof(why), "option --%s not supported", n);
		nsr_r_skip_stmt(r, st, why);
	}
}

static void do_packet(struct nsr_runner *r, const struct nsr_stmt *st)
{
	uint64_t lo, hi;
	bool any;
	event_window(r, &st->time, &lo, &hi, &any);
	const struct nsr_pkt_spec *k = &st->pkt;
	if (!k->outbound) {
		advance_until(r, lo, NULL);
		settle_pending(r);
		if (k->proto == NSR_P_TCP)
			inject_tcp(r, k);
		else if (k->proto == NSR_P_UDP)
			inject_udp(r, k);
		else
			inject_icmp(r, k);
		r->base_ns = r->v->vc.now;
		return;
	}
	uint64_t deadline = any ? r->v->vc.now + 10ull * NS_NSEC_PER_SEC : hi + r->tol_ns;
	if (k->proto == NSR_P_TCP)
		expect_tcp(r, k, lo, hi, any, deadline);
	else
		expect_other(r, k, lo, hi, any, deadline);
	r->base_ns = NS_MAX(r->base_ns, r->v->vc.now);
	settle_pending(r);
}

static void do_syscall(struct nsr_runner *r, const struct nsr_stmt *st)
{
	uint64_t lo, hi;
	bool any;
	/* a system call waits for a blocking one still in progress (one syscall thread, as
	 * in packetdrill); its relative time then counts from when that one returned */
	if (r->pend.active) {
		finish_pending(r);
		r->base_ns = NS_MAX(r->base_ns, r->v->vc.now);
	}
	if (r->failed)
		return;
	event_window(r, &st->time, &lo, &hi, &any);
	advance_until(r, lo, NULL);
	settle_pending(r);
	uint64_t end = st->time.blocking ?
		(st->time.kind == NSR_T_ABS || st->time.kind == NSR_T_ABS_RANGE ? nsr_r_time_ns(r, st->time.block_end_us) :
		 r->base_ns + (uint64_t)st->time.block_end_us * 1000ull) : r->v->vc.now;
	r->base_ns = r->v->vc.now;
	nsr_sys_start(r, st, end);
	/* nonblocking calls and blocking calls that completed at once are checked now */
	if (r->pend.active && r->pend.done)
		settle_pending(r);
}

/* %{ assert tcpi_... }%: evaluated on TCP_INFO of the socket under test when every
 * line is an assertion this runner understands, otherwise skipped with the reason. */
static void do_python(struct nsr_runner *r, const struct nsr_stmt *st)
{
	uint64_t lo, hi;
	bool any;
	event_window(r, &st->time, &lo, &hi, &any);
	advance_until(r, lo, NULL);
	settle_pending(r);
	r->base_ns = r->v->vc.now;
	uint8_t ti[512];
	memset(ti, 0, sizeof(ti));
	socklen_t len = sizeof(ti);
	char msg[600], why[700];
	if (r->sut_ns_fd < 0 || ns_getsockopt(r->v->stk, r->sut_ns_fd, NS_IPPROTO_TCP, NS_TCP_INFO, ti, &len) < 0) {
		nsr_r_skip_stmt(r, st, "python block not run (no TCP socket to read TCP_INFO from)");
		return;
	}
	int rc = nsr_py_eval(st->text, ti, len, msg, sizeof(msg));
	if (rc < 0) {
		snprintf(why, sizeof(why), "python block not run: %s", msg);
		nsr_r_skip_stmt(r, st, why);
	} else if (rc == 0) {
		nsr_r_fail(r, "%s", msg);
	} else {
		r->executed++;
	}
}

/* Shell blocks are not run: defaults.sh's buffer sizes are set through
 * ns_sysctl_set (the windows depend on them; its other values are netstack's
 * built-in defaults), files of zeros made with dd live in memory for
 * open()/sendfile(), anything else is reported as a skipped statement. */
static void run_shell(struct nsr_runner *r, const struct nsr_stmt *st)
{
	char skipped[300] = "";
	size_t sl = 0;
	bool defaults = false;
	const char *p = st->text;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)NS_MIN(n, sizeof(line) - 1), p);
		p += n + (e ? 1 : 0);
		char *t = line;
		while (*t == ' ' || *t == '\t')
			t++;
		if (!*t)
			continue;
		if (strstr(t, "defaults.sh")) {
			ns_sysctl_set(r->v->stk, "net.ipv4.tcp_rmem", "4096 540000 15728640");
			ns_sysctl_set(r->v->stk, "net.ipv4.tcp_wmem", "4096 262144 4194304");
			defaults = true;
		} else if (!nsr_sys_shell_line(r, t) && sl < sizeof(skipped) - 2) {
			sl += (size_t)snprintf(skipped + sl, sizeof(skipped) - sl, "%s%s", sl ? "; " : "", t);
		}
	}
	if (strstr(st->text, "sysctl_restore"))
		nsr_r_skip_stmt(r, st, "shell command not run (sysctl restore)");
	else if (sl) {
		char why[400];
		snprintf(why, sizeof(why), "shell command not run: %s", skipped);
		nsr_r_skip_stmt(r, st, why);
	} else if (defaults)
		nsr_r_skip_stmt(r, st, "shell command not run (defaults.sh: tcp_rmem/tcp_wmem set with "
				       "ns_sysctl_set, the rest are netstack's built-in defaults)");
}

static void run_stmt(struct nsr_runner *r, const struct nsr_stmt *st)
{
	r->cur = st;
	switch (st->kind) {
	case NSR_S_OPTION:
		do_option(r, st);
		break;
	case NSR_S_SHELL:
		run_shell(r, st);
		break;
	case NSR_S_PYTHON:
		do_python(r, st);
		break;
	case NSR_S_UNSUPPORTED:
		nsr_r_skip_script(r, "%s", st->why ? st->why : "unsupported statement");
		break;
	case NSR_S_PACKET:
		r->executed++;
		do_packet(r, st);
		break;
	case NSR_S_SYSCALL:
		r->executed++;
		do_syscall(r, st);
		break;
	}
}

static int runner_init(struct nsr_runner *r, const struct nsr_script_opts *o, FILE *out, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->opts = o;
	r->out = out;
	r->tol_ns = 4000000;            /* packetdrill's default tolerance: 4 ms */
	r->family = NS_AF_INET;
	r->bind_port = 8080;
	r->connect_port = 8080;
	r->remote_port = 48879;
	memcpy(r->remote_mac, PEER_MAC, 6);
	nsr_config_default(&r->cfg);
	memcpy(r->cfg.mac, LOCAL_MAC, 6);
	int plen;
	ns_addr_parse("198.18.0.1/24", &r->cfg.addr[0].a, &plen);
	r->cfg.addr[0].plen = plen;
	ns_addr_parse("fd00:5eed::1/64", &r->cfg.addr[1].a, &plen);
	r->cfg.addr[1].plen = plen;
	r->cfg.naddr = 2;
	r->cfg.settle_ns = NS_NSEC_PER_SEC;
	/* packetdrill's tun device has no neighbour discovery: neither do we (ARP/ND are answered
	 * automatically for the peer, and our own link-local chatter is left out) */
	r->cfg.stack_flags = NS_STACK_F_NODAD | NS_STACK_F_NOAUTO6;
	for (int i = 0; i < NSR_MAX_FDS; i++)
		r->fds[i].ns_fd = -1;
	r->sut_ns_fd = -1;
	uint64_t start = 1000 * NS_NSEC_PER_SEC;
	if (nsr_vstack_create(&r->cfg, o->seed, start, &r->v, err, errlen) < 0)
		return -1;
	r->v->record = false;
	r->v->on_tx = on_tx;
	r->v->on_tx_ctx = r;
	nsr_vstack_set_pump(r->v, pump, r);
	nsr_vstack_start_services(r->v, start, err, errlen);
	/* settle: DAD, gratuitous ARP; what the stack sends before time 0 is not part of the script */
	advance_until(r, start + r->cfg.settle_ns, NULL);
	r->outq_head = r->outq.n;
	r->t0 = r->base_ns = r->v->vc.now;
	return 0;
}

static void set_addrs(struct nsr_runner *r)
{
	int plen;
	if (r->family == NS_AF_INET6) {
		ns_addr_parse("fd00:5eed::1", &r->local, &plen);
		ns_addr_parse("fd00:5eed::2", &r->remote, &plen);
	} else {
		ns_addr_parse("198.18.0.1", &r->local, &plen);
		ns_addr_parse("198.18.0.2", &r->remote, &plen);
	}
}

void nsr_script_run(const struct nsr_script *s, const struct nsr_script_opts *o,
		    struct nsr_script_result *res, FILE *out)
{
	memset(res, 0, sizeof(*res));
	struct nsr_runner *r = malloc(sizeof(*r));
	char err[256];
	if (!r || runner_init(r, o, out, err, sizeof(err)) < 0) {
		res->status = NSR_SCRIPT_ERROR;
		res->reason = strdup(r ? err : "out of memory");
		free(r);
		return;
	}
	/* options come first in a script; addresses depend on them */
	int i = 0;
	for (; i < s->n && s->v[i].kind == NSR_S_OPTION; i++)
		run_stmt(r, &s->v[i]);
	set_addrs(r);
	for (; i < s->n && !r->failed && !r->skipped_script; i++)
		run_stmt(r, &s->v[i]);
	r->cur = NULL;
	if (!r->failed && !r->skipped_script)
		finish_pending(r);
	nsr_sys_close_all(r);
	/* let closes run (FIN/RST) so the stack tears down cleanly */
	advance_until(r, r->v->vc.now + NS_NSEC_PER_SEC, NULL);
	res->status = r->failed ? NSR_SCRIPT_FAIL : r->skipped_script ? NSR_SCRIPT_SKIP : NSR_SCRIPT_PASS;
	res->reason = r->reason;
	res->skipped = r->skipped;
	res->skipped_list = r->skipped_list;
	res->executed = r->executed;
	nsr_vstack_destroy(r->v);
	nsr_frames_free(&r->outq);
	nsr_frames_free(&r->inj);
	free(r);
}

static void report(const char *name, const struct nsr_script_result *r, FILE *out, bool verbose)
{
	if (!out)
		return;
	const char *st = r->status == NSR_SCRIPT_PASS ? "PASS" : r->status == NSR_SCRIPT_FAIL ? "FAIL" :
			 r->status == NSR_SCRIPT_SKIP ? "SKIP" : "ERROR";
	fprintf(out, "%s %s", st, name);
	if (r->status == NSR_SCRIPT_PASS)
		fprintf(out, " (%d statements run, %d skipped)", r->executed, r->skipped);
	fprintf(out, "\n");
	if (r->reason)
		fprintf(out, "    %s\n", r->reason);
	if (r->skipped && (verbose || r->status == NSR_SCRIPT_PASS))
		fprintf(out, "    skipped: %s\n", r->skipped_list ? r->skipped_list : "");
}

void nsr_script_run_buf(const char *buf, size_t len, const struct nsr_script_opts *o,
			struct nsr_script_result *res, FILE *out)
{
	struct nsr_script *s;
	char err[300];
	if (nsr_script_parse(buf, len, &s, err, sizeof(err)) < 0) {
		memset(res, 0, sizeof(*res));
		/* syntax this runner does not know is reported as skipped, with the reason */
		res->status = NSR_SCRIPT_SKIP;
		char m[400];
		snprintf(m, sizeof(m), "cannot parse: %s", err);
		res->reason = strdup(m);
	} else {
		nsr_script_run(s, o, res, out);
		nsr_script_free(s);
	}
	report(o->name ? o->name : "script", res, out, o->verbose);
}

void nsr_script_run_file(const char *path, const struct nsr_script_opts *o,
			 struct nsr_script_result *res, FILE *out)
{
	FILE *f = fopen(path, "rb");
	struct nsr_script_opts o2 = *o;
	if (!o2.name)
		o2.name = path;
	if (!f) {
		memset(res, 0, sizeof(*res));
		res->status = NSR_SCRIPT_ERROR;
		char m[400];
		snprintf(m, sizeof(m), "%s: %s", path, strerror(errno));
		res->reason = strdup(m);
		report(o2.name, res, out, o->verbose);
		return;
	}
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	size_t n = buf ? fread(buf, 1, cap, f) : 0;
	fclose(f);
	nsr_script_run_buf(buf ? buf : "", n, &o2, res, out);
	free(buf);
}

void nsr_script_result_free(struct nsr_script_result *r)
{
	free(r->reason);
	free(r->skipped_list);
	memset(r, 0, sizeof(*r));
}
