/*
 * tap/tap.c - the Linux tap endpoint (see tap.h).
 * Owns: opening/creating the tap (TUNSETIFF), the receive thread and the
 * embedded poll path (both drain the nonblocking descriptor in batches into
 * packets from the stack's pool), and transmit (one write(2) per frame,
 * thread-safe because each write is one whole frame).
 *
 * Later (issue 4): IFF_VNET_HDR + TUNSETOFFLOAD would add a virtio-net
 * header in the headroom on transmit (max_header_len grows by its size) and
 * parse it on receive; multi-queue would hold several descriptors, each
 * with its own receive thread.  struct tap keeps one queue for now.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include "../link/link_internal.h"
#include "tap.h"
#include "tap_fast.h"

#define RX_BATCH 64

struct tap {
	struct ns_link l;
	int fd;
	int stop_fd;                    /* eventfd: wakes the receive thread to stop */
	bool created;
	uint32_t frame_max;             /* largest frame read: mtu + Ethernet + VLAN */
	pthread_t thr;
	bool running;
	_Atomic bool stopping;
	_Atomic uint64_t rx_frames, rx_bytes, rx_drops, tx_frames, tx_bytes, tx_errors;
};

static struct tap *to_tap(struct ns_link *l) { return (struct tap *)l; }

/* ---- transmit -------------------------------------------------------------- */

static int tap_write(struct ns_link *l, struct ns_pkt **pkts, int n)
{
	struct tap *t = to_tap(l);
	int sent = 0;
	for (int i = 0; i < n; i++) {
		struct ns_pkt *p = pkts[i];
		if (p->csum == NS_CSUM_PARTIAL) {
			p = ns_pkt_unshare(p);      /* we write into it */
			if (!p) {
				atomic_fetch_add(&t->tx_errors, 1);
				continue;
			}
			ns__link_csum_finish(p);
		}
		ssize_t r;
		do
			r = write(t->fd, ns_pkt_data(p), ns_pkt_len(p));
		while (r < 0 && errno == EINTR);
		if (r == (ssize_t)ns_pkt_len(p)) {
			sent++;
			atomic_fetch_add(&t->tx_frames, 1);
			atomic_fetch_add(&t->tx_bytes, (uint64_t)r);
		} else {
			atomic_fetch_add(&t->tx_errors, 1);
		}
		ns_pkt_unref(p);
	}
	return sent;
}

/* ---- receive --------------------------------------------------------------- */

/* Reads one frame: 1 delivered, 0 nothing ready, -1 error (EBADFD...). */
static int rx_one(struct tap *t)
{
	struct ns_pkt *p = ns_pkt_alloc(t->l.pool, NS_PKT_HEADROOM, t->frame_max);
	ssize_t r;
	if (!p) {
		/* no memory: still take the frame off the device, and count it */
		uint8_t scratch[256];
		r = read(t->fd, scratch, sizeof(scratch));
		if (r > 0) {
			atomic_fetch_add(&t->rx_drops, 1);
			return 1;
		}
		return r < 0 && errno != EAGAIN && errno != EINTR ? -1 : 0;
	}
	do
		r = read(t->fd, ns_pkt_data(p), t->frame_max);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		ns_pkt_unref(p);
		return r < 0 && errno != EAGAIN ? -1 : 0;
	}
	ns_pkt_trim(p, (size_t)r);
	p->l2 = p->data;
	atomic_fetch_add(&t->rx_frames, 1);
	atomic_fetch_add(&t->rx_bytes, (uint64_t)r);
	if (t->l.deliver)
		t->l.deliver(t->l.deliver_ctx, p);
	else
		ns_pkt_unref(p);
	return 1;
}

static int tap_poll(struct ns_link *l, int budget)
{
	struct tap *t = to_tap(l);
	int n = 0;
	while (n < budget && rx_one(t) > 0)
		n++;
	return n;
}

static void *rx_thread(void *arg)
{
	struct tap *t = arg;
	struct pollfd pf[2] = { { .fd = t->fd, .events = POLLIN }, { .fd = t->stop_fd, .events = POLLIN } };
	while (!atomic_load(&t->stopping)) {
		int r = poll(pf, 2, -1);
		if (r < 0 && errno != EINTR)
			break;
		if (atomic_load(&t->stopping))
			break;
		if (pf[0].revents & (POLLERR | POLLNVAL)) {
			ns__log(NS_LOG_ERROR, "tap %s: device error, receive thread stops", t->l.name);
			break;
		}
		/* drain a batch; come back to poll only when the device is empty */
		int k;
		do
			k = tap_poll(&t->l, RX_BATCH);
		while (k == RX_BATCH && !atomic_load(&t->stopping));
	}
	return NULL;
}

static int tap_start(struct ns_link *l)
{
	struct tap *t = to_tap(l);
	if (t->running)
		return 0;
	atomic_store(&t->stopping, false);
	if (pthread_create(&t->thr, NULL, rx_thread, t) != 0)
		return -NS_ENOMEM;
	t->running = true;
	return 0;
}

static void tap_stop(struct ns_link *l)
{
	struct tap *t = to_tap(l);
	if (!t->running)
		return;
	atomic_store(&t->stopping, true);
	uint64_t one = 1;
	ssize_t r = write(t->stop_fd, &one, sizeof(one));
	(void)r;
	pthread_join(t->thr, NULL);
	t->running = false;
	uint64_t v;
	r = read(t->stop_fd, &v, sizeof(v));
	(void)r;
}

static int tap_pollfd(struct ns_link *l) { return to_tap(l)->fd; }

static void tap_close(struct ns_link *l)
{
	struct tap *t = to_tap(l);
	tap_stop(l);
	close(t->fd);           /* a tap we created (not persistent) goes away here */
	close(t->stop_fd);
	free(t);
}

static const struct ns_link_ops tap_ops = {
	.write = tap_write,
	.poll = tap_poll,
	.start = tap_start,
	.stop = tap_stop,
	.pollfd = tap_pollfd,
	.close = tap_close,
};

/* ---- open ------------------------------------------------------------------- */

static int tun_attach(const char *name, int *fd_out)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	*fd_out = fd;
	return 0;
}

struct ns_link *ns_link_tap_open(const char *name, const uint8_t mac[6],
				 const struct ns_tap_opts *o, int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	if (o && ((o->flags & NS_TAP_F_OFFLOAD) || o->queues > 1)) {
		struct ns_tapf_opts fo = { .mtu = o->mtu, .offload = (o->flags & NS_TAP_F_OFFLOAD) != 0,
					   .queues = o->queues > 1 ? o->queues : 1 };
		struct ns_link *fl = ns_link_tapf_open(name, mac, &fo, err);
		if (fl)
			ns_link_tap_set_txqlen(name, NS_TAP_TXQLEN);
		return fl;
	}
	if (!name || !*name || strlen(name) >= IFNAMSIZ) {
		*err = -ENAMETOOLONG;
		return NULL;
	}
	bool existed = if_nametoindex(name) != 0;
	struct tap *t = calloc(1, sizeof(*t));
	if (!t) {
		*err = -NS_ENOMEM;
		return NULL;
	}
	t->fd = t->stop_fd = -1;
	int e = tun_attach(name, &t->fd);
	if (e == 0) {
		t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (t->stop_fd < 0)
			e = -errno;
	}
	if (e < 0) {
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		*err = e;
		return NULL;
	}
	t->created = !existed;
	ns_link_tap_set_txqlen(name, NS_TAP_TXQLEN);
	t->l.ops = &tap_ops;
	t->l.mtu = o && o->mtu ? o->mtu : 1500;
	t->l.max_header_len = NS_ETH_HLEN;
	/* at least a full 1500-byte frame, whatever MTU the stack was given,
	 * so a larger kernel-side MTU does not truncate frames */
	t->frame_max = (t->l.mtu > 1500 ? t->l.mtu : 1500) + NS_ETH_HLEN + 4;
	if (mac)
		memcpy(t->l.mac, mac, 6);
	snprintf(t->l.name, sizeof(t->l.name), "%s", name);
	*err = 0;
	return &t->l;
}

int ns_link_tap_set_txqlen(const char *name, unsigned qlen)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	int err = 0;
	if (ioctl(s, SIOCGIFTXQLEN, &ifr) < 0) {
		err = -errno;
	} else if ((unsigned)ifr.ifr_qlen < qlen) {
		ifr.ifr_qlen = (int)qlen;
		if (ioctl(s, SIOCSIFTXQLEN, &ifr) < 0)
			err = -errno;
	}
	close(s);
	return err;
}

bool ns_link_tap_created(struct ns_link *l)
{
	return ns_link_is_tapf(l) ? ns_link_tapf_created(l) : to_tap(l)->created;
}

void ns_link_tap_stats(struct ns_link *l, struct ns_tap_stats *st)
{
	if (ns_link_is_tapf(l)) {
		struct ns_tapf_stats f;
		ns_link_tapf_stats(l, &f);
		*st = (struct ns_tap_stats){ f.rx_frames, f.rx_bytes, f.rx_drops,
					     f.tx_frames, f.tx_bytes, f.tx_errors };
		return;
	}
	struct tap *t = to_tap(l);
	st->rx_frames = atomic_load(&t->rx_frames);
	st->rx_bytes = atomic_load(&t->rx_bytes);
	st->rx_drops = atomic_load(&t->rx_drops);
	st->tx_frames = atomic_load(&t->tx_frames);
	st->tx_bytes = atomic_load(&t->tx_bytes);
	st->tx_errors = atomic_load(&t->tx_errors);
}
