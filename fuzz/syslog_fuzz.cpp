// Fuzz target: syslog lines, split messages and continuation pieces, through the whole
// parse pipeline (parse_driver.hpp).
#include "parse_driver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pgconn::fuzz::run_parser(pgconn::InputFormat::kSyslog, data, size);
  return 0;
}
