// SPDX-License-Identifier: GPL-2.0-or-later
// A pcap file of IP packets (link type 101, LINKTYPE_RAW), written packet by packet so
// that a test, tcpdump or Wireshark can read it while the writer still runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

namespace slirp_test {

class PcapWriter {
public:
    // False when the file cannot be made.
    bool open(const std::string &path)
    {
        f_ = std::fopen(path.c_str(), "wb");
        if (!f_)
            return false;
        const uint32_t magic = 0xA1B2C3D4, snaplen = 65535, linktype = 101;
        const uint16_t major = 2, minor = 4;
        const int32_t zone = 0;
        const uint32_t sigfigs = 0;
        std::fwrite(&magic, 4, 1, f_);
        std::fwrite(&major, 2, 1, f_);
        std::fwrite(&minor, 2, 1, f_);
        std::fwrite(&zone, 4, 1, f_);
        std::fwrite(&sigfigs, 4, 1, f_);
        std::fwrite(&snaplen, 4, 1, f_);
        std::fwrite(&linktype, 4, 1, f_);
        return std::fflush(f_) == 0;
    }
    ~PcapWriter()
    {
        if (f_)
            std::fclose(f_);
    }
    PcapWriter() = default;
    PcapWriter(const PcapWriter &) = delete;
    PcapWriter &operator=(const PcapWriter &) = delete;

    void packet(std::span<const uint8_t> p)
    {
        if (!f_)
            return;
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
        uint32_t rec[4] = {static_cast<uint32_t>(us / 1'000'000), static_cast<uint32_t>(us % 1'000'000),
                           static_cast<uint32_t>(p.size()), static_cast<uint32_t>(p.size())};
        std::fwrite(rec, sizeof rec, 1, f_);
        std::fwrite(p.data(), 1, p.size(), f_);
        std::fflush(f_);
    }

private:
    std::FILE *f_ = nullptr;
};

} // namespace slirp_test
