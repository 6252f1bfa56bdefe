/* unit_sandbox.c: runs a command under an allow list of system calls, as systemd's SystemCallFilter= would. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <seccomp.h>

/*
 * usage: unit_sandbox FILE COMMAND [ARG...]. FILE lists the allowed calls, one
 * a line (tests/unit_syscalls.py makes it from the unit); any other call fails
 * with EPERM (the unit's SystemCallErrorNumber=EPERM). execve is allowed, as
 * systemd's own list always allows what starting the service needs.
 */
int main(int argc, char **argv)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	char name[128];
	FILE *f;
	int n = 0;

	if (argc < 3 || !ctx || !(f = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: unit_sandbox FILE COMMAND [ARG...]\n");
		return 2;
	}
	while (fscanf(f, "%127s", name) == 1) {
		int nr = seccomp_syscall_resolve_name(name);

		if (nr != __NR_SCMP_ERROR && seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) == 0)
			n++;
	}
	fclose(f);
	seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(execve), 0);
	if (n < 50 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || seccomp_load(ctx)) {
		fprintf(stderr, "unit_sandbox: cannot install the filter (%d calls): %s\n", n, strerror(errno));
		return 2;
	}
	execv(argv[2], argv + 2);
	fprintf(stderr, "unit_sandbox: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
