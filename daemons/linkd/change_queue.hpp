// SPDX-License-Identifier: GPL-2.0-or-later
// The kernel changes linkd plans from its own view of the kernel (profile rounds,
// checkpoint rollbacks, DHCP leases put in and taken out) run one at a time: each job
// starts when the one before it has had all its answers, plans against the state it finds
// then, and sends its batches through the daemon's one rtnl::AsyncClient. Nothing waits
// in recv(): a job's later steps are continuations the AsyncClient calls from the loop,
// and the job says when it is finished. So a rollback never sees half of a profile round,
// a lease is never put in between a rollback's two batches, and the kernel gets the
// changes in the order they were asked for, as when each ran to its end before the loop
// went on.
//
// A job that follows a finished one starts from a defer source of lower priority than the
// rtnetlink monitor's: by then the monitor has folded in what the kernel reported about
// the previous job's changes (the kernel queues those reports before its answers), so the
// next job plans from a state in step with every acknowledged request.
//
// D-Bus methods that change one thing (SetMtu, AddAddress, ...) do not queue: they plan
// nothing from the state, and their order is the AsyncClient's, the order of the calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "alopex/sd.hpp"
#include "rtnl/async_client.hpp"

namespace alopex::linkd {

// Below the monitor's event source (SD_EVENT_PRIORITY_NORMAL): what plans from the state
// runs once the monitor has read what is queued.
inline constexpr int64_t planning_priority = SD_EVENT_PRIORITY_NORMAL + 1;

class ChangeQueue {
public:
    // Ends the running job; calling it again, or after the queue is gone, does nothing.
    using Finish = std::function<void()>;
    using Job = std::function<void(Finish)>;
    using Done = rtnl::AsyncClient::Done;

    // Non-movable: `this` is the userdata of its defer source.
    static Result<std::unique_ptr<ChangeQueue>> create(sd_event *event, rtnl::AsyncClient &client);
    ~ChangeQueue();
    ChangeQueue(const ChangeQueue &) = delete;
    ChangeQueue &operator=(const ChangeQueue &) = delete;

    // Runs `job` when every job enqueued before it has finished: at once (inside
    // enqueue) when the queue is idle. The job calls its Finish exactly once, at once or
    // from a continuation.
    void enqueue(Job job);
    // For the running job: sends `requests` as one batch; `done` runs from the loop with
    // one Result per request or the transport's error (ETIMEDOUT, ENOBUFS).
    void submit(std::vector<rtnl::Request> requests, Done done);

    bool busy() const noexcept { return running_ != 0; }
    size_t waiting() const noexcept { return waiting_.size(); }

private:
    explicit ChangeQueue(rtnl::AsyncClient &client) : client_(client) {}
    void start_next();
    static int on_defer(sd_event_source *, void *userdata) noexcept;

    rtnl::AsyncClient &client_;
    EventSourcePtr defer_;
    std::deque<Job> waiting_;
    uint64_t running_ = 0;      // the running job's ticket, 0 when none runs
    uint64_t next_ticket_ = 1;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace alopex::linkd
