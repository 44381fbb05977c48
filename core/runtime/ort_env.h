#pragma once
// The process-wide ONNX Runtime environment (ORT permits only one), for code that talks to ORT directly.
#include <onnxruntime_cxx_api.h>

namespace edgetune {
Ort::Env& ortEnv();
}
