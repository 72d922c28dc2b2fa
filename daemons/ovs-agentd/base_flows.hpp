// SPDX-License-Identifier: GPL-2.0-or-later
// The bridge's base OpenFlow flows ([flows] of alopex-ovs-agent.toml), programmed as
// OpenFlow 1.3 on ovs-vswitchd's management socket of the bridge (the broker's
// OpenOvsBridge): NORMAL for all traffic (priority 0, cookie normal_cookie) and each
// [flows] local network to LOCAL, the bridge's own port (priority 100, cookie
// local_cookie). Every (re)connection and every change programs the whole set: the
// LOCAL flows with our cookie deleted, the desired ones added (NORMAL is overwritten,
// never deleted, so forwarding never stops), then a barrier whose reply says it is in
// force. ovs-vswitchd forgets flows when it restarts; its socket closes then, and the
// flows are programmed again once it is back.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "openflow.hpp"
#include "settings.hpp"
#include "stream_connection.hpp"

namespace alopex::ovs {

inline constexpr uint64_t normal_cookie = 0x616c6f7065780000;   // "alopex" 00 00
inline constexpr uint64_t local_cookie = 0x616c6f7065780001;
inline constexpr uint16_t local_priority = 100;

// What `s` asks for (empty when [flows] is off).
std::vector<openflow::Flow> base_flows(const Settings &s);

class BaseFlows {
public:
    struct Events {
        std::function<void(size_t flows, size_t refused)> programmed;
    };
    static Result<std::unique_ptr<BaseFlows>> create(sd_event *event, std::string bridge,
                                                     StreamConnection::Connect connect, std::vector<openflow::Flow> flows,
                                                     Events events);
    ~BaseFlows();
    BaseFlows(const BaseFlows &) = delete;
    BaseFlows &operator=(const BaseFlows &) = delete;

    // A new desired set, programmed at once when connected.
    void set(std::vector<openflow::Flow> flows);
    // The bridge may be there now: connect without waiting for the backoff.
    void retry_now() { stream_->retry_now(); }

private:
    enum class State { Down, Hello, Programming, Done };
    BaseFlows(std::string bridge, std::vector<openflow::Flow> flows, Events events)
        : bridge_(std::move(bridge)), flows_(std::move(flows)), events_(std::move(events)) {}
    void up();
    void input(std::span<const char> bytes);
    void handle(const openflow::Message &m);
    void program();
    void send(const std::vector<std::byte> &bytes);

    std::string bridge_;
    std::vector<openflow::Flow> flows_;
    Events events_;
    std::unique_ptr<StreamConnection> stream_;
    openflow::Framer framer_;
    State state_ = State::Down;
    uint32_t xid_ = 1, barrier_xid_ = 0;
    size_t refused_ = 0;
};

} // namespace alopex::ovs
