/*
 * netstack/socket_addr.c - struct sockaddr_in / sockaddr_in6 to and from
 * (ns_addr, port), with Linux's length and family checks and IPv4-mapped
 * IPv6 addresses (::ffff:a.b.c.d) for dual-stack sockets.
 */
#include <arpa/inet.h>
#include "sock.h"

#define NS_SIN_LEN 16
#define NS_SIN6_LEN_RFC2133 24   /* sockaddr_in6 without sin6_scope_id */

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool ns__addr_is_v4mapped(const uint8_t b[16])
{
	return memcmp(b, v4mapped_prefix, 12) == 0;
}

static int family_of(const struct sockaddr *sa)
{
	return ((const struct sockaddr_in *)(const void *)sa)->sin_family;
}

int ns__sockaddr_parse(const struct sockaddr *sa, socklen_t len, int want_family,
		       struct ns_addr *a, uint16_t *port)
{
	if (!sa || len < sizeof(sa->sa_family))
		return -NS_EINVAL;
	int fam = family_of(sa);
	if (want_family == NS_AF_INET || (want_family == 0 && fam == NS_AF_INET)) {
		struct sockaddr_in sin;
		if (len < NS_SIN_LEN)
			return -NS_EINVAL;
		if (fam != NS_AF_INET)
			return -NS_EAFNOSUPPORT;
		memcpy(&sin, sa, sizeof(sin));
		ns_addr_v4(a, (const uint8_t *)&sin.sin_addr);
		*port = ntohs(sin.sin_port);
		return 0;
	}
	if (want_family == NS_AF_INET6 || (want_family == 0 && fam == NS_AF_INET6)) {
		struct sockaddr_in6 sin6;
		if (len < NS_SIN6_LEN_RFC2133)
			return -NS_EINVAL;
		if (fam != NS_AF_INET6)
			return -NS_EAFNOSUPPORT;
		memset(&sin6, 0, sizeof(sin6));
		memcpy(&sin6, sa, NS_MIN((size_t)len, sizeof(sin6)));
		memset(a, 0, sizeof(*a));
		const uint8_t *b = (const uint8_t *)&sin6.sin6_addr;
		if (ns__addr_is_v4mapped(b)) {
			ns_addr_v4(a, b + 12);
		} else {
			a->family = NS_AF_INET6;
			memcpy(a->b, b, 16);
		}
		*port = ntohs(sin6.sin6_port);
		return 0;
	}
	return -NS_EAFNOSUPPORT;
}

socklen_t ns__sockaddr_fill(struct sockaddr *sa, socklen_t len, int family,
			    const struct ns_addr *a, uint16_t port)
{
	union {
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} u;
	socklen_t n;
	memset(&u, 0, sizeof(u));
	if (family == NS_AF_INET) {
		u.sin.sin_family = NS_AF_INET;
		u.sin.sin_port = htons(port);
		if (a && a->family == NS_AF_INET)
			memcpy(&u.sin.sin_addr, a->b, 4);
		n = sizeof(u.sin);
	} else {
		u.sin6.sin6_family = NS_AF_INET6;
		u.sin6.sin6_port = htons(port);
		uint8_t *b = (uint8_t *)&u.sin6.sin6_addr;
		if (a && a->family == NS_AF_INET) {
			memcpy(b, v4mapped_prefix, 12);
			memcpy(b + 12, a->b, 4);
		} else if (a && a->family == NS_AF_INET6) {
			memcpy(b, a->b, 16);
		}
		n = sizeof(u.sin6);
	}
	if (sa && len)
		memcpy(sa, &u, NS_MIN(len, n));
	return n;
}
