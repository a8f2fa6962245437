/*
 * link/afpacket.c - AF_PACKET link endpoint (Linux).
 * Owns: the TPACKET_V3 receive rings (one socket + ring + thread per fanout
 * member), the in-kernel MAC filter, and the sendmmsg transmit socket with
 * PACKET_QDISC_BYPASS and PACKET_VNET_HDR (TSO/checksum offload to the
 * kernel).  Not portable.
 *
 * Receive: the kernel fills blocks of the ring; a block is handed to us
 * when full or after the block timeout (1 ms).  One wake-up drains every
 * ready block; each frame is copied once into a stack packet (the ring
 * slot is returned at once) and delivered.  GSO/GRO frames (up to 64 KiB)
 * arrive whole; TP_STATUS_CSUMNOTREADY / TP_STATUS_CSUM_VALID mark them
 * NS_CSUM_UNNECESSARY.
 *
 * Transmit: write() sends its batch with sendmmsg() (one system call per
 * up to 64 frames), each message a virtio_net_hdr plus the frame, so TCP
 * segments of up to 64 KiB go out whole (the kernel segments them or the
 * veth peer receives them as GRO packets) and no lock is shared between
 * sender threads.  Measured against a TPACKET_V2 TX ring on veth
 * (tests/bench/afp_tx_bench.c, batches of 64, QDISC_BYPASS): sendmmsg
 * 0.63-0.65 Mframes/s vs ring 0.55-0.63 for 60-byte frames, 0.56-0.59 vs
 * 0.44-0.56 for 1514-byte frames on this 2-core machine (loaded): no gain
 * from the ring, which also cannot carry a virtio-net header per frame.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "../netstack/core.h"
#include "../netstack/platform.h"
#include "afpacket.h"
#include "vnet.h"

#define AFP_MAX_THREADS 16
#define AFP_BLOCK_SIZE (1u << 18)       /* 256 KiB: holds a 64 KiB GSO frame */
#define AFP_BLOCK_NR 32                 /* 8 MiB per ring */
#define AFP_FRAME_SIZE 2048u            /* only used to size the ring */
#define AFP_BLOCK_TOV_MS 1
/* TPACKET_V2 (low-latency) ring: one 64 KiB+ frame slot per block */
#define AFP_V2_FRAME_SIZE (17u * 4096u)  /* 69632: a 64 KiB GSO frame + headers */
#define AFP_V2_FRAME_NR 128             /* 8.5 MiB per ring */
#define AFP_TX_BATCH 64
#define AFP_RX_BUDGET 4096              /* frames per wake-up before yielding */

struct afp_ring {
	struct afp_link *owner;
	bool v2;                        /* TPACKET_V2 per-frame ring instead of V3 blocks */
	int fd;
	uint8_t *map;
	size_t map_len;
	unsigned cur;                   /* next block to look at */
	pthread_t thread;
	bool thread_started;
	_Atomic uint64_t frames, bytes, blocks, truncated, nomem, filtered;
	uint64_t kdrops;                /* PACKET_STATISTICS is reset on read: summed here */
	pthread_mutex_t stats_mu;
};

struct afp_link {
	struct ns_link l;               /* first: container_of by cast */
	int ifindex;
	int nrings;
	int txfd;
	bool vnet;                      /* PACKET_VNET_HDR on txfd */
	int epfd;                       /* embedded mode with several rings */
	struct ns_wakeup *stop_wake;
	_Atomic bool stopping;
	_Atomic uint64_t tx_frames, tx_bytes, tx_calls, tx_errors;
	struct afp_ring rings[];
};

static struct afp_link *to_afp(struct ns_link *l) { return (struct afp_link *)l; }

/* ---- receive ------------------------------------------------------------- */

static bool mac_wanted(const struct afp_link *a, const uint8_t *dst)
{
	return (dst[0] & 1) || memcmp(dst, a->l.mac, 6) == 0;
}

/* One frame of len bytes (snaplen copied) at frame; status = tp_status. */
static void rx_frame(struct afp_link *a, struct afp_ring *r, const uint8_t *frame, uint32_t len,
		     uint32_t snaplen, uint32_t status, uint32_t hash)
{
	if (len != snaplen) {
		atomic_fetch_add_explicit(&r->truncated, 1, memory_order_relaxed);
		return;
	}
	if (len < NS_ETH_HLEN || !mac_wanted(a, frame)) {
		atomic_fetch_add_explicit(&r->filtered, 1, memory_order_relaxed);
		return;
	}
	struct ns_pkt *p = ns_pkt_alloc(a->l.pool, NS_PKT_HEADROOM, len);
	if (!p) {
		atomic_fetch_add_explicit(&r->nomem, 1, memory_order_relaxed);
		return;
	}
	memcpy(ns_pkt_data(p), frame, len);
	if (status & (TP_STATUS_CSUMNOTREADY | TP_STATUS_CSUM_VALID))
		p->csum = NS_CSUM_UNNECESSARY;
	p->hash = hash;
	atomic_fetch_add_explicit(&r->frames, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->bytes, len, memory_order_relaxed);
	a->l.deliver(a->l.deliver_ctx, p);
}

/* Walks one block handed to user space; returns frames seen. */
static int rx_block(struct afp_link *a, struct afp_ring *r, struct tpacket_block_desc *bd)
{
	uint32_t num = bd->hdr.bh1.num_pkts;
	uint32_t off = bd->hdr.bh1.offset_to_first_pkt;
	uint32_t n = 0;
	for (; n < num; n++) {
		if (off < sizeof(*bd) || off + sizeof(struct tpacket3_hdr) > AFP_BLOCK_SIZE)
			break;
		const struct tpacket3_hdr *h = (const void *)((uint8_t *)bd + off);
		if ((uint64_t)off + h->tp_mac + h->tp_snaplen > AFP_BLOCK_SIZE)
			break;
		rx_frame(a, r, (const uint8_t *)h + h->tp_mac, h->tp_len, h->tp_snaplen,
			 h->tp_status, h->hv1.tp_rxhash);
		if (!h->tp_next_offset)
			break;
		off += h->tp_next_offset;
	}
	return (int)num;
}

/* TPACKET_V2: drains ready frame slots (each handed over on its own). */
static int ring_drain_v2(struct afp_link *a, struct afp_ring *r, int budget)
{
	int n = 0;
	while (n < budget) {
		struct tpacket2_hdr *h = (void *)(r->map + (size_t)r->cur * AFP_V2_FRAME_SIZE);
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		if (!(st & TP_STATUS_USER))
			break;
		if ((uint64_t)h->tp_mac + h->tp_snaplen <= AFP_V2_FRAME_SIZE)
			rx_frame(a, r, (const uint8_t *)h + h->tp_mac, h->tp_len, h->tp_snaplen, st, 0);
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		r->cur = (r->cur + 1) % AFP_V2_FRAME_NR;
		n++;
	}
	return n;
}

/* Drains ready blocks until budget frames were seen; returns frames seen. */
static int ring_drain(struct afp_link *a, struct afp_ring *r, int budget)
{
	if (r->v2)
		return ring_drain_v2(a, r, budget);
	int n = 0;
	while (n < budget) {
		struct tpacket_block_desc *bd = (void *)(r->map + (size_t)r->cur * AFP_BLOCK_SIZE);
		uint32_t st = __atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
		if (!(st & TP_STATUS_USER))
			break;
		n += rx_block(a, r, bd);
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		r->cur = (r->cur + 1) % AFP_BLOCK_NR;
		atomic_fetch_add_explicit(&r->blocks, 1, memory_order_relaxed);
	}
	return n;
}

static void *ring_thread(void *arg)
{
	struct afp_ring *r = arg;
	struct afp_link *a = r->owner;
	struct pollfd pfd[2] = {
		{ .fd = r->fd, .events = POLLIN },
		{ .fd = ns__wakeup_fd(a->stop_wake), .events = POLLIN },
	};
	while (!atomic_load_explicit(&a->stopping, memory_order_acquire)) {
		if (ring_drain(a, r, AFP_RX_BUDGET) > 0)
			continue;
		pfd[0].revents = pfd[1].revents = 0;
		int k = poll(pfd, 2, 1000);
		if (k < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & (POLLERR | POLLNVAL))
			break;
	}
	return NULL;
}

/* ---- transmit ------------------------------------------------------------ */

static int afp_write(struct ns_link *l, struct ns_pkt **pkts, int n)
{
	struct afp_link *a = to_afp(l);
	struct mmsghdr msgs[AFP_TX_BATCH];
	struct iovec iov[AFP_TX_BATCH][2];
	struct virtio_net_hdr vh[AFP_TX_BATCH];
	int sent = 0, err = 0;
	for (int base = 0; base < n; base += AFP_TX_BATCH) {
		int k = NS_MIN(n - base, AFP_TX_BATCH);
		int niov = a->vnet ? 2 : 1;
		for (int i = 0; i < k; i++) {
			struct ns_pkt *p = pkts[base + i];
			struct iovec *v = iov[i];
			if (a->vnet) {
				ns__vnet_hdr_from_pkt(p, &vh[i]);
				v[0] = (struct iovec){ &vh[i], sizeof(vh[i]) };
			}
			v[niov - 1] = (struct iovec){ ns_pkt_data(p), ns_pkt_len(p) };
			msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = v, .msg_iovlen = (size_t)niov } };
		}
		int done = 0;
		while (done < k) {
			int r = sendmmsg(a->txfd, msgs + done, (unsigned)(k - done), 0);
			atomic_fetch_add_explicit(&a->tx_calls, 1, memory_order_relaxed);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				/* skip the frame the kernel refused and go on */
				err = -errno;
				atomic_fetch_add_explicit(&a->tx_errors, 1, memory_order_relaxed);
				done++;
				continue;
			}
			for (int i = done; i < done + r; i++)
				atomic_fetch_add_explicit(&a->tx_bytes, ns_pkt_len(pkts[base + i]),
							  memory_order_relaxed);
			done += r;
			sent += r;
		}
	}
	for (int i = 0; i < n; i++)
		ns_pkt_unref(pkts[i]);
	atomic_fetch_add_explicit(&a->tx_frames, (uint64_t)sent, memory_order_relaxed);
	return sent == 0 && n > 0 && err ? err : sent;
}

/* ---- embedded and threaded modes ------------------------------------------ */

static int afp_poll(struct ns_link *l, int budget)
{
	struct afp_link *a = to_afp(l);
	int n = 0;
	for (int i = 0; i < a->nrings && n < budget; i++)
		n += ring_drain(a, &a->rings[i], budget - n);
	if (a->epfd >= 0) {
		/* clear readiness reported through the epoll descriptor */
		struct epoll_event ev[AFP_MAX_THREADS];
		(void)epoll_wait(a->epfd, ev, AFP_MAX_THREADS, 0);
	}
	return n;
}

static int afp_pollfd(struct ns_link *l)
{
	struct afp_link *a = to_afp(l);
	return a->epfd >= 0 ? a->epfd : a->rings[0].fd;
}

static void afp_stop(struct ns_link *l)
{
	struct afp_link *a = to_afp(l);
	atomic_store_explicit(&a->stopping, true, memory_order_release);
	ns__wakeup_signal(a->stop_wake);
	for (int i = 0; i < a->nrings; i++) {
		if (a->rings[i].thread_started)
			pthread_join(a->rings[i].thread, NULL);
		a->rings[i].thread_started = false;
	}
	ns__wakeup_clear(a->stop_wake);
}

static int afp_start(struct ns_link *l)
{
	struct afp_link *a = to_afp(l);
	atomic_store(&a->stopping, false);
	for (int i = 0; i < a->nrings; i++) {
		if (pthread_create(&a->rings[i].thread, NULL, ring_thread, &a->rings[i]) != 0) {
			afp_stop(l);
			return -NS_ENOMEM;
		}
		a->rings[i].thread_started = true;
		char name[24];
		snprintf(name, sizeof(name), "afp-rx%d", i & 0xff);
		name[15] = 0;
		pthread_setname_np(a->rings[i].thread, name);
	}
	return 0;
}

static void afp_close(struct ns_link *l)
{
	struct afp_link *a = to_afp(l);
	for (int i = 0; i < a->nrings; i++) {
		struct afp_ring *r = &a->rings[i];
		if (r->map && r->map != MAP_FAILED)
			munmap(r->map, r->map_len);
		if (r->fd >= 0)
			close(r->fd);
		pthread_mutex_destroy(&r->stats_mu);
	}
	if (a->txfd >= 0)
		close(a->txfd);
	if (a->epfd >= 0)
		close(a->epfd);
	ns__wakeup_free(a->stop_wake);
	free(a);
}

static const struct ns_link_ops afp_ops = {
	.write = afp_write,
	.poll = afp_poll,
	.start = afp_start,
	.stop = afp_stop,
	.pollfd = afp_pollfd,
	.close = afp_close,
};

/* ---- setup ------------------------------------------------------------------ */

/* Accept frames whose destination is multicast/broadcast or our MAC. */
static int attach_mac_filter(int fd, const uint8_t mac[6])
{
	uint32_t w = ((uint32_t)mac[0] << 24) | ((uint32_t)mac[1] << 16) | ((uint32_t)mac[2] << 8) | mac[3];
	uint32_t h = ((uint32_t)mac[4] << 8) | mac[5];
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 1, 4, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, w, 0, 3),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, h, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0x40000),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = NS_ARRAY_SIZE(code), .filter = code };
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return -errno;
	return 0;
}

static int ring_open(struct afp_link *a, struct afp_ring *r)
{
	r->owner = a;
	r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (r->fd < 0)
		return -errno;
	int v = r->v2 ? TPACKET_V2 : TPACKET_V3;
	if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0)
		return -errno;
	int err = attach_mac_filter(r->fd, a->l.mac);
	if (err < 0)
		return err;
	v = 1;
	/* our own transmissions are not looped back to us (kernel >= 4.20) */
	(void)setsockopt(r->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof(v));
	struct tpacket_req3 req = {
		.tp_block_size = AFP_BLOCK_SIZE,
		.tp_block_nr = AFP_BLOCK_NR,
		.tp_frame_size = AFP_FRAME_SIZE,
		.tp_frame_nr = AFP_BLOCK_SIZE / AFP_FRAME_SIZE * AFP_BLOCK_NR,
		.tp_retire_blk_tov = AFP_BLOCK_TOV_MS,
		.tp_feature_req_word = TP_FT_REQ_FILL_RXHASH,
	};
	struct tpacket_req req2 = {
		.tp_block_size = AFP_V2_FRAME_SIZE,
		.tp_block_nr = AFP_V2_FRAME_NR,
		.tp_frame_size = AFP_V2_FRAME_SIZE,
		.tp_frame_nr = AFP_V2_FRAME_NR,
	};
	if (r->v2 ? setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req2, sizeof(req2)) < 0
		  : setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		return -errno;
	r->map_len = r->v2 ? (size_t)AFP_V2_FRAME_SIZE * AFP_V2_FRAME_NR
			   : (size_t)AFP_BLOCK_SIZE * AFP_BLOCK_NR;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, r->fd, 0);
	if (r->map == MAP_FAILED)
		r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return -errno;
	}
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = a->ifindex,
	};
	if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	return 0;
}

static int join_fanout(struct afp_link *a)
{
	static _Atomic unsigned seq;
	for (int tries = 0; tries < 64; tries++) {
		unsigned id = ((unsigned)getpid() * 31u + atomic_fetch_add(&seq, 1)) & 0xffffu;
		int arg = (int)(id | ((unsigned)PACKET_FANOUT_HASH << 16));
		int i = 0;
		for (; i < a->nrings; i++)
			if (setsockopt(a->rings[i].fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0)
				break;
		if (i == a->nrings)
			return 0;
		if (i > 0 || (errno != EADDRINUSE && errno != EINVAL))
			return -errno;  /* a half-joined group cannot be left: give up */
	}
	return -NS_EADDRINUSE;
}

static int tx_open(struct afp_link *a)
{
	a->txfd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (a->txfd < 0)
		return -errno;
	int one = 1;
	a->vnet = setsockopt(a->txfd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) == 0;
	(void)setsockopt(a->txfd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	int sz = 4 << 20;
	(void)setsockopt(a->txfd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = 0, .sll_ifindex = a->ifindex };
	if (bind(a->txfd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	return 0;
}

/* Reads the interface's MTU, MAC and up flag. */
static int if_query(const char *ifname, uint32_t *mtu, uint8_t mac[6], bool *up)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	int err = 0;
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		err = -errno;
	else
		*mtu = (uint32_t)ifr.ifr_mtu;
	if (!err && ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else if (!err)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (!err && ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	else if (!err)
		*up = (ifr.ifr_flags & IFF_UP) != 0;
	close(fd);
	return err;
}

static int afp_setup(struct afp_link *a, const char *ifname, const uint8_t *mac)
{
	uint8_t ifmac[6];
	bool up = false;
	int err = if_query(ifname, &a->l.mtu, ifmac, &up);
	if (err < 0)
		return err;
	if (!up)
		return -NS_ENETDOWN;
	memcpy(a->l.mac, mac ? mac : ifmac, 6);
	a->stop_wake = ns__wakeup_new();
	if (!a->stop_wake)
		return -NS_ENOMEM;
	if ((err = tx_open(a)) < 0)
		return err;
	for (int i = 0; i < a->nrings; i++)
		if ((err = ring_open(a, &a->rings[i])) < 0)
			return err;
	if (a->nrings > 1 && (err = join_fanout(a)) < 0)
		return err;
	if (a->nrings > 1) {
		a->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (a->epfd < 0)
			return -errno;
		for (int i = 0; i < a->nrings; i++) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
			if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->rings[i].fd, &ev) < 0)
				return -errno;
		}
	}
	return 0;
}

struct ns_link *ns_link_packet_open(const char *ifname, const uint8_t mac[6], int nthreads,
				    int *err)
{
	struct ns_packet_opts o = { .nthreads = nthreads };
	return ns_link_packet_open_opts(ifname, mac, &o, err);
}

struct ns_link *ns_link_packet_open_opts(const char *ifname, const uint8_t mac[6],
					 const struct ns_packet_opts *o, int *err)
{
	int nthreads = o ? o->nthreads : 1;
	int e = 0;
	struct afp_link *a = NULL;
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ || nthreads < 1 ||
	    nthreads > AFP_MAX_THREADS) {
		e = -NS_EINVAL;
		goto fail;
	}
	unsigned idx = if_nametoindex(ifname);
	if (!idx) {
		e = -NS_ENODEV;
		goto fail;
	}
	a = calloc(1, sizeof(*a) + (size_t)nthreads * sizeof(a->rings[0]));
	if (!a) {
		e = -NS_ENOMEM;
		goto fail;
	}
	a->l.ops = &afp_ops;
	a->l.max_header_len = NS_ETH_HLEN;
	snprintf(a->l.name, sizeof(a->l.name), "%s", ifname);
	a->ifindex = (int)idx;
	a->nrings = nthreads;
	a->txfd = a->epfd = -1;
	for (int i = 0; i < nthreads; i++) {
		a->rings[i].fd = -1;
		a->rings[i].v2 = o && o->ring == NS_PACKET_RING_V2;
		pthread_mutex_init(&a->rings[i].stats_mu, NULL);
	}
	e = afp_setup(a, ifname, mac);
	if (e < 0)
		goto fail;
	a->l.caps = NS_LINK_CAP_RX_CSUM;
	if (a->vnet)
		a->l.caps |= NS_LINK_CAP_TX_CSUM | NS_LINK_CAP_TSO4 | NS_LINK_CAP_TSO6;
	if (err)
		*err = 0;
	return &a->l;
fail:
	if (a)
		afp_close(&a->l);
	if (err)
		*err = e;
	return NULL;
}

void ns_link_packet_stats(struct ns_link *l, struct ns_link_packet_stats *st)
{
	struct afp_link *a = to_afp(l);
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < a->nrings; i++) {
		struct afp_ring *r = &a->rings[i];
		st->rx_frames += atomic_load(&r->frames);
		st->rx_bytes += atomic_load(&r->bytes);
		st->rx_blocks += atomic_load(&r->blocks);
		st->rx_truncated += atomic_load(&r->truncated);
		st->rx_nomem += atomic_load(&r->nomem);
		st->rx_filtered += atomic_load(&r->filtered);
		struct tpacket_stats_v3 ks;
		socklen_t kl = sizeof(ks);
		pthread_mutex_lock(&r->stats_mu);
		if (getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &kl) == 0)
			r->kdrops += ks.tp_drops;
		st->kernel_drops += r->kdrops;
		pthread_mutex_unlock(&r->stats_mu);
	}
	st->tx_frames = atomic_load(&a->tx_frames);
	st->tx_bytes = atomic_load(&a->tx_bytes);
	st->tx_calls = atomic_load(&a->tx_calls);
	st->tx_errors = atomic_load(&a->tx_errors);
}
