#pragma once
// Model sources: where a model comes from, as users write it on the command line, in recipes and in the
// studio: an ONNX file path, or "zoo:ARCH?key=value&..." (a model the zoo builds, seeded, so a recipe can
// start from scratch). One parser for all of them.
#include <string>

#include "core/ir/model.h"
#include "core/zoo/zoo.h"

namespace edgetune::zoo {

/// True for "zoo:..." sources.
bool isZooSource(const std::string& source);

/// The ARCH of a "zoo:ARCH?..." source, without checking its options (for names and labels).
std::string zooArchitecture(const std::string& source);

/// The architecture and options of a "zoo:ARCH?key=value&..." source. Keys: classes, seed, input_channels,
/// image_size, width (alias width_multiplier), vocab_size, hidden, layers, heads, intermediate,
/// max_positions, seq_len (alias sequence_length), dynamic_sequence (0/1). Throws Error naming the source and
/// the key for an unknown key, a value that is not a number, or a pair without '='.
struct ZooSource {
  std::string arch;
  ZooOptions options;
};
ZooSource parseZooSource(const std::string& source);

/// Builds a zoo source or loads an ONNX file (Model::load: nothing cleaned; see canonicalize.h).
Model loadModelSource(const std::string& source);

}  // namespace edgetune::zoo
