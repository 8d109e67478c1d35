#include "pgbouncer_ahead.hpp"

#include <cstring>

namespace pgconn {

void PgbouncerAhead::read(std::string_view block, std::vector<PooledLine>* out) {
  size_t n = 0;
  size_t pos = 0;
  while (pos < block.size()) {
    const void* nl = std::memchr(block.data() + pos, '\n', block.size() - pos);
    size_t end = nl == nullptr ? block.size() : static_cast<const char*>(nl) - block.data();
    if (n == out->size()) out->emplace_back();
    PooledLine& l = (*out)[n++];
    std::string_view text = block.substr(pos, end - pos);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);  // as LogParser::line
    l.begin = static_cast<uint32_t>(pos);
    l.end = static_cast<uint32_t>(end);
    l.parsed = format_.parse(text, &l.record);
    if (l.parsed) l.message = classify_pgbouncer(l.record.severity, l.record.socket, l.record.message);
    pos = end + 1;
  }
  out->resize(n);
}

}  // namespace pgconn
