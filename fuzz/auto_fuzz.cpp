// Fuzz target: pgconn-parse's default, --input=auto: the format and the
// stderr prefix are detected from the first lines, then the whole parse
// pipeline runs (parse_driver.hpp).
#include "parse_driver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pgconn::fuzz::run_parser(pgconn::InputFormat::kAuto, data, size);
  return 0;
}
