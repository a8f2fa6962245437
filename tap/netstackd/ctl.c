/*
 * tap/netstackd/ctl.c - the control socket (see ctl.h).
 * Owns: the listening Unix socket, its accept thread, and the client side.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "ctl.h"

struct nsd_ctl {
	int fd;
	int stop_pipe[2];
	pthread_t thr;
	nsd_report_fn fn;
	void *ctx;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

const char *nsd_ctl_path(const char *ifname, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.sock", NSD_CTL_DIR, ifname);
	return buf;
}

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static void serve_one(struct nsd_ctl *c, int fd)
{
	/* the request line is optional and ignored beyond "stats" */
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 200) > 0) {
		char req[64];
		ssize_t r = recv(fd, req, sizeof(req), MSG_DONTWAIT);
		(void)r;
	}
	int d = dup(fd);
	FILE *f = d >= 0 ? fdopen(d, "w") : NULL;
	if (f) {
		c->fn(c->ctx, f);
		fclose(f);
	} else if (d >= 0) {
		close(d);
	}
}

static void *ctl_thread(void *arg)
{
	struct nsd_ctl *c = arg;
	struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN }, { .fd = c->stop_pipe[0], .events = POLLIN } };
	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_one(c, fd);
		close(fd);
	}
	return NULL;
}

/* true when something answers on path */
static bool alive(const char *path)
{
	struct sockaddr_un sa;
	if (fill_addr(path, &sa) < 0)
		return false;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

int nsd_ctl_start(const char *path, nsd_report_fn fn, void *ctx, struct nsd_ctl **out)
{
	struct sockaddr_un sa;
	int e = fill_addr(path, &sa);
	if (e < 0)
		return e;
	if (strncmp(path, NSD_CTL_DIR "/", sizeof(NSD_CTL_DIR)) == 0)
		mkdir(NSD_CTL_DIR, 0755);
	if (alive(path))
		return -EADDRINUSE;
	unlink(path);
	struct nsd_ctl *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->ctx = ctx;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->stop_pipe[0] = c->stop_pipe[1] = -1;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(c->fd, 8) < 0 || pipe2(c->stop_pipe, O_CLOEXEC) < 0) {
		e = -errno;
		goto fail;
	}
	chmod(path, 0600);
	if (pthread_create(&c->thr, NULL, ctl_thread, c) != 0) {
		e = -ENOMEM;
		unlink(path);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	if (c->fd >= 0)
		close(c->fd);
	if (c->stop_pipe[0] >= 0) {
		close(c->stop_pipe[0]);
		close(c->stop_pipe[1]);
	}
	free(c);
	return e;
}

void nsd_ctl_stop(struct nsd_ctl *c)
{
	if (!c)
		return;
	ssize_t r = write(c->stop_pipe[1], "x", 1);
	(void)r;
	pthread_join(c->thr, NULL);
	close(c->fd);
	close(c->stop_pipe[0]);
	close(c->stop_pipe[1]);
	unlink(c->path);
	free(c);
}

/* The only *.sock in NSD_CTL_DIR, or an error. */
static int find_only(char *buf, size_t len)
{
	DIR *d = opendir(NSD_CTL_DIR);
	if (!d)
		return -ENOENT;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l > 5 && strcmp(e->d_name + l - 5, ".sock") == 0 &&
		    sizeof(NSD_CTL_DIR) + l + 1 <= len) {
			if (n++ == 0) {
				memcpy(buf, NSD_CTL_DIR "/", sizeof(NSD_CTL_DIR));
				memcpy(buf + sizeof(NSD_CTL_DIR), e->d_name, l + 1);
			}
		}
	}
	closedir(d);
	return n == 1 ? 0 : n == 0 ? -ENOENT : -EEXIST;
}

int nsd_ctl_query(const char *path, FILE *out)
{
	char found[sizeof(((struct sockaddr_un *)0)->sun_path)];
	if (!path) {
		int e = find_only(found, sizeof(found));
		if (e == -EEXIST) {
			fprintf(stderr, "netstackd: --stats: several daemons run; name one with --tap, --packet or --ctl\n");
			return 1;
		}
		if (e < 0) {
			fprintf(stderr, "netstackd: --stats: no running netstackd found in %s\n", NSD_CTL_DIR);
			return 1;
		}
		path = found;
	}
	struct sockaddr_un sa;
	int fd = -1;
	if (fill_addr(path, &sa) < 0 || (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "netstackd: --stats: cannot reach %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	ssize_t r = write(fd, "stats\n", 6);
	(void)r;
	char buf[8192];
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)r, out);
	close(fd);
	fflush(out);
	return 0;
}
