// SPDX-License-Identifier: GPL-2.0-or-later
#include "shell.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace alopex::itest {

bool sh(const std::string &cmd)
{
    int st = std::system(cmd.c_str());
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

std::string capture(const std::string &cmd)
{
    std::string out;
    FILE *p = popen(cmd.c_str(), "r");
    if (!p)
        throw std::runtime_error("popen failed: " + cmd);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    int st = pclose(p);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        throw std::runtime_error("command failed: " + cmd);
    return out;
}

} // namespace alopex::itest
