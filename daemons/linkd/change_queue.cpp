// SPDX-License-Identifier: GPL-2.0-or-later
#include "change_queue.hpp"

#include "alopex/log.hpp"

namespace alopex::linkd {

Result<std::unique_ptr<ChangeQueue>> ChangeQueue::create(sd_event *event, rtnl::AsyncClient &client)
{
    std::unique_ptr<ChangeQueue> q(new ChangeQueue(client));
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_defer(event, &s, on_defer, q.get()); r < 0)
        return fail(-r, "cannot add the change queue's event source");
    q->defer_.reset(s);
    sd_event_source_set_priority(s, planning_priority);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    return q;
}

ChangeQueue::~ChangeQueue() = default;

void ChangeQueue::enqueue(Job job)
{
    waiting_.push_back(std::move(job));
    if (!running_ && waiting_.size() == 1)
        start_next();
}

void ChangeQueue::submit(std::vector<rtnl::Request> requests, Done done)
{
    client_.submit(std::move(requests), std::move(done));
}

void ChangeQueue::start_next()
{
    if (running_ || waiting_.empty())
        return;
    Job job = std::move(waiting_.front());
    waiting_.pop_front();
    uint64_t ticket = next_ticket_++;
    running_ = ticket;
    std::weak_ptr<bool> alive = alive_;
    Finish finish = [this, ticket, alive] {
        if (alive.expired() || running_ != ticket)
            return;
        running_ = 0;
        if (!waiting_.empty())
            sd_event_source_set_enabled(defer_.get(), SD_EVENT_ONESHOT);
    };
    try {
        job(finish);
    } catch (const std::exception &e) {
        log::err("a queued kernel change failed: {}", e.what());
        finish();   // the queue goes on
    }
}

int ChangeQueue::on_defer(sd_event_source *, void *userdata) noexcept
{
    try {
        static_cast<ChangeQueue *>(userdata)->start_next();
    } catch (const std::exception &e) {
        log::err("the change queue: {}", e.what());
    }
    return 0;
}

} // namespace alopex::linkd
