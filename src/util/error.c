/* error.c - names and exit codes of gilscope's error codes. */
#include "error.h"

const char *gs_strerror(int err)
{
	switch (err) {
	case GS_OK: return "success";
	case GS_ENOPROC: return "no such process";
	case GS_EPERM: return "permission denied";
	case GS_ENOTPY: return "not a Python process";
	case GS_EUNSUPPORTED: return "unsupported Python version or build";
	case GS_EEXITED: return "the process exited";
	case GS_EFAULT: return "remote memory could not be read";
	case GS_ECORRUPT: return "remote data failed a sanity check";
	case GS_ENOMEM: return "out of memory";
	case GS_EIO: return "I/O error";
	case GS_ERANGE: return "a limit was reached";
	case GS_EUSAGE: return "usage error";
	default: return "error";
	}
}

int gs_exit_code(int err)
{
	switch (err) {
	case GS_OK: return GS_EXIT_OK;
	case GS_ENOPROC: return GS_EXIT_NOPROC;
	case GS_EPERM: return GS_EXIT_PERM;
	case GS_ENOTPY: return GS_EXIT_NOTPY;
	case GS_EUNSUPPORTED: return GS_EXIT_UNSUPPORTED;
	case GS_EEXITED: return GS_EXIT_EXITED;
	case GS_EUSAGE: return GS_EXIT_USAGE;
	case GS_EIO: return GS_EXIT_OUTPUT;
	default: return GS_EXIT_ERROR;
	}
}
