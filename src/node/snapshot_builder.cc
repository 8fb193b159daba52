#include "node/snapshot_builder.h"

#include <sys/resource.h>
#include <unistd.h>

#include "common/result.h"

namespace cairn::node {
namespace {

constexpr int kBuilderNice = 10;

// Appends to the snapshot's data; refuses once the build is cancelled, which ends the stream.
class CancellableSink final : public cache::SnapshotSink {
 public:
  CancellableSink(std::string& out, const std::atomic<bool>& cancel) : out_(out), cancel_(cancel) {}
  bool write(const char* data, size_t n) override {
    if (cancel_.load(std::memory_order_relaxed)) return false;
    out_.append(data, n);
    return true;
  }

 private:
  std::string& out_;
  const std::atomic<bool>& cancel_;
};

}  // namespace

void SnapshotBuilder::start(Job job) {
  CAIRN_CHECK(!busy_);
  if (thread_.joinable()) thread_.join();  // the last build's thread, done already
  busy_ = true;
  index_ = job.meta.index();
  cancel_.store(false);
  thread_ = std::thread([this, job = std::move(job)]() mutable { run(std::move(job)); });
}

void SnapshotBuilder::finished() {
  busy_ = false;
}

SnapshotBuilder::~SnapshotBuilder() {
  cancel();
  if (thread_.joinable()) thread_.join();
}

void SnapshotBuilder::run(Job job) {
  // Background work: where cores are short, the node and network threads come first. (Linux
  // gives each thread its own nice value; a build only takes longer.)
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kBuilderNice);
  const auto started = std::chrono::steady_clock::now();
  if (started_) started_();
  Built built;
  *built.snapshot.mutable_metadata() = job.meta;
  std::string data = std::move(job.prefix);
  CancellableSink sink(data, cancel_);
  auto written = cache::write_captured(*job.capture, sink);
  job.capture.reset();  // apply may free what it replaced meanwhile
  built.cancelled = cancel_.load();
  if (!built.cancelled) {
    CAIRN_CHECK(written.ok());  // an in-memory sink fails only when cancelled
    built.snapshot.set_data(std::move(data));
    if (files_ != nullptr) {
      if (auto st = files_->save(built.snapshot); st.ok())
        built.on_disk = true;
      else
        built.error = st.error();
    }
  }
  built.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  done_(std::move(built));
}

}  // namespace cairn::node
