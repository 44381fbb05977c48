#include "core/ir/analysis_cache.h"

#include <algorithm>

namespace edgetune {

AnalysisCache::AnalysisCache(size_t max_models) : max_models_(std::max<size_t>(1, max_models)) {}

bool AnalysisCache::contains(const Key& key) const {
  std::lock_guard lock(mutex_);
  auto rev = results_.find(key.revision);
  return rev != results_.end() && rev->second.count({key.analysis, key.arguments}) > 0;
}

std::shared_ptr<const void> AnalysisCache::lookup(const Key& key) {
  std::lock_guard lock(mutex_);
  auto rev = results_.find(key.revision);
  if (rev == results_.end()) return nullptr;
  auto it = rev->second.find({key.analysis, key.arguments});
  if (it == rev->second.end()) return nullptr;
  auto result = it->second;
  touch(key.revision);
  return result;
}

std::shared_ptr<const void> AnalysisCache::store(const Key& key, std::shared_ptr<const void> result) {
  std::lock_guard lock(mutex_);
  auto it =
      results_[key.revision].emplace(std::make_pair(key.analysis, key.arguments), std::move(result)).first;
  auto stored = it->second;  // another thread's result when it stored first
  touch(key.revision);
  return stored;
}

void AnalysisCache::touch(uint64_t revision) {
  auto it = std::find(recent_revisions_.begin(), recent_revisions_.end(), revision);
  if (it != recent_revisions_.end())
    recent_revisions_.splice(recent_revisions_.begin(), recent_revisions_, it);
  else
    recent_revisions_.push_front(revision);
  while (recent_revisions_.size() > max_models_) {
    results_.erase(recent_revisions_.back());
    recent_revisions_.pop_back();
  }
}

void AnalysisCache::clear() {
  std::lock_guard lock(mutex_);
  results_.clear();
  recent_revisions_.clear();
}

size_t AnalysisCache::size() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [revision, results] : results_) n += results.size();
  return n;
}

}  // namespace edgetune
