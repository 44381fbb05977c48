#include "core/util/temporary_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <random>
#include <string>

#include "core/util/error.h"

namespace edgetune {
namespace fs = std::filesystem;
namespace {

// The registry a signal handler reads: fixed storage (no allocation in a handler) and a state per slot.
// A slot's path is written while it is Claimed and read only while it is Ready. With more temporaries open
// at once than slots, the rest are not registered; a later run still removes them as stale.
enum SlotState : int { kFree, kClaimed, kReady };
struct Slot {
  std::atomic<int> state{kFree};
  char path[PATH_MAX] = {};
};
std::array<Slot, 64> g_slots;

int registerPath(const fs::path& path) {
  const std::string& text = path.native();
  if (text.size() >= PATH_MAX) return -1;
  for (int i = 0; i < static_cast<int>(g_slots.size()); ++i) {
    int expected = kFree;
    if (!g_slots[i].state.compare_exchange_strong(expected, kClaimed)) continue;
    std::memcpy(g_slots[i].path, text.c_str(), text.size() + 1);
    g_slots[i].state.store(kReady);
    return i;
  }
  return -1;
}

void unregisterPath(int slot) {
  if (slot >= 0) g_slots[static_cast<size_t>(slot)].state.store(kFree);
}

std::string temporaryPrefix(const fs::path& target) {
  return "." + target.filename().string() + ".tmp-";
}

void onTermination(int signal_number) {
  removeTemporariesNow();
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

}  // namespace

TemporaryFile::TemporaryFile(const fs::path& target) : target_(target) {
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(target.string() + ": folder " + dir.string() + " does not exist");
  removeStaleTemporaries(target);
  std::mt19937_64 rng(std::random_device{}());
  for (int attempt = 0; attempt < 8 && fd_ < 0; ++attempt) {
    path_ =
        dir / (temporaryPrefix(target) + std::to_string(::getpid()) + "-" + std::to_string(rng() % 1000000));
    // Registered before it exists: a signal between open() and registration would otherwise leave it.
    slot_ = registerPath(path_);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      const int error = errno;
      unregisterPath(slot_);
      slot_ = -1;
      if (error != EEXIST)
        throw Error(target.string() + ": cannot create a temporary file (" + std::strerror(error) + ")");
    }
  }
  if (fd_ < 0) throw Error(target.string() + ": cannot create a temporary file (names taken)");
}

TemporaryFile::~TemporaryFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(path_.c_str());
  unregisterPath(slot_);
}

void TemporaryFile::write(std::string_view bytes) {
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(target_.string() + ": write failed (" + std::strerror(errno) + ")");
    }
    written += static_cast<size_t>(n);
  }
}

void TemporaryFile::commit() {
  const int fd = fd_;
  fd_ = -1;
  const bool synced = ::fsync(fd) == 0;
  const int sync_error = errno;
  if (::close(fd) != 0 || !synced)
    throw Error(target_.string() + ": write failed (" + std::strerror(synced ? errno : sync_error) + ")");
  if (::rename(path_.c_str(), target_.c_str()) != 0)
    throw Error(target_.string() + ": cannot rename the temporary file into place (" + std::strerror(errno) +
                ")");
  committed_ = true;
}

int removeStaleTemporaries(const fs::path& target) {
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string prefix = temporaryPrefix(target);
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix)) continue;
    // ".NAME.tmp-PID-RANDOM": a PID of digits, then '-'. Anything else is not ours to remove.
    const size_t dash = name.find('-', prefix.size());
    if (dash == std::string::npos || dash == prefix.size() || dash - prefix.size() > 9) continue;
    const std::string pid_text = name.substr(prefix.size(), dash - prefix.size());
    if (pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to probe
    if (::unlink(it->path().c_str()) == 0) ++removed;
  }
  return removed;
}

void removeTemporariesNow() noexcept {
  for (Slot& slot : g_slots)
    if (slot.state.load() == kReady) ::unlink(slot.path);
}

void removeTemporariesOnTermination() {
  struct sigaction action {};
  action.sa_handler = onTermination;
  sigemptyset(&action.sa_mask);
  for (const int signal_number : {SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(signal_number, &action, nullptr);
}

}  // namespace edgetune
