/*
 * netstack/gso.c - software segmentation (GSO) and checksum completion of
 * outgoing frames, for links that lack NS_LINK_CAP_TSO* / TX_CSUM.
 * Owns: parsing an outgoing frame's headers, splitting TCP (and UDP) GSO
 * frames into MSS-sized segments with correct IP lengths, IDs and header
 * checksums, TCP sequence numbers and flags (FIN/PSH only on the last
 * segment, CWR only on the first), and finishing partial L4 checksums.
 * Conventions: netstack/gso.h.  Portable.
 */
#include "core.h"
#include "gso.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80
#define PROTO_TCP 6
#define PROTO_UDP 17
#define ETHERTYPE_VLAN 0x8100

/* Walks IPv6 extension headers from *nh at *off; false if malformed. */
static bool skip_ipv6_ext(const uint8_t *f, uint32_t len, uint8_t *nh, uint32_t *off, bool *frag)
{
	for (int i = 0; i < 8; i++) {
		uint32_t o = *off;
		switch (*nh) {
		case 0: case 43: case 60:            /* hop-by-hop, routing, destination */
			if (o + 2 > len)
				return false;
			*nh = f[o];
			*off = o + ((uint32_t)f[o + 1] + 1) * 8;
			break;
		case 44:                             /* fragment */
			if (o + 8 > len)
				return false;
			*nh = f[o];
			*frag = true;
			*off = o + 8;
			break;
		case 51:                             /* AH */
			if (o + 2 > len)
				return false;
			*nh = f[o];
			*off = o + ((uint32_t)f[o + 1] + 2) * 4;
			break;
		default:
			return *off <= len;
		}
	}
	return false;
}

int ns__frame_parse(const uint8_t *f, uint32_t len, struct ns_frame_info *fi)
{
	memset(fi, 0, sizeof(*fi));
	if (len < NS_ETH_HLEN)
		return -NS_EINVAL;
	uint32_t l3 = NS_ETH_HLEN;
	uint16_t et = ns_load_be16(f + 12);
	if (et == ETHERTYPE_VLAN) {
		if (len < NS_ETH_HLEN + 4)
			return -NS_EINVAL;
		et = ns_load_be16(f + 16);
		l3 += 4;
	}
	uint32_t l4;
	uint8_t proto;
	if (et == NS_ETHERTYPE_IPV4) {
		if (l3 + 20 > len || (f[l3] >> 4) != 4 || (f[l3] & 15) < 5)
			return -NS_EINVAL;
		l4 = l3 + (uint32_t)(f[l3] & 15) * 4;
		proto = f[l3 + 9];
		fi->family = 4;
		fi->is_frag = (ns_load_be16(f + l3 + 6) & 0x3fff) != 0;
	} else if (et == NS_ETHERTYPE_IPV6) {
		if (l3 + 40 > len || (f[l3] >> 4) != 6)
			return -NS_EINVAL;
		proto = f[l3 + 6];
		l4 = l3 + 40;
		if (!skip_ipv6_ext(f, len, &proto, &l4, &fi->is_frag))
			return -NS_EINVAL;
		fi->family = 6;
	} else {
		return -NS_EINVAL;
	}
	if (l4 > len)
		return -NS_EINVAL;
	uint32_t hl = l4;
	if (proto == PROTO_TCP && !fi->is_frag) {
		if (l4 + 20 > len || (f[l4 + 12] >> 4) < 5)
			return -NS_EINVAL;
		hl = l4 + (uint32_t)(f[l4 + 12] >> 4) * 4;
	} else if (proto == PROTO_UDP && !fi->is_frag) {
		hl = l4 + 8;
	}
	if (hl > len)
		return -NS_EINVAL;
	fi->l3 = l3;
	fi->l4 = l4;
	fi->hdr_len = hl;
	fi->proto = proto;
	return 0;
}

bool ns__tx_needs_fixup(const struct ns_pkt *p, uint32_t caps)
{
	switch (p->gso_type) {
	case NS_GSO_NONE:
		break;
	case NS_GSO_TCPV4:
		if (!(caps & NS_LINK_CAP_TSO4))
			return true;
		break;
	case NS_GSO_TCPV6:
		if (!(caps & NS_LINK_CAP_TSO6))
			return true;
		break;
	default:
		return true;
	}
	return p->csum == NS_CSUM_PARTIAL && !(caps & NS_LINK_CAP_TX_CSUM);
}

static uint16_t csum_field_off(uint8_t proto)
{
	switch (proto) {
	case PROTO_TCP: return 16;
	case PROTO_UDP: return 6;
	case 58: return 2;          /* ICMPv6 */
	default: return 0xffff;
	}
}

/* Pseudo-header sum (not folded) for the L4 area of length l4len. */
static uint32_t pseudo_sum(const uint8_t *f, const struct ns_frame_info *fi, uint32_t l4len)
{
	uint32_t sum;
	if (fi->family == 4)
		sum = ns_csum_partial(f + fi->l3 + 12, 8, 0);
	else
		sum = ns_csum_partial(f + fi->l3 + 8, 32, 0);
	sum += fi->proto;
	sum += l4len & 0xffff;
	sum += l4len >> 16;
	return sum;
}

/* Writes the L4 checksum of frame f (length len): complete, or partial. */
static void l4_csum(struct ns_pkt *s, uint8_t *f, uint32_t len, const struct ns_frame_info *fi,
		    bool partial)
{
	uint16_t co = csum_field_off(fi->proto);
	uint32_t ps = pseudo_sum(f, fi, len - fi->l4);
	uint8_t *field = f + fi->l4 + co;
	if (partial) {
		ns_store_be16(field, (uint16_t)~ns_csum_fold(ps));
		s->csum = NS_CSUM_PARTIAL;
		s->csum_start = (uint16_t)fi->l4;
		s->csum_off = co;
		return;
	}
	ns_store_be16(field, 0);
	uint16_t c = ns_csum_fold(ns_csum_partial(f + fi->l4, len - fi->l4, ps));
	if (c == 0 && fi->proto == PROTO_UDP)
		c = 0xffff;
	ns_store_be16(field, c);
	s->csum = NS_CSUM_NONE;
}

/* Fixes IP lengths (and the IPv4 ID and header checksum) of a segment. */
static void fix_ip(uint8_t *f, uint32_t len, const struct ns_frame_info *fi, uint16_t id)
{
	uint8_t *ip = f + fi->l3;
	if (fi->family == 4) {
		uint32_t ihl = (uint32_t)(ip[0] & 15) * 4;
		ns_store_be16(ip + 2, (uint16_t)(len - fi->l3));
		ns_store_be16(ip + 4, id);
		ns_store_be16(ip + 10, 0);
		ns_store_be16(ip + 10, ns_csum_fold(ns_csum_partial(ip, ihl, 0)));
	} else {
		ns_store_be16(ip + 4, (uint16_t)(len - fi->l3 - 40));
	}
}

static void copy_meta(struct ns_pkt *s, const struct ns_pkt *p, const struct ns_frame_info *fi)
{
	s->nic = p->nic;
	s->ethertype = p->ethertype;
	s->pkt_type = p->pkt_type;
	s->hash = p->hash;
	s->tstamp = p->tstamp;
	s->flags = p->flags;
	s->l2 = s->data;
	s->l3 = s->data + fi->l3;
	s->l4 = s->data + fi->l4;
}

struct ns_pkt *ns__gso_segment(struct ns_pkt *pkt, bool hw_csum, int *err)
{
	struct ns_frame_info fi;
	const uint8_t *f = ns_pkt_data(pkt);
	uint32_t len = ns_pkt_len(pkt);
	uint32_t mss = pkt->gso_size;
	bool tcp = pkt->gso_type == NS_GSO_TCPV4 || pkt->gso_type == NS_GSO_TCPV6;
	if (ns__frame_parse(f, len, &fi) < 0 || fi.is_frag || mss == 0 ||
	    fi.proto != (tcp ? PROTO_TCP : PROTO_UDP) ||
	    (pkt->gso_type == NS_GSO_TCPV4 && fi.family != 4) ||
	    (pkt->gso_type == NS_GSO_TCPV6 && fi.family != 6)) {
		*err = -NS_EINVAL;
		ns_pkt_unref(pkt);
		return NULL;
	}
	uint32_t hl = fi.hdr_len, payload = len - hl;
	uint32_t seq0 = tcp ? ns_load_be32(f + fi.l4 + 4) : 0;
	uint8_t flags0 = tcp ? f[fi.l4 + 13] : 0;
	uint16_t id0 = fi.family == 4 ? ns_load_be16(f + fi.l3 + 4) : 0;
	struct ns_pkt *head = NULL, **tail = &head;
	uint32_t off = 0, i = 0;
	do {
		uint32_t n = NS_MIN(mss, payload - off);
		bool last = off + n == payload;
		struct ns_pkt *s = ns_pkt_alloc(pkt->pool, NS_PKT_HEADROOM, hl + n);
		if (!s) {
			ns_pkt_unref_chain(head);
			ns_pkt_unref(pkt);
			*err = -NS_ENOBUFS;
			return NULL;
		}
		uint8_t *d = ns_pkt_data(s);
		memcpy(d, f, hl);
		memcpy(d + hl, f + hl + off, n);
		copy_meta(s, pkt, &fi);
		fix_ip(d, hl + n, &fi, (uint16_t)(id0 + i));
		uint8_t *th = d + fi.l4;
		if (tcp) {
			ns_store_be32(th + 4, seq0 + off);
			uint8_t fl = flags0;
			if (!last)
				fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
			if (i > 0)
				fl &= (uint8_t)~TCP_CWR;
			th[13] = fl;
		} else {
			ns_store_be16(th + 4, (uint16_t)(8 + n));
		}
		l4_csum(s, d, hl + n, &fi, hw_csum);
		*tail = s;
		tail = &s->next;
		off += n;
		i++;
	} while (off < payload);
	ns_pkt_unref(pkt);
	*err = 0;
	return head;
}

int ns__csum_complete(struct ns_pkt *pkt)
{
	struct ns_frame_info fi;
	uint8_t *f = ns_pkt_data(pkt);
	uint32_t len = ns_pkt_len(pkt);
	uint32_t start, co;
	if (ns__frame_parse(f, len, &fi) == 0 && csum_field_off(fi.proto) != 0xffff && !fi.is_frag) {
		start = fi.l4;
		co = csum_field_off(fi.proto);
	} else {
		start = pkt->csum_start;
		co = pkt->csum_off;
	}
	if ((uint64_t)start + co + 2 > len)
		return -NS_EINVAL;
	uint16_t c = ns_csum_fold(ns_csum_partial(f + start, len - start, 0));
	if (c == 0 && fi.proto == PROTO_UDP)
		c = 0xffff;
	ns_store_be16(f + start + co, c);
	pkt->csum = NS_CSUM_NONE;
	return 0;
}

/* For a link that takes the packet as it is: record where the checksum goes;
 * a GSO frame whose checksum is complete is turned partial (links segment
 * with partial checksums, as virtio-net requires). */
static int normalise_offload(struct ns_pkt *pkt)
{
	struct ns_frame_info fi;
	uint8_t *f = ns_pkt_data(pkt);
	uint32_t len = ns_pkt_len(pkt);
	if (ns__frame_parse(f, len, &fi) < 0 || fi.is_frag || csum_field_off(fi.proto) == 0xffff) {
		if (pkt->gso_type != NS_GSO_NONE)
			return -NS_EINVAL;
		/* not TCP/UDP: trust the transport's csum_start (from data) */
		return (uint32_t)pkt->csum_start + pkt->csum_off + 2 <= len ? 0 : -NS_EINVAL;
	}
	if (pkt->gso_type != NS_GSO_NONE &&
	    (pkt->gso_size == 0 || len - fi.hdr_len <= pkt->gso_size)) {
		pkt->gso_type = NS_GSO_NONE;   /* fits in one segment */
		pkt->gso_size = 0;
	}
	if (pkt->gso_type != NS_GSO_NONE && pkt->csum != NS_CSUM_PARTIAL)
		l4_csum(pkt, f, len, &fi, true);
	pkt->csum_start = (uint16_t)fi.l4;
	pkt->csum_off = csum_field_off(fi.proto);
	pkt->l3 = pkt->data + fi.l3;
	pkt->l4 = pkt->data + fi.l4;
	return 0;
}

struct ns_pkt *ns__tx_fixup(struct ns_pkt *pkt, uint32_t caps, int *err)
{
	*err = 0;
	pkt->next = NULL;
	pkt = ns_pkt_unshare(pkt);
	if (!pkt) {
		*err = -NS_ENOBUFS;
		return NULL;
	}
	if (!ns__tx_needs_fixup(pkt, caps)) {
		if (pkt->csum != NS_CSUM_PARTIAL && pkt->gso_type == NS_GSO_NONE)
			return pkt;
		int e = normalise_offload(pkt);
		if (e == 0 && !ns__tx_needs_fixup(pkt, caps))
			return pkt;
		if (e < 0) {
			*err = e;
			ns_pkt_unref(pkt);
			return NULL;
		}
	}
	if (pkt->gso_type != NS_GSO_NONE) {
		struct ns_frame_info fi;
		if (ns__frame_parse(ns_pkt_data(pkt), ns_pkt_len(pkt), &fi) == 0 &&
		    ns_pkt_len(pkt) - fi.hdr_len <= pkt->gso_size) {
			pkt->gso_type = NS_GSO_NONE;      /* nothing to split */
			pkt->gso_size = 0;
		} else {
			return ns__gso_segment(pkt, (caps & NS_LINK_CAP_TX_CSUM) != 0, err);
		}
	}
	if (pkt->csum == NS_CSUM_PARTIAL && !(caps & NS_LINK_CAP_TX_CSUM)) {
		int e = ns__csum_complete(pkt);
		if (e < 0) {
			*err = e;
			ns_pkt_unref(pkt);
			return NULL;
		}
	}
	return pkt;
}
