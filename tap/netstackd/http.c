/*
 * tap/netstackd/http.c - the HTTP/1.1 service (RFC 9112 subset).
 * GET / (or HEAD) returns a short HTML page; GET /bytes/N returns exactly N
 * bytes of the pattern "abcdefghijklmnopqrstuvwxyz" repeated (byte i is
 * 'a' + i % 26).  Persistent connections are the HTTP/1.1 default
 * ("Connection: close" ends them; HTTP/1.0 needs "Connection: keep-alive");
 * pipelined requests are answered in order.  Requests with a body are
 * accepted when Content-Length fits the buffer; chunked bodies are refused.
 * Runs as a state machine on a worker (svc_util.h): one request is parsed
 * and answered per step, the next only once the previous response went out;
 * /bytes/N bodies are streamed from a static pattern, never buffered.
 * After "Connection: close" (or an error) the connection is half-closed and
 * drained for at most 2 s (lingering close) so the response is not lost.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "netstackd.h"
#include "svc_util.h"

#define REQ_BUF NSD_REQ_BUF
#define BYTES_MAX (1ull << 40)

static const char page[] =
	"<!doctype html>\n<html><head><title>netstack</title></head>\n"
	"<body><h1>netstack</h1>\n"
	"<p>This page was served by netstackd " NS_VERSION ", a TCP/IP stack running in user space.</p>\n"
	"<p>Try <a href=\"/bytes/1000\">/bytes/1000</a> for exactly 1000 bytes.</p>\n"
	"</body></html>\n";

struct req {
	char method[16];
	char target[256];
	int minor;                      /* HTTP/1.x */
	bool close, keepalive;
	long long clen;
	bool chunked;
};

/* Offset just past the blank line ending the header, or 0 if incomplete. */
static size_t header_end(const char *b, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (b[i] == '\n' && b[i + 1] == '\n')
			return i + 2;
		if (i + 3 < n && b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n')
			return i + 4;
	}
	return 0;
}

static bool has_token(const char *v, const char *tok)
{
	size_t tl = strlen(tok);
	for (const char *p = v; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (strncasecmp(p, tok, tl) == 0 && (p[tl] == 0 || p[tl] == ',' || p[tl] == ' ' || p[tl] == '\t'))
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}

static void header_line(struct req *r, char *line)
{
	char *colon = strchr(line, ':');
	if (!colon)
		return;
	*colon = 0;
	char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (strcasecmp(line, "connection") == 0) {
		if (has_token(v, "close"))
			r->close = true;
		if (has_token(v, "keep-alive"))
			r->keepalive = true;
	} else if (strcasecmp(line, "content-length") == 0) {
		char *end;
		r->clen = strtoll(v, &end, 10);
		if (end == v || r->clen < 0)
			r->clen = -1;
	} else if (strcasecmp(line, "transfer-encoding") == 0) {
		r->chunked = true;
	}
}

/* Parses the header block [b, b + n) (modified in place).  0 or an HTTP status. */
static int parse_req(char *b, size_t n, struct req *r)
{
	memset(r, 0, sizeof(*r));
	b[n - 1] = 0;
	char *save = NULL;
	char *line = strtok_r(b, "\r\n", &save);
	if (!line)
		return 400;
	char ver[16];
	if (sscanf(line, "%15s %255s %15s", r->method, r->target, ver) != 3)
		return 400;
	if (strncmp(ver, "HTTP/1.", 7) != 0 || (ver[7] != '0' && ver[7] != '1') || ver[8])
		return 505;
	r->minor = ver[7] - '0';
	while ((line = strtok_r(NULL, "\r\n", &save)))
		header_line(r, line);
	if (r->clen < 0)
		return 400;
	if (r->chunked)
		return 501;
	return 0;
}

static const char *reason(int st)
{
	switch (st) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}


_Static_assert(sizeof(page) + 512 <= NSD_HBUF, "the response head and page fit hbuf");

static uint8_t pattern[65536 + 26];

/* The response head, with a small body in the same buffer. */
static void set_head(struct nsd_conn *c, int st, const char *ctype, unsigned long long len, bool close,
		     bool ka10, const char *body, size_t blen)
{
	int n = snprintf((char *)c->hbuf, 512,
			 "HTTP/1.1 %d %s\r\nServer: netstackd/%s\r\nContent-Type: %s\r\n"
			 "Content-Length: %llu\r\n%s%s\r\n",
			 st, reason(st), NS_VERSION, ctype, len,
			 st == 405 ? "Allow: GET, HEAD\r\n" : "",
			 close ? "Connection: close\r\n" : ka10 ? "Connection: keep-alive\r\n" : "");
	if (n < 0 || n >= 512)
		n = 0;  /* cannot happen: the fields are bounded */
	if (body && (size_t)n + blen <= NSD_HBUF) {
		memcpy(c->hbuf + n, body, blen);
		n += (int)blen;
	}
	c->out = c->hbuf;
	c->out_heap = false;
	c->out_off = 0;
	c->out_len = (size_t)n;
	if (close)
		c->close_after = true;
}

static void set_error(struct nsd_conn *c, int st)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", st, reason(st));
	set_head(c, st, "text/plain", (unsigned long long)n, true, false, body, (size_t)n);
}

static bool parse_bytes(const char *t, unsigned long long *n)
{
	if (strncmp(t, "/bytes/", 7) != 0)
		return false;
	const char *d = t + 7;
	size_t len = strspn(d, "0123456789");
	if (len == 0 || len > 15 || d[len])
		return false;
	*n = strtoull(d, NULL, 10);
	return *n <= BYTES_MAX;
}

/* Sets up the answer to one request. */
static void respond(struct nsd_conn *c, const struct req *r)
{
	bool close = r->close || (r->minor == 0 && !r->keepalive);
	bool ka10 = r->minor == 0 && !close;
	bool head = strcmp(r->method, "HEAD") == 0;
	if (!head && strcmp(r->method, "GET") != 0) {
		static const char msg[] = "method not allowed\n";
		set_head(c, 405, "text/plain", sizeof(msg) - 1, close, ka10, msg, sizeof(msg) - 1);
		return;
	}
	unsigned long long n;
	/* absolute-form (RFC 9112 3.2.2) names the same resource; a query is ignored */
	char path[256];
	const char *t = r->target;
	if (strncasecmp(t, "http://", 7) == 0) {
		t = strchr(t + 7, '/');
		if (!t)
			t = "/";
	}
	snprintf(path, sizeof(path), "%s", t);
	path[strcspn(path, "?#")] = 0;
	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
		set_head(c, 200, "text/html; charset=utf-8", sizeof(page) - 1, close, ka10,
			 head ? NULL : page, sizeof(page) - 1);
		return;
	}
	if (parse_bytes(path, &n)) {
		set_head(c, 200, "application/octet-stream", n, close, ka10, NULL, 0);
		if (!head && n) {
			c->pat = pattern;
			c->pat_period = 26;
			c->pat_pos = 0;
			c->pat_left = n;
		}
		return;
	}
	static const char nf[] = "not found\n";
	set_head(c, 404, "text/plain", sizeof(nf) - 1, close, ka10, head ? NULL : nf, sizeof(nf) - 1);
}

/* Answers the first request of buf[0, len): the bytes it used (all of them
 * after an error), or 0 while it is incomplete. */
static size_t serve_one(struct nsd_conn *c, const char *buf, size_t len)
{
	size_t end = header_end(buf, len);
	if (!end)
		return 0;
	char hdr[REQ_BUF];
	memcpy(hdr, buf, end);
	struct req r;
	int st = parse_req(hdr, end, &r);
	if (st) {
		set_error(c, st);
		return len;
	}
	if (r.clen > (long long)(REQ_BUF - end)) {
		set_error(c, 413);
		return len;
	}
	size_t total = end + (size_t)r.clen;
	if (len < total)
		return 0;       /* body still coming */
	respond(c, &r);
	return total;
}

static ssize_t rd(struct nsd_conn *c, void *buf, size_t len)
{
	ssize_t n;
	do
		n = ns_recv(c->it.w->stk, c->it.fd, buf, len, NS_MSG_DONTWAIT);
	while (n == -NS_EINTR);
	return n;
}

/* Keeps the unparsed rest of a read for the next step. */
static bool keep_rest(struct nsd_conn *c, const uint8_t *p, size_t len)
{
	if (!c->in && !(c->in = malloc(REQ_BUF)))
		return false;
	memcpy(c->in, p, len);
	c->in_len = len;
	return true;
}

static void consume(struct nsd_conn *c, size_t used)
{
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	if (!c->in_len) {
		free(c->in);
		c->in = NULL;
	}
}

/* Reading after the last response: drop everything until EOF or 2 s. */
static enum nsd_step linger_step(struct nsd_conn *c)
{
	ssize_t n = rd(c, c->it.w->scratch, NSD_SCRATCH);
	if (n == -NS_EAGAIN)
		return NSD_WAIT;
	return n > 0 ? NSD_MORE : NSD_CLOSE;
}

/* Reads into the pending buffer, which holds part of a request. */
static enum nsd_step read_more(struct nsd_conn *c)
{
	if (c->in_len == REQ_BUF) {
		set_error(c, 431);
		consume(c, c->in_len);
		return NSD_MORE;
	}
	ssize_t n = rd(c, c->in + c->in_len, REQ_BUF - c->in_len);
	if (n == -NS_EAGAIN)
		return NSD_WAIT;
	if (n <= 0)
		return NSD_CLOSE;
	c->in_len += (size_t)n;
	nsd_conn_touch_idle(c);
	return NSD_MORE;
}

enum nsd_step nsd_http_step(struct nsd_conn *c)
{
	if (c->lingering)
		return linger_step(c);
	if (c->close_after) {
		/* the last response went out */
		ns_shutdown(c->it.w->stk, c->it.fd, NS_SHUT_WR);
		nsd_conn_linger(c);
		return NSD_MORE;
	}
	if (c->in_len) {
		size_t used = serve_one(c, c->in, c->in_len);
		if (used) {
			consume(c, used);
			return NSD_MORE;
		}
		return read_more(c);
	}
	uint8_t *s = c->it.w->scratch;
	ssize_t n = rd(c, s, REQ_BUF);
	if (n == -NS_EAGAIN) {
		if (!nsd_linked(&c->tmo))
			nsd_conn_touch_idle(c);         /* a silent client times out too */
		return NSD_WAIT;
	}
	if (n <= 0)
		return NSD_CLOSE;
	nsd_conn_touch_idle(c);
	size_t used = serve_one(c, (const char *)s, (size_t)n);
	if (used < (size_t)n && !keep_rest(c, s + used, (size_t)n - used))
		return NSD_CLOSE;
	return NSD_MORE;
}

void nsd_http_init(void)
{
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)('a' + i % 26);
}
