// SPDX-License-Identifier: GPL-2.0-or-later
// Vtables built from interface specs, the generic trampolines sd-bus calls, and Service.
#include <cstring>

#include "alopex/bus/object.hpp"
#include "alopex/log.hpp"
#include "alopex/polkit.hpp"

namespace alopex::bus {

namespace detail {
int rewind(sd_bus_message *m) { return sd_bus_message_rewind(m, 1); }
} // namespace detail

// ---- Vtable ---------------------------------------------------------------------------

void VtableBase::bind_method(const MethodSpec &m, const std::string &have, Method b)
{
    if (have != m.in)
        errors_.push_back(fmt::format("{}.{}: the handler takes '{}', the XML says '{}'", spec_.name, m.name,
                                      have, m.in));
    if (!methods_.emplace(m.name, std::move(b)).second)
        errors_.push_back(fmt::format("{}.{}: bound twice", spec_.name, m.name));
    table_.clear();
}

void VtableBase::bind_property(const PropertySpec &p, const std::string &have, Property b)
{
    if (have != p.signature)
        errors_.push_back(fmt::format("{}.{}: the getter returns '{}', the XML says '{}'", spec_.name, p.name,
                                      have, p.signature));
    if (!properties_.emplace(p.name, std::move(b)).second)
        errors_.push_back(fmt::format("{}.{}: bound twice", spec_.name, p.name));
    table_.clear();
}

Result<> VtableBase::check() const
{
    std::vector<std::string> errors = errors_;
    for (const MethodSpec *m : spec_.methods) {
        auto it = methods_.find(m->name);
        if (it == methods_.end())
            errors.push_back(fmt::format("{}.{}: in the XML, not bound", spec_.name, m->name));
        else if (it->second.spec != m)
            errors.push_back(fmt::format("{}.{}: bound to another interface's method", spec_.name, m->name));
    }
    for (const PropertySpec *p : spec_.properties) {
        auto it = properties_.find(p->name);
        if (it == properties_.end())
            errors.push_back(fmt::format("{}.{}: in the XML, not bound", spec_.name, p->name));
        else if (it->second.spec != p)
            errors.push_back(fmt::format("{}.{}: bound to another interface's property", spec_.name, p->name));
    }
    auto in_spec = [](auto list, std::string_view name) {
        for (const auto *x : list)
            if (name == x->name)
                return true;
        return false;
    };
    for (const auto &[name, _] : methods_)
        if (!in_spec(spec_.methods, name))
            errors.push_back(fmt::format("{}.{}: bound, but not in the XML", spec_.name, name));
    for (const auto &[name, _] : properties_)
        if (!in_spec(spec_.properties, name))
            errors.push_back(fmt::format("{}.{}: bound, but not in the XML", spec_.name, name));
    if (errors.empty())
        return {};
    std::string all;
    for (const auto &e : errors)
        all += (all.empty() ? "" : "; ") + e;
    return fail(EINVAL, all);
}

const VtableBase::Method *VtableBase::method(std::string_view name) const
{
    auto it = methods_.find(name);
    return it == methods_.end() ? nullptr : &it->second;
}

const VtableBase::Property *VtableBase::property(std::string_view name) const
{
    auto it = properties_.find(name);
    return it == properties_.end() ? nullptr : &it->second;
}

// ---- trampolines ----------------------------------------------------------------------

struct Registration::Impl {
    Service *service = nullptr;
    const VtableBase *vtable = nullptr;
    void *object = nullptr;                         // a single object
    std::function<void *(std::string_view)> find;   // a subtree
    std::function<std::vector<std::string>()> enumerate;
    void *current = nullptr;                        // what find() returned last
    SlotPtr slot, enum_slot;

    void *target() const { return find ? current : object; }

    static int method(sd_bus_message *m, void *userdata, sd_bus_error *ret) noexcept;
    static int property(sd_bus *, const char *path, const char *iface, const char *name,
                        sd_bus_message *reply, void *userdata, sd_bus_error *ret) noexcept;
    static int locate(sd_bus *, const char *path, const char *iface, void *userdata, void **found,
                      sd_bus_error *) noexcept;
    static int nodes(sd_bus *, const char *prefix, void *userdata, char ***out, sd_bus_error *) noexcept;
};

namespace {
int exception_error(sd_bus_error *ret) noexcept
{
    try {
        throw;
    } catch (const std::bad_alloc &) {
        return -ENOMEM;
    } catch (const std::exception &e) {
        return sd_bus_error_set(ret, bus_error::Internal, e.what());
    } catch (...) {
        return sd_bus_error_set(ret, bus_error::Internal, "unknown exception");
    }
}
} // namespace

int Registration::Impl::method(sd_bus_message *m, void *userdata, sd_bus_error *ret) noexcept
{
    auto *self = static_cast<Impl *>(userdata);
    const char *member = sd_bus_message_get_member(m);
    const VtableBase::Method *b = member ? self->vtable->method(member) : nullptr;
    if (!b)
        return sd_bus_error_setf(ret, SD_BUS_ERROR_UNKNOWN_METHOD, "no method %s", member ? member : "?");
    void *obj = self->target();
    if (!obj)
        return sd_bus_error_setf(ret, SD_BUS_ERROR_UNKNOWN_OBJECT, "no such object");
    Call call(m, ret, *b->spec, *self->service);
    try {
        b->run(obj, call);
    } catch (...) {
        if (call.state() == Call::State::Open || call.state() == Call::State::Waiting) {
            self->service->authority().release(m);
            return exception_error(ret);
        }
    }
    return call.finish();
}

int Registration::Impl::property(sd_bus *, const char *, const char *, const char *name,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *ret) noexcept
{
    auto *self = static_cast<Impl *>(userdata);
    const VtableBase::Property *p = self->vtable->property(name);
    const void *obj = self->target();
    if (!p || !obj)
        return sd_bus_error_setf(ret, SD_BUS_ERROR_UNKNOWN_PROPERTY, "no property %s", name);
    try {
        return p->get(obj, reply, ret);
    } catch (...) {
        return exception_error(ret);
    }
}

int Registration::Impl::locate(sd_bus *, const char *path, const char *, void *userdata, void **found,
                               sd_bus_error *) noexcept
{
    auto *self = static_cast<Impl *>(userdata);
    try {
        self->current = self->find(path);
    } catch (...) {
        self->current = nullptr;
    }
    if (!self->current)
        return 0;
    *found = self;
    return 1;
}

int Registration::Impl::nodes(sd_bus *, const char *, void *userdata, char ***out, sd_bus_error *) noexcept
{
    auto *self = static_cast<Impl *>(userdata);
    try {
        std::vector<std::string> list = self->enumerate ? self->enumerate() : std::vector<std::string>{};
        auto **v = static_cast<char **>(calloc(list.size() + 1, sizeof(char *)));
        if (!v)
            return -ENOMEM;
        for (size_t i = 0; i < list.size(); ++i) {
            v[i] = strdup(list[i].c_str());
            if (!v[i]) {
                for (size_t j = 0; j < i; ++j)
                    free(v[j]);
                free(v);
                return -ENOMEM;
            }
        }
        *out = v;
        return 0;
    } catch (...) {
        return -ENOMEM;
    }
}

const sd_bus_vtable *VtableBase::table() const
{
    if (!table_.empty())
        return table_.data();
    table_.push_back(SD_BUS_VTABLE_START(0));
    for (const MethodSpec *m : spec_.methods) {
        sd_bus_vtable v = SD_BUS_METHOD_WITH_NAMES_OFFSET(m->name, m->in, "", m->out, "",
                                                          &Registration::Impl::method, 0,
                                                          SD_BUS_VTABLE_UNPRIVILEGED);
        v.x.method.names = m->names;
        table_.push_back(v);
    }
    for (const PropertySpec *p : spec_.properties) {
        uint64_t flags = 0;
        if (has(p->flags, PropertyFlags::EmitsChange))
            flags |= SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;
        if (has(p->flags, PropertyFlags::EmitsInvalidation))
            flags |= SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION;
        if (has(p->flags, PropertyFlags::Const))
            flags |= SD_BUS_VTABLE_PROPERTY_CONST;
        if (has(p->flags, PropertyFlags::Explicit))
            flags |= SD_BUS_VTABLE_PROPERTY_EXPLICIT;
        table_.push_back(SD_BUS_PROPERTY(p->name, p->signature, &Registration::Impl::property, 0, flags));
    }
    for (const SignalSpec *s : spec_.signals) {
        sd_bus_vtable v = SD_BUS_SIGNAL_WITH_NAMES(s->name, s->signature, "", 0);
        v.x.signal.names = s->names;
        table_.push_back(v);
    }
    table_.push_back(SD_BUS_VTABLE_END);
    return table_.data();
}

// ---- Registration / Service -------------------------------------------------------------

Registration::Registration(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Registration::Registration() noexcept = default;
Registration::Registration(Registration &&) noexcept = default;
Registration &Registration::operator=(Registration &&) noexcept = default;
Registration::~Registration() = default;

Service::Service(sd_bus *bus, sd_event *event, ServiceOptions options)
    : bus_(bus), event_(event), options_(options),
      authority_(std::make_unique<polkit::Authority>(
          bus, polkit::Limits{options.max_pending_checks_per_sender, options.max_pending_checks}))
{
}

Service::~Service() = default;

Result<Registration> Service::add_object(const char *path, const VtableBase &vt, void *obj, Subtree subtree)
{
    if (auto c = vt.check(); !c)
        return failf(EINVAL, "{} at {} disagrees with its XML: {}", vt.spec().name, path, c.error().message);
    auto impl = std::make_unique<Registration::Impl>();
    impl->service = this;
    impl->vtable = &vt;
    impl->object = obj;
    impl->find = std::move(subtree.find);
    impl->enumerate = std::move(subtree.enumerate);
    sd_bus_slot *slot = nullptr;
    int r = impl->find ? sd_bus_add_fallback_vtable(bus_, &slot, path, vt.spec().name, vt.table(),
                                                    &Registration::Impl::locate, impl.get())
                       : sd_bus_add_object_vtable(bus_, &slot, path, vt.spec().name, vt.table(), impl.get());
    if (r < 0)
        return failf(-r, "cannot add {} at {}: {}", vt.spec().name, path, strerror(-r));
    impl->slot.reset(slot);
    if (impl->enumerate) {
        r = sd_bus_add_node_enumerator(bus_, &slot, path, &Registration::Impl::nodes, impl.get());
        if (r < 0)
            return failf(-r, "cannot add the node enumerator at {}: {}", path, strerror(-r));
        impl->enum_slot.reset(slot);
    }
    return Registration(std::move(impl));
}

Result<SlotPtr> Service::add_object_manager(const char *path)
{
    sd_bus_slot *slot = nullptr;
    int r = sd_bus_add_object_manager(bus_, &slot, path);
    if (r < 0)
        return failf(-r, "cannot add the object manager at {}: {}", path, strerror(-r));
    return SlotPtr(slot);
}

void Service::changed(std::string_view path, const InterfaceSpec &iface, const PropertySpec &property)
{
    if (!property.emits())
        return;   // const and explicit properties never signal
    pending_changes_[{std::string(path), iface.name}].insert(property.name);
    if (!defer_ && event_) {
        sd_event_source *s = nullptr;
        if (sd_event_add_defer(event_, &s, &Service::on_defer, this) >= 0)
            defer_.reset(s);
    }
}

int Service::on_defer(sd_event_source *, void *userdata) noexcept
{
    try {
        static_cast<Service *>(userdata)->flush_changes();
    } catch (...) {
    }
    return 0;
}

void Service::flush_changes()
{
    defer_.reset();
    auto pending = std::move(pending_changes_);
    pending_changes_.clear();
    for (const auto &[key, names] : pending) {
        std::vector<std::string> owned(names.begin(), names.end());
        std::vector<char *> argv;
        for (auto &n : owned)
            argv.push_back(n.data());
        argv.push_back(nullptr);
        std::string iface(key.second);
        if (int r = sd_bus_emit_properties_changed_strv(bus_, key.first.c_str(), iface.c_str(), argv.data());
            r < 0 && r != -ENOENT)
            log::debug("PropertiesChanged on {}: {}", key.first, strerror(-r));
    }
}

void Service::interfaces_added(const std::string &path, const InterfaceSpec &iface)
{
    const char *names[] = {iface.name, nullptr};
    (void)sd_bus_emit_interfaces_added_strv(bus_, path.c_str(), const_cast<char **>(names));
}

void Service::interfaces_removed(const std::string &path, const InterfaceSpec &iface)
{
    // Changes still pending for the object would be emitted for a path that is gone.
    pending_changes_.erase({path, iface.name});
    const char *names[] = {iface.name, nullptr};
    (void)sd_bus_emit_interfaces_removed_strv(bus_, path.c_str(), const_cast<char **>(names));
}

Result<MessagePtr> Service::new_signal(const char *path, const InterfaceSpec &iface, const SignalSpec &s,
                                       const std::string &have)
{
    if (have != s.signature)
        return bus_fail(bus_error::Internal, "{}.{}: emitted with '{}', the XML says '{}'", iface.name, s.name,
                        have, s.signature);
    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_signal(bus_, &raw, path, iface.name, s.name);
    if (r < 0)
        return failf(-r, "cannot build {}.{}: {}", iface.name, s.name, strerror(-r));
    return MessagePtr(raw);
}

} // namespace alopex::bus
