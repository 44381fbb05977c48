// The studio's Devices panel against a REAL OpenSSH server on 127.0.0.1 (tests/deploy/ssh_server.h): add a
// device, test the connection (first-contact fingerprint question answered by the test), deploy the ResNet-20
// demo model with an on-device benchmark and per-node profile through the x86-64 runner, the profile overlay
// on that real profile, refusals (changed host key, declined key, closed port), key passphrase and password
// prompts; the keychain store without a keychain (nothing written anywhere) and with a real Secret Service
// (gnome-keyring on a private D-Bus).
#include <QtTest>

#include <QComboBox>
#include <QLineEdit>
#include <QSpinBox>
#include <QTableWidget>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/deploy/profile_overlay.h"
#include "core/deploy/sha256.h"
#include "core/ir/model.h"
#include "core/util/files.h"
#include "tests/deploy/secret_service.h"
#include "tests/deploy/ssh_server.h"
#include "tests/tests_common.h"
#include "ui/devices_panel.h"
#include "ui/jobs.h"
#include "ui/keychain_store.h"

using namespace edgetune;
using namespace edgetune::ui;
namespace fs = std::filesystem;

namespace {
const std::string kSecret = "correct-horse-battery-staple-7f3a";  // never in a file, never in a message

// True if any file under `dir` contains `needle`.
bool anyFileContains(const fs::path& dir, const std::string& needle) {
  if (!fs::exists(dir)) return false;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find(needle) != std::string::npos) return true;
  }
  return false;
}

fs::path demoModel() {
  return fs::path(EDGETUNE_SOURCE_DIR) / "resources" / "models" / "resnet20_fmnist.onnx";
}
}  // namespace

class TestUiDeploy : public QObject {
  Q_OBJECT
  std::unique_ptr<test::TempDir> tmp_;
  std::unique_ptr<test::SshServer> server_;
  std::unique_ptr<test::SecretService> secret_service_;
  fs::path known_hosts_, remote_root_;
  QString ssh_skip_;

  // A panel on the test's files; the host-key question is answered `trust` and recorded.
  struct Fixture {
    JobManager jobs;
    DevicesPanel panel;
    int host_prompts = 0;
    QString prompted_host, prompted_fingerprint;
    Fixture(const TestUiDeploy& t, bool trust, deploy::SecretStore* secrets = nullptr)
        : panel(&jobs, secrets) {
      panel.setDeviceStoreFile(QString::fromStdString((t.tmp_->path() / "devices.json").string()));
      panel.setRunnerDirs({QString(EDGETUNE_BINARY_DIR) + "/bin"});
      panel.setRemoteRoot(QString::fromStdString(t.remote_root_.string()));
      panel.setConnectTimeoutMs(10000);
      panel.setHostKeyPrompt([this, trust](const QString& host, const QString& fingerprint) {
        ++host_prompts;
        prompted_host = host;
        prompted_fingerprint = fingerprint;
        return trust;
      });
      panel.setPasswordPrompt([](const QString&, bool*) -> std::optional<QString> {
        QTest::qFail("unexpected password prompt", __FILE__, __LINE__);
        return std::nullopt;
      });
    }
    ~Fixture() { jobs.cancelAllAndWait(); }
    // Runs the job the panel started and returns its finish: ok + the panel's status line.
    bool waitTest() {
      QSignalSpy done(&panel, &DevicesPanel::connectionTested);
      if (!panel.testConnection()) return false;
      if (!QTest::qWaitFor([&] { return done.count() == 1; }, 60000)) return false;
      return done.at(0).at(1).toBool();
    }
  };

  deploy::Device loopback(const std::string& name = "loopback", const fs::path& known_hosts = {}) const {
    deploy::Device d = server_->device(known_hosts.empty() ? known_hosts_ : known_hosts);
    d.name = name;
    return d;
  }

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("EdgeTuneTests");
    QCoreApplication::setApplicationName("test_ui_deploy");
    tmp_ = std::make_unique<test::TempDir>();
    // Nothing of the user's: EdgeTune's config folder and QSettings go into the temporary folder.
    qputenv("EDGETUNE_CONFIG_DIR", QByteArray::fromStdString((tmp_->path() / "edgetune-config").string()));
    qputenv("XDG_CONFIG_HOME", QByteArray::fromStdString((tmp_->path() / "xdg-config").string()));
    known_hosts_ = tmp_->path() / "known_hosts";
    remote_root_ = tmp_->path() / "device-home" / "edgetune";
    ssh_skip_ = QString::fromStdString(test::SshServer::skipReason());
    if (ssh_skip_.isEmpty()) {
      server_ = std::make_unique<test::SshServer>(tmp_->path() / "sshd");
      server_->start();
    }
  }
  void cleanupTestCase() {
    server_.reset();
    secret_service_.reset();
  }

  // ---- keychain without a keychain: must come before the Secret Service starts (same process) ----
  void keychainUnavailableStoresNothing() {
    qunsetenv("DBUS_SESSION_BUS_ADDRESS");
    const fs::path no_runtime = tmp_->path() / "no-runtime";
    fs::create_directories(no_runtime);
    qputenv("XDG_RUNTIME_DIR", QByteArray::fromStdString(no_runtime.string()));
    KeychainSecretStore keychain("EdgeTuneTest", std::chrono::seconds(10));
    QString why;
    QVERIFY(!keychain.available(&why));
    QVERIFY2(why.contains("keychain is not available"), qPrintable(why));
    qInfo("keychain unavailable: %s", qPrintable(why));
    const std::string error = test::errorOf([&] { keychain.store("edgetune/device/pi/password", kSecret); });
    qInfo("store without keychain: %s", error.c_str());
    QVERIFY2(test::contains(error, "was not saved") && test::contains(error, "plain text"), error.c_str());
    QVERIFY(!test::contains(error, kSecret));
    QVERIFY(!test::errorOf([&] { keychain.load("edgetune/device/pi/password"); }).empty());
    // No plain-text fallback anywhere: not in QSettings' folder, not in EdgeTune's, not in the temp tree.
    QVERIFY(!anyFileContains(tmp_->path(), kSecret));
    const QString home_config = QDir::homePath() + "/.config/EdgeTuneTests";
    QVERIFY(!anyFileContains(home_config.toStdString(), kSecret));
  }

  void keychainRoundTripWithSecretService() {
    const std::string why = test::SecretService::skipReason();
    if (!why.empty()) QSKIP(why.c_str());
    secret_service_ = std::make_unique<test::SecretService>(tmp_->path() / "keyring");
    KeychainSecretStore keychain("EdgeTuneTest", std::chrono::seconds(20));
    QString reason;
    QVERIFY2(keychain.available(&reason), qPrintable(reason));
    const std::string key = "edgetune/device/roundtrip/password";
    QVERIFY(!keychain.load(key).has_value());
    keychain.store(key, kSecret);
    QCOMPARE(keychain.load(key).value_or(""), kSecret);
    keychain.store(key, kSecret + "-2");  // overwrite
    QCOMPARE(keychain.load(key).value_or(""), kSecret + "-2");
    keychain.erase(key);
    QVERIFY(!keychain.load(key).has_value());
    keychain.erase(key);  // erasing what is not there is fine
    // The keyring file is encrypted: the secret is in no file under the test folder.
    keychain.store(key, kSecret);
    QVERIFY(!anyFileContains(tmp_->path(), kSecret));
    keychain.erase(key);
  }

  // ---- the panel over SSH ----
  void addDeviceAndTestConnection() {
    if (!ssh_skip_.isEmpty()) QSKIP(qPrintable(ssh_skip_));
    Fixture f(*this, /*trust=*/true);
    QVERIFY(f.panel.deviceNames().isEmpty());
    QVERIFY(f.panel.addDevice(loopback()));
    QCOMPARE(f.panel.deviceNames(), QStringList{"loopback"});
    QCOMPARE(f.panel.selectedDevice(), QString("loopback"));
    // Same name again is refused with the store's message; a bad device never reaches the file.
    QVERIFY(!f.panel.addDevice(loopback()));
    QVERIFY2(f.panel.statusIsError() && f.panel.statusText().contains("loopback"),
             qPrintable(f.panel.statusText()));
    deploy::Device bad = loopback("bad name!");
    QVERIFY(!f.panel.addDevice(bad));
    QCOMPARE(f.panel.deviceNames(), QStringList{"loopback"});

    QVERIFY(f.waitTest());
    QCOMPARE(f.host_prompts, 1);
    QCOMPARE(f.prompted_fingerprint.toStdString(), server_->hostKeyFingerprint());
    QVERIFY2(f.prompted_host.startsWith("127.0.0.1:" + QString::number(server_->port())),
             qPrintable(f.prompted_host));
    const auto& info = f.panel.lastDeviceInfo();
    QVERIFY(info.has_value());
    QCOMPARE(info->arch, std::string("x86_64"));
    QVERIFY(info->cores > 0 && info->ram_bytes > 0);
    std::string cpuinfo;
    test::runLocal("grep -m1 -c ' avx2' /proc/cpuinfo", &cpuinfo);
    QCOMPARE(info->avx2, cpuinfo.rfind("1", 0) == 0);
    const QString shown = f.panel.deviceInfoText();
    QVERIFY2(shown.contains(QString::fromStdString(info->os_name)) && shown.contains("x86_64") &&
                 shown.contains(QString::fromStdString(server_->hostKeyFingerprint())),
             qPrintable(shown));
    QVERIFY(!f.panel.statusIsError());

    // Known now: a second test asks nothing.
    QVERIFY(f.waitTest());
    QCOMPARE(f.host_prompts, 1);
  }

  void declinedHostKeyIsNotTrusted() {
    if (!ssh_skip_.isEmpty()) QSKIP(qPrintable(ssh_skip_));
    Fixture f(*this, /*trust=*/false);
    const fs::path fresh = tmp_->path() / "declined_known_hosts";
    QVERIFY(f.panel.addDevice(loopback("declined", fresh)));
    QVERIFY(!f.waitTest());
    QCOMPARE(f.host_prompts, 1);
    QVERIFY2(f.panel.statusIsError() && f.panel.statusText().contains("not accepted"),
             qPrintable(f.panel.statusText()));
    QVERIFY(!fs::exists(fresh) || fs::file_size(fresh) == 0);
    QVERIFY(f.panel.removeDevice("declined"));
  }

  void closedPortIsOneClearMessage() {
    if (!ssh_skip_.isEmpty()) QSKIP(qPrintable(ssh_skip_));
    Fixture f(*this, true);
    deploy::Device d = loopback("closed");
    d.port = server_->port() == 65000 ? 65001 : 65000;
    QVERIFY(f.panel.addDevice(d));
    QVERIFY(!f.waitTest());
    QVERIFY2(f.panel.statusText().contains("cannot connect") && f.panel.statusText().contains("closed"),
             qPrintable(f.panel.statusText()));
    QVERIFY(f.panel.removeDevice("closed"));
  }

  // A host that accepts the connection and never speaks SSH: the test gives up after the timeout, counting
  // the seconds meanwhile, with one clear message. Runs without the SSH server (a silent TCP listener).
  void silentHostTimesOutWithProgress() {
    JobManager jobs;
    DevicesPanel panel(&jobs);
    QCOMPARE(panel.connectTimeoutMs(), 10000);  // the studio's default
    panel.setDeviceStoreFile(QString::fromStdString((tmp_->path() / "silent-devices.json").string()));
    panel.setConnectTimeoutMs(2000);
    // Listening is enough: the kernel completes the handshake into the backlog, and nothing ever answers.
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    QVERIFY(listener >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    QVERIFY(::bind(listener, reinterpret_cast<sockaddr*>(&address), length) == 0);
    QVERIFY(::listen(listener, 4) == 0);
    QVERIFY(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    const auto close_listener = qScopeGuard([listener] { ::close(listener); });
    deploy::Device d;
    d.name = "silent";
    d.host = "127.0.0.1";
    d.port = ntohs(address.sin_port);
    d.user = "nobody";
    QVERIFY2(panel.addDevice(d), qPrintable(panel.statusText()));
    QSignalSpy done(&panel, &DevicesPanel::connectionTested);
    QVERIFY(panel.testConnection());
    QTRY_VERIFY_WITH_TIMEOUT(panel.statusText().contains("gives up after 2 s"), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 60000);
    QCOMPARE(done.at(0).at(1).toBool(), false);
    QVERIFY2(panel.statusText().startsWith("silent: ") && !panel.statusText().contains('\n'),
             qPrintable(panel.statusText()));
    jobs.cancelAllAndWait();
  }

  void deployWithBenchmarkAndProfile() {
    if (!ssh_skip_.isEmpty()) QSKIP(qPrintable(ssh_skip_));
    Fixture f(*this, true);
    f.panel.selectDevice("loopback");
    QCOMPARE(f.panel.selectedDevice(), QString("loopback"));
    QVERIFY(!f.panel.deploySelected());  // no model yet
    QVERIFY(f.panel.statusText().contains("no model"));
    f.panel.setModel(QString::fromStdString(demoModel().string()), "ResNet-20 / pruned 30%");
    f.panel.setBenchmarkEnabled(true);
    f.panel.setBenchmarkThreads("1,x");
    QVERIFY(!f.panel.deploySelected());  // bad thread list: refused before connecting
    QVERIFY2(f.panel.statusText().contains("'x'"), qPrintable(f.panel.statusText()));
    f.panel.setBenchmarkThreads("1,2");
    f.panel.setBenchmarkRuns(5);
    f.panel.setProfileEnabled(true);

    QSignalSpy ready(&f.panel, &DevicesPanel::benchmarkReady);
    QSignalSpy finished(&f.panel, &DevicesPanel::deployFinished);
    QVector<double> progress;
    JobHandle* job = f.panel.deploySelected();
    QVERIFY(job);
    QVERIFY(f.panel.busy());
    connect(job, &JobHandle::progressChanged, this,
            [&](double fraction, const QString&, double) { progress << fraction; });
    QVERIFY(finished.wait(180000) || finished.count() == 1);
    QVERIFY2(finished.at(0).at(1).toBool(), qPrintable(finished.at(0).at(2).toString()));
    QCOMPARE(ready.count(), 1);
    QCOMPARE(ready.at(0).at(0).toString(), QString("loopback"));
    QVERIFY(!progress.isEmpty());

    // The model arrived intact in <root>/models/<label made safe>/ (fileNameFrom: "ResNet-20 (pruned 30%)" ->
    // each run of other characters one '_', none trailing).
    const fs::path arrived = remote_root_ / "models" / "ResNet-20_pruned_30" / "resnet20_fmnist.onnx";
    QVERIFY2(fs::exists(arrived), arrived.c_str());
    QCOMPARE(deploy::sha256File(arrived), deploy::sha256File(demoModel()));

    // The JSON parses back; both thread counts measured; the table shows them.
    const auto json = ready.at(0).at(1).value<nlohmann::json>();
    const deploy::DeviceBenchmark bench =
        deploy::DeviceBenchmark::fromJson(nlohmann::json::parse(json.dump()));
    QCOMPARE(bench.device, std::string("loopback"));
    QCOMPARE(bench.latency.size(), size_t{2});
    QCOMPARE(bench.latency[0].threads, 1);
    QCOMPARE(bench.latency[1].threads, 2);
    QVERIFY(bench.latency[0].median_ms > 0);
    QCOMPARE(f.panel.benchmarkTable()->rowCount(), 2);
    QCOMPARE(f.panel.benchmarkTable()->item(1, 0)->text(), QString("2"));
    QVERIFY(!bench.profile.empty());
    QVERIFY(f.panel.profileTable()->rowCount() > 0);

    if (qEnvironmentVariableIsSet("EDGETUNE_SHOT_DIR")) {  // a look at the panel, by hand
      f.panel.resize(640, 820);
      f.panel.grab().save(qEnvironmentVariable("EDGETUNE_SHOT_DIR") + "/devices_panel.png");
    }
    // The overlay on this real profile: every Conv has a share, shares sum to about 1.
    const Model model = Model::load(demoModel());
    const std::vector<double> share = deploy::deviceLatencyShare(model, bench);
    QCOMPARE(share.size(), static_cast<size_t>(model.graph().node_size()));
    double sum = 0;
    int convs = 0, conv_shares = 0;
    for (int i = 0; i < model.graph().node_size(); ++i) {
      if (!std::isnan(share[i])) {
        QVERIFY(share[i] >= 0 && share[i] <= 1);
        sum += share[i];
      }
      if (model.graph().node(i).op_type() == "Conv") {
        ++convs;
        conv_shares += std::isnan(share[i]) ? 0 : 1;
      }
    }
    const deploy::ProfileMatch match = deploy::matchProfile(model, bench.profile);
    QString unmatched;
    for (const auto& u : match.unmatched) unmatched += QString::fromStdString(u) + " ";
    qInfo(
        "overlay: %d of %d nodes have a share, sum %.4f; unmatched profile entries: %s",
        static_cast<int>(std::count_if(share.begin(), share.end(), [](double s) { return !std::isnan(s); })),
        model.graph().node_size(), sum, qPrintable(unmatched));
    QVERIFY2(sum > 0.95 && sum <= 1.0 + 1e-9,
             qPrintable(QString("sum %1, unmatched: %2").arg(sum).arg(unmatched)));
    QVERIFY2(conv_shares == convs,
             qPrintable(QString("%1 of %2 convs, unmatched: %3").arg(conv_shares).arg(convs).arg(unmatched)));
  }

  void keyPassphraseIsAskedThroughThePrompt() {
    if (!ssh_skip_.isEmpty()) QSKIP(qPrintable(ssh_skip_));
    const fs::path key = server_->dir() / "locked_key";
    if (!fs::exists(key)) {
      QCOMPARE(
          test::runLocal("ssh-keygen -q -t ed25519 -N 'open sesame' -f '" + key.string() + "' </dev/null"),
          0);
      std::ofstream(server_->dir() / "authorized_keys", std::ios::app) << readFile(key.string() + ".pub");
    }
    Fixture f(*this, true);
    QVERIFY(f.panel.addDevice(loopback("locked"), true));
    deploy::Device d = loopback("locked");
    d.key_file = key;
    QVERIFY(f.panel.addDevice(d, true));
    int asked = 0;
    QString seen;
    std::optional<QString> answer = QString("open sesame");
    f.panel.setPasswordPrompt([&](const QString& prompt, bool* remember) {
      ++asked;
      seen = prompt;
      if (remember) *remember = true;  // a key passphrase is never kept, even when asked to
      return answer;
    });
    QVERIFY2(f.waitTest(), qPrintable(f.panel.statusText()));
    QCOMPARE(asked, 1);
    QVERIFY2(seen.contains("Passphrase") && seen.contains("locked_key"), qPrintable(seen));
    QVERIFY(!f.panel.statusText().contains("open sesame"));
    // Declined: one clear message, no connection.
    answer.reset();
    QVERIFY(!f.waitTest());
    QVERIFY2(f.panel.statusText().contains("cannot read the private key"), qPrintable(f.panel.statusText()));
    QVERIFY(f.panel.removeDevice("locked"));
  }

  void passwordFromKeychainThenPrompt() {
    if (!ssh_skip_.isEmpty()) QSKIP(qPrintable(ssh_skip_));
    if (!secret_service_) QSKIP("no Secret Service in this test run");
    KeychainSecretStore keychain("EdgeTuneTest", std::chrono::seconds(20));
    Fixture f(*this, true, &keychain);
    deploy::Device d = loopback("withpassword");
    d.auth = deploy::AuthMethod::Password;
    d.key_file.clear();
    QVERIFY(f.panel.addDevice(d));
    int asked = 0;
    f.panel.setPasswordPrompt([&](const QString&, bool* remember) -> std::optional<QString> {
      ++asked;
      if (!remember) QTest::qFail("the keep-in-keychain question is not offered", __FILE__, __LINE__);
      if (remember) *remember = true;
      return QString::fromStdString(kSecret);
    });
    // A saved password is used without asking (this sshd refuses passwords, so the login itself fails).
    keychain.store(deploy::passwordSecretKey(d), "saved-" + kSecret);
    QVERIFY(!f.waitTest());
    QCOMPARE(asked, 0);
    QVERIFY2(f.panel.statusText().contains("authentication by password was refused"),
             qPrintable(f.panel.statusText()));
    // Nothing saved: the prompt asks; a password that did not log in is not kept.
    keychain.erase(deploy::passwordSecretKey(d));
    QVERIFY(!f.waitTest());
    QCOMPARE(asked, 1);
    QVERIFY(!keychain.load(deploy::passwordSecretKey(d)).has_value());
    QVERIFY(!f.panel.statusText().contains(QString::fromStdString(kSecret)));
    QVERIFY(!anyFileContains(tmp_->path(), kSecret));
    // Removing the device removes its saved password.
    keychain.store(deploy::passwordSecretKey(d), "saved-" + kSecret);
    QVERIFY(f.panel.removeDevice("withpassword"));
    QVERIFY(!keychain.load(deploy::passwordSecretKey(d)).has_value());
  }

  void deviceFormValidates() {
    DeviceForm form;
    form.nameEdit()->setText("pi5");
    form.hostEdit()->setText("192.168.1.20");
    form.portSpin()->setValue(2222);
    form.userEdit()->setText("pi");
    form.authCombo()->setCurrentIndex(form.authCombo()->findData("key"));
    form.keyFileEdit()->setText("/home/pi/.ssh/id_ed25519");
    const deploy::Device d = form.device();
    QCOMPARE(d.port, 2222);
    QVERIFY(d.auth == deploy::AuthMethod::Key);
    QCOMPARE(d.key_file.string(), std::string("/home/pi/.ssh/id_ed25519"));
    form.hostEdit()->setText("-oProxyCommand=evil");  // would become an ssh option
    form.accept();
    QVERIFY2(!form.errorText().isEmpty(), "a bad host keeps the form open with a message");
    QCOMPARE(form.result(), int(QDialog::Rejected));
  }

  // Runs last: the server comes back with a different host key.
  void changedHostKeyIsRefused() {
    if (!ssh_skip_.isEmpty()) QSKIP(qPrintable(ssh_skip_));
    server_->start("other_host_key");
    Fixture f(*this, true);
    f.panel.selectDevice("loopback");
    QVERIFY(!f.waitTest());
    QCOMPARE(f.host_prompts, 0);  // never offered as a new key
    const QString status = f.panel.statusText();
    QVERIFY2(f.panel.statusIsError() && status.contains("REFUSED") && status.contains("CHANGED") &&
                 status.contains(QString::fromStdString(server_->fingerprintOf("other_host_key"))),
             qPrintable(status));
    // Deploying is refused the same way.
    f.panel.setModel(QString::fromStdString(demoModel().string()), "resnet20");
    QSignalSpy finished(&f.panel, &DevicesPanel::deployFinished);
    QVERIFY(f.panel.deploySelected());
    QVERIFY(finished.wait(60000) || finished.count() == 1);
    QVERIFY(!finished.at(0).at(1).toBool());
    QVERIFY(finished.at(0).at(2).toString().contains("CHANGED"));
    server_->start("host_key");
  }
};

QTEST_MAIN(TestUiDeploy)
#include "test_ui_deploy.moc"
