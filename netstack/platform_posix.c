/*
 * netstack/platform_posix.c - portable platform layer: a pipe as the
 * wakeup descriptor, /dev/urandom for entropy.  Used where eventfd and
 * getrandom are missing (and by `make portable`).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "platform.h"

struct ns_wakeup {
	int rfd, wfd;
};

struct ns_wakeup *ns__wakeup_new(void)
{
	struct ns_wakeup *w = calloc(1, sizeof(*w));
	int p[2];
	if (!w)
		return NULL;
	if (pipe(p) < 0) {
		free(w);
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
		fcntl(p[i], F_SETFD, FD_CLOEXEC);
	}
	w->rfd = p[0];
	w->wfd = p[1];
	return w;
}

void ns__wakeup_free(struct ns_wakeup *w)
{
	if (!w)
		return;
	close(w->rfd);
	close(w->wfd);
	free(w);
}

void ns__wakeup_signal(struct ns_wakeup *w)
{
	char c = 1;
	ssize_t r = write(w->wfd, &c, 1);   /* pipe full means already signalled */
	(void)r;
}

void ns__wakeup_clear(struct ns_wakeup *w)
{
	char buf[64];
	while (read(w->rfd, buf, sizeof(buf)) > 0)
		;
}

int ns__wakeup_fd(const struct ns_wakeup *w) { return w->rfd; }

int ns__platform_entropy(void *buf, size_t len)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			close(fd);
			return -EIO;
		}
		got += (size_t)r;
	}
	close(fd);
	return 0;
}
