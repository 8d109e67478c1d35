// LineSink: an EventSink that keeps each event as its encoded NDJSON line
// (without the newline), so tests compare key order and omitted fields too.
#pragma once

#include <string>
#include <vector>

#include "codec/event_codec.hpp"
#include "sink.hpp"

namespace pgconn_test {

struct LineSink : pgconn::EventSink {
  std::vector<std::string> lines;
  bool on_event(const pgconn::Event& e) override {
    std::string s;
    pgconn::encode_json(e, &s);
    s.pop_back();  // the newline
    lines.push_back(s);
    return true;
  }
};

}  // namespace pgconn_test
