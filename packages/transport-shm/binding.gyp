{
  "targets": [
    {
      "target_name": "logkit_shm",
      "sources": ["native/shm.cc"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-cast-function-type"]
    }
  ]
}
