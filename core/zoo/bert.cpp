// BERT encoder for sequence classification, with the node pattern and names torch.onnx (opset 17) produces
// for Hugging Face BertForSequenceClassification in eval mode (no Dropout), so passes written against this
// graph also match real exports.
#include <cmath>

#include "core/util/error.h"
#include "core/zoo/layers.h"
#include "core/zoo/zoo.h"

namespace edgetune::zoo {

namespace {

constexpr float kInitStd = 0.02f;  // BERT's initializer_range
constexpr float kLayerNormEpsilon = 1e-12f;
// Added to the scores of padded positions; exp(-10000) is exactly 0 in float, and unlike the float minimum it
// leaves a calibration-friendly range for quantizers.
constexpr float kMaskValue = -10000.0f;

Tensor scalar(float value) {
  return Tensor::from<float>({}, std::vector<float>{value});
}
Tensor ints(std::vector<int64_t> values) {
  const auto n = static_cast<int64_t>(values.size());
  return Tensor::from<int64_t>({n}, values);
}

class BertBuilder {
 public:
  BertBuilder(const BertOptions& o, GraphBuilder& g) : o_(o), g_(g), init_(o.seed) {}

  // nn.Linear on a 3-D input as torch exports it: MatMul(x, W[in, out]) then Add(bias, .).
  std::string linear(const std::string& x, const std::string& scope, const std::string& params, int64_t in,
                     int64_t out, const std::string& output_name = {}) {
    const std::string w =
        g_.addInitializer(params + ".weight", init_.normal(params + ".weight", {in, out}, kInitStd));
    const std::string b = g_.addInitializer(params + ".bias", WeightInit::filled({out}, 0.0f));
    const std::string h = g_.addNode("MatMul", nodeName(scope, "MatMul"), {x, w});
    return g_.addNode("Add", nodeName(scope, "Add"), {b, h}, {}, output_name);
  }

  std::string layerNorm(const std::string& x, const std::string& scope, const std::string& params) {
    const std::string gamma = g_.addInitializer(params + ".weight", WeightInit::filled({o_.hidden}, 1.0f));
    const std::string beta = g_.addInitializer(params + ".bias", WeightInit::filled({o_.hidden}, 0.0f));
    return g_.addNode("LayerNormalization", nodeName(scope, "LayerNormalization"), {x, gamma, beta},
                      {Attr::i("axis", -1), Attr::f("epsilon", kLayerNormEpsilon)});
  }

  std::string embedding(const std::string& ids, const std::string& scope, const std::string& params,
                        int64_t rows, bool zero_first_row = false) {
    Tensor table = init_.normal(params + ".weight", {rows, o_.hidden}, kInitStd);
    if (zero_first_row)  // padding_idx = 0: the [PAD] row starts at zero, as Hugging Face initialises it
      for (int64_t j = 0; j < o_.hidden; ++j) table.values<float>()[static_cast<size_t>(j)] = 0.0f;
    const std::string w = g_.addInitializer(params + ".weight", table);
    return g_.addNode("Gather", nodeName(scope, "Gather"), {w, ids});
  }

  std::string embeddings(const std::string& input_ids, const std::string& token_type_ids) {
    const std::string scope = "/bert/embeddings";
    const std::string params = "bert.embeddings";
    std::string words =
        embedding(input_ids, scope + "/word_embeddings", params + ".word_embeddings", o_.vocab_size, true);
    std::string types = embedding(token_type_ids, scope + "/token_type_embeddings",
                                  params + ".token_type_embeddings", o_.type_vocab_size);
    std::string x = g_.addNode("Add", nodeName(scope, "Add"), {words, types});

    std::string position_ids;
    if (!o_.dynamic_sequence) {
      std::vector<int64_t> ids(static_cast<size_t>(o_.sequence_length));
      for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i);
      position_ids =
          g_.addInitializer(params + ".position_ids", Tensor::from<int64_t>({1, o_.sequence_length}, ids));
    } else {
      // position_ids[:, :S] with S read from input_ids at run time, as Hugging Face slices its buffer.
      std::vector<int64_t> ids(static_cast<size_t>(o_.max_positions));
      for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i);
      const std::string table =
          g_.addInitializer(params + ".position_ids", Tensor::from<int64_t>({1, o_.max_positions}, ids));
      const std::string shape = g_.addNode("Shape", nodeName(scope, "Shape"), {input_ids});
      const std::string one =
          g_.addConstant(nodeName(scope, "Constant"), Tensor::from<int64_t>({}, std::vector<int64_t>{1}));
      const std::string length =
          g_.addNode("Gather", nodeName(scope, "Gather"), {shape, one}, {Attr::i("axis", 0)});
      const std::string zero_axis = g_.addConstant(nodeName(scope, "Constant"), ints({0}));
      const std::string end = g_.addNode("Unsqueeze", nodeName(scope, "Unsqueeze"), {length, zero_axis});
      const std::string start = g_.addConstant(nodeName(scope, "Constant"), ints({0}));
      const std::string axis = g_.addConstant(nodeName(scope, "Constant"), ints({1}));
      position_ids = g_.addNode("Slice", nodeName(scope, "Slice"), {table, start, end, axis});
    }
    std::string positions = embedding(position_ids, scope + "/position_embeddings",
                                      params + ".position_embeddings", o_.max_positions);
    x = g_.addNode("Add", nodeName(scope, "Add"), {x, positions});
    return layerNorm(x, scope + "/LayerNorm", params + ".LayerNorm");
  }

  // (1 - mask[:, None, None, :]) * -10000: 0 where attended, -10000 where padded; [N, 1, 1, S].
  std::string extendedMask(const std::string& attention_mask) {
    const std::string axes = g_.addConstant("/bert/Constant", ints({1, 2}));
    std::string m = g_.addNode("Unsqueeze", "/bert/Unsqueeze", {attention_mask, axes});
    m = g_.addNode("Cast", "/bert/Cast", {m}, {Attr::i("to", static_cast<int64_t>(DataType::Float32))});
    m = g_.addNode("Sub", "/bert/Sub", {g_.addConstant("/bert/Constant", scalar(1.0f)), m});
    return g_.addNode("Mul", "/bert/Mul", {m, g_.addConstant("/bert/Constant", scalar(kMaskValue))});
  }

  std::string selfAttention(const std::string& x, const std::string& mask, const std::string& scope,
                            const std::string& params) {
    const int64_t head_dim = o_.hidden / o_.heads;
    // 0 copies the input's dimension, so the batch and sequence sizes stay dynamic while the head count is
    // visible to passes (head pruning edits this initializer).
    const std::string split =
        g_.addInitializer(params + ".split_heads_shape", ints({0, 0, o_.heads, head_dim}));
    const std::string merge = g_.addInitializer(params + ".merge_heads_shape", ints({0, 0, o_.hidden}));
    auto heads = [&](const std::string& name, std::vector<int64_t> perm) {
      std::string h = linear(x, scope + "/" + name, params + "." + name, o_.hidden, o_.hidden);
      h = g_.addNode("Reshape", nodeName(scope, "Reshape"), {h, split});
      return g_.addNode("Transpose", nodeName(scope, "Transpose"), {h},
                        {Attr::ints("perm", std::move(perm))});
    };
    const std::string q = heads("query", {0, 2, 1, 3});  // [N, heads, S, d]
    const std::string k_t = heads("key", {0, 2, 3, 1});  // [N, heads, d, S]
    const std::string v = heads("value", {0, 2, 1, 3});  // [N, heads, S, d]
    std::string scores = g_.addNode("MatMul", nodeName(scope, "MatMul"), {q, k_t});
    const std::string sqrt_d =
        g_.addConstant(nodeName(scope, "Constant"), scalar(std::sqrt(static_cast<float>(head_dim))));
    scores = g_.addNode("Div", nodeName(scope, "Div"), {scores, sqrt_d});
    scores = g_.addNode("Add", nodeName(scope, "Add"), {scores, mask});
    const std::string probs =
        g_.addNode("Softmax", nodeName(scope, "Softmax"), {scores}, {Attr::i("axis", -1)});
    std::string context = g_.addNode("MatMul", nodeName(scope, "MatMul"), {probs, v});
    context =
        g_.addNode("Transpose", nodeName(scope, "Transpose"), {context}, {Attr::ints("perm", {0, 2, 1, 3})});
    return g_.addNode("Reshape", nodeName(scope, "Reshape"), {context, merge});
  }

  // GELU(x) = x * 0.5 * (1 + erf(x / sqrt(2))), the exact form torch exports as Div/Erf/Add/Mul/Mul.
  std::string gelu(const std::string& x, const std::string& scope) {
    std::string h = g_.addNode("Div", nodeName(scope, "Div"),
                               {x, g_.addConstant(nodeName(scope, "Constant"), scalar(std::sqrt(2.0f)))});
    h = g_.addNode("Erf", nodeName(scope, "Erf"), {h});
    h = g_.addNode("Add", nodeName(scope, "Add"),
                   {h, g_.addConstant(nodeName(scope, "Constant"), scalar(1.0f))});
    h = g_.addNode("Mul", nodeName(scope, "Mul"), {x, h});
    return g_.addNode("Mul", nodeName(scope, "Mul"),
                      {h, g_.addConstant(nodeName(scope, "Constant"), scalar(0.5f))});
  }

  std::string layer(const std::string& x, const std::string& mask, int64_t index) {
    const std::string scope = "/bert/encoder/layer." + std::to_string(index);
    const std::string params = "bert.encoder.layer." + std::to_string(index);
    const int64_t intermediate = o_.intermediate > 0 ? o_.intermediate : 4 * o_.hidden;

    std::string h = selfAttention(x, mask, scope + "/attention/self", params + ".attention.self");
    h = linear(h, scope + "/attention/output/dense", params + ".attention.output.dense", o_.hidden,
               o_.hidden);
    h = g_.addNode("Add", nodeName(scope + "/attention/output", "Add"), {h, x});
    const std::string attended =
        layerNorm(h, scope + "/attention/output/LayerNorm", params + ".attention.output.LayerNorm");

    h = linear(attended, scope + "/intermediate/dense", params + ".intermediate.dense", o_.hidden,
               intermediate);
    h = gelu(h, scope + "/intermediate/intermediate_act_fn");
    h = linear(h, scope + "/output/dense", params + ".output.dense", intermediate, o_.hidden);
    h = g_.addNode("Add", nodeName(scope + "/output", "Add"), {h, attended});
    return layerNorm(h, scope + "/output/LayerNorm", params + ".output.LayerNorm");
  }

  // Pooler (first token -> dense -> tanh) and classifier; returns "logits".
  std::string head(const std::string& x) {
    const std::string first =
        g_.addConstant("/bert/pooler/Constant", Tensor::from<int64_t>({}, std::vector<int64_t>{0}));
    std::string h = g_.addNode("Gather", "/bert/pooler/Gather", {x, first}, {Attr::i("axis", 1)});  // [N, H]
    h = linear(h, "/bert/pooler/dense", "bert.pooler.dense", o_.hidden, o_.hidden);
    h = g_.addNode("Tanh", "/bert/pooler/activation/Tanh", {h});
    return linear(h, "/classifier", "classifier", o_.hidden, o_.classes, "logits");
  }

 private:
  const BertOptions& o_;
  GraphBuilder& g_;
  WeightInit init_;
};

void validate(const BertOptions& o) {
  const std::string arch = "bert";
  requirePositive(arch, "vocab_size", o.vocab_size);
  requirePositive(arch, "hidden", o.hidden);
  requirePositive(arch, "layers", o.layers);
  requirePositive(arch, "heads", o.heads);
  if (o.intermediate < 0)
    throw Error("bert: intermediate must be positive, or 0 for 4 * hidden (got " +
                std::to_string(o.intermediate) + ")");
  requirePositive(arch, "max_positions", o.max_positions);
  requirePositive(arch, "sequence_length", o.sequence_length);
  requirePositive(arch, "type_vocab_size", o.type_vocab_size);
  requirePositive(arch, "classes", o.classes);
  if (o.hidden % o.heads != 0)
    throw Error("bert: heads (" + std::to_string(o.heads) + ") must divide hidden (" +
                std::to_string(o.hidden) + ")");
  if (o.sequence_length > o.max_positions)
    throw Error("bert: sequence_length (" + std::to_string(o.sequence_length) + ") exceeds max_positions (" +
                std::to_string(o.max_positions) + ")");
}

}  // namespace

Model buildBert(const BertOptions& options) {
  validate(options);
  GraphBuilder g("bert");
  const Dim seq = options.dynamic_sequence ? Dim("S") : Dim(options.sequence_length);
  const std::string input_ids = g.addInput("input_ids", DataType::Int64, {"N", seq});
  const std::string attention_mask = g.addInput("attention_mask", DataType::Int64, {"N", seq});
  const std::string token_type_ids = g.addInput("token_type_ids", DataType::Int64, {"N", seq});

  BertBuilder bert(options, g);
  std::string x = bert.embeddings(input_ids, token_type_ids);
  const std::string mask = bert.extendedMask(attention_mask);
  for (int64_t i = 0; i < options.layers; ++i) x = bert.layer(x, mask, i);
  bert.head(x);
  g.addOutput("logits", DataType::Float32, {"N", options.classes});
  return g.finish("zoo:bert");
}

}  // namespace edgetune::zoo
