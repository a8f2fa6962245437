/*
 * fuzz/fuzz_stack.c - the shared fuzz harness (see fuzz_stack.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include "fuzz_stack.h"
#ifdef NS_PKT_DEBUG
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

const uint8_t fz_mac_stack[6] = { 0x02, 0x00, 0x5e, 0xed, 0x00, 0x02 };
const uint8_t fz_mac_peer[6] = { 0x02, 0x00, 0x5e, 0xed, 0x00, 0xfe };
const uint8_t fz_ip4_stack[4] = { 198, 18, 0, 2 };
const uint8_t fz_ip4_peer[4] = { 198, 18, 0, 1 };
const uint8_t fz_ip6_stack[16] = { 0xfd, 0x00, 0x5e, 0xed, [15] = 2 };
const uint8_t fz_ip6_peer[16] = { 0xfd, 0x00, 0x5e, 0xed, [15] = 1 };

static void die(const char *what, int err)
{
	fprintf(stderr, "fuzz harness: %s failed: %d\n", what, err);
	abort();
}

int fz_listen(struct fz *f, int family, int type, uint16_t port)
{
	int fd = ns_socket(f->stk, family, type | NS_SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket", fd);
	int one = 1;
	if (family == NS_AF_INET6)
		ns_setsockopt(f->stk, fd, NS_IPPROTO_IPV6, NS_IPV6_V6ONLY, &one, sizeof(one));
	struct sockaddr_in6 s6 = { .sin6_family = NS_AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in s4 = { .sin_family = NS_AF_INET, .sin_port = htons(port) };
	int r = family == NS_AF_INET6 ? ns_bind(f->stk, fd, (struct sockaddr *)&s6, sizeof(s6))
				      : ns_bind(f->stk, fd, (struct sockaddr *)&s4, sizeof(s4));
	if (r < 0)
		die("bind", r);
	if (type == NS_SOCK_STREAM && (r = ns_listen(f->stk, fd, 8)) < 0)
		die("listen", r);
	return fd;
}

/* Teach the stack the peer's MAC: an ARP request and a neighbour solicitation from it. */
static void learn_peer(struct fz *f)
{
	uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	memcpy(arp + 8, fz_mac_peer, 6);
	memcpy(arp + 14, fz_ip4_peer, 4);
	memcpy(arp + 24, fz_ip4_stack, 4);
	uint8_t fr[128];
	size_t n = fz_eth(fr, sizeof(fr), NS_ETHERTYPE_ARP, arp, sizeof(arp));
	fz_inject(f, fr, n);
	uint8_t ns[32] = { 135, 0 };
	memcpy(ns + 8, fz_ip6_stack, 16);
	ns[24] = 1;     /* source link-layer address option */
	ns[25] = 1;
	memcpy(ns + 26, fz_mac_peer, 6);
	uint8_t fr6[128];
	n = fz_ipv6(fr6, sizeof(fr6), NS_IPPROTO_ICMPV6, ns, sizeof(ns), true, 255);
	fz_inject(f, fr6, n);
	fz_run(f);
}

void fz_init(struct fz *f, uint64_t seed)
{
	/* FZ_CLOCK_START=ns: start the virtual clock elsewhere (to replay a
	 * finding that needs the clock a long-running campaign reached) */
	const char *cs = getenv("FZ_CLOCK_START");
	fz_init_at(f, seed, cs ? strtoull(cs, NULL, 0) : 1000ull * NS_NSEC_PER_SEC);
}

void fz_init_at(struct fz *f, uint64_t seed, uint64_t clock_ns)
{
	memset(f, 0, sizeof(*f));
	f->vc.now = clock_ns;
	ns_seeded_rng_init(&f->rng, seed);
	struct ns_stack_opts o = { .clock = ns_vclock_clock(&f->vc), .rng = ns_seeded_rng(&f->rng),
				   .flags = NS_STACK_F_NODAD | NS_STACK_F_NOAUTO6,
				   .mem_limit = 64ull << 20 };
	int r = ns_stack_create(&o, &f->stk);
	if (r < 0)
		die("ns_stack_create", r);
	f->chan = ns_link_channel_new(fz_mac_stack, 1500, 4096);
	f->nic = ns_nic_add(f->stk, f->chan, "fz0");
	if (f->nic < 0)
		die("ns_nic_add", f->nic);
	struct ns_addr a;
	a.family = NS_AF_INET;
	ns_addr_v4(&a, fz_ip4_stack);
	if ((r = ns_nic_addr_add(f->stk, f->nic, &a, 24)) < 0)
		die("addr4", r);
	memset(&a, 0, sizeof(a));
	a.family = NS_AF_INET6;
	memcpy(a.b, fz_ip6_stack, 16);
	if ((r = ns_nic_addr_add(f->stk, f->nic, &a, 64)) < 0)
		die("addr6", r);
	f->udp4 = fz_listen(f, NS_AF_INET, NS_SOCK_DGRAM, 7);
	f->udp6 = fz_listen(f, NS_AF_INET6, NS_SOCK_DGRAM, 7);
	f->tcp4 = fz_listen(f, NS_AF_INET, NS_SOCK_STREAM, 80);
	f->tcp6 = fz_listen(f, NS_AF_INET6, NS_SOCK_STREAM, 80);
	fz_run(f);
	learn_peer(f);
}

void fz_fini(struct fz *f)
{
	ns_stack_destroy(f->stk);
	f->stk = NULL;
}

void fz_inject(struct fz *f, const uint8_t *frame, size_t len)
{
	if (len > FZ_MAX_FRAME * 8)
		return;
	struct ns_pkt *p = ns_pkt_alloc(ns_stack_pool(f->stk), NS_PKT_HEADROOM, len);
	if (!p)
		return;
	memcpy(ns_pkt_data(p), frame, len);
	ns_link_channel_inject(f->chan, p);
}

static void drain(struct fz *f)
{
	struct ns_pkt *p;
	while ((p = ns_link_channel_take(f->chan)) != NULL) {
		f->frames_out++;
		const uint8_t *d = ns_pkt_data(p);
		size_t len = ns_pkt_len(p);
		bool tcp = len >= 14 + 20 + 20 &&
			   ((ns_load_be16(d + 12) == NS_ETHERTYPE_IPV4 && d[14 + 9] == NS_IPPROTO_TCP) ||
			    (len >= 14 + 40 + 20 && ns_load_be16(d + 12) == NS_ETHERTYPE_IPV6 &&
			     d[14 + 6] == NS_IPPROTO_TCP));
		if (tcp && len <= sizeof(f->last_tcp)) {
			memcpy(f->last_tcp, d, len);
			f->last_tcp_len = len;
		}
		ns_pkt_unref(p);
	}
}

void fz_run(struct fz *f)
{
	for (int i = 0; i < 64; i++) {
		int work = ns_stack_poll(f->stk, NULL);
		drain(f);
		if (work == 0)
			break;
	}
}

bool fz_advance(struct fz *f, uint64_t ns)
{
	return fz_advance_steps(f, ns, 10000);
}

bool fz_advance_steps(struct fz *f, uint64_t ns, long max_steps)
{
	if (ns > UINT64_MAX - f->vc.now) {
		/* "ns later" would be in the past: a harness bug, not a finding */
		fprintf(stderr, "fuzz harness: virtual clock %llu + %llu ns would wrap\n",
			(unsigned long long)f->vc.now, (unsigned long long)ns);
		abort();
	}
	uint64_t end = f->vc.now + ns;
	for (long i = 0; i < max_steps && f->vc.now < end; i++) {
		uint64_t next = UINT64_MAX;
		ns_stack_poll(f->stk, &next);
		drain(f);
		f->vc.now = next > f->vc.now && next < end ? next : end;
	}
	fz_run(f);
	return f->vc.now >= end;
}

size_t fz_eth(uint8_t *out, size_t cap, uint16_t ethertype, const uint8_t *payload, size_t len)
{
	if (len + 14 > cap)
		return 0;
	memcpy(out, fz_mac_stack, 6);
	memcpy(out + 6, fz_mac_peer, 6);
	ns_store_be16(out + 12, ethertype);
	memcpy(out + 14, payload, len);
	return len + 14;
}

static void fix_l4(uint8_t proto, uint8_t *l4, size_t len, const struct ns_addr *src,
		   const struct ns_addr *dst)
{
	size_t off;
	switch (proto) {
	case NS_IPPROTO_TCP: off = 16; break;
	case NS_IPPROTO_UDP: off = 6; break;
	case NS_IPPROTO_ICMP: off = 2; break;
	case NS_IPPROTO_ICMPV6: off = 2; break;
	default: return;
	}
	if (len < off + 2)
		return;
	if (proto == NS_IPPROTO_UDP && len >= 8)
		ns_store_be16(l4 + 4, (uint16_t)len);
	l4[off] = l4[off + 1] = 0;
	uint32_t sum = proto == NS_IPPROTO_ICMP ? 0 : ns_csum_pseudo(src, dst, proto, (uint32_t)len);
	uint16_t c = ns_csum_fold(ns_csum_partial(l4, len, sum));
	if (proto == NS_IPPROTO_UDP && c == 0)
		c = 0xffff;
	ns_store_be16(l4 + off, c);
}

size_t fz_ipv4(uint8_t *out, size_t cap, uint8_t proto, const uint8_t *l4, size_t len, bool fix)
{
	if (len + 14 + 20 > cap || len + 20 > 65535)
		return 0;
	uint8_t *ip = out + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ns_store_be16(ip + 2, (uint16_t)(len + 20));
	ns_store_be16(ip + 4, 0x1234);
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, fz_ip4_peer, 4);
	memcpy(ip + 16, fz_ip4_stack, 4);
	memcpy(ip + 20, l4, len);
	if (fix) {
		struct ns_addr s, d;
		ns_addr_v4(&s, fz_ip4_peer);
		ns_addr_v4(&d, fz_ip4_stack);
		fix_l4(proto, ip + 20, len, &s, &d);
	}
	memcpy(out, fz_mac_stack, 6);
	memcpy(out + 6, fz_mac_peer, 6);
	ns_store_be16(out + 12, NS_ETHERTYPE_IPV4);
	fz_fix_ipv4_hdr(out, len + 34);
	return len + 34;
}

void fz_fix_ipv4_hdr(uint8_t *frame, size_t len)
{
	if (len < 34)
		return;
	uint8_t *ip = frame + 14;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || 14 + ihl > len)
		return;
	ip[10] = ip[11] = 0;
	ns_store_be16(ip + 10, ns_csum_fold(ns_csum_partial(ip, ihl, 0)));
}

size_t fz_ipv6(uint8_t *out, size_t cap, uint8_t nh, const uint8_t *l4, size_t len, bool fix,
	       uint8_t hop_limit)
{
	if (len + 14 + 40 > cap || len > 65535)
		return 0;
	uint8_t *ip = out + 14;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	ns_store_be16(ip + 4, (uint16_t)len);
	ip[6] = nh;
	ip[7] = hop_limit;
	memcpy(ip + 8, fz_ip6_peer, 16);
	memcpy(ip + 24, fz_ip6_stack, 16);
	memcpy(ip + 40, l4, len);
	if (fix) {
		struct ns_addr s = { .family = NS_AF_INET6 }, d = { .family = NS_AF_INET6 };
		memcpy(s.b, fz_ip6_peer, 16);
		memcpy(d.b, fz_ip6_stack, 16);
		fix_l4(nh, ip + 40, len, &s, &d);
	}
	memcpy(out, fz_mac_stack, 6);
	memcpy(out + 6, fz_mac_peer, 6);
	ns_store_be16(out + 12, NS_ETHERTYPE_IPV6);
	return len + 54;
}

void fz_drain_sockets(struct fz *f)
{
	static uint8_t buf[65536];
	int fds[2] = { f->udp4, f->udp6 };
	for (int i = 0; i < 2; i++)
		for (int n = 0; n < 10000; n++)
			if (ns_recv(f->stk, fds[i], buf, sizeof(buf), NS_MSG_DONTWAIT) < 0)
				break;
}

#ifdef NS_PKT_DEBUG
static void print_pc(const char *what, void *pc)
{
	char buf[512];
	__sanitizer_symbolize_pc(pc, "%p %F %L", buf, sizeof(buf));
	fprintf(stderr, "      %s %s\n", what, buf);
}

static void dump_one(const struct ns_pkt_dbg_info *in, void *arg)
{
	const struct ns_pkt *p = in->pkt;
	unsigned *n = arg;
	if (++*n > 16)
		return;
	fprintf(stderr, "  packet #%llu: refs %u len %u ethertype 0x%04x owner %p charged %u flags 0x%x seq %u\n",
		(unsigned long long)in->serial, atomic_load(&p->refs), ns_pkt_len(p), p->ethertype,
		p->owner, p->charged, p->flags, p->seq);
	fprintf(stderr, "    data:");
	for (uint32_t i = 0; i < ns_pkt_len(p) && i < 64; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n      ", ns_pkt_data(p)[i]);
	fprintf(stderr, "\n    allocated by:\n");
	void *tr[16];
	int tid;
	size_t k = __asan_get_alloc_stack((void *)in->block, tr, 16, &tid);
	for (size_t i = 0; i < k; i++)
		print_pc("", tr[i]);
	if (!k)
		print_pc("", in->alloc_pc);
	unsigned first = in->nevents > NS_PKT_DBG_EVENTS ? in->nevents - NS_PKT_DBG_EVENTS : 0;
	fprintf(stderr, "    %u ref/unref calls, the last ones:\n", in->nevents);
	for (unsigned e = first; e < in->nevents; e++)
		print_pc(in->event_delta[e % NS_PKT_DBG_EVENTS] > 0 ? "ref  " : "unref",
			 in->event_pc[e % NS_PKT_DBG_EVENTS]);
}
#endif

void fz_dump_live(struct fz *f)
{
	fprintf(stderr, "fuzz harness: %llu live packets, virtual clock %llu ns\n",
		(unsigned long long)ns_stack_live_pkts(f->stk), (unsigned long long)f->vc.now);
#ifdef NS_PKT_DEBUG
	unsigned n = 0;
	ns_pkt_debug_foreach(ns_stack_pool(f->stk), dump_one, &n);
#endif
}
