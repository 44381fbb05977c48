#pragma once
// Hand-made hostile ONNX files for the loader tests (test_hostile_models) and the CLI's bad-input tests:
// a small Conv model and a MatMul model to break, written byte for byte (no checks on the way out).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_passes_builder.h"

namespace edgetune::test::hostile {

/// x [1, 3, 8, 8] -> Conv 'conv1' (W [4, 3, 3, 3], B [4], 3x3, pads 1) -> y [1, 4, 8, 8].
inline GraphBuilder convModel() {
  GraphBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y", {1, 4, 8, 8});
  b.init("W", randomTensor({4, 3, 3, 3}, 1)).init("B", randomTensor({4}, 2));
  auto& conv = b.node("Conv", {"x", "W", "B"}, {"y"}, "conv1");
  setAttr(conv, "kernel_shape", std::vector<int64_t>{3, 3});
  setAttr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
  setAttr(conv, "strides", std::vector<int64_t>{1, 1});
  return b;
}

/// x [N, 4] -> MatMul 'mm' (W [4, 3], 48 bytes of float) -> y [N, 3].
inline GraphBuilder matmulModel() {
  GraphBuilder b;
  b.input("x", {-1, 4}).output("y", {-1, 3});
  b.init("W", randomTensor({4, 3}, 3));
  b.node("MatMul", {"x", "W"}, {"y"}, "mm");
  return b;
}

/// Replaces (or adds) the INTS attribute `name` of `node`.
inline void setInts(onnx::NodeProto& node, const std::string& name, std::vector<int64_t> values) {
  auto* attrs = node.mutable_attribute();
  for (int i = 0; i < attrs->size(); ++i)
    if (attrs->Get(i).name() == name) {
      attrs->DeleteSubrange(i, 1);
      break;
    }
  setAttr(node, name, std::move(values));
}

/// Points `tensor` at external data instead of its raw bytes; offset / length are written as given.
inline void setExternal(onnx::TensorProto& tensor, const std::string& location,
                        std::optional<std::string> offset = {}, std::optional<std::string> length = {}) {
  tensor.clear_raw_data();
  tensor.set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char* key, const std::string& value) {
    auto* entry = tensor.add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  };
  add("location", location);
  if (offset) add("offset", *offset);
  if (length) add("length", *length);
}

/// Writes the proto's bytes as they are: no checker, no atomic save, so broken models reach the disk.
inline void writeProto(const std::filesystem::path& path, const onnx::ModelProto& proto) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << proto.SerializeAsString();
}

inline void writeBytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

/// The Error `f` throws (or "" when it returns), without letting a FIFO hang the test: `f` runs on a
/// thread, and if it is still busy after `patience` a writer opens `fifo` (which releases a reader blocked
/// in open()) and the result is "BLOCKED ON THE FIFO".
inline std::string errorWithoutBlocking(const std::filesystem::path& fifo, const std::function<void()>& f,
                                        std::chrono::seconds patience = std::chrono::seconds(20)) {
  std::promise<std::string> done;
  std::future<std::string> result = done.get_future();
  std::thread worker([&] {
    try {
      done.set_value(errorOf(f));
    } catch (const std::exception& e) {
      done.set_value(std::string("unexpected exception: ") + e.what());
    }
  });
  if (result.wait_for(patience) == std::future_status::ready) {
    worker.join();
    return result.get();
  }
  while (result.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // fails (ENXIO) until a reader waits
    if (fd >= 0) ::close(fd);
  }
  worker.join();
  return "BLOCKED ON THE FIFO";
}

}  // namespace edgetune::test::hostile
