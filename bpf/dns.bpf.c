/* dns.bpf.c: DNS over UDP port 53: every message a process sends or receives, at syscall exit, bytes only. */
#include "common.bpf.h"
#include "sock.bpf.h"
#include <bpf/bpf_endian.h>

/* vmlinux.h carries types, not macros. */
#define MSG_PEEK 2
#define EINTR 4
#define EAGAIN 11
#define DNS_PORT 53
/* Messages of one sendmmsg / recvmmsg, iovecs of one msghdr looked at. */
#define DNS_MMSG_MAX 8
#define DNS_IOV_MAX 4

/*
 * Only exits are traced: the arguments are still in the registers the task
 * saved on entry (see vfs.bpf.c), and the buffers then hold what was sent or
 * received. On x86 plain loads of the trusted registers.
 */
#if defined(__TARGET_ARCH_x86)
#define ARG1(r) ((r)->di)
#define ARG2(r) ((r)->si)
#define ARG3(r) ((r)->dx)
#define ARG4(r) ((r)->r10)
#define ARG5(r) ((r)->r8)
#else
#define ARG1(r) PT_REGS_PARM1_CORE_SYSCALL(r)
#define ARG2(r) PT_REGS_PARM2_CORE_SYSCALL(r)
#define ARG3(r) PT_REGS_PARM3_CORE_SYSCALL(r)
#define ARG4(r) PT_REGS_PARM4_CORE_SYSCALL(r)
#define ARG5(r) PT_REGS_PARM5_CORE_SYSCALL(r)
#endif

struct dns_sock_key {
	__u32 tgid;
	__s32 fd;
};

/* The server of a socket that talks DNS, and the socket, to see through a reused fd. */
struct dns_peer {
	__u64 sk;
	__u64 addr[2];     /* network order; IPv4 in the first 4 bytes */
	__u16 family;
	__u16 port;
	__u32 _pad;
};

/*
 * UDP sockets connected to port 53 (or that sent to it), per process and fd:
 * read and write on them carry no address. Forgotten on close; an LRU so
 * fds closed another way (exit, close_range, dup2) cannot fill it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct dns_sock_key);
	__type(value, struct dns_peer);
} dns_socks SEC(".maps");

struct dns_query_key {
	__u32 tgid;
	__s32 fd;
	__u32 txid;
};

/* Queries sent, by process, fd and txid: their time, until the response comes. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct dns_query_key);
	__type(value, __u64);
} dns_queries SEC(".maps");

/*
 * Set on a process's leader once one of its threads has had a DNS socket:
 * the read, write and close of every other process stop at this one lookup
 * (Go reads and writes its DNS sockets from any thread, so per thread is not
 * enough). Task storage: it goes with the task.
 */
struct dns_proc {
	__u32 has_dns;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct dns_proc);
} dns_procs SEC(".maps");

static __always_inline bool dns_proc_has(struct task_struct *task)
{
	return bpf_task_storage_get(&dns_procs, task->group_leader, NULL, 0) != NULL;
}

/* The UDP socket behind fd, as a number, or 0. */
static __always_inline __u64 udp_sock(struct task_struct *task, __s32 fd)
{
	/* a negative fd is out of range as a __u32 */
	struct sock *sk = sock_from_fd(task, (__u32)fd);

	if (!sk || BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != IPPROTO_UDP)
		return 0;
	return (__u64)sk;
}

/* Reads an IPv4 / IPv6 sockaddr from user memory into peer; false when it is neither. */
static __always_inline bool read_sockaddr(const void *uaddr, struct dns_peer *peer)
{
	struct sockaddr_in6 sa = {};

	if (!uaddr || bpf_probe_read_user(&sa.sin6_family, sizeof(sa.sin6_family), uaddr))
		return false;
	/* sockaddr_in is a prefix of sockaddr_in6 up to the port; read what the family needs. */
	if (sa.sin6_family == AF_INET) {
		if (bpf_probe_read_user(&sa, sizeof(struct sockaddr_in), uaddr))
			return false;
		__builtin_memcpy(peer->addr, &((struct sockaddr_in *)&sa)->sin_addr, 4);
	} else if (sa.sin6_family == AF_INET6) {
		if (bpf_probe_read_user(&sa, sizeof(sa), uaddr))
			return false;
		__builtin_memcpy(peer->addr, &sa.sin6_addr, 16);
	} else {
		return false;
	}
	peer->family = sa.sin6_family;
	peer->port = bpf_ntohs(sa.sin6_port);
	return true;
}

/* Remembers fd as a DNS socket of the process and flags the process. */
static __always_inline void dns_remember(struct task_struct *task, __s32 fd, struct dns_peer *peer)
{
	struct dns_sock_key k = {.tgid = task->tgid, .fd = fd};

	bpf_map_update_elem(&dns_socks, &k, peer, BPF_ANY);
	bpf_task_storage_get(&dns_procs, task->group_leader, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
}

/*
 * Whether the message on fd is DNS, and its server in peer. An address the
 * syscall names (sendto's, recvfrom's) decides: port 53 and a UDP socket; then
 * the socket is remembered, so that later reads without an address are seen.
 * Without one, the socket must be a remembered one, still the same socket.
 */
static __noinline bool dns_peer_of(struct task_struct *task, __s32 fd, const void *uaddr,
				   struct dns_peer *peer)
{
	struct dns_sock_key k = {.tgid = task->tgid, .fd = fd};
	struct dns_peer *known;

	if (uaddr) {
		if (!read_sockaddr(uaddr, peer) || peer->port != DNS_PORT)
			return false;
		peer->sk = udp_sock(task, fd);
		if (!peer->sk)
			return false;
		/* a socket sending to one server again and again is remembered once */
		known = bpf_map_lookup_elem(&dns_socks, &k);
		if (!known || known->sk != peer->sk || known->port != peer->port ||
		    known->addr[0] != peer->addr[0] || known->addr[1] != peer->addr[1])
			dns_remember(task, fd, peer);
		return true;
	}
	if (!dns_proc_has(task))
		return false;
	known = bpf_map_lookup_elem(&dns_socks, &k);
	if (!known)
		return false;
	__builtin_memcpy(peer, known, sizeof(*peer));
	if (udp_sock(task, fd) != peer->sk) {
		/* the fd is another file now (dup2 over it, say) */
		bpf_map_delete_elem(&dns_socks, &k);
		return false;
	}
	return true;
}

/* One message to report: where its bytes are and what moved them. */
struct dns_msg {
	const void *buf;            /* the bytes, or NULL: then in iov */
	const struct iovec *iov;
	__u64 iovlen;
	__u64 len;                  /* bytes moved, or the request's size when it failed */
	__u64 cap;                  /* room of buf */
	__s32 fd;
	__s32 error_raw;
	__u32 syscall;
	__u32 response;
};

/* Copies up to EV_DNS_MSG_MAX bytes of the message from its iovecs; returns the bytes taken. */
static __always_inline __u32 copy_iov(struct ev_dns *e, const struct dns_msg *m)
{
	__u32 done = 0;

	for (int i = 0; i < DNS_IOV_MAX; i++) {
		struct iovec v;
		__u64 n;

		if (i >= m->iovlen || done >= m->len || done >= EV_DNS_MSG_MAX)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), &m->iov[i]))
			break;
		n = v.iov_len;
		if (n > m->len - done)
			n = m->len - done;
		if (n > EV_DNS_MSG_MAX - done)
			n = EV_DNS_MSG_MAX - done;
		/* bounds the verifier sees: done < 512, n <= 512 (the compiler knows, it must not drop them) */
		barrier_var(done);
		done &= EV_DNS_MSG_MAX - 1;
		barrier_var(n);
		if (n > EV_DNS_MSG_MAX)
			break;
		if (n && bpf_probe_read_user(e->data + done, n, v.iov_base))
			break;
		done += n;
	}
	return done;
}

/* Builds and sends the record of one message, matching a response with its query. */
static __noinline int dns_emit(struct task_struct *task, const struct dns_msg *m,
			       const struct dns_peer *peer)
{
	struct ev_dns *e;
	struct dns_query_key qk = {};
	__u64 *sent, n;

	if (ev_skip_task(task))
		return 0;
	e = ev_scratch();
	if (!e)
		return 0;
	ev_fill_hdr_task(&e->h, task, EV_DNS, 0);
	if (m->buf) {
		n = m->len < m->cap ? m->len : m->cap;
		if (n > EV_DNS_MSG_MAX)
			n = EV_DNS_MSG_MAX;
		if (n && bpf_probe_read_user(e->data, n, m->buf))
			n = 0;
	} else {
		n = copy_iov(e, m);
	}
	if (n > EV_DNS_MSG_MAX)
		n = EV_DNS_MSG_MAX;
	e->msg.off = offsetof(struct ev_dns, data);
	e->msg.len = n;
	/* a failed send of iovecs has no count: what was taken of them stands for it */
	e->msg_len = m->error_raw && !m->buf ? n : m->len;
	e->txid = n >= 2 ? ((__u16)(__u8)e->data[0] << 8) | (__u8)e->data[1] : 0;
	e->response = m->response;
	e->error_raw = m->error_raw;
	e->fd = m->fd;
	e->syscall = m->syscall;
	e->family = peer->family;
	e->port = peer->port;
	__builtin_memcpy(e->addr, peer->addr, sizeof(e->addr));
	e->latency_ns = 0;
	e->matched = 0;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	if (n >= 2 && !m->error_raw) {
		qk.tgid = e->h.pid;
		qk.fd = m->fd;
		qk.txid = e->txid;
		if (!m->response) {
			bpf_map_update_elem(&dns_queries, &qk, &e->h.ts_ns, BPF_ANY);
		} else {
			sent = bpf_map_lookup_elem(&dns_queries, &qk);
			if (sent) {
				e->latency_ns = e->h.ts_ns - *sent;
				e->matched = 1;
				/* a second response to it is unmatched */
				bpf_map_delete_elem(&dns_queries, &qk);
			}
		}
	}
	ev_output(e, offsetof(struct ev_dns, data) + n);
	return 0;
}

/* A receive that got nothing: try again later, or interrupted, is no message. */
static __always_inline bool recv_nothing(long ret)
{
	return ret == -EAGAIN || ret == -EINTR;
}

static __always_inline int dns_buf(long ret, __s32 fd, const void *buf, __u64 count,
				   const void *uaddr, __u32 syscall, __u32 response)
{
	struct task_struct *task = ev_task();
	struct dns_peer peer = {};
	struct dns_msg m = {
		.buf = buf,
		.len = ret >= 0 ? (__u64)ret : count,
		.cap = count,
		.fd = fd,
		.error_raw = ret < 0 ? (__s32)-ret : 0,
		.syscall = syscall,
		.response = response,
	};

	if (response && (recv_nothing(ret) || ret == 0))
		return 0;
	if (!dns_peer_of(task, fd, uaddr, &peer))
		return 0;
	if (response && ret < 0)
		m.len = 0;
	return dns_emit(task, &m, &peer);
}

/* A struct user_msghdr (or the first part of a struct mmsghdr) in user memory. */
static __always_inline int dns_msghdr(struct task_struct *task, long ret, __s32 fd,
				      const struct user_msghdr *uhdr, __u32 syscall, __u32 response)
{
	struct user_msghdr h;
	struct dns_peer peer = {};
	struct dns_msg m = {
		.fd = fd,
		.error_raw = ret < 0 ? (__s32)-ret : 0,
		.syscall = syscall,
		.response = response,
	};

	if (bpf_probe_read_user(&h, sizeof(h), uhdr))
		return 0;
	if (!dns_peer_of(task, fd, h.msg_namelen ? h.msg_name : NULL, &peer))
		return 0;
	m.iov = h.msg_iov;
	m.iovlen = h.msg_iovlen;
	m.len = ret >= 0 ? (__u64)ret : (response ? 0 : EV_DNS_MSG_MAX);
	return dns_emit(task, &m, &peer);
}

/* sendmmsg / recvmmsg: a record per message moved (ret of them), or one for a failure. */
static __always_inline int dns_mmsg(long ret, __s32 fd, const struct mmsghdr *vec, __u32 syscall,
				    __u32 response)
{
	struct task_struct *task = ev_task();
	__u32 len;

	if (ret < 0)
		return (response && recv_nothing(ret)) ? 0 :
			dns_msghdr(task, ret, fd, &vec[0].msg_hdr, syscall, response);
	for (int i = 0; i < DNS_MMSG_MAX; i++) {
		if (i >= ret)
			break;
		/* each message's own length, as the kernel wrote it */
		if (bpf_probe_read_user(&len, sizeof(len), &vec[i].msg_len))
			break;
		dns_msghdr(task, len, fd, &vec[i].msg_hdr, syscall, response);
	}
	return 0;
}

static __always_inline struct pt_regs *regs_of(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(ev_task());
}

SEC("tracepoint/syscalls/sys_exit_connect")
int dns_connect_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = ev_task();
	struct pt_regs *regs = regs_of();
	__s32 fd = (__s32)ARG1(regs);
	struct dns_peer peer = {};
	struct dns_sock_key k;

	if (ctx->ret != 0)
		return 0;
	if (read_sockaddr((const void *)ARG2(regs), &peer) && peer.port == DNS_PORT) {
		peer.sk = udp_sock(task, fd);
		if (peer.sk)
			dns_remember(task, fd, &peer);
	} else if (dns_proc_has(task)) {
		/* connected elsewhere, or dissolved (AF_UNSPEC) */
		k.tgid = task->tgid;
		k.fd = fd;
		bpf_map_delete_elem(&dns_socks, &k);
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_close")
int dns_close_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = ev_task();
	struct dns_sock_key k;

	if (!dns_proc_has(task))
		return 0;
	k.tgid = task->tgid;
	k.fd = (__s32)ARG1(regs_of());
	bpf_map_delete_elem(&dns_socks, &k);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_write")
int dns_write_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;

	/* every write of every process comes here: one lookup for those without DNS */
	if (!dns_proc_has(ev_task()))
		return 0;
	regs = regs_of();
	return dns_buf(ctx->ret, (__s32)ARG1(regs), (const void *)ARG2(regs), ARG3(regs), NULL,
		       EV_DNS_WRITE, 0);
}

SEC("tracepoint/syscalls/sys_exit_read")
int dns_read_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;

	if (!dns_proc_has(ev_task()))
		return 0;
	regs = regs_of();
	return dns_buf(ctx->ret, (__s32)ARG1(regs), (const void *)ARG2(regs), ARG3(regs), NULL,
		       EV_DNS_READ, 1);
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int dns_sendto_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = regs_of();

	return dns_buf(ctx->ret, (__s32)ARG1(regs), (const void *)ARG2(regs), ARG3(regs),
		       (const void *)ARG5(regs), EV_DNS_SENDTO, 0);
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int dns_recvfrom_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = regs_of();

	if (ARG4(regs) & MSG_PEEK)
		return 0;
	return dns_buf(ctx->ret, (__s32)ARG1(regs), (const void *)ARG2(regs), ARG3(regs),
		       (const void *)ARG5(regs), EV_DNS_RECVFROM, 1);
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int dns_sendmsg_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = regs_of();

	return dns_msghdr(ev_task(), ctx->ret, (__s32)ARG1(regs), (const void *)ARG2(regs),
			  EV_DNS_SENDMSG, 0);
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int dns_recvmsg_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = regs_of();
	long ret = ctx->ret;

	if ((ARG3(regs) & MSG_PEEK) || recv_nothing(ret) || ret == 0)
		return 0;
	return dns_msghdr(ev_task(), ret, (__s32)ARG1(regs), (const void *)ARG2(regs),
			  EV_DNS_RECVMSG, 1);
}

SEC("tracepoint/syscalls/sys_exit_sendmmsg")
int dns_sendmmsg_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = regs_of();

	return dns_mmsg(ctx->ret, (__s32)ARG1(regs), (const void *)ARG2(regs), EV_DNS_SENDMMSG, 0);
}

SEC("tracepoint/syscalls/sys_exit_recvmmsg")
int dns_recvmmsg_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = regs_of();

	if (ARG4(regs) & MSG_PEEK)
		return 0;
	return dns_mmsg(ctx->ret, (__s32)ARG1(regs), (const void *)ARG2(regs), EV_DNS_RECVMMSG, 1);
}
