// Sets a key and reads it back through libcairn-client.
//   cairn-example [--addr HOST:PORT]
#include <client/client.h>

#include <chrono>
#include <cstring>
#include <iostream>

int main(int argc, char** argv) {
  cairn::client::Options options;
  for (int i = 1; i + 1 < argc; i++) {
    if (std::strcmp(argv[i], "--addr") == 0) options.seeds = {argv[i + 1]};
  }
  auto client = cairn::client::Client::create(options);
  if (!client.ok()) {
    std::cerr << client.error().to_string() << "\n";
    return 2;
  }
  auto& c = **client;

  if (auto st = c.set("greeting", "hello from cairn", std::chrono::seconds(60)); !st.ok()) {
    std::cerr << "set failed: " << st.error().to_string() << "\n";
    return 1;
  }
  auto value = c.get("greeting");
  if (!value.ok()) {
    std::cerr << "get failed: " << value.error().to_string() << "\n";
    return 1;
  }
  std::cout << "greeting = " << value->value_or("(missing)") << "\n";
  return 0;
}
