/*
 * test_faults.c: the daemon against receivers that fail (issue 9 item 6).
 *
 * Each test runs the real daemon (as root; it drops to nobody) with the vfs
 * trace filtered to a comm of the test's own, and a child with that comm
 * opens /tmp/<comm>-<N> for N = from..to-1: each record's path carries its
 * number (the opens fail with ENOENT, which is cheap and still a record). The
 * daemon sends with acks to one or two strict receivers (fwd_receiver), a
 * fault is made, and at the end the numbers are counted across the
 * receivers' --out files: duplicates are counted and allowed, losses are not.
 *
 * Every child (daemon, receivers, marker makers) stays in the test's process
 * group, which Check kills when the test ends, however it ends; a test that
 * mounts a tmpfs does so in a mount namespace of its own, which goes with it.
 * Each test prints its numbers to stderr ("faults: ...").
 */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "receiver_proc.h"
#include "suite_run.h"

#ifndef DAEMON_PATH
#error "DAEMON_PATH must name the built binary"
#endif

/* ---- time ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static unsigned count_str(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/*
 * What a test leaves in /tmp (configurations, logs, receiver and spool
 * directories) is listed in memory shared with the runner, which removes it
 * after each test however the test ended (Check ends a failed test with
 * _exit(), and kills one that times out).
 */
#define LEFTOVERS 16
struct leftovers {
	int n;
	char path[LEFTOVERS][128];
};
static struct leftovers *leftovers;

static void leave(const char *path)
{
	if (leftovers && leftovers->n < LEFTOVERS)
		snprintf(leftovers->path[leftovers->n++], sizeof(leftovers->path[0]), "%s", path);
}

/* The runner's teardown of every test (an unchecked fixture: it runs in the runner's process). */
static void remove_leftovers(void)
{
	char cmd[320];

	for (int i = 0; i < leftovers->n; i++) {
		/* a configuration's logs are <conf>.<run>.log */
		snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'.*.log", leftovers->path[i], leftovers->path[i]);
		if (system(cmd) != 0)
			fprintf(stderr, "faults: could not remove %s\n", leftovers->path[i]);
	}
	leftovers->n = 0;
}

/* ---- the daemon ---- */

struct daemon_proc {
	pid_t pid;
	int status;          /* once it has exited */
	bool exited;
	char conf[80];
	char log[96];
	unsigned runs;       /* starts with this configuration: each has its own log */
};

/* Writes the configuration (printf-style) to a new file; the daemon is not started. */
static void daemon_conf(struct daemon_proc *d, const char *fmt, ...)
{
	char text[4096];
	va_list ap;
	int fd, n;

	memset(d, 0, sizeof(*d));
	snprintf(d->conf, sizeof(d->conf), "/tmp/ebpf-forward-faults-XXXXXX");
	fd = mkstemp(d->conf);
	ck_assert_int_ge(fd, 0);
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ck_assert_int_lt(n, (int)sizeof(text));
	ck_assert_int_eq(write(fd, text, (size_t)n), n);
	close(fd);
	leave(d->conf);
}

static void daemon_start(struct daemon_proc *d)
{
	snprintf(d->log, sizeof(d->log), "%s.%u.log", d->conf, ++d->runs);
	d->exited = false;
	d->pid = fork();
	ck_assert_int_ge(d->pid, 0);
	if (d->pid == 0) {
		int log = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(log, 2);
		execl(DAEMON_PATH, DAEMON_PATH, "-c", d->conf, NULL);
		_exit(127);
	}
}

static bool daemon_alive(struct daemon_proc *d)
{
	if (d->exited || d->pid <= 0)
		return false;
	if (waitpid(d->pid, &d->status, WNOHANG) == d->pid) {
		d->exited = true;
		return false;
	}
	return true;
}

/* The daemon's log so far to stderr, for a failing test. */
static void daemon_dump(struct daemon_proc *d)
{
	char *log = receiver_slurp(d->log);
	size_t len = strlen(log);

	/* the end matters most; a long log is cut at its start */
	fprintf(stderr, "---- %s (%zu bytes)%s ----\n%s---- end of log ----\n", d->log, len,
		len > 24000 ? ", last 24000" : "", len > 24000 ? log + len - 24000 : log);
	free(log);
}

/* Fails the test with the daemon's log dumped. */
#define fail_if_not(d, cond, ...)                    \
	do {                                         \
		if (!(cond)) {                       \
			daemon_dump(d);              \
			ck_abort_msg(__VA_ARGS__);   \
		}                                    \
	} while (0)

static unsigned log_count(struct daemon_proc *d, const char *needle)
{
	char *log = receiver_slurp(d->log);
	unsigned n = count_str(log, needle);

	free(log);
	return n;
}

/* Waits up to ms for the log to hold text n times; false at once if the daemon exits. */
static bool log_wait_n(struct daemon_proc *d, const char *text, unsigned n, unsigned ms)
{
	uint64_t end = now_ms() + ms;

	for (;;) {
		bool alive = daemon_alive(d);

		if (log_count(d, text) >= n)
			return true;
		if (!alive || now_ms() > end)
			return false;
		sleep_ms(20);
	}
}

static bool log_wait(struct daemon_proc *d, const char *text, unsigned ms)
{
	return log_wait_n(d, text, 1, ms);
}

/* Waits for the traces to be attached and the privileges dropped. */
static void daemon_wait_running(struct daemon_proc *d)
{
	fail_if_not(d, log_wait(d, "running with", 30000), "the daemon did not start (log above)");
}

/* The first (or last) line of the log with needle (a malloc'd copy), or NULL. */
static char *log_line_at(struct daemon_proc *d, const char *needle, bool last)
{
	char *log = receiver_slurp(d->log), *at = strstr(log, needle), *start, *end, *line = NULL;

	while (last && at) {
		char *next = strstr(at + 1, needle);

		if (!next)
			break;
		at = next;
	}
	if (at) {
		for (start = at; start > log && start[-1] != '\n'; start--)
			;
		end = strchr(at, '\n');
		line = strndup(start, end ? (size_t)(end - start) : strlen(start));
	}
	free(log);
	return line;
}

static char *log_line(struct daemon_proc *d, const char *needle)
{
	return log_line_at(d, needle, false);
}

/* The number after "what" in the daemon's final output line (SIGTERM), e.g. " dropped". */
static unsigned long long final_count(struct daemon_proc *d, const char *what)
{
	char *line = log_line(d, "final: output:"), *p;
	unsigned long long v = 0;

	if (!line)
		return ~0ull;
	p = strstr(line, what);
	if (p) {
		while (p > line && p[-1] == ' ')
			p--;
		while (p > line && p[-1] >= '0' && p[-1] <= '9')
			p--;
		v = strtoull(p, NULL, 10);
	} else {
		v = ~0ull;
	}
	free(line);
	return v;
}

/* Prints the daemon's final totals line (after daemon_stop). */
static void print_final(struct daemon_proc *d, const char *label)
{
	char *line = log_line(d, "final: output:");

	fprintf(stderr, "faults: %s daemon's totals: %s\n", label, line ? line : "(no final line)");
	free(line);
}

static void daemon_kill(struct daemon_proc *d)
{
	if (daemon_alive(d)) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, &d->status, 0);
	}
	d->exited = true;
}

/* SIGTERM, and it must exit 0 within 20 s (it gives delivery 10 s). */
static void daemon_stop(struct daemon_proc *d)
{
	uint64_t end = now_ms() + 20000;

	if (!d->exited)
		kill(d->pid, SIGTERM);
	while (daemon_alive(d) && now_ms() < end)
		sleep_ms(20);
	if (!d->exited) {
		daemon_kill(d);
		fail_if_not(d, false, "the daemon did not stop within 20 s of SIGTERM");
	}
	fail_if_not(d, WIFEXITED(d->status) && WEXITSTATUS(d->status) == 0, "daemon exit status %d", d->status);
}

static void daemon_cleanup(struct daemon_proc *d)
{
	char log[96];

	daemon_kill(d);
	/* FAULTS_LOG=1: every log, not only a failing test's */
	if (getenv("FAULTS_LOG"))
		for (unsigned i = 1; i <= d->runs; i++) {
			snprintf(d->log, sizeof(d->log), "%s.%u.log", d->conf, i);
			daemon_dump(d);
		}
	for (unsigned i = 1; i <= d->runs; i++) {
		snprintf(log, sizeof(log), "%s.%u.log", d->conf, i);
		unlink(log);
	}
	unlink(d->conf);
}

static unsigned long vm_rss_kib(pid_t pid)
{
	char path[64], *text, *p;
	unsigned long v = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	text = receiver_slurp(path);
	p = strstr(text, "VmRSS:");
	if (p)
		v = strtoul(p + 6, NULL, 10);
	free(text);
	return v;
}

/* ---- receivers ---- */

/* receiver_start, its directory left for the cleanup */
static void recv_start(struct receiver *r, int unix_socket, const char *const extra[])
{
	receiver_start(r, unix_socket, 0, extra);
	leave(r->dir);
}

static void receiver_kill(struct receiver *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
		r->pid = 0;
	}
}

/* A free TCP port with nothing listening on it: a receiver started and stopped. */
static void receiver_absent(struct receiver *r)
{
	recv_start(r, 0, NULL);
	receiver_stop(r);
}

/* ---- markers ---- */

struct markers {
	char comm[16];     /* the maker's comm, and the daemon's Comm filter */
	char needle[64];   /* "path":"/tmp/<comm>- as the receiver writes it */
};

static void markers_init(struct markers *m)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)now_ms() ^ (uint32_t)getpid() << 12;
	snprintf(m->comm, sizeof(m->comm), "flt%08x", r);
	snprintf(m->needle, sizeof(m->needle), "\"path\":\"/tmp/%s-", m->comm);
}

/*
 * A child with the marker comm opens /tmp/<comm>-N for N = from..to-1, at
 * per_sec opens a second (0: flat out); returns its pid.
 */
static pid_t markers_spawn(const struct markers *m, unsigned from, unsigned to, unsigned per_sec)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct timespec start, at;
		char path[64];
		unsigned batch = per_sec / 200 ? per_sec / 200 : 1;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, m->comm);
		clock_gettime(CLOCK_MONOTONIC, &start);
		for (unsigned n = from; n < to; n++) {
			int fd;

			if (per_sec && (n - from) % batch == 0) {
				uint64_t ns = (uint64_t)(n - from) * 1000000000ull / per_sec;

				at.tv_sec = start.tv_sec + (time_t)(ns / 1000000000ull);
				at.tv_nsec = start.tv_nsec + (long)(ns % 1000000000ull);
				if (at.tv_nsec >= 1000000000L) {
					at.tv_sec++;
					at.tv_nsec -= 1000000000L;
				}
				while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
					;
			}
			snprintf(path, sizeof(path), "/tmp/%s-%u", m->comm, n);
			fd = open(path, O_RDONLY);
			if (fd >= 0)
				close(fd);
		}
		_exit(0);
	}
	return pid;
}

static void markers_wait(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "marker maker status %d", status);
}

static void markers_make(const struct markers *m, unsigned from, unsigned to, unsigned per_sec)
{
	markers_wait(markers_spawn(m, from, to, per_sec));
}

/*
 * What one receiver's --out file holds of markers 0..count-1, read
 * incrementally (only complete lines; the file only grows).
 */
struct tally {
	const struct markers *m;
	const char *path;
	unsigned count;
	uint32_t *seen;          /* per marker: how many times */
	long long off;           /* read up to here */
	unsigned unique;         /* markers seen at least once */
	unsigned long long total; /* marker records, duplicates included */
	unsigned long long stray; /* marker records with a number out of range */
	unsigned long long lines;
};

static void tally_init(struct tally *t, const struct markers *m, const struct receiver *r, unsigned count)
{
	memset(t, 0, sizeof(*t));
	t->m = m;
	t->path = r->out;
	t->count = count;
	t->seen = calloc(count ? count : 1, sizeof(*t->seen));
	ck_assert_ptr_nonnull(t->seen);
}

static void tally_free(struct tally *t)
{
	free(t->seen);
	t->seen = NULL;
}

static void tally_line(struct tally *t, const char *line, size_t len)
{
	size_t nl = strlen(t->m->needle);
	const char *p = memmem(line, len, t->m->needle, nl);
	char *end;
	unsigned long n;

	t->lines++;
	if (!p)
		return;
	n = strtoul(p + nl, &end, 10);
	if (end == p + nl || *end != '"' || n >= t->count) {
		t->stray++;
		return;
	}
	t->total++;
	if (t->seen[n]++ == 0)
		t->unique++;
}

/* Reads what the file gained since the last call. */
static void tally_update(struct tally *t)
{
	static char buf[1 << 22];
	FILE *f = fopen(t->path, "r");
	size_t have = 0, n;

	if (!f)
		return;
	if (fseeko(f, t->off, SEEK_SET)) {
		fclose(f);
		return;
	}
	while ((n = fread(buf + have, 1, sizeof(buf) - have, f)) > 0) {
		size_t start = 0;
		char *nlp;

		have += n;
		while ((nlp = memchr(buf + start, '\n', have - start))) {
			size_t len = (size_t)(nlp - (buf + start));

			tally_line(t, buf + start, len);
			start += len + 1;
			t->off += (long long)(len + 1);
		}
		if (start == 0 && have == sizeof(buf)) {
			/* a line longer than the buffer is not one of ours: skip it */
			t->off += (long long)have;
			have = 0;
			continue;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
	}
	fclose(f);
}

/* Markers from..to-1 not seen in any of the tallies. */
static unsigned missing_in(struct tally *const ts[], int nt, unsigned from, unsigned to, unsigned *first)
{
	unsigned missing = 0;

	*first = ~0u;
	for (unsigned i = from; i < to; i++) {
		bool seen = false;

		for (int k = 0; k < nt && !seen; k++)
			seen = ts[k]->seen[i] > 0;
		if (!seen) {
			if (missing++ == 0)
				*first = i;
		}
	}
	return missing;
}

/* Waits up to ms until every marker from..to-1 is in one of the tallies; returns how many are missing. */
static unsigned wait_markers(struct tally *const ts[], int nt, unsigned from, unsigned to, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	unsigned first, missing;

	for (;;) {
		for (int k = 0; k < nt; k++)
			tally_update(ts[k]);
		missing = missing_in(ts, nt, from, to, &first);
		if (missing == 0 || now_ms() > end)
			return missing;
		sleep_ms(200);
	}
}

/* Waits until the tallies stop growing for quiet_ms (at most ms in all). */
static void wait_quiet(struct tally *const ts[], int nt, unsigned quiet_ms, unsigned ms)
{
	uint64_t end = now_ms() + ms, since = now_ms();
	unsigned long long last = ~0ull;

	while (now_ms() < end) {
		unsigned long long sum = 0;

		for (int k = 0; k < nt; k++) {
			tally_update(ts[k]);
			sum += ts[k]->total;
		}
		if (sum != last) {
			last = sum;
			since = now_ms();
		} else if (now_ms() - since >= quiet_ms) {
			return;
		}
		sleep_ms(200);
	}
}

/* Unique markers from..to-1 across tallies, and records beyond one per marker (duplicates). */
static void union_numbers(struct tally *const ts[], int nt, unsigned from, unsigned to, unsigned *unique,
			  unsigned long long *dups)
{
	*unique = 0;
	*dups = 0;
	for (unsigned i = from; i < to; i++) {
		unsigned long long c = 0;

		for (int k = 0; k < nt; k++)
			c += ts[k]->seen[i];
		if (c) {
			(*unique)++;
			*dups += c - 1;
		}
	}
}

/* Fails with the numbers when some marker is missing. */
static void assert_all_arrived(struct daemon_proc *d, struct tally *const ts[], int nt, unsigned from,
			       unsigned to, const char *what)
{
	unsigned first, missing = missing_in(ts, nt, from, to, &first);

	fail_if_not(d, missing == 0, "%s: %u of markers %u..%u never arrived (the first: %u)", what, missing,
		    from, to - 1, first);
	for (int k = 0; k < nt; k++)
		fail_if_not(d, ts[k]->stray == 0, "%s: %llu records with a marker number out of range", what,
			    ts[k]->stray);
}

/* ---- configurations ---- */

#define SERVICE "[SERVICE]\nUser = nobody\nStats_Interval = 0\n"
#define INPUT "[INPUT]\nTrace = vfs\nComm = %s\n"
#define OUTPUT "[OUTPUT]\nName = forward\nTag = ebpf.*\nRequire_Ack_Response = on\nFlush_Ms = 50\n"

/* ---- 1: the receiver killed and restarted 5 times during a 20 s stream ---- */

START_TEST(receiver_killed_five_times)
{
	enum { COUNT = 30000, RATE = 1500 };
	struct receiver rv;
	struct daemon_proc d;
	struct markers m;
	struct tally t;
	struct tally *ts[] = {&t};
	unsigned missing, unique;
	unsigned long long dups;
	pid_t maker;
	uint64_t t0;

	markers_init(&m);
	recv_start(&rv, 0, NULL);
	daemon_conf(&d, SERVICE INPUT OUTPUT "Port = %u\n", m.comm, rv.port);
	daemon_start(&d);
	daemon_wait_running(&d);
	fail_if_not(&d, log_wait(&d, "connected to", 10000), "the daemon did not connect");
	tally_init(&t, &m, &rv, COUNT);

	/*
	 * 30,000 markers over 20 s; the receiver is killed at 2.5, 5.5, 8.5,
	 * 11.5, 14.5 s, down 0.7 s each time. The 1st, 3rd and 5th time it is
	 * stopped for 300 ms first, so that frames written to it wait unread
	 * (and unacked) in its socket when it dies: only a resend brings them.
	 */
	t0 = now_ms();
	maker = markers_spawn(&m, 0, COUNT, RATE);
	for (int k = 0; k < 5; k++) {
		while (now_ms() < t0 + 2500 + 3000 * (uint64_t)k)
			sleep_ms(10);
		if (k % 2 == 0) {
			kill(rv.pid, SIGSTOP);
			sleep_ms(300);
		}
		receiver_kill(&rv);
		sleep_ms(700);
		receiver_restart(&rv, NULL);
	}
	markers_wait(maker);
	fail_if_not(&d, daemon_alive(&d), "the daemon died");
	missing = wait_markers(ts, 1, 0, COUNT, 30000);
	union_numbers(ts, 1, 0, COUNT, &unique, &dups);
	fprintf(stderr, "faults: 1 receiver killed 5 times: made %u in %.1f s, unique received %u, duplicates %llu, "
		"missing %u, 'connected to' lines %u, 'lost' lines %u, rejected %llu\n",
		COUNT, (double)COUNT / RATE, unique, dups, missing, log_count(&d, "connected to"),
		log_count(&d, " lost: "), (unsigned long long)receiver_stat(&rv, "rejected"));
	assert_all_arrived(&d, ts, 1, 0, COUNT, "receiver killed 5 times");
	fail_if_not(&d, log_count(&d, "connected to") >= 6, "fewer than 6 connections for 5 restarts");
	daemon_stop(&d);
	print_final(&d, "1");
	fail_if_not(&d, final_count(&d, " dropped") == 0, "the daemon dropped records");
	tally_free(&t);
	daemon_cleanup(&d);
	receiver_cleanup(&rv);
}
END_TEST

/* ---- 2: the receiver stops reading for 15 s during a burst larger than Buffer_Limit, with a spool ---- */

static void make_spool_dir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/ebpf-forward-spool-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	leave(dir);
	/* the daemon writes it as nobody */
	ck_assert_int_eq(chown(dir, 65534, 65534), 0);
}

static void remove_dir(const char *dir)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "faults: could not remove %s\n", dir);
}

/* Number of files under dir (the spool's frames), recursively. */
static unsigned files_under(const char *dir)
{
	char cmd[200];
	FILE *p;
	unsigned n = 0;

	snprintf(cmd, sizeof(cmd), "find '%s' -type f | wc -l", dir);
	p = popen(cmd, "r");
	if (p) {
		if (fscanf(p, "%u", &n) != 1)
			n = 0;
		pclose(p);
	}
	return n;
}

START_TEST(receiver_stops_reading_during_a_burst)
{
	enum { COUNT = 200000, RATE = 100000 };
	struct receiver rv;
	struct daemon_proc d;
	struct markers m;
	struct tally t;
	struct tally *ts[] = {&t};
	char spool[64];
	unsigned missing, unique, spooled_files;
	unsigned long long dups;
	uint64_t stopped, resumed, done;

	markers_init(&m);
	make_spool_dir(spool, sizeof(spool));
	recv_start(&rv, 0, NULL);
	daemon_conf(&d, "[SERVICE]\nUser = nobody\nStats_Interval = 0\nStorage_Path = %s\n" INPUT OUTPUT
		    "Port = %u\nBuffer_Limit = 1M\n", spool, m.comm, rv.port);
	daemon_start(&d);
	daemon_wait_running(&d);
	fail_if_not(&d, log_wait(&d, "connected to", 10000), "the daemon did not connect");
	tally_init(&t, &m, &rv, COUNT);

	/* a few markers go through first: the connection is up and acked */
	markers_make(&m, 0, 100, 0);
	fail_if_not(&d, wait_markers(ts, 1, 0, 100, 10000) == 0, "the first 100 markers did not arrive");

	kill(rv.pid, SIGSTOP);
	stopped = now_ms();
	markers_make(&m, 100, COUNT, RATE);
	done = now_ms();
	while (now_ms() < stopped + 15000)
		sleep_ms(50);
	spooled_files = files_under(spool);
	fail_if_not(&d, daemon_alive(&d), "the daemon died while the receiver was stopped");
	kill(rv.pid, SIGCONT);
	resumed = now_ms();
	missing = wait_markers(ts, 1, 0, COUNT, 90000);
	union_numbers(ts, 1, 0, COUNT, &unique, &dups);
	fprintf(stderr, "faults: 2 receiver stopped 15 s: made %u (burst of %u in %.1f s), unique received %u, "
		"duplicates %llu, missing %u, spool files at the end of the stop %u, all in %.1f s after SIGCONT, "
		"'connected to' lines %u, ring losses said: %s\n",
		COUNT, COUNT - 100, (double)(done - stopped) / 1000, unique, dups, missing, spooled_files,
		(double)(now_ms() - resumed) / 1000, log_count(&d, "connected to"),
		log_count(&d, "ring buffer full") ? "yes" : "no");
	fail_if_not(&d, log_count(&d, "ring buffer full") == 0,
		    "the kernel ring overflowed during the burst (not the spool's fault, but a loss)");
	assert_all_arrived(&d, ts, 1, 0, COUNT, "receiver stopped during a burst");
	fail_if_not(&d, receiver_stat(&rv, "rejected") == 0, "the receiver rejected frames");
	daemon_stop(&d);
	print_final(&d, "2");
	fail_if_not(&d, final_count(&d, " dropped") == 0, "the daemon dropped records");
	tally_free(&t);
	daemon_cleanup(&d);
	receiver_cleanup(&rv);
	remove_dir(spool);
}
END_TEST

/* ---- 3: the daemon SIGKILLed with frames spooled and no receiver; restarted, all arrive ---- */

START_TEST(daemon_killed_with_frames_spooled)
{
	enum { COUNT = 5000 };
	struct receiver rv;
	struct daemon_proc d;
	struct markers m;
	struct tally t;
	struct tally *ts[] = {&t};
	char spool[64], *line;
	unsigned missing, unique, spooled_files;
	unsigned long long dups;

	markers_init(&m);
	make_spool_dir(spool, sizeof(spool));
	receiver_absent(&rv);
	daemon_conf(&d, "[SERVICE]\nUser = nobody\nStats_Interval = 0\nStorage_Path = %s\n" INPUT OUTPUT
		    "Port = %u\nBuffer_Limit = 1M\n", spool, m.comm, rv.port);
	daemon_start(&d);
	daemon_wait_running(&d);
	fail_if_not(&d, log_wait(&d, "cannot connect to", 10000), "the daemon did not try to connect");

	markers_make(&m, 0, COUNT, 0);
	/* Flush_Ms is 50: every frame is sealed and in the spool long before this */
	sleep_ms(2000);
	spooled_files = files_under(spool);
	fail_if_not(&d, spooled_files > 0, "nothing in the spool directory %s", spool);
	daemon_kill(&d);

	receiver_restart(&rv, NULL);
	tally_init(&t, &m, &rv, COUNT);
	daemon_start(&d);
	daemon_wait_running(&d);
	fail_if_not(&d, log_wait(&d, "connected to", 10000), "the restarted daemon did not connect");
	missing = wait_markers(ts, 1, 0, COUNT, 30000);
	union_numbers(ts, 1, 0, COUNT, &unique, &dups);
	line = log_line(&d, "from an earlier run");
	fprintf(stderr, "faults: 3 daemon killed with a spool: made %u, spool files at the kill %u, unique received %u, "
		"duplicates %llu, missing %u; the second run said: %s\n",
		COUNT, spooled_files, unique, dups, missing, line ? line : "(nothing of an earlier run)");
	fail_if_not(&d, line != NULL, "the second run did not say it found the spool of the first");
	free(line);
	assert_all_arrived(&d, ts, 1, 0, COUNT, "daemon killed with frames spooled");
	daemon_stop(&d);
	tally_free(&t);
	daemon_cleanup(&d);
	receiver_cleanup(&rv);
	remove_dir(spool);
}
END_TEST

/* ---- 4: the spool on a small tmpfs fills while the receiver is away ---- */

START_TEST(small_spool_fills)
{
	enum { COUNT_A = 12000, RATE_A = 4000, COUNT_B = 3000, COUNT = COUNT_A + COUNT_B };
	struct receiver rv;
	struct daemon_proc d;
	struct markers m;
	struct tally t;
	struct tally *ts[] = {&t};
	char spool[64], *said, *final;
	unsigned unique_a, unique_b, missing;
	unsigned long long dups, dropped;
	struct statvfs sv;

	markers_init(&m);
	/* a mount namespace of the test's own: the tmpfs goes when the test's processes do */
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	make_spool_dir(spool, sizeof(spool));
	ck_assert_int_eq(mount("tmpfs", spool, "tmpfs", 0, "size=256k,mode=0777"), 0);
	receiver_absent(&rv);
	daemon_conf(&d, "[SERVICE]\nUser = nobody\nStats_Interval = 0\nStorage_Path = %s\n" INPUT OUTPUT
		    "Port = %u\nBuffer_Limit = 1M\n", spool, m.comm, rv.port);
	daemon_start(&d);
	daemon_wait_running(&d);
	fail_if_not(&d, log_wait(&d, "cannot connect to", 10000), "the daemon did not try to connect");

	/*
	 * 12,000 records in 3 s: some 3 MB in frames of about 50 KB (Flush_Ms),
	 * several of which fit in the 256 KiB before it is full
	 */
	markers_make(&m, 0, COUNT_A, RATE_A);
	sleep_ms(2000);
	said = log_line(&d, "dropped");
	fail_if_not(&d, daemon_alive(&d), "the daemon died when the spool filled");
	fail_if_not(&d, said && strstr(said, "spool") && (strstr(said, "full") || strstr(said, "dropped")),
		    "the log does not say the spool dropped records (first 'dropped' line: %s)", said ? said : "none");
	ck_assert_int_eq(statvfs(spool, &sv), 0);
	fprintf(stderr, "faults: 4 the spool filled: %s (tmpfs %lu of %lu KiB free)\n", said,
		(unsigned long)(sv.f_bavail * sv.f_frsize / 1024), (unsigned long)(sv.f_blocks * sv.f_frsize / 1024));
	free(said);

	/* the receiver back: the spool drains */
	receiver_restart(&rv, NULL);
	tally_init(&t, &m, &rv, COUNT);
	fail_if_not(&d, log_wait(&d, "connected to", 15000), "the daemon did not connect to the receiver");
	wait_quiet(ts, 1, 2000, 30000);
	unique_a = COUNT_A - missing_in(ts, 1, 0, COUNT_A, &(unsigned){0});

	/* room again: what is made now is delivered */
	markers_make(&m, COUNT_A, COUNT, 2000);
	missing = wait_markers(ts, 1, COUNT_A, COUNT, 20000);
	unique_b = COUNT_B - missing;
	fail_if_not(&d, daemon_alive(&d), "the daemon died");
	daemon_stop(&d);
	final = log_line(&d, "final: output:");
	dropped = final_count(&d, " dropped");
	union_numbers(ts, 1, 0, COUNT, &(unsigned){0}, &dups);
	fprintf(stderr, "faults: 4 small spool: before the receiver came back made %u, unique received %u, "
		"dropped and counted %llu (received + dropped = %llu); after: made %u, unique received %u; "
		"duplicates %llu; daemon's totals: %s\n",
		COUNT_A, unique_a, dropped, unique_a + dropped, COUNT_B, unique_b, dups, final ? final : "none");
	free(final);
	assert_all_arrived(&d, ts, 1, COUNT_A, COUNT, "markers made after the spool had room again");
	fail_if_not(&d, dropped > 0 && dropped != ~0ull, "no records counted as dropped");
	/* every loss is counted: what did not arrive was dropped, and said */
	fail_if_not(&d, unique_a + dropped >= COUNT_A, "%u markers lost without being counted",
		    (unsigned)(COUNT_A - unique_a - dropped));
	tally_free(&t);
	daemon_cleanup(&d);
	receiver_cleanup(&rv);
	umount2(spool, MNT_DETACH);
	rmdir(spool);
}
END_TEST

/* ---- 5: a receiver that acks a second late, and a small buffer ---- */

START_TEST(late_acks_small_buffer)
{
	enum { COUNT = 12000, RATE = 1500 };
	static const char *const late[] = {"--ack-delay", "1000", NULL};
	struct receiver rv;
	struct daemon_proc d;
	struct markers m;
	struct tally t;
	struct tally *ts[] = {&t};
	unsigned missing, unique, connects;
	unsigned long long dups;

	markers_init(&m);
	recv_start(&rv, 0, late);
	daemon_conf(&d, SERVICE INPUT OUTPUT "Port = %u\nBuffer_Limit = 1M\n", m.comm, rv.port);
	daemon_start(&d);
	daemon_wait_running(&d);
	fail_if_not(&d, log_wait(&d, "connected to", 10000), "the daemon did not connect");
	tally_init(&t, &m, &rv, COUNT);
	markers_make(&m, 0, COUNT, RATE);
	missing = wait_markers(ts, 1, 0, COUNT, 20000);
	/* the last acks are a second late */
	sleep_ms(1500);
	tally_update(&t);
	union_numbers(ts, 1, 0, COUNT, &unique, &dups);
	connects = log_count(&d, "connected to");
	daemon_stop(&d);
	fprintf(stderr, "faults: 5 acks 1 s late, Buffer_Limit 1M: made %u in %.1f s, unique received %u, duplicates %llu, "
		"missing %u, 'connected to' lines %u, receiver acks %llu\n",
		COUNT, (double)COUNT / RATE, unique, dups, missing, connects,
		(unsigned long long)receiver_stat(&rv, "acks"));
	print_final(&d, "5");
	fail_if_not(&d, connects == 1, "%u connections: a reconnect loop", connects);
	fail_if_not(&d, log_count(&d, " lost: ") == 0, "the connection was lost");
	fail_if_not(&d, dups == 0, "%llu duplicates", dups);
	assert_all_arrived(&d, ts, 1, 0, COUNT, "late acks");
	fail_if_not(&d, final_count(&d, " dropped") == 0, "the daemon dropped records");
	tally_free(&t);
	daemon_cleanup(&d);
	receiver_cleanup(&rv);
}
END_TEST

/* ---- 6: two receivers; the first killed mid-stream, then back ---- */

START_TEST(second_receiver_takes_over)
{
	enum { COUNT_A = 12000, COUNT_B = 3000, COUNT = COUNT_A + COUNT_B, RATE = 1000 };
	struct receiver a, b;
	struct daemon_proc d;
	struct markers m;
	struct tally ta, tb;
	struct tally *both[] = {&ta, &tb}, *first[] = {&ta};
	unsigned missing, unique, at_a, at_b, first_missing;
	unsigned long long dups;
	pid_t maker;
	uint64_t t0, back_ms;

	markers_init(&m);
	recv_start(&a, 0, NULL);
	recv_start(&b, 1, NULL);
	daemon_conf(&d, SERVICE INPUT OUTPUT "Host = 127.0.0.1:%u\nUnix_Path = %s\n", m.comm, a.port, b.path);
	daemon_start(&d);
	daemon_wait_running(&d);
	fail_if_not(&d, log_wait(&d, "connected to tcp:127.0.0.1", 10000), "the daemon did not connect to the first");
	tally_init(&ta, &m, &a, COUNT);
	tally_init(&tb, &m, &b, COUNT);

	/* 12 s of markers: the first receiver is killed at 3 s and back at 6 s */
	t0 = now_ms();
	maker = markers_spawn(&m, 0, COUNT_A, RATE);
	while (now_ms() < t0 + 3000)
		sleep_ms(10);
	receiver_kill(&a);
	fail_if_not(&d, log_wait(&d, "connected to unix:", 10000), "the daemon did not go to the second receiver");
	while (now_ms() < t0 + 6000)
		sleep_ms(10);
	receiver_restart(&a, NULL);
	markers_wait(maker);
	/* it tries the first again every 10 s */
	fail_if_not(&d, log_wait(&d, "leaving unix:", 25000), "the daemon did not go back to the first receiver");
	back_ms = now_ms() - t0;
	/* the second line, not the first one's: the new connection takes a resolve and a connect after "leaving" */
	fail_if_not(&d, log_wait_n(&d, "connected to tcp:127.0.0.1", 2, 5000), "no new connection to the first receiver");
	missing = wait_markers(both, 2, 0, COUNT_A, 20000);
	fail_if_not(&d, missing == 0, "%u markers of the stream never arrived", missing);

	/* back on the first: what is made now arrives there */
	markers_make(&m, COUNT_A, COUNT, RATE);
	missing = wait_markers(first, 1, COUNT_A, COUNT, 20000);
	tally_update(&tb);
	union_numbers(both, 2, 0, COUNT, &unique, &dups);
	at_a = COUNT_A - missing_in(first, 1, 0, COUNT_A, &first_missing);
	at_b = 0;
	for (unsigned i = 0; i < COUNT; i++)
		at_b += tb.seen[i] > 0;
	fprintf(stderr, "faults: 6 two receivers: made %u (%u during the outage stream, %u after the return), "
		"unique received %u (first %u of the stream, second %u), duplicates %llu, missing at the first after "
		"its return %u, back on the first %.1f s after the stream began, 'connected to' lines %u\n",
		COUNT, COUNT_A, COUNT_B, unique, at_a, at_b, dups, missing, (double)back_ms / 1000,
		log_count(&d, "connected to"));
	assert_all_arrived(&d, both, 2, 0, COUNT, "two receivers");
	fail_if_not(&d, missing == 0, "%u markers made after the return never reached the first receiver", missing);
	fail_if_not(&d, at_b > 0, "nothing reached the second receiver");
	daemon_stop(&d);
	fail_if_not(&d, final_count(&d, " dropped") == 0, "the daemon dropped records");
	tally_free(&ta);
	tally_free(&tb);
	daemon_cleanup(&d);
	receiver_cleanup(&a);
	receiver_cleanup(&b);
}
END_TEST

/* ---- 7: receivers that misbehave: logged, backed off, memory bounded ---- */

/* said: what the log must say of the problem; or_said, if not NULL, may say it instead */
static void misbehaving_receiver(const char *flag, const char *value, const char *said, const char *or_said)
{
	/* ASan's shadow memory, redzones and quarantine take the sanitized daemon's RSS past 100 MiB */
#ifdef SANITIZED
	enum { COUNT = 120000, RATE = 20000, RSS_LIMIT_KIB = 256 * 1024 };
#else
	enum { COUNT = 120000, RATE = 20000, RSS_LIMIT_KIB = 100 * 1024 };
#endif
	const char *extra[] = {flag, value, NULL};
	struct receiver rv;
	struct daemon_proc d;
	struct markers m;
	struct tally t;
	struct tally *ts[] = {&t};
	unsigned connects_before, connects_after, unique, named;
	unsigned long long dups;
	unsigned long rss, rss_max = 0, rss_start;
	char *totals;
	pid_t maker;
	uint64_t t0, window_start = 0;

	markers_init(&m);
	recv_start(&rv, 0, extra);
	/* the counters every second: the daemon is SIGKILLed at the end (a SIGTERM would wait 10 s for acks) */
	daemon_conf(&d, "[SERVICE]\nUser = nobody\nStats_Interval = 1\nMetrics_Records = off\n" INPUT OUTPUT
		    "Port = %u\nBuffer_Limit = 16M\n", m.comm, rv.port);
	daemon_start(&d);
	daemon_wait_running(&d);
	fail_if_not(&d, log_wait(&d, "connected to", 10000), "the daemon did not connect");
	tally_init(&t, &m, &rv, COUNT);
	rss_start = vm_rss_kib(d.pid);

	/* 6 s of markers at 20,000 a second (some 30 MB of records, more than the buffer) */
	t0 = now_ms();
	maker = markers_spawn(&m, 0, COUNT, RATE);
	connects_before = log_count(&d, "connected to");
	for (;;) {
		int status;
		pid_t w = waitpid(maker, &status, WNOHANG);

		if (!window_start && now_ms() >= t0 + 500) {
			window_start = now_ms();
			connects_before = log_count(&d, "connected to");
		}
		rss = vm_rss_kib(d.pid);
		if (rss > rss_max)
			rss_max = rss;
		if (w == maker)
			break;
		fail_if_not(&d, daemon_alive(&d), "the daemon died");
		sleep_ms(100);
	}
	/* a little longer, so the window is at least 5 s */
	while (now_ms() < window_start + 5000) {
		rss = vm_rss_kib(d.pid);
		if (rss > rss_max)
			rss_max = rss;
		sleep_ms(100);
	}
	connects_after = log_count(&d, "connected to");
	tally_update(&t);
	union_numbers(ts, 1, 0, COUNT, &unique, &dups);
	fprintf(stderr, "faults: 7 receiver %s%s%s: made %u in %.1f s, unique received %u, duplicates %llu, "
		"'connected to' lines %u in %.1f s (%u in all), VmRSS %lu KiB before, max %lu KiB (limit %u), "
		"the log says '%s' %u times\n",
		flag, value ? " " : "", value ? value : "", COUNT, (double)COUNT / RATE, unique, dups,
		connects_after - connects_before, (double)(now_ms() - window_start) / 1000, connects_after, rss_start,
		rss_max, (unsigned)RSS_LIMIT_KIB, said, log_count(&d, said));
	named = log_count(&d, said);
	if (or_said) {
		unsigned also = log_count(&d, or_said);

		fprintf(stderr, "faults: 7 and '%s' %u times\n", or_said, also);
		named += also;
	}
	fail_if_not(&d, named > 0, "the log does not name the problem ('%s'%s%s)", said, or_said ? " or " : "",
		    or_said ? or_said : "");
	/* well under one per 100 ms: at most one per 200 ms */
	fail_if_not(&d, (connects_after - connects_before) * 200 <= now_ms() - window_start,
		    "%u connections in %.1f s: no backoff", connects_after - connects_before,
		    (double)(now_ms() - window_start) / 1000);
	fail_if_not(&d, rss_max < RSS_LIMIT_KIB, "the daemon's VmRSS reached %lu KiB", rss_max);
	fail_if_not(&d, daemon_alive(&d), "the daemon died");
	totals = log_line_at(&d, "stats: output:", true);
	fprintf(stderr, "faults: 7 daemon's last counters: %s\n", totals ? totals : "(none)");
	free(totals);
	daemon_kill(&d);
	tally_free(&t);
	daemon_cleanup(&d);
	receiver_cleanup(&rv);
}

START_TEST(wrong_acks)
{
	misbehaving_receiver("--wrong-ack", NULL, "but the oldest unacked frame is", NULL);
}
END_TEST

START_TEST(garbage_replies)
{
	misbehaving_receiver("--garbage", NULL, "reply is not {\"ack\": str}", NULL);
}
END_TEST

START_TEST(closes_after_every_frame)
{
	/*
	 * A receiver that closes with our next frames unread in its socket makes its kernel answer with a
	 * reset, not an end of stream: which of the two we see first is the kernels' race, and both name it.
	 */
	misbehaving_receiver("--close-after", "1", "closed by the receiver", "connection reset by peer");
}
END_TEST

static TCase *tcase(Suite *s, const char *name, const TTest *test, double timeout)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, timeout);
	tcase_add_unchecked_fixture(tc, NULL, remove_leftovers);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
	return tc;
}

int main(int argc, char **argv)
{
	Suite *s = suite_create("faults");

	if (geteuid() != 0) {
		fprintf(stderr, "test_faults: must run as root (the daemon loads BPF programs)\n");
		return EXIT_FAILURE;
	}
	/* one test by name: test_faults NAME (or CK_RUN_CASE=NAME) */
	if (argc > 1)
		setenv("CK_RUN_CASE", argv[1], 1);
	leftovers = mmap(NULL, sizeof(*leftovers), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (leftovers == MAP_FAILED)
		return EXIT_FAILURE;
	leftovers->n = 0;
	tcase(s, "receiver_killed_five_times", receiver_killed_five_times, 90);
	tcase(s, "late_acks_small_buffer", late_acks_small_buffer, 60);
	tcase(s, "wrong_acks", wrong_acks, 60);
	tcase(s, "garbage_replies", garbage_replies, 60);
	tcase(s, "closes_after_every_frame", closes_after_every_frame, 60);
	tcase(s, "receiver_stops_reading_during_a_burst", receiver_stops_reading_during_a_burst, 180);
	tcase(s, "daemon_killed_with_frames_spooled", daemon_killed_with_frames_spooled, 90);
	tcase(s, "small_spool_fills", small_spool_fills, 120);
	tcase(s, "second_receiver_takes_over", second_receiver_takes_over, 120);
	return suite_run(s);
}
