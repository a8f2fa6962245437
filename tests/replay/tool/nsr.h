/*
 * tests/replay/tool/nsr.h - pcap-replay's shared basics: a frame list with
 * virtual timestamps and pcap file reading and writing (libpcap).
 *
 * Owns: struct nsr_frame / nsr_frames and nsr_pcap_read / nsr_pcap_write.
 */
#ifndef NSR_H
#define NSR_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct nsr_frame {
	uint64_t t_ns;                  /* capture or virtual time, ns */
	uint32_t len;
	uint8_t *data;                  /* Ethernet frame */
};

struct nsr_frames {
	size_t n, cap;
	struct nsr_frame *v;
};

/* Appends a copy of data; returns 0 or -1 on allocation failure. */
int nsr_frames_push(struct nsr_frames *f, uint64_t t_ns, const uint8_t *data, size_t len);
void nsr_frames_free(struct nsr_frames *f);

/* Reads an Ethernet (DLT_EN10MB) pcap with nanosecond timestamps.  Returns 0
 * or -1 with a message in err. */
int nsr_pcap_read(const char *path, struct nsr_frames *out, char *err, size_t errlen);
/* Writes frames as a nanosecond-precision Ethernet pcap. */
int nsr_pcap_write(const char *path, const struct nsr_frames *f, char *err, size_t errlen);

#endif
