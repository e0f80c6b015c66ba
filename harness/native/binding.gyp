{
  "targets": [
    {
      "target_name": "mbb_kernels",
      "sources": ["kernels.cc", "fused.cc"],
      "cflags_cc": ["-O3", "-march=native", "-fno-math-errno"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
