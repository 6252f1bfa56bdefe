/* loadgen.c: the benchmark's load: N processes doing one kind of operation per trace, flat out or at a rate. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum op { OP_OPEN, OP_EXEC, OP_KILL, OP_BIND, OP_MALLOC, OP_TCP, OP_SWITCH, OP_DNS, OP_COUNT };

static const char *const op_names[OP_COUNT] = {"open", "exec", "kill", "bind", "malloc", "tcp", "switch", "dns"};

static enum op op = OP_OPEN;

/* State an operation keeps across calls: a listener (tcp), a pipe pair to a partner process (switch). */
static int listener = -1;
static struct sockaddr_in listen_addr;
static int ping[2], pong[2];
static int dns_fd = -1;
/* A query for example.test, type A: txid 0x1234, recursion desired, one question. */
static const uint8_t dns_query[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
				    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
static void *volatile sink;
/* exec: argv of the exec'ed /bin/true (the path, then --exec-args arguments of 15 bytes each) */
#define EXEC_ARGS_MAX 512
static char *exec_argv[EXEC_ARGS_MAX + 3];
static char exec_arg_bytes[EXEC_ARGS_MAX][16];

/*
 * A partner process (the pipe's echo, the DNS responder) dies with its
 * generator and holds none of the benchmark's pipes: the benchmark reads
 * loadgen's stdout to its end.
 */
static void partner_detach(void)
{
	int null = open("/dev/null", O_RDWR);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
}

/* Once per generator process, before its loop. */
static int prepare(void)
{
	socklen_t len = sizeof(listen_addr);

	switch (op) {
	case OP_TCP:
		listener = socket(AF_INET, SOCK_STREAM, 0);
		listen_addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (listener < 0 || bind(listener, (struct sockaddr *)&listen_addr, sizeof(listen_addr)) ||
		    listen(listener, 64) || getsockname(listener, (struct sockaddr *)&listen_addr, &len))
			return -1;
		return 0;
	case OP_SWITCH:
		/* a partner that answers every byte: each operation is two context switches */
		if (pipe(ping) || pipe(pong))
			return -1;
		if (fork() == 0) {
			char b;

			partner_detach();
			close(ping[1]);
			close(pong[0]);
			while (read(ping[0], &b, 1) == 1 && write(pong[1], &b, 1) == 1)
				;
			_exit(0);
		}
		close(ping[0]);
		close(pong[1]);
		return 0;
	case OP_DNS: {
		/* a responder of our own on 127.0.0.1:53 answers each query NXDOMAIN; the client is what is traced */
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int srv = socket(AF_INET, SOCK_DGRAM, 0), one = 1;

		if (srv < 0 || setsockopt(srv, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
		    bind(srv, (struct sockaddr *)&a, sizeof(a)))
			return -1;
		if (fork() == 0) {
			uint8_t b[512];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n;

			partner_detach();
			while ((n = recvfrom(srv, b, sizeof(b), 0, (struct sockaddr *)&from, &fl)) > 0) {
				b[2] |= 0x80; /* a response */
				b[3] = (uint8_t)((b[3] & 0xf0) | 3);
				sendto(srv, b, (size_t)n, 0, (struct sockaddr *)&from, fl);
				fl = sizeof(from);
			}
			_exit(0);
		}
		close(srv);
		dns_fd = socket(AF_INET, SOCK_DGRAM, 0);
		return dns_fd < 0 || connect(dns_fd, (struct sockaddr *)&a, sizeof(a)) ? -1 : 0;
	}
	default:
		return 0;
	}
}

/* One operation: each makes one event of the trace it is for (vfs, exec's enter, signal). */
static void one(const char *path)
{
	int fd, status;
	pid_t pid;

	switch (op) {
	case OP_OPEN:
		fd = open(path, O_RDONLY);
		if (fd >= 0)
			close(fd);
		break;
	case OP_EXEC:
		pid = fork();
		if (pid == 0) {
			exec_argv[1] = (char *)path;
			execv("/bin/true", exec_argv);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, &status, 0);
		break;
	case OP_KILL:
		kill(getpid(), 0); /* signal 0: checked and traced, never delivered */
		break;
	case OP_BIND: {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd >= 0) {
			if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
				perror("loadgen: bind");
			close(fd);
		}
		break;
	}
	case OP_MALLOC:
		/* the libc calls themselves: malloc and free, two events */
		sink = malloc(64);
		free(sink);
		break;
	case OP_TCP: {
		/* connect and accept: two events (the listen was once, in prepare) */
		int c = socket(AF_INET, SOCK_STREAM, 0), a;

		if (c >= 0 && connect(c, (struct sockaddr *)&listen_addr, sizeof(listen_addr)) == 0) {
			a = accept(listener, NULL, NULL);
			if (a >= 0)
				close(a);
		}
		if (c >= 0)
			close(c);
		break;
	}
	case OP_SWITCH: {
		char b = 'x';

		if (write(ping[1], &b, 1) != 1 || read(pong[0], &b, 1) != 1)
			perror("loadgen: switch");
		break;
	}
	case OP_DNS: {
		/* query and answer: two records (a connected socket, as Go's resolver uses) */
		uint8_t b[512];

		if (write(dns_fd, dns_query, sizeof(dns_query)) != (ssize_t)sizeof(dns_query) || read(dns_fd, b, sizeof(b)) <= 0)
			perror("loadgen: dns");
		break;
	}
	case OP_COUNT:
		break;
	}
}

struct result {
	uint64_t ops;
	uint64_t busy_ns;   /* time spent in the open+close loop */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One process: open+close until the deadline; at a rate, paced on an absolute clock. */
static void run(const char *path, uint64_t seconds, double rate, struct result *r)
{
	uint64_t start = now_ns(), end = start + seconds * 1000000000ULL;
	uint64_t interval = rate > 0 ? (uint64_t)(1e9 / rate) : 0, next = start;

	r->ops = 0;
	if (!interval) {
		/* flat out: the clock is read once per 256 operations, not per operation */
		for (;;) {
			for (int i = 0; i < 256; i++)
				one(path);
			r->ops += 256;
			if (now_ns() >= end)
				break;
		}
		r->busy_ns = now_ns() - start;
		return;
	}
	/* ...and not past the deadline either: a rate it cannot keep up with ends on time, short of ops */
	for (uint64_t now; next < end && (now = now_ns()) < end; next += interval) {
		struct timespec ts = {.tv_sec = (time_t)(next / 1000000000ULL), .tv_nsec = (long)(next % 1000000000ULL)};

		/* behind the schedule: no sleep at all (on a VM even a sleep already due takes ~20 us) */
		if (now < next)
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		one(path);
		r->ops++;
	}
	r->busy_ns = now_ns() - start;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"procs", required_argument, NULL, 'n'}, {"seconds", required_argument, NULL, 's'},
		{"rate", required_argument, NULL, 'r'},  {"path", required_argument, NULL, 'p'},
		{"op", required_argument, NULL, 'o'},    {"comm", required_argument, NULL, 'c'},
		{"exec-args", required_argument, NULL, 'a'},
		{0},
	};
	unsigned procs = 1;
	uint64_t seconds = 10, ops = 0;
	double rate = 0, ns_per_op = 0;
	const char *path = NULL;
	struct result *res;
	unsigned nargs = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': procs = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': seconds = strtoull(optarg, NULL, 10); break;
		case 'r': rate = strtod(optarg, NULL); break;
		case 'p': path = optarg; break;
		case 'a': nargs = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'o':
			for (op = 0; op < OP_COUNT && strcmp(optarg, op_names[op]); op++)
				;
			if (op == OP_COUNT) {
				fprintf(stderr, "loadgen: unknown --op %s\n", optarg);
				return 2;
			}
			break;
		/* the receiver tells our events from the machine's by this comm */
		case 'c': prctl(PR_SET_NAME, optarg, 0, 0, 0); break;
		default:
			fprintf(stderr, "usage: loadgen --path P [--op open|exec|kill|bind|malloc|tcp|switch|dns] [--comm NAME] [--procs N] "
				"[--seconds S] [--rate OPS_PER_S_TOTAL] [--exec-args N]\n");
			return 2;
		}
	}
	if (!path || !procs || procs > 256 || !seconds || nargs > EXEC_ARGS_MAX) {
		fprintf(stderr, "loadgen: --path is required; 1-256 procs; seconds > 0; at most %d --exec-args\n",
			EXEC_ARGS_MAX);
		return 2;
	}
	/* the exec's command line: /bin/true PATH arg-0000000001 ... (each argument 15 bytes and its NUL) */
	exec_argv[0] = "/bin/true";
	for (unsigned i = 0; i < nargs; i++) {
		snprintf(exec_arg_bytes[i], sizeof(exec_arg_bytes[i]), "arg-%011u", i);
		exec_argv[2 + i] = exec_arg_bytes[i];
	}
	exec_argv[2 + nargs] = NULL;
	res = mmap(NULL, procs * sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		perror("loadgen: mmap");
		return 1;
	}
	for (unsigned i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("loadgen: fork");
			return 1;
		}
		if (pid == 0) {
			if (prepare()) {
				perror("loadgen: preparing the operation");
				_exit(1);
			}
			run(path, seconds, rate / procs, &res[i]);
			_exit(0);
		}
	}
	while (wait(NULL) > 0 || errno == EINTR)
		;
	for (unsigned i = 0; i < procs; i++) {
		ops += res[i].ops;
		ns_per_op += res[i].ops ? (double)res[i].busy_ns / (double)res[i].ops / procs : 0;
	}
	printf("{\"ops\": %llu, \"ns_per_op\": %.1f, \"procs\": %u, \"seconds\": %llu, \"rate\": %.0f}\n",
	       (unsigned long long)ops, ns_per_op, procs, (unsigned long long)seconds, rate);
	return 0;
}
