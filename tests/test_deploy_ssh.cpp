// Deploy over a REAL OpenSSH server on 127.0.0.1 (own keys, random port): key login and first-contact host
// keys, refusal of a changed host key, verified uploads, a connection killed mid-upload, the x86-64 runner
// executed remotely and its JSON parsed. Skipped (with the reason) unless run as root with /usr/sbin/sshd.
#include <QtTest>

#include <fstream>
#include <random>

#include "core/data/dataset.h"
#include "core/deploy/deploy.h"
#include "core/deploy/device_info.h"
#include "core/deploy/sha256.h"
#include "core/deploy/shell.h"
#include "core/deploy/ssh_session.h"
#include "core/ir/model.h"
#include "core/runtime/executor.h"
#include "core/util/files.h"
#include "core/zoo/zoo.h"
#include "tests/deploy/ssh_server.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::deploy;
namespace fs = std::filesystem;

namespace {
ConnectOptions trustOnFirstUse(int* prompts = nullptr, HostKeyInfo* seen = nullptr) {
  ConnectOptions o;
  o.timeout = std::chrono::seconds(10);
  o.confirm_host_key = [prompts, seen](const HostKeyInfo& info) {
    if (prompts) ++*prompts;
    if (seen) *seen = info;
    return true;
  };
  return o;
}

void writeRandomFile(const fs::path& path, size_t bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string data(bytes, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  std::ofstream(path, std::ios::binary) << data;
}

std::string contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos ? "" : "'" + needle + "' not in: " + haystack;
}
}  // namespace

class TestDeploySsh : public QObject {
  Q_OBJECT
  std::unique_ptr<test::TempDir> tmp_;
  std::unique_ptr<test::SshServer> server_;
  fs::path known_hosts_;
  fs::path remote_root_;  // the "device" folder (same machine, so the test can look at it directly)
  fs::path model_;

  std::unique_ptr<SshSession> connect() {
    return SshSession::connect(server_->device(known_hosts_), trustOnFirstUse());
  }
  DeployOptions options(const std::string& name, int retries = 0) const {
    DeployOptions o;
    o.model_name = name;
    o.remote_root = remote_root_.string();
    o.retries = retries;
    return o;
  }

 private slots:
  void initTestCase() {
    const std::string why = test::SshServer::skipReason();
    if (!why.empty()) QSKIP(why.c_str());
    tmp_ = std::make_unique<test::TempDir>();
    server_ = std::make_unique<test::SshServer>(tmp_->path() / "sshd");
    server_->start();
    known_hosts_ = tmp_->path() / "known_hosts";
    remote_root_ = tmp_->path() / "device-home" / "edgetune";
    zoo::MlpOptions mlp;
    mlp.hidden_sizes = {32};
    model_ = tmp_->path() / "mlp.onnx";
    zoo::buildMlp(mlp).save(model_);
    std::ofstream(tmp_->path() / "labels.txt") << "t-shirt\ntrouser\n";
  }
  void cleanupTestCase() { server_.reset(); }

  void keyLoginAndFirstContact() {
    int prompts = 0;
    HostKeyInfo seen;
    auto session = SshSession::connect(server_->device(known_hosts_), trustOnFirstUse(&prompts, &seen));
    QCOMPARE(prompts, 1);
    QCOMPARE(seen.fingerprint_sha256, server_->hostKeyFingerprint());  // what ssh-keygen -l says
    QCOMPARE(seen.key_type, std::string("ssh-ed25519"));
    QCOMPARE(seen.port, server_->port());
    QVERIFY(test::runLocal("grep -q '\\[127.0.0.1\\]:" + std::to_string(server_->port()) + "' '" +
                           known_hosts_.string() + "'") == 0);
    const ExecResult hello = session->exec("echo hello; echo oops >&2; exit 3");
    QCOMPARE(hello.out, std::string("hello\n"));
    QCOMPARE(hello.err, std::string("oops\n"));
    QCOMPARE(hello.exit_code, 3);
    // Known now: no second prompt (a prompt would fail the login, as the callback refuses).
    ConnectOptions strict;
    strict.confirm_host_key = [](const HostKeyInfo&) { return false; };
    auto again = SshSession::connect(server_->device(known_hosts_), strict);
    QCOMPARE(again->exec("whoami").out, std::string("root\n"));
  }

  // A real ssh-agent (its own socket) holding the client key: agent auth logs in through it, and is refused
  // once the agent no longer holds the key (the default identities in ~/.ssh are not in this server's
  // authorized_keys).
  void agentLogin() {
    if (test::runLocal("command -v ssh-agent && command -v ssh-add") != 0)
      QSKIP("ssh-agent / ssh-add not installed");
    const fs::path sock = tmp_->path() / "agent.sock";
    std::string env;
    QCOMPARE(test::runLocal("ssh-agent -s -a '" + sock.string() + "'", &env), 0);
    const size_t at = env.find("SSH_AGENT_PID=");
    QVERIFY2(at != std::string::npos, env.c_str());
    const std::string pid = env.substr(at + 14, env.find(';', at) - at - 14);
    struct AgentGuard {
      std::string pid;
      std::string old_sock;
      bool had_sock;
      ~AgentGuard() {
        test::runLocal("kill " + pid + " 2>/dev/null");
        if (had_sock)
          setenv("SSH_AUTH_SOCK", old_sock.c_str(), 1);
        else
          unsetenv("SSH_AUTH_SOCK");
      }
    } guard{pid, getenv("SSH_AUTH_SOCK") ? getenv("SSH_AUTH_SOCK") : "", getenv("SSH_AUTH_SOCK") != nullptr};
    const std::string key = server_->device(known_hosts_).key_file.string();
    QCOMPARE(test::runLocal("SSH_AUTH_SOCK='" + sock.string() + "' ssh-add -q '" + key + "' 2>&1"), 0);
    setenv("SSH_AUTH_SOCK", sock.c_str(), 1);
    deploy::Device d = server_->device(known_hosts_);
    d.auth = AuthMethod::Agent;
    d.key_file.clear();
    auto session = SshSession::connect(d, trustOnFirstUse());
    QCOMPARE(session->exec("echo via-agent").out, std::string("via-agent\n"));
    session.reset();
    QCOMPARE(test::runLocal("SSH_AUTH_SOCK='" + sock.string() + "' ssh-add -q -D 2>&1"), 0);
    try {
      SshSession::connect(d, trustOnFirstUse());
      QFAIL("logged in through an agent that holds no key");
    } catch (const Error& e) {
      QVERIFY2(contains(e.what(), "refused").empty(), e.what());
    }
  }

  void declinedHostKeyIsNotStored() {
    const fs::path fresh = tmp_->path() / "fresh_known_hosts";
    ConnectOptions decline;
    decline.confirm_host_key = [](const HostKeyInfo&) { return false; };
    try {
      SshSession::connect(server_->device(fresh), decline);
      QFAIL("connected although the host key was declined");
    } catch (const Error& e) {
      QVERIFY2(contains(e.what(), "was not accepted").empty(), e.what());
    }
    QVERIFY(!fs::exists(fresh) || fs::file_size(fresh) == 0);
  }

  void unknownClientKeyRefused() {
    try {
      SshSession::connect(server_->device(known_hosts_, "stranger_key"), trustOnFirstUse());
      QFAIL("logged in with a key that is not in authorized_keys");
    } catch (const Error& e) {
      QVERIFY2(contains(e.what(), "authentication by key was refused").empty(), e.what());
    }
  }

  // Password login against a real account the test creates (it runs as root, as sshd needs): the password
  // is asked once through the callback and never stored; a wrong one is refused with the account named.
  void passwordLogin() {
    if (test::runLocal("command -v useradd && command -v chpasswd && command -v userdel") != 0)
      QSKIP("useradd / chpasswd / userdel are missing (Debian package passwd)");
    const std::string user = "edgetune-ssh-pw";
    test::runLocal("userdel --remove " + user +
                   " >/dev/null 2>&1");  // a previous run killed before its clean-up
    QCOMPARE(test::runLocal("useradd --create-home --shell /bin/sh " + user + " >/dev/null 2>&1"), 0);
    struct AccountGuard {
      std::string user;
      ~AccountGuard() { test::runLocal("userdel --remove " + user + " >/dev/null 2>&1"); }
    } guard{user};
    const std::string password = "Et-" + std::to_string(std::random_device{}()) + "-pw";
    QCOMPARE(test::runLocal("echo '" + user + ":" + password + "' | chpasswd"), 0);

    Device device = server_->device(known_hosts_);
    device.user = user;
    device.auth = AuthMethod::Password;
    device.key_file.clear();
    ConnectOptions options = trustOnFirstUse();
    std::vector<std::string> prompts;
    options.ask_secret = [&](const std::string& prompt) -> std::optional<std::string> {
      prompts.push_back(prompt);
      return password;
    };
    auto session = SshSession::connect(device, options);
    QCOMPARE(session->exec("whoami").out, user + "\n");
    QCOMPARE(prompts, (std::vector<std::string>{"Password for " + user + "@127.0.0.1: "}));

    options.ask_secret = [](const std::string&) { return std::optional<std::string>("not the password"); };
    std::string msg = test::errorOf([&] { SshSession::connect(device, options); });
    QVERIFY2(contains(msg, user + "@127.0.0.1").empty(), msg.c_str());
    QVERIFY2(contains(msg, "authentication by password was refused").empty(), msg.c_str());
    options.ask_secret = [](const std::string&) { return std::nullopt; };  // the user declined to answer
    msg = test::errorOf([&] { SshSession::connect(device, options); });
    QVERIFY2(contains(msg, "password login needs a password and none was given").empty(), msg.c_str());
  }

  void commandTimesOut() {
    auto session = connect();
    try {
      session->exec("sleep 5", std::chrono::milliseconds(300));
      QFAIL("no timeout");
    } catch (const ConnectionError& e) {
      QVERIFY2(contains(e.what(), "did not finish within 0.3 s").empty(), e.what());
    }
  }

  void probeReportsThisMachine() {
    auto session = connect();
    const DeviceInfo info = probeDevice(*session, remote_root_.string());
    QCOMPARE(info.arch, std::string("x86_64"));
    QCOMPARE(info.cores, static_cast<int>(std::thread::hardware_concurrency()));
    QVERIFY(info.ram_bytes > int64_t{1} << 28);
    std::string cpuinfo;
    test::runLocal("grep -m1 '^flags' /proc/cpuinfo", &cpuinfo);
    QCOMPARE(info.avx2, cpuinfo.find(" avx2") != std::string::npos);
    QCOMPARE(info.avx512_vnni, cpuinfo.find(" avx512_vnni") != std::string::npos);
    QVERIFY(!info.neon);
    QVERIFY(!info.cpu_model.empty());
    QVERIFY(!info.os_name.empty());
  }

  void uploadWithChecksum() {
    auto session = connect();
    JobContext job;
    DeployResult r = deployModel(*session, model_, options("mlp"), &job);
    const fs::path dir = remote_root_ / "models" / "mlp";
    QCOMPARE(r.remote_dir, dir.string());
    QCOMPARE(r.files.size(), size_t{2});  // the model and labels.txt beside it
    QCOMPARE(readFile(dir / "mlp.onnx"), readFile(model_));
    QCOMPARE(readFile(dir / "labels.txt"), readFile(tmp_->path() / "labels.txt"));
    QCOMPARE(r.files[0].sha256, sha256File(model_));
    QVERIFY(!r.files[0].unchanged);
    QVERIFY(!fs::exists(dir / "mlp.onnx.edgetune-partial"));
    // Deploying the same bytes again sends nothing.
    DeployResult again = deployModel(*session, model_, options("mlp"), &job);
    QVERIFY(again.files[0].unchanged);
  }

  void connectionKilledMidUpload() {
    const fs::path big = tmp_->path() / "big.onnx";
    writeRandomFile(big, 6 << 20, 7);
    const fs::path final_path = remote_root_ / "models" / "big" / "big.onnx";
    auto session = connect();
    bool killed = false;
    auto killAtAThird = [&](const Progress& p) {
      if (!killed && p.fraction > 0.3) {
        killed = true;
        server_->killSessions();
      }
    };
    {
      JobContext job(killAtAThird, std::chrono::milliseconds(0));
      try {
        deployFiles(*session, {big}, options("big", /*retries=*/0), &job);
        QFAIL("the upload survived a killed connection");
      } catch (const ConnectionError& e) {
        QVERIFY(killed);
        QVERIFY2(contains(e.what(), "connection was lost").empty(), e.what());
        QVERIFY2(contains(e.what(), "Nothing was written to " + final_path.string()).empty(), e.what());
      }
      QVERIFY(!fs::exists(final_path));
    }
    // Retrying by hand over a new connection succeeds.
    session->reconnect();
    DeployResult ok = deployFiles(*session, {big}, options("big", 0));
    QCOMPARE(sha256File(final_path), sha256File(big));
    QVERIFY(!fs::exists(final_path.string() + ".edgetune-partial"));
    QCOMPARE(ok.attempts, 1);

    // With retries the deploy reconnects by itself.
    const fs::path big2 = tmp_->path() / "big2.onnx";
    writeRandomFile(big2, 6 << 20, 8);
    killed = false;
    JobContext job(killAtAThird, std::chrono::milliseconds(0));
    DeployResult retried = deployFiles(*session, {big2}, options("big", /*retries=*/2), &job);
    QVERIFY(killed);
    QCOMPARE(retried.attempts, 2);
    QCOMPARE(sha256File(remote_root_ / "models" / "big" / "big2.onnx"), sha256File(big2));
  }

  void runnerRunsRemotely() {
    const auto runners = findRunners({fs::path(EDGETUNE_BINARY_DIR) / "bin"});
    if (!runners.count("x86_64")) QFAIL("edgetune-runner was not built in " EDGETUNE_BINARY_DIR "/bin");
    auto session = connect();
    DeployOptions o = options("mlp");
    const std::string runner = ensureRunner(*session, runners, o);
    QCOMPARE(runner, (remote_root_ / "runner" / "edgetune-runner").string());
    QCOMPARE(sha256File(runner), sha256File(runners.at("x86_64").runner));
    QVERIFY(probeDevice(*session, remote_root_.string()).hasRunner());
    const DeployResult deployed = deployModel(*session, model_, o);

    // 40 Fashion-MNIST test images as the evaluation subset; the host computes the same predictions.
    auto dataset = openDataset("fashion-mnist");
    const fs::path eval = tmp_->path() / "eval.bin";
    QCOMPARE(writeEvalSubset(*dataset, 40, 3, eval), size_t{40});
    uploadVerified(*session, eval, deployed.remote_dir, "eval.bin", o);

    RemoteBenchOptions bench;
    bench.threads = {1, 2};
    bench.runs = 5;
    bench.warmup = 1;
    bench.profile = true;
    bench.eval_remote_path = remoteJoin(deployed.remote_dir, "eval.bin");
    const DeviceBenchmark result =
        runRemoteBenchmark(*session, runner, remoteJoin(deployed.remote_dir, "mlp.onnx"), bench);
    QCOMPARE(result.device, std::string("loopback"));
    QCOMPARE(result.arch, std::string("x86_64"));
    QCOMPARE(result.latency.size(), size_t{2});
    QCOMPARE(result.latency[1].threads, 2);
    QCOMPARE(result.latency[0].runs, 5);
    QVERIFY(result.latency[0].median_ms > 0 && result.latency[0].min_ms <= result.latency[0].median_ms);
    QVERIFY(result.latency[0].median_ms <= result.latency[0].p90_ms);
    QVERIFY(result.peak_rss_bytes > 1 << 20);
    QVERIFY(!result.profile.empty());
    bool gemm = false;
    for (const auto& n : result.profile) gemm = gemm || n.op.find("Gemm") != std::string::npos;
    QVERIFY(gemm);
    QVERIFY(result.accuracy.has_value());
    QCOMPARE(result.accuracy->examples, int64_t{40});

    // Host-side predictions on the same 40 examples (the one seeded subset, as evaluate --limit 40 --seed 3
    // picks them) must agree exactly.
    auto executor = makeOrtExecutor(Model::load(model_));
    const std::vector<size_t> idx = seededSubset(dataset->size(), 40, 3);
    int64_t correct = 0;
    for (size_t i : idx) {
      std::vector<size_t> one{i};
      Batch batch = makeBatch(*dataset, one);
      const int64_t label = batch.labels[0];
      auto out = executor->run(bindInputs(executor->inputs(), std::move(batch), dataset->name()));
      auto scores = out[0].values<float>();
      correct += (std::max_element(scores.begin(), scores.end()) - scores.begin()) == label;
    }
    QCOMPARE(result.accuracy->correct, correct);

    // The stored form round-trips.
    const DeviceBenchmark back = DeviceBenchmark::fromJson(result.toJson());
    QCOMPARE(back.toJson().dump(), result.toJson().dump());
  }

  void runnerErrorIsReported() {
    auto session = connect();
    const std::string runner =
        ensureRunner(*session, findRunners({fs::path(EDGETUNE_BINARY_DIR) / "bin"}), options("mlp"));
    try {
      runRemoteBenchmark(*session, runner, (remote_root_ / "models" / "nope.onnx").string(), {});
      QFAIL("a missing model was benchmarked");
    } catch (const Error& e) {
      QVERIFY2(contains(e.what(), "the device runner failed").empty(), e.what());
      QVERIFY2(contains(e.what(), "nope.onnx").empty(), e.what());
    }
  }

  void noRunnerForArchitecture() {
    auto session = connect();
    fs::remove_all(remote_root_ / "runner");
    try {
      ensureRunner(*session, {}, options("mlp"));
      QFAIL("no error without a runner build");
    } catch (const Error& e) {
      QVERIFY2(contains(e.what(), "no runner build for x86_64").empty(), e.what());
    }
  }

  // Last: it restarts the server with another host key.
  void changedHostKeyRefused() {
    connect();  // known_hosts has the original key
    server_->start("other_host_key");
    try {
      SshSession::connect(server_->device(known_hosts_), trustOnFirstUse());
      QFAIL("connected to a host whose key changed");
    } catch (const HostKeyChangedError& e) {
      const std::string m = e.what();
      QVERIFY2(contains(m, "127.0.0.1:" + std::to_string(server_->port())).empty(), e.what());
      QVERIFY2(contains(m, server_->fingerprintOf("host_key")).empty(), e.what());
      QVERIFY2(contains(m, server_->fingerprintOf("other_host_key")).empty(), e.what());
      QVERIFY2(contains(m, "CHANGED").empty(), e.what());
    }
    server_->start("host_key");
    QVERIFY(connect()->isConnected());
  }
};

QTEST_GUILESS_MAIN(TestDeploySsh)
#include "test_deploy_ssh.moc"
