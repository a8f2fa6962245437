/*
 * netstack/pkt.c - packet buffer allocation, reference counting, copies,
 * and the stack-wide memory pool.
 * Blocks for packets up to CACHE_CAP bytes (every frame of a 1500-byte MTU
 * and every control segment) are kept in a small per-thread cache instead of
 * going back to malloc: a connection allocates a dozen of them and their
 * size is past glibc's per-thread cache, so malloc/free cost ~12% of the
 * instructions of a short connection.  The cache holds at most CACHE_MAX
 * blocks per thread and is freed when the thread exits (a pthread key
 * destructor).  Truesize accounting is unchanged (logical size), and
 * sanitizer and NS_PKT_DEBUG builds skip the cache so use-after-free is still caught.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

#define PKT_ALIGN 64u
#define CACHE_CAP 2048u               /* cached blocks hold this capacity */
#define CACHE_MAX 128u                /* blocks per thread */

#if defined(__SANITIZE_ADDRESS__) || defined(NS_PKT_DEBUG)
#define PKT_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PKT_CACHE 0
#endif
#endif
#ifndef PKT_CACHE
#define PKT_CACHE 1
#endif

#if PKT_CACHE
struct pkt_cache {
	struct ns_pkt *head;
	unsigned n;
	int state;                      /* 0 new, 1 destructor registered, 2 thread exiting */
};
static _Thread_local struct pkt_cache tcache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_fini(void *arg)
{
	struct pkt_cache *c = arg;
	while (c->head) {
		struct ns_pkt *p = c->head;
		c->head = p->next;
		free(p);
	}
	c->n = 0;
	c->state = 2;                   /* frees from later destructors go to free() */
}

static void cache_key_init(void) { pthread_key_create(&cache_key, cache_fini); }

static struct ns_pkt *cache_pop(void)
{
	struct ns_pkt *p = tcache.head;
	if (p) {
		tcache.head = p->next;
		tcache.n--;
	}
	return p;
}

static bool cache_push(struct ns_pkt *p)
{
	if (tcache.state != 1) {
		if (tcache.state == 2)
			return false;
		pthread_once(&cache_once, cache_key_init);
		if (pthread_setspecific(cache_key, &tcache) != 0)
			return false;
		tcache.state = 1;
	}
	if (tcache.n >= CACHE_MAX)
		return false;
	p->next = tcache.head;
	tcache.head = p;
	tcache.n++;
	return true;
}
#else
static inline struct ns_pkt *cache_pop(void) { return NULL; }
static inline bool cache_push(struct ns_pkt *p) { (void)p; return false; }
#endif

/*
 * NS_PKT_DEBUG (fuzz builds only): every live packet is preceded, in the
 * same allocation, by a record on a global list: its pool, a serial number,
 * who allocated it and the last reference changes (caller addresses), so a
 * harness that finds packets alive when none should be can say whose they
 * are (ns_pkt_debug_foreach).
 */
#ifdef NS_PKT_DEBUG
#include <pthread.h>

struct pkt_dbg {
	struct pkt_dbg *prev, *next;
	struct ns_pool *pool;
	struct ns_pkt_dbg_info info;
} __attribute__((aligned(16)));

static pthread_mutex_t dbg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pkt_dbg dbg_list = { &dbg_list, &dbg_list, NULL, { 0 } };
static uint64_t dbg_serial;

#define DBG_OF(p) ((struct pkt_dbg *)(void *)(p) - 1)
#define DBG_EXTRA sizeof(struct pkt_dbg)

static void dbg_link(struct pkt_dbg *d, struct ns_pool *pool, void *pc)
{
	memset(d, 0, sizeof(*d));
	d->pool = pool;
	d->info.pkt = (struct ns_pkt *)(d + 1);
	d->info.block = d;
	d->info.alloc_pc = pc;
	pthread_mutex_lock(&dbg_mu);
	d->info.serial = ++dbg_serial;
	d->next = &dbg_list;
	d->prev = dbg_list.prev;
	dbg_list.prev->next = d;
	dbg_list.prev = d;
	pthread_mutex_unlock(&dbg_mu);
}

static void dbg_unlink(struct pkt_dbg *d)
{
	pthread_mutex_lock(&dbg_mu);
	d->prev->next = d->next;
	d->next->prev = d->prev;
	pthread_mutex_unlock(&dbg_mu);
}

static void dbg_event(struct ns_pkt *p, int delta, void *pc)
{
	struct pkt_dbg *d = DBG_OF(p);
	pthread_mutex_lock(&dbg_mu);
	unsigned i = d->info.nevents++ % NS_PKT_DBG_EVENTS;
	d->info.event_pc[i] = pc;
	d->info.event_delta[i] = (int8_t)delta;
	pthread_mutex_unlock(&dbg_mu);
}

void ns_pkt_debug_foreach(struct ns_pool *pool, void (*fn)(const struct ns_pkt_dbg_info *, void *),
			  void *arg)
{
	pthread_mutex_lock(&dbg_mu);
	for (struct pkt_dbg *d = dbg_list.next; d != &dbg_list; d = d->next)
		if (!pool || d->pool == pool)
			fn(&d->info, arg);
	pthread_mutex_unlock(&dbg_mu);
}
#else
#define DBG_EXTRA 0
#endif

struct ns_pool *ns_stack_pool(struct ns_stack *stk) { return stk ? &stk->pool : NULL; }

struct ns_pkt *ns_pkt_alloc(struct ns_pool *pool, size_t headroom, size_t len)
{
	if (headroom + len > (1u << 20))
		return NULL;
	size_t cap = (headroom + len + PKT_ALIGN - 1) & ~(size_t)(PKT_ALIGN - 1);
	size_t truesize = sizeof(struct ns_pkt) + cap;
	if (pool) {
		uint64_t used = atomic_fetch_add(&pool->used, truesize) + truesize;
		if (pool->limit && used > pool->limit) {
			atomic_fetch_sub(&pool->used, truesize);
			atomic_fetch_add(&pool->fail, 1);
			return NULL;
		}
	}
	/* small blocks all have CACHE_CAP bytes so that any can be reused */
	size_t phys = PKT_CACHE && cap <= CACHE_CAP ? CACHE_CAP : cap;
	struct ns_pkt *p = phys == CACHE_CAP ? cache_pop() : NULL;
	if (!p)
		p = malloc(DBG_EXTRA + sizeof(*p) + phys);
#ifdef NS_PKT_DEBUG
	if (p) {
		dbg_link((struct pkt_dbg *)(void *)p, pool, __builtin_return_address(0));
		p = (struct ns_pkt *)(void *)((struct pkt_dbg *)(void *)p + 1);
	}
#endif
	if (!p) {
		if (pool) {
			atomic_fetch_sub(&pool->used, truesize);
			atomic_fetch_add(&pool->fail, 1);
		}
		return NULL;
	}
	memset(p, 0, sizeof(*p));
	atomic_init(&p->refs, 1);
	p->head = (uint8_t *)(p + 1);
	p->cap = (uint32_t)cap;
	p->data = (uint32_t)headroom;
	p->tail = (uint32_t)(headroom + len);
	p->truesize = (uint32_t)truesize;
	p->pool = pool;
	if (pool)
		atomic_fetch_add(&pool->live, 1);
	return p;
}

struct ns_pkt *ns_pkt_ref(struct ns_pkt *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
#ifdef NS_PKT_DEBUG
	dbg_event(p, 1, __builtin_return_address(0));
#endif
	return p;
}

void ns_pkt_unref(struct ns_pkt *p)
{
	if (!p)
		return;
#ifdef NS_PKT_DEBUG
	dbg_event(p, -1, __builtin_return_address(0));
#endif
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (p->destructor)
		p->destructor(p);
	if (p->pool) {
		atomic_fetch_sub(&p->pool->used, p->truesize);
		atomic_fetch_sub(&p->pool->live, 1);
	}
#ifdef NS_PKT_DEBUG
	(void)cache_push; /* the debug list owns every packet: no per-thread cache */
	dbg_unlink(DBG_OF(p));
	free(DBG_OF(p));
#else
	if (p->cap > CACHE_CAP || !cache_push(p))
		free(p);
#endif
}

void ns_pkt_unref_chain(struct ns_pkt *p)
{
	while (p) {
		struct ns_pkt *n = p->next;
		ns_pkt_unref(p);
		p = n;
	}
}

struct ns_pkt *ns_pkt_copy(struct ns_pkt *p, size_t headroom)
{
	uint32_t len = ns_pkt_len(p);
	struct ns_pkt *c = ns_pkt_alloc(p->pool, headroom, len);
	if (!c)
		return NULL;
	memcpy(ns_pkt_data(c), ns_pkt_data(p), len);
	/* header offsets move with the data */
	int64_t delta = (int64_t)c->data - (int64_t)p->data;
	c->l2 = (uint32_t)((int64_t)p->l2 + delta);
	c->l3 = (uint32_t)((int64_t)p->l3 + delta);
	c->l4 = (uint32_t)((int64_t)p->l4 + delta);
	if (p->l2 < p->data)
		c->l2 = c->data;
	if (p->l3 < p->data)
		c->l3 = c->data;
	if (p->l4 < p->data)
		c->l4 = c->data;
	c->nic = p->nic;
	c->ethertype = p->ethertype;
	c->csum = p->csum;
	c->gso_type = p->gso_type;
	c->gso_size = p->gso_size;
	c->csum_start = p->csum_start;
	c->csum_off = p->csum_off;
	c->pkt_type = p->pkt_type;
	c->hash = p->hash;
	c->tstamp = p->tstamp;
	return c;
}

struct ns_pkt *ns_pkt_unshare(struct ns_pkt *p)
{
	if (atomic_load(&p->refs) == 1)
		return p;
	struct ns_pkt *c = ns_pkt_copy(p, ns_pkt_headroom(p));
	ns_pkt_unref(p);
	return c;
}
