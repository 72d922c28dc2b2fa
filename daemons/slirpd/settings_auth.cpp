// SPDX-License-Identifier: GPL-2.0-or-later
// [auth] of alopex-slirp.toml(5): which protocols the peer must authenticate with, our
// name, and where the secrets are (never the secrets themselves).
#include <algorithm>

#include "hdlc.hpp"
#include "settings_parts.hpp"

namespace alopex::slirp::detail {

Result<void> parse_auth(const config::Table &root, Settings &s)
{
    ALOPEX_TRY(t, root.optional_table("auth"));
    if (!t)
        return {};
    ALOPEX_TRY_VOID(t->require_known_keys({"require", "name", "secrets_file", "secrets_credential"}));
    AuthSettings a;
    ALOPEX_TRY(list, t->optional_array("require"));
    if (list) {
        for (size_t i = 0; i < list->size(); ++i) {
            config::Node n = list->at(i);
            ALOPEX_TRY(word, n.as_string());
            uint16_t p = word == "chap" ? ppp::proto_chap : word == "pap" ? ppp::proto_pap : 0;
            if (!p)
                return n.failf("'require': \"chap\" (CHAP with MD5) or \"pap\", not '{}'", word);
            if (std::ranges::find(a.protocols, p) != a.protocols.end())
                return n.failf("'require': '{}' twice", word);
            a.protocols.push_back(p);
        }
    }
    ALOPEX_TRY(name, t->optional_string("name"));
    if (name) {
        if (name->empty() || name->size() > 255 || name->find_first_of(" \t\n\"'#\\") != std::string::npos)
            return t->get("name")->failf("'name' must be 1 to 255 octets without blanks, quotes or '#'");
        a.name = *name;
    }
    ALOPEX_TRY(file, t->optional_string("secrets_file"));
    ALOPEX_TRY(cred, t->optional_string("secrets_credential"));
    if (a.protocols.empty()) {
        if (file || cred)
            return t->get(file ? "secrets_file" : "secrets_credential")
                ->failf("secrets without 'require': say which protocols the peer must authenticate with");
        s.auth = std::move(a);
        return {};
    }
    if (!file == !cred)
        return t->get("require")->failf("'require' needs exactly one of 'secrets_file' and 'secrets_credential'");
    ALOPEX_TRY_VOID(secret_source(*t, "secrets_file", "secrets_credential", a.secrets_file, a.secrets_credential));
    s.auth = std::move(a);
    return {};
}

Result<void> secret_source(const config::Table &t, std::string_view file_key, std::string_view cred_key,
                           std::string &file, std::string &credential)
{
    ALOPEX_TRY(f, t.optional_string(file_key));
    ALOPEX_TRY(c, t.optional_string(cred_key));
    if (f) {
        if (!f->starts_with('/'))
            return t.get(file_key)->failf("'{}' must be an absolute path", file_key);
        file = *f;
    }
    if (c) {
        if (c->empty() || c->find('/') != std::string::npos || *c == "." || *c == "..")
            return t.get(cred_key)->failf("'{}' must be a credential's name", cred_key);
        credential = *c;
    }
    return {};
}

} // namespace alopex::slirp::detail
