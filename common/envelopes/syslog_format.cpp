#include "envelopes/syslog_format.hpp"

#include "formats/pgbouncer_format.hpp"

namespace pgconn {

namespace {

// PostgreSQL cuts syslog messages at PG_SYSLOG_LIMIT (900) bytes, at a
// space where it can: a piece at least this long may continue.
constexpr size_t kMaySplit = 780;

constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";


// "May  1 10:00:00" -> wall time in `year`.
bool parse_bsd_time(std::string_view s, int year, Timestamp* t) {
  if (s.size() != 15 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':') return false;
  size_t m = kMonths.find(s.substr(0, 3));
  if (m == std::string_view::npos || m % 3 != 0) return false;
  int64_t day = parse_decimal(s.substr(4, 2).substr(s[4] == ' ' ? 1 : 0));
  int64_t hh = parse_decimal(s.substr(7, 2)), mm = parse_decimal(s.substr(10, 2)), ss = parse_decimal(s.substr(13, 2));
  if (day < 1 || day > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
    return false;
  *t = Timestamp();
  t->wall_ms = (days_from_civil(year, static_cast<unsigned>(m / 3 + 1), static_cast<unsigned>(day)) *
                    86400 + hh * 3600 + mm * 60 + ss) * 1000;
  return true;
}

}  // namespace

SyslogFormat::SyslogFormat(StderrFormat inner, int year) : inner_(std::move(inner)), year_(year) {}

bool SyslogFormat::parse_header(std::string_view line, int year, Header* h) {
  if (!line.empty() && line[0] == '<') {  // a <PRI> some daemons keep
    size_t close = line.find('>');
    if (close == std::string_view::npos || close > 4) return false;
    line.remove_prefix(close + 1);
  }
  size_t host_at;
  if (line.size() > 16 && line[15] == ' ' && parse_bsd_time(line.substr(0, 15), year, &h->time)) {
    host_at = 16;
  } else {
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos || !parse_iso_time(line.substr(0, sp), &h->time)) return false;
    host_at = sp + 1;
  }
  size_t host_end = line.find(' ', host_at);
  if (host_end == std::string_view::npos || host_end == host_at) return false;
  h->host = line.substr(host_at, host_end - host_at);
  std::string_view rest = line.substr(host_end + 1);
  // The tag: "postgres[812]: " as syslog(3) writes it, or "postgres: "
  // without a pid (rsyslog's imfile following a log file, logger -t); then
  // only the prefix can give the pid.
  // An RFC 5424 message that rsyslog wrote with a traditional template has
  // no ':' after its tag ("db2 postgres 2024-… LOG:  …"): a plain program
  // name is taken then too.
  size_t tag_end = rest.find(' ');
  if (tag_end == std::string_view::npos || tag_end < 2) return false;
  const bool colon = rest[tag_end - 1] == ':';
  std::string_view tag = rest.substr(0, colon ? tag_end - 1 : tag_end);
  constexpr std::string_view kNameBytes =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.[]";
  if (!colon && (tag[0] < 'A' || h->host.back() == ':' ||
                 tag.find_first_not_of(kNameBytes) != std::string_view::npos))
    return false;  // a date or other text ("TIME STREAM 2024-05-01 …" of `aws logs tail`)
  h->tag = tag;
  if (tag.back() == ']') {
    size_t open = tag.find('[');
    if (open == std::string_view::npos || open == 0) return false;
    h->pid = parse_decimal(tag.substr(open + 1, tag.size() - open - 2));
    if (h->pid < 0) return false;
    h->tag = tag.substr(0, open);
  } else if (tag.find_first_of("[]") != std::string_view::npos) {
    return false;
  } else {
    h->pid = -1;
  }
  rest.remove_prefix(tag_end + 1);
  h->body = rest;
  return true;
}

bool parse_sequence(std::string_view* text, int64_t* n, int64_t* m) {
  std::string_view rest = *text;
  if (rest.size() <= 4 || rest[0] != '[') return false;
  size_t dash = rest.find('-');
  size_t close = rest.find("] ");
  if (dash == std::string_view::npos || close == std::string_view::npos || dash > close) return false;
  int64_t seq = parse_decimal(rest.substr(1, dash - 1));
  int64_t piece = parse_decimal(rest.substr(dash + 1, close - dash - 1));
  if (seq < 0 || piece < 1) return false;
  *n = seq;
  *m = piece;
  text->remove_prefix(close + 2);
  return true;
}

bool SyslogFormat::looks_like(std::string_view line) {
  Header h;
  if (!parse_header(line, 2000, &h)) return false;
  // A tag without a pid is any program's: take it for PostgreSQL's only
  // when a report ("LOG:  ", "FATAL:  " …) follows.
  return h.pid >= 0 || is_pgbouncer(h.tag) || h.body.find(":  ") != std::string_view::npos;
}

bool SyslogFormat::emit(const Timestamp& time, std::string_view host, int64_t pid,
                        std::string_view body, RecordSink* out) {
  LogRecord r;
  const bool report = inner_.parse(body, &r);
  if (!report && r.severity.empty()) return true;  // a continuation line, not PostgreSQL's
  if (r.pid < 0) r.pid = pid;
  if (!r.time.valid() || (finer_header_time_ && !r.time.has_ms && time.valid() && time.has_ms))
    r.time = time;
  r.server = host;
  return report ? out->on_record(r) : out->on_secondary(r);
}

bool SyslogFormat::flush(RecordSink* out) {
  if (!held_) return true;
  held_ = false;
  return emit(held_time_, held_host_, held_pid_, held_body_, out);
}

bool SyslogFormat::feed(std::string_view line, RecordSink* out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  Header h;
  if (!parse_header(line, year_, &h)) return flush(out);
  return feed_message(h.time, h.host, h.pid, h.body, out, h.tag);
}

bool SyslogFormat::feed_message(const Timestamp& time, std::string_view host, int64_t pid,
                                std::string_view message, RecordSink* out, std::string_view ident) {
  if (is_pgbouncer(ident)) {  // one message per line, no prefix, no level
    if (!flush(out)) return false;
    if (!message.empty() && message[0] == '\t') return true;
    LogRecord r;
    if (parse_pgbouncer_line(message, &r)) {  // a log file's line (rsyslog imfile)
      r.server = host;
      return out->on_record(r);
    }
    r.time = time;
    r.pid = pid;
    r.server = host;
    parse_pgbouncer_message(message, &r);
    return out->on_record(r);
  }
  Header h;
  h.time = time;
  h.host = host;
  h.pid = pid;
  h.body = message;
  parse_sequence(&h.body, &h.seq, &h.piece);
  bool tab = !h.body.empty() && h.body[0] == '\t';
  if (h.body.substr(0, 4) == "#011") tab = true;
  if (h.piece >= 2) {
    if (!held_ || h.seq != held_seq_ || h.pid != held_pid_ || h.host != held_host_ ||
        h.piece != held_piece_ + 1)
      return true;  // the rest of a message already read
    if (tab) return flush(out);
    held_body_.append(h.body);
    held_piece_ = h.piece;
    return h.body.size() >= kMaySplit || held_body_.size() > (1 << 16) ? true : flush(out);
  }
  if (!flush(out)) return false;
  if (h.body.size() >= kMaySplit && h.seq >= 0) {
    held_ = true;
    held_time_ = h.time;
    held_host_.assign(h.host);
    held_pid_ = h.pid;
    held_seq_ = h.seq;
    held_piece_ = h.piece;
    held_body_.assign(h.body);
    return true;
  }
  return emit(h.time, h.host, h.pid, h.body, out);
}

}  // namespace pgconn
