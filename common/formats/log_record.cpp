#include "formats/log_record.hpp"

namespace pgconn {

bool is_report_severity(std::string_view s) {
  switch (s.size()) {
    case 3: return s == "LOG";
    case 4: return s == "INFO";
    case 5: return s == "FATAL" || s == "ERROR" || s == "PANIC";
    case 6: return s == "NOTICE" || (s.substr(0, 5) == "DEBUG" && s[5] >= '1' && s[5] <= '5');
    case 7: return s == "WARNING";
    default: return false;
  }
}

std::string_view strip_sqlstate(std::string_view m) {
  if (m.size() < 7 || m[5] != ':' || m[6] != ' ') return m;
  for (int i = 0; i < 5; ++i) {
    char c = m[i];
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return m;
  }
  return m.substr(7);
}

int64_t parse_decimal(std::string_view s, int64_t max) {
  if (s.empty()) return -1;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
    if (v > max) return -1;
  }
  return v;
}

void split_host_port(std::string_view text, std::string_view* host, int32_t* port) {
  *port = -1;
  *host = known(text);
  if (host->empty() || (*host)[0] == '[') return;
  // Up to five digits split the port off; a number past 65535 is no port.
  auto port_of = [](std::string_view digits) { return parse_decimal(digits, 99999); };
  if (host->back() == ')') {  // %r: host(port)
    size_t open = host->rfind('(');
    if (open != std::string_view::npos) {
      std::string_view inside = host->substr(open + 1, host->size() - open - 2);
      int64_t p = port_of(inside);
      if (p >= 0) {
        *port = p <= 65535 ? static_cast<int32_t>(p) : -1;
        *host = host->substr(0, open);
      } else if (!inside.empty() && inside.find_first_not_of('?') == std::string_view::npos) {
        *host = host->substr(0, open);  // Amazon RDS's "???(???)": the port unknown
      }
    }
    return;
  }
  size_t colon = host->rfind(':');  // csvlog: host:port, also for IPv6 (::1:5432)
  if (colon != std::string_view::npos) {
    int64_t p = port_of(host->substr(colon + 1));
    if (p >= 0) {
      *port = p <= 65535 ? static_cast<int32_t>(p) : -1;
      *host = host->substr(0, colon);
    }
  }
}

int64_t pid_from_session_id(std::string_view id) {
  size_t dot = id.find('.');
  if (dot == std::string_view::npos || dot == 0 || id.size() - dot - 1 == 0 || id.size() - dot - 1 > 8)
    return -1;
  int64_t pid = 0;
  for (char c : id.substr(dot + 1)) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return -1;
    pid = pid * 16 + d;
  }
  return pid;
}

std::string_view known(std::string_view field) {
  return field == "[unknown]" ? std::string_view() : field;
}

}  // namespace pgconn
