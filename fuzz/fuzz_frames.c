/*
 * fuzz/fuzz_frames.c - the per-parser targets that feed frames to one
 * persistent stack.  Built once per target with -DFZ_TARGET=<name>:
 *   eth    raw Ethernet frames (destination MAC forced to the stack's unless
 *          broadcast/multicast; IPv4 header checksum fixed when the source
 *          MAC's locally-administered bit is set)
 *   arp    ARP packets
 *   ipv4   IPv4 datagrams with options (header checksum fixed; byte 0 of the
 *          input chooses whether the L4 checksum is fixed too)
 *   icmp4  ICMP messages inside a valid IPv4 header
 *   udp    UDP datagrams over IPv4 or IPv6 (checksums fixed)
 *   tcp    TCP segments over IPv4 or IPv6 (checksums fixed)
 *   ipv6   IPv6 extension header chains (first input byte = next header)
 *   icmp6  ICMPv6 / NDP / MLD messages (checksum fixed, hop limit 255)
 * Each input: inject, run the stack, advance the virtual clock a little;
 * every 512 inputs the clock jumps 120 s so timers (reassembly, ARP, TCP)
 * fire and state does not pile up.
 */
#include <stdlib.h>
#include "fuzz_stack.h"

#define T_eth 1
#define T_arp 2
#define T_ipv4 3
#define T_icmp4 4
#define T_udp 5
#define T_tcp 6
#define T_ipv6 7
#define T_icmp6 8
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define TARGET CAT(T_, FZ_TARGET)

static struct fz F;
static bool inited;
static uint8_t frame[65536 + 128];
static unsigned long count;

static void at_exit(void)
{
	if (inited)
		fz_fini(&F);
	inited = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t build(const uint8_t *d, size_t n)
{
	size_t len = 0;
#if TARGET == T_eth
	if (n < 14 || n > sizeof(frame))
		return 0;
	memcpy(frame, d, n);
	if (!(frame[0] & 1))
		memcpy(frame, fz_mac_stack, 6);
	if ((frame[6] & 2) && ns_load_be16(frame + 12) == NS_ETHERTYPE_IPV4)
		fz_fix_ipv4_hdr(frame, n);
	len = n;
#elif TARGET == T_arp
	len = fz_eth(frame, sizeof(frame), NS_ETHERTYPE_ARP, d, n);
#elif TARGET == T_ipv4
	if (n < 1 || n - 1 > 65535)
		return 0;
	uint8_t flags = d[0];
	len = fz_eth(frame, sizeof(frame), NS_ETHERTYPE_IPV4, d + 1, n - 1);
	if (len >= 34 && (flags & 1)) {
		/* make the total length and addresses agree with the frame */
		uint8_t *ip = frame + 14;
		ns_store_be16(ip + 2, (uint16_t)(n - 1));
		if (flags & 2) {
			memcpy(ip + 12, fz_ip4_peer, 4);
			memcpy(ip + 16, fz_ip4_stack, 4);
		}
	}
	if (len >= 34 && !(flags & 4))
		fz_fix_ipv4_hdr(frame, len);
#elif TARGET == T_icmp4
	len = fz_ipv4(frame, sizeof(frame), NS_IPPROTO_ICMP, d, n, true);
#elif TARGET == T_udp
	if (n < 1)
		return 0;
	if (d[0] & 1)
		len = fz_ipv6(frame, sizeof(frame), NS_IPPROTO_UDP, d + 1, n - 1, !(d[0] & 2), 64);
	else
		len = fz_ipv4(frame, sizeof(frame), NS_IPPROTO_UDP, d + 1, n - 1, !(d[0] & 2));
#elif TARGET == T_tcp
	if (n < 1)
		return 0;
	if (d[0] & 1)
		len = fz_ipv6(frame, sizeof(frame), NS_IPPROTO_TCP, d + 1, n - 1, !(d[0] & 2), 64);
	else
		len = fz_ipv4(frame, sizeof(frame), NS_IPPROTO_TCP, d + 1, n - 1, !(d[0] & 2));
#elif TARGET == T_ipv6
	if (n < 1)
		return 0;
	len = fz_ipv6(frame, sizeof(frame), d[0], d + 1, n - 1, true, 64);
#elif TARGET == T_icmp6
	if (n < 1)
		return 0;
	len = fz_ipv6(frame, sizeof(frame), NS_IPPROTO_ICMPV6, d + 1, n - 1, true, d[0] & 1 ? 64 : 255);
	if (len && (d[0] & 2)) {        /* to the all-nodes group instead */
		static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
		static const uint8_t mc_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
		memcpy(frame + 14 + 24, all_nodes, 16);
		memcpy(frame, mc_mac, 6);
		if (n - 1 >= 4) {
			struct ns_addr s = { .family = NS_AF_INET6 }, t = { .family = NS_AF_INET6 };
			memcpy(s.b, fz_ip6_peer, 16);
			memcpy(t.b, all_nodes, 16);
			uint8_t *l4 = frame + 54;
			l4[2] = l4[3] = 0;
			ns_store_be16(l4 + 2, ns_csum_fold(ns_csum_partial(l4, n - 1,
				ns_csum_pseudo(&s, &t, NS_IPPROTO_ICMPV6, (uint32_t)(n - 1)))));
		}
	}
#else
#error "FZ_TARGET must name a frame target"
#endif
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!inited) {
		fz_init(&F, 1);
		inited = true;
		atexit(at_exit);
	}
	size_t len = build(data, size);
	if (len) {
		fz_inject(&F, frame, len);
		fz_run(&F);
	}
	fz_advance(&F, 10 * NS_NSEC_PER_MSEC);
	if (++count % 512 == 0)
		fz_advance(&F, 120 * NS_NSEC_PER_SEC);
	return 0;
}
