#include "output.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>

#include "event_codec.hpp"

namespace pgconn {

namespace {
constexpr size_t kBufferSize = 64 * 1024;
char g_buffer[kBufferSize];
int g_error = 0;
bool g_closed = false;

bool check() {
  if (!std::ferror(stdout)) return true;
  if (errno == EPIPE) {
    g_closed = true;
  } else if (g_error == 0) {
    g_error = errno != 0 ? errno : EIO;
  }
  return false;
}
}  // namespace

void output_init() {
  std::signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stdout, g_buffer, _IOFBF, kBufferSize);
}

bool output_write(std::string_view s) {
  if (g_closed || g_error != 0) return false;
  if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size()) return check();
  return true;
}

bool output_flush() {
  if (g_closed || g_error != 0) return false;
  if (std::fflush(stdout) != 0) return check();
  return true;
}

int output_error() { return g_error; }
bool output_closed() { return g_closed; }

bool EventWriter::on_event(const Event& e) {
  line_.clear();
  if (format_ == Format::kJson) {
    encode_json(e, &line_);
  } else {
    encode_tsv(e, &line_);
  }
  return output_write(line_);
}

}  // namespace pgconn
