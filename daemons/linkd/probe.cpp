// SPDX-License-Identifier: GPL-2.0-or-later
#include "probe.hpp"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "alopex/log.hpp"
#include "connectivity.hpp"
#include "manager.hpp"

namespace alopex::linkd {

namespace {

constexpr auto debounce = std::chrono::milliseconds(100);

} // namespace

Prober::Prober(sd_event *event, Manager &manager) : event_(event), manager_(manager) {}

Prober::~Prober() = default;

EventSourcePtr Prober::add_timer(std::chrono::microseconds after, uint64_t accuracy_usec,
                                 sd_event_time_handler_t handler)
{
    sd_event_source *src = nullptr;
    int r = sd_event_add_time_relative(event_, &src, CLOCK_MONOTONIC,
                                       static_cast<uint64_t>(after.count()), accuracy_usec,
                                       handler, this);
    if (r < 0) {
        log::err("connectivity probe: cannot add a timer: {}", strerror(-r));
        return nullptr;
    }
    return EventSourcePtr(src);
}

void Prober::configure(const Settings &s)
{
    bool same_endpoint = s.probe == endpoint_;
    if (same_endpoint && s.interval == interval_ && s.timeout == timeout_)
        return;
    endpoint_ = s.probe;
    interval_ = s.interval;
    timeout_ = s.timeout;
    cancel_attempt();
    next_.reset();
    context_.clear();   // the next evaluation starts a probe if the state allows one
    if (!endpoint_) {
        log::info("connectivity probing off: the state stays \"limited\" at most");
        clear_result(nullptr);
        return;
    }
    log::info("connectivity probe: TCP connect to {} every {}s (timeout {}s) while a "
              "default route exists", endpoint_->to_string(), interval_.count(),
              timeout_.count());
    if (!same_endpoint)
        clear_result(nullptr);
    evaluate();
}

void Prober::state_changed()
{
    if (!endpoint_ || debounce_)
        return;
    debounce_ = add_timer(debounce, 10000, on_debounce);
}

void Prober::clear_result(const char *why)
{
    if (result_ && why)
        log::info("connectivity probe: result cleared ({})", why);
    result_.reset();
    last_error_ = 0;
    manager_.set_probe_result(std::nullopt);
}

void Prober::evaluate()
{
    debounce_.reset();
    if (!endpoint_)
        return;
    std::string ctx = probe_context(manager_.snapshot());
    if (ctx.empty()) {
        if (context_.empty() && !result_ && !fd_)
            return;
        cancel_attempt();
        next_.reset();
        context_.clear();
        clear_result("no default route, or no global address on a link that is up");
        return;
    }
    if (ctx == context_)
        return;   // nothing the probe depends on changed: keep the schedule
    log::debug("connectivity probe: default route or addresses changed, probing {} now",
               endpoint_->to_string());
    context_ = std::move(ctx);
    start();
}

void Prober::start()
{
    cancel_attempt();
    next_.reset();
    if (!endpoint_)
        return;
    Fd fd(::socket(endpoint_->address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!fd) {
        finish(errno);
        return;
    }
    sockaddr_storage ss;
    socklen_t len = net::to_sockaddr(*endpoint_, ss);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr *>(&ss), len) == 0) {
        finish(0);
        return;
    }
    if (errno != EINPROGRESS) {
        finish(errno);
        return;
    }
    sd_event_source *src = nullptr;
    if (int r = sd_event_add_io(event_, &src, fd.get(), EPOLLOUT, on_io, this); r < 0) {
        finish(-r);
        return;
    }
    fd_ = std::move(fd);
    io_.reset(src);
    deadline_ = add_timer(timeout_, 10000, on_deadline);
    log::debug("connectivity probe: connecting to {}", endpoint_->to_string());
}

void Prober::cancel_attempt()
{
    io_.reset();
    deadline_.reset();
    fd_.reset();
}

void Prober::finish(int err)
{
    cancel_attempt();
    bool ok = err == 0;
    std::string target = endpoint_ ? endpoint_->to_string() : std::string("?");
    if (!result_ || *result_ != ok || (!ok && err != last_error_)) {
        if (ok)
            log::info("connectivity probe: {} reachable", target);
        else
            log::info("connectivity probe: {} not reachable: {}", target, strerror(err));
    } else {
        log::debug("connectivity probe: {} {}", target, ok ? "reachable" : strerror(err));
    }
    result_ = ok;
    last_error_ = err;
    manager_.set_probe_result(ok);
    next_ = add_timer(interval_, 1000000, on_interval);
}

int Prober::on_debounce(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *self = static_cast<Prober *>(userdata);
    return log::contained("connectivity probe: re-checking the state", [self] { self->evaluate(); });
}

int Prober::on_interval(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *self = static_cast<Prober *>(userdata);
    return log::contained("connectivity probe: starting a probe", [self] {
        self->next_.reset();
        self->start();
    });
}

int Prober::on_deadline(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *self = static_cast<Prober *>(userdata);
    return log::contained("connectivity probe: timing out", [self] { self->finish(ETIMEDOUT); });
}

int Prober::on_io(sd_event_source *, int fd, uint32_t, void *userdata) noexcept
{
    auto *self = static_cast<Prober *>(userdata);
    return log::contained("connectivity probe: reading the outcome", [self, fd] {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err == EINPROGRESS)
            return;   // spurious wake-up; the connect is still under way
        self->finish(err);
    });
}

} // namespace alopex::linkd
