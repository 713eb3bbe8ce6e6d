// Checkpoint payloads in S3, against s3rver on loopback behind a gate that checks V4
// signatures (ctest starts both; the endpoint is in ESP_TEST_SERVERS_DIR/test-s3rver).
#include "store/s3_blobs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

namespace esp::store {
namespace {

class S3 : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* servers = std::getenv("ESP_TEST_SERVERS_DIR");
    if (servers == nullptr) GTEST_SKIP() << "no S3 server for this run (ctest starts s3rver)";
    const std::string file = std::string(servers) + "/test-s3rver/endpoint";
    std::ifstream in(file);
    std::getline(in, endpoint_);
    ASSERT_FALSE(endpoint_.empty()) << "no endpoint in " << file;
  }
  S3Options options() const {
    return {.endpoint = endpoint_,
            .bucket = "esp-test",
            .access_key_id = "S3RVER",
            .secret_access_key = "S3RVER",
            .first_backoff = std::chrono::milliseconds(10)};
  }
  std::string prefix() const {
    // The process id keeps a rerun against the same server apart (the gate counts
    // requests per key).
    return "t/" + std::to_string(::getpid()) + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
  }
  // Payloads over 5 MiB (S3's least part) go up as multipart uploads, `at_once` parts at a time.
  S3Options in_parts(int at_once) const {
    auto options = this->options();
    options.part_bytes = kPart;
    options.parts_at_once = at_once;
    return options;
  }
  static std::string patterned(std::size_t size) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
      bytes[i] = static_cast<char>(i * 131 % 251);
    return bytes;
  }
  // What put_in_pieces answered, and each length it told `written`, in order.
  struct Sent {
    Result<bool> put;
    std::vector<std::size_t> told;
  };
  static Sent put_in_pieces(S3Blobs& blobs, const std::string& key, std::string_view payload) {
    std::vector<std::size_t> told;
    auto put =
        blobs.put_in_pieces(key, payload, [&](std::size_t written) { told.push_back(written); });
    return {std::move(put), std::move(told)};
  }
  static void expect_stored(S3Blobs& blobs, const std::string& key, const std::string& payload) {
    auto read = blobs.get(key);
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_TRUE(*read == payload);
  }
  // Stored in one PUT and read back: the same bytes, in one buffer of their size (grown by
  // doubling, a 490 MB checkpoint was held twice over).
  void expect_read_back_whole(S3Blobs& blobs, std::size_t size) const {
    const std::string payload = patterned(size);
    ASSERT_TRUE(blobs.put(prefix() + "k", payload).ok());
    auto read = blobs.get(prefix() + "k");
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_TRUE(*read == payload);
    EXPECT_EQ(read->capacity(), payload.size());
  }
  static constexpr std::size_t kPart = 5 << 20;
  std::string endpoint_;
};

TEST_F(S3, PutGetListDeleteRoundTrip) {
  S3Blobs blobs(options());
  const std::string payload = patterned(5 << 20);
  ASSERT_TRUE(blobs.put(prefix() + "checkpoints/a/op_1.pb", payload).ok());
  ASSERT_TRUE(blobs.put(prefix() + "inputs/k.json", "{}").ok());
  auto read = blobs.get(prefix() + "checkpoints/a/op_1.pb");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_TRUE(*read == payload);
  auto keys = blobs.list(prefix());
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  std::sort(keys->begin(), keys->end());
  EXPECT_EQ(*keys, (std::vector<std::string>{prefix() + "checkpoints/a/op_1.pb",
                                             prefix() + "inputs/k.json"}));
  ASSERT_TRUE(blobs.remove(prefix() + "inputs/k.json").ok());
  EXPECT_TRUE(blobs.remove(prefix() + "inputs/k.json").ok());  // deleting twice is fine
  EXPECT_EQ(blobs.get(prefix() + "inputs/k.json").error().code, Code::kNotFound);
  EXPECT_EQ(blobs.list(prefix())->size(), 1U);
}

TEST_F(S3, ALargePayloadGoesUpInPartsAndTellsEachLeadingPartStored) {
  S3Blobs blobs(in_parts(1));
  const std::string payload = patterned(3 * kPart + 12345);
  const auto key = prefix() + "checkpoints/a/op_1.pb";
  const auto sent = put_in_pieces(blobs, key, payload);
  ASSERT_TRUE(sent.put.ok()) << sent.put.error().message;
  EXPECT_EQ(sent.told, (std::vector<std::size_t>{kPart, 2 * kPart, 3 * kPart, payload.size()}));
  expect_stored(blobs, key, payload);
}

TEST_F(S3, PartsSentTogetherAreJoinedInOrder) {
  S3Blobs blobs(in_parts(4));
  const std::string payload = patterned(9 * kPart + 1);
  const auto sent = put_in_pieces(blobs, prefix() + "k", payload);
  ASSERT_TRUE(sent.put.ok()) << sent.put.error().message;
  ASSERT_FALSE(sent.told.empty());
  EXPECT_TRUE(std::is_sorted(sent.told.begin(), sent.told.end()));
  for (auto written : sent.told)  // only ever a leading run of whole parts
    EXPECT_TRUE(written % kPart == 0 || written == payload.size()) << written;
  EXPECT_EQ(sent.told.back(), payload.size());
  expect_stored(blobs, prefix() + "k", payload);
}

TEST_F(S3, APayloadOfOnePartGoesInOnePut) {
  S3Blobs blobs(in_parts(4));
  const std::string payload = patterned(kPart);
  const auto sent = put_in_pieces(blobs, prefix() + "k", payload);
  ASSERT_TRUE(sent.put.ok()) << sent.put.error().message;
  EXPECT_EQ(sent.told, std::vector<std::size_t>{payload.size()});
  expect_stored(blobs, prefix() + "k", payload);
}

// The gate refuses part 3 of every upload under fail-part-3/, however often it is sent.
TEST_F(S3, APartRefusedFailsTheUploadAndStoresNothing) {
  S3Blobs blobs(in_parts(1));
  const auto key = prefix() + "fail-part-3/k";
  const auto sent = put_in_pieces(blobs, key, patterned(4 * kPart));
  ASSERT_FALSE(sent.put.ok());
  const auto& failure = sent.put.error();
  EXPECT_EQ(failure.code, Code::kUnavailable);
  EXPECT_NE(failure.message.find("partNumber=3"), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find("503 SlowDown"), std::string::npos) << failure.message;
  EXPECT_EQ(sent.told, (std::vector<std::size_t>{kPart, 2 * kPart}));
  EXPECT_EQ(blobs.get(key).error().code, Code::kNotFound);
}

TEST_F(S3, EachPartIsRetriedOnItsOwn) {
  S3Blobs blobs(in_parts(1));
  const std::string payload = patterned(3 * kPart);
  const auto key = prefix() + "fail-503-2/k";  // every request refused twice, parts too
  const auto sent = put_in_pieces(blobs, key, payload);
  ASSERT_TRUE(sent.put.ok()) << sent.put.error().message;
  EXPECT_EQ(sent.told, (std::vector<std::size_t>{kPart, 2 * kPart, 3 * kPart}));
  expect_stored(blobs, key, payload);
}

TEST_F(S3, ALargePayloadIsReadIntoOneBufferOfItsSize) {
  S3Blobs blobs(options());
  expect_read_back_whole(blobs, 17 << 20);
}

TEST_F(S3, ALargePayloadIsReadInRangesSideBySide) {
  S3Blobs blobs(in_parts(4));
  expect_read_back_whole(blobs, 5 * kPart + 12345);
}

// The gate refuses every GET of a range from byte 2 * kPart under fail-range-<that>/.
TEST_F(S3, ARangeRefusedFailsTheRead) {
  S3Blobs blobs(in_parts(2));
  const auto key = prefix() + "fail-range-" + std::to_string(2 * kPart) + "/k";
  ASSERT_TRUE(blobs.put(key, patterned(4 * kPart)).ok());
  auto read = blobs.get(key);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, Code::kUnavailable);
  EXPECT_NE(read.error().message.find("range from byte " + std::to_string(2 * kPart)),
            std::string::npos)
      << read.error().message;
  EXPECT_NE(read.error().message.find("503 SlowDown"), std::string::npos) << read.error().message;
}

TEST_F(S3, EachRangeIsRetriedOnItsOwn) {
  auto options = in_parts(2);
  options.attempts = 4;
  S3Blobs blobs(options);
  const std::string payload = patterned(3 * kPart + 1);
  const auto key = prefix() + "fail-503-3/k";  // every range refused three times
  ASSERT_TRUE(blobs.put(key, payload).ok());
  expect_stored(blobs, key, payload);
}

TEST_F(S3, AnEmptyPayloadIsReadBack) {
  S3Blobs blobs(options());
  ASSERT_TRUE(blobs.put(prefix() + "k", "").ok());
  auto read = blobs.get(prefix() + "k");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, "");
}

TEST_F(S3, ListingFollowsEveryPage) {
  S3Blobs blobs(options());
  for (int i = 0; i < 1005; ++i)  // s3rver pages at 1000 keys
    ASSERT_TRUE(blobs.put(prefix() + std::to_string(i), "x").ok());
  auto keys = blobs.list(prefix());
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(keys->size(), 1005U);
}

TEST_F(S3, UnknownCredentialsAreRefusedAndNothingIsWritten) {
  auto wrong = options();
  wrong.access_key_id = "NOT-A-KEY";
  S3Blobs refused(wrong);
  auto put = refused.put(prefix() + "x", "data");
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.error().message.find("403 InvalidAccessKeyId"), std::string::npos)
      << put.error().message;
  EXPECT_EQ(S3Blobs(options()).get(prefix() + "x").error().code, Code::kNotFound);
}

TEST_F(S3, AWrongSecretIsRefusedBySignatureAndNothingIsWritten) {
  auto wrong = options();
  wrong.secret_access_key = "not-the-secret";
  S3Blobs refused(wrong);
  for (auto failure : {refused.put(prefix() + "x", "data").error(), refused.get(prefix()).error(),
                       refused.list(prefix()).error()}) {
    EXPECT_NE(failure.message.find("403 SignatureDoesNotMatch"), std::string::npos)
        << failure.message;
  }
  EXPECT_EQ(S3Blobs(options()).get(prefix() + "x").error().code, Code::kNotFound);
}

// The gate in front of s3rver answers 503 SlowDown or 500 InternalError, or stalls, for
// keys that ask for it (tests/s3/sigv4_gate.py).
TEST_F(S3, ServerErrorsAreRetriedWithBackoff) {
  auto options = this->options();
  options.attempts = 4;
  options.first_backoff = std::chrono::milliseconds(10);
  S3Blobs blobs(options);
  ASSERT_TRUE(blobs.put(prefix() + "fail-503-2/k", "after two refusals").ok());
  ASSERT_TRUE(blobs.put(prefix() + "fail-500-3/k", "after three errors").ok());
  EXPECT_EQ(*blobs.get(prefix() + "fail-503-2/k"), "after two refusals");
  EXPECT_EQ(*blobs.get(prefix() + "fail-500-3/k"), "after three errors");

  auto refused = blobs.put(prefix() + "fail-503-4/k", "never stored");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kUnavailable);
  EXPECT_NE(refused.error().message.find("503 SlowDown"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(blobs.list(prefix() + "fail-503-4/")->size(), 0U);  // listing is not refused
}

TEST_F(S3, ARequestThatTimesOutIsRetried) {
  ASSERT_TRUE(S3Blobs(options()).put(prefix() + "stall-2000ms/k", "slow the first time").ok());
  auto impatient = options();
  impatient.timeout = std::chrono::milliseconds(500);
  impatient.first_backoff = std::chrono::milliseconds(10);
  auto read = S3Blobs(impatient).get(prefix() + "stall-2000ms/k");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, "slow the first time");
}

TEST_F(S3, AnUnreachableEndpointFailsAfterItsRetries) {
  auto gone = options();
  gone.endpoint = "http://127.0.0.1:9";  // discard port: nothing listens
  gone.attempts = 3;
  auto put = S3Blobs(gone).put("x", "data");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, Code::kUnavailable);
}

TEST(S3Addressing, PathStyleAndVirtualHostStyle) {
  S3Options path{.endpoint = "https://s3.eu-west-1.amazonaws.com/", .bucket = "models"};
  EXPECT_EQ(S3Blobs(path).url_of("checkpoints/a b.pb"),
            "https://s3.eu-west-1.amazonaws.com/models/checkpoints/a%20b.pb");
  path.path_style = false;
  EXPECT_EQ(S3Blobs(path).url_of("k"), "https://models.s3.eu-west-1.amazonaws.com/k");
}

}  // namespace
}  // namespace esp::store
