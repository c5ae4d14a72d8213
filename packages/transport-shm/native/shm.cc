// The native part of @logkit/transport-shm, and all of it: map a file as a
// SharedArrayBuffer, and make a FIFO. The ring itself is TypeScript with
// Atomics (src/ring.ts); this only gives it memory that other processes share.
//
// map(path, size, create) -> SharedArrayBuffer
//   create: O_CREAT|O_EXCL, 0600, sized with ftruncate and pre-faulted, so that
//           writing the ring never page-faults on the producer's log call.
//   open:   the file's own size.
//   Both refuse a symlink (O_NOFOLLOW), anything but a regular file, and a file
//   owned by another user. The mapping is unmapped when the buffer is collected.
// mkfifo(path, mode)

#include <node.h>
#include <v8.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

namespace {

using v8::BackingStore;
using v8::FunctionCallbackInfo;
using v8::Isolate;
using v8::Local;
using v8::SharedArrayBuffer;
using v8::String;
using v8::Value;

void ThrowErrno(Isolate* isolate, int err, const char* syscall, const std::string& path) {
  isolate->ThrowException(node::ErrnoException(isolate, err, syscall, nullptr, path.c_str()));
}

void Map(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (args.Length() < 3 || !args[0]->IsString() || !args[1]->IsNumber() || !args[2]->IsBoolean()) {
    isolate->ThrowException(v8::Exception::TypeError(
        String::NewFromUtf8Literal(isolate, "map(path: string, size: number, create: boolean)")));
    return;
  }
  String::Utf8Value pathArg(isolate, args[0]);
  const std::string path(*pathArg);
  const double requested = args[1].As<v8::Number>()->Value();
  const bool create = args[2]->IsTrue();

  int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC;
  if (create) flags |= O_CREAT | O_EXCL;
  const int fd = open(path.c_str(), flags, 0600);
  if (fd < 0) return ThrowErrno(isolate, errno, "open", path);

  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return ThrowErrno(isolate, err, "fstat", path);
  }
  if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
    close(fd);
    return ThrowErrno(isolate, EPERM, "open", path);
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (create) {
    size = static_cast<size_t>(requested);
    if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
      const int err = errno;
      close(fd);
      unlink(path.c_str());
      return ThrowErrno(isolate, err, "ftruncate", path);
    }
  }
  if (size == 0) {
    close(fd);
    return ThrowErrno(isolate, EINVAL, "mmap", path);
  }
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | (create ? MAP_POPULATE : 0), fd, 0);
  const int err = errno;
  close(fd);
  if (addr == MAP_FAILED) return ThrowErrno(isolate, err, "mmap", path);

  std::shared_ptr<BackingStore> store = SharedArrayBuffer::NewBackingStore(
      addr, size, [](void* data, size_t length, void*) { munmap(data, length); }, nullptr);
  args.GetReturnValue().Set(SharedArrayBuffer::New(isolate, std::move(store)));
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
  NODE_SET_METHOD(exports, "mkfifo", MakeFifo);
}
