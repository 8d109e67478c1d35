// Tracker, the lines of logs without a pid (the empty log_line_prefix of
// PostgreSQL 9.6): joined by their order and by the names a disconnection
// line carries (tracker.hpp).
#include <algorithm>

#include "lifecycle/tracker.hpp"

namespace pgconn {

namespace {
// Backends without a pid waiting for their `connection authorized`.
constexpr size_t kNoPidPending = 16;
}  // namespace

std::string Tracker::nopid_index_key(std::string_view user, std::string_view db,
                                     std::string_view host, int32_t port) {
  std::string k;
  k.reserve(user.size() + db.size() + host.size() + 8);
  k.append(user).push_back('\0');
  k.append(db).push_back('\0');
  k.append(host).push_back('\0');
  k.append(std::to_string(port));
  return k;
}

// Without pids, `connection authorized` belongs to the newest backend whose
// `connection received` no line has followed. When several set-ups
// interleave that is a guess, and the session is `loose`: a disconnection
// naming an address no open session has may then close it by user and
// database.
uint64_t Tracker::nopid_pair_authorized(uint32_t server, bool* loose) {
  // Sure only when exactly one `connection received` came since the last
  // set-up ended (one connection after the other, the common case).
  *loose = !(nopid_last_received_ != 0 && nopid_received_since_ == 1);
  nopid_received_since_ = 0;
  uint64_t pick = nopid_last_received_;
  for (auto it = nopid_pending_.rbegin(); pick == 0 && it != nopid_pending_.rend(); ++it) {
    if ((*it >> kServerShift) != server) continue;
    Backend* b = find(*it);
    if (b != nullptr && b->stage == Stage::kReceived) pick = *it;
  }
  if (pick != 0) std::erase(nopid_pending_, pick);
  return pick;
}

// The key of a lifecycle line without a pid: the newest unauthorized
// backend, the newest held one, or the open session its disconnection
// names; end reasons wait for the disconnection lines they precede.
uint64_t Tracker::nopid_key(const LogRecord& r, const Message& m, uint32_t server) {
  uint64_t key = 0;
  // Join by order: the newest unauthorized backend, the newest held one.
  const uint64_t base = uint64_t{server} << kServerShift;
  if (nopid_last_held_ != 0 && !(m.kind == MsgKind::kReject && m.after_authorization)) {
    if (Backend* held = find(nopid_last_held_)) settle(*held);
    nopid_last_held_ = 0;
  }
  switch (m.kind) {
    case MsgKind::kReceived:
      key = base | kNoPidBit | ++nopid_seq_;
      nopid_last_received_ = key;
      ++nopid_received_since_;
      nopid_pending_.push_back(key);
      while (nopid_pending_.size() > kNoPidPending) {  // probes that hung up
        uint64_t old = nopid_pending_.front();
        nopid_pending_.pop_front();
        if (Backend* b = find(old); b != nullptr && b->stage == Stage::kReceived) forget(old);
      }
      break;
    case MsgKind::kAuthorized: {
      bool loose = false;
      key = nopid_pair_authorized(server, &loose);
      if (key == 0) key = base | kNoPidBit | ++nopid_seq_;
      nopid_last_received_ = 0;
      nopid_last_held_ = key;
      nopid_loose_next_ = loose;
      break;
    }
    case MsgKind::kReject:
      key = m.after_authorization ? nopid_last_held_ : nopid_last_received_;
      if (!m.after_authorization) {
        if (key != 0) std::erase(nopid_pending_, key);
        nopid_last_received_ = 0;
        nopid_received_since_ = 0;
      }
      if (key == 0) key = base | kNoPidBit | ++nopid_seq_;  // unmatched: never found
      break;
    case MsgKind::kDisconnection: {
      auto it = nopid_open_.find(nopid_index_key(m.user, m.db, m.host, m.port));
      if (it != nopid_open_.end()) {
        key = it->second;
      } else if (auto l = nopid_loose_.find(nopid_index_key(m.user, m.db, {}, -1));
                 l != nopid_loose_.end()) {
        key = l->second;  // its `connection received` was another backend's
      } else {
        key = base | kNoPidBit | ++nopid_seq_;
      }
      // Session-end FATALs come before their disconnection lines, in the
      // same order when several sessions end at once (a fast shutdown).
      std::string_view reason;
      if (!nopid_end_reasons_.empty()) {
        reason = nopid_end_reasons_.front();
        nopid_end_reasons_.pop_front();
      } else if (servers_[server].shutting_down) {
        reason = "shutdown";
      }
      Backend* b = find(key);
      if (b == nullptr && !reason.empty()) {
        b = &create(key, server, r);
        b->stage = Stage::kOrphan;
      }
      if (b != nullptr) b->end_reason = reason;
      break;
    }
    case MsgKind::kSessionEnd:
      if (nopid_last_received_ != 0) {  // a probe that connected and reset
        std::erase(nopid_pending_, nopid_last_received_);
        forget(nopid_last_received_);
        nopid_last_received_ = 0;
      } else if (nopid_end_reasons_.size() < 64) {
        bool shutdown = m.reason == "terminated" && servers_[server].shutting_down;
        nopid_end_reasons_.push_back(shutdown ? "shutdown" : m.reason);
      }
      break;
    case MsgKind::kServerReady:
    case MsgKind::kServerShutdown:
    case MsgKind::kServerCrash:
      nopid_end_reasons_.clear();
      break;
    default:
      break;
  }
  return key;
}

}  // namespace pgconn
