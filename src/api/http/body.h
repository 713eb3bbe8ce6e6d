// A response's body for Beast: text of its own, or bytes held by whoever made them (a
// population's), sent in their pieces as they are. A population downloaded as protobuf
// was copied into one string first: at P=100,000 in the SDK's JSON another 1.6 GB at the
// peak, in fresh pages, before its first byte was sent.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace esp::http {

class ResponseBytes {
 public:
  ResponseBytes() = default;
  explicit ResponseBytes(std::string text) : text_(std::move(text)) {}
  // Sent one after another, never copied; `owner` keeps them alive until they are.
  ResponseBytes(std::shared_ptr<const void> owner, std::vector<std::string_view> pieces)
      : owner_(std::move(owner)), pieces_(std::move(pieces)) {}

  std::size_t size() const {
    std::size_t size = text_.size();
    for (std::string_view piece : pieces_)
      size += piece.size();
    return size;
  }
  // What is sent: the text (empty for shared pieces), then the pieces.
  const std::string& text() const { return text_; }
  std::span<const std::string_view> shared_pieces() const { return pieces_; }
  void clear() { *this = ResponseBytes(); }

 private:
  std::string text_;
  std::shared_ptr<const void> owner_;
  std::vector<std::string_view> pieces_;
};

// Beast's Body concept, for responses only (requests are read as string_body).
struct ResponseBody {
  using value_type = ResponseBytes;

  static std::uint64_t size(const value_type& body) { return body.size(); }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;

    template <bool isRequest, class Fields>
    writer(const boost::beast::http::header<isRequest, Fields>& /*header*/, const value_type& body)
        : body_(body) {}

    static void init(boost::beast::error_code& ec) { ec = {}; }

    // The text first, then each shared piece, skipping empty ones; none left: done.
    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      ec = {};
      while (next_ <= body_.shared_pieces().size()) {
        const std::string_view piece =
            next_ == 0 ? std::string_view(body_.text()) : body_.shared_pieces()[next_ - 1];
        ++next_;
        if (!piece.empty())
          return std::pair{boost::asio::const_buffer(piece.data(), piece.size()), more()};
      }
      return boost::none;
    }

   private:
    // Whether a non-empty piece follows the one just given.
    bool more() const {
      for (std::size_t i = next_; i <= body_.shared_pieces().size(); ++i)
        if (!body_.shared_pieces()[i - 1].empty()) return true;
      return false;
    }

    const value_type& body_;
    std::size_t next_ = 0;  // 0: the text; i: shared piece i - 1
  };
};

}  // namespace esp::http
