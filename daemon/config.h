/* config.h: the INI configuration file, parsed and validated into one struct; its keys as one table. */
#ifndef EBPF_FORWARD_CONFIG_H
#define EBPF_FORWARD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace_opts.h"

#define CONFIG_MAX_TRACES 16
#define CONFIG_MAX_OUTPUTS 8
#define CONFIG_MAX_RECEIVERS 8
/* sun_path is 108 bytes, its NUL included. */
#define CONFIG_UNIX_PATH_MAX 108
/* A shared key or password, NUL included. */
#define CONFIG_SECRET_MAX 1024
#define CONFIG_NAME_MAX 256
#define CONFIG_PATH_MAX TRACE_PATH_MAX
/* A numeric IPv6 address's longest text, NUL included (INET6_ADDRSTRLEN). */
#define CONFIG_ADDR_MAX 46
/*
 * Longest line, leading and trailing blanks not counted: room for a path as
 * long as the kernel's PATH_MAX (a Kubernetes pod's cgroup is far shorter).
 */
#define CONFIG_LINE_MAX 4096

enum config_log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

enum config_output_name { OUTPUT_STDOUT = 0, OUTPUT_FORWARD };

/* A receiver of a forward output: a TCP host (port 0: the output's Port), or a Unix socket. */
struct config_receiver {
	char host[CONFIG_NAME_MAX];
	uint16_t port;
	char unix_path[CONFIG_UNIX_PATH_MAX];
	int line;                          /* where it was given; 0 for the default one */
};

/* One [OUTPUT] section. */
struct config_output {
	enum config_output_name output;    /* Name: stdout | forward */
	char match[CONFIG_NAME_MAX];       /* Match: which records, by ebpf.<event_type>; '*' matches any run */
	char tag[CONFIG_NAME_MAX];         /* Tag: '*' is replaced by the event type */
	struct config_receiver receivers[CONFIG_MAX_RECEIVERS]; /* Host, Unix_Path: in the order of their lines */
	unsigned receiver_count;           /* none given: 127.0.0.1 at Port */
	uint16_t port;                     /* Port: of every Host without one of its own */
	uint64_t buffer_limit;             /* Buffer_Limit: memory frames may hold while the receiver is away */
	uint64_t frame_size;               /* Frame_Size: a frame is sealed at this many bytes */
	unsigned flush_ms;                 /* Flush_Ms: a frame is sealed after this long */
	bool require_ack;                  /* Require_Ack_Response: keep frames until Fluent Bit acks them */
	bool compress_gzip;                /* Compress: gzip each frame's entries (CompressedPackedForward) */
	uint64_t ack_timeout_ns;           /* Ack_Timeout: no ack this long: reconnect and resend */
	char shared_key[CONFIG_SECRET_MAX];/* Shared_Key or Shared_Key_File: the handshake's; "" = none */
	char self_hostname[CONFIG_NAME_MAX];/* Self_Hostname: our name in the handshake */
	char username[CONFIG_NAME_MAX];    /* Username: when the receiver asks for users */
	char password[CONFIG_SECRET_MAX];  /* Password or Password_File */
	int secret_line;                   /* a secret given in the file itself (not a _File): its line */
	char unix_peer_user[CONFIG_NAME_MAX];/* Unix_Peer_User: a Unix socket's listener must be this account */
	bool tls;                          /* tls: TLS to the TCP receivers */
	bool tls_verify;                   /* tls.verify: their certificate chain and name are checked */
	bool tls_verify_hostname;          /* tls.verify_hostname: the name too (on here; off is Fluent Bit's default) */
	char tls_ca_file[CONFIG_PATH_MAX]; /* tls.ca_file, tls.ca_path: the CAs to trust; neither: the system's */
	char tls_ca_path[CONFIG_PATH_MAX];
	char tls_crt_file[CONFIG_PATH_MAX];/* tls.crt_file, tls.key_file: our certificate, for receivers that ask */
	char tls_key_file[CONFIG_PATH_MAX];
	char tls_vhost[CONFIG_NAME_MAX];   /* tls.vhost: the name the certificate must carry; "" = each Host */
	int line;                          /* of its [OUTPUT] */
};

/* One argument of the quick mode: -t TRACE, -o OUTPUT or -p KEY=VALUE. */
struct config_arg {
	char opt;                          /* 't', 'o' or 'p' */
	const char *value;
};

struct config {
	/* [SERVICE] */
	char user[CONFIG_NAME_MAX];        /* User: account to drop to */
	bool user_set;                     /* User given explicitly (missing account is then an error) */
	char group[CONFIG_NAME_MAX];       /* Group: primary group to run as; empty = the user's */
	enum config_log_level log_level;   /* Log_Level */
	unsigned stats_interval_s;         /* Stats_Interval: seconds between stats log lines, 0 = off */
	bool metrics_records;              /* Metrics_Records: the same counters as records, event_type "metrics" */
	char storage_path[CONFIG_PATH_MAX];/* Storage_Path: a forward output spools in its subdirectory outputN */
	uint64_t storage_limit;            /* Storage_Limit: bytes of spool per output */
	bool storage_sync_full;            /* Storage_Sync: full = every frame synced; normal = in batches */
	bool http_server;                  /* HTTP_Server: serve /metrics and /api/v1/health */
	char http_listen[CONFIG_ADDR_MAX]; /* HTTP_Listen: a numeric IPv4 or IPv6 address */
	uint16_t http_port;                /* HTTP_Port */

	/* [INPUT] */
	char traces[CONFIG_MAX_TRACES][CONFIG_NAME_MAX]; /* Trace: canonical names without "trace_" */
	unsigned trace_count;
	int trace_line[CONFIG_MAX_TRACES]; /* line of each Trace key, for later errors */
	struct trace_opts trace;           /* Ringbuf_Size, Poll_Ms, Pid, Uid, Cgroup, Comm, Mount_Ns, Libc_Path */

	/* [OUTPUT], one or more */
	struct config_output outputs[CONFIG_MAX_OUTPUTS];
	unsigned output_count;

	const char *path;                  /* file it came from (not owned); quick mode: "command line" */
	const struct config_arg *args;     /* quick mode: line N is args[N - 1] (not owned); NULL for a file */
	size_t arg_count;
};


/* Fills cfg with defaults: the key table's, read by the same code as the file's values. */
void config_defaults(struct config *cfg);

/*
 * Reads and validates path into cfg (defaults first). On error returns -1 and
 * writes "path:line: message" (or "path: message") into err.
 */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/* Same as config_load, from a string (for tests); name stands for the path in messages. */
int config_load_string(struct config *cfg, const char *text, const char *name, char *err, size_t errlen);

/*
 * The quick mode (config_args.c): builds cfg from -t, -o and -p arguments, in
 * their order, through the same rows and rules as a file. -t TRACE is a Trace;
 * -o starts an output (stdout, forward, HOST:PORT or [IPV6]:PORT, /PATH of a Unix
 * socket); -p KEY=VALUE sets the key of the section that has it, an [OUTPUT]
 * key on the last -o before it. No -o: stdout. args must outlive cfg. On error
 * returns -1 and writes "-p KEY=VALUE: message" (the argument) into err.
 */
int config_load_args(struct config *cfg, const struct config_arg *args, size_t n, char *err, size_t errlen);

/* Where line of cfg was given: "FILE:LINE", or in quick mode the argument ("-t exec"). */
const char *config_origin(const struct config *cfg, int line, char *buf, size_t len);

enum config_section { CONFIG_SERVICE, CONFIG_INPUT, CONFIG_OUTPUT, CONFIG_SECTIONS };

/* How a key's value is read (config.c). The types before CONFIG_WORD store a number, the rest a string. */
enum config_type {
	CONFIG_BOOL,   /* on/off, true/false, yes/no, 1/0 */
	CONFIG_UINT,   /* plain decimal in [min, max] */
	CONFIG_SIZE,   /* bytes, or a number with K, M or G, in [min, max] */
	CONFIG_DURATION, /* ns: 0, or a number with ns, us, ms or s, in [min, max] */
	CONFIG_ENUM,   /* one of choices, case-insensitive */
	CONFIG_LIST,   /* one of choices (the key repeats; its check keeps each value) */
	CONFIG_WORD,   /* printable ASCII without spaces */
	CONFIG_PATH,   /* absolute path; max: its longest, with the note why */
	CONFIG_TEXT,   /* any text, [min, max] bytes long if max; the key's check may say more */
};

/* An enum key's spelling and the number it stores. */
struct config_choice {
	const char *name;
	unsigned value;
};

struct config_parse;

/* One row of the key table: everything the reader, the defaults and --help-config know of a key. */
struct config_key {
	enum config_section section;
	const char *name;          /* canonical spelling, used in messages */
	enum config_type type;
	const char *def;           /* default as a user writes it; "(...)" only describes the unset state */
	size_t offset, size;       /* where the value lands in struct config; size 0: not kept */
	uint64_t min, max;         /* the value's range; for CONFIG_TEXT and CONFIG_PATH its length (max 0: none) */
	const char *what;          /* a bad value "is not" this: "a number of seconds" */
	const char *note;          /* said after the range, "0 = off"; with no_range instead of it; a path's max: why */
	bool no_range;             /* CONFIG_UINT: the range means nothing to a user; the note says it all */
	const char *wrap;          /* CONFIG_UINT: the number may also be written as wrap N ']' */
	const struct config_choice *choices; /* CONFIG_ENUM, CONFIG_LIST; NULL-terminated */
	/* The key's own rule after its type's (n: the number, or 0): 1 to keep the value, 0 refused. */
	int (*check)(struct config_parse *p, const char *value, uint64_t n);
	bool forward_only;         /* only with [OUTPUT] Name forward */
	bool repeats;              /* may be given more than once: its check keeps each value */
	const char *help;          /* one line for --help-config */
};

/* The key table, in the order of --help-config; *n gets its length. */
const struct config_key *config_keys(size_t *n);

/* By enum config_section: "SERVICE", "INPUT", "OUTPUT". */
extern const char *const config_section_names[CONFIG_SECTIONS];

/* A row's type with its range or choices, "size 4K-1G", "error|warn|info|debug", into buf; returns buf. */
const char *config_key_type(const struct config_key *k, char *buf, size_t len);

/* Prints every key, by section, with its type, default and help line (--help-config). */
int config_help(FILE *f);

#endif
