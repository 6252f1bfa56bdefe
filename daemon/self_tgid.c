/* self_tgid.c: the daemon's global tgid, found once at start-up by bpf/self.bpf.c seeing its own prctl. */
#include <errno.h>
#include <sys/prctl.h>
#include <sys/random.h>

#include "self.h"
#include "self.skel.h"
#include "self_tgid.h"

int self_tgid_find(uint32_t *tgid)
{
	struct self_bpf *skel = self_bpf__open();
	uint64_t cookie = 0;
	int rc;

	if (!skel)
		return -errno;
	if (getrandom(&cookie, sizeof(cookie), 0) != sizeof(cookie) || !cookie) {
		rc = -EIO;
		goto out;
	}
	skel->rodata->self_cookie = cookie;
	rc = self_bpf__load(skel);
	if (!rc)
		rc = self_bpf__attach(skel);
	if (rc)
		goto out;
	/* Fails with EINVAL (no such option); the program has seen it on the way in. */
	prctl(SELF_PRCTL_OPTION, (unsigned long)cookie, 0UL, 0UL, 0UL);
	if (!skel->bss->self_tgid) {
		rc = -ENOENT;
		goto out;
	}
	*tgid = skel->bss->self_tgid;
out:
	self_bpf__destroy(skel);
	return rc;
}
