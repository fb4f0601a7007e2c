// N-API binding to libtorch: one translation unit, kept thin on purpose (docs/design.md §2.1).
//
// Every ATen operator is reachable through one generic entry point: the operator is looked up once by
// schema name in c10::Dispatcher (findSchemaOrThrow), its argument kinds are read from the schema and
// cached, and each call converts the JS arguments into a boxed stack and runs callBoxed. Autograd, CUDA
// and every backend work through that path, so the typed wrappers live in TypeScript (src/torch/).
//
// Tensors live in a slot table owned by C++; JS holds slot numbers. Freeing a slot drops our reference
// at once, so memory (GPU memory above all) never waits for the JS garbage collector.
//
// Every entry point converts c10::Error and std::exception into a JS Error carrying libtorch's message,
// so a shape mismatch or a CUDA request without CUDA never aborts the process.

#define NAPI_CPP_EXCEPTIONS
#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

// torch.distributed's engine (c10d): stores for the rendezvous and process groups. Gloo needs the gloo headers
// (Debian: libgloo-dev), which CUDA PyTorch wheels do not ship; NCCL exists only in a CUDA build. The build
// script defines USE_C10D_GLOO and USE_C10D_NCCL (the headers' own switches) where they can be compiled.
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <cmath>
#include <optional>
#include <sstream>
#include <type_traits>
#include <cstring>
#include <string>
#include <vector>

namespace {

// libtorch 2.x made c10::optional an alias of std::optional; 1.13 has its own class. Follow the headers.
using DefaultValue = std::decay_t<decltype(std::declval<c10::Argument>().default_value())>;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
using OptionalTensor = std::optional<at::Tensor>;
#else
using OptionalTensor = c10::optional<at::Tensor>;
#endif

// ---------------------------------------------------------------------------------------------------
// Tensor slots

std::vector<at::Tensor> g_slots;
std::vector<uint32_t> g_free;
size_t g_live = 0;

uint32_t keep(at::Tensor t) {
  uint32_t id;
  if (!g_free.empty()) {
    id = g_free.back();
    g_free.pop_back();
    g_slots[id] = std::move(t);
  } else {
    id = static_cast<uint32_t>(g_slots.size());
    g_slots.push_back(std::move(t));
  }
  ++g_live;
  return id;
}

const at::Tensor& slot(const Napi::Env& env, const Napi::Value& v) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, "expected a tensor handle");
  int64_t id = v.As<Napi::Number>().Int64Value();
  if (id < 0 || static_cast<size_t>(id) >= g_slots.size() || !g_slots[id].defined()) {
    throw Napi::Error::New(env, "use of a disposed tensor");
  }
  return g_slots[id];
}

Napi::Value handleOrNull(const Napi::Env& env, at::Tensor t) {
  if (!t.defined()) return env.Null();
  return Napi::Number::New(env, keep(std::move(t)));
}

// ---------------------------------------------------------------------------------------------------
// Operators

enum class Kind {
  Tensor,
  OptTensor,
  Int,
  Float,
  Bool,
  Scalar,
  String,
  Device,
  IntList,
  FloatList,
  BoolList,
  TensorList,
  OptTensorList,
  None,  // arguments we never set from JS (generators, layouts, memory formats): passed as None
};

struct ArgSpec {
  Kind kind;
  bool optional;
  DefaultValue def;
  std::string name;
};

struct Op {
  c10::OperatorHandle handle;
  std::vector<ArgSpec> args;
  std::string name;
};

std::vector<Op> g_ops;

// Reads an argument's kind from its schema type. Works by the type's printed form so that it covers both
// libtorch 1.13 and 2.x (where int arguments of shape functions became SymInt).
Kind kindOf(const c10::TypePtr& type, bool& optional) {
  c10::TypePtr t = type;
  optional = false;
  if (auto o = t->cast<c10::OptionalType>()) {
    optional = true;
    t = o->getElementType();
  }
  std::string s = t->str();
  if (s == "Tensor") return optional ? Kind::OptTensor : Kind::Tensor;
  if (s == "int" || s == "SymInt" || s == "ScalarType") return Kind::Int;
  if (s == "float") return Kind::Float;
  if (s == "bool") return Kind::Bool;
  if (s == "Scalar" || s == "number") return Kind::Scalar;
  if (s == "str") return Kind::String;
  if (s == "Device") return Kind::Device;
  if (auto l = t->cast<c10::ListType>()) {
    std::string e = l->getElementType()->str();
    if (e == "int" || e == "SymInt") return Kind::IntList;
    if (e == "float") return Kind::FloatList;
    if (e == "bool") return Kind::BoolList;
    if (e == "Tensor") return Kind::TensorList;
    if (e == "Optional[Tensor]" || e == "Tensor?") return Kind::OptTensorList;
  }
  return Kind::None;
}

c10::Scalar toScalar(const Napi::Env& env, const Napi::Value& v) {
  if (v.IsBoolean()) return c10::Scalar(v.As<Napi::Boolean>().Value());
  if (!v.IsNumber()) throw Napi::TypeError::New(env, "expected a number");
  double d = v.As<Napi::Number>().DoubleValue();
  // Integral JS numbers become integer scalars so that integer tensors keep their dtype.
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0 && !(d == 0 && std::signbit(d))) {
    return c10::Scalar(static_cast<int64_t>(d));
  }
  return c10::Scalar(d);
}

std::vector<int64_t> toIntVector(const Napi::Env& env, const Napi::Value& v) {
  if (v.IsNumber()) return {v.As<Napi::Number>().Int64Value()};
  if (!v.IsArray()) throw Napi::TypeError::New(env, "expected an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

c10::IValue toIValue(const Napi::Env& env, const ArgSpec& spec, const Napi::Value& v) {
  if (v.IsNull() || v.IsUndefined()) {
    if (spec.optional || spec.kind == Kind::OptTensor || spec.kind == Kind::None) return c10::IValue();
    throw Napi::TypeError::New(env, "argument '" + spec.name + "' must not be null");
  }
  switch (spec.kind) {
    case Kind::Tensor:
    case Kind::OptTensor:
      return slot(env, v);
    case Kind::Int:
      return c10::IValue(v.As<Napi::Number>().Int64Value());
    case Kind::Float:
      return c10::IValue(v.As<Napi::Number>().DoubleValue());
    case Kind::Bool:
      return c10::IValue(v.ToBoolean().Value());
    case Kind::Scalar:
      return c10::IValue(toScalar(env, v));
    case Kind::String:
      return c10::IValue(v.As<Napi::String>().Utf8Value());
    case Kind::Device:
      return c10::IValue(c10::Device(v.As<Napi::String>().Utf8Value()));
    case Kind::IntList:
      return c10::IValue(toIntVector(env, v));
    case Kind::FloatList: {
      Napi::Array a = v.As<Napi::Array>();
      std::vector<double> out(a.Length());
      for (uint32_t i = 0; i < a.Length(); ++i) out[i] = a.Get(i).As<Napi::Number>().DoubleValue();
      return c10::IValue(out);
    }
    case Kind::BoolList: {
      Napi::Array a = v.As<Napi::Array>();
      c10::List<bool> out;
      for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(a.Get(i).ToBoolean().Value());
      return c10::IValue(out);
    }
    case Kind::TensorList: {
      Napi::Array a = v.As<Napi::Array>();
      std::vector<at::Tensor> out;
      out.reserve(a.Length());
      for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(slot(env, a.Get(i)));
      return c10::IValue(out);
    }
    case Kind::OptTensorList: {
      Napi::Array a = v.As<Napi::Array>();
      c10::List<OptionalTensor> out;
      for (uint32_t i = 0; i < a.Length(); ++i) {
        Napi::Value e = a.Get(i);
        if (e.IsNull() || e.IsUndefined()) {
          out.push_back(OptionalTensor());
        } else {
          out.push_back(slot(env, e));
        }
      }
      return c10::IValue(out);
    }
    case Kind::None:
      break;
  }
  throw Napi::TypeError::New(env, "argument '" + spec.name + "' cannot be given from JavaScript");
}

Napi::Value fromIValue(const Napi::Env& env, const c10::IValue& v) {
  if (v.isTensor()) return handleOrNull(env, v.toTensor());
  if (v.isNone()) return env.Null();
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    Napi::Array a = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) a.Set(static_cast<uint32_t>(i), handleOrNull(env, list.get(i)));
    return a;
  }
  if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    Napi::Array a = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); ++i) a.Set(static_cast<uint32_t>(i), fromIValue(env, elems[i]));
    return a;
  }
  if (v.isIntList()) {
    auto list = v.toIntVector();
    Napi::Array a = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(list[i])));
    return a;
  }
  if (v.isScalar()) return Napi::Number::New(env, v.toScalar().toDouble());
  throw Napi::Error::New(env, "unsupported return type " + v.tagKind());
}

std::string errorText(const c10::Error& e) { return e.what_without_backtrace(); }

// Wraps an entry point so that every libtorch failure becomes a JS Error named after what was running.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const std::string& what, F&& f) {
  Napi::Env env = info.Env();
  try {
    return f(env);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, what + ": " + errorText(e));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, what + ": " + e.what());
  }
}

// opHandle(name: "aten::add", overload: "Tensor") -> op id
Napi::Value OpHandle(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::string overload = info[1].As<Napi::String>().Utf8Value();
  return guarded(info, name + "." + overload, [&](Napi::Env env) -> Napi::Value {
    auto handle = c10::Dispatcher::singleton().findSchemaOrThrow(name.c_str(), overload.c_str());
    Op op{handle, {}, overload.empty() ? name : name + "." + overload};
    for (const auto& a : handle.schema().arguments()) {
      bool optional = false;
      Kind k = kindOf(a.type(), optional);
      op.args.push_back(ArgSpec{k, optional, a.default_value(), a.name()});
    }
    g_ops.push_back(std::move(op));
    return Napi::Number::New(env, static_cast<double>(g_ops.size() - 1));
  });
}

Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  return guarded(info, "opSchema", [&](Napi::Env env) -> Napi::Value {
    const Op& op = g_ops.at(info[0].As<Napi::Number>().Uint32Value());
    std::ostringstream s;
    s << op.handle.schema();
    return Napi::String::New(env, s.str());
  });
}

// call(op id, args: unknown[]) -> result (one return: the value; several: an array)
Napi::Value Call(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  if (id >= g_ops.size()) throw Napi::Error::New(env, "unknown operator id");
  const Op& op = g_ops[id];
  Napi::Array args = info[1].As<Napi::Array>();
  uint32_t n = args.Length();
  try {
    torch::jit::Stack stack;
    stack.reserve(op.args.size());
    for (size_t i = 0; i < op.args.size(); ++i) {
      const ArgSpec& spec = op.args[i];
      if (i < n) {
        Napi::Value v = args.Get(static_cast<uint32_t>(i));
        if (v.IsUndefined() && spec.def.has_value()) {
          stack.push_back(*spec.def);
        } else {
          stack.push_back(toIValue(env, spec, v));
        }
      } else if (spec.def.has_value()) {
        stack.push_back(*spec.def);
      } else if (spec.optional || spec.kind == Kind::None) {
        stack.emplace_back();
      } else {
        throw Napi::TypeError::New(env, op.name + ": missing argument '" + spec.name + "'");
      }
    }
    op.handle.callBoxed(&stack);
    if (stack.size() == 1) return fromIValue(env, stack[0]);
    Napi::Array out = Napi::Array::New(env, stack.size());
    for (size_t i = 0; i < stack.size(); ++i) out.Set(static_cast<uint32_t>(i), fromIValue(env, stack[i]));
    return out;
  } catch (const Napi::Error& e) {
    if (e.Message().rfind(op.name, 0) == 0) throw;
    throw Napi::Error::New(env, op.name + ": " + e.Message());
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, op.name + ": " + errorText(e));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, op.name + ": " + e.what());
  }
}

// ---------------------------------------------------------------------------------------------------
// Creation and data transfer

std::vector<int64_t> shapeArg(const Napi::Env& env, const Napi::Value& v) { return toIntVector(env, v); }

// fromData(bytes: ArrayBufferView, dtype code, shape, device) -> id. Copies the bytes.
Napi::Value FromData(const Napi::CallbackInfo& info) {
  return guarded(info, "fromData", [&](Napi::Env env) -> Napi::Value {
    Napi::TypedArray view = info[0].As<Napi::TypedArray>();
    auto dtype = static_cast<at::ScalarType>(info[1].As<Napi::Number>().Int32Value());
    std::vector<int64_t> shape = shapeArg(env, info[2]);
    std::string device = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "cpu";
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
    size_t bytes = t.numel() * t.element_size();
    if (bytes != view.ByteLength()) {
      throw Napi::Error::New(env, "fromData: " + std::to_string(view.ByteLength()) + " bytes given for shape of " +
                                      std::to_string(bytes) + " bytes");
    }
    auto* src = static_cast<uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
    if (bytes > 0) std::memcpy(t.data_ptr(), src, bytes);
    if (device != "cpu") t = t.to(c10::Device(device));
    return Napi::Number::New(env, keep(std::move(t)));
  });
}

// toData(id) -> ArrayBuffer holding the tensor's elements, contiguous, in C order.
Napi::Value ToData(const Napi::CallbackInfo& info) {
  return guarded(info, "toData", [&](Napi::Env env) -> Napi::Value {
    at::Tensor t = slot(env, info[0]).detach().to(c10::Device("cpu")).contiguous();
    size_t bytes = t.numel() * t.element_size();
    Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, bytes);
    if (bytes > 0) std::memcpy(buf.Data(), t.data_ptr(), bytes);
    return buf;
  });
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  return guarded(info, "shape", [&](Napi::Env env) -> Napi::Value {
    const at::Tensor& t = slot(env, info[0]);
    Napi::Array a = Napi::Array::New(env, t.dim());
    for (int64_t i = 0; i < t.dim(); ++i) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(t.size(i))));
    return a;
  });
}

Napi::Value Dtype(const Napi::CallbackInfo& info) {
  return guarded(info, "dtype", [&](Napi::Env env) -> Napi::Value {
    return Napi::Number::New(env, static_cast<int>(slot(env, info[0]).scalar_type()));
  });
}

Napi::Value DeviceOf(const Napi::CallbackInfo& info) {
  return guarded(info, "device", [&](Napi::Env env) -> Napi::Value {
    return Napi::String::New(env, slot(env, info[0]).device().str());
  });
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  return guarded(info, "item", [&](Napi::Env env) -> Napi::Value {
    const at::Tensor& t = slot(env, info[0]);
    c10::Scalar s = t.item();
    if (s.isBoolean()) return Napi::Boolean::New(env, s.toBool());
    if (s.isIntegral(false)) return Napi::Number::New(env, static_cast<double>(s.toLong()));
    return Napi::Number::New(env, s.toDouble());
  });
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  return guarded(info, "free", [&](Napi::Env env) -> Napi::Value {
    int64_t id = info[0].As<Napi::Number>().Int64Value();
    if (id >= 0 && static_cast<size_t>(id) < g_slots.size() && g_slots[id].defined()) {
      g_slots[id] = at::Tensor();
      g_free.push_back(static_cast<uint32_t>(id));
      --g_live;
    }
    return env.Undefined();
  });
}

Napi::Value Live(const Napi::CallbackInfo& info) {
  return guarded(info, "live", [&](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, static_cast<double>(g_live)); });
}

// ---------------------------------------------------------------------------------------------------
// Autograd

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "requiresGrad", [&](Napi::Env env) -> Napi::Value {
    return Napi::Boolean::New(env, slot(env, info[0]).requires_grad());
  });
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "setRequiresGrad", [&](Napi::Env env) -> Napi::Value {
    at::Tensor t = slot(env, info[0]);
    t.set_requires_grad(info[1].ToBoolean().Value());
    return env.Undefined();
  });
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  return guarded(info, "grad", [&](Napi::Env env) -> Napi::Value { return handleOrNull(env, slot(env, info[0]).grad()); });
}

// setGrad(id, grad id | null): null drops the gradient (zeroGrad with set_to_none semantics).
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "setGrad", [&](Napi::Env env) -> Napi::Value {
    at::Tensor t = slot(env, info[0]);
    if (info[1].IsNull() || info[1].IsUndefined()) {
      t.mutable_grad().reset();
    } else {
      t.mutable_grad() = slot(env, info[1]);
    }
    return env.Undefined();
  });
}

// backward(id, grad id | null, retainGraph)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  return guarded(info, "backward", [&](Napi::Env env) -> Napi::Value {
    at::Tensor t = slot(env, info[0]);
    at::Tensor g;
    if (!(info[1].IsNull() || info[1].IsUndefined())) g = slot(env, info[1]);
    bool retain = info[2].ToBoolean().Value();
    t.backward(g, retain, false);
    return env.Undefined();
  });
}

Napi::Value GradEnabled(const Napi::CallbackInfo& info) {
  return guarded(info, "gradEnabled", [&](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, at::GradMode::is_enabled()); });
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  return guarded(info, "setGradEnabled", [&](Napi::Env env) -> Napi::Value {
    at::GradMode::set_enabled(info[0].ToBoolean().Value());
    return env.Undefined();
  });
}

// ---------------------------------------------------------------------------------------------------
// Runtime

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  return guarded(info, "manualSeed", [&](Napi::Env env) -> Napi::Value {
    at::manual_seed(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
    return env.Undefined();
  });
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, "setNumThreads", [&](Napi::Env env) -> Napi::Value {
    at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
    return env.Undefined();
  });
}

Napi::Value NumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, "numThreads", [&](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, at::get_num_threads()); });
}

Napi::Value CudaAvailable(const Napi::CallbackInfo& info) {
  return guarded(info, "cudaAvailable", [&](Napi::Env env) -> Napi::Value {
    return Napi::Boolean::New(env, at::hasCUDA() && at::detail::getCUDAHooks().getNumGPUs() > 0);
  });
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return guarded(info, "cudaDeviceCount", [&](Napi::Env env) -> Napi::Value {
    return Napi::Number::New(env, at::hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0);
  });
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  return guarded(info, "synchronize", [&](Napi::Env env) -> Napi::Value {
    if (at::hasCUDA()) at::detail::getCUDAHooks().deviceSynchronize(-1);
    return env.Undefined();
  });
}

// TF32 for CUDA matmuls and convolutions (Ampere and newer); no effect on CPU.
Napi::Value SetTF32(const Napi::CallbackInfo& info) {
  return guarded(info, "setTF32", [&](Napi::Env env) -> Napi::Value {
    bool on = info[0].ToBoolean().Value();
    at::globalContext().setFloat32MatmulPrecision(on ? "high" : "highest");
    at::globalContext().setAllowTF32CuDNN(on);
    return env.Undefined();
  });
}

// setAutocast(enabled, dtype code): CUDA autocast (mixed precision) for ops run while enabled.
Napi::Value SetAutocast(const Napi::CallbackInfo& info) {
  return guarded(info, "setAutocast", [&](Napi::Env env) -> Napi::Value {
    bool on = info[0].ToBoolean().Value();
    auto dtype = static_cast<at::ScalarType>(info[1].As<Napi::Number>().Int32Value());
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_dtype(at::kCUDA, dtype);
    at::autocast::set_autocast_enabled(at::kCUDA, on);
#else
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(on);
#endif
    if (!on) at::autocast::clear_cache();
    return env.Undefined();
  });
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  return guarded(info, "version", [&](Napi::Env env) -> Napi::Value { return Napi::String::New(env, TORCH_VERSION); });
}

Napi::Value Config(const Napi::CallbackInfo& info) {
  return guarded(info, "config", [&](Napi::Env env) -> Napi::Value { return Napi::String::New(env, at::show_config()); });
}

// benchMatmul(n, iters, device) -> seconds for `iters` fp32 n×n matmuls run by a plain C++ loop: the
// reference that the binding's own overhead is measured against.
Napi::Value BenchMatmul(const Napi::CallbackInfo& info) {
  return guarded(info, "benchMatmul", [&](Napi::Env env) -> Napi::Value {
    int64_t n = info[0].As<Napi::Number>().Int64Value();
    int64_t iters = info[1].As<Napi::Number>().Int64Value();
    std::string device = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "cpu";
    auto opts = at::TensorOptions().dtype(at::kFloat).device(c10::Device(device));
    at::Tensor a = at::randn({n, n}, opts), b = at::randn({n, n}, opts);
    at::Tensor warm = at::matmul(a, b);
    if (device != "cpu") at::detail::getCUDAHooks().deviceSynchronize(-1);
    auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < iters; ++i) warm = at::matmul(a, b);
    if (device != "cpu") at::detail::getCUDAHooks().deviceSynchronize(-1);
    auto t1 = std::chrono::steady_clock::now();
    return Napi::Number::New(env, std::chrono::duration<double>(t1 - t0).count());
  });
}

// benchAdd(iters) -> seconds for `iters` additions of two 1-element tensors called directly from C++.
Napi::Value BenchAdd(const Napi::CallbackInfo& info) {
  return guarded(info, "benchAdd", [&](Napi::Env env) -> Napi::Value {
    int64_t iters = info[0].As<Napi::Number>().Int64Value();
    at::Tensor a = at::ones({1}), b = at::ones({1}), c;
    auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < iters; ++i) c = at::add(a, b);
    auto t1 = std::chrono::steady_clock::now();
    return Napi::Number::New(env, std::chrono::duration<double>(t1 - t0).count());
  });
}


// ---------------------------------------------------------------------------------------------------
// Distributed (c10d): process groups, collectives, work handles. Bucketing, sharding and error wording are
// TypeScript's (src/torch/distributed.ts, src/train/grad-sync.ts).

// libtorch 2.x split the collectives off into c10d::Backend (ProcessGroupGloo and ProcessGroupNCCL derive
// from it); in 1.13 they derive from c10d::ProcessGroup. Both have the same collective signatures.
#if TORCH_VERSION_MAJOR >= 2
using Group = c10d::Backend;
#else
using Group = c10d::ProcessGroup;
#endif

// Never freed: a group whose peer died may hold threads that never finish, and its destructor would join
// them when the process exits (process.exit after a failed collective must not hang).
auto* g_groups = new std::vector<c10::intrusive_ptr<Group>>();
auto* g_works = new std::vector<std::vector<c10::intrusive_ptr<c10d::Work>>>();
auto* g_freeWorks = new std::vector<uint32_t>();

c10::intrusive_ptr<Group>& groupArg(const Napi::Env& env, const Napi::Value& v) {
  uint32_t id = v.As<Napi::Number>().Uint32Value();
  if (id >= g_groups->size() || !(*g_groups)[id]) throw Napi::Error::New(env, "use of a destroyed process group");
  return (*g_groups)[id];
}

std::vector<at::Tensor> tensorList(const Napi::Env& env, const Napi::Value& v) {
  Napi::Array a = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(slot(env, a.Get(i)));
  return out;
}

Napi::Value keepWorks(const Napi::Env& env, std::vector<c10::intrusive_ptr<c10d::Work>> works) {
  if (!g_freeWorks->empty()) {
    uint32_t id = g_freeWorks->back();
    g_freeWorks->pop_back();
    (*g_works)[id] = std::move(works);
    return Napi::Number::New(env, id);
  }
  g_works->push_back(std::move(works));
  return Napi::Number::New(env, static_cast<double>(g_works->size() - 1));
}

// distBackends() -> the backends this build has ("gloo", "nccl").
Napi::Value DistBackends(const Napi::CallbackInfo& info) {
  return guarded(info, "distBackends", [&](Napi::Env env) -> Napi::Value {
    Napi::Array a = Napi::Array::New(env);
#ifdef USE_C10D_GLOO
    a.Set(a.Length(), Napi::String::New(env, "gloo"));
#endif
#ifdef USE_C10D_NCCL
    a.Set(a.Length(), Napi::String::New(env, "nccl"));
#endif
    return a;
  });
}

// distInit(backend, storeKind "tcp"|"file", host or path, port, rank, size, timeoutMs, glooHost) -> group id.
// TCP: rank 0 serves the store and waits for the others; every rank blocks until the group is formed (or the
// timeout passes). glooHost: the address Gloo binds to ("" = the host name's).
Napi::Value DistInit(const Napi::CallbackInfo& info) {
  return guarded(info, "distInit", [&](Napi::Env env) -> Napi::Value {
    std::string backend = info[0].As<Napi::String>().Utf8Value();
    std::string kind = info[1].As<Napi::String>().Utf8Value();
    std::string where = info[2].As<Napi::String>().Utf8Value();
    int port = info[3].As<Napi::Number>().Int32Value();
    int rank = info[4].As<Napi::Number>().Int32Value();
    int size = info[5].As<Napi::Number>().Int32Value();
    auto timeout = std::chrono::milliseconds(info[6].As<Napi::Number>().Int64Value());
    std::string glooHost = info[7].As<Napi::String>().Utf8Value();
    c10::intrusive_ptr<c10d::Store> store;
    if (kind == "tcp") {
      c10d::TCPStoreOptions opts;
      opts.port = static_cast<std::uint16_t>(port);
      opts.isServer = rank == 0;
      opts.numWorkers = size;
      opts.waitWorkers = true;
      opts.timeout = timeout;
      store = c10::make_intrusive<c10d::TCPStore>(where, opts);
    } else {
      store = c10::make_intrusive<c10d::FileStore>(where, size);
    }
    store->setTimeout(timeout);
    c10::intrusive_ptr<Group> group;
    if (backend == "gloo") {
#ifdef USE_C10D_GLOO
      auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
      opts->devices.push_back(glooHost.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                               : c10d::ProcessGroupGloo::createDeviceForHostname(glooHost));
      group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, opts);
#else
      throw Napi::Error::New(env, "this build of the kernels has no Gloo (install the gloo headers, Debian: libgloo-dev, and rebuild)");
#endif
    } else if (backend == "nccl") {
#ifdef USE_C10D_NCCL
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = timeout;
      group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, opts);
#else
      throw Napi::Error::New(env, "this build of the kernels has no NCCL (build against a CUDA PyTorch with NCCL)");
#endif
    } else {
      throw Napi::Error::New(env, "unknown backend " + backend);
    }
    g_groups->push_back(group);
    return Napi::Number::New(env, static_cast<double>(g_groups->size() - 1));
  });
}

// distAllReduce(group, tensors, op "sum"|"max") -> work id: one in-place all-reduce per tensor, all started
// before this returns (each tensor must be dense and contiguous).
Napi::Value DistAllReduce(const Napi::CallbackInfo& info) {
  return guarded(info, "distAllReduce", [&](Napi::Env env) -> Napi::Value {
    auto& group = groupArg(env, info[0]);
    std::vector<at::Tensor> tensors = tensorList(env, info[1]);
    std::string op = info[2].As<Napi::String>().Utf8Value();
    c10d::AllreduceOptions opts;
    opts.reduceOp = op == "max" ? c10d::ReduceOp::MAX : c10d::ReduceOp::SUM;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};
      works.push_back(group->allreduce(one, opts));
    }
    return keepWorks(env, std::move(works));
  });
}

// distBroadcast(group, tensors, root) -> work id: rank root's values into every rank's tensors, in place.
Napi::Value DistBroadcast(const Napi::CallbackInfo& info) {
  return guarded(info, "distBroadcast", [&](Napi::Env env) -> Napi::Value {
    auto& group = groupArg(env, info[0]);
    std::vector<at::Tensor> tensors = tensorList(env, info[1]);
    c10d::BroadcastOptions opts;
    opts.rootRank = info[2].As<Napi::Number>().Int64Value();
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};
      works.push_back(group->broadcast(one, opts));
    }
    return keepWorks(env, std::move(works));
  });
}

Napi::Value DistBarrier(const Napi::CallbackInfo& info) {
  return guarded(info, "distBarrier", [&](Napi::Env env) -> Napi::Value {
    return keepWorks(env, {groupArg(env, info[0])->barrier(c10d::BarrierOptions())});
  });
}

// distWait(work, timeoutMs): blocks until every collective of the work is done; throws the first failure
// (a peer gone, the timeout passed). timeoutMs <= 0: no timeout of the wait itself (NCCL: the stream waits,
// not the CPU; the group's own timeout still applies). The work id is released either way.
Napi::Value DistWait(const Napi::CallbackInfo& info) {
  return guarded(info, "distWait", [&](Napi::Env env) -> Napi::Value {
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    if (id >= g_works->size() || (*g_works)[id].empty()) throw Napi::Error::New(env, "unknown or finished work id");
    int64_t ms = info[1].As<Napi::Number>().Int64Value();
    std::vector<c10::intrusive_ptr<c10d::Work>> works = std::move((*g_works)[id]);
    (*g_works)[id].clear();
    g_freeWorks->push_back(id);
    for (auto& w : works) {
      if (ms > 0) {
        w->wait(std::chrono::milliseconds(ms));
      } else {
        w->wait();
      }
    }
    return env.Undefined();
  });
}

// distDestroy(group): drops the group (NCCL: after shutting its communicators down).
Napi::Value DistDestroy(const Napi::CallbackInfo& info) {
  return guarded(info, "distDestroy", [&](Napi::Env env) -> Napi::Value {
    auto& group = groupArg(env, info[0]);
#if defined(USE_C10D_NCCL) && (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4))
    if (auto* nccl = dynamic_cast<c10d::ProcessGroupNCCL*>(group.get())) nccl->shutdown();
#endif
    group.reset();
    return env.Undefined();
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto fn = [&](const char* name, Napi::Value (*f)(const Napi::CallbackInfo&)) {
    exports.Set(name, Napi::Function::New(env, f, name));
  };
  fn("opHandle", OpHandle);
  fn("opSchema", OpSchema);
  fn("call", Call);
  fn("fromData", FromData);
  fn("toData", ToData);
  fn("shape", Shape);
  fn("dtype", Dtype);
  fn("device", DeviceOf);
  fn("item", Item);
  fn("free", Free);
  fn("live", Live);
  fn("requiresGrad", RequiresGrad);
  fn("setRequiresGrad", SetRequiresGrad);
  fn("grad", Grad);
  fn("setGrad", SetGrad);
  fn("backward", Backward);
  fn("gradEnabled", GradEnabled);
  fn("setGradEnabled", SetGradEnabled);
  fn("manualSeed", ManualSeed);
  fn("setNumThreads", SetNumThreads);
  fn("numThreads", NumThreads);
  fn("cudaAvailable", CudaAvailable);
  fn("cudaDeviceCount", CudaDeviceCount);
  fn("synchronize", Synchronize);
  fn("setTF32", SetTF32);
  fn("setAutocast", SetAutocast);
  fn("version", Version);
  fn("config", Config);
  fn("benchMatmul", BenchMatmul);
  fn("benchAdd", BenchAdd);
  fn("distBackends", DistBackends);
  fn("distInit", DistInit);
  fn("distAllReduce", DistAllReduce);
  fn("distBroadcast", DistBroadcast);
  fn("distBarrier", DistBarrier);
  fn("distWait", DistWait);
  fn("distDestroy", DistDestroy);
  return exports;
}

}  // namespace

NODE_API_MODULE(nast_torch, Init)
