/*
 * tests/unit/test_tcp_threads.c - TCP in threaded mode (ns_stack_start):
 * blocking connect / accept / send / recv from application threads while
 * the links' receive threads and the timer threads run the stacks, several
 * connections at once in both directions, data checked.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include <pthread.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "helpers/ns_test.h"
#include "helpers/tcp_helpers.h"

#define NCONN 4
#define BYTES (4u << 20)

static _Atomic bool stop_ticker;

/* The pair's clock is virtual: move it with real time so timers fire. */
static void *ticker(void *arg)
{
	struct ns_vclock *vc = arg;
	struct timespec ts = { 0, 1000000 };
	while (!atomic_load(&stop_ticker)) {
		__atomic_add_fetch(&vc->now, NS_NSEC_PER_MSEC, __ATOMIC_RELAXED);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static uint8_t byte_at(uint64_t i, int k) { return (uint8_t)(i * 7 + (i >> 9) + (uint64_t)k * 13); }

struct peer {
	struct ns_stack *stk;
	int fd;
	int k;
	bool ok;
};

static void *server_conn(void *arg)
{
	struct peer *p = arg;
	static _Thread_local uint8_t buf[32768];
	uint64_t got = 0;
	bool good = true;
	for (;;) {
		ssize_t r = ns_recv(p->stk, p->fd, buf, sizeof(buf), 0);
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != byte_at(got + (uint64_t)i, p->k))
				good = false;
		got += (uint64_t)r;
	}
	/* echo a short trailer back, then close */
	char t[16];
	int n = snprintf(t, sizeof(t), "%llu", (unsigned long long)got);
	good = good && ns_send(p->stk, p->fd, t, (size_t)n, NS_MSG_NOSIGNAL) == n;
	p->ok = good && got == BYTES;
	ns_close(p->stk, p->fd);
	return NULL;
}

static void *client_conn(void *arg)
{
	struct peer *p = arg;
	static _Thread_local uint8_t buf[65536];
	p->ok = false;
	p->fd = ns_socket(p->stk, NS_AF_INET, NS_SOCK_STREAM, 0);
	struct sockaddr_in s = tt_sin("198.18.0.2", 6000);
	if (ns_connect(p->stk, p->fd, (struct sockaddr *)&s, sizeof(s)) != 0)
		return NULL;
	uint64_t sent = 0;
	while (sent < BYTES) {
		size_t n = sizeof(buf);
		if (n > BYTES - sent)
			n = BYTES - sent;
		for (size_t i = 0; i < n; i++)
			buf[i] = byte_at(sent + i, p->k);
		ssize_t w = ns_send(p->stk, p->fd, buf, n, 0);
		if (w <= 0)
			return NULL;
		sent += (uint64_t)w;
	}
	ns_shutdown(p->stk, p->fd, NS_SHUT_WR);
	char t[32] = { 0 };
	size_t got = 0;
	for (;;) {
		ssize_t r = ns_recv(p->stk, p->fd, t + got, sizeof(t) - 1 - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	p->ok = strtoull(t, NULL, 10) == BYTES;
	ns_close(p->stk, p->fd);
	return NULL;
}

static void test_threaded_blocking(void **state)
{
	(void)state;
	struct ns_test_pair pr;
	assert_int_equal(ns_test_pair_init(&pr, NULL), 0);
	atomic_store(&stop_ticker, false);
	pthread_t tk;
	pthread_create(&tk, NULL, ticker, &pr.vc);
	assert_int_equal(ns_stack_start(pr.a.stk), 0);
	assert_int_equal(ns_stack_start(pr.b.stk), 0);
	int ls = ns_socket(pr.b.stk, NS_AF_INET, NS_SOCK_STREAM, 0);
	struct sockaddr_in s = tt_sin("0.0.0.0", 6000);
	assert_int_equal(ns_bind(pr.b.stk, ls, (struct sockaddr *)&s, sizeof(s)), 0);
	assert_int_equal(ns_listen(pr.b.stk, ls, 16), 0);
	struct peer cl[NCONN], sv[NCONN];
	pthread_t ct[NCONN], st[NCONN];
	for (int i = 0; i < NCONN; i++) {
		cl[i] = (struct peer){ pr.a.stk, -1, i, false };
		pthread_create(&ct[i], NULL, client_conn, &cl[i]);
	}
	for (int i = 0; i < NCONN; i++) {
		int fd = ns_accept(pr.b.stk, ls, NULL, NULL, 0);
		assert_true(fd >= 0);
		/* the accepted sockets come in any order: match by the first byte later;
		 * here the pattern key is learned from the peer's port order-free */
		sv[i] = (struct peer){ pr.b.stk, fd, -1, false };
	}
	/* learn each server socket's client index from its first byte */
	for (int i = 0; i < NCONN; i++) {
		uint8_t b;
		assert_int_equal(ns_recv(pr.b.stk, sv[i].fd, &b, 1, NS_MSG_PEEK), 1);
		for (int k = 0; k < NCONN; k++)
			if (byte_at(0, k) == b)
				sv[i].k = k;
		assert_true(sv[i].k >= 0);
		pthread_create(&st[i], NULL, server_conn, &sv[i]);
	}
	for (int i = 0; i < NCONN; i++) {
		pthread_join(ct[i], NULL);
		pthread_join(st[i], NULL);
	}
	for (int i = 0; i < NCONN; i++) {
		assert_true(cl[i].ok);
		assert_true(sv[i].ok);
	}
	ns_close(pr.b.stk, ls);
	ns_stack_stop(pr.a.stk);
	ns_stack_stop(pr.b.stk);
	atomic_store(&stop_ticker, true);
	pthread_join(tk, NULL);
	ns_test_advance(&pr, 200 * NS_NSEC_PER_SEC);
	assert_int_equal(ns_test_pair_live(&pr), 0);
	ns_test_pair_fini(&pr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threaded_blocking),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
