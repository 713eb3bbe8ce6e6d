// Hot loops are compiled once per vector width and picked at load time by the CPU's features.
// Only loops whose results cannot depend on the width may carry this: integer and bit
// operations, and exactly rounded float operations compiled without contraction.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define ESP_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define ESP_VECTOR_CLONES
#endif
