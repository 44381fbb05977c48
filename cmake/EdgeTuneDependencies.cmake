# Finds every third-party package once, so the target CMake files only name imported targets.

# ONNX Runtime: an official release archive or the folder installer/install-deps.sh fills (include/ + lib/).
set(ONNXRUNTIME_ROOT "${PROJECT_SOURCE_DIR}/third_party/onnxruntime" CACHE PATH "ONNX Runtime folder with include/ and lib/")
find_path(ONNXRUNTIME_INCLUDE_DIR onnxruntime_cxx_api.h
  PATHS "${ONNXRUNTIME_ROOT}/include" "${ONNXRUNTIME_ROOT}/include/onnxruntime" NO_DEFAULT_PATH)
find_library(ONNXRUNTIME_LIBRARY NAMES onnxruntime PATHS "${ONNXRUNTIME_ROOT}/lib" NO_DEFAULT_PATH)
if(NOT ONNXRUNTIME_INCLUDE_DIR OR NOT ONNXRUNTIME_LIBRARY)
  message(FATAL_ERROR "ONNX Runtime not found under ONNXRUNTIME_ROOT=${ONNXRUNTIME_ROOT}. "
                      "Run installer/install-deps.sh or pass -DONNXRUNTIME_ROOT=<release folder>.")
endif()
add_library(onnxruntime::onnxruntime SHARED IMPORTED GLOBAL)
set_target_properties(onnxruntime::onnxruntime PROPERTIES
  IMPORTED_LOCATION "${ONNXRUNTIME_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${ONNXRUNTIME_INCLUDE_DIR}")

find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
# RE2 (Debian libre2-dev ships no CMake package): users' node-name patterns, matched in linear time.
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
find_package(Threads REQUIRED)
find_package(libssh REQUIRED)
find_package(Qt6 REQUIRED COMPONENTS Core Test)

if(EDGETUNE_BUILD_TRAINING)
  find_package(Torch REQUIRED)
endif()
if(EDGETUNE_BUILD_GUI)
  find_package(Qt6 REQUIRED COMPONENTS Widgets PrintSupport Svg)
  find_package(QCustomPlotQt6 REQUIRED)
endif()
