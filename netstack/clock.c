/*
 * netstack/clock.c - clocks and random sources: the real ones, the virtual
 * clock and the seeded generator tests use, and SipHash-2-4 for keyed
 * hashing (flow tables, ISNs, SYN cookies).
 */
#define _POSIX_C_SOURCE 200809L
#include <time.h>
#include "core.h"
#include "platform.h"

static uint64_t real_now(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t real_realtime(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

struct ns_clock ns_clock_real(void)
{
	return (struct ns_clock){ .now_ns = real_now, .ctx = NULL, .realtime_ns = real_realtime };
}

uint64_t ns__real_now(void) { return real_now(NULL); }

static uint64_t vclock_now(void *ctx)
{
	struct ns_vclock *vc = ctx;
	return __atomic_load_n(&vc->now, __ATOMIC_RELAXED);
}

struct ns_clock ns_vclock_clock(struct ns_vclock *vc)
{
	return (struct ns_clock){ .now_ns = vclock_now, .ctx = vc };
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void ns_seeded_rng_init(struct ns_seeded_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uint64_t xoshiro_next(uint64_t s[4])
{
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

static uint64_t seeded_next(void *ctx)
{
	struct ns_seeded_rng *r = ctx;
	return xoshiro_next(r->s);
}

struct ns_rng ns_seeded_rng(struct ns_seeded_rng *r)
{
	return (struct ns_rng){ .next_u64 = seeded_next, .ctx = r };
}

/* Real randomness: a per-thread xoshiro seeded from the OS, reseeded every 2^20 draws. */
static _Thread_local uint64_t tl_state[4];
static _Thread_local uint32_t tl_left;

static uint64_t real_next(void *ctx)
{
	(void)ctx;
	if (tl_left == 0) {
		uint64_t seed[4] = { 0 };
		if (ns__platform_entropy(seed, sizeof(seed)) < 0) {
			uint64_t x = real_now(NULL) ^ (uint64_t)(uintptr_t)&tl_left;
			for (int i = 0; i < 4; i++)
				seed[i] = splitmix(&x);
		}
		for (int i = 0; i < 4; i++)
			tl_state[i] = seed[i] | (i == 0);
		tl_left = 1u << 20;
	}
	tl_left--;
	return xoshiro_next(tl_state);
}

struct ns_rng ns_rng_real(void) { return (struct ns_rng){ .next_u64 = real_next, .ctx = NULL }; }

uint64_t ns__rand64(struct ns_stack *stk)
{
	if (!stk->rng.ctx)      /* the real source is thread-local: no lock */
		return stk->rng.next_u64(NULL);
	pthread_mutex_lock(&stk->rng_mu);
	uint64_t v = stk->rng.next_u64(stk->rng.ctx);
	pthread_mutex_unlock(&stk->rng_mu);
	return v;
}

uint32_t ns__rand32(struct ns_stack *stk) { return (uint32_t)(ns__rand64(stk) >> 32); }

/* SipHash-2-4 (Aumasson, Bernstein), written from the paper's description. */
#define SIPROUND()                                                   \
	do {                                                         \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32); \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;               \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;               \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32); \
	} while (0)

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

uint64_t ns__siphash(const uint64_t key[2], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t v0 = 0x736f6d6570736575ull ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dull ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key[0];
	uint64_t v3 = 0x7465646279746573ull ^ key[1];
	size_t blocks = len / 8;
	for (size_t i = 0; i < blocks; i++) {
		uint64_t m = load_le64(in + i * 8);
		v3 ^= m;
		SIPROUND();
		SIPROUND();
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	const uint8_t *t = in + blocks * 8;
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)t[i] << (8 * i);
	v3 ^= b;
	SIPROUND();
	SIPROUND();
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND();
	SIPROUND();
	SIPROUND();
	SIPROUND();
	return v0 ^ v1 ^ v2 ^ v3;
}
