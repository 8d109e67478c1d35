// ScanAhead: reads a regular file on a second thread, in blocks of whole
// lines, and finds each block's candidate lines (scanner.hpp, scan_block())
// while the caller works on the block before.
//
// Why: on a busy server's log the scan for markers and the newline count
// take about as long as the work on the lines they find (parsing, sessions,
// events). Done on two cores they overlap. The thread also reads the
// candidate lines with the prefix in use when asked (stderr_ahead.hpp),
// which leaves the sessions and events to the caller's thread (while the
// caller waits for a block, the thread hands it on unread, or partly
// read, and the caller reads its candidates itself); and, for
// csvlog and jsonlog, frames, searches and probes the block's records when
// asked (records_ahead.hpp). On a PgBouncer log it reads every line of a
// block when asked instead (pgbouncer_ahead.hpp): the lines, their records
// and their messages.
//
// The lines and their order are exactly those a LineReader on the same
// file gives: a line of LineReader::kMaxLine bytes or more is cut to its
// first kMaxLine bytes, a line of its own without '\n' that ends its
// block, and the rest up to its newline is skipped and counted; a last
// line without '\n' comes at the end of the file; the partial line before
// a read error does not. Whatever reads the blocks sees the same lines, in
// bigger blocks, read straight into them (no copy).
//
// Only for regular files: a pipe or terminal keeps the read loop's own
// LineReader, whose every read is handed on at once (live streams). Memory
// stays flat: at most kDepth blocks of about kBlockBytes (plus one line of
// up to kMaxLine) are read ahead, each with what was read of it (on a
// PgBouncer log, 8 bytes a line and a record a PgBouncer line).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "formats/records_ahead.hpp"
#include "pipeline/pgbouncer_ahead.hpp"
#include "result.hpp"
#include "formats/scanner.hpp"
#include "pipeline/stderr_ahead.hpp"

namespace pgconn {

class ScanAhead {
 public:
  static constexpr size_t kBlockBytes = 256 * 1024;
  static constexpr size_t kDepth = 4;
  // A block's room: kBlockBytes and a line of up to LineReader::kMaxLine.
  static constexpr size_t kCapacity = kBlockBytes + 1024 * 1024;

  struct Block {
    // Whole lines; the last may lack '\n' (cut, or the end of the file).
    std::string_view text() const { return std::string_view(buf.get(), size); }
    BlockScan scan;    // scan_block(text()), when `scanned`
    bool scanned = false;
    LinesAhead read;   // its candidates read (stderr_ahead.hpp), when `scanned`
    RecordsAhead records;  // read_records_ahead(), format kNone when not asked
    bool pooled = false;
    PooledLines pooler;  // its lines read (pgbouncer_ahead.hpp), when `pooled`
    // kCapacity bytes, not zeroed: pages never written are never resident.
    std::unique_ptr<char[]> buf;
    size_t size = 0;
  };

  // Starts reading `fd` on a new thread, from its current offset. The
  // thread blocks every signal (they stay the caller's). Fails (a message)
  // when no thread could be started.
  // REQUIRES: `fd` is a regular file open for reading and stays open until
  // the ScanAhead is destroyed.
  static Result<std::unique_ptr<ScanAhead>> start(int fd);

  // Stops the thread (at its next block) and waits for it.
  ~ScanAhead();

  // Whether blocks read from now on are scanned; the caller says what its
  // parser wants after each block (a block that comes unscanned is scanned
  // by the parser itself). Initially off.
  void want_scan(bool on) { want_scan_.store(on, std::memory_order_relaxed); }

  // Whether the lines of blocks read from now on are read as PgBouncer's
  // (PgbouncerAhead); the caller says after each block. Initially off.
  void want_pooler(bool on) { want_pooler_.store(on, std::memory_order_relaxed); }

  // The log_line_prefix that the candidate lines of blocks scanned from now
  // on are read with (StderrAhead); empty (the default): none.
  void read_with(std::string_view prefix);

  // The format (and csvlog column count) the records of blocks read from
  // now on are framed ahead as (read_records_ahead()); kNone (the
  // default): none.
  void frame_records(AheadFormat format, size_t columns);

  enum class Status { kBlock, kTimeout, kEnd };

  // The next block, waiting up to `timeout_ms` for it. kBlock: *block is
  // valid until the next call. kEnd: every block was handed out; error()
  // and truncated() tell how the file ended.
  Status next(int timeout_ms, const Block** block);

  // After kEnd: errno of a failed read (0: none), and lines cut at
  // LineReader::kMaxLine.
  int error() const { return error_; }
  uint64_t truncated() const { return truncated_; }

 private:
  ScanAhead() = default;
  void run(int fd);
  // Reads the next block's lines into *b (its buf holds the carry first).
  // Sets *end at the end of the file or on an error.
  void fill(int fd, Block* b, bool* end);
  std::unique_ptr<Block> take_free();  // nullptr: stopping
  void publish(std::unique_ptr<Block> b, bool end);

  std::thread thread_;
  std::atomic<bool> want_scan_{false};
  std::atomic<bool> want_pooler_{false};
  // The caller waits in next() for a block: the candidates of the block
  // being read are left to it (StderrAhead::read's `hurry`), so that the
  // two threads share that work when this one is the slower.
  std::atomic<bool> starving_{false};
  std::string read_with_;  // guarded by mu_
  AheadFormat frame_format_ = AheadFormat::kNone;  // guarded by mu_
  size_t frame_columns_ = 0;                       // guarded by mu_
  StderrAhead reader_;     // the thread's
  PgbouncerAhead pooler_reader_;  // the thread's
  std::mutex mu_;
  std::condition_variable ready_cv_;  // a block or the end came
  std::condition_variable free_cv_;   // a block came back, or stop
  std::deque<std::unique_ptr<Block>> ready_;
  std::vector<std::unique_ptr<Block>> free_;
  std::unique_ptr<Block> lent_;  // the block the caller holds
  size_t made_ = 0;              // blocks allocated
  bool ended_ = false;           // the thread published its last block
  bool stop_ = false;
  int error_ = 0;                // written by the thread before ended_
  uint64_t truncated_ = 0;
  // The thread's reading state, between blocks.
  std::string carry_;            // a line begun after the last block's end
  bool skipping_ = false;        // inside the cut-off rest of a long line
};

}  // namespace pgconn
