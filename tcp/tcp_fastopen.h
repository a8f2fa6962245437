/*
 * tcp/tcp_fastopen.h - TCP Fast Open (RFC 7413) with Linux's semantics, and
 * the per-stack ECN setting (tcp_ecn.c).
 * Owns: net.ipv4.tcp_fastopen / tcp_fastopen_key / tcp_ecn, the server
 * cookie (SipHash-2-4 of the source and destination addresses under a
 * 128-bit key, like Linux), the client cookie cache per destination, the
 * TCP_FASTOPEN* socket options, SYN-data on both sides, and ECN negotiation
 * and reaction (tcp_ecn.c).  The connection code calls the small hooks below.
 */
#ifndef NS_TCP_FASTOPEN_H
#define NS_TCP_FASTOPEN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "../netstack/core.h"

/* net.ipv4.tcp_fastopen bits (Linux include/net/tcp.h) */
#define TFO_CLIENT_ENABLE 0x1
#define TFO_SERVER_ENABLE 0x2
#define TFO_CLIENT_NO_COOKIE 0x4
#define TFO_SERVER_COOKIE_NOT_REQD 0x200
#define TFO_SERVER_WO_SOCKOPT1 0x400
#define TFO_SYSCTL_DEFAULT TFO_CLIENT_ENABLE

#define TCP_FO_COOKIE_SIZE 8            /* what our server hands out */
#define TCP_FO_CACHE_SIZE 64            /* client cookie cache entries (LRU) */

/* TCP_INFO tcpi_options bits */
#define TCPI_OPT_ECN 8
#define TCPI_OPT_ECN_SEEN 16
#define TCPI_OPT_SYN_DATA 32

/* net.ipv4.tcp_ecn: 0 off, 1 request and accept, 2 accept only (default) */
#define TCP_ECN_SYSCTL_DEFAULT 2

struct tcp_fo_cache_ent {
	struct ns_addr dst;
	uint64_t used;                  /* LRU stamp, 0 = free */
	uint16_t mss;                   /* the peer's MSS from its last SYN-ACK */
	int8_t len;                     /* cookie length, <= 0 none */
	bool exp;                       /* cookie came in the experimental option */
	uint8_t try_exp;                /* Linux tfom->try_exp */
	uint8_t val[16];
};

/* Per stack (struct ns_tcp.fo). */
struct tcp_fo_stack {
	_Atomic uint32_t sysctl;        /* net.ipv4.tcp_fastopen */
	_Atomic int ecn;                /* net.ipv4.tcp_ecn */
	_Atomic int timestamps;         /* net.ipv4.tcp_timestamps (0: no TS in our SYNs) */
	pthread_mutex_t mu;             /* key and cache */
	uint64_t key[2][2];             /* primary, backup (SipHash keys) */
	bool has_backup;
	uint64_t clock;                 /* LRU counter */
	struct tcp_fo_cache_ent cache[TCP_FO_CACHE_SIZE];
};

/* Per endpoint (struct tcp_ep.fo). */
struct tcp_fo_ep {
	int qlen_max;                   /* listener: TCP_FASTOPEN (Linux fastopenq.max_qlen) */
	int pending;                    /* listener: TFO children before their 3WHS completes */
	bool has_key, has_backup;       /* listener: TCP_FASTOPEN_KEY */
	uint64_t key[2][2];
	bool connect_opt;               /* TCP_FASTOPEN_CONNECT */
	bool no_cookie;                 /* TCP_FASTOPEN_NO_COOKIE */
	bool defer;                     /* connect() deferred to the first send */
	bool req;                       /* a Fast Open connect is being set up (Linux fastopen_req) */
	bool syn_fastopen, syn_fastopen_exp;    /* our SYN carried the option */
	bool syn_data;                  /* our SYN carried data */
	bool syn_data_acked;            /* TCPI_OPT_SYN_DATA */
	bool child;                     /* passive TFO child counted in the listener's pending */
	bool passive;                   /* passive TFO child before its handshake completes */
	int8_t len;                     /* option for our next SYN / SYN-ACK: -1 none, 0 request */
	bool exp;
	uint8_t val[16];
	uint32_t want;                  /* bytes the user offered with the Fast Open send */
	uint32_t syn_len;               /* bytes our first SYN carries */
};

struct ns_tcp;
struct tcp_ep;
struct tcp_seg;
struct ns_tcp_opts;

void tcp_fo_init(struct ns_tcp *tcp);
void tcp_fo_fini(struct ns_tcp *tcp);
/* ns_sysctl_set/get for tcp_fastopen, tcp_fastopen_key, tcp_ecn: -ENOENT if not ours. */
int tcp_fo_sysctl(struct ns_stack *stk, const char *leaf, const char *val, char *out, size_t outlen);

/* Socket options (sk->mu held): -ENOPROTOOPT when name is not a Fast Open option. */
int tcp_fo_setsockopt(struct tcp_ep *ep, int name, const void *v, socklen_t len);
int tcp_fo_getsockopt(struct tcp_ep *ep, int name, void *v, socklen_t *len);
/* listen(): Linux TFO_SERVER_WO_SOCKOPT1. */
void tcp_fo_listen(struct tcp_ep *ep, int backlog);

/* ---- server ---- */
/* Listener got a SYN; c is the new child (both locked).  Decides Fast Open:
 * sets c->fo.len/val for the SYN-ACK; returns true when the child takes the
 * SYN's data now and goes straight to the accept queue. */
bool tcp_fo_try(struct tcp_ep *lep, struct tcp_ep *c, const struct tcp_seg *seg);
/* A passive TFO child finished its handshake or died: its listener slot frees. */
void tcp_fo_child_done(struct tcp_ep *c);

/* ---- client ---- */
/* connect() with TCP_FASTOPEN_CONNECT: true when the SYN waits for the first send. */
bool tcp_fo_defer_connect(struct tcp_ep *ep);
/* sendmsg with MSG_FASTOPEN or after a deferred connect (sk->mu held): starts
 * the connection, queues what fits in the SYN (*syn_bytes).  Returns 0,
 * -EINPROGRESS or another -errno, like Linux tcp_sendmsg_fastopen. */
int tcp_fo_sendmsg(struct tcp_ep *ep, const struct msghdr *m, int flags, size_t *syn_bytes);
/* Right before our first SYN: cookie check, SYN data from m into the send queue. */
void tcp_fo_prepare_syn(struct tcp_ep *ep, const struct msghdr *m);
/* Option set of our SYN: adds the Fast Open option if one is pending; returns
 * the number of data bytes the SYN carries (from the send queue). */
uint32_t tcp_fo_syn_opts(struct tcp_ep *ep, struct ns_tcp_opts *o, bool synack);
/* SYN-ACK received in SYN_SENT (after snd_una moved): cookie cache; returns
 * true when SYN data must be sent again (the caller then pushes instead of ACKing). */
bool tcp_fo_synack(struct tcp_ep *ep, const struct tcp_seg *seg);
/* ICMP frag-needed while our SYN-data is in flight: resend a plain SYN. */
void tcp_fo_mtu_reduced(struct tcp_ep *ep);
uint32_t tcp_fo_info_options(const struct tcp_ep *ep);

/* ---- ECN (tcp_ecn.c) ---- */
#define TCP_ECN_OK 1
#define TCP_ECN_QUEUE_CWR 2
#define TCP_ECN_DEMAND_CWR 4
#define TCP_ECN_SEEN 8
/* TCP flags for our SYN (ECE|CWR when tcp_ecn=1) / SYN-ACK (ECE when accepted). */
uint8_t tcp_ecn_syn_flags(struct tcp_ep *ep, bool synack);
/* Negotiation: the SYN a listener's child came from / the SYN-ACK we got. */
void tcp_ecn_rcv_syn(struct tcp_ep *c, uint8_t flags, uint8_t tos);
void tcp_ecn_rcv_synack(struct tcp_ep *ep, uint8_t flags);
/* Every incoming segment in a synchronized state: CE -> ECE echo, CWR stops it,
 * ECE -> one cwnd reduction per window. */
void tcp_ecn_rcv(struct tcp_ep *ep, uint8_t flags, uint8_t tos, uint32_t len, bool ack_advanced);
/* Outgoing segment: ECN TCP flags to OR in and *tos bits (ECT(0) on new data). */
uint8_t tcp_ecn_xmit(struct tcp_ep *ep, bool new_data, uint8_t *tos);

#endif
