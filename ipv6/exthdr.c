/*
 * ipv6/exthdr.c - the extension header walk (RFC 8200 4).
 * Owns: hop-by-hop (first only) and destination options with the TLV
 * option actions (4.2: the two high bits of an unknown option type), the
 * routing header (RFC 5095: type 0 never executed; segments left 0 skipped,
 * otherwise parameter problem), atomic fragments (RFC 6946) and the hand-off
 * of real fragments to reassembly, no next header.
 * Every header is bounds-checked against the datagram before it is read;
 * each header is at least 8 bytes, so any legal chain ends.
 */
#include "ipv6_internal.h"

#define OPT_PAD1 0
#define OPT_PADN 1
#define OPT_ROUTER_ALERT 5
#define MAX_OPTS 8                      /* Linux max_{hbh,dst}_opts_cnt */
#define MAX_PAD 7                       /* RFC 4942 2.1.9.5 */

enum { OPTS_OK = 0, OPTS_BAD, OPTS_DISCARD };

/* RFC 8200 4.2: an unrecognized option's action is in its two high bits. */
static int unknown_option(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m,
			  uint8_t type, uint32_t ptr)
{
	switch (type >> 6) {
	case 0:
		return OPTS_OK;         /* skip over it */
	case 1:
		return OPTS_DISCARD;    /* discard silently */
	case 2:                         /* discard, parameter problem even to multicast */
		ns__icmp6_send_error(stk, pkt, m, NS_ICMP6_PARAM_PROB, NS_ICMP6_UNK_OPTION, ptr);
		return OPTS_DISCARD;
	default:                        /* discard, parameter problem unless multicast */
		if (!ns_ip6_is_mcast(&m->dst))
			ns__icmp6_send_error(stk, pkt, m, NS_ICMP6_PARAM_PROB,
					     NS_ICMP6_UNK_OPTION, ptr);
		return OPTS_DISCARD;
	}
}

static bool known_option(uint8_t hdr, uint8_t type, uint8_t olen)
{
	/* RFC 2711 Router Alert (MLD uses it): hop-by-hop, 2 bytes of value */
	return hdr == NS_NH_HOP && type == OPT_ROUTER_ALERT && olen == 2;
}

/* Options of a hop-by-hop or destination options header at off, hlen bytes. */
static int parse_tlvs(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m,
		      uint8_t hdr, uint32_t off, uint32_t hlen)
{
	const uint8_t *ip = pkt->head + pkt->l3;
	uint32_t i = off + 2, end = off + hlen;
	int pad = 0, count = 0;
	while (i < end) {
		uint8_t type = ip[i];
		if (type == OPT_PAD1) {
			if (++pad > MAX_PAD)
				return OPTS_BAD;
			i++;
			continue;
		}
		if (end - i < 2 || (uint32_t)ip[i + 1] + 2 > end - i)
			return OPTS_BAD;
		uint8_t olen = ip[i + 1];
		if (type == OPT_PADN) {
			pad += olen + 2;
			if (pad > MAX_PAD)
				return OPTS_BAD;
			for (uint32_t k = 0; k < olen; k++)
				if (ip[i + 2 + k])
					return OPTS_BAD;   /* RFC 4942: PadN carries zeros */
		} else {
			pad = 0;
			if (++count > MAX_OPTS)
				return OPTS_BAD;
			if (!known_option(hdr, type, olen)) {
				int r = unknown_option(stk, pkt, m, type, i);
				if (r != OPTS_OK)
					return r;
			}
		}
		i += 2u + olen;
	}
	return OPTS_OK;
}

/* Length of the generic extension header at w->off, or 0 if truncated. */
static uint32_t ext_len(const struct ns_pkt *pkt, uint32_t off)
{
	uint32_t total = pkt->tail - pkt->l3;
	if (off + 8 > total)
		return 0;
	uint32_t hlen = ((uint32_t)pkt->head[pkt->l3 + off + 1] + 1) * 8;
	return off + hlen <= total ? hlen : 0;
}

static void advance(struct ns_ip6_walk *w, const uint8_t *ip, uint32_t hlen)
{
	w->nh_off = w->off;
	w->nh = ip[w->off];
	w->off += hlen;
	w->first = false;
}

static int walk_options(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m,
			struct ns_ip6_walk *w)
{
	const uint8_t *ip = pkt->head + pkt->l3;
	if (w->nh == NS_NH_HOP && !w->first) {
		/* RFC 8200 4.3: only right after the IPv6 header */
		NS_STAT_INC(stk, Ip6InUnknownProtos);
		ns__icmp6_send_error(stk, pkt, m, NS_ICMP6_PARAM_PROB, NS_ICMP6_UNK_NEXTHDR, w->nh_off);
		return NS_WALK_DROP;
	}
	uint32_t hlen = ext_len(pkt, w->off);
	if (!hlen) {
		NS_STAT_INC(stk, Ip6InHdrErrors);
		return NS_WALK_DROP;
	}
	int r = parse_tlvs(stk, pkt, m, w->nh, w->off, hlen);
	if (r != OPTS_OK) {
		NS_STAT_INC(stk, Ip6InHdrErrors);
		return NS_WALK_DROP;
	}
	advance(w, ip, hlen);
	return -1;
}

static int walk_routing(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m,
			struct ns_ip6_walk *w)
{
	const uint8_t *ip = pkt->head + pkt->l3;
	uint32_t hlen = ext_len(pkt, w->off);
	if (!hlen) {
		NS_STAT_INC(stk, Ip6InHdrErrors);
		return NS_WALK_DROP;
	}
	if (ns_ip6_is_mcast(&m->dst)) {
		/* RFC 4291 2.7: multicast never appears with a routing header */
		NS_STAT_INC(stk, Ip6InAddrErrors);
		return NS_WALK_DROP;
	}
	if (ip[w->off + 3] != 0) {
		/* Segments left: we are a host and execute no routing type
		 * (RFC 5095 3 for type 0; RFC 8200 4.4 for unknown types). */
		NS_STAT_INC(stk, Ip6InHdrErrors);
		ns__icmp6_send_error(stk, pkt, m, NS_ICMP6_PARAM_PROB, NS_ICMP6_HDR_FIELD, w->off + 2);
		return NS_WALK_DROP;
	}
	advance(w, ip, hlen);
	return -1;
}

static int walk_fragment(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m,
			 struct ns_ip6_walk *w)
{
	const uint8_t *ip = pkt->head + pkt->l3;
	if (w->off + NS_IP6_FRAG_HLEN > pkt->tail - pkt->l3) {
		NS_STAT_INC(stk, Ip6InHdrErrors);
		ns__icmp6_send_error(stk, pkt, m, NS_ICMP6_PARAM_PROB, NS_ICMP6_HDR_FIELD, w->off);
		return NS_WALK_DROP;
	}
	NS_STAT_INC(stk, Ip6ReasmReqds);
	uint16_t fo = ns_load_be16(ip + w->off + 2);
	if ((fo & (NS_IP6_OFFMASK | NS_IP6_MF)) == 0) {
		/* RFC 6946: an atomic fragment is processed in isolation */
		NS_STAT_INC(stk, Ip6ReasmOKs);
		advance(w, ip, NS_IP6_FRAG_HLEN);
		return -1;
	}
	return NS_WALK_FRAG;
}

int ns__ip6_walk(struct ns_stack *stk, struct ns_pkt *pkt, const struct ns_ip_meta *m,
		 struct ns_ip6_walk *w)
{
	for (;;) {
		int r;
		switch (w->nh) {
		case NS_NH_HOP:
		case NS_NH_DSTOPTS:
			r = walk_options(stk, pkt, m, w);
			break;
		case NS_NH_ROUTING:
			r = walk_routing(stk, pkt, m, w);
			break;
		case NS_NH_FRAGMENT:
			r = walk_fragment(stk, pkt, m, w);
			break;
		case NS_NH_NONE:
			return NS_WALK_NONE;
		default:
			return NS_WALK_UPPER;
		}
		if (r >= 0)
			return r;
	}
}
