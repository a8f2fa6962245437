/*
 * fuzz/fuzz_reasm.c - IPv4 (default) or IPv6 (-DFZ_V6) reassembly.  The
 * input is a sequence of fragments of one or a few datagrams:
 *   [ctl][off_hi][off_lo][len][len bytes of payload] ...
 * ctl bit 0: more-fragments; bits 1-2: which of 4 datagram ids; bit 3:
 * advance the virtual clock 10 s after this fragment (timeouts); bit 4:
 * protocol UDP (else an unknown protocol); bit 5: 64 s instead of 10 s.
 * The offset is in 8-byte units (13 bits).  One stack lives across inputs
 * (destroyed at exit for LeakSanitizer); after each input the clock runs
 * past every reassembly timeout and the stack must hold no packet at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include "fuzz_stack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t frame[2048];

static void one_frag(struct fz *f, uint8_t ctl, uint16_t off8, const uint8_t *p, size_t n)
{
	uint8_t l4[1600];
	size_t len;
	uint8_t proto = (ctl & 0x10) ? NS_IPPROTO_UDP : 253;
	uint32_t id = 0x4242u + ((ctl >> 1) & 3);
#ifdef FZ_V6
	l4[0] = proto;
	l4[1] = 0;
	ns_store_be16(l4 + 2, (uint16_t)((off8 & 0x1fff) << 3 | (ctl & 1)));
	ns_store_be32(l4 + 4, id);
	memcpy(l4 + 8, p, n);
	len = fz_ipv6(frame, sizeof(frame), 44, l4, n + 8, false, 64);
#else
	memcpy(l4, p, n);
	len = fz_ipv4(frame, sizeof(frame), proto, l4, n, false);
	if (len) {
		uint8_t *ip = frame + 14;
		ns_store_be16(ip + 4, (uint16_t)id);
		ns_store_be16(ip + 6, (uint16_t)((ctl & 1) << 13 | (off8 & 0x1fff)));
		fz_fix_ipv4_hdr(frame, len);
	}
#endif
	if (len)
		fz_inject(f, frame, len);
	fz_run(f);
	if (ctl & 0x08)
		fz_advance(f, (ctl & 0x20 ? 64 : 10) * NS_NSEC_PER_SEC);
}

static struct fz *F;

static void at_exit(void)
{
	if (F) {
		fz_fini(F);
		free(F);
		F = NULL;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!F) {
		F = malloc(sizeof(*F));
		fz_init(F, 3);
		atexit(at_exit);
	}
	struct fz *f = F;
	size_t i = 0;
	int frags = 0;
	while (i + 4 <= size && frags < 256) {
		uint8_t ctl = data[i];
		uint16_t off8 = (uint16_t)(data[i + 1] << 8 | data[i + 2]);
		size_t n = data[i + 3] * 6u;            /* up to 1530 bytes */
		i += 4;
		if (n > size - i)
			n = size - i;
		one_frag(f, ctl, off8, data + i, n);
		i += n;
		frags++;
	}
	fz_advance(f, 70 * NS_NSEC_PER_SEC);    /* every queue times out */
	fz_drain_sockets(f);                    /* datagrams reassembled for UDP port 7 */
	/* sockets are freed after an RCU grace period on liburcu's callback
	 * thread (real time, not virtual): let pending frees run first */
	if (ns_stack_live_pkts(f->stk) != 0) {
		urcu_bp_synchronize_rcu();
		urcu_bp_barrier();
	}
	if (ns_stack_live_pkts(f->stk) != 0) {
		fprintf(stderr, "fuzz_reasm: %llu packets alive after every reassembly timeout\n",
			(unsigned long long)ns_stack_live_pkts(f->stk));
		abort();
	}
	return 0;
}
