#include "pipeline/log_parser.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "formats/scanner.hpp"

namespace pgconn {

namespace {
// Lines after which an input with no recognisable line is read as stderr.
constexpr uint64_t kDetectLines = 200;

// The heads of lifecycle messages: a line that has one but is not a report
// line (damaged prefix, cut line) is counted as malformed.
bool has_lifecycle_head(std::string_view line) {
  return line.find("connection received: ") != std::string_view::npos ||
         line.find("connection authorized: ") != std::string_view::npos ||
         line.find("disconnection: session time: ") != std::string_view::npos ||
         line.find(" login attempt: ") != std::string_view::npos ||
         line.find(" closing because: ") != std::string_view::npos;
}
}  // namespace

Result<InputFormat> parse_input_format(std::string_view name) {
  if (name == "auto") return InputFormat::kAuto;
  if (name == "stderr") return InputFormat::kStderr;
  if (name == "csv" || name == "csvlog") return InputFormat::kCsv;
  if (name == "json" || name == "jsonlog") return InputFormat::kJson;
  if (name == "syslog") return InputFormat::kSyslog;
  if (name == "cnpg") return InputFormat::kCnpg;
  if (name == "gcp") return InputFormat::kGcp;
  if (name == "journald") return InputFormat::kJournald;
  if (name == "pgbouncer") return InputFormat::kPgbouncer;
  if (name == "rfc5424") return InputFormat::kRfc5424;
  if (name == "azure") return InputFormat::kAzure;
  if (name == "cloudwatch") return InputFormat::kCloudwatch;
  if (name == "heroku") return InputFormat::kHeroku;
  return make_error(fmt::format("bad --input \"{}\": expected {}", name, input_values_text()));
}

std::string_view input_format_name(InputFormat f) {
  switch (f) {
    case InputFormat::kAuto: return "auto";
    case InputFormat::kStderr: return "stderr";
    case InputFormat::kCsv: return "csvlog";
    case InputFormat::kJson: return "jsonlog";
    case InputFormat::kSyslog: return "syslog";
    case InputFormat::kCnpg: return "cnpg";
    case InputFormat::kGcp: return "gcp";
    case InputFormat::kJournald: return "journald";
    case InputFormat::kRfc5424: return "rfc5424";
    case InputFormat::kAzure: return "azure";
    case InputFormat::kCloudwatch: return "cloudwatch";
    case InputFormat::kHeroku: return "heroku";
    case InputFormat::kUnclaimed: return "unclaimed";
    case InputFormat::kPgbouncer: return "pgbouncer";
  }
  return "?";
}

Result<std::unique_ptr<LogParser>> LogParser::create(const ParserOptions& options,
                                                     Tracker* tracker, Reporter* reporter) {
  std::unique_ptr<LogParser> p(new LogParser(options, tracker, reporter));
  if (options.has_prefix) {  // compiled here once to report a bad prefix
    auto m = PrefixMatcher::compile(options.prefix);
    if (!m.ok()) return make_error(m.error());
  }
  p->begin_input();
  return p;
}

LogParser::LogParser(const ParserOptions& options, Tracker* tracker, Reporter* reporter)
    : options_(options), tracker_(tracker), reporter_(reporter) {}

LogParser::~LogParser() = default;

StderrFormat LogParser::make_stderr() const {
  if (options_.has_prefix) return StderrFormat(std::move(*PrefixMatcher::compile(options_.prefix)));
  return StderrFormat();
}

void LogParser::begin_input() {
  line_no_ = 0;
  undecided_ = 0;
  current_ = options_.format;
  stderr_.reset();
  csv_.reset();
  json_.reset();
  syslog_.reset();
  cnpg_.reset();
  gcp_.reset();
  journald_.reset();
  pgbouncer_.reset();
  foreign_csv_.reset();
  foreign_json_.reset();
  foreign_stderr_.reset();
  if (heroku_) metrics_done_ += heroku_->metrics_skipped();
  rfc5424_.reset();
  azure_.reset();
  cloudwatch_.reset();
  heroku_.reset();
  envelopes_.reset();
  if (current_ == InputFormat::kAuto) envelopes_.emplace();
  full_scan_ = false;
  start_format();
}

void LogParser::start_format() {
  // Each destination numbers a backend's lines on its own: csvlog and
  // jsonlog files of one server read in one run are two sequences.
  if (current_ != InputFormat::kAuto && current_ != numbered_) {
    reorder_.restart_counts();
    numbered_ = current_;
  }
  switch (current_) {
    case InputFormat::kStderr: stderr_.emplace(make_stderr()); break;
    case InputFormat::kCsv: csv_.emplace(); break;
    case InputFormat::kJson: json_.emplace(); break;
    case InputFormat::kSyslog: syslog_.emplace(make_stderr(), options_.year); break;
    case InputFormat::kCnpg: cnpg_.emplace(); break;
    case InputFormat::kGcp:
      if (options_.has_prefix) {
        gcp_.emplace(std::move(*PrefixMatcher::compile(options_.prefix)));
      } else {
        gcp_.emplace();
      }
      break;
    case InputFormat::kJournald: journald_.emplace(make_stderr(), options_.year); break;
    case InputFormat::kPgbouncer: pgbouncer_.emplace(); break;
    case InputFormat::kRfc5424: rfc5424_.emplace(make_stderr(), options_.year); break;
    case InputFormat::kAzure: azure_.emplace(make_stderr()); break;
    case InputFormat::kCloudwatch: cloudwatch_.emplace(make_stderr()); break;
    case InputFormat::kHeroku:
      heroku_.emplace(options_.has_prefix ? make_stderr() : StderrFormat(HerokuFormat::prefixes()),
                      options_.year);
      break;
    case InputFormat::kAuto: case InputFormat::kUnclaimed: break;
  }
}

std::string LogParser::describe() const {
  if (current_ == InputFormat::kStderr && stderr_)
    return fmt::format("stderr, log_line_prefix '{}'", stderr_->detected());
  return std::string(input_format_name(current_));
}

bool LogParser::on_record(const LogRecord& r) {
  if (!r.via.empty()) ++pooler_lines_;
  if (r.line_num >= 0) return to_reorder(r, true);
  return to_tracker(r);
}

bool LogParser::on_secondary(const LogRecord& r) {
  if (r.line_num >= 0) return to_reorder(r, false);
  return true;
}

bool LogParser::to_reorder(const LogRecord& r, bool report, const Message* classified) {
  const bool sparse = this->sparse();
  reorder_.set_sparse(sparse);
  const uint64_t late = reorder_.stats().late;
  bool go_on;
  {
    // Set for this add() only, also when the sink throws (EPIPE).
    struct Adding {
      TrackerSink& sink;
      ~Adding() { sink.adding = nullptr; }
    } adding{tracker_sink_};
    tracker_sink_.adding = classified != nullptr ? &r : nullptr;
    tracker_sink_.classified = classified;
    go_on = reorder_.add(r, report);
  }
  // Out of order: the gaps the scan left can no longer be told from lines
  // still to come. From here every line is read, and counted afresh.
  if (sparse && reorder_.stats().late != late) {
    full_scan_ = true;
    go_on = reorder_.restart_counts() && go_on;
  }
  return go_on;
}

bool LogParser::to_tracker(const LogRecord& r, const Message* classified) {
  uint64_t malformed = tracker_->stats().malformed;
  bool go_on = tracker_->add(r, classified);
  if (tracker_->stats().malformed != malformed)
    reporter_->on_malformed(line_no_, "malformed connection line");
  return go_on;
}

// Picks the format from the first line that shows one.
// Picks the format from the first line that shows one. A JSON object is
// jsonlog by its first key, else an envelope by its keys.
bool LogParser::detect(std::string_view text) {
  if (JsonlogFormat::looks_like(text)) {
    current_ = InputFormat::kJson;
  } else if (CnpgFormat::looks_like(text)) {
    current_ = InputFormat::kCnpg;
  } else if (GcpFormat::looks_like(text)) {
    current_ = InputFormat::kGcp;
  } else if (JournaldFormat::looks_like(text)) {
    current_ = InputFormat::kJournald;
  } else if (PgbouncerFormat::looks_like(text)) {
    current_ = InputFormat::kPgbouncer;
  } else if (EnvelopeDetector::Kind k = envelopes_->look(text); k != EnvelopeDetector::Kind::kNone) {
    return detected_envelope(k);
  } else if (CsvlogFormat::looks_like(text)) {
    current_ = InputFormat::kCsv;
  } else if (SyslogFormat::looks_like(text)) {
    current_ = InputFormat::kSyslog;
  } else if (envelopes_->cloudwatch_text(text)) {
    current_ = InputFormat::kCloudwatch;
  } else {
    // One reader for every line before the format is known, back at its
    // start for each (as a new one would be): its patterns are compiled
    // once, not once a line (a log that begins with other text).
    if (!detecting_) detecting_.emplace(make_stderr());
    detecting_->restart();
    LogRecord r;
    if (!detecting_->parse(text, &r) && ++undecided_ < kDetectLines) return false;
    current_ = InputFormat::kStderr;
    stderr_.emplace(std::move(*detecting_));
    detecting_.reset();
    return true;
  }
  start_format();
  return true;
}

bool LogParser::foreign(std::string_view text, bool* go_on) {
  *go_on = true;
  if (text.empty()) return false;
  if (text[0] == '{') {
    if (current_ == InputFormat::kJson || !JsonlogFormat::looks_like(text)) return false;
    if (!foreign_json_) foreign_json_.emplace();
    LogRecord r;
    if (foreign_json_->parse(text, &r)) *go_on = foreign_sink_.on_record(r);
    return true;
  }
  if (text[0] >= '0' && text[0] <= '9' && current_ != InputFormat::kCsv &&
      CsvlogFormat::looks_like(text)) {
    if (!foreign_csv_) foreign_csv_.emplace();
    *go_on = foreign_csv_->feed(text, &foreign_sink_);
    // The fast scan shows only some lines: a record it cut is dropped.
    if (foreign_csv_->in_record() && !line_by_line()) foreign_csv_->finish();
    return true;
  }
  if (current_ == InputFormat::kStderr || text[0] == '\t') return false;
  if (!foreign_stderr_) foreign_stderr_.emplace(make_stderr());
  LogRecord r;
  if (!foreign_stderr_->parse(text, &r)) return false;
  r.line_num = -1;
  *go_on = to_tracker(r);
  return true;
}

// An envelope found: held lines of a JSON document are read now (false:
// the current line was among them), an unclaimed one is said once.
bool LogParser::detected_envelope(EnvelopeDetector::Kind k) {
  using Kind = EnvelopeDetector::Kind;
  switch (k) {
    case Kind::kPending: return false;
    case Kind::kAzure: current_ = InputFormat::kAzure; break;
    case Kind::kCloudwatch: current_ = InputFormat::kCloudwatch; break;
    case Kind::kHeroku: current_ = InputFormat::kHeroku; break;
    case Kind::kRfc5424: current_ = InputFormat::kRfc5424; break;
    case Kind::kNone: case Kind::kUnclaimed:
      current_ = InputFormat::kUnclaimed;
      ++unclaimed_inputs_;
      reporter_->on_malformed(line_no_, fmt::format(
          "unknown envelope: {}; no reader takes it, so nothing in this input was read "
          "(--input: {})", envelopes_->what(), input_values_text()));
      envelopes_->take_held();
      return false;
  }
  start_format();
  std::vector<std::string> held = envelopes_->take_held();
  if (held.empty()) return true;
  for (const std::string& h : held) line(h);
  return false;
}

uint64_t LogParser::metrics_skipped() const {
  return metrics_done_ + (heroku_ ? heroku_->metrics_skipped() : 0);
}

bool LogParser::line(std::string_view text) {
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (current_ == InputFormat::kAuto && !detect(text)) return true;
  bool go_on = true;
  if (foreign_csv_ && foreign_csv_->in_record()) return foreign_csv_->feed(text, &foreign_sink_);
  switch (current_) {
    case InputFormat::kStderr: {
      LogRecord r;
      if (stderr_->parse(text, &r)) return on_record(r);
      if (r.line_num >= 0) return on_secondary(r);  // DETAIL, HINT…: its %l counts
      if (foreign(text, &go_on)) return go_on;
      if (has_lifecycle_head(text)) reporter_->on_malformed(line_no_, "malformed connection line");
      return true;
    }
    case InputFormat::kCsv:
      if (!csv_->in_record() && !CsvlogFormat::looks_like(text) && foreign(text, &go_on))
        return go_on;
      return csv_->feed(text, this);
    case InputFormat::kJson: {
      LogRecord r;
      if (json_->parse(text, &r)) return on_record(r);
      if (foreign(text, &go_on)) return go_on;
      if (has_lifecycle_head(text)) reporter_->on_malformed(line_no_, "malformed connection line");
      return true;
    }
    case InputFormat::kSyslog:
      return syslog_->feed(text, this);
    case InputFormat::kCnpg:
      return cnpg_->feed(text, this);
    case InputFormat::kGcp:
      return gcp_->feed(text, this);
    case InputFormat::kJournald:
      return journald_->feed(text, this);
    case InputFormat::kPgbouncer: {
      LogRecord r;
      // The reference path reads every line in full.
      if (options_.reference ? parse_pgbouncer_line(text, &r) : pgbouncer_->parse(text, &r))
        return on_record(r);
      if (has_lifecycle_head(text) && (text.empty() || text[0] != '\t'))
        reporter_->on_malformed(line_no_, "malformed connection line");
      return true;
    }
    case InputFormat::kRfc5424:
      return rfc5424_->feed(text, this);
    case InputFormat::kAzure:
      return azure_->feed(text, this);
    case InputFormat::kCloudwatch:
      return cloudwatch_->feed(text, this);
    case InputFormat::kHeroku:
      return heroku_->feed(text, this);
    case InputFormat::kAuto: case InputFormat::kUnclaimed:
      break;
  }
  return true;
}

// What line() does with a stderr line that parse() reads, with the
// reading done ahead: a report (on_record()), or a secondary line with a
// line number (on_secondary()). Anything else (not read ahead, another
// prefix in use by now, a secondary line without a number) goes the way
// of line().
bool LogParser::line_ahead(std::string_view text, const LineAhead& a) {
  if (!a.matched || current_ != InputFormat::kStderr ||
      (foreign_csv_ && foreign_csv_->in_record()))
    return line(text);
  if (!stderr_->parsed_ahead(a.record)) {
    return a.record.line_num >= 0 ? on_secondary(a.record) : line(text);
  }
  if (!a.record.via.empty()) ++pooler_lines_;
  if (a.record.line_num >= 0) return to_reorder(a.record, true, &a.message);
  return to_tracker(a.record, &a.message);
}

bool LogParser::app_moved(std::string_view text) {
  int64_t pid = -1;
  std::string_view app;
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (!stderr_->probe(text, &pid, &app)) return true;  // cannot tell: read it
  return tracker_->app_moved(pid, app);
}

// What line() does with each line, the reading done ahead: a PgBouncer
// record to the tracker with its message classified; a line that is not
// one goes to line() (which reads it again, and says when it is malformed).
bool LogParser::feed_pooled(std::string_view block, const PooledLines& pooled) {
  for (const PooledLine& l : pooled.lines) {
    ++line_no_;
    bool ok;
    const PooledRecord* p = l.record < 0 ? nullptr : &pooled.records[l.record];
    if (p == nullptr || p->record.line_num >= 0) {
      ok = line(block.substr(l.begin, l.end - l.begin));
    } else {
      ++pooler_lines_;
      const uint64_t malformed = tracker_->stats().malformed;
      ok = tracker_->add_pooled(p->record, p->message);
      if (tracker_->stats().malformed != malformed)
        reporter_->on_malformed(line_no_, "malformed connection line");
    }
    if (!ok) return false;
  }
  return true;
}

bool LogParser::feed(std::string_view block, const BlockScan* scan, const LinesAhead* read,
                     const RecordsAhead* records, const PooledLines* pooled) {
  const uint64_t before = line_no_;
  bool ok = true;
  size_t pos = 0;
  if (pooled != nullptr && wants_pooler()) {
    ok = feed_pooled(block, *pooled);
    pos = block.size();
  }
  while (ok && pos < block.size()) {
    if (!line_by_line() && current_ == InputFormat::kJson) {
      ok = scan_json(block, &pos, records);
      continue;
    }
    if (!line_by_line() && current_ == InputFormat::kCsv) {
      ok = scan_csv(block, &pos, records);
      continue;
    }
    if (line_by_line()) {
      size_t nl = block.find('\n', pos);
      size_t end = nl == std::string_view::npos ? block.size() : nl;
      ++line_no_;
      ok = line(block.substr(pos, end - pos));
      pos = end + 1;
      continue;
    }
    if (app_scan()) {
      // Every line: the candidates in full, the others only when the probe
      // says an open session's application name moved (or cannot tell).
      size_t hit = find_marker(block, pos);
      while (ok && pos < block.size() && app_scan()) {
        size_t nl = block.find('\n', pos);
        size_t end = nl == std::string_view::npos ? block.size() : nl;
        std::string_view l = block.substr(pos, end - pos);
        ++line_no_;
        if (hit < end) {
          ok = line(l);
          hit = find_marker(block, std::min(end + 1, block.size()));
        } else if (!l.empty() && l[0] != '\t' && app_moved(l)) {
          ok = line(l);
        }
        pos = end + 1;
      }
      continue;
    }
    // stderr lines stand alone (numbered ones are ordered sparsely): only
    // lines with a marker can matter. The scan that finds them counts the
    // newlines too, which number them and the block. A line the reorderer
    // holds, or one out of order, ends the scan there. The scan is the
    // caller's when it made one of the whole block (its offsets and line
    // indexes count from the block's start), else it is made here from pos.
    const BlockScan* found = scan;
    size_t origin = 0;
    uint64_t origin_line = before;
    if (found == nullptr) {
      scan_block(block.substr(pos), &scan_);
      found = &scan_;
      origin = pos;
      origin_line = line_no_;
    }
    // Lines read ahead count while the prefix in use is the one they were
    // read with; the first read->lines.size() candidates were (all, unless
    // the reading ahead stopped early).
    const bool ahead = found == scan && read != nullptr && !read->prefix.empty() &&
                       read->lines.size() <= found->candidates.size();
    const size_t read_ahead = ahead ? read->lines.size() : 0;
    size_t resume = std::string_view::npos;
    for (size_t i = 0; i < found->candidates.size(); ++i) {
      const Candidate& c = found->candidates[i];
      if (origin + c.begin < pos) continue;  // read before the fast scan began
      line_no_ = origin_line + c.line + 1;
      std::string_view text = block.substr(origin + c.begin, c.end - c.begin);
      ok = i < read_ahead && stderr_->first_prefix() == read->prefix
               ? line_ahead(text, read->lines[i])
               : line(text);
      if (!ok) break;
      if (line_by_line()) {
        resume = origin + c.end + 1;
        break;
      }
    }
    if (resume != std::string_view::npos) {
      pos = resume;
      continue;
    }
    line_no_ = origin_line + found->newlines + (block.back() != '\n');
    break;
  }
  lines_total_ += line_no_ - before;
  return ok;
}

bool LogParser::flush_pieces() {
  if (syslog_ && !syslog_->flush(this)) return false;
  if (journald_ && !journald_->flush(this)) return false;
  if (rfc5424_ && !rfc5424_->flush(this)) return false;
  if (heroku_ && !heroku_->flush(this)) return false;
  return true;
}

bool LogParser::idle() {
  if (!flush_pieces() || !reorder_.release_all()) return false;
  return tracker_->settle_all();
}

bool LogParser::tick(int64_t now_ms) {
  if (!holding()) {
    checkpoint_ms_ = -1;
    return true;
  }
  if (checkpoint_ms_ >= 0 && now_ms - checkpoint_ms_ >= kLiveSettleMs) {
    // Everything held at the checkpoint has waited long enough. (Lines the
    // reorderer releases now reach the tracker after its mark: a connection
    // among them waits one more window.)
    if (!flush_pieces() || !reorder_.release_before(checkpoint_reorder_)) return false;
    if (!tracker_->settle_before(checkpoint_mark_)) return false;
    checkpoint_ms_ = -1;
  }
  if (checkpoint_ms_ < 0 && holding()) {
    checkpoint_mark_ = tracker_->mark();
    checkpoint_reorder_ = reorder_.mark();
    checkpoint_ms_ = now_ms;
  }
  return true;
}

int64_t LogParser::next_tick_ms(int64_t now_ms) const {
  if (!holding()) return -1;
  if (checkpoint_ms_ < 0) return kLiveSettleMs;
  return std::max<int64_t>(0, checkpoint_ms_ + kLiveSettleMs - now_ms);
}

bool LogParser::end_input() {
  bool ok = flush_pieces() && reorder_.release_all();
  if (csv_ && csv_->finish()) reporter_->on_malformed(line_no_, "unterminated csvlog record");
  if (foreign_csv_ && foreign_csv_->finish())
    reporter_->on_malformed(line_no_, "unterminated csvlog record");
  return ok;
}

}  // namespace pgconn
