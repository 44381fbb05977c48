#include "ui/dataset_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QPixmap>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>

#include "core/data/dataset.h"
#include "ui/jobs.h"

namespace edgetune::ui {

DatasetDialog::DatasetDialog(JobManager* jobs, QWidget* parent) : QWidget(parent, Qt::Dialog), jobs_(jobs) {
  setWindowTitle("Open dataset");
  resize(760, 520);
  auto* form = new QFormLayout;
  format_ = new QComboBox(this);
  format_->addItem("Fashion-MNIST (Debian package)", "fashion-mnist");
  for (const char* f : {"idx", "cifar10", "imagefolder", "imdb", "spamassassin", "csv", "jsonl"})
    format_->addItem(f, f);
  form->addRow("Format", format_);
  auto* path_row = new QHBoxLayout;
  path_ = new QLineEdit(this);
  auto* browse = new QPushButton("Browse...", this);
  path_row->addWidget(path_, 1);
  path_row->addWidget(browse);
  form->addRow("Path", path_row);
  split_ = new QComboBox(this);
  split_->setEditable(true);
  split_->addItems({"test", "train", ""});
  form->addRow("Split", split_);
  limit_ = new QSpinBox(this);
  limit_->setRange(0, 10000000);
  limit_->setSpecialValueText("all");
  form->addRow("Limit", limit_);
  extra_ = new QLineEdit(this);
  extra_->setPlaceholderText("more keys: vocab=/path/vocab.txt&seq_len=128, mean=..&std=..");
  form->addRow("Other keys", extra_);
  spec_ = new QLineEdit(this);
  spec_->setToolTip("The dataset spec, as edgetune-cli --data takes it (editable)");
  form->addRow("Spec", spec_);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  grid_host_ = new QWidget(this);
  grid_host_->setLayout(new QGridLayout);
  auto* preview_button = new QPushButton("Preview", this);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel, this);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  auto* row = new QHBoxLayout;
  row->addWidget(preview_button);
  row->addWidget(status_, 1);
  layout->addLayout(row);
  layout->addWidget(grid_host_, 1);
  layout->addWidget(buttons);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, "Dataset folder", path_->text());
    if (!dir.isEmpty()) path_->setText(dir);
  });
  for (auto* e : {path_, extra_}) connect(e, &QLineEdit::textChanged, this, &DatasetDialog::compose);
  connect(format_, &QComboBox::currentIndexChanged, this, &DatasetDialog::compose);
  connect(split_, &QComboBox::currentTextChanged, this, &DatasetDialog::compose);
  connect(limit_, &QSpinBox::valueChanged, this, &DatasetDialog::compose);
  connect(preview_button, &QPushButton::clicked, this, [this] { preview(); });
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    emit accepted(spec());
    close();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, [this] {
    emit rejected();
    close();
  });
  compose();
}

void DatasetDialog::compose() {
  if (composing_) return;
  const QString format = format_->currentData().toString();
  path_->setEnabled(format != "fashion-mnist");
  QString spec;
  QStringList keys;
  if (format == "fashion-mnist") {
    spec = split_->currentText() == "train" ? "fashion-mnist:train" : "fashion-mnist";
  } else {
    spec = format + ":" + path_->text();
    if (!split_->currentText().isEmpty()) keys << "split=" + split_->currentText();
  }
  if (limit_->value() > 0) keys << QString("limit=%1").arg(limit_->value());
  if (!extra_->text().trimmed().isEmpty()) keys << extra_->text().trimmed();
  if (!keys.isEmpty()) spec += "?" + keys.join("&");
  spec_->setText(spec);
}

void DatasetDialog::setSpec(const QString& spec) {
  composing_ = true;
  spec_->setText(spec);
  composing_ = false;
}

QString DatasetDialog::spec() const {
  return spec_->text().trimmed();
}

void DatasetDialog::preview(int count) {
  const int generation = ++generation_;
  const std::string spec = this->spec().toStdString();
  status_->setText("Loading " + QString::fromStdString(spec) + "...");
  jobs_->start("Preview dataset", [=, this](JobContext& job, JobHandle& handle) {
    try {
      auto dataset = openDataset(spec);
      job.throwIfCancelled();
      struct Sample {
        QImage image;
        QString text;
      };
      auto samples = std::make_shared<std::vector<Sample>>();
      const auto classes = dataset->classNames();
      const auto features = dataset->features();
      const size_t n = std::min<size_t>(count, dataset->size());
      for (size_t i = 0; i < n; ++i) {
        const Example ex = dataset->get(i);
        Sample s;
        const QString label = ex.label >= 0 && ex.label < static_cast<int64_t>(classes.size())
                                  ? QString::fromStdString(classes[ex.label])
                                  : QString::number(ex.label);
        const Tensor& f = ex.features.at(0);
        if (f.type() == DataType::Float32 && f.shape().size() == 3) {
          // An image [C, H, W]: min-max scaled to 8 bits for display (normalization makes raw values odd).
          const int c = static_cast<int>(f.shape()[0]), h = static_cast<int>(f.shape()[1]),
                    w = static_cast<int>(f.shape()[2]);
          const auto v = f.values<float>();
          float lo = v[0], hi = v[0];
          for (float x : v) {
            lo = std::min(lo, x);
            hi = std::max(hi, x);
          }
          QImage img(w, h, QImage::Format_RGB32);
          for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
              auto px = [&](int ch) {
                return static_cast<int>(255 * (v[(ch * h + y) * w + x] - lo) / std::max(hi - lo, 1e-6f));
              };
              const int r = px(0), g = c >= 3 ? px(1) : r, b = c >= 3 ? px(2) : r;
              img.setPixel(x, y, qRgb(r, g, b));
            }
          s.image = img.scaled(72, 72, Qt::KeepAspectRatio, Qt::FastTransformation);
          s.text = label;
        } else {
          // Text: the ids cannot be decoded without the vocab here; show the token count and the label.
          int64_t tokens = 0;
          for (size_t k = 0; k < features.size() && k < ex.features.size(); ++k)
            if (features[k].name == "attention_mask" && ex.features[k].type() == DataType::Int64)
              for (auto m : ex.features[k].values<int64_t>()) tokens += m;
          s.text = QString("%1 tokens\nlabel: %2").arg(tokens).arg(label);
        }
        samples->push_back(std::move(s));
      }
      const QString summary = QString("%1: %2 examples, %3 classes")
                                  .arg(QString::fromStdString(dataset->name()))
                                  .arg(dataset->size())
                                  .arg(classes.size());
      handle.postToUi([this, generation, samples, summary] {
        if (generation != generation_) return;
        auto* grid = static_cast<QGridLayout*>(grid_host_->layout());
        while (auto* item = grid->takeAt(0)) {
          delete item->widget();
          delete item;
        }
        int i = 0;
        for (const auto& s : *samples) {
          auto* cell = new QLabel(grid_host_);
          cell->setAlignment(Qt::AlignCenter);
          if (!s.image.isNull()) {
            cell->setPixmap(QPixmap::fromImage(s.image));
            cell->setToolTip(s.text);
            auto* caption = new QLabel(s.text, grid_host_);
            caption->setAlignment(Qt::AlignCenter);
            grid->addWidget(cell, (i / 8) * 2, i % 8);
            grid->addWidget(caption, (i / 8) * 2 + 1, i % 8);
          } else {
            cell->setText(s.text);
            cell->setFrameShape(QFrame::Box);
            grid->addWidget(cell, (i / 8) * 2, i % 8);
          }
          ++i;
        }
        preview_count_ = i;
        status_->setText(summary);
        emit previewReady(i);
      });
    } catch (const std::exception& e) {
      const QString message = QString::fromUtf8(e.what());
      handle.postToUi([this, generation, message] {
        if (generation != generation_) return;
        preview_count_ = 0;
        status_->setText("<span style='color:#b00'>" + message.toHtmlEscaped() + "</span>");
        emit previewReady(0);
      });
    }
  });
}

}  // namespace edgetune::ui
