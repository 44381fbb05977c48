#include "ui/prune_group_table.h"

#include <QHeaderView>

#include <algorithm>

namespace edgetune::ui {
using nlohmann::json;

PruneGroupTable::PruneGroupTable(QWidget* parent) : QTableWidget(0, 5, parent) {
  setHorizontalHeaderLabels({"Group", "Kind", "Units", "Ratio %", "Lock"});
  setToolTip(
      "Structured-pruning groups: channels that must be removed together.\n"
      "Ratio %: overrides the global ratio for this group (empty = global).\n"
      "Lock: keep the group whole. Click a row to see its nodes in the graph.");
  setSelectionBehavior(QAbstractItemView::SelectRows);
  setSelectionMode(QAbstractItemView::SingleSelection);
  verticalHeader()->setVisible(false);
  setWordWrap(false);
  setTextElideMode(Qt::ElideLeft);  // the end of a node path names the layer
  verticalHeader()->setDefaultSectionSize(20);
  horizontalHeader()->setSectionResizeMode(ColGroup, QHeaderView::Stretch);
  for (int c : {ColKind, ColUnits, ColRatio, ColLock})
    horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  setMinimumHeight(200);
  setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed |
                  QAbstractItemView::AnyKeyPressed);
  connect(this, &QTableWidget::cellChanged, this, &PruneGroupTable::onCellChanged);
  connect(this, &QTableWidget::itemSelectionChanged, this, [this] {
    const auto rows = selectionModel()->selectedRows();
    if (rows.isEmpty() || rows[0].row() >= static_cast<int>(groups_.size())) {
      emit groupSelected(QString(), {});
      return;
    }
    const PruneGroup& g = groups_[rows[0].row()];
    QStringList nodes;
    for (const auto& n : g.nodes) nodes << QString::fromStdString(n);
    emit groupSelected(QString::fromStdString(g.id), nodes);
  });
}

PruneGroupTable::Note PruneGroupTable::listGroups(const Model* model, AnalysisCache* analyses) {
  groups_.clear();
  Note note;
  QStringList unprunable;
  if (model) {
    try {
      const auto groups = analyze<PruneGroupsAnalysis>(analyses, *model);
      for (const auto& g : *groups) {
        if (g.prunable)
          groups_.push_back(g);
        else
          unprunable << QString::fromStdString(g.id + ": " + g.reason);
      }
      note.text = QString("%1 prunable groups; %2 kept whole by necessity.")
                      .arg(groups_.size())
                      .arg(unprunable.size());
      note.tooltip = unprunable.join("\n");
    } catch (const std::exception& e) {
      note.text = QString("No structured groups: %1").arg(QString::fromUtf8(e.what()));
    }
  } else {
    note.text = "Open a model to list its prunable groups.";
  }
  const QSignalBlocker block(this);
  clearContents();
  setRowCount(static_cast<int>(groups_.size()));
  for (int row = 0; row < static_cast<int>(groups_.size()); ++row) {
    const PruneGroup& g = groups_[row];
    QString nodes;
    for (const auto& n : g.nodes) nodes += "\n  " + QString::fromStdString(n);
    auto fixed = [](const QString& text) {
      auto* item = new QTableWidgetItem(text);
      item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
      return item;
    };
    // The first producer's name reads better than the id's "channels:" prefix.
    auto* name = fixed(QString::fromStdString(g.producers.empty() ? g.id : g.producers.front()));
    name->setToolTip(QString::fromStdString(g.id) + "\ncouples " + QString::number(g.nodes.size()) +
                     " nodes:" + nodes);
    setItem(row, ColGroup, name);
    setItem(row, ColKind, fixed(QString::fromStdString(g.kind)));
    setItem(row, ColUnits, fixed(QString::number(g.units)));
    auto* ratio = new QTableWidgetItem(QString());
    ratio->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsEditable);
    ratio->setToolTip("Percent of this group's units to remove (empty = the global ratio)");
    setItem(row, ColRatio, ratio);
    auto* lock = new QTableWidgetItem(QString());
    lock->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
    lock->setCheckState(Qt::Unchecked);
    lock->setToolTip("Keep this group whole");
    setItem(row, ColLock, lock);
  }
  return note;
}

json PruneGroupTable::groupRatios() const {
  json ratios = json::object();
  for (int row = 0; row < rowCount() && row < static_cast<int>(groups_.size()); ++row) {
    const auto* ratio = item(row, ColRatio);
    if (ratio && !ratio->text().trimmed().isEmpty())
      ratios[groups_[row].id] = ratio->text().toDouble() / 100.0;
  }
  return ratios;
}

json PruneGroupTable::lockedGroups() const {
  json locked = json::array();
  for (int row = 0; row < rowCount() && row < static_cast<int>(groups_.size()); ++row) {
    const auto* lock = item(row, ColLock);
    if (lock && lock->checkState() == Qt::Checked) locked.push_back(groups_[row].id);
  }
  return locked;
}

void PruneGroupTable::showKnobs(const json& k) {
  const json ratios = k.value("group_ratios", json::object());
  const json locked = k.value("locked_groups", json::array());
  const QSignalBlocker block(this);
  for (int row = 0; row < static_cast<int>(groups_.size()); ++row) {
    const std::string& id = groups_[row].id;
    const auto it = ratios.find(id);
    item(row, ColRatio)
        ->setText(it != ratios.end() ? QString::number(100 * it->get<double>(), 'g', 4) : QString());
    const bool is_locked = std::find(locked.begin(), locked.end(), json(id)) != locked.end();
    item(row, ColLock)->setCheckState(is_locked ? Qt::Checked : Qt::Unchecked);
  }
}

void PruneGroupTable::onCellChanged(int row, int column) {
  if (row < 0 || row >= static_cast<int>(groups_.size())) return;
  if (column == ColRatio) {
    auto* cell = item(row, ColRatio);
    QString text = cell->text().trimmed();
    if (text.endsWith('%')) text.chop(1);
    if (!text.isEmpty()) {
      bool ok = false;
      const double percent = text.toDouble(&ok);
      if (!ok || percent < 0 || percent > 95) {
        emit ratioRefused(QString("Ratio of group '%1': '%2' is not a percentage in 0..95 (empty = global)")
                              .arg(QString::fromStdString(groups_[row].id), cell->text()));
        return;
      }
      text = QString::number(percent, 'g', 4);
    }
    if (text != cell->text()) {
      const QSignalBlocker block(this);
      cell->setText(text);
    }
  } else if (column != ColLock) {
    return;
  }
  emit groupsEdited();
}

void PruneGroupTable::selectGroup(const QString& id) {
  for (int row = 0; row < static_cast<int>(groups_.size()); ++row)
    if (QString::fromStdString(groups_[row].id) == id) {
      selectRow(row);
      scrollToItem(item(row, ColGroup));
      return;
    }
  clearSelection();
}

}  // namespace edgetune::ui
