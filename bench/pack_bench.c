/*
 * pack_bench.c: the record packer alone: nanoseconds to pack one vfs record, over many rounds.
 * pack_bench [ROUNDS] [CGROUP_DIR|-] [PATH]: with a cgroup v2 directory, the record is that cgroup's and
 * container_id is looked up in the cache the start-up walk filled (the hot path: a hit). PATH is the
 * record's path (at most 255 bytes), the benchmark's marker by default: one with bytes >= 0x80 times
 * the escape's slow path (daemon/strsafe.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "container.h"
#include "events.h"
#include "schema.h"

int main(int argc, char **argv)
{
	const char *path = argc > 3 ? argv[3] : "/tmp/ebpf-forward-bench-abcdef/marker-12345";
	long rounds = argc > 1 ? atol(argv[1]) : 10000000;
	size_t plen = strnlen(path, 256);
	uint8_t buf[512];
	struct mpbuf out = {0};
	struct timespec a, b;
	struct ev_vfs e;
	const char *where, *cid = "(not looked up)";
	char err[512];
	size_t cid_len;
	volatile size_t sink = 0;
	double per_record;
	struct container_stats cst;

	/* a record like the benchmark's: a failed open of the marker path */
	memset(&e, 0, sizeof(e));
	e.h.type = EV_VFS;
	e.h.size = (uint16_t)(sizeof(e) + plen + 1);
	e.h.pid = e.h.tid = 1234;
	e.h.ppid = 999;
	e.h.event_id = 77777;
	e.h.mntns_id = 4026531832ULL;
	e.h.cgroup_id = 1;
	if (argc > 2 && strcmp(argv[2], "-") != 0) {
		struct stat st;

		if (stat(argv[2], &st) || container_start(NULL, err, sizeof(err))) {
			fprintf(stderr, "pack_bench: %s: %s\n", argv[2], err);
			return 1;
		}
		e.h.cgroup_id = st.st_ino;
		cid = container_of(e.h.cgroup_id, 0, &cid_len);
	}
	memcpy(e.h.comm, "benchgen12345", 13);
	e.path.off = sizeof(e);
	e.path.len = (uint16_t)plen;
	e.fd = -1;
	e.error_raw = 2;
	/* no resolved_path (Vfs_Resolved_Path off): empty, at the end */
	e.resolved_path.off = e.h.size;
	memcpy(buf, &e, sizeof(e));
	memcpy(buf + sizeof(e), path, plen + 1);
	/* CPU time, not wall time: what the host takes away (steal) is left out, as in the daemon's figure */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (long i = 0; i < rounds; i++) {
		out.len = 0;
		enum schema_error err = schema_pack(&out, buf, e.h.size, &where);

		if (err != SCHEMA_OK) {
			fprintf(stderr, "pack_bench: %s%s%s\n", schema_strerror(err), where ? ", field " : "",
				where ? where : "");
			return 1;
		}
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	per_record = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)rounds;
	/* the lookup alone, as the packer makes it once per record */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (long i = 0; i < rounds; i++)
		sink += (size_t)container_of(e.h.cgroup_id, e.h.ts_ns, &cid_len)[0] + cid_len;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	container_stats(&cst);
	printf("{\"ns_per_record\": %.1f, \"record_bytes\": %zu, \"rounds\": %ld, \"container_id\": \"%s\", "
	       "\"ns_per_container_lookup\": %.1f, \"cgroups_walked\": %llu, \"walk_us\": %.1f}\n",
	       per_record, out.len, rounds, cid,
	       ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)rounds,
	       (unsigned long long)cst.dirs, (double)cst.walk_ns / 1e3);
	container_stop();
	mpbuf_free(&out);
	return 0;
}
