/*
 * fuzz/fuzz_replay.c - pcap-replay's parsers: packetdrill-style scripts
 * (-DFZ_SCRIPT) or stack config files (default).
 */
#include <stdlib.h>
#include <string.h>
#include "netstack/core.h"
#ifdef FZ_SCRIPT
#include "tests/replay/tool/script.h"
#else
#include "tests/replay/tool/config.h"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);       /* exact size: no terminator the parser could rely on */
	memcpy(buf, data, size);
	char err[256];
#ifdef FZ_SCRIPT
	struct nsr_script *s = NULL;
	if (nsr_script_parse(buf, size, &s, err, sizeof(err)) == 0 && s)
		nsr_script_free(s);
#else
	struct nsr_config *c = calloc(1, sizeof(*c));
	nsr_config_parse(buf, size, c, err, sizeof(err));
	free(c);
#endif
	free(buf);
	return 0;
}
