#pragma once
// AnalysisCache: the results of expensive read-only analyses of a Model (statistics, and next the channel-
// dependency groups), kept outside the Model so that a shared Model stays immutable. The idea is LLVM's
// analysis manager: a result is keyed by the graph it was computed from, and an edit invalidates it. Here the
// key is Model::revision(), which every edit end (reindex(), so finishGraphEdit and inferShapes) renews: a
// result of the graph before an edit is never returned for the graph after it, without any pass having to
// tell the cache. The caller owns the cache (a document, a job, a sweep) and decides how long results live.
//
// An analysis is a type with
//   using Result = ...;                                        // what it computes
//   static Result run(const Model& model, const Args&... args);  // reads the model only
//   static std::string key(const Args&... args);               // the arguments as text ("" when none)
// and is asked for with cache.get<Analysis>(model, args...). StatsAnalysis (core/ir/stats.h) is one.
//
// Hook for the channel-dependency analysis: findPruneGroups / planChannelPruning
// (core/passes/prune_channels*) rebuild the dependency analysis on every call, so the studio's group table, a
// sensitivity sweep (one plan per group and ratio) and the allocation redo it for the same unedited baseline.
// When that analysis moves below the passes (issue #14 item 1), it becomes an analysis type here, e.g.
//   struct ChannelDependencyAnalysis { using Result = DependencyGroups; static Result run(const Model&);
//                                      static std::string key() { return {}; } };
// and the planners take the cached result instead of analysing again.
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <typeindex>
#include <utility>

#include "core/ir/model.h"

namespace edgetune {

/// Results of analyses of Models, keyed by (model revision, analysis, arguments). Thread-safe: jobs that
/// analyse one shared Model may share one cache. Results of the `max_models` most recently asked-about
/// revisions are kept; older ones (an edited model's previous revision, a model no longer looked at) go.
class AnalysisCache {
 public:
  explicit AnalysisCache(size_t max_models = 4);

  /// The result of `Analysis` on `model` with `args`, computed on the first request for this revision and
  /// arguments. Two threads that miss at once may both compute; the first result stored is the one every
  /// caller gets. An exception from Analysis::run reaches the caller and caches nothing.
  template <class Analysis, class... Args>
  std::shared_ptr<const typename Analysis::Result> get(const Model& model, const Args&... args) {
    using Result = typename Analysis::Result;
    // Revision 0 is every never-indexed default Model: no key tells two of them apart.
    if (model.revision() == 0) return std::make_shared<const Result>(Analysis::run(model, args...));
    const Key key{model.revision(), std::type_index(typeid(Analysis)), Analysis::key(args...)};
    if (auto hit = lookup(key)) return std::static_pointer_cast<const Result>(hit);
    // Computed without the lock: an analysis may take seconds, and other threads' hits must not wait.
    auto result = std::make_shared<const Result>(Analysis::run(model, args...));
    return std::static_pointer_cast<const Result>(store(key, std::move(result)));
  }

  /// True if a result of `Analysis` for this revision and these arguments is cached (for tests, and for a
  /// caller deciding whether a request will be quick).
  template <class Analysis, class... Args>
  bool contains(const Model& model, const Args&... args) const {
    return contains(Key{model.revision(), std::type_index(typeid(Analysis)), Analysis::key(args...)});
  }

  /// Drops every result (the models' revisions stay valid keys for new results).
  void clear();
  /// Number of cached results, over all revisions and analyses.
  size_t size() const;

 private:
  struct Key {
    uint64_t revision;
    std::type_index analysis;
    std::string arguments;
  };
  using PerRevision = std::map<std::pair<std::type_index, std::string>, std::shared_ptr<const void>>;
  bool contains(const Key& key) const;
  std::shared_ptr<const void> lookup(const Key& key);
  std::shared_ptr<const void> store(const Key& key, std::shared_ptr<const void> result);
  void touch(uint64_t revision);  // marks `revision` most recently used, evicting the oldest; holds mutex_

  const size_t max_models_;
  mutable std::mutex mutex_;
  std::map<uint64_t, PerRevision> results_;  // by Model::revision()
  std::list<uint64_t> recent_revisions_;     // most recently used first; at most max_models_
};

/// `cache`'s result for `model` when there is a cache, else Analysis::run computed now: for the entry points
/// a CLI calls without a cache and the studio calls with its own.
template <class Analysis, class... Args>
std::shared_ptr<const typename Analysis::Result> analyze(AnalysisCache* cache, const Model& model,
                                                         const Args&... args) {
  if (cache) return cache->get<Analysis>(model, args...);
  return std::make_shared<const typename Analysis::Result>(Analysis::run(model, args...));
}

}  // namespace edgetune
