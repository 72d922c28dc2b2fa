// SPDX-License-Identifier: GPL-2.0-or-later
// SACK (RFC 2018) and the loss recovery it allows (RFC 6675): the scoreboard of what the
// peer holds above SND.UNA, IsLost(), the pipe, NextSeg(); and the blocks our ACKs carry
// when we hold out-of-order data.
#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "tcp.hpp"

namespace alopex::slirp::stack::tcp {

namespace {
constexpr unsigned dup_thresh = 3;   // RFC 6675 §2 DupThresh
}

// The blocks of an ACK, checked: inside (SND.UNA, SND.MAX], not reversed. A block at or
// below SND.UNA (a D-SACK, RFC 2883) tells nothing new. Returns whether the scoreboard
// grew.
bool Connection::take_sack(const Tcp &seg)
{
    bool grew = false;
    for (uint8_t i = 0; i < std::min<uint8_t>(seg.options.sack_blocks, 4); ++i) {
        uint32_t s = seg.options.sack[i].start, e = seg.options.sack[i].end;
        if (!lt(s, e) || le(e, snd_una_) || gt(e, snd_max_))
            continue;
        if (lt(s, snd_una_))
            s = snd_una_;
        // Merged into the sorted ranges: those it touches are swallowed.
        auto it = std::find_if(scoreboard_.begin(), scoreboard_.end(), [&](const SackBlock &b) { return ge(b.end, s); });
        auto last = it;
        uint32_t ns = s, ne = e;
        uint32_t covered = 0;
        while (last != scoreboard_.end() && le(last->start, e)) {
            covered += last->end - last->start;
            ns = lt(last->start, ns) ? last->start : ns;
            ne = gt(last->end, ne) ? last->end : ne;
            ++last;
        }
        if (ne - ns > covered)
            grew = true;
        it = scoreboard_.erase(it, last);
        scoreboard_.insert(it, {ns, ne});
        if (scoreboard_.size() > max_scoreboard)
            scoreboard_.pop_back();   // the highest: at worst sent again
    }
    return grew;
}

// A retransmission not yet SACKed or acknowledged while SACKed data lies beyond its fence
// is lost again: NextSeg() may send it once more (it and what follows no longer count as
// retransmitted in the pipe).
void Connection::detect_lost_retransmissions()
{
    if (scoreboard_.empty() || rxts_.empty())
        return;
    uint32_t highest = scoreboard_.back().end;
    for (size_t i = 0; i < rxts_.size(); ++i) {
        const Rxt &r = rxts_[i];
        if (lt(r.seq, snd_una_) || !gt(highest, r.fence))
            continue;
        bool sacked = std::any_of(scoreboard_.begin(), scoreboard_.end(),
                                  [&](const SackBlock &b) { return le(b.start, r.seq) && lt(r.seq, b.end); });
        if (sacked)
            continue;
        ++stats_.lost_retransmits;
        if (lt(r.seq, high_rxt_))
            high_rxt_ = r.seq;
        rxts_.erase(rxts_.begin() + static_cast<long>(i), rxts_.end());
        return;
    }
}

// After SND.UNA moved: what it passed is gone from the scoreboard.
void Connection::trim_scoreboard()
{
    auto it = scoreboard_.begin();
    while (it != scoreboard_.end() && le(it->end, snd_una_))
        ++it;
    scoreboard_.erase(scoreboard_.begin(), it);
    if (!scoreboard_.empty() && lt(scoreboard_.front().start, snd_una_))
        scoreboard_.front().start = snd_una_;
    std::erase_if(rxts_, [this](const Rxt &r) { return lt(r.seq, snd_una_); });
    if (lt(high_rxt_, snd_una_))
        high_rxt_ = snd_una_;
}

uint32_t Connection::sacked_above(uint32_t seq, unsigned *ranges) const
{
    uint32_t bytes = 0;
    unsigned n = 0;
    for (const auto &b : scoreboard_) {
        if (le(b.end, seq))
            continue;
        bytes += b.end - (gt(b.start, seq) ? b.start : seq);
        ++n;
    }
    if (ranges)
        *ranges = n;
    return bytes;
}

// SACKed octets from SND.UNA up to `seq`.
uint32_t Connection::sacked_below(uint32_t seq) const
{
    uint32_t bytes = 0;
    for (const auto &b : scoreboard_) {
        if (!lt(b.start, seq))
            break;
        bytes += (lt(b.end, seq) ? b.end : seq) - b.start;
    }
    return bytes;
}

// RFC 6675 §4 IsLost(): DupThresh discontiguous SACKed blocks above it, or more than
// (DupThresh - 1) segments' worth of SACKed octets.
bool Connection::is_lost(uint32_t seq) const
{
    unsigned ranges = 0;
    uint32_t bytes = sacked_above(seq, &ranges);
    return ranges >= dup_thresh || bytes > (dup_thresh - 1) * snd_mss_;
}

// RFC 6675 §4 SetPipe(): the octets thought to be in the network. Every gap between
// SACKed ranges counts unless it is lost, and what of it was retransmitted counts again.
uint32_t Connection::pipe() const
{
    uint32_t pipe = 0, cur = snd_una_;
    auto gap = [&](uint32_t g0, uint32_t g1) {
        if (!lt(g0, g1))
            return;
        if (!is_lost(g0))
            pipe += g1 - g0;
        if (gt(high_rxt_, g0))
            pipe += (lt(high_rxt_, g1) ? high_rxt_ : g1) - g0;
    };
    for (const auto &b : scoreboard_) {
        gap(cur, b.start);
        if (gt(b.end, cur))
            cur = b.end;
    }
    gap(cur, snd_max_);
    return pipe;
}

// RFC 6675 §4 NextSeg(): (1) the first lost octet not yet retransmitted in this recovery;
// (2) new data; (3) the first octet not SACKed, not retransmitted, below the highest
// SACKed one. False when there is nothing to send.
bool Connection::next_seg(uint32_t &seq, uint32_t &len, bool &fresh) const
{
    uint32_t from = gt(high_rxt_, snd_una_) ? high_rxt_ : snd_una_;
    std::optional<std::pair<uint32_t, uint32_t>> rescue;
    uint32_t cur = from;
    for (const auto &b : scoreboard_) {
        if (gt(b.start, cur)) {
            if (is_lost(cur)) {
                seq = cur, len = std::min<uint32_t>(b.start - cur, snd_mss_), fresh = false;
                return true;
            }
            if (!rescue)
                rescue = {cur, std::min<uint32_t>(b.start - cur, snd_mss_)};
        }
        if (gt(b.end, cur))
            cur = b.end;
    }
    uint32_t end = data_end();
    if (lt(snd_nxt_, end) && snd_nxt_ - snd_una_ < snd_wnd_) {
        seq = snd_nxt_, len = std::min<uint32_t>(end - snd_nxt_, snd_mss_), fresh = true;
        return true;
    }
    if (rescue) {
        seq = rescue->first, len = rescue->second, fresh = false;
        return true;
    }
    return false;
}

// RFC 6675 §5 step (4): the recovery point, half the flight as ssthresh and cwnd, the
// first segment again; what else the pipe allows goes out with output() after the ACK.
void Connection::enter_sack_recovery(uint64_t now)
{
    ++stats_.fast_retransmits;
    ++stats_.sack_recoveries;
    recover_ = snd_max_;
    ssthresh_ = std::max<uint32_t>(flight() / 2, 2u * snd_mss_);
    cwnd_ = ssthresh_;
    in_recovery_ = true;
    high_rxt_ = snd_una_;
    timing_ = false;
    rxts_.clear();
    uint32_t n = retransmit_at(snd_una_, snd_mss_);
    high_rxt_ = snd_una_ + n;
    rxts_.push_back({snd_una_, snd_max_});
    arm_rto(now);
}

// RFC 6675 §5 step (C): while cwnd - pipe >= 1 SMSS, NextSeg() goes out.
void Connection::sack_output(uint64_t now)
{
    for (unsigned guard = 0; guard < 4096; ++guard) {
        if (cwnd_ < pipe() + snd_mss_)
            return;
        uint32_t seq = 0, len = 0;
        bool fresh = false;
        if (!next_seg(seq, len, fresh))
            return;
        if (fresh) {
            if (!send_one(now, true))
                return;
            continue;
        }
        if (owner_ && !owner_->can_send(*this)) {
            owner_->blocked(*this);
            return;
        }
        uint32_t n = retransmit_at(seq, len);
        if (n == 0)
            return;
        high_rxt_ = seq + n;
        if (rxts_.size() < max_scoreboard)
            rxts_.push_back({seq, snd_max_});
        if (!rto_at_)
            arm_rto(now);
    }
}

// Our ACK's blocks (RFC 2018 §4): the out-of-order data held, merged, the block with the
// latest segment first, at most four (no timestamps take the option space).
void Connection::fill_sack_blocks(Tcp &h) const
{
    std::vector<SackBlock> held;
    held.reserve(ooo_.size());
    for (const auto &p : ooo_)
        held.push_back({p.seq, p.seq + static_cast<uint32_t>(p.bytes.size())});
    std::sort(held.begin(), held.end(), [this](const SackBlock &a, const SackBlock &b) {
        return a.start - rcv_nxt_ < b.start - rcv_nxt_;
    });
    std::vector<SackBlock> merged;
    for (const auto &b : held) {
        if (!merged.empty() && le(b.start, merged.back().end)) {
            if (gt(b.end, merged.back().end))
                merged.back().end = b.end;
        } else {
            merged.push_back(b);
        }
    }
    auto first = std::find_if(merged.begin(), merged.end(), [this](const SackBlock &b) {
        return le(b.start, last_ooo_seq_) && lt(last_ooo_seq_, b.end);
    });
    if (first != merged.end())
        std::rotate(merged.begin(), first, first + 1);
    h.options.sack_blocks = static_cast<uint8_t>(std::min<size_t>(merged.size(), h.options.sack.size()));
    std::copy_n(merged.begin(), h.options.sack_blocks, h.options.sack.begin());
}

} // namespace alopex::slirp::stack::tcp
