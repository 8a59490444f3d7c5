#include "pushsvc/net/tls_stream.h"

#include <openssl/bio.h>
#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <boost/asio/ssl/error.hpp>
#include <cassert>
#include <climits>
#include <cstring>
#include <new>

namespace pushsvc::net {
namespace tls_detail {
namespace {

// Socket reads ask for at most one TLS record's worth (16 KiB plaintext + overhead).
constexpr std::size_t kMaxRead = 17 * 1024;
constexpr std::size_t kMinRead = 4 * 1024;

State& state_of(BIO* bio) { return *static_cast<State*>(BIO_get_data(bio)); }

int bio_read(BIO* bio, char* data, int size) {
    BIO_clear_retry_flags(bio);
    State& s = state_of(bio);
    const std::size_t available = s.in.size() - s.in_read - s.in_pos;
    if (available == 0) {
        BIO_set_retry_read(bio);
        return -1;
    }
    const std::size_t n = std::min<std::size_t>(available, static_cast<std::size_t>(size));
    std::memcpy(data, s.in.data() + s.in_pos, n);
    s.in_pos += n;
    if (s.in_pos == s.in.size() && s.in_read == 0) {
        std::string().swap(s.in);  // an idle connection keeps no buffer
        s.in_pos = 0;
    }
    return static_cast<int>(n);
}

int bio_write(BIO* bio, const char* data, int size) {
    BIO_clear_retry_flags(bio);
    State& s = state_of(bio);
    s.out.append(data, static_cast<std::size_t>(size));
    s.appended += static_cast<std::uint64_t>(size);
    return size;
}

long bio_ctrl(BIO* bio, int cmd, long, void*) {
    switch (cmd) {
        case BIO_CTRL_FLUSH:
            return 1;  // start_flush() runs after every OpenSSL call
        case BIO_CTRL_PENDING: {
            const State& s = state_of(bio);
            return static_cast<long>(s.in.size() - s.in_read - s.in_pos);
        }
        case BIO_CTRL_WPENDING:
            return static_cast<long>(state_of(bio).out.size());
        default:
            return 0;
    }
}

int bio_create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

BIO_METHOD* bio_method() {
    static BIO_METHOD* const method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "pushsvc");
        if (m == nullptr) throw std::bad_alloc();
        BIO_meth_set_read(m, bio_read);
        BIO_meth_set_write(m, bio_write);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
        return m;
    }();
    return method;
}

}  // namespace

State::State(beast::tcp_stream&& n, SSL_CTX* ctx) : next(std::move(n)) {
    ssl = SSL_new(ctx);
    BIO* bio = BIO_new(bio_method());
    if (ssl == nullptr || bio == nullptr) {
        BIO_free(bio);
        SSL_free(ssl);
        throw std::bad_alloc();
    }
    BIO_set_data(bio, this);
    SSL_set_bio(ssl, bio, bio);  // one BIO both ways: the SSL owns its one reference
    SSL_set_accept_state(ssl);
    // OpenSSL frees its record buffers whenever no record is partly read or written.
    SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
}

State::~State() { SSL_free(ssl); }

Step State::finish(int ret, std::size_t n) {
    // An SSL call may have written (handshake flights, tickets, alerts, close_notify).
    start_flush();
    if (ret == 1) return {Step::done, n, {}};
    const int err = SSL_get_error(ssl, ret);
    if (err == SSL_ERROR_WANT_READ) return {Step::want_read, 0, {}};
    if (err == SSL_ERROR_ZERO_RETURN) return {Step::failed, 0, asio::error::eof};  // close_notify
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return {Step::failed, 0, asio::ssl::error::stream_truncated};
    return {Step::failed, 0,
            beast::error_code(static_cast<int>(code), asio::error::get_ssl_category())};
}

Step State::handshake() {
    ERR_clear_error();
    return finish(SSL_do_handshake(ssl), 0);
}

Step State::read(void* data, std::size_t size) {
    if (size == 0) return {Step::done, 0, {}};
    ERR_clear_error();
    std::size_t n = 0;
    const int ret = SSL_read_ex(ssl, data, std::min<std::size_t>(size, INT_MAX), &n);
    return finish(ret, n);
}

Step State::write(const void* data, std::size_t size) {
    if (size == 0) return {Step::done, 0, {}};
    ERR_clear_error();
    std::size_t n = 0;
    const int ret = SSL_write_ex(ssl, data, std::min(size, kMaxWrite), &n);
    return finish(ret, n);
}

Step State::shutdown() {
    ERR_clear_error();
    const int ret = SSL_shutdown(ssl);  // 0: ours is sent; we do not wait for the peer's
    return finish(ret >= 0 ? 1 : ret, 0);
}

asio::mutable_buffer State::prepare_read(std::size_t hint) {
    const std::size_t want = std::clamp(hint, kMinRead, kMaxRead);
    if (in_pos > 0) {  // drop what OpenSSL has taken
        in.erase(0, in_pos);
        in_pos = 0;
    }
    const std::size_t used = in.size();
    in.resize(used + want);
    in_read = want;
    return asio::buffer(in.data() + used, want);
}

void State::commit_read(std::size_t n) {
    in.resize(in.size() - in_read + n);
    in_read = 0;
}

namespace {

// Completion of a send of State::sending. A waiter (a write or shutdown, holding its caller's
// handler and through it, often, the stream's owner) only waits while a send is in flight;
// should this handler be destroyed without running (the io_context goes away first), it drops
// the waiter too, which would otherwise keep itself and the state alive in a cycle.
struct Flushed {
    std::shared_ptr<State> s;
    bool ran = false;

    explicit Flushed(std::shared_ptr<State> state) : s(std::move(state)) {}
    Flushed(Flushed&& other) noexcept : s(std::move(other.s)), ran(other.ran) {}
    Flushed& operator=(Flushed&&) = delete;
    ~Flushed() {
        if (s && !ran) s->waiter.reset();
    }

    void operator()(beast::error_code ec, std::size_t n) {
        ran = true;
        s->flushing = false;
        s->sent += n;
        std::string().swap(s->sending);
        if (ec) {
            s->write_error = ec;
            s->sent = s->appended;  // nothing more will go out
        }
        s->start_flush();
        if (s->waiter && (s->write_error || s->sent >= s->waiter_target)) {
            auto w = std::move(s->waiter);
            w->run();
        }
    }
};

}  // namespace

void State::start_flush() {
    if (flushing || out.empty() || write_error) return;
    flushing = true;
    sending.swap(out);
    asio::async_write(next, asio::buffer(sending), Flushed(shared_from_this()));
}

bool State::readable() const {
    if (SSL_pending(ssl) > 0) return true;
    // TLS record header (RFC 8446 §5.1): type, version (2 octets), length (2 octets).
    const std::size_t available = in.size() - in_read - in_pos;
    if (available < 5) return false;
    const auto* h = reinterpret_cast<const unsigned char*>(in.data() + in_pos);
    return available >= 5 + ((std::size_t(h[3]) << 8) | h[4]);
}

beast::error_code State::socket_error(beast::error_code ec) const {
    if (ec == asio::error::eof && !(SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN))
        return asio::ssl::error::stream_truncated;
    return ec;
}

void State::when_sent(std::unique_ptr<Waiter> w) {
    assert(!waiter);  // one write or shutdown at a time, as for any asio stream
    waiter_target = appended;
    waiter = std::move(w);
}

}  // namespace tls_detail

std::size_t TlsStream::read_some(boost::asio::mutable_buffer b, boost::beast::error_code& ec) {
    // Ciphertext goes through a per-thread buffer: nothing but a partial record stays behind.
    thread_local std::array<char, 17 * 1024> scratch;
    for (;;) {
        const tls_detail::Step step = s_->read(b.data(), b.size());
        if (step.kind != tls_detail::Step::want_read) {
            ec = step.ec;
            return step.n;
        }
        // Same cap as the async path (InputOp): OpenSSL answers some records itself
        // (KeyUpdate, alerts) and a peer that sends them without reading ours would otherwise
        // grow the unsent output without bound while this reader waits for readiness.
        if (s_->unsent() > tls_detail::kMaxUnsent) {
            ec = boost::asio::error::no_buffer_space;
            return 0;
        }
        assert(s_->in_read == 0);  // not mixed with async_read_some
        const std::size_t n = s_->next.socket().read_some(boost::asio::buffer(scratch), ec);
        if (ec) {  // would_block included: wait_readable() again
            ec = s_->socket_error(ec);
            return 0;
        }
        s_->in.append(scratch.data(), n);
    }
}

}  // namespace pushsvc::net
