{
  "targets": [
    {
      "target_name": "logkit_wire",
      "sources": ["native/wire.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-O3", "-Wall", "-Wextra"]
    }
  ]
}
