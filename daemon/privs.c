/* privs.c: once the traces are attached, become an ordinary user; the rings stay readable. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "privs.h"

bool privs_none_left(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return false;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return false;
	return true;
}

int privs_account(const char *user, bool required, const char *group, struct privs_account *out, char *err,
		  size_t errlen)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (!pw && required) {
		snprintf(err, errlen, "User %s: no such account", user);
		return -1;
	}
	if (!pw) {
		pw = getpwnam("nobody");
		if (!pw) {
			snprintf(err, errlen, "neither account %s nor nobody exists", user);
			return -1;
		}
		out->fallback = true;
	}
	snprintf(out->name, sizeof(out->name), "%s", pw->pw_name);
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	if (group && group[0]) {
		/* e.g. Fluent Bit's group, to reach its socket when that is 0660 */
		struct group *gr = getgrnam(group);

		if (!gr) {
			snprintf(err, errlen, "Group %s: no such group", group);
			return -1;
		}
		out->gid = gr->gr_gid;
	}
	return 0;
}

int privs_drop(const char *user, bool required, const char *group, char *err, size_t errlen)
{
	struct privs_account a = {0};
	uid_t uid;
	gid_t gid;

	if (privs_account(user, required, group, &a, err, errlen))
		return -1;
	if (a.fallback)
		log_warn("account %s does not exist (meson install creates it); running as nobody", user);
	uid = a.uid;
	gid = a.gid;
	if (uid == 0) {
		snprintf(err, errlen, "User %s is root: refusing to keep root after start-up", a.name);
		return -1;
	}
	/* root's group can read and write what root's files let it: the same door */
	if (gid == 0) {
		snprintf(err, errlen, "%s %s has gid 0 (root's group): refusing to keep it after start-up",
			 group && group[0] ? "Group" : "User", group && group[0] ? group : a.name);
		return -1;
	}

	/* The bounding set first: dropping from it needs CAP_SETPCAP, gone after setuid. */
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL) {
			snprintf(err, errlen, "cannot drop capability %d from the bounding set: %s", cap,
				 strerror(errno));
			return -1;
		}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) || setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid)) {
		snprintf(err, errlen, "cannot switch to user %s (uid %u, gid %u): %s", a.name,
			 (unsigned)uid, (unsigned)gid, strerror(errno));
		return -1;
	}
	/* Nothing this process executes later may gain privileges back. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	/*
	 * Not dumpable: a process of the same uid can then neither ptrace this one
	 * nor open its /proc files, so it cannot take the BPF fds or read the
	 * rings' memory. (A uid change sets this already; say it outright.)
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
		snprintf(err, errlen, "cannot clear the dumpable flag: %s", strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || !privs_none_left()) {
		snprintf(err, errlen, "privileges are still held after switching to %s", a.name);
		return -1;
	}
	log_info("running as %s (uid %u, gid %u) with no capabilities", a.name, (unsigned)uid,
		 (unsigned)gid);
	return 0;
}
