/*
 * tap/netstackd/evloop.h - the worker threads that run netstackd's services.
 *
 * A fixed set of workers (--workers, default one per CPU).  Each owns the
 * sockets assigned to it (items) and runs them from a ready list.  A socket
 * gets onto the list through a netstack waiter callback (ns_waiter_add),
 * which runs on whatever stack thread changed the socket's readiness and
 * only appends the item under the worker's mutex; a sleeping worker is woken
 * through its eventfd, which sits in the worker's epoll set.  Items run with
 * nonblocking ns_ calls until they would block, so no thread ever blocks in
 * the stack.  The waiter filters events by the item's `want` mask: a
 * connection waiting for send space is not queued for every segment that
 * arrives while it is not reading (backpressure).
 */
#ifndef NSD_EVLOOP_H
#define NSD_EVLOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "netstack/netstack.h"

struct nsd_worker;
struct nsd_item;

/* Runs an item that was queued (on its worker's thread). */
typedef void (*nsd_run_fn)(struct nsd_item *it);
/* Frees an item that was released while still queued. */
typedef void (*nsd_free_fn)(struct nsd_item *it);

struct nsd_item {
	struct nsd_worker *w;
	struct nsd_item *next;          /* ready list (under w->mu) */
	bool queued;                    /* on the ready list (under w->mu) */
	bool dead;                      /* released while queued: freed when popped */
	atomic_int want;                /* events that queue it */
	int fd;                         /* the netstack socket */
	int waiter;                     /* waiter id, 0 before attach */
	nsd_run_fn run;
	nsd_free_fn free;
};

/* A doubly linked list node / head (the head is a sentinel). */
struct nsd_link {
	struct nsd_link *prev, *next;
};

static inline void nsd_list_init(struct nsd_link *h) { h->prev = h->next = h; }
static inline bool nsd_list_empty(const struct nsd_link *h) { return h->next == h; }
static inline bool nsd_linked(const struct nsd_link *n) { return n->next != NULL; }
static inline void nsd_list_del(struct nsd_link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
}
static inline void nsd_list_add_tail(struct nsd_link *h, struct nsd_link *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

/* Called by the worker after every batch and wake-up: runs what is due and
 * returns the milliseconds until the next deadline (-1: none). */
typedef int (*nsd_tick_fn)(struct nsd_worker *w, uint64_t now_ms);

struct nsd_worker {
	int id;
	struct ns_stack *stk;
	pthread_t thr;
	bool started;
	int epfd, evfd;                 /* epoll set holding the wake-up eventfd */
	pthread_mutex_t mu;
	struct nsd_item *head, *tail;   /* ready list */
	bool sleeping;                  /* in epoll_wait: queueing writes evfd */
	const atomic_bool *stop;
	nsd_tick_fn tick;
	uint8_t *scratch;               /* NSD_SCRATCH bytes, this thread's I/O buffer */
	uint64_t now_ms;                /* coarse monotonic clock, refreshed per batch */
	void *ctx;                      /* the services' per-worker state */
};

#define NSD_SCRATCH 65536
#define NSD_EV_ERRS (NS_POLLERR | NS_POLLHUP)

/* Creates and starts worker w (fields stk, id, stop, tick, ctx set). */
int nsd_worker_start(struct nsd_worker *w);
/* Wakes the worker (after setting *stop) and joins it; frees its buffers.
 * Its items stay (queued or not) for the caller to close; then it calls
 * nsd_worker_fini. */
void nsd_worker_join(struct nsd_worker *w);
/* Empties the ready list of a joined worker (its items are not freed). */
void nsd_worker_drain(struct nsd_worker *w);
/* Frees the last resources of a joined worker. */
void nsd_worker_fini(struct nsd_worker *w);
/* Registers the waiter of it (it->fd, it->w set) and queues it once so that
 * readiness that came before the waiter is not lost.  0 or -errno. */
int nsd_item_attach(struct nsd_item *it, int want);
/* Puts it on its worker's ready list (any thread). */
void nsd_item_queue(struct nsd_item *it);
/* The item's socket was closed (no callback can run any more): frees it now,
 * or when the worker pops it if it is still queued.  Worker thread only. */
void nsd_item_release(struct nsd_item *it);
/* Sets the events that queue it, then tells whether one of them is ready
 * already (the caller runs again instead of sleeping: no lost wake-up). */
bool nsd_item_want(struct nsd_item *it, int want);
/* CLOCK_MONOTONIC_COARSE in milliseconds. */
uint64_t nsd_now_ms(void);

#endif
