// SPDX-License-Identifier: GPL-2.0-or-later
// Kernel changes a daemon plans from its own view of the kernel run one at a time: each
// job starts when the one before it has said it is finished, plans against the state it
// finds then, and finishes from a continuation (an answer the loop delivers) or at once.
// Nothing waits: the queue only orders. linkd's profile rounds, checkpoint rollbacks and
// DHCP leases, and fwd's rebuilds, element batches and runtime rules go through one each.
//
// A job that follows a finished one starts from a defer source of `priority`: below the
// netlink monitor's (SD_EVENT_PRIORITY_NORMAL), it runs once the monitor has folded in what
// the kernel reported about the previous job's changes (the kernel queues those reports
// before its answers), so the next job plans from a state in step with every acknowledged
// request. A job enqueued while the queue is idle starts at once, inside enqueue().
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "alopex/sd.hpp"

namespace alopex {

// Below the monitor's event source: what plans from the state runs once the monitor has
// read what is queued.
inline constexpr int64_t planning_priority = SD_EVENT_PRIORITY_NORMAL + 1;

class JobQueue {
public:
    // Ends the running job; calling it again, or after the queue is gone, does nothing.
    using Finish = std::function<void()>;
    using Job = std::function<void(Finish)>;

    // Non-movable: `this` is the userdata of its defer source.
    static Result<std::unique_ptr<JobQueue>> create(sd_event *event, int64_t priority = planning_priority);
    ~JobQueue();
    JobQueue(const JobQueue &) = delete;
    JobQueue &operator=(const JobQueue &) = delete;

    // Runs `job` when every job enqueued before it has finished: at once (inside enqueue)
    // when the queue is idle. The job calls its Finish exactly once, at once or later.
    void enqueue(Job job);

    bool busy() const noexcept { return running_ != 0; }
    size_t waiting() const noexcept { return waiting_.size(); }

private:
    JobQueue() = default;
    void start_next();
    static int on_defer(sd_event_source *, void *userdata) noexcept;

    EventSourcePtr defer_;
    std::deque<Job> waiting_;
    uint64_t running_ = 0;      // the running job's ticket, 0 when none runs
    uint64_t next_ticket_ = 1;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace alopex
