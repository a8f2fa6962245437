/*
 * tests/unit/test_replay.c - pcap-replay: the config and script parsers
 * (valid input, errors, random and truncated input), the regression corpus
 * in tests/replay/corpus (every case replayed and checked against its
 * expected output, twice with the same seed: byte-identical), `check`
 * noticing a changed field, and the packet scripts in tests/replay/scripts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>
#include "check.h"
#include "config.h"
#include "replay.h"
#include "script.h"
#include "vstack.h"

static const char *corpus_dir(void)
{
	const char *d = getenv("NSR_CORPUS");
	return d ? d : "tests/replay/corpus";
}

static const char *scripts_dir(void)
{
	const char *d = getenv("NSR_SCRIPTS");
	return d ? d : "tests/replay/scripts";
}

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

static void test_config_parse(void **state)
{
	(void)state;
	const char *ok = "# comment\nmac 02:00:00:00:00:09\nmtu 9000\naddr 198.18.0.1/24\n"
			 "addr fd00:5eed::1/64  # trailing\nroute default via 198.18.0.254\n"
			 "route 198.19.0.0/16 via 198.18.0.253\nroute fd00:5eed:1::/48\n"
			 "udp-echo 7\nlisten tcp 8080\nconnect tcp 198.18.0.2 80 at 0.5 send 1000\nseed 9\nsettle 0.5\n";
	struct nsr_config c;
	char err[200];
	assert_int_equal(nsr_config_parse(ok, strlen(ok), &c, err, sizeof(err)), 0);
	assert_int_equal(c.mtu, 9000);
	assert_int_equal(c.naddr, 2);
	assert_int_equal(c.nroute, 3);
	assert_int_equal(c.route[0].plen, 0);
	assert_true(c.route[0].has_gw);
	assert_false(c.route[2].has_gw);
	assert_int_equal(c.nsvc, 3);
	assert_int_equal(c.svc[2].kind, NSR_SVC_TCP_CONNECT);
	assert_int_equal(c.svc[2].at_ns, 500000000ull);
	assert_int_equal(c.svc[2].send_bytes, 1000);
	assert_true(c.has_seed && c.seed == 9);
	assert_int_equal(c.settle_ns, 500000000ull);

	static const char *bad[] = {
		"mac 01:00:00:00:00:01\n", "mtu 12\n", "addr 198.18.0.1\n", "addr 300.1.1.1/24\n",
		"route default\n", "route 198.18.0.0/16 via fd00::1\n", "udp-echo 0\n", "udp-echo 70000\n",
		"listen sctp 1\n", "frobnicate\n", "connect tcp 198.18.0.2 80 at\n", "settle -1\n",
		"seed 99999999999999999999999\n", "addr 198.18.0.1/24 extra\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(nsr_config_parse(bad[i], strlen(bad[i]), &c, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "line 1"));
	}
	/* random bytes and random words never crash, read out of bounds or leak */
	uint64_t s = 42;
	static const char *words[] = { "mac", "addr", "route", "via", "default", "198.18.0.1/24", "::/0",
				       "listen", "tcp", "udp", "7", "#", "\n", " ", "connect", "at", "send", "1e9" };
	for (int it = 0; it < 3000; it++) {
		char buf[256];
		size_t n = lcg(&s) % sizeof(buf);
		if (it & 1)
			for (size_t i = 0; i < n; i++)
				buf[i] = (char)lcg(&s);
		else {
			size_t p = 0;
			while (p + 20 < sizeof(buf) && p < n) {
				const char *w = words[lcg(&s) % (sizeof(words) / sizeof(words[0]))];
				memcpy(buf + p, w, strlen(w));
				p += strlen(w);
				buf[p++] = ' ';
			}
			n = p;
		}
		nsr_config_parse(buf, n, &c, err, sizeof(err));
	}
}

static const char sample[] =
	"// sample\n--tolerance_usecs=10000\n`../common/defaults.sh`\n"
	"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
	"+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n"
	"+.1...0.200 connect(3, ..., ...) = 0\n"
	"+0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>\n"
	"+.1 < S. 0:0(0) ack 1 win 5792 <mss 1460,nop,wscale 2,nop,nop,sackOK>\n"
	"0.300~0.400 < . 1:1(0) ack 1 win 257 <sack 2001:3001 6001:7001,nop,nop>\n"
	"* > P. 1:1001(1000) ack 1\n"
	"+0 %{ assert tcpi_lost == 0, tcpi_lost\n}%\n"
	"+0 epoll_ctl(5, EPOLL_CTL_ADD, 4, {events=EPOLLOUT|EPOLLIN|EPOLLET, fd=4}) = 0\n"
	"+0 sendmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 1000}], msg_flags=0}, 0) = 1000\n"
	"+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
	"+0 < udp (100)\n+0 > icmp unreachable frag_needed mtu 1200 [1:1461(1460)]\n"
	"/* block\ncomment */ +0 close(3) = 0\n";

static void test_script_parse(void **state)
{
	(void)state;
	struct nsr_script *s;
	char err[300];
	assert_int_equal(nsr_script_parse(sample, strlen(sample), &s, err, sizeof(err)), 0);
	assert_int_equal(s->n, 16);
	assert_int_equal(s->v[0].kind, NSR_S_OPTION);
	assert_string_equal(s->v[0].opt_name, "tolerance_usecs");
	assert_int_equal(s->v[1].kind, NSR_S_SHELL);
	assert_int_equal(s->v[4].kind, NSR_S_SYSCALL);
	assert_true(s->v[4].time.blocking);
	assert_int_equal(s->v[4].time.us, 100000);
	assert_int_equal(s->v[4].time.block_end_us, 200000);
	const struct nsr_pkt_spec *k = &s->v[5].pkt;
	assert_true(k->outbound);
	assert_int_equal(k->flags, 0x02);
	assert_int_equal(k->optlen, 20);
	assert_int_equal(k->ts_off, 8);
	k = &s->v[7].pkt;
	assert_int_equal(s->v[7].time.kind, NSR_T_ABS_RANGE);
	assert_int_equal(k->nsack, 2);
	assert_int_equal(s->v[8].time.kind, NSR_T_ANY);
	assert_int_equal(s->v[8].pkt.len, 1000);
	assert_int_equal(s->v[9].kind, NSR_S_PYTHON);
	assert_int_equal(s->v[10].args->nkids, 4);
	assert_string_equal(s->v[12].err_name, "EINPROGRESS");
	assert_int_equal(s->v[13].pkt.proto, NSR_P_UDP);
	assert_int_equal(s->v[14].pkt.icmp_mtu, 1200);
	assert_int_equal(s->v[15].line, 19);
	nsr_script_free(s);

	static const char *bad[] = { "0 socket(", "+0 > S 0:1(0)\n", "`never closed", "%{ x", "hello\n",
				     "+0 < S 0:0(0) <mss>\n", "+0 f((((((((((((((((((((((((((((((((((1)))\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(nsr_script_parse(bad[i], strlen(bad[i]), &s, err, sizeof(err)), -1);
	/* every prefix and random mutations of the sample: no crash, no leak */
	uint64_t seed = 7;
	char buf[sizeof(sample)];
	for (size_t n = 0; n < sizeof(sample); n++)
		if (nsr_script_parse(sample, n, &s, err, sizeof(err)) == 0)
			nsr_script_free(s);
	for (int it = 0; it < 3000; it++) {
		memcpy(buf, sample, sizeof(sample));
		for (int m = 0; m < 4; m++)
			buf[lcg(&seed) % (sizeof(sample) - 1)] = (char)lcg(&seed);
		if (nsr_script_parse(buf, sizeof(sample) - 1, &s, err, sizeof(err)) == 0)
			nsr_script_free(s);
	}
}

static void read_or_fail(const char *path, struct nsr_frames *f)
{
	char err[300];
	if (nsr_pcap_read(path, f, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

/* The reason name is listed in DIR's known_failures.txt, or NULL. */
static char *known_failure_in(const char *dir, const char *name)
{
	char path[512], line[512];
	snprintf(path, sizeof(path), "%s/known_failures.txt", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *why = NULL;
	size_t n = strlen(name);
	while (!why && fgets(line, sizeof(line), f))
		if (line[0] != '#' && !strncmp(line, name, n) && (line[n] == ' ' || line[n] == '\t'))
			why = strdup(line + n + strspn(line + n, " \t"));
	fclose(f);
	return why;
}

/* Whether the stack under test has TCP (the corpus's TCP cases need it). */
static bool stack_has_tcp(void)
{
	struct ns_stack *stk;
	if (ns_stack_create(NULL, &stk) < 0)
		return false;
	int fd = ns_socket(stk, NS_AF_INET, NS_SOCK_STREAM, 0);
	if (fd >= 0)
		ns_close(stk, fd);
	ns_stack_destroy(stk);
	return fd >= 0;
}

static void test_corpus(void **state)
{
	(void)state;
	char path[512], err[300];
	bool tcp = stack_has_tcp();
	DIR *d = opendir(corpus_dir());
	assert_non_null(d);
	int cases = 0, failed = 0, skipped = 0, xfails = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 8 || strcmp(e->d_name + n - 8, ".in.pcap"))
			continue;
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(n - 8), e->d_name);
		if (!tcp && !strncmp(name, "tcp_", 4)) {
			printf("corpus case %s: skipped (this stack has no TCP yet)\n", name);
			skipped++;
			continue;
		}
		struct nsr_config cfg;
		snprintf(path, sizeof(path), "%s/%s.conf", corpus_dir(), name);
		if (nsr_config_load(path, &cfg, err, sizeof(err)) < 0) {
			snprintf(path, sizeof(path), "%s/stack.conf", corpus_dir());
			if (nsr_config_load(path, &cfg, err, sizeof(err)) < 0)
				fail_msg("%s", err);
		}
		struct nsr_frames in = { 0 }, exp = { 0 }, got = { 0 }, again = { 0 };
		snprintf(path, sizeof(path), "%s/%s", corpus_dir(), e->d_name);
		read_or_fail(path, &in);
		snprintf(path, sizeof(path), "%s/%s.expected.pcap", corpus_dir(), name);
		read_or_fail(path, &exp);
		assert_int_equal(nsr_replay_run(&cfg, cfg.seed, &in, &got, err, sizeof(err)), 0);
		assert_int_equal(nsr_replay_run(&cfg, cfg.seed, &in, &again, err, sizeof(err)), 0);
		/* same inputs, same seed: the same bytes at the same virtual times */
		assert_int_equal(got.n, again.n);
		for (size_t i = 0; i < got.n; i++) {
			assert_int_equal(got.v[i].t_ns, again.v[i].t_ns);
			assert_int_equal(got.v[i].len, again.v[i].len);
			assert_memory_equal(got.v[i].data, again.v[i].data, got.v[i].len);
		}
		struct nsr_check_opts o = { .tol_ns = 0 };
		char *xfail = known_failure_in(corpus_dir(), name);
		printf("corpus case %s: %s", name, xfail ? "(known failure) " : "");
		fflush(stdout);
		int diverged = nsr_check(&exp, &got, &o, stdout);
		if (xfail && diverged) {
			printf("  XFAIL %s: %s", name, xfail);
			xfails++;
		} else if (xfail) {
			printf("  XPASS %s: it matches now - delete its line from known_failures.txt\n", name);
			failed++;
		} else if (diverged) {
			failed++;
		}
		free(xfail);
		cases++;
		nsr_frames_free(&in);
		nsr_frames_free(&exp);
		nsr_frames_free(&got);
		nsr_frames_free(&again);
	}
	closedir(d);
	printf("corpus: %d cases, %d failed, %d known failures, %d skipped\n", cases, failed, xfails, skipped);
	assert_true(cases >= 5);
	assert_int_equal(failed, 0);
}

static void test_check_detects_changes(void **state)
{
	(void)state;
	/* a TCP SYN-ACK and its copy with another window and another ISN */
	uint8_t f[14 + 20 + 24];
	memset(f, 0, sizeof(f));
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = 0;
	f[17] = 44;
	f[22] = 64;
	f[23] = 6;
	f[26] = 198; f[27] = 18; f[28] = 0; f[29] = 1;
	f[30] = 198; f[31] = 18; f[32] = 0; f[33] = 2;
	uint8_t *t = f + 34;
	t[1] = 80; t[3] = 99;
	t[4] = 0x11; t[5] = 0x22;
	t[12] = 6 << 4;
	t[13] = 0x12;
	t[14] = 0xff; t[15] = 0xff;
	t[20] = 2; t[21] = 4; t[22] = 0x05; t[23] = 0xb4;
	nsr_fix_checksums(f, sizeof(f));
	struct nsr_frames a = { 0 }, b = { 0 };
	nsr_frames_push(&a, 1000, f, sizeof(f));
	t[4] = 0x77;                    /* another ISN: relative numbers still match */
	nsr_frames_push(&b, 5000, f, sizeof(f));
	struct nsr_check_opts o = { 0 };
	FILE *devnull = fopen("/dev/null", "w");
	assert_int_equal(nsr_check(&a, &b, &o, devnull), 0);
	nsr_frames_push(&a, 2000, f, sizeof(f));
	t[15] = 0xfe;                   /* another window: a divergence */
	nsr_frames_push(&b, 6000, f, sizeof(f));
	assert_int_equal(nsr_check(&a, &b, &o, devnull), 1);
	fclose(devnull);
	nsr_frames_free(&a);
	nsr_frames_free(&b);
}

static void test_own_scripts(void **state)
{
	(void)state;
	DIR *d = opendir(scripts_dir());
	assert_non_null(d);
	int n = 0, bad = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".pkt"))
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", scripts_dir(), e->d_name);
		struct nsr_script_opts o = { .seed = 1 };
		struct nsr_script_result r;
		nsr_script_run_file(path, &o, &r, stdout);
		char *xfail = known_failure_in(scripts_dir(), e->d_name);
		if (xfail && r.status == NSR_SCRIPT_FAIL)
			printf("  XFAIL %s: %s", e->d_name, xfail);
		else if (xfail)
			printf("  XPASS %s: delete its line from known_failures.txt\n", e->d_name);
		if ((r.status != NSR_SCRIPT_PASS) != (xfail != NULL))
			bad++;
		free(xfail);
		n++;
		nsr_script_result_free(&r);
	}
	closedir(d);
	printf("own scripts: %d run, %d not passing\n", n, bad);
	assert_true(n >= 5);
	assert_int_equal(bad, 0);
}

/* Differential replay of a capture against itself: a "Linux" capture made of a
 * corpus case's input and our own expected output must come out the same, TCP
 * included (the ISN and TSval rewriting has to line the segments up). */
static void test_diff_self(void **state)
{
	(void)state;
	static const char *cases[] = { "udp_echo", "icmp_echo", "tcp_closed_port_rst", "tcp_stray_ack_rst",
				       "tcp_echo_handshake_close", "tcp_bulk_discard" };
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char path[512], err[300];
		struct nsr_config cfg;
		snprintf(path, sizeof(path), "%s/stack.conf", corpus_dir());
		if (nsr_config_load(path, &cfg, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		struct nsr_frames raw = { 0 }, in = { 0 }, out = { 0 }, cap = { 0 }, ours = { 0 };
		snprintf(path, sizeof(path), "%s/%s.in.pcap", corpus_dir(), cases[c]);
		read_or_fail(path, &raw);
		/* the peer frames as injected (acknowledging this run's ISN): a consistent capture */
		assert_int_equal(nsr_replay_run_opts(&cfg, 99, &raw, true, &out, &in, err, sizeof(err)), 0);
		/* merge by time into one capture, as tcpdump on the host would see it */
		size_t i = 0, j = 0;
		while (i < in.n || j < out.n) {
			bool take_in = j >= out.n || (i < in.n && in.v[i].t_ns <= out.v[j].t_ns);
			struct nsr_frame *f = take_in ? &in.v[i++] : &out.v[j++];
			nsr_frames_push(&cap, f->t_ns, f->data, f->len);
		}
		struct nsr_diff_opts o = { .tol_ns = 0 };
		memcpy(o.host_mac, cfg.mac, 6);
		FILE *devnull = fopen("/dev/null", "w");
		/* another seed: other ISNs and ports, the same behaviour */
		int nd = nsr_diff_run(&cfg, 12345, &cap, &o, &ours, devnull, err, sizeof(err));
		fclose(devnull);
		if (nd != 0) {
			nsr_diff_run(&cfg, 12345, &cap, &o, &ours, stdout, err, sizeof(err));
			fail_msg("diff of %s against itself: %d differences", cases[c], nd);
		}
		nsr_frames_free(&raw);
		nsr_frames_free(&in);
		nsr_frames_free(&out);
		nsr_frames_free(&cap);
		nsr_frames_free(&ours);
	}
}

int main(void)
{
	nsr_warnings = 0;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_parse),
		cmocka_unit_test(test_script_parse),
		cmocka_unit_test(test_check_detects_changes),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_own_scripts),
		cmocka_unit_test(test_diff_self),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
