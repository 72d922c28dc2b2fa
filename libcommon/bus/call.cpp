// SPDX-License-Identifier: GPL-2.0-or-later
#include "alopex/bus/call.hpp"

#include <cstring>
#include <memory>

#include "alopex/bus/object.hpp"
#include "alopex/log.hpp"
#include "alopex/polkit.hpp"

namespace alopex::bus {

const char *default_error_name(const Error &e)
{
    if (!e.bus_name.empty())
        return e.bus_name.c_str();
    switch (e.code) {
    case EINVAL:
    case ERANGE:
    case EEXIST:
    case ESRCH:
    case EADDRNOTAVAIL:
    case EBUSY:
    case EOPNOTSUPP:
    case ENOTEMPTY:
        return bus_error::InvalidArgument;
    case ENODEV:
        return bus_error::NoSuchLink;
    case EPERM:
    case EACCES:
        return bus_error::NotAuthorized;
    default:
        return bus_error::IOError;
    }
}

namespace detail {

Result<MessagePtr> new_return(sd_bus_message *call, const std::string &have, const char *want)
{
    if (have != (want ? want : ""))
        return bus_fail(bus_error::Internal, "the reply's signature '{}' is not the declared '{}'", have,
                        want ? want : "");
    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_method_return(call, &raw);
    if (r < 0)
        return failf(-r, "cannot build a reply: {}", strerror(-r));
    return MessagePtr(raw);
}

int send(sd_bus_message *m) { return sd_bus_send(nullptr, m, nullptr); }

} // namespace detail

PendingReply &PendingReply::operator=(PendingReply &&o) noexcept
{
    if (this != &o) {
        if (call_)
            answer_error(Error{ECANCELED, "the request was dropped", bus_error::Internal});
        call_ = std::move(o.call_);
        spec_ = o.spec_;
        mapper_ = o.mapper_;
    }
    return *this;
}

PendingReply::~PendingReply()
{
    if (call_)
        answer_error(Error{ECANCELED, "the request was dropped before it completed", bus_error::Internal});
}

void PendingReply::answer_error(const Error &e)
{
    if (!call_)
        return;
    const char *name = (mapper_ ? mapper_ : default_error_name)(e);
    (void)sd_bus_reply_method_errorf(call_.get(), name, "%s", e.to_string().c_str());
    call_.reset();
}

void PendingReply::fail(const Error &e) { answer_error(e); }

std::string_view Call::sender() const noexcept
{
    const char *s = sd_bus_message_get_sender(m_);
    return s ? s : "";
}

bool Call::interactive() const { return sd_bus_message_get_allow_interactive_authorization(m_) > 0; }

void Call::fail(const Error &e)
{
    if (state_ != State::Open)
        return;
    const char *name = service_.error_mapper()(e);
    error_ = sd_bus_error_set(ret_, name, e.to_string().c_str());
    if (error_ >= 0)
        error_ = -EINVAL;
    state_ = State::Failed;
}

bool Call::authorize(const char *action)
{
    if (state_ != State::Open)
        return false;
    int r = service_.authority().check(m_, action, ret_);
    if (r > 0)
        return true;
    if (r == 0) {
        state_ = State::Waiting;
        return false;
    }
    error_ = r;
    state_ = State::Failed;
    return false;
}

PendingReply Call::defer()
{
    if (state_ != State::Open)
        return {};
    state_ = State::Deferred;
    return PendingReply(ref(m_), &spec_, service_.error_mapper());
}

std::function<void()> Call::postpone()
{
    if (state_ != State::Open)
        return [] {};
    state_ = State::Deferred;
    return [m = std::make_shared<MessagePtr>(ref(m_))] {
        // Read again by the bus, so the registered handler sees it as a new call.
        (void)sd_bus_enqueue_for_read(sd_bus_message_get_bus(m->get()), m->get());
    };
}

int Call::finish()
{
    if (state_ != State::Waiting)
        service_.authority().release(m_);
    switch (state_) {
    case State::Replied:
    case State::Deferred:
    case State::Waiting:
        return 1;
    case State::Failed: {
        if (!service_.log_refusals())
            return error_ < 0 ? error_ : -EINVAL;
        std::string sender(this->sender());
        const char *name = ret_ && ret_->name ? ret_->name : "?";
        log::notice({{"ALOPEX_OP", spec_.name}, {"ALOPEX_SENDER", sender}, {"ALOPEX_RESULT", name}},
                    "{} from {} refused: {}: {}", spec_.name, sender.empty() ? "?" : sender, name,
                    ret_ && ret_->message ? ret_->message : "");
        return error_ < 0 ? error_ : -EINVAL;
    }
    case State::Open:
        break;
    }
    return sd_bus_error_setf(ret_, bus_error::Internal, "%s: the handler gave no answer", spec_.name);
}

} // namespace alopex::bus
