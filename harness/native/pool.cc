// The helper threads behind pool::parallelFor, and where their count comes from (pool.h).
#include "pool.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "heap.h"

namespace pool {
namespace {

// Below this many multiply-adds (~0.1 ms on one core) a kernel stays on its own thread.
constexpr double kMinWork = 3e5;

// One spin-wait iteration: x86's pause hint, else a yield.
inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

int hardwareThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

int fixedThreads = 1;
// The runner's budget for this worker: one int32 in a file the runner rewrites whenever a
// worker starts or stops waiting. Mapped shared, so a rewrite is seen by the next kernel.
const int32_t* budgetSlot = nullptr;

// Helpers started once, on first use, and never stopped; the process's exit ends them. One call
// at a time (kernels run on the JS thread): the caller takes range 0 and helper i range i.
// Between calls a helper spins for a while before it sleeps, and the caller spins for the
// helpers: a kernel lasts 0.1–1 ms, and waking a sleeping thread costs tens of microseconds.
// Each helper watches its own slot, so a call wakes only the helpers it uses.
class Helpers {
 public:
  explicit Helpers(int count) : slots_(count + 1) {
    for (int i = 1; i <= count; i++) std::thread([this, i] { loop(i); }).detach();
  }

  void run(int t, int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
    fn_ = &fn;
    n_ = n;
    t_ = t;
    pending_.store(t - 1, std::memory_order_relaxed);
    generation_++;
    {
      std::lock_guard<std::mutex> lock(mu_);  // a helper about to sleep sees the call or is woken
      for (int i = 1; i < t; i++) slots_[i].call.store(generation_, std::memory_order_release);
    }
    wake_.notify_all();
    fn(0, n / t);
    while (pending_.load(std::memory_order_acquire) != 0) relax();
  }

 private:
  static constexpr int kSpins = 20000;  // ~0.1–0.5 ms of pause hints

  void loop(int id) {
    std::atomic<uint64_t>& call = slots_[id].call;
    uint64_t seen = 0;
    for (;;) {
      for (int i = 0; i < kSpins && call.load(std::memory_order_acquire) == seen; i++) relax();
      if (call.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return call.load(std::memory_order_acquire) != seen; });
      }
      seen = call.load(std::memory_order_acquire);
      (*fn_)(n_ * id / t_, n_ * (id + 1) / t_);
      pending_.fetch_sub(1, std::memory_order_release);
    }
  }

  // One cache line per helper, so that spinning on one slot does not contend with the others.
  struct alignas(64) Slot {
    std::atomic<uint64_t> call{0};
  };
  std::vector<Slot> slots_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<int> pending_{0};
  // The call: written by the caller before it raises the helpers' slots, read by them after.
  uint64_t generation_ = 0;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int t_ = 1;
};

Helpers& helpers() {
  static Helpers* h = new Helpers(hardwareThreads() - 1);  // leaked on purpose: see Helpers
  return *h;
}

}  // namespace

int threads() {
  const int want = budgetSlot ? __atomic_load_n(budgetSlot, __ATOMIC_RELAXED) : fixedThreads;
  const int hw = hardwareThreads();
  return want < 1 ? 1 : want > hw ? hw : want;
}

void parallelFor(int64_t n, double work, const std::function<void(int64_t, int64_t)>& fn) {
  int t = work < kMinWork ? 1 : threads();
  if (t > n) t = static_cast<int>(n);
  if (t <= 1) return fn(0, n);
  helpers().run(t, n, fn);
}

namespace {

// useThreads(n): every kernel may use n threads from now on (benchmarks, tests); replaces a budget file.
napi_value UseThreads(napi_env env, napi_callback_info info) {
  int64_t n;
  napi_value argv[1];
  size_t argc = 1;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 1 || napi_get_value_int64(env, argv[0], &n) != napi_ok || n < 1) return Throw(env, "useThreads: n must be an integer ≥ 1");
  fixedThreads = static_cast<int>(n);
  budgetSlot = nullptr;
  return nullptr;
}

// useThreadBudget(path, slot): read the thread count from int32 number `slot` of the file at `path`.
napi_value UseThreadBudget(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  size_t argc = 2;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  char path[4096];
  size_t pathLen = 0;
  int64_t slot = -1;
  if (argc != 2 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &pathLen) != napi_ok ||
      napi_get_value_int64(env, argv[1], &slot) != napi_ok || slot < 0)
    return Throw(env, "useThreadBudget: expected (path: string, slot: integer ≥ 0)");
  const size_t bytes = static_cast<size_t>(slot + 1) * sizeof(int32_t);
  const int fd = open(path, O_RDONLY);
  if (fd < 0) return Throw(env, (std::string("useThreadBudget: cannot open ") + path).c_str());
  struct stat st;
  const bool big = fstat(fd, &st) == 0 && static_cast<size_t>(st.st_size) >= bytes;
  void* map = big ? mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
  close(fd);
  if (map == MAP_FAILED) return Throw(env, (std::string("useThreadBudget: ") + path + " is too short for slot " + std::to_string(slot)).c_str());
  budgetSlot = static_cast<const int32_t*>(map) + slot;
  return nullptr;
}

napi_value Threads(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_int32(env, threads(), &out);
  return out;
}

}  // namespace

void registerPool(napi_env env, napi_value exports) {
  exportFunctions(env, exports, {{"useThreads", UseThreads}, {"useThreadBudget", UseThreadBudget}, {"threads", Threads}});
}

}  // namespace pool
