/*
 * tap/netstackd/svc_util.h - the connection object shared by the service
 * handlers (services.c: echo, discard, chargen; http.c: HTTP/1.1).
 *
 * A connection belongs to one worker (evloop.h) and is only touched on that
 * worker's thread.  Its output is a byte buffer (`out`) followed by a
 * pattern stream (`pat`: chargen's lines forever, or /bytes/N), sent with
 * nonblocking calls; a service's step function only runs when all output
 * went out, so a peer that does not read stops us from reading
 * (backpressure) and pipelined HTTP requests are answered in order.
 */
#ifndef NSD_SVC_UTIL_H
#define NSD_SVC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "evloop.h"

struct nsd_conn;

/* What a step asks for next. */
enum nsd_step {
	NSD_MORE,       /* made progress: flush and step again */
	NSD_WAIT,       /* needs input (want POLLIN) */
	NSD_CLOSE,      /* close the connection */
};
typedef enum nsd_step (*nsd_step_fn)(struct nsd_conn *c);

#define NSD_HBUF 1024

struct nsd_conn {
	struct nsd_item it;             /* first: the worker's handle */
	const char *name;               /* service name, for the report */
	nsd_step_fn step;
	struct nsd_link all;            /* the worker's connections */
	struct nsd_link tmo;            /* the worker's idle or linger FIFO */
	uint64_t deadline_ms;           /* of tmo */
	/* output: out[out_off, out_len) first, then pat_left bytes of the pattern */
	uint8_t *out;
	size_t out_off, out_len;
	bool out_heap;                  /* out was malloc'ed (freed when sent) */
	const uint8_t *pat;             /* pattern repeated with period pat_period */
	size_t pat_period, pat_pos;
	uint64_t pat_left;              /* UINT64_MAX: forever */
	bool rd_eof;                    /* the peer sent FIN (chargen keeps sending) */
	/* HTTP (http.c) */
	char *in;                       /* unparsed request bytes, NSD_REQ_BUF when allocated */
	size_t in_len;
	bool close_after;               /* last response sent: half-close, then linger */
	bool lingering;
	uint8_t hbuf[];                 /* HTTP only: NSD_HBUF bytes, the response head (and small bodies) */
};

#define NSD_REQ_BUF 16384

/* HTTP's step (http.c) and its idle/linger bookkeeping in services.c. */
enum nsd_step nsd_http_step(struct nsd_conn *c);
/* Puts c (again) at the end of the idle FIFO: closed after the idle limit. */
void nsd_conn_touch_idle(struct nsd_conn *c);
/* Moves c to the linger FIFO: closed after 2 s whatever happens. */
void nsd_conn_linger(struct nsd_conn *c);
/* Copies len bytes to send before anything else (heap; false if no memory). */
bool nsd_conn_out_copy(struct nsd_conn *c, const void *p, size_t len);

#endif
