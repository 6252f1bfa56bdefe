/* test_trace_tcp.c: the tcp trace loaded for real; a child listens, connects and accepts, the test asserts its records. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "rig.h"
#include "suite_run.h"

/* An fd no test process has open: calls on it fail with EBADF. */
#define BAD_FD 1000

/* What the child did, written to memory it shares with the test. */
struct tcp_seen {
	int family;                 /* in: AF_INET or AF_INET6 */
	int lfd, lport;             /* the listener (backlog 7) and its port */
	int cfd, cport;             /* the blocking client and its local port */
	int afd;                    /* accept() of cfd */
	int nfd, nport, nerr;       /* the non-blocking client, its local port, its connect's errno */
	int a4fd;                   /* accept4() of nfd */
	int eagain_err;             /* accept4 on the non-blocking listener with nothing pending */
	int rfd, rport, rerr;       /* connect to a port bound but not listening */
	int ebadf_err;              /* accept on BAD_FD */
	int ufd, uport;             /* IPv4: a UDP socket connected to port 53, its local port */
	int zfd;                    /* connect to the any address, which the kernel takes as loopback */
	int mfd, mlport, mcfd, mcport, mafd; /* IPv6: a dual-stack listener, an IPv4 client, the accept */
	int done;
};

static struct tcp_seen *seen_map(void)
{
	struct tcp_seen *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(s, MAP_FAILED);
	memset(s, 0, sizeof(*s));
	return s;
}

/* The loopback of family, port in host order. */
static socklen_t loopback(int family, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons((uint16_t)port);
	a6->sin6_addr = in6addr_loopback;
	return sizeof(*a6);
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* The dual-stack part: an IPv4 peer of an IPv6 listener, which the kernel keeps v4-mapped. */
static void child_mapped(struct tcp_seen *s)
{
	struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
	struct sockaddr_storage ss;
	socklen_t len;
	int off = 0;

	s->mfd = socket(AF_INET6, SOCK_STREAM, 0);
	if (setsockopt(s->mfd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
	    bind(s->mfd, (struct sockaddr *)&any, sizeof(any)) || listen(s->mfd, 4))
		_exit(10);
	s->mlport = local_port(s->mfd);
	s->mcfd = socket(AF_INET, SOCK_STREAM, 0);
	len = loopback(AF_INET, s->mlport, &ss);
	if (connect(s->mcfd, (struct sockaddr *)&ss, len))
		_exit(11);
	s->mcport = local_port(s->mcfd);
	s->mafd = accept(s->mfd, NULL, NULL);
	if (s->mafd < 0)
		_exit(12);
}

static void child_tcp(const void *arg)
{
	struct tcp_seen *s = (struct tcp_seen *)arg;
	struct sockaddr_storage ss, peer;
	socklen_t len, plen = sizeof(peer);
	int f = s->family, bfd;

	s->lfd = socket(f, SOCK_STREAM, 0);
	len = loopback(f, 0, &ss);
	if (bind(s->lfd, (struct sockaddr *)&ss, len) || listen(s->lfd, 7))
		_exit(2);
	s->lport = local_port(s->lfd);
	len = loopback(f, s->lport, &ss);

	s->cfd = socket(f, SOCK_STREAM, 0);
	if (connect(s->cfd, (struct sockaddr *)&ss, len))
		_exit(3);
	s->cport = local_port(s->cfd);
	s->afd = accept(s->lfd, (struct sockaddr *)&peer, &plen);
	if (s->afd < 0)
		_exit(4);

	s->nfd = socket(f, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (connect(s->nfd, (struct sockaddr *)&ss, len) == 0)
		_exit(5);
	s->nerr = errno;
	s->nport = local_port(s->nfd);
	/* no sockaddr: the peer comes from the new socket anyway */
	s->a4fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (s->a4fd < 0)
		_exit(6);

	fcntl(s->lfd, F_SETFL, O_NONBLOCK);
	if (accept4(s->lfd, (struct sockaddr *)&peer, &plen, 0) >= 0)
		_exit(7);
	s->eagain_err = errno;

	/* after the empty accept: this one is left pending */
	s->zfd = socket(f, SOCK_STREAM, 0);
	len = loopback(f, s->lport, &ss);
	if (f == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_ANY);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_any;
	if (connect(s->zfd, (struct sockaddr *)&ss, len))
		_exit(14);

	/* a port that is bound but not listening: the connect is refused */
	bfd = socket(f, SOCK_STREAM, 0);
	len = loopback(f, 0, &ss);
	if (bind(bfd, (struct sockaddr *)&ss, len))
		_exit(8);
	s->rport = local_port(bfd);
	len = loopback(f, s->rport, &ss);
	s->rfd = socket(f, SOCK_STREAM, 0);
	if (connect(s->rfd, (struct sockaddr *)&ss, len) == 0)
		_exit(9);
	s->rerr = errno;

	if (f == AF_INET) {
		if (accept(BAD_FD, NULL, NULL) >= 0)
			_exit(13);
		s->ebadf_err = errno;
		s->ufd = socket(AF_INET, SOCK_DGRAM, 0);
		len = loopback(AF_INET, 53, &ss);
		if (connect(s->ufd, (struct sockaddr *)&ss, len))
			_exit(15);
		s->uport = local_port(s->ufd);
	} else {
		child_mapped(s);
	}
	s->done = 1;
}

struct tcp_want {
	const char *type;
	pid_t pid;
	int fd;
	int error;
	const char *syscall; /* accept: "accept" or "accept4" */
};

static bool match_tcp(const msgpack_object *rec, const void *arg)
{
	const struct tcp_want *w = arg;

	return rec_str_is(rec, "event_type", w->type) && rec_uint(rec, "pid") == (uint64_t)w->pid &&
	       rec_int(rec, "fd") == w->fd && rec_int(rec, "error_raw") == w->error &&
	       (!w->syscall || rec_str_is(rec, "syscall", w->syscall));
}

/* The keys right after the common five, in this order (in_ebpf's order). */
static void assert_keys(const msgpack_object *rec, const char *const *keys)
{
	static const char *const common[] = {"event_type", "event_id", "pid", "tid", "comm"};
	uint32_t i = 0;

	ck_assert_int_eq(rec->type, MSGPACK_OBJECT_MAP);
	for (; i < 5; i++) {
		const msgpack_object *k = &rec->via.map.ptr[i].key;

		ck_assert_msg(k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(common[i]) &&
				      memcmp(k->via.str.ptr, common[i], k->via.str.size) == 0,
			      "key %u is not %s", i, common[i]);
	}
	for (; *keys; keys++, i++) {
		const msgpack_object *k;

		ck_assert_msg(i < rec->via.map.size, "record ends before key %s", *keys);
		k = &rec->via.map.ptr[i].key;
		ck_assert_msg(k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(*keys) &&
				      memcmp(k->via.str.ptr, *keys, k->via.str.size) == 0,
			      "key %u is %.*s, not %s", i, (int)k->via.str.size, k->via.str.ptr, *keys);
	}
}

static const char *const listen_keys[] = {"fd", "backlog", "error_raw", NULL};
static const char *const accept4_keys[] = {"fd", "new_fd", "peer_port", "peer_version", "peer_addr_v4",
					   "error_raw", NULL};
static const char *const accept6_keys[] = {"fd", "new_fd", "peer_port", "peer_version", "peer_addr_v6_0",
					   "peer_addr_v6_1", "peer_addr_v6_2", "peer_addr_v6_3", "error_raw", NULL};
static const char *const connect4_keys[] = {"fd", "remote_port", "remote_version", "remote_addr_v4",
					    "error_raw", NULL};
static const char *const connect6_keys[] = {"fd", "remote_port", "remote_version", "remote_addr_v6_0",
					    "remote_addr_v6_1", "remote_addr_v6_2", "remote_addr_v6_3",
					    "error_raw", NULL};

/* in_ebpf's raw word i of an address: its network-order bytes read as a host integer. */
static uint32_t raw_word(int family, const char *text, int i)
{
	unsigned char b[16] = {0};
	uint32_t v;

	ck_assert_int_eq(inet_pton(family, text, b), 1);
	memcpy(&v, b + 4 * i, sizeof(v));
	return (uint32_t)v;
}

/* The common keys every record of the child has. */
static void assert_child(const msgpack_object *rec, pid_t pid)
{
	ck_assert_uint_eq(rec_uint(rec, "pid"), (uint64_t)pid);
	ck_assert_uint_eq(rec_uint(rec, "tid"), (uint64_t)pid);
	ck_assert_str_eq(rec_str(rec, "comm"), "test_trace_tcp");
	ck_assert_uint_eq(rec_uint(rec, "ppid"), (uint64_t)getpid());
	ck_assert_uint_eq(rec_uint(rec, "uid"), getuid());
}

/* The raw address keys of prefix (peer_addr / remote_addr) and the readable one beside them. */
static void assert_addr(const msgpack_object *rec, const char *prefix, int version, const char *text)
{
	char key[32];

	if (version == 6) {
		ck_assert_ptr_null(rec_get(rec, prefix[0] == 'p' ? "peer_addr_v4" : "remote_addr_v4"));
		for (int i = 0; i < 4; i++) {
			snprintf(key, sizeof(key), "%s_v6_%d", prefix, i);
			ck_assert_uint_eq(rec_uint(rec, key), raw_word(AF_INET6, text, i));
		}
	} else {
		snprintf(key, sizeof(key), "%s_v6_0", prefix);
		ck_assert_ptr_null(rec_get(rec, key));
		snprintf(key, sizeof(key), "%s_v4", prefix);
		ck_assert_uint_eq(rec_uint(rec, key), version ? raw_word(AF_INET, text, 0) : 0);
	}
	ck_assert_str_eq(rec_str(rec, prefix), version ? text : "");
}

static const msgpack_object *wait_tcp(struct rig *r, const struct tcp_want *w)
{
	const msgpack_object *rec = rig_wait(r, match_tcp, w);

	ck_assert_msg(rec, "no %s record of fd %d, error %d, %s, for pid %d", w->type, w->fd, w->error,
		      w->syscall ? w->syscall : "-", w->pid);
	assert_child(rec, w->pid);
	return rec;
}

/* listen, blocking and non-blocking connects, accept and accept4, a refused connect, an empty accept. */
static void check_family(int family)
{
	const int v = family == AF_INET ? 4 : 6;
	const char *lo = family == AF_INET ? "127.0.0.1" : "::1";
	const char *const *ckeys = v == 4 ? connect4_keys : connect6_keys;
	const char *const *akeys = v == 4 ? accept4_keys : accept6_keys;
	struct tcp_seen *s = seen_map();
	const msgpack_object *rec;
	struct tcp_want w = {"listen", 0, 0, 0, NULL};
	struct rig r;

	s->family = family;
	rig_start(&r, "tcp");
	w.pid = rig_child(child_tcp, s);
	ck_assert_msg(s->done, "the child did not get through");

	w.fd = s->lfd;
	rec = wait_tcp(&r, &w);
	assert_keys(rec, listen_keys);
	ck_assert_int_eq(rec_int(rec, "backlog"), 7);
	ck_assert_int_eq(rec_int(rec, "error_raw"), 0);
	ck_assert_str_eq(rec_str(rec, "protocol"), "tcp");
	ck_assert_str_eq(rec_str(rec, "local_addr"), lo);
	ck_assert_uint_eq(rec_uint(rec, "local_port"), (uint64_t)s->lport);

	w.type = "connect";
	w.fd = s->cfd;
	rec = wait_tcp(&r, &w);
	assert_keys(rec, ckeys);
	ck_assert_uint_eq(rec_uint(rec, "remote_port"), (uint64_t)s->lport);
	ck_assert_uint_eq(rec_uint(rec, "remote_version"), (uint64_t)v);
	assert_addr(rec, "remote_addr", v, lo);
	ck_assert_str_eq(rec_str(rec, "protocol"), "tcp");
	ck_assert_str_eq(rec_str(rec, "local_addr"), lo);
	ck_assert_uint_eq(rec_uint(rec, "local_port"), (uint64_t)s->cport);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* what a real in_ebpf gave for 127.0.0.1 on x86 */
	if (v == 4)
		ck_assert_uint_eq(rec_uint(rec, "remote_addr_v4"), 16777343);
#endif

	ck_assert_int_eq(s->nerr, EINPROGRESS);
	w.fd = s->nfd;
	w.error = EINPROGRESS;
	rec = wait_tcp(&r, &w);
	assert_keys(rec, ckeys);
	ck_assert_uint_eq(rec_uint(rec, "remote_port"), (uint64_t)s->lport);
	ck_assert_uint_eq(rec_uint(rec, "remote_version"), (uint64_t)v);
	assert_addr(rec, "remote_addr", v, lo);
	ck_assert_uint_eq(rec_uint(rec, "local_port"), (uint64_t)s->nport);

	/* the remote is the kernel's: the loopback it went to, not the any address given */
	w.fd = s->zfd;
	w.error = 0;
	rec = wait_tcp(&r, &w);
	assert_keys(rec, ckeys);
	ck_assert_uint_eq(rec_uint(rec, "remote_port"), (uint64_t)s->lport);
	assert_addr(rec, "remote_addr", v, lo);

	/* refused: the socket has dropped its remote, the sockaddr given is reported */
	ck_assert_int_eq(s->rerr, ECONNREFUSED);
	w.fd = s->rfd;
	w.error = ECONNREFUSED;
	rec = wait_tcp(&r, &w);
	assert_keys(rec, ckeys);
	ck_assert_uint_eq(rec_uint(rec, "remote_port"), (uint64_t)s->rport);
	ck_assert_uint_eq(rec_uint(rec, "remote_version"), (uint64_t)v);
	assert_addr(rec, "remote_addr", v, lo);

	w.type = "accept";
	w.fd = s->lfd;
	w.error = 0;
	w.syscall = "accept";
	rec = wait_tcp(&r, &w);
	assert_keys(rec, akeys);
	ck_assert_int_eq(rec_int(rec, "new_fd"), s->afd);
	ck_assert_uint_eq(rec_uint(rec, "peer_port"), (uint64_t)s->cport);
	ck_assert_uint_eq(rec_uint(rec, "peer_version"), (uint64_t)v);
	assert_addr(rec, "peer_addr", v, lo);
	ck_assert_str_eq(rec_str(rec, "protocol"), "tcp");
	ck_assert_str_eq(rec_str(rec, "local_addr"), lo);
	ck_assert_uint_eq(rec_uint(rec, "local_port"), (uint64_t)s->lport);

	w.syscall = "accept4";
	rec = wait_tcp(&r, &w);
	assert_keys(rec, akeys);
	ck_assert_int_eq(rec_int(rec, "new_fd"), s->a4fd);
	ck_assert_uint_eq(rec_uint(rec, "peer_port"), (uint64_t)s->nport);
	ck_assert_uint_eq(rec_uint(rec, "peer_version"), (uint64_t)v);
	assert_addr(rec, "peer_addr", v, lo);

	/* a failed accept has no peer, whatever the family: the IPv4 table with zeros */
	ck_assert_int_eq(s->eagain_err, EAGAIN);
	w.error = EAGAIN;
	rec = wait_tcp(&r, &w);
	assert_keys(rec, accept4_keys);
	ck_assert_int_eq(rec_int(rec, "new_fd"), -1);
	ck_assert_uint_eq(rec_uint(rec, "peer_port"), 0);
	ck_assert_uint_eq(rec_uint(rec, "peer_version"), 0);
	assert_addr(rec, "peer_addr", 0, NULL);
	/* the listener's */
	ck_assert_str_eq(rec_str(rec, "protocol"), "tcp");
	ck_assert_uint_eq(rec_uint(rec, "local_port"), (uint64_t)s->lport);

	if (family == AF_INET) {
		ck_assert_int_eq(s->ebadf_err, EBADF);
		w.fd = BAD_FD;
		w.error = EBADF;
		w.syscall = "accept";
		rec = wait_tcp(&r, &w);
		assert_keys(rec, accept4_keys);
		ck_assert_int_eq(rec_int(rec, "new_fd"), -1);
		ck_assert_uint_eq(rec_uint(rec, "peer_port"), 0);
		ck_assert_uint_eq(rec_uint(rec, "peer_version"), 0);
		assert_addr(rec, "peer_addr", 0, NULL);
		ck_assert_uint_eq(rec_uint(rec, "local_port"), 0);
		/* every inet socket's connect is traced, UDP too: protocol tells */
		w.type = "connect";
		w.fd = s->ufd;
		w.error = 0;
		w.syscall = NULL;
		rec = wait_tcp(&r, &w);
		assert_keys(rec, connect4_keys);
		ck_assert_str_eq(rec_str(rec, "protocol"), "udp");
		ck_assert_uint_eq(rec_uint(rec, "remote_port"), 53);
		assert_addr(rec, "remote_addr", 4, "127.0.0.1");
		ck_assert_uint_eq(rec_uint(rec, "local_port"), (uint64_t)s->uport);
	} else {
		/* an IPv4 client of a dual-stack listener is an IPv6 peer to it, v4-mapped */
		w.fd = s->mfd;
		w.error = 0;
		w.syscall = "accept";
		rec = wait_tcp(&r, &w);
		assert_keys(rec, accept6_keys);
		ck_assert_int_eq(rec_int(rec, "new_fd"), s->mafd);
		ck_assert_uint_eq(rec_uint(rec, "peer_port"), (uint64_t)s->mcport);
		ck_assert_uint_eq(rec_uint(rec, "peer_version"), 6);
		assert_addr(rec, "peer_addr", 6, "::ffff:127.0.0.1");
		ck_assert_str_eq(rec_str(rec, "local_addr"), "::ffff:127.0.0.1");
		ck_assert_uint_eq(rec_uint(rec, "local_port"), (uint64_t)s->mlport);
		/* its client is a plain IPv4 socket */
		w.type = "connect";
		w.fd = s->mcfd;
		w.syscall = NULL;
		rec = wait_tcp(&r, &w);
		assert_keys(rec, connect4_keys);
		assert_addr(rec, "remote_addr", 4, "127.0.0.1");
		ck_assert_uint_eq(rec_uint(rec, "remote_port"), (uint64_t)s->mlport);
	}
	rig_stop(&r);
	munmap(s, sizeof(*s));
}

START_TEST(tcp_ipv4_listen_connect_accept)
{
	check_family(AF_INET);
}
END_TEST

START_TEST(tcp_ipv6_listen_connect_accept)
{
	check_family(AF_INET6);
}
END_TEST

/* An inet listen on an unbound socket: the kernel binds it to a port of its choice. */
static int marker_listen(int backlog)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || listen(fd, backlog))
		return -1;
	return fd;
}

/* Unix sockets: listen, connect, accept, accept4, and a connect to a Unix address on no socket. */
static void child_unix(const void *arg)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	int *marker = (int *)arg;
	int l, c1, c2;

	/* abstract: nothing on disk */
	snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "ebpf-forward-tcp-%d", getpid());
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(l, (struct sockaddr *)&un, sizeof(un)) || listen(l, 5))
		_exit(2);
	c1 = socket(AF_UNIX, SOCK_STREAM, 0);
	c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(c1, (struct sockaddr *)&un, sizeof(un)) || connect(c2, (struct sockaddr *)&un, sizeof(un)))
		_exit(3);
	if (accept(l, NULL, NULL) < 0 || accept4(l, NULL, NULL, SOCK_CLOEXEC) < 0)
		_exit(4);
	if (connect(BAD_FD, (struct sockaddr *)&un, sizeof(un)) == 0)
		_exit(5);
	/* then something that is traced, after which nothing from the above can still come */
	*marker = marker_listen(3);
}

START_TEST(tcp_unix_sockets_are_not_traced)
{
	int *marker = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct tcp_want w = {"listen", 0, 0, 0, NULL};
	const msgpack_object *rec;
	struct rig r;

	ck_assert_ptr_ne(marker, MAP_FAILED);
	*marker = -1;
	rig_start(&r, "tcp");
	w.pid = rig_child(child_unix, marker);
	ck_assert_int_ge(*marker, 0);
	w.fd = *marker;
	rec = wait_tcp(&r, &w);
	ck_assert_int_eq(rec_int(rec, "backlog"), 3);
	/* an unbound listener gets any address and a port the kernel chose */
	ck_assert_str_eq(rec_str(rec, "local_addr"), "0.0.0.0");
	ck_assert_uint_ne(rec_uint(rec, "local_port"), 0);
	/* the ring keeps the child's order: its Unix calls would be before the marker */
	for (size_t i = 0; i < r.cap.n; i++) {
		const msgpack_object *o = &r.cap.recs[i].u.data;

		if (rec_uint(o, "pid") == (uint64_t)w.pid)
			ck_assert_msg(o == rec, "a record for a Unix socket call: %s of fd %lld", rec_str(o, "event_type"),
				      (long long)rec_int(o, "fd"));
	}
	rig_stop(&r);
	munmap(marker, sizeof(int));
}
END_TEST

static void child_listen_other(const void *arg)
{
	(void)arg;
	marker_listen(9);
}

/* A listen of w->pid with backlog 9. */
static bool match_backlog(const msgpack_object *rec, const void *arg)
{
	const struct tcp_want *w = arg;

	return rec_str_is(rec, "event_type", "listen") && rec_uint(rec, "pid") == (uint64_t)w->pid &&
	       rec_int(rec, "backlog") == 9;
}

START_TEST(tcp_pid_filter_keeps_only_that_child)
{
	struct tcp_want w = {"listen", 0, 0, 0, NULL};
	const msgpack_object *rec;
	int go[2], status;
	pid_t other;
	struct rig r;
	char c = 0;

	/* The child waits until the trace is filtered to it, and a second child has listened. */
	ck_assert_int_eq(pipe(go), 0);
	w.pid = fork();
	ck_assert_int_ge(w.pid, 0);
	if (w.pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(marker_listen(9) < 0 ? 2 : 0);
	}
	close(go[0]);
	rig_start_full(&r, "tcp", 1 << 22, w.pid);
	other = rig_child(child_listen_other, NULL);
	ck_assert_int_eq(write(go[1], &c, 1), 1);
	close(go[1]);
	ck_assert_int_eq(waitpid(w.pid, &status, 0), w.pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed");
	rec = rig_wait(&r, match_backlog, &w);
	ck_assert_msg(rec, "no listen record for pid %d", w.pid);
	assert_child(rec, w.pid);
	ck_assert_int_eq(rec_int(rec, "backlog"), 9);
	/* the other child listened first, and the ring keeps order: it was filtered out */
	for (size_t i = 0; i < r.cap.n; i++) {
		ck_assert_uint_ne(rec_uint(&r.cap.recs[i].u.data, "pid"), (uint64_t)other);
		ck_assert_uint_eq(rec_uint(&r.cap.recs[i].u.data, "pid"), (uint64_t)w.pid);
	}
	rig_stop(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trace_tcp");
	TCase *tc = tcase_create("tcp");

	rig_require_root("test_trace_tcp");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, tcp_ipv4_listen_connect_accept);
	tcase_add_test(tc, tcp_ipv6_listen_connect_accept);
	tcase_add_test(tc, tcp_unix_sockets_are_not_traced);
	tcase_add_test(tc, tcp_pid_filter_keeps_only_that_child);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
