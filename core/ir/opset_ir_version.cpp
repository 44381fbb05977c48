// What newer ONNX files carry beyond opsets: element types ONNX 1.12 does not have (found and refused) and
// IR 9+ protobuf fields (annotations dropped, function attribute defaults written into the calls, the rest
// refused).
#include "core/ir/opset_convert_internal.h"

#include <google/protobuf/unknown_field_set.h>

#include <unordered_map>

#include "core/ir/model.h"

namespace edgetune::opset_internal {

namespace {

std::optional<int> newTypeIn(const onnx::TypeProto& t) {
  if (t.has_tensor_type() && t.tensor_type().elem_type() > kNewestKnownTypeCode)
    return t.tensor_type().elem_type();
  if (t.has_sparse_tensor_type() && t.sparse_tensor_type().elem_type() > kNewestKnownTypeCode)
    return t.sparse_tensor_type().elem_type();
  if (t.has_sequence_type() && t.sequence_type().has_elem_type())
    return newTypeIn(t.sequence_type().elem_type());
  if (t.has_optional_type() && t.optional_type().has_elem_type())
    return newTypeIn(t.optional_type().elem_type());
  if (t.has_map_type() && t.map_type().has_value_type()) return newTypeIn(t.map_type().value_type());
  return std::nullopt;
}

}  // namespace

// Returns "Cast 'c': ..." for the first node (or graph value) that uses a type ONNX 1.12 does not have.
std::optional<Blocker> findNewType(const GraphProto& g, const std::string& where) {
  std::unordered_map<std::string, int> value_types;
  for (const auto* list : {&g.input(), &g.output(), &g.value_info()})
    for (const auto& vi : *list)
      if (auto code = newTypeIn(vi.type())) value_types[vi.name()] = *code;
  for (const auto& init : g.initializer())
    if (init.data_type() > kNewestKnownTypeCode) value_types[init.name()] = init.data_type();
  for (const auto& node : g.node()) {
    for (const auto& a : node.attribute()) {
      if ((a.name() == "to" || a.name() == "dtype" || a.name() == "output_dtype") &&
          a.i() > kNewestKnownTypeCode)
        return Blocker{describeNode(node) + where, "attribute " + a.name() + "=" +
                                                       newTypeName(static_cast<int>(a.i())) +
                                                       " names a type opset 17 does not have"};
      if (a.has_t() && a.t().data_type() > kNewestKnownTypeCode)
        return Blocker{describeNode(node) + where, "its '" + a.name() + "' tensor is " +
                                                       newTypeName(a.t().data_type()) +
                                                       ", a type opset 17 does not have"};
      if (a.has_g())
        if (auto b =
                findNewType(a.g(), " (in the '" + a.name() + "' body of " + describeNode(node) + where + ")"))
          return b;
      for (const auto& sub : a.graphs())
        if (auto b =
                findNewType(sub, " (in a '" + a.name() + "' body of " + describeNode(node) + where + ")"))
          return b;
    }
    for (const auto* names : {&node.input(), &node.output()})
      for (const auto& name : *names)
        if (auto it = value_types.find(name); it != value_types.end())
          return Blocker{describeNode(node) + where, "tensor '" + name + "' is " + newTypeName(it->second) +
                                                         ", a type opset 17 does not have"};
  }
  for (const auto& [name, code] : value_types)
    return Blocker{"graph value '" + name + "'" + where,
                   "it is " + newTypeName(code) + ", a type opset 17 does not have"};
  return std::nullopt;
}

// --- IR version: fields ONNX 1.12's protobuf does not know arrive as unknown fields ---

void collectUnknownFields(google::protobuf::Message& msg, std::vector<UnknownField>& out, bool strip_harmless,
                          std::vector<std::string>& stripped) {
  const auto* reflection = msg.GetReflection();
  auto* unknown = reflection->MutableUnknownFields(&msg);
  const std::string type = msg.GetDescriptor()->full_name();
  // Fields newer IR versions added that only annotate (metadata_props on nodes, graphs, values and tensors;
  // value types inside functions; device placement): dropping them leaves the computation as it was.
  auto harmless = [&](int number) {
    if (type == "onnx.NodeProto") return number == 9 || number == 10;
    if (type == "onnx.FunctionProto") return number == 12 || number == 14;
    if (type == "onnx.GraphProto" || type == "onnx.TensorProto") return number == 16;
    if (type == "onnx.ValueInfoProto") return number == 4;
    if (type == "onnx.ModelProto") return number == 26;
    return false;
  };
  for (int i = unknown->field_count() - 1; i >= 0; --i) {
    const int number = unknown->field(i).number();
    if (strip_harmless && harmless(number)) {
      stripped.push_back(type + " field " + std::to_string(number));
      unknown->DeleteSubrange(i, 1);
    } else {
      out.push_back({type, number});
    }
  }
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(msg, &fields);
  for (const auto* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(msg, f); ++i)
        collectUnknownFields(*reflection->MutableRepeatedMessage(&msg, f, i), out, strip_harmless, stripped);
    } else {
      collectUnknownFields(*reflection->MutableMessage(&msg, f), out, strip_harmless, stripped);
    }
  }
}

// FunctionProto.attribute_proto (field 11, IR 9) holds attribute defaults, which ONNX 1.12 cannot read: write
// each default into every call that omits the attribute and declare the name the IR-8 way
// (FunctionProto.attribute). Returns the number of attributes written into calls.
int writeFunctionAttributeDefaults(onnx::ModelProto& model) {
  constexpr int kAttributeProtoField = 11;
  int written = 0;
  for (auto& f : *model.mutable_functions()) {
    auto* unknown = f.GetReflection()->MutableUnknownFields(&f);
    std::vector<AttributeProto> defaults;
    for (int i = unknown->field_count() - 1; i >= 0; --i) {
      const auto& field = unknown->field(i);
      if (field.number() != kAttributeProtoField ||
          field.type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED)
        continue;
      AttributeProto a;
      if (!a.ParseFromString(field.length_delimited())) continue;  // left for the unknown-field refusal
      defaults.push_back(std::move(a));
      unknown->DeleteSubrange(i, 1);
    }
    if (defaults.empty()) continue;
    std::function<void(GraphProto&)> visit_graph;
    auto visit_nodes = [&](google::protobuf::RepeatedPtrField<NodeProto>& nodes) {
      for (auto& node : nodes) {
        for (auto& attr : *node.mutable_attribute()) {
          if (attr.has_g()) visit_graph(*attr.mutable_g());
          for (auto& g : *attr.mutable_graphs()) visit_graph(g);
        }
        if (node.op_type() != f.name() || node.domain() != f.domain()) continue;
        for (const auto& d : defaults)
          if (!findAttr(node, d.name())) {
            *node.add_attribute() = d;
            ++written;
          }
      }
    };
    visit_graph = [&](GraphProto& g) { visit_nodes(*g.mutable_node()); };
    visit_graph(*model.mutable_graph());
    for (auto& other : *model.mutable_functions()) visit_nodes(*other.mutable_node());
    for (const auto& d : defaults) f.add_attribute(d.name());
  }
  return written;
}

std::string describeUnknownField(const UnknownField& f) {
  if (f.message == "onnx.NodeProto" && f.number == 8) return "a node calls a function overload (IR 10)";
  if (f.message == "onnx.FunctionProto" && f.number == 13) return "a model function is an overload (IR 10)";
  if (f.message == "onnx.FunctionProto" && f.number == 11)
    return "a model function declares attribute defaults (attribute_proto, IR 9)";
  return "field " + std::to_string(f.number) + " of " + f.message + " is newer than ONNX 1.12";
}

}  // namespace edgetune::opset_internal
