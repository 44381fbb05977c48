// The "quantize" pass: options, validation, and the static flow (fold BN, calibrate, place Q/DQ, optional
// automatic mixed precision driven by the measured output SNR).
#include <algorithm>
#include <cmath>
#include <optional>

#include "core/passes/cleanup_passes.h"
#include "core/passes/fp16.h"
#include "core/passes/graph_edit.h"
#include "core/passes/layernorm_form.h"
#include "core/passes/quantize_passes.h"
#include "core/util/error.h"
#include "core/util/name_pattern.h"

namespace edgetune {

void to_json(nlohmann::json& j, const QuantizeOptions& o) {
  j = {{"mode", o.mode},
       {"data", o.data},
       {"samples", o.samples},
       {"batch_size", o.batch_size},
       {"calibration", o.calibration},
       {"percentile", o.percentile},
       {"per_channel", o.per_channel},
       {"activation_type", o.activation_type},
       {"symmetric_activations", o.symmetric_activations},
       {"reduce_range", o.reduce_range},
       {"format", o.format},
       {"exclude_nodes", o.exclude_nodes},
       {"exclude_ops", o.exclude_ops},
       {"fold_batchnorm", o.fold_batchnorm},
       {"min_weight_elements", o.min_weight_elements},
       {"unfused_layernorm", o.unfused_layernorm},
       {"keep_io_types", o.keep_io_types},
       {"min_output_snr_db", o.min_output_snr_db},
       {"mixed_precision_samples", o.mixed_precision_samples}};
}

void readOptions(OptionsReader& r, QuantizeOptions& o) {
  r.read("mode", o.mode);
  r.read("data", o.data);
  r.read("samples", o.samples);
  r.read("batch_size", o.batch_size);
  r.read("calibration", o.calibration);
  r.read("percentile", o.percentile);
  r.read("per_channel", o.per_channel);
  r.read("activation_type", o.activation_type);
  r.read("symmetric_activations", o.symmetric_activations);
  r.read("reduce_range", o.reduce_range);
  r.read("format", o.format);
  r.read("exclude_nodes", o.exclude_nodes);
  r.read("exclude_ops", o.exclude_ops);
  r.read("fold_batchnorm", o.fold_batchnorm);
  r.read("min_weight_elements", o.min_weight_elements);
  r.read("unfused_layernorm", o.unfused_layernorm);
  r.read("keep_io_types", o.keep_io_types);
  r.read("min_output_snr_db", o.min_output_snr_db);
  r.read("mixed_precision_samples", o.mixed_precision_samples);
  validate(o);
}

void validate(const QuantizeOptions& o) {
  auto fail = [](const std::string& field, const std::string& problem) {
    throw Error("quantize: option '" + field + "' " + problem);
  };
  if (o.format == QuantFormat::QOperator && o.mode != QuantizeMode::Static)
    fail("format", "qoperator applies to static quantization only (mode is '" + toString(o.mode) + "')");
  if (o.samples <= 0) fail("samples", "must be positive");
  if (o.batch_size <= 0) fail("batch_size", "must be positive");
  if (!(o.percentile >= 50 && o.percentile <= 100)) fail("percentile", "must be within [50, 100]");
  if (o.min_output_snr_db < 0) fail("min_output_snr_db", "must be >= 0");
  compileNamePatterns(o.exclude_nodes, "quantize: option 'exclude_nodes'");  // refused as the recipe is read
}

double snrDb(std::span<const float> reference, std::span<const float> test) {
  if (reference.size() != test.size()) throw Error("snr: tensors differ in size");
  double signal = 0, noise = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    const double r = reference[i], d = r - test[i];
    signal += r * r;
    noise += d * d;
  }
  if (noise == 0) return 200.0;
  if (signal == 0) return -200.0;
  return std::min(200.0, 10.0 * std::log10(signal / noise));
}

QuantDecisions fp16Decisions(const Model& model, const QuantizeOptions& options) {
  // FP16 converts every float tensor except the inputs/outputs of excluded op types.
  const std::set<std::string> excluded(options.exclude_ops.begin(), options.exclude_ops.end());
  QuantDecisions out;
  for (const auto& n : model.graph().node()) {
    const bool compute = n.op_type() == "Conv" || n.op_type() == "ConvTranspose" || n.op_type() == "Gemm" ||
                         n.op_type() == "MatMul";
    if (!compute && !readsFloatWeights(model, n)) continue;
    out.push_back({quantNodeKey(n), excluded.count(n.op_type()) ? skip_reason::kExcludedByUser : ""});
  }
  return out;
}

Coverage coverageOf(const Model& model, const QuantDecisions& decisions, const InputShapes* shapes) {
  CoverageCounter counter(model, shapes);
  // Sizes the model cannot take (a --shape beyond what its graph accepts) leave shape inference with nothing;
  // the declared sizes then still give a share rather than "100% of 0 MACs".
  if (shapes && counter.result().total_macs == 0) {
    CoverageCounter declared(model, nullptr);
    if (declared.result().total_macs > 0) counter = std::move(declared);
  }
  for (const auto& [node, reason] : decisions) {
    if (reason.empty())
      counter.covered(node);
    else
      counter.skipped(node, reason);
  }
  return counter.result();
}

namespace {

// HardSigmoid(x) = Clip(alpha * x + beta, 0, 1). ONNX Runtime has no integer HardSigmoid, so MobileNetV3's
// hard-swish (x * HardSigmoid(x)) would leave a DQ -> float -> Q round trip in every block; written as Mul
// and Add by constants it runs as QLinearMul / QLinearAdd, and the Clip(0, 1) folds into the Add's
// QuantizeLinear.
int expandHardSigmoid(Model& model, const QuantizeOptions& o) {
  if (std::find(o.exclude_ops.begin(), o.exclude_ops.end(), "HardSigmoid") != o.exclude_ops.end()) return 0;
  auto& g = model.graph();
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  int expanded = 0;
  auto scalar = [&](const std::string& base, float v) {
    const std::string name = uniqueName(model, base);
    *g.add_initializer() = tensorToProto(name, Tensor::from<float>({}, std::vector<float>{v}));
    model.reindex();
    return name;
  };
  const auto original = g.node();
  for (const auto& n : original) {
    auto info = n.input_size() == 1 ? model.valueInfo(n.input(0)) : std::nullopt;
    if (n.op_type() != "HardSigmoid" || !info || info->type != DataType::Float32) {
      *nodes.Add() = n;
      continue;
    }
    const std::string base = n.name().empty() ? n.output(0) : n.name();
    const std::string scaled = uniqueName(model, base + "_scaled"),
                      shifted = uniqueName(model, base + "_shifted");
    *nodes.Add() = makeNode("Mul", base + "_Mul",
                            {n.input(0), scalar(base + "_alpha", attrFloat(n, "alpha", 0.2f))}, {scaled});
    *nodes.Add() = makeNode("Add", base + "_Add",
                            {scaled, scalar(base + "_beta", attrFloat(n, "beta", 0.5f))}, {shifted});
    *nodes.Add() =
        makeNode("Clip", base + "_Clip", {shifted, scalar(base + "_min", 0.0f), scalar(base + "_max", 1.0f)},
                 {n.output(0)});
    ++expanded;
  }
  if (expanded == 0) return 0;
  g.mutable_node()->Swap(&nodes);
  finishGraphEdit(model, "quantize");
  return expanded;
}

// Output SNR (first output, concatenated over batches) of `candidate` against precomputed float outputs.
double outputSnr(const Model& candidate, const std::vector<std::vector<NamedTensor>>& batches,
                 const std::vector<float>& reference) {
  auto executor = makeOrtExecutor(candidate);
  std::vector<float> got;
  for (const auto& b : batches) {
    auto out = executor->run(b);
    auto v = out.at(0).values<float>();
    got.insert(got.end(), v.begin(), v.end());
  }
  return snrDb(reference, got);
}

}  // namespace

PassReport QuantizePass::apply(Model& model, PassContext& context) {
  validate(options_);
  const QuantizeOptions& o = options_;
  const std::optional<InputShapes> shapes = shapes_ ? shapes_ : defaultInputShapes(model);
  const InputShapes* sizes = shapes ? &*shapes : nullptr;
  if (o.mode == QuantizeMode::Dynamic) {
    Coverage coverage = coverageOf(model, dynamicDecisions(model, o), sizes);
    PassReport r = quantizeDynamic(model, o);
    if (o.unfused_layernorm)
      if (int n = writeLayerNormsUnfused(model))
        r.lines.push_back(
            "LayerNorm: " + std::to_string(n) +
            " written unfused (Mul and Reciprocal), which ONNX Runtime runs about 3x faster than "
            "its fused LayerNormalization kernel");
    r.coverage = std::move(coverage);
    return r;
  }
  if (o.mode == QuantizeMode::WeightOnly) {
    Coverage coverage = coverageOf(model, weightOnlyDecisions(model, o), sizes);
    PassReport r = quantizeWeightsOnly(model, o);
    r.coverage = std::move(coverage);
    return r;
  }
  if (o.mode == QuantizeMode::Fp16) {
    Coverage coverage = coverageOf(model, fp16Decisions(model, o), sizes);
    Fp16Options fp;
    fp.keep_io_types = o.keep_io_types;
    fp.exclude_ops = o.exclude_ops;
    PassReport r = convertToFp16(model, fp);
    r.coverage = std::move(coverage);
    return r;
  }

  PassReport report;
  report.pass_name = name();
  std::shared_ptr<const Dataset> dataset = dataset_;
  if (!dataset) {
    if (o.data.empty())
      throw Error(
          "quantize: static mode needs calibration data (option 'data', a dataset spec such as "
          "fashion-mnist)");
    dataset = openDataset(o.data);
  }
  if (o.fold_batchnorm) {
    FoldBatchNormPass fold;
    report.merge(fold.apply(model, context));
  }
  if (const int n = expandHardSigmoid(model, o); n > 0)
    report.lines.push_back("wrote " + std::to_string(n) +
                           " HardSigmoid as Mul + Add + Clip (integer kernels in ORT)");
  context.throwIfCancelled();

  // Calibrate the float model on the tensors the plan needs.
  const auto tensors = staticCalibrationTensors(model, o);
  CalibrationOptions co;
  co.samples = static_cast<size_t>(o.samples);
  co.batch_size = o.batch_size;
  co.range.method = o.calibration;
  co.range.percentile = o.percentile;
  JobContext* job = context.job();
  calibration_ = collectCalibration(model, *dataset, tensors, co, job);
  const auto ranges = calibration_.ranges(co.range);
  report.details["calibration"] = {{"method", o.calibration},
                                   {"samples", calibration_.samples},
                                   {"seconds", calibration_.seconds},
                                   {"tensors", tensors.size()},
                                   {"histogram_bytes", calibration_.histogramBytes()}};

  std::set<std::string> keep_float;
  if (o.min_output_snr_db > 0) {
    // Automatic mixed precision: rank layers by the SNR the model keeps when only that layer is quantized,
    // then keep the worst ones in float until the fully quantized model reaches the budget.
    const Model float_model = model;
    auto executor = makeOrtExecutor(float_model);
    const auto inputs = executor->inputs();
    const size_t n = std::min<size_t>(static_cast<size_t>(o.mixed_precision_samples), dataset->size());
    std::vector<std::vector<NamedTensor>> batches;
    std::vector<float> reference;
    const size_t batch = inputs[0].shape.empty() || inputs[0].shape[0] <= 0
                             ? static_cast<size_t>(o.batch_size)
                             : static_cast<size_t>(inputs[0].shape[0]);
    for (size_t begin = 0; begin < n; begin += batch) {
      batches.push_back(datasetBatch(*dataset, inputs, begin, std::min(batch, n - begin)));
      const auto outputs = executor->run(batches.back());  // keep alive while reading its values
      auto v = outputs.at(0).values<float>();
      reference.insert(reference.end(), v.begin(), v.end());
    }
    const auto layers = staticQuantizableNodes(float_model, o);
    std::vector<std::pair<double, std::string>> cost;
    for (size_t i = 0; i < layers.size(); ++i) {
      context.throwIfCancelled();
      context.report(0.4 + 0.4 * static_cast<double>(i) / static_cast<double>(layers.size()),
                     "ranking layers");
      Model single = float_model;
      std::set<std::string> only = {layers[i]};
      quantizeStaticWithRanges(single, ranges, o, {}, &only);
      cost.push_back({outputSnr(single, batches, reference), layers[i]});
    }
    std::sort(cost.begin(), cost.end());  // lowest SNR (most harmful) first
    double snr = 0;
    size_t kept = 0;
    nlohmann::json steps = nlohmann::json::array();
    while (true) {
      Model candidate = float_model;
      quantizeStaticWithRanges(candidate, ranges, o, keep_float);
      snr = outputSnr(candidate, batches, reference);
      steps.push_back({{"float_layers", kept}, {"output_snr_db", snr}});
      if (snr >= o.min_output_snr_db || kept >= cost.size()) break;
      keep_float.insert(cost[kept++].second);
    }
    nlohmann::json ranking = nlohmann::json::array();
    for (const auto& [s, layer] : cost) ranking.push_back({{"node", layer}, {"output_snr_db_alone", s}});
    report.details["mixed_precision"] = {
        {"budget_db", o.min_output_snr_db},
        {"output_snr_db", snr},
        {"float_nodes", std::vector<std::string>(keep_float.begin(), keep_float.end())},
        {"ranking", ranking},
        {"steps", steps}};
    report.lines.push_back("mixed precision: kept " + std::to_string(keep_float.size()) +
                           " node(s) in float, output SNR " + std::to_string(snr) + " dB (budget " +
                           std::to_string(o.min_output_snr_db) + " dB)");
  }
  // Measured on the model the plan sees (BatchNorm folded), before any Q/DQ is inserted.
  Coverage coverage = coverageOf(model, staticDecisions(model, o, keep_float), sizes);
  report.merge(quantizeStaticWithRanges(model, ranges, o, keep_float));
  report.coverage = std::move(coverage);
  if (const int n = foldScalarMulsIntoScales(model); n > 0) {
    EliminateDeadPass sweep;
    report.merge(sweep.apply(model, context));
    report.lines.push_back("folded " + std::to_string(n) +
                           " Mul by a constant into the scales after it (no integer kernel needed)");
  }
  if (o.format == QuantFormat::QOperator) {
    PassReport qop = convertToQOperator(model);
    report.details["qoperator"] = qop.details;
    report.merge(qop);
  }
  // Exporters repeat small constants (ShuffleNetV2's shape vectors: 302 int64 initializers, 8 distinct) and
  // every quantized constant brings its scale: in the file that ships, one copy of each is enough.
  DeduplicateInitializersPass deduplicate;
  report.merge(deduplicate.apply(model, context));
  context.report(1.0, "quantized");
  return report;
}

void registerQuantizePasses(PassRegistry& registry) {
  registry.add("quantize", [] { return std::make_unique<QuantizePass>(); });
}

}  // namespace edgetune
