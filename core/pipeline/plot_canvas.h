#pragma once
// A plot as a list of drawing primitives in pixel coordinates, rendered twice from the same list (SVG text
// and an OpenCV canvas encoded as PNG), so the two files of a plot never disagree and no layout code is
// written twice. Text is measured with OpenCV's Hershey font, whose glyphs are wider than the SVG's
// sans-serif, so labels that fit in the PNG fit in the SVG. Used by the run report's plots
// (report_plots.cpp).
#include <algorithm>
#include <string>
#include <vector>

namespace edgetune::pipeline::plot {

struct Color {
  int r = 0, g = 0, b = 0;
};
const Color kBlack{33, 33, 33}, kGrey{120, 120, 120}, kGrid{225, 225, 225}, kWhite{255, 255, 255};
const Color kBase{140, 150, 160}, kStep{76, 120, 168}, kFinal{245, 133, 24};
const std::vector<Color> kSeries = {
    {76, 120, 168}, {245, 133, 24}, {84, 162, 75}, {228, 87, 86}, {114, 183, 178}};

enum class Anchor { Start = 1, Middle, End };

/// One thing to draw, in pixels (y grows downwards). Rect: (x, y) top-left and (x2, y2) bottom-right; Line:
/// (x, y) to (x2, y2); Circle: centre (x, y), radius x2; Text: (x, y) is the baseline point the anchor names.
struct Primitive {
  enum class Kind { Line = 1, Rect, Circle, Text };
  Kind kind = Kind::Line;
  double x = 0, y = 0, x2 = 0, y2 = 0;
  Color stroke, fill;
  bool filled = false;
  double stroke_px = 1;
  std::string text;
  double font_px = 12;
  Anchor anchor = Anchor::Start;
  bool bold = false;
};

/// Width in pixels of `text` at `font_px` (the Hershey font the PNG uses).
double textWidth(const std::string& text, double font_px, bool bold = false);
/// `text` cut (with "..") to at most `max_px` wide.
std::string fitText(const std::string& text, double font_px, double max_px, bool bold = false);

class Canvas {
 public:
  Canvas(int width, int height) : width_(width), height_(height) {}
  int width() const { return width_; }
  int height() const { return height_; }
  const std::vector<Primitive>& items() const { return items_; }

  void line(double x, double y, double x2, double y2, Color color, double px = 1) {
    Primitive p;
    p.kind = Primitive::Kind::Line;
    p.x = x, p.y = y, p.x2 = x2, p.y2 = y2, p.stroke = color, p.stroke_px = px;
    items_.push_back(p);
  }
  void rect(double x, double y, double x2, double y2, Color fill, Color stroke, double stroke_px = 0) {
    Primitive p;
    p.kind = Primitive::Kind::Rect;
    p.x = std::min(x, x2), p.y = std::min(y, y2), p.x2 = std::max(x, x2), p.y2 = std::max(y, y2);
    p.fill = fill, p.filled = true, p.stroke = stroke, p.stroke_px = stroke_px;
    items_.push_back(p);
  }
  void circle(double x, double y, double radius, Color fill, Color stroke) {
    Primitive p;
    p.kind = Primitive::Kind::Circle;
    p.x = x, p.y = y, p.x2 = radius, p.fill = fill, p.filled = true, p.stroke = stroke, p.stroke_px = 1;
    items_.push_back(p);
  }
  void text(double x, double y, const std::string& text, double font_px, Anchor anchor = Anchor::Start,
            Color color = kBlack, bool bold = false) {
    Primitive p;
    p.kind = Primitive::Kind::Text;
    p.x = x, p.y = y, p.text = text, p.font_px = font_px, p.anchor = anchor, p.stroke = color, p.bold = bold;
    items_.push_back(p);
  }

 private:
  int width_, height_;
  std::vector<Primitive> items_;
};

/// The canvas as an SVG document.
std::string toSvg(const Canvas& canvas);
/// The canvas as PNG bytes.
std::string toPng(const Canvas& canvas);

}  // namespace edgetune::pipeline::plot
