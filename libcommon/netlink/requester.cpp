// SPDX-License-Identifier: GPL-2.0-or-later
#include "alopex/netlink/requester.hpp"

#include <linux/netlink.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include <libmnl/libmnl.h>

#include "alopex/log.hpp"

namespace alopex::netlink {

namespace {

uint64_t now_usec()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
}

int parse_err_attr(const nlattr *attr, void *data)
{
    auto *tb = static_cast<const nlattr **>(data);
    uint16_t type = mnl_attr_get_type(attr);
    if (type > NLMSGERR_ATTR_MAX)
        return MNL_CB_OK;
    if (type == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
        return MNL_CB_ERROR;
    if (type == NLMSGERR_ATTR_OFFS && mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
        return MNL_CB_ERROR;
    tb[type] = attr;
    return MNL_CB_OK;
}

// Walks the whole messages of `bytes`; false when they are not whole messages.
template <typename F> bool each_message(std::span<const std::byte> bytes, F &&f)
{
    const auto *p = reinterpret_cast<const nlmsghdr *>(bytes.data());
    int left = static_cast<int>(bytes.size());
    while (left > 0) {
        if (!NLMSG_OK(p, left))
            return false;
        f(p);
        p = NLMSG_NEXT(p, left);
    }
    return left == 0;
}

} // namespace

Result<Ack> parse_ack(const nlmsghdr *nlh, size_t len)
{
    if (len < sizeof(nlmsghdr) || nlh->nlmsg_len < sizeof(nlmsghdr) || nlh->nlmsg_len > len ||
        nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr)))
        return fail(EBADMSG, "malformed netlink answer");
    const auto *err = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(nlh));
    Ack a;
    a.seq = nlh->nlmsg_seq;
    if (err->error > 0 || err->error < -4095)
        return fail(EBADMSG, "netlink answer with an impossible errno");
    a.error = -err->error;
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
        return a;
    // The TLVs follow the echoed request: only its header with NETLINK_CAP_ACK (or an
    // ACK), the whole request otherwise.
    size_t echoed = (nlh->nlmsg_flags & NLM_F_CAPPED) || a.error == 0
                        ? sizeof(nlmsghdr)
                        : std::max<size_t>(err->msg.nlmsg_len, sizeof(nlmsghdr));
    size_t off = NLMSG_ALIGN(sizeof(int) + echoed);
    size_t payload = nlh->nlmsg_len - NLMSG_HDRLEN;
    if (off > payload)
        return fail(EBADMSG, "netlink answer: extended ACK beyond the message");
    const nlattr *tb[NLMSGERR_ATTR_MAX + 1] = {};
    const auto *base = static_cast<const char *>(mnl_nlmsg_get_payload(nlh));
    for (size_t at = off; at < payload;) {
        const auto *attr = reinterpret_cast<const nlattr *>(base + at);
        int left = static_cast<int>(payload - at);
        if (!mnl_attr_ok(attr, left) || parse_err_attr(attr, tb) != MNL_CB_OK)
            return fail(EBADMSG, "netlink answer: malformed extended ACK");
        at += NLA_ALIGN(attr->nla_len);
    }
    if (tb[NLMSGERR_ATTR_MSG])
        a.text = mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]);
    if (tb[NLMSGERR_ATTR_OFFS])
        a.offset = mnl_attr_get_u32(tb[NLMSGERR_ATTR_OFFS]);
    return a;
}

struct Requester::Pending {
    std::vector<std::byte> bytes;
    size_t sent = 0;                  // bytes sent so far
    uint32_t first = 0, last = 0;     // the sequence numbers of its messages
    size_t expect = 0;                // answers asked for (NLM_F_ACK), all chunks
    size_t asked = 0;                 // of those, in chunks sent
    size_t got = 0;
    std::vector<uint32_t> silent;     // seqs of messages that asked for no answer
    std::vector<Ack> answers;
    bool is_dump = false, interrupted = false;
    Each each;
    Done done;
    std::function<void(Result<>)> dump_done;
    uint64_t deadline = 0;
    std::optional<Result<std::vector<Ack>>> outcome;
};

Requester::Requester(sd_event *event, std::unique_ptr<RequestChannel> channel, RequesterOptions options)
    : event_(event), channel_(std::move(channel)), opt_(options), buf_(64 * 1024)
{
}

Requester::~Requester() = default;

Result<std::unique_ptr<Requester>> Requester::create(sd_event *event, std::unique_ptr<RequestChannel> channel,
                                                     RequesterOptions options)
{
    std::unique_ptr<Requester> r(new Requester(event, std::move(channel), options));
    ALOPEX_TRY_VOID(r->start());
    return r;
}

Result<> Requester::start()
{
    sd_event_source *s = nullptr;
    int r = sd_event_add_io(event_, &s, channel_->fd(), EPOLLIN, &Requester::on_io, this);
    if (r < 0)
        return failf(-r, "cannot watch the netlink request socket: {}", strerror(-r));
    io_.reset(s);
    r = sd_event_add_time(event_, &s, CLOCK_MONOTONIC, UINT64_MAX, 1000, &Requester::on_timer, this);
    if (r < 0)
        return failf(-r, "cannot add the netlink request timer: {}", strerror(-r));
    timer_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    return {};
}

uint32_t Requester::reserve(uint32_t n)
{
    if (next_seq_ == 0 || uint64_t(next_seq_) + n > UINT32_MAX)
        next_seq_ = 1;
    uint32_t first = next_seq_;
    next_seq_ += n;
    return first;
}

void Requester::submit(std::vector<std::byte> bytes, Done done)
{
    auto p = std::make_unique<Pending>();
    p->done = std::move(done);
    p->deadline = now_usec() + uint64_t(opt_.timeout.count());
    bool first = true;
    bool whole = each_message(bytes, [&](const nlmsghdr *m) {
        p->first = first ? m->nlmsg_seq : std::min(p->first, m->nlmsg_seq);
        p->last = first ? m->nlmsg_seq : std::max(p->last, m->nlmsg_seq);
        first = false;
        if (m->nlmsg_flags & NLM_F_ACK)
            ++p->expect;
        else
            p->silent.push_back(m->nlmsg_seq);
    });
    p->bytes = std::move(bytes);
    if (!whole)
        p->outcome = fail(EINVAL, "a netlink batch of partial messages");
    else if (p->expect == 0)
        p->outcome = std::vector<Ack>{};
    if (p->outcome) {
        finished_.push_back(std::move(p));
        schedule_completions();
        return;
    }
    queue_.push_back(std::move(p));
    pump();
    arm();
}

void Requester::dump(std::vector<std::byte> request, Each each, std::function<void(Result<>)> done)
{
    auto p = std::make_unique<Pending>();
    p->is_dump = true;
    p->each = std::move(each);
    p->dump_done = std::move(done);
    p->deadline = now_usec() + uint64_t(opt_.timeout.count());
    size_t n = 0;
    bool whole = each_message(request, [&](const nlmsghdr *m) {
        p->first = p->last = m->nlmsg_seq;
        ++n;
    });
    p->expect = 1;   // NLMSG_DONE (or an error)
    p->bytes = std::move(request);
    if (!whole || n != 1) {
        p->outcome = fail(EINVAL, "a dump request must be one whole message");
        finished_.push_back(std::move(p));
        schedule_completions();
        return;
    }
    queue_.push_back(std::move(p));
    pump();
    arm();
}

void Requester::pump()
{
    size_t room = std::max<size_t>(1, channel_->receive_room() / std::max<size_t>(1, opt_.answer_cost));
    for (auto &p : queue_) {
        while (!p->outcome && p->sent < p->bytes.size()) {
            std::span<const std::byte> rest(p->bytes.data() + p->sent, p->bytes.size() - p->sent);
            const auto *m = reinterpret_cast<const nlmsghdr *>(rest.data());
            int left = static_cast<int>(rest.size());
            size_t len = 0, answers = 0;
            while (NLMSG_OK(m, left)) {
                size_t sz = std::min<size_t>(NLMSG_ALIGN(m->nlmsg_len), size_t(left));
                if (len > 0 && opt_.max_send && !p->is_dump && len + sz > opt_.max_send)
                    break;
                len += sz;
                if ((m->nlmsg_flags & NLM_F_ACK) || p->is_dump)
                    ++answers;
                m = NLMSG_NEXT(m, left);
            }
            len = std::min(len, rest.size());
            if (answers > room) {
                // This chunk's answers alone would overflow the receive buffer: grow it
                // (a failure leaves it as it is; the answers may then be lost: ENOBUFS).
                (void)channel_->reserve_receive(answers * opt_.answer_cost);
                room = std::max<size_t>(1, channel_->receive_room() / std::max<size_t>(1, opt_.answer_cost));
            }
            if (outstanding_ > 0 && outstanding_ + answers > room)
                return;   // the rest goes when answers have drained
            auto r = channel_->reserve_send(len);
            if (r)
                r = channel_->send(rest.first(len));
            if (!r) {
                p->outcome = std::unexpected(r.error());
                outstanding_ -= std::min(outstanding_, p->asked - p->got);
                break;
            }
            p->sent += len;
            p->asked += answers;
            outstanding_ += answers;
        }
        if (p->sent < p->bytes.size() && !p->outcome)
            return;   // keeps the order: nothing of a later batch before this one is out
    }
}

void Requester::handle(const nlmsghdr *nlh, size_t len)
{
    uint32_t seq = nlh->nlmsg_seq;
    auto it = std::find_if(queue_.begin(), queue_.end(), [seq](const auto &p) {
        return !p->outcome && p->sent > 0 && seq >= p->first && seq <= p->last;
    });
    if (it == queue_.end())
        return;   // late (timed out), or not ours
    Pending &p = **it;
    auto finish = [&](Result<std::vector<Ack>> r) {
        outstanding_ -= std::min(outstanding_, p.asked - p.got);
        p.outcome = std::move(r);
    };
    if (p.is_dump) {
        if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
            p.interrupted = true;
        if (nlh->nlmsg_type == NLMSG_DONE) {
            int err = 0;
            if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
                std::memcpy(&err, NLMSG_DATA(nlh), sizeof err);
            p.got = 1;
            if (err < 0)
                finish(failf(-err, "the dump failed: {}", strerror(-err)));
            else if (p.interrupted)
                finish(fail(EINTR, "the dump was interrupted by a change (NLM_F_DUMP_INTR)"));
            else
                finish(std::vector<Ack>{});
        } else if (nlh->nlmsg_type == NLMSG_ERROR) {
            auto a = parse_ack(nlh, len);
            p.got = 1;
            if (!a)
                finish(std::unexpected(a.error()));
            else if (a->error)
                finish(failf(a->error, "{}", a->text.empty() ? strerror(a->error) : a->text));
            else
                finish(std::vector<Ack>{});
        } else if (p.each) {
            p.each(nlh);
        }
        return;
    }
    if (nlh->nlmsg_type != NLMSG_ERROR)
        return;
    auto a = parse_ack(nlh, len);
    if (!a) {
        finish(std::unexpected(a.error()));
        return;
    }
    bool silent = std::find(p.silent.begin(), p.silent.end(), seq) != p.silent.end();
    p.answers.push_back(std::move(*a));
    if (!silent) {
        ++p.got;
        if (outstanding_)
            --outstanding_;
    }
    if ((silent && p.answers.back().error) || p.got >= p.expect) {
        std::sort(p.answers.begin(), p.answers.end(), [](const Ack &x, const Ack &y) { return x.seq < y.seq; });
        finish(std::move(p.answers));
    }
}

void Requester::fail_sent(const Error &e)
{
    for (auto &p : queue_)
        if (!p->outcome && p->sent > 0)
            p->outcome = std::unexpected(e);
    outstanding_ = 0;
}

void Requester::read_answers()
{
    for (;;) {
        auto r = channel_->receive(buf_);
        if (!r) {
            if (r.error().code == EINTR)
                continue;
            fail_sent(Error{r.error().code, fmt::format("netlink answers lost: {}", r.error().to_string()), {}});
            break;
        }
        if (r->status == Transport::Status::Again)
            break;
        if (r->status == Transport::Status::Foreign)
            continue;
        std::span<const std::byte> data(buf_.data(), r->size);
        const auto *nlh = reinterpret_cast<const nlmsghdr *>(data.data());
        int left = static_cast<int>(data.size());
        while (NLMSG_OK(nlh, left)) {
            handle(nlh, static_cast<size_t>(left));
            nlh = NLMSG_NEXT(nlh, left);
        }
    }
}

void Requester::schedule_completions()
{
    for (auto it = queue_.begin(); it != queue_.end();) {
        if ((*it)->outcome) {
            finished_.push_back(std::move(*it));
            it = queue_.erase(it);
        } else {
            ++it;
        }
    }
    if (finished_.empty() || defer_)
        return;
    sd_event_source *s = nullptr;
    if (sd_event_add_defer(event_, &s, &Requester::on_defer, this) >= 0)
        defer_.reset(s);
}

void Requester::arm()
{
    uint64_t next = UINT64_MAX;
    for (const auto &p : queue_)
        if (!p->outcome)
            next = std::min(next, p->deadline);
    if (next == UINT64_MAX) {
        sd_event_source_set_enabled(timer_.get(), SD_EVENT_OFF);
        return;
    }
    sd_event_source_set_time(timer_.get(), next);
    sd_event_source_set_enabled(timer_.get(), SD_EVENT_ONESHOT);
}

void Requester::cancel_all(const Error &e)
{
    for (auto &p : queue_)
        if (!p->outcome)
            p->outcome = std::unexpected(e);
    outstanding_ = 0;
    schedule_completions();
    arm();
}

int Requester::on_io(sd_event_source *, int, uint32_t, void *userdata) noexcept
{
    auto *self = static_cast<Requester *>(userdata);
    try {
        self->read_answers();
        self->schedule_completions();
        self->pump();
        self->schedule_completions();
        self->arm();
    } catch (const std::exception &e) {
        log::err("netlink requests: {}", e.what());
    }
    return 0;
}

int Requester::on_timer(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *self = static_cast<Requester *>(userdata);
    try {
        uint64_t now = now_usec();
        for (auto &p : self->queue_)
            if (!p->outcome && p->deadline <= now) {
                self->outstanding_ -= std::min(self->outstanding_, p->asked - p->got);
                p->outcome = failf(ETIMEDOUT, "no answer within {} ms",
                                   std::chrono::duration_cast<std::chrono::milliseconds>(self->opt_.timeout).count());
            }
        self->schedule_completions();
        self->pump();
        self->schedule_completions();
        self->arm();
    } catch (const std::exception &e) {
        log::err("netlink requests: {}", e.what());
    }
    return 0;
}

int Requester::on_defer(sd_event_source *, void *userdata) noexcept
{
    auto *self = static_cast<Requester *>(userdata);
    self->defer_.reset();
    // Callbacks may submit: take the finished ones out first.
    auto done = std::move(self->finished_);
    self->finished_.clear();
    for (auto &p : done) {
        try {
            if (p->is_dump) {
                if (p->dump_done)
                    p->dump_done(p->outcome->has_value() ? Result<>{} : Result<>(std::unexpected(p->outcome->error())));
            } else if (p->done) {
                p->done(std::move(*p->outcome));
            }
        } catch (const std::exception &e) {
            log::err("netlink request callback: {}", e.what());
        }
    }
    return 0;
}

} // namespace alopex::netlink
