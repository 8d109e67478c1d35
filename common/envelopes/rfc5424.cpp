#include "envelopes/rfc5424.hpp"

#include "formats/log_record.hpp"

namespace pgconn {

namespace {

// The next space-delimited header field; false at the end of the text.
bool field(std::string_view* rest, std::string_view* out) {
  size_t sp = rest->find(' ');
  if (sp == std::string_view::npos || sp == 0) return false;
  *out = rest->substr(0, sp);
  rest->remove_prefix(sp + 1);
  if (*out == "-") *out = {};
  return true;
}

// The end of the SD element starting at sd[i] == '[' (one past its ']'),
// npos when it does not end: ']' inside a quoted value is escaped or quoted.
size_t element_end(std::string_view sd, size_t i) {
  bool quoted = false;
  for (++i; i < sd.size(); ++i) {
    char c = sd[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ']') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

int64_t strip_octet_count(std::string_view* text) {
  size_t i = 0;
  while (i < text->size() && i < 10 && (*text)[i] >= '0' && (*text)[i] <= '9') ++i;
  if (i == 0 || i + 1 >= text->size() || (*text)[i] != ' ' || (*text)[i + 1] != '<') return -1;
  int64_t n = parse_decimal(text->substr(0, i));
  if (n <= 0) return -1;
  text->remove_prefix(i + 1);
  return n;
}

bool looks_like_rfc5424(std::string_view line) {
  strip_octet_count(&line);
  Rfc5424Frame f;
  return parse_rfc5424(line, &f);
}

bool parse_rfc5424(std::string_view text, Rfc5424Frame* f) {
  *f = Rfc5424Frame();
  if (text.size() < 8 || text[0] != '<') return false;
  size_t close = text.find('>');
  if (close == std::string_view::npos || close < 2 || close > 4) return false;
  int64_t pri = parse_decimal(text.substr(1, close - 1), 191);
  if (pri < 0 || text.substr(close + 1, 2) != "1 ") return false;
  f->pri = static_cast<int>(pri);
  std::string_view rest = text.substr(close + 3);
  std::string_view ts;
  if (!field(&rest, &ts)) return false;
  if (!ts.empty() && !parse_iso_time(ts, &f->time)) return false;
  if (!field(&rest, &f->hostname) || !field(&rest, &f->app_name) || !field(&rest, &f->procid))
    return false;
  // MSGID, then STRUCTURED-DATA, which may end the frame (no message).
  size_t sp = rest.find(' ');
  if (sp == 0) return false;
  f->msgid = rest.substr(0, sp);
  if (f->msgid == "-") f->msgid = {};
  if (sp == std::string_view::npos) return false;
  rest.remove_prefix(sp + 1);
  if (rest.empty()) return false;
  if (rest[0] == '-') {
    rest.remove_prefix(1);
  } else if (rest[0] == '[') {
    size_t i = 0;
    while (i < rest.size() && rest[i] == '[') {
      size_t end = element_end(rest, i);
      if (end == std::string_view::npos) return false;
      i = end;
    }
    f->structured_data = rest.substr(0, i);
    rest.remove_prefix(i);
  } else {
    // No structured data at all (Heroku's Logplex writes none): the
    // message follows MSGID.
    if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);
    f->message = rest;
    return true;
  }
  if (!rest.empty()) {
    if (rest[0] != ' ') return false;
    rest.remove_prefix(1);
  }
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);
  f->message = rest;
  return true;
}

std::string_view sd_first_id(std::string_view sd) {
  if (sd.empty() || sd[0] != '[') return {};
  size_t end = sd.find_first_of(" ]");
  if (end == std::string_view::npos) return {};
  return sd.substr(1, end - 1);
}

bool sd_first_is_bare(std::string_view sd) {
  if (sd.empty() || sd[0] != '[') return false;
  size_t end = sd.find_first_of(" ]");
  return end != std::string_view::npos && sd[end] == ']';
}

bool sd_param(std::string_view sd, std::string_view name, std::string* value) {
  size_t i = 0;
  while (i < sd.size() && sd[i] == '[') {
    size_t end = element_end(sd, i);
    if (end == std::string_view::npos) return false;
    std::string_view el = sd.substr(i + 1, end - i - 2);  // without [ ]
    size_t p = el.find(' ');
    while (p != std::string_view::npos && p < el.size()) {
      size_t eq = el.find('=', p + 1);
      if (eq == std::string_view::npos || eq + 1 >= el.size() || el[eq + 1] != '"') return false;
      std::string_view key = el.substr(p + 1, eq - p - 1);
      std::string v;
      size_t j = eq + 2;
      for (; j < el.size() && el[j] != '"'; ++j) {
        // RFC 5424 6.3.3: only \" \\ \] are escapes; another backslash stays.
        if (el[j] == '\\' && j + 1 < el.size() &&
            (el[j + 1] == '"' || el[j + 1] == '\\' || el[j + 1] == ']')) {
          ++j;
        }
        v.push_back(el[j]);
      }
      if (j >= el.size()) return false;
      if (key == name) {
        *value = std::move(v);
        return true;
      }
      p = j + 1 < el.size() && el[j + 1] == ' ' ? j + 1 : std::string_view::npos;
    }
    i = end;
  }
  return false;
}

}  // namespace pgconn
