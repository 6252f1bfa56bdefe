/* openssl.bpf.c: libssl's handshake, read, write and shutdown calls with their latency, by uprobes the daemon attaches to each libssl it finds. */
#include "common.bpf.h"

/*
 * Calls of one function nest within one thread: TLS inside TLS (an HTTPS
 * proxy tunnel) has SSL_read on the inner connection call SSL_read on the
 * outer one through its BIO. So each function keeps a stack of its calls in
 * flight; a thread's uretprobes fire in the reverse order of its uprobes, so
 * the top is the call that returns. Calls nested deeper are counted, not timed.
 */
#define TLS_DEPTH 4

struct tls_call {
	__u64 start_ns;  /* CLOCK_BOOTTIME, as the header's ts_ns */
	__u64 ssl;
	__u64 outp;      /* the _ex forms' size_t *readbytes / *written; 0 otherwise */
};

struct tls_calls {
	struct tls_call call[EV_TLS_FN_COUNT][TLS_DEPTH];
	__u8 depth[EV_TLS_FN_COUNT];  /* calls in flight, by enum ev_tls_fn */
};

/* Per thread: task storage (see vfs.bpf.c), freed with the thread, never deleted. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tls_calls);
} tls_inflight SEC(".maps");

static __always_inline int tls_enter(__u32 fn, void *ssl, void *outp)
{
	struct task_struct *task = ev_task();
	struct tls_calls *c;
	__u8 d;

	if (ev_skip_task(task))
		return 0;
	c = bpf_task_storage_get(&tls_inflight, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c)
		return 0;
	d = c->depth[fn];
	if (d < TLS_DEPTH) {
		c->call[fn][d].ssl = (__u64)ssl;
		c->call[fn][d].outp = (__u64)outp;
		c->call[fn][d].start_ns = bpf_ktime_get_boot_ns();
	}
	/* the kernel nests at most 64 uretprobes per thread: 255 is never reached */
	if (d < 255)
		c->depth[fn] = d + 1;
	return 0;
}

static __always_inline int tls_exit(__u32 fn, __u16 type, int rc, bool ex)
{
	struct task_struct *task = ev_task();
	struct tls_calls *c = bpf_task_storage_get(&tls_inflight, task, NULL, 0);
	struct tls_call call;
	struct ev_tls *e;
	__s64 ret = rc;
	__u8 d;

	if (!c || !c->depth[fn])
		return 0;
	d = --c->depth[fn];
	if (d >= TLS_DEPTH)
		return 0;
	call = c->call[fn][d];
	/* The _ex forms return 1 and put the byte count in the out-parameter, just written. */
	if (ex && rc == 1 && call.outp) {
		__u64 n;

		if (!bpf_probe_read_user(&n, sizeof(n), (const void *)call.outp))
			ret = (__s64)n;
	}
	e = ev_reserve(sizeof(*e));
	if (!e)
		return 0;
	ev_fill_hdr_task(&e->h, task, type, sizeof(*e));
	e->ssl_ptr = call.ssl;
	e->latency_ns = (__s64)(e->h.ts_ns - call.start_ns);
	e->ret = ret;
	e->function = fn;
	e->_pad = 0;
	ev_submit(e);
	return 0;
}

/*
 * One uprobe and one uretprobe per function. Every probed function takes the
 * SSL * first; SSL_read_ex(ssl, buf, num, &readbytes) and SSL_write_ex(ssl,
 * buf, num, &written) have the out-parameter fourth.
 */
#define TLS_PROBES(NAME, FN, TYPE, EX)                                              \
	SEC("uprobe")                                                               \
	int BPF_KPROBE(openssl_##NAME##_enter, void *ssl, void *buf, __u64 num, void *outp) \
	{                                                                           \
		return tls_enter(FN, ssl, EX ? outp : NULL);                        \
	}                                                                           \
	SEC("uretprobe")                                                            \
	int BPF_KRETPROBE(openssl_##NAME##_exit, int rc)                            \
	{                                                                           \
		return tls_exit(FN, TYPE, rc, EX);                                  \
	}

TLS_PROBES(handshake, EV_TLS_FN_DO_HANDSHAKE, EV_TLS_HANDSHAKE, false)
TLS_PROBES(read, EV_TLS_FN_READ, EV_TLS_READ, false)
TLS_PROBES(read_ex, EV_TLS_FN_READ_EX, EV_TLS_READ, true)
TLS_PROBES(write, EV_TLS_FN_WRITE, EV_TLS_WRITE, false)
TLS_PROBES(write_ex, EV_TLS_FN_WRITE_EX, EV_TLS_WRITE, true)
TLS_PROBES(shutdown, EV_TLS_FN_SHUTDOWN, EV_TLS_SHUTDOWN, false)
