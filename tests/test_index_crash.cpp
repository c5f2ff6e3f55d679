// Crash safety of `rwkv index`: the real binary is killed with SIGKILL in the middle of indexing (twice:
// once before any vector index was saved, once after periodic saves), then resumed. Every document must
// be stored exactly once, the vector index must agree with the store, and the results must equal those of
// an index built without interruption.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "rwkv/error.h"
#include "test_index_support.h"
#include "util/thread_pool.h"

namespace rwkv::test {
namespace {

using index::DocumentIndex;

// Starts `rwkv args...` with stdout and stderr sent to files in `logs`.
pid_t spawn_cli(const std::vector<std::string>& args, const std::filesystem::path& logs) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int out = ::open((logs / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open((logs / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<std::string> a = args;
    a.insert(a.begin(), RWKV_CLI_PATH);
    std::vector<char*> argv;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Documents committed so far (0 while the store does not exist yet), read as another process would.
std::size_t committed(const std::filesystem::path& dir) {
  try {
    return index::DocumentStore(dir, true).size();
  } catch (const Error&) {
    return 0;
  }
}

// Waits until at least `n` documents are committed, then kills the child; returns the count seen.
std::size_t kill_after(pid_t pid, const std::filesystem::path& dir, std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::size_t seen = 0;
  while ((seen = committed(dir)) < n && std::chrono::steady_clock::now() < deadline) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return seen;  // exited on its own
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the child was not killed mid-way";
  return seen;
}

TEST(IndexCrash, KilledTwiceThenResumedStoresEveryDocumentOnce) {
  TempDir tmp;
  const auto docs = synthetic_documents(400, 21);
  std::ofstream(tmp.path() / "docs.jsonl") << documents_jsonl(docs);
  const auto dir = tmp.path() / "idx";
  const std::vector<std::string> base = {"index",
                                         "--model",
                                         golden("emb-model.bf16.pth").string(),
                                         "--reranker",
                                         golden("reranker-b.bf16.pth").string(),
                                         "--vocab",
                                         vocab_path().string(),
                                         "--input",
                                         (tmp.path() / "docs.jsonl").string(),
                                         "--out",
                                         dir.string(),
                                         "--threads",
                                         "1",
                                         "--state-dtype",
                                         "bf16",
                                         "--batch-tokens",
                                         "48"};
  // 1: killed before any vector index is saved.
  const std::size_t first = kill_after(spawn_cli(base, tmp.path()), dir, 40);
  ASSERT_GE(first, 40u);
  const std::size_t after_first = committed(dir);
  ASSERT_LT(after_first, docs.size()) << "indexing finished before it could be killed";
  // 2: resumed with frequent vector index saves, killed again later.
  auto with_saves = base;
  with_saves.insert(with_saves.end(), {"--save-every", "0.05"});
  kill_after(spawn_cli(with_saves, tmp.path()), dir, after_first + 60);
  const std::size_t after_second = committed(dir);
  ASSERT_GT(after_second, after_first);
  ASSERT_LT(after_second, docs.size()) << "indexing finished before it could be killed";
  std::cout << "[ killed   ] after " << after_first << " and " << after_second << " of " << docs.size()
            << " documents\n";
  // 3: resumed to the end.
  const pid_t pid = spawn_cli(base, tmp.path());
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream out(tmp.path() / "stdout"), err(tmp.path() / "stderr");
  std::string out_text((std::istreambuf_iterator<char>(out)), {}),
      err_text((std::istreambuf_iterator<char>(err)), {});
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << err_text;
  const auto summary = nlohmann::json::parse(out_text);
  EXPECT_EQ(summary["skipped"].get<std::size_t>(), after_second);
  EXPECT_EQ(summary["added"].get<std::size_t>(), docs.size() - after_second);
  EXPECT_EQ(summary["documents"].get<std::size_t>(), docs.size());

  // Every document exactly once: one docs entry, one record and one state each, and nothing else.
  std::vector<std::uint64_t> keys;
  {
    index::DocumentStore store(dir, true);
    std::vector<std::string> ids;
    for (const auto& d : docs) ids.push_back(d.id);
    const auto found = store.lookup(ids);
    std::set<std::uint64_t> distinct;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ASSERT_TRUE(found[i].has_value()) << ids[i] << " is missing";
      distinct.insert(*found[i]);
    }
    EXPECT_EQ(distinct.size(), docs.size());
    std::set<std::string> record_ids;
    store.for_each_record(0, 128, [&](std::uint64_t key, const index::DocRecord& r) {
      keys.push_back(key);
      EXPECT_TRUE(record_ids.insert(r.id).second) << r.id << " has two records";
      EXPECT_TRUE(distinct.count(key)) << r.id << ": record without a docs entry";
    });
    EXPECT_EQ(keys.size(), docs.size());
    EXPECT_EQ(store.size(), docs.size());
    EXPECT_NO_THROW(store.states(keys, *store.header()));  // every state present and intact
    ThreadPool pool(2);                                    // decoding on the pool gives the same states
    const auto serial = store.states(keys, *store.header()),
               parallel = store.states(keys, *store.header(), &pool);
    ASSERT_EQ(parallel.size(), serial.size());
    for (std::size_t i = 0; i < serial.size(); ++i) {
      EXPECT_EQ(parallel[i].wkv, serial[i].wkv) << "key " << keys[i];
      EXPECT_EQ(parallel[i].shift, serial[i].shift) << "key " << keys[i];
    }
  }
  // The vector index agrees with the store (and was saved by the last run: no rebuild on open).
  GoldenIndexModels models;
  std::vector<std::string> notices;
  DocumentIndex idx(dir, DocumentIndex::Mode::Read, [&](const std::string& s) { notices.push_back(s); });
  EXPECT_TRUE(notices.empty()) << notices[0];
  EXPECT_EQ(idx.ann().keys(), keys);
  // Same results as an index built in one go.
  TempDir clean_dir;
  ThreadPool pool(2);
  const KernelTable& kt = kernels_for(select_isa());
  DocumentIndex clean(clean_dir.path(), DocumentIndex::Mode::Write);
  clean.init(models.m.header({}, index::StateCodec::BF16));
  clean.add(docs, models.m, false, kt, pool, 256);
  index::SearchOptions o;
  o.top_k = 30;
  o.top_n = 0;
  for (const std::string q : {"memory of the ocean", "recurrent network state"}) {
    const auto a = idx.search(q, o, models.m, kt, pool), b = clean.search(q, o, models.m, kt, pool);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].id, b[i].id) << q << " rank " << i;
      EXPECT_EQ(*a[i].logit, *b[i].logit) << q << " rank " << i;
    }
  }
}

}  // namespace
}  // namespace rwkv::test
