// writeReport: report.json, report.md and four plots (accuracy, size, latency, Pareto), each as SVG and PNG,
// laid out here on plot canvases (plot_canvas.h) that render both files from one list of primitives.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "core/pipeline/plot_canvas.h"
#include "core/pipeline/report.h"
#include "core/util/error.h"
#include "core/util/files.h"

namespace edgetune::pipeline {
namespace {

using namespace plot;

// ----- layout

/// Tick positions covering [low, high] at a 1-2-5 step.
struct Ticks {
  double low = 0, high = 1, step = 1;
  int decimals = 0;
};

Ticks niceTicks(double low, double high, int target = 5) {
  if (!(high > low)) {
    const double pad = std::max(std::abs(low) * 0.1, 1.0);
    low -= pad, high += pad;
  }
  const double raw = (high - low) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
  Ticks t;
  t.step = step;
  t.low = std::floor(low / step + 1e-9) * step;
  t.high = std::ceil(high / step - 1e-9) * step;
  t.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  return t;
}

// Milliseconds with three significant digits or so: 0.0123, 1.23, 12.3.
std::string milliseconds(double ms) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer),
                ms >= 100   ? "%.0f"
                : ms >= 10  ? "%.1f"
                : ms >= 1   ? "%.2f"
                : ms >= 0.1 ? "%.3f"
                            : "%.4f",
                ms);
  return buffer;
}

std::string fixed(double value, int decimals) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

constexpr double kTitlePx = 16, kLabelPx = 12, kSmallPx = 11;

/// The frame every plot shares: title, plot area, a y axis with grid lines, and optionally an x axis.
struct Frame {
  double left = 80, right = 0, top = 64, bottom = 0;  // plot area
  Ticks y, x;
  double yPixel(double v) const { return bottom - (v - y.low) / (y.high - y.low) * (bottom - top); }
  double xPixel(double v) const { return left + (v - x.low) / (x.high - x.low) * (right - left); }
};

Frame drawFrame(Canvas& canvas, const std::string& title, const std::string& y_title, Ticks y,
                double bottom_margin) {
  Frame f;
  f.right = canvas.width() - 30;
  f.bottom = canvas.height() - bottom_margin;
  f.y = y;
  canvas.text(canvas.width() / 2.0, 28, title, kTitlePx, Anchor::Middle, kBlack, true);
  canvas.text(f.left - 50, f.top - 16, y_title, kLabelPx, Anchor::Start, kGrey);
  for (double v = y.low; v <= y.high + y.step * 1e-6; v += y.step) {
    const double py = f.yPixel(v);
    canvas.line(f.left, py, f.right, py, kGrid);
    canvas.text(f.left - 8, py + 4, fixed(v, y.decimals), kSmallPx, Anchor::End, kGrey);
  }
  canvas.line(f.left, f.top, f.left, f.bottom, kGrey);
  canvas.line(f.left, f.bottom, f.right, f.bottom, kGrey);
  return f;
}

void emptyPlot(Canvas& canvas, const std::string& title, const std::string& why) {
  canvas.text(canvas.width() / 2.0, 28, title, kTitlePx, Anchor::Middle, kBlack, true);
  canvas.text(canvas.width() / 2.0, canvas.height() / 2.0, why, kLabelPx, Anchor::Middle, kGrey);
}

Color modelColor(size_t index, size_t count) {
  if (index == 0) return kBase;
  return index + 1 == count ? kFinal : kStep;
}

int barCanvasWidth(size_t groups) {
  return std::max(640, 110 + static_cast<int>(groups) * 100);
}

/// One bar per model (or one group of bars per model), the step ids under them.
struct BarLayout {
  double group_width = 0, bar_width = 0;
  double groupCentre(const Frame& f, size_t group) const { return f.left + group_width * (group + 0.5); }
  double barCentre(const Frame& f, size_t group, size_t bar, size_t bars) const {
    return groupCentre(f, group) + (static_cast<double>(bar) - (bars - 1) / 2.0) * bar_width;
  }
};

BarLayout barLayout(const Frame& f, size_t groups, size_t bars_per_group) {
  BarLayout l;
  l.group_width = (f.right - f.left) / static_cast<double>(std::max<size_t>(1, groups));
  l.bar_width = l.group_width * 0.7 / static_cast<double>(std::max<size_t>(1, bars_per_group));
  return l;
}

void stepLabels(Canvas& canvas, const Frame& f, const BarLayout& l,
                const std::vector<ModelMeasurement>& models) {
  for (size_t i = 0; i < models.size(); ++i) {
    const double x = l.groupCentre(f, i);
    canvas.text(x, f.bottom + 18, fitText(models[i].step_id, kLabelPx, l.group_width - 6), kLabelPx,
                Anchor::Middle, kBlack, i + 1 == models.size() && models.size() > 1);
    canvas.text(x, f.bottom + 33, fitText(models[i].kind, kSmallPx, l.group_width - 6), kSmallPx,
                Anchor::Middle, kGrey);
  }
}

// A value over a bar when it fits in the bar's slot.
void valueLabel(Canvas& canvas, double x, double y, const std::string& text, double slot_px) {
  if (textWidth(text, kSmallPx) <= slot_px) canvas.text(x, y - 5, text, kSmallPx, Anchor::Middle, kBlack);
}

Canvas accuracyPlot(const RunReport& report) {
  const auto& models = report.models;
  Canvas canvas(barCanvasWidth(models.size()), 420);
  const std::string title = "Accuracy on the test set (95% interval)";
  const bool any =
      std::any_of(models.begin(), models.end(), [](const ModelMeasurement& m) { return m.has_accuracy; });
  if (!any) {
    emptyPlot(canvas, title, "no test set: accuracy was not measured");
    return canvas;
  }
  double low = 100, high = 0;
  for (const auto& m : models)
    if (m.has_accuracy)
      low = std::min(low, 100 * m.accuracy_low), high = std::max(high, 100 * m.accuracy_high);
  // The axis starts near the lowest interval, not at 0: differences of a point must be visible.
  const double pad = std::max(1.0, (high - low) * 0.15);
  Ticks y = niceTicks(std::max(0.0, low - pad), std::min(100.0, high + pad));
  y.low = std::max(0.0, y.low), y.high = std::min(100.0, y.high);
  const Frame f = drawFrame(canvas, title, "accuracy (%)", y, 84);
  const BarLayout l = barLayout(f, models.size(), 1);
  for (size_t i = 0; i < models.size(); ++i) {
    const auto& m = models[i];
    if (!m.has_accuracy) continue;
    const double x = l.barCentre(f, i, 0, 1), half = l.bar_width / 2;
    canvas.rect(x - half, f.yPixel(100 * m.accuracy), x + half, f.bottom, modelColor(i, models.size()),
                kWhite);
    const double y_low = f.yPixel(100 * m.accuracy_low), y_high = f.yPixel(100 * m.accuracy_high);
    canvas.line(x, y_low, x, y_high, kBlack, 1.5);
    canvas.line(x - 6, y_low, x + 6, y_low, kBlack, 1.5);
    canvas.line(x - 6, y_high, x + 6, y_high, kBlack, 1.5);
    valueLabel(canvas, x, y_high, fixed(100 * m.accuracy, 2), l.group_width);
  }
  stepLabels(canvas, f, l, models);
  return canvas;
}

Canvas sizePlot(const RunReport& report) {
  const auto& models = report.models;
  Canvas canvas(barCanvasWidth(models.size()), 420);
  double high = 0;
  for (const auto& m : models) high = std::max(high, static_cast<double>(m.file_bytes) / 1e6);
  Ticks y = niceTicks(0, high * 1.1);
  y.low = 0;
  const Frame f = drawFrame(canvas, "Model file size", "size (MB)", y, 60);
  const BarLayout l = barLayout(f, models.size(), 1);
  for (size_t i = 0; i < models.size(); ++i) {
    const double mb = static_cast<double>(models[i].file_bytes) / 1e6;
    const double x = l.barCentre(f, i, 0, 1), half = l.bar_width / 2;
    canvas.rect(x - half, f.yPixel(mb), x + half, f.bottom, modelColor(i, models.size()), kWhite);
    std::string label = fixed(mb, 2);
    if (i > 0 && models[i].size_ratio > 0) label += " (" + fixed(models[i].size_ratio, 2) + "x)";
    valueLabel(canvas, x, f.yPixel(mb), label, l.group_width);
  }
  stepLabels(canvas, f, l, models);
  return canvas;
}

std::vector<int> threadCounts(const std::vector<ModelMeasurement>& models) {
  std::vector<int> counts;
  for (const auto& m : models)
    for (const auto& l : m.latency)
      if (std::find(counts.begin(), counts.end(), l.threads) == counts.end()) counts.push_back(l.threads);
  return counts;
}

const ModelMeasurement::Latency* latencyAt(const ModelMeasurement& m, int threads) {
  for (const auto& l : m.latency)
    if (l.threads == threads) return &l;
  return nullptr;
}

std::string threadsText(int threads) {
  return std::to_string(threads) + (threads == 1 ? " thread" : " threads");
}

Canvas latencyPlot(const RunReport& report) {
  const auto& models = report.models;
  const std::vector<int> counts = threadCounts(models);
  Canvas canvas(std::max(640, 110 + static_cast<int>(models.size() * (40 + 50 * counts.size()))), 440);
  const std::string title = fitText(
      "Median latency (ONNX Runtime" + (report.input_shapes.empty() ? "" : ", " + report.input_shapes) + ")",
      kTitlePx, canvas.width() - 40.0, true);
  if (counts.empty()) {
    emptyPlot(canvas, title, "latency was not measured");
    return canvas;
  }
  double high = 0;
  for (const auto& m : models)
    for (const auto& l : m.latency) high = std::max(high, l.median_ms);
  Ticks y = niceTicks(0, high * 1.15);
  y.low = 0;
  const Frame f = drawFrame(canvas, title, "latency (ms)", y, 80);
  const BarLayout l = barLayout(f, models.size(), counts.size());
  for (size_t i = 0; i < models.size(); ++i)
    for (size_t t = 0; t < counts.size(); ++t) {
      const auto* latency = latencyAt(models[i], counts[t]);
      if (!latency) continue;
      const double x = l.barCentre(f, i, t, counts.size()), half = l.bar_width / 2;
      canvas.rect(x - half, f.yPixel(latency->median_ms), x + half, f.bottom, kSeries[t % kSeries.size()],
                  kWhite, 1);
      valueLabel(canvas, x, f.yPixel(latency->median_ms), milliseconds(latency->median_ms), l.bar_width + 2);
    }
  stepLabels(canvas, f, l, models);
  // Legend, centred under the step labels.
  double total = 0;
  for (int c : counts) total += 14 + 6 + textWidth(threadsText(c), kLabelPx) + 20;
  double x = (canvas.width() - total) / 2;
  const double y_legend = canvas.height() - 20;
  for (size_t t = 0; t < counts.size(); ++t) {
    canvas.rect(x, y_legend - 11, x + 14, y_legend + 1, kSeries[t % kSeries.size()], kWhite);
    canvas.text(x + 20, y_legend, threadsText(counts[t]), kLabelPx);
    x += 14 + 6 + textWidth(threadsText(counts[t]), kLabelPx) + 20;
  }
  return canvas;
}

struct Box {
  double x1, y1, x2, y2;
  bool overlaps(const Box& o) const { return x1 < o.x2 && o.x1 < x2 && y1 < o.y2 && o.y1 < y2; }
};

Canvas paretoPlot(const RunReport& report) {
  const auto& models = report.models;
  Canvas canvas(720, 480);
  const std::vector<int> counts = threadCounts(models);
  // One thread when it was measured (the edge device's case), else the first count measured.
  const int threads = std::find(counts.begin(), counts.end(), 1) != counts.end() ? 1
                      : counts.empty()                                           ? 0
                                                                                 : counts[0];
  const std::string title =
      "Accuracy against latency" + (threads ? " (" + threadsText(threads) + ")" : std::string());
  struct Point {
    size_t index;
    double latency_ms, accuracy_pct;
  };
  std::vector<Point> points;
  for (size_t i = 0; i < models.size(); ++i)
    if (const auto* l = latencyAt(models[i], threads); l && models[i].has_accuracy)
      points.push_back({i, l->median_ms, 100 * models[i].accuracy});
  if (points.empty()) {
    emptyPlot(canvas, title, "needs both accuracy (a test set) and latency");
    return canvas;
  }
  double x_high = 0, y_low = 100, y_high = 0;
  for (const auto& p : points)
    x_high = std::max(x_high, p.latency_ms), y_low = std::min(y_low, p.accuracy_pct),
    y_high = std::max(y_high, p.accuracy_pct);
  const double pad = std::max(0.5, (y_high - y_low) * 0.15);
  Ticks y = niceTicks(std::max(0.0, y_low - pad), std::min(100.0, y_high + pad));
  y.low = std::max(0.0, y.low), y.high = std::min(100.0, y.high);
  Frame f = drawFrame(canvas, title, "accuracy (%)", y, 84);
  f.x = niceTicks(0, x_high * 1.15, 6);
  f.x.low = 0;
  for (double v = f.x.low; v <= f.x.high + f.x.step * 1e-6; v += f.x.step) {
    const double px = f.xPixel(v);
    canvas.line(px, f.bottom, px, f.bottom + 5, kGrey);
    canvas.text(px, f.bottom + 19, fixed(v, f.x.decimals), kSmallPx, Anchor::Middle, kGrey);
  }
  canvas.text((f.left + f.right) / 2, f.bottom + 42, "median latency (ms), " + threadsText(threads), kLabelPx,
              Anchor::Middle, kGrey);

  // Non-dominated: no other point is at least as fast and as accurate, and better in one.
  std::vector<Point> front;
  for (const auto& p : points) {
    const bool dominated = std::any_of(points.begin(), points.end(), [&](const Point& q) {
      return q.latency_ms <= p.latency_ms && q.accuracy_pct >= p.accuracy_pct &&
             (q.latency_ms < p.latency_ms || q.accuracy_pct > p.accuracy_pct);
    });
    if (!dominated) front.push_back(p);
  }
  std::sort(front.begin(), front.end(),
            [](const Point& a, const Point& b) { return a.latency_ms < b.latency_ms; });
  for (size_t i = 1; i < front.size(); ++i)
    canvas.line(f.xPixel(front[i - 1].latency_ms), f.yPixel(front[i - 1].accuracy_pct),
                f.xPixel(front[i].latency_ms), f.yPixel(front[i].accuracy_pct), kFinal, 2);

  // Labels go right of their point unless that covers an earlier label or leaves the plot; then left, above,
  // below.
  std::vector<Box> taken;
  for (const auto& p : points) {
    const double px = f.xPixel(p.latency_ms), py = f.yPixel(p.accuracy_pct);
    taken.push_back({px - 6, py - 6, px + 6, py + 6});
  }
  for (const auto& p : points) {
    const double px = f.xPixel(p.latency_ms), py = f.yPixel(p.accuracy_pct);
    canvas.circle(px, py, 6, modelColor(p.index, models.size()), kBlack);
    const std::string label = fitText(models[p.index].step_id, kLabelPx, 160);
    const double w = textWidth(label, kLabelPx), h = 12;
    struct Place {
      double x, y;
      Anchor anchor;
      Box box;
    };
    std::vector<Place> places = {
        {px + 10, py + 4, Anchor::Start, {px + 10, py - 8, px + 10 + w, py + 4}},
        {px - 10, py + 4, Anchor::End, {px - 10 - w, py - 8, px - 10, py + 4}},
        {px, py - 12, Anchor::Middle, {px - w / 2, py - 12 - h, px + w / 2, py - 12}},
        {px, py + 24, Anchor::Middle, {px - w / 2, py + 24 - h, px + w / 2, py + 24}}};
    // Steps that change nothing measurable (an export of a quantized model) sit on one point: their labels
    // stack to the right, one line each, before any may overlap.
    for (int k = 1; k <= 8; ++k) {
      const double dy = 14.0 * k;
      places.push_back(
          {px + 10, py + 4 + dy, Anchor::Start, {px + 10, py - 8 + dy, px + 10 + w, py + 4 + dy}});
      places.push_back(
          {px + 10, py + 4 - dy, Anchor::Start, {px + 10, py - 8 - dy, px + 10 + w, py + 4 - dy}});
    }
    const Place* chosen = &places.front();
    for (const auto& place : places) {
      const bool inside = place.box.x1 >= f.left && place.box.x2 <= f.right + 25 &&
                          place.box.y1 >= f.top - 10 && place.box.y2 <= f.bottom;
      const bool free =
          std::none_of(taken.begin(), taken.end(), [&](const Box& b) { return b.overlaps(place.box); });
      if (inside && free) {
        chosen = &place;
        break;
      }
    }
    taken.push_back(chosen->box);
    canvas.text(chosen->x, chosen->y, label, kLabelPx, chosen->anchor, kBlack,
                p.index + 1 == models.size() && models.size() > 1);
  }
  // Legend, in a row under the axis title: what the line and the colours mean.
  const double ly = canvas.height() - 16;
  double lx = f.left;
  canvas.line(lx, ly - 4, lx + 22, ly - 4, kFinal, 2);
  canvas.text(lx + 28, ly, "non-dominated", kSmallPx);
  lx += 28 + textWidth("non-dominated", kSmallPx) + 24;
  const std::vector<std::pair<Color, std::string>> kinds = {
      {kBase, "base"}, {kStep, "step"}, {kFinal, "final model"}};
  for (const auto& [color, name] : kinds) {
    canvas.circle(lx + 6, ly - 4, 5, color, kBlack);
    canvas.text(lx + 16, ly, name, kSmallPx);
    lx += 16 + textWidth(name, kSmallPx) + 24;
  }
  return canvas;
}

void writePlot(const std::filesystem::path& dir, const std::string& name, const Canvas& canvas) {
  writeFileAtomic(dir / (name + ".svg"), toSvg(canvas));
  writeFileAtomic(dir / (name + ".png"), toPng(canvas));
}

}  // namespace

void writeReport(const RunReport& report, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir.string() + ": cannot create the report folder: " + ec.message());
  writeFileAtomic(dir / "report.json", report.toJson().dump(2) + "\n");
  writeFileAtomic(dir / "report.md", report.toMarkdown());
  writePlot(dir, "plot_accuracy", accuracyPlot(report));
  writePlot(dir, "plot_size", sizePlot(report));
  writePlot(dir, "plot_latency", latencyPlot(report));
  writePlot(dir, "plot_pareto", paretoPlot(report));
}

}  // namespace edgetune::pipeline
