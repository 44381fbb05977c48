#pragma once
// The training data of one epoch: a seeded order of the examples and the batches assembled from it, with the
// random crop and flip of augmentation. Every random choice derives from (seed, epoch, index) through one
// hash, so results do not depend on which thread assembled a batch.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/data/dataset.h"
#include "core/train/trainer.h"

namespace edgetune {

/// splitmix64 of one, two or three values: the trainer's one source of randomness.
uint64_t mix(uint64_t x);
uint64_t mix(uint64_t a, uint64_t b);
uint64_t mix(uint64_t a, uint64_t b, uint64_t c);

/// The examples 0..n-1 in the order epoch `epoch` visits them (a seeded Fisher-Yates shuffle).
std::vector<size_t> epochOrder(size_t n, uint64_t seed, int epoch);

/// The examples `indices` of `dataset` as one batch, each image feature augmented when `augment` is on.
Batch assembleBatch(const Dataset& dataset, const std::vector<size_t>& indices, const AugmentOptions& augment,
                    uint64_t seed, int epoch);

}  // namespace edgetune
