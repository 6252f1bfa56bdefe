/* pack_bench.c: the record packer alone: nanoseconds to pack one vfs record, over many rounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "schema.h"

int main(int argc, char **argv)
{
	/* the path: the benchmark's marker, or argv[2] (one with bytes >= 0x80 times the escape's slow path) */
	const char *path = argc > 2 ? argv[2] : "/tmp/ebpf-forward-bench-abcdef/marker-12345";
	long rounds = argc > 1 ? atol(argv[1]) : 10000000;
	size_t plen = strnlen(path, 256);
	uint8_t buf[512];
	struct mpbuf out = {0};
	struct timespec a, b;
	struct ev_vfs e;
	const char *where;

	/* a record like the benchmark's: a failed open of the marker path */
	memset(&e, 0, sizeof(e));
	e.h.type = EV_VFS;
	e.h.size = (uint16_t)(sizeof(e) + plen + 1);
	e.h.pid = e.h.tid = 1234;
	e.h.ppid = 999;
	e.h.event_id = 77777;
	e.h.mntns_id = 4026531832ULL;
	e.h.cgroup_id = 1;
	memcpy(e.h.comm, "benchgen12345", 13);
	e.path.off = sizeof(e);
	e.path.len = (uint16_t)plen;
	e.resolved_path.off = (uint16_t)(sizeof(e) + plen + 1);
	e.resolved_path.len = 0;
	e.fd = -1;
	e.error_raw = 2;
	memcpy(buf, &e, sizeof(e));
	memcpy(buf + sizeof(e), path, plen + 1);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < rounds; i++) {
		out.len = 0;
		enum schema_error err = schema_pack(&out, buf, e.h.size, &where);

		if (err != SCHEMA_OK) {
			fprintf(stderr, "pack_bench: %s%s%s\n", schema_strerror(err), where ? ", field " : "",
				where ? where : "");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("{\"ns_per_record\": %.1f, \"record_bytes\": %zu, \"rounds\": %ld}\n",
	       ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)rounds, out.len,
	       rounds);
	mpbuf_free(&out);
	return 0;
}
