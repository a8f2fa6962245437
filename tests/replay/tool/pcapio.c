/*
 * tests/replay/tool/pcapio.c - frame lists and pcap files (libpcap:
 * pcap_open_offline_with_tstamp_precision, pcap_open_dead + pcap_dump).
 * Output is nanosecond precision so virtual times survive exactly.
 */
#define _DEFAULT_SOURCE 1   /* pcap.h needs u_char and friends */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nsr.h"

int nsr_frames_push(struct nsr_frames *f, uint64_t t_ns, const uint8_t *data, size_t len)
{
	if (f->n == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 64;
		struct nsr_frame *nv = realloc(f->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		f->v = nv;
		f->cap = nc;
	}
	uint8_t *d = malloc(len ? len : 1);
	if (!d)
		return -1;
	if (len)
		memcpy(d, data, len);
	f->v[f->n++] = (struct nsr_frame){ .t_ns = t_ns, .len = (uint32_t)len, .data = d };
	return 0;
}

void nsr_frames_free(struct nsr_frames *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].data);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

int nsr_pcap_read(const char *path, struct nsr_frames *out, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!p) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		return -1;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		snprintf(err, errlen, "%s: link type %d is not Ethernet", path, pcap_datalink(p));
		pcap_close(p);
		return -1;
	}
	struct pcap_pkthdr *h;
	const u_char *d;
	int r;
	while ((r = pcap_next_ex(p, &h, &d)) == 1) {
		uint64_t t = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		if (nsr_frames_push(out, t, d, h->caplen) < 0) {
			snprintf(err, errlen, "out of memory");
			pcap_close(p);
			return -1;
		}
	}
	if (r == -1) {
		snprintf(err, errlen, "%s: %s", path, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	return 0;
}

int nsr_pcap_write(const char *path, const struct nsr_frames *f, char *err, size_t errlen)
{
	pcap_t *p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144, PCAP_TSTAMP_PRECISION_NANO);
	if (!p) {
		snprintf(err, errlen, "pcap_open_dead failed");
		return -1;
	}
	pcap_dumper_t *dp = pcap_dump_open(p, path);
	if (!dp) {
		snprintf(err, errlen, "%s: %s", path, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	for (size_t i = 0; i < f->n; i++) {
		struct pcap_pkthdr h;
		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = (time_t)(f->v[i].t_ns / 1000000000ull);
		h.ts.tv_usec = (suseconds_t)(f->v[i].t_ns % 1000000000ull);   /* ns in nano mode */
		h.caplen = h.len = f->v[i].len;
		pcap_dump((u_char *)dp, &h, f->v[i].data);
	}
	int ok = pcap_dump_flush(dp);
	pcap_dump_close(dp);
	pcap_close(p);
	if (ok != 0) {
		snprintf(err, errlen, "%s: write failed", path);
		return -1;
	}
	return 0;
}
