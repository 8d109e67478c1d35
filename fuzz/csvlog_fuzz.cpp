// Fuzz target: csvlog records, quoted fields spanning lines, through the whole
// parse pipeline (parse_driver.hpp).
#include "parse_driver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pgconn::fuzz::run_parser(pgconn::InputFormat::kCsv, data, size);
  return 0;
}
