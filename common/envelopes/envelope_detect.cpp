#include "envelopes/envelope_detect.hpp"

#include <fmt/format.h>

#include "envelopes/azure_format.hpp"
#include "envelopes/cloudwatch_format.hpp"
#include "envelopes/heroku_format.hpp"
#include "json_reader.hpp"
#include "envelopes/rfc5424.hpp"
#include "envelopes/syslog_format.hpp"

namespace pgconn {

namespace {

// Keys that name a platform whose JSON no reader takes yet.
struct KnownKey {
  std::string_view key;
  std::string_view what;
};
constexpr KnownKey kKnownKeys[] = {
    {"event_message", "a Supabase log event (event_message)"},
    {"awslogs", "a CloudWatch Logs subscription still base64- and gzip-encoded (awslogs.data): "
                "decode it first (base64 -d | gunzip)"},
    {"_msg", "a PlanetScale log record (_msg)"},
    {"streams", "a Loki stream (streams[].values)"},
    {"textPayload", "a Cloud Logging entry of another product"},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "[pg-user-test-1]2023-01-11T23:58:46.010530[postgresql-14][14-1] …"
bool aiven_console(std::string_view line) {
  if (line.size() < 30 || line[0] != '[') return false;
  size_t close = line.find(']');
  if (close == std::string_view::npos || close + 11 > line.size()) return false;
  std::string_view d = line.substr(close + 1, 11);
  return is_digit(d[0]) && is_digit(d[3]) && d[4] == '-' && d[7] == '-' && d[10] == 'T';
}

// '{', or '[' that opens an array of values ("[{", "[]", "[" alone), not
// a log_line_prefix's "[812] " or "[7-1] ".
// Only a document's usual first lines start one: "{" or "[" alone (pretty-
// printed), '{' before a key or '}', '[' before a value; so a damaged line
// or binary noise that happens to start with a brace is not held.
bool starts_json(std::string_view line) {
  while (!line.empty() && json_blank(line.back())) line.remove_suffix(1);
  if (line.empty() || (line[0] != '{' && line[0] != '[')) return false;
  size_t i = line.find_first_not_of(" \t", 1);
  if (i == std::string_view::npos) return true;
  if (line[0] == '{') return line[i] == '"' || line[i] == '}';
  return line[i] == '{' || line[i] == '[' || line[i] == '"' || line[i] == ']';
}

// "<PRI>1 ": an RFC 5424 frame's start, whatever follows.
bool rfc5424_start(std::string_view s) {
  if (s.size() < 5 || s[0] != '<') return false;
  size_t i = 1;
  while (i < s.size() && i <= 3 && is_digit(s[i])) ++i;
  return i > 1 && s.substr(i, 3) == ">1 ";
}

}  // namespace

std::string_view input_values_text() {
  return "auto, stderr, csv, json, syslog, rfc5424, cnpg, gcp, journald, azure, cloudwatch, heroku or pgbouncer";
}

EnvelopeDetector::EnvelopeDetector() {}

std::vector<std::string> EnvelopeDetector::take_held() {
  std::vector<std::string> out = std::move(held_);
  held_.clear();
  held_bytes_ = 0;
  return out;
}

bool EnvelopeDetector::cloudwatch_text(std::string_view line) {
  Timestamp t;
  std::string_view stream, message;
  if (!CloudwatchFormat::split_text(line, &t, &stream, &message)) return false;
  LogRecord r;
  if (!probe_.parse(message, &r)) return false;
  return probe_.detected() != PrefixMatcher::generic().source();
}

EnvelopeDetector::Kind EnvelopeDetector::classify(std::string_view doc) {
  JsonReader json;
  size_t i = 0;
  while (i < doc.size() && json_blank(doc[i])) ++i;
  if (i < doc.size() && doc[i] == '[') {
    what_ = "a JSON array (an export of many records: give its elements one a line, "
            "e.g. jq -c '.[]')";
    return Kind::kUnclaimed;
  }
  if (!json.parse(doc)) return Kind::kNone;  // damage, not an envelope
  if (AzureFormat::claims(json)) return Kind::kAzure;
  if (CloudwatchFormat::claims(json)) return Kind::kCloudwatch;
  for (const KnownKey& k : kKnownKeys) {
    if (json.find(k.key) != nullptr) {
      what_ = std::string(k.what);
      return Kind::kUnclaimed;
    }
  }
  what_ = "a JSON object with keys ";
  size_t n = 0;
  for (const JsonReader::Member& m : json.members()) {
    if (n == 4) {
      what_ += ", …";
      break;
    }
    what_ += fmt::format("{}\"{}\"", n++ ? ", " : "", m.key.substr(0, 40));
  }
  if (n == 0) what_ += "(none)";
  return Kind::kUnclaimed;
}

EnvelopeDetector::Kind EnvelopeDetector::look(std::string_view line) {
  if (stream_.open() || starts_json(line)) {
    verdict_ = Kind::kNone;
    bool any = false;
    JsonStream::Fed fed = stream_.feed(line, [&](std::string_view doc) {
      if (!any) verdict_ = classify(doc);
      any = true;
      return false;  // the first document decides
    });
    if (fed != JsonStream::Fed::kText) {
      held_.emplace_back(line);
      held_bytes_ += line.size();
      if (any) {
        stream_ = JsonStream();
        if (verdict_ == Kind::kNone) take_held();
        return verdict_;
      }
      if (held_bytes_ > JsonStream::kMaxDocument) {  // never ends: noise
        stream_ = JsonStream();
        take_held();
        return Kind::kNone;
      }
      return Kind::kPending;
    }
  }
  if (HerokuFormat::looks_like(line)) return Kind::kHeroku;
  if (looks_like_rfc5424(line)) return Kind::kRfc5424;
  std::string_view rest = line;
  strip_octet_count(&rest);
  if (rfc5424_start(rest)) {
    what_ = "an RFC 5424 frame that does not parse";
    return Kind::kUnclaimed;
  }
  if (aiven_console(line)) {
    what_ = "an Aiven console line ([node]time[unit][N-M] …)";
    return Kind::kUnclaimed;
  }
  // "[N-1] " then a prefix that starts with a time or a bracket (Neon's,
  // Snowflake's rows), not a report at once: a log_line_prefix of
  // "[%p-%l] …" must stay a plain log.
  int64_t n, m;
  if (parse_sequence(&rest, &n, &m) && m == 1 && !rest.empty() &&
      (rest[0] == '[' || (rest[0] >= '0' && rest[0] <= '9'))) {
    what_ = "a syslog message without its header ([N-M] …, e.g. an event table's row)";
    return Kind::kUnclaimed;
  }
  return Kind::kNone;
}

}  // namespace pgconn
