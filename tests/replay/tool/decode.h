/*
 * tests/replay/tool/decode.h - frame decoding for pcap-replay: Ethernet,
 * ARP, IPv4, IPv6 (extension headers skipped), TCP with options, UDP,
 * ICMP/ICMPv6, a tcpdump-like one-line format, and checksum repair for
 * frames the tool builds or rewrites.  Every length is checked: any byte
 * string decodes to something (possibly "truncated") without reading out
 * of bounds.
 */
#ifndef NSR_DECODE_H
#define NSR_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "netstack/netstack.h"

enum { NSR_L3_NONE = 0, NSR_L3_ARP, NSR_L3_IPV4, NSR_L3_IPV6, NSR_L3_OTHER };

#define NSR_TH_FIN 0x01
#define NSR_TH_SYN 0x02
#define NSR_TH_RST 0x04
#define NSR_TH_PSH 0x08
#define NSR_TH_ACK 0x10
#define NSR_TH_URG 0x20
#define NSR_TH_ECE 0x40
#define NSR_TH_CWR 0x80

struct nsr_tcpopts {
	bool has_mss, has_ws, sack_ok, has_ts, bad;
	uint16_t mss;
	uint8_t ws;
	uint32_t ts_val, ts_ecr;
	int nsack;
	uint32_t sack[4][2];
	int ts_off;                     /* offset of TS val in the options, -1 none */
	int sack_off;                   /* offset of first SACK block, -1 none */
};

struct nsr_dec {
	const uint8_t *frame;
	size_t len;
	uint8_t dst_mac[6], src_mac[6];
	uint16_t ethertype;
	int l3;                         /* NSR_L3_* */
	bool truncated;
	/* ARP */
	uint16_t arp_op;
	uint8_t arp_sha[6], arp_tha[6];
	struct ns_addr arp_spa, arp_tpa;
	/* IP */
	size_t l3_off, l4_off;
	struct ns_addr src, dst;
	uint8_t proto, ttl, tos;
	uint16_t ipid;
	bool df, mf;
	uint32_t frag_off;              /* bytes */
	uint32_t flowlabel;
	bool is_frag;                   /* not the first fragment or MF set: no L4 */
	size_t ip_len;                  /* bytes of IP datagram present (header + payload) */
	/* L4 */
	bool has_l4;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t th_flags;
	uint16_t win, urg;
	size_t tcp_hlen;
	struct nsr_tcpopts opt;
	const uint8_t *opts;
	size_t optlen;
	uint8_t icmp_type, icmp_code;
	uint32_t icmp_rest;             /* bytes 4..7 of the ICMP header */
	const uint8_t *payload;         /* L4 payload (ICMP: after the 8-byte header) */
	size_t plen;
};

/* Decodes an Ethernet frame (pointers borrow frame). */
void nsr_decode(const uint8_t *frame, size_t len, struct nsr_dec *d);
/* Parses TCP options. */
void nsr_tcpopts_parse(const uint8_t *o, size_t len, struct nsr_tcpopts *out);
/* tcpdump-like line into buf; seq/ack printed as given (callers pass
 * relative values through rel_seq/rel_ack when have_rel). */
const char *nsr_format(const struct nsr_dec *d, char *buf, size_t len);
const char *nsr_format_rel(const struct nsr_dec *d, bool have_rel, uint32_t rseq, uint32_t rack,
			   bool have_ts, uint32_t rtsval, uint32_t rtsecr, char *buf, size_t len);
/* Recomputes the IPv4 header checksum and TCP/UDP/ICMP/ICMPv6 checksums of a frame. */
void nsr_fix_checksums(uint8_t *frame, size_t len);
/* "S", "S.", "P.", "F.", "R." ... (tcpdump flag letters) */
const char *nsr_flags_str(uint8_t f, char *buf);

#endif
