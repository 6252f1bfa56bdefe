/* fwd_receiver: strict Fluent Forward receiver for the tests and benchmark: checks frames, writes JSON lines, acks, can misbehave. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <uv.h>
#include <zlib.h>

#include "recv_quick.h"

/* Fluent Bit in_forward's buffer_max_size: a bigger frame closes the connection there. */
#define DEFAULT_MAX_FRAME 6144000u
#define READ_CHUNK (64 * 1024)
/* Fluent Bit caps distinct tags nowhere, but a hostile sender must not grow our table forever. */
#define MAX_TAGS 65536
/* The handshake: Fluent Bit's in_forward reads the PING into 1023 bytes, and sends a 16-byte nonce and auth salt. */
#define PING_MAX 1023
#define HS_RANDOM 16
/* log-linear histogram: 16 exact buckets, then 16 sub-buckets per power of two up to 2^64 */
#define HIST_BUCKETS 976

/* ---------------------------------------------------------------- options */

static struct {
	const char *tcp, *unix_path, *ready, *out, *stats;
	bool count_only, refuse, wrong_ack, no_ack, garbage, verbose;
	const char *match;      /* --count-match: count entries with a str value containing it */
	size_t match_len;
	uint64_t max_frame, close_after, stop_reading_after, exit_after_frames, ack_delay_ms;
	/* the shared-key handshake */
	const char *shared_key, *self_hostname, *username, *password;
	bool wrong_pong, refuse_auth, pong_on_mismatch, helo_bin;
	/* TLS: our certificate and key, and the CA a sender's certificate must come from (then one is required) */
	const char *tls_cert, *tls_key, *tls_client_ca;
} opt = { .max_frame = DEFAULT_MAX_FRAME, .self_hostname = "fwd-receiver" };

/* ---------------------------------------------------------------- state */

static struct {
	uint64_t frames, entries, rejected, connections, bytes, acks, truncated, refused;
	uint64_t delay_samples, delay_negative, max_delay_ns;
	uint64_t auth_ok, auth_failed;
	uint64_t tls_ok, tls_failed;
} st;

struct conn {
	union { uv_handle_t handle; uv_stream_t stream; uv_tcp_t tcp; uv_pipe_t pipe; } h;
	uv_shutdown_t shut;
	uint64_t id;
	msgpack_unpacker up;
	bool up_init, reading, closing;
	/* incremental pre-scan of the raw bytes: it bounds each frame before msgpack-c allocates for it */
	struct {
		uint64_t frame_bytes, pending, skip, frames, fail_frame;
		uint8_t hdr[5], have, need;
		bool failed;
		char err[160];
	} sc;
	/* with --shared-key: HELO sent, PING awaited in hs (no frame is taken before the PONG) */
	bool hs_wait;
	uint8_t nonce[HS_RANDOM], auth[HS_RANDOM];
	uint8_t hs[PING_MAX];
	size_t hslen;
	uint64_t frames_seen;   /* frames handed out by the unpacker, a rejected one included */
	uint64_t frames_ok;
	struct dack *dacks;     /* acks waiting for --ack-delay */
	SSL *ssl;               /* with --tls-cert: the session; the bytes read are decrypted before anything else */
	bool tls_up;
	char tlsbuf[17 * 1024];
	struct conn *prev, *next;
};

/* An ack sent later (--ack-delay); c is NULL once its connection is gone. */
struct dack {
	uv_timer_t t;
	struct conn *c;
	struct dack *next;
	size_t n;
	char id[];
};

struct wreq { uv_write_t req; size_t len; char data[]; };

static uv_loop_t *loop;
static SSL_CTX *g_tls;
static union { uv_handle_t handle; uv_stream_t stream; uv_tcp_t tcp; uv_pipe_t pipe; } lst;
static uv_signal_t sig_usr1, sig_usr2, sig_term, sig_int;
static uv_timer_t force_timer;
static bool force_timer_init;
static struct conn *conns;
static uint64_t conn_seq, active_conns;
static bool paused, exiting;
static FILE *out;
static char last_reject[320];
static char g_err[512];

struct buf { char *p; size_t len, cap; };
static struct buf g_json;      /* one frame's JSON lines, written only once the frame is accepted */
static struct buf g_inflate;   /* decompressed CompressedPackedForward payload, reused */
static struct buf g_tagjson;   /* the frame's tag, JSON-escaped once per frame */
static struct buf g_framejson; /* per-frame fields repeated on each line */
static int64_t *g_delays;      /* one frame's delays, committed to the histogram on accept */
static size_t g_delays_len, g_delays_cap;
static uint64_t hist[HIST_BUCKETS];
static uint64_t g_matched;     /* entries that matched --count-match */
static msgpack_zone *g_zone;   /* reused for each PackedForward entry: no malloc per entry */

struct tagent { char *tag; size_t len; uint64_t count; };
static struct tagent *tags;
static size_t tags_cap, tags_n;
static uint64_t tags_overflow;

/* ---------------------------------------------------------------- small helpers */

static void die_oom(void)
{
	fputs("fwd_receiver: out of memory\n", stderr);
	exit(2);
}

static void buf_grow(struct buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return;
	size_t want = b->len + extra, cap = b->cap ? b->cap : 4096;
	while (cap < want)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		die_oom();
	b->p = p;
	b->cap = cap;
}

static inline void buf_put(struct buf *b, const void *s, size_t n)
{
	if (n == 0)
		return;
	buf_grow(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static inline void buf_putc(struct buf *b, char ch)
{
	buf_grow(b, 1);
	b->p[b->len++] = ch;
}

#define buf_lit(b, s) buf_put((b), (s), sizeof(s) - 1)

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	buf_grow(b, 64);
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		buf_grow(b, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

static bool errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool errf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g_err, sizeof g_err, fmt, ap);
	va_end(ap);
	return false;
}

/* Puts context ("entry 3: ") in front of the message a deeper check left in g_err. */
static bool err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool err_prefix(const char *fmt, ...)
{
	char pre[96], tmp[sizeof g_err];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	size_t pl = strlen(pre), el = strlen(g_err);
	if (pl + el >= sizeof tmp)
		el = sizeof tmp - 1 - pl;
	memcpy(tmp, pre, pl);
	memcpy(tmp + pl, g_err, el);
	tmp[pl + el] = '\0';
	memcpy(g_err, tmp, pl + el + 1);
	return false;
}

/* A peer's bytes quoted in a log line: short, and without control characters. */
static const char *printable(const char *s, size_t n)
{
	static char o[48];
	size_t i, k = 0;
	for (i = 0; i < n && k < 40; i++)
		o[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i < n) {
		memcpy(o + k, "...", 3);
		k += 3;
	}
	o[k] = '\0';
	return o;
}

static const char *type_name(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: return "nil";
	case MSGPACK_OBJECT_BOOLEAN: return "bool";
	case MSGPACK_OBJECT_POSITIVE_INTEGER: return "uint";
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "int";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: return "float";
	case MSGPACK_OBJECT_STR: return "str";
	case MSGPACK_OBJECT_ARRAY: return "array";
	case MSGPACK_OBJECT_MAP: return "map";
	case MSGPACK_OBJECT_BIN: return "bin";
	case MSGPACK_OBJECT_EXT: return "ext";
	}
	return "unknown";
}

/* The type with its article, for messages: "an int", "a map". */
static const char *a_type(const msgpack_object *o)
{
	const char *t = type_name(o);
	static char b[16];
	snprintf(b, sizeof b, "%s %s", strchr("aeio", t[0]) ? "an" : "a", t);
	return b;
}

static bool str_is(const msgpack_object *o, const char *lit)
{
	size_t n = strlen(lit);
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && memcmp(o->via.str.ptr, lit, n) == 0;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Writes FILE.tmp then renames it, so a reader never sees half a file. */
static int write_atomic(const char *path, const char *data, size_t len)
{
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 5);
	if (!tmp)
		die_oom();
	memcpy(tmp, path, pl);
	memcpy(tmp + pl, ".tmp", 5);
	FILE *f = fopen(tmp, "w");
	int rc = -1;
	if (f) {
		bool ok = fwrite(data, 1, len, f) == len;
		if (fclose(f) == 0 && ok && rename(tmp, path) == 0)
			rc = 0;
	}
	if (rc != 0)
		fprintf(stderr, "fwd_receiver: cannot write %s: %s\n", path, strerror(errno));
	free(tmp);
	return rc;
}

/* ---------------------------------------------------------------- msgpack headers */

/* Header length (type byte plus length/count bytes) of the object that starts with b; 0 for 0xc1. */
static unsigned mp_head_len(uint8_t b)
{
	switch (b) {
	case 0xc1: return 0;
	case 0xc4: case 0xc7: case 0xd9: return 2;
	case 0xc5: case 0xc8: case 0xda: case 0xdc: case 0xde: return 3;
	case 0xc6: case 0xc9: case 0xdb: case 0xdd: case 0xdf: return 5;
	default: return 1;
	}
}

/* From a whole header: payload bytes that follow it, and child objects it opens. */
static void mp_head_parse(const uint8_t *h, uint64_t *skip, uint64_t *kids)
{
	uint8_t b = h[0];
	/* h holds exactly mp_head_len(b) bytes: read h[1..] only for the types that have them */
#define N16 ((uint64_t)h[1] << 8 | h[2])
	*skip = 0;
	*kids = 0;
	if (b <= 0x7f || b >= 0xe0)
		return;
	if (b <= 0x8f) { *kids = 2u * (b & 0x0f); return; }
	if (b <= 0x9f) { *kids = b & 0x0f; return; }
	if (b <= 0xbf) { *skip = b & 0x1f; return; }
	switch (b) {
	case 0xc4: case 0xd9: *skip = h[1]; break;
	case 0xc5: case 0xda: *skip = N16; break;
	case 0xc6: case 0xdb: *skip = be32(h + 1); break;
	case 0xc7: *skip = (uint64_t)h[1] + 1; break;
	case 0xc8: *skip = N16 + 1; break;
	case 0xc9: *skip = (uint64_t)be32(h + 1) + 1; break;
	case 0xca: *skip = 4; break;
	case 0xcb: *skip = 8; break;
	case 0xcc: case 0xd0: *skip = 1; break;
	case 0xcd: case 0xd1: *skip = 2; break;
	case 0xce: case 0xd2: *skip = 4; break;
	case 0xcf: case 0xd3: *skip = 8; break;
	case 0xd4: *skip = 2; break;
	case 0xd5: *skip = 3; break;
	case 0xd6: *skip = 5; break;
	case 0xd7: *skip = 9; break;
	case 0xd8: *skip = 17; break;
	case 0xdc: *kids = N16; break;
	case 0xdd: *kids = be32(h + 1); break;
	case 0xde: *kids = 2 * N16; break;
	case 0xdf: *kids = 2 * (uint64_t)be32(h + 1); break;
	default: break;   /* nil, false, true */
	}
#undef N16
}

/*
 * Streaming pre-scan of a connection's bytes. msgpack-c allocates a container's
 * element array as soon as it reads the count, so a 5-byte "array of 4 billion"
 * would make it ask for ~100 GB. Each pending object needs at least one more byte,
 * so "bytes so far + bytes declared + objects pending" is a lower bound of the
 * frame's size: once it passes the limit the frame is rejected before msgpack-c
 * ever sees that header.
 */
static void scan_feed(struct conn *c, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n && !c->sc.failed) {
		if (c->sc.skip) {
			uint64_t take = c->sc.skip < n - i ? c->sc.skip : n - i;
			c->sc.skip -= take;
			c->sc.frame_bytes += take;
			i += take;
			if (!c->sc.skip && !c->sc.pending)
				c->sc.frames++;
			continue;
		}
		if (c->sc.have == 0) {
			if (c->sc.pending == 0) {
				c->sc.pending = 1;
				c->sc.frame_bytes = 0;
			}
			c->sc.need = (uint8_t)mp_head_len(p[i]);
			if (!c->sc.need) {
				c->sc.failed = true;
				c->sc.fail_frame = c->sc.frames;
				snprintf(c->sc.err, sizeof c->sc.err, "byte 0xc1 is never used in msgpack");
				return;
			}
		}
		c->sc.hdr[c->sc.have++] = p[i++];
		c->sc.frame_bytes++;
		if (c->sc.have < c->sc.need)
			continue;
		uint64_t skip, kids;
		mp_head_parse(c->sc.hdr, &skip, &kids);
		c->sc.have = 0;
		c->sc.pending = c->sc.pending - 1 + kids;
		uint64_t least = c->sc.frame_bytes + skip + c->sc.pending;
		if (least > opt.max_frame) {
			c->sc.failed = true;
			c->sc.fail_frame = c->sc.frames;
			snprintf(c->sc.err, sizeof c->sc.err,
					 "frame exceeds the %" PRIu64 "-byte limit (it declares at least %" PRIu64 " bytes)",
					 opt.max_frame, least);
			return;
		}
		c->sc.skip = skip;
		if (!skip && !c->sc.pending)
			c->sc.frames++;
	}
}

/* The same bound for a PackedForward payload (all in memory); also counts its entries. */
static bool scan_payload(const uint8_t *p, size_t len, uint64_t *entries)
{
	size_t pos = 0, start = 0;
	uint64_t pending = 0, n = 0;
	while (pos < len) {
		if (pending == 0) {
			pending = 1;
			n++;
			start = pos;
		}
		unsigned hl = mp_head_len(p[pos]);
		if (!hl)
			return errf("payload entry %" PRIu64 ": byte 0xc1 at offset %zu is never used in msgpack", n, pos);
		uint64_t skip = 0, kids = 0;
		bool fits = len - pos >= hl;
		if (fits) {
			mp_head_parse(p + pos, &skip, &kids);
			pos += hl;
			pending = pending - 1 + kids;
		}
		/* the header, its payload or the objects it opens run past the end */
		if (!fits || skip > len - pos || pending > len - pos - skip)
			return errf("payload does not hold a whole number of entries: entry %" PRIu64
						" (from offset %zu of %zu) is truncated", n, start, len);
		pos += skip;
	}
	*entries = n;
	return true;
}

/* ---------------------------------------------------------------- JSON */

static void j_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	buf_grow(b, n + 2);
	buf_putc(b, '"');
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		buf_put(b, run, (size_t)(p - run));
		if (p >= end)
			break;
		unsigned char ch = *p;
		if (ch < 0x80) {
			switch (ch) {
			case '"': buf_lit(b, "\\\""); break;
			case '\\': buf_lit(b, "\\\\"); break;
			case '\n': buf_lit(b, "\\n"); break;
			case '\r': buf_lit(b, "\\r"); break;
			case '\t': buf_lit(b, "\\t"); break;
			case '\b': buf_lit(b, "\\b"); break;
			case '\f': buf_lit(b, "\\f"); break;
			default: {
				char u[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
				buf_put(b, u, 6);
			}
			}
			p++;
			continue;
		}
		size_t ul = recv_utf8_len(p, (size_t)(end - p));
		if (ul) {
			buf_put(b, p, ul);
			p += ul;
		} else {
			buf_lit(b, "\\ufffd");   /* one per invalid byte */
			p++;
		}
	}
	buf_putc(b, '"');
}

/* Shortest form that reads back to the same value; always looks like a float; null for NaN/inf. */
static void j_double(struct buf *b, double d, bool is32)
{
	char t[40];
	if (!isfinite(d)) {
		buf_lit(b, "null");
		return;
	}
	for (int prec = is32 ? 6 : 15; prec <= 17; prec++) {
		snprintf(t, sizeof t, "%.*g", prec, d);
		double r = strtod(t, NULL);
		if (is32 ? (float)r == (float)d : r == d)
			break;
	}
	buf_put(b, t, strlen(t));
	if (!strpbrk(t, ".eE"))
		buf_lit(b, ".0");
}

static void j_obj(struct buf *b, const msgpack_object *o);

/* JSON keys must be strings: a non-str key inside a nested map is written as its JSON text, quoted. */
static void j_key(struct buf *b, const msgpack_object *k)
{
	if (k->type == MSGPACK_OBJECT_STR || k->type == MSGPACK_OBJECT_BIN) {
		j_str(b, k->via.str.ptr, k->via.str.size);
		return;
	}
	size_t start = b->len;
	j_obj(b, k);
	size_t n = b->len - start;
	char *tmp = malloc(n ? n : 1);
	if (!tmp)
		die_oom();
	memcpy(tmp, b->p + start, n);
	b->len = start;
	j_str(b, tmp, n);
	free(tmp);
}

/* Recursion depth is bounded: msgpack-c refuses nesting deeper than 32 levels. */
static void j_obj(struct buf *b, const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: buf_lit(b, "null"); break;
	case MSGPACK_OBJECT_BOOLEAN:
		if (o->via.boolean) buf_lit(b, "true"); else buf_lit(b, "false");
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER: buf_printf(b, "%" PRIu64, o->via.u64); break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: buf_printf(b, "%" PRId64, o->via.i64); break;
	case MSGPACK_OBJECT_FLOAT32: j_double(b, o->via.f64, true); break;
	case MSGPACK_OBJECT_FLOAT64: j_double(b, o->via.f64, false); break;
	/* bin is written like str, as Fluent Bit's JSON output does; "types" tells them apart */
	case MSGPACK_OBJECT_STR: j_str(b, o->via.str.ptr, o->via.str.size); break;
	case MSGPACK_OBJECT_BIN: j_str(b, o->via.bin.ptr, o->via.bin.size); break;
	case MSGPACK_OBJECT_ARRAY:
		buf_putc(b, '[');
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i)
				buf_putc(b, ',');
			j_obj(b, &o->via.array.ptr[i]);
		}
		buf_putc(b, ']');
		break;
	case MSGPACK_OBJECT_MAP:
		buf_putc(b, '{');
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			if (i)
				buf_putc(b, ',');
			j_key(b, &o->via.map.ptr[i].key);
			buf_putc(b, ':');
			j_obj(b, &o->via.map.ptr[i].val);
		}
		buf_putc(b, '}');
		break;
	case MSGPACK_OBJECT_EXT: {
		static const char hex[] = "0123456789abcdef";
		buf_printf(b, "{\"ext_type\":%d,\"hex\":\"", (int)o->via.ext.type);
		for (uint32_t i = 0; i < o->via.ext.size; i++) {
			unsigned char ch = (unsigned char)o->via.ext.ptr[i];
			buf_putc(b, hex[ch >> 4]);
			buf_putc(b, hex[ch & 15]);
		}
		buf_lit(b, "\"}");
		break;
	}
	default: buf_lit(b, "null"); break;
	}
}

/* ---------------------------------------------------------------- delay histogram */

static inline unsigned hist_index(uint64_t v)
{
	if (v < 16)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	return (msb - 3) * 16 + (unsigned)((v >> (msb - 4)) & 15);
}

static uint64_t hist_upper(unsigned i)
{
	if (i < 16)
		return i;
	unsigned msb = i / 16 + 3, sub = i % 16;
	uint64_t low = (uint64_t)(16 + sub) << (msb - 4);
	return low + (((uint64_t)1 << (msb - 4)) - 1);
}

/* Upper bound of the bucket holding the p-quantile, never above the exact maximum. */
static uint64_t hist_quantile(double p)
{
	if (!st.delay_samples)
		return 0;
	double want = p * (double)st.delay_samples;
	uint64_t rank = (uint64_t)want, cum = 0;
	if ((double)rank < want || rank == 0)   /* ceil, without libm */
		rank++;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		cum += hist[i];
		if (cum >= rank) {
			uint64_t u = hist_upper(i);
			return u < st.max_delay_ns ? u : st.max_delay_ns;
		}
	}
	return st.max_delay_ns;
}

/* ---------------------------------------------------------------- per-tag counts */

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static void tag_count(const char *tag, size_t len, uint64_t n)
{
	if (tags_n * 2 >= tags_cap) {
		if (tags_n >= MAX_TAGS) {
			/* the table is full: count the known ones, lump the new ones together */
			for (size_t i = fnv1a(tag, len) & (tags_cap - 1); tags[i].tag; i = (i + 1) & (tags_cap - 1))
				if (tags[i].len == len && memcmp(tags[i].tag, tag, len) == 0) {
					tags[i].count += n;
					return;
				}
			tags_overflow += n;
			return;
		}
		size_t ncap = tags_cap ? tags_cap * 2 : 64;
		struct tagent *nt = calloc(ncap, sizeof *nt);
		if (!nt)
			die_oom();
		for (size_t i = 0; i < tags_cap; i++) {
			if (!tags[i].tag)
				continue;
			size_t j = fnv1a(tags[i].tag, tags[i].len) & (ncap - 1);
			while (nt[j].tag)
				j = (j + 1) & (ncap - 1);
			nt[j] = tags[i];
		}
		free(tags);
		tags = nt;
		tags_cap = ncap;
	}
	size_t i = fnv1a(tag, len) & (tags_cap - 1);
	while (tags[i].tag) {
		if (tags[i].len == len && memcmp(tags[i].tag, tag, len) == 0) {
			tags[i].count += n;
			return;
		}
		i = (i + 1) & (tags_cap - 1);
	}
	tags[i].tag = malloc(len ? len : 1);
	if (!tags[i].tag)
		die_oom();
	if (len)
		memcpy(tags[i].tag, tag, len);
	tags[i].len = len;
	tags[i].count = n;
	tags_n++;
}

/* ---------------------------------------------------------------- statistics */

static void write_stats(void)
{
	struct buf b = { 0 };
	buf_printf(&b,
			   "{\"frames\":%" PRIu64 ",\"entries\":%" PRIu64 ",\"rejected\":%" PRIu64
			   ",\"connections\":%" PRIu64 ",\"active_connections\":%" PRIu64 ",\"bytes\":%" PRIu64
			   ",\"acks\":%" PRIu64 ",\"truncated\":%" PRIu64 ",\"refused\":%" PRIu64
			   ",\"paused\":%s,\"delay_samples\":%" PRIu64 ",\"delay_negative\":%" PRIu64
			   ",\"max_delay_ns\":%" PRIu64 ",\"delay_p50_ns\":%" PRIu64 ",\"delay_p90_ns\":%" PRIu64
			   ",\"delay_p99_ns\":%" PRIu64 ",\"delay_p999_ns\":%" PRIu64 ",\"auth_ok\":%" PRIu64
			   ",\"auth_failed\":%" PRIu64 ",\"tls_ok\":%" PRIu64 ",\"tls_failed\":%" PRIu64
			   ",\"last_reject\":",
			   st.frames, st.entries, st.rejected, st.connections, active_conns, st.bytes, st.acks,
			   st.truncated, st.refused, paused ? "true" : "false", st.delay_samples, st.delay_negative,
			   st.max_delay_ns, hist_quantile(0.50), hist_quantile(0.90), hist_quantile(0.99),
			   hist_quantile(0.999), st.auth_ok, st.auth_failed, st.tls_ok, st.tls_failed);
	j_str(&b, last_reject, strlen(last_reject));
	buf_printf(&b, ",\"matched\":%" PRIu64, g_matched);
	buf_lit(&b, ",\"entries_by_tag\":{");
	bool first = true;
	for (size_t i = 0; i < tags_cap; i++) {
		if (!tags[i].tag)
			continue;
		if (!first)
			buf_putc(&b, ',');
		first = false;
		j_str(&b, tags[i].tag, tags[i].len);
		buf_printf(&b, ":%" PRIu64, tags[i].count);
	}
	buf_printf(&b, "},\"entries_by_tag_overflow\":%" PRIu64 "}\n", tags_overflow);
	if (opt.stats)
		write_atomic(opt.stats, b.p, b.len);
	else
		fwrite(b.p, 1, b.len, stderr);
	free(b.p);
}

/* ---------------------------------------------------------------- frame checks */

struct evtime { uint64_t sec; uint32_t nsec; bool event; };

struct frame {
	struct conn *c;
	const msgpack_object *tag, *chunk, *metadata;
	const char *mode;
	bool gzip, has_size;
	uint64_t size, entries, matched;
	int64_t now;
};

static bool check_time(const msgpack_object *t, struct evtime *e)
{
	switch (t->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		e->sec = t->via.u64;
		e->nsec = 0;
		e->event = false;
		return true;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return errf("time is a negative int (%" PRId64 ")", t->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return errf("time is a float (%.17g): only an int or an EventTime is allowed", t->via.f64);
	case MSGPACK_OBJECT_EXT: {
		if (t->via.ext.type != 0)
			return errf("time is an ext of type %d, not an EventTime (type 0)", (int)t->via.ext.type);
		if (t->via.ext.size != 8)
			return errf("EventTime has %" PRIu32 " data bytes, not 8", t->via.ext.size);
		const unsigned char *p = (const unsigned char *)t->via.ext.ptr;
		uint32_t s = be32(p), ns = be32(p + 4);
		if (s == 0xFFFFFFFFu || s == 0xFFFFFFFEu)
			return errf("EventTime seconds 0x%08" PRIX32 " are reserved by Fluent Bit (group markers)", s);
		if (ns > 999999999u)
			return errf("EventTime nanoseconds %" PRIu32 " are not below 10^9", ns);
		e->sec = s;
		e->nsec = ns;
		e->event = true;
		return true;
	}
	default:
		return errf("time is %s, not an int or an EventTime", a_type(t));
	}
}


/*
 * Every str of a record (keys, values, nested ones) must be UTF-8: msgpack's
 * spec says a str is, and Fluent Bit's encoders mangle bytes that are not.
 * A bin is not text and may hold anything. key names the record's key the
 * value is under (NULL for a key itself).
 */
static bool check_utf8(const msgpack_object *o, const char *what, const msgpack_object *key, int depth)
{
	size_t at;

	if (depth > 32)
		return true; /* msgpack-c refuses deeper nesting */
	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		at = recv_utf8_bad_at(o->via.str.ptr, o->via.str.size);
		if (at == o->via.str.size)
			return true;
		if (!key)
			return errf("%s has a key that is not valid UTF-8 (byte 0x%02x at offset %zu of %" PRIu32 ")", what,
				    (unsigned char)o->via.str.ptr[at], at, o->via.str.size);
		return errf("%s key \"%.*s\": a str that is not valid UTF-8 (byte 0x%02x at offset %zu of %" PRIu32 ")",
			    what, (int)key->via.str.size, key->via.str.ptr, (unsigned char)o->via.str.ptr[at], at,
			    o->via.str.size);
	case MSGPACK_OBJECT_ARRAY:
		for (uint32_t i = 0; i < o->via.array.size; i++)
			if (!check_utf8(&o->via.array.ptr[i], what, key, depth + 1))
				return false;
		return true;
	case MSGPACK_OBJECT_MAP:
		for (uint32_t i = 0; i < o->via.map.size; i++)
			if (!check_utf8(&o->via.map.ptr[i].key, what, key, depth + 1) ||
			    !check_utf8(&o->via.map.ptr[i].val, what, key, depth + 1))
				return false;
		return true;
	default:
		return true;
	}
}

static bool check_str_keys(const msgpack_object *m, const char *what)
{
	if (m->type != MSGPACK_OBJECT_MAP)
		return errf("%s is %s, not a map", what, a_type(m));
	for (uint32_t i = 0; i < m->via.map.size; i++)
		if (m->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
			return errf("%s key %" PRIu32 " is %s, not a str", what, i + 1,
						a_type(&m->via.map.ptr[i].key));
	/* keys first (a bad one is named by its number), then each value under its key */
	for (uint32_t i = 0; i < m->via.map.size; i++)
		if (!check_utf8(&m->via.map.ptr[i].key, what, NULL, 0))
			return err_prefix("key %" PRIu32 ": ", i + 1);
	for (uint32_t i = 0; i < m->via.map.size; i++)
		if (!check_utf8(&m->via.map.ptr[i].val, what, &m->via.map.ptr[i].key, 0))
			return false;
	return true;
}

static bool check_options(const msgpack_object *o, struct frame *f)
{
	if (o->type != MSGPACK_OBJECT_MAP)
		return errf("option is %s, not a map", a_type(o));
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
		if (k->type != MSGPACK_OBJECT_STR)
			return errf("option key %" PRIu32 " is %s, not a str", i + 1, a_type(k));
		if (str_is(k, "chunk")) {
			/* Fluent Bit fails on a bin chunk: the spec and its code want a str */
			if (v->type != MSGPACK_OBJECT_STR)
				return errf("option chunk is %s, not a str", a_type(v));
			f->chunk = v;
		} else if (str_is(k, "compressed")) {
			if (v->type != MSGPACK_OBJECT_STR)
				return errf("option compressed is %s, not a str", a_type(v));
			if (!str_is(v, "gzip"))
				return errf("option compressed is \"%s\": only \"gzip\" is accepted",
							printable(v->via.str.ptr, v->via.str.size));
			f->gzip = true;
		} else if (str_is(k, "size")) {
			if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
				return errf("option size is %s, not a uint", a_type(v));
			f->has_size = true;
			f->size = v->via.u64;
		} else if (str_is(k, "fluent_signal")) {
			/* Fluent Bit takes 0 logs, 1 metrics, 2 traces; this receiver only decodes logs */
			if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
				return errf("option fluent_signal is %s, not a uint", a_type(v));
			if (v->via.u64 != 0)
				return errf("option fluent_signal is %" PRIu64 ": only 0 (logs) is accepted", v->via.u64);
		} else if (str_is(k, "metadata")) {
			/* Fluent Bit closes the connection when metadata is not a map */
			if (!check_str_keys(v, "option metadata"))
				return false;
			f->metadata = v;
		}
	}
	return true;
}

static void frame_prefix(struct frame *f)
{
	g_tagjson.len = 0;
	j_str(&g_tagjson, f->tag->via.str.ptr, f->tag->via.str.size);
	g_framejson.len = 0;
	buf_printf(&g_framejson, ",\"mode\":\"%s\",\"conn\":%" PRIu64 ",\"frame\":%" PRIu64, f->mode, f->c->id,
			   f->c->frames_seen);
	if (f->chunk) {
		buf_lit(&g_framejson, ",\"chunk\":");
		j_str(&g_framejson, f->chunk->via.str.ptr, f->chunk->via.str.size);
	}
}

/* Whether a str value of the record holds --count-match: the benchmark's own events, told apart from the rest. */
static bool record_matches(const msgpack_object *record)
{
	if (!opt.match || record->type != MSGPACK_OBJECT_MAP)
		return false;
	for (uint32_t i = 0; i < record->via.map.size; i++) {
		const msgpack_object *v = &record->via.map.ptr[i].val;
		if (v->type == MSGPACK_OBJECT_STR && memmem(v->via.str.ptr, v->via.str.size, opt.match, opt.match_len))
			return true;
	}
	return false;
}

/* An entry that passed the checks: counted, and its delay kept (no allocation once the array has grown). */
static void count_entry(struct frame *f, const struct evtime *t, bool matched)
{
	f->entries++;
	f->matched += matched;
	if (t->event) {
		if (g_delays_len == g_delays_cap) {
			size_t ncap = g_delays_cap ? g_delays_cap * 2 : 1024;
			int64_t *nd = realloc(g_delays, ncap * sizeof *nd);
			if (!nd)
				die_oom();
			g_delays = nd;
			g_delays_cap = ncap;
		}
		g_delays[g_delays_len++] = f->now - ((int64_t)t->sec * 1000000000 + t->nsec);
	}
}

/* The per-entry path of the full check: counted, then (unless --count-only) one JSON line; seen gets what it held. */
static void emit_entry(struct frame *f, const struct evtime *t, const msgpack_object *metadata,
					   const msgpack_object *record, struct recv_quick_entry *seen)
{
	bool matched = record_matches(record);

	count_entry(f, t, matched);
	if (seen) {
		seen->sec = t->sec;
		seen->nsec = t->nsec;
		seen->event = t->event;
		seen->matched = matched;
	}
	if (opt.count_only)
		return;
	struct buf *b = &g_json;
	buf_lit(b, "{\"tag\":");
	buf_put(b, g_tagjson.p, g_tagjson.len);
	buf_printf(b, ",\"time\":%" PRIu64 ".%09" PRIu32 ",\"time_sec\":%" PRIu64 ",\"time_nsec\":%" PRIu32
			   ",\"time_type\":\"%s\"", t->sec, t->nsec, t->sec, t->nsec, t->event ? "eventtime" : "int");
	buf_put(b, g_framejson.p, g_framejson.len);
	if (metadata) {
		buf_lit(b, ",\"metadata\":");
		j_obj(b, metadata);
	}
	buf_lit(b, ",\"record\":");
	j_obj(b, record);
	/* keys in order, duplicates kept (JSON objects lose both) */
	buf_lit(b, ",\"keys\":[");
	for (uint32_t i = 0; i < record->via.map.size; i++) {
		if (i)
			buf_putc(b, ',');
		j_key(b, &record->via.map.ptr[i].key);
	}
	buf_lit(b, "],\"types\":{");
	for (uint32_t i = 0; i < record->via.map.size; i++) {
		if (i)
			buf_putc(b, ',');
		j_key(b, &record->via.map.ptr[i].key);
		buf_printf(b, ":\"%s\"", type_name(&record->via.map.ptr[i].val));
	}
	buf_lit(b, "}}\n");
}

/* An entry of Forward or PackedForward mode: [time, record] or [[time, metadata], record]. */
static bool do_entry(struct frame *f, const msgpack_object *e, uint64_t idx, struct recv_quick_entry *seen)
{
	if (e->type != MSGPACK_OBJECT_ARRAY)
		return errf("entry %" PRIu64 " is %s, not an array [time, record]", idx, a_type(e));
	if (e->via.array.size != 2)
		return errf("entry %" PRIu64 " is an array of %" PRIu32 " elements, not [time, record]", idx,
					e->via.array.size);
	const msgpack_object *t = &e->via.array.ptr[0], *md = NULL, *rec = &e->via.array.ptr[1];
	if (t->type == MSGPACK_OBJECT_ARRAY) {
		if (t->via.array.size != 2)
			return errf("entry %" PRIu64 ": header is an array of %" PRIu32 " elements, not [time, metadata]",
						idx, t->via.array.size);
		md = &t->via.array.ptr[1];
		t = &t->via.array.ptr[0];
		if (!check_str_keys(md, "metadata"))
			return err_prefix("entry %" PRIu64 ": ", idx);
	}
	struct evtime ev;
	if (!check_time(t, &ev))
		return err_prefix("entry %" PRIu64 ": ", idx);
	if (!check_str_keys(rec, "record"))
		return err_prefix("entry %" PRIu64 ": ", idx);
	emit_entry(f, &ev, md, rec, seen);
	return true;
}

/* Several concatenated gzip members are one payload; the result is capped like Fluent Bit's. */
static bool gunzip(const unsigned char *in, size_t inlen)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	g_inflate.len = 0;
	if (inlen == 0)
		return errf("compressed payload is empty, not gzip");
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return errf("cannot initialise zlib");
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)inlen;
	bool ok = false;
	for (;;) {
		buf_grow(&g_inflate, 256 * 1024);
		size_t room = g_inflate.cap - g_inflate.len, left = opt.max_frame + 1 - g_inflate.len;
		if (room > left)
			room = left;
		zs.next_out = (unsigned char *)g_inflate.p + g_inflate.len;
		zs.avail_out = (uInt)room;
		int r = inflate(&zs, Z_NO_FLUSH);
		g_inflate.len = (size_t)((char *)zs.next_out - g_inflate.p);
		if (g_inflate.len > opt.max_frame) {
			errf("decompressed payload exceeds the %" PRIu64 "-byte limit", opt.max_frame);
			break;
		}
		if (r == Z_STREAM_END) {
			if (zs.avail_in == 0) {
				ok = true;
				break;
			}
			inflateReset(&zs);   /* another gzip member follows */
			continue;
		}
		if (r == Z_OK)
			continue;
		if (r == Z_BUF_ERROR)
			errf("compressed payload is truncated gzip");
		else
			errf("compressed payload is not valid gzip (%s)", zs.msg ? zs.msg : "zlib error");
		break;
	}
	inflateEnd(&zs);
	return ok;
}

/* The fast check passed what the full check read otherwise: a bug of the receiver's, so it stops. */
static bool quick_disagrees(bool sure, uint64_t idx, const char *what)
{
	if (!sure)
		return false;
	fprintf(stderr, "fwd_receiver: BUG: the fast check (recv_quick.c) passed payload entry %" PRIu64
		" as valid, and the full check found %s\n", idx, what);
	abort();
}

/*
 * --count-only: every entry of the payload passed by the fast check, and
 * counted; false when it was not sure of one (or of the size option), and
 * the caller starts again with the full check, which names what is wrong.
 */
static bool quick_payload(struct frame *f, const char *data, size_t len)
{
	uint64_t n = 0;

	for (size_t off = 0; off < len; n++) {
		struct recv_quick_entry q;

		if (!recv_quick_entry((const uint8_t *)data + off, len - off, opt.match, opt.match_len, &q))
			return false;
		count_entry(f, &(struct evtime){q.sec, q.nsec, q.event}, q.matched);
		off += q.len;
	}
	return !f->has_size || f->size == n;
}

static bool do_packed(struct frame *f, const msgpack_object *payload)
{
	const char *data = payload->via.str.ptr;   /* str and bin share the layout */
	size_t len = payload->via.str.size;
	if (f->gzip) {
		if (!gunzip((const unsigned char *)data, len))
			return false;
		data = g_inflate.p;
		len = g_inflate.len;
	}
	if (opt.count_only && quick_payload(f, data, len))
		return true;
	/* the full check, from the start: what the fast one counted is forgotten */
	f->entries = f->matched = 0;
	g_delays_len = 0;
	uint64_t n = 0;
	if (!scan_payload((const uint8_t *)data, len, &n))
		return false;
	if (f->has_size && f->size != n)
		return errf("option size is %" PRIu64 " but the payload holds %" PRIu64 " entries", f->size, n);
	size_t off = 0;
	uint64_t idx = 0;
	while (off < len) {
		struct recv_quick_entry quick, full;
		/* the JSON mode, which the tests use, checks the fast check against the full one on every entry */
		bool sure = recv_quick_entry((const uint8_t *)data + off, len - off, opt.match, opt.match_len, &quick);
		size_t at = off;
		msgpack_object e;

		idx++;
		msgpack_zone_clear(g_zone);
		msgpack_unpack_return r = msgpack_unpack(data, len, &off, g_zone, &e);
		if (r == MSGPACK_UNPACK_CONTINUE)
			return quick_disagrees(sure, idx, "a truncated one") ||
			       errf("payload entry %" PRIu64 " is truncated", idx);
		if (r < 0)
			return quick_disagrees(sure, idx, "one that is not msgpack") ||
			       errf("payload entry %" PRIu64 " is not valid msgpack (or nests deeper than 32)", idx);
		if (!do_entry(f, &e, idx, &full))
			return quick_disagrees(sure, idx, "one the full check refused") || false;
		if (sure && (quick.len != off - at || quick.sec != full.sec || quick.nsec != full.nsec ||
			     quick.event != full.event || quick.matched != full.matched))
			quick_disagrees(true, idx, "one read differently");
	}
	return true;
}

/* Checks one root object and, while at it, renders its entries; nothing is kept unless it all passes. */
static bool process_frame(struct frame *f, const msgpack_object *root)
{
	if (root->type == MSGPACK_OBJECT_NIL)
		return errf("root is msgpack nil: Fluent Bit closes on it (the protocol has no heartbeat)");
	if (root->type != MSGPACK_OBJECT_ARRAY)
		return errf("root is %s, not an array [tag, ...]", a_type(root));
	uint32_t n = root->via.array.size;
	if (n < 2 || n > 4)
		return errf("root is an array of %" PRIu32 " elements, not 2 to 4", n);
	f->tag = &root->via.array.ptr[0];
	if (f->tag->type != MSGPACK_OBJECT_STR)
		return errf("tag is not a str (got %s)", a_type(f->tag));
	if (!check_utf8(f->tag, "tag", NULL, 0))
		return false;
	const msgpack_object *second = &root->via.array.ptr[1];
	switch (second->type) {
	case MSGPACK_OBJECT_ARRAY: f->mode = "forward"; break;
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN: f->mode = "packed"; break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
	case MSGPACK_OBJECT_EXT: f->mode = "message"; break;
	default:
		return errf("second element is %s: not a time, an entries array or a packed payload",
					a_type(second));
	}
	bool message = f->mode[0] == 'm';
	if (message && n < 3)
		return errf("Message-mode frame [tag, time, record, option?] has only %" PRIu32 " elements", n);
	if (!message && n > 3)
		return errf("%s-mode frame [tag, entries, option?] has %" PRIu32 " elements",
					f->mode[0] == 'f' ? "Forward" : "PackedForward", n);
	uint32_t opt_at = message ? 3 : 2;
	if (n > opt_at && !check_options(&root->via.array.ptr[opt_at], f))
		return false;
	if (f->gzip) {
		if (f->mode[0] != 'p')
			return errf("option compressed on a %s-mode frame: only a PackedForward payload can be compressed",
						message ? "Message" : "Forward");
		f->mode = "compressed";
	}
	frame_prefix(f);

	if (message) {
		struct evtime ev;
		if (f->has_size && f->size != 1)
			return errf("option size is %" PRIu64 " on a Message-mode frame (one entry)", f->size);
		if (!check_time(second, &ev))
			return false;
		if (!check_str_keys(&root->via.array.ptr[2], "record"))
			return false;
		emit_entry(f, &ev, f->metadata, &root->via.array.ptr[2], NULL);
		return true;
	}
	if (f->mode[0] == 'f') {
		if (f->has_size && f->size != second->via.array.size)
			return errf("option size is %" PRIu64 " but the frame holds %" PRIu32 " entries", f->size,
						second->via.array.size);
		for (uint32_t i = 0; i < second->via.array.size; i++)
			if (!do_entry(f, &second->via.array.ptr[i], (uint64_t)i + 1, NULL))
				return false;
		return true;
	}
	return do_packed(f, second);
}

/* ---------------------------------------------------------------- connections */

static void conn_process(struct conn *c);
static void send_ack(struct conn *c, const msgpack_object *chunk);
static void hs_fail(struct conn *c, const char *why);
static void hs_read(struct conn *c, size_t n);

static void on_dack_closed(uv_handle_t *h)
{
	free(h->data);
}

static void on_dack(uv_timer_t *t)
{
	struct dack *d = t->data;

	if (d->c) {
		msgpack_object o = {.type = MSGPACK_OBJECT_STR, .via.str = {.size = (uint32_t)d->n, .ptr = d->id}};
		struct dack **pp = &d->c->dacks;

		while (*pp != d)
			pp = &(*pp)->next;
		*pp = d->next;
		if (!d->c->closing)
			send_ack(d->c, &o);
	}
	uv_close((uv_handle_t *)t, on_dack_closed);
}

/* --ack-delay: the ack goes out that much later (acks keep their order: same delay, in turn). */
static void delay_ack(struct conn *c, const msgpack_object *chunk)
{
	struct dack *d = malloc(sizeof(*d) + chunk->via.str.size + 1), **pp = &c->dacks;

	if (!d)
		die_oom();
	d->c = c;
	d->next = NULL;
	d->n = chunk->via.str.size;
	memcpy(d->id, chunk->via.str.ptr, d->n);
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
	uv_timer_init(loop, &d->t);
	d->t.data = d;
	uv_timer_start(&d->t, on_dack, opt.ack_delay_ms, 0);
}

static void on_conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->up_init)
		msgpack_unpacker_destroy(&c->up);
	for (struct dack *d = c->dacks; d; d = d->next)
		d->c = NULL;
	SSL_free(c->ssl);
	active_conns--;
	if (opt.verbose)
		fprintf(stderr, "conn %" PRIu64 ": closed\n", c->id);
	free(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	uv_handle_t *h = (uv_handle_t *)req->handle;
	if (!uv_is_closing(h))
		uv_close(h, on_conn_closed);
}

/* Closes after the acks already queued are flushed (shutdown), or at once if none are. */
static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_stream_t *s = &c->h.stream;
	if (c->reading) {
		uv_read_stop(s);
		c->reading = false;
	}
	if (s->write_queue_size > 0 && uv_shutdown(&c->shut, s, on_shutdown) == 0)
		return;
	uv_close((uv_handle_t *)s, on_conn_closed);
}

static void on_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct conn *c = req->handle->data;
	if (status < 0 && status != UV_ECANCELED && !c->closing) {
		fprintf(stderr, "conn %" PRIu64 ": ack write failed: %s\n", c->id, uv_strerror(status));
		conn_close(c);
	}
	free(w);
}

static bool conn_send(struct conn *c, const void *data, size_t len);

static void send_ack(struct conn *c, const msgpack_object *chunk)
{
	size_t n = chunk->via.str.size, hl = n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
	size_t total = 5 + hl + n;
	char small[512], *p = total <= sizeof small ? small : malloc(total);
	if (!p)
		die_oom();
	/* {"ack": <chunk>}: fixmap 1, fixstr "ack", then the id as a str */
	memcpy(p, "\x81\xa3" "ack", 5);
	char *q = p + 5;
	if (hl == 1) {
		*q++ = (char)(0xa0 | n);
	} else if (hl == 2) {
		*q++ = (char)0xd9;
		*q++ = (char)n;
	} else if (hl == 3) {
		*q++ = (char)0xda;
		*q++ = (char)(n >> 8);
		*q++ = (char)n;
	} else {
		*q++ = (char)0xdb;
		for (int s = 24; s >= 0; s -= 8)
			*q++ = (char)(n >> s);
	}
	if (n)
		memcpy(q, chunk->via.str.ptr, n);
	if (opt.wrong_ack) {
		/* same length, first character changed: a sender must compare, not just count */
		if (n)
			q[0] = q[0] == 'A' ? 'B' : 'A';
		else
			p[5] = (char)0xa1, p[6] = 'x', total = 7;
	}
	int w = conn_send(c, p, total) ? (int)total : UV_EPIPE;
	if (p != small)
		free(p);
	if (w < 0) {
		fprintf(stderr, "conn %" PRIu64 ": ack write failed: %s\n", c->id, uv_strerror(w));
		conn_close(c);
		return;
	}
	st.acks++;
}

static void reject(struct conn *c, uint64_t frame_no, const char *why)
{
	fprintf(stderr, "conn %" PRIu64 ": frame %" PRIu64 ": %s\n", c->id, frame_no, why);
	snprintf(last_reject, sizeof last_reject, "conn %" PRIu64 ": frame %" PRIu64 ": %s", c->id, frame_no, why);
	st.rejected++;
	conn_close(c);
}

static void start_reading(struct conn *c);

static void pause_all(void)
{
	paused = true;
	for (struct conn *c = conns; c; c = c->next)
		if (c->reading) {
			uv_read_stop(&c->h.stream);
			c->reading = false;
		}
	fprintf(stderr, "fwd_receiver: stopped reading after %" PRIu64 " frames (SIGUSR2 resumes)\n", st.frames);
}

static void resume_all(void)
{
	if (!paused || exiting)
		return;
	paused = false;
	fprintf(stderr, "fwd_receiver: reading again\n");
	for (struct conn *c = conns; c; c = c->next) {
		start_reading(c);
		conn_process(c);   /* frames that were already buffered */
	}
}

static void begin_exit(void);

static void handle_frame(struct conn *c, const msgpack_object *root)
{
	struct frame f;
	memset(&f, 0, sizeof f);
	f.c = c;
	f.now = now_ns();
	g_json.len = 0;
	g_delays_len = 0;
	if (!process_frame(&f, root)) {
		reject(c, c->frames_seen, g_err);
		return;
	}
	/* accepted: only now does anything of it become visible */
	if (!opt.count_only) {
		if (g_json.len && fwrite(g_json.p, 1, g_json.len, out) != g_json.len)
			fprintf(stderr, "fwd_receiver: cannot write the output: %s\n", strerror(errno));
		fflush(out);
	}
	for (size_t i = 0; i < g_delays_len; i++) {
		int64_t d = g_delays[i];
		if (d < 0) {
			st.delay_negative++;
			d = 0;
		}
		hist[hist_index((uint64_t)d)]++;
		if ((uint64_t)d > st.max_delay_ns)
			st.max_delay_ns = (uint64_t)d;
	}
	st.delay_samples += g_delays_len;
	st.frames++;
	st.entries += f.entries;
	g_matched += f.matched;
	tag_count(f.tag->via.str.ptr, f.tag->via.str.size, f.entries);
	c->frames_ok++;

	bool closing_now = opt.close_after && c->frames_ok >= opt.close_after;
	if (f.chunk && !opt.no_ack && !closing_now) {
		if (opt.ack_delay_ms)
			delay_ack(c, f.chunk);
		else
			send_ack(c, f.chunk);
	}
	if (opt.garbage) {
		/* 0xc1 is never used by msgpack: no reading of it can be an ack */
		static const char junk[] = "\xc1\xc1\xc1\xc1garbage\xc1";
		conn_send(c, junk, sizeof(junk) - 1);
	}
	if (closing_now) {
		if (opt.verbose)
			fprintf(stderr, "conn %" PRIu64 ": closing after %" PRIu64 " frames (--close-after)\n", c->id,
					c->frames_ok);
		conn_close(c);
	}
	if (opt.stop_reading_after && st.frames == opt.stop_reading_after)
		pause_all();
	if (opt.exit_after_frames && st.frames == opt.exit_after_frames)
		begin_exit();
}

static void conn_process(struct conn *c)
{
	msgpack_unpacked res;
	msgpack_unpacked_init(&res);
	while (!c->closing && !paused && !exiting) {
		/* the pre-scan found a bad frame: stop right before msgpack-c would parse it */
		if (c->sc.failed && c->frames_seen == c->sc.fail_frame) {
			reject(c, c->frames_seen + 1, c->sc.err);
			break;
		}
		msgpack_unpack_return r = msgpack_unpacker_next(&c->up, &res);
		if (r == MSGPACK_UNPACK_CONTINUE)
			break;
		if (r < 0) {
			reject(c, c->frames_seen + 1,
				   r == MSGPACK_UNPACK_NOMEM_ERROR ? "msgpack-c refused it: nesting deeper than 32 or out of memory"
												   : "not valid msgpack");
			break;
		}
		c->frames_seen++;
		handle_frame(c, &res.data);
	}
	msgpack_unpacked_destroy(&res);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;
	if (c->ssl && suggested) {
		/* libuv asks: the encrypted bytes go to tlsbuf; tls_in asks again (suggested 0) for the clear ones */
		*buf = uv_buf_init(c->tlsbuf, sizeof c->tlsbuf);
		return;
	}
	if (c->hs_wait) {
		*buf = uv_buf_init((char *)c->hs + c->hslen, (unsigned)(sizeof c->hs - c->hslen));
		return;
	}
	if (!msgpack_unpacker_reserve_buffer(&c->up, READ_CHUNK)) {
		*buf = uv_buf_init(NULL, 0);   /* libuv reports UV_ENOBUFS to on_read */
		return;
	}
	/* read straight into the unpacker's buffer: no copy */
	size_t cap = msgpack_unpacker_buffer_capacity(&c->up);
	*buf = uv_buf_init(msgpack_unpacker_buffer(&c->up), cap > (1u << 30) ? 1u << 30 : (unsigned)cap);
}

/* Bytes in the clear (read, or decrypted): the handshake's, or frames. */
static void on_plain(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	if (nread == 0)
		return;
	if (nread < 0 && c->hs_wait) {
		hs_fail(c, nread == UV_EOF ? "closed by the sender before its PING was whole" : uv_strerror((int)nread));
		return;
	}
	if (c->hs_wait) {
		st.bytes += (uint64_t)nread;
		hs_read(c, (size_t)nread);
		return;
	}
	if (nread < 0) {
		if (c->sc.pending || c->sc.skip || c->sc.have) {
			fprintf(stderr, "conn %" PRIu64 ": frame %" PRIu64 ": connection ended inside the frame (%" PRIu64
					" bytes of it received)\n", c->id, c->sc.frames + 1, c->sc.frame_bytes);
			st.truncated++;
		} else if (nread != UV_EOF) {
			fprintf(stderr, "conn %" PRIu64 ": read error: %s\n", c->id, uv_strerror((int)nread));
		}
		conn_close(c);
		return;
	}
	st.bytes += (uint64_t)nread;
	scan_feed(c, (const uint8_t *)buf->base, (size_t)nread);
	msgpack_unpacker_buffer_consumed(&c->up, (size_t)nread);
	conn_process(c);
}

static bool send_helo(struct conn *c);
static void hs_fail(struct conn *c, const char *why);

static void tls_fail(struct conn *c, const char *during, int ret)
{
	char e[256] = "";
	unsigned long err = ERR_get_error();
	long v = SSL_get_verify_result(c->ssl);

	if (err)
		ERR_error_string_n(err, e, sizeof e);
	fprintf(stderr, "conn %" PRIu64 ": TLS %s failed: %s%s%s (SSL error %d)\n", c->id, during, e[0] ? e : "no reason",
		v != X509_V_OK ? "; client certificate: " : "", v != X509_V_OK ? X509_verify_cert_error_string(v) : "",
		SSL_get_error(c->ssl, ret));
	ERR_clear_error();
	if (!c->tls_up)
		st.tls_failed++;
	conn_close(c);
}

/* Encrypted bytes came (in tlsbuf): the handshake goes on, then what they decrypt to goes to on_plain. */
static void tls_in(struct conn *c, size_t n)
{
	uv_buf_t b;
	int r;

	if (BIO_write(SSL_get_rbio(c->ssl), c->tlsbuf, (int)n) != (int)n)
		die_oom();
	if (!c->tls_up) {
		r = SSL_do_handshake(c->ssl);
		if (!conn_send(c, NULL, 0))
			return;
		if (r != 1) {
			if (SSL_get_error(c->ssl, r) != SSL_ERROR_WANT_READ)
				tls_fail(c, "handshake", r);
			return;
		}
		c->tls_up = true;
		st.tls_ok++;
		if (opt.verbose)
			fprintf(stderr, "conn %" PRIu64 ": TLS up (%s)\n", c->id, SSL_get_version(c->ssl));
		if (opt.shared_key && !send_helo(c)) {
			hs_fail(c, "cannot send the HELO");
			return;
		}
	}
	while (!c->closing) {
		on_alloc(&c->h.handle, 0, &b);
		if (!b.len) {
			on_plain(&c->h.stream, UV_ENOBUFS, &b);
			return;
		}
		r = SSL_read(c->ssl, b.base, (int)b.len);
		if (!conn_send(c, NULL, 0))
			return;
		if (r > 0) {
			on_plain(&c->h.stream, r, &b);
			continue;
		}
		if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ)
			return;
		if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN)
			on_plain(&c->h.stream, UV_EOF, &b);
		else
			tls_fail(c, "read", r);
		return;
	}
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;

	if (c->ssl && nread > 0)
		tls_in(c, (size_t)nread);
	else if (c->ssl && nread < 0 && !c->tls_up) {
		fprintf(stderr, "conn %" PRIu64 ": closed in the TLS handshake: %s\n", c->id, uv_strerror((int)nread));
		st.tls_failed++;
		conn_close(c);
	} else
		on_plain(s, nread, buf);
}

static void start_reading(struct conn *c)
{
	if (c->closing || c->reading)
		return;
	int r = uv_read_start(&c->h.stream, on_alloc, on_read);
	if (r) {
		fprintf(stderr, "conn %" PRIu64 ": cannot read: %s\n", c->id, uv_strerror(r));
		conn_close(c);
		return;
	}
	c->reading = true;
}

/* ---------------------------------------------------------------- the shared-key handshake */

/* Writes bytes to the peer (what the kernel does not take at once goes through uv_write); false if it failed. */
static bool raw_send(struct conn *c, const void *data, size_t len)
{
	uv_stream_t *s = &c->h.stream;
	uv_buf_t ub = uv_buf_init((char *)data, (unsigned)len);
	int w = uv_try_write(s, &ub, 1);

	if (w == UV_EAGAIN || (w >= 0 && (size_t)w < len)) {
		size_t done = w > 0 ? (size_t)w : 0, rest = len - done;
		struct wreq *r = malloc(sizeof *r + rest);
		if (!r)
			die_oom();
		memcpy(r->data, (const char *)data + done, rest);
		r->len = rest;
		ub = uv_buf_init(r->data, (unsigned)rest);
		if (uv_write(&r->req, s, &ub, 1, on_write) != 0) {
			free(r);
			return false;
		}
		return true;
	}
	return w >= 0;
}

/* Bytes to the peer: encrypted first with TLS, then whatever the session has to send (len 0: only that). */
static bool conn_send(struct conn *c, const void *data, size_t len)
{
	BIO *wb;
	char chunk[16 * 1024];
	int n;

	if (!c->ssl)
		return raw_send(c, data, len);
	if (len && SSL_write(c->ssl, data, (int)len) != (int)len) {
		tls_fail(c, "write", 0);
		return false;
	}
	wb = SSL_get_wbio(c->ssl);
	while ((n = BIO_read(wb, chunk, sizeof chunk)) > 0)
		if (!raw_send(c, chunk, (size_t)n))
			return false;
	return true;
}

static void hex_sha512(const void *const parts[], const size_t lens[], size_t n, char out[129])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[64];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) != 1)
		die_oom();
	for (size_t i = 0; i < n; i++)
		EVP_DigestUpdate(ctx, parts[i], lens[i]);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < 64; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[128] = '\0';
}

/* hex(sha512(salt + hostname + nonce + key)) */
static void key_digest(struct conn *c, const msgpack_object *salt, const char *host, size_t hostlen, const char *key,
		       char out[129])
{
	const void *parts[] = {salt->via.str.ptr, host, c->nonce, key};
	const size_t lens[] = {salt->via.str.size, hostlen, HS_RANDOM, strlen(key)};

	hex_sha512(parts, lens, 4, out);
}

static void mp_str_put(struct buf *b, const char *s, size_t n, bool bin)
{
	if (bin)
		buf_putc(b, (char)0xc4), buf_putc(b, (char)n);
	else if (n < 32)
		buf_putc(b, (char)(0xa0 | n));
	else
		buf_putc(b, (char)0xd9), buf_putc(b, (char)n);
	buf_put(b, s, n);
}

/* On accept: ["HELO", {"nonce": 16 random bytes, "auth": 16 random bytes}], str as Fluent Bit, or bin with --helo-bin. */
static bool send_helo(struct conn *c)
{
	struct buf b = { 0 };
	bool ok;

	if (RAND_bytes(c->nonce, HS_RANDOM) != 1 || RAND_bytes(c->auth, HS_RANDOM) != 1)
		die_oom();
	buf_lit(&b, "\x92\xa4HELO");
	buf_putc(&b, opt.helo_bin ? (char)0x83 : (char)0x82);
	buf_lit(&b, "\xa5nonce");
	mp_str_put(&b, (const char *)c->nonce, HS_RANDOM, opt.helo_bin);
	buf_lit(&b, "\xa4" "auth");
	mp_str_put(&b, (const char *)c->auth, HS_RANDOM, opt.helo_bin);
	if (opt.helo_bin)
		buf_lit(&b, "\xa9keepalive\xc3");
	ok = conn_send(c, b.p, b.len);
	free(b.p);
	return ok;
}

/* ["PONG", ok, reason, hostname, digest]; a refusal carries "" for the last two, as Fluent Bit's. */
static void send_pong(struct conn *c, bool ok, const char *reason, const msgpack_object *salt)
{
	struct buf b = { 0 };
	char digest[129] = "";
	size_t hl = ok ? strlen(opt.self_hostname) : 0;

	if (ok) {
		/* --wrong-pong: a receiver that does not know the key */
		char *key = malloc(strlen(opt.shared_key) + 2);
		if (!key)
			die_oom();
		sprintf(key, "%s%s", opt.shared_key, opt.wrong_pong ? "x" : "");
		key_digest(c, salt, opt.self_hostname, hl, key, digest);
		free(key);
	}
	buf_lit(&b, "\x95\xa4PONG");
	buf_putc(&b, ok ? (char)0xc3 : (char)0xc2);
	mp_str_put(&b, reason, strlen(reason), false);
	mp_str_put(&b, opt.self_hostname, hl, false);
	mp_str_put(&b, digest, strlen(digest), false);
	if (!conn_send(c, b.p, b.len))
		fprintf(stderr, "conn %" PRIu64 ": cannot send the PONG\n", c->id);
	free(b.p);
}

static void hs_fail(struct conn *c, const char *why)
{
	fprintf(stderr, "conn %" PRIu64 ": handshake: %s\n", c->id, why);
	snprintf(last_reject, sizeof last_reject, "conn %" PRIu64 ": handshake: %s", c->id, why);
	st.auth_failed++;
	conn_close(c);
}

/* Length of the one msgpack object at the start of p[0, len) (0: not all there; -1: not msgpack, or over PING_MAX). */
static long object_len(const uint8_t *p, size_t len)
{
	size_t pos = 0;
	uint64_t pending = 1;

	while (pending) {
		uint64_t skip, kids;
		unsigned hl;

		if (pos >= len)
			return 0;
		hl = mp_head_len(p[pos]);
		if (!hl)
			return -1;
		if (len - pos < hl)
			return 0;
		mp_head_parse(p + pos, &skip, &kids);
		pos += hl;
		pending = pending - 1 + kids;
		if (pos + skip + pending > PING_MAX)
			return -1;
		if (len - pos < skip)
			return 0;
		pos += skip;
	}
	return (long)pos;
}

/* The PING, checked as Fluent Bit's in_forward does: 6 strs, the key's digest, then the user's when users are set. */
static void check_ping(struct conn *c, const msgpack_object *root)
{
	const msgpack_object *e = root->via.array.ptr;
	char want[129];

	if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size != 6) {
		hs_fail(c, "not a PING: not an array of 6 elements (a frame before the handshake?)");
		return;
	}
	for (int i = 0; i < 6; i++)
		if (e[i].type != MSGPACK_OBJECT_STR) {
			hs_fail(c, "PING element is not a str");
			return;
		}
	if (!str_is(&e[0], "PING")) {
		hs_fail(c, "not a PING: its first element is not \"PING\"");
		return;
	}
	key_digest(c, &e[2], e[1].via.str.ptr, e[1].via.str.size, opt.shared_key, want);
	if (e[3].via.str.size != 128 || CRYPTO_memcmp(want, e[3].via.str.ptr, 128) != 0) {
		/* Fluent Bit closes without a word; Fluentd answers a PONG that says so */
		if (opt.pong_on_mismatch)
			send_pong(c, false, "shared key mismatch", NULL);
		hs_fail(c, "shared key mismatch");
		return;
	}
	if (opt.username) {
		const void *parts[] = {c->auth, opt.username, opt.password ? opt.password : ""};
		const size_t lens[] = {HS_RANDOM, strlen(opt.username), opt.password ? strlen(opt.password) : 0};

		hex_sha512(parts, lens, 3, want);
		if (!str_is(&e[4], opt.username) || e[5].via.str.size != 128 ||
		    CRYPTO_memcmp(want, e[5].via.str.ptr, 128) != 0) {
			send_pong(c, false, "username/password mismatch", NULL);
			hs_fail(c, "username/password mismatch");
			return;
		}
	}
	if (opt.refuse_auth) {
		send_pong(c, false, "refused by fwd_receiver --refuse-auth", NULL);
		hs_fail(c, "refused (--refuse-auth)");
		return;
	}
	send_pong(c, true, "", &e[2]);
	st.auth_ok++;
	c->hs_wait = false;
	if (opt.verbose)
		fprintf(stderr, "conn %" PRIu64 ": handshake done with \"%s\"%s\n", c->id,
			printable(e[1].via.str.ptr, e[1].via.str.size), opt.wrong_pong ? " (a wrong PONG sent)" : "");
}

/* Bytes while the PING is awaited: nothing after it may come before our PONG was read. */
static void hs_read(struct conn *c, size_t n)
{
	long len;

	c->hslen += n;
	len = object_len(c->hs, c->hslen);
	if (len == 0 && c->hslen < sizeof c->hs)
		return;
	if (len <= 0) {
		hs_fail(c, len == 0 ? "PING longer than 1023 bytes" : "PING is not msgpack, or longer than 1023 bytes");
		return;
	}
	if ((size_t)len != c->hslen) {
		hs_fail(c, "bytes after the PING before the PONG: frames before the handshake finished");
		return;
	}
	msgpack_unpacked res;
	size_t off = 0;
	msgpack_unpacked_init(&res);
	if (msgpack_unpack_next(&res, (const char *)c->hs, (size_t)len, &off) != MSGPACK_UNPACK_SUCCESS)
		hs_fail(c, "PING is not valid msgpack");
	else
		check_ping(c, &res.data);
	msgpack_unpacked_destroy(&res);
	c->hslen = 0;
}

static void on_connection(uv_stream_t *server, int status)
{
	if (status < 0) {
		fprintf(stderr, "fwd_receiver: accept: %s\n", uv_strerror(status));
		return;
	}
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		die_oom();
	if (opt.unix_path)
		uv_pipe_init(loop, &c->h.pipe, 0);
	else
		uv_tcp_init(loop, &c->h.tcp);
	c->h.handle.data = c;
	c->id = ++conn_seq;
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	active_conns++;
	if (uv_accept(server, &c->h.stream) != 0) {
		c->closing = true;
		uv_close(&c->h.handle, on_conn_closed);
		return;
	}
	st.connections++;
	if (opt.verbose)
		fprintf(stderr, "conn %" PRIu64 ": accepted\n", c->id);
	if (opt.refuse) {
		st.refused++;
		conn_close(c);
		return;
	}
	if (!msgpack_unpacker_init(&c->up, READ_CHUNK))
		die_oom();
	c->up_init = true;
	if (!opt.unix_path)
		uv_tcp_nodelay(&c->h.tcp, 1);   /* acks are tiny: do not let Nagle hold them */
	if (g_tls) {
		if (!(c->ssl = SSL_new(g_tls)))
			die_oom();
		SSL_set_bio(c->ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
		SSL_set_accept_state(c->ssl);
	}
	if (opt.shared_key) {
		c->hs_wait = true;
		/* over TLS the HELO waits for the session */
		if (!g_tls && !send_helo(c)) {
			hs_fail(c, "cannot send the HELO");
			return;
		}
	}
	if (!paused)
		start_reading(c);
}

/* --tls-cert: the server side of TLS, with a client certificate required when --tls-client-ca names its CA. */
static void tls_setup(void)
{
	char e[256];

	if (!(g_tls = SSL_CTX_new(TLS_server_method())))
		die_oom();
	if (SSL_CTX_use_certificate_chain_file(g_tls, opt.tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(g_tls, opt.tls_key, SSL_FILETYPE_PEM) != 1 ||
	    (opt.tls_client_ca && SSL_CTX_load_verify_locations(g_tls, opt.tls_client_ca, NULL) != 1)) {
		ERR_error_string_n(ERR_get_error(), e, sizeof e);
		fprintf(stderr, "fwd_receiver: TLS set-up: %s\n", e);
		exit(2);
	}
	if (opt.tls_client_ca)
		SSL_CTX_set_verify(g_tls, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
}

/* ---------------------------------------------------------------- exit and signals */

static void on_force(uv_timer_t *t)
{
	(void)t;
	/* a peer that does not read keeps a shutdown pending: give up on the unsent acks */
	for (struct conn *c = conns; c; c = c->next)
		if (!uv_is_closing(&c->h.handle))
			uv_close(&c->h.handle, on_conn_closed);
}

static void begin_exit(void)
{
	if (exiting)
		return;
	exiting = true;
	uv_close(&lst.handle, NULL);
	for (struct conn *c = conns; c; c = c->next)
		conn_close(c);
	uv_close((uv_handle_t *)&sig_usr1, NULL);
	uv_close((uv_handle_t *)&sig_usr2, NULL);
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_timer_init(loop, &force_timer);
	force_timer_init = true;
	uv_timer_start(&force_timer, on_force, 2000, 0);
	uv_unref((uv_handle_t *)&force_timer);
}

static void on_signal(uv_signal_t *h, int signum)
{
	(void)h;
	if (signum == SIGUSR1)
		write_stats();
	else if (signum == SIGUSR2)
		resume_all();
	else
		begin_exit();
}

/* ---------------------------------------------------------------- setup */

static void usage(FILE *f)
{
	fputs("usage: fwd_receiver (--tcp HOST:PORT | --unix PATH) [options]\n"
		  "  --tcp HOST:PORT          listen on TCP (port 0 picks a free one; [::1]:0 for IPv6)\n"
		  "  --unix PATH              listen on a Unix stream socket (a stale socket file is replaced)\n"
		  "  --ready FILE             once listening, write the port (or path) as one line (via FILE.tmp)\n"
		  "  --out FILE               append one JSON line per accepted entry (default: stdout; - = stdout)\n"
		  "  --count-only             write no entry lines, only count (benchmark)\n"
		  "  --count-match STR        also count entries with a str value containing STR (\"matched\")\n"
		  "  --stats FILE             statistics as one JSON line on SIGUSR1 and at exit (via FILE.tmp;\n"
		  "                           default: stderr)\n"
		  "  --max-frame BYTES        frame and decompressed-payload limit (default 6144000, Fluent Bit's)\n"
		  "  --close-after N          close each connection right after accepting its Nth frame (not acked)\n"
		  "  --stop-reading-after N   after N frames in all, stop reading (connections stay open;\n"
		  "                           SIGUSR2 resumes)\n"
		  "  --refuse                 accept, then close every connection at once\n"
		  "  --wrong-ack              answer each chunk with a different id (same length)\n"
		  "  --no-ack                 never answer a chunk\n"
		  "  --ack-delay MS           answer each chunk MS milliseconds after it arrived\n"
		  "  --garbage                after each frame, send bytes that are not msgpack\n"
		  "  --exit-after-frames N    write the statistics and exit 0 after N frames in all\n"
		  "  --shared-key KEY         the shared-key handshake: send HELO on accept, check the PING's digest\n"
		  "                           (a mismatch closes without a PONG, as Fluent Bit), answer PONG; no\n"
		  "                           frame is taken before it (\"auth_ok\", \"auth_failed\" in the stats)\n"
		  "  --self-hostname NAME     the hostname in the PONG and its digest (default fwd-receiver)\n"
		  "  --username U --password P  also require this user (PONG false \"username/password mismatch\")\n"
		  "  --wrong-pong             answer with a PONG digest made with another key\n"
		  "  --refuse-auth            answer PONG false with a reason, then close\n"
		  "  --pong-on-mismatch       on a wrong shared key, PONG false \"shared key mismatch\" (as Fluentd)\n"
		  "  --helo-bin               nonce and auth salt as bin, and keepalive true (as Fluentd may)\n"
		  "  --tls-cert F --tls-key F TLS over --tcp with this certificate (PEM) and key\n"
		  "  --tls-client-ca F        and require a client certificate signed by this CA\n"
		  "  --verbose                log connections opening and closing\n"
		  "signals: SIGUSR1 writes statistics, SIGUSR2 resumes reading, SIGTERM/SIGINT exit 0\n", f);
}

static uint64_t parse_u64(const char *s, const char *name)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, "fwd_receiver: %s wants a non-negative integer, not \"%s\"\n", name, s);
		exit(2);
	}
	return v;
}

static void write_ready(const char *line)
{
	if (!opt.ready)
		return;
	size_t n = strlen(line);
	char *s = malloc(n + 2);
	if (!s)
		die_oom();
	memcpy(s, line, n);
	s[n] = '\n';
	if (write_atomic(opt.ready, s, n + 1) != 0)
		exit(1);
	free(s);
}

static void listen_tcp(void)
{
	char *hp = strdup(opt.tcp);
	if (!hp)
		die_oom();
	char *colon = strrchr(hp, ':');
	if (!colon) {
		fprintf(stderr, "fwd_receiver: --tcp wants HOST:PORT, not \"%s\"\n", opt.tcp);
		exit(2);
	}
	*colon = '\0';
	char *host = hp, *port = colon + 1;
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		host++;
	}
	struct addrinfo hints, *ai = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	int r = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
	if (r) {
		fprintf(stderr, "fwd_receiver: %s: %s\n", opt.tcp, gai_strerror(r));
		exit(1);
	}
	uv_tcp_init(loop, &lst.tcp);
	if ((r = uv_tcp_bind(&lst.tcp, ai->ai_addr, 0)) || (r = uv_listen(&lst.stream, 511, on_connection))) {
		fprintf(stderr, "fwd_receiver: listen on %s: %s\n", opt.tcp, uv_strerror(r));
		exit(1);
	}
	freeaddrinfo(ai);
	free(hp);
	struct sockaddr_storage ss;
	int len = sizeof ss;
	uv_tcp_getsockname(&lst.tcp, (struct sockaddr *)&ss, &len);
	unsigned p = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
										  : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	char line[16];
	snprintf(line, sizeof line, "%u", p);
	write_ready(line);
	if (opt.verbose)
		fprintf(stderr, "fwd_receiver: listening on TCP port %s\n", line);
}

static void listen_unix(void)
{
	struct stat sb;
	if (lstat(opt.unix_path, &sb) == 0 && S_ISSOCK(sb.st_mode))
		unlink(opt.unix_path);   /* left by an earlier run */
	uv_pipe_init(loop, &lst.pipe, 0);
	int r;
	if ((r = uv_pipe_bind(&lst.pipe, opt.unix_path)) ||
		(r = uv_listen(&lst.stream, 511, on_connection))) {
		fprintf(stderr, "fwd_receiver: listen on %s: %s\n", opt.unix_path, uv_strerror(r));
		exit(1);
	}
	write_ready(opt.unix_path);
	if (opt.verbose)
		fprintf(stderr, "fwd_receiver: listening on %s\n", opt.unix_path);
}

int main(int argc, char **argv)
{
	enum { O_TCP = 256, O_UNIX, O_READY, O_OUT, O_COUNT, O_MATCH, O_STATS, O_MAXF, O_CLOSE, O_STOP, O_REFUSE,
		   O_WRONG, O_NOACK, O_EXIT, O_VERBOSE, O_HELP, O_ACKDELAY, O_GARBAGE,
		   O_KEY, O_SELFHOST, O_USER, O_PASS, O_WRONGPONG, O_REFUSEAUTH, O_PONGMISMATCH, O_HELOBIN,
		   O_TLSCERT, O_TLSKEY, O_TLSCA };
	static const struct option lo[] = {
		{ "tcp", required_argument, NULL, O_TCP },
		{ "unix", required_argument, NULL, O_UNIX },
		{ "ready", required_argument, NULL, O_READY },
		{ "out", required_argument, NULL, O_OUT },
		{ "count-only", no_argument, NULL, O_COUNT },
		{ "count-match", required_argument, NULL, O_MATCH },
		{ "stats", required_argument, NULL, O_STATS },
		{ "max-frame", required_argument, NULL, O_MAXF },
		{ "close-after", required_argument, NULL, O_CLOSE },
		{ "stop-reading-after", required_argument, NULL, O_STOP },
		{ "refuse", no_argument, NULL, O_REFUSE },
		{ "wrong-ack", no_argument, NULL, O_WRONG },
		{ "no-ack", no_argument, NULL, O_NOACK },
		{ "ack-delay", required_argument, NULL, O_ACKDELAY },
		{ "garbage", no_argument, NULL, O_GARBAGE },
		{ "shared-key", required_argument, NULL, O_KEY },
		{ "self-hostname", required_argument, NULL, O_SELFHOST },
		{ "username", required_argument, NULL, O_USER },
		{ "password", required_argument, NULL, O_PASS },
		{ "wrong-pong", no_argument, NULL, O_WRONGPONG },
		{ "refuse-auth", no_argument, NULL, O_REFUSEAUTH },
		{ "pong-on-mismatch", no_argument, NULL, O_PONGMISMATCH },
		{ "helo-bin", no_argument, NULL, O_HELOBIN },
		{ "tls-cert", required_argument, NULL, O_TLSCERT },
		{ "tls-key", required_argument, NULL, O_TLSKEY },
		{ "tls-client-ca", required_argument, NULL, O_TLSCA },
		{ "exit-after-frames", required_argument, NULL, O_EXIT },
		{ "verbose", no_argument, NULL, O_VERBOSE },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (ch) {
		case O_TCP: opt.tcp = optarg; break;
		case O_UNIX: opt.unix_path = optarg; break;
		case O_READY: opt.ready = optarg; break;
		case O_OUT: opt.out = optarg; break;
		case O_COUNT: opt.count_only = true; break;
		case O_MATCH: opt.match = optarg; opt.match_len = strlen(optarg); break;
		case O_STATS: opt.stats = optarg; break;
		case O_MAXF: opt.max_frame = parse_u64(optarg, "--max-frame"); break;
		case O_CLOSE: opt.close_after = parse_u64(optarg, "--close-after"); break;
		case O_STOP: opt.stop_reading_after = parse_u64(optarg, "--stop-reading-after"); break;
		case O_REFUSE: opt.refuse = true; break;
		case O_WRONG: opt.wrong_ack = true; break;
		case O_NOACK: opt.no_ack = true; break;
		case O_ACKDELAY: opt.ack_delay_ms = parse_u64(optarg, "--ack-delay"); break;
		case O_GARBAGE: opt.garbage = true; break;
		case O_KEY: opt.shared_key = optarg; break;
		case O_SELFHOST: opt.self_hostname = optarg; break;
		case O_USER: opt.username = optarg; break;
		case O_PASS: opt.password = optarg; break;
		case O_WRONGPONG: opt.wrong_pong = true; break;
		case O_REFUSEAUTH: opt.refuse_auth = true; break;
		case O_PONGMISMATCH: opt.pong_on_mismatch = true; break;
		case O_HELOBIN: opt.helo_bin = true; break;
		case O_TLSCERT: opt.tls_cert = optarg; break;
		case O_TLSKEY: opt.tls_key = optarg; break;
		case O_TLSCA: opt.tls_client_ca = optarg; break;
		case O_EXIT: opt.exit_after_frames = parse_u64(optarg, "--exit-after-frames"); break;
		case 'v': case O_VERBOSE: opt.verbose = true; break;
		case 'h': case O_HELP: usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !opt.tcp == !opt.unix_path) {
		usage(stderr);
		return 2;
	}
	if ((opt.username || opt.password || opt.wrong_pong || opt.refuse_auth || opt.pong_on_mismatch || opt.helo_bin) &&
	    !opt.shared_key) {
		fputs("fwd_receiver: the handshake options need --shared-key\n", stderr);
		return 2;
	}
	if (opt.shared_key && (!*opt.shared_key || strlen(opt.self_hostname) > 255)) {
		fputs("fwd_receiver: --shared-key must not be empty, --self-hostname at most 255 bytes\n", stderr);
		return 2;
	}
	if (!opt.tls_cert != !opt.tls_key || (opt.tls_client_ca && !opt.tls_cert) || (opt.tls_cert && opt.unix_path)) {
		fputs("fwd_receiver: --tls-cert and --tls-key go together, over --tcp; --tls-client-ca needs them\n", stderr);
		return 2;
	}
	if (opt.tls_cert)
		tls_setup();
	/* a gzip payload's length is handed to zlib as a uInt */
	if (opt.max_frame < 16 || opt.max_frame > (1u << 30)) {
		fputs("fwd_receiver: --max-frame must be between 16 and 1073741824\n", stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);   /* a sender that vanished must not kill us while we ack */

	if (!opt.out || strcmp(opt.out, "-") == 0) {
		out = stdout;
	} else if (!(out = fopen(opt.out, "a"))) {   /* append: a restarted receiver keeps earlier lines */
		fprintf(stderr, "fwd_receiver: %s: %s\n", opt.out, strerror(errno));
		return 1;
	}
	setvbuf(out, NULL, _IOFBF, 1 << 20);
	if (!(g_zone = msgpack_zone_new(64 * 1024)))
		die_oom();

	loop = uv_default_loop();
	uv_signal_init(loop, &sig_usr1);
	uv_signal_init(loop, &sig_usr2);
	uv_signal_init(loop, &sig_term);
	uv_signal_init(loop, &sig_int);
	uv_signal_start(&sig_usr1, on_signal, SIGUSR1);
	uv_signal_start(&sig_usr2, on_signal, SIGUSR2);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	if (opt.tcp)
		listen_tcp();
	else
		listen_unix();

	uv_run(loop, UV_RUN_DEFAULT);

	fflush(out);
	write_stats();
	if (force_timer_init)
		uv_close((uv_handle_t *)&force_timer, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	if (opt.unix_path)
		unlink(opt.unix_path);
	if (out != stdout)
		fclose(out);
	msgpack_zone_free(g_zone);
	for (size_t i = 0; i < tags_cap; i++)
		free(tags[i].tag);
	free(tags);
	free(g_json.p);
	free(g_inflate.p);
	free(g_tagjson.p);
	free(g_framejson.p);
	free(g_delays);
	SSL_CTX_free(g_tls);
	return 0;
}
