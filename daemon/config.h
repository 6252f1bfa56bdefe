/* config.h: the INI configuration file, parsed and validated into one struct. */
#ifndef EBPF_FORWARD_CONFIG_H
#define EBPF_FORWARD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace_opts.h"

#define CONFIG_MAX_TRACES 16
#define CONFIG_NAME_MAX 256
#define CONFIG_PATH_MAX TRACE_PATH_MAX

enum config_log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

enum config_output { OUTPUT_STDOUT = 0, OUTPUT_FORWARD };

struct config {
	/* [SERVICE] */
	char user[CONFIG_NAME_MAX];        /* User: account to drop to */
	bool user_set;                     /* User given explicitly (missing account is then an error) */
	char group[CONFIG_NAME_MAX];       /* Group: primary group to run as; empty = the user's */
	enum config_log_level log_level;   /* Log_Level */
	unsigned stats_interval_s;         /* Stats_Interval: seconds between stats log lines, 0 = off */
	bool metrics_records;              /* Metrics_Records: the same counters as records, event_type "metrics" */

	/* [INPUT] */
	char traces[CONFIG_MAX_TRACES][CONFIG_NAME_MAX]; /* Trace: canonical names without "trace_" */
	unsigned trace_count;
	int trace_line[CONFIG_MAX_TRACES]; /* line of each Trace key, for later errors */
	struct trace_opts trace;           /* Ringbuf_Size, Poll_Ms, Pid, Uid, Cgroup, Comm, Mount_Ns, Libc_Path */

	/* [OUTPUT] */
	enum config_output output;         /* Name: stdout | forward */
	char tag[CONFIG_NAME_MAX];         /* Tag: '*' is replaced by the event type */
	char host[CONFIG_NAME_MAX];        /* Host */
	uint16_t port;                     /* Port */
	char unix_path[CONFIG_PATH_MAX];   /* Unix_Path: Unix socket instead of TCP */
	uint64_t buffer_limit;             /* Buffer_Limit: bytes held while the receiver is away */
	uint64_t frame_size;               /* Frame_Size: a frame is sealed at this many bytes */
	unsigned flush_ms;                 /* Flush_Ms: a frame is sealed after this long */
	bool require_ack;                  /* Require_Ack_Response: keep frames until Fluent Bit acks them */
	bool compress_gzip;                /* Compress: gzip each frame's entries (CompressedPackedForward) */

	const char *path;                  /* file it came from (not owned) */
};

/* Fills cfg with defaults. */
void config_defaults(struct config *cfg);

/*
 * Reads and validates path into cfg (defaults first). On error returns -1 and
 * writes "path:line: message" (or "path: message") into err.
 */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/* Same as config_load, from a string (for tests); name stands for the path in messages. */
int config_load_string(struct config *cfg, const char *text, const char *name, char *err, size_t errlen);

#endif
