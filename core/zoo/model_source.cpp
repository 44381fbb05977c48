#include "core/zoo/model_source.h"

#include <charconv>
#include <sstream>

#include "core/util/error.h"

namespace edgetune::zoo {
namespace {

int64_t parseInteger(const std::string& source, const std::string& key, const std::string& value) {
  int64_t out = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size())
    throw Error("model source '" + source + "': " + key + "=" + value + " is not an integer");
  return out;
}

double parseNumber(const std::string& source, const std::string& key, const std::string& value) {
  double out = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size())
    throw Error("model source '" + source + "': " + key + "=" + value + " is not a number");
  return out;
}

}  // namespace

bool isZooSource(const std::string& source) {
  return source.rfind("zoo:", 0) == 0;
}

std::string zooArchitecture(const std::string& source) {
  if (!isZooSource(source)) return {};
  const size_t query = source.find('?');
  return source.substr(4, query == std::string::npos ? std::string::npos : query - 4);
}

ZooSource parseZooSource(const std::string& source) {
  if (!isZooSource(source))
    throw Error("model source '" + source + "' is not a zoo source (zoo:ARCH?key=value)");
  ZooSource out;
  out.arch = zooArchitecture(source);
  const auto q = source.find('?');
  const std::string query = q == std::string::npos ? std::string() : source.substr(q + 1);
  ZooOptions& o = out.options;
  std::stringstream pairs(query);
  std::string pair;
  while (std::getline(pairs, pair, '&')) {
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    if (eq == std::string::npos)
      throw Error("model source '" + source + "': '" + pair + "' is not key=value");
    const std::string key = pair.substr(0, eq), value = pair.substr(eq + 1);
    const auto integer = [&] { return parseInteger(source, key, value); };
    if (key == "classes")
      o.classes = integer();
    else if (key == "seed")
      o.seed = static_cast<uint64_t>(integer());
    else if (key == "input_channels")
      o.input_channels = integer();
    else if (key == "image_size")
      o.image_size = integer();
    else if (key == "width" || key == "width_multiplier")
      o.width_multiplier = parseNumber(source, key, value);
    else if (key == "vocab_size")
      o.vocab_size = integer();
    else if (key == "hidden")
      o.hidden = integer();
    else if (key == "layers")
      o.layers = integer();
    else if (key == "heads")
      o.heads = integer();
    else if (key == "intermediate")
      o.intermediate = integer();
    else if (key == "max_positions")
      o.max_positions = integer();
    else if (key == "seq_len" || key == "sequence_length")
      o.sequence_length = integer();
    else if (key == "dynamic_sequence")
      o.dynamic_sequence = integer() != 0;
    else
      throw Error(
          "model source '" + source + "': unknown key '" + key +
          "' (keys: classes, seed, input_channels, image_size, width, vocab_size, hidden, layers, heads, "
          "intermediate, max_positions, seq_len, dynamic_sequence)");
  }
  return out;
}

Model loadModelSource(const std::string& source) {
  if (!isZooSource(source)) return Model::load(source);
  const ZooSource zoo = parseZooSource(source);
  return buildZooModel(zoo.arch, zoo.options);
}

}  // namespace edgetune::zoo
