/*
 * tests/replay/tool/script.h - packet scripts in packetdrill's syntax,
 * parsed from a buffer (fuzzable) and run in-process against a
 * virtual-time stack (script_parse.c, script_run.c, script_sys.c).
 *
 * Supported: options (--tolerance_usecs, --ip_version, --local_ip,
 * --remote_ip, --tcp_ts_tick_usecs, --strict_segments, ...), absolute,
 * relative, any (*) and range (~) times, blocking calls (start...end),
 * syscalls (socket setsockopt getsockopt bind listen accept connect read
 * write send recv sendto recvfrom sendmsg recvmsg shutdown close fcntl
 * ioctl poll epoll_create epoll_ctl epoll_wait getsockname getpeername),
 * expected return values and errno, injected (<) and expected (>) TCP, UDP
 * and ICMP packets with flags, relative sequence ranges, ack, win and TCP
 * options (mss, sackOK, sack blocks, TS val/ecr, wscale, nop, eol).
 * Shell lines (`...`), python blocks (%{ }%) and anything else it cannot
 * run are reported as skipped with the reason, never passed silently.
 */
#ifndef NSR_SCRIPT_H
#define NSR_SCRIPT_H

#include <stdio.h>
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- expressions (syscall arguments and results) ---------------------------- */

enum nsr_expr_kind {
	NSR_E_INT = 1,
	NSR_E_SYM,                      /* SOCK_STREAM, EPOLLIN, ... */
	NSR_E_STR,                      /* "cubic" */
	NSR_E_ELLIPSIS,                 /* ... */
	NSR_E_LIST,                     /* [a, b] */
	NSR_E_STRUCT,                   /* {name=value, ...} (names in kids' name) */
	NSR_E_OR,                       /* a|b */
};

struct nsr_expr {
	enum nsr_expr_kind kind;
	int64_t ival;
	char *s;                        /* SYM / STR text */
	char *name;                     /* field name when inside a struct */
	struct nsr_expr **kids;
	int nkids;
};

void nsr_expr_free(struct nsr_expr *e);

/* ---- times ------------------------------------------------------------------- */

enum nsr_time_kind { NSR_T_ABS = 1, NSR_T_REL, NSR_T_ANY, NSR_T_ABS_RANGE, NSR_T_REL_RANGE };

struct nsr_time {
	enum nsr_time_kind kind;
	int64_t us, us_end;             /* range end (ABS_RANGE / REL_RANGE) */
	bool blocking;                  /* start...end */
	int64_t block_end_us;           /* relative to the same base as us */
};

/* ---- packets ----------------------------------------------------------------- */

enum nsr_pkt_proto { NSR_P_TCP = 1, NSR_P_UDP, NSR_P_ICMP };

struct nsr_pkt_spec {
	bool outbound;                  /* '>' */
	enum nsr_pkt_proto proto;
	/* TCP */
	uint8_t flags;                  /* NSR_TH_* */
	uint32_t seq, len;
	bool has_ack, has_win, opts_nocheck, has_opts;
	uint32_t ack, win;
	uint8_t opts[40];
	uint8_t optlen;
	int ts_off;                     /* offset of TS val in opts, -1 if none */
	int sack_off;                   /* offset of first SACK block, -1 if none */
	uint8_t nsack;
	int fo_sym_off;                 /* FOEXP/FO TFO_COOKIE: offset of the 8 cookie bytes the runner fills, -1 none */
	/* UDP */
	uint32_t udp_len;
	/* ICMP */
	uint8_t icmp_type, icmp_code;
	uint32_t icmp_mtu;
	bool icmp_has_inner;            /* [seq:end(len)] of the quoted TCP segment */
	uint32_t icmp_inner_seq, icmp_inner_len;
	/* IP */
	bool has_tos, has_ttl;
	uint8_t tos, ttl;
};

/* ---- statements -------------------------------------------------------------- */

enum nsr_stmt_kind {
	NSR_S_OPTION = 1,               /* --name=value */
	NSR_S_SHELL,                    /* `command` */
	NSR_S_PYTHON,                   /* %{ ... }% */
	NSR_S_SYSCALL,
	NSR_S_PACKET,
	NSR_S_UNSUPPORTED,              /* parsed far enough to know we cannot run it */
};

struct nsr_stmt {
	enum nsr_stmt_kind kind;
	int line;
	struct nsr_time time;
	char *text;                     /* source text (trimmed, for messages) */
	/* OPTION */
	char *opt_name, *opt_value;
	/* SYSCALL */
	char *call;
	struct nsr_expr *args;          /* NSR_E_LIST */
	struct nsr_expr *ret;           /* expected result (INT or ELLIPSIS) */
	char *err_name;                 /* "EINPROGRESS" or NULL */
	/* PACKET */
	struct nsr_pkt_spec pkt;
	/* UNSUPPORTED */
	char *why;
};

struct nsr_script {
	int n, cap;
	struct nsr_stmt *v;
};

/* Parses a script from buf[0, len).  Returns 0, or -1 with "line N: why" in
 * err (and *out NULL).  Never reads beyond len; bounded recursion. */
int nsr_script_parse(const char *buf, size_t len, struct nsr_script **out, char *err, size_t errlen);
void nsr_script_free(struct nsr_script *s);

/* ---- running ------------------------------------------------------------------- */

enum nsr_script_status { NSR_SCRIPT_PASS = 0, NSR_SCRIPT_FAIL, NSR_SCRIPT_SKIP, NSR_SCRIPT_ERROR };

struct nsr_script_opts {
	uint64_t seed;
	bool verbose;
	const char *name;               /* for messages */
};

struct nsr_script_result {
	enum nsr_script_status status;
	char *reason;                   /* first divergence / why skipped / parse error */
	int skipped;                    /* statements skipped (shell, python, ...) */
	char *skipped_list;             /* "line 3: shell command; line 9: python" */
	int executed;
};

/* Runs a parsed script; out (if not NULL) gets a per-script report line. */
void nsr_script_run(const struct nsr_script *s, const struct nsr_script_opts *o,
		    struct nsr_script_result *r, FILE *out);
/* Reads, parses and runs a file; parse errors give NSR_SCRIPT_ERROR. */
void nsr_script_run_file(const char *path, const struct nsr_script_opts *o,
			 struct nsr_script_result *r, FILE *out);
/* Same from a buffer (the library entry point tests use). */
void nsr_script_run_buf(const char *buf, size_t len, const struct nsr_script_opts *o,
			struct nsr_script_result *r, FILE *out);
void nsr_script_result_free(struct nsr_script_result *r);

#endif
