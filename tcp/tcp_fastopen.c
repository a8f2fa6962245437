/*
 * tcp/tcp_fastopen.c - TCP Fast Open (RFC 7413) as Linux implements it.
 * Owns: the net.ipv4.tcp_fastopen / tcp_fastopen_key / tcp_timestamps /
 * tcp_ecn settings of a stack, the server cookie (SipHash-2-4 over the SYN's
 * source and destination addresses, key = 16 bytes read as two little-endian
 * 64-bit words, cookie = the hash's 8 bytes little-endian: byte-identical to
 * Linux __tcp_fastopen_cookie_gen_cipher), the listener side (cookie checks,
 * the TFO pending limit, children that take SYN data and go to the accept
 * queue before the handshake completes), the client side (cookie cache per
 * destination with the peer's MSS, MSG_FASTOPEN, TCP_FASTOPEN_CONNECT,
 * TCP_FASTOPEN_NO_COOKIE, SYN-data, retransmission of SYN data the SYN-ACK
 * did not cover) and the TCP_FASTOPEN* socket options.
 * Read first: RFC 7413, Linux net/ipv4/tcp_fastopen.c, tcp_send_syn_data(),
 * tcp_rcv_fastopen_synack().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

static struct tcp_fo_stack *fo_of(struct ns_stack *stk) { return &stk->tcp->fo; }

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void tcp_fo_init(struct ns_tcp *tcp)
{
	struct tcp_fo_stack *f = &tcp->fo;
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	f->sysctl = TFO_SYSCTL_DEFAULT;
	f->ecn = TCP_ECN_SYSCTL_DEFAULT;
	f->timestamps = 1;
	/* Linux draws the key at random the first time it is needed */
	f->key[0][0] = ns__rand64(tcp->stk);
	f->key[0][1] = ns__rand64(tcp->stk);
}

void tcp_fo_fini(struct ns_tcp *tcp) { pthread_mutex_destroy(&tcp->fo.mu); }

/* ---- sysctl ------------------------------------------------------------------------------ */

/* "a-b-c-d" (four 32-bit hex words, each stored little-endian like Linux) -> 16 bytes */
static int parse_key(const char *s, uint8_t out[16])
{
	for (int i = 0; i < 4; i++) {
		char *end;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
			return -NS_EINVAL;
		unsigned long w = strtoul(s, &end, 16);
		if (w > UINT32_MAX || end == s)
			return -NS_EINVAL;
		for (int b = 0; b < 4; b++)
			out[4 * i + b] = (uint8_t)(w >> (8 * b));
		s = end;
		if (i < 3) {
			if (*s != '-')
				return -NS_EINVAL;
			s++;
		}
	}
	return (*s == '\0' || *s == ',' || *s == '\n' || *s == ' ') ? (int)(*s == ',') : -NS_EINVAL;
}

static int fmt_key(char *out, size_t len, const uint64_t k[2])
{
	uint8_t b[16];
	put_le64(b, k[0]);
	put_le64(b + 8, k[1]);
	uint32_t w[4];
	for (int i = 0; i < 4; i++)
		w[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
		       (uint32_t)b[4 * i + 3] << 24;
	return snprintf(out, len, "%08x-%08x-%08x-%08x", w[0], w[1], w[2], w[3]);
}

static int sysctl_key(struct tcp_fo_stack *f, const char *val, char *out, size_t outlen)
{
	if (val) {
		uint8_t k[16], k2[16];
		int r = parse_key(val, k);
		if (r < 0)
			return r;
		bool backup = r == 1;
		if (backup && parse_key(strchr(val, ',') + 1, k2) < 0)
			return -NS_EINVAL;
		pthread_mutex_lock(&f->mu);
		f->key[0][0] = le64(k);
		f->key[0][1] = le64(k + 8);
		f->has_backup = backup;
		if (backup) {
			f->key[1][0] = le64(k2);
			f->key[1][1] = le64(k2 + 8);
		}
		pthread_mutex_unlock(&f->mu);
	}
	if (out) {
		pthread_mutex_lock(&f->mu);
		int n = fmt_key(out, outlen, f->key[0]);
		if (n >= 0 && (size_t)n < outlen && f->has_backup) {
			out[n] = ',';
			n = n + 1 + fmt_key(out + n + 1, outlen - (size_t)n - 1, f->key[1]);
		}
		pthread_mutex_unlock(&f->mu);
		if (n < 0 || (size_t)n >= outlen)
			return -NS_ERANGE;
	}
	return 0;
}

static int sysctl_int(_Atomic int *t, long lo, long hi, const char *val, char *out, size_t outlen)
{
	if (val) {
		char *end;
		long v = strtol(val, &end, 0);
		while (*end == ' ' || *end == '\n' || *end == '\t')
			end++;
		if (end == val || *end || v < lo || v > hi)
			return -NS_EINVAL;
		*t = (int)v;
	}
	if (out) {
		int n = snprintf(out, outlen, "%d", (int)*t);
		if (n < 0 || (size_t)n >= outlen)
			return -NS_ERANGE;
	}
	return 0;
}

int tcp_fo_sysctl(struct ns_stack *stk, const char *leaf, const char *val, char *out, size_t outlen)
{
	if (!stk->tcp)
		return -NS_ENOENT;
	struct tcp_fo_stack *f = fo_of(stk);
	if (strcmp(leaf, "tcp_fastopen") == 0)
		return sysctl_int((_Atomic int *)&f->sysctl, 0, INT32_MAX, val, out, outlen);
	if (strcmp(leaf, "tcp_fastopen_key") == 0)
		return sysctl_key(f, val, out, outlen);
	if (strcmp(leaf, "tcp_ecn") == 0)
		return sysctl_int(&f->ecn, 0, 2, val, out, outlen);
	if (strcmp(leaf, "tcp_timestamps") == 0)
		return sysctl_int(&f->timestamps, 0, 2, val, out, outlen);
	return -NS_ENOENT;
}

/* ---- cookies ------------------------------------------------------------------------------ */

/* Linux __tcp_fastopen_cookie_gen_cipher: siphash(saddr || daddr of the SYN). */
static void cookie_gen(const uint64_t key[2], const struct ns_addr *src, const struct ns_addr *dst,
		       uint8_t out[TCP_FO_COOKIE_SIZE])
{
	uint8_t buf[32];
	size_t n = src->family == NS_AF_INET6 ? 16 : 4;
	memcpy(buf, src->b, n);
	memcpy(buf + n, dst->b, n);
	put_le64(out, ns__siphash(key, buf, 2 * n));
}

/* The listener's keys (its own TCP_FASTOPEN_KEY, else the stack's). */
static int listener_keys(struct tcp_ep *lep, uint64_t keys[2][2])
{
	if (lep->fo.has_key) {
		memcpy(keys, lep->fo.key, sizeof(lep->fo.key));
		return lep->fo.has_backup ? 2 : 1;
	}
	struct tcp_fo_stack *f = fo_of(lep->stk);
	pthread_mutex_lock(&f->mu);
	memcpy(keys, f->key, sizeof(f->key));
	int n = f->has_backup ? 2 : 1;
	pthread_mutex_unlock(&f->mu);
	return n;
}

/* ---- socket options ------------------------------------------------------------------------ */

int tcp_fo_setsockopt(struct tcp_ep *ep, int name, const void *v, socklen_t len)
{
	uint32_t sc = fo_of(ep->stk)->sysctl;
	if (name == NS_TCP_FASTOPEN_KEY) {
		/* 16 bytes, or 32 with a backup key (Linux: raw bytes, no locking state) */
		if (len != 16 && len != 32)
			return -NS_EINVAL;
		const uint8_t *k = v;
		ep->fo.key[0][0] = le64(k);
		ep->fo.key[0][1] = le64(k + 8);
		ep->fo.has_backup = len == 32;
		if (len == 32) {
			ep->fo.key[1][0] = le64(k + 16);
			ep->fo.key[1][1] = le64(k + 24);
		}
		ep->fo.has_key = true;
		return 0;
	}
	if (name != NS_TCP_FASTOPEN && name != NS_TCP_FASTOPEN_CONNECT && name != NS_TCP_FASTOPEN_NO_COOKIE)
		return -NS_ENOPROTOOPT;
	if (len < sizeof(int))
		return -NS_EINVAL;
	int val;
	memcpy(&val, v, sizeof(val));
	switch (name) {
	case NS_TCP_FASTOPEN:
		if (val < 0 || (ep->state != TCP_CLOSE && ep->state != TCP_LISTEN))
			return -NS_EINVAL;
		ep->fo.qlen_max = val < TCP_SOMAXCONN ? val : TCP_SOMAXCONN;
		return 0;
	case NS_TCP_FASTOPEN_CONNECT:
		if (val < 0 || val > 1)
			return -NS_EINVAL;
		if (!(sc & TFO_CLIENT_ENABLE))
			return -NS_EOPNOTSUPP;
		if (ep->state != TCP_CLOSE)
			return -NS_EINVAL;
		ep->fo.connect_opt = val;
		return 0;
	default:
		if (val < 0 || val > 1)
			return -NS_EINVAL;
		if (ep->state != TCP_CLOSE && ep->state != TCP_LISTEN)
			return -NS_EINVAL;
		ep->fo.no_cookie = val;
		return 0;
	}
}

int tcp_fo_getsockopt(struct tcp_ep *ep, int name, void *v, socklen_t *len)
{
	int val;
	switch (name) {
	case NS_TCP_FASTOPEN: val = ep->fo.qlen_max; break;
	case NS_TCP_FASTOPEN_CONNECT: val = ep->fo.connect_opt; break;
	case NS_TCP_FASTOPEN_NO_COOKIE: val = ep->fo.no_cookie; break;
	case NS_TCP_FASTOPEN_KEY: {
		uint64_t keys[2][2];
		int n = ep->fo.has_key ? (ep->fo.has_backup ? 2 : 1) : 0;
		if (n)
			memcpy(keys, ep->fo.key, sizeof(keys));
		else {
			struct tcp_fo_stack *f = fo_of(ep->stk);
			pthread_mutex_lock(&f->mu);
			memcpy(keys, f->key, sizeof(keys));
			n = f->has_backup ? 2 : 1;
			pthread_mutex_unlock(&f->mu);
		}
		uint8_t b[32];
		for (int i = 0; i < n; i++) {
			put_le64(b + 16 * i, keys[i][0]);
			put_le64(b + 16 * i + 8, keys[i][1]);
		}
		socklen_t l = *len < (socklen_t)(16 * n) ? *len : (socklen_t)(16 * n);
		memcpy(v, b, l);
		*len = l;
		return 0;
	}
	default:
		return -NS_ENOPROTOOPT;
	}
	socklen_t l = *len < sizeof(int) ? *len : sizeof(int);
	memcpy(v, &val, l);
	*len = l;
	return 0;
}

void tcp_fo_listen(struct tcp_ep *ep, int backlog)
{
	uint32_t sc = fo_of(ep->stk)->sysctl;
	if ((sc & TFO_SERVER_WO_SOCKOPT1) && (sc & TFO_SERVER_ENABLE) && !ep->fo.qlen_max)
		ep->fo.qlen_max = backlog < TCP_SOMAXCONN ? backlog : TCP_SOMAXCONN;
}

/* ---- server ---------------------------------------------------------------------------------- */

/* Linux tcp_fastopen_queue_check(). */
static bool queue_check(struct tcp_ep *lep)
{
	if (lep->fo.qlen_max == 0)
		return false;
	if (lep->fo.pending >= lep->fo.qlen_max) {
		NS_STAT_INC(lep->stk, TcpExtTCPFastOpenListenOverflow);
		return false;
	}
	return true;
}

static void set_reply_cookie(struct tcp_ep *c, const uint8_t *val, bool exp)
{
	c->fo.len = TCP_FO_COOKIE_SIZE;
	c->fo.exp = exp;
	memcpy(c->fo.val, val, TCP_FO_COOKIE_SIZE);
}

/* Linux tcp_try_fastopen(). */
bool tcp_fo_try(struct tcp_ep *lep, struct tcp_ep *c, const struct tcp_seg *seg)
{
	struct ns_stack *stk = lep->stk;
	const struct ns_tcp_opts *o = &seg->opt;
	bool has = ns_tcp_opts_has(o, NS_TCP_OPT_F_FASTOPEN);
	int flen = has ? o->fo_len : -1;
	uint32_t sc = fo_of(stk)->sysctl;
	c->fo.len = -1;
	if (flen == 0)
		NS_STAT_INC(stk, TcpExtTCPFastOpenCookieReqd);
	if (!(sc & TFO_SERVER_ENABLE) || !(seg->len > 0 || flen >= 0) || !queue_check(lep))
		return false;
	bool no_cookie = (sc & TFO_SERVER_COOKIE_NOT_REQD) || lep->fo.no_cookie;
	uint64_t keys[2][2];
	int nkeys = listener_keys(lep, keys);
	uint8_t valid[TCP_FO_COOKIE_SIZE];
	cookie_gen(keys[0], &seg->m->src, &seg->m->dst, valid);
	if (!no_cookie) {
		if (flen <= 0) {
			if (flen == 0)
				set_reply_cookie(c, valid, o->fo_exp);
			return false;
		}
		int ok = 0;
		if (flen == TCP_FO_COOKIE_SIZE && memcmp(o->fo_val, valid, TCP_FO_COOKIE_SIZE) == 0)
			ok = 1;
		if (!ok && nkeys == 2 && flen == TCP_FO_COOKIE_SIZE) {
			uint8_t alt[TCP_FO_COOKIE_SIZE];
			cookie_gen(keys[1], &seg->m->src, &seg->m->dst, alt);
			if (memcmp(o->fo_val, alt, TCP_FO_COOKIE_SIZE) == 0)
				ok = 2;
		}
		if (!ok) {
			NS_STAT_INC(stk, TcpExtTCPFastOpenPassiveFail);
			set_reply_cookie(c, valid, o->fo_exp);
			return false;
		}
		if (ok == 2) {
			/* valid under the backup key: hand out the primary one */
			set_reply_cookie(c, valid, o->fo_exp);
			NS_STAT_INC(stk, TcpExtTCPFastOpenPassiveAltKey);
		}
	}
	NS_STAT_INC(stk, TcpExtTCPFastOpenPassive);
	c->fo.child = true;
	c->fo.passive = true;
	lep->fo.pending++;
	return true;
}

void tcp_fo_child_done(struct tcp_ep *c)
{
	if (!c->fo.child)
		return;
	c->fo.child = false;
	if (c->parent && c->parent->fo.pending > 0)
		c->parent->fo.pending--;
}

/* ---- client: the cookie cache ------------------------------------------------------------------ */

static struct tcp_fo_cache_ent *cache_find(struct tcp_fo_stack *f, const struct ns_addr *dst, bool create)
{
	struct tcp_fo_cache_ent *lru = &f->cache[0];
	for (int i = 0; i < TCP_FO_CACHE_SIZE; i++) {
		struct tcp_fo_cache_ent *e = &f->cache[i];
		if (e->used && ns_addr_eq(&e->dst, dst)) {
			e->used = ++f->clock;
			return e;
		}
		if (e->used < lru->used)
			lru = e;
	}
	if (!create)
		return NULL;
	memset(lru, 0, sizeof(*lru));
	lru->dst = *dst;
	lru->used = ++f->clock;
	return lru;
}

/* Linux tcp_fastopen_cache_get(): cached MSS and cookie for the destination. */
static void cache_get(struct tcp_ep *ep, uint16_t *mss, int8_t *len, bool *exp, uint8_t *val)
{
	struct tcp_fo_stack *f = fo_of(ep->stk);
	pthread_mutex_lock(&f->mu);
	struct tcp_fo_cache_ent *e = cache_find(f, &ep->raddr, false);
	if (e) {
		if (e->mss)
			*mss = e->mss;
		*len = e->len;
		*exp = e->exp;
		memcpy(val, e->val, sizeof(e->val));
		if (e->len <= 0 && e->try_exp == 1)
			*exp = true;
	}
	pthread_mutex_unlock(&f->mu);
}

static void cache_set(struct tcp_ep *ep, uint16_t mss, const struct ns_tcp_opts *o, uint8_t try_exp)
{
	struct tcp_fo_stack *f = fo_of(ep->stk);
	pthread_mutex_lock(&f->mu);
	struct tcp_fo_cache_ent *e = cache_find(f, &ep->raddr, true);
	if (mss)
		e->mss = mss;
	if (o && o->fo_len > 0) {
		e->len = o->fo_len;
		e->exp = o->fo_exp;
		memcpy(e->val, o->fo_val, sizeof(e->val));
	} else if (try_exp > e->try_exp && e->len <= 0 && !e->exp) {
		e->try_exp = try_exp;
	}
	pthread_mutex_unlock(&f->mu);
}

/* Linux tcp_fastopen_cookie_check(): may the SYN carry data?  Fills the
 * cookie to send (len 0: a request) and the MSS to assume. */
static bool cookie_check(struct tcp_ep *ep, uint16_t *mss)
{
	bool exp = false;
	int8_t len = 0;
	uint8_t val[16];
	cache_get(ep, mss, &len, &exp, val);
	ep->fo.exp = exp;
	if ((fo_of(ep->stk)->sysctl & TFO_CLIENT_NO_COOKIE) || ep->fo.no_cookie) {
		ep->fo.len = -1;
		return true;
	}
	if (len > 0) {
		ep->fo.len = len;
		memcpy(ep->fo.val, val, sizeof(val));
		return true;
	}
	ep->fo.len = 0;
	return false;
}

bool tcp_fo_defer_connect(struct tcp_ep *ep)
{
	if (!ep->fo.connect_opt || ep->fo.req)
		return false;
	uint16_t mss = 0;
	if (cookie_check(ep, &mss)) {
		ep->fo.defer = true;
		return true;
	}
	/* no cookie: a normal SYN that asks for one */
	ep->fo.req = true;
	ep->fo.want = 0;
	return false;
}

int tcp_fo_sendmsg(struct tcp_ep *ep, const struct msghdr *m, int flags, size_t *syn_bytes)
{
	const struct sockaddr *ua = m->msg_name;
	*syn_bytes = 0;
	if (!(fo_of(ep->stk)->sysctl & TFO_CLIENT_ENABLE) ||
	    (ua && m->msg_namelen >= sizeof(sa_family_t) && ua->sa_family == AF_UNSPEC))
		return -NS_EOPNOTSUPP;
	if (ep->fo.req)
		return -NS_EALREADY;
	size_t total = 0;
	for (size_t i = 0; i < (size_t)m->msg_iovlen; i++)
		total += m->msg_iov[i].iov_len;
	ep->fo.req = true;
	ep->fo.want = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
	int err;
	if (ep->fo.defer) {
		ep->fo.defer = false;
		err = tcp_connect_send_syn(ep, m);
		if (err == 0)
			err = -NS_EINPROGRESS;
	} else {
		err = tcp_connect_locked(ep, ua, m->msg_namelen, m);
	}
	*syn_bytes = ep->fo.syn_data ? ep->fo.syn_len : 0;
	ep->fo.want = 0;
	if (ep->state != TCP_SYN_SENT || (err && err != -NS_EINPROGRESS))
		ep->fo.req = false;
	(void)flags;
	return err;
}

/* Linux tcp_send_syn_data(): cookie check, then as much of m as fits in the SYN. */
void tcp_fo_prepare_syn(struct tcp_ep *ep, const struct msghdr *m)
{
	ep->fo.syn_len = 0;
	ep->fo.syn_data = false;
	ep->fo.syn_fastopen = false;
	if (!ep->fo.req)
		return;
	uint16_t mss = ep->advmss;
	if (!cookie_check(ep, &mss))
		return;                         /* a SYN with a cookie request (fo.len 0) */
	/* SYN-data's MSS: the cached MSS bounded by the PMTU and the user's MSS,
	 * less the largest option space (Linux) */
	uint32_t pm = ep->pmtu - (ep->raddr.family == NS_AF_INET6 ? 60 : 40);
	if (ep->user_mss && mss > ep->user_mss)
		mss = ep->user_mss;
	if (pm > mss)
		pm = mss;
	if (pm < TCP_MIN_MSS)
		pm = TCP_MIN_MSS;
	uint32_t space = pm - NS_TCP_MAX_OPT_LEN;
	if (space > ep->fo.want)
		space = ep->fo.want;
	if (!m || !space)
		return;
	ssize_t n = tcp_sndq_append(ep, m, 0, space);
	if (n > 0) {
		ep->fo.syn_len = (uint32_t)n;
		ep->fo.syn_data = true;
	}
}

/* The Fast Open option of our SYN / SYN-ACK; returns the SYN's data bytes. */
uint32_t tcp_fo_syn_opts(struct tcp_ep *ep, struct ns_tcp_opts *o, bool synack)
{
	bool first = synack || (ep->fo.req && !ep->rtx_syn);
	uint32_t data = !synack && first && ep->fo.syn_data ? ep->fo.syn_len : 0;
	/* a SYN-ACK only ever hands out a cookie (tcp_fo_try); a SYN may ask for one */
	if (first && (synack ? ep->fo.len > 0 : ep->fo.len >= 0)) {
		size_t need = ((size_t)(ep->fo.exp ? 4 : 2) + (size_t)ep->fo.len + 3) & ~(size_t)3;
		if (ns_tcp_opts_len(o) + need <= NS_TCP_MAX_OPT_LEN) {
			o->present |= NS_TCP_OPT_F_FASTOPEN;
			o->fo_len = ep->fo.len;
			o->fo_exp = ep->fo.exp;
			memcpy(o->fo_val, ep->fo.val, sizeof(o->fo_val));
			if (!synack) {
				ep->fo.syn_fastopen = true;
				ep->fo.syn_fastopen_exp = ep->fo.exp;
			}
		}
	}
	if (synack)
		ep->fo.len = -1;            /* SYN-ACK retransmits carry no cookie (Linux) */
	if (!synack && ep->fo.req) {
		ep->fo.len = -1;            /* never on a retransmitted SYN */
		if (data)
			NS_STAT_INC(ep->stk, TcpExtTCPOrigDataSent);
	}
	if (ep->fo.req && !synack && !first)
		data = 0;
	return data;
}

/* Linux tcp_rcv_fastopen_synack(). */
bool tcp_fo_synack(struct tcp_ep *ep, const struct tcp_seg *seg)
{
	if (!ep->fo.req && !ep->fo.syn_fastopen && !ep->fo.syn_data)
		return false;
	ep->fo.req = false;
	const struct ns_tcp_opts *o = &seg->opt;
	bool has = ns_tcp_opts_has(o, NS_TCP_OPT_F_FASTOPEN) && o->fo_len > 0;
	uint16_t mss = ns_tcp_opts_has(o, NS_TCP_OPT_F_MSS) ? o->mss : 0;
	uint8_t try_exp = 0;
	bool data_left = ep->fo.syn_data && ns_seq_lt(ep->snd_una, ep->snd_nxt);
	if (!ep->fo.syn_fastopen)
		has = false;                    /* an unsolicited cookie is ignored */
	else if (!ep->rtx_syn && !has && !ep->fo.syn_data)
		try_exp = ep->fo.syn_fastopen_exp ? 2 : 1;
	if (ep->fo.syn_fastopen || ep->fo.syn_data)
		cache_set(ep, mss, has ? o : NULL, try_exp);
	if (data_left) {
		/* the SYN-ACK did not cover our SYN data: send it again at once */
		NS_STAT_INC(ep->stk, TcpExtTCPFastOpenActiveFail);
		ep->snd_nxt = ep->snd_una;
		ep->fo.syn_data = false;
		return true;
	}
	ep->fo.syn_data_acked = ep->fo.syn_data;
	if (ep->fo.syn_data_acked)
		NS_STAT_INC(ep->stk, TcpExtTCPFastOpenActive);
	return false;
}

void tcp_fo_mtu_reduced(struct tcp_ep *ep)
{
	if (ep->state != TCP_SYN_SENT || !ep->fo.syn_data)
		return;
	/* the SYN-data was too big: a plain SYN now, the data after the handshake */
	ep->fo.syn_data = false;
	ep->snd_nxt = ep->iss + 1;
	ep->rtx_syn = true;
	tcp_advmss_for(ep, ep->pmtu);
	tcp_send_syn(ep);
}

uint32_t tcp_fo_info_options(const struct tcp_ep *ep)
{
	uint32_t v = 0;
	if (ep->fo.syn_data_acked)
		v |= TCPI_OPT_SYN_DATA;
	if (ep->ecn_flags & TCP_ECN_OK)
		v |= TCPI_OPT_ECN;
	if (ep->ecn_flags & TCP_ECN_SEEN)
		v |= TCPI_OPT_ECN_SEEN;
	return v;
}
