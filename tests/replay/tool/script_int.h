/*
 * tests/replay/tool/script_int.h - state shared by the script runner's
 * files: script_run.c (event loop, timing, packets) and script_sys.c
 * (system calls on the public ns_* socket API).  Internal to pcap-replay.
 */
#ifndef NSR_SCRIPT_INT_H
#define NSR_SCRIPT_INT_H

#include "netstack/core.h"
#include "decode.h"
#include "script.h"
#include "vstack.h"

#define NSR_MAX_FDS 64
#define NSR_MAX_EPOLL 8
#define NSR_TSMAP 64

struct nsr_fd {
	bool used;
	int script_fd;
	int ns_fd;                      /* -1 for epoll descriptors */
	bool nonblock;                  /* as the script sees it */
	bool is_epoll;
	int epoll;                      /* index into r->ep */
	int type;
	uint64_t rcvtimeo_us, sndtimeo_us;
	/* open(): a file for sendfile() (script_sys.c) */
	bool is_file;
	int os_fd;                      /* read-only host file, or -1 */
	int vfile;                      /* index into r->vfiles, or -1 */
	uint64_t file_off;
};

/* A file the script's shell lines made (dd if=/dev/zero of=PATH), kept in memory. */
struct nsr_vfile {
	char path[128];
	size_t size;                    /* all zero bytes */
};

struct nsr_epoll_ent {
	int script_fd;
	uint32_t events;
	uint64_t data;
	uint32_t last;                  /* edge-triggered: mask at the last report */
	bool disabled;                  /* EPOLLONESHOT fired */
};

struct nsr_epoll {
	struct nsr_epoll_ent e[16];
	int n;
};

struct nsr_pending {
	bool active, done;
	const struct nsr_stmt *st;
	uint64_t start_ns, end_ns;      /* expected return at end_ns */
	uint64_t done_ns;
	int64_t ret;                    /* raw ns_* result (>= 0 or -errno) */
	size_t progress;                /* bytes written so far (blocking write) */
	size_t total;
	uint64_t deadline_ns;           /* poll/epoll timeout, SO_*TIMEO; 0 none */
};

struct nsr_runner {
	struct nsr_config cfg;
	struct nsr_vstack *v;
	const struct nsr_script_opts *opts;
	FILE *out;
	/* options */
	uint64_t tol_ns;
	int family;                     /* NS_AF_INET or NS_AF_INET6 */
	bool mapped;                    /* ipv4-mapped-ipv6 */
	uint64_t ts_tick_us;
	bool strict_segments;
	uint16_t bind_port, connect_port, remote_port;
	struct ns_addr local, remote;
	uint8_t remote_mac[6];
	/* time */
	uint64_t t0;                    /* virtual ns of script time 0 */
	uint64_t base_ns;               /* time relative times count from */
	/* socket under test (the connection the packets belong to) */
	uint16_t lport, rport;
	bool lport_known;
	int sut_type;                   /* NS_SOCK_STREAM / NS_SOCK_DGRAM of the latest socket */
	int sut_ns_fd;                  /* the latest socket()/accept() result: python blocks read its TCP_INFO */
	bool isn_known;
	uint32_t live_isn, script_isn;
	bool ts_first;
	uint32_t ts_first_script, ts_first_live;
	int nts;
	uint32_t ts_script[NSR_TSMAP], ts_live[NSR_TSMAP];
	/* frames */
	struct nsr_frames outq;         /* candidate frames the stack sent, in order */
	size_t outq_head;
	struct nsr_frames inj;          /* automatic ARP/NDP answers waiting to be injected */
	size_t inj_head;
	/* descriptors */
	struct nsr_fd fds[NSR_MAX_FDS];
	struct nsr_epoll ep[NSR_MAX_EPOLL];
	int nep;
	struct nsr_pending pend;
	struct nsr_vfile vfiles[8];
	int nvfiles;
	/* result */
	bool failed, skipped_script;
	char *reason;
	int skipped;
	char *skipped_list;
	size_t skipped_len;
	int executed;
	const struct nsr_stmt *cur;
};

/* Records a failure (first one wins); fmt describes it. */
void nsr_r_fail(struct nsr_runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The script cannot go on (unsupported feature): status skip. */
void nsr_r_skip_script(struct nsr_runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One statement skipped (shell, python, unsupported option). */
void nsr_r_skip_stmt(struct nsr_runner *r, const struct nsr_stmt *st, const char *why);

/* script_sys.c */
/* Starts a system call statement at the current time; may leave r->pend active. */
void nsr_sys_start(struct nsr_runner *r, const struct nsr_stmt *st, uint64_t end_ns);
/* Retries a pending blocking call; returns true when it made progress. */
bool nsr_sys_retry(struct nsr_runner *r);
/* Checks a finished call's result against the statement. */
void nsr_sys_check(struct nsr_runner *r, const struct nsr_stmt *st, int64_t ret);
void nsr_sys_close_all(struct nsr_runner *r);
int64_t nsr_sym_value(const char *name, bool *ok);
/* A shell line the runner emulates on its in-memory files (dd of zeros, rm -f); false if not. */
bool nsr_sys_shell_line(struct nsr_runner *r, const char *line);

/* script_py.c: 1 all assertions hold, 0 one failed, -1 not evaluable (msg says why) */
int nsr_py_eval(const char *text, const void *tcp_info, size_t ti_len, char *msg, size_t msglen);

/* script_run.c */
uint64_t nsr_r_time_ns(struct nsr_runner *r, int64_t us);

#endif
