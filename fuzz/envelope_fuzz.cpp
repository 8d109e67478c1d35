// Fuzz target: the managed platforms' envelopes (RFC 5424 frames, Azure,
// CloudWatch, Heroku) through the whole parse pipeline (parse_driver.hpp).
// The first byte picks the --input: 'r' rfc5424, 'z' azure, 'c'
// cloudwatch, 'h' heroku, anything else auto (which meets the unclaimed
// wrappers too).
#include "parse_driver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  pgconn::InputFormat f = pgconn::InputFormat::kAuto;
  switch (data[0]) {
    case 'r': f = pgconn::InputFormat::kRfc5424; break;
    case 'z': f = pgconn::InputFormat::kAzure; break;
    case 'c': f = pgconn::InputFormat::kCloudwatch; break;
    case 'h': f = pgconn::InputFormat::kHeroku; break;
    default: break;
  }
  pgconn::fuzz::run_parser(f, data + 1, size - 1);
  return 0;
}
