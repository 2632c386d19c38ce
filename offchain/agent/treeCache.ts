/** A least-recently-used cache of built piece trees, bounded by an estimate of their memory. */
import { LEAF_SIZE, type PieceTree } from "../sdk/commitment/merkle.js";

/** Bytes a built tree holds: the piece itself plus about one padded piece of hash levels. */
export function treeCost(tree: PieceTree): number {
  return tree.size + LEAF_SIZE * 2 ** tree.depth;
}

export class TreeCache {
  private readonly entries = new Map<string, { tree: PieceTree; cost: number }>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  get(root: string): PieceTree | undefined {
    const key = root.toLowerCase();
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.tree;
  }

  /** Keep `tree` unless it alone exceeds the budget; evicts the least recently used trees to fit. */
  set(root: string, tree: PieceTree): void {
    const key = root.toLowerCase();
    this.delete(key);
    const cost = treeCost(tree);
    if (cost > this.maxBytes) return;
    this.entries.set(key, { tree, cost });
    this.total += cost;
    for (const [oldest, entry] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.total -= entry.cost;
    }
  }

  delete(root: string): void {
    const key = root.toLowerCase();
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.total -= entry.cost;
  }

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }
}
