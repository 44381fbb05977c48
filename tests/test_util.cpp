// The small helpers every layer shares, one of each: whole-file reads that refuse what is not a regular file
// or too large, file names made from free text, thread-count lists, node-name patterns, byte sizes as people
// read them, where the bundled resources are, and temporary files that no signal leaves behind.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QtTest>

#include <cstdlib>
#include <fstream>
#include <set>
#include <stdexcept>

#include "core/util/files.h"
#include "core/util/format.h"
#include "core/util/name_pattern.h"
#include "core/util/resources.h"
#include "core/util/temporary_file.h"
#include "core/util/thread_list.h"
#include "tests/tests_common.h"

using namespace edgetune;
namespace fs = std::filesystem;

class TestUtil : public QObject {
  Q_OBJECT
 private slots:
  // readFile serves models, vocabularies, sensitivity JSON, CSV...: a FIFO would block open() forever,
  // /dev/zero would fill memory, a file beyond the caller's cap is refused before it is read.
  void readFileRefusesWhatIsNotARegularFile() {
    test::TempDir dir;
    const fs::path fifo = dir / "vocab.txt";
    QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
    // A writer that never comes: the old readFile blocked here. O_NONBLOCK keeps this test from doing so.
    std::string err = test::errorOf([&] { readFile(fifo); });
    QVERIFY2(test::contains(err, fifo.string() + ": is a FIFO (named pipe), not a regular file"),
             err.c_str());
    err = test::errorOf([&] { readFile("/dev/zero"); });
    QVERIFY2(test::contains(err, "/dev/zero: is a character device, not a regular file"), err.c_str());
    err = test::errorOf([&] { readFile(dir.path()); });
    QVERIFY2(test::contains(err, dir.path().string() + ": is a directory"), err.c_str());
    err = test::errorOf([&] { readFile(dir / "missing.json"); });
    QVERIFY2(test::contains(err, (dir / "missing.json").string() + ": cannot open for reading"), err.c_str());
  }

  void readFileCapsTheSize() {
    test::TempDir dir;
    const fs::path file = dir / "sens.json";
    std::ofstream(file) << std::string(1000, 'x');
    QCOMPARE(readFile(file, 1000).size(), size_t{1000});
    const std::string err = test::errorOf([&] { readFile(file, 999); });
    QVERIFY2(test::contains(err, file.string() + ": is larger than 999 B"), err.c_str());
    fs::create_symlink(file, dir / "link.json");  // a symlink to a regular file is read as that file
    QCOMPARE(readFile(dir / "link.json").size(), size_t{1000});
    // /proc files say they are 0 bytes long; they are read to their end, and the cap still holds.
    QVERIFY(readFile("/proc/self/status").find("Name:") != std::string::npos);
    QVERIFY(!test::errorOf([] { readFile("/proc/self/status", 10); }).empty());
  }

  // The handler the CLI and the studio install: a process ended by SIGTERM (a `kill`) or SIGHUP (a closed
  // terminal) while it writes removes its temporary file, then dies of the signal as it would have.
  void temporaryFilesGoOnTermination() {
    test::TempDir dir;
    for (const int signal_number : {SIGTERM, SIGHUP}) {
      const pid_t child = ::fork();
      if (child == 0) {
        removeTemporariesOnTermination();
        TemporaryFile temporary(dir / "model.onnx");
        temporary.write("half a model");
        ::raise(signal_number);
        ::_exit(0);  // not reached: the handler ends the process with the signal
      }
      int status = 0;
      QCOMPARE(::waitpid(child, &status, 0), child);
      QVERIFY(WIFSIGNALED(status));
      QCOMPARE(WTERMSIG(status), signal_number);
      QVERIFY2(fs::is_empty(dir.path()), "a temporary file outlived the signal");
    }
  }

  // SIGKILL cannot be caught: the temporary stays, named with its dead PID, and the next write of the same
  // target removes it. A live process's temporary (this one's) and files that only look alike stay.
  void staleTemporariesGoWithTheNextWrite() {
    test::TempDir dir;
    const fs::path target = dir / "model.onnx";
    const pid_t child = ::fork();
    if (child == 0) {
      TemporaryFile temporary(target);
      temporary.write("half a model");
      ::raise(SIGKILL);
      ::_exit(0);
    }
    int status = 0;
    QCOMPARE(::waitpid(child, &status, 0), child);
    QVERIFY(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    const auto names = [&] {
      std::set<std::string> out;
      for (const auto& entry : fs::directory_iterator(dir.path()))
        out.insert(entry.path().filename().string());
      return out;
    };
    const std::string stale_prefix = ".model.onnx.tmp-" + std::to_string(child) + "-";
    QCOMPARE(names().size(), size_t{1});
    QVERIFY2(names().begin()->starts_with(stale_prefix), names().begin()->c_str());
    const std::string live = ".model.onnx.tmp-" + std::to_string(::getpid()) + "-1";
    std::ofstream(dir / live) << "another write of this process, in progress";
    std::ofstream(dir / ".model.onnx.tmp-notes") << "not a temporary of ours";
    writeFileAtomic(target, "a whole model");
    QCOMPARE(readFile(target), std::string("a whole model"));
    QCOMPARE(names(), (std::set<std::string>{"model.onnx", live, ".model.onnx.tmp-notes"}));
  }

  void fileNames_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain") << "resnet20-int8_v2.onnx"
                           << "resnet20-int8_v2.onnx";
    QTest::newRow("runs of others") << "distill channels 25% + int8"
                                    << "distill_channels_25_int8";
    QTest::newRow("path and dots") << "../../etc/passwd"
                                   << "etc_passwd";
    QTest::newRow("option look-alike") << "-rf /"
                                       << "rf";
    QTest::newRow("hidden") << ".bashrc"
                            << "bashrc";
    QTest::newRow("only dots") << ".."
                               << "fallback";
    QTest::newRow("nothing usable") << "%%%"
                                    << "fallback";
    QTest::newRow("empty") << ""
                           << "fallback";
    QTest::newRow("utf-8") << QString::fromUtf8("modèle réduit") << "mod_le_r_duit";
  }
  void fileNames() {
    QFETCH(QString, text);
    QFETCH(QString, expected);
    QCOMPARE(QString::fromStdString(fileNameFrom(text.toStdString(), "fallback")), expected);
  }

  void fileNamesAreBounded() {
    const std::string name = fileNameFrom(std::string(100, 'a') + " b", "x");
    QCOMPARE(name, std::string(64, 'a'));
    QCOMPARE(fileNameFrom(std::string(63, 'a') + " b", "x"), std::string(63, 'a'));  // no '_' left at the end
  }

  void threadLists() {
    QCOMPARE(parseThreadList("1,2,4"), (std::vector<int>{1, 2, 4}));
    QCOMPARE(parseThreadList(" 2 , 1 "), (std::vector<int>{2, 1}));
    QCOMPARE(parseThreadList("256"), (std::vector<int>{256}));
    // 3000 made ONNX Runtime fail to start its threads ("terminate called"); 99999999999 overflows int.
    for (const char* bad : {"", " ", "1,,2", "0", "-1", "1,x", "2.5", "1,", "257", "1,3000", "99999999999"}) {
      try {
        parseThreadList(bad);
        QFAIL(qPrintable(QString("accepted '%1'").arg(bad)));
      } catch (const std::invalid_argument& e) {
        QVERIFY2(test::contains(e.what(), "expected e.g. 1,2,4"), e.what());
      }
    }
  }

  // Node-name patterns search anywhere in the name, as std::regex_search did, in RE2's linear time; what
  // RE2 lacks (backreferences, lookaround) is refused by name, and every error names the option.
  void namePatterns() {
    const NamePattern conv("conv[0-9]+$", "--exclude");
    QVERIFY(conv.search("/features/conv12"));
    QVERIFY(!conv.search("/features/conv12/Relu"));
    QVERIFY(NamePattern("layer1", "x").search("/layer1/conv"));
    QVERIFY(NamePattern("^/a\\.b/", "x").search("/a.b/Conv"));
    QVERIFY(!NamePattern("^/a\\.b/", "x").search("/axb/Conv"));
    QVERIFY(NamePattern("\\d+|fc", "x").search("c7"));
    QVERIFY(NamePattern("(?:enc|dec)oder\\b", "x").search("/decoder/x"));
    QVERIFY(NamePattern("^.$", "x").search("\xe9"));  // bytes, not UTF-8: any name can be matched
    // std::regex overflowed its stack on these (SIGSEGV); RE2 does not recurse per character.
    const std::string huge = "/" + std::string(100'000, 'a') + "/Conv";
    QVERIFY(NamePattern("a+/Conv$", "x").search(huge));
    QVERIFY(!NamePattern("(a*)*b", "x").search(huge));
    QVERIFY(!NamePattern("(a*)*b", "x").search(std::string(64, 'a')));  // exponential in std::regex

    const std::string lookahead = test::errorOf([] { NamePattern("fc(?!1)", "--protect"); });
    QVERIFY2(test::contains(lookahead, "--protect: 'fc(?!1)' uses a lookahead"), lookahead.c_str());
    const std::string backreference = test::errorOf([] { NamePattern("(a)\\1", "option 'exclude_nodes'"); });
    QVERIFY2(test::contains(backreference, "option 'exclude_nodes': '(a)\\1' uses a backreference"),
             backreference.c_str());
    const std::string unbalanced = test::errorOf([] { NamePattern("conv(", "--exclude"); });
    QVERIFY2(test::contains(unbalanced, "--exclude: 'conv(' is not a valid regular expression (missing )"),
             unbalanced.c_str());
    // A pattern is quoted on one line, however long it is and whatever bytes it holds.
    const std::string long_bad = test::errorOf([&] { NamePattern(huge + "\n(", "--protect"); });
    QVERIFY2(long_bad.find('\n') == std::string::npos && long_bad.size() < 600, long_bad.c_str());
    QCOMPARE(namePatternProblem("fc|conv1"), std::string());
    QVERIFY(test::contains(namePatternProblem("fc(?<=x)"), "lookbehind"));
  }

  void byteSizes() {
    QCOMPARE(formatBytes(12), std::string("12 B"));
    QCOMPARE(formatBytes(845'000), std::string("845.0 KB"));
    QCOMPARE(formatBytes(12'340'000), std::string("12.34 MB"));
    QCOMPARE(formatBytes(1'300'000'000), std::string("1.30 GB"));
  }

  void resources() {
    // This build's source tree, unless the environment names another folder.
    QVERIFY(fs::is_regular_file(resourcesDir() / "models" / "resnet20_fmnist.onnx"));
    QCOMPARE(programDir(), fs::path(QCoreApplication::applicationDirPath().toStdString()));
    test::TempDir dir;
    ::setenv("EDGETUNE_RESOURCES", dir.path().c_str(), 1);
    QCOMPARE(resourcesDir(), dir.path());
    ::unsetenv("EDGETUNE_RESOURCES");
  }
};

QTEST_MAIN(TestUtil)
#include "test_util.moc"
