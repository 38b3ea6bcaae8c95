/**
 * A min-heap of items by due time, drained by one timer: the simulator's single schedule for
 * every receipt (and every receipt re-send), instead of one setTimeout per message. Items pushed
 * in due order (the common case: one fixed receipt delay) cost O(log n) with tiny constants.
 */
export interface DueItem {
  dueAt: number;
}

export class DueQueue<T extends DueItem> {
  private readonly heap: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;

  /**
   * @param onDue called with every item whose time has come, in due order, in one batch per tick
   * @param minTickMs the timer never fires more often than this (batches many items per tick)
   */
  constructor(
    private readonly onDue: (items: T[], now: number) => void,
    private readonly minTickMs = 5,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  push(item: T): void {
    if (this.stopped) return;
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as T;
      if (p.dueAt <= item.dueAt) break;
      h[i] = p;
      i = parent;
    }
    h[i] = item;
    if (i === 0) this.arm(item.dueAt);
  }

  /** Removes and returns every item (e.g. on close). */
  drainAll(): T[] {
    const all = this.heap.splice(0);
    this.disarm();
    return all;
  }

  stop(): void {
    this.stopped = true;
    this.drainAll();
  }

  private pop(): T | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (h[r] as T).dueAt < (h[l] as T).dueAt ? r : l;
      const child = h[c] as T;
      if (last.dueAt <= child.dueAt) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
    return top;
  }

  private arm(dueAt: number): void {
    if (this.stopped) return;
    const at = Math.max(dueAt, Date.now() + this.minTickMs);
    if (this.timer !== undefined && this.timerAt <= at) return;
    this.disarm();
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.fire();
    }, Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private fire(): void {
    const now = Date.now();
    const due: T[] = [];
    while (this.heap.length > 0 && (this.heap[0] as T).dueAt <= now) due.push(this.pop() as T);
    const next = this.heap[0];
    if (next !== undefined) this.arm(next.dueAt);
    if (due.length > 0) this.onDue(due, now);
  }
}

/** A FIFO with O(1) push and shift (Array#shift is O(n) on large arrays). */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Puts an item back at the front (it could not go after all). */
  unshift(item: T): void {
    if (this.head > 0) {
      this.head--;
      this.items[this.head] = item;
    } else {
      this.items.unshift(item);
    }
  }
}
