// SPDX-License-Identifier: GPL-2.0-or-later
// Corpus replay driver: in normal builds every fuzz target links this main and runs each
// file (or every file of each directory) given on the command line through the target.
// Under -Dfuzzing=true the targets link libFuzzer instead.
//
// A corpus directory that holds no file replays nothing, so it proves nothing: under
// CI=true (tests/ci.hpp) that is a failure, elsewhere a skip (exit 77, meson's SKIP). A
// path that does not exist cannot be read: a failure everywhere.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "ci.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const std::filesystem::path &p)
{
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        fprintf(stderr, "cannot read %s\n", p.c_str());
        return 1;
    }
    std::vector<uint8_t> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
    return 0;
}

int main(int argc, char **argv)
{
    int failures = 0, count = 0, empty = 0;
    for (int i = 1; i < argc; ++i) {
        std::filesystem::path p(argv[i]);
        if (std::filesystem::is_directory(p)) {
            std::vector<std::filesystem::path> files;
            for (const auto &e : std::filesystem::directory_iterator(p))
                if (e.is_regular_file())
                    files.push_back(e.path());
            if (files.empty()) {
                fprintf(stderr, "corpus directory %s holds no file: nothing replayed\n", p.c_str());
                ++empty;
            }
            std::sort(files.begin(), files.end());
            for (const auto &f : files) {
                failures += run_file(f);
                ++count;
            }
        } else {
            failures += run_file(p);
            ++count;
        }
    }
    // Also exercise the empty input, which every parser must survive.
    LLVMFuzzerTestOneInput(nullptr, 0);
    printf("replayed %d inputs\n", count);
    if (failures)
        return 1;
    if (empty || count == 0) {
        if (alopex::test::in_ci()) {
            fprintf(stderr, "CI=true: an empty or missing corpus is a failure\n");
            return 1;
        }
        return 77;
    }
    return 0;
}
