/* sandbox.c: the seccomp filter (libseccomp) of the unprivileged daemon: a list of calls it gives up. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <seccomp.h>

#include "sandbox.h"

/*
 * What an attacker who took over the running daemon would want, and the daemon
 * never does after start-up: the traces are loaded and attached, the account is
 * final, nothing is executed. A deny list rather than an allow list: libuv,
 * libbpf's ring reads and glibc's resolver use calls that vary by version, and
 * a missing one must not kill delivery; the unit's SystemCallFilter= adds an
 * allow list on top where systemd runs it.
 */
static const char *const denied[] = {
	"bpf", "perf_event_open", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
	"execve", "execveat",
	"mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig",
	"unshare", "setns",
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid", "setgroups",
	"capset", "personality",
	"add_key", "request_key", "keyctl",
	"open_by_handle_at", "name_to_handle_at", "userfaultfd", "iopl", "ioperm", "acct", "swapon", "swapoff",
	"settimeofday", "clock_settime", "adjtimex", "clock_adjtime", "sethostname", "setdomainname",
	"quotactl", "syslog", "vhangup",
};

int sandbox_enter(char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int n = 0, rc;

	if (!ctx) {
		snprintf(err, errlen, "seccomp: cannot start a filter");
		return -1;
	}
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);

		/* a call this architecture does not have needs no rule */
		if (nr == __NR_SCMP_ERROR)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (rc) {
			snprintf(err, errlen, "seccomp: cannot deny %s: %s", denied[i], strerror(-rc));
			seccomp_release(ctx);
			return -1;
		}
		n++;
	}
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc) {
		snprintf(err, errlen, "seccomp: cannot load the filter: %s", strerror(-rc));
		return -1;
	}
	return n;
}
