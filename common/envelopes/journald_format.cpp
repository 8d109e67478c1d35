#include "envelopes/journald_format.hpp"

namespace pgconn {

namespace {

// "[80,79,83,84]" -> the bytes; false when it is not an array of numbers
// 0-255.
bool decode_byte_array(std::string_view text, std::string* out) {
  out->clear();
  size_t i = 0;
  auto ws = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r')) ++i;
  };
  ws();
  if (i >= text.size() || text[i] != '[') return false;
  ++i;
  ws();
  if (i < text.size() && text[i] == ']') return true;
  while (i < text.size()) {
    ws();
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    int64_t v = parse_decimal(text.substr(start, i - start), 255);
    if (v < 0) return false;
    out->push_back(static_cast<char>(v));
    ws();
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    return i < text.size() && text[i] == ']';
  }
  return false;
}

}  // namespace

JournaldFormat::JournaldFormat(StderrFormat inner, int year) : syslog_(std::move(inner), year) {}

bool JournaldFormat::looks_like(std::string_view line) {
  if (line.empty() || line[0] != '{') return false;
  JsonReader json;
  return json.parse(line) && json.find("MESSAGE") != nullptr &&
         (json.find("__REALTIME_TIMESTAMP") != nullptr || json.find("_PID") != nullptr ||
          json.find("__CURSOR") != nullptr);
}

bool JournaldFormat::feed(std::string_view line, RecordSink* out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty() || line[0] != '{') {
    if (line.substr(0, 3) == "-- ") return true;  // "-- Boot 3f2a… --", "-- No entries --"
    return syslog_.feed(line, out);
  }
  if (!json_.parse(line)) return true;
  const JsonReader::Member* m = json_.find("MESSAGE");
  if (m == nullptr) return true;
  std::string_view message;
  if (m->type == JsonReader::Type::kString) {
    message = m->value;
  } else if (m->type == JsonReader::Type::kArray && decode_byte_array(m->value, &bytes_)) {
    message = bytes_;
  } else {
    return true;
  }
  // A message may end in the newline PostgreSQL wrote.
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.remove_suffix(1);
  Timestamp time;
  int64_t us = json_.integer("__REALTIME_TIMESTAMP");
  if (us >= 0) {
    time.wall_ms = us / 1000;
    time.zone = Timestamp::Zone::kUtc;
    time.has_ms = true;
  }
  // On the stdout transport every line has the pid of whoever opened the
  // stream (the postmaster): only the prefix's %p names the backend.
  int64_t pid = json_.string("_TRANSPORT") == "stdout" ? -1 : json_.integer("_PID");
  return syslog_.feed_message(time, json_.string("_HOSTNAME"), pid, message, out,
                              json_.string("SYSLOG_IDENTIFIER"));
}

}  // namespace pgconn
