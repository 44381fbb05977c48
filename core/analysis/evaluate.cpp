#include "core/analysis/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <numeric>
#include <sstream>

#include "core/util/error.h"

namespace edgetune {

Interval wilsonInterval(size_t successes, size_t trials, double z) {
  if (trials == 0) return {0, 1};
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(successes) / n;
  const double z2 = z * z;
  const double center = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

AccuracyMeter::AccuracyMeter(size_t num_classes) : num_classes_(num_classes) {
  r_.confusion.assign(num_classes, std::vector<int64_t>(num_classes, 0));
  r_.binary = num_classes == 2;
}

void AccuracyMeter::add(const Tensor& logits, std::span<const int64_t> labels) {
  if (logits.shape().size() != 2 || logits.type() != DataType::Float32)
    throw Error("model output has shape " + logits.shapeString() +
                ", expected [batch, classes] float32 logits");
  const int64_t batch = logits.shape()[0], classes = logits.shape()[1];
  if (static_cast<size_t>(batch) != labels.size())
    throw Error("model returned " + std::to_string(batch) + " rows for a batch of " +
                std::to_string(labels.size()));
  auto v = logits.values<float>();
  std::vector<int64_t> order(static_cast<size_t>(classes));
  for (int64_t b = 0; b < batch; ++b) {
    const float* row = v.data() + b * classes;
    std::iota(order.begin(), order.end(), 0);
    const size_t k = std::min<size_t>(5, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                      [&](int64_t a, int64_t c) { return row[a] > row[c] || (row[a] == row[c] && a < c); });
    const int64_t label = labels[static_cast<size_t>(b)];
    const int64_t predicted = order[0];
    ++r_.count;
    if (predicted == label) ++r_.correct_top1;
    if (std::find(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), label) !=
        order.begin() + static_cast<std::ptrdiff_t>(k))
      ++r_.correct_top5;
    if (label >= 0 && static_cast<size_t>(label) < num_classes_ &&
        static_cast<size_t>(predicted) < num_classes_)
      ++r_.confusion[static_cast<size_t>(label)][static_cast<size_t>(predicted)];
  }
}

EvalResult AccuracyMeter::result() const {
  EvalResult r = r_;
  if (r.count) {
    r.top1 = static_cast<double>(r.correct_top1) / static_cast<double>(r.count);
    r.top5 = static_cast<double>(r.correct_top5) / static_cast<double>(r.count);
  }
  r.top1_ci = wilsonInterval(r.correct_top1, r.count);
  if (r.binary) {
    const double tp = static_cast<double>(r.confusion[1][1]);
    const double fp = static_cast<double>(r.confusion[0][1]);
    const double fn = static_cast<double>(r.confusion[1][0]);
    r.precision = tp + fp > 0 ? tp / (tp + fp) : 0;
    r.recall = tp + fn > 0 ? tp / (tp + fn) : 0;
    r.f1 = r.precision + r.recall > 0 ? 2 * r.precision * r.recall / (r.precision + r.recall) : 0;
  }
  return r;
}

nlohmann::json EvalResult::toJson() const {
  nlohmann::json j = {{"count", count},        {"top1", top1},
                      {"top5", top5},          {"top1_ci95", {top1_ci.low, top1_ci.high}},
                      {"seconds", seconds},    {"examples_per_second", examples_per_second},
                      {"confusion", confusion}};
  if (binary) {
    j["precision"] = precision;
    j["recall"] = recall;
    j["f1"] = f1;
  }
  return j;
}

EvalResult EvalResult::fromJson(const nlohmann::json& j) {
  EvalResult r;
  j.at("count").get_to(r.count);
  j.at("top1").get_to(r.top1);
  j.at("top5").get_to(r.top5);
  r.top1_ci = {j.at("top1_ci95").at(0).get<double>(), j.at("top1_ci95").at(1).get<double>()};
  j.at("seconds").get_to(r.seconds);
  j.at("examples_per_second").get_to(r.examples_per_second);
  j.at("confusion").get_to(r.confusion);
  r.binary = j.contains("precision");
  if (r.binary) {
    j.at("precision").get_to(r.precision);
    j.at("recall").get_to(r.recall);
    j.at("f1").get_to(r.f1);
  }
  return r;
}

std::string EvalResult::toText() const {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(2);
  out << "examples     " << count << "\n"
      << "top-1        " << 100 * top1 << " %   (95% CI " << 100 * top1_ci.low << " .. " << 100 * top1_ci.high
      << ")\n"
      << "top-5        " << 100 * top5 << " %\n";
  if (binary)
    out << "precision    " << 100 * precision << " %   recall " << 100 * recall << " %   F1 " << 100 * f1
        << " %\n";
  out.precision(1);
  out << "throughput   " << examples_per_second << " examples/s (" << seconds << " s)\n";
  return out.str();
}

EvalResult evaluate(Executor& executor, const Dataset& dataset, const EvalOptions& options, JobContext* job,
                    const std::function<void(const EvalResult&)>& on_batch) {
  const auto model_inputs = executor.inputs();
  checkInputsFit(model_inputs, dataset.features(), dataset.name());
  const auto outputs = executor.outputs();
  std::string output_name = options.output.empty() ? outputs.at(0).name : options.output;
  auto out_it = std::find_if(outputs.begin(), outputs.end(),
                             [&](const TensorInfo& t) { return t.name == output_name; });
  if (out_it == outputs.end()) throw Error("the model has no output named '" + output_name + "'");
  const size_t classes = dataset.numClasses();
  if (out_it->shape.size() != 2)
    throw Error("model output '" + output_name + "' has shape " + shapeToString(out_it->shape) +
                ", expected [batch, classes] logits");
  if (out_it->shape[1] > 0 && static_cast<size_t>(out_it->shape[1]) != classes)
    throw Error("model output '" + output_name + "' has " + std::to_string(out_it->shape[1]) +
                " classes but " + dataset.name() + " has " + std::to_string(classes));

  // A fixed batch dimension in the model decides the batch size; a partial last batch then runs one by one
  // only if that fixed size is 1, so models exported with batch 1 still evaluate every example.
  int batch_size = std::max(1, options.batch_size);
  const int64_t model_batch = model_inputs.at(0).shape.empty() ? -1 : model_inputs.at(0).shape[0];
  if (model_batch > 0) batch_size = static_cast<int>(model_batch);

  // A limit or a shuffle visits the seeded subset (the examples every other seeded choice picks); otherwise
  // every example in order.
  std::vector<size_t> order;
  if (options.shuffle || (options.limit > 0 && options.limit < dataset.size())) {
    order = seededSubset(dataset.size(), options.limit, options.seed);
  } else {
    order.resize(dataset.size());
    std::iota(order.begin(), order.end(), 0);
  }
  if (order.empty()) throw Error(dataset.name() + ": no examples to evaluate");

  AccuracyMeter meter(classes);
  const size_t total = order.size();
  auto load = [&](size_t begin) {
    size_t end = std::min(total, begin + static_cast<size_t>(batch_size));
    if (model_batch > 0 && end - begin != static_cast<size_t>(model_batch)) end = begin + 1;
    return makeBatch(dataset, std::span<const size_t>(order.data() + begin, end - begin));
  };
  auto start = std::chrono::steady_clock::now();
  size_t position = 0;
  std::future<Batch> next = std::async(std::launch::async, load, position);
  EvalResult current;
  while (position < total) {
    if (job) job->throwIfCancelled();
    Batch batch = next.get();
    const size_t count = batch.labels.size();
    if (position + count < total) next = std::async(std::launch::async, load, position + count);
    std::vector<int64_t> labels = batch.labels;
    auto outputs_now =
        executor.run(bindInputs(model_inputs, std::move(batch), dataset.name()), {output_name});
    meter.add(outputs_now.at(0), labels);
    position += count;
    current = meter.result();
    current.total = total;
    current.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    current.examples_per_second =
        current.seconds > 0 ? static_cast<double>(current.count) / current.seconds : 0;
    if (job) {
      std::ostringstream msg;
      msg.setf(std::ios::fixed);
      msg.precision(2);
      msg << "top-1 " << 100 * current.top1 << "% after " << current.count;
      job->report(static_cast<double>(position) / static_cast<double>(total), msg.str());
    }
    if (on_batch) on_batch(current);
  }
  return current;
}

}  // namespace edgetune
