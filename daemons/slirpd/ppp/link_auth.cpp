// SPDX-License-Identifier: GPL-2.0-or-later
// The Link's Authenticate phase (RFC 1661 §3.5): between LCP up and the NCPs, the peer
// authenticates with what LCP agreed (auth.hpp); a peer that refused the option, or
// fails, is terminated, and after a hold-off LCP opens again for the next dial.
#include "link.hpp"

namespace alopex::slirp::ppp {

// Starts the Authenticate phase when the peer must authenticate; false: none asked.
bool Link::auth_start()
{
    if (config_.auth.protocols.empty())
        return false;
    phase_ = Phase::Authenticate;
    uint16_t protocol = lcp_options_.settings().auth;
    auth_.reset();   // not inside its own calls: LCP's this-layer-up
    auth_reason_.clear();
    if (protocol == 0) {   // LCP opened without it: the peer rejected the option
        ++stats_.auth_refused;
        auth_reason_ = "the peer refused to authenticate";
        auth_done(false);
        return true;
    }
    auth_ = std::make_unique<Authenticator>(
        protocol, config_.auth, random_,
        [this](uint16_t proto, std::vector<uint8_t> info) { send(proto, info); },
        [this](bool passed) { auth_done(passed); });
    auth_live_ = true;
    auth_->start(now_);
    return true;
}

void Link::auth_input(std::span<const uint8_t> info)
{
    auto before = auth_->stats();
    auth_->input(info, now_);
    ++stats_.auth_packets_in;
    stats_.auth_discarded += auth_->stats().discarded - before.discarded;
}

// Called from inside the Authenticator: it stays (a repeated request after success is
// answered again), until the next LCP up replaces it.
void Link::auth_done(bool passed)
{
    if (passed) {
        ++stats_.auth_successes;
        if (cb_.authenticated)
            cb_.authenticated(true);
        network_start();
        return;
    }
    if (auth_)
        auth_reason_ = auth_->reason();
    auth_live_ = false;
    ++stats_.auth_failures;
    if (cb_.authenticated)
        cb_.authenticated(false);
    close_pending_ = true;   // not from inside LCP's own event (this-layer-up) or the Authenticator
}

// After an event: a pending close (the peer failed) terminates the link; once LCP has
// closed it opens again after a hold-off, to serve the next dial.
void Link::settle()
{
    if (!close_pending_)
        return;
    close_pending_ = false;
    reopen_after_ = true;
    lcp_->close();   // Terminate-Request
    if (lcp_->state() == State::Closing)
        phase_ = Phase::Terminate;
    else
        lcp_finished();
    sync_timers();
}

void Link::lcp_finished()
{
    phase_ = Phase::Dead;
    if (reopen_after_) {
        reopen_after_ = false;
        reopen_at_ = now_ + auth_holdoff_usec;
    }
}

} // namespace alopex::slirp::ppp
