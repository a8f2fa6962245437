/*
 * netstack/checksum.c - the Internet checksum (RFC 1071) and pseudo-headers.
 */
#include "core.h"

uint32_t ns_csum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t acc = sum;
	/* 8 bytes at a time; big-endian word sums are byte-order independent
	 * when folded, so load as big endian 32-bit pairs. */
	while (len >= 8) {
		acc += ns_load_be32(p);
		acc += ns_load_be32(p + 4);
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		acc += ns_load_be16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)p[0] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return (uint32_t)acc;
}

uint16_t ns_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t ns_csum_pseudo(const struct ns_addr *src, const struct ns_addr *dst,
			uint8_t proto, uint32_t len)
{
	size_t alen = src->family == NS_AF_INET ? 4 : 16;
	uint32_t sum = ns_csum_partial(src->b, alen, 0);
	sum = ns_csum_partial(dst->b, alen, sum);
	sum += proto;
	sum += len & 0xffff;
	sum += len >> 16;
	return sum;
}
