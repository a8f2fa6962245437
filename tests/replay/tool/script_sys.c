/*
 * tests/replay/tool/script_sys.c - the system calls of packet scripts,
 * mapped onto the public ns_* socket API.  Every netstack socket is
 * nonblocking underneath; a call on a socket the script sees as blocking
 * that would block becomes the pending call, retried as virtual time moves
 * (script_run.c), which is how `...` blocking calls are emulated.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "script_int.h"

/* ---- symbols ----------------------------------------------------------------------- */

struct sym { const char *n; int64_t v; };
static const struct sym syms[] = {
	{ "AF_INET", NS_AF_INET }, { "AF_INET6", NS_AF_INET6 }, { "PF_INET", NS_AF_INET }, { "PF_INET6", NS_AF_INET6 },
	{ "AF_UNSPEC", 0 },
	{ "SOCK_STREAM", NS_SOCK_STREAM }, { "SOCK_DGRAM", NS_SOCK_DGRAM }, { "SOCK_RAW", NS_SOCK_RAW },
	{ "SOCK_NONBLOCK", NS_SOCK_NONBLOCK }, { "SOCK_CLOEXEC", NS_SOCK_CLOEXEC },
	{ "IPPROTO_IP", NS_IPPROTO_IP }, { "IPPROTO_TCP", NS_IPPROTO_TCP }, { "IPPROTO_UDP", NS_IPPROTO_UDP },
	{ "IPPROTO_IPV6", NS_IPPROTO_IPV6 }, { "IPPROTO_ICMP", NS_IPPROTO_ICMP }, { "IPPROTO_ICMPV6", NS_IPPROTO_ICMPV6 },
	{ "SOL_SOCKET", NS_SOL_SOCKET }, { "SOL_TCP", NS_IPPROTO_TCP }, { "SOL_IP", NS_IPPROTO_IP },
	{ "SOL_IPV6", NS_IPPROTO_IPV6 }, { "SOL_UDP", NS_IPPROTO_UDP },
	{ "SO_DEBUG", NS_SO_DEBUG }, { "SO_REUSEADDR", NS_SO_REUSEADDR }, { "SO_TYPE", NS_SO_TYPE },
	{ "SO_ERROR", NS_SO_ERROR }, { "SO_DONTROUTE", NS_SO_DONTROUTE }, { "SO_BROADCAST", NS_SO_BROADCAST },
	{ "SO_SNDBUF", NS_SO_SNDBUF }, { "SO_RCVBUF", NS_SO_RCVBUF }, { "SO_KEEPALIVE", NS_SO_KEEPALIVE },
	{ "SO_OOBINLINE", NS_SO_OOBINLINE }, { "SO_LINGER", NS_SO_LINGER }, { "SO_REUSEPORT", NS_SO_REUSEPORT },
	{ "SO_RCVLOWAT", NS_SO_RCVLOWAT }, { "SO_SNDLOWAT", NS_SO_SNDLOWAT }, { "SO_RCVTIMEO", NS_SO_RCVTIMEO },
	{ "SO_SNDTIMEO", NS_SO_SNDTIMEO }, { "SO_ACCEPTCONN", NS_SO_ACCEPTCONN }, { "SO_PROTOCOL", NS_SO_PROTOCOL },
	{ "SO_DOMAIN", NS_SO_DOMAIN }, { "SO_SNDBUFFORCE", NS_SO_SNDBUFFORCE }, { "SO_RCVBUFFORCE", NS_SO_RCVBUFFORCE },
	{ "SO_ZEROCOPY", 60 }, { "SO_MAX_PACING_RATE", 47 }, { "SO_TIMESTAMPING", 37 },
	{ "IP_TOS", NS_IP_TOS }, { "IP_TTL", NS_IP_TTL }, { "IP_MTU_DISCOVER", NS_IP_MTU_DISCOVER },
	{ "IP_RECVERR", NS_IP_RECVERR }, { "IP_MTU", NS_IP_MTU }, { "IP_PKTINFO", NS_IP_PKTINFO },
	{ "IP_PMTUDISC_DONT", NS_IP_PMTUDISC_DONT }, { "IP_PMTUDISC_WANT", NS_IP_PMTUDISC_WANT },
	{ "IP_PMTUDISC_DO", NS_IP_PMTUDISC_DO }, { "IP_PMTUDISC_PROBE", NS_IP_PMTUDISC_PROBE },
	{ "IPV6_V6ONLY", NS_IPV6_V6ONLY }, { "IPV6_TCLASS", NS_IPV6_TCLASS }, { "IPV6_UNICAST_HOPS", NS_IPV6_UNICAST_HOPS },
	{ "TCP_NODELAY", NS_TCP_NODELAY }, { "TCP_MAXSEG", NS_TCP_MAXSEG }, { "TCP_CORK", NS_TCP_CORK },
	{ "TCP_KEEPIDLE", NS_TCP_KEEPIDLE }, { "TCP_KEEPINTVL", NS_TCP_KEEPINTVL }, { "TCP_KEEPCNT", NS_TCP_KEEPCNT },
	{ "TCP_SYNCNT", NS_TCP_SYNCNT }, { "TCP_LINGER2", NS_TCP_LINGER2 }, { "TCP_DEFER_ACCEPT", NS_TCP_DEFER_ACCEPT },
	{ "TCP_WINDOW_CLAMP", NS_TCP_WINDOW_CLAMP }, { "TCP_INFO", NS_TCP_INFO }, { "TCP_QUICKACK", NS_TCP_QUICKACK },
	{ "TCP_CONGESTION", NS_TCP_CONGESTION }, { "TCP_USER_TIMEOUT", NS_TCP_USER_TIMEOUT },
	{ "TCP_FASTOPEN", 23 }, { "TCP_NOTSENT_LOWAT", 25 }, { "TCP_FASTOPEN_CONNECT", 30 }, { "TCP_INQ", 36 },
	{ "TCP_CM_INQ", 36 }, { "TCP_TX_DELAY", 37 }, { "TCP_FASTOPEN_KEY", 33 }, { "TCP_FASTOPEN_NO_COOKIE", 34 },
	{ "TCP_ZEROCOPY_RECEIVE", 35 }, { "TCP_MD5SIG", 14 }, { "TCP_THIN_LINEAR_TIMEOUTS", 16 },
	{ "O_RDONLY", 0 }, { "O_WRONLY", 1 }, { "O_RDWR", 2 }, { "O_NONBLOCK", NS_O_NONBLOCK },
	{ "F_GETFL", NS_F_GETFL }, { "F_SETFL", NS_F_SETFL },
	{ "SHUT_RD", NS_SHUT_RD }, { "SHUT_WR", NS_SHUT_WR }, { "SHUT_RDWR", NS_SHUT_RDWR },
	{ "MSG_OOB", NS_MSG_OOB }, { "MSG_PEEK", NS_MSG_PEEK }, { "MSG_DONTROUTE", NS_MSG_DONTROUTE },
	{ "MSG_TRUNC", NS_MSG_TRUNC }, { "MSG_DONTWAIT", NS_MSG_DONTWAIT }, { "MSG_EOR", NS_MSG_EOR },
	{ "MSG_WAITALL", NS_MSG_WAITALL }, { "MSG_NOSIGNAL", NS_MSG_NOSIGNAL }, { "MSG_MORE", NS_MSG_MORE },
	{ "MSG_ERRQUEUE", NS_MSG_ERRQUEUE }, { "MSG_FASTOPEN", 0x20000000 }, { "MSG_ZEROCOPY", 0x4000000 },
	{ "POLLIN", NS_POLLIN }, { "POLLPRI", NS_POLLPRI }, { "POLLOUT", NS_POLLOUT }, { "POLLERR", NS_POLLERR },
	{ "POLLHUP", NS_POLLHUP }, { "POLLNVAL", NS_POLLNVAL }, { "POLLRDNORM", NS_POLLRDNORM },
	{ "POLLWRNORM", NS_POLLWRNORM }, { "POLLRDHUP", NS_POLLRDHUP },
	{ "EPOLLIN", 0x001 }, { "EPOLLPRI", 0x002 }, { "EPOLLOUT", 0x004 }, { "EPOLLERR", 0x008 },
	{ "EPOLLHUP", 0x010 }, { "EPOLLRDNORM", 0x040 }, { "EPOLLWRNORM", 0x100 }, { "EPOLLRDHUP", 0x2000 },
	{ "EPOLLEXCLUSIVE", 1 << 28 }, { "EPOLLONESHOT", 1 << 30 }, { "EPOLLET", 1u << 31 },
	{ "EPOLL_CTL_ADD", 1 }, { "EPOLL_CTL_DEL", 2 }, { "EPOLL_CTL_MOD", 3 },
	{ "FIONREAD", NS_FIONREAD }, { "SIOCINQ", NS_SIOCINQ }, { "SIOCOUTQ", NS_SIOCOUTQ }, { "FIONBIO", NS_FIONBIO },
	{ "NULL", 0 },
	/* error queue, zerocopy, timestamping */
	{ "SO_TIMESTAMP", NS_SO_TIMESTAMP }, { "SO_TIMESTAMPNS", NS_SO_TIMESTAMPNS },
	{ "SO_TIMESTAMP_NEW", NS_SO_TIMESTAMP_NEW }, { "SO_TIMESTAMPNS_NEW", NS_SO_TIMESTAMPNS_NEW },
	{ "SO_TIMESTAMPING_NEW", NS_SO_TIMESTAMPING_NEW }, { "SCM_TIMESTAMP", NS_SO_TIMESTAMP },
	{ "SCM_TIMESTAMPNS", NS_SO_TIMESTAMPNS }, { "SCM_TIMESTAMPING", NS_SO_TIMESTAMPING },
	{ "SCM_TIMESTAMPING_OPT_STATS", NS_SCM_TIMESTAMPING_OPT_STATS },
	{ "CMSG_LEVEL_IP", NS_IPPROTO_IP }, { "CMSG_TYPE_RECVERR", NS_IP_RECVERR },
	{ "IPV6_RECVERR", NS_IPV6_RECVERR },
	{ "SO_EE_ORIGIN_NONE", NS_SO_EE_ORIGIN_NONE }, { "SO_EE_ORIGIN_LOCAL", NS_SO_EE_ORIGIN_LOCAL },
	{ "SO_EE_ORIGIN_ICMP", NS_SO_EE_ORIGIN_ICMP }, { "SO_EE_ORIGIN_ICMP6", NS_SO_EE_ORIGIN_ICMP6 },
	{ "SO_EE_ORIGIN_TIMESTAMPING", NS_SO_EE_ORIGIN_TIMESTAMPING },
	{ "SO_EE_ORIGIN_ZEROCOPY", NS_SO_EE_ORIGIN_ZEROCOPY },
	{ "SO_EE_CODE_ZEROCOPY_COPIED", NS_SO_EE_CODE_ZEROCOPY_COPIED },
	{ "SCM_TSTAMP_SND", NS_SCM_TSTAMP_SND }, { "SCM_TSTAMP_SCHED", NS_SCM_TSTAMP_SCHED },
	{ "SCM_TSTAMP_ACK", NS_SCM_TSTAMP_ACK },
	{ "SOF_TIMESTAMPING_TX_HARDWARE", NS_SOF_TIMESTAMPING_TX_HARDWARE },
	{ "SOF_TIMESTAMPING_TX_SOFTWARE", NS_SOF_TIMESTAMPING_TX_SOFTWARE },
	{ "SOF_TIMESTAMPING_RX_HARDWARE", NS_SOF_TIMESTAMPING_RX_HARDWARE },
	{ "SOF_TIMESTAMPING_RX_SOFTWARE", NS_SOF_TIMESTAMPING_RX_SOFTWARE },
	{ "SOF_TIMESTAMPING_SOFTWARE", NS_SOF_TIMESTAMPING_SOFTWARE },
	{ "SOF_TIMESTAMPING_SYS_HARDWARE", NS_SOF_TIMESTAMPING_SYS_HARDWARE },
	{ "SOF_TIMESTAMPING_RAW_HARDWARE", NS_SOF_TIMESTAMPING_RAW_HARDWARE },
	{ "SOF_TIMESTAMPING_OPT_ID", NS_SOF_TIMESTAMPING_OPT_ID },
	{ "SOF_TIMESTAMPING_TX_SCHED", NS_SOF_TIMESTAMPING_TX_SCHED },
	{ "SOF_TIMESTAMPING_TX_ACK", NS_SOF_TIMESTAMPING_TX_ACK },
	{ "SOF_TIMESTAMPING_OPT_CMSG", NS_SOF_TIMESTAMPING_OPT_CMSG },
	{ "SOF_TIMESTAMPING_OPT_TSONLY", NS_SOF_TIMESTAMPING_OPT_TSONLY },
	{ "SOF_TIMESTAMPING_OPT_STATS", NS_SOF_TIMESTAMPING_OPT_STATS },
	{ "SOF_TIMESTAMPING_OPT_PKTINFO", NS_SOF_TIMESTAMPING_OPT_PKTINFO },
	{ "SOF_TIMESTAMPING_OPT_TX_SWHW", NS_SOF_TIMESTAMPING_OPT_TX_SWHW },
	{ "SOF_TIMESTAMPING_OPT_ID_TCP", NS_SOF_TIMESTAMPING_OPT_ID_TCP },
};

int64_t nsr_sym_value(const char *name, bool *ok)
{
	for (size_t i = 0; i < NS_ARRAY_SIZE(syms); i++)
		if (!strcmp(syms[i].n, name)) {
			*ok = true;
			return syms[i].v;
		}
	*ok = false;
	return 0;
}

struct errname { const char *n; int v; };
static const struct errname errs[] = {
	{ "EPERM", NS_EPERM }, { "ENOENT", NS_ENOENT }, { "EINTR", NS_EINTR }, { "EIO", NS_EIO },
	{ "EBADF", NS_EBADF }, { "EAGAIN", NS_EAGAIN }, { "EWOULDBLOCK", NS_EAGAIN }, { "ENOMEM", NS_ENOMEM },
	{ "EACCES", NS_EACCES }, { "EFAULT", NS_EFAULT }, { "EBUSY", NS_EBUSY }, { "EEXIST", NS_EEXIST },
	{ "ENODEV", NS_ENODEV }, { "EINVAL", NS_EINVAL }, { "ENFILE", NS_ENFILE }, { "EMFILE", NS_EMFILE },
	{ "ENOSPC", NS_ENOSPC }, { "EPIPE", NS_EPIPE }, { "ERANGE", NS_ERANGE }, { "ENOSYS", NS_ENOSYS },
	{ "ENOPROTOOPT", NS_ENOPROTOOPT }, { "EPROTONOSUPPORT", NS_EPROTONOSUPPORT },
	{ "ESOCKTNOSUPPORT", NS_ESOCKTNOSUPPORT }, { "EOPNOTSUPP", NS_EOPNOTSUPP }, { "EPFNOSUPPORT", NS_EPFNOSUPPORT },
	{ "EAFNOSUPPORT", NS_EAFNOSUPPORT }, { "EADDRINUSE", NS_EADDRINUSE }, { "EADDRNOTAVAIL", NS_EADDRNOTAVAIL },
	{ "ENETDOWN", NS_ENETDOWN }, { "ENETUNREACH", NS_ENETUNREACH }, { "ENETRESET", NS_ENETRESET },
	{ "ECONNABORTED", NS_ECONNABORTED }, { "ECONNRESET", NS_ECONNRESET }, { "ENOBUFS", NS_ENOBUFS },
	{ "EISCONN", NS_EISCONN }, { "ENOTCONN", NS_ENOTCONN }, { "ESHUTDOWN", NS_ESHUTDOWN },
	{ "ETIMEDOUT", NS_ETIMEDOUT }, { "ECONNREFUSED", NS_ECONNREFUSED }, { "EHOSTDOWN", NS_EHOSTDOWN },
	{ "EHOSTUNREACH", NS_EHOSTUNREACH }, { "EALREADY", NS_EALREADY }, { "EINPROGRESS", NS_EINPROGRESS },
	{ "EMSGSIZE", NS_EMSGSIZE }, { "EDESTADDRREQ", NS_EDESTADDRREQ }, { "ENOTSOCK", NS_ENOTSOCK },
	{ "EPROTOTYPE", NS_EPROTOTYPE }, { "EPROTO", NS_EPROTO }, { "ENODATA", NS_ENODATA },
	{ "ENOMSG", NS_ENOMSG },
};

static const char *err_name(int e)
{
	for (size_t i = 0; i < NS_ARRAY_SIZE(errs); i++)
		if (errs[i].v == e)
			return errs[i].n;
	return "?";
}

static int err_value(const char *n)
{
	for (size_t i = 0; i < NS_ARRAY_SIZE(errs); i++)
		if (!strcmp(errs[i].n, n))
			return errs[i].v;
	return -1;
}

/* ---- argument helpers ---------------------------------------------------------------- */

/* Evaluates an integer expression; *ok false (and a skip) for unknown symbols. */
static int64_t eval(struct nsr_runner *r, const struct nsr_expr *e, bool *ok)
{
	*ok = true;
	if (!e) {
		*ok = false;
		return 0;
	}
	switch (e->kind) {
	case NSR_E_INT:
		return e->ival;
	case NSR_E_SYM: {
		int64_t v = nsr_sym_value(e->s, ok);
		if (!*ok && err_value(e->s) > 0) {     /* [ECONNREFUSED] as an SO_ERROR value */
			*ok = true;
			return err_value(e->s);
		}
		if (!*ok)
			nsr_r_skip_script(r, "unknown symbol %s", e->s);
		return v;
	}
	case NSR_E_OR: {
		int64_t v = 0;
		for (int i = 0; i < e->nkids && *ok; i++)
			v |= eval(r, e->kids[i], ok);
		return v;
	}
	case NSR_E_LIST:
		if (e->nkids == 1)
			return eval(r, e->kids[0], ok);
		/* fall through */
	default:
		*ok = false;
		nsr_r_skip_script(r, "unsupported argument form");
		return 0;
	}
}

static const struct nsr_expr *arg(const struct nsr_stmt *st, int i)
{
	return st->args && i < st->args->nkids ? st->args->kids[i] : NULL;
}

static bool is_ellipsis(const struct nsr_expr *e) { return !e || e->kind == NSR_E_ELLIPSIS; }

static const struct nsr_expr *field(const struct nsr_expr *e, const char *name)
{
	if (!e || e->kind != NSR_E_STRUCT)
		return NULL;
	for (int i = 0; i < e->nkids; i++)
		if (e->kids[i]->name && !strcmp(e->kids[i]->name, name))
			return e->kids[i];
	return NULL;
}

static struct nsr_fd *fd_get(struct nsr_runner *r, const struct nsr_expr *e, bool quiet)
{
	bool ok;
	int64_t v = eval(r, e, &ok);
	if (!ok)
		return NULL;
	for (int i = 0; i < NSR_MAX_FDS; i++)
		if (r->fds[i].used && r->fds[i].script_fd == v)
			return &r->fds[i];
	if (!quiet)
		nsr_r_fail(r, "descriptor %lld is not open in the script", (long long)v);
	return NULL;
}

static struct nsr_fd *fd_new(struct nsr_runner *r, int script_fd)
{
	for (int i = 0; i < NSR_MAX_FDS; i++)
		if (r->fds[i].used && r->fds[i].script_fd == script_fd) {
			nsr_r_fail(r, "descriptor %d is already open", script_fd);
			return NULL;
		}
	for (int i = 0; i < NSR_MAX_FDS; i++)
		if (!r->fds[i].used) {
			memset(&r->fds[i], 0, sizeof(r->fds[i]));
			r->fds[i].used = true;
			r->fds[i].script_fd = script_fd;
			r->fds[i].ns_fd = -1;
			return &r->fds[i];
		}
	nsr_r_fail(r, "too many descriptors");
	return NULL;
}

/* The script's default address for bind (local) or connect/sendto (remote). */
static socklen_t default_sa(struct nsr_runner *r, bool remote, int domain, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	const struct ns_addr *a = remote ? &r->remote : &r->local;
	uint16_t port = remote ? r->connect_port : r->bind_port;
	if (domain == NS_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = NS_AF_INET6;
		s6->sin6_port = htons(port);
		if (a->family == NS_AF_INET6)
			memcpy(&s6->sin6_addr, a->b, 16);
		else if (remote) {          /* ::ffff:a.b.c.d */
			s6->sin6_addr.s6_addr[10] = 0xff;
			s6->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&s6->sin6_addr.s6_addr[12], a->b, 4);
		}
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = NS_AF_INET;
	s4->sin_port = htons(port);
	if (remote)
		memcpy(&s4->sin_addr, a->b, 4);
	return sizeof(*s4);
}

/* ---- result checking -------------------------------------------------------------------- */

void nsr_sys_check(struct nsr_runner *r, const struct nsr_stmt *st, int64_t ret)
{
	if (r->failed || r->skipped_script)
		return;
	if (is_ellipsis(st->ret))
		return;
	bool ok;
	int64_t want = eval(r, st->ret, &ok);
	if (!ok)
		return;
	if (want < -1) {                /* system calls return -1 on error, never another negative */
		nsr_r_fail(r, "expected result %lld but got %lld%s%s", (long long)want, (long long)(ret < 0 ? -1 : ret),
			   ret < 0 ? " with errno " : "", ret < 0 ? err_name((int)-ret) : "");
		return;
	}
	if (want < 0) {
		if (ret >= 0) {
			nsr_r_fail(r, "expected -1%s%s but got %lld", st->err_name ? " " : "",
				   st->err_name ? st->err_name : "", (long long)ret);
			return;
		}
		if (st->err_name) {
			int e = err_value(st->err_name);
			if (e < 0)
				nsr_r_skip_script(r, "unknown errno %s", st->err_name);
			else if (e != -ret)
				nsr_r_fail(r, "expected errno %s but got %s (%lld)", st->err_name,
					   err_name((int)-ret), (long long)-ret);
		}
		return;
	}
	if (ret < 0)
		nsr_r_fail(r, "expected %lld but got -1 with errno %s (%lld)", (long long)want,
			   err_name((int)-ret), (long long)-ret);
	else if (ret != want)
		nsr_r_fail(r, "expected result %lld but got %lld", (long long)want, (long long)ret);
}

/* ---- calls ------------------------------------------------------------------------------- */

static struct ns_stack *stk(struct nsr_runner *r) { return r->v->stk; }

static void complete(struct nsr_runner *r, int64_t ret)
{
	r->pend.done = true;
	r->pend.done_ns = r->v->vc.now;
	r->pend.ret = ret;
}

static int64_t sys_socket(struct nsr_runner *r, const struct nsr_stmt *st)
{
	bool ok = true, ok2, ok3;
	int domain = is_ellipsis(arg(st, 0)) ? (r->family == NS_AF_INET6 || r->mapped ? NS_AF_INET6 : NS_AF_INET)
					       : (int)eval(r, arg(st, 0), &ok);
	int type = (int)eval(r, arg(st, 1), &ok2);
	int proto = (int)eval(r, arg(st, 2), &ok3);
	if (!ok || !ok2 || !ok3)
		return 0;
	int fd = ns_socket(stk(r), domain, type & ~NS_SOCK_NONBLOCK & ~NS_SOCK_CLOEXEC, proto);
	if (fd < 0)
		return fd;
	ns_fcntl(stk(r), fd, NS_F_SETFL, NS_O_NONBLOCK);
	int want = is_ellipsis(st->ret) ? fd : (int)eval(r, st->ret, &ok);
	if (want < 0) {
		ns_close(stk(r), fd);
		return 0;                   /* reported by the result check */
	}
	struct nsr_fd *f = fd_new(r, want);
	if (!f) {
		ns_close(stk(r), fd);
		return 0;
	}
	f->ns_fd = fd;
	f->type = type & 0xf;
	f->nonblock = type & NS_SOCK_NONBLOCK;
	/* a new socket under test: its packets map afresh */
	r->sut_type = f->type;
	r->sut_ns_fd = fd;
	r->lport_known = false;
	r->isn_known = false;
	r->ts_first = false;
	r->nts = 0;
	return want;
}

static int64_t sys_bind(struct nsr_runner *r, const struct nsr_stmt *st, struct nsr_fd *f)
{
	struct sockaddr_storage ss;
	if (!is_ellipsis(arg(st, 1))) {
		nsr_r_skip_script(r, "bind with an explicit address is not supported");
		return 0;
	}
	int dom = NS_AF_INET;
	socklen_t l = sizeof(int);
	ns_getsockopt(stk(r), f->ns_fd, NS_SOL_SOCKET, NS_SO_DOMAIN, &dom, &l);
	socklen_t len = default_sa(r, false, dom, &ss);
	return ns_bind(stk(r), f->ns_fd, (struct sockaddr *)&ss, len);
}

static int64_t try_connect(struct nsr_runner *r, struct nsr_fd *f, bool first)
{
	if (first) {
		struct sockaddr_storage ss;
		int dom = NS_AF_INET;
		socklen_t l = sizeof(int);
		ns_getsockopt(stk(r), f->ns_fd, NS_SOL_SOCKET, NS_SO_DOMAIN, &dom, &l);
		socklen_t len = default_sa(r, true, dom, &ss);
		int rc = ns_connect(stk(r), f->ns_fd, (struct sockaddr *)&ss, len);
		if (rc != -NS_EINPROGRESS || f->nonblock)
			return rc;
		return -NS_EAGAIN;          /* blocking: wait for the handshake */
	}
	int m = ns_poll_mask(stk(r), f->ns_fd);
	if (!(m & (NS_POLLOUT | NS_POLLERR | NS_POLLHUP)))
		return -NS_EAGAIN;
	int e = 0;
	socklen_t l = sizeof(e);
	ns_getsockopt(stk(r), f->ns_fd, NS_SOL_SOCKET, NS_SO_ERROR, &e, &l);
	return e ? -e : 0;
}

static size_t iov_total(const struct nsr_expr *msg, bool *ok)
{
	const struct nsr_expr *iov = field(msg, "msg_iov");
	*ok = iov && iov->kind == NSR_E_LIST;
	size_t t = 0;
	for (int i = 0; *ok && i < iov->nkids; i++) {
		const struct nsr_expr *v = iov->kids[i];
		const struct nsr_expr *len = field(v, "iov_len");
		if (!len && v->kind == NSR_E_STRUCT && v->nkids >= 2)
			len = v->kids[1];
		if (!len || len->kind != NSR_E_INT || len->ival < 0 || len->ival > (1 << 26))
			*ok = false;
		else
			t += (size_t)len->ival;
	}
	return t;
}

/* ---- sendmsg / recvmsg with their msghdr (iovec layout, control messages) ----------- */

/* sendmsg: one buffer per script iovec element (zerocopy counts fragments per
 * element), the part already sent by a blocking call skipped. */
static int64_t xfer_sendmsg(struct nsr_runner *r, const struct nsr_stmt *st, struct nsr_fd *f, bool first,
			    int flags, bool block)
{
	const struct nsr_expr *iovl = field(arg(st, 1), "msg_iov");
	int n = iovl->nkids;
	struct iovec *iov = calloc((size_t)n + 1, sizeof(*iov));
	if (!iov)
		return -NS_ENOMEM;
	size_t done = first ? 0 : r->pend.progress, skip = done, total = 0;
	int k = 0;
	for (int i = 0; i < n; i++) {
		const struct nsr_expr *v = iovl->kids[i];
		const struct nsr_expr *le = field(v, "iov_len");
		if (!le)
			le = v->kids[1];
		size_t l = (size_t)le->ival;
		total += l;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		iov[k].iov_len = l - skip;
		iov[k].iov_base = calloc(1, l - skip ? l - skip : 1);
		skip = 0;
		k++;
	}
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)k };
	ssize_t sn = ns_sendmsg(stk(r), f->ns_fd, &m, flags | NS_MSG_DONTWAIT | NS_MSG_NOSIGNAL);
	for (int i = 0; i < k; i++)
		free(iov[i].iov_base);
	free(iov);
	if (sn > 0)
		done += (size_t)sn;
	if (block && done < total && (sn > 0 || sn == -NS_EAGAIN)) {
		r->pend.progress = done;
		return -NS_EAGAIN;
	}
	return done ? (int64_t)done : sn;
}

struct ts64 {
	int64_t sec, nsec;
};

/* One received control message against its expected {cmsg_level, cmsg_type, cmsg_data}. */
static void check_cmsg(struct nsr_runner *r, const struct nsr_expr *want, const struct cmsghdr *c,
		       const uint8_t *d, size_t dlen)
{
	bool ok;
	int64_t lv = eval(r, field(want, "cmsg_level"), &ok);
	if (ok && lv != c->cmsg_level)
		nsr_r_fail(r, "cmsg_level: expected %lld, got %d", (long long)lv, c->cmsg_level);
	int64_t ty = eval(r, field(want, "cmsg_type"), &ok);
	if (ok && ty != c->cmsg_type)
		nsr_r_fail(r, "cmsg_type: expected %lld, got %d", (long long)ty, c->cmsg_type);
	const struct nsr_expr *wd = field(want, "cmsg_data");
	if (wd && wd->kind == NSR_E_INT && !r->failed) {
		/* an int payload (TCP_CM_INQ, IP_TTL, ...) */
		int v = 0;
		if (dlen >= sizeof(v))
			memcpy(&v, d, sizeof(v));
		if (dlen < sizeof(v) || v != wd->ival)
			nsr_r_fail(r, "cmsg_data: expected %lld, got %d", (long long)wd->ival, v);
		return;
	}
	if (!wd || wd->kind != NSR_E_STRUCT || r->failed)
		return;
	if ((c->cmsg_type == NS_IP_RECVERR || c->cmsg_type == NS_IPV6_RECVERR) && dlen >= 16) {
		struct ns_sock_extended_err ee;
		memcpy(&ee, d, sizeof(ee));
		static const char *const names[] = { "ee_errno", "ee_origin", "ee_type", "ee_code", "ee_info", "ee_data" };
		int64_t got[] = { ee.ee_errno, ee.ee_origin, ee.ee_type, ee.ee_code, ee.ee_info, ee.ee_data };
		for (size_t i = 0; i < NS_ARRAY_SIZE(names); i++) {
			const struct nsr_expr *e = field(wd, names[i]);
			if (!e || is_ellipsis(e))
				continue;
			int64_t w = e->kind == NSR_E_SYM && err_value(e->s) >= 0 ? err_value(e->s) : eval(r, e, &ok);
			if (ok && (uint32_t)w != (uint32_t)got[i])
				nsr_r_fail(r, "%s: expected %lld, got %lld", names[i], (long long)w, (long long)got[i]);
		}
	} else if (c->cmsg_type == NS_SO_TIMESTAMPING && dlen >= sizeof(struct ts64)) {
		struct ts64 ts;
		memcpy(&ts, d, sizeof(ts));
		int64_t s = eval(r, field(wd, "scm_sec"), &ok);
		bool ok2;
		int64_t ns = eval(r, field(wd, "scm_nsec"), &ok2);
		if (!ok || !ok2)
			return;
		int64_t want_ns = (int64_t)r->t0 + s * 1000000000ll + ns;
		int64_t got_ns = ts.sec * 1000000000ll + ts.nsec;
		int64_t diff = got_ns > want_ns ? got_ns - want_ns : want_ns - got_ns;
		if ((uint64_t)diff > r->tol_ns)
			nsr_r_fail(r, "SCM_TIMESTAMPING: expected %.6f s, got %.6f s", (double)(want_ns - (int64_t)r->t0) / 1e9,
				   (double)(got_ns - (int64_t)r->t0) / 1e9);
	}
}

static void check_cmsgs(struct nsr_runner *r, const struct nsr_expr *want, const struct msghdr *m)
{
	const uint8_t *p = m->msg_control;
	size_t off = 0, n = 0;
	int i = 0;
	while (off + sizeof(struct cmsghdr) <= m->msg_controllen && !r->failed) {
		struct cmsghdr c;
		memcpy(&c, p + off, sizeof(c));
		if (c.cmsg_len < sizeof(c) || c.cmsg_len > m->msg_controllen - off)
			break;
		n++;
		if (i < want->nkids)
			check_cmsg(r, want->kids[i++], &c, p + off + sizeof(c), c.cmsg_len - sizeof(c));
		off += (c.cmsg_len + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1);
	}
	if (!r->failed && n != (size_t)want->nkids)
		nsr_r_fail(r, "control messages: expected %d, got %zu", want->nkids, n);
}

/* recvmsg: data read and dropped; msg_flags and msg_control compared. */
static int64_t xfer_recvmsg(struct nsr_runner *r, const struct nsr_stmt *st, struct nsr_fd *f, int flags,
			    size_t count)
{
	uint8_t *buf = calloc(1, count ? count : 1);
	uint8_t ctl[1024];
	struct sockaddr_storage ss;
	if (!buf)
		return -NS_ENOMEM;
	struct iovec iov = { .iov_base = buf, .iov_len = count };
	struct msghdr m = { .msg_name = &ss, .msg_namelen = sizeof(ss), .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	ssize_t n = ns_recvmsg(stk(r), f->ns_fd, &m, flags | NS_MSG_DONTWAIT);
	free(buf);
	if (n < 0)
		return n;
	const struct nsr_expr *msg = arg(st, 1);
	const struct nsr_expr *mf = field(msg, "msg_flags");
	bool ok;
	if (mf && !is_ellipsis(mf)) {
		int64_t w = eval(r, mf, &ok);
		if (ok && w != m.msg_flags)
			nsr_r_fail(r, "msg_flags: expected 0x%llx, got 0x%x", (unsigned long long)w, m.msg_flags);
	}
	const struct nsr_expr *mc = field(msg, "msg_control");
	if (mc && mc->kind == NSR_E_LIST && !r->failed)
		check_cmsgs(r, mc, &m);
	return n;
}

/* Data calls: count from the arguments; flags extra.  Writes are zeros. */
static int64_t try_xfer(struct nsr_runner *r, const struct nsr_stmt *st, struct nsr_fd *f, bool first,
			bool *blocking_ok)
{
	const char *c = st->call;
	bool w = !strcmp(c, "write") || !strcmp(c, "send") || !strcmp(c, "sendto") || !strcmp(c, "sendmsg");
	bool ok = true;
	size_t count = 0;
	int flags = 0;
	if (!strcmp(c, "sendmsg") || !strcmp(c, "recvmsg")) {
		count = iov_total(arg(st, 1), &ok);
		if (!ok) {
			nsr_r_skip_script(r, "msghdr form not supported");
			return 0;
		}
		flags = (int)eval(r, arg(st, 2), &ok);
	} else {
		int64_t n = eval(r, arg(st, 2), &ok);
		if (!ok || n < 0 || n > (1 << 26)) {
			if (ok)
				nsr_r_skip_script(r, "bad length");
			return 0;
		}
		count = (size_t)n;
		if (arg(st, 3))
			flags = (int)eval(r, arg(st, 3), &ok);
	}
	if (!ok)
		return 0;
	if (flags & 0x20000000) {
		nsr_r_skip_script(r, "MSG_FASTOPEN is not supported");
		return 0;
	}
	bool block = !f->nonblock && !(flags & NS_MSG_DONTWAIT) && !(flags & NS_MSG_ERRQUEUE);
	*blocking_ok = block;
	if (!strcmp(c, "sendmsg"))
		return xfer_sendmsg(r, st, f, first, flags, block);
	if (!strcmp(c, "recvmsg"))
		return xfer_recvmsg(r, st, f, flags, count);
	uint8_t *buf = calloc(1, count ? count : 1);
	if (!buf)
		return -NS_ENOMEM;
	int64_t ret;
	if (w) {
		size_t done = first ? 0 : r->pend.progress;
		ssize_t n = ns_send(stk(r), f->ns_fd, buf, count - done, flags | NS_MSG_DONTWAIT | NS_MSG_NOSIGNAL);
		if (n > 0)
			done += (size_t)n;
		if (block && done < count && (n > 0 || n == -NS_EAGAIN)) {
			r->pend.progress = done;
			ret = -NS_EAGAIN;       /* keep waiting for room */
		} else {
			ret = done ? (int64_t)done : n;
		}
	} else {
		ssize_t n = ns_recv(stk(r), f->ns_fd, buf, count, flags | NS_MSG_DONTWAIT);
		ret = n;
	}
	free(buf);
	return ret;
}

static int64_t sys_sockopt(struct nsr_runner *r, const struct nsr_stmt *st, struct nsr_fd *f, bool set)
{
	bool ok, ok2;
	int level = (int)eval(r, arg(st, 1), &ok);
	int name = (int)eval(r, arg(st, 2), &ok2);
	if (!ok || !ok2)
		return 0;
	const struct nsr_expr *val = arg(st, 3);
	union { int i; struct { int on, sec; } lg; struct { int64_t s, us; } tv; char s[64]; uint8_t b[256]; } u;
	memset(&u, 0, sizeof(u));
	socklen_t len = sizeof(int);
	if (set) {
		if (val && val->kind == NSR_E_LIST && val->nkids == 1 && val->kids[0]->kind != NSR_E_STRUCT) {
			u.i = (int)eval(r, val, &ok);
			if (!ok)
				return 0;
		} else if (val && val->kind == NSR_E_STRUCT && field(val, "l_onoff")) {
			u.lg.on = (int)eval(r, field(val, "l_onoff"), &ok);
			u.lg.sec = (int)eval(r, field(val, "l_linger"), &ok2);
			len = sizeof(u.lg);
		} else if (val && val->kind == NSR_E_STRUCT && field(val, "tv_sec")) {
			u.tv.s = eval(r, field(val, "tv_sec"), &ok);
			u.tv.us = eval(r, field(val, "tv_usec"), &ok2);
			len = sizeof(u.tv);
			uint64_t us = (uint64_t)u.tv.s * 1000000ull + (uint64_t)u.tv.us;
			if (name == NS_SO_RCVTIMEO)
				f->rcvtimeo_us = us;
			if (name == NS_SO_SNDTIMEO)
				f->sndtimeo_us = us;
		} else if (val && val->kind == NSR_E_STR) {
			snprintf(u.s, sizeof(u.s), "%s", val->s);
			len = (socklen_t)strlen(u.s);
		} else {
			nsr_r_skip_script(r, "setsockopt value form not supported");
			return 0;
		}
		const struct nsr_expr *le = arg(st, 4);
		if (le && le->kind == NSR_E_INT && le->ival >= 0 && le->ival <= (int64_t)sizeof(u))
			len = (socklen_t)le->ival;
		return ns_setsockopt(stk(r), f->ns_fd, level, name, &u, len);
	}
	len = sizeof(u);
	const struct nsr_expr *le = arg(st, 4);
	if (le && le->kind == NSR_E_LIST && le->nkids == 1 && le->kids[0]->kind == NSR_E_INT &&
	    le->kids[0]->ival >= 0 && le->kids[0]->ival <= (int64_t)sizeof(u))
		len = (socklen_t)le->kids[0]->ival;
	int rc = ns_getsockopt(stk(r), f->ns_fd, level, name, &u, &len);
	if (rc < 0)
		return rc;
	if (val && val->kind == NSR_E_LIST && val->nkids == 1 && val->kids[0]->kind != NSR_E_STRUCT &&
	    !is_ellipsis(val->kids[0])) {
		int64_t want = eval(r, val, &ok);
		if (ok && (int64_t)(uint32_t)u.i != (int64_t)(uint32_t)want)
			nsr_r_fail(r, "getsockopt value: expected %lld, got %d", (long long)want, u.i);
	} else if (val && val->kind == NSR_E_STRUCT && field(val, "l_onoff")) {
		int64_t on = eval(r, field(val, "l_onoff"), &ok), sec = eval(r, field(val, "l_linger"), &ok2);
		if (ok && ok2 && (u.lg.on != 0) != (on != 0))
			nsr_r_fail(r, "SO_LINGER l_onoff: expected %lld, got %d", (long long)on, u.lg.on);
		else if (ok && ok2 && u.lg.sec != sec)
			nsr_r_fail(r, "SO_LINGER l_linger: expected %lld, got %d", (long long)sec, u.lg.sec);
	} else if (val && val->kind == NSR_E_STR) {
		if (strncmp(u.s, val->s, sizeof(u.s)))
			nsr_r_fail(r, "getsockopt value: expected \"%s\", got \"%.64s\"", val->s, u.s);
	} else if (!is_ellipsis(val)) {
		nsr_r_skip_stmt(r, st, "getsockopt value not compared (structure)");
	}
	if (le && le->kind == NSR_E_LIST && le->nkids == 1 && le->kids[0]->kind == NSR_E_INT &&
	    (int64_t)len != le->kids[0]->ival)
		nsr_r_fail(r, "getsockopt length: expected %lld, got %u", (long long)le->kids[0]->ival, len);
	return rc;
}

static int64_t sys_fcntl(struct nsr_runner *r, const struct nsr_stmt *st, struct nsr_fd *f)
{
	bool ok;
	int cmd = (int)eval(r, arg(st, 1), &ok);
	if (!ok)
		return 0;
	if (cmd == NS_F_GETFL)
		return 2 | (f->nonblock ? NS_O_NONBLOCK : 0);
	if (cmd == NS_F_SETFL) {
		int64_t v = eval(r, arg(st, 2), &ok);
		if (!ok)
			return 0;
		f->nonblock = v & NS_O_NONBLOCK;
		return 0;
	}
	nsr_r_skip_script(r, "fcntl command %d not supported", cmd);
	return 0;
}

static int64_t sys_ioctl(struct nsr_runner *r, const struct nsr_stmt *st, struct nsr_fd *f)
{
	bool ok;
	unsigned long req = (unsigned long)eval(r, arg(st, 1), &ok);
	if (!ok)
		return 0;
	int v = 0;
	if (req == NS_FIONBIO) {
		int64_t x = eval(r, arg(st, 2), &ok);
		f->nonblock = x != 0;
		return 0;
	}
	int rc = ns_ioctl(stk(r), f->ns_fd, req, &v);
	if (rc < 0)
		return rc;
	const struct nsr_expr *val = arg(st, 2);
	if (val && !is_ellipsis(val)) {
		int64_t want = eval(r, val, &ok);
		if (ok && want != v)
			nsr_r_fail(r, "ioctl value: expected %lld, got %d", (long long)want, v);
	}
	return rc;
}

/* poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, timeout_ms) */
static int64_t try_poll(struct nsr_runner *r, const struct nsr_stmt *st, bool first, bool final)
{
	const struct nsr_expr *l = arg(st, 0);
	if (!l || l->kind != NSR_E_LIST) {
		nsr_r_skip_script(r, "poll argument form not supported");
		return 0;
	}
	int n = 0;
	for (int i = 0; i < l->nkids; i++) {
		const struct nsr_expr *p = l->kids[i];
		struct nsr_fd *f = fd_get(r, field(p, "fd"), false);
		bool ok;
		int ev = (int)eval(r, field(p, "events"), &ok);
		if (!f || !ok)
			return 0;
		int m = ns_poll_mask(stk(r), f->ns_fd) & (ev | NS_POLLERR | NS_POLLHUP);
		if (m)
			n++;
	}
	(void)first;
	(void)final;
	return n;
}

static void check_poll_revents(struct nsr_runner *r, const struct nsr_stmt *st)
{
	const struct nsr_expr *l = arg(st, 0);
	for (int i = 0; l && i < l->nkids; i++) {
		const struct nsr_expr *p = l->kids[i];
		struct nsr_fd *f = fd_get(r, field(p, "fd"), true);
		bool ok, ok2;
		int ev = (int)eval(r, field(p, "events"), &ok);
		const struct nsr_expr *re = field(p, "revents");
		if (!f || !ok || !re || is_ellipsis(re))
			continue;
		int64_t want = eval(r, re, &ok2);
		int m = ns_poll_mask(stk(r), f->ns_fd) & (ev | NS_POLLERR | NS_POLLHUP);
		if (ok2 && m != want)
			nsr_r_fail(r, "poll revents for fd %d: expected 0x%llx, got 0x%x", f->script_fd,
				   (unsigned long long)want, m);
	}
}

static int64_t sys_epoll_create(struct nsr_runner *r, const struct nsr_stmt *st)
{
	bool ok;
	if (r->nep >= NSR_MAX_EPOLL) {
		nsr_r_skip_script(r, "too many epoll instances");
		return 0;
	}
	int want = (int)eval(r, st->ret, &ok);
	if (!ok || want < 0)
		return 0;
	struct nsr_fd *f = fd_new(r, want);
	if (!f)
		return 0;
	f->is_epoll = true;
	f->epoll = r->nep++;
	memset(&r->ep[f->epoll], 0, sizeof(r->ep[0]));
	return want;
}

static int64_t sys_epoll_ctl(struct nsr_runner *r, const struct nsr_stmt *st)
{
	struct nsr_fd *ef = fd_get(r, arg(st, 0), false);
	bool ok, ok2;
	int op = (int)eval(r, arg(st, 1), &ok);
	struct nsr_fd *f = fd_get(r, arg(st, 2), false);
	if (!ef || !f || !ok)
		return 0;
	if (!ef->is_epoll)
		return -NS_EINVAL;
	struct nsr_epoll *ep = &r->ep[ef->epoll];
	int idx = -1;
	for (int i = 0; i < ep->n; i++)
		if (ep->e[i].script_fd == f->script_fd)
			idx = i;
	const struct nsr_expr *ev = arg(st, 3);
	uint32_t events = ev && !is_ellipsis(ev) ? (uint32_t)eval(r, field(ev, "events"), &ok2) : 0;
	if (op == 1) {
		if (idx >= 0)
			return -NS_EEXIST;
		if (ep->n >= 16)
			return -NS_ENOMEM;
		idx = ep->n++;
	} else if (idx < 0) {
		return -NS_ENOENT;
	}
	if (op == 2) {
		ep->e[idx] = ep->e[--ep->n];
		return 0;
	}
	ep->e[idx] = (struct nsr_epoll_ent){ .script_fd = f->script_fd, .events = events };
	return 0;
}

/* Ready events of an epoll set now; fills the first ready entry. */
static int epoll_scan(struct nsr_runner *r, struct nsr_epoll *ep, bool consume, uint32_t *ev0, int *fd0)
{
	int n = 0;
	for (int i = 0; i < ep->n; i++) {
		struct nsr_epoll_ent *e = &ep->e[i];
		struct nsr_fd *f = NULL;
		for (int j = 0; j < NSR_MAX_FDS; j++)
			if (r->fds[j].used && r->fds[j].script_fd == e->script_fd)
				f = &r->fds[j];
		if (!f || e->disabled)
			continue;
		uint32_t m = (uint32_t)ns_poll_mask(stk(r), f->ns_fd) & (e->events | NS_POLLERR | NS_POLLHUP) & 0xffff;
		uint32_t rep = m;
		if (e->events & (1u << 31))          /* edge-triggered: only newly raised bits */
			rep = m & ~e->last;
		if (consume)
			e->last = m;
		if (!rep)
			continue;
		if (n == 0) {
			*ev0 = (e->events & (1u << 31)) ? m : rep;
			*fd0 = e->script_fd;
		}
		n++;
		if (consume && (e->events & (1u << 30)))
			e->disabled = true;
	}
	return n;
}

static int64_t try_epoll_wait(struct nsr_runner *r, const struct nsr_stmt *st, bool final)
{
	struct nsr_fd *ef = fd_get(r, arg(st, 0), false);
	if (!ef)
		return 0;
	if (!ef->is_epoll)
		return -NS_EINVAL;
	uint32_t ev = 0;
	int fd = -1;
	int n = epoll_scan(r, &r->ep[ef->epoll], false, &ev, &fd);
	if (!n && !final)
		return -NS_EAGAIN;
	n = epoll_scan(r, &r->ep[ef->epoll], true, &ev, &fd);
	bool ok;
	int64_t maxev = eval(r, arg(st, 2), &ok);
	if (ok && n > maxev)
		n = (int)maxev;
	const struct nsr_expr *want = arg(st, 1);
	if (n > 0 && want && want->kind == NSR_E_STRUCT) {
		const struct nsr_expr *we = field(want, "events"), *wf = field(want, "fd");
		bool ok2;
		int64_t wev = we ? eval(r, we, &ok2) : 0;
		if (we && ok2 && (uint32_t)wev != ev)
			nsr_r_fail(r, "epoll_wait events: expected 0x%llx, got 0x%x", (unsigned long long)wev, ev);
		if (wf && !is_ellipsis(wf)) {
			int64_t wfd = eval(r, wf, &ok2);
			if (ok2 && wfd != fd)
				nsr_r_fail(r, "epoll_wait fd: expected %lld, got %d", (long long)wfd, fd);
		}
	}
	return n;
}

/* ---- files for sendfile(): in-memory files of zeros made by the script's dd
 * lines, or existing host files opened read-only ------------------------------------- */

static struct nsr_vfile *vfile_find(struct nsr_runner *r, const char *path)
{
	for (int i = 0; i < r->nvfiles; i++)
		if (!strcmp(r->vfiles[i].path, path))
			return &r->vfiles[i];
	return NULL;
}

static bool shell_sysctls(struct nsr_runner *r, const char *s);

/* "dd ... if=/dev/zero of=PATH bs=B count=N" and "rm -f PATH" on in-memory files;
 * set_sysctls.py lines (shell_sysctls). */
bool nsr_sys_shell_line(struct nsr_runner *r, const char *line)
{
	const char *sc = strstr(line, "set_sysctls.py");
	if (sc && (sc == line || sc[-1] == '/'))
		return shell_sysctls(r, line);
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", line);
	char *words[16];
	int n = 0;
	for (char *t = strtok(buf, " \t"); t && n < 16; t = strtok(NULL, " \t"))
		words[n++] = t;
	if (n == 0)
		return false;
	const char *cmd = strrchr(words[0], '/') ? strrchr(words[0], '/') + 1 : words[0];
	if (!strcmp(cmd, "rm")) {
		for (int i = 1; i < n; i++) {
			if (words[i][0] == '-')
				continue;
			struct nsr_vfile *v = vfile_find(r, words[i]);
			if (v)
				*v = r->vfiles[--r->nvfiles];
		}
		return true;
	}
	if (strcmp(cmd, "dd"))
		return false;
	const char *in = NULL, *out = NULL;
	long long bs = 512, count = -1;
	for (int i = 1; i < n; i++) {
		if (!strncmp(words[i], "if=", 3))
			in = words[i] + 3;
		else if (!strncmp(words[i], "of=", 3))
			out = words[i] + 3;
		else if (!strncmp(words[i], "bs=", 3))
			bs = atoll(words[i] + 3);
		else if (!strncmp(words[i], "count=", 6))
			count = atoll(words[i] + 6);
		else if (strncmp(words[i], "status=", 7))
			return false;
	}
	if (!in || !out || strcmp(in, "/dev/zero") || count < 0 || bs <= 0 || bs * count > (1 << 26) ||
	    strlen(out) >= sizeof(r->vfiles[0].path))
		return false;
	struct nsr_vfile *v = vfile_find(r, out);
	if (!v) {
		if (r->nvfiles == (int)NS_ARRAY_SIZE(r->vfiles))
			return false;
		v = &r->vfiles[r->nvfiles++];
		snprintf(v->path, sizeof(v->path), "%s", out);
	}
	v->size = (size_t)(bs * count);
	return true;
}

static int64_t sys_open(struct nsr_runner *r, const struct nsr_stmt *st)
{
	const struct nsr_expr *pe = arg(st, 0);
	bool ok;
	int64_t fl = eval(r, arg(st, 1), &ok);
	if (!pe || pe->kind != NSR_E_STR || !ok) {
		nsr_r_skip_script(r, "open argument form not supported");
		return 0;
	}
	if ((fl & 3) != 0) {
		nsr_r_skip_script(r, "open: only O_RDONLY files are supported");
		return 0;
	}
	struct nsr_vfile *v = vfile_find(r, pe->s);
	int os_fd = -1;
	if (!v) {
		os_fd = open(pe->s, O_RDONLY | O_NONBLOCK);
		if (os_fd < 0)
			return -errno;      /* host errno numbers are Linux's here */
		struct stat sb;
		if (fstat(os_fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			close(os_fd);       /* devices and FIFOs could block the runner */
			nsr_r_skip_script(r, "open: only regular files are supported");
			return 0;
		}
	}
	int want = is_ellipsis(st->ret) ? 100 : (int)eval(r, st->ret, &ok);
	struct nsr_fd *f = want >= 0 ? fd_new(r, want) : NULL;
	if (!f) {
		if (os_fd >= 0)
			close(os_fd);
		return 0;
	}
	f->is_file = true;
	f->os_fd = os_fd;
	f->vfile = v ? (int)(v - r->vfiles) : -1;
	return want;
}

/* Up to len bytes of the file at off into buf; bytes read or -errno. */
static ssize_t file_read(struct nsr_runner *r, struct nsr_fd *in, uint64_t off, uint8_t *buf, size_t len)
{
	if (in->vfile >= 0) {
		size_t sz = r->vfiles[in->vfile].size;
		size_t n = off >= sz ? 0 : NS_MIN(len, sz - (size_t)off);
		memset(buf, 0, n);
		return (ssize_t)n;
	}
	ssize_t n = pread(in->os_fd, buf, len, (off_t)off);
	return n < 0 ? -errno : n;
}

/* sendfile(out, in, [offset] or NULL, count): the file's bytes written like write(). */
static int64_t try_sendfile(struct nsr_runner *r, const struct nsr_stmt *st, struct nsr_fd *out, bool first,
			    bool block)
{
	bool ok, ok2;
	struct nsr_fd *in = fd_get(r, arg(st, 1), false);
	int64_t count = eval(r, arg(st, 3), &ok);
	if (!in || !ok || count < 0 || count > (1 << 26))
		return 0;
	if (!in->is_file)
		return -NS_EINVAL;
	const struct nsr_expr *oe = arg(st, 2);
	bool has_off = oe && !(oe->kind == NSR_E_SYM && !strcmp(oe->s, "NULL"));
	int64_t off0 = has_off ? eval(r, oe, &ok2) : (int64_t)in->file_off;
	if (has_off && !ok2)
		return 0;
	size_t done = first ? 0 : r->pend.progress;
	uint8_t *buf = malloc((size_t)count + 1);
	if (!buf)
		return -NS_ENOMEM;
	ssize_t rn = file_read(r, in, (uint64_t)off0 + done, buf, (size_t)count - done);
	ssize_t n = rn;
	if (rn > 0)
		n = ns_send(stk(r), out->ns_fd, buf, (size_t)rn, NS_MSG_DONTWAIT | NS_MSG_NOSIGNAL);
	free(buf);
	if (n > 0)
		done += (size_t)n;
	if (!has_off)
		in->file_off = (uint64_t)off0 + done;
	if (block && rn > 0 && done < (size_t)count && (n > 0 || n == -NS_EAGAIN)) {
		r->pend.progress = done;
		return -NS_EAGAIN;
	}
	return done ? (int64_t)done : n;
}

/* One attempt at the statement's call: a result, or -EAGAIN to keep blocking. */
static int64_t attempt(struct nsr_runner *r, const struct nsr_stmt *st, bool first, bool *blocking_ok)
{
	const char *c = st->call;
	*blocking_ok = false;
	if (!strcmp(c, "socket"))
		return first ? sys_socket(r, st) : 0;
	if (!strcmp(c, "epoll_create") || !strcmp(c, "epoll_create1"))
		return sys_epoll_create(r, st);
	if (!strcmp(c, "epoll_ctl"))
		return sys_epoll_ctl(r, st);
	if (!strcmp(c, "epoll_wait") || !strcmp(c, "epoll_pwait")) {
		bool ok;
		int64_t to = eval(r, arg(st, 3), &ok);
		*blocking_ok = to != 0;
		if (first && to > 0)
			r->pend.deadline_ns = r->v->vc.now + (uint64_t)to * NS_NSEC_PER_MSEC;
		bool final = to == 0 || (r->pend.deadline_ns && r->v->vc.now >= r->pend.deadline_ns);
		if (final)
			*blocking_ok = false;
		return try_epoll_wait(r, st, final);
	}
	if (!strcmp(c, "poll")) {
		bool ok;
		int64_t to = eval(r, arg(st, 2), &ok);
		*blocking_ok = to != 0;
		if (first && to > 0)
			r->pend.deadline_ns = r->v->vc.now + (uint64_t)to * NS_NSEC_PER_MSEC;
		bool final = to == 0 || (r->pend.deadline_ns && r->v->vc.now >= r->pend.deadline_ns);
		int64_t n = try_poll(r, st, first, final);
		if (n == 0 && !final)
			return -NS_EAGAIN;
		*blocking_ok = false;
		check_poll_revents(r, st);
		return n;
	}
	if (!strcmp(c, "open"))
		return sys_open(r, st);
	static const char *const unsupported[] = { "splice", "pipe", "openat", "mmap",
						   "sendmmsg", "recvmmsg", "io_uring_setup", "setsockopt_raw" };
	for (size_t i = 0; i < NS_ARRAY_SIZE(unsupported); i++)
		if (!strcmp(c, unsupported[i])) {
			nsr_r_skip_script(r, "system call %s is not supported by the in-process runner", c);
			return 0;
		}
	struct nsr_fd *f = fd_get(r, arg(st, 0), true);
	if (!f) {
		if (!r->skipped_script)
			return -NS_EBADF;
		return 0;
	}
	if (!strcmp(c, "sendfile")) {
		*blocking_ok = !f->nonblock;
		return try_sendfile(r, st, f, first, *blocking_ok);
	}
	if (f->is_file && strcmp(c, "close")) {
		nsr_r_skip_script(r, "%s on a file descriptor is not supported", c);
		return 0;
	}
	if (f->is_epoll && strcmp(c, "close")) {
		nsr_r_skip_script(r, "%s on an epoll descriptor is not supported", c);
		return 0;
	}
	if (!strcmp(c, "close")) {
		if (f->is_file && f->os_fd >= 0)
			close(f->os_fd);
		else if (!f->is_epoll)
			ns_close(stk(r), f->ns_fd);
		if (!f->is_epoll && f->ns_fd == r->sut_ns_fd)
			r->sut_ns_fd = -1;
		f->used = false;
		return 0;
	}
	if (!strcmp(c, "bind"))
		return sys_bind(r, st, f);
	if (!strcmp(c, "listen")) {
		bool ok;
		int64_t bl = eval(r, arg(st, 1), &ok);
		return ok ? ns_listen(stk(r), f->ns_fd, (int)bl) : 0;
	}
	if (!strcmp(c, "connect")) {
		*blocking_ok = !f->nonblock;
		return try_connect(r, f, first);
	}
	if (!strcmp(c, "accept") || !strcmp(c, "accept4")) {
		*blocking_ok = !f->nonblock;
		int nfd = ns_accept(stk(r), f->ns_fd, NULL, NULL, NS_SOCK_NONBLOCK);
		if (nfd < 0)
			return nfd;
		ns_fcntl(stk(r), nfd, NS_F_SETFL, NS_O_NONBLOCK);
		bool ok;
		int want = is_ellipsis(st->ret) ? nfd : (int)eval(r, st->ret, &ok);
		struct nsr_fd *nf = want >= 0 ? fd_new(r, want) : NULL;
		if (!nf) {
			ns_close(stk(r), nfd);
			return want >= 0 ? 0 : nfd;
		}
		nf->ns_fd = nfd;
		nf->type = NS_SOCK_STREAM;
		r->sut_ns_fd = nfd;
		return want;
	}
	if (!strcmp(c, "read") || !strcmp(c, "recv") || !strcmp(c, "recvfrom") || !strcmp(c, "recvmsg") ||
	    !strcmp(c, "write") || !strcmp(c, "send") || !strcmp(c, "sendto") || !strcmp(c, "sendmsg")) {
		bool rd = c[0] == 'r';
		uint64_t to = rd ? f->rcvtimeo_us : f->sndtimeo_us;
		if (first && to && !f->nonblock)
			r->pend.deadline_ns = r->v->vc.now + to * 1000ull;
		int64_t ret = try_xfer(r, st, f, first, blocking_ok);
		if (ret == -NS_EAGAIN && r->pend.deadline_ns && r->v->vc.now >= r->pend.deadline_ns) {
			*blocking_ok = false;       /* SO_RCVTIMEO / SO_SNDTIMEO expired */
			if (!rd && r->pend.progress)
				return (int64_t)r->pend.progress;
		}
		return ret;
	}
	if (!strcmp(c, "shutdown")) {
		bool ok;
		int64_t how = eval(r, arg(st, 1), &ok);
		return ok ? ns_shutdown(stk(r), f->ns_fd, (int)how) : 0;
	}
	if (!strcmp(c, "setsockopt"))
		return sys_sockopt(r, st, f, true);
	if (!strcmp(c, "getsockopt"))
		return sys_sockopt(r, st, f, false);
	if (!strcmp(c, "fcntl"))
		return sys_fcntl(r, st, f);
	if (!strcmp(c, "ioctl"))
		return sys_ioctl(r, st, f);
	if (!strcmp(c, "getsockname") || !strcmp(c, "getpeername")) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		return c[3] == 's' ? ns_getsockname(stk(r), f->ns_fd, (struct sockaddr *)&ss, &len)
				   : ns_getpeername(stk(r), f->ns_fd, (struct sockaddr *)&ss, &len);
	}
	nsr_r_skip_script(r, "system call %s is not supported by the in-process runner", c);
	return 0;
}

void nsr_sys_start(struct nsr_runner *r, const struct nsr_stmt *st, uint64_t end_ns)
{
	memset(&r->pend, 0, sizeof(r->pend));
	r->pend.active = true;
	r->pend.st = st;
	r->pend.start_ns = r->v->vc.now;
	r->pend.end_ns = end_ns;
	bool blocking_ok;
	int64_t ret = attempt(r, st, true, &blocking_ok);
	if (r->failed || r->skipped_script) {
		r->pend.active = false;
		return;
	}
	if (ret == -NS_EAGAIN && blocking_ok)
		return;                     /* pending: retried as time moves */
	complete(r, ret);
}

bool nsr_sys_retry(struct nsr_runner *r)
{
	if (!r->pend.active || r->pend.done || r->failed || r->skipped_script)
		return false;
	bool blocking_ok;
	const struct nsr_stmt *save = r->cur;
	r->cur = r->pend.st;
	int64_t ret = attempt(r, r->pend.st, false, &blocking_ok);
	r->cur = save;
	if (ret == -NS_EAGAIN && blocking_ok && !r->failed && !r->skipped_script)
		return false;
	complete(r, ret);
	return true;
}

void nsr_sys_close_all(struct nsr_runner *r)
{
	for (int i = 0; i < NSR_MAX_FDS; i++) {
		if (r->fds[i].used && r->fds[i].is_file && r->fds[i].os_fd >= 0)
			close(r->fds[i].os_fd);
		else if (r->fds[i].used && !r->fds[i].is_epoll && r->fds[i].ns_fd >= 0)
			ns_close(stk(r), r->fds[i].ns_fd);
		r->fds[i].used = false;
	}
}

/* ---- shell lines ------------------------------------------------------------------- */

/* Applies one "/proc/sys/net/ipv4/NAME=VALUE" argument of set_sysctls.py with
 * ns_sysctl_set; false if the stack has no such tunable or rejects the value. */
static bool shell_sysctl(struct nsr_runner *r, const char *arg, size_t n)
{
	static const char pfx[] = "/proc/sys/net/ipv4/";
	char buf[200], name[220];
	if (n >= sizeof(buf) || n < sizeof(pfx) || strncmp(arg, pfx, sizeof(pfx) - 1) != 0)
		return false;
	memcpy(buf, arg, n);
	buf[n] = '\0';
	char *eq = strchr(buf, '=');
	if (!eq)
		return false;
	*eq = '\0';
	char *val = eq + 1;
	size_t vl = strlen(val);
	if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
		val[vl - 1] = '\0';
		val++;
	}
	snprintf(name, sizeof(name), "net.ipv4.%s", buf + sizeof(pfx) - 1);
	return ns_sysctl_set(r->v->stk, name, val) == 0;
}

/* "set_sysctls.py /proc/sys/net/ipv4/NAME=VALUE ...": every tunable the stack
 * has is set with ns_sysctl_set (a quoted value is one argument); false when
 * any argument could not be honoured. */
static bool shell_sysctls(struct nsr_runner *r, const char *s)
{
	const char *p = strstr(s, "set_sysctls.py") + strlen("set_sysctls.py");
	bool all = true;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *a = p;
		char q = 0;
		while (*p && (q || (*p != ' ' && *p != '\t'))) {
			if (*p == '"' || *p == '\'')
				q = q == *p ? 0 : (q ? q : *p);
			p++;
		}
		if (p == a || (p - a == 1 && *a == '\\'))
			continue;       /* line continuation */
		if (!shell_sysctl(r, a, (size_t)(p - a)))
			all = false;
	}
	return all;
}
