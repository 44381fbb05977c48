#include "core/ir/input_shapes.h"

#include <algorithm>
#include <charconv>

#include "core/util/error.h"

namespace edgetune {
namespace {

std::string dimsText(const std::vector<int64_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + std::to_string(dims[i]);
  return s;
}

bool isTokenType(DataType type) {
  return type == DataType::Int64 || type == DataType::Int32;
}

std::string dimLabel(const ValueInfo& input, size_t axis) {
  const std::string& name = axis < input.dim_names.size() ? input.dim_names[axis] : std::string();
  return name.empty() ? "dimension " + std::to_string(axis) : "'" + name + "'";
}

// The longest sequence a transformer export accepts, when it says: Hugging Face models slice their position
// ids from a registered buffer arange(max_positions) of shape [1, P] (torch.onnx keeps it as an initializer).
// A default longer than that would not run at all. 0 when there is no such buffer.
int64_t maxPositions(const Model& model) {
  int64_t found = 0;
  for (const auto& init : model.graph().initializer()) {
    if (init.data_type() != onnx::TensorProto::INT64 || init.dims_size() < 1 || init.dims_size() > 2)
      continue;
    if (init.dims_size() == 2 && init.dims(0) != 1) continue;
    const int64_t n = init.dims(init.dims_size() - 1);
    if (n < 2 || n > (1 << 20)) continue;
    const Tensor t = tensorFromProto(init);
    const auto v = t.values<int64_t>();
    bool arange = static_cast<int64_t>(v.size()) == n;
    for (int64_t i = 0; arange && i < n; ++i) arange = v[static_cast<size_t>(i)] == i;
    if (arange) found = found ? std::min(found, n) : n;
  }
  return found;
}

}  // namespace

int64_t InputShapes::batch() const {
  if (dims.empty() || dims.begin()->second.empty()) return 1;
  return dims.begin()->second.front();
}

InputShapes InputShapes::withBatch(int64_t batch) const {
  if (batch == 1) return *this;
  if (dynamic_batch.empty())
    throw Error("batch " + std::to_string(batch) + ": the model's inputs have a fixed batch dimension (" +
                describe() + ")");
  InputShapes out = *this;
  for (const auto& name : dynamic_batch)
    if (auto it = out.dims.find(name); it != out.dims.end() && !it->second.empty())
      it->second.front() = batch;
  return out;
}

std::string InputShapes::describe() const {
  std::string s;
  for (const auto& [name, shape] : dims) s += (s.empty() ? "" : " ") + name + "=" + dimsText(shape);
  return s;
}

nlohmann::json InputShapes::toJson() const {
  nlohmann::json inputs = nlohmann::json::object();
  for (const auto& [name, shape] : dims) inputs[name] = shape;
  return {{"inputs", inputs}, {"notes", notes}};
}

std::map<std::string, std::vector<int64_t>> parseShapeSpecs(const std::vector<std::string>& specs) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& spec : specs) {
    const std::string where = "--shape '" + spec + "'";
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      throw Error(where + ": expected NAME=DIMS, e.g. input_ids=1x128");
    const std::string name = spec.substr(0, eq);
    if (out.count(name)) throw Error(where + ": input '" + name + "' is given twice");
    std::vector<int64_t> dims;
    const std::string text = spec.substr(eq + 1);
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find_first_of("x,", start);
      if (end == std::string::npos) end = text.size();
      const std::string part = text.substr(start, end - start);
      int64_t value = 0;
      auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
      if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || value < 1 ||
          value > (1 << 24))
        throw Error(where + ": dimension '" + part + "' is not an integer in 1.." + std::to_string(1 << 24));
      dims.push_back(value);
      start = end + 1;
    }
    if (dims.size() > 8) throw Error(where + ": more than 8 dimensions");
    out[name] = std::move(dims);
  }
  return out;
}

InputShapes resolveInputShapes(const Model& model, const std::map<std::string, std::vector<int64_t>>& given,
                               const ExampleShapes* example, int64_t sequence_length) {
  const std::vector<ValueInfo> inputs = model.inputs();
  for (const auto& [name, dims] : given) {
    bool known = false;
    for (const auto& in : inputs) known = known || in.name == name;
    if (!known) {
      std::string names;
      for (const auto& in : inputs) names += (names.empty() ? "" : ", ") + in.name;
      throw Error(model.origin() + ": --shape names '" + name + "', which is not an input (inputs: " + names +
                  ")");
    }
  }
  // A symbolic dimension takes the size a given shape gave the same name ("sequence" in input_ids and in
  // attention_mask), so inputs that must agree do.
  std::map<std::string, int64_t> named;
  for (const auto& in : inputs) {
    auto it = given.find(in.name);
    if (it == given.end() || !in.has_shape) continue;
    for (size_t i = 0; i < in.shape.size() && i < it->second.size() && i < in.dim_names.size(); ++i)
      if (in.shape[i] < 0 && !in.dim_names[i].empty()) named.emplace(in.dim_names[i], it->second[i]);
  }
  InputShapes out;
  const int64_t positions = maxPositions(model);
  const bool capped = positions > 0 && positions < sequence_length;
  if (capped) sequence_length = positions;
  for (const auto& in : inputs) {
    const std::string what = model.origin() + ": input '" + in.name + "'";
    if (in.has_shape && !in.shape.empty() && in.shape[0] < 0) out.dynamic_batch.insert(in.name);
    if (auto it = given.find(in.name); it != given.end()) {
      if (in.has_shape && it->second.size() != in.shape.size())
        throw Error(what + " has " + std::to_string(in.shape.size()) + " dimensions, --shape gives " +
                    std::to_string(it->second.size()));
      for (size_t i = 0; in.has_shape && i < in.shape.size(); ++i)
        if (in.shape[i] >= 0 && in.shape[i] != it->second[i])
          throw Error(what + ": " + dimLabel(in, i) + " is fixed at " + std::to_string(in.shape[i]) +
                      ", --shape gives " + std::to_string(it->second[i]));
      out.dims[in.name] = it->second;
      continue;
    }
    if (!in.has_shape) throw Error(what + " declares no shape; give one with --shape " + in.name + "=DIMS");
    // A dataset example gives every non-batch dimension (matched by name, or the only input to the only
    // feature).
    const std::vector<int64_t>* from_data = nullptr;
    if (example) {
      if (auto it = example->find(in.name); it != example->end())
        from_data = &it->second;
      else if (inputs.size() == 1 && example->size() == 1)
        from_data = &example->begin()->second;
      if (from_data && from_data->size() + 1 != in.shape.size() && from_data->size() != in.shape.size())
        from_data = nullptr;  // a rank mismatch: the executor will name it when the data is fed
    }
    std::vector<int64_t> dims = in.shape;
    const size_t data_offset = from_data && from_data->size() + 1 == in.shape.size() ? 1 : 0;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] >= 0) continue;
      const std::string& label = i < in.dim_names.size() ? in.dim_names[i] : std::string();
      // A name already sized (by --shape or an earlier input) keeps its size; it was noted where it was set.
      if (auto same = label.empty() ? named.end() : named.find(label); same != named.end()) {
        dims[i] = same->second;
        continue;
      }
      if (from_data && i >= data_offset) {
        dims[i] = (*from_data)[i - data_offset];
        out.notes.push_back(in.name + ": " + dimLabel(in, i) + " = " + std::to_string(dims[i]) +
                            " (from the dataset)");
      } else if (i == 0) {
        dims[i] = 1;
        out.notes.push_back(in.name + ": " + dimLabel(in, i) + " = 1 (batch; --shape to change)");
      } else if (isTokenType(in.type)) {
        dims[i] = sequence_length;
        out.notes.push_back(
            in.name + ": " + dimLabel(in, i) + " = " + std::to_string(sequence_length) +
            (capped ? " (the model's " + std::to_string(positions) + " positions; default " +
                          std::to_string(kDefaultSequenceLength) + " is longer; --shape to change)"
                    : std::string(" (default sequence length for token inputs; --shape to change)")));
      } else {
        std::string hint;  // e.g. "1x3xHxW": fixed sizes as they are, the batch as 1, the others by name
        for (size_t k = 0; k < in.shape.size(); ++k) {
          const std::string& label = k < in.dim_names.size() ? in.dim_names[k] : std::string();
          hint += (k ? "x" : "") + (in.shape[k] >= 0 ? std::to_string(in.shape[k])
                                    : k == 0         ? std::string("1")
                                    : label.empty()  ? "D" + std::to_string(k)
                                                     : label);
        }
        throw Error(what + ": " + dimLabel(in, i) + " has no size; give it with --shape " + in.name + "=" +
                    hint + " (your sizes) or with a dataset");
      }
      if (!label.empty()) named.emplace(label, dims[i]);
    }
    out.dims[in.name] = std::move(dims);
  }
  return out;
}

std::optional<InputShapes> defaultInputShapes(const Model& model) {
  try {
    return resolveInputShapes(model);
  } catch (const Error&) {
    return std::nullopt;
  }
}

Model withConcreteInputs(const Model& model, const InputShapes& shapes) {
  onnx::ModelProto proto = model.proto();
  for (auto& in : *proto.mutable_graph()->mutable_input()) {
    auto it = shapes.dims.find(in.name());
    if (it == shapes.dims.end()) continue;
    auto* shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
    shape->clear_dim();
    for (int64_t d : it->second) shape->add_dim()->set_dim_value(d);
  }
  return Model::fromProto(std::move(proto), model.origin());
}

}  // namespace edgetune
