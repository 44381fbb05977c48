#pragma once
// PruneGroupTable: the tuning panel's per-layer table of a model's structured-pruning groups (group, kind,
// units, an editable ratio override and a lock), read and written as the knobs' group_ratios / locked_groups.
#include <QStringList>
#include <QTableWidget>

#include <nlohmann/json.hpp>

#include <optional>
#include <vector>

#include "core/ir/analysis_cache.h"
#include "core/ir/model.h"
#include "core/passes/prune_channels.h"

namespace edgetune::ui {

class PruneGroupTable : public QTableWidget {
  Q_OBJECT
 public:
  enum Column { ColGroup = 0, ColKind, ColUnits, ColRatio, ColLock };
  explicit PruneGroupTable(QWidget* parent = nullptr);

  /// What the label under the table says about the listed groups (tooltip: why the others are kept whole;
  /// unset = leave the label's tooltip as it is).
  struct Note {
    QString text;
    std::optional<QString> tooltip;
  };
  /// Lists the prunable groups of `model` (null: none), one row each with no override and no lock. The
  /// groups come from `analyses` when it has them (the open job analysed the model on a worker), so the UI
  /// thread only analyses a model nothing asked about before.
  Note listGroups(const Model* model, AnalysisCache* analyses = nullptr);
  /// The listed groups, in row order.
  const std::vector<PruneGroup>& groups() const { return groups_; }

  /// The table as knob fields: "group_ratios" (group id -> ratio 0..1) and "locked_groups" (ids).
  nlohmann::json groupRatios() const;
  nlohmann::json lockedGroups() const;
  /// Shows a knob state's "group_ratios" and "locked_groups" (emits nothing).
  void showKnobs(const nlohmann::json& knobs);
  /// Selects the row of group `id` (emits groupSelected); unknown ids clear the selection.
  void selectGroup(const QString& id);

 signals:
  /// The user changed a lock, or a ratio to a valid percentage (already normalized in the cell).
  void groupsEdited();
  /// The user typed a ratio that is not a percentage in 0..95; the cell must be put back.
  void ratioRefused(const QString& message);
  /// A row was picked (empty id and nodes when the selection was cleared).
  void groupSelected(const QString& id, const QStringList& nodes);

 private:
  void onCellChanged(int row, int column);
  std::vector<PruneGroup> groups_;
};

}  // namespace edgetune::ui
