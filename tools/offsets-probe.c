/*
 * offsets-probe.c - prints the struct offsets gilscope needs for one CPython
 * version, measured with offsetof() against its installed headers. Used to
 * write src/cpython/layouts.c; not part of the build.
 *
 *   cc -I$PREFIX/include/python3.X -I$PREFIX/include/python3.X/internal \
 *      -o probe tools/offsets-probe.c && ./probe
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#if PY_VERSION_HEX >= 0x030b0000
#include "internal/pycore_frame.h"
#include "internal/pycore_code.h"
#endif
#if PY_VERSION_HEX < 0x030b0000
#include "frameobject.h"
#endif
#include "internal/pycore_gil.h"
#if PY_VERSION_HEX >= 0x030b0000
#include "internal/pycore_dict.h"
#endif
#if PY_VERSION_HEX >= 0x030b0000
#include "internal/pycore_moduleobject.h"
#endif
#define P(name, expr) printf("%-34s %zu\n", name, (size_t)(expr))
int main(void) {
  printf("version %x\n", PY_VERSION_HEX);
  P("runtime.interpreters_head", offsetof(_PyRuntimeState, interpreters.head));
#if PY_VERSION_HEX < 0x030c0000
  P("runtime.gil", offsetof(_PyRuntimeState, ceval.gil));
  P("runtime.gilstate_tstate_current", offsetof(_PyRuntimeState, gilstate.tstate_current));
#endif
  P("interp.next", offsetof(PyInterpreterState, next));
#if PY_VERSION_HEX >= 0x030b0000
  P("interp.threads_head", offsetof(PyInterpreterState, threads.head));
#else
  P("interp.threads_head", offsetof(PyInterpreterState, tstate_head));
#endif
#if PY_VERSION_HEX >= 0x030c0000
  P("interp.gil_ptr", offsetof(PyInterpreterState, ceval.gil));
  P("interp.modules", offsetof(PyInterpreterState, imports.modules));
#else
  P("interp.modules", offsetof(PyInterpreterState, modules));
#endif
  P("interp.id", offsetof(PyInterpreterState, id));
  P("ts.next", offsetof(PyThreadState, next));
  P("ts.interp", offsetof(PyThreadState, interp));
#if PY_VERSION_HEX >= 0x030b0000
  P("ts.cframe", offsetof(PyThreadState, cframe));
  P("cframe.current_frame", offsetof(_PyCFrame, current_frame));
  P("ts.root_cframe", offsetof(PyThreadState, root_cframe));
  P("ts.native_thread_id", offsetof(PyThreadState, native_thread_id));
#else
  P("ts.frame", offsetof(PyThreadState, frame));
#endif
  P("ts.thread_id", offsetof(PyThreadState, thread_id));
  P("sizeof.ts", sizeof(PyThreadState));
#if PY_VERSION_HEX >= 0x030b0000
  P("iframe.previous", offsetof(_PyInterpreterFrame, previous));
#if PY_VERSION_HEX >= 0x030c0000
  P("iframe.code", offsetof(_PyInterpreterFrame, f_code));
#else
  P("iframe.code", offsetof(_PyInterpreterFrame, f_code));
#endif
  P("iframe.prev_instr", offsetof(_PyInterpreterFrame, prev_instr));
  P("iframe.owner", offsetof(_PyInterpreterFrame, owner));
#if PY_VERSION_HEX < 0x030c0000
  P("iframe.is_entry", offsetof(_PyInterpreterFrame, is_entry));
#endif
  P("code.co_code_adaptive", offsetof(PyCodeObject, co_code_adaptive));
  P("code.co_qualname", offsetof(PyCodeObject, co_qualname));
  P("code.co_linetable", offsetof(PyCodeObject, co_linetable));
#else
  P("frame.f_back", offsetof(PyFrameObject, f_back));
  P("frame.f_code", offsetof(PyFrameObject, f_code));
  P("frame.f_lasti", offsetof(PyFrameObject, f_lasti));
  P("frame.f_lineno", offsetof(PyFrameObject, f_lineno));
#if PY_VERSION_HEX >= 0x030a0000
  P("code.co_linetable", offsetof(PyCodeObject, co_linetable));
#else
  P("code.co_lnotab", offsetof(PyCodeObject, co_lnotab));
#endif
#endif
  P("code.co_filename", offsetof(PyCodeObject, co_filename));
  P("code.co_name", offsetof(PyCodeObject, co_name));
  P("code.co_firstlineno", offsetof(PyCodeObject, co_firstlineno));
  P("obj.ob_type", offsetof(PyObject, ob_type));
  P("var.ob_size", offsetof(PyVarObject, ob_size));
  P("bytes.ob_sval", offsetof(PyBytesObject, ob_sval));
  P("uni.length", offsetof(PyASCIIObject, length));
  P("uni.state", offsetof(PyASCIIObject, state));
  P("uni.ascii_size", sizeof(PyASCIIObject));
  P("uni.compact_size", sizeof(PyCompactUnicodeObject));
  P("type.tp_name", offsetof(PyTypeObject, tp_name));
  P("gil.interval", offsetof(struct _gil_runtime_state, interval));
  P("gil.last_holder", offsetof(struct _gil_runtime_state, last_holder));
  P("gil.locked", offsetof(struct _gil_runtime_state, locked));
  P("gil.switch_number", offsetof(struct _gil_runtime_state, switch_number));
  P("gil.cond", offsetof(struct _gil_runtime_state, cond));
  P("gil.mutex", offsetof(struct _gil_runtime_state, mutex));
  P("gil.size", sizeof(struct _gil_runtime_state));
  /* dict internals for thread names */
  P("dict.ma_used", offsetof(PyDictObject, ma_used));
  P("dict.ma_keys", offsetof(PyDictObject, ma_keys));
  P("dict.ma_values", offsetof(PyDictObject, ma_values));
  P("type.tp_dictoffset", offsetof(PyTypeObject, tp_dictoffset));
  P("type.tp_flags", offsetof(PyTypeObject, tp_flags));
  P("type.tp_basicsize", offsetof(PyTypeObject, tp_basicsize));
  return 0;
}
