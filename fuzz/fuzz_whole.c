/*
 * fuzz/fuzz_whole.c - the stateful whole-stack target.
 *
 * The input is decoded into a sequence of steps against one fresh stack
 * (listeners on UDP 7 and TCP 80, IPv4 and IPv6, a peer it knows):
 *   inject a raw frame; inject a TCP segment built as a reply to the last
 *   segment the stack sent (so handshakes complete and data flows: seq and
 *   ack are taken relative to what the stack expects, then perturbed);
 *   inject UDP; inject an ICMP error quoting the stack's last segment;
 *   advance the virtual clock; make a socket call (connect, accept, send
 *   and recv with every flag the stack knows (MSG_ZEROCOPY, MSG_EOR,
 *   MSG_FASTOPEN, MSG_OOB, MSG_ERRQUEUE, ...), shutdown, close, setsockopt
 *   (TCP, socket, IP/IPv6 and UDP levels, including TCP Fast Open,
 *   zerocopy and timestamping), getsockopt, poll, ioctl, recvmsg with
 *   control messages, Fast Open connects, multicast joins) on a small table
 *   of descriptors.
 * One stack lives across inputs (creating and destroying one per input
 * costs two RCU barriers, ~30 ms).  Each input starts from the same state:
 * the random source is reseeded and the service sockets are fresh; at the
 * end every socket (services included) is closed and the virtual clock runs
 * two hours, after which the stack must hold no packet at all (anything
 * left is a leak or a queue that never drains: abort).
 */
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include "fuzz_stack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFD 8

struct rd {
	const uint8_t *p;
	size_t n, i;
};

static uint8_t u8(struct rd *r) { return r->i < r->n ? r->p[r->i++] : 0; }
static uint16_t u16(struct rd *r) { return (uint16_t)(u8(r) << 8 | u8(r)); }
static uint32_t u32(struct rd *r) { return (uint32_t)u16(r) << 16 | u16(r); }

struct st {
	struct fz f;
	int fds[NFD];
	uint8_t frame[FZ_MAX_FRAME];
	uint8_t buf[FZ_MAX_FRAME];
};

static void services_open(struct fz *f);
static void services_close(struct fz *f);

static int slot_fd(struct st *s, uint8_t k) { return s->fds[k % NFD]; }

static void put_fd(struct st *s, int fd)
{
	if (fd < 0)
		return;
	for (int i = 0; i < NFD; i++) {
		if (s->fds[i] < 0) {
			s->fds[i] = fd;
			return;
		}
	}
	ns_close(s->f.stk, fd);
}

/* A TCP segment answering the stack's last one: ports and addresses
 * swapped, seq = its ack (+ delta), ack = its seq + length (+ delta). */
static void tcp_reply(struct st *s, struct rd *r)
{
	struct fz *f = &s->f;
	uint8_t flags = u8(r), dseq = u8(r), dack = u8(r), olen = u8(r) % 44, plen = u8(r);
	uint16_t win = u16(r);
	uint8_t seg[60 + 40 + 255];
	memset(seg, 0, sizeof(seg));
	bool v6 = false;
	uint16_t sport = 80, dport = 40000;
	uint32_t seq = u32(r), ack = 0;
	const uint8_t *last = f->last_tcp;
	if (f->last_tcp_len) {
		v6 = ns_load_be16(last + 12) == NS_ETHERTYPE_IPV6;
		const uint8_t *th = last + 14 + (v6 ? 40 : (size_t)(last[14] & 15) * 4);
		size_t iplen = v6 ? 40 + ns_load_be16(last + 18) : ns_load_be16(last + 16);
		size_t thl = (size_t)(th[12] >> 4) * 4;
		size_t paylen = iplen - (size_t)(th - (last + 14)) - thl;
		if (th + 20 <= last + f->last_tcp_len && thl >= 20 && paylen < 65536) {
			sport = ns_load_be16(th + 2);
			dport = ns_load_be16(th);
			uint32_t their_seq = ns_load_be32(th + 4);
			uint32_t their_ack = ns_load_be32(th + 8);
			uint32_t len = (uint32_t)paylen + ((th[13] & 0x03) ? 1 : 0);
			seq = their_ack + (uint32_t)(int8_t)dseq;
			ack = their_seq + len + (uint32_t)(int8_t)dack;
			if (!(th[13] & 0x10))   /* their SYN: no ack to echo; pick any ISN */
				seq = u32(r);
		}
	}
	uint8_t x = u8(r);
	if (x & 1)
		v6 = !v6;
	uint8_t ecn = (x >> 1) & 3;             /* IP ECN field: Not-ECT, ECT(1), ECT(0), CE */
	ns_store_be16(seg, sport);
	ns_store_be16(seg + 2, dport);
	ns_store_be32(seg + 4, seq);
	ns_store_be32(seg + 8, ack);
	size_t olen4 = (olen + 3) & ~3u;
	if (olen4 > 40)
		olen4 = 40;
	seg[12] = (uint8_t)((20 + olen4) / 4) << 4;
	seg[13] = flags;
	ns_store_be16(seg + 14, win);
	for (size_t i = 0; i < olen4; i++)
		seg[20 + i] = i < olen ? u8(r) : 1;     /* pad with NOP */
	size_t hl = 20 + olen4;
	for (size_t i = 0; i < plen; i++)
		seg[hl + i] = (uint8_t)i;
	size_t n = v6 ? fz_ipv6(s->frame, sizeof(s->frame), NS_IPPROTO_TCP, seg, hl + plen, true, 64)
		      : fz_ipv4(s->frame, sizeof(s->frame), NS_IPPROTO_TCP, seg, hl + plen, true);
	if (n && v6) {
		s->frame[15] = (uint8_t)((s->frame[15] & 0xcf) | ecn << 4);
	} else if (n) {
		s->frame[15] = (uint8_t)((s->frame[15] & 0xfc) | ecn);
		fz_fix_ipv4_hdr(s->frame, n);
	}
	fz_inject(f, s->frame, n);
}

/* An ICMP error (port unreachable, frag needed, ...) quoting the stack's last TCP segment. */
static void icmp_error(struct st *s, struct rd *r)
{
	struct fz *f = &s->f;
	if (!f->last_tcp_len)
		return;
	uint8_t msg[8 + 128];
	uint8_t type = u8(r), code = u8(r);
	uint16_t mtu = u16(r);
	bool v6 = ns_load_be16(f->last_tcp + 12) == NS_ETHERTYPE_IPV6;
	size_t q = f->last_tcp_len - 14;
	if (q > 120)
		q = 120;
	memset(msg, 0, 8);
	msg[0] = v6 ? (uint8_t)(type % 5) : (uint8_t)(type & 1 ? 3 : type % 13);
	msg[1] = code % 16;
	if (v6)
		ns_store_be32(msg + 4, mtu);
	else
		ns_store_be16(msg + 6, mtu);
	memcpy(msg + 8, f->last_tcp + 14, q);
	size_t n = v6 ? fz_ipv6(s->frame, sizeof(s->frame), NS_IPPROTO_ICMPV6, msg, 8 + q, true, 64)
		      : fz_ipv4(s->frame, sizeof(s->frame), NS_IPPROTO_ICMP, msg, 8 + q, true);
	fz_inject(f, s->frame, n);
}

static void udp_in(struct st *s, struct rd *r)
{
	uint8_t hdr[8 + 255];
	uint8_t port = u8(r), len = u8(r);
	bool v6 = port & 0x80;
	ns_store_be16(hdr, 5353);
	ns_store_be16(hdr + 2, (port & 1) ? 7 : (uint16_t)(30000 + port));
	ns_store_be16(hdr + 4, (uint16_t)(8 + len));
	hdr[6] = hdr[7] = 0;
	for (unsigned i = 0; i < len; i++)
		hdr[8 + i] = u8(r);
	size_t n = v6 ? fz_ipv6(s->frame, sizeof(s->frame), NS_IPPROTO_UDP, hdr, 8u + len, true, 64)
		      : fz_ipv4(s->frame, sizeof(s->frame), NS_IPPROTO_UDP, hdr, 8u + len, true);
	fz_inject(&s->f, s->frame, n);
}

static void raw_frame(struct st *s, struct rd *r)
{
	size_t len = u8(r) * 4u + 14;
	for (size_t i = 0; i < len; i++)
		s->frame[i] = u8(r);
	if (!(s->frame[0] & 1))
		memcpy(s->frame, fz_mac_stack, 6);
	if (ns_load_be16(s->frame + 12) == NS_ETHERTYPE_IPV4)
		fz_fix_ipv4_hdr(s->frame, len);
	fz_inject(&s->f, s->frame, len);
}

/* Option and flag numbers of features that may not be in ns_abi.h yet
 * (Linux values; the stack answers ENOPROTOOPT/EINVAL until they land). */
#define FZ_TCP_FASTOPEN 23
#define FZ_TCP_FASTOPEN_CONNECT 30
#define FZ_TCP_NOTSENT_LOWAT 25
#define FZ_MSG_FASTOPEN 0x20000000

static int send_flags(uint8_t b)
{
	static const int bits[] = { NS_MSG_MORE, NS_MSG_ZEROCOPY, NS_MSG_EOR, NS_MSG_OOB,
				    NS_MSG_DONTWAIT, NS_MSG_NOSIGNAL, FZ_MSG_FASTOPEN, NS_MSG_WAITALL };
	int f = 0;
	for (unsigned i = 0; i < NS_ARRAY_SIZE(bits); i++)
		if (b & (1u << i))
			f |= bits[i];
	return f | NS_MSG_DONTWAIT;
}

static int recv_flags(uint8_t k)
{
	return NS_MSG_DONTWAIT | ((k & 0x40) ? NS_MSG_PEEK : 0) | ((k & 0x20) ? NS_MSG_OOB : 0) |
	       ((k & 0x10) ? NS_MSG_TRUNC : 0) | ((k & 0x08) ? NS_MSG_ERRQUEUE : 0);
}

/* recvmsg with room for control messages (error queue: zerocopy
 * notifications, timestamps, ICMP errors) */
static void errqueue_recv(struct st *s, int fd, uint8_t k)
{
	union { struct cmsghdr h; uint8_t raw[256]; } ctl;
	struct sockaddr_in6 from;
	struct iovec iov = { s->buf, 512 };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = &ctl,
			    .msg_controllen = (k & 0x80) ? 16 : sizeof(ctl) };  /* sometimes too small */
	ns_recvmsg(s->f.stk, fd, &m, recv_flags(k) | NS_MSG_ERRQUEUE);
	m.msg_controllen = sizeof(ctl);
	m.msg_namelen = sizeof(from);
	ns_recvmsg(s->f.stk, fd, &m, recv_flags(k) & ~NS_MSG_ERRQUEUE);
}

/* TCP Fast Open from the client side: the option, then sendto with
 * MSG_FASTOPEN (data in the SYN once a cookie is known) or connect. */
static void fastopen_connect(struct st *s, struct rd *r, uint8_t k)
{
	struct ns_stack *stk = s->f.stk;
	bool v6 = k & 0x80;
	int nfd = ns_socket(stk, v6 ? NS_AF_INET6 : NS_AF_INET, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
	if (nfd < 0)
		return;
	int one = 1;
	ns_setsockopt(stk, nfd, NS_IPPROTO_TCP, (k & 1) ? FZ_TCP_FASTOPEN_CONNECT : FZ_TCP_FASTOPEN,
		      &one, sizeof(one));
	struct sockaddr_in6 a6 = { .sin6_family = NS_AF_INET6, .sin6_port = htons(u16(r)) };
	struct sockaddr_in a4 = { .sin_family = NS_AF_INET, .sin_port = a6.sin6_port };
	memcpy(&a6.sin6_addr, fz_ip6_peer, 16);
	memcpy(&a4.sin_addr, fz_ip4_peer, 4);
	const struct sockaddr *sa = v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4;
	socklen_t sl = v6 ? sizeof(a6) : sizeof(a4);
	size_t n = u8(r) * 8u;
	memset(s->buf, 'f', n);
	if (k & 2)
		ns_sendto(stk, nfd, s->buf, n, FZ_MSG_FASTOPEN, sa, sl);
	else
		ns_connect(stk, nfd, sa, sl);
	put_fd(s, nfd);
}

/* Multicast membership and loop options on a UDP socket (IPv4 or IPv6). */
static void mcast_call(struct st *s, struct rd *r, uint8_t k)
{
	struct ns_stack *stk = s->f.stk;
	bool v6 = k & 0x80;
	int nfd = ns_socket(stk, v6 ? NS_AF_INET6 : NS_AF_INET, NS_SOCK_DGRAM | NS_SOCK_NONBLOCK, 0);
	if (nfd < 0)
		return;
	uint8_t m[20];
	memset(m, 0, sizeof(m));
	int ifindex = (int)(u8(r) % 3);
	if (v6) {
		m[0] = 0xff;
		m[1] = u8(r);
		m[15] = u8(r);
		memcpy(m + 16, &ifindex, 4);
		ns_setsockopt(stk, nfd, NS_IPPROTO_IPV6, 20 + (k & 1), m, (k & 2) ? 16 : 20);
		ns_setsockopt(stk, nfd, NS_IPPROTO_IPV6, 19 /* IPV6_MULTICAST_LOOP */, &ifindex, sizeof(int));
	} else {
		m[0] = 224 + (u8(r) & 15);
		m[3] = u8(r);
		memcpy(m + 4, fz_ip4_stack, 4);
		memcpy(m + 8, &ifindex, 4);
		ns_setsockopt(stk, nfd, NS_IPPROTO_IP, 35 + (k & 1), m, (k & 2) ? 8 : 12);
		ns_setsockopt(stk, nfd, NS_IPPROTO_IP, 34 /* IP_MULTICAST_LOOP */, &ifindex, sizeof(int));
	}
	/* and a datagram to the group (looped back when joined) */
	struct sockaddr_in6 a6 = { .sin6_family = NS_AF_INET6, .sin6_port = htons(7) };
	struct sockaddr_in a4 = { .sin_family = NS_AF_INET, .sin_port = htons(7) };
	memcpy(&a6.sin6_addr, m, 16);
	memcpy(&a4.sin_addr, m, 4);
	ns_sendto(stk, nfd, "m", 1, 0, v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4,
		  v6 ? sizeof(a6) : sizeof(a4));
	put_fd(s, nfd);
}

static void sock_call(struct st *s, struct rd *r)
{
	struct ns_stack *stk = s->f.stk;
	uint8_t op = u8(r), k = u8(r);
	int fd = slot_fd(s, k);
	switch (op % 18) {
	case 0: {           /* connect to the peer, v4 or v6, port from input */
		bool v6 = k & 0x80;
		int nfd = ns_socket(stk, v6 ? NS_AF_INET6 : NS_AF_INET, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
		if (nfd < 0)
			return;
		uint16_t port = u16(r);
		if (v6) {
			struct sockaddr_in6 a = { .sin6_family = NS_AF_INET6, .sin6_port = htons(port) };
			memcpy(&a.sin6_addr, fz_ip6_peer, 16);
			ns_connect(stk, nfd, (struct sockaddr *)&a, sizeof(a));
		} else {
			struct sockaddr_in a = { .sin_family = NS_AF_INET, .sin_port = htons(port) };
			memcpy(&a.sin_addr, fz_ip4_peer, 4);
			ns_connect(stk, nfd, (struct sockaddr *)&a, sizeof(a));
		}
		put_fd(s, nfd);
		break;
	}
	case 1:
		put_fd(s, ns_accept(stk, k & 1 ? s->f.tcp6 : s->f.tcp4, NULL, NULL, NS_SOCK_NONBLOCK));
		break;
	case 2: {
		size_t n = (size_t)u16(r) % sizeof(s->buf);
		memset(s->buf, 'x', n);
		ns_send(stk, fd, s->buf, n, send_flags(u8(r)));
		break;
	}
	case 3:
		ns_recv(stk, fd, s->buf, (size_t)u16(r) % sizeof(s->buf), recv_flags(k));
		break;
	case 4:
		ns_shutdown(stk, fd, u8(r) % 4);
		break;
	case 5:
		if (fd >= 0) {
			ns_close(stk, fd);
			s->fds[k % NFD] = -1;
		}
		break;
	case 6: {
		static const int opts[][2] = {
			{ NS_IPPROTO_TCP, NS_TCP_NODELAY }, { NS_IPPROTO_TCP, NS_TCP_CORK },
			{ NS_IPPROTO_TCP, NS_TCP_MAXSEG }, { NS_IPPROTO_TCP, NS_TCP_KEEPIDLE },
			{ NS_IPPROTO_TCP, NS_TCP_KEEPINTVL }, { NS_IPPROTO_TCP, NS_TCP_KEEPCNT },
			{ NS_IPPROTO_TCP, NS_TCP_USER_TIMEOUT }, { NS_IPPROTO_TCP, NS_TCP_QUICKACK },
			{ NS_SOL_SOCKET, NS_SO_KEEPALIVE }, { NS_SOL_SOCKET, NS_SO_SNDBUF },
			{ NS_SOL_SOCKET, NS_SO_RCVBUF }, { NS_SOL_SOCKET, NS_SO_LINGER },
			{ NS_SOL_SOCKET, NS_SO_REUSEADDR }, { NS_IPPROTO_IP, NS_IP_TTL },
			/* added as the protocols grew (session 2) */
			{ NS_IPPROTO_TCP, NS_TCP_SYNCNT }, { NS_IPPROTO_TCP, NS_TCP_LINGER2 },
			{ NS_IPPROTO_TCP, NS_TCP_WINDOW_CLAMP }, { NS_IPPROTO_TCP, NS_TCP_DEFER_ACCEPT },
			{ NS_IPPROTO_TCP, FZ_TCP_FASTOPEN }, { NS_IPPROTO_TCP, FZ_TCP_FASTOPEN_CONNECT },
			{ NS_IPPROTO_TCP, FZ_TCP_NOTSENT_LOWAT },
			{ NS_SOL_SOCKET, NS_SO_ZEROCOPY }, { NS_SOL_SOCKET, NS_SO_TIMESTAMPING },
			{ NS_SOL_SOCKET, NS_SO_TIMESTAMP }, { NS_SOL_SOCKET, NS_SO_TIMESTAMPNS },
			{ NS_SOL_SOCKET, NS_SO_OOBINLINE }, { NS_SOL_SOCKET, NS_SO_RCVLOWAT },
			{ NS_SOL_SOCKET, NS_SO_BROADCAST }, { NS_SOL_SOCKET, NS_SO_REUSEPORT },
			{ NS_IPPROTO_IP, NS_IP_TOS }, { NS_IPPROTO_IP, NS_IP_RECVERR },
			{ NS_IPPROTO_IPV6, NS_IPV6_TCLASS }, { NS_IPPROTO_IPV6, NS_IPV6_UNICAST_HOPS },
			{ NS_IPPROTO_IPV6, NS_IPV6_RECVERR }, { 17 /* SOL_UDP */, 1 /* UDP_CORK */ },
		};
		uint8_t which = u8(r) % (uint8_t)NS_ARRAY_SIZE(opts);
		int v[2] = { (int)u32(r), (int)(u8(r) % 5) };
		if (opts[which][1] == NS_SO_LINGER && opts[which][0] == NS_SOL_SOCKET)
			v[0] &= 1;
		ns_setsockopt(stk, fd, opts[which][0], opts[which][1], v,
			      opts[which][1] == NS_SO_LINGER ? sizeof(v) : sizeof(int));
		break;
	}
	case 7: {
		uint8_t info[256];
		socklen_t l = sizeof(info);
		ns_getsockopt(stk, fd, NS_IPPROTO_TCP, NS_TCP_INFO, info, &l);
		int e;
		l = sizeof(e);
		ns_getsockopt(stk, fd, NS_SOL_SOCKET, NS_SO_ERROR, &e, &l);
		break;
	}
	case 8:
		ns_poll_mask(stk, fd);
		break;
	case 9: {
		int v;
		ns_ioctl(stk, fd, k & 1 ? NS_SIOCOUTQ : NS_SIOCINQ, &v);
		break;
	}
	case 10: {          /* a listener on a port of the input's choosing */
		int nfd = ns_socket(stk, NS_AF_INET, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
		struct sockaddr_in a = { .sin_family = NS_AF_INET, .sin_port = htons(u16(r)) };
		if (nfd >= 0 && ns_bind(stk, nfd, (struct sockaddr *)&a, sizeof(a)) == 0)
			ns_listen(stk, nfd, u8(r) % 4);
		put_fd(s, nfd);
		break;
	}
	case 11: {          /* UDP socket sending to the peer */
		int nfd = ns_socket(stk, NS_AF_INET, NS_SOCK_DGRAM | NS_SOCK_NONBLOCK, 0);
		struct sockaddr_in a = { .sin_family = NS_AF_INET, .sin_port = htons(u16(r)) };
		memcpy(&a.sin_addr, fz_ip4_peer, 4);
		size_t n = (size_t)u16(r) % 4000;
		memset(s->buf, 'u', n);
		if (nfd >= 0)
			ns_sendto(stk, nfd, s->buf, n, 0, (struct sockaddr *)&a, sizeof(a));
		put_fd(s, nfd);
		break;
	}
	case 12:
		ns_recvfrom(stk, k & 1 ? s->f.udp6 : s->f.udp4, s->buf, sizeof(s->buf), NS_MSG_DONTWAIT,
			    NULL, NULL);
		break;
	case 13:
		errqueue_recv(s, fd, k);
		break;
	case 14:
		fastopen_connect(s, r, k);
		break;
	case 15:
		mcast_call(s, r, k);
		break;
	case 16: {          /* TCP_CONGESTION by name */
		static const char *const cc[] = { "reno", "cubic", "bbr", "nope", "" };
		const char *name = cc[u8(r) % NS_ARRAY_SIZE(cc)];
		ns_setsockopt(stk, fd, NS_IPPROTO_TCP, NS_TCP_CONGESTION, name, (socklen_t)strlen(name));
		break;
	}
	default: {
		struct sockaddr_in6 a;
		socklen_t l = sizeof(a);
		ns_getsockname(stk, fd, (struct sockaddr *)&a, &l);
		l = sizeof(a);
		ns_getpeername(stk, fd, (struct sockaddr *)&a, &l);
		break;
	}
	}
}

static void services_close(struct fz *f)
{
	ns_close(f->stk, f->udp4);
	ns_close(f->stk, f->udp6);
	ns_close(f->stk, f->tcp4);
	ns_close(f->stk, f->tcp6);
}

static void services_open(struct fz *f)
{
	f->udp4 = fz_listen(f, NS_AF_INET, NS_SOCK_DGRAM, 7);
	f->udp6 = fz_listen(f, NS_AF_INET6, NS_SOCK_DGRAM, 7);
	f->tcp4 = fz_listen(f, NS_AF_INET, NS_SOCK_STREAM, 80);
	f->tcp6 = fz_listen(f, NS_AF_INET6, NS_SOCK_STREAM, 80);
}

static struct st *S;

/*
 * Inputs advance the virtual clock by ~40,000 s on average (two hours at
 * the end, plus what their clock steps ask for), so after ~450,000 inputs a
 * clock that is never reset would pass 2^64 ns: the harness's "two hours
 * later" then wrapped to the past, the check ran right after the close and
 * found the closing connections' packets (the campaign's "2 packets still
 * alive" at ~550,000 executions).  A stack's clock is a monotonic time since
 * some boot and never gets near 2^64 ns (584 years), so rather than fuzz an
 * impossible time the harness starts a fresh stack once the clock passes
 * 2^62 ns (146 years; one input adds at most 400 * 2^36 us + 2 h).
 */
#define FZ_CLOCK_CEILING (1ull << 62)

/* Sockets are freed after RCU grace periods on liburcu's callback thread
 * (real time, not virtual), and a callback can queue another (a listener's
 * children, an unhashed endpoint's last reference): one barrier waits only
 * for the callbacks queued before it, so repeat until nothing is alive or
 * the barriers stop making progress. */
static void wait_rcu_frees(struct fz *f)
{
	uint64_t before = UINT64_MAX;
	for (int i = 0; i < 100 && ns_stack_live_pkts(f->stk) != 0; i++) {
		urcu_bp_synchronize_rcu();
		urcu_bp_barrier();
		uint64_t now = ns_stack_live_pkts(f->stk);
		if (now == before && i >= 3)
			break;
		before = now;
	}
}

/* At exit the stack is destroyed, so LeakSanitizer's exit check sees
 * anything it failed to free (per-input leak checks are off: the stack's
 * deferred RCU frees would trip them on every input). */
static void whole_exit(void)
{
	if (!S)
		return;
	if (getenv("FZ_CLOCK_PRINT"))
		fz_dump_live(&S->f);
	fz_fini(&S->f);
	free(S);
	S = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!S) {
		S = malloc(sizeof(*S));
		fz_init(&S->f, 11);
		atexit(whole_exit);
	} else {
		services_open(&S->f);
	}
	if (S->f.vc.now > FZ_CLOCK_CEILING) {
		fz_fini(&S->f);         /* see FZ_CLOCK_CEILING */
		fz_init_at(&S->f, 11, 1000ull * NS_NSEC_PER_SEC);
	}
	struct st *s = S;
	ns_seeded_rng_init(&s->f.rng, 11);
	s->f.last_tcp_len = 0;
	for (int i = 0; i < NFD; i++)
		s->fds[i] = -1;
	struct rd r = { .p = data, .n = size };
	for (int steps = 0; r.i < r.n && steps < 400; steps++) {
		uint8_t op = u8(&r);
		switch (op % 8) {
		case 0: raw_frame(s, &r); break;
		case 1:
		case 2: tcp_reply(s, &r); break;
		case 3: udp_in(s, &r); break;
		case 4: icmp_error(s, &r); break;
		case 5: fz_advance(&s->f, (1ull << (u8(&r) % 37)) * NS_NSEC_PER_USEC); break;
		default: sock_call(s, &r); break;
		}
		fz_run(&s->f);
	}
	for (int i = 0; i < NFD; i++)
		if (s->fds[i] >= 0)
			ns_close(s->f.stk, s->fds[i]);
	services_close(&s->f);
	/* enough steps for two hours of the busiest legitimate timers; if the
	 * clock still did not get there, the check below would be meaningless */
	if (!fz_advance_steps(&s->f, 7200 * NS_NSEC_PER_SEC, 2000000)) {
		fprintf(stderr, "fuzz_whole: timers never let two virtual hours pass (a timer storm)\n");
		abort();
	}
	wait_rcu_frees(&s->f);
	if (ns_stack_live_pkts(s->f.stk) != 0) {
		fprintf(stderr, "fuzz_whole: %llu packets still alive two hours after every socket closed\n",
			(unsigned long long)ns_stack_live_pkts(s->f.stk));
		fz_dump_live(&s->f);
		abort();
	}
	return 0;
}
