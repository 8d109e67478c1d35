#pragma once
namespace pgconn {
inline constexpr const char* kVersion = "0.1.0";
}
