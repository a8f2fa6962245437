/*
 * tests/unit/test_tcp_kernel.c - TCP between our stack and the Linux kernel
 * over a tap, in a private network namespace this process creates
 * (unshare(CLONE_NEWNET); it vanishes with the process):
 *   - active open: a program on our stack connects out to a kernel server,
 *     sends 4 MiB that the kernel echoes back, compares every byte;
 *   - the kernel refuses a closed port: our connect gets ECONNREFUSED;
 *   - passive open: the kernel connects to our listener and both sides
 *     half-close cleanly.
 * The stack runs threaded with blocking socket calls.  Skipped (with a
 * message, asserting only that it is not root) unless root.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "tap/tap.h"
#include "tap/hostcfg.h"

#define TAP "nstk0"
#define BULK (4u << 20)

static bool rooted;

struct env {
	struct ns_stack *stk;
	int nic;
};

static int setup(void **state)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		*state = NULL;
		return 0;
	}
	rooted = true;
	struct env *e = calloc(1, sizeof(*e));
	static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0xed, 0x00, 0x02 };
	int err = 0;
	if (ns_stack_create(NULL, &e->stk) < 0)
		return -1;
	struct ns_link *tap = ns_link_tap_open(TAP, mac, NULL, &err);
	if (!tap)
		return -1;
	e->nic = ns_nic_add(e->stk, tap, TAP);
	struct ns_addr a, h;
	int plen;
	ns_addr_parse("198.18.0.2/24", &a, &plen);
	ns_addr_parse("198.18.0.1", &h, NULL);
	if (ns_nic_addr_add(e->stk, e->nic, &a, plen) < 0 || ns_hostcfg_link_up(TAP, 0) < 0 ||
	    ns_hostcfg_addr_add(TAP, &h, 24) < 0 || ns_stack_start(e->stk) < 0)
		return -1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	if (e) {
		ns_stack_destroy(e->stk);
		free(e);
	}
	return 0;
}

/* A kernel TCP echo server on 198.18.0.1:port for one connection. */
struct ksrv {
	int lfd;
	size_t echoed;
};

static int kernel_listen(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, "198.18.0.1", &sa.sin_addr);
	int r = -1;
	for (int i = 0; i < 100 && r < 0; i++) {   /* the address may need a moment */
		r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		if (r < 0)
			usleep(20000);
	}
	if (r < 0 || listen(fd, 4) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void *echo_thread(void *arg)
{
	struct ksrv *k = arg;
	int c = accept(k->lfd, NULL, NULL);
	if (c < 0)
		return NULL;
	struct timeval tv = { .tv_sec = 20 };
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	static char buf[65536];
	for (;;) {
		ssize_t n = read(c, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t o = 0; o < n;) {
			ssize_t w = write(c, buf + o, (size_t)(n - o));
			if (w <= 0)
				goto out;
			o += w;
		}
		k->echoed += (size_t)n;
	}
out:
	shutdown(c, SHUT_WR);
	close(c);
	return NULL;
}

static void *send_all(void *arg)
{
	void **a = arg;
	struct ns_stack *stk = a[0];
	int fd = *(int *)a[1];
	const uint8_t *data = a[2];
	size_t off = 0;
	while (off < BULK) {
		ssize_t n = ns_send(stk, fd, data + off, BULK - off, 0);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	ns_shutdown(stk, fd, NS_SHUT_WR);
	return NULL;
}

static void test_active_open_echo(void **state)
{
	struct env *e = *state;
	if (!e) {
		printf("skipped: needs root for a tap in a private namespace\n");
		assert_false(rooted);
		return;
	}
	struct ksrv k = { .lfd = kernel_listen(5001) };
	assert_true(k.lfd >= 0);
	pthread_t th;
	pthread_create(&th, NULL, echo_thread, &k);

	int fd = ns_socket(e->stk, NS_AF_INET, NS_SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct timeval tv = { .tv_sec = 20 };
	ns_setsockopt(e->stk, fd, NS_SOL_SOCKET, NS_SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(5001) };
	inet_pton(AF_INET, "198.18.0.1", &sa.sin_addr);
	assert_int_equal(ns_connect(e->stk, fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	assert_int_equal(ns_getsockname(e->stk, fd, (struct sockaddr *)&me, &ml), 0);
	assert_true(ntohs(me.sin_port) >= 32768 && ntohs(me.sin_port) <= 60999);

	uint8_t *data = malloc(BULK), *back = malloc(BULK);
	for (size_t i = 0; i < BULK; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	void *args[3] = { e->stk, &fd, data };
	pthread_t snd;
	pthread_create(&snd, NULL, send_all, args);
	size_t got = 0;
	while (got < BULK) {
		ssize_t n = ns_recv(e->stk, fd, back + got, BULK - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	pthread_join(snd, NULL);
	assert_int_equal(got, BULK);
	assert_memory_equal(back, data, BULK);
	char c;
	assert_int_equal(ns_recv(e->stk, fd, &c, 1, 0), 0);        /* the kernel's FIN */
	assert_int_equal(ns_close(e->stk, fd), 0);
	pthread_join(th, NULL);
	assert_int_equal(k.echoed, BULK);
	close(k.lfd);
	uint64_t v = 0;
	ns_stat_get(e->stk, "TcpActiveOpens", &v);
	assert_true(v >= 1);
	free(data);
	free(back);
}

static void test_kernel_refuses(void **state)
{
	struct env *e = *state;
	if (!e) {
		printf("skipped: needs root\n");
		assert_false(rooted);
		return;
	}
	int fd = ns_socket(e->stk, NS_AF_INET, NS_SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(5999) };
	inet_pton(AF_INET, "198.18.0.1", &sa.sin_addr);
	assert_int_equal(ns_connect(e->stk, fd, (struct sockaddr *)&sa, sizeof(sa)), -NS_ECONNREFUSED);
	uint64_t v = 0;
	ns_stat_get(e->stk, "TcpAttemptFails", &v);
	assert_true(v >= 1);
	ns_close(e->stk, fd);
}

static void test_passive_open_half_close(void **state)
{
	struct env *e = *state;
	if (!e) {
		printf("skipped: needs root\n");
		assert_false(rooted);
		return;
	}
	int lfd = ns_socket(e->stk, NS_AF_INET, NS_SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(8080) };
	assert_int_equal(ns_bind(e->stk, lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(ns_listen(e->stk, lfd, 4), 0);

	int kc = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "198.18.0.2", &sa.sin_addr);
	struct timeval tv = { .tv_sec = 10 };
	setsockopt(kc, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(kc, (struct sockaddr *)&sa, sizeof(sa)), 0);
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	int c = ns_accept(e->stk, lfd, (struct sockaddr *)&peer, &pl, 0);
	assert_true(c >= 0);
	char ip[32];
	inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
	assert_string_equal(ip, "198.18.0.1");
	assert_int_equal(write(kc, "ping", 4), 4);
	assert_int_equal(shutdown(kc, SHUT_WR), 0);          /* kernel half-closes */
	char buf[16];
	assert_int_equal(ns_recv(e->stk, c, buf, sizeof(buf), NS_MSG_WAITALL), 4);
	assert_memory_equal(buf, "ping", 4);
	/* still allowed to send after the peer's FIN (CLOSE_WAIT) */
	assert_int_equal(ns_send(e->stk, c, "pong", 4, 0), 4);
	assert_int_equal(ns_close(e->stk, c), 0);
	ssize_t n = read(kc, buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "pong", 4);
	assert_int_equal(read(kc, buf, sizeof(buf)), 0);      /* our FIN */
	close(kc);
	ns_close(e->stk, lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_active_open_echo),
		cmocka_unit_test(test_kernel_refuses),
		cmocka_unit_test(test_passive_open_half_close),
	};
	return cmocka_run_group_tests_name("tcp_kernel", tests, setup, teardown);
}
