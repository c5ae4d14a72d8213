// The native part of @logkit/transport-shm, and all of it: map a file as a
// SharedArrayBuffer, and make a FIFO. The ring itself is TypeScript with
// Atomics (src/ring.ts); this only gives it memory that other processes share.
//
// map(path, size, create) -> SharedArrayBuffer
//   create: O_CREAT|O_EXCL, 0600, its pages reserved with posix_fallocate and
//           pre-faulted, so that writing the ring never page-faults on the
//           producer's log call, and a full tmpfs fails here with ENOSPC (the
//           file is removed) instead of with SIGBUS inside a later write.
//   open:   the file's own size.
//   Both refuse a symlink (O_NOFOLLOW), anything but a regular file, and a file
//   owned by another user. The mapping is unmapped when the buffer is collected.
// create(path, size) -> [SharedArrayBuffer, fd]
//   map(path, size, true) for a producer's ring, with an exclusive flock taken
//   on the new file before anything else and held on the returned fd while
//   the producer runs. The kernel drops the lock when the process dies, in any
//   PID namespace, so the lock (not the pid) says whether the producer lives.
// open(path) -> [SharedArrayBuffer, slot]
//   map(path, 0, false) for the collector, the mapping watched: a file
//   truncated under it (by another process of the user) makes a read past its
//   new end a SIGBUS, which would kill the collector. A SIGBUS handler,
//   installed at the first call, maps a page of zeros over the faulting page
//   of a watched mapping, counts the fault in faults()[slot] and lets the
//   read go on (it reads zeros, which no frame check accepts); the collector
//   sees the count and refuses the ring. No check per read, no fstat per
//   turn, and no window between a check and a read. A fault outside every
//   watched mapping goes to the handler that was there before (by default:
//   the process dies, as without this one). The Wayland compositors guard
//   their clients' shared-memory pools this way. slot is -1 when every slot
//   is taken: the caller then checks the file's size itself.
// faults() -> SharedArrayBuffer
//   One int32 per slot: the faults counted in that slot's mapping.
// lockHeld(fd) -> boolean
//   Whether some process holds the ring's lock (a try of a shared lock).
// mkfifo(path, mode)

#include <node.h>
#include <v8.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <signal.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

namespace {

using v8::BackingStore;
using v8::FunctionCallbackInfo;
using v8::Isolate;
using v8::Array;
using v8::Local;
using v8::SharedArrayBuffer;
using v8::String;
using v8::Value;

// ---- watched mappings (see open above) ----

constexpr int kSlots = 4096;
// [start, end) of each watched mapping; end 0: a free slot. Read by the signal handler, hence atomics.
std::atomic<uintptr_t> slotStart[kSlots];
std::atomic<uintptr_t> slotEnd[kSlots];
alignas(64) int32_t faultCounts[kSlots];
std::mutex slotsLock;  // taking and freeing slots (never in the handler)
struct sigaction previousBus;
std::once_flag busInstalled;
uintptr_t pageSize = 4096;

void OnBus(int sig, siginfo_t* info, void* context) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (int i = 0; i < kSlots; i++) {
    const uintptr_t end = slotEnd[i].load(std::memory_order_acquire);
    if (end == 0 || addr >= end || addr < slotStart[i].load(std::memory_order_acquire)) continue;
    void* page = reinterpret_cast<void*>(addr & ~(pageSize - 1));
    // mmap is async-signal-safe (a system call): zeros, private to this process, in place of the lost page.
    if (mmap(page, pageSize, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
      break;
    __atomic_add_fetch(&faultCounts[i], 1, __ATOMIC_SEQ_CST);
    return;
  }
  // Not a watched mapping: whatever was there before this handler.
  if (previousBus.sa_flags & SA_SIGINFO) {
    if (previousBus.sa_sigaction != nullptr) previousBus.sa_sigaction(sig, info, context);
    return;
  }
  if (previousBus.sa_handler == SIG_DFL || previousBus.sa_handler == SIG_IGN) {
    // Returning runs the faulting access again, which now gets the default action.
    signal(SIGBUS, SIG_DFL);
    return;
  }
  previousBus.sa_handler(sig);
}

void InstallBusHandler() {
  std::call_once(busInstalled, [] {
    const long size = sysconf(_SC_PAGESIZE);
    if (size > 0) pageSize = static_cast<uintptr_t>(size);
    struct sigaction action = {};
    action.sa_sigaction = OnBus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previousBus);
  });
}

/** A slot watching [addr, addr + size), its count at 0; -1 when every slot is taken. */
int Watch(void* addr, size_t size) {
  std::lock_guard<std::mutex> hold(slotsLock);
  for (int i = 0; i < kSlots; i++) {
    if (slotEnd[i].load(std::memory_order_acquire) != 0) continue;
    __atomic_store_n(&faultCounts[i], 0, __ATOMIC_SEQ_CST);
    slotStart[i].store(reinterpret_cast<uintptr_t>(addr), std::memory_order_release);
    slotEnd[i].store(reinterpret_cast<uintptr_t>(addr) + size, std::memory_order_release);
    return i;
  }
  return -1;
}

/** Frees a slot, before its mapping goes: no later fault there is taken for ours. */
void Unwatch(int slot) {
  std::lock_guard<std::mutex> hold(slotsLock);
  slotEnd[slot].store(0, std::memory_order_release);
  slotStart[slot].store(0, std::memory_order_release);
}

void ThrowErrno(Isolate* isolate, int err, const char* syscall, const std::string& path) {
  isolate->ThrowException(node::ErrnoException(isolate, err, syscall, nullptr, path.c_str()));
}

// Opens (or creates) and maps path; on success returns the buffer and, when
// `keepLocked`, leaves the fd open with an exclusive lock in *fdOut.
// With `slotOut`, the mapping is watched (see open above) and its slot stored there.
Local<SharedArrayBuffer> MapFile(Isolate* isolate, const std::string& path, size_t requested, bool create,
                                 bool keepLocked, int* fdOut, int* slotOut = nullptr) {
  int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC;
  if (create) flags |= O_CREAT | O_EXCL;
  const int fd = open(path.c_str(), flags, 0600);
  if (fd < 0) {
    ThrowErrno(isolate, errno, "open", path);
    return Local<SharedArrayBuffer>();
  }
  // Fails the call: closes the fd, removes a file this call created.
  auto fail = [&](int err, const char* syscall) {
    close(fd);
    if (create) unlink(path.c_str());
    ThrowErrno(isolate, err, syscall, path);
    return Local<SharedArrayBuffer>();
  };
  // Locked before the file has a size or a header: no reader ever sees a
  // producer's ring unlocked while the producer lives.
  if (keepLocked && flock(fd, LOCK_EX) != 0) return fail(errno, "flock");
  struct stat st;
  if (fstat(fd, &st) != 0) return fail(errno, "fstat");
  if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
    close(fd);
    ThrowErrno(isolate, EPERM, "open", path);
    return Local<SharedArrayBuffer>();
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (create) {
    size = requested;
    // Reserves the pages: on a full tmpfs this fails now with ENOSPC, where
    // ftruncate would succeed and a later write would die of SIGBUS.
    const int err = posix_fallocate(fd, 0, static_cast<off_t>(size));
    if (err != 0) return fail(err, "posix_fallocate");
  }
  if (size == 0) return fail(EINVAL, "mmap");
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | (create ? MAP_POPULATE : 0), fd, 0);
  if (addr == MAP_FAILED) return fail(errno, "mmap");
  if (keepLocked) *fdOut = fd;
  else close(fd);

  int slot = -1;
  if (slotOut != nullptr) {
    InstallBusHandler();
    slot = Watch(addr, size);
    *slotOut = slot;
  }
  std::shared_ptr<BackingStore> store = SharedArrayBuffer::NewBackingStore(
      addr, size,
      [](void* data, size_t length, void* watched) {
        const int slot = static_cast<int>(reinterpret_cast<intptr_t>(watched)) - 1;
        if (slot >= 0) Unwatch(slot);
        munmap(data, length);
      },
      reinterpret_cast<void*>(static_cast<intptr_t>(slot + 1)));
  return SharedArrayBuffer::New(isolate, std::move(store));
}

bool PathSizeArgs(const FunctionCallbackInfo<Value>& args, int extra, const char* usage) {
  if (args.Length() < 2 + extra || !args[0]->IsString() || !args[1]->IsNumber() ||
      (extra > 0 && !args[2]->IsBoolean())) {
    args.GetIsolate()->ThrowException(
        v8::Exception::TypeError(String::NewFromUtf8(args.GetIsolate(), usage).ToLocalChecked()));
    return false;
  }
  return true;
}

void Map(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (!PathSizeArgs(args, 1, "map(path: string, size: number, create: boolean)")) return;
  String::Utf8Value pathArg(isolate, args[0]);
  const size_t size = static_cast<size_t>(args[1].As<v8::Number>()->Value());
  Local<SharedArrayBuffer> sab = MapFile(isolate, std::string(*pathArg), size, args[2]->IsTrue(), false, nullptr);
  if (!sab.IsEmpty()) args.GetReturnValue().Set(sab);
}

/** Returns [sab, n]. */
void ReturnPair(const FunctionCallbackInfo<Value>& args, Local<SharedArrayBuffer> sab, int n) {
  Isolate* isolate = args.GetIsolate();
  Local<v8::Context> context = isolate->GetCurrentContext();
  Local<Array> out = Array::New(isolate, 2);
  out->Set(context, 0, sab).Check();
  out->Set(context, 1, v8::Integer::New(isolate, n)).Check();
  args.GetReturnValue().Set(out);
}

void Create(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (!PathSizeArgs(args, 0, "create(path: string, size: number)")) return;
  String::Utf8Value pathArg(isolate, args[0]);
  const size_t size = static_cast<size_t>(args[1].As<v8::Number>()->Value());
  int fd = -1;
  Local<SharedArrayBuffer> sab = MapFile(isolate, std::string(*pathArg), size, true, true, &fd);
  if (!sab.IsEmpty()) ReturnPair(args, sab, fd);
}

void Open(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (args.Length() < 1 || !args[0]->IsString()) {
    isolate->ThrowException(v8::Exception::TypeError(String::NewFromUtf8Literal(isolate, "open(path: string)")));
    return;
  }
  String::Utf8Value pathArg(isolate, args[0]);
  int slot = -1;
  Local<SharedArrayBuffer> sab = MapFile(isolate, std::string(*pathArg), 0, false, false, nullptr, &slot);
  if (!sab.IsEmpty()) ReturnPair(args, sab, slot);
}

void Faults(const FunctionCallbackInfo<Value>& args) {
  // The counts themselves, shared: they live as long as the process.
  std::shared_ptr<BackingStore> store = SharedArrayBuffer::NewBackingStore(
      faultCounts, sizeof(faultCounts), [](void*, size_t, void*) {}, nullptr);
  args.GetReturnValue().Set(SharedArrayBuffer::New(args.GetIsolate(), std::move(store)));
}

void LockHeld(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (args.Length() < 1 || !args[0]->IsInt32()) {
    isolate->ThrowException(v8::Exception::TypeError(String::NewFromUtf8Literal(isolate, "lockHeld(fd: number)")));
    return;
  }
  const int fd = args[0].As<v8::Int32>()->Value();
  if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
    flock(fd, LOCK_UN);
    args.GetReturnValue().Set(false);
    return;
  }
  if (errno == EWOULDBLOCK) {
    args.GetReturnValue().Set(true);
    return;
  }
  ThrowErrno(isolate, errno, "flock", "");
}

void MakeFifo(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (args.Length() < 2 || !args[0]->IsString() || !args[1]->IsNumber()) {
    isolate->ThrowException(
        v8::Exception::TypeError(String::NewFromUtf8Literal(isolate, "mkfifo(path: string, mode: number)")));
    return;
  }
  String::Utf8Value pathArg(isolate, args[0]);
  const std::string path(*pathArg);
  const mode_t mode = static_cast<mode_t>(args[1].As<v8::Number>()->Value());
  if (mkfifo(path.c_str(), mode) != 0) return ThrowErrno(isolate, errno, "mkfifo", path);
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  NODE_SET_METHOD(exports, "map", Map);
  NODE_SET_METHOD(exports, "create", Create);
  NODE_SET_METHOD(exports, "open", Open);
  NODE_SET_METHOD(exports, "faults", Faults);
  NODE_SET_METHOD(exports, "lockHeld", LockHeld);
  NODE_SET_METHOD(exports, "mkfifo", MakeFifo);
}
