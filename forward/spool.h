/* spool.h: frames on disk, one file each, in sequence order: they survive a restart or a SIGKILL. */
#ifndef FWD_SPOOL_H
#define FWD_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pack.h"

/* The largest frame a spool file may hold: a frame is at most 4 MiB, gzip can add a little. */
#define FWD_SPOOL_FRAME_MAX (8u << 20)

enum fwd_spool_sync {
	FWD_SPOOL_SYNC_NORMAL,  /* the file system's own pace, and fwd_spool_sync now and then */
	FWD_SPOOL_SYNC_FULL,    /* every frame synced (file and directory) before put returns */
};

struct fwd_spool_config {
	const char *dir;             /* an existing directory the process can write */
	uint64_t limit;              /* bytes of spool files at most */
	enum fwd_spool_sync sync;
	/* messages (a file set aside, a failed sync); may be NULL */
	void (*log)(void *ctx, bool error, const char *msg);
	void *log_ctx;
};

/* One frame read back: its bytes (malloc'd, the caller frees them) and what the queue needs. */
struct fwd_spool_frame {
	uint64_t seq;
	uint8_t *buf;
	size_t size;
	uint32_t entries;
	bool has_id;
	char id[FWD_CHUNK_ID_LEN + 1];
};

struct fwd_spool;

/*
 * Opens dir and lists the frames already in it (left by an earlier run), oldest
 * first. Files that are not frames are left alone. NULL with a message in err
 * when dir cannot be used.
 */
struct fwd_spool *fwd_spool_open(const struct fwd_spool_config *cfg, char *err, size_t errlen);

/*
 * Writes one frame as the file of seq (which must be new). -1 with the reason
 * in err when it does not fit under the limit or the write failed (a full
 * disk): nothing is left behind then, and the caller counts the frame as lost.
 */
int fwd_spool_put(struct fwd_spool *s, uint64_t seq, const uint8_t *frame, size_t size, uint32_t entries,
		  const char *id, char *err, size_t errlen);

/*
 * The oldest frame not handed out yet, read and checked: 1 and out filled, or
 * 0 when there is none. A file that is torn or corrupt is renamed NAME.bad,
 * logged with its name and why, and skipped.
 */
int fwd_spool_next(struct fwd_spool *s, struct fwd_spool_frame *out);

/* Deletes the frame of seq (it was acked); unknown seqs are ignored. */
void fwd_spool_remove(struct fwd_spool *s, uint64_t seq);

/* Syncs what was written since the last sync (NORMAL mode calls this on a timer). */
void fwd_spool_sync(struct fwd_spool *s);

/* Frames on disk and their bytes (files, headers included); not yet handed out. */
size_t fwd_spool_count(const struct fwd_spool *s);
size_t fwd_spool_pending(const struct fwd_spool *s);
uint64_t fwd_spool_bytes(const struct fwd_spool *s);

/* The file size of the frame fwd_spool_next would give (0: none), to see whether it fits in memory. */
uint64_t fwd_spool_next_bytes(const struct fwd_spool *s);

/* A sequence number above every frame on disk: where a new run goes on counting. */
uint64_t fwd_spool_next_seq(const struct fwd_spool *s);

/* Files set aside as .bad since open. */
uint64_t fwd_spool_set_aside(const struct fwd_spool *s);

/* Syncs and frees; the files stay. */
void fwd_spool_close(struct fwd_spool *s);

#endif
