/* privs.h: drop from root to an unprivileged account with no capabilities. */
#ifndef EBPF_FORWARD_PRIVS_H
#define EBPF_FORWARD_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The account the daemon becomes. */
struct privs_account {
	char name[256];
	uid_t uid;
	gid_t gid;
	bool fallback;   /* the default account is missing: nobody */
};

/* Resolves user (and group) as privs_drop will; 0, or -1 with a message in err. */
int privs_account(const char *user, bool required, const char *group, struct privs_account *out, char *err,
		  size_t errlen);

/*
 * Switches to user, with group (or the user's primary group when group is
 * empty) and no supplementary groups, and clears every capability set, the
 * bounding set included. When the account does not exist and was not asked
 * for explicitly (required false), falls back to "nobody". Returns 0, or -1
 * with a message in err.
 */
int privs_drop(const char *user, bool required, const char *group, char *err, size_t errlen);

/* True when the process holds no capability in its effective, permitted or inheritable sets. */
bool privs_none_left(void);

#endif
