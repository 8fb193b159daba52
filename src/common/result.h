// Result<T, E>: a value or an error, for failures a caller is expected to handle.
// Programmer errors (broken invariants) are not Results; they abort with CAIRN_CHECK.
// Header-only; thread-compatible like any value type.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

namespace cairn {

// Wraps an error so that Result<T, E> can be built from it even when T and E are the same type.
template <typename E>
struct Err {
  // A constructor (not aggregate initialisation) so Err(x) also compiles where C++20's
  // parenthesised aggregate initialisation is missing (clang 14, used for fuzzing).
  explicit Err(E e) : error(std::move(e)) {}
  E error;
};
template <typename E>
Err(E) -> Err<E>;

template <typename T, typename E>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  template <typename F>
  Result(Err<F> err) : v_(std::in_place_index<1>, E(std::move(err.error))) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  E& error() & { return std::get<1>(v_); }
  const E& error() const& { return std::get<1>(v_); }
  E&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, E> v_;
};

// Result for operations with no value: success, or an error.
template <typename E>
class [[nodiscard]] Status {
 public:
  Status() = default;
  template <typename F>
  Status(Err<F> err) : err_(E(std::move(err.error))), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { return err_; }

 private:
  E err_{};
  bool ok_ = true;
};

}  // namespace cairn

// Aborts with the failed condition and a location: for invariants, never for bad input.
#define CAIRN_CHECK(cond)                                                             \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "CHECK failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)
