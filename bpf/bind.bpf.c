/* bind.bpf.c: IPv4 / IPv6 bind() from the syscall tracepoints, which work where kprobes on inet_bind are refused. */
#include "common.bpf.h"
#include "sock.bpf.h"
#include <bpf/bpf_endian.h>

struct bind_args {
	const void *addr;  /* struct sockaddr __user * */
	__u32 fd;
	__u32 addrlen;
	__u32 active;      /* 1 from enter to exit */
	__u32 _pad;
};

/*
 * bind in flight, per thread, from enter to exit: task storage (see
 * vfs.bpf.c), never deleted, active marks it in use.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bind_args);
} bind_inflight SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_bind")
int bind_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = ev_task();
	struct bind_args *a;

	if (ev_skip_task(task))
		return 0;
	a = bpf_task_storage_get(&bind_inflight, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!a)
		return 0;
	a->fd = (__u32)ctx->args[0];
	a->addr = (const void *)ctx->args[1];
	a->addrlen = (__u32)ctx->args[2];
	a->active = 1;
	return 0;
}

/*
 * Read at exit, when the socket shows what bind did (the address, the port
 * the kernel chose, an IPv6 link-local scope's device). The caller's sockaddr
 * gives the requested port, and the address of a bind that failed.
 */
SEC("tracepoint/syscalls/sys_exit_bind")
int bind_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = ev_task();
	struct bind_args *a = bpf_task_storage_get(&bind_inflight, task, NULL, 0);
	struct sockaddr_in6 sa = {};
	struct ev_bind *e;
	struct sock *sk;
	long ret = ctx->ret;

	if (!a || !a->active)
		return 0;
	a->active = 0;
	/* sockaddr_in is a prefix of sockaddr_in6 up to the port; read what the family needs. */
	if (bpf_probe_read_user(&sa.sin6_family, sizeof(sa.sin6_family), a->addr))
		return 0;
	if (sa.sin6_family == AF_INET) {
		if (bpf_probe_read_user(&sa, sizeof(struct sockaddr_in), a->addr))
			return 0;
	} else if (sa.sin6_family == AF_INET6) {
		if (bpf_probe_read_user(&sa, sizeof(sa), a->addr))
			return 0;
	} else {
		return 0;
	}
	e = ev_reserve(sizeof(*e));
	if (!e)
		return 0;
	ev_fill_hdr_task(&e->h, task, EV_BIND, sizeof(*e));
	e->error_raw = ret < 0 ? (__s32)-ret : 0;
	e->family = sa.sin6_family;
	e->port = bpf_ntohs(sa.sin6_port);
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	sk = sock_from_fd(task, a->fd);
	if (ret == 0 && sk) {
		/*
		 * Bound: the address is the socket's, the kernel's own copy. The
		 * caller's sockaddr may have been rewritten by another thread
		 * since the kernel read it; port stays the one asked for.
		 */
		e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
		if (e->family == AF_INET)
			bpf_core_read(e->addr, 4, &sk->__sk_common.skc_rcv_saddr);
		else
			bpf_core_read(e->addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
	} else if (sa.sin6_family == AF_INET) {
		__builtin_memcpy(e->addr, &((struct sockaddr_in *)&sa)->sin_addr, 4);
	} else {
		__builtin_memcpy(e->addr, &sa.sin6_addr, 16);
	}
	if (sk) {
		/* Bitfields before 5.6: the probed read works for both layouts. */
		e->protocol = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
		e->sock_type = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type);
		e->bound_dev_if = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);
		/* skc_num is the local port in host order, the kernel's choice for port 0 */
		e->bound_port = ret == 0 ? BPF_CORE_READ(sk, __sk_common.skc_num) : 0;
	} else {
		e->protocol = 0;
		e->sock_type = 0;
		e->bound_dev_if = 0;
		e->bound_port = 0;
	}
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	ev_submit(e);
	return 0;
}
