/*
 * netstack/log.c - minimal leveled logging to stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include "core.h"

int ns__log_level = NS_LOG_WARN;

void ns_set_log_level(int level) { ns__log_level = level; }

void ns__log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	if (level > ns__log_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "netstack %s: %s\n", names[level < 0 ? 0 : level > 3 ? 3 : level], buf);
}
