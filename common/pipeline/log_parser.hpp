// LogParser: PostgreSQL log text in, connection events out (through a
// Tracker). Knows the input formats and picks one; does no I/O.
//
// The caller feeds blocks of whole lines as it reads them (LineReader), and
// tells it when an input ends and when a live stream goes idle. With
// --input=auto the format is detected anew at the start of each input from
// its first recognisable line; the tracker (sessions) carries over from one
// input to the next, so a session can start in one rotated file and end in
// the next.
//
// A line the input's format does not read may be a record of another one:
// a log_destination switch makes PostgreSQL write its first csvlog or
// jsonlog records into the stderr file, and a file may begin in one format
// and go on in another. Such a line is read in its own format (jsonlog by
// its first key, csvlog by its first columns, else a stderr line) and goes
// to the tracker as it comes, in file order. Only lines the current format
// rejects are looked at, so the fast path costs nothing more.
//
// Formats whose lines carry a session line number (csvlog, jsonlog,
// CloudNativePG, Cloud SQL's "[%l-1]", a stderr prefix with %l) go through
// a Reorderer before the tracker, which puts each backend's lines back in
// order. csvlog, jsonlog and stderr are read marker-first (the scan of
// scanner.hpp, log_parser_scan.cpp): only the records that can take part in
// a connection's lifecycle are read in full, and the reorderer, in sparse
// mode, orders those alone (the others leave gaps in the numbers). With %a,
// csvlog or jsonlog, a record without a marker is also read when its pid
// and application name (probed, not parsed) would move an open session.
// While the reorderer holds a line, every line is read (its window runs on
// every line's time). When a numbered line comes later than its backend's
// later lines (a log collected out of order), the rest of the input is read
// line by line. A stderr log's scan and the reading of its candidate lines
// with the detected prefix may be done ahead by the caller, on another
// thread (scan_ahead.hpp, stderr_ahead.hpp), and so may the reading of a
// PgBouncer log file's lines (pgbouncer_ahead.hpp); the state (the prefix's
// detection, sessions, events) stays here, in line order.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "envelopes/azure_format.hpp"
#include "envelopes/cloudwatch_format.hpp"
#include "envelopes/cnpg_format.hpp"
#include "envelopes/envelope_detect.hpp"
#include "formats/csvlog_format.hpp"
#include "envelopes/gcp_format.hpp"
#include "envelopes/heroku_format.hpp"
#include "envelopes/journald_format.hpp"
#include "formats/jsonlog_format.hpp"
#include "formats/pgbouncer_format.hpp"
#include "formats/records_ahead.hpp"
#include "formats/reorder.hpp"
#include "result.hpp"
#include "envelopes/rfc5424_format.hpp"
#include "formats/scanner.hpp"
#include "sink.hpp"
#include "pipeline/pgbouncer_ahead.hpp"
#include "pipeline/stderr_ahead.hpp"
#include "formats/stderr_format.hpp"
#include "envelopes/syslog_format.hpp"
#include "lifecycle/tracker.hpp"

namespace pgconn {

// kUnclaimed is no --input value: auto-detection met an envelope no reader
// takes (EnvelopeDetector), and the input is not read.
enum class InputFormat {
  kAuto, kStderr, kCsv, kJson, kSyslog, kCnpg, kGcp, kJournald,
  kRfc5424, kAzure, kCloudwatch, kHeroku, kPgbouncer, kUnclaimed,
};

// "auto", "stderr", "csv" ("csvlog"), "json" ("jsonlog"), "syslog",
// "rfc5424", and the envelopes "cnpg", "gcp", "journald", "azure",
// "cloudwatch", "heroku", and PgBouncer's own log, "pgbouncer".
Result<InputFormat> parse_input_format(std::string_view name);
std::string_view input_format_name(InputFormat f);

struct ParserOptions {
  InputFormat format = InputFormat::kAuto;
  std::string prefix;       // --prefix; empty with has_prefix false: detect
  bool has_prefix = false;
  int year = 1970;          // for syslog headers without a year
  // Every line read in full, one at a time, on one thread: the
  // straightforward path that the fast ones (marker scans, skipped records)
  // must give byte-identical events to. For tests and make bench
  // (PGCONN_PARSE_REFERENCE=1 in pgconn-parse's environment).
  bool reference = false;
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
  // `scan`: scan_block(block) when the caller made it (ahead, on another
  // thread: scan_ahead.hpp); the fast stderr scan then uses it instead of
  // scanning the block itself. nullptr: the parser scans as it needs to.
  // `read`: scan's candidates read ahead with prefix_ahead() (the lines
  // read with another prefix, or not read, are read here).
  // `records`: the block's csvlog or jsonlog records framed ahead with
  // records_ahead() (records_ahead.hpp); ignored when they no longer fit.
  // `pooled`: every line of block read ahead as PgBouncer's
  // (pgbouncer_ahead.hpp), used while wants_pooler(); nullptr: none.
  bool feed(std::string_view block, const BlockScan* scan = nullptr,
            const LinesAhead* read = nullptr, const RecordsAhead* records = nullptr,
            const PooledLines* pooled = nullptr);

  // What the records of the next block may be framed ahead as
  // (read_records_ahead()), and the csvlog column count to probe with:
  // kNone unless the marker-first csvlog or jsonlog reading is on.
  AheadFormat records_ahead(size_t* columns) const {
    *columns = csv_ ? csv_->columns() : 0;
    if (options_.reference || full_scan_) return AheadFormat::kNone;
    if (current_ == InputFormat::kCsv && csv_) return AheadFormat::kCsv;
    return current_ == InputFormat::kJson ? AheadFormat::kJson : AheadFormat::kNone;
  }

  // True when the lines of the next block may be read ahead as PgBouncer's
  // (the input's format is PgBouncer's log file, not on the reference path).
  bool wants_pooler() const { return current_ == InputFormat::kPgbouncer && !options_.reference; }

  // The log_line_prefix that candidate lines may be read with ahead
  // (stderr_ahead.hpp) for the fast stderr scan; empty when there is none
  // to use (not that scan, or no settled prefix).
  std::string_view prefix_ahead() const {
    return wants_scan() ? stderr_->first_prefix() : std::string_view();
  }

  // True when the next block would take the fast stderr scan, the one a
  // BlockScan given to feed() saves (false before the format and prefix are
  // known, while the reorderer holds a line, once numbered lines came out of
  // order, with %a, and for other formats).
  bool wants_scan() const {
    return current_ == InputFormat::kStderr && !line_by_line() && !app_scan();
  }

  // True while something is held back that idle() would hand on (a
  // connection not yet settled, a syslog message that may continue, a line
  // waiting for an earlier one).
  bool holding() const {
    return tracker_->holding() || reorder_.holding() || (syslog_ && syslog_->holding()) ||
           (journald_ && journald_->holding()) || (rfc5424_ && rfc5424_->holding()) ||
           (heroku_ && heroku_->holding());
  }

  // A live stream has been idle: hand on everything held back.
  bool idle();

  // Live streams, input still coming: a connection held for kLiveSettleMs
  // of wall-clock time since it was read is settled, and a line held for an
  // earlier one of its backend is released. (The scanner never
  // shows the tracker the statement lines that would settle it, and on a
  // busy server the log is never idle; a refusing FATAL is written within
  // milliseconds of its `connection authorized`.) `now_ms` is a monotonic
  // clock; call after each feed(). next_tick_ms() says how long until a
  // tick has something to do (-1: nothing held).
  static constexpr int64_t kLiveSettleMs = 20;
  bool tick(int64_t now_ms);
  int64_t next_tick_ms(int64_t now_ms) const;

  // The current input ended: lines held for earlier ones are released.
  bool end_input();

  // Lines put back in order, or come too late for it.
  const ReorderStats& reorder_stats() const { return reorder_.stats(); }

  // Lines seen in all inputs.
  uint64_t lines() const { return lines_total_; }

  // Of them, PgBouncer's (pgbouncer_format.hpp).
  uint64_t pooler_lines() const { return pooler_lines_; }

  // The format of the current input once known ("stderr (%m [%p] )").
  std::string describe() const;

  // Inputs not read because they were an envelope no reader takes (each
  // was reported once to the Reporter, naming what was seen).
  uint64_t unclaimed_inputs() const { return unclaimed_inputs_; }

  // Records of another program that an envelope carried and that were
  // skipped: Heroku's heroku-postgres metrics samples (all inputs).
  uint64_t metrics_skipped() const;

 private:
  explicit LogParser(const ParserOptions& options, Tracker* tracker, Reporter* reporter);
  StderrFormat make_stderr() const;
  void start_format();  // the reader of current_ (not kAuto)
  bool line(std::string_view text);
  bool app_moved(std::string_view text);
  bool detect(std::string_view text);
  bool detected_envelope(EnvelopeDetector::Kind k);
  bool on_record(const LogRecord& r) override;
  bool on_secondary(const LogRecord& r) override;
  bool to_tracker(const LogRecord& r, const Message* classified = nullptr);
  // line() for a candidate read ahead (or, when that cannot be used, read now):
  // a report to the tracker with its message classified, through the
  // reorderer when it has a line number (%l), a secondary line with one
  // to the reorderer's count.
  bool line_ahead(std::string_view text, const LineAhead& a);
  // The lines of a block read ahead as PgBouncer's, in order.
  bool feed_pooled(std::string_view block, const PooledLines& pooled);
  // A line the current format does not read: a record of another format?
  // True when it was one (read and handed on; *go_on says whether to go on).
  bool foreign(std::string_view text, bool* go_on);
  bool flush_pieces();
  // Lines one at a time (no fast scan): before the format and prefix are
  // known, for multi-line and envelope formats, while the reorderer holds
  // lines, and once numbered lines came out of order.
  bool line_by_line() const {
    if (sparse() && reorder_.holding()) return true;  // the reorderer needs every line's time
    if (options_.reference || full_scan_) return true;
    if (current_ == InputFormat::kCsv || current_ == InputFormat::kJson) return false;
    return current_ != InputFormat::kStderr || stderr_->detected().empty();
  }
  // The reorderer in sparse mode: the formats read marker-first, until
  // numbered lines came out of order.
  bool sparse() const {
    return !options_.reference && !full_scan_ &&
           (current_ == InputFormat::kCsv || current_ == InputFormat::kJson ||
            current_ == InputFormat::kStderr);
  }
  // Marker-first csvlog and jsonlog (log_parser_scan.cpp): from block[*pos]
  // to the block's end, or until line_by_line() says otherwise.
  // `ahead`: the block's records framed ahead, or nullptr.
  bool scan_json(std::string_view block, size_t* pos, const RecordsAhead* ahead);
  bool scan_csv(std::string_view block, size_t* pos, const RecordsAhead* ahead);
  static const RecordAhead* framed_ahead(const RecordsAhead* ahead, size_t begin, size_t* next);
  // A record the scan would skip: read it anyway, as it may move a session
  // (its pid and application name said so, or could not be probed).
  bool may_move(bool probed, int64_t pid, std::string_view app);
  // A numbered line to the reorderer, sparse unless every line is read.
  // `classified`: the report's message classified already (read ahead);
  // the tracker uses it when the line leaves at once.
  bool to_reorder(const LogRecord& r, bool report, const Message* classified = nullptr);
  // A stderr prefix with %a (%l or not): the candidate lines are read
  // in full, every other line is probed (StderrFormat::probe) for an open
  // session whose application name moved, and only such a line is read.
  bool app_scan() const {
    return current_ == InputFormat::kStderr && !line_by_line() && stderr_->has_app();
  }

  // The reorderer's sink: the tracker, through to_tracker(). The record
  // to_reorder() was given leaves as itself when it is not held
  // (Reorderer::add), and then its classified message goes with it.
  struct TrackerSink : RecordSink {
    LogParser* parser;
    const LogRecord* adding = nullptr;     // the record to_reorder() is adding
    const Message* classified = nullptr;   // its message classified, or nullptr
    explicit TrackerSink(LogParser* p) : parser(p) {}
    bool on_record(const LogRecord& r) override {
      return parser->to_tracker(r, &r == adding ? classified : nullptr);
    }
  };

  ParserOptions options_;
  Tracker* tracker_;
  Reporter* reporter_;
  InputFormat current_ = InputFormat::kAuto;
  std::optional<StderrFormat> stderr_;
  std::optional<CsvlogFormat> csv_;
  std::optional<JsonlogFormat> json_;
  std::optional<SyslogFormat> syslog_;
  std::optional<CnpgFormat> cnpg_;
  std::optional<GcpFormat> gcp_;
  std::optional<JournaldFormat> journald_;
  std::optional<PgbouncerFormat> pgbouncer_;
  std::optional<Rfc5424Format> rfc5424_;
  std::optional<AzureFormat> azure_;
  std::optional<CloudwatchFormat> cloudwatch_;
  std::optional<HerokuFormat> heroku_;
  std::optional<EnvelopeDetector> envelopes_;  // while detecting
  uint64_t unclaimed_inputs_ = 0;
  uint64_t metrics_done_ = 0;  // of inputs before this one
  TrackerSink tracker_sink_{this};
  // Records of another format met inside an input: to the tracker in file
  // order (their line numbers are of another sequence than the input's).
  struct ForeignSink : RecordSink {
    LogParser* parser;
    explicit ForeignSink(LogParser* p) : parser(p) {}
    bool on_record(const LogRecord& r) override {
      LogRecord copy = r;
      copy.line_num = -1;
      return parser->to_tracker(copy);
    }
  };
  ForeignSink foreign_sink_{this};
  std::optional<CsvlogFormat> foreign_csv_;
  std::optional<JsonlogFormat> foreign_json_;
  std::optional<StderrFormat> foreign_stderr_;
  std::optional<StderrFormat> detecting_;  // detect()'s, while no format is known
  Reorderer reorder_{&tracker_sink_};
  bool full_scan_ = false;    // numbered lines came out of order: read every one
  BlockScan scan_;            // the fast scan's, when feed() got none
  uint64_t line_no_ = 0;      // in the current input
  uint64_t lines_total_ = 0;
  uint64_t pooler_lines_ = 0;
  uint64_t undecided_ = 0;    // lines before the format was known
  uint64_t checkpoint_mark_ = 0;  // tracker mark() taken at checkpoint_ms_
  uint64_t checkpoint_reorder_ = 0;  // reorderer mark() taken then
  int64_t checkpoint_ms_ = -1;    // -1: no checkpoint
  InputFormat numbered_ = InputFormat::kAuto;  // the format the reorderer's counts are of
};

}  // namespace pgconn
