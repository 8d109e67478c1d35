#include "pipeline/pgbouncer_ahead.hpp"

#include <cstring>

namespace pgconn {

void PgbouncerAhead::read(std::string_view block, PooledLines* out) {
  out->lines.clear();
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
      l.record = static_cast<int32_t>(n++);
    }
    pos = end + 1;
  }
  out->records.resize(n);
}

}  // namespace pgconn
