/*
 * tests/replay/tool/config.c - parser of pcap-replay's stack configuration
 * (format in config.h).  Defensive: bounded lines and tokens, every number
 * range-checked, no allocation.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

#define MAX_TOK 8
#define TOK_LEN 64

void nsr_config_default(struct nsr_config *c)
{
	memset(c, 0, sizeof(*c));
	const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	memcpy(c->mac, mac, 6);
	c->mtu = 1500;
	c->settle_ns = 3000000000ull;
	c->tail_ns = 5000000000ull;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!*s)
		return -1;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int nsr_parse_secs(const char *s, uint64_t *ns)
{
	uint64_t ip = 0, fp = 0;
	int fd = 0;
	const char *p = s;
	if (!*p)
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (ip > 100000000ull)
			return -1;
		ip = ip * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (fd < 9) {
				fp = fp * 10 + (uint64_t)(*p - '0');
				fd++;
			}
		}
	}
	if (*p || (p == s))
		return -1;
	while (fd < 9) {
		fp *= 10;
		fd++;
	}
	*ns = ip * 1000000000ull + fp;
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	uint64_t v;
	if (parse_u64(s, 65535, &v) < 0 || v == 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int line_addr(struct nsr_config *c, char t[][TOK_LEN], int n, const char **why)
{
	if (n != 2) {
		*why = "usage: addr ADDR/PLEN";
		return -1;
	}
	if (c->naddr >= NSR_CFG_MAX_ADDRS) {
		*why = "too many addresses";
		return -1;
	}
	int plen = -1;
	if (!strchr(t[1], '/') || ns_addr_parse(t[1], &c->addr[c->naddr].a, &plen) < 0) {
		*why = "bad address (ADDR/PLEN expected)";
		return -1;
	}
	c->addr[c->naddr++].plen = plen;
	return 0;
}

static int line_route(struct nsr_config *c, char t[][TOK_LEN], int n, const char **why)
{
	if (c->nroute >= NSR_CFG_MAX_ROUTES) {
		*why = "too many routes";
		return -1;
	}
	if (!(n == 2 || (n == 4 && strcmp(t[2], "via") == 0))) {
		*why = "usage: route DST/PLEN|default [via GW]";
		return -1;
	}
	memset(&c->route[c->nroute], 0, sizeof(c->route[0]));
	bool has_gw = n == 4;
	if (has_gw) {
		if (ns_addr_parse(t[3], &c->route[c->nroute].gw, NULL) < 0) {
			*why = "bad gateway";
			return -1;
		}
	}
	if (strcmp(t[1], "default") == 0) {
		if (!has_gw) {
			*why = "default route needs a gateway";
			return -1;
		}
		c->route[c->nroute].dst.family = c->route[c->nroute].gw.family;
		c->route[c->nroute].plen = 0;
	} else {
		int plen = -1;
		if (!strchr(t[1], '/') || ns_addr_parse(t[1], &c->route[c->nroute].dst, &plen) < 0) {
			*why = "bad destination (DST/PLEN expected)";
			return -1;
		}
		c->route[c->nroute].plen = plen;
		if (has_gw && c->route[c->nroute].gw.family != c->route[c->nroute].dst.family) {
			*why = "gateway family differs from destination";
			return -1;
		}
	}
	c->route[c->nroute].has_gw = has_gw;
	c->nroute++;
	return 0;
}

static int add_svc(struct nsr_config *c, enum nsr_svc_kind k, const char *port, const char **why)
{
	if (c->nsvc >= NSR_CFG_MAX_SVCS) {
		*why = "too many services";
		return -1;
	}
	struct nsr_svc_cfg *s = &c->svc[c->nsvc];
	memset(s, 0, sizeof(*s));
	s->kind = k;
	if (parse_port(port, &s->port) < 0) {
		*why = "bad port";
		return -1;
	}
	c->nsvc++;
	return 0;
}

static int line_connect(struct nsr_config *c, char t[][TOK_LEN], int n, const char **why)
{
	if (n < 4 || strcmp(t[1], "tcp") != 0) {
		*why = "usage: connect tcp ADDR PORT [at SECONDS] [send BYTES]";
		return -1;
	}
	if (add_svc(c, NSR_SVC_TCP_CONNECT, t[3], why) < 0)
		return -1;
	struct nsr_svc_cfg *s = &c->svc[c->nsvc - 1];
	if (ns_addr_parse(t[2], &s->raddr, NULL) < 0) {
		c->nsvc--;
		*why = "bad address";
		return -1;
	}
	for (int i = 4; i < n; i += 2) {
		if (i + 1 >= n) {
			c->nsvc--;
			*why = "missing value";
			return -1;
		}
		int bad;
		if (strcmp(t[i], "at") == 0)
			bad = nsr_parse_secs(t[i + 1], &s->at_ns);
		else if (strcmp(t[i], "send") == 0)
			bad = parse_u64(t[i + 1], 1ull << 32, &s->send_bytes);
		else
			bad = -1;
		if (bad < 0) {
			c->nsvc--;
			*why = "bad connect option";
			return -1;
		}
	}
	return 0;
}

static int parse_line(struct nsr_config *c, char t[][TOK_LEN], int n, const char **why)
{
	const char *k = t[0];
	uint64_t v;
	if (strcmp(k, "mac") == 0) {
		if (n != 2 || ns_mac_parse(t[1], c->mac) < 0 || (c->mac[0] & 1)) {
			*why = "bad MAC (unicast aa:bb:cc:dd:ee:ff expected)";
			return -1;
		}
		return 0;
	}
	if (strcmp(k, "mtu") == 0) {
		if (n != 2 || parse_u64(t[1], 65535, &v) < 0 || v < 576) {
			*why = "bad MTU (576..65535)";
			return -1;
		}
		c->mtu = (uint32_t)v;
		return 0;
	}
	if (strcmp(k, "addr") == 0 || strcmp(k, "ip4") == 0 || strcmp(k, "ip6") == 0)
		return line_addr(c, t, n, why);
	if (strcmp(k, "route") == 0)
		return line_route(c, t, n, why);
	if (strcmp(k, "seed") == 0) {
		if (n != 2 || parse_u64(t[1], UINT64_MAX, &v) < 0) {
			*why = "bad seed";
			return -1;
		}
		c->has_seed = true;
		c->seed = v;
		return 0;
	}
	if (strcmp(k, "settle") == 0) {
		if (n != 2 || nsr_parse_secs(t[1], &v) < 0 || v > 3600ull * 1000000000ull) {
			*why = "bad settle time (seconds)";
			return -1;
		}
		c->settle_ns = v;
		return 0;
	}
	if (strcmp(k, "answer-neigh") == 0) {
		if (n != 1) {
			*why = "usage: answer-neigh";
			return -1;
		}
		c->answer_neigh = true;
		return 0;
	}
	if (strcmp(k, "flags") == 0) {
		for (int i = 1; i < n; i++) {
			if (strcmp(t[i], "nodad") == 0)
				c->stack_flags |= NS_STACK_F_NODAD;
			else if (strcmp(t[i], "noauto6") == 0)
				c->stack_flags |= NS_STACK_F_NOAUTO6;
			else {
				*why = "unknown flag (nodad, noauto6)";
				return -1;
			}
		}
		return 0;
	}
	if (strcmp(k, "tail") == 0) {
		if (n != 2 || nsr_parse_secs(t[1], &v) < 0 || v > 3600ull * 1000000000ull) {
			*why = "bad tail time (seconds)";
			return -1;
		}
		c->tail_ns = v;
		return 0;
	}
	if (strcmp(k, "listen") == 0) {
		if (n != 3 || (strcmp(t[1], "tcp") && strcmp(t[1], "udp"))) {
			*why = "usage: listen tcp|udp PORT";
			return -1;
		}
		return add_svc(c, t[1][0] == 't' ? NSR_SVC_TCP_LISTEN : NSR_SVC_UDP_LISTEN, t[2], why);
	}
	static const struct { const char *name; enum nsr_svc_kind k; } svcs[] = {
		{ "tcp-echo", NSR_SVC_TCP_ECHO }, { "udp-echo", NSR_SVC_UDP_ECHO },
		{ "tcp-discard", NSR_SVC_TCP_DISCARD }, { "udp-discard", NSR_SVC_UDP_DISCARD },
	};
	for (size_t i = 0; i < sizeof(svcs) / sizeof(svcs[0]); i++) {
		if (strcmp(k, svcs[i].name) == 0) {
			if (n != 2) {
				*why = "usage: SERVICE PORT";
				return -1;
			}
			return add_svc(c, svcs[i].k, t[1], why);
		}
	}
	if (strcmp(k, "connect") == 0)
		return line_connect(c, t, n, why);
	*why = "unknown directive";
	return -1;
}

int nsr_config_parse(const char *buf, size_t len, struct nsr_config *c, char *err, size_t errlen)
{
	nsr_config_default(c);
	size_t i = 0;
	int lineno = 0;
	while (i < len) {
		lineno++;
		size_t s = i;
		while (i < len && buf[i] != '\n')
			i++;
		size_t e = i;
		if (i < len)
			i++;
		char t[MAX_TOK][TOK_LEN];
		int n = 0;
		size_t p = s;
		const char *why = NULL;
		while (p < e && !why) {
			while (p < e && (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\r'))
				p++;
			if (p >= e || buf[p] == '#')
				break;
			size_t ts = p;
			while (p < e && buf[p] != ' ' && buf[p] != '\t' && buf[p] != '\r' && buf[p] != '#')
				p++;
			if (n >= MAX_TOK)
				why = "too many words";
			else if (p - ts >= TOK_LEN)
				why = "word too long";
			else {
				memcpy(t[n], buf + ts, p - ts);
				t[n][p - ts] = 0;
				if (memchr(t[n], 0, p - ts))
					why = "NUL byte";
				n++;
			}
		}
		if (!why && n > 0)
			parse_line(c, t, n, &why);
		if (why) {
			snprintf(err, errlen, "line %d: %s", lineno, why);
			return -1;
		}
	}
	return 0;
}

int nsr_config_load(const char *path, struct nsr_config *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = malloc(1 << 20);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	char e2[200];
	int r = nsr_config_parse(buf, n, out, e2, sizeof(e2));
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, e2);
	free(buf);
	return r;
}
