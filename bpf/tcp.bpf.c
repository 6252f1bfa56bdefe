/* tcp.bpf.c: listen, accept / accept4 and connect on IPv4 / IPv6 sockets, from the syscall tracepoints. */
#include "common.bpf.h"
#include "sock.bpf.h"
#include <bpf/bpf_endian.h>

#define EINPROGRESS 115
/* What the kernel takes as an IPv6 sockaddr: without sin6_scope_id (RFC 2133). */
#define SIN6_LEN_RFC2133 24

/*
 * listen and accept are traced at exit only: their fd and backlog are still
 * in the registers the task saved at entry (see vfs.bpf.c), and everything
 * else is in the sockets then, so an entry program would only add its cost.
 */
#if defined(__TARGET_ARCH_x86)
#define ARG1(r) ((r)->di)
#define ARG2(r) ((r)->si)
#else
#define ARG1(r) PT_REGS_PARM1_CORE_SYSCALL(r)
#define ARG2(r) PT_REGS_PARM2_CORE_SYSCALL(r)
#endif

/*
 * connect in flight, per thread, from enter to exit: task storage (as in
 * bind.bpf.c), never deleted, active marks it in use. The sockaddr is copied
 * at entry, as the kernel copies it, so a caller reusing it meanwhile does
 * not change the record. The socket is kept from entry, where the call's
 * file reference holds it; at exit a close racing in another thread could
 * have freed it, which the probed reads survive (reading zeros or a reused
 * socket's bytes; looking the fd up again at exit has the same race).
 */
struct connect_args {
	__u64 sk;          /* struct sock * at entry; 0 when fd was not a socket */
	__s32 fd;
	__u16 sk_family;   /* the socket's, AF_UNSPEC without one */
	__u16 family;      /* the sockaddr's, AF_UNSPEC unless its address was read */
	__u16 port;        /* host order */
	__u16 active;      /* 1 from enter to exit */
	__u32 _pad;
	__u8 addr[16];     /* network order */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct connect_args);
} connect_inflight SEC(".maps");

static __always_inline bool tcp_is_inet(__u16 family)
{
	return family == AF_INET || family == AF_INET6;
}

static __always_inline __u16 tcp_version(__u16 family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 6 : 0;
}

static __always_inline __u16 tcp_sk_family(struct sock *sk)
{
	return sk ? BPF_CORE_READ(sk, __sk_common.skc_family) : AF_UNSPEC;
}

/* A zeroed event with its header: no field carries bytes of an earlier event. */
static __always_inline struct ev_tcp *tcp_reserve(struct task_struct *task, __u16 type, __s32 fd,
						  long ret, __u32 syscall)
{
	struct ev_tcp *e = ev_reserve(sizeof(*e));

	if (!e)
		return NULL;
	__builtin_memset(e, 0, sizeof(*e));
	ev_fill_hdr_task(&e->h, task, type, sizeof(*e));
	e->fd = fd;
	e->new_fd = -1;
	e->error_raw = ret < 0 ? (__s32)-ret : 0;
	e->syscall = syscall;
	return e;
}

/*
 * The socket's protocol and own address as they are at the call's end. A
 * kernel without IPv6 has no v6 fields (nor IPv6 sockets): their reads then
 * go at load.
 */
static __always_inline void tcp_local(struct ev_tcp *e, struct sock *sk, __u16 family)
{
	e->protocol = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	e->local_family = family;
	/* skc_num: the local port in host order */
	e->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (family != AF_INET6)
		bpf_core_read(e->local_addr, 4, &sk->__sk_common.skc_rcv_saddr);
	else if (bpf_core_field_exists(sk->__sk_common.skc_v6_rcv_saddr))
		bpf_core_read(e->local_addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
}

/* The socket's peer, the kernel's own record of it (an IPv4 peer of an IPv6 socket is v4-mapped). */
static __always_inline void tcp_peer(struct ev_tcp *e, struct sock *sk, __u16 family)
{
	e->family = family;
	e->version = tcp_version(family);
	e->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family != AF_INET6)
		bpf_core_read(e->addr, 4, &sk->__sk_common.skc_daddr);
	else if (bpf_core_field_exists(sk->__sk_common.skc_v6_daddr))
		bpf_core_read(e->addr, 16, &sk->__sk_common.skc_v6_daddr);
}

SEC("tracepoint/syscalls/sys_exit_listen")
int tcp_listen_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = ev_task();
	struct pt_regs *regs;
	struct ev_tcp *e;
	struct sock *sk;
	__u16 family;
	__s32 fd;

	if (ev_skip_task(task))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	fd = (__s32)ARG1(regs);
	sk = sock_from_fd(task, fd);
	family = tcp_sk_family(sk);
	/* A socket of another family (Unix) is not traced; no socket at all is a failed call, kept. */
	if (sk && !tcp_is_inet(family))
		return 0;
	e = tcp_reserve(task, EV_LISTEN, fd, ctx->ret, EV_TCP_LISTEN);
	if (!e)
		return 0;
	e->backlog = (__s32)ARG2(regs);
	if (sk)
		tcp_local(e, sk, family);
	ev_submit(e);
	return 0;
}

/*
 * The peer comes from the new socket, found by the new fd: it is the
 * kernel's, and there even when the caller passed no sockaddr. A failed
 * accept has no peer; its protocol and local address are the listener's.
 */
static __always_inline int tcp_accept_exit(long ret, __u32 syscall)
{
	struct task_struct *task = ev_task();
	struct sock *sk = NULL, *lsk;
	struct pt_regs *regs;
	struct ev_tcp *e;
	__u16 family;
	__s32 fd;

	if (ev_skip_task(task))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	fd = (__s32)ARG1(regs);
	if (ret >= 0)
		sk = sock_from_fd(task, (__u32)ret);
	/* Also when another thread already closed the new fd: the family is the listener's. */
	lsk = sk ? sk : sock_from_fd(task, fd);
	family = tcp_sk_family(lsk);
	if (lsk && !tcp_is_inet(family))
		return 0;
	e = tcp_reserve(task, sk && family == AF_INET6 ? EV_ACCEPT6 : EV_ACCEPT, fd, ret, syscall);
	if (!e)
		return 0;
	if (ret >= 0)
		e->new_fd = (__s32)ret;
	if (lsk)
		tcp_local(e, lsk, family);
	if (sk)
		tcp_peer(e, sk, family);
	ev_submit(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tcp_accept_exit_plain(struct trace_event_raw_sys_exit *ctx)
{
	return tcp_accept_exit(ctx->ret, EV_TCP_ACCEPT);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int tcp_accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return tcp_accept_exit(ctx->ret, EV_TCP_ACCEPT4);
}

SEC("tracepoint/syscalls/sys_enter_connect")
int tcp_connect_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = ev_task();
	const void *uaddr = (const void *)ctx->args[1];
	__s32 fd = (__s32)ctx->args[0];
	int addrlen = (int)ctx->args[2];
	struct sockaddr_in6 sa = {};
	struct connect_args *a;
	struct sock *sk;
	__u16 sk_family;

	if (ev_skip_task(task))
		return 0;
	sk = sock_from_fd(task, fd);
	sk_family = tcp_sk_family(sk);
	if (sk && !tcp_is_inet(sk_family))
		return 0;
	/* Only as many bytes as the caller gave: no stale bytes past them. */
	if (addrlen < (int)sizeof(sa.sin6_family) ||
	    bpf_probe_read_user(&sa.sin6_family, sizeof(sa.sin6_family), uaddr))
		sa.sin6_family = AF_UNSPEC;
	/* Without a socket (EBADF, ENOTSOCK) only an inet address makes it ours. */
	if (!sk && !tcp_is_inet(sa.sin6_family))
		return 0;
	a = bpf_task_storage_get(&connect_inflight, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!a)
		return 0;
	a->sk = (__u64)sk;
	a->fd = fd;
	a->sk_family = sk_family;
	a->family = AF_UNSPEC;
	a->port = 0;
	__builtin_memset(a->addr, 0, sizeof(a->addr));
	if (sa.sin6_family == AF_INET && addrlen >= (int)sizeof(struct sockaddr_in)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&sa;

		if (!bpf_probe_read_user(sin, sizeof(*sin), uaddr)) {
			a->family = AF_INET;
			a->port = bpf_ntohs(sin->sin_port);
			__builtin_memcpy(a->addr, &sin->sin_addr, 4);
		}
	} else if (sa.sin6_family == AF_INET6 && addrlen >= SIN6_LEN_RFC2133) {
		if (!bpf_probe_read_user(&sa, SIN6_LEN_RFC2133, uaddr)) {
			a->family = AF_INET6;
			a->port = bpf_ntohs(sa.sin6_port);
			__builtin_memcpy(a->addr, &sa.sin6_addr, 16);
		}
	}
	a->active = 1;
	return 0;
}

/*
 * The remote is the socket's once the kernel took it (success, or a
 * non-blocking connect under way): a connect to 0.0.0.0 shows the loopback it
 * went to, an IPv4 address on an IPv6 socket its mapped form. A failed
 * connect may have cleared the socket's, so the sockaddr given is kept then.
 */
SEC("tracepoint/syscalls/sys_exit_connect")
int tcp_connect_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = ev_task();
	struct connect_args *a = bpf_task_storage_get(&connect_inflight, task, NULL, 0);
	struct sock *sk;
	struct ev_tcp *e;
	bool from_sk;
	long ret = ctx->ret;

	if (!a || !a->active)
		return 0;
	a->active = 0;
	sk = (struct sock *)a->sk;
	/* AF_UNSPEC dissolves an association: no remote then. */
	from_sk = sk && tcp_is_inet(a->family) && (ret == 0 || ret == -EINPROGRESS);
	e = tcp_reserve(task, (from_sk ? a->sk_family : a->family) == AF_INET6 ? EV_CONNECT6 : EV_CONNECT,
			a->fd, ret, EV_TCP_CONNECT);
	if (!e)
		return 0;
	if (sk)
		tcp_local(e, sk, a->sk_family);
	if (from_sk) {
		tcp_peer(e, sk, a->sk_family);
	} else if (tcp_is_inet(a->family)) {
		e->family = a->family;
		e->version = tcp_version(a->family);
		e->port = a->port;
		__builtin_memcpy(e->addr, a->addr, sizeof(e->addr));
	}
	ev_submit(e);
	return 0;
}
