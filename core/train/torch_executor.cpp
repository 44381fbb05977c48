// The libtorch interpreter as an Executor: eval mode, no autograd, EdgeTune tensors in and out.
#include "core/train/torch_executor.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <map>

#include "core/train/torch_graph.h"
#include "core/train/torch_ops.h"
#include "core/util/error.h"

namespace edgetune {
namespace {

class TorchExecutor final : public Executor {
 public:
  explicit TorchExecutor(const Model& model) : graph_(model), origin_(model.origin()) {
    graph_.eval();
    for (const auto& in : model.inputs()) inputs_.push_back({in.name, in.type, in.shape});
    for (const auto& out : model.outputs()) outputs_.push_back({out.name, out.type, out.shape});
    // Declared element types of every tensor, so results come back as ONNX Runtime returns them
    // (fake-quantized values travel as floats inside the interpreter).
    for (const auto* list : {&model.graph().value_info(), &model.graph().output()})
      for (const auto& vi : *list)
        if (vi.type().has_tensor_type() && vi.type().tensor_type().elem_type() != 0)
          declared_types_[vi.name()] = dataTypeFromOnnx(vi.type().tensor_type().elem_type());
  }

  std::vector<TensorInfo> inputs() const override { return inputs_; }
  std::vector<TensorInfo> outputs() const override { return outputs_; }

  std::vector<Tensor> run(const std::vector<NamedTensor>& inputs,
                          const std::vector<std::string>& output_names) override {
    std::map<std::string, const Tensor*> given;
    for (const auto& nt : inputs) {
      if (std::none_of(inputs_.begin(), inputs_.end(),
                       [&](const TensorInfo& i) { return i.name == nt.name; }))
        throw Error(origin_ + ": the model has no input named '" + nt.name + "'");
      given[nt.name] = &nt.tensor;
    }
    std::vector<at::Tensor> ordered;
    for (const auto& expected : inputs_) {
      auto it = given.find(expected.name);
      if (it == given.end()) throw Error(origin_ + ": input '" + expected.name + "' was not given");
      const Tensor& t = *it->second;
      checkInputMatches(origin_, expected, t);
      ordered.push_back(torch_ops::toTorch(t, /*copy=*/false));  // the caller's tensor outlives this call
    }
    std::vector<at::Tensor> results;
    {
      at::NoGradGuard no_grad;
      results = graph_.forward(ordered, output_names);
    }
    const std::vector<std::string>& names = output_names.empty() ? graph_.outputNames() : output_names;
    std::vector<Tensor> out;
    out.reserve(results.size());
    for (size_t i = 0; i < results.size(); ++i) {
      auto it = declared_types_.find(names[i]);
      out.push_back(it != declared_types_.end() ? torch_ops::fromTorch(results[i], it->second)
                                                : torch_ops::fromTorch(results[i]));
    }
    return out;
  }

 private:
  TorchGraph graph_;
  std::string origin_;
  std::vector<TensorInfo> inputs_, outputs_;
  std::map<std::string, DataType> declared_types_;
};

}  // namespace

std::unique_ptr<Executor> makeTorchExecutor(const Model& model, const TorchExecutorOptions& options) {
  if (options.threads > 0) setTorchThreads(options.threads);
  return std::make_unique<TorchExecutor>(model);
}

std::vector<std::string> torchUnsupportedOps(const Model& model) {
  return TorchGraph::unsupportedOps(model);
}

void setTorchThreads(int threads) {
  if (threads > 0 && at::get_num_threads() != threads) at::set_num_threads(threads);
}
int torchThreads() {
  return at::get_num_threads();
}

}  // namespace edgetune
