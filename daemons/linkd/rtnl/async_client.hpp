// SPDX-License-Identifier: GPL-2.0-or-later
// rtnetlink requests that never wait in recv(): a batch goes to the kernel through
// netlink::Requester (alopex/netlink/requester.hpp) and `done` runs from the event loop
// with one Result per request, the kernel's errno and text after the request's `what`
// ("address 192.0.2.10/24 on eth0: File exists"), or with the transport's error: ETIMEDOUT when the kernel has not
// answered within reply_timeout_seconds, ENOBUFS when answers were lost.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "alopex/netlink/requester.hpp"
#include "rtnl.hpp"

namespace alopex::linkd::rtnl {

class AsyncClient {
public:
    using Done = std::function<void(Result<std::vector<Result<>>>)>;

    // A NETLINK_ROUTE request socket on `event`.
    static Result<std::unique_ptr<AsyncClient>> open(sd_event *event);
    // Over any channel (a test's peer), with any deadline.
    static Result<std::unique_ptr<AsyncClient>> create(
        sd_event *event, std::unique_ptr<netlink::RequestChannel> channel,
        std::chrono::microseconds timeout = std::chrono::seconds(reply_timeout_seconds));
    AsyncClient(const AsyncClient &) = delete;
    AsyncClient &operator=(const AsyncClient &) = delete;

    // Sends the requests as one batch (split at max_batch_bytes); a request build()
    // refuses gets that error and is not sent. Never calls `done` from inside submit().
    void submit(std::vector<Request> requests, Done done);
    size_t pending() const noexcept { return requester_->pending(); }

private:
    AsyncClient() = default;
    std::unique_ptr<netlink::Requester> requester_;
};

} // namespace alopex::linkd::rtnl
