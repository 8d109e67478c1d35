// Result<T>: a value or an error message, for everything in common/ that can
// fail. common/ never prints and never exits; it returns one of these and the
// tool decides what to say (diag) and how to exit.
//
// Error messages are lower-case, have no final period, and quote the bad
// input: `bad duration "5x": unknown unit "x"`. Tests check the exact text.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace pgconn {

struct Error {
  std::string message;
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error e) : v_(std::move(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok().
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !ok().
  const std::string& error() const { return std::get<1>(v_).message; }

 private:
  std::variant<T, Error> v_;
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }

}  // namespace pgconn
