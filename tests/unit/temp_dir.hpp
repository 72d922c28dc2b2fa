// SPDX-License-Identifier: GPL-2.0-or-later
// What unit tests that touch files share: a temporary directory removed at the end of
// the test, and reading or writing a whole file.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

namespace alopex::test {

struct TempDir {
    std::filesystem::path path;
    explicit TempDir(std::string_view prefix = "alopex-test")
    {
        std::string t = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
        REQUIRE(mkdtemp(t.data()) != nullptr);
        path = t;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
};

inline std::string slurp(const std::filesystem::path &p)
{
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline void spew(const std::filesystem::path &p, const std::string &text, bool append = false)
{
    std::ofstream f(p, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
    f << text;
}

} // namespace alopex::test
