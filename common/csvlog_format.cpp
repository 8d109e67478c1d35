#include "csvlog_format.hpp"

namespace pgconn {

namespace {

// Flips `in_quotes` for every '"' in s (a doubled "" flips twice).
bool quotes_after(std::string_view s, bool in_quotes) {
  for (char c : s)
    if (c == '"') in_quotes = !in_quotes;
  return in_quotes;
}

}  // namespace

bool CsvlogFormat::looks_like(std::string_view line) {
  size_t comma = line.find(',');
  Timestamp t;
  if (comma == std::string_view::npos || !parse_pg_time(line.substr(0, comma), &t)) return false;
  // user and database: empty or quoted; then the pid.
  size_t i = comma + 1;
  for (int field = 0; field < 2; ++field) {
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            i += 2;
            continue;
          }
          break;
        }
        ++i;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ',') return false;
    ++i;
  }
  size_t digits = i;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
  return i > digits && i < line.size() && line[i] == ',';
}

bool CsvlogFormat::feed(std::string_view line, RecordSink* out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF files
  if (pending_.empty() && !in_quotes_) {
    if (!quotes_after(line, false)) return emit(line, out);  // the common case: one line
    pending_.assign(line);
    in_quotes_ = true;
    return true;
  }
  if (pending_.size() < kMaxRecord) {
    pending_.push_back('\n');
    pending_.append(line.substr(0, kMaxRecord - std::min(pending_.size(), kMaxRecord)));
  }
  in_quotes_ = quotes_after(line, in_quotes_);
  if (in_quotes_) return true;
  bool ok = emit(pending_, out);
  pending_.clear();
  return ok;
}

bool CsvlogFormat::finish() {
  bool open = in_quotes_;
  pending_.clear();
  in_quotes_ = false;
  return open;
}

bool CsvlogFormat::emit(std::string_view rec, RecordSink* out) {
  fields_.clear();
  unquoted_.clear();
  unquoted_.reserve(rec.size());  // views into it must not move
  size_t i = 0;
  while (true) {
    if (i < rec.size() && rec[i] == '"') {
      size_t start = unquoted_.size();
      ++i;
      while (i < rec.size()) {
        if (rec[i] == '"') {
          if (i + 1 < rec.size() && rec[i + 1] == '"') {
            unquoted_.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        unquoted_.push_back(rec[i++]);
      }
      fields_.push_back(std::string_view(unquoted_).substr(start));
      while (i < rec.size() && rec[i] != ',') ++i;  // junk after a closing quote
    } else {
      size_t comma = rec.find(',', i);
      if (comma == std::string_view::npos) comma = rec.size();
      fields_.push_back(rec.substr(i, comma - i));
      i = comma;
    }
    if (i >= rec.size()) break;
    ++i;  // the comma
  }
  LogRecord r;
  if (!csvlog_record(fields_.data(), fields_.size(), &r)) return true;
  return out->on_record(r);
}

bool csvlog_record(const std::string_view* f, size_t n, LogRecord* r) {
  if (n < 14) return false;  // not a csvlog record
  *r = LogRecord();
  if (!parse_pg_time(f[0], &r->time)) return false;
  r->user = known(f[1]);
  r->db = known(f[2]);
  r->pid = parse_decimal(f[3]);
  split_host_port(f[4], &r->host, &r->port);
  r->session_id = f[5];
  r->line_num = parse_decimal(f[6]);
  r->severity = f[11];
  r->message = f[13];
  if (n > 22) r->app = known(f[22]);
  if (n > 23) r->backend_type = f[23];
  return is_report_severity(r->severity);
}

}  // namespace pgconn
