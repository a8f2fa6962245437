/*
 * netstack/stack.c - the stack object: lifecycle, the two ways to run it
 * (own threads or ns_stack_poll), NICs and their addresses.
 * Routes: route.c.  Timers: timer.c.  Sockets: socket.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <arpa/inet.h>
#include "core.h"
#include "platform.h"

int ns__route_init(struct ns_stack *stk);
void ns__route_fini(struct ns_stack *stk);

int ns_stack_create(const struct ns_stack_opts *opts, struct ns_stack **out)
{
	struct ns_stack *stk = calloc(1, sizeof(*stk));
	if (!stk)
		return -NS_ENOMEM;
	struct ns_stack_opts o = opts ? *opts : (struct ns_stack_opts){ 0 };
	stk->clock = o.clock.now_ns ? o.clock : ns_clock_real();
	stk->rng = o.rng.next_u64 ? o.rng : ns_rng_real();
	stk->flags = o.flags;
	stk->pool.limit = o.mem_limit ? o.mem_limit : (256ull << 20);
	pthread_mutex_init(&stk->rng_mu, NULL);
	pthread_mutex_init(&stk->cfg_mu, NULL);
	pthread_mutex_init(&stk->timers.mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&stk->timers.cv, &ca);
	pthread_condattr_destroy(&ca);
	stk->hash_seed[0] = ns__rand64(stk);
	stk->hash_seed[1] = ns__rand64(stk);

	int err;
	if ((err = ns__route_init(stk)) < 0)
		goto fail;
	if ((err = ns__socktab_init(stk)) < 0)
		goto fail;
	if ((err = ns__ipv4_init(stk)) < 0)
		goto fail;
	if ((err = ns__ipv6_init(stk)) < 0)
		goto fail;
	if ((err = ns__udp_init(stk)) < 0)
		goto fail;
	if ((err = ns__tcp_init(stk)) < 0)
		goto fail;
	*out = stk;
	return 0;
fail:
	ns_stack_destroy(stk);
	return err;
}

static void *timer_thread(void *arg)
{
	struct ns_stack *stk = arg;
	bool real = stk->clock.now_ns == ns_clock_real().now_ns;
	while (!atomic_load(&stk->stopping)) {
		uint64_t next;
		ns__timers_run(stk, &next);
		pthread_mutex_lock(&stk->timers.mu);
		if (!atomic_load(&stk->stopping)) {
			uint64_t now = ns__now(stk);
			uint64_t wait = next == UINT64_MAX ? NS_NSEC_PER_SEC : (next > now ? next - now : 0);
			if (!real && wait > NS_NSEC_PER_MSEC)
				wait = NS_NSEC_PER_MSEC;   /* a foreign clock: poll it */
			if (stk->timers.n && stk->timers.h[0]->when <= now)
				wait = 0;
			if (wait) {
				uint64_t dl = ns__real_now() + wait;
				struct timespec ts = { .tv_sec = (time_t)(dl / NS_NSEC_PER_SEC),
						       .tv_nsec = (long)(dl % NS_NSEC_PER_SEC) };
				pthread_cond_timedwait(&stk->timers.cv, &stk->timers.mu, &ts);
			}
		}
		pthread_mutex_unlock(&stk->timers.mu);
	}
	return NULL;
}

int ns_stack_start(struct ns_stack *stk)
{
	if (atomic_exchange(&stk->running, true))
		return -NS_EALREADY;
	atomic_store(&stk->stopping, false);
	if (pthread_create(&stk->timer_thread, NULL, timer_thread, stk) != 0) {
		atomic_store(&stk->running, false);
		return -NS_ENOMEM;
	}
	int n = atomic_load(&stk->n_nics);
	for (int i = 1; i <= n; i++) {
		struct ns_nic *nic = stk->nics[i];
		if (nic && nic->link->ops->start) {
			int err = nic->link->ops->start(nic->link);
			if (err < 0) {
				ns_stack_stop(stk);
				return err;
			}
		}
	}
	return 0;
}

void ns_stack_stop(struct ns_stack *stk)
{
	if (!atomic_load(&stk->running))
		return;
	int n = atomic_load(&stk->n_nics);
	for (int i = 1; i <= n; i++) {
		struct ns_nic *nic = stk->nics[i];
		if (nic && nic->link->ops->stop)
			nic->link->ops->stop(nic->link);
	}
	pthread_mutex_lock(&stk->timers.mu);
	atomic_store(&stk->stopping, true);
	pthread_cond_broadcast(&stk->timers.cv);
	pthread_mutex_unlock(&stk->timers.mu);
	pthread_join(stk->timer_thread, NULL);
	atomic_store(&stk->running, false);
}

int ns_stack_poll(struct ns_stack *stk, uint64_t *next_ns)
{
	int work = 0;
	int n = atomic_load(&stk->n_nics);
	for (int i = 1; i <= n; i++) {
		struct ns_nic *nic = stk->nics[i];
		if (nic && nic->link->ops->poll)
			work += nic->link->ops->poll(nic->link, 256);
	}
	work += ns__timers_run(stk, next_ns);
	return work;
}

int ns_stack_pollfds(struct ns_stack *stk, int *fds, int max)
{
	int k = 0;
	int n = atomic_load(&stk->n_nics);
	for (int i = 1; i <= n && k < max; i++) {
		struct ns_nic *nic = stk->nics[i];
		if (nic && nic->link->ops->pollfd) {
			int fd = nic->link->ops->pollfd(nic->link);
			if (fd >= 0)
				fds[k++] = fd;
		}
	}
	return k;
}

uint64_t ns_stack_now(struct ns_stack *stk) { return ns__now(stk); }

static void free_addrs_rcu(struct rcu_head *h)
{
	free(caa_container_of(h, struct ns_ifaddr_list, rcu));
}

void ns_stack_destroy(struct ns_stack *stk)
{
	if (!stk)
		return;
	ns_stack_stop(stk);
	if (stk->socks)
		ns__socktab_fini(stk);
	/* Run protocol teardown while NICs still exist (RSTs may go out). */
	ns__tcp_fini(stk);
	ns__udp_fini(stk);
	int n = atomic_load(&stk->n_nics);
	for (int i = 1; i <= n; i++) {
		struct ns_nic *nic = stk->nics[i];
		if (!nic)
			continue;
		ns__arp_nic_fini(nic);
		ns__nd_nic_fini(nic);
	}
	ns__ipv6_fini(stk);
	ns__ipv4_fini(stk);
	for (int i = 1; i <= n; i++) {
		struct ns_nic *nic = stk->nics[i];
		if (!nic)
			continue;
		if (nic->link->ops->close)
			nic->link->ops->close(nic->link);
		free(nic->addrs);
		pthread_mutex_destroy(&nic->addr_mu);
		free(nic);
		stk->nics[i] = NULL;
	}
	ns__route_fini(stk);
	/* Let call_rcu callbacks queued by the layers finish before freeing. */
	ns_rcu_synchronize();
	urcu_bp_barrier();
	free(stk->timers.h);
	pthread_mutex_destroy(&stk->timers.mu);
	pthread_cond_destroy(&stk->timers.cv);
	pthread_mutex_destroy(&stk->rng_mu);
	pthread_mutex_destroy(&stk->cfg_mu);
	free(stk);
}

/* ---- NICs ----------------------------------------------------------------- */

struct ns_nic *ns__nic_get(struct ns_stack *stk, int id)
{
	if (id < 1 || id > NS_MAX_NICS)
		return NULL;
	return atomic_load_explicit(&stk->nics[id], memory_order_acquire);
}

int ns__nic_count(struct ns_stack *stk) { return atomic_load(&stk->n_nics); }

int ns_nic_add(struct ns_stack *stk, struct ns_link *link, const char *name)
{
	if (!link || !link->ops || !link->ops->write)
		return -NS_EINVAL;
	pthread_mutex_lock(&stk->cfg_mu);
	int id = atomic_load(&stk->n_nics) + 1;
	if (id > NS_MAX_NICS) {
		pthread_mutex_unlock(&stk->cfg_mu);
		return -NS_ENOSPC;
	}
	struct ns_nic *nic = calloc(1, sizeof(*nic));
	struct ns_ifaddr_list *al = calloc(1, sizeof(*al));
	if (!nic || !al) {
		free(nic);
		free(al);
		pthread_mutex_unlock(&stk->cfg_mu);
		return -NS_ENOMEM;
	}
	nic->id = id;
	nic->stk = stk;
	nic->link = link;
	memcpy(nic->mac, link->mac, 6);
	atomic_init(&nic->mtu, link->mtu ? link->mtu : 1500);
	snprintf(nic->name, sizeof(nic->name), "%s", name ? name : link->name);
	nic->addrs = al;
	nic->up = true;
	pthread_mutex_init(&nic->addr_mu, NULL);
	link->deliver = ns__eth_input;
	link->deliver_ctx = nic;
	link->pool = &stk->pool;
	int err = ns__arp_nic_init(nic);
	if (err == 0)
		err = ns__nd_nic_init(nic);
	if (err < 0) {
		ns__arp_nic_fini(nic);
		free(al);
		free(nic);
		pthread_mutex_unlock(&stk->cfg_mu);
		return err;
	}
	atomic_store_explicit(&stk->nics[id], nic, memory_order_release);
	atomic_store(&stk->n_nics, id);
	pthread_mutex_unlock(&stk->cfg_mu);
	if (atomic_load(&stk->running) && link->ops->start) {
		err = link->ops->start(link);
		if (err < 0)
			return err;
	}
	return id;
}

int ns_nic_set_mtu(struct ns_stack *stk, int id, uint32_t mtu)
{
	struct ns_nic *nic = ns__nic_get(stk, id);
	if (!nic)
		return -NS_ENODEV;
	if (mtu < 68 || mtu > 65535)
		return -NS_EINVAL;
	atomic_store(&nic->mtu, mtu);
	return 0;
}

static int addr_valid_plen(const struct ns_addr *a, int plen)
{
	if (a->family == NS_AF_INET)
		return plen >= 0 && plen <= 32;
	if (a->family == NS_AF_INET6)
		return plen >= 0 && plen <= 128;
	return 0;
}

int ns_nic_addr_add(struct ns_stack *stk, int id, const struct ns_addr *a, int plen)
{
	struct ns_nic *nic = ns__nic_get(stk, id);
	if (!nic)
		return -NS_ENODEV;
	if (!addr_valid_plen(a, plen))
		return -NS_EINVAL;
	pthread_mutex_lock(&nic->addr_mu);
	struct ns_ifaddr_list *old = nic->addrs;
	for (int i = 0; i < old->n; i++) {
		if (ns_addr_eq(&old->a[i].addr, a)) {
			pthread_mutex_unlock(&nic->addr_mu);
			return -NS_EEXIST;
		}
	}
	struct ns_ifaddr_list *nl = malloc(sizeof(*nl) + (size_t)(old->n + 1) * sizeof(nl->a[0]));
	if (!nl) {
		pthread_mutex_unlock(&nic->addr_mu);
		return -NS_ENOMEM;
	}
	memset(nl, 0, sizeof(*nl));
	nl->n = old->n + 1;
	memcpy(nl->a, old->a, (size_t)old->n * sizeof(nl->a[0]));
	struct ns_ifaddr *ifa = &nl->a[old->n];
	memset(ifa, 0, sizeof(*ifa));
	ifa->addr = *a;
	ifa->plen = plen;
	if (a->family == NS_AF_INET6) {
		if (a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80)
			ifa->flags |= NS_IFA_LINKLOCAL;
		/* DAD runs before the address is usable (RFC 4862 5.4); the IPv6
		 * layer clears TENTATIVE when DAD completes. */
		ifa->flags |= NS_IFA_TENTATIVE;
	}
	struct ns_ifaddr copy = *ifa;
	ns_rcu_assign(nic->addrs, nl);
	pthread_mutex_unlock(&nic->addr_mu);
	ns_call_rcu(&old->rcu, free_addrs_rcu);
	if (a->family == NS_AF_INET)
		ns__ipv4_addr_added(nic, &copy);
	else
		ns__ipv6_addr_added(nic, &copy);
	return 0;
}

int ns__nic_addr_set_flags(struct ns_stack *stk, int id, const struct ns_addr *a,
			   uint32_t set, uint32_t clear)
{
	struct ns_nic *nic = ns__nic_get(stk, id);
	if (!nic)
		return -NS_ENODEV;
	pthread_mutex_lock(&nic->addr_mu);
	struct ns_ifaddr_list *old = nic->addrs;
	size_t sz = sizeof(*old) + (size_t)old->n * sizeof(old->a[0]);
	struct ns_ifaddr_list *nl = malloc(sz);
	if (!nl) {
		pthread_mutex_unlock(&nic->addr_mu);
		return -NS_ENOMEM;
	}
	memcpy(nl, old, sz);
	int found = -NS_EADDRNOTAVAIL;
	for (int i = 0; i < nl->n; i++) {
		if (ns_addr_eq(&nl->a[i].addr, a)) {
			nl->a[i].flags = (nl->a[i].flags | set) & ~clear;
			found = 0;
		}
	}
	ns_rcu_assign(nic->addrs, nl);
	pthread_mutex_unlock(&nic->addr_mu);
	ns_call_rcu(&old->rcu, free_addrs_rcu);
	return found;
}

int ns_nic_addr_del(struct ns_stack *stk, int id, const struct ns_addr *a)
{
	struct ns_nic *nic = ns__nic_get(stk, id);
	if (!nic)
		return -NS_ENODEV;
	pthread_mutex_lock(&nic->addr_mu);
	struct ns_ifaddr_list *old = nic->addrs;
	struct ns_ifaddr_list *nl = malloc(sizeof(*nl) + (size_t)old->n * sizeof(nl->a[0]));
	if (!nl) {
		pthread_mutex_unlock(&nic->addr_mu);
		return -NS_ENOMEM;
	}
	memset(nl, 0, sizeof(*nl));
	for (int i = 0; i < old->n; i++)
		if (!ns_addr_eq(&old->a[i].addr, a))
			nl->a[nl->n++] = old->a[i];
	if (nl->n == old->n) {
		pthread_mutex_unlock(&nic->addr_mu);
		free(nl);
		return -NS_EADDRNOTAVAIL;
	}
	ns_rcu_assign(nic->addrs, nl);
	pthread_mutex_unlock(&nic->addr_mu);
	ns_call_rcu(&old->rcu, free_addrs_rcu);
	if (a->family == NS_AF_INET6)
		ns__ipv6_addr_deleted(nic, a);
	return 0;
}

struct ns_nic *ns__addr_local(struct ns_stack *stk, const struct ns_addr *a, uint32_t *flags)
{
	int n = atomic_load(&stk->n_nics);
	struct ns_nic *found = NULL;
	ns_rcu_read_lock();
	for (int i = 1; i <= n && !found; i++) {
		struct ns_nic *nic = stk->nics[i];
		if (!nic)
			continue;
		struct ns_ifaddr_list *al = ns_rcu_dereference(nic->addrs);
		for (int j = 0; j < al->n; j++) {
			if (ns_addr_eq(&al->a[j].addr, a)) {
				found = nic;
				if (flags)
					*flags = al->a[j].flags;
				break;
			}
		}
	}
	ns_rcu_read_unlock();
	return found;
}

bool ns_addr_prefix_eq(const struct ns_addr *a, const struct ns_addr *b, int plen)
{
	if (a->family != b->family)
		return false;
	int full = plen / 8, rem = plen % 8;
	if (memcmp(a->b, b->b, (size_t)full) != 0)
		return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));
		if ((a->b[full] & mask) != (b->b[full] & mask))
			return false;
	}
	return true;
}

bool ns__addr_is_bcast4(struct ns_nic *nic, const struct ns_addr *a)
{
	if (a->family != NS_AF_INET)
		return false;
	uint32_t v = ns_addr_v4_u32(a);
	if (v == 0xffffffffu)
		return true;
	bool res = false;
	ns_rcu_read_lock();
	struct ns_ifaddr_list *al = ns_rcu_dereference(nic->addrs);
	for (int j = 0; j < al->n && !res; j++) {
		const struct ns_ifaddr *ifa = &al->a[j];
		if (ifa->addr.family != NS_AF_INET || ifa->plen >= 31)
			continue;
		uint32_t mask = ifa->plen ? ~0u << (32 - ifa->plen) : 0;
		uint32_t mine = ns_addr_v4_u32(&ifa->addr);
		if ((v & mask) == (mine & mask) && (v | mask) == 0xffffffffu)
			res = true;
	}
	ns_rcu_read_unlock();
	return res;
}

/* Leading bits a and b share (of the first `bits`). */
static int common_prefix_bits(const uint8_t *a, const uint8_t *b, int bits)
{
	int n = 0;
	for (int i = 0; i < bits / 8; i++) {
		uint8_t x = (uint8_t)(a[i] ^ b[i]);
		if (!x) {
			n += 8;
			continue;
		}
		while (!(x & 0x80)) {
			x = (uint8_t)(x << 1);
			n++;
		}
		break;
	}
	return n;
}

int ns__nic_src_select(struct ns_nic *nic, const struct ns_addr *dst, struct ns_addr *src)
{
	int best = -1, best_score = -1;
	ns_rcu_read_lock();
	struct ns_ifaddr_list *al = ns_rcu_dereference(nic->addrs);
	for (int j = 0; j < al->n; j++) {
		const struct ns_ifaddr *ifa = &al->a[j];
		if (ifa->addr.family != dst->family || (ifa->flags & (NS_IFA_TENTATIVE | NS_IFA_DUPLICATE)))
			continue;
		int score = 0;
		/* RFC 6724 in brief: same scope first, then longest matching prefix. */
		if (dst->family == NS_AF_INET6) {
			bool dst_ll = dst->b[0] == 0xfe && (dst->b[1] & 0xc0) == 0x80;
			bool a_ll = (ifa->flags & NS_IFA_LINKLOCAL) != 0;
			if (dst_ll == a_ll)
				score += 1000;
		}
		if (ns_addr_prefix_eq(&ifa->addr, dst, ifa->plen))
			score += 200;
		score += common_prefix_bits(ifa->addr.b, dst->b, dst->family == NS_AF_INET ? 32 : 128);
		if (score > best_score) {
			best_score = score;
			best = j;
		}
	}
	if (best >= 0)
		*src = al->a[best].addr;
	ns_rcu_read_unlock();
	return best >= 0 ? 0 : -NS_EADDRNOTAVAIL;
}

/* ---- parsing and formatting ---------------------------------------------- */

int ns_addr_parse(const char *s, struct ns_addr *out, int *plen)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -NS_EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->b) == 1)
		out->family = NS_AF_INET;
	else if (inet_pton(AF_INET6, buf, out->b) == 1)
		out->family = NS_AF_INET6;
	else
		return -NS_EINVAL;
	int max = out->family == NS_AF_INET ? 32 : 128;
	if (slash) {
		if (!plen)
			return -NS_EINVAL;
		char *end;
		long v = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || v < 0 || v > max)
			return -NS_EINVAL;
		*plen = (int)v;
	} else if (plen) {
		*plen = max;
	}
	return 0;
}

const char *ns_addr_fmt(const struct ns_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family == NS_AF_INET ? AF_INET : AF_INET6, a->b, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

int ns_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -NS_EINVAL;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 0xff)
			return -NS_EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	if (mac[0] & 1)
		return -NS_EINVAL;   /* multicast/broadcast is not a station address */
	return 0;
}

uint32_t ns__flow_hash(struct ns_stack *stk, const struct ns_flow_key *k)
{
	uint8_t buf[40];
	size_t alen = k->laddr.family == NS_AF_INET ? 4 : 16;
	size_t o = 0;
	memcpy(buf + o, k->laddr.b, alen);
	o += alen;
	memcpy(buf + o, k->raddr.b, alen);
	o += alen;
	ns_store_be16(buf + o, k->lport);
	ns_store_be16(buf + o + 2, k->rport);
	buf[o + 4] = k->proto;
	o += 5;
	return (uint32_t)ns__siphash(stk->hash_seed, buf, o);
}

struct cds_lfht *ns__lfht_new(unsigned long init_size)
{
	return cds_lfht_new_flavor(init_size, init_size, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
				   &urcu_bp_flavor, NULL);
}
