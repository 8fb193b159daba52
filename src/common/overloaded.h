// Overloaded{lambdas...}: one visitor for std::visit built from a lambda per alternative.
#pragma once

namespace cairn {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// Spelled out for compilers without C++20 aggregate deduction (clang 14, used for fuzzing).
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace cairn
