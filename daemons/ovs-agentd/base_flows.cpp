// SPDX-License-Identifier: GPL-2.0-or-later
#include "base_flows.hpp"

#include "alopex/log.hpp"

namespace alopex::ovs {

using namespace openflow;

std::vector<Flow> base_flows(const Settings &s)
{
    if (!s.flows)
        return {};
    std::vector<Flow> out{{normal_cookie, 0, std::nullopt, port_normal}};
    for (const auto &p : s.local)
        out.push_back({local_cookie, local_priority, p, port_local});
    return out;
}

Result<std::unique_ptr<BaseFlows>> BaseFlows::create(sd_event *event, std::string bridge,
                                                     StreamConnection::Connect connect, std::vector<Flow> flows,
                                                     Events events)
{
    std::unique_ptr<BaseFlows> b(new BaseFlows(std::move(bridge), std::move(flows), std::move(events)));
    BaseFlows *self = b.get();
    StreamConnection::Callbacks cb;
    cb.up = [self] { self->up(); };
    cb.input = [self](std::span<const char> bytes) { self->input(bytes); };
    cb.down = [self](const std::string &) { self->state_ = State::Down; };
    ALOPEX_TRY(stream, StreamConnection::create(event, fmt::format("ovs-vswitchd (OpenFlow, {})", b->bridge_),
                                                std::move(connect), std::move(cb), {}));
    b->stream_ = std::move(stream);
    return b;
}

BaseFlows::~BaseFlows() = default;

void BaseFlows::send(const std::vector<std::byte> &bytes)
{
    stream_->send(std::string_view(reinterpret_cast<const char *>(bytes.data()), bytes.size()));
}

void BaseFlows::up()
{
    framer_ = Framer();
    state_ = State::Hello;
    send(hello_message(xid_++));
}

void BaseFlows::set(std::vector<Flow> flows)
{
    flows_ = std::move(flows);
    if (state_ == State::Programming || state_ == State::Done)
        program();
}

// Our LOCAL flows deleted (a non-strict delete of every flow with that cookie), the
// desired ones added, then a barrier.
void BaseFlows::program()
{
    state_ = State::Programming;
    refused_ = 0;
    send(flow_delete_cookie_message(xid_++, local_cookie));
    for (const auto &f : flows_)
        send(flow_add_message(xid_++, f));
    barrier_xid_ = xid_++;
    send(barrier_message(barrier_xid_));
}

void BaseFlows::input(std::span<const char> bytes)
{
    if (auto r = framer_.feed(std::as_bytes(bytes)); !r) {
        stream_->fail(r.error().message);
        return;
    }
    while (auto m = framer_.next()) {
        if (m->header.length < header_size) {
            stream_->fail(fmt::format("a message of length {}", m->header.length));
            return;
        }
        handle(*m);
        if (state_ == State::Down)
            return;
    }
}

void BaseFlows::handle(const Message &m)
{
    if (state_ == State::Hello) {
        if (auto r = accept_hello(m); !r) {
            log::warning("{}: {}", bridge_, r.error().message);
            stream_->fail(r.error().message);
            state_ = State::Down;
            return;
        }
        program();
        return;
    }
    switch (m.header.type) {
    case echo_request:
        send(echo_reply_message(m));
        break;
    case error:
        if (auto e = parse_error(m)) {
            ++refused_;
            log::warning("{}: ovs-vswitchd refused OpenFlow message {}: {}", bridge_, m.header.xid, e->text());
        }
        break;
    case barrier_reply:
        if (m.header.xid == barrier_xid_ && state_ == State::Programming) {
            state_ = State::Done;
            stream_->reset_backoff();
            log::info("{}: base flows in force: NORMAL and {} network(s) to LOCAL{}", bridge_,
                      flows_.empty() ? 0 : flows_.size() - 1,
                      refused_ ? fmt::format(" ({} refused)", refused_) : "");
            if (events_.programmed)
                events_.programmed(flows_.size(), refused_);
        }
        break;
    default:
        break;
    }
}

} // namespace alopex::ovs
