#include "core/runtime/executor.h"

#include "core/util/error.h"

namespace edgetune {

void checkInputMatches(const std::string& origin, const TensorInfo& expected, const Tensor& tensor) {
  if (tensor.type() != expected.type)
    throw Error(origin + ": input '" + expected.name + "' expects " + dataTypeName(expected.type) + ", got " +
                dataTypeName(tensor.type()));
  bool ok = tensor.shape().size() == expected.shape.size();
  for (size_t d = 0; ok && d < expected.shape.size(); ++d)
    ok = expected.shape[d] < 0 || expected.shape[d] == tensor.shape()[d];
  if (!ok)
    throw Error(origin + ": input '" + expected.name + "' expects shape " + shapeToString(expected.shape) +
                ", got " + tensor.shapeString());
}

}  // namespace edgetune
