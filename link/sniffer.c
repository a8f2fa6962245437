/*
 * link/sniffer.c - pcap-recording wrapper around another link endpoint.
 * Owns: the pcap dumper (one mutex: frames from receive threads and
 * sender threads are recorded in the order they take it) and the hand-off
 * of deliver/pool between the stack and the inner endpoint.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pcap/pcap.h>

#include "../netstack/core.h"
#include "sniffer.h"

#define SNAPLEN 262144

struct sniffer {
	struct ns_link l;               /* first */
	struct ns_link *inner;
	pcap_t *pd;
	pcap_dumper_t *dumper;
	pthread_mutex_t mu;
	_Atomic uint64_t count;
};

static struct sniffer *to_sn(struct ns_link *l) { return (struct sniffer *)l; }

static void record(struct sniffer *s, const struct ns_pkt *p)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint32_t len = ns_pkt_len(p);
	struct pcap_pkthdr h = {
		.ts = { .tv_sec = ts.tv_sec, .tv_usec = ts.tv_nsec / 1000 },
		.caplen = len < SNAPLEN ? len : SNAPLEN,
		.len = len,
	};
	pthread_mutex_lock(&s->mu);
	pcap_dump((u_char *)s->dumper, &h, ns_pkt_data(p));
	pthread_mutex_unlock(&s->mu);
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

static void sn_deliver(void *ctx, struct ns_pkt *p)
{
	struct sniffer *s = ctx;
	record(s, p);
	s->l.deliver(s->l.deliver_ctx, p);
}

/* The stack fills l.pool/l.deliver after construction (ns_nic_add). */
static void sync_inner(struct sniffer *s)
{
	s->inner->pool = s->l.pool;
}

static int sn_write(struct ns_link *l, struct ns_pkt **pkts, int n)
{
	struct sniffer *s = to_sn(l);
	for (int i = 0; i < n; i++)
		record(s, pkts[i]);
	return s->inner->ops->write(s->inner, pkts, n);
}

static int sn_poll(struct ns_link *l, int budget)
{
	struct sniffer *s = to_sn(l);
	sync_inner(s);
	return s->inner->ops->poll ? s->inner->ops->poll(s->inner, budget) : 0;
}

static int sn_start(struct ns_link *l)
{
	struct sniffer *s = to_sn(l);
	sync_inner(s);
	return s->inner->ops->start ? s->inner->ops->start(s->inner) : 0;
}

static void sn_stop(struct ns_link *l)
{
	struct sniffer *s = to_sn(l);
	if (s->inner->ops->stop)
		s->inner->ops->stop(s->inner);
	ns_link_sniffer_flush(l);
}

static int sn_pollfd(struct ns_link *l)
{
	struct sniffer *s = to_sn(l);
	sync_inner(s);
	return s->inner->ops->pollfd ? s->inner->ops->pollfd(s->inner) : -1;
}

static void sn_close(struct ns_link *l)
{
	struct sniffer *s = to_sn(l);
	if (s->inner && s->inner->ops->close)
		s->inner->ops->close(s->inner);
	if (s->dumper) {
		pcap_dump_flush(s->dumper);
		pcap_dump_close(s->dumper);
	}
	if (s->pd)
		pcap_close(s->pd);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static const struct ns_link_ops sn_ops = {
	.write = sn_write,
	.poll = sn_poll,
	.start = sn_start,
	.stop = sn_stop,
	.pollfd = sn_pollfd,
	.close = sn_close,
};

struct ns_link *ns_link_sniffer_new(struct ns_link *inner, const char *path, int *err)
{
	int e = 0;
	struct sniffer *s = NULL;
	if (!inner || !path) {
		e = -NS_EINVAL;
		goto fail;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		e = -NS_ENOMEM;
		goto fail;
	}
	pthread_mutex_init(&s->mu, NULL);
	s->inner = inner;
	s->pd = pcap_open_dead(DLT_EN10MB, SNAPLEN);
	if (!s->pd) {
		e = -NS_ENOMEM;
		goto fail;
	}
	errno = 0;
	s->dumper = pcap_dump_open(s->pd, path);
	if (!s->dumper) {
		e = errno ? -errno : -NS_EIO;
		goto fail;
	}
	s->l.ops = &sn_ops;
	s->l.mtu = inner->mtu;
	s->l.caps = inner->caps;
	s->l.max_header_len = inner->max_header_len;
	memcpy(s->l.mac, inner->mac, 6);
	snprintf(s->l.name, sizeof(s->l.name), "%s", inner->name);
	inner->deliver = sn_deliver;
	inner->deliver_ctx = s;
	if (err)
		*err = 0;
	return &s->l;
fail:
	if (s)
		sn_close(&s->l);
	else if (inner && inner->ops->close)
		inner->ops->close(inner);
	if (err)
		*err = e;
	return NULL;
}

void ns_link_sniffer_flush(struct ns_link *l)
{
	struct sniffer *s = to_sn(l);
	pthread_mutex_lock(&s->mu);
	pcap_dump_flush(s->dumper);
	pthread_mutex_unlock(&s->mu);
}

uint64_t ns_link_sniffer_count(struct ns_link *l)
{
	return atomic_load(&to_sn(l)->count);
}
