# nodelete: a worker thread that mapped a ring (pino's transport worker) may exit
# before its rings are unmapped; the unmapping runs this library's code, so it
# must stay loaded (without it the process died of SIGSEGV at exit).
{
  "targets": [
    {
      "target_name": "logkit_shm",
      "sources": ["native/shm.cc"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-cast-function-type"],
      "ldflags": ["-Wl,-z,nodelete"]
    }
  ]
}
