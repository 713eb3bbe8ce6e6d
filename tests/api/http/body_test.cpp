// Response bodies sent from bytes held elsewhere, in their pieces.
#include "api/http/body.h"

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>

#include "api/http/message.h"

namespace esp::http {
namespace {

std::string sent(const Response& response) {
  std::ostringstream out;
  out << response;
  return out.str();
}

std::string body_of(const std::string& message) {
  return message.substr(message.find("\r\n\r\n") + 4);
}

// A population's bytes, written in runs a thread (some empty), go out one after another
// as one body of their whole length.
TEST(ResponseBody, SharedPiecesAreSentInOrderAsOneBody) {
  auto block = std::make_shared<std::string>("0123456789abcdef");
  const std::string_view all = *block;
  auto response = bytes_response(
      Status::ok, block,
      {all.substr(0, 4), all.substr(4, 0), all.substr(8, 8), all.substr(4, 4), all.substr(16, 0)},
      "application/x-protobuf");
  block.reset();  // the response keeps them alive
  response.prepare_payload();
  EXPECT_EQ(response[beast_http::field::content_length], "16");
  const std::string message = sent(response);
  EXPECT_EQ(body_of(message), "012389abcdef4567");
  EXPECT_NE(message.find("Content-Type: application/x-protobuf"), std::string::npos);
}

TEST(ResponseBody, TextIsSentAsItIs) {
  auto response = text_response(Status::not_found, "gone");
  response.prepare_payload();
  EXPECT_EQ(response[beast_http::field::content_length], "4");
  EXPECT_EQ(body_of(sent(response)), "gone");
  EXPECT_EQ(response.body().text(), "gone");
}

TEST(ResponseBody, NothingToSendIsAnEmptyBody) {
  auto block = std::make_shared<std::string>("abc");
  auto response = bytes_response(Status::ok, block, {std::string_view(*block).substr(1, 0)},
                                 "application/x-protobuf");
  response.prepare_payload();
  EXPECT_EQ(response[beast_http::field::content_length], "0");
  EXPECT_EQ(body_of(sent(response)), "");
  // A HEAD answer's body is cleared; the pieces' owner goes with it.
  response.body().clear();
  EXPECT_EQ(response.body().size(), 0U);
  EXPECT_EQ(block.use_count(), 1);
}

}  // namespace
}  // namespace esp::http
