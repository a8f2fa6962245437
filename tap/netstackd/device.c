/*
 * tap/netstackd/device.c - the device netstackd runs on: a tap (opened or
 * created, optionally with its kernel side configured over rtnetlink) or an
 * existing interface through AF_PACKET, optionally wrapped by the pcap
 * recorder.  Every failure prints exactly one line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "netstackd.h"
#include "tap/tap.h"
#include "tap/tap_fast.h"
#include "tap/hostcfg.h"
#include "link/afpacket.h"
#include "link/sniffer.h"

static void tap_error(const char *name, int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
		fprintf(stderr, "netstackd: cannot open tap '%s': permission denied "
			"(needs CAP_NET_ADMIN, or the tap belongs to another user)\n", name);
		break;
	case EBUSY:
		fprintf(stderr, "netstackd: tap '%s' is busy (another process has it open)\n", name);
		break;
	case EINVAL:
		fprintf(stderr, "netstackd: '%s' exists but is not a usable tap device "
			"(a single-queue tap is expected)\n", name);
		break;
	case ENOENT:
	case ENODEV:
	case ENXIO:
		fprintf(stderr, "netstackd: cannot open tap '%s': /dev/net/tun is missing "
			"(is the tun module loaded?)\n", name);
		break;
	default:
		fprintf(stderr, "netstackd: cannot open tap '%s': %s\n", name, strerror(-err));
	}
}

static void packet_error(const char *name, int err)
{
	switch (-err) {
	case ENODEV:
		fprintf(stderr, "netstackd: no interface '%s' (--packet needs an existing interface)\n", name);
		break;
	case EPERM:
	case EACCES:
		fprintf(stderr, "netstackd: cannot open '%s': permission denied (needs CAP_NET_RAW)\n", name);
		break;
	case ENETDOWN:
		fprintf(stderr, "netstackd: interface '%s' is down (ip link set %s up)\n", name, name);
		break;
	default:
		fprintf(stderr, "netstackd: cannot open '%s' with AF_PACKET: %s\n", name, strerror(-err));
	}
}

/* --host-ip4/--host-ip6: the kernel side of the tap. */
static int host_config(const struct nsd_opts *o)
{
	char b[64];
	int err = ns_hostcfg_link_up(o->tap, o->mtu);
	if (err < 0) {
		fprintf(stderr, "netstackd: cannot bring up '%s' on the host side: %s\n", o->tap, strerror(-err));
		return -1;
	}
	for (int i = 0; i < o->n_host4 + o->n_host6; i++) {
		const struct ns_addr *a = i < o->n_host4 ? &o->host4[i] : &o->host6[i - o->n_host4];
		int plen = i < o->n_host4 ? o->host4_plen[i] : o->host6_plen[i - o->n_host4];
		if ((err = ns_hostcfg_addr_add(o->tap, a, plen)) < 0) {
			fprintf(stderr, "netstackd: cannot add host address %s/%d to '%s': %s\n",
				ns_addr_fmt(a, b, sizeof(b)), plen, o->tap, strerror(-err));
			return -1;
		}
	}
	return 0;
}

int nsd_device_open(const struct nsd_opts *o, struct nsd_dev *d)
{
	int err;
	memset(d, 0, sizeof(*d));
	if (o->tap) {
		struct ns_tap_opts to = { .mtu = o->mtu, .flags = o->offload ? NS_TAP_F_OFFLOAD : 0,
					  .queues = o->threads };
		d->dev = ns_link_tap_open(o->tap, o->mac, &to, &err);
		if (!d->dev) {
			tap_error(o->tap, err);
			return -1;
		}
		d->is_tap = true;
		if ((o->n_host4 || o->n_host6) && host_config(o) < 0) {
			d->dev->ops->close(d->dev);
			return -1;
		}
	} else {
		struct ns_packet_opts po = { .nthreads = o->threads, .ring = o->packet_ring };
		d->dev = ns_link_packet_open_opts(o->packet, o->mac, &po, &err);
		if (!d->dev) {
			packet_error(o->packet, err);
			return -1;
		}
		if (o->mtu)
			d->dev->mtu = o->mtu;
	}
	d->link = d->dev;
	if (o->pcap) {
		d->link = ns_link_sniffer_new(d->dev, o->pcap, &err);
		if (!d->link) {         /* the sniffer closed the device */
			fprintf(stderr, "netstackd: cannot write pcap file '%s': %s\n", o->pcap, strerror(-err));
			d->dev = NULL;
			return -1;
		}
		d->sniffer = d->link;
	}
	return 0;
}

void nsd_device_report(const struct nsd_dev *d, FILE *f)
{
	if (!d->dev)
		return;
	fprintf(f, "#link %s\n", d->dev->name);
	if (d->is_tap && ns_link_is_tapf(d->dev)) {
		struct ns_tapf_stats t;
		ns_link_tapf_stats(d->dev, &t);
		fprintf(f, "%-32s%d\n%-32s%d\n", "TapQueues", ns_link_tapf_queues(d->dev), "TapOffload",
			ns_link_tapf_offload(d->dev));
		fprintf(f, "%-32s%llu\n%-32s%llu\n%-32s%llu\n%-32s%llu\n", "TapRxFrames",
			(unsigned long long)t.rx_frames, "TapRxBytes", (unsigned long long)t.rx_bytes,
			"TapRxDrops", (unsigned long long)t.rx_drops, "TapRxGro", (unsigned long long)t.rx_gro);
		fprintf(f, "%-32s%llu\n%-32s%llu\n%-32s%llu\n%-32s%llu\n", "TapTxFrames",
			(unsigned long long)t.tx_frames, "TapTxBytes", (unsigned long long)t.tx_bytes,
			"TapTxErrors", (unsigned long long)t.tx_errors, "TapTxTso", (unsigned long long)t.tx_tso);
	} else if (d->is_tap) {
		struct ns_tap_stats t;
		ns_link_tap_stats(d->dev, &t);
		fprintf(f, "%-32s%llu\n%-32s%llu\n%-32s%llu\n%-32s%llu\n%-32s%llu\n%-32s%llu\n",
			"TapRxFrames", (unsigned long long)t.rx_frames, "TapRxBytes",
			(unsigned long long)t.rx_bytes, "TapRxDrops", (unsigned long long)t.rx_drops,
			"TapTxFrames", (unsigned long long)t.tx_frames, "TapTxBytes",
			(unsigned long long)t.tx_bytes, "TapTxErrors", (unsigned long long)t.tx_errors);
	} else {
		struct ns_link_packet_stats t;
		ns_link_packet_stats(d->dev, &t);
		fprintf(f, "%-32s%llu\n%-32s%llu\n%-32s%llu\n%-32s%llu\n%-32s%llu\n",
			"PacketRxFrames", (unsigned long long)t.rx_frames, "PacketRxNomem",
			(unsigned long long)t.rx_nomem, "PacketKernelDrops", (unsigned long long)t.kernel_drops,
			"PacketTxFrames", (unsigned long long)t.tx_frames, "PacketTxErrors",
			(unsigned long long)t.tx_errors);
	}
	if (d->sniffer) {
		ns_link_sniffer_flush(d->sniffer);
		fprintf(f, "%-32s%llu\n", "PcapFrames", (unsigned long long)ns_link_sniffer_count(d->sniffer));
	}
}
