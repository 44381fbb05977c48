// Plot primitives rendered as SVG and PNG (see plot_canvas.h).
#include "core/pipeline/plot_canvas.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/util/error.h"

namespace edgetune::pipeline::plot {
namespace {

// OpenCV's Hershey font only has ASCII.
std::string asciiOnly(const std::string& text) {
  std::string out;
  for (unsigned char c : text) out += c < 128 ? static_cast<char>(c) : '?';
  return out;
}

double fontScale(double font_px) {
  return font_px / 29.0;  // Hershey simplex caps are 21 units high; a sans-serif's are ~0.72 of its size
}
// Hershey strokes two pixels wide run together below ~15 px: small bold text stays one pixel in the PNG.
int fontThickness(double font_px, bool bold) {
  return bold && font_px >= 15 ? 2 : 1;
}

}  // namespace

double textWidth(const std::string& text, double font_px, bool bold) {
  int baseline = 0;
  return cv::getTextSize(asciiOnly(text), cv::FONT_HERSHEY_SIMPLEX, fontScale(font_px),
                         fontThickness(font_px, bold), &baseline)
      .width;
}

std::string fitText(const std::string& text, double font_px, double max_px, bool bold) {
  if (textWidth(text, font_px, bold) <= max_px) return text;
  for (size_t n = text.size(); n > 0; --n) {
    const std::string cut = text.substr(0, n - 1) + "..";
    if (textWidth(cut, font_px, bold) <= max_px) return cut;
  }
  return "";
}

std::string xmlEscaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters are not allowed in XML 1.0 text.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') out += c;
    }
  }
  return out;
}

std::string svgColor(Color c) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "#%02x%02x%02x", c.r, c.g, c.b);
  return buffer;
}

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f", v);
  return buffer;
}

std::string toSvg(const Canvas& canvas) {
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << canvas.width() << "\" height=\""
      << canvas.height() << "\" viewBox=\"0 0 " << canvas.width() << " " << canvas.height() << "\">\n"
      << "<rect x=\"0\" y=\"0\" width=\"" << canvas.width() << "\" height=\"" << canvas.height()
      << "\" fill=\"#ffffff\"/>\n";
  for (const auto& p : canvas.items()) {
    switch (p.kind) {
      case Primitive::Kind::Line:
        out << "<line x1=\"" << number(p.x) << "\" y1=\"" << number(p.y) << "\" x2=\"" << number(p.x2)
            << "\" y2=\"" << number(p.y2) << "\" stroke=\"" << svgColor(p.stroke) << "\" stroke-width=\""
            << number(p.stroke_px) << "\"/>\n";
        break;
      case Primitive::Kind::Rect:
        out << "<rect x=\"" << number(p.x) << "\" y=\"" << number(p.y) << "\" width=\"" << number(p.x2 - p.x)
            << "\" height=\"" << number(p.y2 - p.y) << "\" fill=\"" << svgColor(p.fill) << "\"";
        if (p.stroke_px > 0)
          out << " stroke=\"" << svgColor(p.stroke) << "\" stroke-width=\"" << number(p.stroke_px) << "\"";
        out << "/>\n";
        break;
      case Primitive::Kind::Circle:
        out << "<circle cx=\"" << number(p.x) << "\" cy=\"" << number(p.y) << "\" r=\"" << number(p.x2)
            << "\" fill=\"" << svgColor(p.fill) << "\" stroke=\"" << svgColor(p.stroke)
            << "\" stroke-width=\"" << number(p.stroke_px) << "\"/>\n";
        break;
      case Primitive::Kind::Text: {
        const char* anchor = p.anchor == Anchor::Middle ? "middle"
                             : p.anchor == Anchor::End  ? "end"
                                                        : "start";
        out << "<text x=\"" << number(p.x) << "\" y=\"" << number(p.y)
            << "\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"" << number(p.font_px)
            << "\" text-anchor=\"" << anchor << "\" fill=\"" << svgColor(p.stroke) << "\""
            << (p.bold ? " font-weight=\"bold\"" : "") << ">" << xmlEscaped(p.text) << "</text>\n";
        break;
      }
    }
  }
  out << "</svg>\n";
  return out.str();
}

cv::Scalar bgr(Color c) {
  return cv::Scalar(c.b, c.g, c.r);
}
cv::Point point(double x, double y) {
  return cv::Point(static_cast<int>(std::lround(x)), static_cast<int>(std::lround(y)));
}

std::string toPng(const Canvas& canvas) {
  cv::Mat image(canvas.height(), canvas.width(), CV_8UC3, bgr(kWhite));
  for (const auto& p : canvas.items()) {
    const int thickness = std::max(1, static_cast<int>(std::lround(p.stroke_px)));
    switch (p.kind) {
      case Primitive::Kind::Line:
        cv::line(image, point(p.x, p.y), point(p.x2, p.y2), bgr(p.stroke), thickness, cv::LINE_AA);
        break;
      case Primitive::Kind::Rect:
        cv::rectangle(image, point(p.x, p.y), point(p.x2, p.y2), bgr(p.fill), cv::FILLED);
        if (p.stroke_px > 0)
          cv::rectangle(image, point(p.x, p.y), point(p.x2, p.y2), bgr(p.stroke), thickness);
        break;
      case Primitive::Kind::Circle: {
        const int radius = static_cast<int>(std::lround(p.x2));
        cv::circle(image, point(p.x, p.y), radius, bgr(p.fill), cv::FILLED, cv::LINE_AA);
        cv::circle(image, point(p.x, p.y), radius, bgr(p.stroke), thickness, cv::LINE_AA);
        break;
      }
      case Primitive::Kind::Text: {
        const std::string text = asciiOnly(p.text);
        const double width = textWidth(text, p.font_px, p.bold);
        const double x = p.anchor == Anchor::Middle ? p.x - width / 2
                         : p.anchor == Anchor::End  ? p.x - width
                                                    : p.x;
        cv::putText(image, text, point(x, p.y), cv::FONT_HERSHEY_SIMPLEX, fontScale(p.font_px), bgr(p.stroke),
                    fontThickness(p.font_px, p.bold), cv::LINE_AA);
        break;
      }
    }
  }
  std::vector<uchar> bytes;
  if (!cv::imencode(".png", image, bytes)) throw Error("could not encode a PNG plot");
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace edgetune::pipeline::plot
