/*
 * tests/bench/timer_bench.c - microbenchmark of the timer heap
 * (netstack/timer.c) with 1,000,000 pending timers: arm all, re-arm all
 * (like per-ACK RTO updates), cancel half, then fire the rest by moving a
 * virtual clock.  Prints nanoseconds per operation.  A benchmark, not a
 * test: it asserts only that every timer fired exactly once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "netstack/core.h"

#define N 1000000

static long fired;
static void on_fire(void *arg) { (void)arg; fired++; }

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(void)
{
	struct ns_vclock vc = { .now = 1000 };
	struct ns_stack_opts o = { .clock = ns_vclock_clock(&vc) };
	struct ns_stack *stk;
	if (ns_stack_create(&o, &stk) < 0)
		return 1;
	struct ns_timer *t = calloc(N, sizeof(*t));
	uint64_t *when = malloc(N * sizeof(*when));
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < N; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		when[i] = 1000000 + x % (60 * NS_NSEC_PER_SEC);
		ns__timer_init(&t[i], on_fire, NULL);
	}
	double t0 = now();
	for (int i = 0; i < N; i++)
		ns__timer_arm(stk, &t[i], when[i]);
	double t1 = now();
	for (int i = 0; i < N; i++)
		ns__timer_arm(stk, &t[i], when[i] + 200 * NS_NSEC_PER_MSEC);
	double t2 = now();
	for (int i = 0; i < N; i += 2)
		ns__timer_cancel(stk, &t[i]);
	double t3 = now();
	vc.now = 120 * NS_NSEC_PER_SEC;
	uint64_t next;
	int ran = 0, k;
	while ((k = ns__timers_run(stk, &next)) > 0)   /* it runs a bounded batch per call */
		ran += k;
	double t4 = now();
	printf("timer heap, %d timers: arm %.0f ns/op, re-arm %.0f ns/op, cancel %.0f ns/op, "
	       "fire %.0f ns/op (%d fired)\n", N, (t1 - t0) / N, (t2 - t1) / N, (t3 - t2) / (N / 2),
	       (t4 - t3) / (ran ? ran : 1), ran);
	int ok = ran == N / 2 && fired == N / 2 && ns__timers_pending_count(stk) == 0;
	free(t);
	free(when);
	ns_stack_destroy(stk);
	return ok ? 0 : 1;
}
