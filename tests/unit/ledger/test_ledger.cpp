// SPDX-License-Identifier: GPL-2.0-or-later
// The hash chain: a written chain verifies, every kind of tampering is found at the right
// line, the writer continues a chain and refuses to extend a broken one.
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "alopex/ledger.hpp"

using namespace alopex;
using namespace alopex::ledger;

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir()
    {
        char tmpl[] = "/tmp/alopex-ledger-test-XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

std::string slurp(const std::filesystem::path &p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void spit(const std::filesystem::path &p, const std::string &s)
{
    std::ofstream(p, std::ios::binary | std::ios::trunc) << s;
}

std::vector<std::string> lines_of(const std::string &s)
{
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string l; std::getline(ss, l);)
        out.push_back(l);
    return out;
}

std::string join(const std::vector<std::string> &lines)
{
    std::string out;
    for (auto &l : lines)
        out += l + "\n";
    return out;
}

// A chain of n records written through the Writer.
std::string make_chain(const std::filesystem::path &p, int n)
{
    auto w = Writer::open(p);
    REQUIRE(w);
    for (int i = 1; i <= n; ++i)
        REQUIRE(w->append("alopex-dns", "test.step", "n=" + std::to_string(i)));
    return slurp(p);
}

} // namespace

TEST_CASE("canonical form and hash follow the documented recipe")
{
    Record r;
    r.seq = 1;
    r.time = "2024-01-01T00:00:00.000Z";
    r.actor = "alopex-fw";
    r.action = "fw.apply";
    r.details = "zone=\"lan\" é";
    r.prev = std::string(zero_hash);
    CHECK(canonical(r) ==
          "{\"action\":\"fw.apply\",\"actor\":\"alopex-fw\",\"details\":\"zone=\\\"lan\\\" é\","
          "\"prev\":\"" + std::string(zero_hash) + "\",\"seq\":1,\"time\":\"2024-01-01T00:00:00.000Z\"}");
    CHECK(compute_hash(r) == sha256_hex(r.prev + canonical(r)));
    // Known vector: SHA-256("abc").
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    r.hash = compute_hash(r);
    auto line = to_line(r);
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.starts_with("{\"seq\":1,\"time\":"));
    auto back = parse_line(line);
    REQUIRE(back);
    CHECK(back->details == r.details);
    CHECK(back->hash == r.hash);
}

TEST_CASE("parse_line is strict")
{
    Record r;
    r.seq = 3;
    r.time = "t";
    r.actor = "a";
    r.action = "x";
    r.prev = std::string(zero_hash);
    r.hash = std::string(zero_hash);
    std::string good = to_line(r);
    CHECK(parse_line(good));
    CHECK_FALSE(parse_line(""));
    CHECK_FALSE(parse_line("[]"));
    CHECK_FALSE(parse_line("{\"seq\":1}"));
    std::string extra = good;
    extra.insert(1, "\"more\":1,");
    CHECK_FALSE(parse_line(extra));
    std::string dup = good;
    dup.insert(1, "\"actor\":\"b\",");
    CHECK_FALSE(parse_line(dup));
    std::string neg = good;
    neg.replace(neg.find("\"seq\":3"), 7, "\"seq\":-3");
    CHECK_FALSE(parse_line(neg));
    std::string flt = good;
    flt.replace(flt.find("\"seq\":3"), 7, "\"seq\":3.0");
    CHECK_FALSE(parse_line(flt));
    std::string num_actor = good;
    num_actor.replace(num_actor.find("\"actor\":\"a\""), 11, "\"actor\":1");
    CHECK_FALSE(parse_line(num_actor));
    std::string badhex = good;
    badhex.replace(badhex.find("\"hash\":\"0"), 9, "\"hash\":\"G");
    CHECK_FALSE(parse_line(badhex));
}

TEST_CASE("a written chain of N records verifies and can be read back")
{
    TempDir d;
    auto p = d.path / "ledger.jsonl";
    std::string text = make_chain(p, 20);
    auto v = verify(text);
    CHECK(v.ok);
    CHECK(v.records == 20);
    CHECK(v.bad_line == 0);
    auto vf = verify_file(p);
    REQUIRE(vf);
    CHECK(vf->ok);
    auto recs = read_file(p);
    REQUIRE(recs);
    REQUIRE(recs->size() == 20);
    CHECK((*recs)[0].seq == 1);
    CHECK((*recs)[0].prev == zero_hash);
    CHECK((*recs)[19].details == "n=20");
    CHECK((*recs)[1].prev == (*recs)[0].hash);
    struct stat st{};
    REQUIRE(stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    CHECK(verify("").ok);
}

TEST_CASE("tampering is found at the right line")
{
    TempDir d;
    auto p = d.path / "ledger.jsonl";
    auto lines = lines_of(make_chain(p, 8));
    REQUIRE(lines.size() == 8);

    SECTION("edited details -> hash mismatch at that line")
    {
        auto t = lines;
        t[4].replace(t[4].find("n=5"), 3, "n=X");
        auto v = verify(join(t));
        CHECK_FALSE(v.ok);
        CHECK(v.bad_line == 5);
        CHECK(v.bad_seq == 5);
        CHECK(v.records == 4);
        CHECK(v.reason.starts_with("hash mismatch"));
    }
    SECTION("rewritten hash -> the record's own hash no longer matches")
    {
        auto t = lines;
        auto pos = t[2].find("\"hash\":\"") + 8;
        t[2][pos] = t[2][pos] == 'a' ? 'b' : 'a';
        auto v = verify(join(t));
        CHECK(v.bad_line == 3);
        CHECK(v.reason.starts_with("hash mismatch"));
    }
    SECTION("a deleted line -> seq gap at the line after it")
    {
        auto t = lines;
        t.erase(t.begin() + 3);
        auto v = verify(join(t));
        CHECK(v.bad_line == 4);
        CHECK(v.bad_seq == 5);
        CHECK(v.reason == "seq gap: expected 4, found 5");
    }
    SECTION("reordered lines -> seq gap at the first moved line")
    {
        auto t = lines;
        std::swap(t[5], t[6]);
        auto v = verify(join(t));
        CHECK(v.bad_line == 6);
        CHECK(v.bad_seq == 7);
        CHECK(v.reason.starts_with("seq gap"));
    }
    SECTION("a recomputed hash with a wrong prev -> prev mismatch")
    {
        auto r = parse_line(lines[6]);
        REQUIRE(r);
        r->prev = std::string(zero_hash);
        r->hash = compute_hash(*r);
        auto t = lines;
        t[6] = to_line(*r);
        auto v = verify(join(t));
        CHECK(v.bad_line == 7);
        CHECK(v.reason.starts_with("prev mismatch"));
    }
    SECTION("garbage -> parse error")
    {
        auto t = lines;
        t[1] = "{not json";
        auto v = verify(join(t));
        CHECK(v.bad_line == 2);
        CHECK(v.bad_seq == 0);
        CHECK(v.reason.starts_with("parse error"));
    }
    SECTION("an empty line in the middle -> parse error")
    {
        auto t = lines;
        t.insert(t.begin() + 2, "");
        auto v = verify(join(t));
        CHECK(v.bad_line == 3);
    }
}

TEST_CASE("the writer continues an existing chain")
{
    TempDir d;
    auto p = d.path / "ledger.jsonl";
    make_chain(p, 3);
    {
        auto w = Writer::open(p);
        REQUIRE(w);
        CHECK(w->last_seq() == 3);
        auto r = w->append("root", "test.more", "x");
        REQUIRE(r);
        CHECK(r->seq == 4);
    }
    auto v = verify_file(p);
    REQUIRE(v);
    CHECK(v->ok);
    CHECK(v->records == 4);
}

TEST_CASE("the writer refuses a broken last line and a second writer")
{
    TempDir d;
    auto p = d.path / "ledger.jsonl";
    std::string text = make_chain(p, 2);

    SECTION("a second writer is locked out")
    {
        auto w1 = Writer::open(p);
        REQUIRE(w1);
        auto w2 = Writer::open(p);
        REQUIRE_FALSE(w2);
        CHECK(w2.error().message.find("locked") != std::string::npos);
    }
    SECTION("truncated last record")
    {
        spit(p, text.substr(0, text.size() - 10));
        auto w = Writer::open(p);
        REQUIRE_FALSE(w);
        CHECK(w.error().message.find("incomplete") != std::string::npos);
    }
    SECTION("garbage last line")
    {
        spit(p, text + "garbage\n");
        CHECK_FALSE(Writer::open(p));
    }
    SECTION("last record with a wrong hash")
    {
        auto t = lines_of(text);
        t[1].replace(t[1].find("n=2"), 3, "n=9");
        spit(p, join(t));
        auto w = Writer::open(p);
        REQUIRE_FALSE(w);
        CHECK(w.error().message.find("wrong hash") != std::string::npos);
        CHECK(slurp(p) == join(t)); // untouched
    }
}

TEST_CASE("the writer validates its inputs")
{
    TempDir d;
    auto w = Writer::open(d.path / "l.jsonl");
    REQUIRE(w);
    CHECK_FALSE(w->append("", "a", "d"));
    CHECK_FALSE(w->append("x", "", "d"));
    CHECK_FALSE(w->append("x", std::string(65, 'a'), "d"));
    CHECK_FALSE(w->append("x", "a", "\xff\xfe"));
    CHECK(w->append("x", "a", "multi\nline \"quoted\" \x01"));
    auto v = verify_file(d.path / "l.jsonl");
    REQUIRE(v);
    CHECK(v->ok);
    CHECK(v->records == 1);
    auto recs = read_file(d.path / "l.jsonl");
    REQUIRE(recs);
    CHECK((*recs)[0].details == "multi\nline \"quoted\" \x01");
}

TEST_CASE("time stamps are RFC 3339 UTC with milliseconds")
{
    auto t = now_rfc3339();
    REQUIRE(t.size() == 24);
    CHECK(t[4] == '-');
    CHECK(t[10] == 'T');
    CHECK(t[19] == '.');
    CHECK(t.back() == 'Z');
}

namespace {

const OpenOptions repair{"root", "broker.ledger-cut"};

// RLIMIT_FSIZE for one scope, with SIGXFSZ ignored: a write past the limit comes back
// short or with EFBIG, as on a full disk.
struct FileSizeLimit {
    struct rlimit old{};
    struct sigaction old_sa{};
    explicit FileSizeLimit(rlim_t bytes)
    {
        REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
        struct sigaction sa{};
        sa.sa_handler = SIG_IGN;
        REQUIRE(sigaction(SIGXFSZ, &sa, &old_sa) == 0);
        struct rlimit lim = old;
        lim.rlim_cur = bytes;
        REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    }
    ~FileSizeLimit()
    {
        setrlimit(RLIMIT_FSIZE, &old);
        sigaction(SIGXFSZ, &old_sa, nullptr);
    }
};

} // namespace

TEST_CASE("a failed write is cut back and the writer goes on")
{
    TempDir d;
    auto p = d.path / "ledger.jsonl";
    std::string good = make_chain(p, 3);
    auto w = Writer::open(p);
    REQUIRE(w);
    {
        // Room for 40 more bytes: the record's first 40 bytes land, the rest is EFBIG.
        FileSizeLimit limit(good.size() + 40);
        auto r = w->append("alopex-dns", "test.step", "n=4");
        REQUIRE_FALSE(r);
        INFO(r.error().message);
        CHECK(r.error().message.find("cut off") != std::string::npos);
        CHECK(slurp(p) == good); // no torn line left behind
        CHECK_FALSE(w->broken());
    }
    auto v = verify_file(p);
    REQUIRE(v);
    CHECK(v->ok);
    CHECK(v->records == 3);
    auto r = w->append("alopex-dns", "test.step", "n=4");
    REQUIRE(r);
    CHECK(r->seq == 4);
    v = verify_file(p);
    REQUIRE(v);
    CHECK(v->ok);
    CHECK(v->records == 4);
    // And a fresh writer opens it without complaint once this one lets go.
    w = std::unexpected(Error{});
    CHECK(Writer::open(p));
}

TEST_CASE("a torn last line is cut at open and the cut is recorded")
{
    TempDir d;
    auto p = d.path / "ledger.jsonl";
    std::string text = make_chain(p, 3);
    auto lines = lines_of(text);
    const std::string good = join({lines[0], lines[1]});

    SECTION("without repair options it is still an error, and the file is untouched")
    {
        spit(p, text.substr(0, text.size() - 10));
        auto w = Writer::open(p);
        REQUIRE_FALSE(w);
        CHECK(w.error().message.find("incomplete") != std::string::npos);
        CHECK(slurp(p) == text.substr(0, text.size() - 10));
    }
    SECTION("a half-written third record")
    {
        std::string torn = lines[2].substr(0, 57);
        spit(p, good + torn);
        auto w = Writer::open(p, repair);
        INFO((w ? "" : w.error().message));
        REQUIRE(w);
        CHECK(w->cut_bytes() == torn.size());
        CHECK(w->last_seq() == 3);
        auto recs = read_file(p);
        REQUIRE(recs);
        REQUIRE(recs->size() == 3);
        CHECK((*recs)[2].actor == "root");
        CHECK((*recs)[2].action == "broker.ledger-cut");
        CHECK((*recs)[2].details == fmt::format("bytes={} offset={}", torn.size(), good.size()));
        REQUIRE(w->append("alopex-dns", "test.step", "after"));
        auto v = verify_file(p);
        REQUIRE(v);
        CHECK(v->ok);
        CHECK(v->records == 4);
    }
    SECTION("torn bytes longer than the repair record are all cut")
    {
        std::string torn(5000, 'x');
        torn[0] = '{';
        spit(p, good + torn);
        auto w = Writer::open(p, repair);
        REQUIRE(w);
        CHECK(w->cut_bytes() == 5000);
        auto after = slurp(p);
        CHECK(after.starts_with(good));
        CHECK(after.size() < good.size() + 1000);
        CHECK(after.back() == '\n');
        auto v = verify(after);
        CHECK(v.ok);
        CHECK(v.records == 3);
    }
    SECTION("NUL bytes a crash left after the last record")
    {
        spit(p, text + std::string(4096, '\0'));
        auto w = Writer::open(p, repair);
        REQUIRE(w);
        CHECK(w->cut_bytes() == 4096);
        auto v = verify_file(p);
        REQUIRE(v);
        CHECK(v->ok);
        CHECK(v->records == 4);
    }
    SECTION("a file whose only record is torn starts over at seq 1")
    {
        spit(p, lines[0].substr(0, 30));
        auto w = Writer::open(p, repair);
        REQUIRE(w);
        auto recs = read_file(p);
        REQUIRE(recs);
        REQUIRE(recs->size() == 1);
        CHECK((*recs)[0].seq == 1);
        CHECK((*recs)[0].prev == zero_hash);
        CHECK((*recs)[0].details == "bytes=30 offset=0");
    }
    SECTION("a tampered last complete line is not hidden by a torn tail")
    {
        auto t = lines;
        t[1].replace(t[1].find("n=2"), 3, "n=9");
        std::string bad = join({t[0], t[1]}) + "{\"seq\":3";
        spit(p, bad);
        auto w = Writer::open(p, repair);
        REQUIRE_FALSE(w);
        CHECK(w.error().message.find("wrong hash") != std::string::npos);
        CHECK(slurp(p) == bad);
    }
    SECTION("a long chain: only the tail is read, the cut lands in the right place")
    {
        auto q = d.path / "long.jsonl";
        std::string long_text = make_chain(q, 200);
        spit(q, long_text + "{\"seq\":201,\"ti");
        auto w = Writer::open(q, repair);
        REQUIRE(w);
        CHECK(w->last_seq() == 201);
        CHECK(slurp(q).starts_with(long_text));
        auto v = verify_file(q);
        REQUIRE(v);
        CHECK(v->ok);
        CHECK(v->records == 201);
    }
}

TEST_CASE("parse_tail with hostile input")
{
    CHECK(parse_tail("")->torn == 0);
    CHECK_FALSE(parse_tail("")->last);
    CHECK(parse_tail("abc")->torn == 3);
    CHECK_FALSE(parse_tail("\n")); // an empty last line is not a record
    CHECK_FALSE(parse_tail("garbage\n"));
    CHECK_FALSE(parse_tail("garbage\n{\"seq\":1"));
    CHECK_FALSE(parse_tail(std::string("\0\0\n", 3)));
    TempDir d;
    auto lines = lines_of(make_chain(d.path / "l", 2));
    auto t = parse_tail(lines[0] + "\n" + lines[1] + "\ntorn");
    REQUIRE(t);
    CHECK(t->torn == 4);
    REQUIRE(t->last);
    CHECK(t->last->seq == 2);
    // Only the last complete line counts: garbage before it is verify's business.
    auto only_last = parse_tail("garbage\n" + lines[1] + "\n");
    REQUIRE(only_last);
    CHECK(only_last->last->seq == 2);
}

TEST_CASE("a new ledger's directory is fsync'ed, or the ledger is not created")
{
    // A directory the writer may create files in but not open: fsync of the directory
    // is impossible, so a writer that fsyncs it must refuse (and remove what it created);
    // one that does not would succeed. Root ignores modes, so the check runs as nobody.
    TempDir d;
    auto dir = d.path / "wx-only";
    std::filesystem::create_directory(dir);
    const bool root = geteuid() == 0;
    const uid_t nobody = 65534;
    if (root) {
        REQUIRE(chmod(d.path.c_str(), 0711) == 0); // nobody may pass through
        REQUIRE(chown(dir.c_str(), nobody, nobody) == 0);
    }
    REQUIRE(chmod(dir.c_str(), 0300) == 0);
    auto attempt = [&]() -> int {
        auto w = Writer::open(dir / "ledger.jsonl");
        if (w)
            return 10;
        if (w.error().message.find("directory") == std::string::npos)
            return 11;
        return 0;
    };
    int status = 0;
    if (root) {
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            if (setgroups(0, nullptr) < 0 || setgid(nobody) < 0 || setuid(nobody) < 0)
                _exit(12);
            _exit(attempt());
        }
        int ws = 0;
        REQUIRE(waitpid(pid, &ws, 0) == pid);
        REQUIRE(WIFEXITED(ws));
        status = WEXITSTATUS(ws);
    } else {
        status = attempt();
    }
    CHECK(status == 0);
    CHECK_FALSE(std::filesystem::exists(dir / "ledger.jsonl"));
    REQUIRE(chmod(dir.c_str(), 0700) == 0);
    // An ordinary directory: the ledger is created.
    auto w = Writer::open(d.path / "ledger.jsonl");
    REQUIRE(w);
}
