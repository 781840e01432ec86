/*
 * names-probe.c - prints, for one CPython build, the layout facts
 * src/cpython/objects.c and dicts.c need to read threading names (module
 * and dict internals, instance dicts, type flags, int objects), measured with
 * offsetof()/sizeof() against that build's own headers. Used to write the
 * obj rows of src/cpython/layouts.c; not part of the build.
 *
 *   cc -I$INC -I$INC/internal -o probe tools/names-probe.c && ./probe
 *
 * 3.9 and 3.10 do not install the dict keys layout (it lives in
 * Objects/dict-common.h of the source tree): add -I$SRC/Objects for them.
 */
#define Py_BUILD_CORE 1
#define NDEBUG 1	/* the accessors below assert on the object they get */
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#if PY_VERSION_HEX >= 0x030b0000
#include "internal/pycore_dict.h"
#include "internal/pycore_moduleobject.h"
#include "internal/pycore_object.h"
#else
#include "dict-common.h"
/* 3.9/3.10 keep PyModuleObject private to moduleobject.c; this is it. */
typedef struct {
	PyObject_HEAD
	PyObject *md_dict;
	struct PyModuleDef *md_def;
	void *md_state;
	PyObject *md_weaklist;
	PyObject *md_name;
} PyModuleObject;
#endif

#define P(name, expr) printf("%-28s %lld\n", name, (long long)(expr))

int main(void)
{
	printf("version %x free_threaded %d\n", PY_VERSION_HEX,
#ifdef Py_GIL_DISABLED
	       1
#else
	       0
#endif
	);
	P("sizeof.PyObject", sizeof(PyObject));
	P("obj.ob_type", offsetof(PyObject, ob_type));
	P("type.tp_basicsize", offsetof(PyTypeObject, tp_basicsize));
	P("type.tp_flags", offsetof(PyTypeObject, tp_flags));
	P("type.tp_dictoffset", offsetof(PyTypeObject, tp_dictoffset));
	P("heaptype.ht_cached_keys", offsetof(PyHeapTypeObject, ht_cached_keys));
	P("module.md_dict", offsetof(PyModuleObject, md_dict));
	P("dict.ma_used", offsetof(PyDictObject, ma_used));
	P("dict.ma_keys", offsetof(PyDictObject, ma_keys));
	P("dict.ma_values", offsetof(PyDictObject, ma_values));
#if PY_VERSION_HEX >= 0x030b0000
	P("keys.dk_log2_size", offsetof(PyDictKeysObject, dk_log2_size));
	P("keys.dk_log2_index_bytes", offsetof(PyDictKeysObject, dk_log2_index_bytes));
	P("keys.dk_kind", offsetof(PyDictKeysObject, dk_kind));
	P("keys.dk_nentries", offsetof(PyDictKeysObject, dk_nentries));
	P("keys.dk_indices", offsetof(PyDictKeysObject, dk_indices));
	P("DICT_KEYS_GENERAL", DICT_KEYS_GENERAL);
	P("DICT_KEYS_UNICODE", DICT_KEYS_UNICODE);
	P("DICT_KEYS_SPLIT", DICT_KEYS_SPLIT);
	P("sizeof.PyDictKeyEntry", sizeof(PyDictKeyEntry));
	P("entry.me_key", offsetof(PyDictKeyEntry, me_key));
	P("entry.me_value", offsetof(PyDictKeyEntry, me_value));
	P("sizeof.PyDictUnicodeEntry", sizeof(PyDictUnicodeEntry));
	P("uentry.me_key", offsetof(PyDictUnicodeEntry, me_key));
	P("uentry.me_value", offsetof(PyDictUnicodeEntry, me_value));
	P("values.values", offsetof(PyDictValues, values));
#if PY_VERSION_HEX >= 0x030d0000
	P("values.capacity", offsetof(PyDictValues, capacity));
	P("values.valid", offsetof(PyDictValues, valid));
#endif
#else
	P("keys.dk_size", offsetof(PyDictKeysObject, dk_size));
	P("keys.dk_nentries", offsetof(PyDictKeysObject, dk_nentries));
	P("keys.dk_indices", offsetof(PyDictKeysObject, dk_indices));
	P("sizeof.PyDictKeyEntry", sizeof(PyDictKeyEntry));
	P("entry.me_key", offsetof(PyDictKeyEntry, me_key));
	P("entry.me_value", offsetof(PyDictKeyEntry, me_value));
#endif
	/* instance dicts */
#if PY_VERSION_HEX >= 0x030b0000
	P("Py_TPFLAGS_MANAGED_DICT", Py_TPFLAGS_MANAGED_DICT);
#endif
#ifdef MANAGED_DICT_OFFSET
	P("MANAGED_DICT_OFFSET", MANAGED_DICT_OFFSET);
#endif
#if PY_VERSION_HEX >= 0x030b0000 && PY_VERSION_HEX < 0x030c0000
	{
		PyObject *o = (PyObject *)0x10000;

		P("values_ptr_offset", (char *)_PyObject_ValuesPointer(o) - (char *)o);
		P("managed_dict_ptr_offset", (char *)_PyObject_ManagedDictPointer(o) - (char *)o);
	}
#endif
#if PY_VERSION_HEX >= 0x030c0000 && PY_VERSION_HEX < 0x030d0000
	{
		PyObject *o = (PyObject *)0x10000;
		PyDictOrValues d;

		P("dict_or_values_offset", (char *)_PyObject_DictOrValuesPointer(o) - (char *)o);
		d.values = (char *)0x2000 - 1;	/* as _PyDictOrValues_SetValues */
		P("values_tag_is_values", _PyDictOrValues_IsValues(d));
		P("values_untag_add", (char *)_PyDictOrValues_GetValues(d) - (d.values));
	}
#endif
#if PY_VERSION_HEX >= 0x030d0000
	P("Py_TPFLAGS_INLINE_VALUES", Py_TPFLAGS_INLINE_VALUES);
#endif
	P("Py_TPFLAGS_HEAPTYPE", Py_TPFLAGS_HEAPTYPE);
	P("Py_TPFLAGS_LONG_SUBCLASS", Py_TPFLAGS_LONG_SUBCLASS);
	P("Py_TPFLAGS_UNICODE_SUBCLASS", Py_TPFLAGS_UNICODE_SUBCLASS);
	P("Py_TPFLAGS_DICT_SUBCLASS", Py_TPFLAGS_DICT_SUBCLASS);
	/* int objects */
	P("PyLong_SHIFT", PyLong_SHIFT);
	P("sizeof.digit", sizeof(digit));
#if PY_VERSION_HEX >= 0x030c0000
	P("long.lv_tag", offsetof(PyLongObject, long_value.lv_tag));
	P("long.ob_digit", offsetof(PyLongObject, long_value.ob_digit));
	P("_PyLong_NON_SIZE_BITS", _PyLong_NON_SIZE_BITS);
	P("_PyLong_SIGN_MASK", _PyLong_SIGN_MASK);
#else
	P("long.ob_size", offsetof(PyLongObject, ob_base.ob_size));
	P("long.ob_digit", offsetof(PyLongObject, ob_digit));
#endif
	return 0;
}
