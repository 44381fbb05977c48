// QOperator format: the fusable Q/DQ groups of a QDQ model rewritten as explicit integer operators.
#include "core/passes/graph_edit.h"
#include "core/passes/quantize_passes.h"
#include "core/util/error.h"

namespace edgetune {

PassReport convertQdqToQOperator(Model& model) {
  PassReport report;
  report.pass_name = "quantize";
  (void)model;
  throw Error("quantize: the qoperator format is not implemented yet");
}

}  // namespace edgetune
