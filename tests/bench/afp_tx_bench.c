/*
 * tests/bench/afp_tx_bench.c IFNAME - AF_PACKET transmit paths compared on
 * one interface (run inside a namespace on one end of a veth pair): frames
 * per second with sendmmsg() batches of 64 (what link/afpacket.c uses) and
 * with a TPACKET_V2 TX ring (fill 64 slots, one send() to flush), both with
 * PACKET_QDISC_BYPASS, for 60-byte and 1514-byte frames.  A benchmark.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#define FRAMES 400000
#define BATCH 64
#define RING_FRAMES 1024
#define SLOT 2048

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int open_sock(int ifindex)
{
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	int one = 1;
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex };
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("packet socket");
		exit(1);
	}
	return fd;
}

static void frame(unsigned char *f, size_t len)
{
	memset(f, 0x5a, len);
	memcpy(f, "\x02\x00\x00\x00\x00\x09\x02\x00\x00\x00\x00\x08\x88\xb5", 14);
}

static double run_sendmmsg(int ifindex, size_t len)
{
	int fd = open_sock(ifindex);
	static unsigned char buf[BATCH][1514];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	for (int i = 0; i < BATCH; i++) {
		frame(buf[i], len);
		iov[i] = (struct iovec){ buf[i], len };
		m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	long sent = 0;
	double t0 = now();
	while (sent < FRAMES) {
		int r = sendmmsg(fd, m, BATCH, 0);
		if (r > 0)
			sent += r;
		else if (errno != ENOBUFS && errno != EAGAIN)
			break;
	}
	double dt = now() - t0;
	close(fd);
	return (double)sent / dt;
}

static double run_ring(int ifindex, size_t len)
{
	int fd = open_sock(ifindex);
	int v = TPACKET_V2;
	setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v));
	struct tpacket_req req = { .tp_block_size = 4096 * 8, .tp_block_nr = RING_FRAMES * SLOT / (4096 * 8),
				   .tp_frame_size = SLOT, .tp_frame_nr = RING_FRAMES };
	if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0) {
		perror("PACKET_TX_RING");
		exit(1);
	}
	unsigned char *map = mmap(NULL, (size_t)RING_FRAMES * SLOT, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	long sent = 0;
	unsigned cur = 0;
	size_t off = TPACKET2_HDRLEN - sizeof(struct sockaddr_ll);
	double t0 = now();
	while (sent < FRAMES) {
		int k = 0;
		for (; k < BATCH; k++) {
			struct tpacket2_hdr *h = (void *)(map + (size_t)cur * SLOT);
			if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE)
				break;
			frame((unsigned char *)h + off, len);
			h->tp_len = (unsigned)len;
			__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
			cur = (cur + 1) % RING_FRAMES;
		}
		if (send(fd, NULL, 0, 0) < 0 && errno != ENOBUFS && errno != EAGAIN)
			break;
		sent += k;
	}
	double dt = now() - t0;
	munmap(map, (size_t)RING_FRAMES * SLOT);
	close(fd);
	return (double)sent / dt;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return fprintf(stderr, "usage: afp_tx_bench IFNAME\n"), 2;
	int ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex)
		return fprintf(stderr, "no interface %s\n", argv[1]), 1;
	size_t sizes[2] = { 60, 1514 };
	for (int i = 0; i < 2; i++) {
		double a = run_sendmmsg(ifindex, sizes[i]);
		double b = run_ring(ifindex, sizes[i]);
		printf("AF_PACKET tx, %4zu-byte frames: sendmmsg x%d %.0f frames/s, TPACKET_V2 TX ring %.0f frames/s\n",
		       sizes[i], BATCH, a, b);
	}
	return 0;
}
