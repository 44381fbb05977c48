// External data is the one place where a model file names other files for the tool to read. Followed
// blindly, a `location` of /etc/passwd, ../secret or a symlink out of the folder copies that file into every
// output model (and onto the device it is deployed to), a FIFO blocks open() forever, and a hostile
// offset + length wraps past the file size check into a 4 GB allocation. So every location is resolved to
// its real path, confined to the model's real folder, its type checked before it is opened (O_NONBLOCK as
// well, in case it is swapped for a FIFO in between), and every number parsed and added with checks.
#include "core/ir/external_data.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/ir/model.h"
#include "core/ir/model_validation.h"
#include "core/util/error.h"
#include "core/util/files.h"

namespace edgetune {
namespace fs = std::filesystem;

namespace {

// An open data file; closed when the resolver is done.
class DataFile {
 public:
  DataFile(int fd, int64_t size_bytes) : fd_(fd), size_bytes_(size_bytes) {}
  DataFile(const DataFile&) = delete;
  DataFile& operator=(const DataFile&) = delete;
  ~DataFile() { ::close(fd_); }
  int fd() const { return fd_; }
  int64_t sizeBytes() const { return size_bytes_; }

 private:
  int fd_;
  int64_t size_bytes_;
};

// One tensor's bytes, planned before any is read so the totals can be checked first.
struct PlannedRead {
  onnx::TensorProto* tensor;
  std::string what;  // "<model>: initializer 'W': external data file <path>"
  const DataFile* file;
  int64_t offset_bytes;
  int64_t length_bytes;
};

bool isInside(const fs::path& folder, const fs::path& path) {
  auto [f, p] = std::mismatch(folder.begin(), folder.end(), path.begin(), path.end());
  return f == folder.end() && p != path.end();
}

class Resolver {
 public:
  explicit Resolver(const fs::path& model_path) : model_(model_path.string()) {
    base_ = model_path.has_parent_path() ? model_path.parent_path() : fs::path(".");
  }

  void graph(onnx::GraphProto& g, const std::string& where) {
    for (auto& init : *g.mutable_initializer()) tensor(init, where + "initializer '" + init.name() + "'");
    for (auto& sparse : *g.mutable_sparse_initializer()) {
      const std::string what = where + "sparse initializer '" + sparse.values().name() + "'";
      tensor(*sparse.mutable_values(), what + " values");
      tensor(*sparse.mutable_indices(), what + " indices");
    }
    nodes(*g.mutable_node(), where);
  }

  void function(onnx::FunctionProto& f) { nodes(*f.mutable_node(), "function '" + f.name() + "': "); }

  // Checks the totals, then reads every planned tensor.
  void finish() {
    if (reads_.empty()) return;
    int64_t read_bytes = 0, held_bytes = 0;
    bool overflow = false;
    for (const auto& r : reads_) overflow |= __builtin_add_overflow(read_bytes, r.length_bytes, &read_bytes);
    for (const auto& [path, file] : files_)
      overflow |= __builtin_add_overflow(held_bytes, file->sizeBytes(), &held_bytes);
    // Each tensor fits its file, but many tensors can name the same bytes: a small model listing one large
    // file a thousand times would make the tool allocate a thousand copies.
    if (overflow || read_bytes > held_bytes)
      throw Error(model_ + ": its tensors read " +
                  (overflow ? std::string("more than 2^63") : std::to_string(read_bytes)) +
                  " bytes of external data from " + std::to_string(files_.size()) + " file(s) holding only " +
                  std::to_string(held_bytes) + " (external tensors may not overlap)");
    for (auto& r : reads_) {
      std::string bytes(static_cast<size_t>(r.length_bytes), '\0');
      size_t done = 0;
      while (done < bytes.size()) {
        const ssize_t n = ::pread(r.file->fd(), bytes.data() + done, bytes.size() - done,
                                  static_cast<off_t>(r.offset_bytes + static_cast<int64_t>(done)));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(r.what + ": read error (" + std::strerror(errno) + ")");
        if (n == 0) throw Error(r.what + ": ended early (was it truncated while loading?)");
        done += static_cast<size_t>(n);
      }
      r.tensor->set_raw_data(std::move(bytes));
      r.tensor->clear_external_data();
      r.tensor->set_data_location(onnx::TensorProto::DEFAULT);
    }
  }

 private:
  void nodes(google::protobuf::RepeatedPtrField<onnx::NodeProto>& list, const std::string& where) {
    for (auto& n : list)
      for (auto& a : *n.mutable_attribute()) {
        const std::string attr = where + describeNode(n) + " attribute '" + a.name() + "'";
        if (a.has_t()) tensor(*a.mutable_t(), attr);
        for (int i = 0; i < a.tensors_size(); ++i)
          tensor(*a.mutable_tensors(i), attr + " tensor " + std::to_string(i));
        auto sparse = [&](onnx::SparseTensorProto& s, const std::string& what) {
          tensor(*s.mutable_values(), what + " values");
          tensor(*s.mutable_indices(), what + " indices");
        };
        if (a.has_sparse_tensor()) sparse(*a.mutable_sparse_tensor(), attr);
        for (int i = 0; i < a.sparse_tensors_size(); ++i)
          sparse(*a.mutable_sparse_tensors(i), attr + " tensor " + std::to_string(i));
        if (a.has_g()) graph(*a.mutable_g(), attr + ": ");
        for (int i = 0; i < a.graphs_size(); ++i)
          graph(*a.mutable_graphs(i), attr + " graph " + std::to_string(i) + ": ");
      }
  }

  void tensor(onnx::TensorProto& t, const std::string& subject) {
    if (t.data_location() != onnx::TensorProto::EXTERNAL) return;
    const std::string what = model_ + ": " + subject;
    std::string location;
    std::optional<std::string> offset_text, length_text;
    for (const auto& entry : t.external_data()) {
      if (entry.key() == "location")
        location = entry.value();
      else if (entry.key() == "offset")
        offset_text = entry.value();
      else if (entry.key() == "length")
        length_text = entry.value();
    }
    if (location.empty()) throw Error(what + " says its data is external but names no location");
    const std::string at = what + ": external data location '" + location + "'";
    if (location.find('\0') != std::string::npos) throw Error(at + " contains a NUL byte");
    const fs::path relative(location);
    if (relative.is_absolute() || relative.has_root_directory())
      throw Error(at + " is an absolute path; external data must be a file inside the model's folder");
    for (const auto& part : relative)
      if (part == "..") throw Error(at + " climbs out of the model's folder ('..')");

    const fs::path& folder = realFolder(what);
    const fs::path candidate = base_ / relative;
    std::error_code ec;
    const fs::path resolved = fs::canonical(candidate, ec);
    if (ec)
      throw Error(what + ": external data file " + candidate.string() + " is missing or unreadable (" +
                  ec.message() + ")");
    if (!isInside(folder, resolved))
      throw Error(at + " resolves to " + resolved.string() + ", outside the model's folder " +
                  folder.string());
    // Before open(): opening a FIFO blocks until someone writes to it, and a device reads forever.
    const fs::file_status status = fs::status(resolved, ec);
    if (ec || status.type() != fs::file_type::regular)
      throw Error(at + " is " + (ec ? "unreadable (" + ec.message() + ")" : describeFileType(status.type())) +
                  ", not a regular file");

    const auto offset = parseNumber(offset_text, "offset", at).value_or(0);
    const TensorExtent extent = tensorExtent(t, what);
    if (t.data_type() == onnx::TensorProto::STRING)
      throw Error(what + ": a string tensor cannot have external data (ONNX stores strings inline)");
    const auto length = parseNumber(length_text, "length", at).value_or(extent.byte_size);
    if (length != extent.byte_size)
      throw Error(at + ": length " + std::to_string(length) + " does not match the " +
                  std::to_string(extent.byte_size) + " bytes its dims need");
    const DataFile& file = open(resolved, at);
    int64_t end = 0;
    if (__builtin_add_overflow(offset, length, &end))
      throw Error(at + ": offset " + std::to_string(offset) + " + length " + std::to_string(length) +
                  " passes 2^63");
    if (end > file.sizeBytes())
      throw Error(at + ": " + resolved.string() + " is too short (needs bytes " + std::to_string(offset) +
                  ".." + std::to_string(end) + ", has " + std::to_string(file.sizeBytes()) + ")");
    reads_.push_back({&t, what + ": external data file " + resolved.string(), &file, offset, length});
  }

  // offset / length: whole decimal numbers >= 0; nullopt when the key is absent.
  static std::optional<int64_t> parseNumber(const std::optional<std::string>& text, const char* key,
                                            const std::string& at) {
    if (!text) return std::nullopt;
    int64_t value = 0;
    const char* end = text->data() + text->size();
    const auto [ptr, ec] = std::from_chars(text->data(), end, value);
    if (ec == std::errc::result_out_of_range)
      throw Error(at + ": " + key + " '" + *text + "' is out of range");
    if (ec != std::errc() || ptr != end || text->empty())
      throw Error(at + ": " + key + " '" + *text + "' is not a whole number");
    if (value < 0) throw Error(at + ": " + key + " " + *text + " is negative");
    return value;
  }

  const fs::path& realFolder(const std::string& what) {
    if (folder_.empty()) {
      std::error_code ec;
      folder_ = fs::canonical(base_, ec);
      if (ec)
        throw Error(what + ": cannot resolve the model's folder " + base_.string() + " (" + ec.message() +
                    ")");
    }
    return folder_;
  }

  const DataFile& open(const fs::path& resolved, const std::string& what) {
    if (auto it = files_.find(resolved); it != files_.end()) return *it->second;
    // O_NONBLOCK: should the checked file be replaced by a FIFO before this line, open() still returns.
    const int fd = ::open(resolved.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0) throw Error(what + ": cannot open " + resolved.string() + " (" + std::strerror(errno) + ")");
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw Error(what + ": " + resolved.string() + " is not a regular file");
    }
    auto& file = files_[resolved];
    file = std::make_unique<DataFile>(fd, static_cast<int64_t>(st.st_size));
    return *file;
  }

  std::string model_;
  fs::path base_;    // the model's folder as given
  fs::path folder_;  // its real path, resolved on first use
  std::map<fs::path, std::unique_ptr<DataFile>> files_;
  std::vector<PlannedRead> reads_;
};

}  // namespace

void resolveExternalData(onnx::ModelProto& model, const fs::path& model_path) {
  Resolver resolver(model_path);
  resolver.graph(*model.mutable_graph(), "");
  for (auto& f : *model.mutable_functions()) resolver.function(f);
  resolver.finish();
}

}  // namespace edgetune
