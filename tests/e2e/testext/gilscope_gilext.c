/*
 * gilscope_gilext.c - an extension module that does NOT declare
 * Py_mod_gil = Py_MOD_GIL_NOT_USED. Importing it into a free-threaded
 * interpreter (without PYTHON_GIL / -X gil) turns the GIL back on for good,
 * with "RuntimeWarning: The global interpreter lock (GIL) has been enabled
 * to load module 'gilscope_gilext'". Used by tests/e2e/test_info.py.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyModuleDef_Slot gilext_slots[] = {
	{ 0, NULL },	/* no Py_mod_gil: the interpreter must assume it needs the GIL */
};

static struct PyModuleDef gilext_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "gilscope_gilext",
	.m_doc = "needs the GIL (declares nothing)",
	.m_size = 0,
	.m_slots = gilext_slots,
};

PyMODINIT_FUNC PyInit_gilscope_gilext(void)
{
	return PyModuleDef_Init(&gilext_module);
}
