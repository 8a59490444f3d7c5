#pragma once
// Transport-neutral HTTP request / response values shared by the HTTP/1.1 and HTTP/2 clients.
// Header names keep the case they were given (HTTP/1.1) and are matched case-insensitively
// (RFC 9110 §5.1); HTTP/2 lower-cases them on the wire (RFC 9113 §8.2.1). Bodies are byte
// strings.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace webpush_client {

class Headers {
  public:
    using Field = std::pair<std::string, std::string>;

    void add(std::string name, std::string value) {
        fields_.emplace_back(std::move(name), std::move(value));
    }
    void set(std::string name, std::string value);  // replaces every field of that name
    void remove(std::string_view name);
    std::optional<std::string> get(std::string_view name) const;  // first value
    std::vector<std::string> get_all(std::string_view name) const;
    bool has(std::string_view name) const { return get(name).has_value(); }

    const std::vector<Field>& fields() const { return fields_; }
    auto begin() const { return fields_.begin(); }
    auto end() const { return fields_.end(); }
    bool empty() const { return fields_.empty(); }

  private:
    std::vector<Field> fields_;
};

struct HttpRequest {
    std::string method = "GET";
    std::string url;  // absolute
    Headers headers;
    std::string body;
};

struct HttpResponse {
    int status = 0;
    std::string reason;  // HTTP/1.1 only
    Headers headers;
    std::string body;
    int version = 11;  // 11 = HTTP/1.1, 20 = HTTP/2
};

}  // namespace webpush_client
