/*
 * tap/netstackd/evloop.c - worker threads, ready lists and wake-ups
 * (see evloop.h for the model).
 * Owns: the worker loop (pop a batch, run it, run the timers, sleep in
 * epoll_wait on the worker's eventfd), the waiter callback that queues an
 * item, and item release.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "evloop.h"

#define BATCH 64

uint64_t nsd_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void wake(struct nsd_worker *w)
{
	uint64_t one = 1;
	ssize_t r = write(w->evfd, &one, sizeof(one));
	(void)r;
}

/* Under w->mu. */
static void enqueue_locked(struct nsd_worker *w, struct nsd_item *it)
{
	if (it->queued)
		return;
	it->queued = true;
	it->next = NULL;
	if (w->tail)
		w->tail->next = it;
	else
		w->head = it;
	w->tail = it;
	if (w->sleeping) {
		w->sleeping = false;
		wake(w);
	}
}

void nsd_item_queue(struct nsd_item *it)
{
	struct nsd_worker *w = it->w;
	pthread_mutex_lock(&w->mu);
	enqueue_locked(w, it);
	pthread_mutex_unlock(&w->mu);
}

/* The waiter: runs under the socket's lock on a stack thread. */
static void on_ready(void *ctx, int events)
{
	struct nsd_item *it = ctx;
	if (events & atomic_load_explicit(&it->want, memory_order_relaxed))
		nsd_item_queue(it);
}

int nsd_item_attach(struct nsd_item *it, int want)
{
	atomic_store(&it->want, want | NSD_EV_ERRS);
	int id = ns_waiter_add(it->w->stk, it->fd, NS_POLLIN | NS_POLLOUT | NS_POLLERR | NS_POLLHUP |
			       NS_POLLRDHUP | NS_POLLPRI, on_ready, it);
	if (id < 0)
		return id;
	it->waiter = id;
	nsd_item_queue(it);
	return 0;
}

bool nsd_item_want(struct nsd_item *it, int want)
{
	want |= NSD_EV_ERRS;
	atomic_store(&it->want, want);
	/* ns_poll_mask takes the socket lock, which orders this store before
	 * any later waiter call: a change after this check queues the item */
	int m = ns_poll_mask(it->w->stk, it->fd);
	return m < 0 || (m & want);
}

void nsd_item_release(struct nsd_item *it)
{
	struct nsd_worker *w = it->w;
	pthread_mutex_lock(&w->mu);
	bool queued = it->queued;
	if (queued)
		it->dead = true;
	pthread_mutex_unlock(&w->mu);
	if (!queued)
		it->free(it);
}

/* Pops up to max items; clears their queued flag.  Returns the count.
 * With none, marks the worker sleeping (under the same lock: a later
 * queue writes the eventfd, so the coming epoll_wait cannot miss it). */
static int pop_batch(struct nsd_worker *w, struct nsd_item **batch, int max, bool sleep)
{
	int n = 0;
	pthread_mutex_lock(&w->mu);
	w->sleeping = false;
	while (n < max && w->head) {
		struct nsd_item *it = w->head;
		w->head = it->next;
		if (!w->head)
			w->tail = NULL;
		it->queued = false;
		it->next = NULL;
		batch[n++] = it;
	}
	if (!n && sleep)
		w->sleeping = true;
	pthread_mutex_unlock(&w->mu);
	return n;
}

/* Sleeps until queued or woken (pop_batch marked the worker sleeping). */
static void sleep_once(struct nsd_worker *w, int timeout_ms)
{
	if (atomic_load(w->stop))
		return;
	struct epoll_event ev[4];
	int n = epoll_wait(w->epfd, ev, 4, timeout_ms);
	if (n > 0) {
		uint64_t v;
		ssize_t r = read(w->evfd, &v, sizeof(v));
		(void)r;
	}
}

static void *worker_main(void *arg)
{
	struct nsd_worker *w = arg;
	struct nsd_item *batch[BATCH];
	while (!atomic_load(w->stop)) {
		int n = pop_batch(w, batch, BATCH, true);
		w->now_ms = nsd_now_ms();
		for (int i = 0; i < n; i++) {
			struct nsd_item *it = batch[i];
			if (it->dead)
				it->free(it);
			else
				it->run(it);
		}
		int tmo = w->tick ? w->tick(w, w->now_ms) : -1;
		if (n == 0)
			sleep_once(w, tmo);
	}
	/* what is still queued or open is closed by the caller after the join */
	return NULL;
}

int nsd_worker_start(struct nsd_worker *w)
{
	w->scratch = malloc(NSD_SCRATCH);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&w->mu, NULL);
	w->now_ms = nsd_now_ms();
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (!w->scratch || w->epfd < 0 || w->evfd < 0 ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev) < 0)
		goto fail;
	if (pthread_create(&w->thr, NULL, worker_main, w) != 0)
		goto fail;
	w->started = true;
	return 0;
fail:
	free(w->scratch);
	w->scratch = NULL;
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->evfd >= 0)
		close(w->evfd);
	w->epfd = w->evfd = -1;
	pthread_mutex_destroy(&w->mu);
	return -NS_ENOMEM;
}

void nsd_worker_join(struct nsd_worker *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	wake(w);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thr, NULL);
	w->started = false;
	close(w->epfd);
	close(w->evfd);
	free(w->scratch);
	w->scratch = NULL;
	/* the mutex stays: waiters of sockets the caller still has open may
	 * queue until those are closed (see nsd_services_stop) */
}

void nsd_worker_drain(struct nsd_worker *w)
{
	struct nsd_item *it;
	while (pop_batch(w, &it, 1, false) == 1)
		if (it->dead)
			it->free(it);
}

void nsd_worker_fini(struct nsd_worker *w)
{
	nsd_worker_drain(w);
	pthread_mutex_destroy(&w->mu);
}
