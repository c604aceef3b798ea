// A guest page allocator for rings and packet buffers: first-fit over a sorted list of free page
// runs, with coalescing on free. It lives in the thread that owns the guest (the driver); devices
// never allocate guest memory. Not on the packet path: buffers are allocated once and recycled.
import { VirtioError } from './errors.ts';
import { hex, type GuestMemory } from './guest-memory.ts';

export const PAGE_SIZE = 4096;

export class PageAllocator {
  readonly pageSize: number;
  /** Free runs as [firstPage, pageCount], sorted by page and never adjacent (always coalesced). */
  private free: [number, number][] = [];
  /** Live allocations: first page -> page count (free() must name exactly one of these). */
  private live = new Map<number, number>();
  private freePages = 0;

  /**
   * Manages the pages of [start, end) of `mem`. By default page 0 is kept out, so gpa 0 is never
   * a valid allocation and a zeroed descriptor is caught as "not one of ours".
   */
  constructor(mem: GuestMemory, opts: { pageSize?: number; start?: number; end?: number } = {}) {
    const pageSize = opts.pageSize ?? PAGE_SIZE;
    if (!isPow2(pageSize) || pageSize < 16) throw new VirtioError('EINVAL', `page size ${pageSize} is not a power of two >= 16`);
    this.pageSize = pageSize;
    const start = Math.ceil((opts.start ?? pageSize) / pageSize);
    const end = Math.floor(Math.min(opts.end ?? mem.size, mem.size) / pageSize);
    if (end > start) {
      this.free.push([start, end - start]);
      this.freePages = end - start;
    }
  }

  get freeBytes(): number { return this.freePages * this.pageSize; }

  /**
   * Allocates `bytes` (rounded up to whole pages) aligned to `align` (a power of two; anything up
   * to a page is satisfied by page alignment). Throws ENOMEM when no free run fits.
   */
  alloc(bytes: number, align = this.pageSize): number {
    if (!Number.isInteger(bytes) || bytes <= 0) throw new VirtioError('EINVAL', `cannot allocate ${bytes} bytes`);
    if (!isPow2(align)) throw new VirtioError('EINVAL', `alignment ${align} is not a power of two`);
    const pages = Math.ceil(bytes / this.pageSize);
    const alignPages = Math.max(1, align / this.pageSize);
    for (let i = 0; i < this.free.length; i++) {
      const [first, count] = this.free[i]!;
      const at = Math.ceil(first / alignPages) * alignPages;
      const skip = at - first;
      if (skip + pages > count) continue;
      // Split the run into [first, at) and [at+pages, first+count), dropping empty pieces.
      const pieces: [number, number][] = [];
      if (skip > 0) pieces.push([first, skip]);
      if (count - skip - pages > 0) pieces.push([at + pages, count - skip - pages]);
      this.free.splice(i, 1, ...pieces);
      this.live.set(at, pages);
      this.freePages -= pages;
      return at * this.pageSize;
    }
    throw new VirtioError('ENOMEM', `guest memory: no free run of ${pages} page(s) aligned to ${align} (${this.freePages} pages free)`);
  }

  /** Frees an allocation by its gpa. Throws EINVAL for an address that is not a live allocation. */
  freeRange(gpa: number): void {
    const first = gpa / this.pageSize;
    const pages = this.live.get(first);
    if (pages === undefined) throw new VirtioError('EINVAL', `free of 0x${hex(gpa)}: not an allocation (double free?)`);
    this.live.delete(first);
    this.freePages += pages;
    let i = 0;
    while (i < this.free.length && this.free[i]![0] < first) i++;
    this.free.splice(i, 0, [first, pages]);
    // Coalesce with the following run, then with the preceding one.
    const cur = this.free[i]!;
    const next = this.free[i + 1];
    if (next !== undefined && cur[0] + cur[1] === next[0]) {
      cur[1] += next[1];
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev !== undefined && prev[0] + prev[1] === cur[0]) {
      prev[1] += cur[1];
      this.free.splice(i, 1);
    }
  }

  /** The free runs as [gpa, bytes] (for tests and diagnostics). */
  freeRuns(): [number, number][] {
    return this.free.map(([p, n]) => [p * this.pageSize, n * this.pageSize]);
  }
}

export function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}
