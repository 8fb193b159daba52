#include "node/snapshot_builder.h"

#include <optional>

#include "common/result.h"
#include "common/xxh3_stream.h"

namespace cairn::node {
namespace {

// Where a build streams: the snapshot's file, or memory without a data directory (exactly one of
// the two). Refuses once the build is cancelled or the file cannot be written, which ends the
// stream.
class BuildSink final : public cache::SnapshotSink {
 public:
  BuildSink(std::string* memory, storage::SnapshotFileWriter* file, const std::atomic<bool>& cancel)
      : memory_(memory), file_(file), cancel_(cancel) {
    CAIRN_CHECK((memory_ == nullptr) != (file_ == nullptr));
  }
  bool write(const char* data, size_t n) override {
    if (cancel_.load(std::memory_order_relaxed)) return false;
    if (file_ != nullptr) {
      if (auto st = file_->write({data, n}); !st.ok()) {
        error_ = st.error();
        return false;
      }
    } else {
      memory_->append(data, n);
    }
    hash_.update(data, n);
    bytes_ += n;
    return true;
  }
  uint64_t checksum() const { return hash_.digest(); }
  const std::string& error() const { return error_; }
  uint64_t bytes() const { return bytes_; }

 private:
  std::string* memory_;
  storage::SnapshotFileWriter* file_;
  const std::atomic<bool>& cancel_;
  std::string error_;
  uint64_t bytes_ = 0;
  Xxh3Stream hash_;
};

}  // namespace

void SnapshotBuilder::start(Job job) {
  CAIRN_CHECK(!busy_);
  work_.reset();  // the last build, done already
  busy_ = true;
  index_ = job.meta.index();
  cancel_.store(false);
  // (Shared: the work is a std::function, which must be copyable; the job holds the capture.)
  auto shared = std::make_shared<Job>(std::move(job));
  work_ = spawn_([this, shared] { run(std::move(*shared)); });
}

void SnapshotBuilder::finished() {
  busy_ = false;
}

SnapshotBuilder::~SnapshotBuilder() {
  cancel();
  work_.reset();
}

void SnapshotBuilder::run(Job job) {
  const auto started = std::chrono::steady_clock::now();
  if (started_) started_();
  Built built;
  *built.snapshot.mutable_metadata() = job.meta;
  std::optional<storage::SnapshotFileWriter> file;
  if (files_ != nullptr) {
    if (auto w = files_->begin(job.meta); w.ok())
      file.emplace(std::move(*w));
    else
      built.error = w.error();
  }
  const bool keep = files_ == nullptr;
  std::string data;
  std::optional<BuildSink> sink;  // none when the file could not even be begun
  bool streamed = false;
  if (keep || file) {
    sink.emplace(keep ? &data : nullptr, file ? &*file : nullptr, cancel_);
    streamed = sink->write(job.prefix.data(), job.prefix.size()) &&
               cache::write_captured(*job.capture, *sink).ok();
  }
  job.capture.reset();  // apply may free what it replaced meanwhile
  built.cancelled = cancel_.load();
  if (!built.cancelled && sink) {
    if (!sink->error().empty()) built.error = sink->error();
    // The stream ends early only when cancelled or when the file failed.
    CAIRN_CHECK(streamed || !built.error.empty());
    if (file && built.error.empty()) {
      if (auto st = file->commit(); st.ok())
        built.on_disk = true;
      else
        built.error = st.error();
    }
    built.bytes = sink->bytes();
    built.checksum = sink->checksum();
    if (file) built.file_offset = file->data_offset();
    if (keep) {
      built.snapshot.set_data(std::move(data));
      built.in_memory = true;
    }
  }
  file.reset();  // a file not committed is removed
  built.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  done_(std::move(built));
}

}  // namespace cairn::node
