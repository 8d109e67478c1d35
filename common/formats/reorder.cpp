#include "formats/reorder.hpp"

#include <algorithm>
#include <climits>
#include <cstddef>
#include <functional>
#include <string_view>

namespace pgconn {

namespace {

// The views of a record, in one list, to copy and re-point them together.
constexpr std::string_view LogRecord::*kViews[] = {
    &LogRecord::session_id, &LogRecord::user,     &LogRecord::db,
    &LogRecord::app,        &LogRecord::host,     &LogRecord::backend_type,
    &LogRecord::severity,   &LogRecord::message,  &LogRecord::server,
};

// Copies `from` into `r`, its texts into `text`, the message cut at
// `max_message` bytes (on a character boundary).
void copy_record(const LogRecord& from, size_t max_message, LogRecord* r, std::string* text) {
  *r = from;
  if (r->message.size() > max_message) {
    size_t cut = max_message;
    while (cut > 0 && (static_cast<unsigned char>(r->message[cut]) & 0xC0) == 0x80) --cut;
    r->message = r->message.substr(0, cut);
  }
  size_t size = 0;
  for (auto view : kViews) size += (r->*view).size();
  text->clear();
  text->reserve(size);
  for (auto view : kViews) text->append(r->*view);
  size_t at = 0;
  for (auto view : kViews) {
    size_t n = (r->*view).size();
    r->*view = std::string_view(*text).substr(at, n);
    at += n;
  }
}

// A run of 1 to 15 lower-case hex digits without a leading zero, as
// PostgreSQL writes %c's two halves ("%lx.%x"): one text per number, so
// the numbers key a backend as its session id's text would. -1 otherwise.
int64_t session_hex(std::string_view s) {
  if (s.empty() || s.size() > 15 || (s[0] == '0' && s.size() > 1)) return -1;
  int64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return -1;
    }
    v = v * 16 + d;
  }
  return v;
}

}  // namespace

size_t Reorderer::KeyHash::operator()(const Key& k) const {
  uint64_t h = static_cast<uint64_t>(k.start) * 0x9E3779B97F4A7C15ull ^ static_cast<uint64_t>(k.pid);
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  if (!k.text.empty()) h ^= std::hash<std::string>{}(k.text);
  return static_cast<size_t>(h);
}

void Reorderer::make_key(const LogRecord& r, Key* key) {
  key->text.assign(r.server);
  if (r.session_id.empty()) {
    key->start = -1;
    key->pid = r.pid;
    return;
  }
  const size_t dot = r.session_id.find('.');
  if (dot != std::string_view::npos) {
    key->start = session_hex(r.session_id.substr(0, dot));
    key->pid = session_hex(r.session_id.substr(dot + 1));
    if (key->start >= 0 && key->pid >= 0) return;
  }
  key->start = -2;
  key->pid = -1;
  key->text.push_back('\0');
  key->text.append(r.session_id);
}

namespace {

// With whole-second times a line in the next second may still be less than
// a second later: one more second is needed to be sure (as the tracker).
int64_t window_limit(const Timestamp& t, int64_t window_ms) {
  return t.sort_ms() - window_ms - (t.has_ms ? 0 : 1000);
}

// A backend first seen at a line past 1 waits for line 1 only when it is
// setting up a connection: `connection received` is always line 1, and
// without it the tracker would take the connection for a reused pid. The
// first line seen of any other backend (the postmaster, a session that was
// going on when the stream began) starts the count at once, so a stream
// that starts in the middle keeps its order.
bool may_follow_line_one(const LogRecord& r) {
  return r.message.substr(0, 11) == "connection " || r.severity == "FATAL";
}

}  // namespace

Reorderer::Reorderer(RecordSink* out, ReorderOptions options) : out_(out), options_(options) {}

Reorderer::~Reorderer() = default;

bool Reorderer::pass(const LogRecord& r, bool report) {
  if (!report || stopped_) return !stopped_;
  if (!out_->on_record(r)) stopped_ = true;
  return !stopped_;
}

// A line of `s` leaves: a report says whether the backend is setting up a
// connection now (sparse mode waits at a gap only then) and whether it
// ended (forget_idle forgets those first).
bool Reorderer::pass_line(Session& s, const LogRecord& r, bool report) {
  if (report) {
    s.setup = r.message.starts_with("connection received") ||
              r.message.starts_with("connection authenticated");
    s.ended = r.severity == "FATAL" || r.message.starts_with("disconnection:");
  }
  return pass(r, report);
}

void Reorderer::hold(Session& s, const Key& key, const LogRecord& r, bool report) {
  if (s.held.empty()) {
    s.since_seq = next_seq_++;
    s.since_ms = r.time.valid() ? r.time.sort_ms() : INT64_MIN;
    waiting_.push_back(Waiting{s.since_seq, s.since_ms, key});
  }
  auto at = std::upper_bound(s.held.begin(), s.held.end(), r.line_num,
                             [](int64_t n, const std::unique_ptr<Held>& h) { return n < h->r.line_num; });
  Held* h = s.held.insert(at, std::make_unique<Held>())->get();
  // A secondary line only counts; a report's message matters to the
  // tracker only as far as a lifecycle message goes (a statement of
  // megabytes is not kept whole).
  copy_record(r, report ? options_.max_message : 0, &h->r, &h->text);
  h->report = report;
  ++held_total_;
  ++stats_.held;
}

// Hands on the held lines that now follow without a gap (in sparse mode,
// past a gap too once the backend is past its set-up).
bool Reorderer::drain(Session& s) {
  size_t n = 0;
  while (n < s.held.size() && (s.held[n]->r.line_num <= s.next || gap_skipped(s))) {
    const Held& h = *s.held[n];
    if (h.r.line_num >= s.next) s.next = h.r.line_num + 1;
    ++n;
    if (!pass_line(s, h.r, h.report)) break;
  }
  s.held.erase(s.held.begin(), s.held.begin() + static_cast<std::ptrdiff_t>(n));
  held_total_ -= n;
  return !stopped_;
}

// The wait is over: everything held leaves in number order.
bool Reorderer::release(Session& s) {
  for (const std::unique_ptr<Held>& p : s.held) {
    const Held& h = *p;
    s.next = std::max(s.next, h.r.line_num + 1);
    if (!pass_line(s, h.r, h.report)) return false;
  }
  held_total_ -= s.held.size();
  s.held.clear();
  return true;
}

bool Reorderer::live(const Waiting& w) const {
  auto it = sessions_.find(w.key);
  return it != sessions_.end() && !it->second.held.empty() && it->second.since_seq == w.seq;
}

// Drops the entries of waits that ended by themselves (the line came).
void Reorderer::prune() {
  while (!waiting_.empty() && !live(waiting_.front())) waiting_.pop_front();
  if (waiting_.size() > 2 * options_.max_held + 1024) {
    std::deque<Waiting> keep;
    for (Waiting& w : waiting_)
      if (live(w)) keep.push_back(std::move(w));
    waiting_.swap(keep);
  }
}

// Releases the session that has waited longest.
bool Reorderer::release_front() {
  prune();
  if (waiting_.empty()) return !stopped_;
  Waiting w = std::move(waiting_.front());
  waiting_.pop_front();
  return release(sessions_.find(w.key)->second);
}

bool Reorderer::release_before(uint64_t mark) {
  prune();
  while (!waiting_.empty() && waiting_.front().seq < mark) {
    if (!release_front()) return false;
    prune();
  }
  return !stopped_;
}

bool Reorderer::release_all() {
  prune();
  while (!waiting_.empty()) {
    if (!release_front()) return false;
    prune();
  }
  return !stopped_;
}

bool Reorderer::restart_counts() {
  bool go_on = release_all();
  sessions_.clear();
  waiting_.clear();
  return go_on;
}

// Forgets backends with nothing held down to half of max_sessions: the
// ended ones, then the ones seen least lately.
void Reorderer::forget_idle() {
  const size_t keep = options_.max_sessions / 2;
  std::vector<uint64_t> idle;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const Session& s = it->second;
    if (s.held.empty() && s.ended) {
      it = sessions_.erase(it);
    } else {
      if (s.held.empty()) idle.push_back(s.seen);
      ++it;
    }
  }
  if (sessions_.size() <= keep || idle.empty()) return;
  const size_t k = std::min(idle.size(), sessions_.size() - keep);
  std::nth_element(idle.begin(), idle.begin() + static_cast<std::ptrdiff_t>(k - 1), idle.end());
  const uint64_t last = idle[k - 1];  // the k seen least lately: seen <= last
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.held.empty() && it->second.seen <= last) {
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

bool Reorderer::add(const LogRecord& r, bool report) {
  if (stopped_) return false;
  const int64_t n = r.line_num;
  // The log-time window first: what waited since a moment this line is
  // well past leaves before it, as it was logged before it.
  if (r.time.valid() && !waiting_.empty()) {
    prune();
    const int64_t limit = window_limit(r.time, options_.window_ms);
    while (!waiting_.empty() && waiting_.front().ms != INT64_MIN && waiting_.front().ms <= limit) {
      if (!release_front()) return false;
      prune();
    }
  }
  if (n < 0 || (r.pid < 0 && r.session_id.empty())) return pass(r, report);
  make_key(r, &key_);
  if (sessions_.size() >= options_.max_sessions && sessions_.find(key_) == sessions_.end())
    forget_idle();
  Session& s = sessions_[key_];
  s.seen = ++adds_;
  bool ok = true;
  if (s.next < 0 && (n <= 1 || (s.held.empty() && !may_follow_line_one(r)))) {
    s.next = n + 1;  // the start of a backend's count
    ok = pass_line(s, r, report) && drain(s);
  } else if (n == s.next || (s.next >= 0 && n > s.next && s.held.empty() && gap_skipped(s))) {
    s.next = n + 1;
    ok = pass_line(s, r, report) && drain(s);
  } else if (s.next < 0 || n > s.next) {
    hold(s, key_, r, report);
    if (s.held.size() > options_.max_per_session) {
      ++stats_.overflow;
      ok = release(s);
    }
  } else if ((n == 1 || sparse_) && r.session_id.empty()) {
    // A new process with a reused pid (in sparse mode its first lines may
    // have been skipped).
    ok = release(s);
    s.next = n + 1;
    ok = ok && pass_line(s, r, report);
  } else {
    ++stats_.late;
    ok = pass(r, report);
  }
  while (ok && held_total_ > options_.max_held) {
    ++stats_.overflow;
    ok = release_front();
  }
  // The log-time window: lines held since a moment this line is well past.
  return ok && !stopped_;
}

}  // namespace pgconn
