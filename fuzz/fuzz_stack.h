/*
 * fuzz/fuzz_stack.h - what every fuzz target shares: one stack on a virtual
 * clock and a seeded random source, with one NIC on an unpaired channel
 * (frames it writes are taken and dropped, or handed to the caller), known
 * addresses, a peer whose MAC the stack has already learnt, and services
 * listening (UDP 7, TCP 80, on IPv4 and IPv6).  Frame builders fix lengths
 * and checksums after mutation, so inputs get past the first validation.
 *
 * Addresses: stack 198.18.0.2/24 and fd00:5eed::2/64 (MAC 02:00:5e:ed:00:02);
 * peer 198.18.0.1 and fd00:5eed::1 (MAC 02:00:5e:ed:00:fe).
 */
#ifndef NS_FUZZ_STACK_H
#define NS_FUZZ_STACK_H

#include <stddef.h>
#include <stdint.h>
#include "netstack/core.h"

#define FZ_MAX_FRAME 9216

struct fz {
	struct ns_vclock vc;
	struct ns_seeded_rng rng;
	struct ns_stack *stk;
	struct ns_link *chan;
	int nic;
	int udp4, udp6, tcp4, tcp6;     /* service sockets */
	/* the last TCP segment the stack sent (for stateful replies) */
	uint8_t last_tcp[FZ_MAX_FRAME];
	size_t last_tcp_len;
	uint64_t frames_out;
};

extern const uint8_t fz_mac_stack[6], fz_mac_peer[6];
extern const uint8_t fz_ip4_stack[4], fz_ip4_peer[4];
extern const uint8_t fz_ip6_stack[16], fz_ip6_peer[16];

/* Creates the stack (aborts on failure: a harness bug, not a finding). */
void fz_init(struct fz *f, uint64_t seed);
/* The same with the virtual clock starting at clock_ns (fz_init: 1000 s, or
 * $FZ_CLOCK_START to replay a finding that needs a late clock). */
void fz_init_at(struct fz *f, uint64_t seed, uint64_t clock_ns);
void fz_fini(struct fz *f);
/* Injects a whole Ethernet frame (copied). */
void fz_inject(struct fz *f, const uint8_t *frame, size_t len);
/* Polls until the stack has nothing to do now; drops what it sent (keeps the last TCP segment). */
void fz_run(struct fz *f);
/* Moves the virtual clock forward by ns, running every timer on the way, in
 * at most 10000 (or max_steps) timer deadlines; true if the clock got there. */
bool fz_advance(struct fz *f, uint64_t ns);
bool fz_advance_steps(struct fz *f, uint64_t ns, long max_steps);

/* A bound (and, for TCP, listening) nonblocking socket on port (IPv6 ones are V6ONLY). */
int fz_listen(struct fz *f, int family, int type, uint16_t port);

/* Prints the live packets (fuzz builds: with who allocated and referenced them). */
void fz_dump_live(struct fz *f);

/* Reads and discards whatever the UDP service sockets have queued. */
void fz_drain_sockets(struct fz *f);

/* Builders: write into out (cap bytes), return the frame length (0 if it does not fit). */
size_t fz_eth(uint8_t *out, size_t cap, uint16_t ethertype, const uint8_t *payload, size_t len);
/* IPv4 header (20 bytes, no options) + payload; fix_l4 recomputes a UDP/TCP/ICMP checksum. */
size_t fz_ipv4(uint8_t *out, size_t cap, uint8_t proto, const uint8_t *l4, size_t len, bool fix_l4);
/* IPv6 header + payload (next header nh); fix_l4 recomputes the checksum of a
 * UDP/TCP/ICMPv6 payload that starts right after the fixed header. */
size_t fz_ipv6(uint8_t *out, size_t cap, uint8_t nh, const uint8_t *l4, size_t len, bool fix_l4,
	       uint8_t hop_limit);
/* Recomputes the IPv4 header checksum of a frame in place (data at Ethernet). */
void fz_fix_ipv4_hdr(uint8_t *frame, size_t len);

#endif
