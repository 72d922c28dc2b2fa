// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>

#include "alopex/file.hpp"
#include "managed_file.hpp"

namespace alopex::broker {

Result<ManagedTarget> open_target(const std::filesystem::path &p)
{
    if (!p.is_absolute() || !p.has_filename())
        return bus_fail(bus_error::IOError, "{}: not an absolute file path", p.string());
    ManagedTarget t;
    t.dir_name = p.parent_path().string();
    t.name = p.filename().string();
    t.dir.reset(::open(t.dir_name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!t.dir)
        return io_fail(errno, "cannot open directory " + t.dir_name);
    return t;
}

Result<std::string> read_target(const ManagedTarget &t, uint64_t max)
{
    auto text = read_regular_file_at(t.dir.get(), t.name, max);
    if (!text) {
        // Every failure to read a managed file is an I/O error for the caller.
        Error e = std::move(text.error());
        e.message = t.dir_name + "/" + e.message;
        e.bus_name = bus_error::IOError;
        return std::unexpected(std::move(e));
    }
    return text;
}

} // namespace alopex::broker
