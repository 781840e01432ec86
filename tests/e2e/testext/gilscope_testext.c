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
 *   Slow(seconds)            a type whose constructor, property `held` and
 *                            iterator (__next__) each spin `seconds` holding
 *                            the GIL: C code reached without a call
 *                            instruction (attribute access, a for loop), and
 *                            a C type's constructor
 *   spun()                   seconds the calling thread spent spinning
 *   last_spin()              (start, end) of its last spin, on CLOCK_MONOTONIC
 *                            (Python's time.perf_counter clock on Linux)
 *
 * hold_gil and spin_nogil write one byte, READY_BYTE, to fd once the thread is certainly inside
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

/* Seconds this thread spent spinning, for spun(): the time inside the C
 * code, measured in the C code (a Python clock around a constructor call
 * would also count the GIL wait that follows the call). */
static _Thread_local double spun_total, spun_start, spun_end;

/* Returns the number of iterations, so the loop cannot be optimised away. */
static unsigned long spin_for(double seconds)
{
	volatile unsigned long n = 0;
	double start = now_seconds(), end = start + seconds, t;

	while ((t = now_seconds()) < end) {
		/* a few thousand iterations between clock reads */
		for (int i = 0; i < 4096; i++)
			n++;
	}
	spun_total += t - start;
	spun_start = start;
	spun_end = t;
	return n;
}

static PyObject *testext_last_spin(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	return Py_BuildValue("(dd)", spun_start, spun_end);
}

static PyObject *testext_spun(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	return PyFloat_FromDouble(spun_total);
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

typedef struct {
	PyObject_HEAD
	double seconds;
} SlowObject;

static int slow_init(PyObject *self, PyObject *args, PyObject *kwds)
{
	double seconds;

	(void)kwds;
	if (!PyArg_ParseTuple(args, "d", &seconds))
		return -1;
	if (!(seconds >= 0.0 && seconds <= MAX_SECONDS)) {
		PyErr_Format(PyExc_ValueError, "seconds must be in [0, %g]", MAX_SECONDS);
		return -1;
	}
	((SlowObject *)self)->seconds = seconds;
	spin_for(seconds);	/* a C constructor that keeps the GIL */
	return 0;
}

static PyObject *slow_held(PyObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromUnsignedLong(spin_for(((SlowObject *)self)->seconds));
}

static PyObject *slow_next(PyObject *self)
{
	return PyLong_FromUnsignedLong(spin_for(((SlowObject *)self)->seconds));
}

static PyGetSetDef slow_getset[] = {
	{"held", slow_held, NULL, "spins `seconds` holding the GIL", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot slow_slots[] = {
	{Py_tp_new, (void *)PyType_GenericNew},
	{Py_tp_init, (void *)slow_init},
	{Py_tp_getset, (void *)slow_getset},
	{Py_tp_iter, (void *)PyObject_SelfIter},
	{Py_tp_iternext, (void *)slow_next},
	{0, NULL},
};

static PyType_Spec slow_spec = {
	"gilscope_testext.Slow", sizeof(SlowObject), 0, Py_TPFLAGS_DEFAULT, slow_slots,
};

static PyMethodDef testext_methods[] = {
	{"last_spin", testext_last_spin, METH_NOARGS,
	 "last_spin(): (start, end) of the calling thread's last spin, CLOCK_MONOTONIC seconds."},
	{"spun", testext_spun, METH_NOARGS,
	 "spun(): seconds the calling thread has spent spinning in this module."},
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
	{
		PyObject *t = PyType_FromSpec(&slow_spec);

		if (!t || PyModule_AddObject(module, "Slow", t) < 0) {
			Py_XDECREF(t);
			return -1;
		}
	}
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
