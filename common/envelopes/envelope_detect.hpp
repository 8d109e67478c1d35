// EnvelopeDetector: auto-detection of the managed platforms' envelopes
// (cloud-envelopes.md), and of wrappers no reader claims.
//
// LogParser shows it each line while the format is unknown, after the
// one-line JSON formats (jsonlog, CloudNativePG, Cloud SQL, journald) had
// their look. A JSON document that spans lines (pretty-printed) is held
// until it ends; the lines held are then handed back (take_held()) to be
// read by the format chosen.
//
// A wrapper that is recognisably an envelope but that no reader takes (a
// JSON object of other keys, a JSON array, a Supabase or PlanetScale
// export, an Aiven console line, a syslog message without its header) is
// kUnclaimed: the caller must not read its inside as a plain log, which
// would find a log_line_prefix inside and make up events (JSON in the
// names, syslog sequence numbers as pids). what() says what was seen.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "envelopes/json_stream.hpp"
#include "formats/stderr_format.hpp"

namespace pgconn {

class EnvelopeDetector {
 public:
  enum class Kind : uint8_t {
    kNone,        // no envelope here: let the plain formats look
    kPending,     // a JSON document goes on: line held
    kAzure, kCloudwatch, kHeroku, kRfc5424,
    kUnclaimed,   // an envelope no reader takes: what()
  };

  EnvelopeDetector();

  // Looks at one line while the format is unknown.
  Kind look(std::string_view line);

  // The lines held while a document was pending, the last one included
  // (after a verdict other than kPending); empties the store.
  std::vector<std::string> take_held();

  // For kUnclaimed: "a JSON object with keys \"a\", \"b\", …".
  const std::string& what() const { return what_; }

  // The text form of CloudWatch Logs (`aws logs tail`): the message must
  // be a line of a known log_line_prefix (not the generic fallback).
  bool cloudwatch_text(std::string_view line);

 private:
  Kind classify(std::string_view doc);

  JsonStream stream_;
  std::vector<std::string> held_;
  size_t held_bytes_ = 0;
  Kind verdict_ = Kind::kNone;
  std::string what_;
  StderrFormat probe_;
};

// The --input values, for messages: "auto, stderr, csv, …".
std::string_view input_values_text();

}  // namespace pgconn
