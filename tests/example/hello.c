/*
 * tests/example/hello.c - the README's example: two stacks in one process,
 * joined by an in-memory cable, one TCP connection between them.
 * Build: cc -std=c11 hello.c $(pkg-config --cflags --libs netstack)
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netstack.h>

static struct ns_stack *make_stack(struct ns_link *link, const char *cidr)
{
	struct ns_stack *stk;
	struct ns_addr addr;
	int plen;
	if (ns_stack_create(NULL, &stk) < 0)     /* real clock, real randomness */
		return NULL;
	int nic = ns_nic_add(stk, link, "eth0");   /* the stack owns the link now */
	ns_addr_parse(cidr, &addr, &plen);
	ns_nic_addr_add(stk, nic, &addr, plen);
	ns_stack_start(stk);                       /* its own rx and timer threads */
	return stk;
}

int main(void)
{
	const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 1 }, mac_b[6] = { 2, 0, 0, 0, 0, 2 };
	struct ns_link *la = ns_link_channel_new(mac_a, 1500, 1024);
	struct ns_link *lb = ns_link_channel_new(mac_b, 1500, 1024);
	ns_link_channel_pair(la, lb);
	struct ns_stack *a = make_stack(la, "198.18.0.1/24");
	struct ns_stack *b = make_stack(lb, "198.18.0.2/24");

	/* b listens on port 7, a connects: the calls and errors are Linux's. */
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7) };
	int srv = ns_socket(b, NS_AF_INET, NS_SOCK_STREAM, 0);
	ns_bind(b, srv, (struct sockaddr *)&sin, sizeof(sin));
	ns_listen(b, srv, 16);

	inet_pton(AF_INET, "198.18.0.2", &sin.sin_addr);
	int cli = ns_socket(a, NS_AF_INET, NS_SOCK_STREAM, 0);
	int err = ns_connect(a, cli, (struct sockaddr *)&sin, sizeof(sin));  /* blocks */
	int conn = ns_accept(b, srv, NULL, NULL, 0);
	if (err < 0 || conn < 0) {
		fprintf(stderr, "connect: %d, accept: %d\n", err, conn);
		return 1;
	}
	ns_send(a, cli, "hello, netstack", 15, 0);
	char buf[64] = { 0 };
	ssize_t n = ns_recv(b, conn, buf, sizeof(buf) - 1, 0);
	printf("b received %zd bytes: %s\n", n, buf);

	uint64_t segs;
	ns_stat_get(a, "TcpOutSegs", &segs);
	printf("a sent %llu TCP segments\n", (unsigned long long)segs);

	ns_close(a, cli);
	ns_close(b, conn);
	ns_close(b, srv);
	ns_stack_destroy(a);
	ns_stack_destroy(b);
	return n == 15 && strcmp(buf, "hello, netstack") == 0 ? 0 : 1;
}
