// RecordsAhead: the records of a csvlog or jsonlog block framed (the line
// ends and the count of '"' in one AVX2 pass where there is one), searched
// for the lifecycle markers and probed (pid, application name) without
// state, so that the thread that reads the file (scan_ahead.hpp) can do it
// while the caller works on the block before. LogParser's marker-first
// reading (log_parser_scan.cpp) frames each record it meets the same way,
// with the same functions: it takes a record framed ahead when one starts
// where it stands and nothing it knows (a csvlog record left open, another
// column count) says otherwise, and frames the record itself when not.
// What a record is does not depend on where the framing began, only on
// where the record starts, so the two always agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace pgconn {

enum class AheadFormat { kNone, kCsv, kJson };

// One record of a block. Offsets count from the block's start.
struct RecordAhead {
  size_t begin = 0;
  size_t end = 0;         // its last line's '\n', or the block's size
  uint64_t lines = 1;
  bool foreign = false;   // csvlog: a line with an odd count of '"' that does
                          // not start like a csvlog record (only that line)
  bool cut = false;       // csvlog: its quotes still open at the block's end
  bool marker = false;    // a marker (scanner.hpp) in [begin, end)
  bool probed = false;    // the probe could tell: pid and app are set
  int64_t pid = -1;
  std::string_view app;   // views the block
};

struct RecordsAhead {
  AheadFormat format = AheadFormat::kNone;
  size_t columns = 0;     // the csvlog column count the records were probed with
  std::vector<RecordAhead> records;
};

// Frames the record that starts at block[begin] outside any open record:
// begin, end, lines, foreign, cut (not marker or the probe).
void frame_csv(std::string_view block, size_t begin, RecordAhead* r);
// The same for a jsonlog line.
void frame_json(std::string_view block, size_t begin, RecordAhead* r);
// Sets probed, pid and app of a framed record (CsvlogFormat::probe with
// `columns`, JsonlogFormat::probe); a foreign or cut record is not probed.
void probe_csv(std::string_view block, size_t columns, RecordAhead* r);
void probe_json(std::string_view block, RecordAhead* r);

// The first marker at or after a position, found lazily as positions rise.
class MarkerCursor {
 public:
  explicit MarkerCursor(std::string_view block) : block_(block) {}
  // Whether a marker starts in [begin, end). REQUIRES: begin never goes
  // back between calls.
  bool in(size_t begin, size_t end);

 private:
  std::string_view block_;
  size_t hit_ = 0;
  bool valid_ = false;
};

// Every record of `block` from its start, framed, searched for markers and
// probed (a record with a marker is not probed). `block` holds whole lines,
// as ScanAhead reads them. Replaces what *out held (its memory is reused).
void read_records_ahead(AheadFormat format, size_t columns, std::string_view block,
                        RecordsAhead* out);

}  // namespace pgconn
