/*
 * tests/replay/tool/decode.c - decoding, formatting and checksum repair of
 * Ethernet frames for pcap-replay (see decode.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include "netstack/core.h"
#include "decode.h"

void nsr_tcpopts_parse(const uint8_t *o, size_t len, struct nsr_tcpopts *t)
{
	memset(t, 0, sizeof(*t));
	t->ts_off = -1;
	t->sack_off = -1;
	size_t i = 0;
	while (i < len) {
		uint8_t kind = o[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len) {
			t->bad = true;
			break;
		}
		uint8_t ol = o[i + 1];
		if (ol < 2 || i + ol > len) {
			t->bad = true;
			break;
		}
		switch (kind) {
		case 2:
			if (ol == 4) {
				t->has_mss = true;
				t->mss = ns_load_be16(o + i + 2);
			}
			break;
		case 3:
			if (ol == 3) {
				t->has_ws = true;
				t->ws = o[i + 2];
			}
			break;
		case 4:
			t->sack_ok = true;
			break;
		case 5:
			t->sack_off = (int)i + 2;
			for (int b = 0; b < 4 && 2 + 8 * (b + 1) <= ol; b++) {
				t->sack[b][0] = ns_load_be32(o + i + 2 + 8 * b);
				t->sack[b][1] = ns_load_be32(o + i + 6 + 8 * b);
				t->nsack = b + 1;
			}
			break;
		case 8:
			if (ol == 10) {
				t->has_ts = true;
				t->ts_off = (int)i + 2;
				t->ts_val = ns_load_be32(o + i + 2);
				t->ts_ecr = ns_load_be32(o + i + 6);
			}
			break;
		default:
			break;
		}
		i += ol;
	}
}

static void decode_l4(struct nsr_dec *d, const uint8_t *p, size_t n)
{
	d->payload = p;
	d->plen = 0;
	if (d->proto == NS_IPPROTO_TCP) {
		if (n < 20) {
			d->truncated = true;
			return;
		}
		size_t hl = (size_t)(p[12] >> 4) * 4;
		if (hl < 20 || hl > n) {
			d->truncated = true;
			return;
		}
		d->has_l4 = true;
		d->sport = ns_load_be16(p);
		d->dport = ns_load_be16(p + 2);
		d->seq = ns_load_be32(p + 4);
		d->ack = ns_load_be32(p + 8);
		d->th_flags = p[13];
		d->win = ns_load_be16(p + 14);
		d->urg = ns_load_be16(p + 18);
		d->tcp_hlen = hl;
		d->opts = p + 20;
		d->optlen = hl - 20;
		nsr_tcpopts_parse(d->opts, d->optlen, &d->opt);
		d->payload = p + hl;
		d->plen = n - hl;
	} else if (d->proto == NS_IPPROTO_UDP) {
		if (n < 8) {
			d->truncated = true;
			return;
		}
		d->has_l4 = true;
		d->sport = ns_load_be16(p);
		d->dport = ns_load_be16(p + 2);
		d->payload = p + 8;
		d->plen = n - 8;
	} else if (d->proto == NS_IPPROTO_ICMP || d->proto == NS_IPPROTO_ICMPV6) {
		if (n < 8) {
			d->truncated = true;
			return;
		}
		d->has_l4 = true;
		d->icmp_type = p[0];
		d->icmp_code = p[1];
		d->icmp_rest = ns_load_be32(p + 4);
		d->payload = p + 8;
		d->plen = n - 8;
	} else {
		d->payload = p;
		d->plen = n;
	}
}

static void decode_ipv4(struct nsr_dec *d, const uint8_t *p, size_t n)
{
	if (n < 20 || (p[0] >> 4) != 4) {
		d->truncated = true;
		return;
	}
	size_t hl = (size_t)(p[0] & 15) * 4;
	size_t tot = ns_load_be16(p + 2);
	if (hl < 20 || hl > n || tot < hl) {
		d->truncated = true;
		return;
	}
	if (tot > n)
		d->truncated = true;
	else
		n = tot;                /* strip Ethernet padding */
	d->ip_len = n;
	d->tos = p[1];
	d->ipid = ns_load_be16(p + 4);
	uint16_t fo = ns_load_be16(p + 6);
	d->df = fo & 0x4000;
	d->mf = fo & 0x2000;
	d->frag_off = (uint32_t)(fo & 0x1fff) * 8;
	d->ttl = p[8];
	d->proto = p[9];
	uint8_t a[4];
	memcpy(a, p + 12, 4);
	ns_addr_v4(&d->src, a);
	memcpy(a, p + 16, 4);
	ns_addr_v4(&d->dst, a);
	d->l4_off = d->l3_off + hl;
	if (d->frag_off || d->mf) {
		d->is_frag = true;
		d->payload = p + hl;
		d->plen = n - hl;
		if (d->frag_off)
			return;
	}
	decode_l4(d, p + hl, n - hl);
	if (d->is_frag) {
		d->payload = p + hl;
		d->plen = n - hl;
	}
}

static void decode_ipv6(struct nsr_dec *d, const uint8_t *p, size_t n)
{
	if (n < 40 || (p[0] >> 4) != 6) {
		d->truncated = true;
		return;
	}
	size_t plen = ns_load_be16(p + 4);
	if (40 + plen > n)
		d->truncated = true;
	else
		n = 40 + plen;
	d->ip_len = n;
	d->tos = (uint8_t)((ns_load_be16(p) >> 4) & 0xff);
	d->flowlabel = ns_load_be32(p) & 0xfffff;
	d->ttl = p[7];
	d->src.family = d->dst.family = NS_AF_INET6;
	memcpy(d->src.b, p + 8, 16);
	memcpy(d->dst.b, p + 24, 16);
	uint8_t nh = p[6];
	size_t off = 40;
	for (int guard = 0; guard < 16; guard++) {
		if (nh == 0 || nh == 43 || nh == 60) {            /* hop-by-hop, routing, dest opts */
			if (off + 8 > n) {
				d->truncated = true;
				return;
			}
			nh = p[off];
			off += ((size_t)p[off + 1] + 1) * 8;
		} else if (nh == 44) {                           /* fragment */
			if (off + 8 > n) {
				d->truncated = true;
				return;
			}
			uint16_t fo = ns_load_be16(p + off + 2);
			d->frag_off = fo & 0xfff8;
			d->mf = fo & 1;
			d->ipid = (uint16_t)ns_load_be32(p + off + 4);
			nh = p[off];
			off += 8;
			if (d->frag_off || d->mf)
				d->is_frag = true;
		} else {
			break;
		}
	}
	if (off > n) {
		d->truncated = true;
		return;
	}
	d->proto = nh;
	d->l4_off = d->l3_off + off;
	if (d->is_frag && d->frag_off) {
		d->payload = p + off;
		d->plen = n - off;
		return;
	}
	decode_l4(d, p + off, n - off);
	if (d->is_frag) {
		d->payload = p + off;
		d->plen = n - off;
	}
}

static void decode_arp(struct nsr_dec *d, const uint8_t *p, size_t n)
{
	if (n < 28 || ns_load_be16(p) != 1 || ns_load_be16(p + 2) != 0x0800 || p[4] != 6 || p[5] != 4) {
		d->truncated = true;
		return;
	}
	d->arp_op = ns_load_be16(p + 6);
	memcpy(d->arp_sha, p + 8, 6);
	ns_addr_v4(&d->arp_spa, p + 14);
	memcpy(d->arp_tha, p + 18, 6);
	ns_addr_v4(&d->arp_tpa, p + 24);
}

void nsr_decode(const uint8_t *f, size_t len, struct nsr_dec *d)
{
	memset(d, 0, sizeof(*d));
	d->frame = f;
	d->len = len;
	d->opt.ts_off = d->opt.sack_off = -1;
	if (len < 14) {
		d->truncated = true;
		return;
	}
	memcpy(d->dst_mac, f, 6);
	memcpy(d->src_mac, f + 6, 6);
	d->ethertype = ns_load_be16(f + 12);
	d->l3_off = 14;
	const uint8_t *p = f + 14;
	size_t n = len - 14;
	switch (d->ethertype) {
	case 0x0806:
		d->l3 = NSR_L3_ARP;
		decode_arp(d, p, n);
		break;
	case 0x0800:
		d->l3 = NSR_L3_IPV4;
		decode_ipv4(d, p, n);
		break;
	case 0x86dd:
		d->l3 = NSR_L3_IPV6;
		decode_ipv6(d, p, n);
		break;
	default:
		d->l3 = NSR_L3_OTHER;
		d->payload = p;
		d->plen = n;
		break;
	}
}

const char *nsr_flags_str(uint8_t f, char *b)
{
	int i = 0;
	if (f & NSR_TH_SYN) b[i++] = 'S';
	if (f & NSR_TH_FIN) b[i++] = 'F';
	if (f & NSR_TH_RST) b[i++] = 'R';
	if (f & NSR_TH_PSH) b[i++] = 'P';
	if (f & NSR_TH_URG) b[i++] = 'U';
	if (f & NSR_TH_ECE) b[i++] = 'E';
	if (f & NSR_TH_CWR) b[i++] = 'W';
	if (f & NSR_TH_ACK) b[i++] = '.';
	if (i == 0) b[i++] = 'n';
	b[i] = 0;
	return b;
}

/* Appends with bounds: never overflows, keeps buf NUL-terminated. */
static void app(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static void app(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	if (*pos >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (r > 0)
		*pos = NS_MIN(len - 1, *pos + (size_t)r);
}

static void fmt_opts(const struct nsr_dec *d, bool have_ts, uint32_t tv, uint32_t te,
		     char *buf, size_t len, size_t *pos)
{
	const uint8_t *o = d->opts;
	size_t n = d->optlen, i = 0;
	if (!n)
		return;
	app(buf, len, pos, ", options [");
	bool first = true;
	while (i < n) {
		uint8_t k = o[i];
		if (!first)
			app(buf, len, pos, ",");
		first = false;
		if (k == 0) {
			app(buf, len, pos, "eol");
			break;
		}
		if (k == 1) {
			app(buf, len, pos, "nop");
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n) {
			app(buf, len, pos, "bad opts");
			break;
		}
		uint8_t ol = o[i + 1];
		if (k == 2 && ol == 4)
			app(buf, len, pos, "mss %u", ns_load_be16(o + i + 2));
		else if (k == 3 && ol == 3)
			app(buf, len, pos, "wscale %u", o[i + 2]);
		else if (k == 4)
			app(buf, len, pos, "sackOK");
		else if (k == 5) {
			app(buf, len, pos, "sack %d", (ol - 2) / 8);
			for (int b = 0; 2 + 8 * (b + 1) <= ol; b++)
				app(buf, len, pos, " {%u:%u}", ns_load_be32(o + i + 2 + 8 * b),
				    ns_load_be32(o + i + 6 + 8 * b));
		} else if (k == 8 && ol == 10)
			app(buf, len, pos, "TS val %u ecr %u", have_ts ? tv : ns_load_be32(o + i + 2),
			    have_ts ? te : ns_load_be32(o + i + 6));
		else
			app(buf, len, pos, "opt-%u len %u", k, ol);
		i += ol;
	}
	app(buf, len, pos, "]");
}

const char *nsr_format_rel(const struct nsr_dec *d, bool have_rel, uint32_t rseq, uint32_t rack,
			   bool have_ts, uint32_t tv, uint32_t te, char *buf, size_t len)
{
	size_t pos = 0;
	char a[64], b[64], fl[12];
	buf[0] = 0;
	if (d->l3 == NSR_L3_ARP) {
		if (d->truncated)
			app(buf, len, &pos, "ARP, truncated");
		else if (d->arp_op == 1)
			app(buf, len, &pos, "ARP, Request who-has %s tell %s",
			    ns_addr_fmt(&d->arp_tpa, a, sizeof(a)), ns_addr_fmt(&d->arp_spa, b, sizeof(b)));
		else
			app(buf, len, &pos, "ARP, Reply %s is-at %02x:%02x:%02x:%02x:%02x:%02x (op %u)",
			    ns_addr_fmt(&d->arp_spa, a, sizeof(a)), d->arp_sha[0], d->arp_sha[1],
			    d->arp_sha[2], d->arp_sha[3], d->arp_sha[4], d->arp_sha[5], d->arp_op);
		return buf;
	}
	if (d->l3 != NSR_L3_IPV4 && d->l3 != NSR_L3_IPV6) {
		app(buf, len, &pos, "ethertype 0x%04x, length %zu", d->ethertype, d->len);
		return buf;
	}
	ns_addr_fmt(&d->src, a, sizeof(a));
	ns_addr_fmt(&d->dst, b, sizeof(b));
	const char *v = d->l3 == NSR_L3_IPV4 ? "IP" : "IP6";
	if (d->is_frag && (d->frag_off || !d->has_l4)) {
		app(buf, len, &pos, "%s %s > %s: frag proto %u id %u off %u%s, length %zu", v, a, b,
		    d->proto, d->ipid, d->frag_off, d->mf ? "+" : "", d->plen);
		return buf;
	}
	if (d->proto == NS_IPPROTO_TCP && d->has_l4) {
		app(buf, len, &pos, "%s %s.%u > %s.%u: Flags [%s]", v, a, d->sport, b, d->dport,
		    nsr_flags_str(d->th_flags, fl));
		uint32_t s = have_rel ? rseq : d->seq, k = have_rel ? rack : d->ack;
		if (d->plen || (d->th_flags & (NSR_TH_SYN | NSR_TH_FIN | NSR_TH_RST)))
			app(buf, len, &pos, ", seq %u:%u", s, s + (uint32_t)d->plen);
		else
			app(buf, len, &pos, ", seq %u", s);
		if (d->th_flags & NSR_TH_ACK)
			app(buf, len, &pos, ", ack %u", k);
		app(buf, len, &pos, ", win %u", d->win);
		fmt_opts(d, have_ts, tv, te, buf, len, &pos);
		app(buf, len, &pos, ", length %zu", d->plen);
	} else if (d->proto == NS_IPPROTO_UDP && d->has_l4) {
		app(buf, len, &pos, "%s %s.%u > %s.%u: UDP, length %zu", v, a, d->sport, b, d->dport, d->plen);
	} else if ((d->proto == NS_IPPROTO_ICMP || d->proto == NS_IPPROTO_ICMPV6) && d->has_l4) {
		const char *what = "";
		if (d->proto == NS_IPPROTO_ICMP)
			what = d->icmp_type == 8 ? "echo request" : d->icmp_type == 0 ? "echo reply" :
			       d->icmp_type == 3 ? "unreachable" : d->icmp_type == 11 ? "time exceeded" :
			       d->icmp_type == 12 ? "parameter problem" : "type";
		else
			what = d->icmp_type == 128 ? "echo request" : d->icmp_type == 129 ? "echo reply" :
			       d->icmp_type == 1 ? "unreachable" : d->icmp_type == 2 ? "packet too big" :
			       d->icmp_type == 3 ? "time exceeded" : d->icmp_type == 135 ? "neighbor solicitation" :
			       d->icmp_type == 136 ? "neighbor advertisement" : d->icmp_type == 133 ? "router solicitation" :
			       d->icmp_type == 143 ? "MLDv2 report" : "type";
		app(buf, len, &pos, "%s %s > %s: %s %s %u code %u, length %zu", v, a, b,
		    d->proto == NS_IPPROTO_ICMP ? "ICMP" : "ICMP6", what, d->icmp_type, d->icmp_code, d->plen + 8);
	} else {
		app(buf, len, &pos, "%s %s > %s: proto %u%s, length %zu", v, a, b, d->proto,
		    d->truncated ? " truncated" : "", d->plen);
	}
	if (d->is_frag)
		app(buf, len, &pos, " (frag id %u off %u%s)", d->ipid, d->frag_off, d->mf ? "+" : "");
	return buf;
}

const char *nsr_format(const struct nsr_dec *d, char *buf, size_t len)
{
	return nsr_format_rel(d, false, 0, 0, false, 0, 0, buf, len);
}

void nsr_fix_checksums(uint8_t *f, size_t len)
{
	struct nsr_dec d;
	nsr_decode(f, len, &d);
	if (d.truncated || (d.l3 != NSR_L3_IPV4 && d.l3 != NSR_L3_IPV6))
		return;
	uint8_t *ip = f + d.l3_off;
	if (d.l3 == NSR_L3_IPV4) {
		size_t hl = (size_t)(ip[0] & 15) * 4;
		ns_store_be16(ip + 10, 0);
		ns_store_be16(ip + 10, ns_csum_fold(ns_csum_partial(ip, hl, 0)));
	}
	if (d.is_frag || !d.has_l4)
		return;
	uint8_t *l4 = f + d.l4_off;
	size_t l4len = d.l3_off + d.ip_len - d.l4_off;
	size_t coff;
	if (d.proto == NS_IPPROTO_TCP)
		coff = 16;
	else if (d.proto == NS_IPPROTO_UDP)
		coff = 6;
	else if (d.proto == NS_IPPROTO_ICMP || d.proto == NS_IPPROTO_ICMPV6)
		coff = 2;
	else
		return;
	if (coff + 2 > l4len)
		return;
	ns_store_be16(l4 + coff, 0);
	uint32_t sum = 0;
	if (d.proto != NS_IPPROTO_ICMP)
		sum = ns_csum_pseudo(&d.src, &d.dst, d.proto, (uint32_t)l4len);
	uint16_t c = ns_csum_fold(ns_csum_partial(l4, l4len, sum));
	if (d.proto == NS_IPPROTO_UDP && c == 0)
		c = 0xffff;
	ns_store_be16(l4 + coff, c);
}
