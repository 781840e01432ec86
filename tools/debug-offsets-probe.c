/*
 * debug-offsets-probe.c - prints, for one CPython 3.13+ build, the slot of
 * each _Py_DebugOffsets field gilscope reads (the DO_3xx slot tables of src/cpython/layouts.c)
 * and the layout facts the debug offsets do not carry. Not part of the build.
 *
 *   cc -I$INC -I$INC/internal -o probe tools/debug-offsets-probe.c && ./probe
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_code.h"
#define D(f) printf("\t[DO_%s] = %zu,\n", #f, offsetof(_Py_DebugOffsets, f) / 8)
#define DN(id, f) printf("\t[DO_%s] = %zu,\n", #id, offsetof(_Py_DebugOffsets, f) / 8)
int main(void) {
  printf("/* %x size %zu slots */\n", PY_VERSION_HEX, sizeof(_Py_DebugOffsets)/8);
  DN(version, version); DN(free_threaded, free_threaded);
  DN(rt_size, runtime_state.size); DN(rt_interpreters_head, runtime_state.interpreters_head);
  DN(is_size, interpreter_state.size); DN(is_next, interpreter_state.next); DN(is_threads_head, interpreter_state.threads_head);
  DN(is_modules, interpreter_state.imports_modules); DN(is_ceval_gil, interpreter_state.ceval_gil);
  DN(is_gil_state, interpreter_state.gil_runtime_state); DN(is_gil_enabled, interpreter_state.gil_runtime_state_enabled);
  DN(is_gil_locked, interpreter_state.gil_runtime_state_locked); DN(is_gil_holder, interpreter_state.gil_runtime_state_holder);
  DN(ts_size, thread_state.size); DN(ts_next, thread_state.next); DN(ts_interp, thread_state.interp);
  DN(ts_current_frame, thread_state.current_frame); DN(ts_thread_id, thread_state.thread_id);
  DN(ts_native_thread_id, thread_state.native_thread_id); DN(ts_status, thread_state.status);
  DN(fr_size, interpreter_frame.size); DN(fr_previous, interpreter_frame.previous); DN(fr_executable, interpreter_frame.executable);
  DN(fr_instr_ptr, interpreter_frame.instr_ptr); DN(fr_owner, interpreter_frame.owner);
#if PY_VERSION_HEX >= 0x030e0000
  DN(fr_tlbc_index, interpreter_frame.tlbc_index); DN(co_tlbc, code_object.co_tlbc);
#endif
  DN(co_size, code_object.size); DN(co_filename, code_object.filename); DN(co_name, code_object.name);
  DN(co_qualname, code_object.qualname); DN(co_linetable, code_object.linetable); DN(co_firstlineno, code_object.firstlineno);
  DN(co_code_adaptive, code_object.co_code_adaptive);
  DN(ob_type, pyobject.ob_type); DN(tp_name, type_object.tp_name);
  DN(dict_ma_keys, dict_object.ma_keys); DN(dict_ma_values, dict_object.ma_values);
  DN(bytes_ob_size, bytes_object.ob_size); DN(bytes_ob_sval, bytes_object.ob_sval);
  DN(uni_size, unicode_object.size); DN(uni_state, unicode_object.state); DN(uni_length, unicode_object.length);
  DN(uni_ascii_size, unicode_object.asciiobject_size);
  printf("/* facts: ts.state-ts._status=%zd  gil.interval=%zu last_holder=%zu locked=%zu switch_number=%zu cond=%zu size=%zu */\n",
     (ssize_t)offsetof(PyThreadState, state) - (ssize_t)offsetof(PyThreadState, _status),
     offsetof(struct _gil_runtime_state, interval), offsetof(struct _gil_runtime_state, last_holder),
     offsetof(struct _gil_runtime_state, locked), offsetof(struct _gil_runtime_state, switch_number),
     offsetof(struct _gil_runtime_state, cond), sizeof(struct _gil_runtime_state));
  { PyASCIIObject a; memset(&a, 0, sizeof a); a.state.kind = 7; unsigned int s; memcpy(&s, &a.state, 4); printf("/* kind mask %#x */\n", s);
    memset(&a, 0, sizeof a); a.state.compact = 1; memcpy(&s, &a.state, 4); printf("/* compact mask %#x */\n", s);
    memset(&a, 0, sizeof a); a.state.ascii = 1; memcpy(&s, &a.state, 4); printf("/* ascii mask %#x */\n", s); }
  return 0;
}
