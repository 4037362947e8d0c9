// The direct-link mesh of a peer-assisted room: which pairs of members link directly, each member in at most `maxMesh` pairs.

/**
 * Decides which pairs of members open a direct link. A joining member is paired with the earliest
 * members that still have room (both ends below `maxMesh`); when a member leaves, its pairs go and the
 * freed slots are filled again in join order. Every other pair talks through the server's relay.
 */
export class Mesh {
  private readonly links = new Map<string, Set<string>>();

  constructor(private readonly maxMesh: number) {}

  has(id: string): boolean {
    return this.links.has(id);
  }

  /** True when `a` and `b` are to link directly. */
  linked(a: string, b: string): boolean {
    return this.links.get(a)?.has(b) ?? false;
  }

  /** The members `id` links to directly. */
  direct(id: string): string[] {
    return [...(this.links.get(id) ?? [])];
  }

  /** Adds a member; returns the members whose direct set changed (the newcomer first). */
  add(id: string): string[] {
    if (this.links.has(id)) return [];
    const own = new Set<string>();
    this.links.set(id, own);
    const changed = [id];
    for (const [other, set] of this.links) {
      if (other === id || own.size >= this.maxMesh) continue;
      if (set.size >= this.maxMesh) continue;
      own.add(other);
      set.add(id);
      changed.push(other);
    }
    return changed;
  }

  /** Removes a member; returns the members whose direct set changed. */
  remove(id: string): string[] {
    const own = this.links.get(id);
    if (!own) return [];
    this.links.delete(id);
    const changed = new Set<string>();
    for (const other of own) {
      this.links.get(other)?.delete(id);
      changed.add(other);
    }
    const ids = [...this.links.keys()];
    for (let i = 0; i < ids.length; i++) {
      const a = this.links.get(ids[i]) as Set<string>;
      for (let j = i + 1; j < ids.length && a.size < this.maxMesh; j++) {
        const b = this.links.get(ids[j]) as Set<string>;
        if (b.size >= this.maxMesh || a.has(ids[j])) continue;
        a.add(ids[j]);
        b.add(ids[i]);
        changed.add(ids[i]);
        changed.add(ids[j]);
      }
    }
    return [...changed];
  }
}
