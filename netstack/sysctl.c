/*
 * netstack/sysctl.c - per-stack tunables under Linux's sysctl names, so an
 * embedder (or a test that mirrors a Linux host's settings, like the
 * packetdrill runner) can set what `sysctl -w` would set on Linux.
 * Supported: net.ipv4.tcp_rmem, net.ipv4.tcp_wmem ("MIN DEFAULT MAX");
 * one number: net.ipv4.tcp_tw_reuse, tcp_max_tw_buckets, tcp_invalid_ratelimit.
 */
#include <stdio.h>
#include <stdlib.h>
#include "core.h"

int ns__tcp_sysctl(struct ns_stack *stk, const char *name, const uint32_t v[3], uint32_t out[3]);
int ns__tcp_sysctl_int(struct ns_stack *stk, const char *name, const long *v, long *out);

/* One decimal integer (optional sign, blanks around), like proc_dointvec. */
static int parse1(const char *s, long *v)
{
	char *end;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!((*s >= '0' && *s <= '9') || *s == '-'))
		return -NS_EINVAL;
	*v = strtol(s, &end, 10);
	if (end == s || *v > INT32_MAX || *v < INT32_MIN)
		return -NS_EINVAL;
	s = end;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	return *s ? -NS_EINVAL : 0;
}

static const char *leaf(const char *name)
{
	static const char *const prefixes[] = { "net.ipv4.", "net/ipv4/" };
	for (size_t i = 0; i < NS_ARRAY_SIZE(prefixes); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return name + strlen(prefixes[i]);
	return NULL;
}

static int parse3(const char *s, uint32_t v[3])
{
	for (int i = 0; i < 3; i++) {
		char *end;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s < '0' || *s > '9')
			return -NS_EINVAL;
		unsigned long x = strtoul(s, &end, 10);
		if (x > UINT32_MAX)
			return -NS_EINVAL;
		v[i] = (uint32_t)x;
		s = end;
	}
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	return *s ? -NS_EINVAL : 0;
}

int ns_sysctl_set(struct ns_stack *stk, const char *name, const char *value)
{
	const char *l = name ? leaf(name) : NULL;
	if (!l || !value)
		return -NS_ENOENT;
	long cur;
	if (ns__tcp_sysctl_int(stk, l, NULL, &cur) == 0) {
		long x;
		int e = parse1(value, &x);
		return e < 0 ? e : ns__tcp_sysctl_int(stk, l, &x, NULL);
	}
	uint32_t v[3];
	int r = parse3(value, v);
	if (r < 0)
		return r;
	return ns__tcp_sysctl(stk, l, v, NULL);
}

int ns_sysctl_get(struct ns_stack *stk, const char *name, char *buf, size_t len)
{
	const char *l = name ? leaf(name) : NULL;
	if (!l)
		return -NS_ENOENT;
	long cur;
	if (ns__tcp_sysctl_int(stk, l, NULL, &cur) == 0) {
		int k = snprintf(buf, len, "%ld", cur);
		return k < 0 || (size_t)k >= len ? -NS_ERANGE : 0;
	}
	uint32_t v[3];
	int r = ns__tcp_sysctl(stk, l, NULL, v);
	if (r < 0)
		return r;
	int n = snprintf(buf, len, "%u\t%u\t%u", v[0], v[1], v[2]);
	return n < 0 || (size_t)n >= len ? -NS_ERANGE : 0;
}
