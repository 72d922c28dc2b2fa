// SPDX-License-Identifier: GPL-2.0-or-later
// unbound's remote-control protocol (daemons/dnsd-controller/unbound/protocol.hpp): what
// is sent, and replies as Debian 12's unbound 1.17.1 gave them (unbound-samples/) and
// hostile ones: empty, NUL bytes, garbled numbers, missing lines.
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "unbound/protocol.hpp"

using namespace alopex::dns::unbound;

namespace {

std::string sample(const std::string &name)
{
    std::ifstream f(std::string(ALOPEX_UNBOUND_SAMPLES) + "/" + name, std::ios::binary);
    REQUIRE(f);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

Reply reply(std::string_view bytes)
{
    auto r = parse_reply(bytes);
    REQUIRE(r);
    return *r;
}

} // namespace

TEST_CASE("requests and data lines: unbound's framing and limits", "[dns][unbound]")
{
    CHECK(*request("status") == "UBCT1 status\n");
    CHECK(*request(std::string(max_command, 'a')) == "UBCT1 " + std::string(max_command, 'a') + "\n");
    CHECK_FALSE(request(std::string(max_command + 1, 'a')));
    CHECK_FALSE(request(""));
    CHECK_FALSE(request("flush example.net\nstop"));   // a second command smuggled in
    CHECK_FALSE(request("flush a\r"));
    CHECK_FALSE(request(std::string("flush a\0b", 9)));
    CHECK(*data_line("ads.example always_nxdomain") == "ads.example always_nxdomain\n");
    CHECK(data_line(std::string(max_data_line, 'x')));
    CHECK_FALSE(data_line(std::string(max_data_line + 1, 'x')));
    CHECK_FALSE(data_line("a\nb"));
    CHECK_FALSE(data_line("\x04"));   // would end the list early
    CHECK_FALSE(data_line(""));
    CHECK(end_of_data == std::string_view("\x04\n", 2));
}

TEST_CASE("replies: lines, ok, errors; empty and NUL refused", "[dns][unbound]")
{
    CHECK(expect_ok(reply("ok\n"), "flush x"));
    CHECK(expect_ok(reply("ok removed 3 rrsets, 1 messages and 0 key entries\n"), "flush_zone x"));
    auto unknown = reply(sample("unknown-command.txt"));
    auto e = expect_ok(unknown, "nosuchcmd");
    REQUIRE_FALSE(e);
    CHECK(e.error().message.find("unknown command") != std::string::npos);
    CHECK_FALSE(expect_ok(reply("okay\n"), "x"));   // not the word "ok"
    CHECK_FALSE(expect_ok(reply("\n"), "x"));
    CHECK_FALSE(parse_reply(""));
    CHECK_FALSE(parse_reply(std::string("ok\0\n", 4)));
    CHECK(reply("a\r\nb").lines == std::vector<std::string>{"a", "b"});   // CR dropped, last line unterminated
    CHECK(reply("a\n\n").lines == std::vector<std::string>{"a", ""});
    auto t = reply(sample("forward_add-t-1.17.1.txt"));
    CHECK(t.errors() == std::vector<std::string>{"error: unknown option t"});
}

TEST_CASE("status: version, pid, threads; features by version", "[dns][unbound]")
{
    auto s = parse_status(reply(sample("status-1.17.1.txt")));
    REQUIRE(s);
    CHECK(s->version == Version{1, 17, 1});
    CHECK(s->version_text == "1.17.1");
    CHECK(s->pid > 0);
    CHECK(s->threads == 1);
    auto f = features_of(s->version);
    CHECK(f.reload_keep_cache);
    CHECK_FALSE(f.forward_tls_flag);
    CHECK_FALSE(f.bulk_empty_line_ends);
    CHECK_FALSE(features_of({1, 17, 0}).reload_keep_cache);
    CHECK(features_of({1, 20, 0}).forward_tls_flag);
    CHECK(features_of({2, 0, 0}).bulk_empty_line_ends);
    CHECK(*parse_version("1.19.0rc1") == Version{1, 19, 0});

    CHECK_FALSE(parse_status(reply("version: 1.17.1\n")));   // no "is running"
    CHECK_FALSE(parse_status(reply("unbound (pid 5) is running...\n")));   // no version
    CHECK_FALSE(parse_status(reply("version: x.y\nunbound (pid 5) is running...\n")));
    CHECK_FALSE(parse_status(reply("version: 1.17\nunbound (pid 5) is running...\n")));
    CHECK_FALSE(parse_status(reply("version: 1.17.1\nunbound (pid -3) is running...\n")));
    CHECK_FALSE(parse_status(reply("version: 1.17.1\nunbound (pid 99999999999999999999) is running...\n")));
    CHECK_FALSE(parse_version("99999.1.1"));
    CHECK_FALSE(parse_status(reply("error version mismatch\n")));
}

TEST_CASE("statistics: key=value, the counters and the histogram of 1.17.1", "[dns][unbound]")
{
    auto s = parse_stats(reply(sample("stats_noreset-1.17.1.txt")));
    REQUIRE(s);
    CHECK(s->at("total.num.queries") == 1);
    CHECK(s->at("total.num.cachehits") == 1);
    CHECK(s->contains("num.answer.rcode.NXDOMAIN"));
    CHECK(s->contains("time.up"));
    auto h = histogram(*s);
    CHECK(h.size() == 40);
    CHECK(h.front().from == 0);
    CHECK(h.front().to == Approx(1e-6));
    CHECK(quantile(h, 0.5) == 0);   // no cache miss answered yet

    Stats fake{{"histogram.000000.000000.to.000000.000001", 0},
               {"histogram.000000.001024.to.000000.002048", 10},
               {"histogram.000000.002048.to.000000.004096", 10}};
    auto fh = histogram(fake);
    REQUIRE(fh.size() == 3);
    CHECK(quantile(fh, 0.5) == Approx(0.002048));
    CHECK(quantile(fh, 1.0) == Approx(0.004096));
    CHECK(quantile(fh, 0.25) == Approx(0.001536));

    CHECK_FALSE(parse_stats(reply("total.num.queries\n")));
    CHECK_FALSE(parse_stats(reply("=5\n")));
    CHECK_FALSE(parse_stats(reply("total.num.queries=abc\n")));
    CHECK_FALSE(parse_stats(reply("total.num.queries=-1\n")));
    CHECK_FALSE(parse_stats(reply("total.num.queries=nan\n")));
    CHECK_FALSE(parse_stats(reply("total.num.queries=1e999\n")));
    CHECK_FALSE(parse_stats(reply("bad key=1\n")));
    CHECK_FALSE(parse_stats(reply("error unknown command 'stats_noreset'\n")));
    CHECK_FALSE(parse_stats(reply("\n")));
    // A histogram key that does not parse is left out, not trusted.
    CHECK(histogram(Stats{{"histogram.x.to.y", 3}, {"histogram.000001.000000.to.000000.000001", 1}}).empty());
    CHECK(histogram(Stats{{"histogram.000000.000000.to.000010.000000", 3},
                          {"histogram.000001.000000.to.000002.000000", 1}})
              .empty());   // overlapping
}

TEST_CASE("bulk replies: per-line errors, then the summary", "[dns][unbound]")
{
    auto r = reply(sample("local_zones-errors.txt"));
    CHECK(*bulk_count(r, "local_zones") == 2);
    CHECK(r.errors().size() == 4);
    CHECK(*bulk_count(reply("removed 1000 datas\n"), "local_datas_remove") == 1000);
    CHECK_FALSE(bulk_count(reply("error out of memory\n"), "local_zones"));
    CHECK_FALSE(bulk_count(reply("added many zones\n"), "local_zones"));
    CHECK_FALSE(bulk_count(reply("added -3 zones\n"), "local_zones"));
}
