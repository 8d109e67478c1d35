// LogParser: PostgreSQL log text in, connection events out (through a
// Tracker). Knows the input formats and picks one; does no I/O.
//
// The caller feeds blocks of whole lines as it reads them (LineReader), and
// tells it when an input ends and when a live stream goes idle. With
// --input=auto the format is detected anew at the start of each input from
// its first recognisable line; the tracker (sessions) carries over from one
// input to the next, so a session can start in one rotated file and end in
// the next.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "csvlog_format.hpp"
#include "jsonlog_format.hpp"
#include "result.hpp"
#include "sink.hpp"
#include "stderr_format.hpp"
#include "syslog_format.hpp"
#include "tracker.hpp"

namespace pgconn {

enum class InputFormat { kAuto, kStderr, kCsv, kJson, kSyslog };

// "auto", "stderr", "csv" ("csvlog"), "json" ("jsonlog"), "syslog".
Result<InputFormat> parse_input_format(std::string_view name);
std::string_view input_format_name(InputFormat f);

struct ParserOptions {
  InputFormat format = InputFormat::kAuto;
  std::string prefix;       // --prefix; empty with has_prefix false: detect
  bool has_prefix = false;
  int year = 1970;          // for syslog headers without a year
};

class LogParser : private RecordSink {
 public:
  // Fails on a bad prefix. REQUIRES: tracker and reporter outlive the parser.
  static Result<std::unique_ptr<LogParser>> create(const ParserOptions& options,
                                                   Tracker* tracker, Reporter* reporter);
  ~LogParser() override;

  // A new input starts: line numbers restart, detection starts over.
  void begin_input();

  // Feeds whole lines; the last may lack its '\n' (end of input, or a line
  // cut by the reader). Returns false when the event sink said stop.
  bool feed(std::string_view block);

  // True while something is held back that idle() would hand on (a
  // connection not yet settled, a syslog message that may continue).
  bool holding() const { return tracker_->holding() || (syslog_ && syslog_->holding()); }

  // A live stream has been idle: hand on everything held back.
  bool idle();

  // Live streams, input still coming: a connection held for kLiveSettleMs
  // of wall-clock time since it was read is settled. (The scanner never
  // shows the tracker the statement lines that would settle it, and on a
  // busy server the log is never idle; a refusing FATAL is written within
  // milliseconds of its `connection authorized`.) `now_ms` is a monotonic
  // clock; call after each feed(). next_tick_ms() says how long until a
  // tick has something to do (-1: nothing held).
  static constexpr int64_t kLiveSettleMs = 20;
  bool tick(int64_t now_ms);
  int64_t next_tick_ms(int64_t now_ms) const;

  // The current input ended.
  bool end_input();

  // Lines seen in all inputs.
  uint64_t lines() const { return lines_total_; }

  // The format of the current input once known ("stderr (%m [%p] )").
  std::string describe() const;

 private:
  explicit LogParser(const ParserOptions& options, Tracker* tracker, Reporter* reporter);
  StderrFormat make_stderr() const;
  bool line(std::string_view text);
  bool detect(std::string_view text);
  bool on_record(const LogRecord& r) override;

  ParserOptions options_;
  Tracker* tracker_;
  Reporter* reporter_;
  InputFormat current_ = InputFormat::kAuto;
  std::optional<StderrFormat> stderr_;
  std::optional<CsvlogFormat> csv_;
  std::optional<JsonlogFormat> json_;
  std::optional<SyslogFormat> syslog_;
  uint64_t line_no_ = 0;      // in the current input
  uint64_t lines_total_ = 0;
  uint64_t undecided_ = 0;    // lines before the format was known
  uint64_t checkpoint_mark_ = 0;  // tracker mark() taken at checkpoint_ms_
  int64_t checkpoint_ms_ = -1;    // -1: no checkpoint
};

}  // namespace pgconn
