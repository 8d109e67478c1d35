#include "pipeline/pgbouncer_ahead.hpp"

#include <cstring>

#include "codec/event_codec.hpp"
#include "lifecycle/tracker.hpp"

namespace pgconn {

void PgbouncerAhead::read(std::string_view block, PooledLines* out) {
  out->lines.clear();
  out->names.clear();
  logins_.clear();
  size_t n = 0;  // records used
  size_t pos = 0;
  while (pos < block.size()) {
    const void* nl = std::memchr(block.data() + pos, '\n', block.size() - pos);
    size_t end = nl == nullptr ? block.size() : static_cast<const char*>(nl) - block.data();
    PooledLine& l = out->lines.emplace_back();
    l.begin = static_cast<uint32_t>(pos);
    l.end = static_cast<uint32_t>(end);
    std::string_view text = block.substr(pos, end - pos);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);  // as LogParser::line
    if (n == out->records.size()) out->records.emplace_back();
    PooledRecord& p = out->records[n];
    if (format_.parse(text, &p.record)) {
      p.message = classify_pgbouncer(p.record.severity, p.record.socket, p.record.message);
      if (p.message.kind == BouncerKind::kLogin && p.message.socket.digits != 0) {
        const LoginNames names = Tracker::login_names(p.record, p.message);
        encode_json_names(names.user, names.db, {}, names.host, names.port, names.replication,
                          &encoded_);
        logins_.push_back(Login{static_cast<uint32_t>(n), static_cast<uint32_t>(out->names.size()),
                                static_cast<uint32_t>(encoded_.size())});
        out->names += encoded_;
      }
      l.record = static_cast<int32_t>(n++);
    }
    pos = end + 1;
  }
  out->records.resize(n);
  // Views into names once it no longer grows.
  for (const Login& g : logins_)
    out->records[g.record].message.names_json = std::string_view(out->names).substr(g.at, g.size);
}

}  // namespace pgconn
