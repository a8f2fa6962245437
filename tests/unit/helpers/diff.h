/*
 * tests/unit/helpers/diff.h - the differential harness: run one socket
 * scenario against Linux kernel sockets (loopback, inside the test
 * process) and against netstack sockets (two stacks over paired channels,
 * virtual time), record every step's result, and compare the two logs.
 *
 * A scenario is a function of a struct diff_env.  It makes sockets on side
 * DIFF_A (the "local" host) or DIFF_B (the "peer"), calls the ops through
 * the D_* macros and records what must agree with DIFF_RET (a return
 * value: >= 0 or -errno) or DIFF_VAL (any number the scenario derives,
 * e.g. "port in the ephemeral range").  Addresses come from the env: on
 * the kernel side both sides are 127.0.0.1 / ::1; on the netstack side A
 * is 198.18.0.1 / fd00:5eed::1 and B is .2 / ::2.  Descriptors and
 * ephemeral port numbers differ by nature: never record them raw.
 *
 * Adding a scenario: write `static void sc_x(struct diff_env *e)` and add
 * { "x", sc_x, DIFF_V4 | DIFF_V6 } to the table given to diff_run_table().
 * TCP uses the same harness (SOCK_STREAM sockets, listen/accept ops).
 * Netstack sockets are driven single-threaded: create them nonblocking (or
 * use MSG_DONTWAIT) and call diff_sync() where the kernel would deliver.
 */
#ifndef NS_TEST_DIFF_H
#define NS_TEST_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

enum { DIFF_A = 0, DIFF_B = 1 };
enum { DIFF_LOCAL, DIFF_PEER, DIFF_NONLOCAL, DIFF_ANY };   /* address kinds */
#define DIFF_V4 1
#define DIFF_V6 2

struct diff_env;

/* Socket operations of a backend; every call returns >= 0 or -errno. */
struct diff_ops {
	const char *name;
	int (*socket)(struct diff_env *e, int side, int domain, int type, int proto);
	int (*bind)(struct diff_env *e, int fd, const struct sockaddr *a, socklen_t len);
	int (*connect)(struct diff_env *e, int fd, const struct sockaddr *a, socklen_t len);
	int (*listen)(struct diff_env *e, int fd, int backlog);
	int (*accept)(struct diff_env *e, int fd, struct sockaddr *a, socklen_t *len, int flags);
	ssize_t (*sendto)(struct diff_env *e, int fd, const void *b, size_t n, int flags,
			  const struct sockaddr *a, socklen_t len);
	ssize_t (*recvfrom)(struct diff_env *e, int fd, void *b, size_t n, int flags,
			    struct sockaddr *a, socklen_t *len);
	ssize_t (*sendmsg)(struct diff_env *e, int fd, const struct msghdr *m, int flags);
	ssize_t (*recvmsg)(struct diff_env *e, int fd, struct msghdr *m, int flags);
	int (*shutdown)(struct diff_env *e, int fd, int how);
	int (*close)(struct diff_env *e, int fd);
	int (*getsockname)(struct diff_env *e, int fd, struct sockaddr *a, socklen_t *len);
	int (*getpeername)(struct diff_env *e, int fd, struct sockaddr *a, socklen_t *len);
	int (*setsockopt)(struct diff_env *e, int fd, int level, int name, const void *v, socklen_t len);
	int (*getsockopt)(struct diff_env *e, int fd, int level, int name, void *v, socklen_t *len);
	int (*ioctl)(struct diff_env *e, int fd, unsigned long req, int *arg);
	int (*fcntl)(struct diff_env *e, int fd, int cmd, long arg);
	int (*poll)(struct diff_env *e, int fd);          /* current POLL* mask */
	/* Lets the network run: the kernel backend sleeps briefly; netstack pumps
	 * its stacks for ns of virtual time. */
	void (*sync)(struct diff_env *e, uint64_t ns);
};

struct diff_rec {
	char label[48];
	long long v;
};

#define DIFF_MAX_RECS 512

struct diff_env {
	const struct diff_ops *ops;
	void *priv;                     /* backend state */
	int family;                     /* AF_INET or AF_INET6 for this run */
	uint16_t port_base;             /* scenario ports: diff_port(e, n) */
	int n;
	struct diff_rec rec[DIFF_MAX_RECS];
	int rmem_max, wmem_max;         /* net.core.[rw]mem_max of the backend */
	int fds[64];                    /* open descriptors, closed after the scenario */
	int nfds;
};

typedef void (*diff_scenario_fn)(struct diff_env *e);

struct diff_case {
	const char *name;
	diff_scenario_fn fn;
	int families;                   /* DIFF_V4 | DIFF_V6 */
};

/* Records one result under label (printf-style). */
void diff_record(struct diff_env *e, long long v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define DIFF_RET(e, expr) diff_record((e), (long long)(expr), "%s", #expr)
#define DIFF_VAL(e, label, v) diff_record((e), (long long)(v), "%s", (label))

/* Fills a sockaddr of the run's family for an address kind; returns its length. */
socklen_t diff_addr(struct diff_env *e, int kind, uint16_t port, struct sockaddr_storage *ss);
/* The same for an explicit family (AF_INET / AF_INET6; kind DIFF_*). */
socklen_t diff_addr_fam(struct diff_env *e, int family, int kind, uint16_t port,
			struct sockaddr_storage *ss);
uint16_t diff_port(struct diff_env *e, int n);
/* Port of a sockaddr (host order). */
uint16_t diff_sa_port(const struct sockaddr_storage *ss);
/* 1 if the sockaddr's address is the unspecified one. */
int diff_sa_is_any(const struct sockaddr_storage *ss);

/* Creates a socket and remembers it for cleanup; returns fd or -errno. */
int diff_socket(struct diff_env *e, int side, int domain, int type, int proto);
void diff_sync(struct diff_env *e, uint64_t ns);

/* Runs every case of the table for each family it names against both
 * backends; prints both logs side by side for a mismatch.  Returns the
 * number of mismatching runs (0: all agree). */
int diff_run_table(const struct diff_case *cases, size_t n);

extern const struct diff_ops diff_linux_ops;
extern const struct diff_ops diff_netstack_ops;

#endif
