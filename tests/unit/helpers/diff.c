/*
 * tests/unit/helpers/diff.c - the differential harness (see diff.h): the
 * Linux kernel backend (real sockets on loopback), the netstack backend
 * (ns_test pair, virtual time), recording and comparing step logs.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include "diff.h"
#include "ns_test.h"

/* ---- recording ------------------------------------------------------------------ */

void diff_record(struct diff_env *e, long long v, const char *fmt, ...)
{
	if (e->n >= DIFF_MAX_RECS)
		return;
	struct diff_rec *r = &e->rec[e->n++];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->label, sizeof(r->label), fmt, ap);
	va_end(ap);
	r->v = v;
}

uint16_t diff_port(struct diff_env *e, int n) { return (uint16_t)(e->port_base + n); }

static const char *addr_text(const struct diff_env *e, int family, int kind)
{
	bool kernel = e->ops == &diff_linux_ops;
	if (family == AF_INET) {
		switch (kind) {
		case DIFF_LOCAL: return kernel ? "127.0.0.1" : "198.18.0.1";
		case DIFF_PEER: return kernel ? "127.0.0.1" : "198.18.0.2";
		case DIFF_NONLOCAL: return "198.18.0.99";
		default: return "0.0.0.0";
		}
	}
	switch (kind) {
	case DIFF_LOCAL: return kernel ? "::1" : "fd00:5eed::1";
	case DIFF_PEER: return kernel ? "::1" : "fd00:5eed::2";
	case DIFF_NONLOCAL: return "fd00:5eed::99";
	default: return "::";
	}
}

socklen_t diff_addr_fam(struct diff_env *e, int family, int kind, uint16_t port,
			struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	const char *t = addr_text(e, family, kind);
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;
		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		inet_pton(AF_INET, t, &s->sin_addr);
		return sizeof(*s);
	}
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	inet_pton(AF_INET6, t, &s->sin6_addr);
	return sizeof(*s);
}

socklen_t diff_addr(struct diff_env *e, int kind, uint16_t port, struct sockaddr_storage *ss)
{
	return diff_addr_fam(e, e->family, kind, port, ss);
}

uint16_t diff_sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

int diff_sa_is_any(const struct sockaddr_storage *ss)
{
	static const uint8_t z[16];
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == 0;
	return memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, z, 16) == 0;
}

int diff_socket(struct diff_env *e, int side, int domain, int type, int proto)
{
	int fd = e->ops->socket(e, side, domain, type, proto);
	if (fd >= 0 && e->nfds < (int)(sizeof(e->fds) / sizeof(e->fds[0])))
		e->fds[e->nfds++] = fd;
	return fd;
}

void diff_sync(struct diff_env *e, uint64_t ns) { e->ops->sync(e, ns); }

/* ---- Linux kernel backend ------------------------------------------------------------ */

static int kr(long r) { return r < 0 ? -errno : (int)r; }
static ssize_t krs(ssize_t r) { return r < 0 ? -errno : r; }

static int k_socket(struct diff_env *e, int side, int d, int t, int p) { return kr(socket(d, t, p)); }
static int k_bind(struct diff_env *e, int fd, const struct sockaddr *a, socklen_t l) { return kr(bind(fd, a, l)); }
static int k_connect(struct diff_env *e, int fd, const struct sockaddr *a, socklen_t l) { return kr(connect(fd, a, l)); }
static int k_listen(struct diff_env *e, int fd, int b) { return kr(listen(fd, b)); }
static int k_accept(struct diff_env *e, int fd, struct sockaddr *a, socklen_t *l, int flags)
{
	int r = accept(fd, a, l);
	if (r >= 0 && (flags & SOCK_NONBLOCK))
		fcntl(r, F_SETFL, O_NONBLOCK);
	return kr(r);
}
static ssize_t k_sendto(struct diff_env *e, int fd, const void *b, size_t n, int f,
			const struct sockaddr *a, socklen_t l)
{
	return krs(sendto(fd, b, n, f | MSG_NOSIGNAL, a, l));
}
static ssize_t k_recvfrom(struct diff_env *e, int fd, void *b, size_t n, int f, struct sockaddr *a,
			  socklen_t *l)
{
	return krs(recvfrom(fd, b, n, f, a, l));
}
static ssize_t k_sendmsg(struct diff_env *e, int fd, const struct msghdr *m, int f)
{
	return krs(sendmsg(fd, m, f | MSG_NOSIGNAL));
}
static ssize_t k_recvmsg(struct diff_env *e, int fd, struct msghdr *m, int f) { return krs(recvmsg(fd, m, f)); }
static int k_shutdown(struct diff_env *e, int fd, int how) { return kr(shutdown(fd, how)); }
static int k_close(struct diff_env *e, int fd) { return kr(close(fd)); }
static int k_getsockname(struct diff_env *e, int fd, struct sockaddr *a, socklen_t *l) { return kr(getsockname(fd, a, l)); }
static int k_getpeername(struct diff_env *e, int fd, struct sockaddr *a, socklen_t *l) { return kr(getpeername(fd, a, l)); }
static int k_setsockopt(struct diff_env *e, int fd, int lv, int n, const void *v, socklen_t l) { return kr(setsockopt(fd, lv, n, v, l)); }
static int k_getsockopt(struct diff_env *e, int fd, int lv, int n, void *v, socklen_t *l) { return kr(getsockopt(fd, lv, n, v, l)); }
static int k_ioctl(struct diff_env *e, int fd, unsigned long req, int *arg) { return kr(ioctl(fd, req, arg)); }
static int k_fcntl(struct diff_env *e, int fd, int cmd, long arg) { return kr(fcntl(fd, cmd, arg)); }
static int k_poll(struct diff_env *e, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLPRI | NS_POLLRDHUP };
	int r = poll(&p, 1, 0);
	return r < 0 ? -errno : p.revents;
}
static void k_sync(struct diff_env *e, uint64_t ns)
{
	struct timespec d = { 0, 5 * 1000 * 1000 };     /* loopback delivers inside the call */
	nanosleep(&d, NULL);
}

const struct diff_ops diff_linux_ops = {
	.name = "linux", .socket = k_socket, .bind = k_bind, .connect = k_connect,
	.listen = k_listen, .accept = k_accept, .sendto = k_sendto, .recvfrom = k_recvfrom,
	.sendmsg = k_sendmsg, .recvmsg = k_recvmsg, .shutdown = k_shutdown, .close = k_close,
	.getsockname = k_getsockname, .getpeername = k_getpeername, .setsockopt = k_setsockopt,
	.getsockopt = k_getsockopt, .ioctl = k_ioctl, .fcntl = k_fcntl, .poll = k_poll,
	.sync = k_sync,
};

/* ---- netstack backend ------------------------------------------------------------------- */

/* Descriptors carry their side: side << 20 | fd (negative values pass through). */
#define NS_SIDE_SHIFT 20

static struct ns_stack *nstk(struct diff_env *e, int fd, int *nfd)
{
	struct ns_test_pair *p = e->priv;
	if (fd < 0) {
		*nfd = fd;
		return p->a.stk;
	}
	*nfd = fd & ((1 << NS_SIDE_SHIFT) - 1);
	return (fd >> NS_SIDE_SHIFT) ? p->b.stk : p->a.stk;
}
#define NFD(e, fd) int nfd_; struct ns_stack *stk_ = nstk((e), (fd), &nfd_)

static int n_socket(struct diff_env *e, int side, int d, int t, int p)
{
	struct ns_test_pair *pr = e->priv;
	int fd = ns_socket(side ? pr->b.stk : pr->a.stk, d, t, p);
	return fd < 0 ? fd : (side << NS_SIDE_SHIFT) | fd;
}
static int n_bind(struct diff_env *e, int fd, const struct sockaddr *a, socklen_t l) { NFD(e, fd); return ns_bind(stk_, nfd_, a, l); }
static int n_connect(struct diff_env *e, int fd, const struct sockaddr *a, socklen_t l) { NFD(e, fd); return ns_connect(stk_, nfd_, a, l); }
static int n_listen(struct diff_env *e, int fd, int b) { NFD(e, fd); return ns_listen(stk_, nfd_, b); }
static int n_accept(struct diff_env *e, int fd, struct sockaddr *a, socklen_t *l, int flags)
{
	NFD(e, fd);
	int r = ns_accept(stk_, nfd_, a, l, flags);
	return r < 0 ? r : (fd & ~((1 << NS_SIDE_SHIFT) - 1)) | r;
}
static ssize_t n_sendto(struct diff_env *e, int fd, const void *b, size_t n, int f,
			const struct sockaddr *a, socklen_t l)
{
	NFD(e, fd);
	return ns_sendto(stk_, nfd_, b, n, f, a, l);
}
static ssize_t n_recvfrom(struct diff_env *e, int fd, void *b, size_t n, int f, struct sockaddr *a,
			  socklen_t *l)
{
	NFD(e, fd);
	return ns_recvfrom(stk_, nfd_, b, n, f, a, l);
}
static ssize_t n_sendmsg(struct diff_env *e, int fd, const struct msghdr *m, int f) { NFD(e, fd); return ns_sendmsg(stk_, nfd_, m, f); }
static ssize_t n_recvmsg(struct diff_env *e, int fd, struct msghdr *m, int f) { NFD(e, fd); return ns_recvmsg(stk_, nfd_, m, f); }
static int n_shutdown(struct diff_env *e, int fd, int how) { NFD(e, fd); return ns_shutdown(stk_, nfd_, how); }
static int n_close(struct diff_env *e, int fd) { NFD(e, fd); return ns_close(stk_, nfd_); }
static int n_getsockname(struct diff_env *e, int fd, struct sockaddr *a, socklen_t *l) { NFD(e, fd); return ns_getsockname(stk_, nfd_, a, l); }
static int n_getpeername(struct diff_env *e, int fd, struct sockaddr *a, socklen_t *l) { NFD(e, fd); return ns_getpeername(stk_, nfd_, a, l); }
static int n_setsockopt(struct diff_env *e, int fd, int lv, int n, const void *v, socklen_t l) { NFD(e, fd); return ns_setsockopt(stk_, nfd_, lv, n, v, l); }
static int n_getsockopt(struct diff_env *e, int fd, int lv, int n, void *v, socklen_t *l) { NFD(e, fd); return ns_getsockopt(stk_, nfd_, lv, n, v, l); }
static int n_ioctl(struct diff_env *e, int fd, unsigned long req, int *arg) { NFD(e, fd); return ns_ioctl(stk_, nfd_, req, arg); }
static int n_fcntl(struct diff_env *e, int fd, int cmd, long arg) { NFD(e, fd); return ns_fcntl(stk_, nfd_, cmd, arg); }
static int n_poll(struct diff_env *e, int fd)
{
	NFD(e, fd);
	int m = ns_poll_mask(stk_, nfd_);
	return m < 0 ? NS_POLLNVAL : m & ~(NS_POLLRDNORM | NS_POLLWRNORM);
}
static void n_sync(struct diff_env *e, uint64_t ns) { ns_test_pump(e->priv, NULL, NULL, ns); }

const struct diff_ops diff_netstack_ops = {
	.name = "netstack", .socket = n_socket, .bind = n_bind, .connect = n_connect,
	.listen = n_listen, .accept = n_accept, .sendto = n_sendto, .recvfrom = n_recvfrom,
	.sendmsg = n_sendmsg, .recvmsg = n_recvmsg, .shutdown = n_shutdown, .close = n_close,
	.getsockname = n_getsockname, .getpeername = n_getpeername, .setsockopt = n_setsockopt,
	.getsockopt = n_getsockopt, .ioctl = n_ioctl, .fcntl = n_fcntl, .poll = n_poll,
	.sync = n_sync,
};

/* ---- running ------------------------------------------------------------------------- */

static int read_sysctl(const char *path, int dflt)
{
	FILE *f = fopen(path, "r");
	int v = dflt;
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = dflt;
		fclose(f);
	}
	return v;
}

static int run_one(struct diff_env *e, const struct diff_ops *ops, const struct diff_case *c,
		   int family, uint16_t base)
{
	memset(e, 0, sizeof(*e));
	e->ops = ops;
	e->family = family;
	e->port_base = base;
	e->rmem_max = e->wmem_max = 212992;     /* netstack: Linux's defaults */
	if (ops == &diff_linux_ops) {
		e->rmem_max = read_sysctl("/proc/sys/net/core/rmem_max", 212992);
		e->wmem_max = read_sysctl("/proc/sys/net/core/wmem_max", 212992);
	}
	struct ns_test_pair *p = NULL;
	if (ops == &diff_netstack_ops) {
		p = calloc(1, sizeof(*p));
		if (!p || ns_test_pair_init(p, &(struct ns_test_pair_opts){ .ipv6 = true }) < 0) {
			free(p);
			return -1;
		}
		e->priv = p;
		ns_test_pump(p, NULL, NULL, 3 * NS_NSEC_PER_SEC);    /* ARP/DAD settle */
	}
	c->fn(e);
	for (int i = 0; i < e->nfds; i++)
		ops->close(e, e->fds[i]);
	int live = 0;
	if (p) {
		ns_test_pump(p, NULL, NULL, NS_NSEC_PER_SEC);
		live = (int)ns_test_pair_live(p);
		ns_test_pair_fini(p);
		free(p);
	}
	return live;
}

static int compare(const struct diff_env *k, const struct diff_env *n, const char *name, int fam)
{
	int bad = k->n != n->n;
	for (int i = 0; i < k->n && i < n->n && !bad; i++)
		bad = k->rec[i].v != n->rec[i].v || strcmp(k->rec[i].label, n->rec[i].label) != 0;
	if (!bad)
		return 0;
	fprintf(stderr, "diff: scenario %s (%s) differs:\n", name, fam == AF_INET ? "v4" : "v6");
	int m = k->n > n->n ? k->n : n->n;
	for (int i = 0; i < m; i++) {
		const struct diff_rec *a = i < k->n ? &k->rec[i] : NULL, *b = i < n->n ? &n->rec[i] : NULL;
		bool same = a && b && a->v == b->v && !strcmp(a->label, b->label);
		fprintf(stderr, "  %s %-46s linux=%-8lld netstack=%lld\n", same ? "  " : "!!",
			a ? a->label : (b ? b->label : "?"), a ? a->v : 0, b ? b->v : 0);
	}
	return 1;
}

int diff_run_table(const struct diff_case *cases, size_t n)
{
	struct diff_env *k = malloc(sizeof(*k)), *s = malloc(sizeof(*s));
	int bad = 0;
	uint16_t base = (uint16_t)(20000 + (getpid() % 400) * 20);
	for (size_t i = 0; i < n; i++) {
		for (int f = 0; f < 2; f++) {
			int flag = f ? DIFF_V6 : DIFF_V4, fam = f ? AF_INET6 : AF_INET;
			if (!(cases[i].families & flag))
				continue;
			run_one(k, &diff_linux_ops, &cases[i], fam, base);
			int live = run_one(s, &diff_netstack_ops, &cases[i], fam, base);
			if (live) {
				fprintf(stderr, "diff: scenario %s left %d packets alive\n", cases[i].name, live);
				bad++;
			}
			bad += compare(k, s, cases[i].name, fam);
			fprintf(stderr, "diff: %-28s %s  %d steps\n", cases[i].name, f ? "v6" : "v4", k->n);
		}
	}
	free(k);
	free(s);
	return bad;
}
