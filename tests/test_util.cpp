// The small helpers every layer shares, one of each: file names made from free text, thread-count lists,
// byte sizes as people read them, and where the bundled resources are.
#include <QtTest>

#include <cstdlib>
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
