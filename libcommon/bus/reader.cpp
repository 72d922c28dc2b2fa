// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstring>

#include "alopex/bus/reader.hpp"

namespace alopex::bus {

void PropertyReaderBase::bind(const PropertySpec &p, const std::string &have, Field f)
{
    if (have != p.signature)
        errors_.push_back(fmt::format("{}.{}: read as '{}', the XML says '{}'", spec_.name, p.name, have,
                                      p.signature));
    bool known = false;
    for (const auto *x : spec_.properties)
        known = known || x == &p;
    if (!known)
        errors_.push_back(fmt::format("{}.{}: not a property of this interface", spec_.name, p.name));
    if (!fields_.emplace(p.name, std::move(f)).second)
        errors_.push_back(fmt::format("{}.{}: bound twice", spec_.name, p.name));
}

Result<> PropertyReaderBase::check() const
{
    if (errors_.empty())
        return {};
    std::string all;
    for (const auto &e : errors_)
        all += (all.empty() ? "" : "; ") + e;
    return fail(EINVAL, all);
}

const PropertyReaderBase::Field *PropertyReaderBase::field(std::string_view name) const
{
    auto it = fields_.find(name);
    return it == fields_.end() ? nullptr : &it->second;
}

Result<> PropertyReaderBase::read_dict_erased(sd_bus_message *m, void *obj, std::vector<std::string> *changed) const
{
    ALOPEX_TRY_VOID(check());
    int r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r <= 0)
        return std::unexpected(read_error(spec_.name, r));
    for (;;) {
        r = sd_bus_message_enter_container(m, 'e', "sv");
        if (r < 0)
            return std::unexpected(read_error(spec_.name, r));
        if (r == 0)
            break;
        const char *name = nullptr;
        if ((r = sd_bus_message_read_basic(m, 's', &name)) <= 0)
            return std::unexpected(read_error(spec_.name, r));
        const Field *f = field(name);
        if (!f) {
            if ((r = sd_bus_message_skip(m, "v")) < 0)
                return std::unexpected(read_error(name, r));
        } else {
            if ((r = sd_bus_message_enter_container(m, 'v', f->spec->signature)) <= 0)
                return bus_fail(bus_error::InvalidArgument, "{}: not of type '{}'", name, f->spec->signature);
            ALOPEX_TRY_VOID(f->read(m, obj));
            ALOPEX_TRY_VOID(leave_container(m, name));
            if (changed)
                changed->emplace_back(name);
        }
        ALOPEX_TRY_VOID(leave_container(m, spec_.name));
    }
    return leave_container(m, spec_.name);
}

namespace detail {

Result<> walk_managed_objects(sd_bus_message *m, std::string_view iface,
                              const std::function<Result<>(const char *path)> &object)
{
    auto bad = [](int r) { return std::unexpected(read_error("GetManagedObjects", r)); };
    int r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");
    if (r <= 0)
        return bad(r);
    while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
        const char *path = nullptr;
        if ((r = sd_bus_message_read_basic(m, 'o', &path)) <= 0)
            return bad(r);
        if ((r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}")) <= 0)
            return bad(r);
        while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
            const char *name = nullptr;
            if ((r = sd_bus_message_read_basic(m, 's', &name)) <= 0)
                return bad(r);
            if (iface == name) {
                ALOPEX_TRY_VOID(object(path));
            } else if ((r = sd_bus_message_skip(m, "a{sv}")) < 0) {
                return bad(r);
            }
            if ((r = sd_bus_message_exit_container(m)) < 0)
                return bad(r);
        }
        if (r < 0)
            return bad(r);
        if ((r = sd_bus_message_exit_container(m)) < 0 || (r = sd_bus_message_exit_container(m)) < 0)
            return bad(r);
    }
    if (r < 0)
        return bad(r);
    if ((r = sd_bus_message_exit_container(m)) < 0)
        return bad(r);
    return {};
}

} // namespace detail
} // namespace alopex::bus
