/*
 * fuzz/fuzz_vnet.c - the receive path of the tap endpoint with IFF_VNET_HDR:
 * a virtio-net header (10 bytes) followed by a frame, as the kernel hands
 * them up (GRO frames up to 64 KiB, NEEDS_CSUM / DATA_VALID flags).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include "fuzz_stack.h"
#include "link/vnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fz F;
static bool inited;
static unsigned long count;

static void at_exit(void)
{
	if (inited)
		fz_fini(&F);
	inited = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!inited) {
		fz_init(&F, 5);
		inited = true;
		atexit(at_exit);
	}
	struct virtio_net_hdr vh;
	if (size < sizeof(vh) + 14 || size > 65536 + sizeof(vh))
		return 0;
	memcpy(&vh, data, sizeof(vh));
	size_t n = size - sizeof(vh);
	struct ns_pkt *p = ns_pkt_alloc(ns_stack_pool(F.stk), NS_PKT_HEADROOM, n);
	if (!p)
		return 0;
	memcpy(ns_pkt_data(p), data + sizeof(vh), n);
	if (!(ns_pkt_data(p)[0] & 1))
		memcpy(ns_pkt_data(p), fz_mac_stack, 6);
	if (!ns__vnet_hdr_to_pkt(&vh, p)) {
		ns_pkt_unref(p);
		return 0;
	}
	ns_link_channel_inject(F.chan, p);
	fz_run(&F);
	fz_advance(&F, 10 * NS_NSEC_PER_MSEC);
	if (++count % 512 == 0)
		fz_advance(&F, 120 * NS_NSEC_PER_SEC);
	return 0;
}
