// SPDX-License-Identifier: GPL-2.0-or-later
#include "async_client.hpp"

#include <linux/netlink.h>

#include <cstring>

#include <fmt/format.h>

namespace alopex::linkd::rtnl {

namespace {

constexpr int receive_buffer = 4 * 1024 * 1024;

Error request_error(const Request &r, int code, std::string_view text)
{
    return Error{code, r.what.empty() ? std::string(text) : fmt::format("{}: {}", r.what, text), {}};
}

} // namespace

Result<std::unique_ptr<AsyncClient>> AsyncClient::open(sd_event *event)
{
    ALOPEX_TRY(channel, netlink::open_request_channel(NETLINK_ROUTE, receive_buffer));
    return create(event, std::move(channel));
}

Result<std::unique_ptr<AsyncClient>> AsyncClient::create(sd_event *event,
                                                         std::unique_ptr<netlink::RequestChannel> channel,
                                                         std::chrono::microseconds timeout)
{
    netlink::RequesterOptions o;
    o.timeout = timeout;
    o.max_send = max_batch_bytes;
    ALOPEX_TRY(requester, netlink::Requester::create(event, std::move(channel), o));
    std::unique_ptr<AsyncClient> c(new AsyncClient());
    c->requester_ = std::move(requester);
    return c;
}

void AsyncClient::submit(std::vector<Request> requests, Done done)
{
    size_t n = requests.size();
    uint32_t base = requester_->reserve(static_cast<uint32_t>(std::max<size_t>(n, 1)));
    // Every outcome starts as "no answer"; decided marks the ones build() or the kernel gave.
    std::vector<Result<>> results(n, Result<>(std::unexpected(Error{EIO, "no answer from the kernel", {}})));
    std::vector<char> decided(n, 0);
    std::vector<std::byte> bytes;
    for (size_t i = 0; i < n; ++i) {
        if (auto built = build(requests[i], base + static_cast<uint32_t>(i), bytes); !built) {
            results[i] = std::unexpected(request_error(requests[i], built.error().code, built.error().message));
            decided[i] = 1;
        }
    }
    requester_->submit(std::move(bytes), [requests = std::move(requests), results = std::move(results),
                                          decided = std::move(decided), base,
                                          done = std::move(done)](Result<std::vector<netlink::Ack>> acks) mutable {
        if (!acks) {
            done(std::unexpected(acks.error()));
            return;
        }
        for (const auto &a : *acks) {
            size_t i = a.seq - base;
            if (i >= requests.size() || decided[i])
                continue;
            decided[i] = 1;
            if (a.error != 0)
                results[i] = std::unexpected(
                    request_error(requests[i], a.error, a.text.empty() ? std::strerror(a.error) : a.text));
            else
                results[i] = Result<>{};
        }
        done(std::move(results));
    });
}

} // namespace alopex::linkd::rtnl
