/** A node of a `LinkedList`: the object is its own entry. */
export interface Linked<T> {
  prev: T | null;
  next: T | null;
}

/**
 * A doubly linked list whose nodes are the objects themselves: appending and removing any node
 * cost a few pointer writes, with nothing looked up and nothing allocated. For what the request
 * path takes and gives back once per request (a concurrency slot, a reservation): a map keyed by
 * request id does the same, but rebuilds its table every few dozen requests as entries come and
 * go, and a long-lived map's new table is allocated in the old generation.
 */
export class LinkedList<T extends Linked<T>> {
  first: T | null = null;
  last: T | null = null;
  size = 0;

  append(node: T): void {
    node.prev = this.last;
    node.next = null;
    if (this.last) this.last.next = node;
    else this.first = node;
    this.last = node;
    this.size++;
  }

  /** Unlinks `node`, which must be in this list. */
  remove(node: T): void {
    if (node.prev) node.prev.next = node.next;
    else this.first = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.last = node.prev;
    node.prev = node.next = null;
    this.size--;
  }
}
