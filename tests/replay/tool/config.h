/*
 * tests/replay/tool/config.h - the stack configuration file of pcap-replay.
 *
 * A small line-oriented text format ('#' starts a comment):
 *
 *   mac 02:00:00:00:00:01          NIC MAC (default 02:00:00:00:00:01)
 *   mtu 1500                       L3 MTU (default 1500)
 *   addr 198.18.0.1/24             an IPv4 or IPv6 address with prefix (repeatable)
 *   route 198.19.0.0/16 via 198.18.0.254    a route (gateway optional)
 *   route default via 198.18.0.254          default route (family of the gateway)
 *   seed 42                        random seed (the --seed option overrides)
 *   flags nodad noauto6            stack flags (NS_STACK_F_NODAD, NS_STACK_F_NOAUTO6)
 *   answer-neigh                   run: the input's peers answer our ARP requests / neighbour
 *                                  solicitations at once (their MACs learned from the input)
 *   settle 3                       seconds of virtual time before the first frame (DAD etc.)
 *   tail 5                         seconds of virtual time run after the last frame
 *   listen tcp 8080                a TCP listener that accepts and keeps connections, reads and discards
 *   listen udp 5353                a bound UDP socket that reads and discards
 *   tcp-echo 7 | udp-echo 7        echo services (RFC 862)
 *   tcp-discard 9 | udp-discard 9  discard services (RFC 863)
 *   connect tcp 198.18.0.2 80 [at SECONDS] [send BYTES]   an active open (optionally sending data)
 *
 * nsr_config_parse takes a buffer (not a path) so it can be fuzzed.
 */
#ifndef NSR_CONFIG_H
#define NSR_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "netstack/netstack.h"

#define NSR_CFG_MAX_ADDRS 16
#define NSR_CFG_MAX_ROUTES 32
#define NSR_CFG_MAX_SVCS 64

enum nsr_svc_kind {
	NSR_SVC_TCP_LISTEN = 1,
	NSR_SVC_UDP_LISTEN,
	NSR_SVC_TCP_ECHO,
	NSR_SVC_UDP_ECHO,
	NSR_SVC_TCP_DISCARD,
	NSR_SVC_UDP_DISCARD,
	NSR_SVC_TCP_CONNECT,
};

struct nsr_svc_cfg {
	enum nsr_svc_kind kind;
	uint16_t port;
	struct ns_addr raddr;           /* connect */
	uint64_t at_ns;                 /* connect: offset from the first frame */
	uint64_t send_bytes;            /* connect */
};

struct nsr_config {
	uint8_t mac[6];
	uint32_t mtu;
	int naddr;
	struct { struct ns_addr a; int plen; } addr[NSR_CFG_MAX_ADDRS];
	int nroute;
	struct { struct ns_addr dst; int plen; struct ns_addr gw; bool has_gw; } route[NSR_CFG_MAX_ROUTES];
	int nsvc;
	struct nsr_svc_cfg svc[NSR_CFG_MAX_SVCS];
	bool has_seed;
	uint64_t seed;
	uint64_t settle_ns;
	uint64_t tail_ns;
	uint32_t stack_flags;           /* NS_STACK_F_* */
	bool answer_neigh;
};

void nsr_config_default(struct nsr_config *c);
/* Parses buf[0, len) (no NUL needed).  Returns 0, or -1 with "line N: why" in err. */
int nsr_config_parse(const char *buf, size_t len, struct nsr_config *out, char *err, size_t errlen);
/* Seconds as a decimal ("0.25", "3") into ns; up to 9 fractional digits. */
int nsr_parse_secs(const char *s, uint64_t *ns);
/* Reads and parses a file. */
int nsr_config_load(const char *path, struct nsr_config *out, char *err, size_t errlen);

#endif
