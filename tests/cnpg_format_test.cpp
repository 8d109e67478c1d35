#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "envelopes/cnpg_format.hpp"

using namespace pgconn;

namespace {

struct Rec {
  std::string time, user, db, app, host, session, severity, message, server, backend_type;
  int64_t pid, line_num;
  int32_t port;
};

class Collect : public RecordSink {
 public:
  bool on_record(const LogRecord& r) override {
    Rec c{"", std::string(r.user), std::string(r.db), std::string(r.app), std::string(r.host),
          std::string(r.session_id), std::string(r.severity), std::string(r.message),
          std::string(r.server), std::string(r.backend_type), r.pid, r.line_num, r.port};
    if (r.time.valid()) append_rfc3339(r.time, &c.time);
    records.push_back(c);
    return go_on;
  }
  std::vector<Rec> records;
  bool go_on = true;
};

// The example of pg-log-formats.md §11.
constexpr std::string_view kExample =
    R"({"level":"info","ts":1669575482.0936375,"logger":"postgres","msg":"record","logging_pod":"myapp-pg-cluster-1","record":{"log_time":"2022-11-27 18:58:02.093 UTC","user_name":"postgres","database_name":"postgres","process_id":"600","connection_from":"[local]","session_id":"6383b33a.258","session_line_num":"3","command_tag":"authentication","session_start_time":"2022-11-27 18:58:02 UTC","virtual_transaction_id":"4/249","transaction_id":"0","error_severity":"LOG","sql_state_code":"00000","message":"connection authorized: user=postgres database=postgres application_name=pg_isready","backend_type":"client backend","query_id":"0"}})";

}  // namespace

TEST_CASE("CnpgFormat reads a postgres record as its csvlog columns", "[cnpg_format]") {
  CnpgFormat f;
  Collect out;
  REQUIRE(f.feed(kExample, &out));
  REQUIRE(out.records.size() == 1);
  const Rec& r = out.records[0];
  CHECK(r.time == "2022-11-27T18:58:02.093Z");
  CHECK(r.user == "postgres");
  CHECK(r.db == "postgres");
  CHECK(r.pid == 600);
  CHECK(r.host == "[local]");
  CHECK(r.port == -1);
  CHECK(r.session == "6383b33a.258");
  CHECK(r.line_num == 3);
  CHECK(r.severity == "LOG");
  CHECK(r.message == "connection authorized: user=postgres database=postgres application_name=pg_isready");
  CHECK(r.backend_type == "client backend");
  CHECK(r.server == "myapp-pg-cluster-1");
}

TEST_CASE("CnpgFormat: host and port, application_name, escapes", "[cnpg_format]") {
  CnpgFormat f;
  Collect out;
  f.feed(R"({"logger":"postgres","msg":"record","logging_pod":"p-2","record":{"log_time":"2022-11-27 18:58:20.000 UTC","user_name":"app","database_name":"shop","process_id":"612","connection_from":"10.244.0.17:40112","session_id":"6383b342.264","session_line_num":"4","error_severity":"FATAL","message":"role \"x\u00e9\" does not exist","application_name":"rails"}})",
         &out);
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].host == "10.244.0.17");
  CHECK(out.records[0].port == 40112);
  CHECK(out.records[0].app == "rails");
  CHECK(out.records[0].message == "role \"x\xc3\xa9\" does not exist");
}

TEST_CASE("CnpgFormat skips other loggers, the operator and garbage", "[cnpg_format]") {
  CnpgFormat f;
  Collect out;
  for (std::string_view line : {
           R"({"level":"info","ts":1669575480.1,"logger":"wal-archive","msg":"Archived WAL file","logging_pod":"p-1"})",
           R"({"level":"info","ts":"2022-11-27T18:57:58Z","msg":"Starting CloudNativePG Instance Manager","logging_pod":"p-1"})",
           R"({"level":"info","logger":"postgres","msg":"2022-11-27 18:57:58.500 UTC [590] LOG:  redirecting log output","pipe":"stderr"})",
           R"({"level":"info","logger":"postgres","msg":"record","record":{"log_time":"not a time","error_severity":"LOG","message":"x"}})",
           R"({"level":"info","logger":"postgres","msg":"record","record":{"log_time":"2022-11-27 18:58:02.093 UTC","error_severity":"DETAIL","message":"x"}})",
           R"({"level":"info","logger":"postgres","msg":"record","record":"text"})",
           "{\"logger\":\"postgres\",\"record\":{", "not json", ""}) {
    REQUIRE(f.feed(line, &out));
  }
  CHECK(out.records.empty());
}

TEST_CASE("CnpgFormat::looks_like", "[cnpg_format]") {
  CHECK(CnpgFormat::looks_like(kExample));
  CHECK(CnpgFormat::looks_like(R"({"level":"info","ts":"2022-11-27T18:57:58Z","msg":"Starting","logging_pod":"p-1"})"));
  CHECK_FALSE(CnpgFormat::looks_like(R"({"timestamp":"2026-11-22 23:19:25.204 UTC","message":"x"})"));
  CHECK_FALSE(CnpgFormat::looks_like("2024-05-01 10:00:00 UTC [1] LOG:  x"));
}

TEST_CASE("CnpgFormat stops when the sink says so", "[cnpg_format]") {
  CnpgFormat f;
  Collect out;
  out.go_on = false;
  CHECK_FALSE(f.feed(kExample, &out));
}
