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
// The ordering is libcommon's JobQueue (alopex/job_queue.hpp): a job that follows a
// finished one plans only after the rtnetlink monitor has read what the kernel reported.
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
#include "alopex/job_queue.hpp"
#include "rtnl/async_client.hpp"

namespace alopex::linkd {

class ChangeQueue {
public:
    using Finish = JobQueue::Finish;
    using Job = JobQueue::Job;
    using Done = rtnl::AsyncClient::Done;

    static Result<std::unique_ptr<ChangeQueue>> create(sd_event *event, rtnl::AsyncClient &client);

    // Runs `job` when every job enqueued before it has finished (JobQueue::enqueue).
    void enqueue(Job job) { jobs_->enqueue(std::move(job)); }
    // For the running job: sends `requests` as one batch; `done` runs from the loop with
    // one Result per request or the transport's error (ETIMEDOUT, ENOBUFS).
    void submit(std::vector<rtnl::Request> requests, Done done)
    {
        client_.submit(std::move(requests), std::move(done));
    }

    bool busy() const noexcept { return jobs_->busy(); }
    size_t waiting() const noexcept { return jobs_->waiting(); }

private:
    ChangeQueue(rtnl::AsyncClient &client, std::unique_ptr<JobQueue> jobs)
        : client_(client), jobs_(std::move(jobs)) {}
    rtnl::AsyncClient &client_;
    std::unique_ptr<JobQueue> jobs_;
};

} // namespace alopex::linkd
