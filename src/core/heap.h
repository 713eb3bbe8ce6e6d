// The process's malloc heap: how many arenas glibc spreads it over.
#pragma once

namespace esp::core {

// At most `arenas` malloc arenas for the whole process; glibc otherwise makes up to eight
// per core, one for each new thread. A big generation's hundreds of thousands of small
// allocations (ids, metrics, texts), made on some threads and freed on others, left pages
// in many arenas that no trim could return: between P=100,000 generations espd's RSS
// rose from about 160 to 440 MiB over 16 generations, and stayed at 200-230 MiB with two
// arenas, at the same speed. Called before the threads start; later ones share them.
void limit_heap_arenas(int arenas);

}  // namespace esp::core
