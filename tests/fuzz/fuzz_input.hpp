// SPDX-License-Identifier: GPL-2.0-or-later
// The fuzzer's bytes read as the values a target builds its input from (the D-Bus
// message fuzzers): a byte, a number, a string. Past the end every read gives zeros.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

namespace alopex::fuzz {

struct Input {
    const uint8_t *p;
    size_t n;

    uint8_t byte() { return n ? (--n, *p++) : 0; }
    uint64_t number()
    {
        uint64_t v = 0;
        for (int i = 0; i < 8; ++i)
            v = (v << 8) | byte();
        return v;
    }
    // Up to max_len bytes as they come, NUL as 'z' (D-Bus strings hold no NUL; bytes past
    // ASCII stay, so invalid UTF-8 is tried too).
    std::string raw_text(size_t max_len)
    {
        size_t len = std::min<size_t>(byte() % max_len, n);
        std::string s;
        for (size_t i = 0; i < len; ++i) {
            char c = char(byte());
            s += c ? c : 'z';
        }
        return s;
    }
    // Up to max_len ASCII characters 1..127: what sd-bus accepts as a string, control
    // characters, ':' and '\\' included.
    std::string ascii_text(size_t max_len)
    {
        size_t len = std::min<size_t>(byte() % max_len, n);
        std::string s;
        for (size_t i = 0; i < len; ++i)
            s += char(1 + byte() % 127);
        return s;
    }
};

} // namespace alopex::fuzz
