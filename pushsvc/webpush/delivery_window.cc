#include "pushsvc/webpush/delivery_window.h"

namespace pushsvc::webpush {

result<std::vector<store::MessageRecord>> DeliveryWindow::next(std::string_view uaid,
                                                               const Admit& admit,
                                                               std::size_t limit) {
    std::vector<store::MessageRecord> out;
    if (drained_ || limit == 0 || limit * 2 < max_inflight_) return out;
    while (out.size() < limit) {
        std::size_t want = limit - out.size();
        auto batch = backend_.pending(uaid, cursor_, want);
        if (!batch) return batch.error();
        for (auto& m : *batch) {
            cursor_ = m.seq;
            // After a rewind (failed()) the read passes messages that are still in flight.
            if (inflight_.count(m.id)) continue;
            if (admit(m)) out.push_back(std::move(m));
        }
        if (batch->size() < want) {
            drained_ = true;
            break;
        }
    }
    return out;
}

DeliveryWindow::Carried DeliveryWindow::classify(const store::MessageRecord& m) const noexcept {
    if (m.seq != 0 && m.seq <= cursor_) return Carried::seen;
    if (drained_ && m.prev_seq != 0 && m.prev_seq == cursor_ && room() > 0) return Carried::take;
    return Carried::read;
}

DeliveryWindow::Carried DeliveryWindow::carried(const store::MessageRecord& m) {
    const Carried c = classify(m);
    if (c == Carried::take) {
        cursor_ = m.seq;
        if (backend_.expired(m)) return Carried::seen;
    } else if (c == Carried::read) {
        more_stored();
    }
    return c;
}

std::optional<bool> DeliveryWindow::release(const std::string& message_id) {
    auto it = inflight_.find(message_id);
    if (it == inflight_.end()) return std::nullopt;
    bool stored = it->second.stored;
    inflight_.erase(it);
    return stored;
}

bool DeliveryWindow::failed(const std::string& message_id) {
    auto it = inflight_.find(message_id);
    if (it == inflight_.end()) return false;
    if (it->second.stored && it->second.seq > 0 && it->second.seq <= cursor_) {
        cursor_ = it->second.seq - 1;  // next() reads from `seq` on
        drained_ = false;
    }
    inflight_.erase(it);
    return true;
}

}  // namespace pushsvc::webpush
