// WordPiece tokenizer: BERT's basic + wordpiece rules on a handwritten vocabulary, encoding (truncation,
// padding, masks), vocab.txt reading, and the vocabulary builder's round trip.
#include <QtTest>

#include <fstream>

#include "core/data/tokenizer.h"
#include "core/util/error.h"
#include "tests/tests_common.h"

using namespace edgetune;
using edgetune::test::contains;
using edgetune::test::errorOf;

namespace {

std::vector<std::string> smallVocab() {
  return {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un",  "##aff", "##able", "hello",
          "world", ",",     "!",     "the",   "cat",    "##s", "cafe",  "中",     "国",
          "a",     "##a",   "naïve", "'",     "don",    "t",   "."};
}

QStringList toQt(const std::vector<std::string>& items) {
  QStringList out;
  for (const auto& s : items) out << QString::fromStdString(s);
  return out;
}

}  // namespace

class TestDataTokenizer : public QObject {
  Q_OBJECT
 private slots:
  void tokenize_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("lower_case");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("wordpiece") << QByteArray("unaffable") << true << QStringList{"un", "##aff", "##able"};
    QTest::newRow("upper case") << QByteArray("UNAFFABLE Cats") << true
                                << QStringList{"un", "##aff", "##able", "cat", "##s"};
    QTest::newRow("punctuation") << QByteArray("Hello, world!") << true
                                 << QStringList{"hello", ",", "world", "!"};
    QTest::newRow("apostrophe") << QByteArray("don't.") << true << QStringList{"don", "'", "t", "."};
    QTest::newRow("whitespace kinds") << QByteArray(
                                             "hello\tworld\n the\xC2\xA0"
                                             "cat")
                                      << true << QStringList{"hello", "world", "the", "cat"};
    QTest::newRow("accent stripped") << QByteArray("Caf\xC3\xA9") << true << QStringList{"cafe"};
    QTest::newRow("accent kept when cased") << QByteArray("Caf\xC3\xA9") << false << QStringList{"[UNK]"};
    QTest::newRow("cjk split") << QByteArray("中国") << true << QStringList{"中", "国"};
    QTest::newRow("unknown word") << QByteArray("xyz hello") << true << QStringList{"[UNK]", "hello"};
    QTest::newRow("partly unknown word is one [UNK]") << QByteArray("unxyz") << true << QStringList{"[UNK]"};
    QTest::newRow("control char removed") << QByteArray("hel\x01lo") << true << QStringList{"hello"};
    QTest::newRow("invalid utf-8 dropped")
        << QByteArray("hel\xFFlo wor\xC3ld") << true << QStringList{"hello", "world"};
    QTest::newRow("empty") << QByteArray("") << true << QStringList{};
    QTest::newRow("only spaces") << QByteArray(" \t\r\n ") << true << QStringList{};
  }
  void tokenize() {
    QFETCH(QByteArray, text);
    QFETCH(bool, lower_case);
    QFETCH(QStringList, expected);
    WordPieceTokenizer::Options options;
    options.lower_case = options.strip_accents = lower_case;
    WordPieceTokenizer tokenizer(smallVocab(), options);
    QCOMPARE(toQt(tokenizer.tokenize(text.toStdString())), expected);
  }

  void normalizationKeepsMultiByteCharactersWhole() {
    WordPieceTokenizer::Options lower_only;
    lower_only.strip_accents = false;
    // "ÀÉÎ Ünï" -> lower-cased Latin-1 letters, still 2-byte UTF-8 sequences.
    const std::string text = "\xC3\x80\xC3\x89\xC3\x8E \xC3\x9Cn\xC3\xAF";
    QCOMPARE(toQt(WordPieceTokenizer(smallVocab(), lower_only).basicTokenize(text)),
             (QStringList{QString::fromUtf8("àéî"), QString::fromUtf8("ünï")}));
    QCOMPARE(toQt(WordPieceTokenizer(smallVocab()).basicTokenize(text)), (QStringList{"aei", "uni"}));
    // A combining accent (e + U+0301) is dropped when stripping accents.
    QCOMPARE(toQt(WordPieceTokenizer(smallVocab()).basicTokenize("cafe\xCC\x81")), QStringList{"cafe"});
    // Cased, an in-vocabulary multi-byte word matches as a whole.
    WordPieceTokenizer::Options cased;
    cased.lower_case = cased.strip_accents = false;
    QCOMPARE(toQt(WordPieceTokenizer(smallVocab(), cased).tokenize("naïve")), QStringList{"naïve"});
  }

  void maxCharsPerWord() {
    WordPieceTokenizer tokenizer(smallVocab());
    auto pieces100 = tokenizer.tokenize(std::string(100, 'a'));
    QCOMPARE(pieces100.size(), size_t{100});
    QCOMPARE(QString::fromStdString(pieces100[0]), QString("a"));
    QCOMPARE(QString::fromStdString(pieces100[99]), QString("##a"));
    QCOMPARE(toQt(tokenizer.tokenize(std::string(101, 'a'))), QStringList{"[UNK]"});
  }

  void encodePadsAndMasks() {
    WordPieceTokenizer tokenizer(smallVocab());
    QCOMPARE(tokenizer.clsId(), 2);
    QCOMPARE(tokenizer.sepId(), 3);
    Encoding e = tokenizer.encode("Hello world", 6);
    QCOMPARE(e.input_ids, (std::vector<int64_t>{2, 8, 9, 3, 0, 0}));
    QCOMPARE(e.attention_mask, (std::vector<int64_t>{1, 1, 1, 1, 0, 0}));
    QCOMPARE(e.token_type_ids, (std::vector<int64_t>(6, 0)));
  }

  void encodeTruncates() {
    WordPieceTokenizer tokenizer(smallVocab());
    Encoding e = tokenizer.encode("hello world the cat", 4);
    QCOMPARE(e.input_ids, (std::vector<int64_t>{2, 8, 9, 3}));
    QCOMPARE(e.attention_mask, (std::vector<int64_t>{1, 1, 1, 1}));
    // Truncation may cut inside a word's pieces.
    QCOMPARE(tokenizer.encode("unaffable", 4).input_ids, (std::vector<int64_t>{2, 5, 6, 3}));
    QCOMPARE(tokenizer.encode("unaffable", 2).input_ids, (std::vector<int64_t>{2, 3}));
    QCOMPARE(tokenizer.pieceIds("hello world the cat", 3), (std::vector<int32_t>{8, 9, 12}));
    QVERIFY_THROWS_EXCEPTION(Error, tokenizer.encode("hello", 1));
  }

  void vocabFile() {
    test::TempDir dir;
    {
      std::ofstream out(dir / "vocab.txt", std::ios::binary);
      for (const auto& t : smallVocab()) out << t << "\r\n";
    }
    auto tokenizer = WordPieceTokenizer::fromFile(dir / "vocab.txt");
    QCOMPARE(tokenizer.vocabSize(), smallVocab().size());
    QCOMPARE(tokenizer.id("##aff"), 6);
    QCOMPARE(tokenizer.id("nope"), -1);
    QCOMPARE(toQt(tokenizer.tokenize("unaffable")), (QStringList{"un", "##aff", "##able"}));

    { std::ofstream(dir / "nounk.txt") << "[PAD]\n[CLS]\n[SEP]\nhello\n"; }
    try {
      WordPieceTokenizer::fromFile(dir / "nounk.txt");
      QFAIL("a vocabulary without [UNK] was accepted");
    } catch (const Error& e) {
      QVERIFY2(contains(e.what(), "nounk.txt") && contains(e.what(), "[UNK]"), e.what());
    }
    try {
      WordPieceTokenizer::fromFile(dir / "missing.txt");
      QFAIL("a missing vocabulary was accepted");
    } catch (const Error& e) {
      QVERIFY2(contains(e.what(), "missing.txt"), e.what());
    }
  }

  void vocabBuilderRoundTrip() {
    const std::vector<std::string> corpus = {
        "The quick brown fox jumps over the lazy dog.",
        "Pack my box with five dozen liquor jugs!",
        "The dog barks; the fox runs. Foxes are quick, dogs are lazy.",
        "Crème brûlée costs 5€ — naïve café owners say \"ça va\".",
        "中文字符 also appear, e.g. 東京.",
    };
    const auto vocab = buildWordPieceVocab(corpus, 400);
    QVERIFY(vocab.size() <= 400);
    QCOMPARE(toQt({vocab.begin(), vocab.begin() + 5}),
             (QStringList{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}));
    QCOMPARE(buildWordPieceVocab(corpus, 400), vocab);  // deterministic
    std::set<std::string> distinct(vocab.begin(), vocab.end());
    QCOMPARE(distinct.size(), vocab.size());

    test::TempDir dir;
    writeVocab(dir / "vocab.txt", vocab);
    auto tokenizer = WordPieceTokenizer::fromFile(dir / "vocab.txt");
    QCOMPARE(tokenizer.vocabSize(), vocab.size());
    for (const std::string& text : corpus) {
      const auto pieces = tokenizer.pieceIds(text);
      QVERIFY(!pieces.empty());
      QVERIFY2(std::find(pieces.begin(), pieces.end(), tokenizer.unkId()) == pieces.end(), text.c_str());
    }
    // The most frequent word is a whole token; an unseen word of seen characters encodes from characters.
    QCOMPARE(toQt(tokenizer.tokenize("the")), QStringList{"the"});
    QCOMPARE(toQt(tokenizer.tokenize("吗")), QStringList{"[UNK]"});  // a character the corpus never had
    QCOMPARE(toQt(tokenizer.tokenize("dab")),
             (QStringList{"d", "##a", "##b"}));  // unseen word, seen characters
    const auto recombined = tokenizer.tokenize("fox brown");
    QCOMPARE(toQt(recombined), (QStringList{"fox", "brown"}));

    // Tight budget: only specials + characters fit; every word still encodes without [UNK].
    const auto minimal = buildWordPieceVocab({"abc abd"}, 5 + 2 * 4);
    QCOMPARE(minimal.size(), size_t{13});
    WordPieceTokenizer small(minimal);
    QCOMPARE(toQt(small.tokenize("abc dab")), (QStringList{"a", "##b", "##c", "d", "##a", "##b"}));
    QVERIFY_THROWS_EXCEPTION(Error, buildWordPieceVocab({"abc abd"}, 12));
  }
};

QTEST_GUILESS_MAIN(TestDataTokenizer)
#include "test_data_tokenizer.moc"
