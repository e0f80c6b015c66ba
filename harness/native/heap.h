// Argument reading shared by the addon's kernels: each call passes the wasm heap (a
// Float32Array) and offsets into it, in floats.
#pragma once
#include <node_api.h>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

inline napi_value Throw(napi_env env, const char* msg) {
  napi_throw_error(env, nullptr, msg);
  return nullptr;
}

// Reads a call's arguments: a Float32Array (the wasm heap) followed by `n` integers and then
// `nRest` values left to the caller. Returns the heap and its length in floats, or nullptr
// after throwing a JS error naming `fn`.
inline float* heapArgs(napi_env env, napi_callback_info info, const char* fn, size_t n, int64_t* ints, napi_value* rest,
                       size_t nRest, int64_t* length) {
  napi_value argv[16];
  size_t argc = 16;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 1 + n + nRest) {
    napi_throw_error(env, nullptr, (std::string(fn) + ": wrong number of arguments").c_str());
    return nullptr;
  }
  napi_typedarray_type type;
  size_t len;
  void* data;
  napi_value arraybuffer;
  size_t byteOffset;
  if (napi_get_typedarray_info(env, argv[0], &type, &len, &data, &arraybuffer, &byteOffset) != napi_ok ||
      type != napi_float32_array) {
    napi_throw_error(env, nullptr, (std::string(fn) + ": heap must be a Float32Array").c_str());
    return nullptr;
  }
  for (size_t i = 0; i < n; i++) napi_get_value_int64(env, argv[1 + i], &ints[i]);
  for (size_t i = 0; i < nRest; i++) rest[i] = argv[1 + n + i];
  *length = static_cast<int64_t>(len);
  return static_cast<float*>(data);
}

// Whether [off, off + size) lies inside a heap of `len` floats.
inline bool inHeap(int64_t off, int64_t size, int64_t len) { return off >= 0 && size >= 0 && off + size <= len; }

// Whether every operand {offset, size} of a call lies inside the heap.
inline bool allInHeap(std::initializer_list<std::pair<int64_t, int64_t>> operands, int64_t len) {
  for (const auto& [off, size] : operands)
    if (!inHeap(off, size, len)) return false;
  return true;
}

// A JS number argument as a float (the kernels' scalars: eps, scale, Adam's constants).
inline float floatArg(napi_env env, napi_value value) {
  double x = 0;
  napi_get_value_double(env, value, &x);
  return static_cast<float>(x);
}

// Sets each {name, callback} as a function property of `exports`.
inline void exportFunctions(napi_env env, napi_value exports, std::initializer_list<std::pair<const char*, napi_callback>> fns) {
  for (const auto& [name, cb] : fns) {
    napi_value fn;
    napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn);
    napi_set_named_property(env, exports, name, fn);
  }
}

// Registers the fused elementwise kernels and the Adam update (fused.cc) on `exports`.
void registerFused(napi_env env, napi_value exports);

// Registers the fused attention kernels (attention.cc) on `exports`.
void registerAttention(napi_env env, napi_value exports);
