// Quantization error diagnosis (see quant_error.h).
#include "core/analysis/quant_error.h"
#include "core/runtime/executor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "core/analysis/calibration.h"
#include "core/util/error.h"

namespace edgetune {

nlohmann::json QuantErrorReport::toJson() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& t : tensors)
    rows.push_back({{"tensor", t.tensor},
                    {"quantized_tensor", t.quantized_tensor},
                    {"producer", t.producer},
                    {"op_type", t.op_type},
                    {"snr_db", t.snr_db},
                    {"mse", t.mse},
                    {"cosine", t.cosine},
                    {"elements", t.elements}});
  return {{"samples", samples}, {"tensors", rows}};
}

std::string QuantErrorReport::toTable(int max_rows) const {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "%4s  %-48s %-18s %9s %12s %9s\n", "rank", "tensor", "op", "SNR dB", "MSE",
                "cosine");
  out << line;
  int rank = 0;
  for (const auto& t : tensors) {
    if (max_rows > 0 && rank >= max_rows) break;
    std::string name = t.tensor.size() > 48 ? "..." + t.tensor.substr(t.tensor.size() - 45) : t.tensor;
    std::snprintf(line, sizeof line, "%4d  %-48s %-18s %9.2f %12.4g %9.5f\n", ++rank, name.c_str(),
                  t.op_type.c_str(), t.snr_db, t.mse, t.cosine);
    out << line;
  }
  return out.str();
}

namespace {

// The tensor that carries `tensor` after its quantization round trip in a Q/DQ model (the output of a
// DequantizeLinear reading the QuantizeLinear of `tensor`), or "" when it is not quantized.
std::string dequantizedCounterpart(const Model& quantized_model, const std::string& tensor) {
  const auto& g = quantized_model.graph();
  for (int q : quantized_model.consumers(tensor)) {
    if (g.node(q).op_type() != "QuantizeLinear") continue;
    for (int dq : quantized_model.consumers(g.node(q).output(0)))
      if (g.node(dq).op_type() == "DequantizeLinear") return g.node(dq).output(0);
  }
  return {};
}

}  // namespace

QuantErrorReport diagnoseQuantization(const Model& float_model, const Model& quantized_model,
                                      const Dataset& dataset, size_t samples, int batch_size,
                                      JobContext* job) {
  if (batch_size <= 0) throw Error("diagnosis batch size must be positive");
  std::vector<std::string> float_names, quant_names;
  std::vector<const onnx::NodeProto*> producers;
  for (const auto& n : float_model.graph().node()) {
    for (const auto& out : n.output()) {
      auto info = float_model.valueInfo(out);
      if (out.empty() || !info || info->type != DataType::Float32 || !info->has_shape) continue;
      std::string counterpart;
      for (const std::string& candidate : {dequantizedCounterpart(quantized_model, out), out}) {
        auto qi = quantized_model.valueInfo(candidate);
        if (qi && qi->type == DataType::Float32 && qi->has_shape && qi->shape.size() == info->shape.size() &&
            (quantized_model.producer(candidate) >= 0)) {
          counterpart = candidate;
          break;
        }
      }
      if (counterpart.empty()) continue;
      float_names.push_back(out);
      quant_names.push_back(counterpart);
      producers.push_back(&n);
    }
  }
  if (float_names.empty()) throw Error("diagnosis: the two models share no float tensors to compare");

  auto fexec = makeOrtExecutor(withExtraOutputs(float_model, float_names));
  auto qexec = makeOrtExecutor(withExtraOutputs(quantized_model, quant_names));
  const auto inputs = fexec->inputs();
  checkInputsFit(inputs, dataset.features(), dataset.name());
  const size_t n = std::min(samples, dataset.size());
  const size_t batch = inputs[0].shape.empty() || inputs[0].shape[0] <= 0
                           ? static_cast<size_t>(batch_size)
                           : static_cast<size_t>(inputs[0].shape[0]);
  struct Acc {
    double ref2 = 0, test2 = 0, dot = 0, diff2 = 0;
    int64_t count = 0;
  };
  std::vector<Acc> acc(float_names.size());
  for (size_t begin = 0; begin < n; begin += batch) {
    if (job) job->throwIfCancelled();
    const auto feed = datasetBatch(dataset, inputs, begin, std::min(batch, n - begin));
    const auto a = fexec->run(feed, float_names);
    const auto b = qexec->run(feed, quant_names);
    for (size_t t = 0; t < float_names.size(); ++t) {
      auto x = a[t].values<float>();
      auto y = b[t].values<float>();
      if (x.size() != y.size()) continue;  // shapes diverged (should not happen); skip rather than misreport
      auto& s = acc[t];
      for (size_t i = 0; i < x.size(); ++i) {
        const double r = x[i], q = y[i];
        s.ref2 += r * r;
        s.test2 += q * q;
        s.dot += r * q;
        s.diff2 += (r - q) * (r - q);
      }
      s.count += static_cast<int64_t>(x.size());
    }
    if (job) job->report(static_cast<double>(begin + batch) / static_cast<double>(n), "diagnosing");
  }
  QuantErrorReport report;
  report.samples = n;
  for (size_t t = 0; t < float_names.size(); ++t) {
    const auto& s = acc[t];
    if (s.count == 0) continue;
    TensorError e;
    e.tensor = float_names[t];
    e.quantized_tensor = quant_names[t];
    e.producer = producers[t]->name();
    e.op_type = producers[t]->op_type();
    e.elements = s.count;
    e.mse = s.diff2 / static_cast<double>(s.count);
    e.snr_db =
        s.diff2 == 0 ? 200.0 : (s.ref2 == 0 ? -200.0 : std::min(200.0, 10 * std::log10(s.ref2 / s.diff2)));
    e.cosine = s.ref2 > 0 && s.test2 > 0 ? s.dot / std::sqrt(s.ref2 * s.test2) : (s.diff2 == 0 ? 1.0 : 0.0);
    report.tensors.push_back(std::move(e));
  }
  std::stable_sort(report.tensors.begin(), report.tensors.end(),
                   [](const TensorError& x, const TensorError& y) { return x.snr_db < y.snr_db; });
  return report;
}

}  // namespace edgetune
