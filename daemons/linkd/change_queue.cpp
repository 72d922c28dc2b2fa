// SPDX-License-Identifier: GPL-2.0-or-later
#include "change_queue.hpp"

namespace alopex::linkd {

Result<std::unique_ptr<ChangeQueue>> ChangeQueue::create(sd_event *event, rtnl::AsyncClient &client)
{
    ALOPEX_TRY(jobs, JobQueue::create(event));
    return std::unique_ptr<ChangeQueue>(new ChangeQueue(client, std::move(jobs)));
}

} // namespace alopex::linkd
