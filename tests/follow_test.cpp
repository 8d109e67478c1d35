#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "tail/follow.hpp"

using namespace pgconn;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/pgconn_follow_XXXXXX";
    REQUIRE(mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() { REQUIRE(std::system(("rm -rf '" + path + "'").c_str()) == 0); }
  std::string at(const std::string& name) const { return path + "/" + name; }
  void append(const std::string& name, const std::string& text) const {
    std::ofstream(at(name), std::ios::app) << text;
  }
};

struct Collect : FollowSink {
  std::string text;
  std::vector<std::string> warnings;
  bool on_lines(std::string_view block) override {
    text.append(block);
    return true;
  }
  bool flush() override { return true; }
  void on_warning(std::string_view w) override { warnings.emplace_back(w); }
};

FollowOptions from_start() {
  FollowOptions o;
  o.start = FollowOptions::Start::kBeginning;
  return o;
}

}  // namespace

TEST_CASE("Follower: a renamed file is read to its end before the new one", "[follow]") {
  TempDir d;
  d.append("a.log", "1\n");
  Collect out;
  Follower f(d.at("a.log"), from_start(), &out);
  REQUIRE(f.start(0).ok());
  CHECK(out.text == "1\n");
  d.append("a.log", "2\n");
  REQUIRE(std::rename(d.at("a.log").c_str(), d.at("a.log.1").c_str()) == 0);
  f.tick(true, 10);
  CHECK(out.text == "1\n2\n");
  d.append("a.log", "4\n");    // the new file (another writer, or the server reopened)
  d.append("a.log.1", "3\n");  // the server still writes the old one
  f.tick(true, 20);
  CHECK(out.text == "1\n2\n3\n");  // the new file waits: the old one just grew
  f.tick(true, 50);
  CHECK(out.text == "1\n2\n3\n");
  CHECK(f.due_in_ms(50) == 70);  // settled at 20 + 100
  f.tick(true, 120);
  CHECK(out.text == "1\n2\n3\n4\n");
  d.append("a.log.1", "late\n");  // within linger: still read, not lost
  f.tick(true, 500);
  CHECK(out.text == "1\n2\n3\n4\nlate\n");
  f.tick(true, 3000);  // quiet for linger_ms and the new file has data: closed
  CHECK(f.due_in_ms(3000) == -1);
  CHECK(out.warnings.empty());
}

TEST_CASE("Follower: copytruncate's copy gives the lines written since the last read",
          "[follow]") {
  TempDir d;
  d.append("a.log", "one\n");
  Collect out;
  Follower f(d.at("a.log"), from_start(), &out);
  REQUIRE(f.start(0).ok());
  d.append("a.log", "two\nthr");
  REQUIRE(std::system(("cp '" + d.at("a.log") + "' '" + d.at("a.log.1") + "' && : >'" +
                       d.at("a.log") + "'").c_str()) == 0);
  d.append("a.log", "four\n");
  f.tick(true, 10);
  CHECK(out.text == "one\ntwo\n");  // from the copy, where the truncated file left off
  f.tick(true, 200);
  CHECK(out.text == "one\ntwo\nfour\n");  // then the file from its start
  f.tick(true, 3000);  // the copy is closed: its unfinished line is ended
  CHECK(out.text == "one\ntwo\nfour\nthr\n");
}

TEST_CASE("Follower: a path that is not there yet is waited for", "[follow]") {
  TempDir d;
  Collect out;
  Follower f(d.at("later/log"), FollowOptions(), &out);
  REQUIRE(f.start(0).ok());
  REQUIRE(out.warnings.size() == 1);
  CHECK(out.warnings[0] == d.at("later/log") + ": No such file or directory; waiting for it");
  CHECK(f.watch_dirs() == std::vector<std::string>{d.path});
  REQUIRE(std::system(("mkdir -p '" + d.at("later/log") + "'").c_str()) == 0);
  d.append("later/log/postgresql-1.log", "first\n");
  f.tick(true, 10);
  CHECK(out.text == "first\n");  // a file that appears later is read from its start
  CHECK(out.warnings.size() == 1);
}
