/*
 * gilscope_testext.c - a tiny extension module that puts a thread in a known
 * native state, for the end-to-end tests.
 *
 *   hold_gil(fd, seconds)    busy-spins inside C *holding* the GIL
 *                            (gilscope must say native_gil; other threads that
 *                            want to run Python say gil_wait)
 *   spin_nogil(fd, seconds)  busy-spins inside C with the GIL *released*
 *                            (gilscope must say native)
 *
 * Both write one byte, READY_BYTE, to fd once the thread is certainly inside
 * the C call (for spin_nogil: after the GIL was released), so the test never
 * has to guess with a sleep. Both spin on CLOCK_MONOTONIC with a volatile
 * counter, never make a system call while spinning (vDSO clock), and return
 * after at most MAX_SECONDS so a forgotten target cannot spin forever.
 *
 * Built by tests/e2e/conftest.py against each interpreter's own headers
 * (3.9 to 3.15, default and free-threaded builds); no setuptools. Multi-phase
 * init; on free-threaded builds the module declares Py_MOD_GIL_NOT_USED so
 * that importing it does not turn the GIL back on.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <time.h>
#include <unistd.h>

#define MAX_SECONDS 120.0
#define READY_BYTE '!'

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Returns the number of iterations, so the loop cannot be optimised away. */
static unsigned long spin_for(double seconds)
{
	volatile unsigned long n = 0;
	double end = now_seconds() + seconds;

	while (now_seconds() < end) {
		/* a few thousand iterations between clock reads */
		for (int i = 0; i < 4096; i++)
			n++;
	}
	return n;
}

/* 0 on success, else errno. */
static int write_ready(int fd)
{
	char c = READY_BYTE;
	ssize_t r;

	do {
		r = write(fd, &c, 1);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno;
	return r == 1 ? 0 : EIO;
}

static int parse_args(PyObject *args, int *fd, double *seconds)
{
	if (!PyArg_ParseTuple(args, "id", fd, seconds))
		return -1;
	if (!(*seconds >= 0.0 && *seconds <= MAX_SECONDS)) {
		PyErr_Format(PyExc_ValueError, "seconds must be in [0, %g]",
			     MAX_SECONDS);
		return -1;
	}
	return 0;
}

static PyObject *testext_hold_gil(PyObject *self, PyObject *args)
{
	int fd, err;
	double seconds;
	unsigned long n;

	(void)self;
	if (parse_args(args, &fd, &seconds) < 0)
		return NULL;
	err = write_ready(fd);
	if (err) {
		errno = err;
		return PyErr_SetFromErrno(PyExc_OSError);
	}
	n = spin_for(seconds); /* the GIL stays held all along */
	return PyLong_FromUnsignedLong(n);
}

static PyObject *testext_spin_nogil(PyObject *self, PyObject *args)
{
	int fd, err;
	double seconds;
	unsigned long n = 0;

	(void)self;
	if (parse_args(args, &fd, &seconds) < 0)
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	err = write_ready(fd);
	if (!err)
		n = spin_for(seconds);
	Py_END_ALLOW_THREADS
	if (err) {
		errno = err;
		return PyErr_SetFromErrno(PyExc_OSError);
	}
	return PyLong_FromUnsignedLong(n);
}

static PyMethodDef testext_methods[] = {
	{"hold_gil", testext_hold_gil, METH_VARARGS,
	 "hold_gil(fd, seconds): write b'!' to fd, then busy-spin holding the GIL."},
	{"spin_nogil", testext_spin_nogil, METH_VARARGS,
	 "spin_nogil(fd, seconds): release the GIL, write b'!' to fd, busy-spin."},
	{NULL, NULL, 0, NULL},
};

static int testext_exec(PyObject *module)
{
	if (PyModule_AddIntConstant(module, "READY_BYTE", READY_BYTE) < 0)
		return -1;
	if (PyModule_AddIntConstant(module, "MAX_SECONDS", (long)MAX_SECONDS) < 0)
		return -1;
	return 0;
}

static PyModuleDef_Slot testext_slots[] = {
	{Py_mod_exec, (void *)testext_exec},
#ifdef Py_GIL_DISABLED
	/* Without this, importing the module re-enables the GIL. */
	{Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
	{0, NULL},
};

static struct PyModuleDef testext_module = {
	PyModuleDef_HEAD_INIT,
	"gilscope_testext",
	"Puts a thread in a known native state for gilscope's tests.",
	0,
	testext_methods,
	testext_slots,
	NULL,
	NULL,
	NULL,
};

PyMODINIT_FUNC PyInit_gilscope_testext(void)
{
	return PyModuleDef_Init(&testext_module);
}
