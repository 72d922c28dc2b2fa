// SPDX-License-Identifier: GPL-2.0-or-later
// `alopexctl checkpoint create SECONDS | confirm PATH | rollback PATH`.
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alopex/bus/blocking.hpp"
#include "alopex/ipc/link1.hpp"
#include "alopex/ipc/link1_spec.hpp"
#include "link_cmd.hpp"

namespace alopexctl {
namespace l1 = alopex::ipc::link1;
namespace cp = alopex::ipc::link1::checkpoints;
namespace cli = alopex::cli;
using Op = CheckpointRequest::Op;

namespace {

alopex::Result<CheckpointRequest> parse_create(const cli::Args &a)
{
    if (a.words.size() != 1)
        return alopex::failf(EINVAL, "checkpoint create: expected SECONDS");
    uint32_t n = 0;
    std::string_view s = a.words[0];
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        return alopex::failf(EINVAL, "checkpoint create: timeout: not a non-negative integer: '{}'",
                             cli::printable(s));
    return CheckpointRequest{.op = Op::create, .timeout_s = n};
}

template <Op O> alopex::Result<CheckpointRequest> parse_path(const cli::Args &a)
{
    std::string_view verb = O == Op::confirm ? "confirm" : "rollback";
    if (a.words.size() != 1)
        return alopex::failf(EINVAL, "checkpoint {}: expected PATH", verb);
    std::string path(a.words[0]);
    if (!sd_bus_object_path_is_valid(path.c_str()))
        return alopex::failf(EINVAL, "checkpoint {}: not an object path: '{}'", verb, cli::printable(path));
    return CheckpointRequest{.op = O, .path = path};
}

const cli::Verb<CheckpointRequest> verbs[] = {
    {{"create"},
     "SECONDS",
     "snapshot links, addresses and routes; rolled back\nunless confirmed within SECONDS (prints its path)",
     parse_create},
    {{"confirm"}, "PATH", "keep the changes made since the checkpoint", parse_path<Op::confirm>},
    {{"rollback"}, "PATH", "put the checkpoint's state back now", parse_path<Op::rollback>},
};

} // namespace

alopex::Result<CheckpointRequest> parse_checkpoint_args(std::span<const std::string_view> words)
{
    ALOPEX_TRY(args, cli::parse_args(words, {}, "checkpoint"));
    return cli::parse_verb<CheckpointRequest>("checkpoint", verbs, args);
}

int run_checkpoint(Context &ctx, const CheckpointRequest &r)
{
    auto bus = ctx.bus();
    if (!bus)
        return Context::fail(bus.error());
    if (r.op == Op::create) {
        auto made = alopex::bus::blocking::call<alopex::bus::ObjectPath>(*bus, l1::service, l1::path, cp::spec,
                                                                          cp::method::CheckpointCreate, r.timeout_s);
        if (!made)
            return Context::fail(made.error());
        const std::string &path = std::get<0>(*made).value;
        cli::Section s({"CHECKPOINT"});   // -t prints the path alone
        s.json_shape = cli::Section::Json::object;
        s.text = path;
        s.add({path}, {{"checkpoint", path}});
        cli::Document doc;
        doc.sections.push_back(std::move(s));
        return ctx.print(doc);
    }
    auto done = alopex::bus::blocking::call<>(
        *bus, l1::service, l1::path, cp::spec,
        r.op == Op::confirm ? cp::method::CheckpointConfirm : cp::method::CheckpointRollback,
        alopex::bus::ObjectPath{r.path});
    return done ? ctx.print(cli::Document()) : Context::fail(done.error());
}

std::vector<cli::Command> checkpoint_commands(Context &ctx)
{
    return cli::verb_commands<CheckpointRequest>("checkpoint", verbs, [&ctx](alopex::Result<CheckpointRequest> r) {
        return r ? run_checkpoint(ctx, *r) : Context::usage_error(r.error());
    });
}

} // namespace alopexctl
