{
  "targets": [
    {
      "target_name": "mbb_kernels",
      "sources": ["kernels.cc", "fused.cc", "attention.cc", "pool.cc"],
      "cflags_cc": ["-O3", "-march=native", "-mprefer-vector-width=512", "-fno-math-errno", "-pthread"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
