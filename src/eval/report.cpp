#include "mudit/eval/report.h"

#include <cstdint>

namespace mudit::eval {

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
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
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                   static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                   static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += kAlphabet[n >> 6 & 63];
    out += kAlphabet[n & 63];
  }
  if (i < bytes.size()) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size())
      n |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += i + 1 < bytes.size() ? kAlphabet[n >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

namespace {

void append_table(std::string& html, const ReportTable& t) {
  html += "<h2>" + html_escape(t.title) + "</h2>\n<table>\n<thead><tr>";
  for (const auto& c : t.columns) html += "<th>" + html_escape(c) + "</th>";
  html += "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    html += "<tr>";
    for (const auto& cell : row) html += "<td>" + html_escape(cell) + "</td>";
    html += "</tr>\n";
  }
  html += "</tbody>\n</table>\n";
}

}  // namespace

std::string render_report(const std::string& title, const std::vector<ReportTable>& tables,
                          const std::vector<ReportSong>& songs) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
      html_escape(title) +
      "</title>\n<style>\n"
      "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}\n"
      "table{border-collapse:collapse;margin:1em 0}\n"
      "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:14px}\n"
      "th{background:#f0f0f0}\n"
      ".song{border-top:1px solid #ddd;padding:1em 0}\n"
      ".song img{display:block;width:100%;max-width:800px;height:160px;image-rendering:pixelated}\n"
      "</style>\n</head>\n<body>\n<h1>" +
      html_escape(title) + "</h1>\n";
  for (const ReportTable& t : tables) append_table(html, t);
  if (!songs.empty()) html += "<h2>Songs</h2>\n";
  for (const ReportSong& s : songs) {
    html += "<div class=\"song\" id=\"song-" + html_escape(s.id) + "\">\n<h3>" + html_escape(s.id) +
            "</h3>\n";
    if (!s.caption.empty()) html += "<p>" + html_escape(s.caption) + "</p>\n";
    if (!s.spectrogram_png.empty()) {
      html += "<img alt=\"log-mel spectrogram of " + html_escape(s.id) +
              "\" src=\"data:image/png;base64," + base64(s.spectrogram_png) + "\">\n";
    }
    if (!s.audio.empty()) {
      html += "<audio controls preload=\"none\" src=\"data:" + s.audio_mime + ";base64," +
              base64(s.audio) + "\"></audio>\n";
    }
    html += "</div>\n";
  }
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace mudit::eval
