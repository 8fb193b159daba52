// Snapshot out and in for 1M keys (16-byte keys, 32-byte values of mixed compressibility),
// through a file, as a Raft snapshot would go. Prints a Markdown table: time, throughput,
// size, and the peak heap while restoring over an engine that already holds a full state
// (sampled at every read of the source), to show the restore never holds two states.
//
// Usage: cache_snapshot_bench [keys (default 1000000)] [file (default /tmp/cairn-snapshot-bench)]
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cache/engine.h"
#include "cache/snapshot.h"
#include "traces.h"

using namespace cairn::cache;         // NOLINT
using namespace cairn::cache::bench;  // NOLINT

namespace {

uint64_t heap_in_use() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

class FileSink final : public SnapshotSink {
 public:
  explicit FileSink(const std::string& path) : f_(std::fopen(path.c_str(), "wb")) {}
  ~FileSink() override {
    if (f_ != nullptr) std::fclose(f_);
  }
  bool write(const char* data, size_t n) override {
    return f_ != nullptr && std::fwrite(data, 1, n, f_) == n;
  }

 private:
  FILE* f_;
};

class FileSource final : public SnapshotSource {
 public:
  FileSource(const std::string& path, uint64_t* peak)
      : f_(std::fopen(path.c_str(), "rb")), peak_(peak) {}
  ~FileSource() override {
    if (f_ != nullptr) std::fclose(f_);
  }
  size_t read(char* out, size_t n) override {
    if (peak_ != nullptr) *peak_ = std::max(*peak_, heap_in_use());
    return f_ == nullptr ? 0 : std::fread(out, 1, n, f_);
  }

 private:
  FILE* f_;
  uint64_t* peak_;
};

// Values: half repetitive text, half pseudo-random bytes, so compression has real work.
std::string value_of(uint64_t i) {
  std::string v = "user-profile-" + std::to_string(i % 1000);
  v.resize(16, '.');
  uint64_t x = i * 0x9E3779B97F4A7C15ULL;
  while (v.size() < 32) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    v.push_back(static_cast<char>('a' + (x >> 59)));
  }
  return v;
}

void fill(Engine& e, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    Put p;
    p.key = key_of(i);
    p.value = value_of(i);
    if (i % 4 == 0) p.expiry = Expiry::relative(3600000);
    (void)e.apply(p, 1700000000000);
  }
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const std::string path = argc > 2 ? argv[2] : "/tmp/cairn-snapshot-bench";
  auto src = std::make_unique<Engine>();
  fill(*src, n);
  const double state_mb = static_cast<double>(src->used_memory()) / 1e6;

  auto t0 = std::chrono::steady_clock::now();
  SnapshotInfo out;
  {
    FileSink sink(path);
    auto r = write_snapshot(*src, sink);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      return 1;
    }
    out = *r;
  }
  const double write_s = seconds_since(t0);
  src.reset();  // from here on the process holds one state: dst's

  Engine dst;
  fill(dst, n);  // restore over a full state: the old one must go before the new one grows
  malloc_trim(0);
  const uint64_t heap_before = heap_in_use();
  uint64_t peak = heap_before;
  t0 = std::chrono::steady_clock::now();
  auto in = restore_snapshot(dst, [&] { return std::make_unique<FileSource>(path, &peak); });
  const double read_s = seconds_since(t0);
  if (!in.ok()) {
    std::fprintf(stderr, "%s\n", in.error().message.c_str());
    return 1;
  }
  const uint64_t heap_after = heap_in_use();
  std::remove(path.c_str());

  std::printf("Snapshot of %llu keys (engine state %.1f MB accounted)\n\n",
              static_cast<unsigned long long>(n), state_mb);
  std::printf("| direction | seconds | raw MB/s | raw MB | file MB | ratio |\n");
  std::printf("|---|---|---|---|---|---|\n");
  const double raw_mb = static_cast<double>(out.raw_bytes) / 1e6;
  const double file_mb = static_cast<double>(out.compressed_bytes) / 1e6;
  std::printf("| write (stream out) | %.2f | %.0f | %.1f | %.1f | %.2f |\n", write_s,
              raw_mb / write_s, raw_mb, file_mb, raw_mb / file_mb);
  std::printf("| restore (verify + load) | %.2f | %.0f | %.1f | %.1f | %.2f |\n", read_s,
              raw_mb / read_s, raw_mb, file_mb, raw_mb / file_mb);
  std::printf(
      "\nHeap while restoring over a full state: before %.1f MB, peak %.1f MB, after %.1f "
      "MB (peak / before = %.2f)\n",
      static_cast<double>(heap_before) / 1e6, static_cast<double>(peak) / 1e6,
      static_cast<double>(heap_after) / 1e6,
      static_cast<double>(peak) / static_cast<double>(heap_before));
  return 0;
}
