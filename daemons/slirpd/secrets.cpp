// SPDX-License-Identifier: GPL-2.0-or-later
#include "secrets.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "alopex/fd.hpp"

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
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        if (!dir)
            return failf(ENOENT, "[auth] secrets_credential '{}': no $CREDENTIALS_DIRECTORY (LoadCredential=)",
                         credential);
        file = std::string(dir) + "/" + credential;
    }
    Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd)
        return failf(errno, "[auth] cannot read the secrets {}: {}", file, strerror(errno));
    struct stat st{};
    if (fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode))
        return failf(EINVAL, "[auth] the secrets {} are not a regular file", file);
    if (path.size() && (st.st_mode & 077))
        return failf(EPERM, "[auth] the secrets {} are open to the group or others (mode {:04o}): chmod 600", file,
                     st.st_mode & 07777);
    if (st.st_size > 1 << 20)
        return failf(EFBIG, "[auth] the secrets {} are over 1 MiB", file);
    std::string text(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < text.size()) {
        ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
        if (n <= 0)
            return failf(n < 0 ? errno : EIO, "[auth] cannot read the secrets {}", file);
        got += static_cast<size_t>(n);
    }
    return parse_secrets(text, file, our_name);
}

} // namespace alopex::slirp
