#include "core/heap.h"

#include <malloc.h>

namespace esp::core {

void limit_heap_arenas(int arenas) {
  mallopt(M_ARENA_MAX, arenas);  // advisory: a heap of more arenas only costs memory
}

}  // namespace esp::core
