#pragma once
// KeychainSecretStore: deploy::SecretStore on the system keychain (QtKeychain: Secret Service / KWallet on
// Linux, Keychain on macOS, Credential Store on Windows). Never falls back to plain text: without a keychain
// backend every operation fails with one clear message and nothing is written anywhere.
#include <QString>

#include <chrono>
#include <optional>
#include <string>

#include "core/deploy/device.h"

namespace edgetune::ui {

/// Secrets in the system keychain under one service name. Call it from the UI thread (or any thread with a Qt
/// event loop): each operation runs its QtKeychain job synchronously in a local event loop, with a timeout.
class KeychainSecretStore : public deploy::SecretStore {
 public:
  explicit KeychainSecretStore(QString service = QStringLiteral("EdgeTune"),
                               std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// True when a keychain backend answers (probed by reading an entry that does not exist); otherwise
  /// `why` gets the reason. Not cached: a keychain daemon may start or stop while the studio runs.
  bool available(QString* why = nullptr);

  /// The secret, or nullopt when there is none. Throws Error when the keychain cannot be used.
  std::optional<std::string> load(const std::string& key) override;
  /// Throws Error (saying nothing was stored) when the keychain cannot be used.
  void store(const std::string& key, const std::string& secret) override;
  /// Removes the entry; no error when there was none. Throws Error when the keychain cannot be used.
  void erase(const std::string& key) override;

  const QString& service() const { return service_; }

 private:
  QString service_;
  std::chrono::milliseconds timeout_;
};

}  // namespace edgetune::ui
