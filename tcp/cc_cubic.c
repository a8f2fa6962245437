/*
 * tcp/cc_cubic.c - CUBIC (RFC 9438) as Linux implements it (tcp_cubic.c):
 * beta 717/1024 (~0.7), C = 0.4 (bic_scale 41 / 1024 * 10), fast convergence,
 * the TCP-friendly (Reno-emulation) region, growth at most 1.5x per RTT, a
 * 5%-per-RTT cap on the first epoch, and HyStart (ACK train + delay
 * increase) to leave slow start before losses.  Time runs in 1 ms "jiffies"
 * (HZ = 1000) like a typical Linux build, so cwnd traces match.
 * Owns: ns_tcp_cc_cubic and its private state in ns_tcp_cc.priv.
 * Read first: RFC 9438 §4, Ha/Rhee/Xu "CUBIC" (2008), Ha/Rhee "HyStart" (2011).
 */
#include "netstack/core.h"
#include "tcp_cc.h"
#include "tcp_seq.h"

#define BETA_SCALE 1024u
#define BETA 717u                       /* 0.7 * 1024 */
#define CUBIC_HZ 10                     /* time unit 2^-10 s */
#define BIC_SCALE 41u
#define CUBE_RTT_SCALE (BIC_SCALE * 10u)                        /* 410 */
#define BETA_RENO_SCALE (8u * (BETA_SCALE + BETA) / 3u / (BETA_SCALE - BETA))   /* 15 */
#define HZ 1000u

#define HYSTART_LOW_WINDOW 16u
#define HYSTART_ACK_DELTA_US 2000u
#define HYSTART_MIN_SAMPLES 8u
#define HYSTART_DELAY_MIN_US 4000u
#define HYSTART_DELAY_MAX_US 16000u



static struct ns_tcp_cc_cubic *ca(struct ns_tcp_cc *cc) { return &cc->priv.cubic; }

static uint32_t jiffies(uint64_t now_us) { return (uint32_t)(now_us / (1000000u / HZ)); }

/* Integer cube root (floor). */
static uint32_t cube_root(uint64_t a)
{
	uint64_t lo = 0, hi = 2642245;         /* 2642245^3 < 2^64 */
	while (lo < hi) {
		uint64_t mid = (lo + hi + 1) / 2;
		if (mid * mid * mid <= a)
			lo = mid;
		else
			hi = mid - 1;
	}
	return (uint32_t)lo;
}

/* Linux bictcp_reset: everything back to zero (W_max and delay_min too). */
static void reset(struct ns_tcp_cc_cubic *c)
{
	memset(c, 0, sizeof(*c));
	c->need_reset = true;
}

static void hystart_reset(struct ns_tcp_cc_cubic *c, uint32_t now_us, uint32_t snd_nxt)
{
	c->round_start = c->last_ack = now_us;
	c->end_seq = snd_nxt;
	c->curr_rtt = UINT32_MAX;
	c->sample_cnt = 0;
	c->need_reset = false;
}

static void cubic_init(struct ns_tcp_cc *cc, uint64_t now_us)
{
	(void)now_us;
	reset(ca(cc));
}

/* RFC 9438 §4.2-4.3 (Linux bictcp_update): ACKs per +1 segment. */
static void cubic_update(struct ns_tcp_cc_cubic *c, uint32_t cwnd, uint32_t acked, uint32_t now_j)
{
	c->ack_cnt += acked;
	if (c->last_cwnd == cwnd && (int32_t)(now_j - c->last_time) <= (int32_t)(HZ / 32))
		return;
	if (!(c->epoch_start && now_j == c->last_time)) {
		c->last_cwnd = cwnd;
		c->last_time = now_j;
		if (c->epoch_start == 0) {
			c->epoch_start = now_j ? now_j : 1;
			c->ack_cnt = acked;
			c->tcp_cwnd = cwnd;
			if (c->last_max_cwnd <= cwnd) {
				c->k = 0;
				c->origin_point = cwnd;
			} else {
				/* K = cbrt((W_max - cwnd) / C) in 2^-10 s units */
				uint64_t factor = (1ull << (10 + 3 * CUBIC_HZ)) / CUBE_RTT_SCALE;
				c->k = cube_root(factor * (c->last_max_cwnd - cwnd));
				c->origin_point = c->last_max_cwnd;
			}
		}
		/* t = time since epoch + min RTT, in 2^-10 s */
		uint64_t t = (uint64_t)(int32_t)(now_j - c->epoch_start);
		t += (c->delay_min + (1000000u / HZ) - 1) / (1000000u / HZ);    /* usecs_to_jiffies */
		t = (t << CUBIC_HZ) / HZ;
		uint64_t offs = t < c->k ? c->k - t : t - c->k;
		uint32_t delta = (uint32_t)((CUBE_RTT_SCALE * offs * offs * offs) >> (10 + 3 * CUBIC_HZ));
		uint32_t target = t < c->k ? c->origin_point - delta : c->origin_point + delta;
		if (target > cwnd)
			c->cnt = cwnd / (target - cwnd);
		else
			c->cnt = 100 * cwnd;    /* very small increment */
		if (c->last_max_cwnd == 0 && c->cnt > 20)
			c->cnt = 20;            /* first epoch: at most 5% per RTT */
	}
	/* TCP-friendly region (RFC 9438 §4.3): emulate Reno with the CUBIC beta */
	uint32_t d = (cwnd * BETA_RENO_SCALE) >> 3;
	if (d == 0)
		d = 1;
	while (c->ack_cnt > d) {
		c->ack_cnt -= d;
		c->tcp_cwnd++;
	}
	if (c->tcp_cwnd > cwnd) {
		uint32_t max_cnt = cwnd / (c->tcp_cwnd - cwnd);
		if (c->cnt > max_cnt)
			c->cnt = max_cnt;
	}
	c->cnt = NS_MAX(c->cnt, 2u);    /* at most +1 per 2 ACKed: 1.5x per RTT */
}

static void cubic_cong_avoid(struct ns_tcp_cc *cc, const struct ns_tcp_cc_ack *a)
{
	if (!ns_tcp_cc_is_cwnd_limited(cc))
		return;
	uint32_t acked = a->acked;
	if (ns_tcp_cc_in_slow_start(cc)) {
		acked = ns_tcp_cc_slow_start(cc, acked);
		if (!acked)
			return;
	}
	struct ns_tcp_cc_cubic *c = ca(cc);
	cubic_update(c, cc->cwnd, acked, jiffies(a->now_us));
	ns_tcp_cc_cong_avoid_ai(cc, c->cnt, acked);
}

static uint32_t cubic_ssthresh(struct ns_tcp_cc *cc)
{
	struct ns_tcp_cc_cubic *c = ca(cc);
	c->epoch_start = 0;
	/* fast convergence (RFC 9438 §4.7) */
	if (cc->cwnd < c->last_max_cwnd)
		c->last_max_cwnd = (cc->cwnd * (BETA_SCALE + BETA)) / (2 * BETA_SCALE);
	else
		c->last_max_cwnd = cc->cwnd;
	c->loss_cwnd = cc->cwnd;
	return NS_MAX((cc->cwnd * BETA) / BETA_SCALE, 2u);
}

static void cubic_set_state(struct ns_tcp_cc *cc, enum ns_tcp_ca_state s)
{
	if (s == NS_TCP_CA_LOSS) {
		struct ns_tcp_cc_cubic *c = ca(cc);
		uint32_t loss_cwnd = c->loss_cwnd;
		reset(c);
		c->loss_cwnd = loss_cwnd;
	}
}

static void cubic_tx_start(struct ns_tcp_cc *cc, uint64_t idle_us, uint64_t now_us)
{
	struct ns_tcp_cc_cubic *c = ca(cc);
	uint32_t now_j = jiffies(now_us);
	int32_t delta = (int32_t)(idle_us / (1000000u / HZ));
	/* idle: shift the epoch so growth stays on the cubic curve */
	if (c->epoch_start && delta > 0) {
		c->epoch_start += (uint32_t)delta;
		if (ns_seq_gt(c->epoch_start, now_j))
			c->epoch_start = now_j;
	}
}

static uint32_t cubic_undo_cwnd(struct ns_tcp_cc *cc)
{
	return NS_MAX(cc->cwnd, ca(cc)->loss_cwnd);
}

/* Linux hystart_ack_delay: allowance for TSO/GRO bursts from the pacing rate. */
static uint32_t ack_delay_allowance(const struct ns_tcp_cc *cc, const struct ns_tcp_cc_ack *a)
{
	if (!a->srtt_us || !cc->mss)
		return 0;
	/* Linux's pacing rate in slow start: 2 * cwnd * mss / srtt (bytes/s) */
	uint64_t rate = 2ull * cc->cwnd * cc->mss * 1000000ull / a->srtt_us;
	if (!rate)
		return 0;
	return (uint32_t)NS_MIN(1000ull, 65536ull * 4 * 1000000ull / rate);
}

static void hystart_update(struct ns_tcp_cc *cc, const struct ns_tcp_cc_ack *a, uint32_t delay)
{
	struct ns_tcp_cc_cubic *c = ca(cc);
	uint32_t now = (uint32_t)a->now_us;
	if (c->need_reset || ns_seq_gt(a->snd_una, c->end_seq))
		hystart_reset(c, now, a->snd_nxt);
	/* ACK train: ACKs closely spaced for longer than half the min RTT */
	if ((int32_t)(now - c->last_ack) <= (int32_t)HYSTART_ACK_DELTA_US) {
		c->last_ack = now;
		uint32_t threshold = (c->delay_min + ack_delay_allowance(cc, a)) >> 1;
		if ((int32_t)(now - c->round_start) > (int32_t)threshold) {
			c->found = true;
			c->found_by = 1;
			c->hystart_pending = 1;
			cc->ssthresh = cc->cwnd;
			return;
		}
	}
	/* delay increase: the round's min RTT exceeds delay_min + clamp(delay_min/8, 4, 16 ms) */
	if (c->curr_rtt > delay)
		c->curr_rtt = delay;
	if (c->sample_cnt < HYSTART_MIN_SAMPLES) {
		c->sample_cnt++;
	} else {
		uint32_t th = NS_MIN(NS_MAX(c->delay_min >> 3, HYSTART_DELAY_MIN_US), HYSTART_DELAY_MAX_US);
		if (c->curr_rtt > c->delay_min + th) {
			c->found = true;
			c->found_by = 2;
			c->hystart_pending = 2;
			cc->ssthresh = cc->cwnd;
		}
	}
}

static void cubic_pkts_acked(struct ns_tcp_cc *cc, const struct ns_tcp_cc_ack *a)
{
	struct ns_tcp_cc_cubic *c = ca(cc);
	if (a->rtt_us < 0)
		return;
	/* discard delay samples right after a reduction (one second) */
	if (c->epoch_start && (int32_t)(jiffies(a->now_us) - c->epoch_start) < (int32_t)HZ)
		return;
	uint32_t delay = a->rtt_us > 0 ? (uint32_t)NS_MIN(a->rtt_us, (int64_t)UINT32_MAX) : 1;
	if (c->delay_min == 0 || c->delay_min > delay)
		c->delay_min = delay;
	if (!c->found && ns_tcp_cc_in_slow_start(cc) && cc->cwnd >= HYSTART_LOW_WINDOW)
		hystart_update(cc, a, delay);
}

const struct ns_tcp_cc_ops ns_tcp_cc_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.cong_avoid = cubic_cong_avoid,
	.ssthresh = cubic_ssthresh,
	.pkts_acked = cubic_pkts_acked,
	.set_state = cubic_set_state,
	.tx_start = cubic_tx_start,
	.undo_cwnd = cubic_undo_cwnd,
};
