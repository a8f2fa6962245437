/*
 * netstack/stats.c - counter names and the public read functions.
 */
#include <string.h>
#include "core.h"

const char *const ns__stat_names[NS_STAT__COUNT] = {
#define NS_STAT_NAME(n) #n,
	NS_STATS_LIST(NS_STAT_NAME)
#undef NS_STAT_NAME
};

int ns_stat_get(struct ns_stack *stk, const char *name, uint64_t *value)
{
	for (int i = 0; i < NS_STAT__COUNT; i++) {
		if (strcmp(ns__stat_names[i], name) == 0) {
			*value = atomic_load_explicit(&stk->stats[i], memory_order_relaxed);
			return 0;
		}
	}
	return -NS_ENOENT;
}

void ns_stat_foreach(struct ns_stack *stk, ns_stat_fn fn, void *ctx)
{
	for (int i = 0; i < NS_STAT__COUNT; i++)
		fn(ctx, ns__stat_names[i], atomic_load_explicit(&stk->stats[i], memory_order_relaxed));
}

uint64_t ns_stack_live_pkts(struct ns_stack *stk)
{
	return atomic_load(&stk->pool.live);
}
