/*
 * tests/unit/helpers/tcp_helpers.h - small helpers for TCP tests: socket
 * set-up in one call, pump conditions, and a peek at endpoint state.
 */
#ifndef NS_TEST_TCP_HELPERS_H
#define NS_TEST_TCP_HELPERS_H

#include "netstack/core.h"
#include "tcp/tcp_internal.h"

struct sockaddr_in tt_sin(const char *ip, uint16_t port);
/* A nonblocking listener on port (all addresses). */
int tt_listen(struct ns_stack *stk, uint16_t port, int backlog);
/* A nonblocking socket connecting to ip:port (connect returned EINPROGRESS). */
int tt_connect_nb(struct ns_stack *stk, const char *ip, uint16_t port);
int tt_state(struct ns_stack *stk, int fd);
int tt_sock_error(struct ns_stack *stk, int fd);
/* Endpoints of stk in state (established table); TCP_TIME_WAIT counts the records */
int tt_count_state(struct ns_stack *stk, int state);

struct tt_accept {
	struct ns_stack *stk;
	int lfd, fd;
};
bool tt_accepted(void *ctx);            /* accepts into ->fd when possible */

struct tt_readable {
	struct ns_stack *stk;
	int fd;
};
bool tt_is_readable(void *ctx);         /* POLLIN (or POLLHUP/POLLERR) */
bool tt_is_writable(void *ctx);

struct tt_state_is {
	struct ns_stack *stk;
	int fd, state;
};
bool tt_state_reached(void *ctx);

#endif
