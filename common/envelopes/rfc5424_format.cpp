#include "envelopes/rfc5424_format.hpp"

namespace pgconn {

int64_t pid_from_procid(std::string_view procid) {
  size_t dot = procid.rfind('.');
  if (dot != std::string_view::npos) procid.remove_prefix(dot + 1);
  return parse_decimal(procid, int64_t{1} << 31);
}

Rfc5424Format::Rfc5424Format(StderrFormat inner, int year) : syslog_(std::move(inner), year) {
  syslog_.set_finer_header_time(true);
}

bool Rfc5424Format::feed(std::string_view line, RecordSink* out) {
  return for_each_rfc5424_frame(line, &skip_bytes_,
                                [&](std::string_view text) { return frame(text, out); });
}

bool Rfc5424Format::frame(std::string_view text, RecordSink* out) {
  Rfc5424Frame f;
  if (!parse_rfc5424(text, &f)) return syslog_.flush(out);
  std::string_view msg = f.message;
  // After structured data some senders put two spaces (Neon: "]  [7-1]"),
  // and rsyslog keeps the space an RFC 3164 message had after its tag.
  size_t lead = msg.find_first_not_of(' ');
  msg.remove_prefix(lead == std::string_view::npos ? msg.size() : lead);
  if (!sd_param(f.structured_data, "endpoint_id", &server_)) server_.assign(f.hostname);
  return syslog_.feed_message(f.time, server_, pid_from_procid(f.procid), msg, out);
}

}  // namespace pgconn
