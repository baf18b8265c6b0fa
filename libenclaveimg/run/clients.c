/* SPDX-License-Identifier: Apache-2.0 */
/* The runner's clients (stdin/stdout or accepted connections): reading
 * framed requests, queueing them, writing replies back in request order. */
#include <errno.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eimg/sgx_hw.h"
#include "eimg/sigstruct.h"
#include "eimg/sim.h"
#include "eimg/enclave_abi.h"
#include "core/internal.h"
#include "run/sgx_hw_int.h"
#include "run/sim_int.h"
#include "run/runner_int.h"

/* ------------------------------------------------------------- clients */

struct client *eimg_rn_client_new(struct runner *R, int in_fd, int out_fd, bool is_stdio)
{
	struct client *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->is_stdio = is_stdio;
	c->out_saved_flags = -1;
	c->out_nonblock = !is_stdio;
	if (is_stdio) {
		/* A pipe or socket on stdout is made non-blocking for the run (and
		 * restored): replies then go out without waiting for poll.  A
		 * terminal or file is left alone. */
		struct stat st;
		int fl = fcntl(out_fd, F_GETFL);
		if (fl >= 0 && fstat(out_fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) &&
		    fcntl(out_fd, F_SETFL, fl | O_NONBLOCK) == 0) {
			c->out_saved_flags = fl;
			c->out_nonblock = true;
		}
	}
	eimg_frame_parser_init(&c->parser, R->max, R->o->lines);
	R->clients[R->nclients++] = c;
	return c;
}

/* Appends the reply of r to the client's output. */
static int client_emit(struct runner *R, struct client *c, struct req *r)
{
	if (R->o->lines) {
		if (r->code == EIMG_FRAME_OK) {
			if (eimg_rn_buf_put(&c->out, r->reply, r->reply_len) || eimg_rn_buf_put(&c->out, "\n", 1))
				return -1;
		} else if (eimg_rn_buf_put(&c->out, "error: ", 7) || eimg_rn_buf_put(&c->out, r->reply, r->reply_len) ||
			   eimg_rn_buf_put(&c->out, "\n", 1)) {
			return -1;
		}
		return 0;
	}
	uint8_t h[EIMG_FRAME_HEADER];
	eimg_frame_header(h, (uint32_t)r->reply_len, r->code);
	return eimg_rn_buf_put(&c->out, h, sizeof h) || eimg_rn_buf_put(&c->out, r->reply, r->reply_len) ? -1 : 0;
}

/* Moves answered requests at the head of the client's FIFO to its output. */
void eimg_rn_client_flush_replies(struct runner *R, struct client *c)
{
	while (c->head && c->head->done) {
		struct req *r = c->head;
		c->head = r->cnext;
		if (!c->head)
			c->tail = NULL;
		c->pending--;
		if (client_emit(R, c, r) != 0)
			c->dead = true;
		eimg_rn_req_free(r);
	}
}

/* What a client holds of the runner's memory: its requests not yet answered
 * (or not yet handed to the enclave), answered replies waiting for earlier
 * ones, and reply bytes not yet sent to it. */
size_t eimg_rn_client_backlog(const struct client *c)
{
	size_t n = buf_avail(&c->out);
	for (const struct req *r = c->head; r; r = r->cnext)
		n += (r->msg ? r->len : 0) + r->reply_len;
	return n;
}

void eimg_rn_client_close(struct runner *R, unsigned idx)
{
	struct client *c = R->clients[idx];
	if (c->is_stdio && c->write_errno && !R->input_status) {
		R->input_status = EIMG_EIO;
		snprintf(R->input_err, sizeof R->input_err, "standard output: %s (replies were lost)",
			 strerror(c->write_errno));
	}
	for (struct req *r = c->head, *n; r; r = n) {
		n = r->cnext;
		if (r->done)
			eimg_rn_req_free(r);
		else
			r->c = NULL;   /* the channel frees it when it completes */
	}
	eimg_frame_parser_free(&c->parser);
	buf_free(&c->out);
	if (c->out_saved_flags >= 0)
		fcntl(c->out_fd, F_SETFL, c->out_saved_flags);
	if (!c->is_stdio)
		close(c->in_fd);
	free(c);
	R->clients[idx] = R->clients[--R->nclients];
	R->clients[R->nclients] = NULL;
}

/* Queues r at the end of the client's requests (replies leave in this order). */
static void client_append(struct client *c, struct req *r)
{
	if (c->tail)
		c->tail->cnext = r;
	else
		c->head = r;
	c->tail = r;
	c->pending++;
}

/* A reply the runner itself gives (malformed frame): queued behind the
 * client's earlier requests so that replies stay in order. */
static void client_error_reply(struct client *c, uint32_t code, const char *text)
{
	struct req *r = calloc(1, sizeof *r);
	if (!r || !(r->reply = (uint8_t *)strdup(text))) {
		free(r);
		c->dead = true;
		return;
	}
	r->c = c;
	r->done = true;
	r->code = code;
	r->reply_len = strlen(text);
	client_append(c, r);
}

static int enqueue(struct runner *R, struct client *c, uint8_t *msg, size_t len)
{
	struct req *r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	r->c = c;
	r->msg = msg;
	r->len = len;
	client_append(c, r);
	if (R->qtail)
		R->qtail->qnext = r;
	else
		R->qhead = r;
	R->qtail = r;
	return 0;
}

static void client_input_error(struct runner *R, struct client *c)
{
	char msg[200];
	snprintf(msg, sizeof msg, "malformed request: %s", c->parser.why);
	client_error_reply(c, EIMG_FRAME_EMALFORMED, msg);
	c->eof = true;
	c->closing = true;
	if (c->is_stdio && !R->input_status) {
		R->input_status = EIMG_EINVAL;
		snprintf(R->input_err, sizeof R->input_err, "standard input: %s", c->parser.why);
	}
}

void eimg_rn_client_read(struct runner *R, struct client *c)
{
	uint8_t tmp[RBUF];
	ssize_t n = read(c->in_fd, tmp, sizeof tmp);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		c->eof = true;
		c->dead = !c->is_stdio;
		return;
	}
	size_t off = 0;
	if (n == 0) {
		uint8_t *msg;
		size_t len;
		int r = eimg_frame_finish(&c->parser, &msg, &len);
		if (r == 1 && enqueue(R, c, msg, len) != 0)
			free(msg);
		if (r < 0)
			client_input_error(R, c);
		c->eof = true;
		return;
	}
	while (off < (size_t)n) {
		uint8_t *msg;
		size_t len, used;
		int r = eimg_frame_feed(&c->parser, tmp + off, (size_t)n - off, &used, &msg, &len);
		off += used;
		if (r == 1) {
			if (enqueue(R, c, msg, len) != 0) {
				free(msg);
				c->dead = true;
				return;
			}
		} else if (r == -1) {
			client_input_error(R, c);
			return;
		} else if (r == -2) {
			c->dead = true;
			return;
		}
		/* frames beyond the read-ahead limit stay in the parser's view
		 * only if fed; keep feeding: the limit applies to new reads */
	}
}

void eimg_rn_client_write(struct client *c)
{
	size_t n = buf_avail(&c->out);
	if (!c->out_nonblock && n > STDIO_WCHUNK)
		n = STDIO_WCHUNK;
	ssize_t w = c->is_stdio ? write(c->out_fd, c->out.p + c->out.off, n)
				: send(c->out_fd, c->out.p + c->out.off, n, MSG_NOSIGNAL);
	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			c->write_errno = errno;
			c->dead = true;
		}
		return;
	}
	c->out.off += (size_t)w;
	if (c->out.off == c->out.len)
		c->out.off = c->out.len = 0;
}
