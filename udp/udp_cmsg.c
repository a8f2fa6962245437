/*
 * udp/udp_cmsg.c - control messages on send, with Linux's validation
 * (udp_cmsg_send + ip_cmsg_send / ip6_datagram_send_ctl): IP_PKTINFO
 * (source address, interface), IP_TTL, IP_TOS, IPV6_PKTINFO,
 * IPV6_HOPLIMIT, IPV6_TCLASS.  A malformed header or an unknown type at a
 * level that applies is -EINVAL; levels that do not apply are skipped.
 */
#include "udp_internal.h"

#define CM_ALIGN(n) (((n) + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1))
#define CM_LEN(n) (CM_ALIGN(sizeof(struct cmsghdr)) + (n))
#define NS_SOL_UDP 17
#define NS_SCM_RIGHTS 1
#define NS_SCM_CREDENTIALS 2
#define NS_IPV6_HOPLIMIT 52

/* Walks the control buffer like for_each_cmsghdr + CMSG_OK; fn returns 0 or -errno. */
typedef int (*cmsg_fn)(struct ns_sock *sk, const struct cmsghdr *c, const uint8_t *data,
		       const struct ns_addr *dst, struct udp_txopt *o);

static int walk(struct ns_sock *sk, const struct msghdr *m, const struct ns_addr *dst,
		struct udp_txopt *o, cmsg_fn fn)
{
	const uint8_t *base = m->msg_control;
	size_t total = m->msg_controllen, off = 0;
	while (off + sizeof(struct cmsghdr) <= total) {
		struct cmsghdr c;
		memcpy(&c, base + off, sizeof(c));
		if (c.cmsg_len < sizeof(struct cmsghdr) || c.cmsg_len > total - off)
			return -NS_EINVAL;
		int err = fn(sk, &c, base + off + CM_ALIGN(sizeof(struct cmsghdr)), dst, o);
		if (err)
			return err;
		off += CM_ALIGN(c.cmsg_len);
	}
	return 0;
}

static int get_i(const uint8_t *d)
{
	int v;
	memcpy(&v, d, sizeof(v));
	return v;
}

static int src_ok(struct ns_stack *stk, const struct ns_addr *a)
{
	uint32_t fl = 0;
	if (!ns__addr_local(stk, a, &fl) || (fl & (NS_IFA_TENTATIVE | NS_IFA_DUPLICATE)))
		return -NS_EINVAL;
	return 0;
}

static int one_ip(struct ns_sock *sk, const struct cmsghdr *c, const uint8_t *d,
		  const struct ns_addr *dst, struct udp_txopt *o)
{
	switch (c->cmsg_type) {
	case NS_IP_PKTINFO: {                   /* struct in_pktinfo */
		if (c->cmsg_len != CM_LEN(12))
			return -NS_EINVAL;
		int ifi = get_i(d);
		if (ifi)
			o->oif = ifi;
		struct ns_addr spec;
		ns_addr_v4(&spec, d + 4);
		if (!ns_addr_is_any(&spec)) {
			/* Linux: a non-local source fails in the route lookup */
			o->src_bad = src_ok(sk->stk, &spec) < 0;
			o->src = spec;
			o->has_src = true;
		}
		return 0;
	}
	case NS_IP_TTL: {
		if (c->cmsg_len != CM_LEN(sizeof(int)))
			return -NS_EINVAL;
		int v = get_i(d);
		if (v < 1 || v > 255)
			return -NS_EINVAL;
		o->ttl = v;
		return 0;
	}
	case NS_IP_TOS: {
		int v;
		if (c->cmsg_len == CM_LEN(sizeof(int)))
			v = get_i(d);
		else if (c->cmsg_len == CM_LEN(1))
			v = d[0];
		else
			return -NS_EINVAL;
		if (v < 0 || v > 255)
			return -NS_EINVAL;
		o->tos = v;
		return 0;
	}
	default:
		return -NS_EINVAL;
	}
}

/* IPV6_PKTINFO: struct in6_pktinfo (16-byte address, int ifindex). */
static int pktinfo6(struct ns_sock *sk, const struct cmsghdr *c, const uint8_t *d,
		    const struct ns_addr *dst, struct udp_txopt *o)
{
	if (c->cmsg_len < CM_LEN(20))
		return -NS_EINVAL;
	int ifi = get_i(d + 16);
	if (ifi) {
		if (o->oif && o->oif != ifi)
			return -NS_EINVAL;
		o->oif = ifi;
	}
	struct ns_addr a;
	memset(&a, 0, sizeof(a));
	if (ns__addr_is_v4mapped(d)) {
		ns_addr_v4(&a, d + 12);
	} else {
		a.family = NS_AF_INET6;
		memcpy(a.b, d, 16);
	}
	if (ns_addr_is_any(&a))
		return 0;
	if (a.family != dst->family || src_ok(sk->stk, &a) < 0)
		return -NS_EINVAL;
	o->src = a;
	o->has_src = true;
	return 0;
}

static int one_ipv6(struct ns_sock *sk, const struct cmsghdr *c, const uint8_t *d,
		    const struct ns_addr *dst, struct udp_txopt *o)
{
	int v;
	switch (c->cmsg_type) {
	case NS_IPV6_PKTINFO:
		return pktinfo6(sk, c, d, dst, o);
	case NS_IPV6_HOPLIMIT:
	case NS_IPV6_TCLASS:
		if (c->cmsg_len != CM_LEN(sizeof(int)))
			return -NS_EINVAL;
		v = get_i(d);
		if (v < -1 || v > 0xff)
			return -NS_EINVAL;
		if (c->cmsg_type == NS_IPV6_HOPLIMIT)
			o->ttl = v;
		else
			o->tos = v < 0 ? 0 : v;
		return 0;
	default:
		return -NS_EINVAL;
	}
}

static int one(struct ns_sock *sk, const struct cmsghdr *c, const uint8_t *d,
	       const struct ns_addr *dst, struct udp_txopt *o)
{
	if (c->cmsg_level == NS_SOL_SOCKET)     /* __sock_cmsg_send */
		return c->cmsg_type == NS_SCM_RIGHTS || c->cmsg_type == NS_SCM_CREDENTIALS ? 0 : -NS_EINVAL;
	if (c->cmsg_level == NS_SOL_UDP)        /* UDP_SEGMENT (GSO) is not offered */
		return -NS_EINVAL;
	if (dst->family == NS_AF_INET) {
		/* ip_cmsg_send: SOL_IP, plus IPV6_PKTINFO on AF_INET6 sockets */
		if (c->cmsg_level == NS_IPPROTO_IPV6 && c->cmsg_type == NS_IPV6_PKTINFO &&
		    sk->domain == NS_AF_INET6)
			return pktinfo6(sk, c, d, dst, o);
		return c->cmsg_level == NS_IPPROTO_IP ? one_ip(sk, c, d, dst, o) : 0;
	}
	return c->cmsg_level == NS_IPPROTO_IPV6 ? one_ipv6(sk, c, d, dst, o) : 0;
}

int ns__udp_cmsg_send(struct ns_sock *sk, const struct msghdr *m, const struct ns_addr *dst,
		      struct udp_txopt *o)
{
	if (!m->msg_control || m->msg_controllen < sizeof(struct cmsghdr))
		return 0;
	return walk(sk, m, dst, o, one);
}
