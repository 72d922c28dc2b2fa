// SPDX-License-Identifier: GPL-2.0-or-later
// A FIFO of bytes for a TCP connection's send and receive buffers: appended at the back,
// consumed from the front, read at any offset (retransmission). Contiguous, so a buffer
// goes to send()/recv() without copies; its storage is released when it empties, so an
// idle connection holds no buffer memory. The caller bounds its size (the window) and
// tells the queue that bound: its storage then never exceeds twice the bound (front
// bytes consumed are moved out once they are half of it, so appends stay O(1) amortized).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace alopex::slirp::stack {

class ByteQueue {
public:
    explicit ByteQueue(size_t limit = 1 << 20) : limit_(limit) {}

    size_t size() const noexcept { return buf_.size() - head_; }
    bool empty() const noexcept { return size() == 0; }
    // The bytes from `offset` on (offset <= size()).
    std::span<const uint8_t> from(size_t offset) const
    {
        return std::span<const uint8_t>(buf_).subspan(head_ + offset);
    }
    void append(std::span<const uint8_t> bytes)
    {
        if (bytes.empty())
            return;
        make_room(bytes.size());
        buf_.insert(buf_.end(), bytes.begin(), bytes.end());
    }
    // Room for `n` more bytes at the back, to be filled (recv() into it) and committed.
    std::span<uint8_t> reserve_back(size_t n)
    {
        make_room(n);
        reserved_from_ = buf_.size();
        buf_.resize(buf_.size() + n);
        return std::span<uint8_t>(buf_).subspan(reserved_from_);
    }
    void commit_back(size_t used)   // after reserve_back: keeps `used` of the reserved bytes
    {
        buf_.resize(reserved_from_ + used);
        release_if_empty();
    }
    void consume(size_t n)
    {
        head_ += std::min(n, size());
        release_if_empty();
    }
    void clear()
    {
        buf_ = {};
        head_ = 0;
    }
    size_t capacity_bytes() const noexcept { return buf_.capacity(); }

private:
    void make_room(size_t n)
    {
        if (head_ > 0 && (head_ * 2 >= buf_.size() || head_ >= limit_ / 2)) {
            buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
        size_t need = buf_.size() + n;
        if (need > buf_.capacity())
            buf_.reserve(std::max(need, std::min(std::max<size_t>(buf_.capacity() * 2, 2048), 2 * limit_)));
    }
    void release_if_empty()
    {
        if (head_ == buf_.size()) {
            buf_ = {};
            head_ = 0;
        }
    }

    size_t limit_;
    std::vector<uint8_t> buf_;
    size_t head_ = 0;
    size_t reserved_from_ = 0;
};

} // namespace alopex::slirp::stack
