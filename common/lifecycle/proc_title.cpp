#include "lifecycle/proc_title.hpp"

#include <vector>

namespace pgconn {

namespace {

constexpr std::string_view kProgram = "postgres: ";

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The titles are padded (PS_PADDING) and the fixed part ends in a space.
std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.remove_suffix(1);
  return s;
}

// "[local]", or HOST "(" PORT ")" with a non-empty host and a port number.
bool host_token(std::string_view t, std::string_view* host, int32_t* port) {
  if (t == "[local]") {
    *host = t;
    *port = -1;
    return true;
  }
  if (t.size() < 4 || t.back() != ')') return false;
  size_t open = t.rfind('(');
  if (open == std::string_view::npos || open == 0 || open + 2 >= t.size()) return false;
  int32_t p = 0;
  for (size_t i = open + 1; i + 1 < t.size(); ++i) {
    if (t[i] < '0' || t[i] > '9' || p > 65535) return false;
    p = p * 10 + (t[i] - '0');
  }
  if (p > 65535) return false;
  *host = t.substr(0, open);
  *port = p;
  return true;
}

std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t sp = s.find(' ', start);
    out.push_back(s.substr(start, sp == std::string_view::npos ? sp : sp - start));
    if (sp == std::string_view::npos) return out;
    start = sp + 1;
  }
}

// USER " " DB with exactly one space; else the names are not certain.
void split_names(std::string_view names, bool db_optional, ProcTitle* t) {
  std::vector<std::string_view> tok = split_spaces(names);
  for (std::string_view x : tok)
    if (x.empty()) return;  // two spaces in a row: a name holds a space
  if (tok.size() == 1 && db_optional) {
    t->user = tok[0];
    t->names_known = true;
  } else if (tok.size() == 2) {
    t->user = tok[0];
    t->db = tok[1];
    t->names_known = true;
  }
}

}  // namespace

ProcTitle parse_proc_title(std::string_view title, std::optional<std::string_view> cluster) {
  ProcTitle t;
  title = trim_right(title.substr(0, title.find('\0')));
  if (!starts_with(title, kProgram)) return t;
  std::string_view rest = title.substr(kProgram.size());
  t.kind = ProcTitle::Kind::kOther;
  if (cluster && !cluster->empty() && starts_with(rest, *cluster)) rest.remove_prefix(cluster->size());

  // The host token: the last one that looks like it.
  std::string_view host;
  int32_t port = -1;
  size_t host_at = std::string_view::npos, host_len = 0;
  for (size_t start = 0; start <= rest.size();) {
    size_t sp = rest.find(' ', start);
    size_t end = sp == std::string_view::npos ? rest.size() : sp;
    std::string_view h;
    int32_t p;
    if (start > 0 && host_token(rest.substr(start, end - start), &h, &p)) {
      host = h;
      port = p;
      host_at = start;
      host_len = end - start;
    }
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  if (host_at == std::string_view::npos) return t;  // a server process, not a session
  std::string_view names = rest.substr(0, host_at - 1);
  std::string_view state = host_at + host_len < rest.size() ? rest.substr(host_at + host_len + 1)
                                                            : std::string_view();

  // An unknown cluster prefix: "CLUSTER: " before at least two more tokens.
  if (!cluster) {
    size_t colon = names.find(": ");
    if (colon != std::string_view::npos && names.find(' ') == colon + 1 &&
        split_spaces(names.substr(colon + 2)).size() >= 2)
      names.remove_prefix(colon + 2);
  }
  if (starts_with(names, "autovacuum worker")) return t;  // its activity is a database name

  bool replication = false;
  for (std::string_view w : {std::string_view("wal sender process "), std::string_view("walsender ")}) {
    if (starts_with(names, w)) {
      names.remove_prefix(w.size());
      replication = true;
      break;
    }
  }
  if (!replication && split_spaces(names).size() < 2) return t;  // not USER DB: some worker
  t.kind = replication ? ProcTitle::Kind::kReplication : ProcTitle::Kind::kClient;
  split_names(names, replication, &t);
  if (!t.names_known) {
    t.user.clear();
    t.db.clear();
  }
  t.host = host;
  t.port = port;
  t.state = state;
  if (state == "authentication" || state == "initializing") t.kind = ProcTitle::Kind::kSettingUp;
  return t;
}

std::optional<std::string> cluster_prefix(std::string_view title) {
  title = trim_right(title.substr(0, title.find('\0')));
  if (!starts_with(title, kProgram)) return std::nullopt;
  title.remove_prefix(kProgram.size());
  for (std::string_view name :
       {std::string_view("checkpointer process"), std::string_view("checkpointer")}) {
    if (title.size() < name.size() || title.substr(title.size() - name.size()) != name) continue;
    std::string_view prefix = title.substr(0, title.size() - name.size());
    if (prefix.empty() || (prefix.size() >= 3 && prefix.substr(prefix.size() - 2) == ": "))
      return std::string(prefix);
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace pgconn
