// UTF-8 validation, shared by the encoders (event_codec) and the
// renderers (render): one definition of what is valid.
#pragma once

#include <cstddef>
#include <string_view>

namespace pgconn {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the bytes
// there are not one (stray continuation bytes, overlong forms, surrogates,
// code points past U+10FFFF, a sequence cut by the end of s).
// REQUIRES: i < s.size() and s[i] is not ASCII.
size_t utf8_sequence(std::string_view s, size_t i);

}  // namespace pgconn
