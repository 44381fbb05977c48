#pragma once
// Builds tiny ONNX graphs by hand for the pass and stats tests, and checks a pass kept a model equivalent.
#include <QtTest>

#include <random>
#include <string>
#include <vector>

#include "core/ir/model.h"
#include "tests/tests_common.h"

namespace edgetune::test {

/// A hand-built ONNX graph: inputs, outputs, initializers and nodes, opset 17 by default.
class GraphBuilder {
 public:
  explicit GraphBuilder(int opset = 17) {
    proto_.set_ir_version(8);
    proto_.add_opset_import()->set_version(opset);
    proto_.mutable_graph()->set_name("test");
  }
  // Dimensions < 0 become the symbolic dimension "N".
  GraphBuilder& input(const std::string& name, std::vector<int64_t> dims, int type = 1) {
    addValue(proto_.mutable_graph()->mutable_input(), name, dims, type);
    return *this;
  }
  GraphBuilder& output(const std::string& name, std::vector<int64_t> dims, int type = 1) {
    addValue(proto_.mutable_graph()->mutable_output(), name, dims, type);
    return *this;
  }
  GraphBuilder& init(const std::string& name, const Tensor& t) {
    *proto_.mutable_graph()->add_initializer() = tensorToProto(name, t);
    return *this;
  }
  onnx::NodeProto& node(const std::string& op, std::vector<std::string> inputs,
                        std::vector<std::string> outputs, const std::string& name = {}) {
    auto* n = proto_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + "_" + std::to_string(proto_.graph().node_size()) : name);
    for (auto& i : inputs) n->add_input(i);
    for (auto& o : outputs) n->add_output(o);
    return *n;
  }
  onnx::ModelProto& proto() { return proto_; }
  Model model() const { return Model::fromProto(proto_, "hand-built test graph"); }

 private:
  static void addValue(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list,
                       const std::string& name, const std::vector<int64_t>& dims, int type) {
    auto* vi = list->Add();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    auto* shape = tt->mutable_shape();
    for (auto d : dims) {
      auto* dim = shape->add_dim();
      if (d < 0)
        dim->set_dim_param("N");
      else
        dim->set_dim_value(d);
    }
  }
  onnx::ModelProto proto_;
};

inline void setAttr(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
inline void setAttr(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
inline void setAttr(onnx::NodeProto& n, const std::string& name, std::vector<int64_t> v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}
inline void setAttr(onnx::NodeProto& n, const std::string& name, const Tensor& t) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::TENSOR);
  *a->mutable_t() = tensorToProto("", t);
}

/// Seeded float tensor with values uniform in [low, high).
inline Tensor randomTensor(std::vector<int64_t> shape, uint64_t seed, float low = -1.f, float high = 1.f) {
  Tensor t(DataType::Float32, std::move(shape));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(low, high);
  for (auto& v : t.values<float>()) v = dist(rng);
  return t;
}

inline int countOps(const Model& m, const std::string& op) {
  int n = 0;
  for (const auto& node : m.graph().node()) n += node.op_type() == op;
  return n;
}

/// The interface survived (output names, types, shapes; input names) and ONNX Runtime computes the same
/// outputs (<= 1e-4 relative) on seeded random inputs with dynamic dimensions set to 2.
inline void verifyEquivalent(const Model& before, const Model& after, int64_t int_high = 2) {
  const auto out_a = before.outputs(), out_b = after.outputs();
  QCOMPARE(out_b.size(), out_a.size());
  for (size_t i = 0; i < out_a.size(); ++i) {
    QCOMPARE(out_b[i].name, out_a[i].name);
    QCOMPARE(out_b[i].shape, out_a[i].shape);
    QCOMPARE(out_b[i].type, out_a[i].type);
  }
  const auto in_a = before.inputs(), in_b = after.inputs();
  QCOMPARE(in_b.size(), in_a.size());
  for (size_t i = 0; i < in_a.size(); ++i) QCOMPARE(in_b[i].name, in_a[i].name);
  for (uint64_t seed : {1u, 2u}) {
    const double diff = compareInOrt(before, after, randomInputs(before, seed, 2, int_high));
    QVERIFY2(diff <= 1e-4, ("relative difference " + std::to_string(diff)).c_str());
  }
}

}  // namespace edgetune::test
