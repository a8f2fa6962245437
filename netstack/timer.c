/*
 * netstack/timer.c - the timer facility: a 4-ary min-heap of deadlines.
 *
 * Owns: the heap, running callbacks, cancel-and-wait.  Arm and cancel are
 * O(log4 n); the next deadline is the root.  One lock (timers.mu) guards
 * the heap; callbacks run without it.  Only one thread runs callbacks at a
 * time (the timer thread, or whoever calls ns_stack_poll), which makes
 * ns__timer_cancel_sync() a simple wait on `running`.
 */
#include <stdlib.h>
#include "core.h"
#include "platform.h"

#define ARITY 4

void ns__timer_init(struct ns_timer *t, ns_timer_fn fn, void *arg)
{
	t->when = 0;
	t->idx = NS_TIMER_IDLE;
	t->fn = fn;
	t->arg = arg;
}

static inline void place(struct ns_timer_heap *th, uint32_t i, struct ns_timer *t)
{
	th->h[i] = t;
	t->idx = i;
}

static void sift_up(struct ns_timer_heap *th, uint32_t i)
{
	struct ns_timer *t = th->h[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / ARITY;
		if (th->h[parent]->when <= t->when)
			break;
		place(th, i, th->h[parent]);
		i = parent;
	}
	place(th, i, t);
}

static void sift_down(struct ns_timer_heap *th, uint32_t i)
{
	struct ns_timer *t = th->h[i];
	for (;;) {
		uint32_t first = i * ARITY + 1;
		if (first >= th->n)
			break;
		uint32_t best = first;
		uint32_t last = first + ARITY < th->n ? first + ARITY : th->n;
		for (uint32_t c = first + 1; c < last; c++)
			if (th->h[c]->when < th->h[best]->when)
				best = c;
		if (th->h[best]->when >= t->when)
			break;
		place(th, i, th->h[best]);
		i = best;
	}
	place(th, i, t);
}

static void heap_remove(struct ns_timer_heap *th, struct ns_timer *t)
{
	uint32_t i = t->idx;
	t->idx = NS_TIMER_IDLE;
	th->n--;
	if (i == th->n)
		return;
	place(th, i, th->h[th->n]);
	if (i > 0 && th->h[(i - 1) / ARITY]->when > th->h[i]->when)
		sift_up(th, i);
	else
		sift_down(th, i);
}

static bool heap_insert(struct ns_timer_heap *th, struct ns_timer *t)
{
	if (th->n == th->cap) {
		uint32_t ncap = th->cap ? th->cap * 2 : 256;
		struct ns_timer **nh = realloc(th->h, ncap * sizeof(*nh));
		if (!nh)
			return false;
		th->h = nh;
		th->cap = ncap;
	}
	place(th, th->n++, t);
	sift_up(th, t->idx);
	return true;
}

static void kick(struct ns_stack *stk, bool new_root)
{
	if (new_root && atomic_load(&stk->running)) {
		pthread_cond_broadcast(&stk->timers.cv);
	}
}

static void arm_locked(struct ns_stack *stk, struct ns_timer *t, uint64_t when)
{
	struct ns_timer_heap *th = &stk->timers;
	if (t->idx != NS_TIMER_IDLE) {
		uint64_t old = t->when;
		th->n_move++;
		t->when = when;
		if (when < old)
			sift_up(th, t->idx);
		else if (when > old)
			sift_down(th, t->idx);
	} else {
		t->when = when;
		th->n_insert++;
		if (!heap_insert(th, t)) {
			/* Out of memory for the heap: run it as soon as possible instead of losing it. */
			ns__log(NS_LOG_ERROR, "timer heap allocation failed");
			return;
		}
	}
	kick(stk, th->h[0] == t);
}

void ns__timer_arm(struct ns_stack *stk, struct ns_timer *t, uint64_t when)
{
	pthread_mutex_lock(&stk->timers.mu);
	arm_locked(stk, t, when);
	pthread_mutex_unlock(&stk->timers.mu);
}

void ns__timer_arm_earlier(struct ns_stack *stk, struct ns_timer *t, uint64_t when)
{
	pthread_mutex_lock(&stk->timers.mu);
	if (t->idx == NS_TIMER_IDLE || when < t->when)
		arm_locked(stk, t, when);
	pthread_mutex_unlock(&stk->timers.mu);
}

void ns__timer_cancel(struct ns_stack *stk, struct ns_timer *t)
{
	pthread_mutex_lock(&stk->timers.mu);
	if (t->idx != NS_TIMER_IDLE) {
		heap_remove(&stk->timers, t);
		stk->timers.n_cancel++;
	}
	pthread_mutex_unlock(&stk->timers.mu);
}

void ns__timer_cancel_sync(struct ns_stack *stk, struct ns_timer *t)
{
	struct ns_timer_heap *th = &stk->timers;
	pthread_mutex_lock(&th->mu);
	if (t->idx != NS_TIMER_IDLE) {
		heap_remove(th, t);
		th->n_cancel++;
	}
	while (th->running == t && th->has_runner && !pthread_equal(th->runner, pthread_self()))
		pthread_cond_wait(&th->cv, &th->mu);
	pthread_mutex_unlock(&th->mu);
}

bool ns__timer_pending(struct ns_stack *stk, const struct ns_timer *t)
{
	pthread_mutex_lock(&stk->timers.mu);
	bool p = t->idx != NS_TIMER_IDLE;
	pthread_mutex_unlock(&stk->timers.mu);
	return p;
}

size_t ns__timers_pending_count(struct ns_stack *stk)
{
	pthread_mutex_lock(&stk->timers.mu);
	size_t n = stk->timers.n;
	pthread_mutex_unlock(&stk->timers.mu);
	return n;
}

void ns__timers_stats(struct ns_stack *stk, struct ns_timer_stats *out)
{
	pthread_mutex_lock(&stk->timers.mu);
	out->insert = stk->timers.n_insert;
	out->move = stk->timers.n_move;
	out->cancel = stk->timers.n_cancel;
	out->fire = stk->timers.n_fire;
	out->pending = stk->timers.n;
	pthread_mutex_unlock(&stk->timers.mu);
}

int ns__timers_run(struct ns_stack *stk, uint64_t *next)
{
	struct ns_timer_heap *th = &stk->timers;
	int ran = 0;
	uint64_t now = ns__now(stk);
	pthread_mutex_lock(&th->mu);
	th->runner = pthread_self();
	th->has_runner = true;
	/* Bound the work per call so a flood of timers cannot starve receive. */
	while (th->n > 0 && th->h[0]->when <= now && ran < 100000) {
		struct ns_timer *t = th->h[0];
		heap_remove(th, t);
		th->n_fire++;
		th->running = t;
		ns_timer_fn fn = t->fn;
		void *arg = t->arg;
		pthread_mutex_unlock(&th->mu);
		fn(arg);
		pthread_mutex_lock(&th->mu);
		th->running = NULL;
		pthread_cond_broadcast(&th->cv);
		ran++;
	}
	th->has_runner = false;
	if (next)
		*next = th->n ? th->h[0]->when : UINT64_MAX;
	pthread_mutex_unlock(&th->mu);
	return ran;
}
