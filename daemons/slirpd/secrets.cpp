// SPDX-License-Identifier: GPL-2.0-or-later
#include "secrets.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "alopex/file.hpp"
#include "settings.hpp"

namespace alopex::slirp {

namespace {

// The words of one line (comments and quotes taken out); false with `error` set when a
// quote is not closed.
bool words_of(std::string_view line, std::vector<std::string> &words, std::string &error)
{
    size_t i = 0;
    while (i < line.size()) {
        char c = line[i];
        if (c == ' ' || c == '\t' || c == '\r') {
            ++i;
            continue;
        }
        if (c == '#')
            break;
        std::string w;
        char quote = 0;
        for (; i < line.size(); ++i) {
            c = line[i];
            if (c == '\\' && i + 1 < line.size()) {
                w += line[++i];
            } else if (quote) {
                if (c == quote)
                    quote = 0;
                else
                    w += c;
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == ' ' || c == '\t' || c == '\r' || c == '#') {
                break;
            } else {
                w += c;
            }
        }
        if (quote) {
            error = "a quote is not closed";
            return false;
        }
        words.push_back(std::move(w));
    }
    return true;
}

} // namespace

Result<Secrets> parse_secrets(std::string_view text, std::string_view file, std::string_view our_name)
{
    Secrets out;
    size_t number = 0;
    while (!text.empty()) {
        ++number;
        size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        std::vector<std::string> w;
        std::string error;
        if (!words_of(line, w, error))
            return failf(EINVAL, "{}:{}: {}", file, number, error);
        if (w.empty())
            continue;
        if (w.size() < 3)
            return failf(EINVAL, "{}:{}: a secret is 'client server secret', not {} word{}", file, number, w.size(),
                         w.size() == 1 ? "" : "s");
        for (size_t i = 3; i < w.size(); ++i)
            if (w[i] != "*")
                return failf(EINVAL, "{}:{}: word {} (an address) is not taken: slirpd gives the peer its "
                                     "configured address; leave addresses out or write * (a secret with blanks "
                                     "goes in quotes)", file, number, i + 1);
        if (w[2].starts_with('@'))
            return failf(EINVAL, "{}:{}: secrets read from another file (@...) are not taken", file, number);
        if (w[0].empty() || w[0].size() > 255 || w[2].size() > 255)
            return failf(EINVAL, "{}:{}: a name and a secret are 1 to 255 octets", file, number);
        if (w[1] != "*" && w[1] != our_name)
            continue;   // another server's
        if (!out.emplace(w[0], w[2]).second)
            return failf(EINVAL, "{}:{}: a second secret for '{}'", file, number, w[0]);
    }
    return out;
}

Result<Secrets> read_secrets(const std::string &path, const std::string &credential, std::string_view our_name)
{
    std::string file = path;
    if (file.empty()) {
        ALOPEX_TRY(p, credential_path("[auth] secrets_credential", credential));
        file = std::move(p);
    } else {   // the admin's own file: private to slirpd's user, not a link to one elsewhere
        struct stat st{};
        if (lstat(file.c_str(), &st) < 0)
            return failf(errno, "[auth] cannot read the secrets {}: {}", file, strerror(errno));
        if (S_ISLNK(st.st_mode))
            return failf(ELOOP, "[auth] the secrets {} are a symbolic link", file);
        if (st.st_mode & 077)
            return failf(EPERM, "[auth] the secrets {} are open to the group or others (mode {:04o}): chmod 600",
                         file, st.st_mode & 07777);
    }
    auto text = read_regular_file(file, 1 << 20);
    if (!text)
        return failf(text.error().code, "[auth] the secrets: {}", text.error().message);
    return parse_secrets(*text, file, our_name);
}

} // namespace alopex::slirp
