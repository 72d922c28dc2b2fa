// SPDX-License-Identifier: GPL-2.0-or-later
#include "alopex/job_queue.hpp"

#include "alopex/log.hpp"

namespace alopex {

Result<std::unique_ptr<JobQueue>> JobQueue::create(sd_event *event, int64_t priority)
{
    std::unique_ptr<JobQueue> q(new JobQueue());
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_defer(event, &s, on_defer, q.get()); r < 0)
        return fail(-r, "cannot add the job queue's event source");
    q->defer_.reset(s);
    sd_event_source_set_priority(s, priority);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    return q;
}

JobQueue::~JobQueue() = default;

void JobQueue::enqueue(Job job)
{
    waiting_.push_back(std::move(job));
    if (!running_ && waiting_.size() == 1)
        start_next();
}

void JobQueue::start_next()
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

int JobQueue::on_defer(sd_event_source *, void *userdata) noexcept
{
    try {
        static_cast<JobQueue *>(userdata)->start_next();
    } catch (const std::exception &e) {
        log::err("the job queue: {}", e.what());
    }
    return 0;
}

} // namespace alopex
