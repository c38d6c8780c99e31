// Per-constructor diff of two V8 heap snapshots (count and self size), largest growth
// first: where the bytes of N idle connections go. Usage: node heap-diff.mjs A B [N]
import { readFileSync } from "node:fs";

function tally(file) {
  const snap = JSON.parse(readFileSync(file, "utf8"));
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [it, iname, isize] = [f.indexOf("type"), f.indexOf("name"), f.indexOf("self_size")];
  const byName = new Map();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const key = `${types[snap.nodes[i + it]]}:${snap.strings[snap.nodes[i + iname]].slice(0, 60)}`;
    const e = byName.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += snap.nodes[i + isize];
    byName.set(key, e);
  }
  return byName;
}
const [a, b] = [tally(process.argv[2]), tally(process.argv[3])];
const n = Number(process.argv[4] ?? 1);
const rows = [];
for (const [k, v] of b) {
  const o = a.get(k) ?? { count: 0, size: 0 };
  rows.push({ k, dc: v.count - o.count, ds: v.size - o.size });
}
rows.sort((x, y) => y.ds - x.ds);
let total = 0;
for (const r of rows) total += r.ds;
console.log(`total growth ${total} B, ${(total / n).toFixed(0)} B per connection`);
for (const r of rows.slice(0, 40))
  console.log(
    `${(r.ds / n).toFixed(1).padStart(8)} B/conn ${(r.dc / n).toFixed(2).padStart(6)} obj/conn  ${r.k}`,
  );
