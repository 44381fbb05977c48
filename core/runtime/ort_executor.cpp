// The ONNX Runtime executor: the reference for accuracy and latency (it is what runs on the device).
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "core/runtime/executor.h"
#include "core/runtime/ort_env.h"
#include "core/util/error.h"
#include "core/util/thread_list.h"

namespace edgetune {
namespace {

GraphOptimizationLevel toOrt(GraphOptimization level) {
  switch (level) {
    case GraphOptimization::Disabled:
      return ORT_DISABLE_ALL;
    case GraphOptimization::Basic:
      return ORT_ENABLE_BASIC;
    case GraphOptimization::Extended:
      return ORT_ENABLE_EXTENDED;
    case GraphOptimization::All:
      return ORT_ENABLE_ALL;
  }
  return ORT_ENABLE_ALL;
}

Ort::SessionOptions makeSessionOptions(const OrtOptions& options) {
  // ONNX Runtime creates its pool at session start; thousands of threads fail there with an exception that
  // escapes as "terminate called", so the count is bounded here for every caller (CLI, recipes, studio).
  if (options.intra_op_threads < 0 || options.intra_op_threads > kMaxThreadCount)
    throw Error("ONNX Runtime: " + std::to_string(options.intra_op_threads) +
                " intra-op threads is outside 0.." + std::to_string(kMaxThreadCount) + " (0 = one per core)");
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(options.intra_op_threads);
  so.SetInterOpNumThreads(1);
  so.SetGraphOptimizationLevel(toOrt(options.optimization));
  if (!options.allow_spinning) so.AddConfigEntry("session.intra_op.allow_spinning", "0");
  if (options.enable_profiling)
    so.EnableProfiling(options.profile_prefix.empty() ? "edgetune_profile" : options.profile_prefix.c_str());
  return so;
}

class OrtExecutor final : public Executor {
 public:
  OrtExecutor(std::unique_ptr<Ort::Session> session, std::string origin)
      : session_(std::move(session)), origin_(std::move(origin)) {
    Ort::AllocatorWithDefaultOptions allocator;
    for (size_t i = 0; i < session_->GetInputCount(); ++i) {
      auto type_info = session_->GetInputTypeInfo(i);  // must outlive `info`, which is a view into it
      auto info = type_info.GetTensorTypeAndShapeInfo();
      inputs_.push_back({session_->GetInputNameAllocated(i, allocator).get(),
                         dataTypeFromOnnx(static_cast<int>(info.GetElementType())), info.GetShape()});
    }
    for (size_t i = 0; i < session_->GetOutputCount(); ++i) {
      auto type_info = session_->GetOutputTypeInfo(i);
      TensorInfo out{session_->GetOutputNameAllocated(i, allocator).get(), DataType::Float32, {}};
      if (type_info.GetONNXType() == ONNX_TYPE_TENSOR) {
        auto info = type_info.GetTensorTypeAndShapeInfo();
        out.type = dataTypeFromOnnx(static_cast<int>(info.GetElementType()));
        out.shape = info.GetShape();
      }
      outputs_.push_back(std::move(out));
    }
  }

  std::vector<TensorInfo> inputs() const override { return inputs_; }
  std::vector<TensorInfo> outputs() const override { return outputs_; }

  std::vector<Tensor> run(const std::vector<NamedTensor>& inputs,
                          const std::vector<std::string>& output_names) override {
    Ort::MemoryInfo memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    std::vector<const char*> in_names;
    std::vector<Ort::Value> in_values;
    std::map<std::string, const NamedTensor*> given;
    for (const auto& nt : inputs) given[nt.name] = &nt;
    for (const auto& expected : inputs_) {
      auto it = given.find(expected.name);
      if (it == given.end()) throw Error(origin_ + ": input '" + expected.name + "' was not given");
      const Tensor& t = it->second->tensor;
      checkInputMatches(origin_, expected, t);
      in_names.push_back(expected.name.c_str());
      in_values.push_back(Ort::Value::CreateTensor(memory, const_cast<void*>(t.raw()), t.byteSize(),
                                                   t.shape().data(), t.shape().size(),
                                                   static_cast<ONNXTensorElementDataType>(t.type())));
    }
    if (given.size() != inputs_.size())
      for (const auto& [name, _] : given)
        if (std::none_of(inputs_.begin(), inputs_.end(),
                         [&name = name](const TensorInfo& i) { return i.name == name; }))
          throw Error(origin_ + ": the model has no input named '" + name + "'");

    std::vector<std::string> wanted = output_names;
    if (wanted.empty())
      for (const auto& o : outputs_) wanted.push_back(o.name);
    std::vector<const char*> out_names;
    for (const auto& n : wanted) out_names.push_back(n.c_str());

    std::vector<Ort::Value> results;
    try {
      results = session_->Run(Ort::RunOptions{nullptr}, in_names.data(), in_values.data(), in_values.size(),
                              out_names.data(), out_names.size());
    } catch (const Ort::Exception& e) {
      throw Error(origin_ + ": ONNX Runtime failed to run the model: " + e.what());
    }
    std::vector<Tensor> out;
    out.reserve(results.size());
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].IsTensor()) throw Error(origin_ + ": output '" + wanted[i] + "' is not a tensor");
      auto info = results[i].GetTensorTypeAndShapeInfo();
      Tensor t(dataTypeFromOnnx(static_cast<int>(info.GetElementType())), info.GetShape());
      if (t.byteSize()) std::memcpy(t.raw(), results[i].GetTensorRawData(), t.byteSize());
      out.push_back(std::move(t));
    }
    return out;
  }

 private:
  std::unique_ptr<Ort::Session> session_;
  std::string origin_;
  std::vector<TensorInfo> inputs_, outputs_;
};

}  // namespace

Ort::Env& ortEnv() {
  // ONNX Runtime allows one environment per process; it is created on first use and lives until exit.
  static Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "edgetune");
  return env;
}

std::unique_ptr<Executor> makeOrtExecutor(const Model& model, const OrtOptions& options) {
  std::string bytes = model.serialize();
  try {
    auto session =
        std::make_unique<Ort::Session>(ortEnv(), bytes.data(), bytes.size(), makeSessionOptions(options));
    return std::make_unique<OrtExecutor>(std::move(session), model.origin());
  } catch (const Ort::Exception& e) {
    throw Error(model.origin() + ": ONNX Runtime cannot load the model: " + e.what());
  }
}

std::unique_ptr<Executor> makeOrtExecutor(const std::string& onnx_path, const OrtOptions& options) {
  try {
    auto session = std::make_unique<Ort::Session>(ortEnv(), onnx_path.c_str(), makeSessionOptions(options));
    return std::make_unique<OrtExecutor>(std::move(session), onnx_path);
  } catch (const Ort::Exception& e) {
    throw Error(onnx_path + ": ONNX Runtime cannot load the model: " + e.what());
  }
}

}  // namespace edgetune
