/*
 * fuzz/fuzz_tcp_opts.c - the TCP option parser and writer.
 * Invariants checked: the parser never reads past its input and consumes
 * at most len bytes; whatever it accepted, written back by the writer and
 * parsed again, gives the same values (a round trip).
 */
#include <stdlib.h>
#include "netstack/core.h"
#include "tcp/tcp_opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool syn = data[0] & 1;
	const uint8_t *opt = data + 1;
	size_t len = size - 1;
	if (len > 40 && !(data[0] & 2))
		len = 40;               /* a real header carries at most 40 option bytes */
	uint8_t *copy = malloc(len ? len : 1);      /* exact size: ASan sees overreads */
	memcpy(copy, opt, len);
	struct ns_tcp_opts o;
	size_t used = ns_tcp_opts_parse(copy, len, syn, &o);
	if (used > len)
		abort();
	uint8_t out[64];
	size_t w = ns_tcp_opts_write(out, sizeof(out), &o);
	if (w > sizeof(out) || (w && w != ns_tcp_opts_len(&o)))
		abort();
	if (w) {
		struct ns_tcp_opts o2;
		ns_tcp_opts_parse(out, w, syn, &o2);
		unsigned keep = o.num_sacks;
		if (keep > ns_tcp_opts_max_sacks(&o))
			keep = ns_tcp_opts_max_sacks(&o);
		uint32_t want = o.present;
		if (keep == 0)
			want &= ~NS_TCP_OPT_F_SACK;
		if (o2.present != want)
			abort();
		if ((want & NS_TCP_OPT_F_MSS) && o2.mss != o.mss)
			abort();
		if ((want & NS_TCP_OPT_F_WSCALE) && o2.wscale != o.wscale)
			abort();
		if ((want & NS_TCP_OPT_F_TS) && (o2.tsval != o.tsval || o2.tsecr != o.tsecr))
			abort();
		if ((want & NS_TCP_OPT_F_SACK) &&
		    (o2.num_sacks != keep || memcmp(o2.sacks, o.sacks, keep * sizeof(o.sacks[0]))))
			abort();
	}
	char buf[256];
	ns_tcp_opts_fmt(&o, buf, sizeof(buf));
	free(copy);
	return 0;
}
