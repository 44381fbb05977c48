// KeychainSecretStore: QtKeychain jobs run to completion in a local event loop (they are asynchronous by
// design).
#include "ui/keychain_store.h"

#include <qt6keychain/keychain.h>
#include <QEventLoop>
#include <QTimer>

#include <memory>

#include "core/util/error.h"

namespace edgetune::ui {

namespace {
// What a finished job reported. Shared with the job's finished() handler, which may outlive a timed-out wait.
struct JobOutcome {
  bool finished = false;
  QKeychain::Error error = QKeychain::NoError;
  QString error_text;
  QByteArray data;
};

// Starts `job` (owned by QtKeychain's auto-delete from here on) and waits up to `timeout` for it to finish.
std::shared_ptr<JobOutcome> runJob(QKeychain::Job* job, const QString& key,
                                   std::chrono::milliseconds timeout) {
  auto outcome = std::make_shared<JobOutcome>();
  job->setAutoDelete(true);         // deleted after finished(), also when we stopped waiting for it
  job->setInsecureFallback(false);  // never store secrets in plain text (QSettings) when no keychain exists
  job->setKey(key);
  QEventLoop loop;
  QObject::connect(job, &QKeychain::Job::finished, &loop, [outcome, &loop](QKeychain::Job* done) {
    outcome->finished = true;
    outcome->error = done->error();
    outcome->error_text = done->errorString();
    if (auto* read = qobject_cast<QKeychain::ReadPasswordJob*>(done)) outcome->data = read->binaryData();
    loop.quit();
  });
  QTimer::singleShot(timeout, &loop, &QEventLoop::quit);
  job->start();
  if (!outcome->finished) loop.exec(QEventLoop::ExcludeUserInputEvents);
  return outcome;
}

QString unavailableText(const JobOutcome& o, std::chrono::milliseconds timeout) {
  if (!o.finished)
    return QStringLiteral("the system keychain did not answer within %1 s").arg(timeout.count() / 1000.0);
  QString why =
      o.error_text.isEmpty() ? QStringLiteral("error %1").arg(static_cast<int>(o.error)) : o.error_text;
  if (o.error == QKeychain::NoBackendAvailable)
    why = QStringLiteral("no keychain service is running (%1)").arg(why);
  return QStringLiteral(
             "the system keychain is not available (no Secret Service such as GNOME Keyring or KWallet "
             "answered: %1)")
      .arg(why);
}
}  // namespace

KeychainSecretStore::KeychainSecretStore(QString service, std::chrono::milliseconds timeout)
    : service_(std::move(service)), timeout_(timeout) {}

bool KeychainSecretStore::available(QString* why) {
  const auto o =
      runJob(new QKeychain::ReadPasswordJob(service_), QStringLiteral("edgetune/keychain-probe"), timeout_);
  const bool ok = o->finished && (o->error == QKeychain::NoError || o->error == QKeychain::EntryNotFound);
  if (!ok && why) *why = unavailableText(*o, timeout_);
  return ok;
}

std::optional<std::string> KeychainSecretStore::load(const std::string& key) {
  const auto o = runJob(new QKeychain::ReadPasswordJob(service_), QString::fromStdString(key), timeout_);
  if (o->finished && o->error == QKeychain::EntryNotFound) return std::nullopt;
  if (!o->finished || o->error != QKeychain::NoError)
    throw Error("cannot read '" + key + "': " + unavailableText(*o, timeout_).toStdString());
  return o->data.toStdString();
}

void KeychainSecretStore::store(const std::string& key, const std::string& secret) {
  auto* job = new QKeychain::WritePasswordJob(service_);
  job->setBinaryData(QByteArray::fromStdString(secret));
  const auto o = runJob(job, QString::fromStdString(key), timeout_);
  if (!o->finished || o->error != QKeychain::NoError)
    throw Error("the password was not saved (EdgeTune never keeps passwords in plain text): " +
                unavailableText(*o, timeout_).toStdString());
}

void KeychainSecretStore::erase(const std::string& key) {
  const auto o = runJob(new QKeychain::DeletePasswordJob(service_), QString::fromStdString(key), timeout_);
  if (o->finished && (o->error == QKeychain::NoError || o->error == QKeychain::EntryNotFound)) return;
  throw Error("cannot remove '" + key +
              "' from the keychain: " + unavailableText(*o, timeout_).toStdString());
}

}  // namespace edgetune::ui
