/*
 * deny_vm_readv.c - run a command under a seccomp filter that refuses
 * process_vm_readv(2) with ENOSYS or EPERM, as a container runtime's
 * seccomp profile does; every other system call is allowed.
 * For tests/e2e/test_sidecar.py.
 *
 * usage: deny-vm-readv ENOSYS|EPERM COMMAND [ARG...]
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define THIS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_ARCH AUDIT_ARCH_AARCH64
#else
#error "deny_vm_readv.c: add this machine's AUDIT_ARCH_*"
#endif

int main(int argc, char **argv)
{
	unsigned int e;

	if (argc < 3 || (strcmp(argv[1], "ENOSYS") && strcmp(argv[1], "EPERM"))) {
		fprintf(stderr, "usage: deny-vm-readv ENOSYS|EPERM COMMAND [ARG...]\n");
		return 2;
	}
	e = !strcmp(argv[1], "ENOSYS") ? ENOSYS : EPERM;
	{
		struct sock_filter code[] = {
			/* another ABI's numbers mean other calls: let them be */
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_ARCH, 1, 0),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (e & SECCOMP_RET_DATA)),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = {
			.len = (unsigned short)(sizeof(code) / sizeof(code[0])),
			.filter = code,
		};

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
			perror("deny-vm-readv: installing the seccomp filter");
			return 1;
		}
	}
	execvp(argv[2], argv + 2);
	perror("deny-vm-readv: exec");
	return 127;
}
