/*
 * netstack/platform.h - the small OS interface the portable core uses.
 * netstack/platform_posix.c is the portable version (pipe wakeups,
 * /dev/urandom); link/platform_linux.c uses eventfd and getrandom.
 */
#ifndef NS_PLATFORM_H
#define NS_PLATFORM_H

#include <stddef.h>

/* A level-triggered wakeup: a descriptor that is readable while signalled. */
struct ns_wakeup;
struct ns_wakeup *ns__wakeup_new(void);
void ns__wakeup_free(struct ns_wakeup *w);
void ns__wakeup_signal(struct ns_wakeup *w);
void ns__wakeup_clear(struct ns_wakeup *w);
int ns__wakeup_fd(const struct ns_wakeup *w);

/* Fills buf with OS entropy; 0 or -errno. */
int ns__platform_entropy(void *buf, size_t len);

#endif
