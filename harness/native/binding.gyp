{
  "targets": [
    {
      "target_name": "mbb_kernels",
      "sources": ["kernels.cc", "fused.cc", "attention.cc"],
      "cflags_cc": ["-O3", "-march=native", "-mprefer-vector-width=512", "-fno-math-errno"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
