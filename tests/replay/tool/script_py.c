/*
 * tests/replay/tool/script_py.c - the `%{ ... }%` blocks of packet scripts
 * that are plain assertions on TCP_INFO values: each line `assert EXPR[, msg]`
 * with EXPR a Python expression over integers, tcpi_* fields and the
 * TCP_CA_* / TCPI_OPT_* constants (or/and/not, comparison chains, | ^ &,
 * << >>, + -, * // %, unary -, ~, parentheses).  The values come from
 * getsockopt(TCP_INFO) on the socket under test, in Linux's struct tcp_info
 * layout.  A block with anything else (imports, assignments, prints, other
 * names) is not evaluated and is reported as skipped.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "script_int.h"

/* Linux's struct tcp_info (include/uapi/linux/tcp.h), as netstack fills it. */
struct lx_tcp_info {
	uint8_t tcpi_state, tcpi_ca_state, tcpi_retransmits, tcpi_probes, tcpi_backoff, tcpi_options;
	uint8_t tcpi_wscale, tcpi_flags;
	uint32_t tcpi_rto, tcpi_ato, tcpi_snd_mss, tcpi_rcv_mss;
	uint32_t tcpi_unacked, tcpi_sacked, tcpi_lost, tcpi_retrans, tcpi_fackets;
	uint32_t tcpi_last_data_sent, tcpi_last_ack_sent, tcpi_last_data_recv, tcpi_last_ack_recv;
	uint32_t tcpi_pmtu, tcpi_rcv_ssthresh, tcpi_rtt, tcpi_rttvar, tcpi_snd_ssthresh, tcpi_snd_cwnd;
	uint32_t tcpi_advmss, tcpi_reordering;
	uint32_t tcpi_rcv_rtt, tcpi_rcv_space;
	uint32_t tcpi_total_retrans;
	uint64_t tcpi_pacing_rate, tcpi_max_pacing_rate;
	uint64_t tcpi_bytes_acked, tcpi_bytes_received;
	uint32_t tcpi_segs_out, tcpi_segs_in;
	uint32_t tcpi_notsent_bytes, tcpi_min_rtt, tcpi_data_segs_in, tcpi_data_segs_out;
	uint64_t tcpi_delivery_rate;
	uint64_t tcpi_busy_time, tcpi_rwnd_limited, tcpi_sndbuf_limited;
	uint32_t tcpi_delivered, tcpi_delivered_ce;
	uint64_t tcpi_bytes_sent, tcpi_bytes_retrans;
	uint32_t tcpi_dsack_dups, tcpi_reord_seen;
	uint32_t tcpi_rcv_ooopack;
	uint32_t tcpi_snd_wnd, tcpi_rcv_wnd;
	uint32_t tcpi_rehash;
	uint16_t tcpi_total_rto, tcpi_total_rto_recoveries;
	uint32_t tcpi_total_rto_time;
};

#define F(name) { #name, offsetof(struct lx_tcp_info, name), sizeof(((struct lx_tcp_info *)0)->name) }
static const struct { const char *n; size_t off, size; } fields[] = {
	F(tcpi_state), F(tcpi_ca_state), F(tcpi_retransmits), F(tcpi_probes), F(tcpi_backoff), F(tcpi_options),
	F(tcpi_rto), F(tcpi_ato), F(tcpi_snd_mss), F(tcpi_rcv_mss), F(tcpi_unacked), F(tcpi_sacked),
	F(tcpi_lost), F(tcpi_retrans), F(tcpi_fackets), F(tcpi_last_data_sent), F(tcpi_last_ack_sent),
	F(tcpi_last_data_recv), F(tcpi_last_ack_recv), F(tcpi_pmtu), F(tcpi_rcv_ssthresh), F(tcpi_rtt),
	F(tcpi_rttvar), F(tcpi_snd_ssthresh), F(tcpi_snd_cwnd), F(tcpi_advmss), F(tcpi_reordering),
	F(tcpi_rcv_rtt), F(tcpi_rcv_space), F(tcpi_total_retrans), F(tcpi_pacing_rate), F(tcpi_max_pacing_rate),
	F(tcpi_bytes_acked), F(tcpi_bytes_received), F(tcpi_segs_out), F(tcpi_segs_in), F(tcpi_notsent_bytes),
	F(tcpi_min_rtt), F(tcpi_data_segs_in), F(tcpi_data_segs_out), F(tcpi_delivery_rate), F(tcpi_busy_time),
	F(tcpi_rwnd_limited), F(tcpi_sndbuf_limited), F(tcpi_delivered), F(tcpi_delivered_ce),
	F(tcpi_bytes_sent), F(tcpi_bytes_retrans), F(tcpi_dsack_dups), F(tcpi_reord_seen), F(tcpi_rcv_ooopack),
	F(tcpi_snd_wnd), F(tcpi_rcv_wnd), F(tcpi_rehash), F(tcpi_total_rto), F(tcpi_total_rto_recoveries),
	F(tcpi_total_rto_time),
};

static const struct { const char *n; int64_t v; } consts[] = {
	{ "TCP_CA_Open", 0 }, { "TCP_CA_Disorder", 1 }, { "TCP_CA_CWR", 2 }, { "TCP_CA_Recovery", 3 },
	{ "TCP_CA_Loss", 4 }, { "TCPI_OPT_TIMESTAMPS", 1 }, { "TCPI_OPT_SACK", 2 }, { "TCPI_OPT_WSCALE", 4 },
	{ "TCPI_OPT_ECN", 8 }, { "TCPI_OPT_ECN_SEEN", 16 }, { "TCPI_OPT_SYN_DATA", 32 },
	{ "True", 1 }, { "False", 0 }, { "TCP_INFINITE_SSTHRESH", 0x7fffffff },
	{ "TCP_ESTABLISHED", 1 }, { "TCP_SYN_SENT", 2 }, { "TCP_SYN_RECV", 3 }, { "TCP_FIN_WAIT1", 4 },
	{ "TCP_FIN_WAIT2", 5 }, { "TCP_TIME_WAIT", 6 }, { "TCP_CLOSE", 7 }, { "TCP_CLOSE_WAIT", 8 },
	{ "TCP_LAST_ACK", 9 }, { "TCP_LISTEN", 10 }, { "TCP_CLOSING", 11 },
};

struct pyvars {
	int n;
	char name[16][48];
	int64_t v[16];
};

struct pyc {
	struct pyvars *vars;
	const char *p;
	const struct lx_tcp_info *ti;
	const char *err;                /* not understood: skip the block */
	char name[48];                  /* first unknown name */
	int depth;
};

static void ws(struct pyc *c)
{
	while (*c->p == ' ' || *c->p == '\t')
		c->p++;
}

static bool lit(struct pyc *c, const char *s)
{
	ws(c);
	size_t n = strlen(s);
	if (strncmp(c->p, s, n))
		return false;
	if (isalpha((unsigned char)s[0]) && (isalnum((unsigned char)c->p[n]) || c->p[n] == '_'))
		return false;
	c->p += n;
	return true;
}

static int64_t name_value(struct pyc *c, const char *n, size_t len)
{
	char buf[48];
	if (len >= sizeof(buf)) {
		c->err = "name too long";
		return 0;
	}
	memcpy(buf, n, len);
	buf[len] = 0;
	const uint8_t *ti = (const uint8_t *)c->ti;
	for (size_t i = 0; i < NS_ARRAY_SIZE(fields); i++)
		if (!strcmp(buf, fields[i].n)) {
			uint64_t v = 0;
			if (fields[i].size == 1) v = ti[fields[i].off];
			else if (fields[i].size == 2) { uint16_t x; memcpy(&x, ti + fields[i].off, 2); v = x; }
			else if (fields[i].size == 4) { uint32_t x; memcpy(&x, ti + fields[i].off, 4); v = x; }
			else memcpy(&v, ti + fields[i].off, 8);
			return (int64_t)v;
		}
	if (!strcmp(buf, "tcpi_snd_wscale"))
		return c->ti->tcpi_wscale & 15;
	if (!strcmp(buf, "tcpi_rcv_wscale"))
		return c->ti->tcpi_wscale >> 4;
	if (!strcmp(buf, "tcpi_delivery_rate_app_limited"))
		return c->ti->tcpi_flags & 1;
	for (size_t i = 0; i < NS_ARRAY_SIZE(consts); i++)
		if (!strcmp(buf, consts[i].n))
			return consts[i].v;
	for (int i = 0; c->vars && i < c->vars->n; i++)
		if (!strcmp(buf, c->vars->name[i]))
			return c->vars->v[i];
	if (!c->err) {
		snprintf(c->name, sizeof(c->name), "%s", buf);
		c->err = "unknown name";
	}
	return 0;
}

static int64_t expr(struct pyc *c);

static int64_t atom(struct pyc *c)
{
	ws(c);
	if (++c->depth > 32) {
		c->err = "nested too deeply";
		return 0;
	}
	int64_t v = 0;
	if (*c->p == '(') {
		c->p++;
		v = expr(c);
		if (!lit(c, ")"))
			c->err = "missing )";
	} else if (isdigit((unsigned char)*c->p)) {
		char *end;
		v = (int64_t)strtoll(c->p, &end, 0);
		c->p = end;
	} else if (isalpha((unsigned char)*c->p) || *c->p == '_') {
		const char *s = c->p;
		while (isalnum((unsigned char)*c->p) || *c->p == '_')
			c->p++;
		v = name_value(c, s, (size_t)(c->p - s));
		ws(c);
		if (*c->p == '(' || *c->p == '[' || *c->p == '.')
			c->err = "calls, indexing and attributes are not supported";
	} else {
		c->err = "unexpected character";
	}
	c->depth--;
	return v;
}

static int64_t unary(struct pyc *c)
{
	if (lit(c, "-"))
		return -unary(c);
	if (lit(c, "+"))
		return unary(c);
	if (lit(c, "~"))
		return ~unary(c);
	return atom(c);
}

static int64_t mul(struct pyc *c)
{
	int64_t v = unary(c);
	for (int g = 0; g < 1000 && !c->err; g++) {
		if (lit(c, "//") || lit(c, "/")) {
			int64_t d = unary(c);
			if (!d) { c->err = "division by zero"; return 0; }
			int64_t q = v / d;
			if ((v % d) && ((v < 0) != (d < 0)))
				q--;                    /* Python floors */
			v = q;
		} else if (lit(c, "*")) {
			v *= unary(c);
		} else if (lit(c, "%")) {
			int64_t d = unary(c);
			if (!d) { c->err = "division by zero"; return 0; }
			int64_t m = v % d;
			if (m && ((m < 0) != (d < 0)))
				m += d;
			v = m;
		} else {
			break;
		}
	}
	return v;
}

static int64_t add(struct pyc *c)
{
	int64_t v = mul(c);
	for (int g = 0; g < 1000 && !c->err; g++) {
		if (lit(c, "+"))
			v += mul(c);
		else if (lit(c, "-"))
			v -= mul(c);
		else
			break;
	}
	return v;
}

static int64_t shift(struct pyc *c)
{
	int64_t v = add(c);
	for (int g = 0; g < 1000 && !c->err; g++) {
		if (lit(c, "<<")) {
			int64_t s = add(c);
			v = s >= 0 && s < 63 ? v << s : 0;
		} else if (lit(c, ">>")) {
			int64_t s = add(c);
			v = s >= 0 && s < 63 ? v >> s : 0;
		} else {
			break;
		}
	}
	return v;
}

static int64_t band(struct pyc *c)
{
	int64_t v = shift(c);
	while (!c->err && *c->p && (ws(c), *c->p == '&'))
		c->p++, v &= shift(c);
	return v;
}

static int64_t bxor(struct pyc *c)
{
	int64_t v = band(c);
	while (!c->err && (ws(c), *c->p == '^'))
		c->p++, v ^= band(c);
	return v;
}

static int64_t bor(struct pyc *c)
{
	int64_t v = bxor(c);
	while (!c->err && (ws(c), *c->p == '|'))
		c->p++, v |= bxor(c);
	return v;
}

static int64_t comparison(struct pyc *c)
{
	int64_t left = bor(c), result = 1;
	bool any = false;
	for (int g = 0; g < 16 && !c->err; g++) {
		int op;
		if (lit(c, "==")) op = 0;
		else if (lit(c, "!=")) op = 1;
		else if (lit(c, "<=")) op = 2;
		else if (lit(c, ">=")) op = 3;
		else if (lit(c, "<")) op = 4;
		else if (lit(c, ">")) op = 5;
		else break;
		int64_t right = bor(c);
		bool ok = op == 0 ? left == right : op == 1 ? left != right : op == 2 ? left <= right :
			  op == 3 ? left >= right : op == 4 ? left < right : left > right;
		result = result && ok;
		left = right;
		any = true;
	}
	return any ? result : left;
}

static int64_t notx(struct pyc *c)
{
	if (lit(c, "not"))
		return !notx(c);
	return comparison(c);
}

static int64_t andx(struct pyc *c)
{
	int64_t v = notx(c);
	while (!c->err && lit(c, "and")) {
		int64_t r = notx(c);
		v = v ? r : v;
	}
	return v;
}

static int64_t expr(struct pyc *c)
{
	int64_t v = andx(c);
	while (!c->err && lit(c, "or")) {
		int64_t r = andx(c);
		v = v ? v : r;
	}
	return v;
}

int nsr_py_eval(const char *text, const void *tcp_info, size_t ti_len, char *msg, size_t msglen)
{
	struct lx_tcp_info ti;
	memset(&ti, 0, sizeof(ti));
	memcpy(&ti, tcp_info, NS_MIN(ti_len, sizeof(ti)));
	/* first pass: every line must be an assertion (or a print, or NAME = integer
	 * expression) we understand; second: evaluate */
	for (int pass = 0; pass < 2; pass++) {
		struct pyvars vars = { 0 };
		const char *p = text;
		while (*p) {
			const char *e = strchr(p, '\n');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			char line[1024];
			if (n >= sizeof(line)) {
				snprintf(msg, msglen, "line too long");
				return -1;
			}
			memcpy(line, p, n);
			line[n] = 0;
			char *hash = strchr(line, '#');
			if (hash)
				*hash = 0;
			p = e ? e + 1 : p + n;
			struct pyc c = { .p = line, .ti = &ti, .vars = &vars };
			ws(&c);
			if (!*c.p)
				continue;
			if (!strncmp(c.p, "print(", 6) || !strncmp(c.p, "print ", 6))
				continue;               /* output only: nothing to check */
			const char *id = c.p;
			size_t idn = 0;
			while (isalnum((unsigned char)id[idn]) || id[idn] == '_')
				idn++;
			const char *after = id + idn;
			while (*after == ' ' || *after == '\t')
				after++;
			if (idn && idn < 48 && !isdigit((unsigned char)id[0]) && after[0] == '=' && after[1] != '=' &&
			    strncmp(id, "assert", 6)) {
				c.p = after + 1;
				int64_t v = expr(&c);
				ws(&c);
				if (c.err || *c.p || vars.n >= 16) {
					snprintf(msg, msglen, "python assignment not understood: %.60s", id);
					return -1;
				}
				memcpy(vars.name[vars.n], id, idn);
				vars.name[vars.n][idn] = 0;
				vars.v[vars.n++] = v;
				continue;
			}
			if (!lit(&c, "assert")) {
				snprintf(msg, msglen, "python statement other than assert: %.60s", c.p);
				return -1;
			}
			const char *start = c.p;
			int64_t v = expr(&c);
			ws(&c);
			if (!c.err && *c.p && *c.p != ',')
				c.err = "unexpected text";
			if (c.err) {
				snprintf(msg, msglen, "python expression not understood (%s%s%s): %.60s", c.err,
					 c.name[0] ? " " : "", c.name, start);
				return -1;
			}
			if (pass == 1 && !v) {
				size_t l = strcspn(start, ",");
				snprintf(msg, msglen, "python assertion failed: %.*s", (int)NS_MIN(l, (size_t)120), start);
				/* show the tcpi_ values involved */
				size_t pos = strlen(msg);
				const char *q = start, *qend = start + l;
				while ((q = strstr(q, "tcpi_")) && q < qend && pos + 40 < msglen) {
					size_t k = 0;
					while (isalnum((unsigned char)q[k]) || q[k] == '_')
						k++;
					struct pyc c2 = { .p = q, .ti = &ti, .vars = &vars };
					int64_t x = name_value(&c2, q, k);
					pos += (size_t)snprintf(msg + pos, msglen - pos, " [%.*s=%lld]", (int)k, q, (long long)x);
					q += k;
				}
				return 0;
			}
		}
	}
	return 1;
}
