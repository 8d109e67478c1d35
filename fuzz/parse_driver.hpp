// Runs fuzz input through the same path pgconn-parse takes for one input
// format: LogParser (scanner, format, prefix, message) -> Tracker ->
// events, each checked by check_event(). The input is fed in blocks of a
// few whole lines, as LineReader hands them over, with a fake monotonic
// clock ticking between blocks so the live settle rules run too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "event_check.hpp"
#include "pipeline/log_parser.hpp"
#include "lifecycle/tracker.hpp"

namespace pgconn::fuzz {

class CheckingSink : public EventSink {
 public:
  bool on_event(const Event& e) override {
    check_event(e);
    return true;
  }
};

class QuietReporter : public Reporter {
 public:
  void on_malformed(uint64_t, std::string_view) override {}
};

inline void run_parser(InputFormat format, const uint8_t* data, size_t size) {
  constexpr int kLinesPerBlock = 4;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckingSink sink;
  QuietReporter reporter;
  // Small caps, so that eviction and the held-queue limit are reachable
  // with inputs of a few kilobytes.
  TrackerOptions topts;
  topts.max_backends = 8;
  topts.max_held = 16;
  Tracker tracker(&sink, topts);
  ParserOptions popts;
  popts.format = format;
  popts.year = 2024;
  auto parser = LogParser::create(popts, &tracker, &reporter);
  FUZZ_CHECK(parser.ok(), "LogParser::create");
  LogParser& p = **parser;

  int64_t now_ms = 1000;
  size_t pos = 0;
  while (pos < in.size()) {
    size_t end = pos;
    for (int k = 0; k < kLinesPerBlock && end < in.size(); ++k) {
      size_t nl = in.find('\n', end);
      end = nl == std::string_view::npos ? in.size() : nl + 1;
    }
    p.feed(in.substr(pos, end - pos));
    now_ms += 7;
    p.tick(now_ms);
    pos = end;
  }
  p.end_input();
  p.idle();
  FUZZ_CHECK(!p.holding(), "holding() after idle()");
}

}  // namespace pgconn::fuzz
