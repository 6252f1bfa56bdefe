/* test_trace_dns.c: the dns trace loaded for real; children ask a responder of the test's own on 127.0.0.1:53 every way a resolver does. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "rig.h"
#include "suite_run.h"

#define T_A 1
#define T_AAAA 28

/* ---- the responder: a thread of the test, so the trace does not see it (the daemon never traces itself) ---- */

struct responder {
	int fd;
	pthread_t th;
	volatile int stop;
};

static struct responder resp;

/* The question's name as dotted text, and where its type is; -1 when the bytes are not a plain name. */
static int parse_question(const uint8_t *m, size_t n, char *name, size_t cap, size_t *qtype_at)
{
	size_t pos = 12, t = 0;

	while (pos < n && m[pos]) {
		size_t l = m[pos];

		if (l > 63 || pos + 1 + l > n || t + l + 2 > cap)
			return -1;
		if (t)
			name[t++] = '.';
		memcpy(name + t, m + pos + 1, l);
		t += l;
		pos += 1 + l;
	}
	if (pos + 5 > n)
		return -1;
	name[t] = '\0';
	*qtype_at = pos + 1;
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Answers A and AAAA queries with one record of the asked type, its name a
 * compression pointer to the question's; names starting "nx." get NXDOMAIN,
 * "twice." two copies of the answer. Bytes that are no question come back
 * as they are with the response bit set.
 */
static size_t answer(const uint8_t *q, size_t n, uint8_t *out, int *copies)
{
	char name[256];
	size_t qt, len;
	uint16_t type;
	int nx;

	*copies = 1;
	if (n < 12)
		return 0;
	if (parse_question(q, n, name, sizeof(name), &qt)) {
		memcpy(out, q, n);
		out[2] |= 0x80;
		return n;
	}
	type = (uint16_t)(q[qt] << 8 | q[qt + 1]);
	nx = strncmp(name, "nx.", 3) == 0;
	*copies = strncmp(name, "twice.", 6) == 0 ? 2 : 1;
	len = qt + 4;
	memcpy(out, q, len);
	put16(out + 2, nx ? 0x8183 : 0x8180);
	put16(out + 4, 1);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	if (nx || (type != T_A && type != T_AAAA))
		return len;
	put16(out + 6, 1);
	out[len++] = 0xc0; /* the question's name, at 12 */
	out[len++] = 12;
	put16(out + len, type);
	put16(out + len + 2, 1);
	memcpy(out + len + 4, "\0\0\0\x3c", 4); /* TTL 60 */
	len += 8;
	if (type == T_A) {
		put16(out + len, 4);
		memcpy(out + len + 2, "\x7f\x00\x00\x02", 4);
		len += 6;
	} else {
		put16(out + len, 16);
		memset(out + len + 2, 0, 16);
		out[len + 2 + 15] = 2; /* ::2 */
		len += 18;
	}
	return len;
}

static void *responder_run(void *arg)
{
	struct responder *r = arg;
	uint8_t q[1500], out[1600];

	while (!r->stop) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(r->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
		int copies;
		size_t len;

		if (n <= 0)
			continue;
		len = answer(q, (size_t)n, out, &copies);
		for (int i = 0; len && i < copies; i++)
			sendto(r->fd, out, len, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

/* Port 53 of 127.0.0.1 must be free: the test's responder takes it. */
static void responder_start(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};
	struct timeval tv = {.tv_usec = 50000};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	resp.stop = 0;
	resp.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(resp.fd, 0);
	ck_assert_int_eq(setsockopt(resp.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	if (bind(resp.fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		ck_abort_msg("cannot bind 127.0.0.1:53 (%s): something else listens there (a local DNS "
			     "resolver or cache?); these tests need that port free for their own responder",
			     strerror(errno));
	ck_assert_int_eq(pthread_create(&resp.th, NULL, responder_run, &resp), 0);
}

static void responder_stop(void)
{
	resp.stop = 1;
	pthread_join(resp.th, NULL);
	close(resp.fd);
}

/* ---- clients ---- */

static size_t make_query(uint8_t *b, uint16_t id, const char *name, uint16_t type)
{
	size_t n = 12;

	memset(b, 0, 12);
	put16(b, id);
	put16(b + 2, 0x0100); /* RD */
	put16(b + 4, 1);
	for (const char *p = name; *p;) {
		size_t l = strcspn(p, ".");

		b[n++] = (uint8_t)l;
		memcpy(b + n, p, l);
		n += l;
		p += l + (p[l] == '.');
	}
	b[n++] = 0;
	put16(b + n, type);
	put16(b + n + 2, 1);
	return n + 4;
}

static struct sockaddr_in server(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int udp_socket(void)
{
	struct timeval tv = {.tv_sec = 2};
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		_exit(2);
	return s;
}

/* sendto / recvfrom on an unconnected socket (musl, dig): arg is the name; id 0x1111, A. */
static void child_sendto(const void *arg)
{
	struct sockaddr_in a = server(), from;
	socklen_t fl = sizeof(from);
	uint8_t q[512], r[512];
	size_t n = make_query(q, 0x1111, arg, T_A);
	int s = udp_socket();

	if (sendto(s, q, n, 0, (struct sockaddr *)&a, sizeof(a)) != (ssize_t)n)
		_exit(3);
	if (recvfrom(s, r, sizeof(r), 0, (struct sockaddr *)&from, &fl) < 12)
		_exit(4);
	close(s);
}

/* A second response to the same query: the responder sends "twice." names two. */
static void child_twice(const void *arg)
{
	struct sockaddr_in a = server();
	uint8_t q[512], r[512];
	size_t n = make_query(q, 0x5555, arg, T_A);
	int s = udp_socket();

	if (sendto(s, q, n, 0, (struct sockaddr *)&a, sizeof(a)) != (ssize_t)n)
		_exit(3);
	/* no address asked for: the socket is known from the sendto */
	if (recvfrom(s, r, sizeof(r), 0, NULL, NULL) < 12 || recvfrom(s, r, sizeof(r), 0, NULL, NULL) < 12)
		_exit(4);
	close(s);
}

/*
 * write / read on a connected socket (Go's resolver): AAAA, id 0x2222. Then
 * the same bytes written to a pipe, and to a pipe that took the closed
 * socket's fd number (id 0x2223): neither is DNS.
 */
static void child_connected(const void *arg)
{
	struct sockaddr_in a = server();
	uint8_t q[512], r[512];
	size_t n = make_query(q, 0x2222, arg, T_AAAA);
	int s = udp_socket(), p[2];

	if (connect(s, (struct sockaddr *)&a, sizeof(a)))
		_exit(3);
	if (write(s, q, n) != (ssize_t)n || read(s, r, sizeof(r)) < 12)
		_exit(4);
	close(s);
	n = make_query(q, 0x2223, arg, T_AAAA);
	if (pipe(p) || write(p[1], q, n) != (ssize_t)n || read(p[0], r, sizeof(r)) != (ssize_t)n)
		_exit(5);
	if (p[0] != s && p[1] != s)
		_exit(6); /* the pipe should have taken the socket's number */
	close(p[0]);
	close(p[1]);
}

/* sendmsg (header and question in two iovecs) / recvmsg with addresses: id 0x3333, A. */
static void child_msg(const void *arg)
{
	struct sockaddr_in a = server(), from;
	uint8_t q[512], r[512];
	size_t n = make_query(q, 0x3333, arg, T_A);
	struct iovec out[2] = {{q, 12}, {q + 12, n - 12}}, in = {r, sizeof(r)};
	struct msghdr m = {.msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = out, .msg_iovlen = 2};
	int s = udp_socket();

	if (sendmsg(s, &m, 0) != (ssize_t)n)
		_exit(3);
	memset(&m, 0, sizeof(m));
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	m.msg_iov = &in;
	m.msg_iovlen = 1;
	if (recvmsg(s, &m, 0) < 12)
		_exit(4);
	close(s);
}

/* sendmmsg / recvmmsg of two queries on a connected socket (glibc's pair, received in one call): 0x6661 A, 0x6662 AAAA. */
static void child_mmsg(const void *arg)
{
	struct sockaddr_in a = server();
	uint8_t q[2][512], r[2][512];
	struct iovec out[2], in[2];
	struct mmsghdr mo[2], mi[2];
	int s = udp_socket(), got = 0;

	memset(mo, 0, sizeof(mo));
	memset(mi, 0, sizeof(mi));
	for (int i = 0; i < 2; i++) {
		out[i].iov_base = q[i];
		out[i].iov_len = make_query(q[i], (uint16_t)(0x6661 + i), arg, i ? T_AAAA : T_A);
		mo[i].msg_hdr.msg_iov = &out[i];
		mo[i].msg_hdr.msg_iovlen = 1;
		in[i].iov_base = r[i];
		in[i].iov_len = sizeof(r[i]);
		mi[i].msg_hdr.msg_iov = &in[i];
		mi[i].msg_hdr.msg_iovlen = 1;
	}
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) || sendmmsg(s, mo, 2, 0) != 2)
		_exit(3);
	while (got < 2) {
		int n = recvmmsg(s, mi + got, (unsigned)(2 - got), MSG_WAITFORONE, NULL);

		if (n <= 0)
			_exit(4);
		got += n;
	}
	close(s);
}

/* A message that is no DNS: a header and a label of type 0x40; the responder echoes it. Id 0x7777. */
static void child_garbage(const void *arg)
{
	struct sockaddr_in a = server();
	uint8_t q[32] = {0x77, 0x77, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 'x', 0, 0, 1, 0, 1};
	uint8_t r[512];
	int s = udp_socket();

	(void)arg;
	if (sendto(s, q, 19, 0, (struct sockaddr *)&a, sizeof(a)) != 19 || recv(s, r, sizeof(r), 0) != 19)
		_exit(3);
	close(s);
}

/* write then read on a connected socket with nobody on port 53: the read fails with ECONNREFUSED. Id 0x8888. */
static void child_refused(const void *arg)
{
	struct sockaddr_in a = server();
	uint8_t q[512], r[512];
	size_t n = make_query(q, 0x8888, arg, T_A);
	int s = udp_socket();

	if (connect(s, (struct sockaddr *)&a, sizeof(a)) || write(s, q, n) != (ssize_t)n)
		_exit(3);
	if (read(s, r, sizeof(r)) != -1 || errno != ECONNREFUSED)
		_exit(4);
	close(s);
}

/* ---- records ---- */

struct dns_want {
	pid_t pid;
	int64_t txid;       /* -1: any */
	int response;
	const char *query;  /* NULL: any */
	int64_t qtype;      /* -1: any */
};

static bool match_dns(const msgpack_object *rec, const void *arg)
{
	const struct dns_want *w = arg;

	return rec_str_is(rec, "event_type", "dns") && rec_uint(rec, "pid") == (uint64_t)w->pid &&
	       (w->txid < 0 || rec_uint(rec, "txid") == (uint64_t)w->txid) &&
	       rec_uint(rec, "response") == (uint64_t)w->response &&
	       (!w->query || rec_str_is(rec, "query", w->query)) &&
	       (w->qtype < 0 || rec_uint(rec, "query_type") == (uint64_t)w->qtype);
}

static const msgpack_object *want_rec(struct rig *r, pid_t pid, int64_t txid, int response,
				      const char *query, int64_t qtype)
{
	struct dns_want w = {pid, txid, response, query, qtype};
	const msgpack_object *rec = rig_wait(r, match_dns, &w);

	ck_assert_msg(rec, "no dns %s record from pid %d for %s (txid %lld)", response ? "response" : "query",
		      pid, query ? query : "any name", (long long)txid);
	return rec;
}

static size_t count_recs(struct rig *r, const struct dns_want *w)
{
	size_t n = 0;

	for (size_t i = 0; i < r->cap.n; i++)
		n += match_dns(&r->cap.recs[i].u.data, w);
	return n;
}

/* The keys every record has, whatever syscall moved it. */
static void assert_common(const msgpack_object *rec, pid_t pid, const char *syscall)
{
	ck_assert_uint_eq(rec_uint(rec, "pid"), (uint64_t)pid);
	ck_assert_uint_eq(rec_uint(rec, "tid"), (uint64_t)pid);
	ck_assert_str_eq(rec_str(rec, "comm"), "test_trace_dns");
	ck_assert_int_eq(rec_int(rec, "error_raw"), 0);
	ck_assert_str_eq(rec_str(rec, "server"), "127.0.0.1");
	ck_assert_uint_eq(rec_uint(rec, "server_port"), 53);
	ck_assert_str_eq(rec_str(rec, "syscall"), syscall);
	ck_assert_uint_eq(rec_uint(rec, "ppid"), (uint64_t)getpid());
}

/* A query and its answer: the query's record, then the response's, matched, with its latency. */
static void assert_exchange(struct rig *r, pid_t pid, uint16_t txid, const char *name, uint16_t qtype,
			    unsigned rcode, const char *send, const char *recv)
{
	const msgpack_object *rec = want_rec(r, pid, txid, 0, name, qtype);
	int64_t fd = rec_int(rec, "fd");

	assert_common(rec, pid, send);
	ck_assert_uint_eq(rec_uint(rec, "rcode"), 0);
	ck_assert_uint_eq(rec_uint(rec, "latency_ns"), 0);
	ck_assert_uint_eq(rec_uint(rec, "answers"), 0);
	ck_assert_uint_eq(rec_uint(rec, "msg_len"), 12 + strlen(name) + 2 + 4);
	ck_assert_int_ge(fd, 0);

	rec = want_rec(r, pid, txid, 1, name, qtype);
	assert_common(rec, pid, recv);
	ck_assert_uint_eq(rec_uint(rec, "rcode"), rcode);
	ck_assert_uint_gt(rec_uint(rec, "latency_ns"), 0);
	ck_assert_uint_lt(rec_uint(rec, "latency_ns"), 3000000000ULL);
	ck_assert(rec_get(rec, "matched")->type == MSGPACK_OBJECT_BOOLEAN && rec_get(rec, "matched")->via.boolean);
	ck_assert_uint_eq(rec_uint(rec, "answers"), rcode ? 0 : 1);
	ck_assert_int_eq(rec_int(rec, "fd"), fd);
}

/* Nothing from the test process itself: its responder is the daemon's side here. */
static void assert_none_from_self(struct rig *r)
{
	for (size_t i = 0; i < r->cap.n; i++)
		ck_assert_uint_ne(rec_uint(&r->cap.recs[i].u.data, "pid"), (uint64_t)getpid());
}

START_TEST(sendto_and_recvfrom)
{
	struct rig r;
	pid_t pid, nx;

	responder_start();
	rig_start(&r, "trace_dns");
	pid = rig_child(child_sendto, "a.dns-test.example");
	nx = rig_child(child_sendto, "nx.dns-test.example");
	assert_exchange(&r, pid, 0x1111, "a.dns-test.example", T_A, 0, "sendto", "recvfrom");
	assert_exchange(&r, nx, 0x1111, "nx.dns-test.example", T_A, 3, "sendto", "recvfrom");
	assert_none_from_self(&r);
	rig_stop(&r);
	responder_stop();
}
END_TEST

START_TEST(connected_write_and_read)
{
	struct rig r;
	struct dns_want pipe_w = {0, 0x2223, 0, NULL, -1};
	pid_t pid;

	responder_start();
	rig_start(&r, "dns");
	pid = rig_child(child_connected, "go.dns-test.example");
	assert_exchange(&r, pid, 0x2222, "go.dns-test.example", T_AAAA, 0, "write", "read");
	/* the same bytes through a pipe, also on the closed socket's fd number, are not DNS */
	pipe_w.pid = pid;
	ck_assert_uint_eq(count_recs(&r, &pipe_w), 0);
	pipe_w.response = 1;
	ck_assert_uint_eq(count_recs(&r, &pipe_w), 0);
	rig_stop(&r);
	responder_stop();
}
END_TEST

START_TEST(sendmsg_and_recvmsg)
{
	struct rig r;
	pid_t pid;

	responder_start();
	rig_start(&r, "dns");
	pid = rig_child(child_msg, "msg.dns-test.example");
	/* msg_len is the whole message though it went in two iovecs */
	assert_exchange(&r, pid, 0x3333, "msg.dns-test.example", T_A, 0, "sendmsg", "recvmsg");
	rig_stop(&r);
	responder_stop();
}
END_TEST

START_TEST(sendmmsg_and_recvmmsg)
{
	struct rig r;
	pid_t pid;

	responder_start();
	rig_start(&r, "dns");
	pid = rig_child(child_mmsg, "mm.dns-test.example");
	assert_exchange(&r, pid, 0x6661, "mm.dns-test.example", T_A, 0, "sendmmsg", "recvmmsg");
	assert_exchange(&r, pid, 0x6662, "mm.dns-test.example", T_AAAA, 0, "sendmmsg", "recvmmsg");
	rig_stop(&r);
	responder_stop();
}
END_TEST

START_TEST(unsolicited_response_is_a_record)
{
	struct rig r;
	const msgpack_object *rec;
	struct dns_want w = {0, 0x5555, 1, "twice.dns-test.example", T_A};
	size_t first = SIZE_MAX, second = SIZE_MAX;
	pid_t pid;

	responder_start();
	rig_start(&r, "dns");
	pid = rig_child(child_twice, "twice.dns-test.example");
	w.pid = pid;
	want_rec(&r, pid, 0x5555, 0, "twice.dns-test.example", T_A);
	want_rec(&r, pid, 0x5555, 1, "twice.dns-test.example", T_A);
	for (int i = 0; i < 100 && count_recs(&r, &w) < 2; i++) {
		usleep(30000);
		pipeline_drain(r.p);
	}
	for (size_t i = 0; i < r.cap.n; i++)
		if (match_dns(&r.cap.recs[i].u.data, &w))
			*(first == SIZE_MAX ? &first : &second) = i;
	ck_assert_msg(second != SIZE_MAX, "one response record, two were received");
	rec = &r.cap.recs[first].u.data;
	ck_assert(rec_get(rec, "matched")->via.boolean);
	ck_assert_uint_gt(rec_uint(rec, "latency_ns"), 0);
	/* the second has no query left to match: still a record, with its name, no latency */
	rec = &r.cap.recs[second].u.data;
	assert_common(rec, pid, "recvfrom");
	ck_assert(!rec_get(rec, "matched")->via.boolean);
	ck_assert_uint_eq(rec_uint(rec, "latency_ns"), 0);
	ck_assert_uint_eq(rec_uint(rec, "rcode"), 0);
	rig_stop(&r);
	responder_stop();
}
END_TEST

START_TEST(undecodable_message_is_unknown)
{
	struct rig r;
	const msgpack_object *rec;
	pid_t pid;

	responder_start();
	rig_start(&r, "dns");
	pid = rig_child(child_garbage, NULL);
	rec = want_rec(&r, pid, 0x7777, 0, "<unknown>", 0);
	assert_common(rec, pid, "sendto");
	ck_assert_uint_eq(rec_uint(rec, "msg_len"), 19);
	rec = want_rec(&r, pid, 0x7777, 1, "<unknown>", 0);
	assert_common(rec, pid, "recvfrom");
	/* matched by its txid, decodable or not */
	ck_assert(rec_get(rec, "matched")->via.boolean);
	ck_assert_uint_gt(rec_uint(rec, "latency_ns"), 0);
	rig_stop(&r);
	responder_stop();
}
END_TEST

START_TEST(refused_read_has_errno)
{
	struct rig r;
	const msgpack_object *rec;
	struct dns_want w = {0, -1, 1, "<unknown>", 0};
	pid_t pid;

	/* the port is free (and stays so: nothing answers) */
	responder_start();
	responder_stop();
	rig_start(&r, "dns");
	pid = rig_child(child_refused, "refused.dns-test.example");
	rec = want_rec(&r, pid, 0x8888, 0, "refused.dns-test.example", T_A);
	assert_common(rec, pid, "write");
	w.pid = pid;
	rec = rig_wait(&r, match_dns, &w);
	ck_assert_msg(rec, "no record of the failed read");
	ck_assert_int_eq(rec_int(rec, "error_raw"), ECONNREFUSED);
	ck_assert_str_eq(rec_str(rec, "syscall"), "read");
	ck_assert_uint_eq(rec_uint(rec, "msg_len"), 0);
	ck_assert(!rec_get(rec, "matched")->via.boolean);
	ck_assert_uint_eq(rec_uint(rec, "server_port"), 53);
	rig_stop(&r);
}
END_TEST

/* ---- the system's resolver ---- */

struct gai_files {
	char resolv[160], nss[160];
};

/*
 * getaddrinfo in a private mount namespace whose /etc/resolv.conf (and
 * nsswitch.conf) are the test's: nameserver 127.0.0.1, hosts from dns. The
 * machine's own resolver configuration is untouched. Exit codes say what failed.
 */
static void child_gai(const void *arg)
{
	const struct gai_files *f = arg;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res, *i;
	int found = 0;

	if (unshare(CLONE_NEWNS))
		_exit(10);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		_exit(11);
	if (mount(f->resolv, "/etc/resolv.conf", NULL, MS_BIND, NULL))
		_exit(12);
	if (access("/etc/nsswitch.conf", F_OK) == 0 && mount(f->nss, "/etc/nsswitch.conf", NULL, MS_BIND, NULL))
		_exit(13);
	if (getaddrinfo("gai.dns-test.example", NULL, &hints, &res))
		_exit(20);
	for (i = res; i; i = i->ai_next)
		if (i->ai_family == AF_INET &&
		    ((struct sockaddr_in *)i->ai_addr)->sin_addr.s_addr == htonl(0x7f000002))
			found = 1;
	freeaddrinfo(res);
	_exit(found ? 0 : 21);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f, "cannot write %s: %s", path, strerror(errno));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(system_resolver_getaddrinfo)
{
	static const char *const why[] = {[10] = "unshare(CLONE_NEWNS)", [11] = "mount --make-rprivate /",
					  [12] = "bind-mount over /etc/resolv.conf (is it there?)",
					  [13] = "bind-mount over /etc/nsswitch.conf",
					  [20] = "getaddrinfo failed", [21] = "getaddrinfo without 127.0.0.2"};
	struct gai_files f;
	const msgpack_object *q4, *q6;
	struct stat own_ns;
	struct rig r;
	int status;
	pid_t pid;

	rig_make_unique("resolv");
	snprintf(f.resolv, sizeof(f.resolv), "%s", rig_unique);
	rig_make_unique("nsswitch");
	snprintf(f.nss, sizeof(f.nss), "%s", rig_unique);
	ck_assert_int_eq(stat("/proc/self/ns/mnt", &own_ns), 0);
	/* first: it fails the test when the port is taken, and nothing is left behind then */
	responder_start();
	write_file(f.resolv, "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n");
	write_file(f.nss, "hosts: dns\n");
	rig_start(&r, "dns");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		child_gai(&f);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	unlink(f.resolv);
	unlink(f.nss);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "resolver child: %s (status 0x%x)",
		      WIFEXITED(status) && WEXITSTATUS(status) < 22 && why[WEXITSTATUS(status)] ?
			      why[WEXITSTATUS(status)] : "?", status);
	/* glibc sends A and AAAA together in one sendmmsg on a connected socket */
	q4 = want_rec(&r, pid, -1, 0, "gai.dns-test.example", T_A);
	assert_common(q4, pid, "sendmmsg");
	q6 = want_rec(&r, pid, -1, 0, "gai.dns-test.example", T_AAAA);
	assert_common(q6, pid, "sendmmsg");
	ck_assert_uint_ne(rec_uint(q4, "txid"), rec_uint(q6, "txid"));
	for (int i = 0; i < 2; i++) {
		uint64_t txid = rec_uint(i ? q6 : q4, "txid");
		const msgpack_object *rec = want_rec(&r, pid, (int64_t)txid, 1, "gai.dns-test.example",
						      i ? T_AAAA : T_A);

		ck_assert_uint_eq(rec_uint(rec, "rcode"), 0);
		ck_assert_uint_gt(rec_uint(rec, "latency_ns"), 0);
		ck_assert(rec_get(rec, "matched")->via.boolean);
		ck_assert_uint_eq(rec_uint(rec, "pid"), (uint64_t)pid);
		ck_assert_str_eq(rec_str(rec, "comm"), "test_trace_dns");
		ck_assert_str_eq(rec_str(rec, "server"), "127.0.0.1");
		/* from the child's own mount namespace */
		ck_assert_uint_ne(rec_uint(rec, "mntns_id"), own_ns.st_ino);
	}
	rig_stop(&r);
	responder_stop();
}
END_TEST

/* ---- filters ---- */

START_TEST(pid_filter_keeps_only_that_process)
{
	struct dns_want other = {0, -1, 0, NULL, -1};
	int go[2][2];
	pid_t pid[2];
	char c = 0;
	struct rig r;

	responder_start();
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(pipe(go[i]), 0);
		pid[i] = fork();
		ck_assert_int_ge(pid[i], 0);
		if (pid[i] == 0) {
			close(go[i][1]);
			if (read(go[i][0], &c, 1) == 1)
				child_sendto(i ? "out.dns-test.example" : "in.dns-test.example");
			_exit(0);
		}
		close(go[i][0]);
	}
	rig_start_full(&r, "dns", 1 << 22, pid[0]);
	/* the one outside the filter first: its records, were there any, come before */
	for (int i = 1; i >= 0; i--) {
		ck_assert_int_eq(write(go[i][1], &c, 1), 1);
		close(go[i][1]);
		ck_assert_int_eq(waitpid(pid[i], NULL, 0), pid[i]);
	}
	assert_exchange(&r, pid[0], 0x1111, "in.dns-test.example", T_A, 0, "sendto", "recvfrom");
	other.pid = pid[1];
	ck_assert_uint_eq(count_recs(&r, &other), 0);
	other.response = 1;
	ck_assert_uint_eq(count_recs(&r, &other), 0);
	for (size_t i = 0; i < r.cap.n; i++)
		ck_assert_uint_eq(rec_uint(&r.cap.recs[i].u.data, "pid"), (uint64_t)pid[0]);
	rig_stop(&r);
	responder_stop();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trace_dns");
	TCase *tc = tcase_create("dns");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sendto_and_recvfrom);
	tcase_add_test(tc, connected_write_and_read);
	tcase_add_test(tc, sendmsg_and_recvmsg);
	tcase_add_test(tc, sendmmsg_and_recvmmsg);
	tcase_add_test(tc, unsolicited_response_is_a_record);
	tcase_add_test(tc, undecodable_message_is_unknown);
	tcase_add_test(tc, refused_read_has_errno);
	tcase_add_test(tc, system_resolver_getaddrinfo);
	tcase_add_test(tc, pid_filter_keeps_only_that_process);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
