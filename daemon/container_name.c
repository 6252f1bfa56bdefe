/* container_name.c: the table of cgroup names the container runtimes give, and the id read from one. */
#include <string.h>

#include "container_name.h"

/*
 * A container's cgroup is PREFIX, the 64-hex id, SUFFIX, and nothing else.
 * Whatever else sits beside a container (CRI-O's and podman's conmon,
 * "crio-conmon-ID.scope", a pod's "pod<uid>" directory, systemd's slices) fails
 * the hex test or the length, so it is not a container.
 */
static const struct {
	const char *prefix;
	const char *suffix;
} rules[] = {
	{"cri-containerd-", ".scope"}, /* containerd, systemd cgroup driver */
	{"crio-", ".scope"},           /* CRI-O, systemd driver */
	{"crio-", ""},                 /* CRI-O, cgroupfs driver */
	{"docker-", ".scope"},         /* Docker, systemd driver */
	{"libpod-", ".scope"},         /* podman, systemd driver */
	{"libpod-", ""},               /* podman, cgroupfs driver */
	{"", ""},                      /* containerd and Docker, cgroupfs driver: .../pod<uid>/ID, /docker/ID */
};

static bool is_id(const char *s)
{
	for (size_t i = 0; i < CONTAINER_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool container_name_id(const char *name, size_t len, char out[CONTAINER_ID_LEN])
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		size_t pl = strlen(rules[i].prefix), sl = strlen(rules[i].suffix);

		if (len != pl + CONTAINER_ID_LEN + sl || memcmp(name, rules[i].prefix, pl) != 0 ||
		    memcmp(name + pl + CONTAINER_ID_LEN, rules[i].suffix, sl) != 0 || !is_id(name + pl))
			continue;
		memcpy(out, name + pl, CONTAINER_ID_LEN);
		return true;
	}
	return false;
}

bool container_name_of_path(const char *path, char out[CONTAINER_ID_LEN])
{
	size_t end = strlen(path);

	while (end > 0) {
		size_t start = end;

		while (start > 0 && path[start - 1] != '/')
			start--;
		if (end > start && container_name_id(path + start, end - start, out))
			return true;
		/* past the '/' before this component */
		end = start > 0 ? start - 1 : 0;
	}
	return false;
}
