// Studio views without the main window: graph model and view (layout, search, collapse/expand, diff),
// inspector, charts and their export, jobs and the stall monitor. The domain behind them (projects, variant
// models, overlays, model cards) is tested without widgets in tests/pipeline.
#include <QtTest>

#include <qcustomplot.h>
#include <QImage>
#include <QPushButton>
#include <QThread>

#include <cmath>
#include <fstream>

#include "core/data/dataset.h"
#include "core/ir/stats.h"
#include "core/pipeline/variant_model.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/model_source.h"
#include "core/zoo/zoo.h"
#include "tests/tests_common.h"
#include "tests/ui/ui_test_common.h"
#include "ui/charts.h"
#include "ui/graph_view.h"
#include "ui/jobs.h"
#include "ui/panels.h"
#include "ui/studio_document.h"

using namespace edgetune;
using namespace edgetune::ui;
using namespace edgetune::pipeline;
using edgetune::zoo::loadModelSource;

using nlohmann::json;

namespace {

// A knob state as TuningPanel::knobs() makes it: channel pruning at `ratio`, nothing else.
json knobsAt(double ratio) {
  return {{"cleanup", true},
          {"prune_method", "prune_channels"},
          {"prune_ratio", ratio},
          {"protect", ""},
          {"group_ratios", json::object()},
          {"locked_groups", json::array()},
          {"quant_mode", "none"},
          {"calibration", "minmax"},
          {"samples", 256},
          {"per_channel", true},
          {"exclude", ""},
          {"exclude_nodes", json::array()},
          {"round_to", 8}};
}
PreparedGraph prepareZoo(const std::string& source) {
  auto model = std::make_shared<Model>(loadModelSource(source));
  auto stats = std::make_shared<ModelStats>(computeStats(*model));
  return prepareGraph(model, stats);
}
int countOps(const Model& m, const std::string& op) {
  int n = 0;
  for (const auto& node : m.graph().node()) n += node.op_type() == op ? 1 : 0;
  return n;
}
}  // namespace

class TestUiViews : public QObject {
  Q_OBJECT
 private slots:
  void scopesAndVisibleGraph() {
    Model m = loadModelSource("zoo:resnet20?input_channels=1&image_size=28");
    const auto g = GraphStructure::fromModel(m);
    QCOMPARE(static_cast<int>(g.nodes.size()), m.graph().node_size());
    QVERIFY(g.scope_sizes.count("layer1") == 1);
    QVERIFY(g.scope_sizes.at("layer1") > 10);
    // Everything expanded: one item per node plus inputs and outputs.
    const auto all = buildVisibleGraph(g, {});
    QCOMPARE(static_cast<int>(all.items.size()), m.graph().node_size() + 2);
    // Collapsing layer1 replaces its nodes by one group and keeps the graph connected through it.
    const auto collapsed = buildVisibleGraph(g, {"layer1"});
    QCOMPARE(static_cast<int>(collapsed.items.size()),
             m.graph().node_size() + 2 - g.scope_sizes.at("layer1") + 1);
    int group = -1;
    for (size_t i = 0; i < collapsed.items.size(); ++i)
      if (collapsed.items[i].kind == VisibleItem::Kind::Group) group = static_cast<int>(i);
    QVERIFY(group >= 0);
    int in_edges = 0, out_edges = 0;
    for (auto [a, b] : collapsed.edges) {
      QVERIFY(a != b);  // no self loops from edges inside the group
      in_edges += b == group;
      out_edges += a == group;
    }
    QVERIFY(in_edges >= 1);
    QVERIFY(out_edges >= 1);
    // expand then collapse returns to the same set.
    auto expanded = expandScope(g, {"layer1"}, "layer1");
    QVERIFY(!expanded.count("layer1"));
    QVERIFY(expanded.count("layer1/layer1.0"));
    QCOMPARE(collapseScope(expanded, "layer1"), std::set<std::string>{"layer1"});
  }

  // A torch export as users bring it: its Constant and Identity nodes are not boxes. Constants are read as
  // the reader's attributes (by the schema's input names), an Identity's readers are wired to its source, and
  // every folded node is shown by a drawn one (so Find and overlays still land somewhere).
  void torchExportFoldsConstantsAndIdentities() {
    Model m = Model::load(test::fixture("torch/tiny_bert_opset14.onnx"));  // LayerNorm decomposed
    QVERIFY(countOps(m, "Identity") > 0 && countOps(m, "Constant") > 0);
    const auto g = GraphStructure::fromModel(m);
    QCOMPARE(g.folded_count, countOps(m, "Identity") + countOps(m, "Constant"));
    int drawn = 0;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const auto& node = g.nodes[i];
      QVERIFY2(node.shown_in >= 0 && !g.nodes[node.shown_in].folded, node.name.c_str());
      if (node.folded) continue;
      ++drawn;
      QCOMPARE(node.shown_in, static_cast<int>(i));
    }
    const auto all = buildVisibleGraph(g, {});
    QCOMPARE(static_cast<int>(all.items.size()),
             drawn + static_cast<int>(g.inputs.size() + g.outputs.size()));
    for (const auto& item : all.items)
      if (item.kind == VisibleItem::Kind::Node)
        QVERIFY(g.nodes[item.node_index].op_type != "Identity" &&
                g.nodes[item.node_index].op_type != "Constant");
    for (auto [a, b] : g.edges) QVERIFY(!g.nodes[a].folded && !g.nodes[b].folded);

    auto constantsOf = [&](const std::string& name) {
      for (const auto& node : g.nodes)
        if (node.name == name) return node.constants;
      return std::string("<no node " + name + ">");
    };
    // Linear -> MatMul reads its weight as B; Unsqueeze reads a Constant node's axes as values.
    QCOMPARE(constantsOf("/layers.0/attention/query/MatMul"), std::string("B 64x64"));
    QCOMPARE(constantsOf("/Unsqueeze"), std::string("axes [1]"));
    // Decomposed LayerNorm reads its scale as the Mul's B; layer 0's scale is an Identity copy of a shared
    // initializer, still a constant.
    QCOMPARE(constantsOf("/embeddings/LayerNorm/Mul"), std::string("B 64"));
    QCOMPARE(constantsOf("/layers.0/attention_norm/Mul"), std::string("B 64"));
    // The Identity's reader is wired to the Identity's source, and the Identity is shown in its reader.
    for (int i = 0; i < m.graph().node_size(); ++i) {
      const auto& n = m.graph().node(i);
      if (n.op_type() != "Identity") continue;
      QVERIFY(g.nodes[i].folded);
      QCOMPARE(all.item_of_node[i], all.item_of_node[g.nodes[i].shown_in]);
    }
    if (qEnvironmentVariableIsSet("EDGETUNE_SHOT_DIR")) {  // a look at the boxes and their constants, by hand
      auto shared = std::make_shared<const Model>(m);
      GraphView view;
      view.resize(900, 700);
      view.show();
      view.setPrepared(prepareGraph(shared, std::make_shared<ModelStats>(computeStats(m)), 400));
      QVERIFY(view.search("/layers.0/attention/query/MatMul") == 1);
      view.grab().save(qEnvironmentVariable("EDGETUNE_SHOT_DIR") + "/graph-torch-export-constants.png");
    }
    // A zoo model has no such nodes: nothing folds and the counts are what they were.
    const auto zoo =
        GraphStructure::fromModel(loadModelSource("zoo:resnet20?input_channels=1&image_size=28"));
    QCOMPARE(zoo.folded_count, 0);
  }

  // An export without scope names (every node directly in the root) opens as groups of 100 nodes in graph
  // order, not as one flat graph Graphviz needs a quarter of a minute for.
  void unscopedExportIsChunked() {
    Model m = loadModelSource("zoo:resnet56");
    int index = 0;
    for (auto& n : *m.proto().mutable_graph()->mutable_node())
      n.set_name(n.op_type() + "_" + std::to_string(index++));
    m.reindex();
    const auto g = GraphStructure::fromModel(m);
    QVERIFY(static_cast<int>(g.nodes.size()) > GraphStructure::kMaxDirectNodes);
    QCOMPARE(g.scope_sizes.at("nodes 1-100"), 100);
    const std::string last =
        "nodes " + std::to_string(g.nodes.size() / 100 * 100 + 1) + "-" + std::to_string(g.nodes.size());
    QCOMPARE(g.scope_sizes.at(last), static_cast<int>(g.nodes.size() % 100));
    for (const auto& node : g.nodes) QCOMPARE(node.scope.size(), size_t{1});
    const auto v = buildVisibleGraph(g, defaultCollapsed(g, 90));
    QVERIFY2(v.items.size() <= 90 + g.inputs.size() + g.outputs.size(),
             qPrintable(QString::number(v.items.size())));
    // A scoped model of the same size is left as its names say.
    const auto scoped = GraphStructure::fromModel(loadModelSource("zoo:resnet56"));
    QVERIFY(!scoped.scope_sizes.count("nodes 1-100"));
  }

  void defaultCollapseKeepsBigModelsReadable_data() {
    QTest::addColumn<QString>("source");
    QTest::newRow("resnet56") << "zoo:resnet56";
    QTest::newRow("bert4") << "zoo:bert?layers=4";
  }
  void defaultCollapseKeepsBigModelsReadable() {
    QFETCH(QString, source);
    Model m = loadModelSource(source.toStdString());
    const auto g = GraphStructure::fromModel(m);
    QVERIFY(g.nodes.size() > 150);
    const auto collapsed = defaultCollapsed(g, 90);
    QVERIFY(!collapsed.empty());
    const auto v = buildVisibleGraph(g, collapsed);
    QVERIFY2(v.items.size() <= 90 + g.inputs.size() + g.outputs.size() + 5,
             qPrintable(QString::number(v.items.size())));
    QVERIFY(v.items.size() >= 10);  // not one giant box either
  }

  void smallModelIsNotCollapsed() {
    Model m = loadModelSource("zoo:mlp");
    QVERIFY(defaultCollapsed(GraphStructure::fromModel(m)).empty());
  }

  void graphViewShowsSearchesAndExpands() {
    GraphView view;
    view.resize(900, 700);
    view.show();
    PreparedGraph prepared = prepareZoo("zoo:resnet56");
    const int node_count = prepared.model->graph().node_size();
    const int convs = countOps(*prepared.model, "Conv");
    view.setPrepared(std::move(prepared));
    QVERIFY(view.scene()->items().size() > 20);
    QVERIFY(view.groupItemCount() > 0);
    QVERIFY(view.nodeItemCount() < node_count);
    // Layout positions are real: items do not all sit on one spot.
    QVERIFY(view.scene()->sceneRect().height() > 300);

    QCOMPARE(view.search("Conv"), convs);
    // Find zooms out of the fitted view until the match is readable, and centres it.
    view.fitAll();
    const double fitted_scale = view.transform().m11();
    QCOMPARE(view.search("layer2.3/conv1"), 1);
    QVERIFY(view.transform().m11() > fitted_scale);
    QVERIFY(view.transform().m11() <= 1.5 + 1e-9);
    const QList<QGraphicsItem*> selected = view.scene()->selectedItems();
    QCOMPARE(selected.size(), 1);
    const QPointF centre = view.mapToScene(view.viewport()->rect().center());
    QVERIFY(selected.front()->sceneBoundingRect().adjusted(-5, -5, 5, 5).contains(centre));
    QCOMPARE(view.search("no-such-node"), 0);

    // Expand a group off the UI thread; the view gets more node items, then collapse brings the group back.
    QString group;
    for (const auto& item : view.visibleGraph().items)
      if (item.kind == VisibleItem::Kind::Group) {
        group = QString::fromStdString(item.scope);
        break;
      }
    QVERIFY(!group.isEmpty());
    const int groups_before = view.groupItemCount(), nodes_before = view.nodeItemCount();
    QSignalSpy ready(&view, &GraphView::layoutReady);
    view.expandGroup(group);
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() == 1, 20000);
    QVERIFY(view.nodeItemCount() > nodes_before);
    QVERIFY(!view.visibleGraph().collapsed.count(group.toStdString()));
    view.collapseGroup(group);
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() == 2, 20000);
    QCOMPARE(view.groupItemCount(), groups_before);
    QCOMPARE(view.nodeItemCount(), nodes_before);
  }

  void searchInsideCollapsedGroupSelectsTheGroup() {
    GraphView view;
    view.setPrepared(prepareZoo("zoo:resnet56"));
    const int matches = view.search("layer3.8/conv2");
    QCOMPARE(matches, 1);
    // The node is hidden in a group, so the group item is what gets selected.
    QVERIFY(view.visibleGraph().collapsed.size() > 0);
  }

  void inspectorShowsParamsAndHistogram() {
    auto model = std::make_shared<Model>(loadModelSource("zoo:resnet20?input_channels=1&image_size=28"));
    auto stats = std::make_shared<ModelStats>(computeStats(*model));
    NodeInspector inspector;
    inspector.setModel(model, stats);
    int conv = -1;
    for (int i = 0; i < model->graph().node_size(); ++i)
      if (model->graph().node(i).name() == "/layer2/layer2.0/conv1/Conv") conv = i;
    QVERIFY(conv >= 0);
    inspector.showNode(conv);
    // layer2.0.conv1: 16 -> 32 channels, 3x3: 4608 weights (no bias in the zoo's convs before BN).
    QCOMPARE(inspector.paramsText(), QString::number(stats->nodes[conv].params));
    QVERIFY(stats->nodes[conv].params >= 4608);
    QCOMPARE(inspector.histogram()->plottableCount(), 1);
    QCOMPARE(inspector.shownSparsity(), 0.0);
    // A node without weights: no histogram.
    int relu = -1;
    for (int i = 0; i < model->graph().node_size(); ++i)
      if (model->graph().node(i).op_type() == "Relu") relu = i;
    inspector.showNode(relu);
    QCOMPARE(inspector.histogram()->plottableCount(), 0);
    QCOMPARE(inspector.shownSparsity(), -1.0);
  }

  void weightSummaryCountsZeros() {
    Tensor t = Tensor::from<float>({2, 4}, std::vector<float>{0, 1, 2, 0, -1, 0, 3, 4});
    const auto s = summarizeWeights("w", tensorToProto("w", t), 4);
    QCOMPARE(s.count, int64_t{8});
    QCOMPARE(s.zeros, int64_t{3});
    QCOMPARE(s.min, -1.0);
    QCOMPARE(s.max, 4.0);
    int64_t total = 0;
    for (auto c : s.bin_counts) total += c;
    QCOMPARE(total, int64_t{8});
  }

  void diffFindsRemovedAndChangedNodes() {
    Model before = loadModelSource("zoo:resnet20?input_channels=1&image_size=28");
    Model cleaned =
        applyRecipe(before, {{"format", "edgetune-recipe"},
                             {"version", 1},
                             {"passes", {{{"pass", "cleanup"}, {"options", nlohmann::json::object()}}}}});
    const auto diff = diffModels(before, cleaned);
    // Folding BatchNorm removes every BatchNormalization node.
    QCOMPARE(diff.removed, countOps(before, "BatchNormalization"));
    for (auto [node, kind] : diff.before_nodes)
      if (kind == NodeDiff::Removed)
        QCOMPARE(before.graph().node(node).op_type(), std::string("BatchNormalization"));
    // Nothing changes against itself.
    QVERIFY(diffModels(before, before).before_nodes.empty());
  }

  void paretoFront_data() {
    QTest::addColumn<QVector<double>>("latency");
    QTest::addColumn<QVector<double>>("accuracy");
    QTest::addColumn<QVector<int>>("front");
    QTest::newRow("dominated middle")
        << QVector<double>{1, 2, 3} << QVector<double>{80, 79, 90} << QVector<int>{0, 2};
    QTest::newRow("all on front") << QVector<double>{1, 2, 3} << QVector<double>{70, 80, 90}
                                  << QVector<int>{0, 1, 2};
    QTest::newRow("one dominates") << QVector<double>{1, 2, 3} << QVector<double>{95, 80, 90}
                                   << QVector<int>{0};
    QTest::newRow("empty") << QVector<double>{} << QVector<double>{} << QVector<int>{};
  }
  void paretoFront() {
    QFETCH(QVector<double>, latency);
    QFETCH(QVector<double>, accuracy);
    QFETCH(QVector<int>, front);
    std::vector<std::pair<double, double>> pts;
    for (int i = 0; i < latency.size(); ++i) pts.push_back({latency[i], accuracy[i]});
    const auto got = ui::paretoFront(pts);
    QCOMPARE(QVector<int>(got.begin(), got.end()), front);
  }

  void chartsExportPngSvgCsv() {
    test::TempDir dir;
    KnobChart chart;
    chart.resize(500, 600);
    VariantMetrics m;
    m.size_bytes = 1'000'000;
    m.latency_ms = 1.5;
    m.accuracy = 0.9;
    m.accuracy_low = 0.88;
    m.accuracy_high = 0.92;
    m.accuracy_count = 500;
    chart.setPoint(knobsAt(0.0), m);
    m.accuracy = 0.85;
    chart.setPoint(knobsAt(0.3), m);
    QCOMPARE(chart.pointCount(), 2);
    const QString png = QString::fromStdString((dir / "chart.png").string());
    const QString svg = QString::fromStdString((dir / "chart.svg").string());
    const QString csv = QString::fromStdString((dir / "chart.csv").string());
    chart.exportPng(png, 500, 600);
    chart.exportSvg(svg, 500, 600);
    chart.exportCsv(csv);
    QImage image(png);
    QCOMPARE(image.size(), QSize(500, 600));
    QFile svg_file(svg);
    QVERIFY(svg_file.open(QIODevice::ReadOnly));
    const QByteArray svg_bytes = svg_file.readAll();
    QVERIFY(svg_bytes.contains("<svg"));
    QVERIFY(svg_bytes.size() > 2000);  // it has drawn content, not an empty document
    QFile csv_file(csv);
    QVERIFY(csv_file.open(QIODevice::ReadOnly));
    const QStringList lines = QString(csv_file.readAll()).trimmed().split('\n');
    QCOMPARE(lines.size(), 3);
    QVERIFY(lines[0].startsWith("series,x_knob,x,size_bytes,latency_ms,accuracy"));
    // The unpruned point starts the pruning line: one series, in x order.
    QVERIFY2(lines[1].startsWith("\"channels, fp32\",prune_ratio,0,1000000,1.5,0.9"), qPrintable(lines[1]));
    QVERIFY2(lines[2].startsWith("\"channels, fp32\",prune_ratio,0.3,1000000,1.5,0.85"),
             qPrintable(lines[2]));
    // Negative: a folder that does not exist.
    QVERIFY_THROWS_EXCEPTION(Error, chart.exportCsv("/nonexistent-dir/x.csv"));
    QVERIFY_THROWS_EXCEPTION(Error, chart.exportPng("/nonexistent-dir/x.png"));
  }

  // The live chart never joins points of different configurations: the quantization mode, per-layer ratios
  // or calibration make a series of their own, and the x axis can be any numeric knob.
  void knobChartSeriesPerConfiguration() {
    KnobChart chart;
    chart.resize(600, 700);
    VariantMetrics m;
    m.size_bytes = 4'000'000;
    m.latency_ms = 2.0;
    m.accuracy = 0.9;
    chart.setPoint(knobsAt(0.0), m);
    m.size_bytes = 3'000'000;
    chart.setPoint(knobsAt(0.3), m);
    // INT8 static at the same ratios: a second line, not a jump in the first.
    json int8 = knobsAt(0.3);
    int8["quant_mode"] = "static";
    m.size_bytes = 800'000;
    chart.setPoint(int8, m);
    int8["prune_ratio"] = 0.5;
    m.size_bytes = 600'000;
    chart.setPoint(int8, m);
    // Per-layer ratios (what Allocate sets) at 0%: their own line; the 0% point of the uniform line stays.
    json allocated = knobsAt(0.0);
    allocated["group_ratios"] = {{"conv1", 0.4}};
    m.size_bytes = 3'500'000;
    chart.setPoint(allocated, m);
    QCOMPARE(chart.pointCount(), 5);
    const QStringList names = chart.seriesNames();
    QCOMPARE(names.size(), 3);
    QVERIFY2(names.contains("channels, fp32"), qPrintable(names.join(" | ")));
    QVERIFY2(names.contains("channels, int8 static minmax 256"), qPrintable(names.join(" | ")));
    QVERIFY2(names.contains("channels per-layer, fp32"), qPrintable(names.join(" | ")));
    QVERIFY(chart.csv().contains("\"channels, fp32\",prune_ratio,0,4000000"));
    // A knob state that differs only in knobs without effect is the same point (replaced, not added).
    json same = knobsAt(0.3);
    same["samples"] = 64;  // calibration samples do nothing without static quantization
    chart.setPoint(same, m);
    QCOMPARE(chart.pointCount(), 5);
    // The calibration-samples axis: only static quantization uses it.
    chart.setAxisKnob("samples");
    QCOMPARE(chart.axisKnob(), std::string("samples"));
    QCOMPARE(chart.seriesNames(),
             QStringList{"channels 30%, int8 static minmax"} << "channels 50%, int8 static minmax");
    // Quick recovery: a dashed series on the point it belongs to, refined by later calls.
    chart.setAxisKnob("prune_ratio");
    VariantMetrics recovered = m;
    recovered.accuracy = 0.8;
    chart.setRecoveredPoint(knobsAt(0.3), recovered);
    recovered.accuracy = 0.87;
    chart.setRecoveredPoint(knobsAt(0.3), recovered);
    QVERIFY(chart.csv().contains("\"channels, fp32\",prune_ratio,0.3,3500000,2,0.9,,,,0.87"));
    chart.show();
    chart.plot()->replot();
    test::maybeShoot(chart, "knob-chart-series.png");
    chart.clearPoints();
    QCOMPARE(chart.seriesNames(), QStringList{});
  }

  void paretoChartCsvAndSelection() {
    ParetoChart chart;
    chart.resize(600, 400);
    chart.show();
    std::vector<Variant> vs(3);
    const double lat[] = {2.0, 1.0, 3.0}, acc[] = {0.9, 0.8, 0.85};
    for (int i = 0; i < 3; ++i) {
      vs[i].name = "v" + std::to_string(i);
      vs[i].metrics.latency_ms = lat[i];
      vs[i].metrics.accuracy = acc[i];
      vs[i].metrics.size_bytes = (i + 1) * 1'000'000;
    }
    chart.setVariants(vs);
    QCOMPARE(chart.frontIndices(), (std::vector<int>{1, 0}));
    const QString csv = chart.csv();
    QVERIFY(csv.contains("\"v2\",3,0.85"));
    QVERIFY(csv.contains(",0\n"));  // v2 is dominated
    // Clicking a marker selects that variant.
    chart.plot()->replot();
    QSignalSpy clicked(&chart, &ParetoChart::variantClicked);
    const QPoint at(static_cast<int>(chart.plot()->xAxis->coordToPixel(1.0)),
                    static_cast<int>(chart.plot()->yAxis->coordToPixel(80.0)));
    QTest::mouseClick(chart.plot(), Qt::LeftButton, Qt::NoModifier, at);
    QCOMPARE(clicked.count(), 1);
    QCOMPARE(clicked.first().first().toInt(), 1);
    QCOMPARE(chart.selected(), 1);
    // Without a dataset no variant has an accuracy: size against latency, the front minimizing both.
    for (auto& v : vs) v.metrics.accuracy.reset();
    vs[2].metrics.size_bytes = 500'000;    // slowest but smallest: on the front now
    vs[0].metrics.size_bytes = 3'000'000;  // slower and larger than v1: off it
    chart.setVariants(vs);
    QCOMPARE(chart.frontIndices(), (std::vector<int>{1, 2}));
    QVERIFY(chart.plot()->yAxis->label().startsWith("size MB"));
    QCOMPARE(chart.plot()->graphCount(), 4);  // the front line and one marker per variant
  }

  // Saving a project copies the variants' model files made outside its folder (training before the first
  // save) into <folder>/trained: the folder holds everything, the originals stay.
  void projectSaveGathersModelFiles() {
    test::TempDir elsewhere, folder;
    const auto trained = elsewhere / "distilled.onnx";
    writeFileAtomic(trained, "onnx bytes");
    std::filesystem::create_directories(folder / "trained");
    writeFileAtomic(folder / "trained" / "distilled.onnx", "another run's file, kept");
    StudioDocument document(QString::fromStdString((elsewhere / "recovery.json").string()));
    Variant v;
    v.name = "distilled";
    v.recipe = emptyRecipe();
    v.model_file = trained.string();
    document.project().variants.push_back(v);
    v.name = "gone";
    v.model_file = (elsewhere / "missing.onnx").string();  // left as it is: reported when used
    document.project().variants.push_back(v);
    const QString path = QString::fromStdString((folder / "p.edgetune.json").string());
    document.saveAs(path);
    const auto copied = folder / "trained" / "distilled-2.onnx";  // never over another file
    QCOMPARE(QString::fromStdString(document.project().variants[0].model_file),
             QString::fromStdString(copied.string()));
    QCOMPARE(readFile(copied), std::string("onnx bytes"));
    QCOMPARE(readFile(folder / "trained" / "distilled.onnx"), std::string("another run's file, kept"));
    QVERIFY(std::filesystem::exists(trained));
    QCOMPARE(document.project().variants[1].model_file, (elsewhere / "missing.onnx").string());
    // Stored relative to the project, so the folder can move.
    QVERIFY(readFile(folder / "p.edgetune.json").find("\"trained/distilled-2.onnx\"") != std::string::npos);
    // A second save copies nothing more.
    document.saveAs(path);
    QVERIFY(!std::filesystem::exists(folder / "trained" / "distilled-3.onnx"));
  }

  void jobsReportProgressAndCancel() {
    JobManager jobs;
    StallMonitor stalls;
    JobsPanel panel(&jobs, &stalls);
    QAtomicInt started = 0;
    JobHandle* job = jobs.start("spin", [&](JobContext& context, JobHandle&) {
      started = 1;
      for (int i = 0; i < 100000; ++i) {
        context.report(i / 100000.0, "spinning");
        context.throwIfCancelled();
        QThread::msleep(1);
      }
    });
    QCOMPARE(panel.rowCount(), 1);
    QSignalSpy progress(job, &JobHandle::progressChanged);
    QTRY_VERIFY_WITH_TIMEOUT(progress.count() > 0, 10000);
    QPushButton* cancel = panel.cancelButton(job);
    QVERIFY(cancel && cancel->isEnabled());
    QSignalSpy finished(job, &JobHandle::finished);
    QTest::mouseClick(cancel, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 10000);
    QCOMPARE(job->state(), JobHandle::State::Cancelled);
    QVERIFY(!cancel->isEnabled());
    // A failing job carries its message.
    JobHandle* failing =
        jobs.start("fail", [](JobContext&, JobHandle&) { throw Error("model.onnx: broken"); });
    QSignalSpy failed(failing, &JobHandle::finished);
    QTRY_VERIFY_WITH_TIMEOUT(failed.count() == 1, 10000);
    QCOMPARE(failing->state(), JobHandle::State::Failed);
    QCOMPARE(failing->error(), QString("model.onnx: broken"));
    jobs.clearFinished();
    QCOMPARE(jobs.jobs().size(), 0);
  }

  void stallMonitorMeasuresBlockedEventLoop() {
    StallMonitor stalls;
    QTRY_VERIFY_WITH_TIMEOUT(stalls.beats() > 3, 5000);
    stalls.reset();
    stalls.setJobsRunning(true);
    QThread::msleep(150);  // block the UI thread on purpose
    QTRY_VERIFY_WITH_TIMEOUT(stalls.beats() > 10, 5000);
    QVERIFY2(stalls.maxStallMs() >= 100, qPrintable(QString::number(stalls.maxStallMs())));
    QVERIFY(stalls.maxStallWhileJobsMs() >= 100);
    // msleep uses no CPU: the busy figure stays below the wall-clock one.
    QVERIFY(stalls.maxBusyStallMs() < stalls.maxStallMs());
  }
};

QTEST_MAIN(TestUiViews)
#include "test_ui_views.moc"
