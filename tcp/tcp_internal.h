/*
 * tcp/tcp_internal.h - the TCP endpoint and the per-stack TCP state shared by
 * tcp.c (tables, ports), tcp_in.c (segment input), tcp_out.c (output),
 * tcp_timer.c (the one timer per endpoint) and tcp_sock.c (socket ops).
 *
 * Endpoint lifecycle
 *   A TCP socket (struct ns_sock) owns one struct tcp_ep in sk->proto.  The
 *   endpoint is created with the socket (ns__tcp_sock_init) and freed by
 *   ops->destroy when the last socket reference goes.  References on the
 *   socket are held by: the descriptor (socket.c), a listener's accept queue
 *   (a child not yet accepted), and every connection table the endpoint is
 *   hashed in (one reference while it is in the established table or the
 *   listener table).  A table reference is dropped only after an RCU grace
 *   period (call_rcu), so a lock-free reader that found the endpoint can
 *   always take urcu_ref_get_unless_zero() on sk->ref safely.  An endpoint
 *   in TIME_WAIT or an orphan (descriptor closed, FIN exchange going on) is
 *   kept alive by its table reference alone.
 *
 * Locking (see netstack/sock.h for the global order)
 *   sk->mu protects every field of struct tcp_ep, the socket's queues and
 *   the endpoint timer's deadlines.  Input, timers and socket calls all take
 *   it.  A listener's sk->mu is taken before a child's, never the reverse:
 *   when a child completes the handshake on input, its sk->mu is released
 *   before the listener's is taken to queue it for accept().
 *   tcp->bind_mu (a table writer lock) nests inside sk->mu; it guards the
 *   bind table, port selection and every insertion/removal in the
 *   established and listener tables.  Readers use RCU only.
 *
 * Timers
 *   One struct ns_timer per endpoint, armed to the earliest of the pending
 *   deadlines below (retransmission/probe, delayed ACK, keepalive, TIME_WAIT
 *   / FIN_WAIT_2, SYN-ACK retry).  Arming goes through tcp_timer_update(),
 *   which only touches the heap when the earliest deadline moves.  An
 *   endpoint's destroy marks it dead under sk->mu, then cancel_sync()s.
 */
#ifndef NS_TCP_INTERNAL_H
#define NS_TCP_INTERNAL_H

#include "../netstack/sock.h"
#include "tcp_seq.h"
#include "tcp_opts.h"
#include "tcp_rtt.h"
#include "tcp_cc.h"
#include "tcp_sack.h"
#include "tcp_rack.h"
#include "tcp_ofo.h"
#include "tcp_isn.h"
#include "tcp_cookie.h"

/* ---- states: Linux's numbering (tcp_info.tcpi_state) ---------------------- */
enum tcp_state {
	TCP_ESTABLISHED = 1,
	TCP_SYN_SENT,
	TCP_SYN_RECV,
	TCP_FIN_WAIT1,
	TCP_FIN_WAIT2,
	TCP_TIME_WAIT,
	TCP_CLOSE,
	TCP_CLOSE_WAIT,
	TCP_LAST_ACK,
	TCP_LISTEN,
	TCP_CLOSING,
};

/* ---- header flags -------------------------------------------------------- */
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20
#define TCPF_ECE 0x40
#define TCPF_CWR 0x80

#define TCP_HLEN 20
#define TCP_MAX_OPT 40

/* ---- Linux defaults (sysctl values) --------------------------------------- */
#define TCP_MSS_DEFAULT 536u            /* RFC 9293 3.7.1 when no MSS option */
#define TCP_MIN_MSS 88u                 /* Linux TCP_MIN_SND_MSS (48) + margin like net.ipv4.tcp_min_snd_mss */
#define TCP_MAX_WSCALE 14
#define TCP_INIT_CWND 10u
#define TCP_RTO_MIN_NS (200 * NS_NSEC_PER_MSEC)
#define TCP_RTO_MAX_NS (120 * NS_NSEC_PER_SEC)
#define TCP_TIMEOUT_INIT_NS (1 * NS_NSEC_PER_SEC)
#define TCP_TIMEWAIT_NS (60 * NS_NSEC_PER_SEC)
#define TCP_FIN_TIMEOUT_NS (60 * NS_NSEC_PER_SEC)
#define TCP_DELACK_MAX_NS (40 * NS_NSEC_PER_MSEC)
#define TCP_DELACK_MIN_NS (4 * NS_NSEC_PER_MSEC)
#define TCP_ATO_MIN_NS (40 * NS_NSEC_PER_MSEC)
#define TCP_KEEPIDLE_DEF 7200
#define TCP_KEEPINTVL_DEF 75
#define TCP_KEEPCNT_DEF 9
#define TCP_SYN_RETRIES 6
#define TCP_SYNACK_RETRIES 5
#define TCP_RETRIES1 3
#define TCP_RETRIES2 15
#define TCP_ORPHAN_RETRIES 8
#define TCP_SOMAXCONN 4096
/* Linux's stock net.ipv4.tcp_rmem / tcp_wmem (min, default, max); a stack can
 * change them with ns_sysctl_set() (struct ns_tcp.rmem / .wmem). */
#define TCP_RMEM_MIN_DEFAULT 4096
#define TCP_RMEM_DEF_DEFAULT 131072
#define TCP_RMEM_MAX_DEFAULT 6291456
#define TCP_WMEM_MIN_DEFAULT 4096
#define TCP_WMEM_DEF_DEFAULT 16384
#define TCP_WMEM_MAX_DEFAULT 4194304
#define TCP_RMEM_MIN (ep->tcp->rmem[0])
#define TCP_RMEM_DEF (ep->tcp->rmem[1])
#define TCP_RMEM_MAX (ep->tcp->rmem[2])
#define TCP_WMEM_MIN (ep->tcp->wmem[0])
#define TCP_WMEM_DEF (ep->tcp->wmem[1])
#define TCP_WMEM_MAX (ep->tcp->wmem[2])
#define TCP_EPHEM_LO 32768
#define TCP_EPHEM_HI 60999
#define TCP_CHALLENGE_ACK_LIMIT 1000    /* per second, like tcp_challenge_ack_limit */
#define TCP_MAX_QUICKACKS 16
#define TCP_MAX_TW_BUCKETS 262144
#define TCP_INVALID_RATELIMIT_NS (500 * NS_NSEC_PER_MSEC)
#define TCP_PAWS_24DAYS (60 * 60 * 24 * 24)
#define TCP_PAWS_WINDOW 1
#define TCP_SND_CHUNK 65536u            /* send-queue chunk capacity */
#define TCP_GSO_MAX 65536u              /* the largest segment handed to a TSO link */

/* ---- a parsed segment ------------------------------------------------------ */
struct tcp_seg {
	uint32_t seq, ack, end_seq;     /* end_seq = seq + len + SYN + FIN */
	uint32_t len;                   /* payload bytes */
	uint16_t wnd;                   /* raw header window */
	uint16_t up;                    /* urgent pointer */
	uint8_t flags;
	uint16_t sport, dport;          /* host order */
	struct ns_tcp_opts opt;
	struct ns_pkt *pkt;             /* data at the payload */
	const struct ns_ip_meta *m;
	uint32_t tw_isn;                /* scale: ISN for a SYN a TIME_WAIT record let through (0 none) */
};

/* ---- per-stack state --------------------------------------------------------- */
struct tcp_bind_bucket;
struct tcp_tw;

#define TCP_BHASH_SIZE 4096

struct ns_tcp {
	struct ns_stack *stk;
	struct cds_lfht *ehash;         /* 4-tuple -> endpoint (SYN_RECV .. TIME_WAIT) */
	struct cds_lfht *lhash;         /* local port -> listening endpoints */
	pthread_mutex_t bind_mu;        /* writers of ehash/lhash and the bind table */
	struct tcp_ep *bhash[TCP_BHASH_SIZE];   /* by port: every endpoint owning a local port */
	struct ns_tcp_secrets sec;      /* ISN, timestamp offset, port and cookie keys */
	struct ns_tcp_portsel portsel;  /* RFC 6056 state (under bind_mu) */
	/* RFC 5961 challenge ACK limit (global, like Linux) */
	pthread_mutex_t chal_mu;
	uint64_t chal_stamp_s;
	uint32_t chal_count;
	_Atomic uint32_t n_orphans;
	_Atomic uint32_t n_timewait;    /* bounded like Linux tcp_max_tw_buckets */
	/* net.ipv4.tcp_rmem / tcp_wmem: min, default, max (read where an endpoint
	 * sizes its buffers; written by ns_sysctl_set, a plain store of 32-bit values) */
	_Atomic uint32_t rmem[3], wmem[3];
	/* scale: TIME_WAIT records (tcp_timewait.c), their per-port bind chains
	 * (under bind_mu), net.ipv4.tcp_tw_reuse / tcp_max_tw_buckets /
	 * tcp_invalid_ratelimit (ms) */
	struct cds_lfht *twhash;
	struct tcp_tw *twbhash[TCP_BHASH_SIZE];
	_Atomic int tw_reuse;
	_Atomic uint32_t max_tw_buckets;
	_Atomic uint32_t invalid_ratelimit_ms;
};

/* ---- send-queue chunk bookkeeping ----------------------------------------- */
/* The send queue is a list of packets ("chunks") holding the byte stream from
 * snd_una on; each chunk's first byte has sequence number pkt->seq (we own
 * these packets), its bytes are ns_pkt_data()..tail, and pkt->tstamp records
 * when its bytes were last (re)transmitted (for RACK). */
struct tcp_sndq {
	struct ns_pkt *head, *tail;
	uint32_t bytes;                 /* write_seq - snd_una minus SYN/FIN */
	uint32_t truesize;
};

/* One transmitted MSS (RACK, Karn's rule, tcp_info): the retransmission
 * queue's unit, like a Linux skb of pcount 1.  A GSO burst pushes one record
 * per MSS (same xmit time); loss, SACK and retransmission act per record. */
struct tcp_txrec {
	uint32_t seq, end;
	uint64_t xmit_us;               /* last (re)transmission */
	uint8_t flags;                  /* NS_RACK_SEG_* and TCP_TXR_* */
};
/* NS_RACK_SEG_RETRANS (0x01) = Linux TCPCB_EVER_RETRANS, _SACKED (0x02) =
 * TCPCB_SACKED_ACKED, _LOST (0x04) = TCPCB_LOST; then: */
#define TCP_TXR_RTX 0x08                /* a retransmission is in flight (TCPCB_SACKED_RETRANS) */
#define TCP_TXR_PSH 0x10                /* the original transmission carried PSH */

/* ---- listener state ---------------------------------------------------------- */
struct tcp_listen {
	int backlog;                    /* sk_max_ack_backlog */
	int syn_qlen;                   /* children in SYN_RECV */
	int acc_qlen;                   /* established children waiting for accept */
	struct tcp_ep *acc_head, *acc_tail;     /* accept queue (each holds a sock ref) */
};

/* ---- the endpoint ---------------------------------------------------------- */
struct tcp_ep {
	struct ns_sock *sk;
	struct ns_stack *stk;
	struct ns_tcp *tcp;

	/* tables */
	struct cds_lfht_node hnode;     /* ehash or lhash */
	struct rcu_head unhash_rcu;
	uint8_t hashed;                 /* 0, 'e' established table, 'l' listener table */
	bool bound;                     /* in bhash */
	bool bind_port_lock;            /* user chose the port (SOCK_BINDPORT_LOCK) */
	bool bind_addr_lock;            /* user chose the address */
	struct tcp_ep *bnext;           /* bhash chain */
	struct tcp_ep **bpprev;         /* scale: the pointer to us in the chain (O(1) unbind) */
	uint32_t flow_hash;

	uint8_t state;
	bool dead;                      /* destroy started: never re-arm */
	bool orphan;                    /* descriptor closed */
	bool v6only;
	int family;                     /* socket domain (AF_INET6 may carry v4 flows) */
	/* IP_TTL / IPV6_UNICAST_HOPS (-1: the route's default), IP_TOS / IPV6_TCLASS */
	int16_t ttl, hops;
	uint8_t tos, tclass;
	struct ns_addr laddr, raddr;    /* real families (v4 flows on v6 sockets are v4 here) */
	uint16_t lport, rport;

	/* send sequence space (RFC 9293 3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
	uint32_t write_seq;             /* next sequence number to queue */
	uint32_t snd_up;                /* one past the urgent byte we sent (MSG_OOB) */
	bool urg_mode;                  /* snd_up not yet acknowledged */
	bool tw_counted;                /* counted in tcp->n_timewait */
	uint32_t max_window;            /* largest window the peer offered */
	uint32_t high_rxt;              /* RFC 6675 HighRxt / go-back retransmit point */
	uint32_t recover;               /* RFC 6582 recover */
	uint32_t fin_seq;               /* sequence number of our FIN when fin_queued */
	bool fin_queued, fin_sent;
	bool syn_acked;

	/* receive sequence space */
	uint32_t irs, rcv_nxt, rcv_wup, rcv_wnd;  /* advertised window right edge = rcv_wup + rcv_wnd */
	uint32_t rcv_up;
	bool fin_rcvd;
	uint32_t copied_seq;            /* next byte the user reads */

	/* options */
	uint8_t snd_wscale, rcv_wscale;
	bool ws_ok, ts_ok, sack_ok;
	uint32_t ts_recent, ts_offset;
	uint64_t ts_recent_stamp_ns;
	uint16_t mss_clamp;             /* peer's MSS option, or TCP_MAXSEG user clamp before SYN */
	uint16_t user_mss;              /* TCP_MAXSEG */
	uint16_t advmss;                /* what we announce */
	uint32_t mss_cache;             /* current effective send MSS (payload, without options) */
	uint32_t pmtu;
	uint32_t nic_caps;
	int oif;

	/* queues */
	struct tcp_sndq sndq;
	struct ns_pkt *rcvq_head, *rcvq_tail;   /* in-order data not yet read */
	uint32_t rcvq_bytes;
	struct ns_ofo ofo;              /* out-of-order queue and receiver SACK blocks */

	/* urgent data (received; Linux semantics, SO_OOBINLINE off) */
	uint32_t urg_seq;
	int16_t urg_data;               /* -1 none, else the byte (0x100 flag: read) */
	bool urg_pending;

	/* congestion control, RTT and loss recovery (tcpmod modules) */
	struct ns_tcp_cc cc;
	struct ns_tcp_rtt rtt;
	struct ns_sack_sb sb;           /* sender scoreboard (SACK peers) */
	struct ns_rack rack;
	struct tcp_txrec *txr;          /* ring of sent segments, ordered by seq */
	uint32_t txr_head, txr_n, txr_cap;
	uint32_t dupacks;
	uint32_t lost_out, retrans_out; /* segments, for tcp_info */
	uint32_t total_retrans;
	uint8_t retransmits;            /* consecutive RTOs without progress (tcpi_retransmits) */
	bool rtx_syn;                   /* SYN / SYN-ACK was retransmitted (RFC 6298 5.7) */
	bool frto;                      /* in Loss after RTO: go-back-N through high_rxt */
	uint64_t retrans_stamp;         /* first retransmission of the current episode, 0 none */
	uint64_t lsndtime, lrcvtime, lacktime;
	uint64_t bytes_acked, bytes_received, bytes_sent, bytes_retrans;
	uint32_t segs_in, segs_out, data_segs_in, data_segs_out;
	uint32_t delivered;
	uint32_t snd_sml;               /* end of the last small segment sent (Minshall Nagle) */
	uint32_t reordering;
	/* per-MSS loss accounting and undo (rtx; tcp_loss.c, Linux names) */
	uint32_t sacked_out;            /* SACKed records (Reno: duplicate ACKs) */
	uint32_t high_seq;              /* snd_nxt when Recovery/Loss/CWR began */
	uint32_t highest_sack;          /* end of the highest SACKed record (tcp_highest_sack_seq) */
	uint32_t undo_marker;           /* snd_una when a reduction began; valid when undo_on */
	int32_t undo_retrans;           /* retransmissions not yet shown spurious (-1: none yet) */
	uint32_t undo_tsval;            /* TSval of the first retransmission of the episode */
	uint32_t dsack_dups;            /* D-SACKed segments (tcpi_dsack_dups) */
	uint32_t reord_seen;            /* reordering events (tcpi_reord_seen) */
	bool undo_on, undo_ts_valid;
	bool frto_on;                   /* F-RTO (RFC 5682) running after an RTO */
	bool is_sack_reneg;

	/* ACK and window management */
	uint8_t quickack;               /* ACKs left to send immediately */
	bool ack_pending;
	bool ack_now;
	uint32_t rcv_mss;               /* estimate of the peer's segment size */
	uint32_t unacked_full;          /* full segments received since our last ACK */
	uint64_t ato_ns;
	bool pingpong;
	uint32_t rcv_space, rcv_space_seq;  /* receive-buffer auto-tuning (DRS) */
	uint64_t rcv_space_time;
	uint64_t rcv_rtt_us;
	uint32_t rcv_rtt_seq;
	uint64_t rcv_rtt_time;

	/* user settings */
	bool nodelay, cork, quickack_opt;
	bool keepalive;
	int keepidle, keepintvl, keepcnt;
	uint32_t user_timeout_ms;
	int syn_retries;                /* TCP_SYNCNT, 0 = default */
	int linger2;                    /* TCP_LINGER2 seconds, 0 = default */
	uint32_t window_clamp;
	int shut;                       /* NS_SHUT_* bits: 1 rd, 2 wr */
	int err_soft;                   /* last soft ICMP error */
	bool connect_pending;           /* connect in progress or its result not yet reported */
	bool ever_connected;            /* connect() was called (Linux SS_CONNECTING/CONNECTED) */
	bool disconnecting;             /* shutdown() while connecting (Linux SS_DISCONNECTING) */
	bool reset_seen;                /* connection was reset: EPIPE after ECONNRESET reported */
	bool conn_reported;

	/* probes */
	uint8_t probes_out;             /* zero-window or keepalive probes without answer */
	uint8_t probe_backoff;          /* persist timer backoff (Linux icsk_backoff for probe0) */
	uint64_t probe_start;

	/* timers */
	struct ns_timer timer;
	uint64_t timer_armed;           /* deadline the heap holds, 0 if none */
	uint64_t last_oow_ack;          /* ns: last ACK for an out-of-window segment (rate limit) */
	uint64_t t_rtx;                 /* retransmission / TLP / persist */
	uint8_t rtx_kind;               /* TCP_RTX_* */
	uint64_t t_delack;
	uint64_t t_keepalive;
	uint64_t t_wait;                /* TIME_WAIT / FIN_WAIT_2 / close-linger */
	uint64_t t_synack;              /* listener: not used; child SYN-ACK retries use t_rtx */

	/* passive open */
	struct tcp_ep *parent;          /* listener, holds a sock ref, while SYN_RECV / not accepted */
	struct tcp_ep *acc_next;        /* accept queue link */
	bool in_accq;
	bool in_synq;                   /* counted in the listener's syn_qlen */
	uint64_t synack_stamp;          /* us: when our SYN / SYN-ACK was first sent (RTT without TS) */
	bool notify_parent;             /* set on input: queue on parent after unlocking */
	struct tcp_listen *lst;         /* listener state when LISTEN */

	/* scale: ISN taken over from a reused TIME_WAIT record (0: none) */
	uint32_t tw_isn;

	/* MSG_EOR marks, MSG_ZEROCOPY notifications, SO_TIMESTAMPING keys (tcp_zc.c; NULL until used) */
	struct tcp_xf *xf;

	/* socket-option conformance (conform): TCP_NOTSENT_LOWAT (0 = the sysctl
	 * default, unlimited), TCP_INQ (cmsg on recvmsg), TCP_DEFER_ACCEPT
	 * (listener: seconds -> SYN-ACK retransmissions; child: waiting for data) */
	uint32_t notsent_lowat;
	bool recv_inq;
	uint8_t defer_accept;           /* Linux icsk_accept_queue.rskq_defer_accept (retransmissions) */
	bool defer_wait;                /* child: handshake ACK seen without data, kept in SYN_RECV */
};

enum { TCP_RTX_NONE = 0, TCP_RTX_RTO, TCP_RTX_PROBE0, TCP_RTX_TLP, TCP_RTX_REO };

static inline struct tcp_ep *tcp_ep_of(struct ns_sock *sk) { return sk->proto; }

/* ---- tcp.c: tables and ports --------------------------------------------- */
struct ns_tcp *tcp_of(struct ns_stack *stk);
/* Finds an endpoint for the 4-tuple (established table, then listeners);
 * returns it with a socket reference, or NULL. */
struct tcp_ep *tcp_lookup_established(struct ns_tcp *tcp, const struct ns_addr *laddr, uint16_t lport,
				      const struct ns_addr *raddr, uint16_t rport);
struct tcp_ep *tcp_lookup_listener(struct ns_tcp *tcp, const struct ns_addr *laddr, uint16_t lport,
				   const struct ns_addr *raddr, uint16_t rport, int nic);
/* Binding: port 0 picks an ephemeral port.  Called with sk->mu held. */
int tcp_bind_port(struct tcp_ep *ep, const struct ns_addr *addr, uint16_t port);
void tcp_unbind(struct tcp_ep *ep);
/* Active open: chooses a port if unbound and hashes the 4-tuple (-EADDRNOTAVAIL / -EADDRINUSE). */
int tcp_hash_connect(struct tcp_ep *ep);
/* Inserts ep (4-tuple set) into the established table; -EADDRINUSE if taken. */
int tcp_ehash_insert(struct tcp_ep *ep);
int tcp_lhash_insert(struct tcp_ep *ep);
void tcp_unhash(struct tcp_ep *ep);
uint32_t tcp_new_isn(struct ns_tcp *tcp, struct tcp_ep *ep);
bool tcp_challenge_ack_allowed(struct ns_tcp *tcp);
/* scale: Linux tcp_oow_rate_limited(): true (and stat counted) when an ACK to
 * an invalid segment went out less than tcp_invalid_ratelimit ago; pure ACKs
 * and SYNs only (the _stamp variant: any segment). */
bool tcp_oow_rate_limited(struct tcp_ep *ep, const struct tcp_seg *seg, int stat);
bool tcp_oow_rate_limited_stamp(struct tcp_ep *ep, int stat);
/* Moves ep to state, maintaining TcpCurrEstab and unhashing on CLOSE. */
void tcp_set_state(struct tcp_ep *ep, int state);
/* Full teardown to CLOSE: drops queues, timers, tables. */
void tcp_done(struct tcp_ep *ep);
/* Error on the connection: records it, wakes, tcp_done. */
void tcp_reset_ep(struct tcp_ep *ep, int err);
/* A closed listener's SYN_RECV children are dropped at once (no locks held). */
void tcp_listen_drop_synq(struct tcp_ep *lep);

/* ---- tcp_in.c --------------------------------------------------------------- */
/* Processes seg on ep (sk->mu held). Consumes seg->pkt. */
void tcp_rcv_state(struct tcp_ep *ep, struct tcp_seg *seg);
void tcp_listen_rcv(struct tcp_ep *lep, struct tcp_seg *seg);
/* Data has been read: maybe send a window update. */
void tcp_rcv_space_adjust(struct tcp_ep *ep);
void tcp_cleanup_rbuf(struct tcp_ep *ep, uint32_t copied);

/* ---- tcp_out.c -------------------------------------------------------------- */
uint32_t tcp_current_mss(struct tcp_ep *ep);
void tcp_sync_mss(struct tcp_ep *ep, uint32_t pmtu);
uint16_t tcp_select_window(struct tcp_ep *ep);
uint32_t tcp_rcv_space_free(struct tcp_ep *ep);
int tcp_send_syn(struct tcp_ep *ep);
int tcp_send_synack(struct tcp_ep *ep);
void tcp_send_ack(struct tcp_ep *ep);
void tcp_send_delayed_ack(struct tcp_ep *ep);
void tcp_send_challenge_ack(struct tcp_ep *ep);
void tcp_send_active_reset(struct tcp_ep *ep);
void tcp_send_fin(struct tcp_ep *ep);
void tcp_send_probe(struct tcp_ep *ep, bool keepalive);
/* Sends what cwnd, the peer's window, Nagle/cork allow; push forces the last small segment. */
void tcp_push(struct tcp_ep *ep, bool force_small);
/* Retransmits the record holding seq; returns records sent (0 none) or <0. */
int tcp_retransmit_seq(struct tcp_ep *ep, uint32_t seq, uint32_t max_len);
/* ---- tcp_loss.c (rtx) ---- */
/* Loss recovery part of an acceptable ACK (after snd_una / the send queue moved). */
void tcp_loss_ack(struct tcp_ep *ep, const struct tcp_seg *seg, uint32_t prior_una, bool dupack, int64_t rtt_us);
void tcp_enter_loss(struct tcp_ep *ep);
void tcp_rto_retransmit(struct tcp_ep *ep);
/* Reply RST to a segment that has no endpoint (RFC 9293 3.10.7.1). */
void tcp_send_reset_reply(struct ns_stack *stk, const struct tcp_seg *seg);
/* Appends user bytes to the send queue; returns bytes taken (may be short) or -errno. */
ssize_t tcp_sndq_append(struct tcp_ep *ep, const struct msghdr *m, size_t skip, size_t max);
/* Drops acked bytes from the send queue. */
void tcp_sndq_ack(struct tcp_ep *ep, uint32_t ack);
void tcp_sndq_purge(struct tcp_ep *ep);
uint32_t tcp_sndbuf_space(struct tcp_ep *ep);
bool tcp_may_send_now(struct tcp_ep *ep);

/* ---- tcp_timer.c ------------------------------------------------------------ */
void tcp_timer_init(struct tcp_ep *ep);
/* Re-arms the endpoint timer to the earliest pending deadline. */
void tcp_timer_update(struct tcp_ep *ep);
void tcp_rearm_rto(struct tcp_ep *ep);
void tcp_reset_probe_timer(struct tcp_ep *ep);
void tcp_set_keepalive(struct tcp_ep *ep);
void tcp_time_wait(struct tcp_ep *ep, int state, uint64_t timeo);
uint64_t tcp_rto_ns(struct tcp_ep *ep);

int tcp_listen_check_port(struct tcp_ep *ep);
void tcp_inherit_port(struct tcp_ep *child);

/* ---- tcp_sock.c ------------------------------------------------------------- */
void tcp_send_cookie_synack(struct tcp_ep *lep, struct tcp_seg *seg);
void tcp_cookie_child(struct tcp_ep *lep, struct tcp_seg *seg, const struct ns_syncookie_opts *co);
void tcp_child_abort_unqueued(struct tcp_ep *c);
void tcp_advmss_for(struct tcp_ep *ep, uint32_t pmtu);
void tcp_listen_release_public(struct tcp_ep *lep);
struct ns_sock *tcp_create_child(struct tcp_ep *lep);
void tcp_child_to_accept_queue(struct tcp_ep *child);
void tcp_listen_stop(struct tcp_ep *lep);
int tcp_poll_locked(struct ns_sock *sk);
/* Linux __sk_stream_is_writeable(sk, wake): buffer room and TCP_NOTSENT_LOWAT. */
bool tcp_stream_writeable(struct tcp_ep *ep, int wake);

/* Stack clock in TCP timestamp units (ms) with the endpoint offset. */
static inline uint32_t tcp_ts_now(struct tcp_ep *ep)
{
	return (uint32_t)(ns__now(ep->stk) / NS_NSEC_PER_MSEC) + ep->ts_offset;
}

#endif
