/* events.h: the ABI between the BPF traces and the daemon: plain C structs, no vmlinux types. */
#ifndef EBPF_FORWARD_EVENTS_H
#define EBPF_FORWARD_EVENTS_H

/*
 * Both sides include this file: the BPF objects (with vmlinux.h, which defines
 * the __uN types) and the daemon (with linux/types.h). Keep it to fixed-width
 * types and no pointers so the layout is the same on both sides.
 */
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define EV_COMM_LEN 16
/* Longest path a trace copies (vfs path and resolved_path, exec filename), NUL included: the kernel's PATH_MAX. */
#define EV_PATH_MAX 4096
/* Longest exec argument (argv0, argv1, argv2, argv_last), NUL included. */
#define EV_ARG_MAX 4096
/* Most bytes of an exec's argument area an exit record carries (Exec_Args_Max's upper bound). */
#define EV_ARGS_AREA_MAX 8192
/*
 * Longest event any trace emits; the daemon rejects larger ring records.
 * A trace builds an event in a per-CPU map value, which the kernel caps at
 * 32 KiB (PCPU_MIN_UNIT_SIZE); the largest, exec's, is under it.
 */
#define EV_MAX_SIZE 32768

/* The per-trace loss counter (see common.bpf.h): slots a cache line apart. */
#define EV_LOST_SLOTS 64
struct ev_lost_slot {
	__u64 n;
	__u64 _pad[7];
};

/*
 * Every object has these two, in sections of their own, so one loader serves
 * all traces: it writes the settings as a whole before load and maps the
 * shared part after, without knowing which trace it holds.
 */
#define EV_SETTINGS_SEC ".rodata.ev"
#define EV_SHARED_SEC ".data.ev"

/* Written by the daemon before load; the verifier then sees constants (dead filters vanish). */
struct ev_settings {
	__u32 self_tgid;          /* the daemon: never traced */
	__u32 filter_tgid;        /* 0: every process */
	__u32 filter_uid;         /* (__u32)-1: every user */
	__u32 filter_by_cgroup;   /* 1: only tasks in the cgroup (v2) put in filter_cgroup, or below it */
	__u64 filter_mntns;       /* 0: every mount namespace */
	/*
	 * Batched wake-ups. 0: the kernel's default, a wake-up whenever the
	 * reader has caught up, which on a busy machine means one per event and
	 * costs the traced syscall more than the event itself. Otherwise events
	 * are written without a wake-up while the daemon reads the rings on a
	 * timer, and only the first event after it went to sleep, or a ring
	 * filled past this many bytes, wakes it.
	 */
	__u64 wakeup_bytes;
	char filter_comm[EV_COMM_LEN]; /* "": every command name */
	__u64 sched_min_latency_ns;    /* sched: only switches whose run-queue wait was at least this */
	__u32 vfs_resolved_path;       /* vfs: 1 adds resolved_path, walked from the opened file */
	__u32 exec_args_max;           /* exec: bytes of the argument area an exit record carries (0: none) */
	__u64 ring_bytes;              /* the ring's size, for refusing an event before building it (0: unknown) */
};

/* Read and written by both sides while running: the daemon maps it (it stays mapped after the drop). */
struct ev_shared {
	struct ev_lost_slot lost[EV_LOST_SLOTS]; /* events the ring had no room for */
	__u32 reader_sleeping;   /* set by the daemon when it stops its timer and waits */
	__u32 fill_woken;        /* set by the event that woke the reader for a full ring; the daemon clears it */
	__u32 _pad[14];
};

enum ev_type {
	EV_EXEC = 1,
	EV_SIGNAL = 2,
	EV_MALLOC = 3,
	EV_BIND = 4,
	EV_VFS = 5,
	EV_LISTEN = 6,
	EV_ACCEPT = 7,         /* IPv4 peer, or none */
	EV_ACCEPT6 = 8,        /* IPv6 peer: in_ebpf's keys differ by family, so one field table each */
	EV_CONNECT = 9,
	EV_CONNECT6 = 10,
	EV_DNS = 11,
	EV_SCHED = 12,
	EV_TLS_HANDSHAKE = 13,
	EV_TLS_READ = 14,
	EV_TLS_WRITE = 15,
	EV_TLS_SHUTDOWN = 16,
	EV_TYPE_COUNT
};

/* Common header of every event; comm is NUL-padded, the daemon trims it. */
struct ev_hdr {
	__u16 type;      /* enum ev_type */
	__u16 size;      /* bytes of the whole event, header and strings included */
	__u32 pid;       /* tgid */
	__u32 tid;
	__u32 ppid;      /* tgid of the real parent */
	__u32 uid;
	__u32 gid;
	__u64 ts_ns;     /* CLOCK_BOOTTIME, ns */
	__u64 event_id;  /* CPU in the top 16 bits, per-CPU sequence below */
	__u64 mntns_id;
	__u64 cgroup_id;
	char comm[EV_COMM_LEN];
};

/*
 * A string carried after an event's fixed part: off is counted from the start
 * of the event, len excludes the NUL. Strings are packed tightly so an event is
 * only as large as its content.
 */
struct ev_str {
	__u16 off;
	__u16 len;
};

enum ev_exec_stage { EV_EXEC_ENTER = 0, EV_EXEC_EXIT = 1 };

struct ev_exec {
	struct ev_hdr h;
	__u32 stage;      /* enum ev_exec_stage */
	__u32 argc;
	__s32 error_raw;  /* positive errno, 0 on success */
	__u8 path_truncated;  /* 1: filename was cut (see ev_put_str) */
	__u8 args_truncated;  /* 1: argv0, argv1, argv2, argv_last or args was */
	__u16 _pad;
	struct ev_str filename;
	struct ev_str argv0;
	struct ev_str argv1;
	struct ev_str argv2;
	struct ev_str argv_last;
	/*
	 * The exit record of a successful exec: the new image's arguments from
	 * the caller's argv[1] on, as the kernel copied them (each with its NUL;
	 * without the last NUL when cut at exec_args_max). Empty otherwise.
	 */
	struct ev_str args;
	char data[];
};

/* The largest exec event: its strings at their longest. */
#define EV_EXEC_MAX_SIZE (sizeof(struct ev_exec) + EV_PATH_MAX + 4 * EV_ARG_MAX + EV_ARGS_AREA_MAX)

enum ev_signal_syscall { EV_SIG_KILL = 0, EV_SIG_TKILL = 1, EV_SIG_TGKILL = 2 };

struct ev_signal {
	struct ev_hdr h;
	__s32 sig;
	__u32 tpid;       /* target pid (tid for tkill/tgkill); 0 when target is not > 0 */
	__s32 error_raw;
	__u32 syscall;    /* enum ev_signal_syscall */
	__s32 target;     /* the pid (tid) argument as given; kill also takes 0, -pgid, -1 */
	__u32 _pad;
};

/* Same numbers as in_ebpf's malloc operation key. */
enum ev_malloc_op {
	EV_MALLOC_MALLOC = 0,
	EV_MALLOC_FREE = 1,
	EV_MALLOC_CALLOC = 2,
	EV_MALLOC_REALLOC = 3,
	EV_MALLOC_REALLOC_FREE = 4,
	EV_MALLOC_MMAP = 5,
	EV_MALLOC_MUNMAP = 6,
	EV_MALLOC_OP_COUNT
};

struct ev_malloc {
	struct ev_hdr h;
	__u32 operation;  /* enum ev_malloc_op */
	__u32 _pad;
	__u64 address;
	__u64 size;
};

struct ev_bind {
	struct ev_hdr h;
	__s32 error_raw;   /* positive errno, 0 on success */
	__u32 bound_dev_if;
	__u16 port;        /* host order */
	__u16 family;      /* AF_INET or AF_INET6 */
	__u16 protocol;    /* IPPROTO_* of the socket */
	__u16 sock_type;   /* SOCK_STREAM, SOCK_DGRAM, ... */
	__u8 addr[16];     /* network order; IPv4 in the first 4 bytes */
	__u16 bound_port;  /* the port the socket has after a successful bind (port 0 asks for any) */
	__u16 _pad[3];
};

/* The syscall: 0 is in_ebpf's openat, the others are ours. */
enum ev_vfs_op { EV_VFS_OPENAT = 0, EV_VFS_OPEN = 1, EV_VFS_OPENAT2 = 2, EV_VFS_CREAT = 3 };

struct ev_vfs {
	struct ev_hdr h;
	__u32 operation;   /* enum ev_vfs_op */
	__u32 flags;       /* as passed; openat2: open_how.flags; creat: O_CREAT|O_WRONLY|O_TRUNC */
	__u32 mode;        /* as passed; openat2: open_how.mode */
	__s32 fd;          /* -1 on failure */
	__s32 error_raw;   /* positive errno, 0 on success */
	struct ev_str path;
	__u64 resolve;     /* openat2: open_how.resolve (RESOLVE_*); 0 otherwise */
	__u8 path_truncated; /* 1: path was cut (see ev_put_str) */
	__u8 resolved_truncated; /* 1: resolved_path was cut (path_of_file) */
	__u8 _pad[2];
	struct ev_str resolved_path; /* Vfs_Resolved_Path: the opened file's absolute path; else empty */
	char data[];
};

/* The largest vfs event: both paths at their longest. */
#define EV_VFS_MAX_SIZE (sizeof(struct ev_vfs) + 2 * EV_PATH_MAX)

/* ---- tcp: listen, accept, connect ---- */

/* The call behind a tcp record: accept and accept4 share the accept tables. */
enum ev_tcp_syscall { EV_TCP_LISTEN = 0, EV_TCP_ACCEPT = 1, EV_TCP_ACCEPT4 = 2, EV_TCP_CONNECT = 3 };

/* listen (EV_LISTEN), accept (EV_ACCEPT / EV_ACCEPT6) and connect (EV_CONNECT / EV_CONNECT6). */
struct ev_tcp {
	struct ev_hdr h;
	__s32 fd;
	__s32 new_fd;        /* accept: the new socket, -1 on failure */
	__s32 backlog;       /* listen */
	__s32 error_raw;     /* positive errno, 0 on success */
	__u32 syscall;       /* enum ev_tcp_syscall */
	__u16 family;        /* of addr: AF_INET, AF_INET6, or 0 when there is no peer / remote */
	__u16 version;       /* 4, 6 or 0, as family */
	__u16 port;          /* peer (accept) or remote (connect) port, host order */
	__u16 protocol;      /* IPPROTO_* of the socket, 0 when there is no socket */
	__u16 local_family;  /* of local_addr */
	__u16 local_port;    /* host order */
	__u8 addr[16];       /* peer or remote, network order; IPv4 in the first 4 bytes */
	__u8 local_addr[16]; /* the socket's own address, network order */
};

/* ---- dns ---- */

/* Bytes of a DNS message an event carries; a longer one is cut (msg_len has its size). */
#define EV_DNS_MSG_MAX 512

/* The syscall that moved the message: sends are queries, receives responses. */
enum ev_dns_syscall {
	EV_DNS_SENDTO = 0,
	EV_DNS_SENDMSG = 1,
	EV_DNS_SENDMMSG = 2,
	EV_DNS_WRITE = 3,
	EV_DNS_RECVFROM = 4,
	EV_DNS_RECVMSG = 5,
	EV_DNS_RECVMMSG = 6,
	EV_DNS_READ = 7,
};

struct ev_dns {
	struct ev_hdr h;
	__u64 latency_ns;  /* a response: since its query was sent; else 0 */
	__s32 error_raw;   /* positive errno, 0 on success */
	__s32 fd;
	__u32 syscall;     /* enum ev_dns_syscall */
	__u32 msg_len;     /* bytes of the message (the syscall's count), of which msg has the first;
			    * a failed sendmsg/sendmmsg: the bytes taken from its iovecs */
	__u16 txid;        /* the message's first two bytes, 0 when it has fewer */
	__u16 response;    /* 1: received, 0: sent */
	__u16 family;      /* the server's, AF_INET or AF_INET6 */
	__u16 port;        /* the server's, host order */
	__u8 addr[16];     /* the server's, network order; IPv4 in the first 4 bytes */
	__u8 matched;      /* a response whose query (same process, fd, txid) was seen */
	__u8 _pad[3];
	struct ev_str msg; /* the message bytes (not NUL-terminated); the daemon decodes them */
	char data[];
};

/* ---- sched ---- */

/*
 * A context switch, about the task switched in (next): the header is next's.
 * prev_state is the kernel's __state of prev at the switch (TASK_* bits, as
 * the tracepoint gives it): 0 (TASK_RUNNING) when prev was preempted and stays
 * runnable, else why it left the CPU (1 TASK_INTERRUPTIBLE, 2
 * TASK_UNINTERRUPTIBLE, 0x80 TASK_DEAD...). Pids are thread ids.
 */
struct ev_sched {
	struct ev_hdr h;
	__u32 cpu;
	__u32 prev_pid;
	__s32 prev_prio;        /* task->prio: 0-99 real-time, 100-139 normal (120 = nice 0) */
	__s32 prev_state;
	__u32 next_pid;
	__s32 next_prio;
	__u64 runq_latency_ns;  /* from the wakeup or preemption to this switch; 0 when not tracked */
	__u8 wakeup_tracked;    /* 1: the start of the wait was seen */
	__u8 _pad[7];
	char prev_comm[EV_COMM_LEN];
};

/* ---- openssl ---- */

/* The libssl functions probed; one record type per in_ebpf trace (handshake, read, write, shutdown). */
enum ev_tls_fn {
	EV_TLS_FN_DO_HANDSHAKE = 0,
	EV_TLS_FN_READ = 1,
	EV_TLS_FN_READ_EX = 2,
	EV_TLS_FN_WRITE = 3,
	EV_TLS_FN_WRITE_EX = 4,
	EV_TLS_FN_SHUTDOWN = 5,
	EV_TLS_FN_COUNT
};

/* One call, sent at its return; h.type is EV_TLS_HANDSHAKE, _READ, _WRITE or _SHUTDOWN. */
struct ev_tls {
	struct ev_hdr h;
	__u64 ssl_ptr;     /* the SSL * argument */
	__s64 latency_ns;  /* entry to return */
	__s64 ret;         /* the return value; for the _ex forms that returned 1, the byte count */
	__u32 function;    /* enum ev_tls_fn */
	__u32 _pad;
};

_Static_assert(EV_EXEC_MAX_SIZE <= EV_MAX_SIZE, "exec's largest event is over EV_MAX_SIZE");
_Static_assert(EV_VFS_MAX_SIZE <= EV_MAX_SIZE, "vfs's largest event is over EV_MAX_SIZE");
_Static_assert(EV_MAX_SIZE < 65536, "ev_hdr.size and ev_str are 16 bits");

#endif
