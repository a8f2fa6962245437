/*
 * tap/netstackd/http.c - the HTTP/1.1 service (RFC 9112 subset).
 * GET / (or HEAD) returns a short HTML page; GET /bytes/N returns exactly N
 * bytes of the pattern "abcdefghijklmnopqrstuvwxyz" repeated (byte i is
 * 'a' + i % 26).  Persistent connections are the HTTP/1.1 default
 * ("Connection: close" ends them; HTTP/1.0 needs "Connection: keep-alive");
 * pipelined requests are answered in order.  Requests with a body are
 * accepted when Content-Length fits the buffer; chunked bodies are refused.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "netstackd.h"
#include "svc_util.h"

#define REQ_BUF 16384
#define IDLE_LIMIT_MS 120000
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

static int send_head(struct ns_stack *stk, int fd, int st, const char *ctype,
		     unsigned long long len, bool close, bool ka10, const atomic_bool *stop,
		     const char *body, size_t blen)
{
	char h[512 + sizeof(page)];
	int n = snprintf(h, 512,
			 "HTTP/1.1 %d %s\r\nServer: netstackd/%s\r\nContent-Type: %s\r\n"
			 "Content-Length: %llu\r\n%s%s\r\n",
			 st, reason(st), NS_VERSION, ctype, len,
			 st == 405 ? "Allow: GET, HEAD\r\n" : "",
			 close ? "Connection: close\r\n" : ka10 ? "Connection: keep-alive\r\n" : "");
	/* small bodies go in the same send as the header */
	if (body && blen <= sizeof(page)) {
		memcpy(h + n, body, blen);
		n += (int)blen;
	}
	return nsd_send_all(stk, fd, h, (size_t)n, stop);
}

static int send_pattern(struct ns_stack *stk, int fd, unsigned long long n, const atomic_bool *stop)
{
	static uint8_t pat[65536 + 26];
	static atomic_bool ready;
	if (!atomic_load(&ready)) {
		for (size_t i = 0; i < sizeof(pat); i++)
			pat[i] = (uint8_t)('a' + i % 26);
		atomic_store(&ready, true);
	}
	unsigned long long off = 0;
	while (off < n) {
		size_t chunk = n - off > 65536 ? 65536 : (size_t)(n - off);
		int err = nsd_send_all(stk, fd, pat + off % 26, chunk, stop);
		if (err < 0)
			return err;
		off += chunk;
	}
	return 0;
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

/* Answers one request; returns 0 to keep the connection, 1 to close, <0 error. */
static int respond(struct ns_stack *stk, int fd, const struct req *r, const atomic_bool *stop)
{
	bool close = r->close || (r->minor == 0 && !r->keepalive);
	bool ka10 = r->minor == 0 && !close;
	bool head = strcmp(r->method, "HEAD") == 0;
	if (!head && strcmp(r->method, "GET") != 0) {
		static const char msg[] = "method not allowed\n";
		return send_head(stk, fd, 405, "text/plain", sizeof(msg) - 1, close, ka10, stop, msg,
				 sizeof(msg) - 1) < 0 ? -1 : close;
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
		return send_head(stk, fd, 200, "text/html; charset=utf-8", sizeof(page) - 1, close, ka10,
				 stop, head ? NULL : page, sizeof(page) - 1) < 0 ? -1 : close;
	}
	if (parse_bytes(path, &n)) {
		if (send_head(stk, fd, 200, "application/octet-stream", n, close, ka10, stop, NULL, 0) < 0)
			return -1;
		if (!head && send_pattern(stk, fd, n, stop) < 0)
			return -1;
		return close;
	}
	static const char nf[] = "not found\n";
	return send_head(stk, fd, 404, "text/plain", sizeof(nf) - 1, close, ka10, stop,
			 head ? NULL : nf, sizeof(nf) - 1) < 0 ? -1 : close;
}

static void send_error_close(struct ns_stack *stk, int fd, int st, const atomic_bool *stop)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", st, reason(st));
	send_head(stk, fd, st, "text/plain", (unsigned long long)n, true, false, stop, body, (size_t)n);
}

/* Ends the connection without losing the response: half-close, then read
 * (and drop) until the client closes, for at most 2 s. */
static void lingering_close(struct ns_stack *stk, int fd)
{
	char sink[4096];
	ns_shutdown(stk, fd, NS_SHUT_WR);
	for (int i = 0; i < 10; i++) {
		ssize_t n = ns_recv(stk, fd, sink, sizeof(sink), 0);
		if (n == 0 || (n < 0 && !nsd_retry(n)))
			return;
	}
}

/* Serves every complete request in buf[0, *have); false when the connection ends. */
static bool serve_buffered(struct ns_stack *stk, int fd, char *buf, size_t *have, const atomic_bool *stop)
{
	for (;;) {
		size_t end = header_end(buf, *have);
		if (!end)
			return true;
		char hdr[REQ_BUF];
		memcpy(hdr, buf, end);
		struct req r;
		int st = parse_req(hdr, end, &r);
		if (st) {
			send_error_close(stk, fd, st, stop);
			return false;
		}
		if (r.clen > (long long)(REQ_BUF - end)) {
			send_error_close(stk, fd, 413, stop);
			return false;
		}
		size_t total = end + (size_t)r.clen;
		if (*have < total)
			return true;    /* body still coming */
		int rc = respond(stk, fd, &r, stop);
		memmove(buf, buf + total, *have - total);
		*have -= total;
		if (rc != 0)
			return false;
	}
}

void nsd_http_serve(struct ns_stack *stk, int fd, const atomic_bool *stop)
{
	char *buf = malloc(REQ_BUF);
	if (!buf)
		return;
	size_t have = 0;
	int idle_ms = 0;
	bool keep = true;
	while (keep && !atomic_load(stop)) {
		if (have == REQ_BUF) {
			send_error_close(stk, fd, 431, stop);
			lingering_close(stk, fd);
			break;
		}
		ssize_t n = ns_recv(stk, fd, buf + have, REQ_BUF - have, 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (!nsd_retry(n))
				break;
			idle_ms += 200;
			if (idle_ms >= IDLE_LIMIT_MS)
				break;
			continue;
		}
		idle_ms = 0;
		have += (size_t)n;
		keep = serve_buffered(stk, fd, buf, &have, stop);
		if (!keep)
			lingering_close(stk, fd);
	}
	free(buf);
}
