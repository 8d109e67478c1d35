#include "envelopes/heroku_format.hpp"

#include "envelopes/rfc5424.hpp"
#include "envelopes/rfc5424_format.hpp"

namespace pgconn {

namespace {

struct TextLine {
  Timestamp time;
  std::string_view process;  // "postgres.4882", "heroku-postgres", "web.1"
  std::string_view source;   // "app", "heroku"
  std::string_view rest;     // after the tag
};

// "TIME [HOST ]source[process][:] rest".
bool parse_text(std::string_view line, TextLine* t) {
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos || !parse_iso_time(line.substr(0, sp), &t->time)) return false;
  std::string_view rest = line.substr(sp + 1);
  for (int i = 0; i < 2; ++i) {  // the tag, or a drain's host before it
    size_t end = rest.find(' ');
    std::string_view tok = rest.substr(0, end);
    if (!tok.empty() && tok.back() == ':') tok.remove_suffix(1);
    size_t open = tok.find('[');
    if (open != std::string_view::npos && open > 0 && tok.back() == ']') {
      t->source = tok.substr(0, open);
      t->process = tok.substr(open + 1, tok.size() - open - 2);
      t->rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      return true;
    }
    if (end == std::string_view::npos) return false;
    rest.remove_prefix(end + 1);
  }
  return false;
}

// "[GREEN] " at the start of a message: the attachment, removed.
std::string_view take_attachment(std::string_view* msg) {
  std::string_view m = *msg;
  if (m.size() < 4 || m[0] != '[') return {};
  size_t close = m.find("] ");
  if (close == std::string_view::npos || close < 2) return {};
  std::string_view name = m.substr(1, close - 1);
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return {};
  msg->remove_prefix(close + 2);
  return name;
}

bool is_postgres_process(std::string_view p) { return p.substr(0, 9) == "postgres."; }

}  // namespace

const std::vector<std::string_view>& HerokuFormat::prefixes() {
  static const std::vector<std::string_view> kPrefixes = {
      " sql_error_code = %e time_ms = \"%m\" pid=\"%p\" proc_start_time=\"%s\" session_id=\"%c\" "
      "vtid=\"%v\" tid=\"%x\" log_line=\"%l\" %qdatabase=\"%d\" connection_source=\"%r\" "
      "user=\"%u\" application_name=\"%a\" ",
      " database = %d connection_source = %r sql_error_code = %e ",
      " sql_error_code = %e ",
  };
  return kPrefixes;
}

HerokuFormat::HerokuFormat(StderrFormat inner, int year) : syslog_(std::move(inner), year) {
  syslog_.set_finer_header_time(true);
}

bool HerokuFormat::looks_like(std::string_view line) {
  std::string_view rest = line;
  strip_octet_count(&rest);
  Rfc5424Frame f;
  if (parse_rfc5424(rest, &f))
    return f.app_name == "app" && (is_postgres_process(f.procid) || f.procid == "heroku-postgres");
  TextLine t;
  if (!parse_text(line, &t) || t.source != "app" || !is_postgres_process(t.process)) return false;
  std::string_view msg = t.rest;
  return !take_attachment(&msg).empty();
}

bool HerokuFormat::feed(std::string_view line, RecordSink* out) {
  if (skip_bytes_ > 0 || looks_like_rfc5424(line))
    return for_each_rfc5424_frame(line, &skip_bytes_,
                                  [&](std::string_view text) { return frame(text, out); });
  return text_line(line, out);
}

bool HerokuFormat::text_line(std::string_view line, RecordSink* out) {
  TextLine t;
  if (!parse_text(line, &t)) return syslog_.flush(out);
  if (t.process == "heroku-postgres") ++metrics_;
  if (t.source != "app" || !is_postgres_process(t.process)) return true;
  std::string_view msg = t.rest;
  std::string_view color = take_attachment(&msg);
  return syslog_.feed_message(t.time, color, pid_from_procid(t.process), msg, out);
}

bool HerokuFormat::frame(std::string_view text, RecordSink* out) {
  Rfc5424Frame f;
  if (!parse_rfc5424(text, &f)) return syslog_.flush(out);
  if (f.procid == "heroku-postgres") ++metrics_;
  if (f.app_name != "app" || !is_postgres_process(f.procid)) return true;
  // The attachment reads as bare structured data ("- [YELLOW] [12-1] …"),
  // or stays in the message when a sender wrote "-" for it.
  std::string_view msg = f.message;
  std::string_view color;
  if (sd_first_is_bare(f.structured_data)) {
    color = sd_first_id(f.structured_data);
  } else {
    color = take_attachment(&msg);
  }
  size_t lead = msg.find_first_not_of(' ');
  if (lead != std::string_view::npos && lead > 0 && msg[lead] == '[') msg.remove_prefix(lead);
  return syslog_.feed_message(f.time, color, pid_from_procid(f.procid), msg, out);
}

}  // namespace pgconn
