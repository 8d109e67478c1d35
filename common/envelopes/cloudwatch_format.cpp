#include "envelopes/cloudwatch_format.hpp"

namespace pgconn {

namespace {

// The event's "timestamp", milliseconds since the epoch.
bool epoch_ms(int64_t ms, Timestamp* t) {
  if (ms < 0) return false;
  *t = Timestamp();
  t->wall_ms = ms;
  t->zone = Timestamp::Zone::kUtc;
  t->has_ms = true;
  return true;
}

}  // namespace

CloudwatchFormat::CloudwatchFormat(StderrFormat inner) : inner_(std::move(inner)) {}

bool CloudwatchFormat::split_text(std::string_view line, Timestamp* time, std::string_view* stream,
                                  std::string_view* message) {
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos || sp < 19 || line[10] != 'T') return false;
  std::string_view ts = line.substr(0, sp);
  if (!parse_iso_time(ts, time)) return false;
  std::string_view rest = line.substr(sp + 1);
  *stream = {};
  if (ts.size() == 19) {  // short: UTC without a zone (the CLI converts)
    time->zone = Timestamp::Zone::kUtc;
  } else if (ts.back() != 'Z') {  // detailed: "…+00:00 STREAM message"
    size_t sp2 = rest.find(' ');
    if (sp2 == std::string_view::npos || sp2 == 0) return false;
    *stream = rest.substr(0, sp2);
    rest.remove_prefix(sp2 + 1);
  }
  *message = rest;
  return true;
}

bool CloudwatchFormat::claims(const JsonReader& o) {
  const JsonReader::Member* ev = o.find("logEvents");
  if (ev != nullptr && ev->type == JsonReader::Type::kArray) return true;
  if (o.find("messageType") != nullptr && o.find("logGroup") != nullptr) return true;  // CONTROL_MESSAGE
  ev = o.find("events");
  if (ev != nullptr && ev->type == JsonReader::Type::kArray &&
      (o.find("searchedLogStreams") != nullptr || o.find("nextForwardToken") != nullptr ||
       o.find("nextToken") != nullptr || ev->value.find("\"ingestionTime\"") != std::string_view::npos ||
       ev->value.find("\"logStreamName\"") != std::string_view::npos))
    return true;
  // One event: the keys of logEvents[] / events[] elements only.
  if (o.find("message") == nullptr || o.find("timestamp") == nullptr) return false;
  for (const JsonReader::Member& m : o.members())
    if (m.key != "message" && m.key != "timestamp" && m.key != "id" && m.key != "eventId" &&
        m.key != "ingestionTime" && m.key != "logStreamName")
      return false;
  return o.find("id") != nullptr || o.find("eventId") != nullptr || o.find("ingestionTime") != nullptr;
}

bool CloudwatchFormat::feed(std::string_view line, RecordSink* out) {
  JsonStream::Fed fed =
      stream_.feed(line, [&](std::string_view doc) { return feed_document(doc, out); });
  if (fed == JsonStream::Fed::kStopped) return false;
  if (fed == JsonStream::Fed::kTaken) return true;
  Timestamp t;
  std::string_view stream, text;
  if (!split_text(line, &t, &stream, &text)) return true;
  return message(t, stream, text, out);
}

bool CloudwatchFormat::message(const Timestamp& time, std::string_view stream,
                               std::string_view text, RecordSink* out) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  size_t nl = text.find('\n');
  if (nl != std::string_view::npos) text = text.substr(0, nl);
  LogRecord r;
  bool report = inner_.parse(text, &r);
  if (!report && r.severity.empty()) return true;
  if (!r.time.valid() || (!r.time.has_ms && time.valid() && time.has_ms)) r.time = time;
  r.server = stream;
  return report ? out->on_record(r) : out->on_secondary(r);
}

bool CloudwatchFormat::events(std::string_view array, std::string_view stream, RecordSink* out) {
  bool go_on = true;
  for_each_json_element(array, [&](std::string_view element) {
    if (!event_.parse(element)) return true;
    Timestamp t;
    epoch_ms(event_.integer("timestamp"), &t);
    std::string_view s = event_.string("logStreamName");
    go_on = message(t, s.empty() ? stream : s, event_.string("message"), out);
    return go_on;
  });
  return go_on;
}

bool CloudwatchFormat::feed_document(std::string_view doc, RecordSink* out) {
  if (!doc_.parse(doc)) return true;
  if (doc_.string("messageType") == "CONTROL_MESSAGE") return true;
  const JsonReader::Member* ev = doc_.find("logEvents");
  if (ev == nullptr) ev = doc_.find("events");
  if (ev != nullptr) {
    if (ev->type != JsonReader::Type::kArray) return true;
    stream_name_.assign(doc_.string("logStream"));
    return events(ev->value, stream_name_, out);
  }
  if (doc_.find("message") == nullptr) return true;
  Timestamp t;
  epoch_ms(doc_.integer("timestamp"), &t);
  return message(t, doc_.string("logStreamName"), doc_.string("message"), out);
}

}  // namespace pgconn
