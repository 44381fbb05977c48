#pragma once
// Brings a model into what Debian's ONNX 1.12 reads (default-domain opset 7..17, IR version <= 8): converts
// newer exports (opset 18..23) down to opset 17 with our own down-adapters, old ones (< 7) up with ONNX's
// converter, and lowers the IR version when nothing in the file needs the newer IR. Refuses with one message
// otherwise.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace edgetune {

/// What ONNX 1.12 (the checker, shape inference and every EdgeTune pass) understands.
inline constexpr int64_t kOldestReadableOpset = 7;
inline constexpr int64_t kNewestReadableOpset = 17;
/// The newest opset whose operator changes the down-adapters know; newer models are refused.
inline constexpr int64_t kNewestConvertibleOpset = 23;
inline constexpr int64_t kNewestReadableIrVersion = 8;

/// What a conversion changed, for commands to print ("opset 18 -> 17: ReduceMean 'r': axes input ->
/// attribute"). from/to are default-domain opsets; both equal the model's opset when nothing was converted.
struct OpsetConversion {
  int64_t from = 0, to = 0;
  int64_t ir_from = 0, ir_to = 0;
  std::vector<std::string> lines;
  bool changed() const { return !lines.empty(); }
};

/// Converts `model` in place so ONNX 1.12 can check and infer it. A model already in range is left alone
/// (apart from spelling the default domain "" instead of "ai.onnx"). Throws Error("<origin>: ...") naming the
/// model's opset, the first node that blocks the conversion and what to do (re-export with opset_version=17).
OpsetConversion convertToReadableOpset(onnx::ModelProto& model, const std::string& origin);

}  // namespace edgetune
