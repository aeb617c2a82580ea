#pragma once

// The self-contained HTML page of `mudit eval`: tables (summary, groups, one row per song),
// and per song a spectrogram image and an audio player, both embedded as data: URIs, so the
// one file can be mailed or archived. No scripts; plain HTML and CSS.

#include <string>
#include <vector>

namespace mudit::eval {

struct ReportTable {
  std::string title;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  ///< cells as text (escaped when rendered)
};

struct ReportSong {
  std::string id;
  std::string caption;          ///< e.g. the description (escaped when rendered)
  std::string spectrogram_png;  ///< PNG bytes; empty: none
  std::string audio;            ///< encoded audio bytes; empty: no player
  std::string audio_mime = "audio/ogg";
};

/// The page: a title, the tables in order, then one block per song.
std::string render_report(const std::string& title, const std::vector<ReportTable>& tables,
                          const std::vector<ReportSong>& songs);

/// &, <, >, " and ' as entities.
std::string html_escape(const std::string& text);
/// RFC 4648 base64 with padding.
std::string base64(const std::string& bytes);

}  // namespace mudit::eval
