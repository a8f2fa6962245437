/*
 * tests/bench/tcp_scale_bench.c - TCP at scale: N connections (default
 * 100,000) between two stacks over paired channels on the virtual clock.
 *
 * Phases, each reported with wall time, CPU time (getrusage), user-space
 * instructions (perf_event_open when the machine allows it) and timer-heap
 * operations (inserts, moves, cancels, callbacks):
 *   setup     N connects with SO_KEEPALIVE (idle 20 s, interval 5 s) to 8
 *             listener ports of the other stack, accepted in batches ->
 *             connections per second, heap bytes (mallinfo2) and RSS per
 *             connection (both endpoints), packet-pool bytes;
 *   idle      60 virtual seconds with nothing but keepalives;
 *   busy      60 virtual seconds where every second the same 1% of the
 *             connections send 100 bytes (once past quick-ACK mode the
 *             receiver holds a delayed ACK, the sender an armed
 *             retransmission timer until that ACK comes);
 *   TIME_WAIT the client side closes first: heap bytes per TIME_WAIT, then
 *             61 s later everything is gone (checked: zero live packets).
 * A benchmark: it prints numbers and checks only that the scenario ran
 * (all established, all freed); it asserts nothing about speed.
 *
 * Build and run (tests/bench/run.sh does this for `make bench`):
 *   cc -O2 -std=gnu11 -I. -Inetstack -Itests/unit tests/bench/tcp_scale_bench.c \
 *      tests/unit/helpers/ns_test.c build/normal/libnetstack.a -lurcu-bp -lurcu-cds -lpthread ...
 *   tcp_scale_bench [N]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <malloc.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include "netstack/core.h"
#include "helpers/ns_test.h"

#define NPORTS 8   /* 12,500 connections per destination: less than the even half of the ephemeral range */
#define BATCH 2000
#define BASE_PORT 7000

static struct ns_test_pair P;
static int *cfd, *sfd;
static int n_conn, n_acc;
static int lfd[NPORTS];

/* ---- measurement ------------------------------------------------------------------ */

static int perf_fd = -1;

static void perf_open(void)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = PERF_COUNT_HW_INSTRUCTIONS;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	perf_fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static uint64_t instructions(void)
{
	uint64_t v = 0;
	if (perf_fd < 0 || read(perf_fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec * 1e-6;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

static uint64_t heap_bytes(void) { return mallinfo2().uordblks; }

struct snap {
	double wall, cpu;
	uint64_t ins;
	struct ns_timer_stats ta, tb;
};

static void snap(struct snap *s)
{
	s->wall = wall();
	s->cpu = cpu();
	s->ins = instructions();
	ns__timers_stats(P.a.stk, &s->ta);
	ns__timers_stats(P.b.stk, &s->tb);
}

static uint64_t heap_ops(const struct ns_timer_stats *x)
{
	return x->insert + x->move + x->cancel;
}

/* Prints one phase: per unit (virtual second or connection). */
static void report(const char *name, const struct snap *s0, const struct snap *s1, double units,
		   const char *unit)
{
	uint64_t ops = heap_ops(&s1->ta) + heap_ops(&s1->tb) - heap_ops(&s0->ta) - heap_ops(&s0->tb);
	uint64_t fires = s1->ta.fire + s1->tb.fire - s0->ta.fire - s0->tb.fire;
	uint64_t ins = s1->ins - s0->ins;
	printf("%-9s wall %7.3f s  cpu %7.3f s  per %s: cpu %9.1f us  instr %12.0f  timer-heap ops %9.1f"
	       "  callbacks %9.1f\n", name, s1->wall - s0->wall, s1->cpu - s0->cpu, unit,
	       (s1->cpu - s0->cpu) * 1e6 / units, perf_fd >= 0 ? (double)ins / units : -1.0,
	       (double)ops / units, (double)fires / units);
	printf("          heap detail (a+b): insert %llu move %llu cancel %llu fire %llu; pending now %llu\n",
	       (unsigned long long)(s1->ta.insert + s1->tb.insert - s0->ta.insert - s0->tb.insert),
	       (unsigned long long)(s1->ta.move + s1->tb.move - s0->ta.move - s0->tb.move),
	       (unsigned long long)(s1->ta.cancel + s1->tb.cancel - s0->ta.cancel - s0->tb.cancel),
	       (unsigned long long)fires, (unsigned long long)(s1->ta.pending + s1->tb.pending));
}

static uint64_t stat_of(struct ns_stack *stk, const char *name)
{
	uint64_t v = 0;
	ns_stat_get(stk, name, &v);
	return v;
}

/* ---- scenario ---------------------------------------------------------------------- */

static int set_int(struct ns_stack *stk, int fd, int level, int name, int v)
{
	return ns_setsockopt(stk, fd, level, name, &v, sizeof(v));
}

static int connect_one(int i)
{
	struct ns_stack *a = P.a.stk;
	int fd = ns_socket(a, NS_AF_INET, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	set_int(a, fd, NS_SOL_SOCKET, NS_SO_KEEPALIVE, 1);
	set_int(a, fd, NS_IPPROTO_TCP, NS_TCP_KEEPIDLE, 20);
	set_int(a, fd, NS_IPPROTO_TCP, NS_TCP_KEEPINTVL, 5);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = NS_AF_INET;
	sin.sin_port = htons((uint16_t)(BASE_PORT + i % NPORTS));
	memcpy(&sin.sin_addr, P.b.ip4.b, 4);
	int r = ns_connect(a, fd, (struct sockaddr *)&sin, sizeof(sin));
	if (r != -NS_EINPROGRESS && r != 0) {
		fprintf(stderr, "connect %d: %d\n", i, r);
		exit(1);
	}
	return fd;
}

static bool accept_upto(void *ctx)
{
	int want = *(int *)ctx;
	struct ns_stack *b = P.b.stk;
	for (int l = 0; l < NPORTS && n_acc < want; l++) {
		for (;;) {
			int fd = ns_accept(b, lfd[l], NULL, NULL, NS_SOCK_NONBLOCK);
			if (fd < 0)
				break;
			set_int(b, fd, NS_SOL_SOCKET, NS_SO_KEEPALIVE, 1);
			set_int(b, fd, NS_IPPROTO_TCP, NS_TCP_KEEPIDLE, 20);
			set_int(b, fd, NS_IPPROTO_TCP, NS_TCP_KEEPINTVL, 5);
			sfd[n_acc++] = fd;
		}
	}
	return n_acc >= want;
}

static void drain_all(void)
{
	char buf[256];
	for (int i = 0; i < n_acc; i++)
		while (ns_recv(P.b.stk, sfd[i], buf, sizeof(buf), NS_MSG_DONTWAIT) > 0)
			;
}

int main(int argc, char **argv)
{
	int N = argc > 1 ? atoi(argv[1]) : 100000;
	if (N < NPORTS)
		N = NPORTS;
	cfd = calloc((size_t)N, sizeof(int));
	sfd = calloc((size_t)N, sizeof(int));
	perf_open();
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct ns_test_pair_opts po = { .seed = 1, .qlen = 65536, .mem_limit = 4ull << 30 };
	if (ns_test_pair_init(&P, &po) < 0)
		return 1;
	struct ns_stack *a = P.a.stk, *b = P.b.stk;
	for (int l = 0; l < NPORTS; l++) {
		lfd[l] = ns_socket(b, NS_AF_INET, NS_SOCK_STREAM | NS_SOCK_NONBLOCK, 0);
		struct sockaddr_in sin;
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = NS_AF_INET;
		sin.sin_port = htons((uint16_t)(BASE_PORT + l));
		if (ns_bind(b, lfd[l], (struct sockaddr *)&sin, sizeof(sin)) < 0 || ns_listen(b, lfd[l], 4096) < 0)
			return 1;
	}
	printf("tcp_scale_bench: %d connections, 2 stacks over channels, virtual clock; %s\n", N,
	       perf_fd >= 0 ? "instructions from perf_event_open (user space)" : "no perf counters (instr -1)");
	double load[3] = { 0, 0, 0 };
	if (getloadavg(load, 3) > 0)
		printf("machine load average %.2f (timings are noisy under load; instruction counts are not)\n",
		       load[0]);

	/* ---- setup ---- */
	uint64_t h0 = heap_bytes();
	long r0 = rss_kib();
	struct snap s0, s1;
	snap(&s0);
	while (n_conn < N) {
		int end = n_conn + BATCH < N ? n_conn + BATCH : N;
		for (; n_conn < end; n_conn++)
			cfd[n_conn] = connect_one(n_conn);
		if (!ns_test_pump(&P, accept_upto, &end, 10 * NS_NSEC_PER_SEC)) {
			fprintf(stderr, "setup stalled at %d accepted of %d\n", n_acc, end);
			return 1;
		}
	}
	snap(&s1);
	ns_test_settle(&P);
	uint64_t h1 = heap_bytes();
	long r1 = rss_kib();
	report("setup", &s0, &s1, N, "conn");
	printf("          setup rate %.0f connections/s (wall), %.0f per cpu-second\n", N / (s1.wall - s0.wall),
	       N / (s1.cpu - s0.cpu));
	printf("          memory per connection (client + server endpoint): heap %.0f bytes, RSS %.0f bytes;"
	       " packet pool in use a %llu b %llu bytes\n", (double)(h1 - h0) / N, (double)(r1 - r0) * 1024.0 / N,
	       (unsigned long long)atomic_load(&a->pool.used), (unsigned long long)atomic_load(&b->pool.used));
	uint64_t est_a = stat_of(a, "TcpCurrEstab"), est_b = stat_of(b, "TcpCurrEstab");
	printf("          TcpCurrEstab a %llu b %llu\n", (unsigned long long)est_a, (unsigned long long)est_b);
	if (est_a != (uint64_t)N || est_b != (uint64_t)N)
		return 1;

	/* ---- idle with keepalives ---- */
	uint64_t ka0 = stat_of(a, "TcpExtTCPKeepAlive") + stat_of(b, "TcpExtTCPKeepAlive");
	snap(&s0);
	for (int t = 0; t < 60; t++)
		ns_test_advance(&P, NS_NSEC_PER_SEC);
	snap(&s1);
	uint64_t ka1 = stat_of(a, "TcpExtTCPKeepAlive") + stat_of(b, "TcpExtTCPKeepAlive");
	report("idle", &s0, &s1, 60, "vsec");
	printf("          keepalive probes sent %llu in 60 s\n", (unsigned long long)(ka1 - ka0));

	/* ---- busy: 1% send every second ---- */
	char msg[100];
	memset(msg, 'x', sizeof(msg));
	int step = N / 100 ? N / 100 : 1;
	uint64_t da0 = stat_of(b, "TcpExtDelayedACKs");
	snap(&s0);
	for (int t = 0; t < 60; t++) {
		for (int k = 0; k < step; k++) {
			int i = k * 100;   /* the same 1% every second: past quick-ACK mode, ACKs are delayed */
			ns_send(a, cfd[i], msg, sizeof(msg), NS_MSG_DONTWAIT);
		}
		ns_test_advance(&P, NS_NSEC_PER_SEC);
		drain_all();
	}
	snap(&s1);
	report("busy", &s0, &s1, 60, "vsec");
	printf("          delayed ACKs sent %llu\n", (unsigned long long)(stat_of(b, "TcpExtDelayedACKs") - da0));

	/* ---- TIME_WAIT ---- */
	ns_test_settle(&P);
	uint64_t hb = heap_bytes();
	snap(&s0);
	for (int i = 0; i < N; i++)
		ns_close(a, cfd[i]);
	ns_test_advance(&P, 100 * NS_NSEC_PER_MSEC);
	for (int i = 0; i < N; i++)
		ns_close(b, sfd[i]);
	ns_test_advance(&P, NS_NSEC_PER_SEC);
	snap(&s1);
	report("close", &s0, &s1, N, "conn");
	uint64_t tw = stat_of(a, "TcpExtTW");
	uint64_t htw = heap_bytes();
	printf("          TIME_WAIT on a: %llu; heap now %.0f bytes per TIME_WAIT (was %.0f per established pair)\n",
	       (unsigned long long)tw, (double)(htw - h0) / (double)(tw ? tw : 1), (double)(hb - h0) / N);
	ns_test_advance(&P, 61 * NS_NSEC_PER_SEC);
	for (int l = 0; l < NPORTS; l++)
		ns_close(b, lfd[l]);
	ns_test_settle(&P);
	uint64_t live = ns_test_pair_live(&P);
	printf("          after 61 s: TcpCurrEstab a %llu b %llu, live packets %llu, heap %+.0f bytes vs start\n",
	       (unsigned long long)stat_of(a, "TcpCurrEstab"), (unsigned long long)stat_of(b, "TcpCurrEstab"),
	       (unsigned long long)live, (double)heap_bytes() - (double)h0);
	ns_test_pair_fini(&P);
	free(cfd);
	free(sfd);
	return live == 0 ? 0 : 1;
}
