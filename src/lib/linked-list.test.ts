import { describe, expect, it } from "vitest";
import { LinkedList } from "./linked-list.js";

class Node {
  prev: Node | null = null;
  next: Node | null = null;
  constructor(readonly n: number) {}
}

const walk = (list: LinkedList<Node>) => {
  const forward: number[] = [];
  for (let x = list.first; x; x = x.next) forward.push(x.n);
  const back: number[] = [];
  for (let x = list.last; x; x = x.prev) back.push(x.n);
  expect(back.reverse(), "the links agree both ways").toEqual(forward);
  expect(list.size).toBe(forward.length);
  return forward;
};

describe("LinkedList", () => {
  it("removes the first, the last and one in the middle, and appends again after emptying", () => {
    const list = new LinkedList<Node>();
    const nodes = [1, 2, 3, 4, 5].map((n) => new Node(n));
    for (const x of nodes) list.append(x);
    expect(walk(list)).toEqual([1, 2, 3, 4, 5]);
    list.remove(nodes[0]!);
    list.remove(nodes[4]!);
    list.remove(nodes[2]!);
    expect(walk(list)).toEqual([2, 4]);
    expect(nodes[2]!.prev ?? nodes[2]!.next, "a removed node keeps no links").toBeNull();
    list.remove(nodes[1]!);
    list.remove(nodes[3]!);
    expect(walk(list)).toEqual([]);
    expect([list.first, list.last]).toEqual([null, null]);
    list.append(nodes[2]!);
    list.append(nodes[0]!);
    expect(walk(list)).toEqual([3, 1]);
  });
});
