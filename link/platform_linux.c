/*
 * link/platform_linux.c - Linux platform layer: eventfd wakeups and
 * getrandom().  Replaces netstack/platform_posix.c on Linux builds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include "../netstack/platform.h"

struct ns_wakeup {
	int fd;
};

struct ns_wakeup *ns__wakeup_new(void)
{
	struct ns_wakeup *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->fd < 0) {
		free(w);
		return NULL;
	}
	return w;
}

void ns__wakeup_free(struct ns_wakeup *w)
{
	if (!w)
		return;
	close(w->fd);
	free(w);
}

void ns__wakeup_signal(struct ns_wakeup *w)
{
	uint64_t one = 1;
	ssize_t r = write(w->fd, &one, sizeof(one));
	(void)r;
}

void ns__wakeup_clear(struct ns_wakeup *w)
{
	uint64_t v;
	ssize_t r = read(w->fd, &v, sizeof(v));
	(void)r;
}

int ns__wakeup_fd(const struct ns_wakeup *w) { return w->fd; }

int ns__platform_entropy(void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = getrandom((char *)buf + got, len - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	return 0;
}
