// The small helpers every layer shares, one of each: whole-file reads that refuse what is not a regular file
// or too large, file names made from free text, thread-count lists, byte sizes as people read them, and
// where the bundled resources are.
#include <sys/stat.h>

#include <QtTest>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "core/util/files.h"
#include "core/util/format.h"
#include "core/util/resources.h"
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
    for (const char* bad : {"", " ", "1,,2", "0", "-1", "1,x", "2.5", "1,"}) {
      try {
        parseThreadList(bad);
        QFAIL(qPrintable(QString("accepted '%1'").arg(bad)));
      } catch (const std::invalid_argument& e) {
        QVERIFY2(test::contains(e.what(), "expected e.g. 1,2,4"), e.what());
      }
    }
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
