// Windowed rendering for the ExecutionLog: only the rows in view (plus an overscan) are in the DOM,
// so thousands of lines scroll smoothly.

export interface RowWindow {
  /** First row to render. */
  start: number;
  /** One past the last row to render. */
  end: number;
  /** Offset in pixels of the first rendered row. */
  offset: number;
  /** Height of the whole list in pixels. */
  total: number;
}

/** The rows of a list of `count` rows of `rowHeight` px visible at `scrollTop` in a `viewport` px box. */
export function rowWindow(count: number, rowHeight: number, scrollTop: number, viewport: number, overscan = 10): RowWindow {
  const total = count * rowHeight;
  if (count === 0 || rowHeight <= 0) return { start: 0, end: 0, offset: 0, total };
  const maxTop = Math.max(0, total - viewport);
  const top = Math.min(Math.max(0, scrollTop), maxTop);
  const first = Math.floor(top / rowHeight);
  const visible = Math.ceil(viewport / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + visible + overscan);
  return { start, end, offset: start * rowHeight, total };
}

/** Whether a box scrolled to `scrollTop` shows the bottom of its content (within `slack` px). */
export function atBottom(scrollTop: number, viewport: number, total: number, slack = 4): boolean {
  return scrollTop + viewport >= total - slack;
}

/**
 * Appends log entries to `into` keeping `seq` strictly increasing: entries at or below the last
 * seq are dropped (re-sent after a reconnect). Returns how many were added.
 */
export function appendBySeq<T extends { seq: number }>(into: T[], entries: T[]): number {
  let last = into.length ? into[into.length - 1].seq : 0;
  let added = 0;
  for (const e of entries) {
    if (e.seq > last) {
      into.push(e);
      last = e.seq;
      added++;
    }
  }
  return added;
}
