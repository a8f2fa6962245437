/*
 * tests/replay/tool/script_parse.c - parser for packetdrill-syntax scripts
 * (see script.h).  Works on a private NUL-terminated copy of the buffer with
 * comments blanked out; every scan is bounded by that copy, recursion is
 * depth-limited, and anything it does not understand becomes a statement of
 * kind NSR_S_UNSUPPORTED (or a parse error), never undefined behaviour.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "netstack/core.h"
#include "decode.h"
#include "script.h"

#define MAX_DEPTH 24
#define MAX_STMTS 100000
#define MAX_KIDS 4096

struct cur {
	const char *p;                  /* current position in the statement text */
	const char *err;                /* first error */
	int depth;
};

static char *xstrndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = 0;
	return d;
}

/* ---- expressions ------------------------------------------------------------------- */


void nsr_expr_free(struct nsr_expr *e)
{
	if (!e)
		return;
	for (int i = 0; i < e->nkids; i++)
		nsr_expr_free(e->kids[i]);
	free(e->kids);
	free(e->s);
	free(e->name);
	free(e);
}

static void skip_ws(struct cur *c)
{
	while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')
		c->p++;
}

static bool is_ident_start(char ch) { return isalpha((unsigned char)ch) || ch == '_'; }
static bool is_ident(char ch) { return isalnum((unsigned char)ch) || ch == '_'; }

static struct nsr_expr *enew(enum nsr_expr_kind k)
{
	struct nsr_expr *e = calloc(1, sizeof(*e));
	if (e)
		e->kind = k;
	return e;
}

static int eadd(struct nsr_expr *e, struct nsr_expr *kid)
{
	if (e->nkids >= MAX_KIDS)
		return -1;
	struct nsr_expr **nk = realloc(e->kids, (size_t)(e->nkids + 1) * sizeof(*nk));
	if (!nk)
		return -1;
	e->kids = nk;
	e->kids[e->nkids++] = kid;
	return 0;
}

static bool parse_int(struct cur *c, int64_t *v)
{
	const char *s = c->p;
	bool neg = false;
	if (*s == '-') {
		neg = true;
		s++;
	}
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	char *end;
	unsigned long long u = strtoull(s, &end, 0);
	if (errno || is_ident(*end))
		return false;
	if (u > (unsigned long long)INT64_MAX)
		u = (unsigned long long)INT64_MAX;
	*v = neg ? -(int64_t)u : (int64_t)u;
	c->p = end;
	return true;
}

static struct nsr_expr *parse_expr(struct cur *c);

static struct nsr_expr *parse_seq(struct cur *c, char close, enum nsr_expr_kind kind)
{
	struct nsr_expr *e = enew(kind);
	if (!e) {
		c->err = "out of memory";
		return NULL;
	}
	skip_ws(c);
	if (*c->p == close) {
		c->p++;
		return e;
	}
	for (;;) {
		skip_ws(c);
		char *name = NULL;
		if (kind == NSR_E_STRUCT && is_ident_start(*c->p)) {
			/* name=value or name(x)=value; otherwise a positional value */
			const char *q = c->p;
			while (is_ident(*q))
				q++;
			const char *after = q;
			if (*q == '(') {
				int d = 0;
				while (*q && (*q != ')' || d > 1)) {
					d += *q == '(';
					d -= *q == ')';
					q++;
				}
				if (*q == ')')
					q++;
			}
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '=' && q[1] != '=') {
				name = xstrndup(c->p, (size_t)(after - c->p));
				c->p = q + 1;
			}
		}
		struct nsr_expr *k = parse_expr(c);
		if (!k) {
			free(name);
			nsr_expr_free(e);
			return NULL;
		}
		k->name = name;
		if (eadd(e, k) < 0) {
			nsr_expr_free(k);
			nsr_expr_free(e);
			c->err = "too many elements";
			return NULL;
		}
		skip_ws(c);
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p == close) {
			c->p++;
			return e;
		}
		nsr_expr_free(e);
		c->err = "expected ',' or closing bracket";
		return NULL;
	}
}

static struct nsr_expr *parse_term(struct cur *c)
{
	skip_ws(c);
	if (++c->depth > MAX_DEPTH) {
		c->err = "nested too deeply";
		return NULL;
	}
	struct nsr_expr *e = NULL;
	int64_t v;
	if (strncmp(c->p, "...", 3) == 0) {
		c->p += 3;
		e = enew(NSR_E_ELLIPSIS);
	} else if (parse_int(c, &v)) {
		e = enew(NSR_E_INT);
		if (e)
			e->ival = v;
	} else if (*c->p == '"') {
		const char *s = ++c->p;
		while (*c->p && *c->p != '"')
			c->p++;
		if (*c->p != '"') {
			c->err = "unterminated string";
			c->depth--;
			return NULL;
		}
		e = enew(NSR_E_STR);
		if (e)
			e->s = xstrndup(s, (size_t)(c->p - s));
		c->p++;
	} else if (*c->p == '[') {
		c->p++;
		e = parse_seq(c, ']', NSR_E_LIST);
	} else if (*c->p == '{') {
		c->p++;
		e = parse_seq(c, '}', NSR_E_STRUCT);
	} else if (is_ident_start(*c->p)) {
		const char *s = c->p;
		while (is_ident(*c->p))
			c->p++;
		e = enew(NSR_E_SYM);
		if (e)
			e->s = xstrndup(s, (size_t)(c->p - s));
		skip_ws(c);
		if (e && *c->p == '(') {        /* htons(8080), inet_addr("..."): keep the arguments */
			c->p++;
			struct nsr_expr *args = parse_seq(c, ')', NSR_E_LIST);
			if (!args) {
				nsr_expr_free(e);
				c->depth--;
				return NULL;
			}
			if (eadd(e, args) < 0)
				nsr_expr_free(args);
		}
	} else {
		c->err = "unexpected character in expression";
		c->depth--;
		return NULL;
	}
	if (!e && !c->err)
		c->err = "out of memory";
	c->depth--;
	return e;
}

static struct nsr_expr *parse_expr(struct cur *c)
{
	struct nsr_expr *e = parse_term(c);
	if (!e)
		return NULL;
	skip_ws(c);
	if (*c->p != '|')
		return e;
	struct nsr_expr *o = enew(NSR_E_OR);
	if (!o || eadd(o, e) < 0) {
		nsr_expr_free(e);
		free(o);
		c->err = "out of memory";
		return NULL;
	}
	while (*c->p == '|') {
		c->p++;
		struct nsr_expr *k = parse_term(c);
		if (!k || eadd(o, k) < 0) {
			nsr_expr_free(k);
			nsr_expr_free(o);
			if (!c->err)
				c->err = "bad expression";
			return NULL;
		}
		skip_ws(c);
	}
	return o;
}

/* ---- times ---------------------------------------------------------------------------- */

/* A decimal number of seconds into microseconds. */
static bool parse_secs_us(struct cur *c, int64_t *us)
{
	const char *s = c->p;
	int64_t ip = 0, fp = 0;
	int fd = 0;
	bool any = false;
	while (isdigit((unsigned char)*s)) {
		if (ip > 100000000)
			return false;
		ip = ip * 10 + (*s++ - '0');
		any = true;
	}
	if (*s == '.' && s[1] != '.') {
		s++;
		while (isdigit((unsigned char)*s)) {
			if (fd < 6) {
				fp = fp * 10 + (*s - '0');
				fd++;
			}
			s++;
			any = true;
		}
	}
	if (!any)
		return false;
	while (fd < 6) {
		fp *= 10;
		fd++;
	}
	*us = ip * 1000000 + fp;
	c->p = s;
	return true;
}

static bool parse_time(struct cur *c, struct nsr_time *t)
{
	memset(t, 0, sizeof(*t));
	skip_ws(c);
	if (*c->p == '*') {
		c->p++;
		t->kind = NSR_T_ANY;
		return true;
	}
	bool rel = false;
	if (*c->p == '+') {
		rel = true;
		c->p++;
	}
	if (!parse_secs_us(c, &t->us))
		return false;
	t->kind = rel ? NSR_T_REL : NSR_T_ABS;
	if (*c->p == '~') {
		c->p++;
		if (*c->p == '+')
			c->p++;
		if (!parse_secs_us(c, &t->us_end))
			return false;
		t->kind = rel ? NSR_T_REL_RANGE : NSR_T_ABS_RANGE;
	}
	const char *save = c->p;
	skip_ws(c);
	if (strncmp(c->p, "...", 3) == 0) {       /* start...end, also written "start ... end" */
		c->p += 3;
		skip_ws(c);
		if (!parse_secs_us(c, &t->block_end_us))
			return false;
		t->blocking = true;
	} else {
		c->p = save;
	}
	return true;
}

/* ---- packets ---------------------------------------------------------------------------- */

static bool word(struct cur *c, const char *w)
{
	skip_ws(c);
	size_t n = strlen(w);
	if (strncmp(c->p, w, n) == 0 && !is_ident(c->p[n])) {
		c->p += n;
		return true;
	}
	return false;
}

static bool num_u32(struct cur *c, uint32_t *v)
{
	skip_ws(c);
	int64_t x;
	if (!parse_int(c, &x) || x < 0 || x > (int64_t)UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

static int opt_put(struct nsr_pkt_spec *k, const uint8_t *b, size_t n)
{
	if (k->optlen + n > sizeof(k->opts))
		return -1;
	memcpy(k->opts + k->optlen, b, n);
	k->optlen = (uint8_t)(k->optlen + n);
	return 0;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8> ; sets *unsup for options we cannot build */
static const char *parse_tcp_opts(struct cur *c, struct nsr_pkt_spec *k, const char **unsup)
{
	skip_ws(c);
	if (strncmp(c->p, "...", 3) == 0) {
		c->p += 3;
		skip_ws(c);
		if (*c->p != '>')
			return "expected '>' after '<...'";
		c->p++;
		k->opts_nocheck = true;
		return NULL;
	}
	k->has_opts = true;
	for (int guard = 0; guard < 64; guard++) {
		skip_ws(c);
		if (*c->p == '>') {
			c->p++;
			return NULL;
		}
		uint32_t a, b;
		uint8_t o[40];
		if (word(c, "nop")) {
			o[0] = 1;
			if (opt_put(k, o, 1) < 0) return "options too long";
		} else if (word(c, "eol")) {
			o[0] = 0;
			if (opt_put(k, o, 1) < 0) return "options too long";
		} else if (word(c, "mss")) {
			if (!num_u32(c, &a) || a > 65535) return "bad mss";
			o[0] = 2; o[1] = 4; o[2] = (uint8_t)(a >> 8); o[3] = (uint8_t)a;
			if (opt_put(k, o, 4) < 0) return "options too long";
		} else if (word(c, "wscale")) {
			if (!num_u32(c, &a) || a > 255) return "bad wscale";
			o[0] = 3; o[1] = 3; o[2] = (uint8_t)a;
			if (opt_put(k, o, 3) < 0) return "options too long";
		} else if (word(c, "sackOK")) {
			o[0] = 4; o[1] = 2;
			if (opt_put(k, o, 2) < 0) return "options too long";
		} else if (word(c, "sack")) {
			int nb = 0;
			uint8_t blk[32];
			for (; nb < 4; nb++) {
				const char *save = c->p;
				if (!num_u32(c, &a)) { c->p = save; break; }
				if (*c->p != ':') return "bad sack block";
				c->p++;
				if (!num_u32(c, &b)) return "bad sack block";
				be32(blk + 8 * nb, a);
				be32(blk + 8 * nb + 4, b);
			}
			o[0] = 5; o[1] = (uint8_t)(2 + 8 * nb);
			memcpy(o + 2, blk, (size_t)8 * nb);
			k->sack_off = k->optlen + 2;
			k->nsack = (uint8_t)nb;
			if (opt_put(k, o, 2 + 8 * (size_t)nb) < 0) return "options too long";
		} else if (word(c, "TS")) {
			if (!word(c, "val") || !num_u32(c, &a) || !word(c, "ecr") || !num_u32(c, &b))
				return "bad TS option";
			o[0] = 8; o[1] = 10;
			be32(o + 2, a);
			be32(o + 6, b);
			k->ts_off = k->optlen + 2;
			if (opt_put(k, o, 10) < 0) return "options too long";
		} else if (word(c, "FOEXP") || word(c, "FO")) {
			/* Fast Open: FO = kind 34, FOEXP = kind 254 + magic 0xF989; no value =
			 * a cookie request; hex digits = the cookie; TFO_COOKIE = the cookie the
			 * stack's tcp_fastopen_key gives this connection (filled when sent) */
			bool exp = c->p[-1] == 'P';
			size_t base = exp ? 4 : 2, n = 0;
			skip_ws(c);
			if (word(c, "TFO_COOKIE")) {
				k->fo_sym_off = (int)(k->optlen + base);
				n = 8;
				memset(o + base, 0, 8);
			} else {
				while (isxdigit((unsigned char)c->p[0]) && isxdigit((unsigned char)c->p[1]) && n < 32) {
					char hx[3] = { c->p[0], c->p[1], 0 };
					o[base + n++] = (uint8_t)strtoul(hx, NULL, 16);
					c->p += 2;
				}
				if (is_ident(*c->p))
					return "bad Fast Open cookie";
			}
			o[0] = exp ? 254 : 34;
			o[1] = (uint8_t)(base + n);
			if (exp) {
				o[2] = 0xF9;
				o[3] = 0x89;
			}
			if (opt_put(k, o, base + n) < 0) return "options too long";
		} else {
			/* md5, exp, mptcp, ...: not something this runner builds */
			const char *s = c->p;
			while (is_ident(*c->p))
				c->p++;
			static char name[32];
			size_t n = (size_t)(c->p - s);
			if (n == 0)
				return "bad TCP option";
			snprintf(name, sizeof(name), "%.*s", (int)NS_MIN(n, (size_t)20), s);
			*unsup = name;
			while (*c->p && *c->p != ',' && *c->p != '>')
				c->p++;
		}
		skip_ws(c);
		if (*c->p == ',')
			c->p++;
	}
	return "too many options";
}

struct icmp_name { const char *n; int v; };
static const struct icmp_name icmp_types[] = {
	{ "echo_reply", 0 }, { "unreachable", 3 }, { "source_quench", 4 }, { "redirect", 5 },
	{ "echo_request", 8 }, { "time_exceeded", 11 }, { "parameter_problem", 12 },
	{ "packet_too_big", 3 },        /* ICMPv6 2/0: kept as unreachable/frag_needed (code set below) */
};
static const struct icmp_name icmp_codes[] = {
	{ "net_unreachable", 0 }, { "host_unreachable", 1 }, { "protocol_unreachable", 2 },
	{ "port_unreachable", 3 }, { "frag_needed", 4 }, { "source_route_failed", 5 },
	{ "net_unknown", 6 }, { "host_unknown", 7 }, { "net_prohibited", 9 }, { "host_prohibited", 10 },
};

static const char *parse_seqspec(struct cur *c, uint32_t *seq, uint32_t *len)
{
	uint32_t end;
	if (!num_u32(c, seq) || *c->p != ':')
		return "bad sequence range (seq:end(len))";
	c->p++;
	if (!num_u32(c, &end) || *c->p != '(')
		return "bad sequence range (seq:end(len))";
	c->p++;
	if (!num_u32(c, len) || *c->p != ')')
		return "bad sequence range (seq:end(len))";
	c->p++;
	if (end - *seq != *len)
		return "sequence range and length disagree";
	return NULL;
}

static const char *parse_packet(struct cur *c, struct nsr_stmt *st, const char **unsup)
{
	struct nsr_pkt_spec *k = &st->pkt;
	k->ts_off = k->sack_off = k->fo_sym_off = -1;
	k->outbound = *c->p == '>';
	c->p++;
	skip_ws(c);
	if (*c->p == '[') {                 /* [noecn] / [ect0] / [ect1] / [ce] / [ect01] */
		const char *s = ++c->p;
		while (*c->p && *c->p != ']')
			c->p++;
		if (*c->p != ']')
			return "bad [tos] spec";
		size_t n = (size_t)(c->p - s);
		c->p++;
		k->has_tos = true;
		if (n == 5 && !strncmp(s, "noecn", 5)) k->tos = 0;
		else if (n == 4 && !strncmp(s, "ect0", 4)) k->tos = 2;
		else if (n == 4 && !strncmp(s, "ect1", 4)) k->tos = 1;
		else if (n == 2 && !strncmp(s, "ce", 2)) k->tos = 3;
		else {
			*unsup = "ECN/TOS spec";
			return NULL;
		}
	}
	if (word(c, "udp")) {
		k->proto = NSR_P_UDP;
		skip_ws(c);
		if (*c->p != '(')
			return "udp needs (length)";
		c->p++;
		if (!num_u32(c, &k->udp_len) || *c->p != ')' || k->udp_len > 65000)
			return "bad udp length";
		c->p++;
		return NULL;
	}
	if (word(c, "icmp")) {
		k->proto = NSR_P_ICMP;
		bool found = false;
		for (size_t i = 0; i < NS_ARRAY_SIZE(icmp_types); i++)
			if (word(c, icmp_types[i].n)) {
				k->icmp_type = (uint8_t)icmp_types[i].v;
				found = true;
				break;
			}
		if (!found)
			return "unknown icmp type";
		if (k->icmp_type == 3 && !strncmp(c->p - 14, "packet_too_big", 14))
			k->icmp_code = 4;
		for (size_t i = 0; i < NS_ARRAY_SIZE(icmp_codes); i++)
			if (word(c, icmp_codes[i].n)) {
				k->icmp_code = (uint8_t)icmp_codes[i].v;
				break;
			}
		if (word(c, "mtu") && !num_u32(c, &k->icmp_mtu))
			return "bad mtu";
		skip_ws(c);
		if (*c->p == '[') {
			c->p++;
			const char *e = parse_seqspec(c, &k->icmp_inner_seq, &k->icmp_inner_len);
			if (e)
				return e;
			skip_ws(c);
			if (*c->p != ']')
				return "expected ']'";
			c->p++;
			k->icmp_has_inner = true;
		}
		return NULL;
	}
	k->proto = NSR_P_TCP;
	skip_ws(c);
	int nf = 0;
	if (*c->p == '-' && (c->p[1] == ' ' || c->p[1] == '\t')) {   /* "-": no flags at all */
		c->p++;
		nf = 1;
	}
	for (; *c->p && strchr("SFRP.EWU", *c->p); c->p++, nf++) {
		switch (*c->p) {
		case 'S': k->flags |= NSR_TH_SYN; break;
		case 'F': k->flags |= NSR_TH_FIN; break;
		case 'R': k->flags |= NSR_TH_RST; break;
		case 'P': k->flags |= NSR_TH_PSH; break;
		case '.': k->flags |= NSR_TH_ACK; break;
		case 'E': k->flags |= NSR_TH_ECE; break;
		case 'W': k->flags |= NSR_TH_CWR; break;
		case 'U': k->flags |= NSR_TH_URG; break;
		}
	}
	if (!nf)
		return "expected TCP flags, udp or icmp";
	const char *e = parse_seqspec(c, &k->seq, &k->len);
	if (e)
		return e;
	if (k->len > 65000)
		return "payload too long";
	for (int guard = 0; guard < 8; guard++) {
		if (word(c, "ack")) {
			if (!num_u32(c, &k->ack))
				return "bad ack";
			k->has_ack = true;
		} else if (word(c, "win")) {
			if (!num_u32(c, &k->win) || k->win > 65535)
				return "bad win";
			k->has_win = true;
		} else if (word(c, "urg")) {
			*unsup = "urgent pointer";
			uint32_t u;
			if (!num_u32(c, &u))
				return "bad urg";
		} else {
			break;
		}
	}
	skip_ws(c);
	if (*c->p == '<') {
		c->p++;
		e = parse_tcp_opts(c, k, unsup);
		if (e)
			return e;
	}
	return NULL;
}

/* ---- syscalls ---------------------------------------------------------------------------- */

static const char *parse_syscall(struct cur *c, struct nsr_stmt *st)
{
	const char *s = c->p;
	while (is_ident(*c->p))
		c->p++;
	st->call = xstrndup(s, (size_t)(c->p - s));
	skip_ws(c);
	if (*c->p != '(')
		return "expected '(' after the call name";
	c->p++;
	st->args = parse_seq(c, ')', NSR_E_LIST);
	if (!st->args)
		return c->err ? c->err : "bad arguments";
	skip_ws(c);
	if (*c->p != '=')
		return "expected '= result'";
	c->p++;
	st->ret = parse_expr(c);
	if (!st->ret)
		return c->err ? c->err : "bad result";
	skip_ws(c);
	if (is_ident_start(*c->p)) {
		const char *e = c->p;
		while (is_ident(*c->p))
			c->p++;
		st->err_name = xstrndup(e, (size_t)(c->p - e));
	}
	/* an optional (note) follows; ignore the rest */
	return NULL;
}

/* ---- statement splitting ------------------------------------------------------------------ */

/* Blanks // and slash-star comments (not inside strings, backquotes or python blocks). */
static void strip_comments(char *b, size_t n)
{
	bool str = false, bq = false, py = false;
	for (size_t i = 0; i < n; i++) {
		if (py) {
			if (b[i] == '}' && i + 1 < n && b[i + 1] == '%') {
				py = false;
				i++;
			}
			continue;
		}
		if (str) {
			if (b[i] == '\\' && i + 1 < n)
				i++;
			else if (b[i] == '"')
				str = false;
			continue;
		}
		if (bq) {
			if (b[i] == '`')
				bq = false;
			continue;
		}
		if (b[i] == '"')
			str = true;
		else if (b[i] == '`')
			bq = true;
		else if (b[i] == '%' && i + 1 < n && b[i + 1] == '{')
			py = true;
		else if (b[i] == '/' && i + 1 < n && b[i + 1] == '/') {
			while (i < n && b[i] != '\n')
				b[i++] = ' ';
			i--;
		} else if (b[i] == '/' && i + 1 < n && b[i + 1] == '*') {
			size_t j = i;
			while (j < n && !(b[j] == '*' && j + 1 < n && b[j + 1] == '/'))
				j++;
			size_t end = j + 2 <= n ? j + 2 : n;
			for (size_t k = i; k < end; k++)
				if (b[k] != '\n')
					b[k] = ' ';
			i = end - 1;
		}
	}
}

static int line_of(const char *base, const char *p)
{
	int l = 1;
	for (const char *q = base; q < p; q++)
		l += *q == '\n';
	return l;
}

static int push_stmt(struct nsr_script *s, struct nsr_stmt *st)
{
	if (s->n >= MAX_STMTS)
		return -1;
	if (s->n == s->cap) {
		int nc = s->cap ? s->cap * 2 : 64;
		struct nsr_stmt *nv = realloc(s->v, (size_t)nc * sizeof(*nv));
		if (!nv)
			return -1;
		s->v = nv;
		s->cap = nc;
	}
	s->v[s->n++] = *st;
	return 0;
}

static void stmt_free(struct nsr_stmt *st)
{
	free(st->text);
	free(st->opt_name);
	free(st->opt_value);
	free(st->call);
	nsr_expr_free(st->args);
	nsr_expr_free(st->ret);
	free(st->err_name);
	free(st->why);
}

void nsr_script_free(struct nsr_script *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n; i++)
		stmt_free(&s->v[i]);
	free(s->v);
	free(s);
}

/* End of a statement: newline at bracket depth 0 (or end of text). */
static const char *stmt_end(const char *p)
{
	int depth = 0;
	bool str = false;
	for (; *p; p++) {
		if (str) {
			if (*p == '"')
				str = false;
			continue;
		}
		if (*p == '"')
			str = true;
		else if (*p == '(' || *p == '[' || *p == '{')
			depth++;
		else if ((*p == ')' || *p == ']' || *p == '}') && depth > 0)
			depth--;
		else if (*p == '\n' && depth == 0)
			return p;
	}
	return p;
}

static char *trim_dup(const char *s, const char *e)
{
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	return xstrndup(s, (size_t)(e - s));
}

/* Parses one timed statement starting at c->p (after the time); fills st. */
static const char *parse_body(struct cur *c, const char *end, struct nsr_stmt *st)
{
	skip_ws(c);
	const char *unsup = NULL;
	const char *e = NULL;
	if (*c->p == '<' || *c->p == '>') {
		st->kind = NSR_S_PACKET;
		e = parse_packet(c, st, &unsup);
	} else if (is_ident_start(*c->p)) {
		st->kind = NSR_S_SYSCALL;
		e = parse_syscall(c, st);
	} else {
		e = "expected a packet, a system call, a shell command or a python block";
	}
	if (!e && unsup) {
		st->kind = NSR_S_UNSUPPORTED;
		char w[96];
		snprintf(w, sizeof(w), "unsupported packet feature: %s", unsup);
		st->why = strdup(w);
	}
	(void)end;
	return e;
}

int nsr_script_parse(const char *buf, size_t len, struct nsr_script **out, char *err, size_t errlen)
{
	*out = NULL;
	char *b = malloc(len + 1);
	struct nsr_script *s = calloc(1, sizeof(*s));
	if (!b || !s) {
		free(b);
		free(s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(b, buf, len);
	b[len] = 0;
	for (size_t i = 0; i < len; i++)
		if (b[i] == 0)
			b[i] = ' ';           /* NUL bytes cannot end the text early */
	strip_comments(b, len);
	const char *p = b;
	const char *fail = NULL;
	int fail_line = 0;
	while (*p && !fail) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		struct nsr_stmt st;
		memset(&st, 0, sizeof(st));
		st.line = line_of(b, p);
		st.time.kind = NSR_T_REL;      /* untimed statements happen "+0" */
		const char *e = NULL;
		if (p[0] == '-' && p[1] == '-') {
			const char *q = p;
			while (*q && *q != '\n')
				q++;
			st.kind = NSR_S_OPTION;
			st.text = trim_dup(p, q);
			const char *eq = memchr(p, '=', (size_t)(q - p));
			const char *ne = eq ? eq : q;
			st.opt_name = trim_dup(p + 2, ne);
			st.opt_value = eq ? trim_dup(eq + 1, q) : strdup("");
			p = q;
		} else {
			struct cur c = { .p = p };
			if (*p != '`' && !(p[0] == '%' && p[1] == '{')) {
				if (!parse_time(&c, &st.time)) {
					fail = "expected a time, an option, a shell command or a python block";
					fail_line = st.line;
					break;
				}
				skip_ws(&c);
			}
			if (*c.p == '`') {
				const char *q = strchr(c.p + 1, '`');
				if (!q) {
					fail = "unterminated shell command";
					fail_line = st.line;
					break;
				}
				st.kind = NSR_S_SHELL;
				st.text = trim_dup(c.p + 1, q);
				p = q + 1;
			} else if (c.p[0] == '%' && c.p[1] == '{') {
				const char *q = strstr(c.p + 2, "}%");
				if (!q) {
					fail = "unterminated python block";
					fail_line = st.line;
					break;
				}
				st.kind = NSR_S_PYTHON;
				st.text = trim_dup(c.p + 2, q);
				p = q + 2;
			} else {
				const char *q = stmt_end(c.p);
				st.text = trim_dup(p, q);
				e = parse_body(&c, q, &st);
				p = q;
			}
		}
		if (!st.text && !e)
			e = "out of memory";
		if (e) {
			fail = e;
			fail_line = st.line;
			stmt_free(&st);
			break;
		}
		if (push_stmt(s, &st) < 0) {
			fail = "too many statements";
			fail_line = st.line;
			stmt_free(&st);
			break;
		}
	}
	free(b);
	if (fail) {
		snprintf(err, errlen, "line %d: %s", fail_line, fail);
		nsr_script_free(s);
		return -1;
	}
	*out = s;
	return 0;
}
