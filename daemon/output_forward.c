/* output_forward.c: the forward output: a PackedForward frame per tag, sealed by size or by timer. */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "config.h"
#include "log.h"
#include "output_forward.h"
#include "pack.h"
#include "spool.h"
#include "tls.h"

/*
 * A frame starts as large as the tag's last one was (at least this): small
 * while records trickle in and the timer seals frames, a whole frame under
 * load, so it is not copied as it grows (1 MiB frames grew 7 times).
 */
#define FRAME_INITIAL 16384
/* the room a whole frame needs: frame_size, the record that crossed it, the options map */
#define FRAME_WHOLE(size) ((size) + (size) / 8 + 4096)

struct tag_frame {
	struct fwd_frame f;
	bool open;
	size_t next_cap;     /* the room the next frame starts with */
};

struct output_forward {
	struct output base;
	struct fwd_client *client;
	struct fwd_tls_ctx *tls;             /* tls on: every TCP connection's settings, made as root */
	struct fwd_chunk_ids ids;
	struct tag_frame frames[OUTPUT_MAX_TAGS];
	size_t frame_size;
	unsigned flush_ms;
	bool require_ack;
	bool gzip;
	uv_timer_t flush_timer;
	struct fwd_spool_config spool;       /* dir empty: no spool */
	char spool_dir[4096 + 32];      /* Storage_Path/outputN */
	uint64_t records_in;
	uint64_t records_unframed;   /* could not be framed (allocation failure) */
	size_t entry_mark;           /* where record_begin's entry starts: record_end(!ok) cuts back to it */
	void (*done)(void *);
	void *done_arg;
	bool timer_closed, client_closed;
};

static void client_log(void *ctx, enum fwd_log_level level, const char *msg)
{
	static const enum config_log_level map[] = {LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG};

	(void)ctx;
	log_msg(map[level], "%s", msg);
}

static void seal_and_send(struct output_forward *o, struct tag_frame *tf)
{
	char id[FWD_CHUNK_ID_LEN + 1];
	uint32_t entries = tf->f.entries;
	size_t start, size, payload = fwd_frame_payload(&tf->f);
	uint8_t *buf;

	tf->open = false;
	if (payload >= o->frame_size)
		tf->next_cap = FRAME_WHOLE(o->frame_size);
	else /* halved at most per frame: under load the flush timer seals frames it caught half full */
		tf->next_cap = payload + 4096 > tf->next_cap / 2 ? payload + 4096 : tf->next_cap / 2;
	/* every entry of it was taken back (records that failed to pack): nothing to send */
	if (!entries) {
		fwd_frame_free(&tf->f);
		return;
	}
	if (o->require_ack)
		fwd_chunk_id_next(&o->ids, id);
	if ((o->gzip ? fwd_frame_seal_gzip : fwd_frame_seal)(&tf->f, o->require_ack ? id : NULL)) {
		o->records_unframed += entries;
		fwd_frame_free(&tf->f);
		return;
	}
	buf = fwd_frame_take(&tf->f, &start, &size);
	fwd_client_send(o->client, buf, start, size, entries, o->require_ack ? id : NULL);
}

static void seal_all(struct output_forward *o)
{
	for (size_t i = 0; i < OUTPUT_MAX_TAGS; i++)
		if (o->frames[i].open)
			seal_and_send(o, &o->frames[i]);
}

static void on_flush_timer(uv_timer_t *t)
{
	seal_all(t->data);
}

/* The tag's open frame, opened (and its flush timer started) if need be; NULL if it cannot be. */
static struct tag_frame *open_frame(struct output_forward *o, unsigned tag_id, const char *tag, size_t taglen)
{
	struct tag_frame *tf;

	if (tag_id >= OUTPUT_MAX_TAGS)
		return NULL;
	tf = &o->frames[tag_id];
	if (!tf->open) {
		size_t want = tf->next_cap > FRAME_INITIAL ? tf->next_cap : FRAME_INITIAL, cap;
		/* an earlier frame's buffer, when the client kept one: no new pages to fault in */
		uint8_t *buf = fwd_client_reuse(o->client, fwd_frame_room(taglen, want), &cap);

		if (buf) {
			fwd_frame_init_in(&tf->f, tag, taglen, buf, cap);
		} else if (fwd_frame_init(&tf->f, tag, taglen, want)) {
			o->records_unframed++;
			return NULL;
		}
		tf->open = true;
		/* a lone record leaves within flush_ms */
		if (!uv_is_active((uv_handle_t *)&o->flush_timer))
			uv_timer_start(&o->flush_timer, on_flush_timer, o->flush_ms, 0);
	}
	return tf;
}

/* A record is in the frame: counted, and the frame sent once it is full. */
static void entry_taken(struct output_forward *o, struct tag_frame *tf)
{
	o->records_in++;
	if (fwd_frame_payload(&tf->f) >= o->frame_size)
		seal_and_send(o, tf);
}

static struct mpbuf *fwd_record_begin(struct output *base, unsigned tag_id, const char *tag, size_t taglen,
				      struct evtime t)
{
	struct output_forward *o = (struct output_forward *)base;
	struct tag_frame *tf = open_frame(o, tag_id, tag, taglen);
	struct mpbuf *b = tf ? fwd_frame_begin(&tf->f, t.sec, t.nsec, &o->entry_mark) : NULL;

	if (tf && !b)
		o->records_unframed++;
	return b;
}

static void fwd_record_end(struct output *base, unsigned tag_id, bool ok)
{
	struct output_forward *o = (struct output_forward *)base;
	struct tag_frame *tf = &o->frames[tag_id];

	if (!ok) {
		fwd_frame_cancel(&tf->f, o->entry_mark);
		return;
	}
	fwd_frame_end(&tf->f);
	entry_taken(o, tf);
}

static int fwd_write(struct output *base, unsigned tag_id, const char *tag, size_t taglen,
		     struct evtime t, const char *record, size_t len)
{
	struct output_forward *o = (struct output_forward *)base;
	struct tag_frame *tf = open_frame(o, tag_id, tag, taglen);

	if (!tf)
		return -1;
	if (fwd_frame_add(&tf->f, t.sec, t.nsec, record, len)) {
		o->records_unframed++;
		return -1;
	}
	entry_taken(o, tf);
	return 0;
}

static void spool_log(void *ctx, bool error, const char *msg)
{
	(void)ctx;
	log_msg(error ? LOG_LVL_ERROR : LOG_LVL_INFO, "forward: %s", msg);
}

/* As User= now: the spool belongs to the unprivileged daemon, as its files will. */
static void fwd_start(struct output *base)
{
	struct output_forward *o = (struct output_forward *)base;
	char err[512];

	if (o->spool.dir) {
		struct fwd_spool *s;

		if (mkdir(o->spool.dir, 0700) && errno != EEXIST)
			log_error("forward: spool %s: cannot create: %s; frames stay in memory only", o->spool.dir,
				  strerror(errno));
		else if (!(s = fwd_spool_open(&o->spool, err, sizeof(err))))
			log_error("forward: %s; frames stay in memory only", err);
		else
			fwd_client_set_spool(o->client, s);
	}
	fwd_client_start(o->client);
}

static int fwd_flush(struct output *base)
{
	(void)base; /* frames are sealed by size and by the timer, not per drain */
	return 0;
}

static void maybe_done(struct output_forward *o)
{
	if (o->timer_closed && o->client_closed && o->done) {
		void (*done)(void *) = o->done;

		o->done = NULL;
		done(o->done_arg);
	}
}

static void on_timer_closed(uv_handle_t *h)
{
	struct output_forward *o = h->data;

	o->timer_closed = true;
	maybe_done(o);
}

static void on_client_closed(void *arg)
{
	struct output_forward *o = arg;

	o->client_closed = true;
	maybe_done(o);
}

static void fwd_close(struct output *base, unsigned deadline_ms, void (*done)(void *), void *arg)
{
	struct output_forward *o = (struct output_forward *)base;

	o->done = done;
	o->done_arg = arg;
	seal_all(o);
	uv_close((uv_handle_t *)&o->flush_timer, on_timer_closed);
	fwd_client_close(o->client, deadline_ms, on_client_closed, o);
}

static void fwd_stats(struct output *base, struct output_stats *st)
{
	struct output_forward *o = (struct output_forward *)base;
	struct fwd_client_stats cs;

	fwd_client_stats(o->client, &cs);
	st->records_in = o->records_in;
	st->records_sent = cs.entries_sent;
	st->records_acked = cs.entries_acked;
	st->records_dropped = cs.entries_dropped + o->records_unframed;
	st->buffered_bytes = cs.buffered_bytes;
	st->spooled_bytes = cs.spool_bytes;
	st->handshake_failures = cs.handshake_failures;
	st->connected = cs.connected;
}

static void fwd_destroy(struct output *base)
{
	struct output_forward *o = (struct output_forward *)base;

	for (size_t i = 0; i < OUTPUT_MAX_TAGS; i++)
		fwd_frame_free(&o->frames[i].f);
	fwd_client_free(o->client);
	fwd_tls_ctx_free(o->tls);
	free(o);
}

/* Storage_Path/outputN: output index's spool. */
static void spool_dir_of(char *out, size_t len, const struct config *cfg, unsigned index)
{
	snprintf(out, len, "%s/output%u", cfg->storage_path, index + 1);
}

int output_forward_own_spool(const struct config *cfg, unsigned index, unsigned uid, unsigned gid, char *err,
			     size_t errlen)
{
	char dir[4096 + 32];

	if (!cfg->storage_path[0])
		return 0;
	spool_dir_of(dir, sizeof(dir), cfg, index);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "Storage_Path: cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (chown(dir, (uid_t)uid, (gid_t)gid)) {
		snprintf(err, errlen, "Storage_Path: cannot give %s to uid %u: %s", dir, uid, strerror(errno));
		return -1;
	}
	return 0;
}

struct output *output_forward_new(uv_loop_t *loop, const struct config *cfg, unsigned index, char *err,
				  size_t errlen)
{
	const struct config_output *out = &cfg->outputs[index];
	struct output_forward *o = calloc(1, sizeof(*o));
	struct fwd_endpoint eps[CONFIG_MAX_RECEIVERS];
	struct fwd_client_config cc = {
		.endpoints = eps,
		.nendpoints = out->receiver_count,
		.require_ack = out->require_ack,
		.ack_timeout_ms = (unsigned)(out->ack_timeout_ns / 1000000),
		.buffer_limit = out->buffer_limit,
		.shared_key = out->shared_key,
		.self_hostname = out->self_hostname,
		.username = out->username,
		.password = out->password,
		.log = client_log,
	};

	for (unsigned i = 0; i < out->receiver_count; i++)
		eps[i] = (struct fwd_endpoint){
			.host = out->receivers[i].host, .port = out->receivers[i].port,
			.unix_path = out->receivers[i].unix_path[0] ? out->receivers[i].unix_path : NULL};
	/* resolved at start, as Group= is: the account may come with the Fluent Bit package after the file */
	if (out->unix_peer_user[0]) {
		struct passwd *pw = getpwnam(out->unix_peer_user);
		char *end;
		unsigned long uid = strtoul(out->unix_peer_user, &end, 10);

		if (!pw && (*end || !isdigit((unsigned char)out->unix_peer_user[0]))) {
			snprintf(err, errlen, "Unix_Peer_User %s: no such account", out->unix_peer_user);
			free(o);
			return NULL;
		}
		cc.unix_peer_check = true;
		cc.unix_peer_uid = pw ? (uint32_t)pw->pw_uid : (uint32_t)uid;
	}
	if (!o || fwd_chunk_ids_init(&o->ids)) {
		snprintf(err, errlen, "forward output: cannot set up (out of memory or no randomness)");
		free(o);
		return NULL;
	}
	/* the files are read now, as root: the key is not readable by the account the daemon drops to */
	if (out->tls) {
		struct fwd_tls_config tc = {
			.verify = out->tls_verify,
			.no_name_check = !out->tls_verify_hostname,
			.ca_file = out->tls_ca_file[0] ? out->tls_ca_file : NULL,
			.ca_path = out->tls_ca_path[0] ? out->tls_ca_path : NULL,
			.crt_file = out->tls_crt_file[0] ? out->tls_crt_file : NULL,
			.key_file = out->tls_key_file[0] ? out->tls_key_file : NULL,
		};

		if (!(o->tls = fwd_tls_ctx_new(&tc, err, errlen))) {
			free(o);
			return NULL;
		}
		cc.tls = o->tls;
		cc.tls_vhost = out->tls_vhost[0] ? out->tls_vhost : NULL;
		if (!out->tls_verify)
			log_warn("forward output %u: tls.verify is off: the receiver's certificate is not checked, so anyone "
				 "on the path can pose as it and read every record", index + 1);
		else if (!out->tls_verify_hostname)
			log_warn("forward output %u: tls.verify_hostname is off: any certificate of a trusted CA is "
				 "taken, whatever name it is for", index + 1);
	}
	o->client = fwd_client_new(loop, &cc);
	if (!o->client) {
		snprintf(err, errlen, "forward output: out of memory");
		fwd_tls_ctx_free(o->tls);
		free(o);
		return NULL;
	}
	if (cfg->storage_path[0]) {
		spool_dir_of(o->spool_dir, sizeof(o->spool_dir), cfg, index);
		o->spool = (struct fwd_spool_config){.dir = o->spool_dir, .limit = cfg->storage_limit,
						     .sync = cfg->storage_sync_full ? FWD_SPOOL_SYNC_FULL : FWD_SPOOL_SYNC_NORMAL,
						     .log = spool_log};
	}
	o->frame_size = out->frame_size;
	o->flush_ms = out->flush_ms;
	o->require_ack = out->require_ack;
	o->gzip = out->compress_gzip;
	uv_timer_init(loop, &o->flush_timer);
	o->flush_timer.data = o;
	o->base.start = fwd_start;
	o->base.write = fwd_write;
	o->base.record_begin = fwd_record_begin;
	o->base.record_end = fwd_record_end;
	o->base.flush = fwd_flush;
	o->base.close = fwd_close;
	o->base.stats = fwd_stats;
	o->base.destroy = fwd_destroy;
	log_info("forward output %u to %s%s%s, frames up to %zu bytes or %u ms, acks %s, %s, buffer %zu bytes%s%s",
		 index + 1, fwd_client_peer(o->client), out->receiver_count > 1 ? " (and the next receivers in turn)" : "",
		 !out->tls ? "" : out->tls_verify ? " over TLS" : " over TLS without verification",
		 o->frame_size, o->flush_ms, o->require_ack ? "on" : "off", o->gzip ? "gzip" : "not compressed",
		 (size_t)out->buffer_limit, o->spool.dir ? ", spool " : "", o->spool.dir ? o->spool.dir : "");
	return &o->base;
}
