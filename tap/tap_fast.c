/*
 * tap/tap_fast.c - the offloading, multi-queue tap endpoint (see tap_fast.h).
 * Owns: attaching one descriptor per queue (IFF_MULTI_QUEUE when the tap
 * has or gets it), the virtio-net header setup (TUNSETVNETHDRSZ,
 * TUNSETOFFLOAD), one receive thread per queue (threaded mode) or draining
 * every queue (embedded mode), transmit queue selection by flow, and the
 * per-queue counters.  Linux only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/if_tun.h>

#include "../netstack/core.h"
#include "../netstack/gso.h"
#include "../netstack/platform.h"
#include "../link/vnet.h"
#include "tap_fast.h"

#define TAPF_MAX_QUEUES 16
#define TAPF_SCRATCH (65536 + 256)     /* the largest GRO frame and then some */
#define TAPF_RX_BUDGET 256             /* frames per queue per round */
/* Kernel-side queue of a tap we create: tun drops frames for us when its
 * ring (txqueuelen entries, 1000 by default) is full, and a burst of
 * 1500-byte frames from a kernel TCP sender overflows 1000 while our thread
 * is descheduled (measured: 9% of segments lost without offloads). */
#define TAPF_TXQLEN 10000

struct tapq {
	struct tapf *owner;
	int fd;
	int idx;
	pthread_t thr;
	bool started;
	struct ns_pkt *spare;           /* preallocated MTU-sized receive packet */
	uint8_t *scratch;               /* overflow for GRO frames */
	_Atomic uint64_t rx_frames, rx_bytes, rx_drops, rx_gro;
	_Atomic uint64_t tx_frames, tx_bytes, tx_errors, tx_tso;
};

struct tapf {
	struct ns_link l;               /* first */
	bool created, vnet, rx_offload;
	int nq;
	uint32_t frame_max;             /* MTU + Ethernet + VLAN */
	int epfd;
	struct ns_wakeup *stop_wake;
	_Atomic bool stopping;
	struct tapq q[];
};

static const struct ns_link_ops tapf_ops;

static struct tapf *to_tapf(struct ns_link *l) { return (struct tapf *)l; }

/* ---- receive -------------------------------------------------------------- */

static struct ns_pkt *rx_assemble(struct tapf *t, struct tapq *q, size_t flen)
{
	struct ns_pkt *p = q->spare;
	if (flen <= t->frame_max) {
		q->spare = NULL;
		ns_pkt_trim(p, flen);
		return p;
	}
	/* a GRO frame: the head is in the spare packet, the rest in scratch */
	struct ns_pkt *big = ns_pkt_alloc(t->l.pool, NS_PKT_HEADROOM, flen);
	if (!big)
		return NULL;
	memcpy(ns_pkt_data(big), ns_pkt_data(p), t->frame_max);
	memcpy(ns_pkt_data(big) + t->frame_max, q->scratch, flen - t->frame_max);
	atomic_fetch_add_explicit(&q->rx_gro, 1, memory_order_relaxed);
	return big;
}

/* Reads one frame: 1 handled (delivered or dropped), 0 nothing ready, -1 error. */
static int rx_one(struct tapf *t, struct tapq *q)
{
	if (!q->spare)
		q->spare = ns_pkt_alloc(t->l.pool, NS_PKT_HEADROOM, t->frame_max);
	struct virtio_net_hdr vh;
	struct iovec iov[3];
	int k = 0;
	if (t->vnet)
		iov[k++] = (struct iovec){ &vh, sizeof(vh) };
	if (q->spare)
		iov[k++] = (struct iovec){ ns_pkt_data(q->spare), t->frame_max };
	iov[k++] = (struct iovec){ q->scratch, TAPF_SCRATCH };
	ssize_t r;
	do
		r = readv(q->fd, iov, k);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EAGAIN ? 0 : -1;
	size_t hl = t->vnet ? sizeof(vh) : 0;
	if (!q->spare || (size_t)r < hl + NS_ETH_HLEN ||
	    (size_t)r > hl + t->frame_max + TAPF_SCRATCH) {
		atomic_fetch_add_explicit(&q->rx_drops, 1, memory_order_relaxed);
		return 1;
	}
	size_t flen = (size_t)r - hl;
	struct ns_pkt *p = rx_assemble(t, q, flen);
	if (!p || (t->vnet && !ns__vnet_hdr_to_pkt(&vh, p))) {
		if (p && p != q->spare)
			ns_pkt_unref(p);
		atomic_fetch_add_explicit(&q->rx_drops, 1, memory_order_relaxed);
		return 1;
	}
	p->l2 = p->data;
	atomic_fetch_add_explicit(&q->rx_frames, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&q->rx_bytes, flen, memory_order_relaxed);
	t->l.deliver(t->l.deliver_ctx, p);
	return 1;
}

static int q_drain(struct tapf *t, struct tapq *q, int budget)
{
	int n = 0;
	while (n < budget && rx_one(t, q) > 0)
		n++;
	return n;
}

static void *q_thread(void *arg)
{
	struct tapq *q = arg;
	struct tapf *t = q->owner;
	struct pollfd pfd[2] = {
		{ .fd = q->fd, .events = POLLIN },
		{ .fd = ns__wakeup_fd(t->stop_wake), .events = POLLIN },
	};
	while (!atomic_load_explicit(&t->stopping, memory_order_acquire)) {
		if (q_drain(t, q, TAPF_RX_BUDGET) == TAPF_RX_BUDGET)
			continue;
		int r = poll(pfd, 2, -1);
		if (r < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & (POLLERR | POLLNVAL)) {
			ns__log(NS_LOG_ERROR, "tap %s queue %d: device error, receive thread stops",
				t->l.name, q->idx);
			break;
		}
	}
	return NULL;
}

/* ---- transmit -------------------------------------------------------------- */

/* Symmetric flow hash of a frame (same value both directions) -> queue. */
static int pick_queue(const struct tapf *t, const struct ns_pkt *p)
{
	if (t->nq == 1)
		return 0;
	struct ns_frame_info fi;
	const uint8_t *f = ns_pkt_data(p);
	if (ns__frame_parse(f, ns_pkt_len(p), &fi) < 0)
		return 0;
	uint32_t h = fi.proto;
	size_t alen = fi.family == 4 ? 4 : 16, so = fi.family == 4 ? 12 : 8;
	for (size_t i = 0; i < alen; i += 4)
		h += ns_load_be32(f + fi.l3 + so + i) + ns_load_be32(f + fi.l3 + so + alen + i);
	if ((fi.proto == 6 || fi.proto == 17) && !fi.is_frag)
		h += (uint32_t)ns_load_be16(f + fi.l4) + ns_load_be16(f + fi.l4 + 2);
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	return (int)(h % (uint32_t)t->nq);
}

static int tapf_write(struct ns_link *l, struct ns_pkt **pkts, int n)
{
	struct tapf *t = to_tapf(l);
	int sent = 0;
	for (int i = 0; i < n; i++) {
		struct ns_pkt *p = pkts[i];
		struct tapq *q = &t->q[pick_queue(t, p)];
		struct virtio_net_hdr vh;
		struct iovec iov[2];
		int k = 0;
		if (t->vnet) {
			ns__vnet_hdr_from_pkt(p, &vh);
			iov[k++] = (struct iovec){ &vh, sizeof(vh) };
		}
		iov[k++] = (struct iovec){ ns_pkt_data(p), ns_pkt_len(p) };
		ssize_t r;
		do
			r = writev(q->fd, iov, k);
		while (r < 0 && errno == EINTR);
		if (r == (ssize_t)(ns_pkt_len(p) + (t->vnet ? sizeof(vh) : 0))) {
			sent++;
			atomic_fetch_add_explicit(&q->tx_frames, 1, memory_order_relaxed);
			atomic_fetch_add_explicit(&q->tx_bytes, ns_pkt_len(p), memory_order_relaxed);
			if (t->vnet && vh.gso_type != VIRTIO_NET_HDR_GSO_NONE)
				atomic_fetch_add_explicit(&q->tx_tso, 1, memory_order_relaxed);
		} else {
			atomic_fetch_add_explicit(&q->tx_errors, 1, memory_order_relaxed);
		}
		ns_pkt_unref(p);
	}
	return sent;
}

/* ---- modes ------------------------------------------------------------------- */

static int tapf_poll(struct ns_link *l, int budget)
{
	struct tapf *t = to_tapf(l);
	int n = 0;
	for (int i = 0; i < t->nq && n < budget; i++)
		n += q_drain(t, &t->q[i], budget - n);
	return n;
}

static int tapf_pollfd(struct ns_link *l)
{
	struct tapf *t = to_tapf(l);
	return t->epfd >= 0 ? t->epfd : t->q[0].fd;
}

static void tapf_stop(struct ns_link *l)
{
	struct tapf *t = to_tapf(l);
	if (!t->stop_wake)
		return;         /* setup failed before threads could exist */
	atomic_store_explicit(&t->stopping, true, memory_order_release);
	ns__wakeup_signal(t->stop_wake);
	for (int i = 0; i < t->nq; i++) {
		if (t->q[i].started)
			pthread_join(t->q[i].thr, NULL);
		t->q[i].started = false;
	}
	ns__wakeup_clear(t->stop_wake);
}

static int tapf_start(struct ns_link *l)
{
	struct tapf *t = to_tapf(l);
	atomic_store(&t->stopping, false);
	for (int i = 0; i < t->nq; i++) {
		if (t->q[i].started)
			continue;
		if (pthread_create(&t->q[i].thr, NULL, q_thread, &t->q[i]) != 0) {
			tapf_stop(l);
			return -NS_ENOMEM;
		}
		t->q[i].started = true;
		char name[16];
		snprintf(name, sizeof(name), "tap-rx%d", i & 0xff);
		pthread_setname_np(t->q[i].thr, name);
	}
	return 0;
}

static void tapf_close(struct ns_link *l)
{
	struct tapf *t = to_tapf(l);
	tapf_stop(l);
	for (int i = 0; i < t->nq; i++) {
		struct tapq *q = &t->q[i];
		if (q->fd >= 0)
			close(q->fd);   /* a tap we created goes away with its last queue */
		ns_pkt_unref(q->spare);
		free(q->scratch);
	}
	if (t->epfd >= 0)
		close(t->epfd);
	ns__wakeup_free(t->stop_wake);
	free(t);
}

static const struct ns_link_ops tapf_ops = {
	.write = tapf_write,
	.poll = tapf_poll,
	.start = tapf_start,
	.stop = tapf_stop,
	.pollfd = tapf_pollfd,
	.close = tapf_close,
};

/* ---- open -------------------------------------------------------------------- */

static int attach_queue(const char *name, unsigned flags, int *fd_out)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (short)flags;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	*fd_out = fd;
	return 0;
}

int ns__tap_set_txqlen(const char *name, int qlen)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_qlen = qlen;
	int e = ioctl(fd, SIOCSIFTXQLEN, &ifr) < 0 ? -errno : 0;
	close(fd);
	return e;
}

static int setup_vnet(struct tapf *t)
{
	int sz = (int)sizeof(struct virtio_net_hdr);
	if (ioctl(t->q[0].fd, TUNSETVNETHDRSZ, &sz) < 0)
		return -errno;
	unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	if (ioctl(t->q[0].fd, TUNSETOFFLOAD, off) == 0) {
		t->rx_offload = true;
	} else if (ioctl(t->q[0].fd, TUNSETOFFLOAD, TUN_F_CSUM) == 0) {
		ns__log(NS_LOG_WARN, "tap %s: TSO offload refused, checksum offload only", t->l.name);
	}
	return 0;
}

/*
 * Attaches the queues.  An existing tap is attached with its own flags: when
 * the multi-queue flag does not match, TUNSETIFF fails with EINVAL and we
 * retry with the other setting (a single-queue tap then gets one queue);
 * EINVAL both ways means the device is not a tap.
 */
static int tapf_setup(struct tapf *t, const char *name, bool existed)
{
	bool mq = t->nq > 1;
	unsigned base = IFF_TAP | IFF_NO_PI | (t->vnet ? IFF_VNET_HDR : 0);
	int e = attach_queue(name, base | (mq ? IFF_MULTI_QUEUE : 0), &t->q[0].fd);
	if (e == -EINVAL && existed) {
		mq = !mq;
		e = attach_queue(name, base | (mq ? IFF_MULTI_QUEUE : 0), &t->q[0].fd);
		if (e == 0 && !mq) {
			ns__log(NS_LOG_WARN, "tap %s is single-queue: using 1 queue instead of %d",
				name, t->nq);
			t->nq = 1;
		}
	}
	if (e < 0)
		return e;
	for (int i = 1; i < t->nq; i++)
		if ((e = attach_queue(name, base | IFF_MULTI_QUEUE, &t->q[i].fd)) < 0)
			return e;
	for (int i = 0; i < t->nq; i++) {
		t->q[i].scratch = malloc(TAPF_SCRATCH);
		if (!t->q[i].scratch)
			return -NS_ENOMEM;
	}
	if (t->vnet && (e = setup_vnet(t)) < 0)
		return e;
	if (!existed)
		(void)ns__tap_set_txqlen(name, TAPF_TXQLEN);
	t->stop_wake = ns__wakeup_new();
	if (!t->stop_wake)
		return -NS_ENOMEM;
	if (t->nq > 1) {
		t->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (t->epfd < 0)
			return -errno;
		for (int i = 0; i < t->nq; i++) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
			if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->q[i].fd, &ev) < 0)
				return -errno;
		}
	}
	return 0;
}

struct ns_link *ns_link_tapf_open(const char *name, const uint8_t mac[6],
				  const struct ns_tapf_opts *o, int *err)
{
	int e = 0, nq = o && o->queues > 0 ? o->queues : 1;
	struct tapf *t = NULL;
	bool existed = false;
	if (!name || !*name || strlen(name) >= IFNAMSIZ) {
		e = -ENAMETOOLONG;
		goto fail;
	}
	if (nq > TAPF_MAX_QUEUES) {
		e = -NS_EINVAL;
		goto fail;
	}
	existed = if_nametoindex(name) != 0;
	t = calloc(1, sizeof(*t) + (size_t)nq * sizeof(t->q[0]));
	if (!t) {
		e = -NS_ENOMEM;
		goto fail;
	}
	t->nq = nq;
	t->epfd = -1;
	t->vnet = o && o->offload;
	t->l.ops = &tapf_ops;
	t->l.mtu = o && o->mtu ? o->mtu : 1500;
	t->l.max_header_len = NS_ETH_HLEN;
	t->frame_max = t->l.mtu + NS_ETH_HLEN + 4;
	if (mac)
		memcpy(t->l.mac, mac, 6);
	snprintf(t->l.name, sizeof(t->l.name), "%s", name);
	for (int i = 0; i < nq; i++) {
		t->q[i].owner = t;
		t->q[i].idx = i;
		t->q[i].fd = -1;
	}
	if ((e = tapf_setup(t, name, existed)) < 0)
		goto fail;
	t->created = !existed;
	if (t->vnet)
		t->l.caps = NS_LINK_CAP_TX_CSUM | NS_LINK_CAP_TSO4 | NS_LINK_CAP_TSO6 |
			    NS_LINK_CAP_RX_CSUM;
	if (err)
		*err = 0;
	return &t->l;
fail:
	if (t)
		tapf_close(&t->l);
	if (err)
		*err = e;
	return NULL;
}

bool ns_link_is_tapf(const struct ns_link *l) { return l && l->ops == &tapf_ops; }
bool ns_link_tapf_created(struct ns_link *l) { return to_tapf(l)->created; }
int ns_link_tapf_queues(struct ns_link *l) { return to_tapf(l)->nq; }
bool ns_link_tapf_offload(struct ns_link *l) { return to_tapf(l)->rx_offload; }

void ns_link_tapf_stats(struct ns_link *l, struct ns_tapf_stats *st)
{
	struct tapf *t = to_tapf(l);
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < t->nq; i++) {
		struct tapq *q = &t->q[i];
		st->rx_frames += atomic_load(&q->rx_frames);
		st->rx_bytes += atomic_load(&q->rx_bytes);
		st->rx_drops += atomic_load(&q->rx_drops);
		st->rx_gro += atomic_load(&q->rx_gro);
		st->tx_frames += atomic_load(&q->tx_frames);
		st->tx_bytes += atomic_load(&q->tx_bytes);
		st->tx_errors += atomic_load(&q->tx_errors);
		st->tx_tso += atomic_load(&q->tx_tso);
	}
}
