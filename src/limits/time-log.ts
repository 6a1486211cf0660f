/**
 * A sliding log's entries — a time and, optionally, an amount — in typed arrays used as a queue:
 * appended at the tail, dropped from the head as they leave the window. An entry keeps its
 * absolute index while it is queued, so a later correction (a settle) finds it.
 *
 * Typed arrays rather than JavaScript arrays: a busy key holds a minute of requests, hundreds of
 * thousands of entries. Outside the JavaScript heap they cost the collector nothing, and the
 * queue's memory is exactly what it holds, give or take a factor of two (it grows by doubling and
 * gives memory back when it has emptied to a quarter).
 */
export class TimeLog {
  private at: Float64Array;
  private amounts: Float64Array | null;
  private head = 0;
  private tail = 0;
  /** Entries dropped from the front so far: absolute index = base + position. */
  private base = 0;
  private total = 0;

  constructor(withAmounts: boolean) {
    this.at = new Float64Array(MIN_CAPACITY);
    this.amounts = withAmounts ? new Float64Array(MIN_CAPACITY) : null;
  }

  /** The sum of the queued entries' amounts. */
  get sum(): number {
    return this.total;
  }

  get size(): number {
    return this.tail - this.head;
  }

  /** The time of the entry `k` places from the oldest. */
  timeAt(k: number): number {
    return this.at[this.head + k]!;
  }

  /** The amount of the entry `k` places from the oldest. */
  amountAt(k: number): number {
    return this.amounts ? this.amounts[this.head + k]! : 0;
  }

  /** Appends an entry; returns its absolute index. */
  push(time: number, amount = 0): number {
    if (this.tail === this.at.length) this.makeRoom();
    this.at[this.tail] = time;
    if (this.amounts) {
      this.amounts[this.tail] = amount;
      this.total += amount;
    }
    return this.base + this.tail++;
  }

  /** Drops the entries at or before `cut`. */
  expire(cut: number): void {
    const at = this.at;
    let h = this.head;
    if (this.amounts) {
      while (h < this.tail && at[h]! <= cut) this.total -= this.amounts[h++]!;
    } else {
      while (h < this.tail && at[h]! <= cut) h++;
    }
    this.head = h;
    if (this.head === this.tail) {
      this.base += this.head;
      this.head = this.tail = 0;
    }
    if (this.at.length > SHRINK_ABOVE && this.size * 4 < this.at.length) this.resize(this.at.length / 2);
  }

  /** Sets the amount of the entry at absolute index `abs` if it is still queued and later than `cut`. */
  correct(abs: number, amount: number, cut: number): void {
    const i = abs - this.base;
    if (!this.amounts || i < this.head || i >= this.tail || this.at[i]! <= cut) return;
    this.total += amount - this.amounts[i]!;
    this.amounts[i] = amount;
  }

  private makeRoom(): void {
    // Mostly drained: slide the entries to the front; otherwise double.
    if (this.head * 2 >= this.at.length) this.resize(this.at.length);
    else this.resize(this.at.length * 2);
  }

  /** Moves the queued entries to the front of arrays of `capacity` (at least the entries' count). */
  private resize(capacity: number): void {
    const n = this.size;
    const size = Math.max(MIN_CAPACITY, capacity, n);
    const move = (from: Float64Array): Float64Array => {
      if (size === from.length) {
        from.copyWithin(0, this.head, this.tail);
        return from;
      }
      const to = new Float64Array(size);
      to.set(from.subarray(this.head, this.tail));
      return to;
    };
    this.at = move(this.at);
    if (this.amounts) this.amounts = move(this.amounts);
    this.base += this.head;
    this.head = 0;
    this.tail = n;
  }
}

const MIN_CAPACITY = 64;
const SHRINK_ABOVE = 4096;
