// ServingQueue (the queue and model thread of both servers): arrival order, batching by the `joins` rule,
// the queue bound, removal of a queued job, stop() finishing queued work, and a failed load.
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rwkv/error.h"
#include "server/serving_queue.h"

namespace rwkv::server {
namespace {

using Queue = ServingQueue<std::shared_ptr<int>>;

// Serves batches into `batches`; the first batch waits until release() so that tests can fill the queue.
struct Recorder {
  std::mutex mu;
  std::vector<std::vector<int>> batches;
  std::promise<void> first_started, gate;
  std::shared_future<void> opened = gate.get_future().share();
  bool first = true;

  void serve(std::vector<std::shared_ptr<int>>& jobs) {
    bool wait = false;
    {
      std::lock_guard lock(mu);
      std::vector<int> b;
      for (const auto& j : jobs) b.push_back(*j);
      batches.push_back(b);
      wait = first;
      first = false;
    }
    if (wait) {
      first_started.set_value();
      opened.wait();
    }
  }
  void release() { gate.set_value(); }
};

std::shared_ptr<int> job(int v) {
  return std::make_shared<int>(v);
}

TEST(ServingQueue, BatchesByRuleInArrivalOrderAndFinishesQueuedWorkOnStop) {
  Metrics metrics;
  Queue q(16, metrics);
  Recorder rec;
  auto first_started = rec.first_started.get_future();
  // Even numbers share a batch, at most three to a batch; an odd number runs alone.
  auto joins = [](const std::vector<std::shared_ptr<int>>& batch, const std::shared_ptr<int>& next) {
    return *batch[0] % 2 == 0 && *next % 2 == 0 && batch.size() < 3;
  };
  q.start([] {}, [&](std::vector<std::shared_ptr<int>>& jobs) { rec.serve(jobs); }, [] { FAIL() << "load"; },
          joins);
  ASSERT_TRUE(q.push(job(1)));
  first_started.wait();  // 1 is being served; the rest waits in the queue
  EXPECT_TRUE(q.ready());
  for (int v : {2, 4, 6, 8, 3, 10, 12}) ASSERT_TRUE(q.push(job(v)));
  rec.release();
  q.stop();  // returns once everything queued has been served
  const std::vector<std::vector<int>> want = {{1}, {2, 4, 6}, {8}, {3}, {10, 12}};
  EXPECT_EQ(rec.batches, want);
  EXPECT_FALSE(q.push(job(14))) << "a stopped queue takes no work";
}

TEST(ServingQueue, RefusesWorkBeyondItsBoundAndRemovesQueuedJobs) {
  Metrics metrics;
  Queue q(2, metrics);
  Recorder rec;
  auto first_started = rec.first_started.get_future();
  q.start([] {}, [&](std::vector<std::shared_ptr<int>>& jobs) { rec.serve(jobs); }, [] { FAIL() << "load"; });
  ASSERT_TRUE(q.push(job(1)));
  first_started.wait();
  EXPECT_TRUE(q.push(job(2)));
  EXPECT_TRUE(q.push(job(3)));
  EXPECT_FALSE(q.push(job(4))) << "the queue holds two jobs";
  EXPECT_TRUE(q.remove_first([](const std::shared_ptr<int>& j) { return *j == 2; }));
  EXPECT_FALSE(q.remove_first([](const std::shared_ptr<int>& j) { return *j == 1; })) << "1 is being served";
  EXPECT_TRUE(q.push(job(5))) << "removal made room";
  rec.release();
  q.stop();
  const std::vector<std::vector<int>> want = {{1}, {3}, {5}};
  EXPECT_EQ(rec.batches, want);
  EXPECT_NE(metrics.render().find("rwkv_queue_size 0"), std::string::npos) << metrics.render();
}

TEST(ServingQueue, AFailedLoadIsReportedAndNothingIsServed) {
  Metrics metrics;
  Queue q(4, metrics);
  std::promise<void> failed;
  bool served = false;
  q.start([] { throw Error("model.pth: no such file"); },
          [&](std::vector<std::shared_ptr<int>>&) { served = true; }, [&] { failed.set_value(); });
  failed.get_future().wait();
  EXPECT_FALSE(q.ready());
  EXPECT_EQ(q.failure(), "model.pth: no such file");
  q.stop();
  EXPECT_FALSE(served);
}

}  // namespace
}  // namespace rwkv::server
