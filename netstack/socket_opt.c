/*
 * netstack/socket_opt.c - SOL_SOCKET options with Linux's semantics:
 * the optlen checks (set: at least an int, else EINVAL, before the name is
 * looked at; get: the value is truncated to the caller's length), buffer
 * sizes doubled and clamped (net.core.[rw]mem_max, SOCK_MIN_*BUF),
 * timeouts as struct timeval (EDOM for a bad tv_usec; a negative tv_sec
 * means "do not wait"), SO_ERROR read-and-clear, read-only options and
 * unknown ones (ENOPROTOOPT).
 */
#include <limits.h>
#include "socket_internal.h"

static int get_int(const void *v) { int x; memcpy(&x, v, sizeof(x)); return x; }

static uint64_t timeval_to_ns(const struct ns_timeval *tv)
{
	if (tv->tv_sec < 0)
		return 1;               /* Linux: timeout 0 = return at once */
	if (tv->tv_sec == 0 && tv->tv_usec == 0)
		return 0;               /* forever */
	if ((uint64_t)tv->tv_sec > UINT64_MAX / NS_NSEC_PER_SEC / 2)
		return 0;
	return (uint64_t)tv->tv_sec * NS_NSEC_PER_SEC + (uint64_t)tv->tv_usec * NS_NSEC_PER_USEC;
}

static int set_timeo(uint64_t *dst, const void *v, socklen_t len)
{
	struct ns_timeval tv;
	if (len < sizeof(tv))
		return -NS_EINVAL;
	memcpy(&tv, v, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -NS_EDOM;
	__atomic_store_n(dst, timeval_to_ns(&tv), __ATOMIC_RELAXED);
	return 0;
}

static int set_buf(int *dst, bool *locked, int val, int max, int min, bool force)
{
	int64_t v = val;
	if (force)
		v = val < 0 ? 0 : val;
	else if ((uint32_t)val > (uint32_t)max)
		v = max;                /* Linux: min_t(u32, val, max) */
	if (v > INT_MAX / 2)
		v = INT_MAX / 2;
	v *= 2;
	*dst = (int)(v < min ? min : v);
	*locked = true;
	return 0;
}

/* SO_TIMESTAMP(NS)(_NEW): Linux __sock_set_timestamps. */
static void set_timestamps(struct ns_sock *sk, bool on, bool new_, bool ns)
{
	sk->tstamp_new = new_;
	sk->rcvtstamp = on;
	sk->rcvtstampns = on && ns;
}

/* SO_TIMESTAMPING(_NEW): Linux sock_set_timestamping. */
static int set_timestamping(struct ns_sock *sk, int name, const void *v, socklen_t len)
{
	struct { int32_t flags, bind_phc; } t = { get_int(v), 0 };
	if (len == sizeof(t))
		memcpy(&t, v, sizeof(t));
	uint32_t f = (uint32_t)t.flags;
	if (f & ~NS_SOF_TIMESTAMPING_MASK)
		return -NS_EINVAL;
	if ((f & NS_SOF_TIMESTAMPING_OPT_ID_TCP) && !(f & NS_SOF_TIMESTAMPING_OPT_ID))
		return -NS_EINVAL;
	if ((f & NS_SOF_TIMESTAMPING_OPT_ID) && !(sk->tsflags & NS_SOF_TIMESTAMPING_OPT_ID)) {
		uint32_t key = 0;
		if (sk->protocol == NS_IPPROTO_TCP && sk->type == NS_SOCK_STREAM) {
			int r = ns__tcp_tskey_base_locked(sk, (f & NS_SOF_TIMESTAMPING_OPT_ID_TCP) != 0, &key);
			if (r < 0)
				return r;
		}
		sk->tskey = key;
	}
	if ((f & NS_SOF_TIMESTAMPING_OPT_STATS) && !(f & NS_SOF_TIMESTAMPING_OPT_TSONLY))
		return -NS_EINVAL;
	if (f & NS_SOF_TIMESTAMPING_BIND_PHC)
		return sk->bound_nic ? -NS_EINVAL : -NS_EOPNOTSUPP;   /* no PTP clocks */
	sk->tsflags = f;
	sk->tstamp_new = name == NS_SO_TIMESTAMPING_NEW;
	return 0;
}

/* SO_ZEROCOPY: TCP and UDP over IP only, 0 or 1 (Linux sk_setsockopt). */
static int set_zerocopy(struct ns_sock *sk, int val)
{
	bool tcp = sk->type == NS_SOCK_STREAM && sk->protocol == NS_IPPROTO_TCP;
	bool udp = sk->type == NS_SOCK_DGRAM && sk->protocol == NS_IPPROTO_UDP;
	if (!tcp && !udp)
		return -NS_EOPNOTSUPP;
	if (val < 0 || val > 1)
		return -NS_EINVAL;
	sk->zerocopy = val;
	return 0;
}

/* Stores one option; -ENOPROTOOPT for names Linux does not set here. */
static int set_locked(struct ns_sock *sk, int name, const void *v, socklen_t len)
{
	int val = get_int(v);
	bool on = val != 0;
	switch (name) {
	case NS_SO_ZEROCOPY: return set_zerocopy(sk, val);
	case NS_SO_TIMESTAMP: set_timestamps(sk, on, false, false); return 0;
	case NS_SO_TIMESTAMP_NEW: set_timestamps(sk, on, true, false); return 0;
	case NS_SO_TIMESTAMPNS: set_timestamps(sk, on, false, true); return 0;
	case NS_SO_TIMESTAMPNS_NEW: set_timestamps(sk, on, true, true); return 0;
	case NS_SO_TIMESTAMPING:
	case NS_SO_TIMESTAMPING_NEW:
		return set_timestamping(sk, name, v, len);
	case NS_SO_DEBUG: sk->debug = on; return 0;
	case NS_SO_REUSEADDR: sk->reuseaddr = on; return 0;
	case NS_SO_REUSEPORT: sk->reuseport = on; return 0;
	case NS_SO_DONTROUTE: sk->dontroute = on; return 0;
	case NS_SO_BROADCAST: sk->broadcast = on; return 0;
	case NS_SO_KEEPALIVE: sk->keepalive = on; return 0;
	case NS_SO_OOBINLINE: sk->oobinline = on; return 0;
	case NS_SO_SNDBUF:
		return set_buf(&sk->sndbuf, &sk->sndbuf_locked, val, NS_WMEM_MAX, NS_SOCK_MIN_SNDBUF, false);
	case NS_SO_SNDBUFFORCE:
		return set_buf(&sk->sndbuf, &sk->sndbuf_locked, val, NS_WMEM_MAX, NS_SOCK_MIN_SNDBUF, true);
	case NS_SO_RCVBUF:
		return set_buf(&sk->rcvbuf, &sk->rcvbuf_locked, val, NS_RMEM_MAX, NS_SOCK_MIN_RCVBUF, false);
	case NS_SO_RCVBUFFORCE:
		return set_buf(&sk->rcvbuf, &sk->rcvbuf_locked, val, NS_RMEM_MAX, NS_SOCK_MIN_RCVBUF, true);
	case NS_SO_RCVLOWAT:
		if (val < 0)
			val = INT_MAX;
		sk->rcvlowat = val ? val : 1;
		return 0;
	case NS_SO_RCVTIMEO:
		return set_timeo(&sk->rcvtimeo_ns, v, len);
	case NS_SO_SNDTIMEO:
		return set_timeo(&sk->sndtimeo_ns, v, len);
	case NS_SO_LINGER: {
		struct ns_linger l;
		if (len < sizeof(l))
			return -NS_EINVAL;
		memcpy(&l, v, sizeof(l));
		sk->linger_on = l.l_onoff != 0;
		if (l.l_onoff)
			sk->linger_sec = l.l_linger;
		return 0;
	}
	default:
		/* SO_TYPE, SO_ERROR, SO_PROTOCOL, SO_DOMAIN, SO_ACCEPTCONN,
		 * SO_SNDLOWAT and the unknown: Linux has no setter. */
		return -NS_ENOPROTOOPT;
	}
}

#define NS_IFNAMSIZ 16

/* SO_BINDTODEVICE: an interface name (empty: unbind); -ENODEV if unknown. */
static int set_bindtodevice_locked(struct ns_sock *sk, const void *v, socklen_t len)
{
	char name[NS_IFNAMSIZ];
	size_t n = NS_MIN((size_t)len, sizeof(name) - 1);
	memcpy(name, v, n);
	name[n] = 0;
	if (!name[0]) {
		sk->bound_nic = 0;
		return 0;
	}
	for (int i = 1; i <= ns__nic_count(sk->stk); i++) {
		struct ns_nic *nic = ns__nic_get(sk->stk, i);
		if (nic && strcmp(nic->name, name) == 0) {
			sk->bound_nic = i;
			return 0;
		}
	}
	return -NS_ENODEV;
}

static int get_bindtodevice_locked(struct ns_sock *sk, void *v, socklen_t *len)
{
	if (!sk->bound_nic) {
		*len = 0;
		return 0;
	}
	if (*len < NS_IFNAMSIZ)
		return -NS_EINVAL;
	struct ns_nic *nic = ns__nic_get(sk->stk, sk->bound_nic);
	if (!nic)
		return -NS_ENODEV;
	size_t n = NS_MIN(strlen(nic->name), (size_t)NS_IFNAMSIZ - 1);
	memcpy(v, nic->name, n);
	((char *)v)[n] = 0;
	*len = (socklen_t)(n + 1);
	return 0;
}

int ns__sock_setsockopt_sol(struct ns_sock *sk, int name, const void *v, socklen_t len)
{
	/* Linux looks at SO_BINDTODEVICE before the int-size check */
	if (len < sizeof(int) && name != NS_SO_BINDTODEVICE)
		return -NS_EINVAL;
	pthread_mutex_lock(&sk->mu);
	int r = name == NS_SO_BINDTODEVICE ? set_bindtodevice_locked(sk, v, len)
					   : set_locked(sk, name, v, len);
	if (r == 0)
		ns__sock_wake_locked(sk);       /* e.g. a new timeout or buffer size */
	pthread_mutex_unlock(&sk->mu);
	if (r == 0 && sk->ops->setsockopt) {
		int pr = sk->ops->setsockopt(sk, NS_SOL_SOCKET, name, v, len);
		if (pr != -NS_ENOPROTOOPT)
			r = pr;
	}
	return r;
}

static void ns_to_timeval(uint64_t ns, struct ns_timeval *tv)
{
	if (ns <= 1) {
		tv->tv_sec = tv->tv_usec = 0;
		return;
	}
	tv->tv_sec = (int64_t)(ns / NS_NSEC_PER_SEC);
	tv->tv_usec = (int64_t)((ns % NS_NSEC_PER_SEC) / NS_NSEC_PER_USEC);
}

/* Fills u with the value and returns its natural length, or -errno. */
static int get_locked(struct ns_sock *sk, int name, void *u)
{
	int *iv = u;
	switch (name) {
	case NS_SO_DEBUG: *iv = sk->debug; break;
	case NS_SO_REUSEADDR: *iv = sk->reuseaddr; break;
	case NS_SO_REUSEPORT: *iv = sk->reuseport; break;
	case NS_SO_DONTROUTE: *iv = sk->dontroute; break;
	case NS_SO_BROADCAST: *iv = sk->broadcast; break;
	case NS_SO_KEEPALIVE: *iv = sk->keepalive; break;
	case NS_SO_OOBINLINE: *iv = sk->oobinline; break;
	case NS_SO_TYPE: *iv = sk->type; break;
	case NS_SO_PROTOCOL: *iv = sk->protocol; break;
	case NS_SO_DOMAIN: *iv = sk->domain; break;
	case NS_SO_ACCEPTCONN: *iv = sk->accepting; break;
	case NS_SO_SNDBUF: *iv = sk->sndbuf; break;
	case NS_SO_RCVBUF: *iv = sk->rcvbuf; break;
	case NS_SO_RCVLOWAT: *iv = sk->rcvlowat; break;
	case NS_SO_SNDLOWAT: *iv = 1; break;
	case NS_SO_ERROR: *iv = ns__sock_take_err_locked(sk); break;
	case NS_SO_ZEROCOPY: *iv = sk->zerocopy; break;
	case NS_SO_TIMESTAMP: *iv = sk->rcvtstamp && !sk->tstamp_new && !sk->rcvtstampns; break;
	case NS_SO_TIMESTAMPNS: *iv = sk->rcvtstampns && !sk->tstamp_new; break;
	case NS_SO_TIMESTAMP_NEW: *iv = sk->rcvtstamp && sk->tstamp_new; break;
	case NS_SO_TIMESTAMPNS_NEW: *iv = sk->rcvtstampns && sk->tstamp_new; break;
	case NS_SO_TIMESTAMPING:
	case NS_SO_TIMESTAMPING_NEW: {
		int32_t t[2] = { 0, 0 };
		if (name == NS_SO_TIMESTAMPING || sk->tstamp_new)
			t[0] = (int32_t)sk->tsflags;
		memcpy(u, t, sizeof(t));
		return (int)sizeof(t);
	}
	case NS_SO_RCVTIMEO:
	case NS_SO_SNDTIMEO: {
		struct ns_timeval tv;
		ns_to_timeval(name == NS_SO_RCVTIMEO ? sk->rcvtimeo_ns : sk->sndtimeo_ns, &tv);
		memcpy(u, &tv, sizeof(tv));
		return (int)sizeof(tv);
	}
	case NS_SO_LINGER: {
		struct ns_linger l = { .l_onoff = sk->linger_on, .l_linger = sk->linger_sec };
		memcpy(u, &l, sizeof(l));
		return (int)sizeof(l);
	}
	default:
		return -NS_ENOPROTOOPT;
	}
	return (int)sizeof(int);
}

int ns__sock_getsockopt_sol(struct ns_sock *sk, int name, void *v, socklen_t *len)
{
	if (name == NS_SO_BINDTODEVICE) {
		pthread_mutex_lock(&sk->mu);
		int r = get_bindtodevice_locked(sk, v, len);
		pthread_mutex_unlock(&sk->mu);
		return r;
	}
	union { int i; struct ns_timeval tv; struct ns_linger l; int32_t ts[2]; } u;
	memset(&u, 0, sizeof(u));
	pthread_mutex_lock(&sk->mu);
	int lv = get_locked(sk, name, &u);
	if (name == NS_SO_ERROR && lv > 0)
		ns__sock_wake_locked(sk);       /* POLLERR went away */
	pthread_mutex_unlock(&sk->mu);
	if (lv < 0)
		return lv;
	socklen_t n = NS_MIN(*len, (socklen_t)lv);
	memcpy(v, &u, n);
	*len = n;
	return 0;
}
