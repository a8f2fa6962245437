/*
 * tests/replay/tool/main.c - the pcap-replay command line: run, check,
 * diff and script modes (the work is in run.c, check.c, diff.c, script_*.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "netstack/netstack.h"
#include "check.h"
#include "config.h"
#include "replay.h"
#include "script.h"

static void usage(void)
{
	fprintf(stderr,
		"usage:\n"
		"  pcap-replay run --config stack.conf --in peer.pcap --out got.pcap [--seed N] [--no-adapt]\n"
		"  pcap-replay check --expect expected.pcap --got got.pcap [--time-tolerance MS] [--src-mac MAC]\n"
		"  pcap-replay diff --config stack.conf --in linux.pcap [--host-mac MAC] [--out ours.pcap]\n"
		"                   [--seed N] [--time-tolerance MS] [--keep-checksums] [--compare-neigh] [-v]\n"
		"  pcap-replay script [--seed N] [-v] FILE.pkt...\n");
}

struct args {
	const char *config, *in, *out, *expect, *got;
	uint64_t seed;
	bool has_seed, verbose, keep_checksums, compare_neigh, no_adapt;
	double tol_ms;
	bool has_host_mac;
	uint8_t host_mac[6];
	int nfiles;
	const char **files;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	memset(a, 0, sizeof(*a));
	a->files = calloc((size_t)argc, sizeof(char *));
	if (!a->files)
		return -1;
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "-v") || !strcmp(o, "--verbose")) {
			a->verbose = true;
			continue;
		}
		if (!strcmp(o, "--no-adapt")) {
			a->no_adapt = true;
			continue;
		}
		if (!strcmp(o, "--compare-neigh")) {
			a->compare_neigh = true;
			continue;
		}
		if (!strcmp(o, "--keep-checksums")) {
			a->keep_checksums = true;
			continue;
		}
		if (o[0] != '-' || !strcmp(o, "-")) {
			a->files[a->nfiles++] = o;
			continue;
		}
		if (!val) {
			fprintf(stderr, "pcap-replay: %s needs a value\n", o);
			return -1;
		}
		i++;
		if (!strcmp(o, "--config")) a->config = val;
		else if (!strcmp(o, "--in")) a->in = val;
		else if (!strcmp(o, "--out")) a->out = val;
		else if (!strcmp(o, "--expect")) a->expect = val;
		else if (!strcmp(o, "--got")) a->got = val;
		else if (!strcmp(o, "--seed")) {
			char *end;
			a->seed = strtoull(val, &end, 0);
			if (*end) {
				fprintf(stderr, "pcap-replay: bad seed\n");
				return -1;
			}
			a->has_seed = true;
		} else if (!strcmp(o, "--time-tolerance")) {
			char *end;
			a->tol_ms = strtod(val, &end);
			if (*end || a->tol_ms < 0) {
				fprintf(stderr, "pcap-replay: bad tolerance\n");
				return -1;
			}
		} else if (!strcmp(o, "--host-mac") || !strcmp(o, "--src-mac")) {
			if (ns_mac_parse(val, a->host_mac) < 0) {
				fprintf(stderr, "pcap-replay: bad MAC\n");
				return -1;
			}
			a->has_host_mac = true;
		} else {
			fprintf(stderr, "pcap-replay: unknown option %s\n", o);
			return -1;
		}
	}
	return 0;
}

static int cmd_run(struct args *a)
{
	if (!a->config || !a->in || !a->out) {
		usage();
		return 2;
	}
	char err[512];
	struct nsr_config cfg;
	if (nsr_config_load(a->config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "pcap-replay: %s\n", err);
		return 2;
	}
	uint64_t seed = a->has_seed ? a->seed : cfg.has_seed ? cfg.seed : 1;
	struct nsr_frames in = { 0 }, got = { 0 };
	int rc = 2;
	if (nsr_pcap_read(a->in, &in, err, sizeof(err)) < 0 ||
	    nsr_replay_run_opts(&cfg, seed, &in, !a->no_adapt, &got, NULL, err, sizeof(err)) < 0 ||
	    nsr_pcap_write(a->out, &got, err, sizeof(err)) < 0)
		fprintf(stderr, "pcap-replay: %s\n", err);
	else {
		printf("replayed %zu frames, stack sent %zu frames -> %s (seed %llu)\n", in.n, got.n, a->out,
		       (unsigned long long)seed);
		rc = 0;
	}
	nsr_frames_free(&in);
	nsr_frames_free(&got);
	return rc;
}

static void filter_src(struct nsr_frames *f, const uint8_t mac[6])
{
	size_t k = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (f->v[i].len >= 12 && memcmp(f->v[i].data + 6, mac, 6) == 0)
			f->v[k++] = f->v[i];
		else
			free(f->v[i].data);
	}
	f->n = k;
}

static int cmd_check(struct args *a)
{
	if (!a->expect || !a->got) {
		usage();
		return 2;
	}
	char err[512];
	struct nsr_frames e = { 0 }, g = { 0 };
	int rc = 2;
	if (nsr_pcap_read(a->expect, &e, err, sizeof(err)) < 0 || nsr_pcap_read(a->got, &g, err, sizeof(err)) < 0)
		fprintf(stderr, "pcap-replay: %s\n", err);
	else {
		struct nsr_check_opts o = { .tol_ns = (uint64_t)(a->tol_ms * 1e6) };
		if (a->has_host_mac) {          /* --src-mac: compare only the frames that MAC sent */
			filter_src(&e, a->host_mac);
			filter_src(&g, a->host_mac);
		}
		rc = nsr_check(&e, &g, &o, stdout);
	}
	nsr_frames_free(&e);
	nsr_frames_free(&g);
	return rc;
}

static int cmd_diff(struct args *a)
{
	if (!a->config || !a->in) {
		usage();
		return 2;
	}
	char err[512];
	struct nsr_config cfg;
	if (nsr_config_load(a->config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "pcap-replay: %s\n", err);
		return 2;
	}
	uint64_t seed = a->has_seed ? a->seed : cfg.has_seed ? cfg.seed : 1;
	struct nsr_diff_opts o = { .tol_ns = (uint64_t)(a->tol_ms * 1e6), .verbose = a->verbose,
				   .keep_checksums = a->keep_checksums, .compare_neigh = a->compare_neigh };
	memcpy(o.host_mac, a->has_host_mac ? a->host_mac : cfg.mac, 6);
	struct nsr_frames in = { 0 }, ours = { 0 };
	int rc = 2;
	if (nsr_pcap_read(a->in, &in, err, sizeof(err)) < 0) {
		fprintf(stderr, "pcap-replay: %s\n", err);
	} else {
		int n = nsr_diff_run(&cfg, seed, &in, &o, &ours, stdout, err, sizeof(err));
		if (n < 0)
			fprintf(stderr, "pcap-replay: %s\n", err);
		else if (a->out && nsr_pcap_write(a->out, &ours, err, sizeof(err)) < 0)
			fprintf(stderr, "pcap-replay: %s\n", err);
		else
			rc = n ? 1 : 0;
	}
	nsr_frames_free(&in);
	nsr_frames_free(&ours);
	return rc;
}

static int cmd_script(struct args *a)
{
	if (!a->nfiles) {
		usage();
		return 2;
	}
	int worst = 0;
	for (int i = 0; i < a->nfiles; i++) {
		struct nsr_script_opts o = { .seed = a->has_seed ? a->seed : 1, .verbose = a->verbose };
		struct nsr_script_result r;
		nsr_script_run_file(a->files[i], &o, &r, stdout);
		int code = r.status == NSR_SCRIPT_PASS ? 0 : r.status == NSR_SCRIPT_SKIP ? 0 : 1;
		if (r.status == NSR_SCRIPT_ERROR)
			code = 2;
		worst = code > worst ? code : worst;
		nsr_script_result_free(&r);
	}
	return worst;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return 2;
	}
	struct args a;
	if (parse_args(argc, argv, &a) < 0) {
		free(a.files);
		usage();
		return 2;
	}
	int rc;
	if (!strcmp(argv[1], "run"))
		rc = cmd_run(&a);
	else if (!strcmp(argv[1], "check"))
		rc = cmd_check(&a);
	else if (!strcmp(argv[1], "diff"))
		rc = cmd_diff(&a);
	else if (!strcmp(argv[1], "script"))
		rc = cmd_script(&a);
	else {
		usage();
		rc = 2;
	}
	free(a.files);
	return rc;
}
