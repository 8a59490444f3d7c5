#pragma once
// The boundary for work posted to an executor (an io_context, the store pool, a timer's
// completion): guard(f, on_error) runs f and turns an exception escaping it into a call of
// on_error(what) instead of letting it unwind out of io_context::run(), where it would end a
// network thread and with it the process. on_error decides what the failure costs (close one
// connection, answer 500, re-arm a timer); it should not throw itself.
//
// The wrapper forwards the handler's associated executor and allocator, so guarding a
// completion handler bound to a strand keeps it on that strand.

#include <boost/asio/associator.hpp>

#include <exception>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

namespace pushsvc::base {

// "what()" of the exception in flight; for use inside a catch block only.
inline std::string current_exception_text() {
    try {
        throw;
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception";
    }
}

// True when the exception in flight is std::bad_alloc (or derived); inside a catch block only,
// e.g. in a guard's on_error, to count allocation failures apart from other exceptions.
inline bool current_exception_is_bad_alloc() {
    try {
        throw;
    } catch (const std::bad_alloc&) {
        return true;
    } catch (...) {
        return false;
    }
}

template <class Handler, class OnError>
class Guarded {
  public:
    Guarded(Handler handler, OnError on_error)
        : handler_(std::move(handler)), on_error_(std::move(on_error)) {}

    template <class... Args>
    void operator()(Args&&... args) {
        try {
            handler_(std::forward<Args>(args)...);
        } catch (...) {
            on_error_(current_exception_text());
        }
    }

    const Handler& handler() const noexcept { return handler_; }

  private:
    Handler handler_;
    OnError on_error_;
};

template <class Handler, class OnError>
Guarded<std::decay_t<Handler>, std::decay_t<OnError>> guard(Handler&& handler, OnError&& on_error) {
    return {std::forward<Handler>(handler), std::forward<OnError>(on_error)};
}

}  // namespace pushsvc::base

// Associated executor / allocator / cancellation slot of a Guarded are those of the handler.
template <template <class, class> class Associator, class Handler, class OnError,
          class DefaultCandidate>
struct boost::asio::associator<Associator, pushsvc::base::Guarded<Handler, OnError>,
                               DefaultCandidate> : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type get(
        const pushsvc::base::Guarded<Handler, OnError>& h) noexcept {
        return Associator<Handler, DefaultCandidate>::get(h.handler());
    }
    static auto get(const pushsvc::base::Guarded<Handler, OnError>& h,
                    const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler(), c)) {
        return Associator<Handler, DefaultCandidate>::get(h.handler(), c);
    }
};
