/* netstackd - placeholder entry point until the daemon lands. */
#include <stdio.h>
#include "../../netstack/netstack.h"
int main(void) { fprintf(stderr, "netstackd %s: not built yet\n", NS_VERSION); return 1; }
