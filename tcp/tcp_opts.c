/*
 * tcp/tcp_opts.c - TCP option parsing and Linux-identical option layout.
 * Owns: ns_tcp_opts_parse/len/write/syn/fmt (see tcp_opts.h).
 * Read first: RFC 9293 §3.1-3.2, RFC 7323 §2.2-3.2, RFC 2018 §2-3,
 * Linux tcp_parse_options() and tcp_options_write() for the behaviour we match.
 */
#include <stdio.h>
#include <string.h>

#include "netstack/core.h"
#include "tcp_opts.h"

/* Linux tcp_parse_fastopen_option(): SYN / SYN-ACK only, even lengths. */
static void parse_fastopen(const uint8_t *c, int len, bool syn, bool exp, struct ns_tcp_opts *o)
{
	if (!syn || len < 0 || (len & 1))
		return;
	if (len >= NS_TCP_FASTOPEN_COOKIE_MIN && len <= NS_TCP_FASTOPEN_COOKIE_MAX)
		memcpy(o->fo_val, c, (size_t)len);
	else if (len != 0) {
		/* malformed: like no option at all (Linux foc->len = -1) */
		o->fo_len = -1;
		o->present &= ~NS_TCP_OPT_F_FASTOPEN;
		return;
	}
	o->fo_len = (int8_t)len;
	o->fo_exp = exp;
	o->present |= NS_TCP_OPT_F_FASTOPEN;
}

/* Bytes the Fast Open option takes, aligned to 4 (0 when not written). */
static size_t fastopen_len(const struct ns_tcp_opts *o)
{
	if (!(o->present & NS_TCP_OPT_F_FASTOPEN) || o->fo_len < 0)
		return 0;
	return ((size_t)(o->fo_exp ? 4 : 2) + (size_t)o->fo_len + 3) & ~(size_t)3;
}

/* One option of kind/size at p (size bytes, size >= 2, in bounds). */
static void parse_one(const uint8_t *p, uint8_t kind, uint8_t size, bool syn,
		      struct ns_tcp_opts *o)
{
	switch (kind) {
	case NS_TCPOPT_MSS:
		if (size == NS_TCPOLEN_MSS && syn) {
			uint16_t mss = ns_load_be16(p + 2);
			if (mss) {
				o->mss = mss;
				o->present |= NS_TCP_OPT_F_MSS;
			}
		}
		break;
	case NS_TCPOPT_WSCALE:
		if (size == NS_TCPOLEN_WSCALE && syn) {
			o->wscale = NS_MIN(p[2], NS_TCP_MAX_WSCALE);
			o->present |= NS_TCP_OPT_F_WSCALE;
		}
		break;
	case NS_TCPOPT_SACK_PERM:
		if (size == NS_TCPOLEN_SACK_PERM && syn)
			o->present |= NS_TCP_OPT_F_SACK_PERM;
		break;
	case NS_TCPOPT_TS:
		if (size == NS_TCPOLEN_TS) {
			o->tsval = ns_load_be32(p + 2);
			o->tsecr = ns_load_be32(p + 6);
			o->present |= NS_TCP_OPT_F_TS;
		}
		break;
	case NS_TCPOPT_SACK: {
		unsigned body = (unsigned)size - NS_TCPOLEN_SACK_BASE;
		if (size < NS_TCPOLEN_SACK_BASE + NS_TCPOLEN_SACK_PERBLOCK ||
		    body % NS_TCPOLEN_SACK_PERBLOCK)
			break;
		unsigned n = NS_MIN(body / NS_TCPOLEN_SACK_PERBLOCK, (unsigned)NS_TCP_MAX_SACKS);
		for (unsigned i = 0; i < n; i++) {
			o->sacks[i].start = ns_load_be32(p + 2 + 8 * i);
			o->sacks[i].end = ns_load_be32(p + 6 + 8 * i);
		}
		o->num_sacks = (uint8_t)n;
		o->present |= NS_TCP_OPT_F_SACK;
		break;
	}
	case NS_TCPOPT_FASTOPEN:
		parse_fastopen(p + 2, size - 2, syn, false, o);
		break;
	case NS_TCPOPT_EXP:
		if (size >= 4 && ns_load_be16(p + 2) == NS_TCPOPT_FASTOPEN_MAGIC)
			parse_fastopen(p + 4, size - 4, syn, true, o);
		break;
	default:
		break;          /* unknown kinds are skipped by their length */
	}
}

size_t ns_tcp_opts_parse(const uint8_t *opt, size_t len, bool syn, struct ns_tcp_opts *out)
{
	memset(out, 0, sizeof(*out));
	if (len > NS_TCP_MAX_OPT_LEN)
		len = NS_TCP_MAX_OPT_LEN;
	size_t i = 0;
	while (i < len) {
		uint8_t kind = opt[i];
		if (kind == NS_TCPOPT_EOL)
			return i;
		if (kind == NS_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return i;               /* no room for a length byte */
		uint8_t size = opt[i + 1];
		if (size < 2 || size > len - i)
			return i;               /* "silly options" / partial option: stop */
		parse_one(opt + i, kind, size, syn, out);
		i += size;
	}
	return i;
}

/* Pieces of the Linux layout, in order. */
static bool want_sack(const struct ns_tcp_opts *o)
{
	return (o->present & NS_TCP_OPT_F_SACK) && o->num_sacks > 0;
}

static size_t fixed_len(const struct ns_tcp_opts *o)
{
	size_t n = 0;
	if (o->present & NS_TCP_OPT_F_MSS)
		n += NS_TCPOLEN_MSS;
	if (o->present & NS_TCP_OPT_F_TS)
		n += NS_TCPOLEN_TS_ALIGNED;     /* sackOK shares the two NOP bytes */
	else if (o->present & NS_TCP_OPT_F_SACK_PERM)
		n += 4;                         /* nop, nop, sackOK */
	if (o->present & NS_TCP_OPT_F_WSCALE)
		n += 4;                         /* nop, wscale */
	return n;
}

unsigned ns_tcp_opts_max_sacks(const struct ns_tcp_opts *o)
{
	size_t used = fixed_len(o) + fastopen_len(o);
	if (used > NS_TCP_MAX_OPT_LEN)
		return 0;
	size_t room = NS_TCP_MAX_OPT_LEN - used;
	if (room < 4 + NS_TCPOLEN_SACK_PERBLOCK)
		return 0;
	return (unsigned)NS_MIN((room - 4) / NS_TCPOLEN_SACK_PERBLOCK, (size_t)NS_TCP_MAX_SACKS);
}

static unsigned sacks_to_write(const struct ns_tcp_opts *o)
{
	if (!want_sack(o))
		return 0;
	return NS_MIN((unsigned)o->num_sacks, ns_tcp_opts_max_sacks(o));
}

size_t ns_tcp_opts_len(const struct ns_tcp_opts *o)
{
	size_t n = fixed_len(o);
	unsigned ns = sacks_to_write(o);
	if (ns)
		n += 4 + (size_t)ns * NS_TCPOLEN_SACK_PERBLOCK;
	return n + fastopen_len(o);
}

static uint8_t *put_ts(uint8_t *p, const struct ns_tcp_opts *o)
{
	if (o->present & NS_TCP_OPT_F_SACK_PERM) {
		*p++ = NS_TCPOPT_SACK_PERM;
		*p++ = NS_TCPOLEN_SACK_PERM;
	} else {
		*p++ = NS_TCPOPT_NOP;
		*p++ = NS_TCPOPT_NOP;
	}
	*p++ = NS_TCPOPT_TS;
	*p++ = NS_TCPOLEN_TS;
	ns_store_be32(p, o->tsval);
	ns_store_be32(p + 4, o->tsecr);
	return p + 8;
}

size_t ns_tcp_opts_write(uint8_t *buf, size_t cap, const struct ns_tcp_opts *o)
{
	size_t total = ns_tcp_opts_len(o);
	if (total > cap)
		return 0;
	uint8_t *p = buf;
	if (o->present & NS_TCP_OPT_F_MSS) {
		*p++ = NS_TCPOPT_MSS;
		*p++ = NS_TCPOLEN_MSS;
		ns_store_be16(p, o->mss);
		p += 2;
	}
	if (o->present & NS_TCP_OPT_F_TS) {
		p = put_ts(p, o);
	} else if (o->present & NS_TCP_OPT_F_SACK_PERM) {
		*p++ = NS_TCPOPT_NOP;
		*p++ = NS_TCPOPT_NOP;
		*p++ = NS_TCPOPT_SACK_PERM;
		*p++ = NS_TCPOLEN_SACK_PERM;
	}
	if (o->present & NS_TCP_OPT_F_WSCALE) {
		*p++ = NS_TCPOPT_NOP;
		*p++ = NS_TCPOPT_WSCALE;
		*p++ = NS_TCPOLEN_WSCALE;
		*p++ = o->wscale;
	}
	unsigned ns = sacks_to_write(o);
	if (ns) {
		*p++ = NS_TCPOPT_NOP;
		*p++ = NS_TCPOPT_NOP;
		*p++ = NS_TCPOPT_SACK;
		*p++ = (uint8_t)(NS_TCPOLEN_SACK_BASE + ns * NS_TCPOLEN_SACK_PERBLOCK);
		for (unsigned i = 0; i < ns; i++) {
			ns_store_be32(p, o->sacks[i].start);
			ns_store_be32(p + 4, o->sacks[i].end);
			p += 8;
		}
	}
	if (fastopen_len(o)) {
		size_t l = (size_t)o->fo_len + (o->fo_exp ? 4 : 2);
		if (o->fo_exp) {
			*p++ = NS_TCPOPT_EXP;
			*p++ = (uint8_t)l;
			ns_store_be16(p, NS_TCPOPT_FASTOPEN_MAGIC);
			p += 2;
		} else {
			*p++ = NS_TCPOPT_FASTOPEN;
			*p++ = (uint8_t)l;
		}
		memcpy(p, o->fo_val, (size_t)o->fo_len);
		p += o->fo_len;
		if ((l & 3) == 2) {
			*p++ = NS_TCPOPT_NOP;
			*p++ = NS_TCPOPT_NOP;
		}
	}
	return (size_t)(p - buf);
}

void ns_tcp_opts_syn(struct ns_tcp_opts *o, uint16_t mss, int wscale, bool sack, bool ts,
		     uint32_t tsval, uint32_t tsecr)
{
	memset(o, 0, sizeof(*o));
	o->present = NS_TCP_OPT_F_MSS;
	o->mss = mss;
	if (wscale >= 0) {
		o->present |= NS_TCP_OPT_F_WSCALE;
		o->wscale = (uint8_t)NS_MIN(wscale, NS_TCP_MAX_WSCALE);
	}
	if (sack)
		o->present |= NS_TCP_OPT_F_SACK_PERM;
	if (ts) {
		o->present |= NS_TCP_OPT_F_TS;
		o->tsval = tsval;
		o->tsecr = tsecr;
	}
}

/* snprintf into buf at *off, never past cap. */
static void fmt_add(char *buf, size_t cap, size_t *off, const char *sep, const char *fmt,
		    unsigned long a, unsigned long b)
{
	if (*off >= cap)
		return;
	int n = snprintf(buf + *off, cap - *off, "%s", *off ? sep : "");
	if (n > 0)
		*off += (size_t)n;
	if (*off >= cap)
		return;
	n = snprintf(buf + *off, cap - *off, fmt, a, b);
	if (n > 0)
		*off += (size_t)n;
}

const char *ns_tcp_opts_fmt(const struct ns_tcp_opts *o, char *buf, size_t cap)
{
	size_t off = 0;
	if (!cap)
		return buf;
	buf[0] = '\0';
	if (o->present & NS_TCP_OPT_F_MSS)
		fmt_add(buf, cap, &off, ",", "mss %lu", o->mss, 0);
	if (o->present & NS_TCP_OPT_F_TS) {
		if (o->present & NS_TCP_OPT_F_SACK_PERM)
			fmt_add(buf, cap, &off, ",", "sackOK", 0, 0);
		else
			fmt_add(buf, cap, &off, ",", "nop,nop", 0, 0);
		fmt_add(buf, cap, &off, ",", "TS val %lu ecr %lu", o->tsval, o->tsecr);
	} else if (o->present & NS_TCP_OPT_F_SACK_PERM) {
		fmt_add(buf, cap, &off, ",", "nop,nop,sackOK", 0, 0);
	}
	if (o->present & NS_TCP_OPT_F_WSCALE)
		fmt_add(buf, cap, &off, ",", "nop,wscale %lu", o->wscale, 0);
	unsigned ns = sacks_to_write(o);
	if (ns) {
		fmt_add(buf, cap, &off, ",", "nop,nop,sack", 0, 0);
		for (unsigned i = 0; i < ns; i++)
			fmt_add(buf, cap, &off, " ", "%lu:%lu", o->sacks[i].start, o->sacks[i].end);
	}
	if (fastopen_len(o)) {
		fmt_add(buf, cap, &off, ",", o->fo_exp ? "FOEXP" : "FO", 0, 0);
		for (int i = 0; i < o->fo_len; i++)
			fmt_add(buf, cap, &off, i ? "" : " ", "%02lx", o->fo_val[i], 0);
	}
	return buf;
}
