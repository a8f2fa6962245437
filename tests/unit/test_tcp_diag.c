/*
 * tests/unit/test_tcp_diag.c - ns_tcp_foreach_conn (tcp/tcp_diag.c): the
 * listener and both ends of a connection are reported with the right
 * states, addresses, ports and queue lengths; closed connections vanish.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <cmocka.h>
#include "netstack/core.h"
#include "helpers/ns_test.h"
#include "helpers/tcp_helpers.h"

struct seen {
	int n;
	struct ns_tcp_conn_info ci[8];
};

static void collect(void *ctx, const struct ns_tcp_conn_info *ci)
{
	struct seen *s = ctx;
	if (s->n < 8)
		s->ci[s->n++] = *ci;
}

static const struct ns_tcp_conn_info *find(const struct seen *s, int state)
{
	for (int i = 0; i < s->n; i++)
		if (s->ci[i].state == state)
			return &s->ci[i];
	return NULL;
}

static void test_table(void **state)
{
	(void)state;
	struct ns_test_pair p;
	assert_int_equal(ns_test_pair_init(&p, NULL), 0);
	struct ns_stack *a = p.a.stk, *b = p.b.stk;
	struct seen s = { 0 };
	assert_int_equal(ns_tcp_foreach_conn(b, collect, &s), 0);
	int ls = tt_listen(b, 7000, 16);
	int c = tt_connect_nb(a, "198.18.0.2", 7000);
	struct tt_accept acc = { b, ls, -1 };
	assert_true(ns_test_pump(&p, tt_accepted, &acc, 2 * NS_NSEC_PER_SEC));
	char buf[1000];
	memset(buf, 'q', sizeof(buf));
	assert_int_equal(ns_send(a, c, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	ns_test_settle(&p);

	memset(&s, 0, sizeof(s));
	assert_int_equal(ns_tcp_foreach_conn(b, collect, &s), 2);
	const struct ns_tcp_conn_info *l = find(&s, TCP_LISTEN), *e = find(&s, TCP_ESTABLISHED);
	assert_non_null(l);
	assert_non_null(e);
	assert_int_equal(l->lport, 7000);
	assert_int_equal(e->lport, 7000);
	char abuf[64];
	assert_string_equal(ns_addr_fmt(&e->raddr, abuf, sizeof(abuf)), "198.18.0.1");
	assert_string_equal(ns_addr_fmt(&e->laddr, abuf, sizeof(abuf)), "198.18.0.2");
	assert_int_equal(e->recvq, 1000);                   /* unread on b */
	assert_true(e->cwnd >= 1);
	assert_true(e->mss > 0);

	memset(&s, 0, sizeof(s));
	assert_int_equal(ns_tcp_foreach_conn(a, collect, &s), 1);
	assert_int_equal(s.ci[0].state, TCP_ESTABLISHED);
	assert_int_equal(s.ci[0].rport, 7000);
	assert_int_equal(s.ci[0].sendq, 0);                 /* all acknowledged */
	assert_int_equal(s.ci[0].bytes_acked, 1000);

	/* abortive close on both: nothing left */
	ns_close(a, c);
	ns_close(b, acc.fd);
	ns_close(b, ls);
	ns_test_settle(&p);
	memset(&s, 0, sizeof(s));
	ns_tcp_foreach_conn(b, collect, &s);
	assert_null(find(&s, TCP_LISTEN));
	assert_null(find(&s, TCP_ESTABLISHED));
	ns_test_pair_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
