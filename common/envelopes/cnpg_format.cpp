#include "envelopes/cnpg_format.hpp"

#include "formats/csvlog_format.hpp"

namespace pgconn {

bool CnpgFormat::looks_like(std::string_view line) {
  if (line.empty() || line[0] != '{') return false;
  JsonReader json;
  return json.parse(line) && json.find("msg") != nullptr &&
         (json.find("logger") != nullptr || json.find("logging_pod") != nullptr);
}

bool CnpgFormat::feed(std::string_view line, RecordSink* out) {
  if (line.empty() || line[0] != '{' || !outer_.parse(line)) return true;
  if (outer_.string("logger") != "postgres") return true;
  const JsonReader::Member* rec = outer_.find("record");
  if (rec == nullptr || rec->type != JsonReader::Type::kObject || !record_.parse(rec->value))
    return true;
  // The columns by name; numbers are taken too, in case a version writes
  // process_id or session_line_num unquoted.
  std::string_view columns[kCsvlogColumnCount];
  for (const JsonReader::Member& m : record_.members()) {
    if (m.type != JsonReader::Type::kString && m.type != JsonReader::Type::kNumber) continue;
    for (size_t i = 0; i < kCsvlogColumnCount; ++i) {
      if (m.key == kCsvlogColumns[i]) {
        if (columns[i].data() == nullptr) columns[i] = m.value;
        break;
      }
    }
  }
  LogRecord r;
  if (!csvlog_record(columns, kCsvlogColumnCount, &r)) return true;
  r.server = outer_.string("logging_pod");
  return out->on_record(r);
}

}  // namespace pgconn
