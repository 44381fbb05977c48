#include "ui/device_form.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/util/error.h"

namespace edgetune::ui {

using deploy::Device;

DeviceForm::DeviceForm(QWidget* parent) : QDialog(parent) {
  setWindowTitle("Device");
  auto* form = new QFormLayout;
  name_ = new QLineEdit(this);
  name_->setPlaceholderText("raspberrypi");
  host_ = new QLineEdit(this);
  host_->setPlaceholderText("192.168.1.20 or pi.local");
  port_ = new QSpinBox(this);
  port_->setRange(1, 65535);
  port_->setValue(22);
  user_ = new QLineEdit(this);
  user_->setPlaceholderText("pi");
  auth_ = new QComboBox(this);
  auth_->addItem("SSH agent", "agent");
  auth_->addItem("Key file", "key");
  auth_->addItem("Password (asked when needed)", "password");
  key_file_ = new QLineEdit(this);
  auto* browse = new QPushButton("Browse…", this);
  auto* key_row = new QHBoxLayout;
  key_row->addWidget(key_file_);
  key_row->addWidget(browse);
  form->addRow("Name", name_);
  form->addRow("Host", host_);
  form->addRow("Port", port_);
  form->addRow("User", user_);
  form->addRow("Log in with", auth_);
  form->addRow("Key file", key_row);
  error_ = new QLabel(this);
  error_->setStyleSheet("color: #b00020");
  error_->setWordWrap(true);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(error_);
  layout->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::accepted, this, &DeviceForm::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &DeviceForm::reject);
  auto key_enabled = [this, browse] {
    const bool key = auth_->currentData().toString() == "key";
    key_file_->setEnabled(key);
    browse->setEnabled(key);
  };
  connect(auth_, &QComboBox::currentIndexChanged, this, key_enabled);
  key_enabled();
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, "Private key", QDir::homePath() + "/.ssh");
    if (!path.isEmpty()) key_file_->setText(path);
  });
}

void DeviceForm::setDevice(const Device& d) {
  name_->setText(QString::fromStdString(d.name));
  host_->setText(QString::fromStdString(d.host));
  port_->setValue(d.port);
  user_->setText(QString::fromStdString(d.user));
  auth_->setCurrentIndex(auth_->findData(QString::fromStdString(deploy::toString(d.auth))));
  key_file_->setText(QString::fromStdString(d.key_file.string()));
  known_hosts_ = d.known_hosts;
}

Device DeviceForm::device() const {
  Device d;
  d.name = name_->text().trimmed().toStdString();
  d.host = host_->text().trimmed().toStdString();
  d.port = port_->value();
  d.user = user_->text().trimmed().toStdString();
  d.auth = deploy::authMethodFromString(auth_->currentData().toString().toStdString());
  if (d.auth == deploy::AuthMethod::Key) d.key_file = key_file_->text().trimmed().toStdString();
  d.known_hosts = known_hosts_;
  d.validate();
  return d;
}

void DeviceForm::accept() {
  try {
    (void)device();
    QDialog::accept();
  } catch (const Error& e) {
    error_->setText(QString::fromUtf8(e.what()));
  }
}

QString DeviceForm::errorText() const {
  return error_->text();
}

}  // namespace edgetune::ui
