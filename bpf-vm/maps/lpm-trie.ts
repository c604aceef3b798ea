// BPF_MAP_TYPE_LPM_TRIE (kernel/bpf/lpm_trie.c) in shared memory: longest-prefix match over keys
// struct bpf_lpm_trie_key_u8 { u32 prefixlen; u8 data[]; } (prefixlen host-endian, data in
// network order, compared bit by bit from the most significant bit of data[0]).
//
// The structure is the kernel's: a binary trie whose nodes each hold a prefix (prefixlen bits of
// data). A node is a real entry or an intermediate node (LPM_TREE_NODE_FLAG_IM) that only joins
// two subtrees and always has two children. Updates, deletes, lookups and get_next_key follow
// trie_update_elem, trie_delete_elem, trie_lookup_elem and trie_get_next_key step by step, so the
// errnos and the iteration order (post-order, leftmost first: longer prefixes before the prefix
// that contains them) are the kernel's. A node keeps the key's data bytes as given, bits past the
// prefix included, as the kernel's memcpy does.
//
// Layout. buffers[0] holds only values: node n's value at n * round_up(value_size, 8), fixed for
// the node's life. buffers[1] holds an Int32 header and per node {child0, child1, prefixlen,
// flags}, then a free ring of node numbers, then the nodes' data bytes. Nodes: 2 * max_entries +
// spares (an entry and at most one intermediate node per entry, plus the replacement node an
// update allocates before it frees the old one).
//
// Concurrency, as hash.ts: writers (update, delete, from programs or user space) serialise on one
// Atomics lock; readers (lookups) take no lock, like the kernel's RCU readers. A node is filled
// before an Atomics.store of the pointer that publishes it; an update never writes a value in
// place but links a new node in place of the old one, so a reader sees the old value or the new.
// Freed nodes return to the back of a FIFO ring and are reused as late as possible (the grace
// period, as in hash.ts). A reader's walk is bounded by max_prefixlen + 1 steps whatever it meets.
//
// Differences from the kernel: max_entries nodes are reserved up front (the kernel allocates nodes
// on demand, BPF_F_NO_PREALLOC being mandatory), and the whole map takes one lock.
import { BPF_UPDATE, type BpfMap, type MapSpec } from './map.ts';
import type { SharedMapState } from './shared.ts';
import { BpfError } from '../errors.ts';
import { LOCK_TIMEOUT_MS, lockAcquire, lockRelease } from './lock.ts';
import { EBUSY, EEXIST, EFAULT, EINVAL, ENOENT, allocShared, checkShared, copyBytes, readU32, roundUp8 } from './mem.ts';
import { ERRNO } from '../errno.ts';

const { BPF_NOEXIST, BPF_EXIST } = BPF_UPDATE;
const ENOSPC = -ERRNO.ENOSPC;

/** sizeof(struct bpf_lpm_trie_key_u8) before data, and the data size bounds (LPM_DATA_SIZE_MIN/MAX). */
export const LPM_KEY_HEADER = 4;
export const LPM_DATA_SIZE_MIN = 1;
export const LPM_DATA_SIZE_MAX = 256;

const H_LOCK = 0;
const H_COUNT = 1;
const H_ROOT = 2;
const H_FREE_HEAD = 3;
const H_FREE_LEN = 4;
const H_MAGIC = 5;
const H_NNODES = 6;
const HEADER = 16;
const MAGIC = 0x6c706d74; // 'lpmt'
const NIL = -1;
const SPARE = 4;
/** Node flags. */
const FLAG_IM = 1;

const C0 = 0;
const PLEN = 2;
const FLAGS = 3;
const NODE_WORDS = 4;

export interface LpmGeometry {
  nNodes: number;
  dataSize: number;
  valuesBytes: number;
  metaBytes: number;
}

export function lpmGeometry(spec: MapSpec): LpmGeometry {
  const nNodes = 2 * spec.maxEntries + SPARE;
  const dataSize = spec.keySize - LPM_KEY_HEADER;
  const words = HEADER + nNodes * (NODE_WORDS + 1);
  return {
    nNodes,
    dataSize,
    valuesBytes: nNodes * roundUp8(spec.valueSize),
    metaBytes: words * 4 + roundUp8(nNodes * dataSize),
  };
}

export class LpmTrieMap implements BpfMap {
  readonly spec: MapSpec;
  readonly values: Uint8Array;
  private readonly meta: Int32Array;
  /** Node data bytes: node n's at n * dataSize. */
  private readonly data: Uint8Array;
  private readonly nrCpus: number;
  private readonly nNodes: number;
  private readonly dataSize: number;
  private readonly maxPrefixlen: number;
  private readonly valueSize: number;
  private readonly elemSize: number;
  private readonly maxEntries: number;
  private readonly nodesBase: number;
  private readonly freeBase: number;

  static create(spec: MapSpec, nrCpus: number): LpmTrieMap {
    const g = lpmGeometry(spec);
    const values = allocShared(g.valuesBytes, `lpm trie ${spec.name} values`);
    const metaBuf = allocShared(g.metaBytes, `lpm trie ${spec.name} nodes`);
    const meta = new Int32Array(metaBuf, 0, HEADER + g.nNodes * (NODE_WORDS + 1));
    meta[H_ROOT] = NIL;
    meta[H_NNODES] = g.nNodes;
    const freeBase = HEADER + g.nNodes * NODE_WORDS;
    for (let n = 0; n < g.nNodes; n++) meta[freeBase + n] = n;
    meta[H_FREE_LEN] = g.nNodes;
    Atomics.store(meta, H_MAGIC, MAGIC);
    return new LpmTrieMap(spec, nrCpus, [values, metaBuf]);
  }

  static open(state: SharedMapState): LpmTrieMap {
    return new LpmTrieMap(state.spec, state.nrCpus, state.buffers);
  }

  private constructor(spec: MapSpec, nrCpus: number, buffers: SharedArrayBuffer[]) {
    const g = lpmGeometry(spec);
    const what = `lpm trie ${spec.name}`;
    this.spec = spec;
    this.nrCpus = nrCpus;
    this.values = new Uint8Array(checkShared(buffers[0], g.valuesBytes, what), 0, g.valuesBytes);
    const metaBuf = checkShared(buffers[1], g.metaBytes, what);
    const words = HEADER + g.nNodes * (NODE_WORDS + 1);
    this.meta = new Int32Array(metaBuf, 0, words);
    this.data = new Uint8Array(metaBuf, words * 4, g.nNodes * g.dataSize);
    if (Atomics.load(this.meta, H_MAGIC) !== MAGIC || this.meta[H_NNODES] !== g.nNodes) {
      throw new BpfError('EINVAL', `${what}: shared state does not match the spec (max_entries ${spec.maxEntries})`);
    }
    this.nNodes = g.nNodes;
    this.dataSize = g.dataSize;
    this.maxPrefixlen = g.dataSize * 8;
    this.valueSize = spec.valueSize;
    this.elemSize = roundUp8(spec.valueSize);
    this.maxEntries = spec.maxEntries;
    this.nodesBase = HEADER;
    this.freeBase = HEADER + g.nNodes * NODE_WORDS;
  }

  // --- bits ---

  /** extract_bit: bit `index` of a byte string, most significant bit of byte 0 first. */
  private static bit(bytes: Uint8Array, off: number, index: number): number {
    return (bytes[off + (index >>> 3)]! >>> (7 - (index & 7))) & 1;
  }

  /**
   * longest_prefix_match: how many leading bits node n and the key (data at keyData, prefix
   * keyPlen) share, up to the shorter of their prefixes.
   */
  private matchLen(n: number, key: Uint8Array, keyData: number, keyPlen: number, nodePlen: number): number {
    const limit = Math.min(nodePlen, keyPlen);
    const d = this.data;
    const nOff = n * this.dataSize;
    let bits = 0;
    for (let i = 0; bits < limit; i++) {
      const diff = d[nOff + i]! ^ key[keyData + i]!;
      if (diff !== 0) {
        bits += Math.clz32(diff) - 24;
        break;
      }
      bits += 8;
    }
    return Math.min(bits, limit);
  }

  private child(n: number, bit: number): number {
    return this.meta[this.nodesBase + n * NODE_WORDS + C0 + bit]!;
  }

  private childSlot(n: number, bit: number): number {
    return this.nodesBase + n * NODE_WORDS + C0 + bit;
  }

  private plen(n: number): number {
    return this.meta[this.nodesBase + n * NODE_WORDS + PLEN]!;
  }

  private isIm(n: number): boolean {
    return (this.meta[this.nodesBase + n * NODE_WORDS + FLAGS]! & FLAG_IM) !== 0;
  }

  // --- readers ---

  /** trie_lookup_elem: the value of the longest prefix matching the key, or -1. */
  lookupValueOffset(key: Uint8Array, keyOff: number, _cpu: number): number {
    if (keyOff + this.spec.keySize > key.length) return -1;
    const n = this.lookupNode(key, keyOff);
    return n < 0 ? -1 : n * this.elemSize;
  }

  private lookupNode(key: Uint8Array, keyOff: number): number {
    const keyPlen = readU32(key, keyOff);
    if (keyPlen > this.maxPrefixlen) return NIL;
    const m = this.meta;
    const keyData = keyOff + LPM_KEY_HEADER;
    let found = NIL;
    let n = Atomics.load(m, H_ROOT);
    for (let steps = 0; n >= 0 && n < this.nNodes && steps <= this.maxPrefixlen; steps++) {
      const nodePlen = this.plen(n);
      const matchlen = this.matchLen(n, key, keyData, keyPlen, nodePlen);
      if (matchlen === this.maxPrefixlen) {
        found = n;
        break;
      }
      if (matchlen < nodePlen) break;
      if (!this.isIm(n)) found = n;
      if (nodePlen >= this.maxPrefixlen) break;
      n = this.child(n, LpmTrieMap.bit(key, keyData, nodePlen));
    }
    return found;
  }

  // --- writers (lock held) ---

  private allocNode(plen: number, flags: number, key: Uint8Array, dataOff: number): number {
    const m = this.meta;
    const head = m[H_FREE_HEAD]!;
    const n = m[this.freeBase + head]!;
    m[H_FREE_HEAD] = head + 1 === this.nNodes ? 0 : head + 1;
    m[H_FREE_LEN] = m[H_FREE_LEN]! - 1;
    const b = this.nodesBase + n * NODE_WORDS;
    m[b + C0] = NIL;
    m[b + C0 + 1] = NIL;
    m[b + PLEN] = plen;
    m[b + FLAGS] = flags;
    copyBytes(this.data, n * this.dataSize, key, dataOff, this.dataSize);
    return n;
  }

  private freeNode(n: number): void {
    const m = this.meta;
    const len = m[H_FREE_LEN]!;
    let tail = m[H_FREE_HEAD]! + len;
    if (tail >= this.nNodes) tail -= this.nNodes;
    m[this.freeBase + tail] = n;
    m[H_FREE_LEN] = len + 1;
  }

  /** trie_check_add_elem: a new entry needs a missing key under BPF_EXIST and room. */
  private checkAdd(flags: number): number {
    if (flags === BPF_EXIST) return ENOENT;
    if (this.meta[H_COUNT]! >= this.maxEntries) return ENOSPC;
    this.meta[H_COUNT] = this.meta[H_COUNT]! + 1;
    return 0;
  }

  updateElem(key: Uint8Array, keyOff: number, value: Uint8Array, valueOff: number, flags: number, _cpu: number): number {
    if (keyOff + this.spec.keySize > key.length || valueOff + this.valueSize > value.length) return EFAULT;
    if (flags !== flags >>> 0 || flags > BPF_EXIST) return EINVAL;
    const keyPlen = readU32(key, keyOff);
    if (keyPlen > this.maxPrefixlen) return EINVAL;
    const m = this.meta;
    if (!lockAcquire(m, H_LOCK)) return EBUSY;
    const err = this.updateLocked(key, keyOff, keyPlen, value, valueOff, flags);
    lockRelease(m, H_LOCK);
    return err;
  }

  private updateLocked(key: Uint8Array, keyOff: number, keyPlen: number, value: Uint8Array, valueOff: number, flags: number): number {
    const m = this.meta;
    const keyData = keyOff + LPM_KEY_HEADER;
    // Find the slot to attach the new node.
    let slot = H_ROOT;
    let node = m[slot]!;
    let matchlen = 0;
    while (node >= 0) {
      const nodePlen = this.plen(node);
      matchlen = this.matchLen(node, key, keyData, keyPlen, nodePlen);
      if (nodePlen !== matchlen || nodePlen === keyPlen) break;
      slot = this.childSlot(node, LpmTrieMap.bit(key, keyData, nodePlen));
      node = m[slot]!;
    }
    const newNode = (): number => {
      const n = this.allocNode(keyPlen, 0, key, keyData);
      copyBytes(this.values, n * this.elemSize, value, valueOff, this.valueSize);
      return n;
    };
    // An empty slot: the new node goes there.
    if (node < 0) {
      const err = this.checkAdd(flags);
      if (err !== 0) return err;
      Atomics.store(m, slot, newNode());
      return 0;
    }
    const nodePlen = this.plen(node);
    // The same prefix: replace the node (a real one) or fill in an intermediate one.
    if (nodePlen === matchlen) {
      if (!this.isIm(node)) {
        if (flags === BPF_NOEXIST) return EEXIST;
      } else {
        const err = this.checkAdd(flags);
        if (err !== 0) return err;
      }
      const n = newNode();
      m[this.childSlot(n, 0)] = this.child(node, 0);
      m[this.childSlot(n, 1)] = this.child(node, 1);
      Atomics.store(m, slot, n);
      this.freeNode(node);
      return 0;
    }
    const err = this.checkAdd(flags);
    if (err !== 0) return err;
    // The new prefix contains the node's: the new node becomes its parent.
    if (matchlen === keyPlen) {
      const n = newNode();
      m[this.childSlot(n, LpmTrieMap.bit(this.data, node * this.dataSize, matchlen))] = node;
      Atomics.store(m, slot, n);
      return 0;
    }
    // They diverge at bit matchlen: an intermediate node joins them.
    const n = newNode();
    const im = this.allocNode(matchlen, FLAG_IM, this.data, node * this.dataSize);
    if (LpmTrieMap.bit(key, keyData, matchlen)) {
      m[this.childSlot(im, 0)] = node;
      m[this.childSlot(im, 1)] = n;
    } else {
      m[this.childSlot(im, 0)] = n;
      m[this.childSlot(im, 1)] = node;
    }
    Atomics.store(m, slot, im);
    return 0;
  }

  deleteElem(key: Uint8Array, keyOff: number): number {
    if (keyOff + this.spec.keySize > key.length) return EFAULT;
    const keyPlen = readU32(key, keyOff);
    if (keyPlen > this.maxPrefixlen) return EINVAL;
    const m = this.meta;
    if (!lockAcquire(m, H_LOCK)) return EBUSY;
    const err = this.deleteLocked(key, keyOff + LPM_KEY_HEADER, keyPlen);
    lockRelease(m, H_LOCK);
    return err;
  }

  private deleteLocked(key: Uint8Array, keyData: number, keyPlen: number): number {
    const m = this.meta;
    let trim = H_ROOT;
    let trim2 = trim;
    let parent = NIL;
    let node = m[trim]!;
    let matchlen = 0;
    while (node >= 0) {
      const nodePlen = this.plen(node);
      matchlen = this.matchLen(node, key, keyData, keyPlen, nodePlen);
      if (nodePlen !== matchlen || nodePlen === keyPlen) break;
      parent = node;
      trim2 = trim;
      trim = this.childSlot(node, LpmTrieMap.bit(key, keyData, nodePlen));
      node = m[trim]!;
    }
    if (node < 0 || this.plen(node) !== keyPlen || this.plen(node) !== matchlen || this.isIm(node)) return ENOENT;
    m[H_COUNT] = m[H_COUNT]! - 1;
    const c0 = this.child(node, 0);
    const c1 = this.child(node, 1);
    // Two children: the node stays, as an intermediate one.
    if (c0 >= 0 && c1 >= 0) {
      Atomics.store(m, this.nodesBase + node * NODE_WORDS + FLAGS, FLAG_IM);
      return 0;
    }
    // A leaf under an intermediate parent: the parent goes too, its other child moves up.
    if (parent >= 0 && this.isIm(parent) && c0 < 0 && c1 < 0) {
      const other = this.child(parent, 0) === node ? this.child(parent, 1) : this.child(parent, 0);
      Atomics.store(m, trim2, other);
      this.freeNode(parent);
      this.freeNode(node);
      return 0;
    }
    Atomics.store(m, trim, c0 >= 0 ? c0 : c1 >= 0 ? c1 : NIL);
    this.freeNode(node);
    return 0;
  }

  // --- user space ---

  private lockOrThrow(): void {
    if (!lockAcquire(this.meta, H_LOCK)) {
      throw new BpfError('EBUSY', `lpm trie ${this.spec.name}: lock held for over ${LOCK_TIMEOUT_MS} ms (a worker died holding it?)`);
    }
  }

  /** BPF_MAP_LOOKUP_ELEM is a longest-prefix match too. A copy made under the lock. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    if (key.length < this.spec.keySize) return undefined;
    this.lockOrThrow();
    const n = this.lookupNode(key, 0);
    const out = n < 0 ? undefined : this.values.slice(n * this.elemSize, n * this.elemSize + this.valueSize);
    lockRelease(this.meta, H_LOCK);
    return out;
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    return this.updateElem(key, 0, value, 0, flags, 0);
  }

  delete(key: Uint8Array): number {
    return this.deleteElem(key, 0);
  }

  private nodeKey(n: number): Uint8Array {
    const out = new Uint8Array(LPM_KEY_HEADER + this.dataSize);
    new DataView(out.buffer).setUint32(0, this.plen(n), true);
    out.set(this.data.subarray(n * this.dataSize, (n + 1) * this.dataSize), LPM_KEY_HEADER);
    return out;
  }

  /** The first real node in post-order under `root` (intermediate nodes always have two children). */
  private leftmost(root: number): number {
    let next = NIL;
    for (let n = root, steps = 0; n >= 0 && steps <= this.nNodes; steps++) {
      if (this.isIm(n)) {
        n = this.child(n, 0);
      } else {
        next = n;
        n = this.child(n, 0);
        if (n < 0) n = this.child(next, 1);
      }
    }
    return next;
  }

  /**
   * trie_get_next_key: post-order, leftmost first. No key, a key with prefixlen past the maximum,
   * or a key that is not in the trie start from the leftmost node; undefined at the end (ENOENT).
   */
  getNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    this.lockOrThrow();
    try {
      const n = this.nextNode(key);
      return n < 0 ? undefined : this.nodeKey(n);
    } finally {
      lockRelease(this.meta, H_LOCK);
    }
  }

  private nextNode(key: Uint8Array | undefined): number {
    const root = this.meta[H_ROOT]!;
    if (root < 0) return NIL;
    if (key === undefined || key.length < this.spec.keySize) return this.leftmost(root);
    const keyPlen = readU32(key, 0);
    if (keyPlen > this.maxPrefixlen) return this.leftmost(root);
    const stack: number[] = [];
    let node = root;
    let matchlen = 0;
    while (node >= 0) {
      stack.push(node);
      const nodePlen = this.plen(node);
      matchlen = this.matchLen(node, key, LPM_KEY_HEADER, keyPlen, nodePlen);
      if (nodePlen !== matchlen || nodePlen === keyPlen) break;
      node = this.child(node, LpmTrieMap.bit(key, LPM_KEY_HEADER, nodePlen));
    }
    if (node < 0 || this.plen(node) !== matchlen || this.isIm(node)) return this.leftmost(root);
    let i = stack.length - 1;
    node = stack[i]!;
    while (i > 0) {
      const parent = stack[i - 1]!;
      if (this.child(parent, 0) === node) {
        const right = this.child(parent, 1);
        if (right >= 0) return this.leftmost(right);
      }
      if (!this.isIm(parent)) return parent;
      node = parent;
      i--;
    }
    return NIL;
  }

  /** Number of entries (not intermediate nodes), read without the lock. */
  count(): number {
    return Atomics.load(this.meta, H_COUNT);
  }

  share(): SharedMapState {
    return {
      spec: this.spec,
      nrCpus: this.nrCpus,
      buffers: [this.values.buffer as SharedArrayBuffer, this.meta.buffer as SharedArrayBuffer],
    };
  }
}
