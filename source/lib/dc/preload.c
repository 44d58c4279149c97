/*
 * Pre-populating a Samba RODC's password cache: odj-rodc-preload (the
 * python3-samba helper, source/rodc/) does the DRS work; this runs it
 * as a tevent request.  The machines go to its standard input as JSON
 * lines (from a memfd: nothing to write while it runs), and one JSON
 * line per event comes back on its standard output, in the machines'
 * order: "start", then a "machine" each, then "end"; or "fatal".
 */

#include "dc/dc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <tevent.h>
#include <util/tevent_ntstatus.h>

/* a line of the helper longer than this is no protocol line */
#define PRELOAD_LINE_MAX (64 * 1024)

struct preload_state {
	struct tevent_context *ev;
	struct odj_preload_options o;
	struct odj_preload_machine *m;
	TALLOC_CTX *res_ctx;		/* the results' strings */
	size_t num;
	size_t done;
	pid_t pid;
	int out_fd;
	struct tevent_fd *fde;
	char *buf;			/* what was read, up to a newline */
	size_t len;
	struct timespec start;
	struct odj_preload_run run;
	bool ended;			/* its "end" line came */
	bool stopping;
	NTSTATUS fatal;			/* its "fatal" line */
	char *why;
};

static void preload_readable(struct tevent_context *ev,
			     struct tevent_fd *fde, uint16_t flags,
			     void *private_data);

static void preload_fail(struct tevent_req *req, NTSTATUS status,
			 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void preload_fail(struct tevent_req *req, NTSTATUS status,
			 const char *fmt, ...)
{
	struct preload_state *state = tevent_req_data(req,
						      struct preload_state);
	va_list ap;

	TALLOC_FREE(state->why);
	va_start(ap, fmt);
	state->why = talloc_vasprintf(state, fmt, ap);
	va_end(ap);
	tevent_req_nterror(req, status);
}

/* The machines as the helper reads them, in a memfd at offset 0 */
static int machines_fd(struct preload_state *state)
{
	int fd = memfd_create("odj-rodc-preload", MFD_CLOEXEC);
	size_t i;
	bool ok = fd != -1;

	for (i = 0; ok && i < state->num; i++) {
		json_t *o = json_pack("{s:s, s:s?}", "name", state->m[i].name,
				      "sid", state->m[i].sid);
		size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
		char *line = o != NULL ? json_dumps(o, flags) : NULL;

		ok = line != NULL &&
		     odj_write_all(fd, (const uint8_t *)line, strlen(line)) &&
		     odj_write_all(fd, (const uint8_t *)"\n", 1);
		free(line);
		json_decref(o);
	}
	if (ok && lseek(fd, 0, SEEK_SET) == 0) {
		return fd;
	}
	if (fd != -1) {
		close(fd);
	}
	return -1;
}

static const char **helper_argv(struct preload_state *state)
{
	const struct odj_preload_options *o = &state->o;
	const char **argv = talloc_zero_array(state, const char *, 10);
	size_t n = 0;

	if (argv == NULL) {
		return NULL;
	}
	argv[n++] = o->helper;
	argv[n++] = "-s";
	argv[n++] = o->smbconf;
	if (o->dcname != NULL) {
		argv[n++] = "--server";
		argv[n++] = o->dcname;
	}
	if (o->force) {
		argv[n++] = "--force";
	}
	if (o->debuglevel >= 0) {
		argv[n++] = "-d";
		argv[n++] = talloc_asprintf(argv, "%d", o->debuglevel);
		if (argv[n - 1] == NULL) {
			TALLOC_FREE(argv);
		}
	}
	return argv;
}

/* fork and exec the helper: stdin the memfd, stdout a pipe to us */
static NTSTATUS spawn(struct preload_state *state, char **why)
{
	const char **argv = helper_argv(state);
	int in_fd = -1, out[2] = { -1, -1 };

	if (argv == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	in_fd = machines_fd(state);
	if (in_fd == -1 || pipe2(out, O_CLOEXEC) != 0) {
		odj_why(state, why, "cannot prepare the helper's input: %s",
			strerror(errno));
		if (in_fd != -1) {
			close(in_fd);
		}
		return map_nt_error_from_unix_common(errno);
	}
	state->pid = fork();
	if (state->pid == 0) {
		/* dup2() clears FD_CLOEXEC on the copies */
		if (dup2(in_fd, STDIN_FILENO) == -1 ||
		    dup2(out[1], STDOUT_FILENO) == -1) {
			_exit(127);
		}
		execv(argv[0], discard_const_p(char *, argv));
		fprintf(stderr, "cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	close(in_fd);
	close(out[1]);
	if (state->pid == -1) {
		odj_why(state, why, "cannot start %s: %s", argv[0],
			strerror(errno));
		close(out[0]);
		return map_nt_error_from_unix_common(errno);
	}
	state->out_fd = out[0];
	return NT_STATUS_OK;
}

static int preload_destructor(struct preload_state *state)
{
	int wstatus;

	TALLOC_FREE(state->fde);
	if (state->out_fd != -1) {
		close(state->out_fd);
	}
	if (state->pid > 0) {
		/* freed before it ended: do not leave it running */
		kill(state->pid, SIGTERM);
		waitpid(state->pid, &wstatus, 0);
	}
	return 0;
}

struct tevent_req *odj_preload_send(TALLOC_CTX *mem_ctx,
				    struct tevent_context *ev,
				    const struct odj_preload_options *o,
				    struct odj_preload_machine *machines,
				    size_t num)
{
	struct tevent_req *req = NULL;
	struct preload_state *state = NULL;
	NTSTATUS status;

	req = tevent_req_create(mem_ctx, &state, struct preload_state);
	if (req == NULL) {
		return NULL;
	}
	*state = (struct preload_state) {
		.ev = ev, .o = *o, .m = machines, .res_ctx = mem_ctx,
		.num = num, .out_fd = -1,
		.fatal = NT_STATUS_OK,
	};
	talloc_set_destructor(state, preload_destructor);
	clock_gettime(CLOCK_MONOTONIC, &state->start);
	if (o->helper == NULL || o->smbconf == NULL || num == 0) {
		tevent_req_nterror(req, NT_STATUS_INVALID_PARAMETER);
		return tevent_req_post(req, ev);
	}
	if (access(o->helper, X_OK) != 0) {
		preload_fail(req, NT_STATUS_OBJECT_NAME_NOT_FOUND, "cannot run "
			     "%s: %s (it comes with samba-odj-dc and needs "
			     "python3-samba)", o->helper, strerror(errno));
		return tevent_req_post(req, ev);
	}
	status = spawn(state, &state->why);
	if (tevent_req_nterror(req, status)) {
		return tevent_req_post(req, ev);
	}
	state->fde = tevent_add_fd(ev, state, state->out_fd, TEVENT_FD_READ,
				   preload_readable, req);
	if (tevent_req_nomem(state->fde, req)) {
		return tevent_req_post(req, ev);
	}
	return req;
}

void odj_preload_stop(struct tevent_req *req)
{
	struct preload_state *state = tevent_req_data(req,
						      struct preload_state);

	if (!tevent_req_is_in_progress(req) || state->stopping) {
		return;
	}
	state->stopping = true;
	/* it finishes the machine in hand (a transaction) and stops */
	kill(state->pid, SIGTERM);
}

static const char *jget(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static char *jdup(TALLOC_CTX *mem_ctx, json_t *o, const char *key)
{
	const char *s = jget(o, key);

	return s != NULL ? talloc_strdup(mem_ctx, s) : NULL;
}

static enum odj_preload_status status_from(const char *s)
{
	size_t i;

	for (i = ODJ_PRELOAD_CACHED; s != NULL && i <= ODJ_PRELOAD_FAILED;
	     i++) {
		if (strcmp(s, odj_preload_status_name(i)) == 0) {
			return i;
		}
	}
	return ODJ_PRELOAD_FAILED;
}

/* A machine's result: the next machine's, as the helper keeps order */
static bool take_machine(struct tevent_req *req, json_t *o)
{
	struct preload_state *state = tevent_req_data(req,
						      struct preload_state);
	struct odj_preload_machine *m = NULL;
	const char *name = jget(o, "name");

	if (state->done >= state->num || name == NULL ||
	    strcasecmp(name, state->m[state->done].name) != 0) {
		preload_fail(req, NT_STATUS_INVALID_NETWORK_RESPONSE,
			     "%s answered for %s out of order", state->o.helper,
			     name != NULL ? name : "(no name)");
		return false;
	}
	m = &state->m[state->done++];
	m->status = status_from(jget(o, "status"));
	m->dn = jdup(state->res_ctx, o, "dn");
	m->error = jdup(state->res_ctx, o, "error");
	m->message = jdup(state->res_ctx, o, "message");
	if (state->o.progress != NULL) {
		state->o.progress(m, state->done, state->num,
				  state->o.private_data);
	}
	return true;
}

static NTSTATUS fatal_status(const char *kind)
{
	if (kind != NULL && strcmp(kind, "local") == 0) {
		return NT_STATUS_INVALID_DOMAIN_ROLE;
	}
	if (kind != NULL && strcmp(kind, "credentials") == 0) {
		return NT_STATUS_ACCESS_DENIED;
	}
	if (kind != NULL && strcmp(kind, "input") == 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	return NT_STATUS_NO_LOGON_SERVERS;
}

/* One protocol line */
static bool take_line(struct tevent_req *req, const char *line)
{
	struct preload_state *state = tevent_req_data(req,
						      struct preload_state);
	json_t *o = json_loads(line, 0, NULL);
	const char *event = jget(o, "event");
	bool ok = true;

	if (event == NULL) {
		preload_fail(req, NT_STATUS_INVALID_NETWORK_RESPONSE,
			     "%s said what odj does not understand: %.200s",
			     state->o.helper, line);
		ok = false;
	} else if (strcmp(event, "start") == 0) {
		state->run.rodc = jdup(state, o, "rodc");
		state->run.dc = jdup(state, o, "dc");
		state->run.choice = jdup(state, o, "choice");
		state->run.account = jdup(state, o, "account");
	} else if (strcmp(event, "machine") == 0) {
		ok = take_machine(req, o);
	} else if (strcmp(event, "end") == 0) {
		state->ended = true;
		state->run.interrupted = json_is_true(json_object_get(
						      o, "interrupted"));
	} else if (strcmp(event, "fatal") == 0) {
		state->fatal = fatal_status(jget(o, "kind"));
		state->why = jdup(state, o, "message");
	}
	json_decref(o);
	return ok;
}

/* The helper is gone: how did it end? */
static void preload_finish(struct tevent_req *req)
{
	struct preload_state *state = tevent_req_data(req,
						      struct preload_state);
	int wstatus = 0;
	pid_t pid = state->pid;

	state->pid = -1;
	while (waitpid(pid, &wstatus, 0) == -1 && errno == EINTR) {
	}
	if (!NT_STATUS_IS_OK(state->fatal)) {
		tevent_req_nterror(req, state->fatal);
		return;
	}
	if (!state->ended) {
		preload_fail(req, NT_STATUS_INTERNAL_ERROR, "%s ended without "
			     "finishing (%s %d); its messages are above",
			     state->o.helper,
			     WIFSIGNALED(wstatus) ? "signal" : "exit status",
			     WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) :
			     WEXITSTATUS(wstatus));
		return;
	}
	if (state->run.interrupted || state->done < state->num) {
		state->run.interrupted = true;
		tevent_req_nterror(req, NT_STATUS_CANCELLED);
		return;
	}
	tevent_req_done(req);
}

static void preload_readable(struct tevent_context *ev,
			     struct tevent_fd *fde, uint16_t flags,
			     void *private_data)
{
	struct tevent_req *req = talloc_get_type_abort(private_data,
						       struct tevent_req);
	struct preload_state *state = tevent_req_data(req,
						      struct preload_state);
	char *nl = NULL, *line = NULL;
	ssize_t n;

	state->buf = talloc_realloc(state, state->buf, char,
				    state->len + 4096 + 1);
	if (tevent_req_nomem(state->buf, req)) {
		return;
	}
	n = read(state->out_fd, state->buf + state->len, 4096);
	if (n == -1 && (errno == EINTR || errno == EAGAIN)) {
		return;
	}
	if (n <= 0) {
		TALLOC_FREE(state->fde);
		close(state->out_fd);
		state->out_fd = -1;
		preload_finish(req);
		return;
	}
	state->len += n;
	state->buf[state->len] = '\0';
	line = state->buf;
	while ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		if (!take_line(req, line)) {
			return;
		}
		line = nl + 1;
	}
	state->len -= line - state->buf;
	memmove(state->buf, line, state->len);
	if (state->len > PRELOAD_LINE_MAX) {
		preload_fail(req, NT_STATUS_INVALID_NETWORK_RESPONSE,
			     "%s wrote a line longer than %d bytes",
			     state->o.helper, PRELOAD_LINE_MAX);
	}
}

NTSTATUS odj_preload_recv(struct tevent_req *req,
			  TALLOC_CTX *mem_ctx,
			  struct odj_preload_run *run,
			  char **why)
{
	struct preload_state *state = tevent_req_data(req,
						      struct preload_state);
	struct timespec now;
	NTSTATUS status = NT_STATUS_OK;

	clock_gettime(CLOCK_MONOTONIC, &now);
	state->run.seconds = (now.tv_sec - state->start.tv_sec) +
			     (now.tv_nsec - state->start.tv_nsec) / 1e9;
	*run = state->run;
	run->rodc = talloc_move(mem_ctx, &state->run.rodc);
	run->dc = talloc_move(mem_ctx, &state->run.dc);
	run->choice = talloc_move(mem_ctx, &state->run.choice);
	run->account = talloc_move(mem_ctx, &state->run.account);
	if (tevent_req_is_nterror(req, &status) && why != NULL &&
	    state->why != NULL) {
		*why = talloc_move(mem_ctx, &state->why);
	}
	tevent_req_received(req);
	return status;
}
