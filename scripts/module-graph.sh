#!/usr/bin/env bash
# The library's top-level module graph as the compiler sees it (cargo-modules), and a
# non-zero exit when it has a cycle. cargo-modules' own --acyclic works on items, and an
# impl whose methods return Self already counts there as a cycle; so the "uses" edges are
# collapsed onto the top-level modules here and the cycle check is made on those.
# Needs: cargo install cargo-modules --version 0.27.0 --locked   (0.27 builds on Rust 1.95)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo modules dependencies --lib --no-externs --no-sysroot --no-fns --no-traits --no-types --layout dot 2>/dev/null |
python3 -c '
import re, sys, collections
graph = collections.defaultdict(set)
for line in sys.stdin:
    m = re.match(r"\s*\"fpgen::(\w+)[^\"]*\" -> \"fpgen::(\w+)[^\"]*\" \[label=\"uses\"", line)
    if m and m.group(1) != m.group(2):
        graph[m.group(1)].add(m.group(2))
for module in sorted(graph):
    print(module, "->", ", ".join(sorted(graph[module])))
state, cycles = {}, []
def visit(u, path):
    state[u] = 1
    for v in sorted(graph[u]):
        if state.get(v) == 1:
            cycles.append(path + [u, v])
        elif not state.get(v):
            visit(v, path + [u])
    state[u] = 2
for u in sorted(graph):
    if not state.get(u):
        visit(u, [])
for c in cycles:
    print("cycle:", " -> ".join(c))
sys.exit(1 if cycles else 0)
'
