#include "node/address_book.h"

#include <gtest/gtest.h>

namespace cairn::node {
namespace {

TEST(AddressBook, EncodesDecodesAndLeavesTheRest) {
  AddressBook b;
  b.set(1, "127.0.0.1:9001");
  b.set(22, "[::1]:9022");
  std::string bytes;
  b.encode(bytes);
  bytes += "rest";
  std::string_view in = bytes;
  auto back = AddressBook::decode(in);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->all(), b.all());
  EXPECT_EQ(in, "rest");
}

TEST(AddressBook, RefusesForeignAndTruncatedBytes) {
  std::string_view junk = "not a book";
  EXPECT_FALSE(AddressBook::decode(junk).ok());
  AddressBook b;
  b.set(3, "127.0.0.1:9003");
  std::string bytes;
  b.encode(bytes);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    std::string_view in(bytes.data(), cut);
    EXPECT_FALSE(AddressBook::decode(in).ok()) << "cut at " << cut;
  }
}

TEST(AddressBook, TextFormRoundTripsAndSkipsGarbage) {
  AddressBook b;
  b.set(1, "127.0.0.1:9001");
  b.set(2, "127.0.0.1:9002");
  EXPECT_EQ(b.to_text(), "1=127.0.0.1:9001,2=127.0.0.1:9002");
  EXPECT_EQ(AddressBook::from_text(b.to_text()).all(), b.all());
  auto partial = AddressBook::from_text("x=1,0=a:1,=,3=127.0.0.1:9003,junk");
  ASSERT_EQ(partial.all().size(), 1u);
  EXPECT_EQ(*partial.find(3), "127.0.0.1:9003");
}

}  // namespace
}  // namespace cairn::node
