#include "auth/authorization.h"

#include <gtest/gtest.h>

namespace esp::auth {
namespace {

TEST(CredentialsFor, ReadsTheSchemesCredentialsCaseInsensitively) {
  EXPECT_EQ(credentials_for("Bearer abc.def", "Bearer"), "abc.def");
  EXPECT_EQ(credentials_for("bearer abc", "Bearer"), "abc");
  EXPECT_EQ(credentials_for("BASIC  dXNlcjpwdw==", "Basic"), "dXNlcjpwdw==");
}

TEST(CredentialsFor, RefusesOtherSchemesAndMissingCredentials) {
  EXPECT_FALSE(credentials_for("Basic abc", "Bearer").has_value());
  EXPECT_FALSE(credentials_for("Bearerabc", "Bearer").has_value());
  EXPECT_FALSE(credentials_for("Bearer", "Bearer").has_value());
  EXPECT_FALSE(credentials_for("Bearer   ", "Bearer").has_value());
  EXPECT_FALSE(credentials_for("", "Bearer").has_value());
}

}  // namespace
}  // namespace esp::auth
