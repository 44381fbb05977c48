#pragma once
// DeviceForm: the Devices panel's add / edit dialog for one SSH device, which validates before it closes.
#include <QDialog>

#include <filesystem>

#include "core/deploy/device.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace edgetune::ui {

/// The add/edit form for one device: name, host, port, user, authentication and key file.
class DeviceForm : public QDialog {
  Q_OBJECT
 public:
  explicit DeviceForm(QWidget* parent = nullptr);
  void setDevice(const deploy::Device& device);
  /// The device the fields describe; throws Error naming the wrong field.
  deploy::Device device() const;
  void accept() override;  // validates first; a wrong field keeps the form open with the message shown

  QLineEdit* nameEdit() const { return name_; }
  QLineEdit* hostEdit() const { return host_; }
  QSpinBox* portSpin() const { return port_; }
  QLineEdit* userEdit() const { return user_; }
  QComboBox* authCombo() const { return auth_; }
  QLineEdit* keyFileEdit() const { return key_file_; }
  QString errorText() const;

 private:
  QLineEdit *name_, *host_, *user_, *key_file_;
  QSpinBox* port_;
  QComboBox* auth_;
  QLabel* error_;
  std::filesystem::path known_hosts_;  // kept from setDevice (not shown: EdgeTune's own file by default)
};

}  // namespace edgetune::ui
